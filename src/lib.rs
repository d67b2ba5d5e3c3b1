//! Anshin: a self-hosted anonymous survey platform for work engagement and psychological
//! safety. `main.rs` only parses the command line; everything else lives here.

pub mod accounts;
pub mod aggregation;
pub mod audit;
pub mod charts;
pub mod cli;
pub mod codes;
pub mod collection;
pub mod csv_safe;
pub mod dates;
pub mod db;
pub mod demo;
pub mod i18n;
pub mod loadgen;
pub mod logging;
pub mod org;
pub mod participation;
pub mod plans;
pub mod policy;
pub mod secret;
pub mod settings;
pub mod survey;
pub mod wave_status;
pub mod wave_store;
pub mod waves;
pub mod web;
