//! The audit log: which account viewed or exported which results and what HR changed.
//! Accounts only — nothing about respondents is ever recorded here.

use diesel::prelude::*;

use crate::db::schema::{accounts, audit_log};

/// One row to write: what an account did. The writer carries these for dashboard views
/// (`GroupCommitWriter::audit`); [`record`] writes one on a connection of its own.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub account_id: i32,
    pub action: &'static str,
    pub detail: String,
}

impl AuditRow {
    /// An action without detail (signing in or out).
    pub fn new(account_id: i32, action: &'static str) -> Self {
        AuditRow::with_detail(account_id, action, String::new())
    }

    pub fn with_detail(account_id: i32, action: &'static str, detail: String) -> Self {
        AuditRow {
            account_id,
            action,
            detail,
        }
    }
}

/// Entries on one page of [`recent`].
pub const PAGE_SIZE: i64 = 100;

/// One entry as HR reads it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, serde::Serialize)]
pub struct AuditEntry {
    /// UTC, RFC 3339.
    pub at: String,
    pub login: Option<String>,
    pub action: String,
    pub detail: String,
}

/// A page of entries, newest first, optionally one account's only; `page` counts from 0.
/// Also says whether older entries follow.
pub fn recent(
    conn: &mut SqliteConnection,
    login: Option<&str>,
    page: i64,
) -> QueryResult<(Vec<AuditEntry>, bool)> {
    let mut query = audit_log::table
        .left_join(accounts::table)
        .select((
            audit_log::at,
            accounts::login.nullable(),
            audit_log::action,
            audit_log::detail,
        ))
        .order(audit_log::id.desc())
        .limit(PAGE_SIZE + 1)
        .offset(page.max(0) * PAGE_SIZE)
        .into_boxed();
    if let Some(login) = login {
        query = query.filter(accounts::login.eq(login));
    }
    let mut entries: Vec<AuditEntry> = query.load(conn)?;
    let more = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    Ok((entries, more))
}

/// A stored time (UTC, RFC 3339) as HR reads it: in `zone`, to the second, with the zone's
/// abbreviation ("2026-11-30 18:05:03 JST"). A time that does not parse is shown as stored.
pub fn local_time(at: &str, zone: &jiff::tz::TimeZone) -> String {
    match at.parse::<jiff::Timestamp>() {
        Ok(instant) => instant
            .to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

/// The message-catalogue key of an action's words: `audit_action_` and the action with every
/// run of other characters than letters and digits as one `_` ("view results (JSON)" →
/// `audit_action_view_results_json`).
pub fn action_key(action: &str) -> String {
    let mut key = String::from("audit_action_");
    let mut gap = false;
    for c in action.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !key.ends_with('_') {
                key.push('_');
            }
            key.push(c.to_ascii_lowercase());
            gap = false;
        } else {
            gap = true;
        }
    }
    key
}

pub fn record(
    conn: &mut SqliteConnection,
    account_id: i32,
    action: &str,
    detail: &str,
) -> QueryResult<()> {
    record_for(conn, Some(account_id), action, detail)
}

/// Failed sign-ins and lockouts. The detail names the login only when it is an account's:
/// a login that names no account is not recorded (it may be a password typed into the wrong
/// field). Never a password.
pub fn record_sign_in(
    conn: &mut SqliteConnection,
    account: Option<(i32, &str)>,
    action: &str,
) -> QueryResult<()> {
    match account {
        Some((id, login)) => record_for(conn, Some(id), action, login),
        None => record_for(conn, None, action, "(no such login)"),
    }
}

fn record_for(
    conn: &mut SqliteConnection,
    account_id: Option<i32>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_zone_to_the_second() {
        let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").expect("bundled");
        assert_eq!(
            local_time("2026-11-30T17:05:03.123456789Z", &tokyo),
            "2026-12-01 02:05:03 JST"
        );
        assert_eq!(
            local_time("2026-11-30T17:05:03Z", &jiff::tz::TimeZone::UTC),
            "2026-11-30 17:05:03 UTC"
        );
        assert_eq!(local_time("not a time", &tokyo), "not a time");
    }

    #[test]
    fn an_actions_key_joins_its_words() {
        assert_eq!(
            action_key("view results (JSON)"),
            "audit_action_view_results_json"
        );
        assert_eq!(
            action_key("sign-ins from one address locked"),
            "audit_action_sign_ins_from_one_address_locked"
        );
        assert_eq!(action_key("sign in"), "audit_action_sign_in");
    }
}
