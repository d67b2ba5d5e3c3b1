//! Accounts and roles on the server: sign-in, CSRF, throttling, and a manager seeing only
//! their own workplaces, on every dashboard route and API.

use crate::helpers::{
    add_account, complete_answers, csrf_token, form_body, spawn_app, Browser, TestApp,
    TEST_PASSWORD,
};

/// D1 > {T1 (8 responses), T2 (6 responses)}, one closed wave; hr1, manager m1 of T1.
pub async fn closed_wave(app: &TestApp) -> i32 {
    let rows = anshin::org::parse_csv("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,10\n".as_bytes())
        .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let wave = app.open_wave();
    for (team, count) in [("T1", 8), ("T2", 6)] {
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
    anshin::waves::close(&mut app.conn(), wave).expect("closed");
    add_account(app, "hr1", "hr", &[]);
    add_account(app, "m1", "manager", &["T1"]);
    wave
}

#[actix_web::test]
async fn anonymous_visitors_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let anonymous = Browser::new(&app);
    let pages = [
        "/dashboard".to_string(),
        "/hr/groups?workplace=T1".to_string(),
        format!("/hr/waves/{wave}/results.csv"),
    ];
    for page in pages {
        let response = app.client.get(app.url(&page)).send().await.expect("GET");
        assert_eq!(response.status().as_u16(), 303, "{page}");
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok());
        assert_eq!(location, Some("/login"), "{page}");
    }
    let apis = [
        format!("/api/waves/{wave}/results"),
        format!("/charts/waves/{wave}/quadrant.svg"),
        format!("/charts/waves/{wave}/anxieties.svg?workplace=T1"),
        format!("/charts/waves/{wave}/heatmap.svg"),
        "/charts/trend.svg?workplace=T1&dimension=engagement".to_string(),
    ];
    for api in apis {
        let (status, _) = anonymous.get(&api).await;
        assert_eq!(status, 401, "{api}");
    }
    for form in [
        "/manager/plans",
        "/hr/waves",
        "/hr/users",
        &format!("/hr/waves/{wave}/close"),
    ] {
        let (status, location, _) = anonymous.post(form, "csrf=x").await;
        assert!(
            status == 303 && location.as_deref() == Some("/login") || status == 400,
            "{form}: {status}"
        );
    }

    // Answering the survey with a code starts no session: the dashboards stay closed.
    let open = app.open_wave();
    let code = app.issue_codes(open, "T1", 1).remove(0);
    let staff = Browser::new(&app);
    let (status, _) = staff.get(&format!("/s/{}", code.display_form())).await;
    assert_eq!(status, 200);
    let (status, _, _) = staff
        .post(
            &format!("/s/{}", code.display_form()),
            &form_body(&complete_answers(3)),
        )
        .await;
    assert_eq!(status, 303);
    assert!(!staff.has_session());
    let (status, _) = staff.get("/dashboard").await;
    assert_eq!(status, 303);
}

#[actix_web::test]
async fn a_manager_sees_only_their_own_workplaces() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;

    let (status, page) = manager.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("職員係"), "their team is on the page");
    assert!(!page.contains("人事係"), "another team is not");
    // Every item answered 4: the two reverse-coded safety items pull psychological safety
    // to 3.33, below the cut, with high standards at 4 — the anxiety zone.
    assert!(page.contains("zone-anxiety"));
    // Eight identical answers (SD 0): the SD floor keeps the zone from looking exact, so the
    // page calls it borderline (3.33 + t(0.975; 7) · 0.5/√8 = 3.75 crosses the cut 3.5).
    assert!(
        page.contains("境界付近"),
        "a uniform team of 8 is not certain"
    );
    // The reliability column is there; with no differences between teams ICC(1) is
    // undefined, so no figure and no warning.
    assert!(page.contains("平均の信頼性"));
    assert!(!page.contains("偶然の揺れが大きい"));
    assert!(
        page.contains("○○さんはどう思う"),
        "a listening prompt for an anxious team"
    );
    assert!(
        !page.contains("最初に比べると"),
        "not the learning team's prompt"
    );
    assert!(
        !page.contains("相談しない"),
        "8 respondents: no item-level view below k2"
    );

    let (status, body) = manager.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    let codes: Vec<&str> = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["workplace"].as_str())
        .collect();
    assert_eq!(
        codes,
        ["T1"],
        "only their own workplace (plus the organisation as a whole)"
    );

    let (status, _) = manager
        .get(&format!("/charts/waves/{wave}/quadrant.svg?workplace=T2"))
        .await;
    assert_eq!(status, 403, "another team's chart");
    let (status, svg) = manager
        .get(&format!("/charts/waves/{wave}/quadrant.svg?workplace=T1"))
        .await;
    assert_eq!(status, 200);
    assert!(svg.contains("<svg"));
    let (status, _) = manager.get(&format!("/hr/waves/{wave}/results.csv")).await;
    assert_eq!(status, 403, "the CSV export is HR's");
    let (status, svg) = manager
        .get("/charts/trend.svg?workplace=T1&dimension=engagement")
        .await;
    assert_eq!(status, 200);
    assert!(svg.contains("<svg"));
    let (status, _) = manager
        .get("/charts/trend.svg?workplace=T2&dimension=engagement")
        .await;
    assert_eq!(status, 403);

    let (status, _) = manager.get("/hr/groups?workplace=T2").await;
    assert_eq!(status, 403, "drill-down is HR's");

    let hr = Browser::sign_in(&app, "hr1").await;
    let (status, csv) = hr.get(&format!("/hr/waves/{wave}/results.csv")).await;
    assert_eq!(status, 200);
    assert!(csv.contains("T2"));
    let (status, page) = hr.get("/hr/groups?workplace=T2").await;
    assert_eq!(status, 200);
    assert!(page.contains("人事係") && !page.contains("action=\"/manager/plans\""));
    let (_, page) = hr.get("/hr/groups?workplace=D1").await;
    assert!(
        page.contains("相談しない"),
        "14 respondents: the avoided behaviours are shown"
    );
}

#[actix_web::test]
async fn posts_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    let plan = |csrf: &str| {
        form_body(&[
            ("csrf".into(), csrf.into()),
            ("wave".into(), wave.to_string()),
            ("workplace".into(), "T1".into()),
            ("dimension".into(), "psychological_safety".into()),
            ("action".into(), "朝会で一人ひと言話す".into()),
            ("owner".into(), "係長".into()),
            ("due_on".into(), "2027-03-31".into()),
        ])
    };
    let (status, _, _) = manager.post("/manager/plans", &plan("forged")).await;
    assert_eq!(status, 403);
    let (status, _, _) = manager.post("/logout", "csrf=forged").await;
    assert_eq!(status, 403);

    let (_, page) = manager.get("/dashboard").await;
    let token = csrf_token(&page);
    let (status, location, _) = manager.post("/manager/plans", &plan(&token)).await;
    assert_eq!((status, location.as_deref()), (303, Some("/dashboard")));
    let (_, page) = manager.get("/dashboard").await;
    assert!(page.contains("朝会で一人ひと言話す"), "the plan is shown");

    // A dimension the wave does not have is refused.
    let unknown = plan(&token).replace("dimension=psychological_safety", "dimension=nonsense");
    let (status, _, _) = manager.post("/manager/plans", &unknown).await;
    assert_eq!(status, 400);

    // A plan for a team that is not theirs is refused even with the right token.
    let other = plan(&token).replace("workplace=T1", "workplace=T2");
    let (status, _, _) = manager.post("/manager/plans", &other).await;
    assert_eq!(status, 403);

    let (status, location, _) = manager.post("/logout", &format!("csrf={token}")).await;
    assert_eq!((status, location.as_deref()), (303, Some("/login")));
    let (status, _) = manager.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 401, "signed out");
}

#[actix_web::test]
async fn repeated_wrong_passwords_are_throttled() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let browser = Browser::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _, _) = browser.submit_login("m1", "wrong password").await;
        statuses.push(status);
    }
    assert_eq!(statuses[..5], [401; 5]);
    assert_eq!(statuses[5], 429);
    // Even the right password waits until the window passes.
    let (status, _, _) = browser.submit_login("m1", TEST_PASSWORD).await;
    assert_eq!(status, 429);
}

/// Rule 9 through the API: a closed wave's JSON, cached or not, is the same byte for byte
/// after HR merge units; the merge shows in later waves only.
#[actix_web::test]
async fn a_closed_waves_api_results_ignore_later_merges() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let (status, before) = hr.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 200);
    let workplaces = ["T1".to_string(), "T2".to_string()];
    anshin::org::add_unit(&mut app.conn(), "U1", "職員・人事係", &workplaces).expect("merged");
    let (_, after) = hr.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(after, before, "frozen at closing");
    let json: serde_json::Value = serde_json::from_str(&after).expect("json");
    assert!(json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .all(|g| g["level"] != "reporting_unit"));
}

#[actix_web::test]
async fn hr_opens_a_wave_issues_printable_codes_and_closes_it() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, page) = hr.get("/dashboard").await;
    let token = csrf_token(&page);
    let (status, location, _) = hr
        .post(
            "/hr/waves",
            &format!("csrf={token}&name=2027&survey=workplace-climate&k=5"),
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/dashboard")));
    let wave = anshin::waves::list(&mut app.conn())
        .expect("waves")
        .last()
        .expect("new wave")
        .id;

    let (status, _, sheet) = hr
        .post(
            &format!("/hr/waves/{wave}/codes"),
            &format!("csrf={token}&workplace=T1&count=3&format=sheet"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(sheet.matches("class=\"slip\"").count(), 3);
    assert_eq!(sheet.matches("<svg").count(), 3, "one QR code per slip");
    let marker = "<strong>";
    let start = sheet.find(marker).expect("a printed code") + marker.len();
    let code = &sheet[start..start + 19];
    let (status, _) = app.get(&format!("/s/{code}")).await;
    assert_eq!(status, 200, "a printed code opens the survey");

    let (status, _, csv) = hr
        .post(
            &format!("/hr/waves/{wave}/codes"),
            &format!("csrf={token}&workplace=T2&count=2&format=csv"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.starts_with("workplace,code,url"));

    // A manager can do none of this, nor can a forged token.
    let manager = Browser::sign_in(&app, "m1").await;
    let (_, page) = manager.get("/dashboard").await;
    let manager_token = csrf_token(&page);
    let (status, _, _) = manager
        .post(
            &format!("/hr/waves/{wave}/close"),
            &format!("csrf={manager_token}"),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _, _) = hr
        .post(&format!("/hr/waves/{wave}/close"), "csrf=forged")
        .await;
    assert_eq!(status, 403);

    // HR adds a manager for T2, who appears in the list; a weak password is refused.
    let (status, _, _) = hr
        .post(
            "/hr/users",
            &format!("csrf={token}&login=m2&password=another+long+password&workplaces=T2"),
        )
        .await;
    assert_eq!(status, 303);
    let (_, page) = hr.get("/dashboard").await;
    assert!(
        page.contains(">m2</a></td><td>管理職</td><td>T2</td><td>有効</td>"),
        "{page}"
    );
    let (status, _, page) = hr
        .post(
            "/hr/users",
            &format!("csrf={token}&login=m3&password=short&workplaces=T2"),
        )
        .await;
    assert_eq!(status, 400, "a weak password is refused");
    assert!(
        page.contains("この操作は行われませんでした")
            && page.contains("理由: パスワードは10文字以上にしてください"),
        "with its reason: {page}"
    );
    assert!(page.contains("href=\"/dashboard\""), "and a way back");

    // A baseline wave for a survey with a fixed cut is refused with the reason.
    let (status, _, page) = hr
        .post(
            "/hr/waves",
            &format!("csrf={token}&name=2028&survey=workplace-climate&k=5&baseline=1"),
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("境目は固定値です"), "{page}");

    let (status, _, _) = hr
        .post(&format!("/hr/waves/{wave}/close"), &format!("csrf={token}"))
        .await;
    assert_eq!(status, 303);
    let (status, _) = app.get(&format!("/s/{code}")).await;
    assert_eq!(status, 410, "codes stop working when the wave closes");
}

/// Rule 7: while a wave is open nothing a manager can reach changes with its responses; once
/// it closes the page moves to it, with its response count.
#[actix_web::test]
async fn a_manager_sees_nothing_of_an_open_wave_until_it_closes() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    let (_, before) = manager.get("/dashboard").await;
    assert!(before.contains("この回の回答数：8人"), "{before}");

    let open = app.open_wave();
    for code in app.issue_codes(open, "T1", 6) {
        let (status, _, _) = app
            .post_form(
                &format!("/s/{}", code.display_form()),
                &form_body(&complete_answers(2)),
            )
            .await;
        assert_eq!(status, 303);
    }
    let (_, during) = manager.get("/dashboard").await;
    assert_eq!(before, during, "the open wave's responses change nothing");
    assert_eq!(
        manager.get(&format!("/api/waves/{open}/results")).await.0,
        409
    );
    assert_eq!(
        manager
            .get(&format!("/charts/waves/{open}/quadrant.svg?workplace=T1"))
            .await
            .0,
        409
    );

    anshin::waves::close(&mut app.conn(), open).expect("closed");
    let (_, after) = manager.get("/dashboard").await;
    assert!(after.contains("この回の回答数：6人"), "{after}");
    assert!(after.contains("無気力"), "the new wave's zone: {after}");
}

/// Rule 5 on the dashboards: a manager reads the comments of their own teams of k2 or more,
/// never another team's and never the organisation's (written about every workplace).
#[actix_web::test]
async fn a_manager_reads_only_their_own_teams_comments() {
    let app = spawn_app().await;
    let rows = anshin::org::parse_csv("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,12\n".as_bytes())
        .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let wave = app.open_wave();
    for team in ["T1", "T2"] {
        for (i, code) in app.issue_codes(wave, team, 10).iter().enumerate() {
            let mut answers = complete_answers(4);
            answers.push(("comment".into(), format!("{team}への意見{i}")));
            let (status, _, _) = app
                .post_form(&format!("/s/{}", code.display_form()), &form_body(&answers))
                .await;
            assert_eq!(status, 303);
        }
    }
    anshin::waves::close(&mut app.conn(), wave).expect("closed");
    add_account(&app, "m1", "manager", &["T1"]);
    let manager = Browser::sign_in(&app, "m1").await;

    let (_, page) = manager.get("/dashboard").await;
    assert!(page.contains("自由記述"), "{page}");
    assert_eq!(page.matches("T1への意見").count(), 10);
    assert!(!page.contains("T2への意見"));

    let (status, json) = manager.get(&format!("/api/waves/{wave}/results")).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    for group in json["groups"].as_array().expect("groups") {
        match group["workplace"].as_str() {
            Some("T1") => assert_eq!(group["comments"].as_array().map(Vec::len), Some(10)),
            None => assert!(group["comments"].is_null(), "no organisation comments"),
            other => panic!("a manager of T1 got {other:?}"),
        }
    }
    assert!(!json.to_string().contains("T2への意見"));
}

/// Route 6 of issue 11: HR's count of an open wave moved from 5 / 6 to 6 / 6 the moment a
/// known person answered. Counts now move in steps of k, on the page and in `wave list`,
/// and a workplace far behind is flagged for a reminder.
#[actix_web::test]
async fn open_wave_counts_move_in_steps_of_k_and_flag_reminders() {
    let app = spawn_app().await;
    app.seed_org();
    add_account(&app, "hr1", "hr", &[]);
    let wave = app.open_wave();
    let codes = app.issue_codes(wave, "T1", 6);
    let far_behind = app.issue_codes(wave, "T2", 20);
    let hr = Browser::sign_in(&app, "hr1").await;
    let submit = |code: &anshin::codes::InvitationCode| {
        let path = format!("/s/{}", code.display_form());
        let body = form_body(&complete_answers(4));
        let app = &app;
        async move {
            let (status, _, _) = app.post_form(&path, &body).await;
            assert_eq!(status, 303);
        }
    };
    for code in &codes[..5] {
        submit(code).await;
    }
    submit(&far_behind[0]).await;
    let (_, five) = hr.get("/dashboard").await;
    assert!(five.contains("5–9 / 6"), "{five}");
    assert!(five.contains("0–4 / 20"));
    assert!(five.contains("リマインド推奨"), "T2: at most 4 of 20");
    let db = app.db_path.to_str().expect("path");
    let list = |db: &str| {
        crate::helpers::stdout(&crate::helpers::anshin(&["--db", db, "wave", "list"], None))
    };
    let listed = list(db);
    assert!(listed.contains("5–9 responses"), "{listed}");

    submit(&codes[5]).await;
    let (_, six) = hr.get("/dashboard").await;
    assert_eq!(six, five, "the sixth answer does not show");
    assert_eq!(list(db), listed);
}

#[actix_web::test]
async fn hr_reads_the_psychometrics_report_of_a_closed_wave_and_a_manager_cannot() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let page = format!("/hr/waves/{wave}/psychometrics");
    let csv = format!("/hr/waves/{wave}/psychometrics.csv");

    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, dashboard) = hr.get("/dashboard").await;
    assert!(
        dashboard.contains(&format!("href=\"{page}\"")),
        "linked from the dashboard"
    );
    let (status, body) = hr.get(&page).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("調査票の信頼性・妥当性"), "{body}");
    let (_, audit) = hr.get("/hr/audit").await;
    assert!(
        audit.contains("信頼性・妥当性の報告を閲覧"),
        "the view is audited: {audit}"
    );
    assert!(
        body.contains("回答者14人"),
        "the organisation's count: {body}"
    );
    assert!(body.contains("ICC(2)") && body.contains("HTMT"), "{body}");
    let (status, body) = hr.get(&format!("{page}?lang=en")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Reliability and validity of the questionnaire"));
    let (status, body) = hr.get(&csv).await;
    assert_eq!(status, 200);
    assert!(body.starts_with('\u{feff}'), "a BOM for Excel");

    let manager = Browser::sign_in(&app, "m1").await;
    assert_eq!(manager.get(&page).await.0, 403);
    assert_eq!(manager.get(&csv).await.0, 403);

    // An open wave has no report yet; nor does one whose organisation shows fewer than k.
    let open = app.open_wave();
    assert_eq!(
        hr.get(&format!("/hr/waves/{open}/psychometrics")).await.0,
        409
    );
    for code in app.issue_codes(open, "T1", 4) {
        let (status, _, _) = app
            .post_form(
                &format!("/s/{}", code.display_form()),
                &form_body(&complete_answers(4)),
            )
            .await;
        assert_eq!(status, 303);
    }
    anshin::waves::close(&mut app.conn(), open).expect("closed");
    let (status, body) = hr.get(&format!("/hr/waves/{open}/psychometrics")).await;
    assert_eq!(status, 400);
    assert!(body.contains("5人未満"), "{body}");
}
