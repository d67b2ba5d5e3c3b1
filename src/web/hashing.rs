//! The argon2 gate. Every password check or hash the server computes (sign-in, the own
//! password change, HR adding an account or setting a password) runs through it:
//!
//! - at most one computation per core at a time (a semaphore);
//! - each in a working memory ([`HashMemory`], 19 MiB) allocated once and reused, so the
//!   process holds at most one per core however many sign-ins arrive;
//! - a short queue beyond that (a few requests per core, waiting at most a few seconds), and
//!   [`Busy`] — 429 with `Retry-After` — for the rest.
//!
//! A computation keeps its permit and its memory until it has finished on its blocking
//! thread, even if the client goes away, so dropped requests cannot raise the concurrency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::accounts::HashMemory;

/// Requests that may wait for a computation, per core.
const QUEUE_PER_CORE: usize = 8;
/// How long a request may wait for a computation before it is refused.
const MAX_WAIT: Duration = Duration::from_secs(10);
/// Seconds a refused client is asked to wait (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u32 = 10;

/// Too many password checks at once: try again shortly (429).
#[derive(Debug, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

pub struct Argon2Gate {
    permits: Arc<Semaphore>,
    memories: Arc<Mutex<Vec<HashMemory>>>,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

/// Leaves the queue when dropped (also when the request is dropped while waiting).
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Argon2Gate {
    pub fn new(concurrent: usize, max_waiting: usize, max_wait: Duration) -> Self {
        Argon2Gate {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            memories: Arc::new(Mutex::new(Vec::new())),
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
        }
    }

    /// One computation per core ([`std::thread::available_parallelism`]).
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Argon2Gate::new(cores, cores * QUEUE_PER_CORE, MAX_WAIT)
    }

    /// Runs `work` with a reused working memory on a blocking thread, once a permit is free.
    pub async fn run<T, F>(&self, work: F) -> Result<T, Busy>
    where
        F: FnOnce(&mut HashMemory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = {
            if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                return Err(Busy);
            }
            let _in_queue = InQueue(&self.waiting);
            tokio::time::timeout(self.max_wait, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| Busy)?
                .map_err(|_| Busy)?
        };
        let memories = self.memories.clone();
        actix_web::web::block(move || {
            let taken = memories
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .pop();
            let mut memory = taken.unwrap_or_default();
            let result = work(&mut memory);
            memories
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(memory);
            drop(permit);
            result
        })
        .await
        .map_err(|_| Busy)
    }

    /// Working memories allocated so far (at most one per permit).
    pub fn memories(&self) -> usize {
        self.memories
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn beyond_the_queue_requests_are_refused_and_memory_is_reused() {
        let gate = Arc::new(Argon2Gate::new(1, 2, Duration::from_secs(5)));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(Mutex::new(wait));
        let mut running = Vec::new();
        for _ in 0..3 {
            let (gate, wait) = (gate.clone(), wait.clone());
            running.push(actix_web::rt::spawn(async move {
                gate.run(move |_| {
                    let _ = wait.lock().map(|w| w.recv());
                })
                .await
            }));
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        // One computing, two waiting: the fourth is refused at once.
        assert!(gate.run(|_| ()).await.is_err());
        for _ in 0..3 {
            release.send(()).expect("release");
        }
        for task in running {
            assert!(task.await.expect("joined").is_ok());
        }
        assert_eq!(gate.memories(), 1, "one permit, one working memory");
    }
}
