//! Faults of the disk under a running server: the disk fills up, and the kernel turns the file
//! system read-only after an error. Either way a submission is refused with a clear 503, the
//! person gets their answers back to resend, no code is consumed, and nothing acknowledged is
//! lost.
//!
//! Both need a file system of their own: a small ext4 image on a loop device, mounted with
//! `errors=remount-ro` as servers usually are. That takes root; without it the tests say so and
//! pass, unless `ANSHIN_FAULTS=required` (set by `.ci/run` where loop mounts work).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::prelude::*;

use anshin::codes::InvitationCode;
use anshin::db::schema::{invitation_codes, responses};
use anshin::secret::ServerSecret;
use anshin::settings::default_secret_file;

use crate::helpers::{
    complete_answers, connect, form_body, integrity_check, issue_codes, open_wave, seed_org,
    test_settings, ServerProcess,
};

const IMAGE_BYTES: u64 = 32 * 1024 * 1024;

/// An ext4 image mounted through a loop device; unmounted when dropped.
struct LoopFilesystem {
    dir: tempfile::TempDir,
    mount_point: PathBuf,
}

impl LoopFilesystem {
    /// Creates and mounts the file system, or explains why it cannot (and the test is skipped).
    fn mount(test: &str) -> Option<LoopFilesystem> {
        let dir = tempfile::tempdir().expect("temp dir");
        let filesystem = LoopFilesystem {
            mount_point: dir.path().join("mnt"),
            dir,
        };
        let prepared = std::fs::File::create(filesystem.image())
            .and_then(|image| image.set_len(IMAGE_BYTES))
            .map_err(|e| e.to_string())
            .and_then(|()| std::fs::create_dir(&filesystem.mount_point).map_err(|e| e.to_string()))
            .and_then(|()| run("mkfs.ext4", &["-q", "-F", path_str(&filesystem.image())]))
            .and_then(|()| filesystem.mount_image());
        match prepared {
            Ok(()) => Some(filesystem),
            Err(why) if std::env::var("ANSHIN_FAULTS").as_deref() == Ok("required") => {
                panic!("{test}: cannot mount a loop file system: {why}")
            }
            Err(why) => {
                eprintln!("{test}: skipped, cannot mount a loop file system ({why})");
                None
            }
        }
    }

    fn image(&self) -> PathBuf {
        self.dir.path().join("fs.img")
    }

    fn mount_image(&self) -> Result<(), String> {
        run(
            "mount",
            &[
                "-o",
                "loop,errors=remount-ro",
                path_str(&self.image()),
                path_str(&self.mount_point),
            ],
        )
    }

    fn path(&self, name: &str) -> PathBuf {
        self.mount_point.join(name)
    }

    /// Writes a file until the disk is full; returns it.
    fn fill(&self) -> PathBuf {
        let filler = self.path("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        for chunk in [64 * 1024, 4096, 512, 1] {
            let bytes = vec![0u8; chunk];
            while file.write_all(&bytes).and_then(|()| file.flush()).is_ok() {}
        }
        let _ = file.sync_all();
        filler
    }

    /// Makes ext4 report an error, as a failing disk would: with `errors=remount-ro` the
    /// kernel turns the mounted file system read-only at once, open files and all.
    fn fail(&self) {
        let source = Command::new("findmnt")
            .args(["-n", "-o", "SOURCE", path_str(&self.mount_point)])
            .output()
            .expect("findmnt runs");
        let device = String::from_utf8_lossy(&source.stdout).trim().to_string();
        let device = device.trim_start_matches("/dev/");
        std::fs::write(
            format!("/sys/fs/ext4/{device}/trigger_fs_error"),
            "anshin fault test",
        )
        .expect("ext4 error triggered");
        assert!(
            std::fs::File::create(self.path("probe")).is_err(),
            "the file system is read-only now"
        );
    }

    /// What an operator does after such an error: unmount, check, mount again.
    fn repair(&self) {
        run("umount", &[path_str(&self.mount_point)]).expect("unmounted");
        let checked = Command::new("e2fsck")
            .args(["-f", "-y", path_str(&self.image())])
            .output()
            .expect("e2fsck runs");
        // 0: clean, 1 and 2: errors corrected; 4 and above: errors left.
        assert!(
            checked.status.code().is_some_and(|code| code < 4),
            "e2fsck: {}",
            String::from_utf8_lossy(&checked.stdout)
        );
        self.mount_image().expect("mounted again");
    }
}

impl Drop for LoopFilesystem {
    fn drop(&mut self) {
        let _ = run("umount", &["-l", path_str(&self.mount_point)]);
    }
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// A wave with three codes for team T1 in a database on `filesystem`.
async fn wait_for_empty_wal(db: &Path) {
    for _ in 0..500 {
        if anshin::db::wal_length(db) == 0 {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the WAL was not truncated within 5 s of a quiet writer");
}

fn prepare_database(filesystem: &LoopFilesystem) -> (PathBuf, ServerSecret, Vec<InvitationCode>) {
    let db = filesystem.path("anshin.db");
    anshin::db::migrate(&db).expect("migrations apply");
    seed_org(&db);
    let wave = open_wave(&db, &test_settings(&db));
    let secret = ServerSecret::load_or_create(&default_secret_file(&db)).expect("secret");
    let codes = issue_codes(&db, &secret, wave, "T1", 3);
    (db, secret, codes)
}

/// Submits the survey form as a browser does; returns status, Retry-After and body.
async fn submit(server: &ServerProcess, code: &InvitationCode) -> (u16, Option<String>, String) {
    let mut fields = vec![
        ("code".to_string(), code.display_form()),
        ("step".to_string(), "answers".to_string()),
    ];
    fields.extend(complete_answers(4));
    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(std::time::Duration::from_secs(30))
        .finish();
    let mut response = client
        .post(format!("{}/s", server.address))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .send_body(form_body(&fields))
        .await
        .expect("the server answers");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.body().await.expect("body");
    (
        response.status().as_u16(),
        retry_after,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

async fn get_status(server: &ServerProcess, path: &str) -> u16 {
    awc::Client::default()
        .get(format!("{}{path}", server.address))
        .send()
        .await
        .expect("the server answers")
        .status()
        .as_u16()
}

/// The refusal a person sees when their valid answers could not be stored.
fn assert_answers_handed_back(status: u16, retry_after: Option<String>, page: &str) {
    assert_eq!(status, 503, "{page}");
    assert_eq!(retry_after.as_deref(), Some("60"));
    assert!(page.contains("回答はまだ保存されていません"), "{page}");
    assert!(page.contains("コードは使われておらず"), "{page}");
    // Every answer is checked again on the page, ready to resend.
    assert_eq!(page.matches(" checked").count(), complete_answers(4).len());
}

fn code_used(conn: &mut SqliteConnection, secret: &ServerSecret, code: &InvitationCode) -> bool {
    invitation_codes::table
        .find(code.keyed_hash(secret).0.to_vec())
        .select(invitation_codes::used)
        .first(conn)
        .expect("code row")
}

fn stored_responses(conn: &mut SqliteConnection) -> i64 {
    responses::table
        .filter(responses::filled.eq(true))
        .count()
        .get_result(conn)
        .expect("count")
}

#[actix_web::test]
async fn a_full_disk_refuses_with_503_hands_the_answers_back_and_loses_nothing() {
    let Some(filesystem) = LoopFilesystem::mount("disk full") else {
        return;
    };
    let (db, secret, codes) = prepare_database(&filesystem);
    let server = ServerProcess::start(&db, "warn");
    assert_eq!(submit(&server, &codes[0]).await.0, 303);
    // The writer truncates the WAL once it is quiet; until then the next commit could reuse the
    // log's blocks and need no new space. On a loaded machine that takes a while: wait for it.
    wait_for_empty_wal(&db).await;

    let filler = filesystem.fill();
    let (status, retry_after, page) = submit(&server, &codes[1]).await;
    assert_answers_handed_back(status, retry_after, &page);
    // The server stays up and keeps reading: the code still opens its survey.
    assert_eq!(get_status(&server, "/healthz").await, 200);
    assert_eq!(
        get_status(&server, &format!("/s/{}", codes[1].display_form())).await,
        200
    );

    // Space again: the same answers go through with the same code.
    std::fs::remove_file(&filler).expect("filler removed");
    run("sync", &["-f", path_str(&db)]).expect("sync");
    assert_eq!(submit(&server, &codes[1]).await.0, 303);
    let log = server.stop_and_read_log();
    assert!(log.contains("full"), "the cause is logged: {log}");
    for code in &codes {
        assert!(!log.contains(&code.display_form()), "no code in the log");
    }

    let mut conn = connect(&db);
    assert_eq!(integrity_check(&mut conn), "ok");
    assert_eq!(stored_responses(&mut conn), 2);
    assert!(code_used(&mut conn, &secret, &codes[0]));
    assert!(code_used(&mut conn, &secret, &codes[1]));
    assert!(!code_used(&mut conn, &secret, &codes[2]));
}

#[actix_web::test]
async fn a_file_system_turned_read_only_refuses_with_503_and_keeps_every_acknowledged_response() {
    let Some(filesystem) = LoopFilesystem::mount("read-only") else {
        return;
    };
    let (db, secret, codes) = prepare_database(&filesystem);
    let server = ServerProcess::start(&db, "warn");
    // Acknowledged just before the disk fails: it must be on disk already.
    assert_eq!(submit(&server, &codes[0]).await.0, 303);

    filesystem.fail();
    let (status, retry_after, page) = submit(&server, &codes[1]).await;
    assert_answers_handed_back(status, retry_after, &page);
    assert_eq!(
        get_status(&server, &format!("/s/{}", codes[1].display_form())).await,
        200,
        "reading goes on"
    );
    let log = server.stop_and_read_log();
    assert!(
        !log.contains(&codes[1].display_form()),
        "no code in the log"
    );

    filesystem.repair();
    {
        let mut conn = connect(&db);
        assert_eq!(integrity_check(&mut conn), "ok");
        assert_eq!(stored_responses(&mut conn), 1, "the acknowledged response");
        assert!(code_used(&mut conn, &secret, &codes[0]));
        assert!(
            !code_used(&mut conn, &secret, &codes[1]),
            "refused: not consumed"
        );
    }

    // Restarted on the repaired disk, the refused code works.
    let server = ServerProcess::start(&db, "warn");
    assert_eq!(submit(&server, &codes[1]).await.0, 303);
    drop(server);
    assert_eq!(stored_responses(&mut connect(&db)), 2);
}

#[test]
fn a_database_that_cannot_be_written_is_refused_at_start_with_the_reason() {
    let Some(filesystem) = LoopFilesystem::mount("read-only at start") else {
        return;
    };
    let (db, _, _) = prepare_database(&filesystem);
    run(
        "mount",
        &["-o", "remount,ro", path_str(&filesystem.mount_point)],
    )
    .expect("remounted read-only");
    let output = crate::helpers::anshin(
        &["--db", path_str(&db), "serve", "--bind", "127.0.0.1:0"],
        None,
    );
    assert!(!output.status.success());
    let message = crate::helpers::stderr(&output);
    assert!(
        message.contains(&format!("the database {} cannot be written", db.display()))
            && message.contains("Read-only file system")
            && message.contains("mounted read-write"),
        "{message}"
    );
}
