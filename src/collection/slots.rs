//! Fixed-size slots: storage whose bytes do not remember the order of submissions.
//!
//! SQLite writes each new cell of a B-tree page just below the previous one, so rows inserted
//! when people answer would keep their insertion order in the file, whatever their random keys.
//! Instead, one empty response slot and one empty comment slot are allocated for every code
//! when the codes are issued, and a submission fills a slot chosen at random among its
//! workplace's empty ones. Every slot of a wave has the same size before and after it is
//! filled (answers one byte per item, the job level and the comment NUL-padded to a fixed
//! width), and SQLite rewrites a cell whose payload keeps its size in place: the file tells
//! which slots are filled, never when or in which order.
//!
//! A workplace's slots are numbered 0, 1, 2, … in the order they were allocated (the number
//! is the key's last part, four bytes big-endian). A submission picks a number uniformly at
//! random and takes that slot if it is still empty, else picks again: the slot filled is
//! uniform among the empty ones whatever was filled before, so neither its number nor its
//! neighbours tell when it was filled. After a few misses (a workplace almost full) it reads
//! the empty slots and picks one of them, again uniformly.

use diesel::prelude::*;
use diesel::sql_types::{Binary, Integer, Nullable, Text};
use rand::seq::IndexedRandom;
use rand::Rng;

use crate::db::prepared::fixed_statement;
use crate::db::schema::{comments, invitation_codes, responses, waves};
use crate::survey::SurveyDefinition;
use crate::wave_status::WaveStatus;

/// Bytes a job level option id may take (a slot's fixed job-level width); defined beside
/// the survey loader, which refuses longer ids.
pub use crate::survey::JOB_LEVEL_WIDTH;

/// Rows per INSERT statement when allocating (SQLite's bound-parameter limit is far above).
const INSERT_CHUNK: usize = 200;

/// The fixed sizes of one wave's slots, from its definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotShape {
    /// One byte per item.
    pub answers: usize,
    /// The comment's width in bytes (four per character: the longest UTF-8 encoding), if the
    /// survey asks for a comment.
    pub comment_bytes: Option<usize>,
}

impl SlotShape {
    pub fn of(definition: &SurveyDefinition) -> Self {
        SlotShape {
            answers: definition.items.len(),
            comment_bytes: definition.comment.as_ref().map(|q| q.max_chars * 4),
        }
    }
}

/// `text` followed by NUL bytes up to exactly `width` bytes; `None` if it does not fit.
pub fn padded(text: &str, width: usize) -> Option<String> {
    let padding = width.checked_sub(text.len())?;
    let mut stored = String::with_capacity(width);
    stored.push_str(text);
    stored.extend(std::iter::repeat_n('\0', padding));
    Some(stored)
}

/// The text of a padded slot value (a value stored without padding reads the same).
pub fn unpadded(stored: &str) -> &str {
    stored.trim_end_matches('\0')
}

/// Random picks tried before reading the list of empty slots.
const PROBES: usize = 12;

fn slot_id(number: u32) -> Vec<u8> {
    number.to_be_bytes().to_vec()
}

fn slot_number(id: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(id.try_into().ok()?))
}

/// How many numbered slots a workplace has: one more than the highest number (slots kept
/// from before numbering have 16-byte ids and are never empty).
fn numbered_slots(highest: Option<Vec<u8>>) -> u32 {
    highest
        .as_deref()
        .and_then(slot_number)
        .map_or(0, |n| n.saturating_add(1))
}

fixed_statement! {
    /// The highest response slot id of a workplace (SQLite compares blobs bytewise).
    struct HighestResponseSlot<'a> { wave_id: i32 => Integer, workplace_id: i32 => Integer }
    sql: ["SELECT max(id) FROM responses WHERE wave_id = ", " AND workplace_id = ", ""],
    returns: Nullable<Binary>,
}

fixed_statement! {
    /// The highest comment slot id of a workplace.
    struct HighestCommentSlot<'a> { wave_id: i32 => Integer, workplace_id: i32 => Integer }
    sql: ["SELECT max(id) FROM comments WHERE wave_id = ", " AND workplace_id = ", ""],
    returns: Nullable<Binary>,
}

fn response_slot_count(
    conn: &mut SqliteConnection,
    wave_id: i32,
    workplace_id: i32,
) -> QueryResult<u32> {
    let highest = HighestResponseSlot::new(wave_id, workplace_id).get_result(conn)?;
    Ok(numbered_slots(highest))
}

fn comment_slot_count(
    conn: &mut SqliteConnection,
    wave_id: i32,
    workplace_id: i32,
) -> QueryResult<u32> {
    let highest = HighestCommentSlot::new(wave_id, workplace_id).get_result(conn)?;
    Ok(numbered_slots(highest))
}

/// Adds `count` empty response slots (and comment slots, if the survey has a comment) for a
/// workplace of a wave. Called in the transaction that stores the codes.
pub fn allocate(
    conn: &mut SqliteConnection,
    wave_id: i32,
    workplace_id: i32,
    count: usize,
    shape: SlotShape,
) -> QueryResult<()> {
    let count = u32::try_from(count).map_err(|_| too_many_slots())?;
    let empty_job_level = padded("", JOB_LEVEL_WIDTH).unwrap_or_default();
    let empty_answers = vec![0u8; shape.answers];
    let first = response_slot_count(conn, wave_id, workplace_id)?;
    let end = first.checked_add(count).ok_or_else(too_many_slots)?;
    for chunk in (first..end).collect::<Vec<_>>().chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|&number| {
                (
                    responses::wave_id.eq(wave_id),
                    responses::workplace_id.eq(workplace_id),
                    responses::id.eq(slot_id(number)),
                    responses::filled.eq(false),
                    responses::job_level.eq(&empty_job_level),
                    responses::answers.eq(&empty_answers),
                )
            })
            .collect();
        diesel::insert_into(responses::table)
            .values(&rows)
            .execute(conn)?;
    }
    if let Some(width) = shape.comment_bytes {
        let empty_body = padded("", width).unwrap_or_default();
        let first = comment_slot_count(conn, wave_id, workplace_id)?;
        let end = first.checked_add(count).ok_or_else(too_many_slots)?;
        for chunk in (first..end).collect::<Vec<_>>().chunks(INSERT_CHUNK) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|&number| {
                    (
                        comments::wave_id.eq(wave_id),
                        comments::workplace_id.eq(workplace_id),
                        comments::id.eq(slot_id(number)),
                        comments::filled.eq(false),
                        comments::body.eq(&empty_body),
                    )
                })
                .collect();
            diesel::insert_into(comments::table)
                .values(&rows)
                .execute(conn)?;
        }
    }
    Ok(())
}

fn too_many_slots() -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError("more than 2^32 slots for one workplace".into())
}

fixed_statement! {
    /// Fills a response slot if it is still empty.
    struct FillResponse<'a> {
        job_level: &'a str => Text,
        answers: &'a [u8] => Binary,
        wave_id: i32 => Integer,
        workplace_id: i32 => Integer,
        id: &'a [u8] => Binary,
    }
    sql: [
        "UPDATE responses SET filled = 1, job_level = ",
        ", answers = ",
        " WHERE wave_id = ",
        " AND workplace_id = ",
        " AND id = ",
        " AND filled = 0",
    ],
}

fixed_statement! {
    /// Fills a comment slot if it is still empty.
    struct FillComment<'a> {
        body: &'a str => Text,
        wave_id: i32 => Integer,
        workplace_id: i32 => Integer,
        id: &'a [u8] => Binary,
    }
    sql: [
        "UPDATE comments SET filled = 1, body = ",
        " WHERE wave_id = ",
        " AND workplace_id = ",
        " AND id = ",
        " AND filled = 0",
    ],
}

fixed_statement! {
    /// The width in bytes of a comment slot.
    struct CommentWidth<'a> { wave_id: i32 => Integer, workplace_id: i32 => Integer, id: &'a [u8] => Binary }
    sql: [
        "SELECT length(CAST(body AS BLOB)) FROM comments WHERE wave_id = ",
        " AND workplace_id = ",
        " AND id = ",
        "",
    ],
    returns: Integer,
}

/// Fills one empty response slot of the workplace, chosen at random, in place.
pub fn fill_response(
    conn: &mut SqliteConnection,
    wave_id: i32,
    workplace_id: i32,
    job_level: Option<&str>,
    answers: &[u8],
) -> QueryResult<()> {
    let job_level = padded(job_level.unwrap_or(""), JOB_LEVEL_WIDTH).ok_or_else(|| {
        diesel::result::Error::QueryBuilderError("job level id longer than its slot".into())
    })?;
    let total = response_slot_count(conn, wave_id, workplace_id)?;
    let fill = |conn: &mut SqliteConnection, id: &[u8]| -> QueryResult<bool> {
        let filled =
            FillResponse::new(&job_level, answers, wave_id, workplace_id, id).execute(conn)?;
        Ok(filled == 1)
    };
    let mut rng = rand::rng();
    for _ in 0..PROBES.min(total as usize) {
        if fill(conn, &slot_id(rng.random_range(0..total)))? {
            return Ok(());
        }
    }
    let empty: Vec<Vec<u8>> = responses::table
        .filter(responses::wave_id.eq(wave_id))
        .filter(responses::workplace_id.eq(workplace_id))
        .filter(responses::filled.eq(false))
        .select(responses::id)
        .load(conn)?;
    match empty.choose(&mut rng) {
        Some(id) if fill(conn, id)? => Ok(()),
        _ => Err(missing_slot("response")),
    }
}

/// Fills one empty comment slot of the workplace, chosen at random, in place. The comment is
/// padded to the slot's own width, so the cell keeps its size.
pub fn fill_comment(
    conn: &mut SqliteConnection,
    wave_id: i32,
    workplace_id: i32,
    body: &str,
) -> QueryResult<()> {
    // Every comment slot of a wave has the same width: the first one's tells it.
    let total = comment_slot_count(conn, wave_id, workplace_id)?;
    if total == 0 {
        return Err(missing_slot("comment"));
    }
    let width = CommentWidth::new(wave_id, workplace_id, &slot_id(0)).get_result::<i32>(conn)?;
    let body = usize::try_from(width)
        .ok()
        .and_then(|width| padded(body, width))
        .ok_or_else(|| {
            diesel::result::Error::QueryBuilderError("comment longer than its slot".into())
        })?;
    let fill = |conn: &mut SqliteConnection, id: &[u8]| -> QueryResult<bool> {
        Ok(FillComment::new(&body, wave_id, workplace_id, id).execute(conn)? == 1)
    };
    let mut rng = rand::rng();
    for _ in 0..PROBES.min(total as usize) {
        if fill(conn, &slot_id(rng.random_range(0..total)))? {
            return Ok(());
        }
    }
    let empty: Vec<Vec<u8>> = comments::table
        .filter(comments::wave_id.eq(wave_id))
        .filter(comments::workplace_id.eq(workplace_id))
        .filter(comments::filled.eq(false))
        .select(comments::id)
        .load(conn)?;
    match empty.choose(&mut rng) {
        Some(id) if fill(conn, id)? => Ok(()),
        _ => Err(missing_slot("comment")),
    }
}

/// Every code has its slots (they are allocated together), so a missing one is a broken
/// invariant: the submission's transaction fails and its code stays unused.
fn missing_slot(kind: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(
        format!("no empty {kind} slot is left for this workplace").into(),
    )
}

/// Gives every unused code of an open wave its slots where they are missing: waves opened
/// before slots existed, whose codes were issued without them. Returns how many were added.
pub fn top_up_open_waves(conn: &mut SqliteConnection) -> QueryResult<usize> {
    conn.immediate_transaction(|conn| {
        let open: Vec<(i32, String)> = waves::table
            .filter(waves::status.eq(WaveStatus::Open))
            .select((waves::id, waves::definition_toml))
            .load(conn)?;
        let mut added = 0;
        for (wave_id, definition_toml) in open {
            let Ok(definition) =
                SurveyDefinition::parse(&definition_toml, &format!("wave {wave_id}"))
            else {
                // A snapshot that does not parse cannot take submissions either.
                continue;
            };
            let shape = SlotShape::of(&definition);
            let unused: Vec<(i32, i64)> = invitation_codes::table
                .filter(invitation_codes::wave_id.eq(wave_id))
                .filter(invitation_codes::used.eq(false))
                .group_by(invitation_codes::workplace_id)
                .select((invitation_codes::workplace_id, diesel::dsl::count_star()))
                .load(conn)?;
            for (workplace_id, codes) in unused {
                let empty: i64 = responses::table
                    .filter(responses::wave_id.eq(wave_id))
                    .filter(responses::workplace_id.eq(workplace_id))
                    .filter(responses::filled.eq(false))
                    .count()
                    .get_result(conn)?;
                let missing = usize::try_from(codes - empty).unwrap_or(0);
                if missing > 0 {
                    allocate(conn, wave_id, workplace_id, missing, shape)?;
                    added += missing;
                }
            }
        }
        Ok(added)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_keeps_the_width_and_reads_back() {
        let stored = padded("管理職", 32).expect("fits");
        assert_eq!(stored.len(), 32);
        assert_eq!(unpadded(&stored), "管理職");
        assert_eq!(padded("", 4).as_deref(), Some("\0\0\0\0"));
        assert_eq!(unpadded("legacy text"), "legacy text");
    }

    #[test]
    fn slot_numbers_sort_as_their_keys() {
        assert!(slot_id(255) < slot_id(256));
        assert_eq!(slot_number(&slot_id(70_000)), Some(70_000));
        assert_eq!(numbered_slots(None), 0);
        assert_eq!(numbered_slots(Some(slot_id(9))), 10);
        // A slot kept from before numbering (16-byte id) is not a numbered one.
        assert_eq!(numbered_slots(Some(vec![7; 16])), 0);
    }

    #[test]
    fn text_longer_than_the_slot_is_refused() {
        assert_eq!(padded("abcde", 4), None);
        // Four bytes per character always fit: the longest UTF-8 encoding.
        let emoji = "😀".repeat(10);
        assert!(padded(&emoji, 40).is_some());
    }
}
