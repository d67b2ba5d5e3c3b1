//! The HTTP interface. Routes are grouped by who uses them; `config` mounts them all so the
//! server and the tests run the very same app.

mod accounts;
mod analysis;
mod api;
mod auth;
mod charts;
mod dashboards;
mod error;
mod extract;
mod hashing;
mod hr;
mod pages;
mod password_check;
mod psychometrics;
mod refusals;
mod results;
mod security;
mod session;
mod staff;
pub mod startup;
mod throttle;

use std::net::IpAddr;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::collection::writer::{Durability, GroupCommitWriter};
use crate::db::DbPool;
use crate::secret::ServerSecret;
use crate::settings::Settings;
use crate::waves::DefinitionCache;

pub use error::AppError;
pub use pages::Pages;
pub use throttle::Throttle;

/// Failed sign-ins per login name, and per client address, before they must wait.
const LOGIN_FAILURES_PER_WINDOW: u32 = 5;
const LOGIN_FAILURES_PER_ADDRESS: u32 = 20;
const LOGIN_FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Wrong codes one client may try per window before it must wait.
const CODE_FAILURES_PER_WINDOW: u32 = 20;
const CODE_FAILURE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The shared application context, one per server.
pub struct AppState {
    pub settings: Settings,
    pub pool: DbPool,
    pub writer: GroupCommitWriter,
    pub pages: Pages,
    pub secret: ServerSecret,
    pub definitions: DefinitionCache,
    pub code_throttle: Throttle<IpAddr>,
    pub login_throttle: throttle::LoginThrottle,
    /// Every argon2 computation of a request goes through it (`hashing`).
    pub argon2: hashing::Argon2Gate,
    pub results_cache: results::ResultsCache,
}

impl AppState {
    pub fn new(
        settings: Settings,
        pool: DbPool,
        writer: GroupCommitWriter,
        pages: Pages,
        secret: ServerSecret,
    ) -> Self {
        AppState {
            settings,
            pool,
            writer,
            pages,
            secret,
            definitions: DefinitionCache::default(),
            code_throttle: Throttle::new(CODE_FAILURES_PER_WINDOW, CODE_FAILURE_WINDOW),
            login_throttle: throttle::LoginThrottle::new(
                LOGIN_FAILURES_PER_WINDOW,
                LOGIN_FAILURES_PER_ADDRESS,
                LOGIN_FAILURE_WINDOW,
            ),
            argon2: hashing::Argon2Gate::for_this_machine(),
            results_cache: results::ResultsCache::default(),
        }
    }

    /// Runs blocking database work off the async workers; the work's own error converts
    /// into an [`AppError`].
    pub async fn with_conn<T, E, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut diesel::SqliteConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
        AppError: From<E>,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn).map_err(AppError::from)
        })
        .await?
    }

    /// A short read (a lookup by primary key, some microseconds in SQLite) on the request's
    /// own worker when a pooled connection is idle right now, else off the workers like
    /// [`AppState::with_conn`]. Handing a lookup to the blocking pool and back cost more than
    /// the lookup itself: two thread switches and the pool's own bookkeeping, about 12% of a
    /// submission's instructions (docs/performance.md). A reader never waits for the writer
    /// (WAL), so the worker is not held up by a commit.
    pub async fn read_now<T, E, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut diesel::SqliteConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
        AppError: From<E>,
    {
        match self.pool.try_get() {
            Some(mut conn) => work(&mut conn).map_err(AppError::from),
            None => self.with_conn(work).await,
        }
    }

    /// Runs argon2 work (with database access) through the gate: `Busy` becomes 429.
    pub async fn with_argon2<T, E, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut diesel::SqliteConnection, &mut crate::accounts::HashMemory) -> Result<T, E>
            + Send
            + 'static,
        T: Send + 'static,
        E: Send + 'static,
        AppError: From<E>,
    {
        let pool = self.pool.clone();
        self.argon2
            .run(move |memory| {
                let mut conn = pool.get()?;
                work(&mut conn, memory).map_err(AppError::from)
            })
            .await
            .map_err(|_| AppError::Busy)?
    }
}

impl AppState {
    /// Writes an action's `row` to the audit log through the writer (group commit) and waits
    /// until it is on disk, like the action itself.
    pub async fn audit(&self, row: crate::audit::AuditRow) -> Result<(), AppError> {
        Ok(self.writer.audit(row, Durability::Synced).await?)
    }

    /// Like [`AppState::audit`] where a failed write must not change the answer (signing in
    /// or out): the failure is logged.
    pub async fn audit_quietly(&self, row: crate::audit::AuditRow) {
        if let Err(error) = self.audit(row).await {
            tracing::warn!(%error, "an audit row could not be written");
        }
    }
}

/// A 303 to `location`.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// Mounts every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    staff::config(cfg);
    auth::config(cfg);
    accounts::config(cfg);
    analysis::config(cfg);
    api::config(cfg);
    charts::config(cfg);
    psychometrics::config(cfg);
    dashboards::config(cfg);
    hr::config(cfg);
}
