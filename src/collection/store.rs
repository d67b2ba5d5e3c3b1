//! Redeeming a code and storing its response, atomically.
//!
//! The response fills an empty slot of its workplace chosen at random ([`super::slots`]): no
//! reference to the code, no time, nothing about the client, and no trace of the order. The
//! comment fills a slot of its own, chosen independently, so it cannot be joined to the
//! answers or the job level either.

use diesel::prelude::*;
use diesel::sql_types::{Binary, Bool, Integer, Text};

use super::slots::{self, EmptySlots};
use crate::codes::CodeHash;
use crate::db::prepared::fixed_statement;
use crate::wave_status::WaveStatus;

/// A validated response waiting to be stored against the code that admits it.
#[derive(Clone)]
pub struct Submission {
    pub code_hash: CodeHash,
    /// Where the request's lookup found the code (wave, workplace), if it looked: the writer
    /// then redeems it with one statement that checks the place again.
    pub looked_up: Option<(i32, i32)>,
    /// Encoded with [`crate::collection::answers::encode`].
    pub answers: Vec<u8>,
    pub job_level: Option<String>,
    pub comment: Option<String>,
}

// Never print answers or comments, even in debug output.
impl std::fmt::Debug for Submission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Submission(<redacted>)")
    }
}

/// What happened to one submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    UnknownCode,
    AlreadyUsed,
    WaveClosed,
}

/// Where a code stands, as read before a form is shown or validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeStatus {
    pub wave_id: i32,
    pub workplace_id: i32,
    pub used: bool,
    pub wave_open: bool,
}

impl CodeStatus {
    /// The outcome a submission with this code would have, if it is not usable.
    pub fn refusal(&self) -> Option<Outcome> {
        if !self.wave_open {
            Some(Outcome::WaveClosed)
        } else if self.used {
            Some(Outcome::AlreadyUsed)
        } else {
            None
        }
    }
}

fixed_statement! {
    /// A code's place, whether it was used, and its wave's status (from the covering index:
    /// the status in the row lies behind the definition's overflow pages).
    struct CodeLookup<'a> { code_hash: &'a [u8] => Binary }
    sql: [
        "SELECT c.wave_id, c.workplace_id, c.used, w.status FROM invitation_codes c \
         JOIN waves w INDEXED BY waves_status ON w.id = c.wave_id WHERE c.code_hash = ",
        "",
    ],
    returns: (Integer, Integer, Bool, Text),
}

pub fn lookup_code(
    conn: &mut SqliteConnection,
    hash: &CodeHash,
) -> QueryResult<Option<CodeStatus>> {
    let row = CodeLookup::new(hash.0.as_slice())
        .get_result::<(i32, i32, bool, WaveStatus)>(conn)
        .optional()?;
    Ok(row.map(|(wave_id, workplace_id, used, status)| CodeStatus {
        wave_id,
        workplace_id,
        used,
        wave_open: status == WaveStatus::Open,
    }))
}

/// Stores a group of submissions in one IMMEDIATE transaction: for each, the code is redeemed
/// only if it exists, is unused and its wave is open, and its response is stored in the same
/// transaction. Refused submissions write nothing. A database error rolls back the whole
/// group, so no code is ever consumed without its response.
pub fn store_batch(conn: &mut SqliteConnection, batch: &[Submission]) -> QueryResult<Vec<Outcome>> {
    // Slots may be allocated on this connection between calls: the sets start afresh.
    let mut empty_slots = EmptySlots::default();
    conn.immediate_transaction(|conn| store_within(conn, &mut empty_slots, batch))
}

/// [`store_batch`] inside a transaction the caller holds (the writer adds audit rows to it).
/// `empty_slots` may be kept across transactions only by a connection that never allocates
/// slots, and must be forgotten if the transaction rolls back ([`EmptySlots`]).
pub fn store_within(
    conn: &mut SqliteConnection,
    empty_slots: &mut EmptySlots,
    batch: &[Submission],
) -> QueryResult<Vec<Outcome>> {
    empty_slots.begin(conn)?;
    // Whether each wave is open is read once per group: the group's transaction holds the
    // write lock, so no wave closes in between.
    let mut open_waves: Vec<(i32, bool)> = Vec::new();
    batch
        .iter()
        .map(|submission| store_one(conn, empty_slots, submission, &mut open_waves))
        .collect()
}

fixed_statement! {
    /// Where a code belongs and whether it was used.
    struct CodeRow<'a> { code_hash: &'a [u8] => Binary }
    sql: ["SELECT wave_id, workplace_id, used FROM invitation_codes WHERE code_hash = ", ""],
    returns: (Integer, Integer, Bool),
}

fixed_statement! {
    /// Redeems a code if it is unused.
    struct Redeem<'a> { code_hash: &'a [u8] => Binary }
    sql: ["UPDATE invitation_codes SET used = 1 WHERE code_hash = ", " AND used = 0"],
}

fixed_statement! {
    /// Redeems a code if it is unused and belongs where the request's lookup found it.
    struct RedeemAt<'a> { code_hash: &'a [u8] => Binary, wave_id: i32 => Integer, workplace_id: i32 => Integer }
    sql: [
        "UPDATE invitation_codes SET used = 1 WHERE code_hash = ",
        " AND wave_id = ",
        " AND workplace_id = ",
        " AND used = 0",
    ],
}

fixed_statement! {
    /// A wave's status, from the covering index (not behind the definition in the row).
    struct WaveStatusOf<'a> { wave_id: i32 => Integer }
    sql: ["SELECT status FROM waves INDEXED BY waves_status WHERE id = ", ""],
    returns: Text,
}

fn store_one(
    conn: &mut SqliteConnection,
    empty_slots: &mut EmptySlots,
    submission: &Submission,
    open_waves: &mut Vec<(i32, bool)>,
) -> QueryResult<Outcome> {
    let code_hash = submission.code_hash.0.as_slice();
    let (wave_id, workplace_id) = match submission.looked_up {
        Some((wave_id, workplace_id))
            if wave_is_open(conn, open_waves, wave_id)?
                && RedeemAt::new(code_hash, wave_id, workplace_id).execute(conn)? == 1 =>
        {
            (wave_id, workplace_id)
        }
        _ => match redeem(conn, code_hash, open_waves)? {
            Ok(place) => place,
            Err(refusal) => return Ok(refusal),
        },
    };
    slots::fill_response(
        conn,
        empty_slots,
        wave_id,
        workplace_id,
        submission.job_level.as_deref(),
        &submission.answers,
    )?;
    if let Some(body) = &submission.comment {
        slots::fill_comment(conn, empty_slots, wave_id, workplace_id, body)?;
    }
    Ok(Outcome::Stored)
}

/// Whether a wave is open, read once per group.
fn wave_is_open(
    conn: &mut SqliteConnection,
    open_waves: &mut Vec<(i32, bool)>,
    wave_id: i32,
) -> QueryResult<bool> {
    if let Some(&(_, open)) = open_waves.iter().find(|(id, _)| *id == wave_id) {
        return Ok(open);
    }
    let open = WaveStatusOf::new(wave_id).get_result::<WaveStatus>(conn)? == WaveStatus::Open;
    open_waves.push((wave_id, open));
    Ok(open)
}

/// Reads the code's row and redeems it if it is usable: its place (wave, workplace), or why
/// it is refused.
fn redeem(
    conn: &mut SqliteConnection,
    code_hash: &[u8],
    open_waves: &mut Vec<(i32, bool)>,
) -> QueryResult<Result<(i32, i32), Outcome>> {
    let Some((wave_id, workplace_id, used)) = CodeRow::new(code_hash)
        .get_result::<(i32, i32, bool)>(conn)
        .optional()?
    else {
        return Ok(Err(Outcome::UnknownCode));
    };
    let status = CodeStatus {
        wave_id,
        workplace_id,
        used,
        wave_open: wave_is_open(conn, open_waves, wave_id)?,
    };
    if let Some(refusal) = status.refusal() {
        return Ok(Err(refusal));
    }
    if Redeem::new(code_hash).execute(conn)? != 1 {
        return Ok(Err(Outcome::AlreadyUsed));
    }
    Ok(Ok((wave_id, workplace_id)))
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;
    use diesel::sqlite::Sqlite;

    use super::*;

    #[derive(QueryableByName)]
    struct PlanStep {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    /// What SQLite does to run a statement (its parameters unbound).
    fn plan(
        conn: &mut SqliteConnection,
        statement: &impl diesel::query_builder::QueryFragment<Sqlite>,
    ) -> String {
        let shown = diesel::debug_query::<Sqlite, _>(statement).to_string();
        let sql = shown.split(" -- binds:").next().unwrap_or_default();
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<PlanStep>(conn)
            .expect("plan")
            .into_iter()
            .map(|step| step.detail)
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn the_submission_path_reads_a_waves_status_from_the_index_not_behind_its_definition() {
        let (_dir, _, mut conn) = crate::db::temporary_database();
        for shown in [
            plan(&mut conn, &CodeLookup::new(&[0; 32])),
            plan(&mut conn, &WaveStatusOf::new(1)),
        ] {
            assert!(shown.contains("COVERING INDEX waves_status"), "{shown}");
        }
    }
}
