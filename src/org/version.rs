//! A counter that changes whenever something that closed waves' results depend on changes:
//! the organisation's structure (import, merged units) or which waves are closed (the
//! change is computed against the previous closed wave). Cached results compare it, even when
//! another process (the CLI) made the change.

use diesel::prelude::*;

use crate::db::schema::settings;

const KEY: &str = "org_version";

pub fn version(conn: &mut SqliteConnection) -> QueryResult<i64> {
    let value: Option<String> = settings::table
        .find(KEY)
        .select(settings::value)
        // By its primary key: no bound `LIMIT` (`.first()`), which SQLite prepares again
        // on every run.
        .get_result(conn)
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
