//! The audit log: which account viewed or exported which results. Accounts only — nothing
//! about respondents is ever recorded here.

use diesel::prelude::*;

use crate::db::schema::audit_log;

pub fn record(
    conn: &mut SqliteConnection,
    account_id: i32,
    action: &str,
    detail: &str,
) -> QueryResult<()> {
    let at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(at),
            audit_log::account_id.eq(account_id),
            audit_log::action.eq(action),
            audit_log::detail.eq(detail),
        ))
        .execute(conn)
        .map(|_| ())
}
