//! The single writer: one thread owns the only writing connection for the busy paths and
//! commits everything waiting in one transaction (group commit). SQLite allows one writer at
//! a time anyway; batching turns N fsync-bound commits into one. Two kinds of write ride it:
//! submissions (acknowledged only after their transaction has committed) and the audit rows
//! of dashboard views, which every results view and chart request writes.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use super::slots::EmptySlots;
use super::store::{store_within, Outcome, Submission};
use crate::audit::AuditRow;
use crate::db::{self, DbError};

/// Writes committed together at most; bounds the latency of one transaction.
const MAX_BATCH: usize = 512;
/// Writes waiting at most before senders wait (back-pressure).
const QUEUE_CAPACITY: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("the database could not store the write: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("the writer has stopped")]
    Stopped,
}

enum Job {
    Submission(Submission, oneshot::Sender<Result<Outcome, WriterError>>),
    Audit(
        AuditRow,
        Durability,
        oneshot::Sender<Result<(), WriterError>>,
    ),
}

/// How far an audit row must have reached when the writer answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Survives a crash of the server; reaches the disk with the next synced commit. For the
    /// rows every dashboard view writes.
    Committed,
    /// On disk before the answer, like a submission. For HR's actions and sign-ins.
    Synced,
}

/// The single writer: a cloneable handle for sending writes (submissions and audit rows) to
/// the thread that commits everything waiting in one transaction.
#[derive(Clone)]
pub struct GroupCommitWriter {
    queue: mpsc::Sender<Job>,
}

impl GroupCommitWriter {
    /// Opens the writing connection and starts the thread. The thread ends once every handle
    /// is dropped and the queue is drained; join the returned handle to wait for that.
    pub fn start(db_path: &Path) -> Result<(Self, JoinHandle<()>), DbError> {
        let mut conn = db::connect(db_path)?;
        // The writer's commits never checkpoint by themselves: SQLite would copy the log back
        // into the file inside every commit that takes it past 1,000 frames, on the serial
        // path of every submission. `WalBound` empties the log instead, fewer times and
        // whole (docs/performance.md, "session 6").
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")?;
        let db_path = db_path.to_path_buf();
        let (queue, mut receiver) = mpsc::channel::<Job>(QUEUE_CAPACITY);
        // Only for waiting on the queue with a timeout (the WAL's idle check).
        let timer = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| DbError::Thread(e.to_string()))?;
        let thread = std::thread::Builder::new()
            .name("submission-writer".into())
            .spawn(move || {
                let mut batch = Vec::with_capacity(MAX_BATCH);
                // Kept between groups: this connection never allocates slots.
                let mut empty_slots = EmptySlots::default();
                // Every connection starts with synchronous = FULL (db::ConnectionSettings).
                let mut synced = true;
                let mut wal = WalBound::new(db_path, WAL_MAX_BYTES);
                loop {
                    let first = if let Some(wait) = wal.idle_wait() {
                        let next = timer
                            .block_on(async { tokio::time::timeout(wait, receiver.recv()).await });
                        match next {
                            Ok(Some(job)) => job,
                            Ok(None) => break,
                            Err(_quiet) => {
                                wal.truncate(&mut conn);
                                continue;
                            }
                        }
                    } else {
                        match receiver.blocking_recv() {
                            Some(job) => job,
                            None => break,
                        }
                    };
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match receiver.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    commit_group(&mut conn, &mut empty_slots, &mut batch, &mut synced);
                    wal.committed(&mut conn);
                }
                wal.truncate(&mut conn);
            })
            .map_err(|e| DbError::Thread(e.to_string()))?;
        Ok((GroupCommitWriter { queue }, thread))
    }

    /// Queues a submission and waits until it is committed (or refused).
    pub async fn submit(&self, submission: Submission) -> Result<Outcome, WriterError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job::Submission(submission, reply))
            .await
            .map_err(|_| WriterError::Stopped)?;
        answer.await.map_err(|_| WriterError::Stopped)?
    }

    /// Queues an audit row and waits until it is committed as durably as `durability` says.
    pub async fn audit(&self, row: AuditRow, durability: Durability) -> Result<(), WriterError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job::Audit(row, durability, reply))
            .await
            .map_err(|_| WriterError::Stopped)?;
        answer.await.map_err(|_| WriterError::Stopped)?
    }
}

/// Commits one group in one IMMEDIATE transaction and answers every sender. A database error
/// rolls the whole group back, so no code is consumed without its response.
fn commit_group(
    conn: &mut SqliteConnection,
    empty_slots: &mut EmptySlots,
    batch: &mut Vec<Job>,
    synced: &mut bool,
) {
    let mut submissions = Vec::new();
    let mut submission_replies = Vec::new();
    let mut audits = Vec::new();
    let mut audit_replies = Vec::new();
    let mut synced_audit = false;
    for job in batch.drain(..) {
        match job {
            Job::Submission(submission, reply) => {
                submissions.push(submission);
                submission_replies.push(reply);
            }
            Job::Audit(row, durability, reply) => {
                synced_audit |= durability == Durability::Synced;
                audits.push(row);
                audit_replies.push(reply);
            }
        }
    }
    // A commit with submissions (or an HR action's audit row) is synced to disk before it is
    // acknowledged; a group of view rows alone is not (it survives a crash of the server, not
    // of the machine), which spares every dashboard view a sync. The next synced commit carries it to disk too.
    // The mode is switched only when the kind of group changes, not for every commit.
    // Submissions are never committed unsynced: if the switch fails, the group fails.
    let sync = !submissions.is_empty() || synced_audit;
    let mode = if sync == *synced {
        Ok(())
    } else {
        let pragma = if sync {
            "PRAGMA synchronous = FULL;"
        } else {
            "PRAGMA synchronous = NORMAL;"
        };
        conn.batch_execute(pragma).map(|()| *synced = sync)
    };
    let committed = mode.and_then(|()| {
        conn.immediate_transaction(|conn| {
            let outcomes = store_within(conn, empty_slots, &submissions)?;
            for row in &audits {
                crate::audit::record(conn, row.account_id, row.action, &row.detail)?;
            }
            Ok::<_, diesel::result::Error>(outcomes)
        })
    });
    match committed {
        Ok(outcomes) => {
            for (reply, outcome) in submission_replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
            for reply in audit_replies {
                let _ = reply.send(Ok(()));
            }
        }
        Err(error) => {
            // The group's fills were rolled back: their slots are empty again.
            empty_slots.forget();
            tracing::error!(%error, submissions = submissions.len(), audit_rows = audits.len(), "storing a group of writes failed; none was stored");
            for reply in submission_replies {
                let _ = reply.send(Err(WriterError::Database(error_copy(&error))));
            }
            for reply in audit_replies {
                let _ = reply.send(Err(WriterError::Database(error_copy(&error))));
            }
        }
    }
}

/// How long the write-ahead log may keep a commit while submissions keep arriving.
const WAL_MAX_AGE: Duration = Duration::from_secs(1);
/// A pause this long after a commit counts as quiet: the log is emptied. Under load the next
/// submission arrives sooner, so the writer does not pay a checkpoint for every group.
const WAL_QUIET: Duration = Duration::from_millis(1);
/// How large the log may grow under continuous load before it is emptied, whatever its age.
/// Emptying it costs a stall of the writer that grows with the pages the log touched, not
/// with its length; a small bound means frequent stalls that reach the 99th percentile of
/// the submissions' latency (16 MiB did, 64 MiB did not), a large one longer single stalls.
const WAL_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// After a truncation that a reader blocked, how long before the next try.
const WAL_RETRY: Duration = Duration::from_millis(50);
/// How long a truncation waits for readers still on an older snapshot before it gives up
/// for now (the writer must not stall submissions behind a long read).
const WAL_READER_WAIT: Duration = Duration::from_millis(20);

/// Bounds what the write-ahead log holds. Until a checkpoint, the log keeps every commit's
/// pages in commit order, so a copy of it would show which slots the latest submissions
/// filled, one commit after another. The writer empties it (checkpoint, then truncate to
/// zero bytes) as soon as [`WAL_QUIET`] passes without a new write after a commit, and at
/// least every [`WAL_MAX_AGE`] or [`WAL_MAX_BYTES`] under continuous load.
struct WalBound {
    /// The database, whose `-wal` file's length says how much the log holds.
    db_path: PathBuf,
    max_bytes: u64,
    /// How long after a failed truncation the next may be tried ([`WAL_RETRY`]).
    retry: Duration,
    /// The first commit the log still holds, if any.
    holding_since: Option<Instant>,
    /// When the last truncation failed, if it did (a reader on an older snapshot, or an error).
    failed_at: Option<Instant>,
}

impl WalBound {
    fn new(db_path: PathBuf, max_bytes: u64) -> Self {
        WalBound {
            db_path,
            max_bytes,
            retry: WAL_RETRY,
            holding_since: None,
            failed_at: None,
        }
    }

    /// How long to wait for the next write before emptying the log; `None` if it is empty.
    fn idle_wait(&self) -> Option<Duration> {
        self.holding_since.map(|_| {
            if self.failed_at.is_some() {
                self.retry
            } else {
                WAL_QUIET
            }
        })
    }

    fn committed(&mut self, conn: &mut SqliteConnection) {
        let since = *self.holding_since.get_or_insert_with(Instant::now);
        // After a failed try, not before the retry interval: each try may wait for readers,
        // and a long read would otherwise hold up every group behind it.
        if self
            .failed_at
            .is_some_and(|failed| failed.elapsed() < self.retry)
        {
            return;
        }
        // A log whose length cannot be read is bounded by its age alone.
        if since.elapsed() >= WAL_MAX_AGE || db::wal_length(&self.db_path) >= self.max_bytes {
            self.truncate(conn);
        }
    }

    fn truncate(&mut self, conn: &mut SqliteConnection) {
        if self.holding_since.is_none() {
            return;
        }
        let truncated = conn
            .batch_execute(&format!(
                "PRAGMA busy_timeout = {};",
                WAL_READER_WAIT.as_millis()
            ))
            .and_then(|()| db::truncate_wal(conn));
        let restored = conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {};",
            db::BUSY_TIMEOUT.as_millis()
        ));
        match (truncated, restored) {
            (Ok(true), Ok(())) => {
                self.holding_since = None;
                self.failed_at = None;
            }
            // A reader is still on an older snapshot: try again a little later.
            (Ok(false), Ok(())) => self.failed_at = Some(Instant::now()),
            (Err(error), _) | (_, Err(error)) => {
                // Said once, not at every retry (a full disk would fill the log).
                if self.failed_at.is_none() {
                    tracing::warn!(%error, "the write-ahead log could not be truncated");
                }
                self.failed_at = Some(Instant::now());
            }
        }
    }
}

/// diesel errors are not `Clone`; every waiting sender gets an equivalent error.
fn error_copy(error: &diesel::result::Error) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(error.to_string().into())
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;
    use crate::codes::InvitationCode;
    use crate::collection::test_support::{fixture, Fixture};
    use crate::db::schema::responses;
    use crate::secret::ServerSecret;

    /// The fixture's database with the writer's checkpoint setting.
    fn log_fixture() -> (Fixture, SqliteConnection) {
        let (f, mut conn) = fixture();
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")
            .expect("pragma");
        (f, conn)
    }

    /// Issues 50 codes with their slots: one commit that adds frames to the log.
    fn issue_fifty_codes(conn: &mut SqliteConnection, f: &Fixture) {
        let secret = ServerSecret::from_bytes([7; 32]);
        let codes: Vec<InvitationCode> = (0..50)
            .map(|_| InvitationCode::generate(&mut rand::rng()))
            .collect();
        crate::codes::store_new_codes(conn, &secret, f.wave_id, f.workplace_id, &codes, |_| {})
            .expect("codes");
    }

    #[test]
    fn a_log_past_its_size_bound_is_emptied_whatever_its_age() {
        let (f, mut conn) = log_fixture();
        let issue_codes = |conn: &mut SqliteConnection| issue_fifty_codes(conn, &f);
        let log_bytes = || db::wal_length(&f.path);

        issue_codes(&mut conn);
        let mut unbounded = WalBound::new(f.path.clone(), u64::MAX);
        unbounded.committed(&mut conn);
        let held = log_bytes();
        assert!(held > 0, "a young log within its bound is kept");

        issue_codes(&mut conn);
        let mut bounded = WalBound::new(f.path.clone(), held);
        bounded.committed(&mut conn);
        assert_eq!(log_bytes(), 0, "a log past its bound is emptied at once");
        assert_eq!(bounded.idle_wait(), None, "nothing is left to empty");
    }

    #[test]
    fn a_truncation_that_a_reader_blocked_is_tried_again_only_after_the_retry_interval() {
        let (f, mut conn) = log_fixture();
        let issue_codes = |conn: &mut SqliteConnection| issue_fifty_codes(conn, &f);
        let log_bytes = || db::wal_length(&f.path);
        // Every commit is past the bound; the retry interval is far away.
        let mut bound = WalBound::new(f.path.clone(), 1);
        bound.retry = Duration::from_secs(3600);

        // A reader keeps the snapshot before the next commit.
        let mut reader = db::connect(&f.path).expect("reader");
        reader
            .batch_execute("BEGIN; SELECT count(*) FROM invitation_codes;")
            .expect("read");
        issue_codes(&mut conn);
        bound.committed(&mut conn);
        assert!(log_bytes() > 0, "the reader blocked the truncation");
        assert!(bound.failed_at.is_some());

        // The reader is gone, but the interval has not passed: the next commit does not try.
        reader.batch_execute("COMMIT;").expect("end read");
        issue_codes(&mut conn);
        bound.committed(&mut conn);
        assert!(log_bytes() > 0, "no try before the retry interval");

        // Once it has passed, the next commit empties the log.
        bound.retry = Duration::ZERO;
        issue_codes(&mut conn);
        bound.committed(&mut conn);
        assert_eq!(log_bytes(), 0);
        assert_eq!(bound.failed_at, None);
    }

    #[test]
    fn a_group_that_rolls_back_leaves_no_kept_set_behind() {
        let (f, mut conn) = fixture();
        let secret = ServerSecret::from_bytes([7; 32]);
        let codes: Vec<InvitationCode> = (0..3)
            .map(|_| InvitationCode::generate(&mut rand::rng()))
            .collect();
        crate::codes::store_new_codes(
            &mut conn,
            &secret,
            f.wave_id,
            f.workplace_id,
            &codes,
            |_| {},
        )
        .expect("codes");
        let submission = |code: &InvitationCode, comment: Option<String>| {
            let (reply, answer) = oneshot::channel();
            let job = Job::Submission(
                Submission {
                    code_hash: code.keyed_hash(&secret),
                    looked_up: Some((f.wave_id, f.workplace_id)),
                    answers: vec![3; f.shape.answers],
                    job_level: None,
                    comment,
                },
                reply,
            );
            (job, answer)
        };
        let mut empty_slots = EmptySlots::default();
        let mut synced = true;

        let (job, mut answer) = submission(&codes[0], None);
        commit_group(&mut conn, &mut empty_slots, &mut vec![job], &mut synced);
        assert!(matches!(answer.try_recv(), Ok(Ok(Outcome::Stored))));
        assert!(
            !empty_slots.is_empty(),
            "the workplace's set is kept between groups"
        );

        // The response fills a slot, then the comment (longer than its slot) fails the group.
        let too_long = "長".repeat(f.shape.comment_bytes.unwrap_or(0) + 1);
        let (job, mut answer) = submission(&codes[1], Some(too_long));
        commit_group(&mut conn, &mut empty_slots, &mut vec![job], &mut synced);
        assert!(matches!(
            answer.try_recv(),
            Ok(Err(WriterError::Database(_)))
        ));
        // The slot the rolled-back group took is empty again: no set may say otherwise.
        assert!(empty_slots.is_empty());
        let filled: i64 = responses::table
            .filter(responses::filled.eq(true))
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert_eq!(filled, 1);
    }
}
