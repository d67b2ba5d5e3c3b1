//! Runtime configuration, built once from flags and environment and passed in (no globals).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::aggregation::guard::Thresholds;

#[derive(Debug, Clone)]
pub struct Settings {
    pub db_path: PathBuf,
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: String,
    /// The server secret's file (code hashes, cookies); created with mode 0600 on first start.
    pub secret_file: PathBuf,
    /// Minimum group sizes for new waves.
    pub thresholds: Thresholds,
    pub templates_dir: PathBuf,
    pub definitions_dir: PathBuf,
    /// Public base URL printed into invitation links, e.g. `https://survey.example.jp`.
    pub base_url: String,
    /// Take client addresses (for throttling) from the reverse proxy's forwarding headers.
    pub trust_proxy: bool,
    /// Mark the session cookie `Secure` (serve over TLS). Off for plain-HTTP development.
    pub secure_cookies: bool,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// A dashboard session ends this long after sign-in, however active (on top of the
    /// 30-minute idle timeout).
    pub session_lifetime: Duration,
    /// A request body must arrive within this time after the request's head (408 otherwise).
    pub body_timeout: Duration,
    /// The time zone in which pages show times of day (the audit log); stored times stay UTC.
    pub time_zone: jiff::tz::TimeZone,
}

/// Default of [`Settings::time_zone`]: the city's own.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";

/// A time-zone name of the IANA database bundled into the binary ("Asia/Tokyo", "UTC").
pub fn time_zone(name: &str) -> Result<jiff::tz::TimeZone, String> {
    jiff::tz::TimeZone::get(name).map_err(|_| format!("unknown time zone {name:?}"))
}

/// Default of [`Settings::session_lifetime`], in hours.
pub const DEFAULT_SESSION_HOURS: u16 = 12;

impl Settings {
    /// Defaults for a database path: the secret sits beside the database, templates and
    /// definitions come from the source tree.
    pub fn for_database(db_path: &Path) -> Self {
        Settings {
            db_path: db_path.to_path_buf(),
            bind: "127.0.0.1:8080".to_string(),
            secret_file: default_secret_file(db_path),
            thresholds: Thresholds::default(),
            templates_dir: source_dir("templates"),
            definitions_dir: source_dir("survey-definitions"),
            base_url: "http://127.0.0.1:8080".to_string(),
            trust_proxy: false,
            secure_cookies: false,
            workers: 0,
            session_lifetime: Duration::from_secs(u64::from(DEFAULT_SESSION_HOURS) * 3600),
            body_timeout: Duration::from_secs(15),
            // The bundled database always has it; UTC only if it were ever missing.
            time_zone: time_zone(DEFAULT_TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC),
        }
    }
}

/// `anshin.db` → `anshin.db.secret`.
pub fn default_secret_file(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".secret");
    PathBuf::from(name)
}

/// A directory of the source tree: `./NAME` when run from the project, else the copy beside
/// the crate's manifest.
fn source_dir(name: &str) -> PathBuf {
    let local = PathBuf::from(name);
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
    }
}
