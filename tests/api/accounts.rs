//! Account lifecycle on the server: HR moves a manager to other workplaces, sets a new
//! password, adds an HR account and disables accounts; everyone changes their own password.
//! Every change takes effect at the affected account's next request.

use crate::dashboards::closed_wave;
use crate::helpers::{
    anshin, csrf_token, form_body, spawn_app, stderr, stdout, Browser, TestApp, TEST_PASSWORD,
};

fn account_id(app: &TestApp, login: &str) -> i32 {
    anshin::accounts::list(&mut app.conn())
        .expect("accounts")
        .into_iter()
        .find(|account| account.login == login)
        .expect("listed")
        .id
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_body(
        &pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect::<Vec<_>>(),
    )
}

async fn token(browser: &Browser<'_>, path: &str) -> String {
    let (status, page) = browser.get(path).await;
    assert_eq!(status, 200, "{path}: {page}");
    csrf_token(&page)
}

#[actix_web::test]
async fn hr_moves_a_manager_to_other_workplaces() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let manager = Browser::sign_in(&app, "m1").await;
    let chart = |team: &str| format!("/charts/waves/{wave}/quadrant.svg?workplace={team}");
    assert_eq!(manager.get(&chart("T2")).await.0, 403);

    let m1 = account_id(&app, "m1");
    let csrf = token(&hr, &format!("/hr/accounts/{m1}")).await;
    let (status, location, _) = hr
        .post(
            &format!("/hr/accounts/{m1}/workplaces"),
            &form(&[("csrf", &csrf), ("workplaces", "T2")]),
        )
        .await;
    assert_eq!(
        (status, location),
        (303, Some(format!("/hr/accounts/{m1}")))
    );

    // The manager's very next request sees the new scope, in the same session.
    assert_eq!(manager.get(&chart("T2")).await.0, 200);
    assert_eq!(manager.get(&chart("T1")).await.0, 403);
    let (_, page) = manager.get("/dashboard").await;
    assert!(
        page.contains("人事係") && !page.contains("職員係"),
        "{page}"
    );

    // An unknown workplace is refused with the reason and changes nothing.
    let (status, _, page) = hr
        .post(
            &format!("/hr/accounts/{m1}/workplaces"),
            &form(&[("csrf", &csrf), ("workplaces", "T2, NOPE")]),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("職場コード「NOPE」は組織にありません"),
        "{page}"
    );
    assert_eq!(manager.get(&chart("T2")).await.0, 200);
}

#[actix_web::test]
async fn a_new_password_ends_the_accounts_sessions() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let manager = Browser::sign_in(&app, "m1").await;
    let m1 = account_id(&app, "m1");
    let csrf = token(&hr, &format!("/hr/accounts/{m1}")).await;

    let (status, _, page) = hr
        .post(
            &format!("/hr/accounts/{m1}/password"),
            &form(&[("csrf", &csrf), ("password", "short")]),
        )
        .await;
    assert_eq!(status, 400, "a weak password is refused: {page}");
    assert_eq!(manager.get("/dashboard").await.0, 200, "nothing changed");

    let (status, _, _) = hr
        .post(
            &format!("/hr/accounts/{m1}/password"),
            &form(&[("csrf", &csrf), ("password", "a brand new passphrase")]),
        )
        .await;
    assert_eq!(status, 303);
    let (status, _) = manager.get("/dashboard").await;
    assert_eq!(status, 303, "the old session has ended (to the login page)");
    let fresh = Browser::new(&app);
    assert_eq!(fresh.submit_login("m1", TEST_PASSWORD).await.0, 401);
    assert_eq!(
        fresh.submit_login("m1", "a brand new passphrase").await.0,
        303
    );
    // HR's own session is untouched.
    assert_eq!(hr.get("/dashboard").await.0, 200);
}

#[actix_web::test]
async fn disabled_accounts_cannot_sign_in_and_the_last_hr_account_stays() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let manager = Browser::sign_in(&app, "m1").await;
    let csrf = token(&hr, "/dashboard").await;

    // The only HR account cannot disable itself.
    let hr1 = account_id(&app, "hr1");
    let (status, _, page) = hr
        .post(
            &format!("/hr/accounts/{hr1}/disable"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("最後の人事担当アカウント"), "{page}");

    // HR adds a second HR account from the dashboard; a workplace for HR is refused.
    let (status, _, page) = hr
        .post(
            "/hr/users",
            &form(&[
                ("csrf", &csrf),
                ("login", "hr2"),
                ("password", "second hr passphrase"),
                ("role", "hr"),
                ("workplaces", "T1"),
            ]),
        )
        .await;
    assert_eq!(status, 400, "{page}");
    let (status, _, _) = hr
        .post(
            "/hr/users",
            &form(&[
                ("csrf", &csrf),
                ("login", "hr2"),
                ("password", "second hr passphrase"),
                ("role", "hr"),
                ("workplaces", ""),
            ]),
        )
        .await;
    assert_eq!(status, 303);
    let hr2 = Browser::new(&app);
    assert_eq!(hr2.submit_login("hr2", "second hr passphrase").await.0, 303);
    assert!(hr2.get("/dashboard").await.1.contains("ダッシュボード"));

    // Disabling the manager ends their session and their sign-ins; records stay.
    let m1 = account_id(&app, "m1");
    let (status, _, _) = hr
        .post(
            &format!("/hr/accounts/{m1}/disable"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(manager.get("/dashboard").await.0, 303);
    assert_eq!(
        Browser::new(&app).submit_login("m1", TEST_PASSWORD).await.0,
        401
    );
    let (_, page) = hr.get("/dashboard").await;
    assert!(
        page.contains(">m1</a></td><td>管理職</td><td>T1</td><td>無効"),
        "{page}"
    );
    let (status, _, page) = hr
        .post(
            &format!("/hr/accounts/{m1}/password"),
            &form(&[("csrf", &csrf), ("password", "reviving passphrase")]),
        )
        .await;
    assert_eq!(status, 400, "a disabled account stays disabled: {page}");

    // Now hr1 may go: hr2 remains.
    let (status, _, _) = hr
        .post(
            &format!("/hr/accounts/{hr1}/disable"),
            &form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(hr.get("/dashboard").await.0, 303);
}

#[actix_web::test]
async fn only_hr_manages_accounts_and_every_change_needs_the_token() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    let hr1 = account_id(&app, "hr1");
    let csrf = token(&manager, "/dashboard").await;
    assert_eq!(manager.get(&format!("/hr/accounts/{hr1}")).await.0, 403);
    for action in ["password", "disable", "workplaces"] {
        let (status, _, _) = manager
            .post(
                &format!("/hr/accounts/{hr1}/{action}"),
                &form(&[
                    ("csrf", &csrf),
                    ("password", "manager takeover"),
                    ("workplaces", "T1"),
                ]),
            )
            .await;
        assert_eq!(status, 403, "{action}");
    }
    let hr = Browser::sign_in(&app, "hr1").await;
    let m1 = account_id(&app, "m1");
    let (status, _, _) = hr
        .post(
            &format!("/hr/accounts/{m1}/disable"),
            &form(&[("csrf", "forged")]),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(hr.get("/hr/accounts/9999").await.0, 404);
    assert_eq!(manager.get("/dashboard").await.0, 200, "still enabled");
}

#[actix_web::test]
async fn everyone_changes_their_own_password() {
    let app = spawn_app().await;
    closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    let elsewhere = Browser::sign_in(&app, "m1").await;
    let csrf = token(&manager, "/account").await;
    let change = |current: &str, new: &str, confirm: &str| {
        form(&[
            ("csrf", &csrf),
            ("current", current),
            ("new", new),
            ("confirm", confirm),
        ])
    };

    let (status, _, page) = manager
        .post(
            "/account/password",
            &change("wrong password!", "new passphrase 1", "new passphrase 1"),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("現在のパスワードが正しくありません"),
        "{page}"
    );
    let (status, _, page) = manager
        .post(
            "/account/password",
            &change(TEST_PASSWORD, "new passphrase 1", "new passphrase 2"),
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("一致しません"), "{page}");
    let (status, _, page) = manager
        .post(
            "/account/password",
            &change(TEST_PASSWORD, "short", "short"),
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("10文字以上"), "{page}");

    let (status, _, page) = manager
        .post(
            "/account/password",
            &change(TEST_PASSWORD, "new passphrase 1", "new passphrase 1"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("パスワードを変更しました"), "{page}");
    assert_eq!(
        manager.get("/dashboard").await.0,
        200,
        "this session goes on"
    );
    assert_eq!(
        elsewhere.get("/dashboard").await.0,
        303,
        "the other one ends"
    );
    assert_eq!(
        Browser::new(&app)
            .submit_login("m1", "new passphrase 1")
            .await
            .0,
        303
    );
    // A forged token changes nothing.
    let (status, _, _) = manager
        .post(
            "/account/password",
            &form(&[
                ("csrf", "forged"),
                ("current", "new passphrase 1"),
                ("new", "x passphrase 2"),
                ("confirm", "x passphrase 2"),
            ]),
        )
        .await;
    assert_eq!(status, 403);
}

#[test]
fn the_cli_lists_moves_resets_and_disables_accounts() {
    let (_dir, db) = crate::helpers::temp_database();
    crate::helpers::seed_org(&db);
    let db = db.to_str().expect("path").to_string();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--db", db.as_str()];
        all.extend_from_slice(args);
        anshin(&all, stdin)
    };
    for (login, role, workplace) in [("hr1", "hr", None), ("m1", "manager", Some("T1"))] {
        let mut args = vec![
            "user",
            "add",
            "--login",
            login,
            "--role",
            role,
            "--password-stdin",
        ];
        if let Some(code) = workplace {
            args.extend(["--workplace", code]);
        }
        assert!(run(&args, Some("a long enough password\n"))
            .status
            .success());
    }
    let moved = run(
        &["user", "workplaces", "--login", "m1", "--workplace", "T2"],
        None,
    );
    assert!(moved.status.success(), "{}", stderr(&moved));
    let reset = run(
        &["user", "passwd", "--login", "m1", "--password-stdin"],
        Some("another long password\n"),
    );
    assert!(reset.status.success(), "{}", stderr(&reset));
    let last_hr = run(&["user", "disable", "--login", "hr1"], None);
    assert!(!last_hr.status.success());
    assert!(stderr(&last_hr).contains("last HR account"));
    assert!(run(&["user", "disable", "--login", "m1"], None)
        .status
        .success());
    let listed = stdout(&run(&["user", "list"], None));
    assert!(listed.contains("hr1\thr\t\tcreated"), "{listed}");
    assert!(
        listed.contains("m1\tmanager\tT2\tcreated") && listed.contains("disabled"),
        "{listed}"
    );
    let unknown = run(&["user", "disable", "--login", "nobody"], None);
    assert!(stderr(&unknown).contains("no account \"nobody\""));
}

#[actix_web::test]
async fn hr_reads_the_audit_log_page_by_page_and_per_account() {
    let app = spawn_app().await;
    let wave = closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    let (status, _) = manager
        .get(&format!("/charts/waves/{wave}/quadrant.svg?workplace=T1"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(manager.get("/hr/audit").await.0, 403, "HR only");
    let hr = Browser::sign_in(&app, "hr1").await;

    let (status, page) = hr.get("/hr/audit?login=m1").await;
    assert_eq!(status, 200);
    let rows = |page: &str| page.matches("<tr><td>").count();
    assert_eq!(rows(&page), 2, "m1 signed in and viewed a chart: {page}");
    assert!(page.contains("4象限の図を閲覧") && !page.contains("<td>hr1</td>"));

    // 150 more entries: a page holds 100, newest first, with a link to older ones.
    let hr1 = account_id(&app, "hr1");
    for n in 0..150 {
        anshin::audit::record(&mut app.conn(), hr1, "test entry", &format!("n{n:03}"))
            .expect("recorded");
    }
    let (status, first) = hr.get("/hr/audit").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(rows(&first), 100);
    assert!(first.find("n149").expect("newest") < first.find("n148").expect("next"));
    assert!(first.contains("page=1"), "a link to older entries");
    let (_, second) = hr.get("/hr/audit?page=1").await;
    assert!(
        second.contains("n049") && !second.contains("n050"),
        "continues"
    );
    assert!(second.contains("page=0"), "a link back to newer entries");
}
