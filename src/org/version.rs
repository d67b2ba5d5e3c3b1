//! A counter that changes whenever the organisation's structure does (import, merged units),
//! so cached results of closed waves know when they are stale, even when another process
//! (the CLI) made the change.

use diesel::prelude::*;

use crate::db::schema::settings;

const KEY: &str = "org_version";

pub fn version(conn: &mut SqliteConnection) -> QueryResult<i64> {
    let value: Option<String> = settings::table
        .find(KEY)
        .select(settings::value)
        .first(conn)
        .optional()?;
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Called inside the transaction that changes the structure.
pub fn bump_version(conn: &mut SqliteConnection) -> QueryResult<()> {
    let next = (version(conn)? + 1).to_string();
    diesel::insert_into(settings::table)
        .values((settings::key.eq(KEY), settings::value.eq(&next)))
        .on_conflict(settings::key)
        .do_update()
        .set(settings::value.eq(&next))
        .execute(conn)
        .map(|_| ())
}
