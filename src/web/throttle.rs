//! In-memory throttling of repeated failures (wrong invitation codes, failed logins).
//!
//! Keys (a client address, a login name) live only in this process's memory and only for the
//! length of one window; nothing about a client is ever written to disk or to a log.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Throttle<K> {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Eq + Hash> Throttle<K> {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Throttle {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has used up its failures in the current window.
    pub fn is_blocked(&self, key: &K) -> bool {
        self.is_blocked_at(key, Instant::now())
    }

    pub fn record_failure(&self, key: K) {
        self.record_failure_at(key, Instant::now());
    }

    fn is_blocked_at(&self, key: &K, now: Instant) -> bool {
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.get(key).is_some_and(|(start, count)| {
            now.duration_since(*start) < self.window && *count >= self.max_failures
        })
    }

    fn record_failure_at(&self, key: K, now: Instant) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget expired windows so the map cannot grow without bound.
        if failures.len() > 10_000 {
            failures.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = failures.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_forgets_after_the_window() {
        let throttle = Throttle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..2 {
            throttle.record_failure_at("client", start);
        }
        assert!(!throttle.is_blocked_at(&"client", start));
        throttle.record_failure_at("client", start);
        assert!(throttle.is_blocked_at(&"client", start + Duration::from_secs(59)));
        assert!(!throttle.is_blocked_at(&"other", start));
        assert!(!throttle.is_blocked_at(&"client", start + Duration::from_secs(61)));
    }
}
