//! Building and running the server from [`Settings`]. Tests bind port 0 and get the real app.

use std::net::TcpListener;
use std::thread::JoinHandle;

use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::SameSite;
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpRequest, HttpServer};

use super::error::{self, AppError};
use super::pages::{Pages, PagesError};
use super::{config, security, AppState};
use crate::collection::writer::GroupCommitWriter;
use crate::db::{self, DbError};
use crate::secret::{SecretError, ServerSecret};
use crate::settings::Settings;

/// Read connections in the pool; submissions and audit rows go through the single
/// group-commit writer.
const READ_POOL_SIZE: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Database(#[from] DbError),
    #[error("{0}")]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Pages(#[from] PagesError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// A built server, bound but not yet running.
pub struct Application {
    server: Server,
    port: u16,
    writer_thread: JoinHandle<()>,
}

impl Application {
    pub fn build(settings: Settings) -> Result<Self, StartupError> {
        let pool = db::open_pool(&settings.db_path, READ_POOL_SIZE)?;
        let secret = ServerSecret::load_or_create(&settings.secret_file)?;
        let pages = Pages::load(&settings.templates_dir)?;
        let (writer, writer_thread) = GroupCommitWriter::start(&settings.db_path)?;
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let workers = settings.workers;
        let session_key = actix_web::cookie::Key::derive_from(secret.as_bytes());
        let secure_cookies = settings.secure_cookies;
        let state = web::Data::new(AppState::new(settings, pool, writer, pages, secret));
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(error::render_errors))
                .wrap(from_fn(security::methods))
                .wrap(from_fn(security::body_deadline))
                .wrap(from_fn(security::same_origin_posts))
                .wrap(security::headers())
                // gzip when the client accepts it (the survey page is ~90 KB of repetitive
                // HTML); only gzip is built in, to keep the build small.
                .wrap(Compress::default())
                .wrap(from_fn(security::access_log))
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), session_key.clone())
                        .cookie_name("anshin_session".into())
                        .cookie_secure(secure_cookies)
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Strict)
                        .cookie_content_security(CookieContentSecurity::Private)
                        .build(),
                )
                .configure(config)
                .default_service(web::to(not_found))
        });
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Bind {
                address: "listener".into(),
                source,
            })?
            .run();
        Ok(Application {
            server,
            port,
            writer_thread,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped (SIGTERM stops gracefully: in-flight submissions finish; SIGINT,
    /// i.e. Ctrl-C, stops at once, which loses nothing acknowledged either),
    /// then waits for the writer to commit whatever is still queued.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        let writer_thread = self.writer_thread;
        // The app (and with it every writer handle) is gone once the server has stopped.
        let _ = web::block(move || writer_thread.join()).await;
        result
    }
}

async fn not_found(req: HttpRequest) -> actix_web::HttpResponse {
    error::render_page(&req, &AppError::NotFound)
}
