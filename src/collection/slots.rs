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

use diesel::prelude::*;
use rand::seq::IndexedRandom;

use crate::db::schema::{comments, invitation_codes, responses, waves};
use crate::survey::SurveyDefinition;

/// Bytes a job level option id may take; the loader refuses longer ids.
pub const JOB_LEVEL_WIDTH: usize = 32;

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

fn random_id() -> Vec<u8> {
    uuid::Uuid::new_v4().as_bytes().to_vec()
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
    let empty_job_level = padded("", JOB_LEVEL_WIDTH).unwrap_or_default();
    let empty_answers = vec![0u8; shape.answers];
    let mut left = count;
    while left > 0 {
        let n = left.min(INSERT_CHUNK);
        let rows: Vec<_> = (0..n)
            .map(|_| {
                (
                    responses::wave_id.eq(wave_id),
                    responses::workplace_id.eq(workplace_id),
                    responses::id.eq(random_id()),
                    responses::filled.eq(false),
                    responses::job_level.eq(&empty_job_level),
                    responses::answers.eq(&empty_answers),
                )
            })
            .collect();
        diesel::insert_into(responses::table)
            .values(&rows)
            .execute(conn)?;
        left -= n;
    }
    if let Some(width) = shape.comment_bytes {
        let empty_body = padded("", width).unwrap_or_default();
        let mut left = count;
        while left > 0 {
            let n = left.min(INSERT_CHUNK);
            let rows: Vec<_> = (0..n)
                .map(|_| {
                    (
                        comments::wave_id.eq(wave_id),
                        comments::workplace_id.eq(workplace_id),
                        comments::id.eq(random_id()),
                        comments::filled.eq(false),
                        comments::body.eq(&empty_body),
                    )
                })
                .collect();
            diesel::insert_into(comments::table)
                .values(&rows)
                .execute(conn)?;
            left -= n;
        }
    }
    Ok(())
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
    let empty: Vec<Vec<u8>> = responses::table
        .filter(responses::wave_id.eq(wave_id))
        .filter(responses::workplace_id.eq(workplace_id))
        .filter(responses::filled.eq(false))
        .select(responses::id)
        .load(conn)?;
    let Some(id) = empty.choose(&mut rand::rng()) else {
        return Err(missing_slot("response"));
    };
    diesel::update(responses::table.find((wave_id, workplace_id, id)))
        .set((
            responses::filled.eq(true),
            responses::job_level.eq(job_level),
            responses::answers.eq(answers),
        ))
        .execute(conn)?;
    Ok(())
}

/// Fills one empty comment slot of the workplace, chosen at random, in place. The comment is
/// padded to the slot's own width, so the cell keeps its size.
pub fn fill_comment(
    conn: &mut SqliteConnection,
    wave_id: i32,
    workplace_id: i32,
    body: &str,
) -> QueryResult<()> {
    let empty: Vec<(Vec<u8>, i32)> = comments::table
        .filter(comments::wave_id.eq(wave_id))
        .filter(comments::workplace_id.eq(workplace_id))
        .filter(comments::filled.eq(false))
        .select((
            comments::id,
            diesel::dsl::sql::<diesel::sql_types::Integer>("length(CAST(body AS BLOB))"),
        ))
        .load(conn)?;
    let Some((id, width)) = empty.choose(&mut rand::rng()) else {
        return Err(missing_slot("comment"));
    };
    let body = usize::try_from(*width)
        .ok()
        .and_then(|width| padded(body, width))
        .ok_or_else(|| {
            diesel::result::Error::QueryBuilderError("comment longer than its slot".into())
        })?;
    diesel::update(comments::table.find((wave_id, workplace_id, id)))
        .set((comments::filled.eq(true), comments::body.eq(body)))
        .execute(conn)?;
    Ok(())
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
            .filter(waves::status.eq("open"))
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
    fn text_longer_than_the_slot_is_refused() {
        assert_eq!(padded("abcde", 4), None);
        // Four bytes per character always fit: the longest UTF-8 encoding.
        let emoji = "😀".repeat(10);
        assert!(padded(&emoji, 40).is_some());
    }
}
