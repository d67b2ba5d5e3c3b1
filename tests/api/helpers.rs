//! Test fixtures: a real server on a free port over a real SQLite file in a temp directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anshin::codes::{self, InvitationCode};
use anshin::db;
use anshin::org;
use anshin::secret::ServerSecret;
use anshin::settings::Settings;
use anshin::waves;
use diesel::SqliteConnection;

pub const DEFAULT_SURVEY: &str = "workplace-climate";

pub struct TestApp {
    pub address: String,
    pub db_path: PathBuf,
    pub settings: Settings,
    pub secret: ServerSecret,
    pub client: awc::Client,
    // Dropped last: removes the database and secret.
    _dir: tempfile::TempDir,
}

/// A database with migrations applied, without a server.
pub fn temp_database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("anshin.db");
    db::migrate(&path).expect("migrations apply");
    (dir, path)
}

pub fn connect(path: &Path) -> SqliteConnection {
    db::connect(path).expect("connect")
}

pub fn test_settings(db_path: &Path) -> Settings {
    let mut settings = Settings::for_database(db_path);
    settings.bind = "127.0.0.1:0".to_string();
    settings.workers = 2;
    settings
}

/// Starts the real application on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with settings changed by `configure` (a short session lifetime, say).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (dir, db_path) = temp_database();
    let mut settings = test_settings(&db_path);
    configure(&mut settings);
    let secret = ServerSecret::load_or_create(&settings.secret_file).expect("secret");
    let app = anshin::web::startup::Application::build(settings.clone()).expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    // actix-web closes an idle keep-alive connection after 5 s; awc would reuse a pooled one for
    // 15 s and read EOF ("Disconnected") when a test pauses longer on a loaded machine.
    let connector = awc::Connector::new().conn_keep_alive(std::time::Duration::from_secs(2));
    let client = awc::Client::builder()
        .connector(connector)
        .disable_redirects()
        .timeout(std::time::Duration::from_secs(30))
        .finish();
    TestApp {
        address,
        db_path,
        settings,
        secret,
        client,
        _dir: dir,
    }
}

impl TestApp {
    pub fn conn(&self) -> SqliteConnection {
        connect(&self.db_path)
    }

    /// Imports a small organisation: one department with two teams.
    pub fn seed_org(&self) {
        seed_org(&self.db_path);
    }

    /// Opens a wave of the default instrument; returns its id.
    pub fn open_wave(&self) -> i32 {
        open_wave(&self.db_path, &self.settings)
    }

    /// Issues `count` codes for a workplace and returns them (as a person would have them).
    pub fn issue_codes(&self, wave_id: i32, workplace: &str, count: usize) -> Vec<InvitationCode> {
        issue_codes(&self.db_path, &self.secret, wave_id, workplace, count)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GET without a session (a staff member's browser).
    pub async fn get(&self, path: &str) -> (u16, String) {
        Browser::new(self).get(path).await
    }

    /// Imports an organisation CSV (code,name,parent,headcount rows).
    pub fn import_org(&self, csv: &str) {
        let rows = anshin::org::parse_csv(csv.as_bytes()).expect("org");
        anshin::org::import(&mut self.conn(), &rows).expect("imported");
    }

    /// One closed wave where `teams` (workplace, responses) answer `answer` to everything.
    pub async fn closed_wave_of(&self, teams: &[(&str, usize)], answer: u8) -> i32 {
        let wave = self.open_wave();
        for (team, count) in teams {
            for code in self.issue_codes(wave, team, *count) {
                let body = form_body(&complete_answers(answer));
                let path = format!("/s/{}", code.display_form());
                let (status, _, _) = self.post_form(&path, &body).await;
                assert_eq!(status, 303);
            }
        }
        anshin::waves::close(&mut self.conn(), wave).expect("closed");
        wave
    }

    /// The length of the database's write-ahead log: 0 once the writer has emptied it.
    pub fn wal_length(&self) -> u64 {
        db::wal_length(&self.db_path)
    }

    /// Waits until the writer has emptied the write-ahead log; false if it still holds
    /// something after `within`.
    pub async fn wal_emptied_within(&self, within: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        while self.wal_length() > 0 {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        true
    }

    /// POSTs an urlencoded body without a session; returns status, Location and body.
    pub async fn post_form(&self, path: &str, body: &str) -> (u16, Option<String>, String) {
        Browser::new(self).post(path, body).await
    }
}

pub fn seed_org(db_path: &Path) {
    let rows = org::parse_csv("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,9\n".as_bytes())
        .expect("valid org");
    org::import(&mut connect(db_path), &rows).expect("org imported");
}

pub fn open_wave(db_path: &Path, settings: &Settings) -> i32 {
    let (text, origin) =
        waves::definition_source(&settings.definitions_dir, DEFAULT_SURVEY).expect("definition");
    waves::create(
        &mut connect(db_path),
        "2026年度",
        &text,
        &origin,
        settings.thresholds,
        None,
    )
    .expect("wave created")
    .id
}

pub fn issue_codes(
    db_path: &Path,
    secret: &ServerSecret,
    wave_id: i32,
    workplace: &str,
    count: usize,
) -> Vec<InvitationCode> {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("codes.csv");
    let request = codes::IssueRequest {
        wave_id,
        workplace_code: workplace,
        count,
        base_url: "http://test",
    };
    codes::issue_to_file(&mut connect(db_path), secret, &request, &out, |_| {})
        .expect("codes issued");
    let mut reader = csv::Reader::from_path(&out).expect("codes csv");
    reader
        .records()
        .map(|r| InvitationCode::parse(&r.expect("record")[1]).expect("valid code"))
        .collect()
}

/// A complete, valid answer set for the default instrument: every item answered `value`
/// (the 0–10 item gets `value * 2`).
pub fn complete_answers(value: u8) -> Vec<(String, String)> {
    let definition = anshin::survey::load_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions/workplace-climate.toml"),
    )
    .expect("default instrument");
    definition
        .items
        .iter()
        .map(|item| {
            let scale = definition.scale_of(item);
            let v = if scale.max == 10 { value * 2 } else { value };
            (item.id.clone(), v.to_string())
        })
        .collect()
}

pub fn form_body(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).expect("encodable")
}

/// Runs the `anshin` binary with arguments and optional standard input.
pub fn anshin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_anshin"));
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("anshin runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("anshin finishes")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The real `anshin serve` process, for tests that read its logs or kill it.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub address: String,
    pub log_path: PathBuf,
    // The log lives apart from the database, whose file system a test may fill or break.
    _log_dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `anshin serve` on a free port with `RUST_LOG=log_level`, logging to a file.
    pub fn start(db_path: &Path, log_level: &str) -> ServerProcess {
        ServerProcess::start_with(db_path, log_level, &[])
    }

    /// [`ServerProcess::start`] with more `serve` flags (e.g. `--trust-proxy`).
    pub fn start_with(db_path: &Path, log_level: &str, flags: &[&str]) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log_dir = tempfile::tempdir().expect("log dir");
        let log_path = log_dir.path().join("anshin.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_anshin"))
            .args([
                "--db",
                db_path.to_str().expect("path"),
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "2",
            ])
            .args(flags)
            .env("RUST_LOG", log_level)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("server starts");
        let server = ServerProcess {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log_path,
            _log_dir: log_dir,
        };
        server.wait_until_healthy();
        server
    }

    fn wait_until_healthy(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(mut stream) =
                std::net::TcpStream::connect(self.address.trim_start_matches("http://"))
            {
                use std::io::{Read, Write};
                let _ = stream
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut reply = String::new();
                let _ = stream.read_to_string(&mut reply);
                if reply.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the server did not become healthy");
    }

    /// Stops the server politely (SIGTERM) and returns everything it logged.
    pub fn stop_and_read_log(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log_path).expect("log")
    }

    /// SIGKILL: no chance to flush or finish anything.
    pub fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub const TEST_PASSWORD: &str = "correct horse battery staple";

/// Adds an account with [`TEST_PASSWORD`] (role "hr" or "manager").
pub fn add_account(app: &TestApp, login: &str, role: &str, workplaces: &[&str]) {
    let role = anshin::accounts::Role::parse(role).expect("role");
    let workplaces: Vec<String> = workplaces.iter().map(|w| w.to_string()).collect();
    anshin::accounts::add_user(&mut app.conn(), login, role, TEST_PASSWORD, &workplaces)
        .expect("account added");
}

/// A client that keeps the session cookie, like a browser would.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    cookie: std::cell::RefCell<Option<String>>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookie: std::cell::RefCell::new(None),
        }
    }

    /// Whether the server has set a dashboard session cookie.
    pub fn has_session(&self) -> bool {
        self.cookie.borrow().is_some()
    }

    /// The session cookie as sent (`anshin_session=…`), to replay it elsewhere.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.borrow().clone()
    }

    /// A browser holding a copy of another's session cookie.
    pub fn with_cookie(app: &'a TestApp, cookie: String) -> Browser<'a> {
        Browser {
            app,
            cookie: std::cell::RefCell::new(Some(cookie)),
        }
    }

    /// Signs in with [`TEST_PASSWORD`]; panics if that fails.
    pub async fn sign_in(app: &'a TestApp, login: &str) -> Browser<'a> {
        let browser = Browser::new(app);
        let (status, location, _) = browser.submit_login(login, TEST_PASSWORD).await;
        assert_eq!(
            (status, location.as_deref()),
            (303, Some("/dashboard")),
            "signed in as {login}"
        );
        browser
    }

    /// Opens the login page and posts the form with its CSRF token.
    pub async fn submit_login(&self, login: &str, password: &str) -> (u16, Option<String>, String) {
        let (_, page) = self.get("/login").await;
        let csrf = csrf_token(&page);
        let body = form_body(&[
            ("login".to_string(), login.to_string()),
            ("password".to_string(), password.to_string()),
            ("csrf".to_string(), csrf),
        ]);
        self.post("/login", &body).await
    }

    fn remember(&self, response: &awc::ClientResponse<impl futures_util::Stream>) {
        for value in response.headers().get_all("set-cookie") {
            if let Some(pair) = value.to_str().ok().and_then(|v| v.split(';').next()) {
                if pair.starts_with("anshin_session=") {
                    *self.cookie.borrow_mut() = Some(pair.to_string());
                }
            }
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let mut request = self.app.client.get(self.app.url(path));
        if let Some(cookie) = self.cookie.borrow().clone() {
            request = request.insert_header(("cookie", cookie));
        }
        let mut response = request.send().await.expect("GET");
        self.remember(&response);
        let body = response.body().limit(50 << 20).await.expect("body");
        (
            response.status().as_u16(),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    pub async fn post(&self, path: &str, body: &str) -> (u16, Option<String>, String) {
        let mut request = self
            .app
            .client
            .post(self.app.url(path))
            .insert_header(("content-type", "application/x-www-form-urlencoded"));
        if let Some(cookie) = self.cookie.borrow().clone() {
            request = request.insert_header(("cookie", cookie));
        }
        let mut response = request.send_body(body.to_string()).await.expect("POST");
        self.remember(&response);
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.body().limit(10 << 20).await.expect("body");
        (
            response.status().as_u16(),
            location,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }
}

/// The CSRF token of the first form on a page.
pub fn csrf_token(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[start..].split('"').next().expect("token").to_string()
}

#[derive(diesel::QueryableByName)]
struct IntegrityCheckRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

/// SQLite's own verdict on the file: "ok", or what is broken.
pub fn integrity_check(conn: &mut SqliteConnection) -> String {
    use diesel::RunQueryDsl;
    let rows: Vec<IntegrityCheckRow> = diesel::sql_query("PRAGMA integrity_check")
        .load(conn)
        .expect("integrity_check runs");
    rows.into_iter()
        .map(|row| row.integrity_check)
        .collect::<Vec<_>>()
        .join("; ")
}
