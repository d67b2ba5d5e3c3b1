//! The command line: migrations, waves, codes and accounts through the real binary.

use diesel::prelude::*;

use anshin::db::schema::{accounts, invitation_codes};

use crate::helpers::{anshin, connect, stderr, stdout};

#[test]
fn migrate_creates_the_schema_on_an_empty_file_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("fresh.db");
    let db = db.to_str().expect("utf-8 path");
    let first = anshin(&["--db", db, "migrate"], None);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("5 migration(s) applied"));
    let second = anshin(&["--db", db, "migrate"], None);
    assert!(stdout(&second).contains("0 migration(s) applied"));

    let mut conn = connect(std::path::Path::new(db));
    let journal: Vec<String> = diesel::sql_query("PRAGMA journal_mode")
        .load::<JournalMode>(&mut conn)
        .expect("pragma")
        .into_iter()
        .map(|r| r.journal_mode)
        .collect();
    assert_eq!(journal, ["wal"]);
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

#[test]
fn a_wave_lifecycle_through_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("anshin.db");
    let db = db_path.to_str().expect("utf-8 path");
    let org = dir.path().join("org.csv");
    std::fs::write(
        &org,
        "code,name,parent_code,headcount\nD1,総務部,,\nT1,職員係,D1,8\n",
    )
    .expect("write");

    let output = anshin(
        &["--db", db, "org", "import", org.to_str().expect("path")],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let output = anshin(
        &[
            "--db",
            db,
            "wave",
            "create",
            "--survey",
            "workplace-climate",
            "--name",
            "2026年度",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let wave_id = stdout(&output).trim().to_string();
    assert_eq!(wave_id, "1");

    let out = dir.path().join("codes.csv");
    let output = anshin(
        &[
            "--db",
            db,
            "codes",
            "issue",
            "--wave",
            "1",
            "--workplace",
            "T1",
            "--count",
            "25",
            "--out",
            out.to_str().expect("path"),
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let csv = std::fs::read_to_string(&out).expect("codes file");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "workplace,code,url");
    assert_eq!(lines.len(), 26);
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(fields[0], "T1");
    assert_eq!(fields[1].len(), 19, "four groups of four symbols");
    assert!(fields[2].ends_with(&format!("/s/{}", fields[1])));
    // Only keyed hashes are stored: no printed code appears in the database file.
    let raw = std::fs::read(&db_path).expect("db bytes");
    let wal = std::fs::read(dir.path().join("anshin.db-wal")).unwrap_or_default();
    for line in &lines[1..] {
        let code = line.split(',').nth(1).expect("code").replace('-', "");
        for bytes in [&raw, &wal] {
            assert!(!bytes.windows(code.len()).any(|w| w == code.as_bytes()));
        }
    }
    let stored: i64 = invitation_codes::table
        .count()
        .get_result(&mut connect(&db_path))
        .expect("count");
    assert_eq!(stored, 25);

    let output = anshin(
        &[
            "--db",
            db,
            "codes",
            "issue",
            "--wave",
            "1",
            "--workplace",
            "NOPE",
            "--count",
            "5",
            "--out",
            "x.csv",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("unknown workplace \"NOPE\""));

    let output = anshin(&["--db", db, "wave", "close", "1"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = anshin(&["--db", db, "wave", "list"], None);
    assert!(stdout(&output).contains("closed"), "{}", stdout(&output));
    let output = anshin(&["--db", db, "wave", "close", "1"], None);
    assert!(stderr(&output).contains("already closed"));
}

#[test]
fn k_below_three_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("anshin.db");
    let output = anshin(
        &[
            "--db",
            db.to_str().expect("path"),
            "wave",
            "create",
            "--survey",
            "workplace-climate",
            "--name",
            "x",
            "--k",
            "2",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("below the minimum of 3"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn user_add_stores_an_argon2id_hash_read_from_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("anshin.db");
    let db = db_path.to_str().expect("path");
    let org = dir.path().join("org.csv");
    std::fs::write(&org, "D1,総務部,\n").expect("write");
    assert!(anshin(
        &["--db", db, "org", "import", org.to_str().expect("path")],
        None
    )
    .status
    .success());

    let output = anshin(
        &[
            "--db",
            db,
            "user",
            "add",
            "--login",
            "hr1",
            "--role",
            "hr",
            "--password-stdin",
        ],
        Some("a long passphrase\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let output = anshin(
        &[
            "--db",
            db,
            "user",
            "add",
            "--login",
            "m1",
            "--role",
            "manager",
            "--workplace",
            "D1",
            "--password-stdin",
        ],
        Some("another passphrase\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let output = anshin(
        &[
            "--db",
            db,
            "user",
            "add",
            "--login",
            "m2",
            "--role",
            "manager",
            "--password-stdin",
        ],
        Some("another passphrase\n"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("at least one workplace"));

    let hashes: Vec<String> = accounts::table
        .select(accounts::password_hash)
        .load(&mut connect(&db_path))
        .expect("accounts");
    assert_eq!(hashes.len(), 2);
    for hash in &hashes {
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(anshin::accounts::verify_password(
            "a long passphrase",
            &hashes[0]
        ));
    }
}

#[actix_web::test]
async fn backup_copies_a_serving_database_and_closed_waves_can_drop_their_codes() {
    use crate::helpers::{complete_answers, form_body, spawn_app};
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    for code in app.issue_codes(wave, "T1", 6) {
        let (status, _, _) = app
            .post_form(
                &format!("/s/{}", code.display_form()),
                &form_body(&complete_answers(4)),
            )
            .await;
        assert_eq!(status, 303);
    }
    let db = app.db_path.to_str().expect("path");
    let copy = app.db_path.with_file_name("backup.db");
    let output = anshin(
        &["--db", db, "backup", "--out", copy.to_str().expect("path")],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let stored: i64 = anshin::db::schema::responses::table
        .count()
        .get_result(&mut connect(&copy))
        .expect("count");
    assert_eq!(stored, 6, "the copy holds every committed response");
    let again = anshin(
        &["--db", db, "backup", "--out", copy.to_str().expect("path")],
        None,
    );
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing file is never overwritten"
    );

    let output = anshin(
        &["--db", db, "wave", "purge-codes", &wave.to_string()],
        None,
    );
    assert!(
        stderr(&output).contains("still open"),
        "{}",
        stderr(&output)
    );
    anshin::waves::close(&mut app.conn(), wave).expect("closed");
    let output = anshin(
        &["--db", db, "wave", "purge-codes", &wave.to_string()],
        None,
    );
    assert!(
        stdout(&output).contains("6 code hashes deleted"),
        "{}",
        stdout(&output)
    );
    let codes: i64 = invitation_codes::table
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    let responses: i64 = anshin::db::schema::responses::table
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!((codes, responses), (0, 6), "responses stay");
}
