//! Hostile input: malformed bodies, invalid UTF-8, huge field counts, path traversal, and
//! SQL / HTML / template injection strings, which must be refused or shown back escaped.

use diesel::prelude::*;

use anshin::db::schema::{invitation_codes, responses};

use crate::helpers::{add_account, complete_answers, csrf_token, form_body, spawn_app, Browser};

fn used_codes(app: &crate::helpers::TestApp) -> i64 {
    invitation_codes::table
        .filter(invitation_codes::used.eq(true))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

#[actix_web::test]
async fn malformed_bodies_are_400_and_consume_nothing() {
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    let code = app.issue_codes(wave, "T1", 1).remove(0);
    let path = format!("/s/{}", code.display_form());
    let mut invalid_utf8 = form_body(&complete_answers(4)).into_bytes();
    invalid_utf8.extend_from_slice(b"&comment=\xff\xfe\xfd");
    let huge_field_count = "x=1&".repeat(15_000);
    let bodies: Vec<Vec<u8>> = vec![
        invalid_utf8,
        b"eng1=%FF%FE".to_vec(),
        huge_field_count.into_bytes(),
        b"=&=&==&&".to_vec(),
        b"\x00\x01\x02".to_vec(),
    ];
    for body in bodies {
        let response = app
            .client
            .post(app.url(&path))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .send_body(body.clone())
            .await
            .expect("POST");
        assert_eq!(
            response.status().as_u16(),
            400,
            "{:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
    }
    assert_eq!(used_codes(&app), 0);
    let (status, _, _) = app.post_form(&path, &form_body(&complete_answers(4))).await;
    assert_eq!(status, 303, "the code still works");
}

#[actix_web::test]
async fn path_traversal_finds_nothing() {
    let app = spawn_app().await;
    for path in [
        "/s/..%2F..%2Fetc%2Fpasswd",
        "/static/..%2F..%2FCargo.toml",
        "/static/../Cargo.toml",
        "/templates/messages.toml",
        "/..%2f..%2fanshin.db",
    ] {
        let (status, body) = app.get(path).await;
        assert!(status == 404, "{path}: {status}");
        assert!(
            !body.contains("[package]") && !body.contains("SQLite format"),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn injection_strings_are_stored_as_text_and_shown_escaped() {
    let app = spawn_app().await;
    let hostile_name = "<script>alert('x')</script>{{ 7*7 }}";
    let csv = format!("D1,総務部,,\nT1,\"{hostile_name}\",D1,12\n");
    let rows =
        anshin::org::parse_csv(csv.as_bytes()).expect("a name may contain anything printable");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let wave = app.open_wave();
    // Ten responses: comments are shown for groups of k2 = 10 or more.
    for code in app.issue_codes(wave, "T1", 10) {
        let mut answers = complete_answers(4);
        answers.push((
            "comment".into(),
            "'); DROP TABLE responses; -- <b>bold</b>".into(),
        ));
        let (status, _, _) = app
            .post_form(&format!("/s/{}", code.display_form()), &form_body(&answers))
            .await;
        assert_eq!(status, 303);
    }
    anshin::waves::close(&mut app.conn(), wave).expect("closed");
    add_account(&app, "hr1", "hr", &[]);
    add_account(&app, "m1", "manager", &["T1"]);

    // SQL in a login is just a wrong login.
    let browser = Browser::new(&app);
    let (status, _, _) = browser.submit_login("' OR '1'='1", "' OR '1'='1").await;
    assert_eq!(status, 401);
    let stored: i64 = responses::table
        .filter(anshin::db::schema::responses::filled.eq(true))
        .count()
        .get_result(&mut app.conn())
        .expect("responses intact");
    assert_eq!(stored, 10);

    let manager = Browser::sign_in(&app, "m1").await;
    let (_, page) = manager.get("/dashboard").await;
    assert!(!page.contains("<script>alert"), "the name is escaped");
    assert!(page.contains("&lt;script&gt;"), "and shown as text");
    assert!(
        page.contains("{{ 7*7 }}") && !page.contains(">49<"),
        "no template evaluation"
    );

    let token = csrf_token(&page);
    let plan = form_body(&[
        ("csrf".into(), token),
        ("wave".into(), wave.to_string()),
        ("workplace".into(), "T1".into()),
        ("dimension".into(), "sharing".into()),
        (
            "action".into(),
            "<img src=x onerror=alert(1)>{% raw %}".into(),
        ),
        ("owner".into(), "係長".into()),
    ]);
    let (status, _, _) = manager.post("/manager/plans", &plan).await;
    assert_eq!(status, 303);
    let (_, page) = manager.get("/dashboard").await;
    assert!(!page.contains("<img src=x"), "the plan is escaped");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;{% raw %}"));

    let hr = Browser::sign_in(&app, "hr1").await;
    let (status, json) = hr.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 200);
    assert!(
        json.contains("DROP TABLE responses"),
        "the comment is data, kept verbatim in JSON"
    );
}
