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
//! is the key's last part, four bytes big-endian). A submission takes one of the workplace's
//! empty slots chosen uniformly at random ([`EmptySlots`]), whatever was filled before, so
//! neither its number nor its neighbours tell when it was filled.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Integer, Nullable, Text};
use rand::Rng;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

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
    /// The empty response slots of a workplace, in key order.
    struct EmptyResponseSlots<'a> { wave_id: i32 => Integer, workplace_id: i32 => Integer }
    sql: ["SELECT id FROM responses WHERE wave_id = ", " AND workplace_id = ", " AND filled = 0"],
    returns: Binary,
}

fixed_statement! {
    /// The empty comment slots of a workplace, in key order.
    struct EmptyCommentSlots<'a> { wave_id: i32 => Integer, workplace_id: i32 => Integer }
    sql: ["SELECT id FROM comments WHERE wave_id = ", " AND workplace_id = ", " AND filled = 0"],
    returns: Binary,
}

fixed_statement! {
    /// Changes whenever another connection has committed since this one last asked.
    struct DataVersion<'a> {}
    sql: ["PRAGMA data_version"],
    returns: BigInt,
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

/// The empty slots of the workplaces a connection has been filling, so that a submission
/// takes its slot with one statement.
///
/// Picking random slot numbers until one is empty costs a statement per miss, and the misses
/// grow as a team fills up. Instead each workplace's empty slots are read once and kept as a
/// set (ids in key order: nothing in it tells the order of the fills), and a submission takes
/// one of them uniformly at random. The set must be exactly the workplace's empty slots, or
/// the choice would not be uniform:
/// - [`EmptySlots::begin`], inside each write transaction, forgets everything when another
///   connection has committed since the last one (`PRAGMA data_version`): codes issued, a
///   wave closed or purged. Only the connection that fills slots may keep the sets between
///   transactions, and it must never allocate slots itself.
/// - [`EmptySlots::forget`] after a transaction rolled back: its fills did not happen.
/// - A fill that finds its slot already taken (which the two rules exclude) reads the
///   workplace's slots again instead of trusting the set.
#[derive(Default)]
pub struct EmptySlots {
    data_version: Option<i64>,
    responses: BTreeMap<(i32, i32), Vec<Vec<u8>>>,
    comments: BTreeMap<(i32, i32), Vec<Vec<u8>>>,
}

impl EmptySlots {
    /// Call first in every transaction that fills slots.
    pub fn begin(&mut self, conn: &mut SqliteConnection) -> QueryResult<()> {
        let version = DataVersion::new().get_result::<i64>(conn)?;
        if self.data_version != Some(version) {
            self.forget();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// Drops every set (after a rollback, or when other connections have written).
    pub fn forget(&mut self) {
        self.responses.clear();
        self.comments.clear();
    }

    /// Whether no set is kept.
    pub fn is_empty(&self) -> bool {
        self.responses.is_empty() && self.comments.is_empty()
    }
}

/// Which kind of slot to fill.
#[derive(Clone, Copy)]
enum SlotKind {
    Response,
    Comment,
}

impl SlotKind {
    fn name(self) -> &'static str {
        match self {
            SlotKind::Response => "response",
            SlotKind::Comment => "comment",
        }
    }

    /// The ids of a workplace's empty slots of this kind, in key order.
    fn read_empty(
        self,
        conn: &mut SqliteConnection,
        (wave_id, workplace_id): (i32, i32),
    ) -> QueryResult<Vec<Vec<u8>>> {
        match self {
            SlotKind::Response => EmptyResponseSlots::new(wave_id, workplace_id).load(conn),
            SlotKind::Comment => EmptyCommentSlots::new(wave_id, workplace_id).load(conn),
        }
    }
}

/// Fills one empty slot of the workplace chosen uniformly at random; `fill` runs the UPDATE
/// for an id and says whether it changed the row.
fn fill_random_slot(
    conn: &mut SqliteConnection,
    empty_slots: &mut EmptySlots,
    kind: SlotKind,
    workplace: (i32, i32),
    mut fill: impl FnMut(&mut SqliteConnection, &[u8]) -> QueryResult<bool>,
) -> QueryResult<()> {
    let sets = match kind {
        SlotKind::Response => &mut empty_slots.responses,
        SlotKind::Comment => &mut empty_slots.comments,
    };
    let mut rng = rand::rng();
    for reread in [false, true] {
        let empty = match sets.entry(workplace) {
            Entry::Occupied(entry) if !reread => entry.into_mut(),
            Entry::Occupied(mut entry) => {
                entry.insert(kind.read_empty(conn, workplace)?);
                entry.into_mut()
            }
            Entry::Vacant(entry) => entry.insert(kind.read_empty(conn, workplace)?),
        };
        if empty.is_empty() {
            continue;
        }
        let id = empty.remove(rng.random_range(0..empty.len()));
        if fill(conn, &id)? {
            return Ok(());
        }
    }
    Err(missing_slot(kind.name()))
}

/// Fills one empty response slot of the workplace, chosen at random, in place.
pub fn fill_response(
    conn: &mut SqliteConnection,
    empty_slots: &mut EmptySlots,
    wave_id: i32,
    workplace_id: i32,
    job_level: Option<&str>,
    answers: &[u8],
) -> QueryResult<()> {
    let job_level = padded(job_level.unwrap_or(""), JOB_LEVEL_WIDTH).ok_or_else(|| {
        diesel::result::Error::QueryBuilderError("job level id longer than its slot".into())
    })?;
    fill_random_slot(
        conn,
        empty_slots,
        SlotKind::Response,
        (wave_id, workplace_id),
        |conn, id| {
            let filled =
                FillResponse::new(&job_level, answers, wave_id, workplace_id, id).execute(conn)?;
            Ok(filled == 1)
        },
    )
}

/// Fills one empty comment slot of the workplace, chosen at random, in place. The comment is
/// padded to the slot's own width, so the cell keeps its size.
pub fn fill_comment(
    conn: &mut SqliteConnection,
    empty_slots: &mut EmptySlots,
    wave_id: i32,
    workplace_id: i32,
    body: &str,
) -> QueryResult<()> {
    // Every comment slot of a wave has the same width: the first one's tells it.
    let width = CommentWidth::new(wave_id, workplace_id, &slot_id(0))
        .get_result::<i32>(conn)
        .optional()?
        .ok_or_else(|| missing_slot("comment"))?;
    let body = usize::try_from(width)
        .ok()
        .and_then(|width| padded(body, width))
        .ok_or_else(|| {
            diesel::result::Error::QueryBuilderError("comment longer than its slot".into())
        })?;
    fill_random_slot(
        conn,
        empty_slots,
        SlotKind::Comment,
        (wave_id, workplace_id),
        |conn, id| Ok(FillComment::new(&body, wave_id, workplace_id, id).execute(conn)? == 1),
    )
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
    use crate::collection::test_support::{fixture, Fixture};

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

    fn filled_numbers(conn: &mut SqliteConnection) -> Vec<u32> {
        responses::table
            .filter(responses::filled.eq(true))
            .select(responses::id)
            .load::<Vec<u8>>(conn)
            .expect("filled")
            .iter()
            .filter_map(|id| slot_number(id))
            .collect()
    }

    fn fill(conn: &mut SqliteConnection, f: &Fixture, empty_slots: &mut EmptySlots) {
        fill_response(conn, empty_slots, f.wave_id, f.workplace_id, None, &[3; 4]).expect("fill");
    }

    #[test]
    fn a_fill_takes_each_empty_slot_equally_often_whatever_was_filled_before() {
        let (f, mut conn) = fixture();
        allocate(&mut conn, f.wave_id, f.workplace_id, 5, f.shape).expect("slots");
        // (first, second) slot numbers of two fills from five empty slots: 20 pairs, each
        // equally likely if the second is uniform among the four left, whatever the first.
        let trials = 2_000;
        let mut pairs = [[0u32; 5]; 5];
        conn.immediate_transaction(|conn| {
            let mut empty_slots = EmptySlots::default();
            empty_slots.begin(conn)?;
            for _ in 0..trials {
                fill(conn, &f, &mut empty_slots);
                let first = filled_numbers(conn);
                fill(conn, &f, &mut empty_slots);
                let both = filled_numbers(conn);
                let second: Vec<u32> = both.into_iter().filter(|n| !first.contains(n)).collect();
                assert_eq!((first.len(), second.len()), (1, 1));
                pairs[first[0] as usize][second[0] as usize] += 1;
                // Emptied again on this connection: its sets must be dropped by hand.
                diesel::update(responses::table)
                    .set(responses::filled.eq(false))
                    .execute(conn)?;
                empty_slots.forget();
            }
            Ok::<_, diesel::result::Error>(())
        })
        .expect("trials");
        let expected = f64::from(trials) / 20.0;
        let mut chi_square = 0.0;
        for (first, row) in pairs.iter().enumerate() {
            for (second, &count) in row.iter().enumerate() {
                if first == second {
                    assert_eq!(count, 0, "a slot was filled twice");
                } else {
                    chi_square += (f64::from(count) - expected).powi(2) / expected;
                }
            }
        }
        // 19 degrees of freedom: a uniform choice exceeds 64 once in a million runs.
        assert!(chi_square < 64.0, "χ² = {chi_square:.1}: {pairs:?}");
    }

    #[test]
    fn another_connections_commit_drops_the_kept_sets() {
        let (f, mut conn) = fixture();
        allocate(&mut conn, f.wave_id, f.workplace_id, 2, f.shape).expect("slots");
        let mut empty_slots = EmptySlots::default();
        let fill_in_transaction = |conn: &mut SqliteConnection, slots: &mut EmptySlots| {
            conn.immediate_transaction(|conn| {
                slots.begin(conn)?;
                fill(conn, &f, slots);
                Ok::<_, diesel::result::Error>(())
            })
            .expect("fill");
        };
        fill_in_transaction(&mut conn, &mut empty_slots);
        assert_eq!(
            empty_slots.responses.values().map(Vec::len).sum::<usize>(),
            1
        );
        // Nobody else wrote: the set is kept.
        conn.immediate_transaction(|conn| empty_slots.begin(conn))
            .expect("begin");
        assert_eq!(empty_slots.responses.len(), 1);
        // Codes issued meanwhile, on another connection: their slots must be candidates.
        let mut other = crate::db::connect(&f.path).expect("connect");
        allocate(&mut other, f.wave_id, f.workplace_id, 3, f.shape).expect("more slots");
        conn.immediate_transaction(|conn| empty_slots.begin(conn))
            .expect("begin");
        assert!(empty_slots.responses.is_empty());
        for _ in 0..4 {
            fill_in_transaction(&mut conn, &mut empty_slots);
        }
        assert_eq!(filled_numbers(&mut conn).len(), 5);
    }

    #[test]
    fn a_kept_set_that_is_wrong_is_read_again_and_never_fills_a_slot_twice() {
        let (f, mut conn) = fixture();
        allocate(&mut conn, f.wave_id, f.workplace_id, 4, f.shape).expect("slots");
        let mut empty_slots = EmptySlots::default();
        fill(&mut conn, &f, &mut empty_slots);
        // Filled behind the set's back on the same connection (which the rules forbid): all
        // but one of the three the set still holds.
        let left = diesel::update(responses::table.filter(responses::filled.eq(false)))
            .set(responses::filled.eq(true))
            .execute(&mut conn)
            .expect("fill behind");
        assert_eq!(left, 3);
        diesel::update(responses::table.filter(responses::id.eq(slot_id(3))))
            .set(responses::filled.eq(false))
            .execute(&mut conn)
            .expect("empty one");
        fill(&mut conn, &f, &mut empty_slots);
        assert_eq!(filled_numbers(&mut conn).len(), 4);
        let full = fill_response(
            &mut conn,
            &mut empty_slots,
            f.wave_id,
            f.workplace_id,
            None,
            &[3; 4],
        );
        assert!(full.is_err(), "a full workplace has no slot to give");
    }

    #[test]
    fn text_longer_than_the_slot_is_refused() {
        assert_eq!(padded("abcde", 4), None);
        // Four bytes per character always fit: the longest UTF-8 encoding.
        let emoji = "😀".repeat(10);
        assert!(padded(&emoji, 40).is_some());
    }
}
