//! The single submission writer: one thread owns the only writing connection and commits
//! every waiting submission in one transaction (group commit). SQLite allows one writer at a
//! time anyway; batching turns N fsync-bound commits into one, and a submission is
//! acknowledged only after its transaction has committed.

use std::path::Path;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::store::{store_batch, Outcome, Submission};
use crate::db::{self, DbError};

/// Submissions committed together at most; bounds the latency of one transaction.
const MAX_BATCH: usize = 512;
/// Submissions waiting at most before senders wait (back-pressure).
const QUEUE_CAPACITY: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("the database could not store the submission: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("the submission writer has stopped")]
    Stopped,
}

type Reply = oneshot::Sender<Result<Outcome, WriterError>>;

/// A cloneable handle for sending submissions to the writer thread.
#[derive(Clone)]
pub struct SubmissionWriter {
    queue: mpsc::Sender<(Submission, Reply)>,
}

impl SubmissionWriter {
    /// Opens the writing connection and starts the thread. The thread ends once every handle
    /// is dropped and the queue is drained; join the returned handle to wait for that.
    pub fn start(db_path: &Path) -> Result<(Self, JoinHandle<()>), DbError> {
        let mut conn = db::connect(db_path)?;
        let (queue, mut receiver) = mpsc::channel::<(Submission, Reply)>(QUEUE_CAPACITY);
        let thread = std::thread::Builder::new()
            .name("submission-writer".into())
            .spawn(move || {
                let mut batch = Vec::with_capacity(MAX_BATCH);
                while let Some(first) = receiver.blocking_recv() {
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match receiver.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let (submissions, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                    match store_batch(&mut conn, &submissions) {
                        Ok(outcomes) => {
                            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                                let _ = reply.send(Ok(outcome));
                            }
                        }
                        Err(error) => {
                            tracing::error!(%error, submissions = submissions.len(), "storing a group of submissions failed; none was stored");
                            for reply in replies {
                                let _ = reply.send(Err(WriterError::Database(error_copy(&error))));
                            }
                        }
                    }
                }
            })
            .map_err(|e| DbError::Thread(e.to_string()))?;
        Ok((SubmissionWriter { queue }, thread))
    }

    /// Queues a submission and waits until it is committed (or refused).
    pub async fn submit(&self, submission: Submission) -> Result<Outcome, WriterError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((submission, reply))
            .await
            .map_err(|_| WriterError::Stopped)?;
        answer.await.map_err(|_| WriterError::Stopped)?
    }

    /// Stores submissions directly, bypassing nothing: used by the demo generator so that
    /// synthetic responses take the very same path as real ones.
    pub fn submit_blocking(&self, submission: Submission) -> Result<Outcome, WriterError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .blocking_send((submission, reply))
            .map_err(|_| WriterError::Stopped)?;
        answer.blocking_recv().map_err(|_| WriterError::Stopped)?
    }
}

/// diesel errors are not `Clone`; every waiting submission gets an equivalent error.
fn error_copy(error: &diesel::result::Error) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(error.to_string().into())
}
