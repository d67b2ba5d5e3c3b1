//! In-memory throttling of repeated failures (wrong invitation codes, failed logins).
//!
//! Keys (a client address, a login name) live only in this process's memory and only for the
//! length of one window; nothing about a client is ever written to disk or to a log.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures per key within a window (not locked: [`Throttle`] and [`LoginThrottle`] hold it).
struct Counts<K> {
    max_failures: u32,
    window: Duration,
    entries: HashMap<K, Window>,
}

struct Window {
    start: Instant,
    count: u32,
    /// Whether reaching the limit in this window has been reported (audited) already.
    reported: bool,
}

impl<K: Eq + Hash> Counts<K> {
    fn new(max_failures: u32, window: Duration) -> Self {
        Counts {
            max_failures,
            window,
            entries: HashMap::new(),
        }
    }

    fn is_blocked(&self, key: &K, now: Instant) -> bool {
        self.entries.get(key).is_some_and(|entry| {
            now.duration_since(entry.start) < self.window && entry.count >= self.max_failures
        })
    }

    fn add(&mut self, key: K, now: Instant) {
        // Forget expired windows so the map cannot grow without bound.
        if self.entries.len() > 10_000 {
            let window = self.window;
            self.entries
                .retain(|_, entry| now.duration_since(entry.start) < window);
        }
        let entry = self.entries.entry(key).or_insert(Window {
            start: now,
            count: 0,
            reported: false,
        });
        if now.duration_since(entry.start) >= self.window {
            *entry = Window {
                start: now,
                count: 0,
                reported: false,
            };
        }
        entry.count += 1;
    }

    /// Takes back one count added at `at`, unless its window has been replaced since.
    fn take_back(&mut self, key: &K, at: Instant) {
        if let Some(entry) = self.entries.get_mut(key).filter(|entry| entry.start <= at) {
            entry.count = entry.count.saturating_sub(1);
        }
    }

    /// Whether `key` is at its limit and this has not been reported yet (then it is now).
    fn newly_blocked(&mut self, key: &K, now: Instant) -> bool {
        let max_failures = self.max_failures;
        let window = self.window;
        match self.entries.get_mut(key) {
            Some(entry)
                if now.duration_since(entry.start) < window
                    && entry.count >= max_failures
                    && !entry.reported =>
            {
                entry.reported = true;
                true
            }
            _ => false,
        }
    }
}

/// Counts failures per key (the wrong-code throttle: a failure is known at once).
pub struct Throttle<K> {
    counts: Mutex<Counts<K>>,
}

impl<K: Eq + Hash> Throttle<K> {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Throttle {
            counts: Mutex::new(Counts::new(max_failures, window)),
        }
    }

    /// Whether `key` has used up its failures in the current window.
    pub fn is_blocked(&self, key: &K) -> bool {
        self.is_blocked_at(key, Instant::now())
    }

    pub fn record_failure(&self, key: K) {
        self.record_failure_at(key, Instant::now());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts<K>> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_blocked_at(&self, key: &K, now: Instant) -> bool {
        self.lock().is_blocked(key, now)
    }

    fn record_failure_at(&self, key: K, now: Instant) {
        self.lock().add(key, now);
    }
}

/// The sign-in throttle: failures per login name and per client address. A password check
/// takes argon2 time, so an attempt is *reserved* before it — checked and counted under one
/// lock — and taken back only if the password was right: concurrent attempts cannot run
/// past the limit while earlier ones are still being checked.
pub struct LoginThrottle {
    counts: Mutex<(Counts<String>, Counts<IpAddr>)>,
}

/// A reserved attempt (see [`LoginThrottle`]). Dropped without [`LoginThrottle::release`],
/// it stays counted as a failure.
#[derive(Debug)]
pub struct Attempt {
    login: String,
    address: Option<IpAddr>,
    at: Instant,
}

/// What a failed attempt locked: the login, the client address, both or neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lockout {
    pub login: bool,
    pub address: bool,
}

impl LoginThrottle {
    pub fn new(per_login: u32, per_address: u32, window: Duration) -> Self {
        LoginThrottle {
            counts: Mutex::new((
                Counts::new(per_login, window),
                Counts::new(per_address, window),
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Counts<String>, Counts<IpAddr>)> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reserves one attempt for a login (compared case-insensitively) from an address;
    /// `None` if either has used up its failures in the window, attempts still being checked
    /// included.
    pub fn reserve(&self, login: &str, address: Option<IpAddr>) -> Option<Attempt> {
        self.reserve_at(login, address, Instant::now())
    }

    fn reserve_at(&self, login: &str, address: Option<IpAddr>, now: Instant) -> Option<Attempt> {
        let login = login.to_lowercase();
        let mut counts = self.lock();
        let (logins, addresses) = &mut *counts;
        if logins.is_blocked(&login, now) || address.is_some_and(|a| addresses.is_blocked(&a, now))
        {
            return None;
        }
        logins.add(login.clone(), now);
        if let Some(address) = address {
            addresses.add(address, now);
        }
        Some(Attempt {
            login,
            address,
            at: now,
        })
    }

    /// The attempt does not count: the password was right, or it was never checked.
    pub fn release(&self, attempt: Attempt) {
        let mut counts = self.lock();
        let (logins, addresses) = &mut *counts;
        logins.take_back(&attempt.login, attempt.at);
        if let Some(address) = attempt.address {
            addresses.take_back(&address, attempt.at);
        }
    }

    /// The password was wrong: the attempt stays counted. Says what it locked, once per
    /// window, so that the lockout is audited once.
    pub fn failed(&self, attempt: Attempt) -> Lockout {
        let now = Instant::now();
        let mut counts = self.lock();
        let (logins, addresses) = &mut *counts;
        Lockout {
            login: logins.newly_blocked(&attempt.login, now),
            address: attempt
                .address
                .is_some_and(|address| addresses.newly_blocked(&address, now)),
        }
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

    #[test]
    fn sign_in_attempts_are_counted_before_they_are_checked() {
        let throttle = LoginThrottle::new(3, 10, Duration::from_secs(60));
        let address: IpAddr = [192, 0, 2, 1].into();
        let start = Instant::now();
        // Three attempts in flight use up the login's allowance before any is checked.
        let attempts: Vec<Attempt> = (0..3)
            .map(|_| {
                throttle
                    .reserve_at("Sato", Some(address), start)
                    .expect("allowed")
            })
            .collect();
        assert!(throttle.reserve_at("sato", Some(address), start).is_none());
        assert!(throttle
            .reserve_at("suzuki", Some(address), start)
            .is_some());
        let mut attempts = attempts.into_iter();
        // A right password gives its attempt back.
        throttle.release(attempts.next().expect("first"));
        let again = throttle
            .reserve_at("sato", None, start)
            .expect("allowed again");
        // Three counted again: the first failure to be checked reports the lockout, once.
        assert_eq!(
            throttle.failed(again),
            Lockout {
                login: true,
                address: false
            }
        );
        for attempt in attempts {
            assert_eq!(throttle.failed(attempt), Lockout::default());
        }
        assert!(throttle.reserve_at("sato", None, start).is_none());
        assert!(throttle
            .reserve_at("sato", None, start + Duration::from_secs(61))
            .is_some());
    }

    #[test]
    fn an_address_is_locked_across_logins() {
        let throttle = LoginThrottle::new(5, 2, Duration::from_secs(60));
        let address: IpAddr = [192, 0, 2, 1].into();
        let start = Instant::now();
        let first = throttle
            .reserve_at("a", Some(address), start)
            .expect("allowed");
        let second = throttle
            .reserve_at("b", Some(address), start)
            .expect("allowed");
        assert!(throttle.reserve_at("c", Some(address), start).is_none());
        assert!(throttle.reserve_at("c", None, start).is_some());
        assert_eq!(
            throttle.failed(first),
            Lockout {
                login: false,
                address: true
            }
        );
        assert_eq!(throttle.failed(second), Lockout::default());
    }
}
