//! Redeeming a code and storing its response, atomically.
//!
//! The response fills an empty slot of its workplace chosen at random ([`super::slots`]): no
//! reference to the code, no time, nothing about the client, and no trace of the order. The
//! comment fills a slot of its own, chosen independently, so it cannot be joined to the
//! answers or the job level either.

use diesel::prelude::*;
use diesel::sql_types::{Binary, Bool, Integer, Text};

use super::slots;
use crate::codes::CodeHash;
use crate::db::prepared::fixed_statement;
use crate::db::schema::{invitation_codes, waves};
use crate::wave_status::WaveStatus;

/// A validated response waiting to be stored against the code that admits it.
#[derive(Clone)]
pub struct Submission {
    pub code_hash: CodeHash,
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

pub fn lookup_code(
    conn: &mut SqliteConnection,
    hash: &CodeHash,
) -> QueryResult<Option<CodeStatus>> {
    let row: Option<(i32, i32, bool, WaveStatus)> = invitation_codes::table
        .inner_join(waves::table)
        .filter(invitation_codes::code_hash.eq(hash.0.as_slice()))
        .select((
            invitation_codes::wave_id,
            invitation_codes::workplace_id,
            invitation_codes::used,
            waves::status,
        ))
        // Not `.first()`: its bound LIMIT makes SQLite prepare the statement again on every
        // run; the key is the primary key, so there is at most one row anyway.
        .get_result(conn)
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
    conn.immediate_transaction(|conn| store_within(conn, batch))
}

/// [`store_batch`] inside a transaction the caller holds (the writer adds audit rows to it).
pub fn store_within(
    conn: &mut SqliteConnection,
    batch: &[Submission],
) -> QueryResult<Vec<Outcome>> {
    // Whether each wave is open is read once per group: the group's transaction holds the
    // write lock, so no wave closes in between. (A wave's status sits behind its definition,
    // in the row's overflow pages: reading it for every submission cost as much as storing.)
    let mut open_waves: Vec<(i32, bool)> = Vec::new();
    batch
        .iter()
        .map(|submission| store_one(conn, submission, &mut open_waves))
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
    /// A wave's status.
    struct WaveStatusOf<'a> { wave_id: i32 => Integer }
    sql: ["SELECT status FROM waves WHERE id = ", ""],
    returns: Text,
}

fn store_one(
    conn: &mut SqliteConnection,
    submission: &Submission,
    open_waves: &mut Vec<(i32, bool)>,
) -> QueryResult<Outcome> {
    let code_hash = submission.code_hash.0.as_slice();
    let Some((wave_id, workplace_id, used)) = CodeRow::new(code_hash)
        .get_result::<(i32, i32, bool)>(conn)
        .optional()?
    else {
        return Ok(Outcome::UnknownCode);
    };
    let wave_open = match open_waves.iter().find(|(id, _)| *id == wave_id) {
        Some(&(_, open)) => open,
        None => {
            let open =
                WaveStatusOf::new(wave_id).get_result::<WaveStatus>(conn)? == WaveStatus::Open;
            open_waves.push((wave_id, open));
            open
        }
    };
    let status = CodeStatus {
        wave_id,
        workplace_id,
        used,
        wave_open,
    };
    if let Some(refusal) = status.refusal() {
        return Ok(refusal);
    }
    if Redeem::new(code_hash).execute(conn)? != 1 {
        return Ok(Outcome::AlreadyUsed);
    }
    slots::fill_response(
        conn,
        wave_id,
        workplace_id,
        submission.job_level.as_deref(),
        &submission.answers,
    )?;
    if let Some(body) = &submission.comment {
        slots::fill_comment(conn, wave_id, workplace_id, body)?;
    }
    Ok(Outcome::Stored)
}
