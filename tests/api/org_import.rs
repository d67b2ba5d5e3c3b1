//! Organisation import: all or nothing, errors that name the line, updates that keep results.

use diesel::prelude::*;

use anshin::db::schema::workplaces;
use anshin::org;

use crate::helpers::{anshin, connect, stderr, temp_database};

fn import(db: &std::path::Path, csv: &str) -> std::process::Output {
    let file = db.with_file_name("org.csv");
    std::fs::write(&file, csv).expect("write csv");
    anshin(
        &[
            "--db",
            db.to_str().expect("path"),
            "org",
            "import",
            file.to_str().expect("path"),
        ],
        None,
    )
}

fn snapshot(db: &std::path::Path) -> Vec<org::Workplace> {
    org::load_all(&mut connect(db)).expect("workplaces")
}

#[test]
fn rejected_files_write_nothing_and_name_the_line() {
    let (_dir, db) = temp_database();
    let output = import(&db, "D1,総務部,,\nT1,職員係,D1,10\n");
    assert!(output.status.success(), "{}", stderr(&output));
    let before = snapshot(&db);

    let cases = [
        (
            "D2,市民部,,\nT2,市民課,D9,5\n",
            "line 2: unknown parent \"D9\"",
        ),
        (
            "D2,市民部,,\nD2,都市整備部,,\n",
            "line 2: duplicate code \"D2\"",
        ),
        ("D2,市民部,,\n,名無し,D2\n", "line 2: empty code"),
        ("D2,,\n", "line 1: empty name"),
        ("D2,市民部,T1\nD1,総務部,D2\n", "cycle"),
        ("D2,市民部,,many\n", "line 1: headcount \"many\""),
        ("D2,\"市民部,,\n", "line 1: "),
    ];
    for (csv, expected) in cases {
        let output = import(&db, csv);
        assert_eq!(output.status.code(), Some(1), "{csv}");
        let message = stderr(&output);
        assert!(message.contains("org.csv: "), "{message}");
        assert!(message.contains(expected), "{csv}: {message}");
        assert!(!message.contains("panicked"), "{message}");
        assert_eq!(snapshot(&db), before, "nothing written for {csv:?}");
    }
}

#[test]
fn re_import_updates_names_parents_and_headcounts_without_losing_rows() {
    let (_dir, db) = temp_database();
    assert!(import(
        &db,
        "D1,総務部,,\nD2,市民部,,\nT1,職員係,D1,10\nT2,文書係,D1,7\n"
    )
    .status
    .success());
    let ids_before: Vec<(String, i32)> =
        snapshot(&db).into_iter().map(|w| (w.code, w.id)).collect();

    let output = import(
        &db,
        "\u{feff}code,name,parent_code,headcount\nT1,職員厚生係,D2,11\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let after = snapshot(&db);
    assert_eq!(after.len(), 4, "workplaces missing from the file are kept");
    let ids_after: Vec<(String, i32)> = after.iter().map(|w| (w.code.clone(), w.id)).collect();
    assert_eq!(
        ids_before, ids_after,
        "ids (and so past results) are stable"
    );
    let t1 = after.iter().find(|w| w.code == "T1").expect("T1");
    let d2 = after.iter().find(|w| w.code == "D2").expect("D2");
    assert_eq!(t1.name, "職員厚生係");
    assert_eq!(t1.parent_id, Some(d2.id));
    assert_eq!(t1.headcount, Some(11));
}

#[test]
fn a_thousand_workplace_file_imports_in_one_go() {
    let (_dir, db) = temp_database();
    let mut csv = String::from("code,name,parent_code,headcount\n");
    for d in 0..10 {
        csv.push_str(&format!("D{d},部{d},,\n"));
        for s in 0..9 {
            csv.push_str(&format!("D{d}S{s},課{d}-{s},D{d},\n"));
            for t in 0..10 {
                csv.push_str(&format!("D{d}S{s}T{t},係{d}-{s}-{t},D{d}S{s},{}\n", 5 + t));
            }
        }
    }
    let output = import(&db, &csv);
    assert!(output.status.success(), "{}", stderr(&output));
    let count: i64 = workplaces::table
        .count()
        .get_result(&mut connect(&db))
        .expect("count");
    assert_eq!(count, 1000);
}
