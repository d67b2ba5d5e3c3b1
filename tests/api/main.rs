//! All integration tests live in this one binary so CI links once.

mod abuse;
mod accounts;
mod anonymity;
mod cli;
mod collection;
mod crash;
mod dashboards;
mod e2e;
mod e2e_manager;
mod faults;
mod forensic;
mod hardening;
mod helpers;
mod hr_pages;
mod manager_page;
mod org_import;
mod results;
mod sqlite_format;
mod stylesheet;
mod survey_definitions;
