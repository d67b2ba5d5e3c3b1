//! Forensics: what a copy of the files tells someone who reads their bytes.
//!
//! The attacker here does not use SQLite: [`crate::sqlite_format`] reads page headers, cell
//! pointer arrays and content offsets, the freelist and WAL frames. 60 submissions are made
//! one at a time in a known random order, each recognisable by its answers and its comment.
//! Copies of the files are taken while the wave is open (half-way and at the end), as a
//! backup, after closing, and after purging the codes; each is attacked for
//!
//! - the order of insertion (cell content offsets within a page; first appearance in the
//!   WAL), measured by Kendall's τ against the true order;
//! - a rank join of comments to responses (the i-th comment paired with the i-th response);
//! - with the secret: the order of redemption, and a rank join of used codes to responses;
//! - after the purge: any byte of any code hash, anywhere.
//!
//! The same attack on the storage layout that came before (rows inserted at submission time)
//! must find the order and the join: that is the test of the test.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anshin::codes::InvitationCode;
use anshin::db;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::helpers::{complete_answers, form_body, spawn_app, TestApp};
use crate::sqlite_format::{self as format, Cell};

const SUBMISSIONS: usize = 60;
/// |τ| above this would be an order an attacker could use (the layout before slots gives
/// τ > 0.9). For 30 independent ranks (the half-way copy) τ has a standard deviation of
/// about 0.13, so chance exceeds it in about 1 check in 30,000.
const MAX_ABS_TAU: f64 = 0.55;
/// Correct pairs a rank join may find by chance: for a random pairing the count is about
/// Poisson(1), and 8 or more happen in fewer than 1 run in 100,000.
const MAX_CHANCE_MATCHES: usize = 7;

/// Submission `i`'s answers: the first three items spell `i` in base 5; the rest are 3.
fn recognisable_answers(i: usize) -> Vec<(String, String)> {
    let mut pairs = complete_answers(3);
    for (digit, pair) in pairs.iter_mut().take(3).enumerate() {
        pair.1 = ((i / 5usize.pow(digit as u32)) % 5 + 1).to_string();
    }
    pairs
}

/// The bytes Anshin stores for those answers (one byte per item, in item order), for every
/// submission: what the attacker searches for.
fn stored_answers() -> &'static [Vec<u8>] {
    static MARKERS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    MARKERS.get_or_init(|| {
        (0..SUBMISSIONS)
            .map(|i| {
                recognisable_answers(i)
                    .iter()
                    .map(|(_, value)| value.parse::<u8>().expect("number"))
                    .collect()
            })
            .collect()
    })
}

fn comments() -> Vec<Vec<u8>> {
    (0..SUBMISSIONS).map(|i| comment(i).into_bytes()).collect()
}

fn comment(i: usize) -> String {
    format!("鑑識テストのコメント第{i:03}号。")
}

fn job_level(i: usize) -> &'static str {
    // Mostly staff; a handful of managers, who must not be readable as such after closing.
    if i.is_multiple_of(8) {
        "manager"
    } else {
        "staff"
    }
}

/// A copy of the database's files as they were at one moment.
struct Snapshot {
    main: Vec<u8>,
    wal: Vec<u8>,
    shm: Vec<u8>,
}

impl Snapshot {
    fn take(db_path: &Path) -> Snapshot {
        let read = |suffix: &str| {
            let mut path = db_path.as_os_str().to_owned();
            path.push(suffix);
            std::fs::read(PathBuf::from(path)).unwrap_or_default()
        };
        // The WAL first: a checkpoint between the reads moves its frames into the main file,
        // which is then read with them (never neither).
        let wal = read("-wal");
        let shm = read("-shm");
        let main = read("");
        Snapshot { main, wal, shm }
    }

    fn files(&self) -> [(&'static str, &[u8]); 3] {
        [
            ("main file", &self.main),
            ("-wal", &self.wal),
            ("-shm", &self.shm),
        ]
    }
}

/// Which submission a cell holds, recognised by its answers, its comment or its code hash
/// (`needles[i]` belongs to submission `i`).
fn identify(cells: &[Cell], needles: &[Vec<u8>]) -> Vec<(usize, Cell)> {
    cells
        .iter()
        .filter_map(|cell| {
            needles
                .iter()
                .position(|n| format::contains(&cell.local_payload, n))
                .map(|i| (i, cell.clone()))
        })
        .collect()
}

/// Kendall's τ between the true order and the order the file suggests: page by page, and on a
/// page by falling content offset (a lower offset = inserted later). `None` with fewer than
/// 20 pairs to judge by.
fn offset_tau(found: &[(usize, Cell)]) -> Option<f64> {
    let position: HashMap<usize, usize> = suggested_order(found)
        .into_iter()
        .enumerate()
        .map(|(rank, submission)| (submission, rank))
        .collect();
    rank_tau(&position)
}

/// Kendall's τ between the true order and a position per submission (ties left out); `None`
/// with fewer than 20 untied pairs.
fn rank_tau(position: &HashMap<usize, usize>) -> Option<f64> {
    let (mut concordant, mut discordant) = (0i64, 0i64);
    for (i, a) in position {
        for (j, b) in position {
            if i < j && a != b {
                if a < b {
                    concordant += 1;
                } else {
                    discordant += 1;
                }
            }
        }
    }
    let pairs = concordant + discordant;
    (pairs >= 20).then(|| (concordant - discordant) as f64 / pairs as f64)
}

/// The submissions in the order the file suggests: page by page, then by falling offset.
fn suggested_order(found: &[(usize, Cell)]) -> Vec<usize> {
    let mut sorted: Vec<&(usize, Cell)> = found.iter().collect();
    sorted.sort_by_key(|(_, cell)| (cell.page, std::cmp::Reverse(cell.content_offset)));
    sorted.iter().map(|(i, _)| *i).collect()
}

/// Pairs the k-th item of one suggested order with the k-th of the other and counts the
/// pairs that really belong together.
fn rank_join_matches(left: &[usize], right: &[usize]) -> usize {
    left.iter().zip(right).filter(|(a, b)| a == b).count()
}

/// What one copy of the files gives away without the secret.
struct Findings {
    responses_found: usize,
    comments_found: usize,
    response_tau: Option<f64>,
    comment_tau: Option<f64>,
    join_matches: usize,
    /// Transactions whose pages the WAL holds, in commit order.
    wal_commits: usize,
    /// Kendall's τ between the true order and the frame in which each submission first
    /// appears in the WAL (over pairs that first appear in different frames).
    wal_tau: Option<f64>,
}

fn attack_without_secret(snapshot: &Snapshot) -> Findings {
    let usable = format::page_size(&snapshot.main);
    let cells = format::row_cells(&snapshot.main);
    let responses = identify(&cells, stored_answers());
    let comment_needles = comments();
    let comments = identify(&cells, &comment_needles);
    // Rows committed but not yet checkpointed are read from the WAL: the attacker has both.
    let mut responses_seen: HashSet<usize> = responses.iter().map(|(i, _)| *i).collect();
    let mut comments_seen: HashSet<usize> = comments.iter().map(|(i, _)| *i).collect();
    let mut first_frame: HashMap<usize, usize> = HashMap::new();
    for (frame, cell) in format::wal_cells(&snapshot.wal, usable) {
        for (i, _) in identify(std::slice::from_ref(&cell), stored_answers()) {
            first_frame.entry(i).or_insert(frame);
            responses_seen.insert(i);
        }
        for (i, _) in identify(std::slice::from_ref(&cell), &comment_needles) {
            comments_seen.insert(i);
        }
    }
    let wal_commits = format::wal_frames(&snapshot.wal)
        .iter()
        .filter(|f| f.commit)
        .count();
    Findings {
        responses_found: responses_seen.len(),
        comments_found: comments_seen.len(),
        response_tau: offset_tau(&responses),
        comment_tau: offset_tau(&comments),
        join_matches: rank_join_matches(&suggested_order(&responses), &suggested_order(&comments)),
        wal_commits,
        wal_tau: rank_tau(&first_frame),
    }
}

fn assert_no_order_and_no_join(what: &str, snapshot: &Snapshot, expected: usize) {
    let found = attack_without_secret(snapshot);
    assert!(
        found.responses_found >= expected && found.comments_found >= expected,
        "{what}: the attack must see the rows to judge them ({} responses, {} comments)",
        found.responses_found,
        found.comments_found
    );
    for (table, tau) in [
        ("responses", found.response_tau),
        ("comments", found.comment_tau),
    ] {
        if let Some(tau) = tau {
            assert!(
                tau.abs() < MAX_ABS_TAU,
                "{what}: {table}' cell offsets follow submission order (τ = {tau:.2})"
            );
        }
    }
    assert!(
        found.join_matches <= MAX_CHANCE_MATCHES,
        "{what}: a rank join paired {} comments with their responses",
        found.join_matches
    );
    // The log holds at most the latest commit or two, never the run of submissions.
    assert!(
        found.wal_commits <= 2,
        "{what}: the WAL holds {} commits in commit order",
        found.wal_commits
    );
    if let Some(tau) = found.wal_tau {
        assert!(
            tau.abs() < MAX_ABS_TAU,
            "{what}: the WAL orders submissions (τ = {tau:.2})"
        );
    }
}

/// With the secret and the issued codes: where each used code's row lies, by redemption.
fn attack_with_secret(snapshot: &Snapshot, hashes_in_order: &[Vec<u8>]) -> (Option<f64>, usize) {
    let cells = format::row_cells(&snapshot.main);
    let codes = identify(&cells, hashes_in_order);
    let responses = identify(&cells, stored_answers());
    (
        offset_tau(&codes),
        rank_join_matches(&suggested_order(&codes), &suggested_order(&responses)),
    )
}

fn hash_bytes_anywhere(snapshot: &Snapshot, hashes: &[Vec<u8>]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, bytes) in snapshot.files() {
        let count = hashes.iter().filter(|h| format::contains(bytes, h)).count();
        if count > 0 {
            found.push(format!("{count} code hashes in the {name}"));
        }
    }
    found
}

async fn submit_all(app: &TestApp, order: &[InvitationCode], halfway: &mut Option<Snapshot>) {
    for (i, code) in order.iter().enumerate() {
        let mut pairs = recognisable_answers(i);
        pairs.push(("job_level".into(), job_level(i).into()));
        pairs.push(("comment".into(), comment(i)));
        let (status, _, _) = app
            .post_form(&format!("/s/{}", code.display_form()), &form_body(&pairs))
            .await;
        assert_eq!(status, 303, "submission {i}");
        if i + 1 == SUBMISSIONS / 2 {
            *halfway = Some(Snapshot::take(&app.db_path));
        }
        quiet_moment(app).await;
    }
}

/// Staff answer one at a time, seconds apart: the writer gets its quiet millisecond after
/// each submission and empties the log, so a copy holds the latest commit at most. (Back to
/// back, faster than that, the log holds at most the last second's commits:
/// `anonymity::the_write_ahead_log_is_emptied_at_least_once_a_second_under_continuous_submissions`.)
async fn quiet_moment(app: &TestApp) {
    assert!(
        app.wal_emptied_within(std::time::Duration::from_secs(2))
            .await,
        "the writer did not empty the log after a quiet moment"
    );
}

#[actix_web::test]
async fn no_copy_of_the_files_tells_the_order_or_joins_comments_to_answers() {
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    let mut codes = app.issue_codes(wave, "T1", SUBMISSIONS + 12);
    app.issue_codes(wave, "T2", 6);
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261130);
    codes.shuffle(&mut rng);
    let order: Vec<InvitationCode> = codes.into_iter().take(SUBMISSIONS).collect();
    let hashes_in_order: Vec<Vec<u8>> = order
        .iter()
        .map(|c| c.keyed_hash(&app.secret).0.to_vec())
        .collect();

    let mut halfway = None;
    submit_all(&app, &order, &mut halfway).await;
    let halfway = halfway.expect("taken");
    // Three answers from the small team T2: below k, they must not stay readable as T2's.
    let small_team = app.issue_codes(wave, "T2", 3);
    for (n, code) in small_team.iter().enumerate() {
        if n > 0 {
            quiet_moment(&app).await;
        }
        let mut pairs = complete_answers(2);
        pairs.push(("job_level".into(), "manager".into()));
        let (status, _, _) = app
            .post_form(&format!("/s/{}", code.display_form()), &form_body(&pairs))
            .await;
        assert_eq!(status, 303);
    }
    let open = Snapshot::take(&app.db_path);
    // The shared-memory index holds page numbers, never a row.
    for needle in stored_answers()
        .iter()
        .chain(&comments())
        .chain(&hashes_in_order)
    {
        assert!(
            !format::contains(&open.shm, needle),
            "a row in the -shm file"
        );
    }
    // Every acknowledged submission is in the main file or, not yet checkpointed, the WAL.
    assert_no_order_and_no_join("open wave, half-way", &halfway, SUBMISSIONS / 2);
    assert_no_order_and_no_join("open wave", &open, SUBMISSIONS);
    // Even with the secret, the main file of the open wave does not order the redemptions.
    let (tau, matches) = attack_with_secret(&open, &hashes_in_order);
    assert!(tau.is_none_or(|t| t.abs() < MAX_ABS_TAU), "τ = {tau:?}");
    assert!(matches <= MAX_CHANCE_MATCHES, "{matches} codes joined");

    // A backup of the open wave.
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = dir.path().join("backup.db");
    db::backup(&app.db_path, &backup).expect("backup");
    let copy = Snapshot::take(&backup);
    assert_no_order_and_no_join("backup", &copy, SUBMISSIONS);

    // Closed: even with the secret and the list of issued codes.
    anshin::waves::close(&mut app.conn(), wave).expect("closed");
    let closed = Snapshot::take(&app.db_path);
    assert_no_order_and_no_join("closed wave", &closed, SUBMISSIONS);
    assert!(closed.wal.is_empty(), "closing empties the WAL");
    assert_no_small_cells(&app, wave);
    assert!(
        format::freelist_pages(&closed.main).is_empty(),
        "closing leaves no freed page behind"
    );
    let (tau, matches) = attack_with_secret(&closed, &hashes_in_order);
    assert!(
        tau.is_none_or(|t| t.abs() < MAX_ABS_TAU),
        "redemption order: τ = {tau:?}"
    );
    assert!(matches <= MAX_CHANCE_MATCHES, "{matches} codes joined");
    // The search below can see hashes: before the purge it finds them.
    assert!(!hash_bytes_anywhere(&closed, &hashes_in_order).is_empty());

    // Purged: no byte of any code hash is left, freed pages included.
    anshin::waves::purge_codes(&mut app.conn(), wave).expect("purged");
    let purged = Snapshot::take(&app.db_path);
    let left = hash_bytes_anywhere(&purged, &hashes_in_order);
    assert!(left.is_empty(), "after purge-codes: {left:?}");
    assert!(format::freelist_pages(&purged.main).is_empty());
    assert_no_order_and_no_join("purged", &purged, SUBMISSIONS);
}

#[derive(QueryableByName)]
struct StoredCell {
    #[diesel(sql_type = diesel::sql_types::Text)]
    workplace: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    job_level: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// After closing, no stored record describes fewer than k people by workplace × job level
/// (below the top of the organisation), and a job level is kept only in cells of k2.
fn assert_no_small_cells(app: &TestApp, wave: i32) {
    let cells: Vec<StoredCell> = diesel::sql_query(
        "SELECT w.code AS workplace, substr(r.job_level, 1, length(r.job_level)) AS job_level, count(*) AS n
         FROM responses r JOIN workplaces w ON w.id = r.workplace_id
         WHERE r.wave_id = ? GROUP BY 1, 2",
    )
    .bind::<diesel::sql_types::Integer, _>(wave)
    .load(&mut app.conn())
    .expect("cells");
    let k = i64::from(app.settings.thresholds.k());
    let k2 = i64::from(app.settings.thresholds.k2());
    for cell in &cells {
        if cell.workplace != "D1" {
            assert!(
                cell.n >= k,
                "{} × {:?}: {}",
                cell.workplace,
                cell.job_level,
                cell.n
            );
        }
        if !cell.job_level.is_empty() {
            assert!(
                cell.n >= k2,
                "{} × {}: {}",
                cell.workplace,
                cell.job_level,
                cell.n
            );
        }
    }
    // The 8 managers of T1 lost their level; T2's three answers now belong to D1.
    let find = |workplace: &str, level: &str| {
        cells
            .iter()
            .find(|c| c.workplace == workplace && c.job_level == level)
            .map(|c| c.n)
    };
    assert_eq!(find("T1", "staff"), Some(52));
    assert_eq!(find("T1", ""), Some(8));
    assert_eq!(find("T2", ""), None);
    assert_eq!(find("D1", ""), Some(3));
}

/// The storage layout before slots: rows inserted at submission time with random keys, an
/// index holding `used`, no secure_delete, no rebuild. The same attack must see through it.
#[test]
fn the_attack_finds_the_order_in_the_layout_that_came_before() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("before.db");
    let mut conn = SqliteConnection::establish(path.to_str().expect("utf-8")).expect("open");
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE invitation_codes (code_hash BLOB PRIMARY KEY, wave_id INTEGER,
           workplace_id INTEGER, used BOOLEAN NOT NULL DEFAULT 0) WITHOUT ROWID;
         CREATE INDEX invitation_codes_by_wave ON invitation_codes(wave_id, workplace_id, used);
         CREATE TABLE responses (wave_id INTEGER, id BLOB, workplace_id INTEGER, job_level TEXT,
           answers BLOB, PRIMARY KEY (wave_id, id)) WITHOUT ROWID;
         CREATE TABLE comments (wave_id INTEGER, id BLOB, workplace_id INTEGER, body TEXT,
           PRIMARY KEY (wave_id, id)) WITHOUT ROWID;",
    )
    .expect("old schema");
    // 40 rows fit on one page each: a page split would re-pack cells in key order.
    const ROWS: usize = 40;
    let hashes: Vec<Vec<u8>> = (0..ROWS)
        .map(|_| uuid::Uuid::new_v4().as_bytes().repeat(2))
        .collect();
    for hash in &hashes {
        diesel::sql_query(
            "INSERT INTO invitation_codes (code_hash, wave_id, workplace_id) VALUES (?, 1, 1)",
        )
        .bind::<diesel::sql_types::Binary, _>(hash)
        .execute(&mut conn)
        .expect("code");
    }
    for (i, hash) in hashes.iter().enumerate() {
        conn.transaction(|conn| {
            diesel::sql_query("UPDATE invitation_codes SET used = 1 WHERE code_hash = ?")
                .bind::<diesel::sql_types::Binary, _>(hash)
                .execute(conn)?;
            diesel::sql_query("INSERT INTO responses VALUES (1, ?, 1, ?, ?)")
                .bind::<diesel::sql_types::Binary, _>(uuid::Uuid::new_v4().as_bytes().to_vec())
                .bind::<diesel::sql_types::Text, _>(job_level(i))
                .bind::<diesel::sql_types::Binary, _>(&stored_answers()[i])
                .execute(conn)?;
            diesel::sql_query("INSERT INTO comments VALUES (1, ?, 1, ?)")
                .bind::<diesel::sql_types::Binary, _>(uuid::Uuid::new_v4().as_bytes().to_vec())
                .bind::<diesel::sql_types::Text, _>(comment(i))
                .execute(conn)
        })
        .expect("submission");
    }
    // The open wave's WAL: every submission, in commit order.
    let open = Snapshot::take(&path);
    let found = attack_without_secret(&open);
    assert!(found.wal_commits >= ROWS, "{}", found.wal_commits);
    let tau = found.wal_tau.expect("every submission in the WAL");
    assert!(tau > 0.9, "WAL: τ = {tau:.2}");

    // The main file after the checkpoint that closing used to run.
    conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    let closed = Snapshot::take(&path);
    let found = attack_without_secret(&closed);
    let tau = found.response_tau.expect("pairs on one page");
    assert!(tau > 0.9, "responses: τ = {tau:.2}");
    let tau = found.comment_tau.expect("pairs on one page");
    assert!(tau > 0.9, "comments: τ = {tau:.2}");
    assert!(
        found.join_matches >= ROWS - 2,
        "rank join: {}",
        found.join_matches
    );

    // Purging deleted rows whose bytes stayed in freed space.
    conn.batch_execute("DELETE FROM invitation_codes; PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("purge");
    let purged = Snapshot::take(&path);
    assert!(!hash_bytes_anywhere(&purged, &hashes).is_empty());
}
