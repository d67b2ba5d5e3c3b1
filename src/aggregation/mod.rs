//! Aggregation of responses into guarded results. The anonymity guard lives in [`guard`]:
//! every output path asks it what may be shown.

pub mod guard;
pub mod stats;
