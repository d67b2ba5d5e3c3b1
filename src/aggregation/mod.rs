//! Aggregation: stored responses in, guarded results out (the "Check" of PDCA).
//!
//! - [`stats`]: the statistics, pure functions;
//! - [`guard`]: the anonymity guard that decides what any output may show;
//! - [`engine`]: scoring, groups, quadrant zones and change between waves;
//! - [`results`]: the guarded results, the only form in which figures leave this module;
//! - [`frozen`]: a closed wave's results, computed once at closing and stored;
//! - [`disclosure`]: the auditor that attacks every published figure of a wave;
//! - [`views`]: HR's job-level table and the organisation's trend, from guarded results;
//! - [`psychometrics`]: HR's report on the instrument (α, ω, item–rest r, HTMT, ICCs).

pub mod disclosure;
mod engine;
pub mod export;
pub mod frozen;
pub mod guard;
pub mod load;
pub mod psychometrics;
mod results;
pub mod stats;
pub mod views;

pub use engine::{compute, AggregationError, ResponseTable, WaveData, WorkplaceNode};
pub use results::*;
