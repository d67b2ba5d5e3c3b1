//! Results as a signed-in account may see them, for every output of the web layer (JSON,
//! CSV, pages, charts): the closed wave's frozen results from a cache, scoped to the account,
//! and every view written to the audit log. A manager sees the organisation as a whole and
//! their own workplaces (with their subtrees); HR see every group.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use actix_web::web;

use super::error::AppError;
use super::AppState;
use crate::accounts::{Account, Role};
use crate::aggregation::{frozen, WaveResults};
use crate::audit::AuditRow;
use crate::collection::writer::Durability;

/// Keeps only what `account` may see: everything for HR; for a manager the organisation's
/// overall figures and their own workplaces (no other workplace, no job-level cut).
pub fn scoped(results: Arc<WaveResults>, account: &Account) -> Arc<WaveResults> {
    if account.role == Role::Hr {
        return results;
    }
    let may_see = |code: &str| account.may_see(code);
    Arc::new(results.visible_to(Some(&may_see)))
}

/// Results of closed waves, by wave id, and the charts drawn from them. A closed wave's
/// results are frozen at closing and never change; the organisation version only makes the
/// cache read them again (and redraw a manager's charts), never recompute them.
#[derive(Default)]
pub struct ResultsCache {
    entries: Mutex<HashMap<i32, (i64, Arc<WaveResults>)>>,
    charts: Mutex<HashMap<ChartKey, web::Bytes>>,
    /// Managers' scoped copies ([`scoped`]), by wave and the workplaces the manager may see,
    /// each with the full results it was cut from: a hit counts only for that same copy. (A
    /// `Weak` keeps the evicted full results' memory free, and its address unused.)
    scoped: Mutex<HashMap<ScopeKey, ScopedCopy>>,
    /// When each (account, wave) last had a view written to the audit log.
    audited: Mutex<HashMap<(i32, i32), Instant>>,
}

/// A chart drawn within this time after an audited view of the same wave by the same
/// account is part of that page (the page's <img> and inline charts) and writes no row of
/// its own: one page view, one audit row.
const PAGE_CHARTS_WINDOW: Duration = Duration::from_secs(60);

/// (wave, organisation version, viewer and chart options).
type ChartKey = (i32, i64, String);

/// (wave, the workplace codes a manager may see): [`scoped`] depends on nothing else.
type ScopeKey = (i32, BTreeSet<String>);

/// The full results a scoped copy was cut from, and the copy.
type ScopedCopy = (Weak<WaveResults>, Arc<WaveResults>);

/// Waves kept at most (each can hold tens of megabytes on a large organisation).
const CACHED_WAVES: usize = 8;
/// Charts, managers' scoped copies and audit notes kept at most, each; a full cache is
/// emptied (audit notes: the expired ones dropped).
const CACHED_ENTRIES: usize = 512;

impl ResultsCache {
    fn get(&self, wave_id: i32, org_version: i64) -> Option<Arc<WaveResults>> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(&wave_id)
            .filter(|(version, _)| *version == org_version)
            .map(|(_, results)| results.clone())
    }

    fn put(&self, wave_id: i32, org_version: i64, results: Arc<WaveResults>) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= CACHED_WAVES && !entries.contains_key(&wave_id) {
            if let Some(oldest) = entries.keys().min().copied() {
                entries.remove(&oldest);
            }
        }
        entries.insert(wave_id, (org_version, results));
    }

    fn chart(&self, key: &ChartKey) -> Option<web::Bytes> {
        let charts = self
            .charts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        charts.get(key).cloned()
    }

    /// Notes an audited view of `wave_id` by `account_id` now.
    fn note_audited(&self, account_id: i32, wave_id: i32) {
        let mut audited = self
            .audited
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if audited.len() >= CACHED_ENTRIES {
            audited.retain(|_, at| at.elapsed() < PAGE_CHARTS_WINDOW);
        }
        audited.insert((account_id, wave_id), Instant::now());
    }

    /// Whether a view of `wave_id` by `account_id` was audited within the page window.
    fn recently_audited(&self, account_id: i32, wave_id: i32) -> bool {
        let audited = self
            .audited
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        audited
            .get(&(account_id, wave_id))
            .is_some_and(|at| at.elapsed() < PAGE_CHARTS_WINDOW)
    }

    /// `results` (the full results of wave `wave_id`) as `account` may see them: cut once per
    /// wave and scope, then shared. The copy is reused only while `results` is the very
    /// copy it was cut from, so a reread of the wave cuts it again.
    fn scoped(
        &self,
        wave_id: i32,
        results: Arc<WaveResults>,
        account: &Account,
    ) -> Arc<WaveResults> {
        if account.role == Role::Hr {
            return results;
        }
        let key = (wave_id, account.visible_workplaces.clone());
        let lock = || {
            self.scoped
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some((source, cut)) = lock().get(&key) {
            if std::ptr::eq(source.as_ptr(), Arc::as_ptr(&results)) {
                return cut.clone();
            }
        }
        let cut = scoped(results.clone(), account);
        let mut entries = lock();
        if entries.len() >= CACHED_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Arc::downgrade(&results), cut.clone()));
        cut
    }

    fn put_chart(&self, key: ChartKey, svg: web::Bytes) {
        let mut charts = self
            .charts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if charts.len() >= CACHED_ENTRIES {
            charts.clear();
        }
        charts.insert(key, svg);
    }
}

/// A closed wave's results (all groups) and the organisation version they belong to.
pub async fn cached_results(
    state: &web::Data<AppState>,
    wave_id: i32,
) -> Result<(i64, Arc<WaveResults>), AppError> {
    let app = state.clone();
    state
        .with_conn(move |conn| cached_results_on(conn, &app, wave_id))
        .await
}

/// [`cached_results`] on a connection the caller already holds: a page that needs more
/// from the database asks for it all in one trip to the blocking pool.
pub fn cached_results_on(
    conn: &mut diesel::SqliteConnection,
    state: &AppState,
    wave_id: i32,
) -> Result<(i64, Arc<WaveResults>), AppError> {
    let org_version = crate::org::version(conn)?;
    if let Some(cached) = state.results_cache.get(wave_id, org_version) {
        return Ok((org_version, cached));
    }
    let computed = Arc::new(frozen::wave_results(conn, wave_id)?);
    state
        .results_cache
        .put(wave_id, org_version, computed.clone());
    Ok((org_version, computed))
}

/// Writes what `account` did with `wave_id` to the audit log, through the writer: every
/// page view and export writes a row, and group commit keeps that cheap.
pub async fn audit_view(
    state: &AppState,
    account: &Account,
    action: &'static str,
    wave_id: i32,
) -> Result<(), AppError> {
    state
        .writer
        .audit(
            AuditRow {
                account_id: account.id,
                action,
                detail: format!("wave {wave_id}"),
            },
            Durability::Committed,
        )
        .await?;
    state.results_cache.note_audited(account.id, wave_id);
    Ok(())
}

/// Audits a chart: a chart of the page whose view was just audited (the same account and
/// wave within [`PAGE_CHARTS_WINDOW`]) is part of that view; any other is a view of its own.
pub async fn audit_chart(
    state: &AppState,
    account: &Account,
    action: &'static str,
    wave_id: i32,
) -> Result<(), AppError> {
    if state.results_cache.recently_audited(account.id, wave_id) {
        return Ok(());
    }
    audit_view(state, account, action, wave_id).await
}

/// A closed wave's results as `account` may see them; the view is audited.
pub async fn results_for(
    state: &web::Data<AppState>,
    account: &Account,
    wave_id: i32,
    action: &'static str,
) -> Result<Arc<WaveResults>, AppError> {
    let (_, results) = cached_results(state, wave_id).await?;
    audited_scope(state, account, action, wave_id, results).await
}

/// Wave `wave_id`'s full `results` as `account` may see them, once the view is audited.
pub async fn audited_scope(
    state: &AppState,
    account: &Account,
    action: &'static str,
    wave_id: i32,
    results: Arc<WaveResults>,
) -> Result<Arc<WaveResults>, AppError> {
    audit_view(state, account, action, wave_id).await?;
    Ok(state.results_cache.scoped(wave_id, results, account))
}

/// A chart of a closed wave as `account` may see it, drawn once per wave, organisation
/// version, viewer scope and `key` (the chart and its options); the view is audited unless
/// it is part of a page just audited ([`audit_chart`]).
pub async fn chart_for(
    state: &web::Data<AppState>,
    account: &Account,
    wave_id: i32,
    action: &'static str,
    key: String,
    draw: impl FnOnce(&WaveResults) -> Result<String, AppError>,
) -> Result<web::Bytes, AppError> {
    let (org_version, results) = cached_results(state, wave_id).await?;
    audit_chart(state, account, action, wave_id).await?;
    // HR share one view; each manager has their own scope.
    let viewer = match account.role {
        Role::Hr => "hr".to_string(),
        Role::Manager => format!("manager {}", account.id),
    };
    let chart_key = (wave_id, org_version, format!("{viewer} {key}"));
    if let Some(svg) = state.results_cache.chart(&chart_key) {
        return Ok(svg);
    }
    // Bytes: every response shares the one drawn copy.
    let svg = web::Bytes::from(draw(&scoped(results, account))?);
    state.results_cache.put_chart(chart_key, svg.clone());
    Ok(svg)
}
