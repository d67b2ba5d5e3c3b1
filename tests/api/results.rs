//! Results end to end: responses submitted over HTTP, then read back through every output.
//! A 4-response team must be absent from the CSV, the JSON and from any parent-minus-children
//! difference.

use crate::helpers::{
    add_account, anshin, complete_answers, form_body, spawn_app, stderr, Browser, TestApp,
};

/// D1 holds T1 (8 responses) and T2 (4 responses).
async fn wave_with_a_small_team(app: &TestApp) -> i32 {
    let rows = anshin::org::parse_csv("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,4\n".as_bytes())
        .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let wave = app.open_wave();
    for (team, count, value) in [("T1", 8, 4), ("T2", 4, 2)] {
        for code in app.issue_codes(wave, team, count) {
            let (status, _, _) = app
                .post_form(
                    &format!("/s/{}", code.display_form()),
                    &form_body(&complete_answers(value)),
                )
                .await;
            assert_eq!(status, 303);
        }
    }
    wave
}

/// `anshin results --format json` of a (closed) wave, parsed.
fn results_json(db: &str, wave: i32) -> serde_json::Value {
    let output = anshin(
        &[
            "--db",
            db,
            "results",
            "--wave",
            &wave.to_string(),
            "--format",
            "json",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("json")
}

/// The (non-cut) group of a workplace in a results document.
fn group_of(json: &serde_json::Value, code: &str) -> serde_json::Value {
    json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["workplace"] == code && g["job_level"].is_null())
        .cloned()
        .unwrap_or_else(|| panic!("group {code} not listed in {json}"))
}

fn close(app: &TestApp, wave: i32) {
    anshin::waves::close(&mut app.conn(), wave).expect("closed");
}

#[actix_web::test]
async fn a_four_response_team_is_absent_from_every_output() {
    let app = spawn_app().await;
    let wave = wave_with_a_small_team(&app).await;
    let db = app.db_path.to_str().expect("path");

    // No results while the wave is open: two reads could be subtracted.
    let output = anshin(
        &[
            "--db",
            db,
            "results",
            "--wave",
            &wave.to_string(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("still open"),
        "{}",
        stderr(&output)
    );
    close(&app, wave);

    let json = results_json(db, wave);
    assert_eq!(json["k"], 5);
    let group = |code: &str| group_of(&json, code);
    let (d1, t1, t2) = (group("D1"), group("T1"), group("T2"));
    assert_eq!(d1["suppressed"], false);
    assert_eq!(d1["scores"]["psychological_safety"]["n"], 12);
    // T2 has 4 responses; T1 would give T2 away as D1 − T1, so both are hidden.
    for hidden in [&t1, &t2] {
        assert_eq!(hidden["suppressed"], true);
        assert!(hidden["n"].is_null());
        assert_eq!(hidden["scores"], serde_json::json!({}));
        assert!(hidden["zone"].is_null());
    }

    let out = app.db_path.with_file_name("results.csv");
    let output = anshin(
        &[
            "--db",
            db,
            "results",
            "--wave",
            &wave.to_string(),
            "--format",
            "csv",
            "--out",
            out.to_str().expect("path"),
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let bytes = std::fs::read(&out).expect("csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect("column");
    let mut d1_rows = 0;
    for record in reader.records() {
        let record = record.expect("row");
        match &record[column("workplace")] {
            "T1" | "T2" => {
                assert_eq!(&record[column("suppressed")], "true");
                for figure in ["n", "mean", "sd", "dimension_n", "zone"] {
                    assert_eq!(&record[column(figure)], "", "{figure} of a hidden team");
                }
            }
            "D1" if record[column("job_level")].is_empty() => d1_rows += 1,
            _ => {}
        }
    }
    assert_eq!(d1_rows, 10, "one row per dimension");
}

#[actix_web::test]
async fn the_results_api_needs_a_signed_in_account() {
    let app = spawn_app().await;
    let wave = wave_with_a_small_team(&app).await;
    let (status, _) = app.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 401, "anonymous");

    add_account(&app, "hr1", "hr", &[]);
    let hr = Browser::sign_in(&app, "hr1").await;
    let (status, _) = hr.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 409, "an open wave has no results yet");
    close(&app, wave);
    let (status, body) = hr.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    let t2 = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["workplace"] == "T2")
        .expect("T2");
    assert_eq!(t2["suppressed"], true);
    let (status, _) = hr.get("/api/waves/999/results").await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn merged_reporting_units_report_small_teams_together() {
    let app = spawn_app().await;
    let rows = anshin::org::parse_csv(
        "D1,総務部,,\nT1,文書係,D1,3\nT2,法制係,D1,3\nT3,職員係,D1,10\nT4,秘書係,D1,2\n".as_bytes(),
    )
    .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let db = app.db_path.to_str().expect("path");
    let merge = |code: &str, members: &[&str]| {
        let mut args = vec![
            "--db",
            db,
            "org",
            "merge",
            "--code",
            code,
            "--name",
            "文書・法制係",
        ];
        for member in members {
            args.extend(["--workplace", member]);
        }
        anshin(&args, None)
    };
    assert!(merge("U1", &["T1", "T2"]).status.success());
    let refused = merge("U2", &["T2", "T4"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("already belongs"),
        "{}",
        stderr(&refused)
    );
    let refused = merge("U3", &["T3", "D1"]);
    assert!(
        stderr(&refused).contains("share one parent"),
        "{}",
        stderr(&refused)
    );
    // The organisation import keeps units consistent: no clashing code, members stay siblings.
    let import = |csv: &str| {
        let file = app.db_path.with_file_name("org-update.csv");
        std::fs::write(&file, csv).expect("write");
        anshin(
            &["--db", db, "org", "import", file.to_str().expect("path")],
            None,
        )
    };
    assert!(stderr(&import("U1,新しい係,D1,3\n")).contains("reporting unit"));
    assert!(stderr(&import("D2,市民部,,\nT1,文書係,D2,3\n")).contains("cannot move"));
    assert!(
        import("T1,文書管理係,D1,3\n").status.success(),
        "renaming a member is fine"
    );

    // A unit smaller than k stops the wave from being created.
    assert!(merge("U4", &["T4", "T3"]).status.success());
    let output = anshin(
        &[
            "--db",
            db,
            "wave",
            "create",
            "--survey",
            "workplace-climate",
            "--name",
            "x",
            "--k",
            "13",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("reporting unit \"U1\" has 6 people, fewer than k = 13"),
        "{}",
        stderr(&output)
    );
    assert!(
        anshin(&["--db", db, "org", "unmerge", "--code", "U4"], None)
            .status
            .success()
    );

    let wave = app.open_wave();
    for (team, count) in [("T1", 3), ("T2", 3), ("T3", 9)] {
        for code in app.issue_codes(wave, team, count) {
            let (status, _, _) = app
                .post_form(
                    &format!("/s/{}", code.display_form()),
                    &form_body(&complete_answers(4)),
                )
                .await;
            assert_eq!(status, 303);
        }
    }
    close(&app, wave);
    let json = results_json(db, wave);
    let group = |code: &str| group_of(&json, code);
    let unit = group("U1");
    assert_eq!(unit["level"], "reporting_unit");
    assert_eq!(unit["parent"], "D1");
    assert_eq!(unit["suppressed"], false);
    assert_eq!(
        unit["scores"]["engagement"]["sample_size"],
        serde_json::Value::Null,
        "internal count never printed"
    );
    assert!(unit["scores"]["engagement"]["mean"].is_number());
    for small in ["T1", "T2"] {
        let team = group(small);
        assert_eq!(team["suppressed"], true);
        assert_eq!(team["parent"], "U1");
    }
}

/// A definition whose quadrant cut is "baseline_wave" takes the organisation means of the
/// closed wave HR names, frozen when the new wave is created.
#[actix_web::test]
async fn a_baseline_wave_sets_the_cut_of_a_later_wave() {
    let app = spawn_app().await;
    let db = app.db_path.to_str().expect("path").to_string();
    let rows = anshin::org::parse_csv("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,12\n".as_bytes())
        .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");

    // Wave 1, fixed cut: T1 answers 4 everywhere, T2 2 or 3.
    let first = app.open_wave();
    answer(
        &app,
        first,
        &[("T1", 4), ("T1", 4), ("T2", 2), ("T2", 3)],
        3,
    )
    .await;
    close(&app, first);
    let baseline = results_json(&db, first);
    let organisation_mean = |dimension: &str| {
        baseline["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .find(|g| g["level"] == "organisation")
            .expect("organisation")["scores"][dimension]["mean"]
            .as_f64()
            .expect("mean")
    };

    // The same instrument with the baseline rule, in a definitions directory of its own.
    let definitions = tempfile::tempdir().expect("dir");
    let fixed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("survey-definitions/workplace-climate.toml"),
    )
    .expect("default instrument");
    let with_baseline = fixed.replace(
        r#"threshold = { rule = "fixed", value = 3.5 }"#,
        r#"threshold = { rule = "baseline_wave" }"#,
    );
    assert_ne!(fixed, with_baseline);
    std::fs::write(
        definitions.path().join("workplace-climate.toml"),
        with_baseline,
    )
    .expect("write");
    let create = |baseline: Option<&str>| {
        let mut args = vec![
            "--db",
            &db,
            "wave",
            "create",
            "--survey",
            "workplace-climate",
            "--name",
            "2027年度",
            "--definitions",
            definitions.path().to_str().expect("path"),
        ];
        if let Some(wave) = baseline {
            args.extend(["--baseline", wave]);
        }
        anshin(&args, None)
    };

    // Refused without a baseline, with an unknown one, and by the fixed definition.
    let refused = create(None);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("takes its quadrant cut from a baseline wave"),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&create(Some("99"))).contains("wave 99 does not exist"));
    let fixed_with_baseline = anshin(
        &[
            "--db",
            &db,
            "wave",
            "create",
            "--survey",
            "workplace-climate",
            "--name",
            "x",
            "--baseline",
            "1",
        ],
        None,
    );
    assert!(stderr(&fixed_with_baseline).contains("fixed quadrant cut"));

    let created = create(Some("1"));
    assert!(created.status.success(), "{}", stderr(&created));
    let second: i32 = String::from_utf8_lossy(&created.stdout)
        .trim()
        .parse()
        .expect("wave id");
    answer(&app, second, &[("T1", 4), ("T2", 4)], 5).await;
    close(&app, second);

    let results = results_json(&db, second);
    let (cut_x, cut_y) = (
        organisation_mean("psychological_safety"),
        organisation_mean("high_standards"),
    );
    assert!((results["cut"]["x"].as_f64().expect("x") - cut_x).abs() < 1e-9);
    assert!((results["cut"]["y"].as_f64().expect("y") - cut_y).abs() < 1e-9);
    // Everyone now answers 4: above the baseline on both axes, below the fixed 3.5 on
    // psychological safety (two items are reverse-coded: 3.33).
    assert!(cut_x < 3.33 && cut_y < 4.0, "baseline {cut_x} / {cut_y}");
    assert_eq!(group_of(&results, "T1")["zone"], "learning");

    let listed = anshin(&["--db", &db, "wave", "list"], None);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("from wave 1"),
        "{}",
        String::from_utf8_lossy(&listed.stdout)
    );
}

/// Submits `per_team` responses for each (team, answer) pair.
async fn answer(app: &TestApp, wave: i32, teams: &[(&str, u8)], per_team: usize) {
    for (team, value) in teams {
        for code in app.issue_codes(wave, team, per_team) {
            let (status, _, _) = app
                .post_form(
                    &format!("/s/{}", code.display_form()),
                    &form_body(&complete_answers(*value)),
                )
                .await;
            assert_eq!(status, 303);
        }
    }
}

/// `anshin results` of a closed wave in both formats, as bytes.
fn read_both(db: &str, wave: i32) -> (Vec<u8>, Vec<u8>) {
    let read = |format: &str| {
        let output = anshin(
            &[
                "--db",
                db,
                "results",
                "--wave",
                &wave.to_string(),
                "--format",
                format,
            ],
            None,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        output.stdout
    };
    (read("json"), read("csv"))
}

/// Rule 9, route 3 of issue 11 (after `org merge` or a move, old minus new figures gave a
/// hidden team's mean): a closed wave's results are frozen at closing. Moving a workplace, merging and
/// unmerging units afterwards change nothing in its JSON or CSV (not a byte), so no two reads
/// of one wave can be subtracted; a later wave is cut under the new organisation and compares
/// with the frozen figures.
#[actix_web::test]
async fn a_closed_wave_is_identical_after_an_org_import_a_merge_and_an_unmerge() {
    let app = spawn_app().await;
    let db = app.db_path.to_str().expect("path");
    let rows = anshin::org::parse_csv(
        "D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,9\nD2,市民部,,\nT3,市民係,D2,12\n".as_bytes(),
    )
    .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let first = app.open_wave();
    answer(&app, first, &[("T1", 4), ("T2", 2), ("T3", 3)], 6).await;
    answer(&app, first, &[("T2", 3), ("T3", 5)], 1).await;
    close(&app, first);
    let before = read_both(db, first);
    let frozen: serde_json::Value = serde_json::from_slice(&before.0).expect("json");
    let d2_before = group_of(&frozen, "D2")["scores"]["engagement"]["mean"]
        .as_f64()
        .expect("D2 shown");

    let file = app.db_path.with_file_name("move.csv");
    std::fs::write(&file, "T2,人事係,D2,9\n").expect("write");
    let moved = anshin(
        &["--db", db, "org", "import", file.to_str().expect("path")],
        None,
    );
    assert!(moved.status.success(), "{}", stderr(&moved));
    assert!(
        read_both(db, first) == before,
        "unchanged by moving T2 to D2"
    );

    let merged = anshin(
        &[
            "--db",
            db,
            "org",
            "merge",
            "--code",
            "U1",
            "--name",
            "人事・市民係",
            "--workplace",
            "T2",
            "--workplace",
            "T3",
        ],
        None,
    );
    assert!(merged.status.success(), "{}", stderr(&merged));
    assert!(read_both(db, first) == before, "unchanged by a merge");
    let unmerged = anshin(&["--db", db, "org", "unmerge", "--code", "U1"], None);
    assert!(unmerged.status.success(), "{}", stderr(&unmerged));
    assert!(read_both(db, first) == before, "unchanged by an unmerge");

    // The next wave is cut under today's organisation (T2 now in D2) and its change compares
    // with the first wave's frozen D2 (T3 alone then), not with a recomputation.
    let second = app.open_wave();
    answer(&app, second, &[("T1", 4), ("T2", 4), ("T3", 4)], 6).await;
    close(&app, second);
    let json = results_json(db, second);
    assert_eq!(group_of(&json, "T2")["parent"], "D2");
    assert_eq!(group_of(&frozen, "T2")["parent"], "D1");
    let change = &group_of(&json, "D2")["scores"]["engagement"]["change"];
    assert_eq!(
        change["previous_mean"].as_f64(),
        Some(d2_before),
        "{change}"
    );
    assert_eq!(json["previous_wave"], first);
    assert!(
        read_both(db, first) == before,
        "closing a later wave changes nothing"
    );
    // Both waves, as stored on the SQLite file, pass the disclosure audit.
    for wave in [first, second] {
        let audit = anshin(&["--db", db, "audit", "--wave", &wave.to_string()], None);
        assert!(audit.status.success(), "{}", crate::helpers::stdout(&audit));
    }
}

/// Waves closed before results were frozen are frozen by the upgrade step that runs with the
/// migrations, and never recomputed afterwards.
#[actix_web::test]
async fn a_wave_closed_before_freezing_existed_is_frozen_by_the_upgrade_step() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    let db = app.db_path.to_str().expect("path");
    app.seed_org();
    let wave = app.open_wave();
    answer(&app, wave, &[("T1", 4), ("T2", 2)], 5).await;
    close(&app, wave);
    // As a database from before the migration: closed, nothing stored.
    diesel::sql_query("DELETE FROM frozen_results")
        .execute(&mut app.conn())
        .expect("deleted");
    assert_eq!(
        anshin::db::migrate(&app.db_path).expect("migrated"),
        0,
        "no migration pending"
    );
    let stored: i64 = diesel::sql_query("SELECT count(*) AS n FROM frozen_results")
        .get_result::<Count>(&mut app.conn())
        .expect("count")
        .n;
    assert_eq!(stored, 1, "the upgrade step froze the closed wave");
    let before = read_both(db, wave);
    let file = app.db_path.with_file_name("move.csv");
    std::fs::write(&file, "D2,市民部,,\nT2,人事係,D2,9\n").expect("write");
    assert!(anshin(
        &["--db", db, "org", "import", file.to_str().expect("path")],
        None
    )
    .status
    .success());
    assert!(read_both(db, wave) == before);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `anshin audit --wave ID` passes a guarded wave (Japanese verdict by default, English with
/// `--lang en`) and exits 1 once a published figure gives a small team away — here a stored
/// result tampered to show a hidden team's n, which its parent minus its sibling confirms.
#[actix_web::test]
async fn anshin_audit_passes_a_guarded_wave_and_fails_a_leaking_one() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    let wave = wave_with_a_small_team(&app).await;
    close(&app, wave);
    add_account(&app, "m1", "manager", &["T1"]);
    let db = app.db_path.to_str().expect("path");
    let audit = |lang: &str| {
        anshin(
            &[
                "--db",
                db,
                "audit",
                "--wave",
                &wave.to_string(),
                "--lang",
                lang,
            ],
            None,
        )
    };
    let output = audit("ja");
    assert!(output.status.success(), "{}", stderr(&output));
    let verdict = crate::helpers::stdout(&output);
    assert!(verdict.contains("判定: 合格"), "{verdict}");
    assert!(verdict.contains("管理職 m1"), "{verdict}");
    let output = audit("en");
    assert!(crate::helpers::stdout(&output).contains("Verdict: passed"));

    // Show T1 (8 of D1's 12): D1 − T1 gives T2's four.
    let mut json = results_json(db, wave);
    for group in json["groups"].as_array_mut().expect("groups") {
        if group["workplace"] == "T1" && group["job_level"].is_null() {
            group["suppressed"] = serde_json::json!(false);
            group["n"] = serde_json::json!(8);
        }
    }
    diesel::sql_query("UPDATE frozen_results SET results_json = ? WHERE wave_id = ?")
        .bind::<diesel::sql_types::Text, _>(json.to_string())
        .bind::<diesel::sql_types::Integer, _>(wave)
        .execute(&mut app.conn())
        .expect("tampered");
    let output = audit("en");
    assert_eq!(output.status.code(), Some(1));
    let verdict = crate::helpers::stdout(&output);
    assert!(verdict.contains("Verdict: FAILED"), "{verdict}");
    assert!(verdict.contains("(4 responses)"), "{verdict}");
}

#[actix_web::test]
async fn a_hidden_teams_reason_never_gives_a_small_neighbours_count_away() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    let csv = "D1,総務部,,\nT1,職員係,D1,14\nT2,人事係,D1,8\nT3,庶務係,D1,3\n";
    let rows = anshin::org::parse_csv(csv.as_bytes()).expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let wave = app.open_wave();
    // D1 20 = T1 12 (shown) + T2 6 + T3 2: T3 is too small and T2 is hidden to protect it.
    // Saying so would leave 8 for two teams, one with at least 5: T3 had 0–3.
    for (team, count) in [("T1", 12), ("T2", 6), ("T3", 2)] {
        for code in app.issue_codes(wave, team, count) {
            let path = format!("/s/{}", code.display_form());
            let (status, _, _) = app.post_form(&path, &form_body(&complete_answers(3))).await;
            assert_eq!(status, 303);
        }
    }
    close(&app, wave);
    add_account(&app, "m3", "manager", &["T3"]);
    let db = app.db_path.to_str().expect("path");
    let reasons = |json: &serde_json::Value| -> Vec<String> {
        ["T2", "T3"]
            .iter()
            .map(|code| {
                let group = json["groups"]
                    .as_array()
                    .expect("groups")
                    .iter()
                    .find(|g| g["workplace"] == *code && g["job_level"].is_null())
                    .expect("listed");
                group["hidden_reason"]
                    .as_str()
                    .expect("a reason")
                    .to_string()
            })
            .collect()
    };
    let combined = "too_few_or_protects_smaller_group";
    let mut json = results_json(db, wave);
    assert_eq!(reasons(&json), [combined, combined]);
    let audit = || {
        let args = [
            "--db",
            db,
            "audit",
            "--wave",
            &wave.to_string(),
            "--lang",
            "en",
        ];
        crate::helpers::stdout(&anshin(&args, None))
    };
    assert!(audit().contains("Verdict: passed"), "{}", audit());

    let m3 = Browser::sign_in(&app, "m3").await;
    let (_, page) = m3.get("/dashboard").await;
    assert!(page.contains("どちらなのかも"), "the combined wording");
    assert!(!page.contains("この集団の回答者が5人未満"), "not 'too few'");

    // Results frozen before the rule carry the bounds; read back, they say no more.
    for group in json["groups"].as_array_mut().expect("groups") {
        match group["workplace"].as_str() {
            Some("T2") => group["hidden_reason"] = "protects_smaller_group".into(),
            Some("T3") => group["hidden_reason"] = "too_few_responses".into(),
            _ => {}
        }
    }
    diesel::sql_query("UPDATE frozen_results SET results_json = ? WHERE wave_id = ?")
        .bind::<diesel::sql_types::Text, _>(json.to_string())
        .bind::<diesel::sql_types::Integer, _>(wave)
        .execute(&mut app.conn())
        .expect("stored as an older version froze it");
    assert_eq!(reasons(&results_json(db, wave)), [combined, combined]);
    assert!(audit().contains("Verdict: passed"), "{}", audit());
}

/// A complete answer set whose values vary with the respondent and the item, so that item
/// correlations are defined: respondent `r` leans to `2 + r % 3`, items add −1, 0 or +1.
fn varied_answers(r: usize) -> Vec<(String, String)> {
    complete_answers(3)
        .into_iter()
        .enumerate()
        .map(|(j, (item, value))| {
            let step = (2 + r % 3 + (j + r) % 3).saturating_sub(1).clamp(1, 5);
            let value = if value == "6" { step * 2 } else { step };
            (item, value.to_string())
        })
        .collect()
}

#[actix_web::test]
async fn anshin_psychometrics_refuses_a_small_organisation_and_reports_a_closed_wave() {
    let app = spawn_app().await;
    let rows = anshin::org::parse_csv("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,9\n".as_bytes())
        .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let db = app.db_path.to_str().expect("path");
    let psychometrics = |wave: i32, format: &str| {
        anshin(
            &[
                "--db",
                db,
                "psychometrics",
                "--wave",
                &wave.to_string(),
                "--format",
                format,
            ],
            None,
        )
    };
    let submit = |wave: i32, team: &'static str, from: usize, count: usize| {
        let codes = app.issue_codes(wave, team, count);
        let app = &app;
        async move {
            for (offset, code) in codes.iter().enumerate() {
                let (status, _, _) = app
                    .post_form(
                        &format!("/s/{}", code.display_form()),
                        &form_body(&varied_answers(from + offset)),
                    )
                    .await;
                assert_eq!(status, 303);
            }
        }
    };

    // Four responses in the whole organisation (k = 5): open, then closed — refused both times.
    let small = app.open_wave();
    submit(small, "T1", 0, 4).await;
    let output = psychometrics(small, "csv");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("still open"),
        "{}",
        stderr(&output)
    );
    close(&app, small);
    let output = psychometrics(small, "json");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("fewer than k = 5"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());

    // 24 responses, T2's 4 hidden: the report's ICCs are the frozen results' (shown cells
    // only), its item figures organisation-wide.
    let wave = app.open_wave();
    submit(wave, "T1", 0, 20).await;
    submit(wave, "T2", 20, 4).await;
    close(&app, wave);
    let output = psychometrics(wave, "json");
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["respondents"], 24);
    let results = results_json(db, wave);
    let dimensions = report["dimensions"].as_array().expect("dimensions");
    assert_eq!(
        dimensions.len(),
        results["dimensions"].as_array().expect("dims").len()
    );
    for (dimension, published) in dimensions
        .iter()
        .zip(results["reliability"].as_array().expect("rel"))
    {
        assert_eq!(dimension["dimension"], published["dimension"]);
        assert_eq!(dimension["icc1"], published["icc1"]);
        assert_eq!(dimension["icc2"], published["icc2"]);
        if dimension["items"].as_array().expect("items").len() >= 2 {
            assert_eq!(dimension["complete_cases"], 24);
            assert!(dimension["alpha"].is_number(), "{dimension}");
        }
    }
    let output = psychometrics(wave, "csv");
    assert!(output.status.success(), "{}", stderr(&output));
    let csv = crate::helpers::stdout(&output);
    let csv = csv.strip_prefix('\u{feff}').expect("BOM");
    assert!(csv.starts_with("wave,statistic,dimension,"), "{csv}");
    assert!(csv
        .lines()
        .any(|l| l.starts_with(&format!("{wave},alpha,psychological_safety,"))));
}
