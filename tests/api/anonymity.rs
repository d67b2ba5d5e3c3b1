//! Anonymity of collection: nothing stored or logged lets anyone tie a code, a person or a
//! moment to a response.

use diesel::prelude::*;
use diesel::sql_types::Text;

use anshin::collection::answers;
use anshin::db::schema::responses;
use anshin::secret::ServerSecret;
use anshin::settings::default_secret_file;

use crate::helpers::{
    complete_answers, connect, form_body, issue_codes, open_wave, seed_org, spawn_app,
    temp_database, test_settings, ServerProcess,
};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Spearman's rank correlation of a permutation against 0..n.
fn rank_correlation(order: &[usize]) -> f64 {
    let n = order.len() as f64;
    let d2: f64 = order
        .iter()
        .enumerate()
        .map(|(position, &index)| (position as f64 - index as f64).powi(2))
        .sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

#[test]
fn responses_hold_no_code_time_or_client_columns() {
    let (_dir, db) = temp_database();
    let mut conn = connect(&db);
    for table in ["responses", "comments"] {
        let columns: Vec<String> =
            diesel::sql_query(format!("SELECT name FROM pragma_table_info('{table}')"))
                .load::<Column>(&mut conn)
                .expect("columns")
                .into_iter()
                .map(|c| c.name)
                .collect();
        for forbidden in [
            "code",
            "code_hash",
            "created_at",
            "submitted_at",
            "ip",
            "user_agent",
            "timestamp",
        ] {
            assert!(
                !columns.iter().any(|c| c.contains(forbidden)),
                "{table} has {forbidden}: {columns:?}"
            );
        }
        // WITHOUT ROWID: no hidden insertion counter either.
        assert!(
            diesel::sql_query(format!("SELECT rowid FROM {table}"))
                .execute(&mut conn)
                .is_err(),
            "{table} has a rowid"
        );
    }
}

#[actix_web::test]
async fn stored_order_and_ids_reveal_nothing_about_submission_order() {
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    const N: usize = 100;
    let codes = app.issue_codes(wave, "T1", N);
    // Submission i is recognisable by its first three answers (5 × 5 × 5 patterns).
    for (i, code) in codes.iter().enumerate() {
        let mut pairs = complete_answers(3);
        for (slot, pair) in pairs.iter_mut().take(3).enumerate() {
            pair.1 = ((i / 5usize.pow(slot as u32)) % 5 + 1).to_string();
        }
        let (status, _, _) = app
            .post_form(&format!("/s/{}", code.display_form()), &form_body(&pairs))
            .await;
        assert_eq!(status, 303);
    }
    let submission_of = |bytes: &[u8]| {
        let a = answers::decode(bytes);
        (0..3)
            .map(|slot| (usize::from(a[slot].expect("answered")) - 1) * 5usize.pow(slot as u32))
            .sum::<usize>()
    };
    let mut conn = app.conn();
    // Physical (storage) order, as someone reading the file would see it.
    let physical: Vec<Vec<u8>> = diesel::sql_query("SELECT answers FROM responses")
        .load::<AnswersRow>(&mut conn)
        .expect("rows")
        .into_iter()
        .map(|r| r.answers)
        .collect();
    let order: Vec<usize> = physical.iter().map(|b| submission_of(b)).collect();
    assert_eq!(order.len(), N);
    let rho = rank_correlation(&order);
    assert!(
        rho.abs() < 0.5,
        "storage order follows submission order (rho = {rho:.2})"
    );

    // Sorting by id is no better: ids are random, not sequential.
    let by_id: Vec<Vec<u8>> = responses::table
        .order(responses::id)
        .select(responses::answers)
        .load(&mut conn)
        .expect("rows");
    let rho = rank_correlation(&by_id.iter().map(|b| submission_of(b)).collect::<Vec<_>>());
    assert!(
        rho.abs() < 0.5,
        "id order follows submission order (rho = {rho:.2})"
    );

    // The codes table is ordered by keyed hash: the position of each used code says nothing
    // about when it was redeemed.
    let secret = ServerSecret::load_or_create(&app.settings.secret_file).expect("secret");
    let hashes: Vec<Vec<u8>> = codes
        .iter()
        .map(|c| c.keyed_hash(&secret).0.to_vec())
        .collect();
    let stored_hashes: Vec<Vec<u8>> =
        diesel::sql_query("SELECT code_hash AS answers FROM invitation_codes")
            .load::<AnswersRow>(&mut conn)
            .expect("codes")
            .into_iter()
            .map(|r| r.answers)
            .collect();
    let code_order: Vec<usize> = stored_hashes
        .iter()
        .map(|h| hashes.iter().position(|x| x == h).expect("known hash"))
        .collect();
    let rho = rank_correlation(&code_order);
    assert!(
        rho.abs() < 0.5,
        "code storage order follows issue/redemption order (rho = {rho:.2})"
    );
}

#[derive(QueryableByName)]
struct AnswersRow {
    #[diesel(sql_type = diesel::sql_types::Binary)]
    answers: Vec<u8>,
}

/// The write-ahead log keeps recent commits in commit order; the writer empties it as soon as
/// submissions stop, while the server keeps the file open.
#[actix_web::test]
async fn the_write_ahead_log_is_emptied_when_submissions_stop() {
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    for code in app.issue_codes(wave, "T1", 5) {
        let (status, _, _) = app
            .post_form(
                &format!("/s/{}", code.display_form()),
                &form_body(&complete_answers(4)),
            )
            .await;
        assert_eq!(status, 303);
    }
    assert!(
        app.wal_emptied_within(std::time::Duration::from_secs(2))
            .await,
        "the WAL still holds the submissions"
    );
}

/// Submissions back to back, with never a quiet millisecond for the writer: the log still
/// is emptied at least once a second, so a copy of it shows at most the last second's run.
/// A thread watches the file's length; a truncation shows as the length going down.
#[actix_web::test]
async fn the_write_ahead_log_is_emptied_at_least_once_a_second_under_continuous_submissions() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    // More codes than the run can use: it is cut at 3.5 s, not by running out.
    let codes = app.issue_codes(wave, "T1", 30_000);
    let db_path = app.db_path.clone();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let length = || anshin::db::wal_length(&db_path);
            let mut truncations = Vec::new();
            let mut last = length();
            while !stop.load(Ordering::Relaxed) {
                let now = length();
                if now < last {
                    truncations.push(Instant::now());
                }
                last = now;
                std::thread::sleep(Duration::from_millis(1));
            }
            truncations
        })
    };
    let started = Instant::now();
    let body = form_body(&complete_answers(4));
    // Sixteen clients, so that the writer's queue is never empty for a millisecond.
    let clients = codes.chunks(codes.len() / 16).map(|share| {
        let (app, body) = (&app, &body);
        async move {
            let mut submitted = 0;
            for code in share {
                if started.elapsed() >= Duration::from_millis(3500) {
                    break;
                }
                let path = format!("/s/{}", code.display_form());
                let (status, _, _) = app.post_form(&path, body).await;
                assert_eq!(status, 303);
                submitted += 1;
            }
            submitted
        }
    });
    let submitted: usize = futures_util::future::join_all(clients)
        .await
        .into_iter()
        .sum();
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let truncations = watcher.join().expect("watcher");
    assert!(
        ended - started >= Duration::from_secs(3),
        "the run must last long enough to judge ({submitted} submissions)"
    );
    // From the start, between truncations and to the end: never much more than a second
    // (the bound is checked after a commit, and emptying the log takes a few syncs).
    let mut marks = vec![started];
    marks.extend(truncations.iter().copied());
    marks.push(ended);
    let longest = marks
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .max()
        .unwrap_or_default();
    assert!(
        longest < Duration::from_millis(1600),
        "the log went {longest:?} without being emptied ({} truncations, {submitted} submissions)",
        truncations.len()
    );
}

/// A log line with its terminal colours removed.
fn plain(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for end in chars.by_ref() {
                if end.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The size of a survey form tells how long its comment was and how many items were left
/// out: no survey line carries a size, and the libraries that would print request details
/// stay quiet even when `RUST_LOG=trace` asks for everything.
#[actix_web::test]
async fn survey_routes_log_no_sizes_and_libraries_stay_quiet_under_trace() {
    let (dir, db) = temp_database();
    let settings = test_settings(&db);
    seed_org(&db);
    let wave = open_wave(&db, &settings);
    let secret = ServerSecret::load_or_create(&default_secret_file(&db)).expect("secret");
    let codes = issue_codes(&db, &secret, wave, "T1", 3);
    let server = ServerProcess::start(&db, "trace");
    let client = awc::Client::builder().disable_redirects().finish();
    let mut pairs = complete_answers(4);
    pairs.push(("comment".into(), "長いコメント".repeat(150)));
    let mut short = complete_answers(2);
    short.truncate(10);
    let mut sent = Vec::new();
    for (code, body) in [
        (&codes[0], form_body(&short)),
        (&codes[1], form_body(&pairs)),
        (&codes[2], "x".repeat(200_000)),
    ] {
        let mut response = client
            .post(format!("{}/s/{}", server.address, code.display_form()))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .send_body(body.clone())
            .await
            .expect("POST");
        let page = response.body().await.expect("body");
        sent.push((body.len(), page.len(), response.status().as_u16()));
    }
    assert_eq!(
        sent.iter().map(|s| s.2).collect::<Vec<_>>(),
        [400, 303, 413]
    );
    let log = server.stop_and_read_log();
    let lines: Vec<String> = log.lines().map(plain).collect();
    let survey_lines: Vec<&String> = lines.iter().filter(|l| l.contains("/s/{code}")).collect();
    assert_eq!(survey_lines.len(), 3, "{log}");
    for line in survey_lines {
        // "… POST /s/{code} 400 1.234567ms": the status and the time, nothing else.
        let tail = line.split("/s/{code} ").nth(1).expect("tail");
        let fields: Vec<&str> = tail.split_whitespace().collect();
        assert_eq!(fields.len(), 2, "{line}");
        assert!(fields[1].ends_with("ms"), "{line}");
    }
    for (request, page, _) in &sent {
        // Sizes of a few digits would also match times and ports: judge the telling ones.
        for size in [request, page].into_iter().filter(|s| **s >= 1_000) {
            let token = size.to_string();
            assert!(
                !lines
                    .iter()
                    .any(|l| l.split(|c: char| !c.is_ascii_digit()).any(|t| t == token)),
                "a size ({token}) reached the log"
            );
        }
    }
    for line in &lines {
        let library_detail = [" DEBUG ", " TRACE "]
            .iter()
            .any(|level| line.contains(level))
            && !line.contains(" anshin");
        assert!(!library_detail, "a library logged request details: {line}");
    }
    drop(dir);
}

#[actix_web::test]
async fn no_code_and_no_answer_reaches_the_log() {
    let (dir, db) = temp_database();
    let settings = test_settings(&db);
    seed_org(&db);
    let wave = open_wave(&db, &settings);
    let secret = ServerSecret::load_or_create(&default_secret_file(&db)).expect("secret");
    let codes = issue_codes(&db, &secret, wave, "T1", 4);
    let server = ServerProcess::start(&db, "trace");
    let client = awc::Client::builder().disable_redirects().finish();
    let comment_marker = "ログ漏えい検査用のコメント";
    let post = |path: String, body: String| {
        let client = client.clone();
        async move {
            client
                .post(path)
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .send_body(body)
                .await
                .expect("POST")
                .status()
                .as_u16()
        }
    };
    let mut pairs = complete_answers(4);
    pairs.push(("comment".into(), comment_marker.into()));
    pairs.push(("job_level".into(), "chief_clerk".into()));
    // A link visit, a valid submission, a rejected one, one through the start page, a reuse.
    let status = client
        .get(format!("{}/s/{}", server.address, codes[0].display_form()))
        .send()
        .await
        .expect("GET")
        .status();
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        post(
            format!("{}/s/{}", server.address, codes[0].display_form()),
            form_body(&pairs)
        )
        .await,
        303
    );
    let mut invalid = pairs.clone();
    invalid[0].1 = "77".into();
    assert_eq!(
        post(
            format!("{}/s/{}", server.address, codes[1].display_form()),
            form_body(&invalid)
        )
        .await,
        400
    );
    let mut via_start = pairs.clone();
    via_start.push(("code".into(), codes[2].display_form()));
    via_start.push(("step".into(), "answers".into()));
    assert_eq!(
        post(format!("{}/s", server.address), form_body(&via_start)).await,
        303
    );
    assert_eq!(
        post(
            format!("{}/s/{}", server.address, codes[0].display_form()),
            form_body(&pairs)
        )
        .await,
        409
    );
    let log = server.stop_and_read_log();

    assert!(
        log.contains("/s/{code}"),
        "the access log runs, redacted: {log}"
    );
    for code in &codes {
        let display = code.display_form();
        assert!(!log.contains(&display), "a code reached the log");
        assert!(
            !log.contains(&display.replace('-', "")),
            "a code reached the log"
        );
    }
    assert!(!log.contains(comment_marker), "a comment reached the log");
    assert!(!log.contains("chief_clerk"), "an answer reached the log");
    assert!(!log.contains("eng1="), "a form body reached the log");
    drop(dir);
}
