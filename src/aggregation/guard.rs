//! The anonymity guard: the minimum group sizes that decide what any output may show.

use std::fmt;

/// The floor below which k may never be set, whatever the configuration says.
pub const MIN_K: u32 = 3;
pub const DEFAULT_K: u32 = 5;
/// Japan's Stress Check group analysis uses 10 as its minimum group.
pub const DEFAULT_K2: u32 = 10;

/// k: scores need at least k responses. k2: item distributions, comments and job-level cuts
/// need at least k2. Locked for a wave once its first response is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    k: u32,
    k2: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("k = {0} is below the minimum of {MIN_K}")]
    KTooSmall(u32),
    #[error("k2 = {k2} must be at least k = {k}")]
    K2BelowK { k: u32, k2: u32 },
}

impl Thresholds {
    pub fn new(k: u32, k2: u32) -> Result<Self, ThresholdError> {
        if k < MIN_K {
            return Err(ThresholdError::KTooSmall(k));
        }
        if k2 < k {
            return Err(ThresholdError::K2BelowK { k, k2 });
        }
        Ok(Thresholds { k, k2 })
    }

    pub fn k(&self) -> u32 {
        self.k
    }

    pub fn k2(&self) -> u32 {
        self.k2
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            k: DEFAULT_K,
            k2: DEFAULT_K2,
        }
    }
}

impl fmt::Display for Thresholds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "k = {}, k2 = {}", self.k, self.k2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_never_goes_below_three_and_k2_never_below_k() {
        assert_eq!(Thresholds::new(2, 10), Err(ThresholdError::KTooSmall(2)));
        assert_eq!(
            Thresholds::new(5, 4),
            Err(ThresholdError::K2BelowK { k: 5, k2: 4 })
        );
        assert!(Thresholds::new(3, 3).is_ok());
        assert_eq!(
            Thresholds::default(),
            Thresholds::new(5, 10).expect("defaults are valid")
        );
    }
}
