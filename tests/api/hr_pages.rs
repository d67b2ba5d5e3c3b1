//! HR's pages of issue 14: closing a wave through a confirmation, the warning before a second
//! open wave, the wide dashboard with the inline heatmap, the drill-down's title and way back,
//! the job-level view, the organisation's trend, the Excel-shaped sheet and the audit log.

use crate::dashboards::closed_wave;
use crate::helpers::{csrf_token, Browser};

#[actix_web::test]
async fn hr_closes_a_wave_only_through_the_confirmation_and_is_told_what_happened() {
    let app = crate::helpers::spawn_app().await;
    closed_wave(&app).await;
    let open = app.open_wave();
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, page) = hr.get("/dashboard").await;
    assert!(
        page.contains(&format!("href=\"/hr/waves/{open}/confirm-close\"")),
        "the dashboard links to the confirmation, it does not close at once: {page}"
    );
    assert!(
        !page.contains(&format!("action=\"/hr/waves/{open}/close\"")),
        "{page}"
    );
    assert!(
        page.contains("回答受付中の調査回があります") && page.contains("name=\"second_wave\""),
        "opening a second wave asks first while one is open: {page}"
    );

    let (status, confirm) = hr.get(&format!("/hr/waves/{open}/confirm-close")).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("再開できません"), "{confirm}");
    assert!(
        confirm.contains(&format!("action=\"/hr/waves/{open}/close\"")),
        "{confirm}"
    );
    let manager = Browser::sign_in(&app, "m1").await;
    let (status, _) = manager
        .get(&format!("/hr/waves/{open}/confirm-close"))
        .await;
    assert_eq!(status, 403, "managers cannot reach the confirmation");
    let (status, _, _) = hr
        .post(&format!("/hr/waves/{open}/close"), "csrf=forged")
        .await;
    assert_eq!(status, 403, "the close stays CSRF-protected");

    let token = csrf_token(&confirm);
    let (status, location, _) = hr
        .post(&format!("/hr/waves/{open}/close"), &format!("csrf={token}"))
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/dashboard")));
    let (_, page) = hr.get("/dashboard").await;
    assert!(
        page.contains("role=\"status\">「2026年度」を締め切りました"),
        "the dashboard says what happened: {page}"
    );
    assert!(
        !page.contains("name=\"second_wave\""),
        "no open wave, no warning"
    );
    let (_, page) = hr.get("/dashboard").await;
    assert!(!page.contains("を締め切りました"), "the message shows once");
    let (status, _) = hr.get(&format!("/hr/waves/{open}/confirm-close")).await;
    assert_eq!(status, 410, "a closed wave has nothing to confirm");
    let (status, _) = hr.get("/hr/waves/999/confirm-close").await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn the_hr_dashboard_is_wide_its_heatmap_links_to_a_titled_drill_down_and_back() {
    let app = crate::helpers::spawn_app().await;
    let wave = closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let (status, page) = hr.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("class=\"page page-wide\""), "{page}");
    assert!(page.contains("class=\"dashboard-grid\""), "{page}");
    let inline = page
        .split("class=\"chart-inline\">")
        .nth(1)
        .expect("the heatmap is inline");
    assert!(inline.trim_start().starts_with("<svg"), "{inline}");
    assert!(
        inline.contains("/hr/groups?workplace=T1"),
        "a cell links to the drill-down: {inline}"
    );
    assert!(
        page.contains("<option value=\"1\">部</option>"),
        "the quadrant's level chooser: {page}"
    );
    let (_, page) = hr.get("/dashboard?level=1").await;
    assert!(page.contains("quadrant.svg?lang=ja&amp;level=1"), "{page}");
    let (status, _) = hr.get("/dashboard?level=x").await;
    assert_eq!(status, 400);
    let (status, svg) = hr
        .get(&format!("/charts/waves/{wave}/quadrant.svg?level=1"))
        .await;
    assert_eq!(status, 200);
    assert!(svg.contains("総務部") && !svg.contains("職員係"), "{svg}");

    let (status, page) = hr.get("/hr/groups?workplace=T1").await;
    assert_eq!(status, 200);
    assert!(page.contains("<title>職場の結果：職員係 | "), "{page}");
    assert!(!page.contains("わたしの職場"), "{page}");
    assert!(
        page.contains("href=\"/dashboard#heatmap\""),
        "a way back: {page}"
    );
}

#[actix_web::test]
async fn hr_reads_job_levels_the_organisation_trend_and_the_excel_sheet_and_managers_cannot() {
    let app = crate::helpers::spawn_app().await;
    let wave = closed_wave(&app).await;
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, page) = hr.get("/dashboard").await;
    for link in [
        format!("/hr/waves/{wave}/results-sheet.csv"),
        format!("/hr/waves/{wave}/job-levels"),
        "/hr/trends".to_string(),
    ] {
        assert!(page.contains(&format!("href=\"{link}\"")), "{link}: {page}");
    }

    let (status, page) = hr.get(&format!("/hr/waves/{wave}/job-levels")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>職層別の結果 — 2026年度</h1>"), "{page}");
    assert!(page.contains("<svg"), "{page}");
    let (status, page) = hr.get("/hr/trends").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>組織全体の推移</h1>"), "{page}");
    assert!(page.contains("<th scope=\"col\">2026年度</th>"), "{page}");

    let mut response = app
        .client
        .get(app.url(&format!("/hr/waves/{wave}/results-sheet.csv")))
        .insert_header(("cookie", hr.cookie().expect("signed in")))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 200);
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(disposition.contains("sheet.csv"), "{disposition}");
    let body = String::from_utf8(response.body().await.expect("body").to_vec()).expect("UTF-8");
    let header = body
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(body.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(
        header.starts_with("調査,区分,職場コード,職場名,"),
        "Japanese headers: {header}"
    );
    assert!(
        header.contains("平均") && !header.contains("mean"),
        "{header}"
    );
    assert_eq!(
        body.lines().filter(|l| l.contains(",T1,")).count(),
        1,
        "one row per group: {body}"
    );

    let manager = Browser::sign_in(&app, "m1").await;
    for path in [
        format!("/hr/waves/{wave}/results-sheet.csv"),
        format!("/hr/waves/{wave}/job-levels"),
        "/hr/trends".to_string(),
    ] {
        let (status, _) = manager.get(&path).await;
        assert_eq!(status, 403, "{path}");
    }
}

/// One page view writes one audit row (its charts are part of it); the log shows Tokyo time
/// to the second and the action in the reader's language.
#[actix_web::test]
async fn one_page_view_is_one_audit_row_in_local_time_and_the_readers_language() {
    let app = crate::helpers::spawn_app().await;
    let wave = closed_wave(&app).await;
    let manager = Browser::sign_in(&app, "m1").await;
    let (status, page) = manager.get("/dashboard").await;
    assert_eq!(status, 200);
    // What the browser fetches for the page: its charts.
    for chart in [
        format!("/charts/waves/{wave}/quadrant.svg?workplace=T1"),
        format!("/charts/waves/{wave}/anxieties.svg?workplace=T1"),
        "/charts/trend.svg?workplace=T1&dimension=engagement".to_string(),
    ] {
        assert_eq!(manager.get(&chart).await.0, 200, "{chart}: {page}");
    }
    let hr = Browser::sign_in(&app, "hr1").await;
    let (_, log) = hr.get("/hr/audit?login=m1").await;
    let rows = |page: &str| page.matches("<tr><td>").count();
    assert_eq!(rows(&log), 2, "signed in, viewed the team page: {log}");
    assert!(
        log.contains("職場の結果を閲覧") && log.contains("ログイン"),
        "{log}"
    );
    assert!(log.contains(" JST</td>"), "Tokyo time: {log}");
    assert!(!log.contains("Z</td>"), "not the stored UTC form: {log}");
    let (_, log) = hr.get("/hr/audit?login=m1&lang=en").await;
    assert!(log.contains("viewed team results"), "{log}");

    let (_, _) = hr.get("/dashboard").await;
    let (_, _) = hr.get(&format!("/charts/waves/{wave}/quadrant.svg")).await;
    let (_, log) = hr.get("/hr/audit?login=hr1").await;
    assert_eq!(
        rows(&log),
        2,
        "HR signed in and viewed the dashboard once: {log}"
    );
}
