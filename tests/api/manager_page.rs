//! The manager's page: why a figure is hidden, the plan cycle (save, edit, status, policy
//! actions, the review at the next wave) and the printable team page.

use crate::helpers::{add_account, csrf_token, form_body, spawn_app, Browser};

/// One closed wave where `teams` answer `answer` to everything.
#[actix_web::test]
async fn a_team_hidden_to_protect_a_small_neighbour_is_told_why_and_what_hr_can_do() {
    let app = spawn_app().await;
    app.import_org("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,4\n");
    app.closed_wave_of(&[("T1", 8), ("T2", 3)], 4).await;
    add_account(&app, "m1", "manager", &["T1"]);
    add_account(&app, "m2", "manager", &["T2"]);

    let m1 = Browser::sign_in(&app, "m1").await;
    let (_, page) = m1.get("/dashboard").await;
    assert!(
        page.contains("隣の小さな集団") && page.contains("集計単位"),
        "8 responses, hidden by subtraction: the page says so and what HR can do"
    );
    assert!(
        !page.contains("回答者が5人未満"),
        "not 'too few' for this team"
    );
    let m2 = Browser::sign_in(&app, "m2").await;
    let (_, page) = m2.get("/dashboard").await;
    assert!(
        page.contains("この集団の回答者が5人未満") && page.contains("集計単位"),
        "3 responses: too few of its own"
    );
}

fn plan(token: &str, extra: &[(&str, &str)]) -> String {
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), token.into()),
        ("dimension".into(), "psychological_safety".into()),
        ("action".into(), "朝会で一人ひと言話す".into()),
        ("owner".into(), "係長".into()),
    ];
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form_body(&fields)
}

#[actix_web::test]
async fn a_plan_is_saved_with_a_notice_edited_completed_and_reviewed_at_the_next_wave() {
    let app = spawn_app().await;
    app.import_org("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,10\n");
    let first = app.closed_wave_of(&[("T1", 8), ("T2", 7)], 2).await;
    add_account(&app, "m1", "manager", &["T1"]);
    add_account(&app, "m2", "manager", &["T2"]);
    let m1 = Browser::sign_in(&app, "m1").await;
    let (_, page) = m1.get("/dashboard").await;
    assert!(page.contains("name=\"policy_action\" value=\"sharing_staff_goals\""));
    let token = csrf_token(&page);

    let new = plan(
        &token,
        &[
            ("wave", &first.to_string()),
            ("workplace", "T1"),
            ("policy_action", "sharing_staff_ideas"),
            ("policy_action", "sharing_manager_mission"),
        ],
    );
    let (status, location, _) = m1.post("/manager/plans", &new).await;
    assert_eq!((status, location.as_deref()), (303, Some("/dashboard")));
    let (_, page) = m1.get("/dashboard").await;
    assert!(
        page.contains("プランを保存しました。"),
        "the saving is confirmed"
    );
    assert!(page.contains("未着手") && page.contains("職員同士が対話し"));
    let (_, again) = m1.get("/dashboard").await;
    assert!(!again.contains("プランを保存しました。"), "once");

    let id = page
        .split("action=\"/manager/plans/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an edit form")
        .to_string();
    let edit = plan(&token, &[("status", "nonsense")]);
    let (status, _, _) = m1.post(&format!("/manager/plans/{id}"), &edit).await;
    assert_eq!(status, 400, "an unknown status");
    let forged = plan(&token, &[("policy_action", "not_in_the_policy")]);
    let (status, _, _) = m1.post(&format!("/manager/plans/{id}"), &forged).await;
    assert_eq!(status, 400, "an action the policy does not have");
    let m2 = Browser::sign_in(&app, "m2").await;
    let (_, other) = m2.get("/dashboard").await;
    let theirs = plan(&csrf_token(&other), &[("status", "done")]);
    let (status, _, _) = m2.post(&format!("/manager/plans/{id}"), &theirs).await;
    assert_eq!(status, 403, "another team's manager cannot edit it");
    let (status, _, _) = m1
        .post(
            &format!("/manager/plans/{id}"),
            "csrf=forged&dimension=x&action=a&owner=b",
        )
        .await;
    assert_eq!(status, 403, "CSRF");

    let done = plan(&token, &[("status", "done")]);
    let (status, location, _) = m1.post(&format!("/manager/plans/{id}"), &done).await;
    assert_eq!((status, location.as_deref()), (303, Some("/dashboard")));
    let (_, page) = m1.get("/dashboard").await;
    assert!(page.contains("プランを更新しました。") && page.contains("完了"));

    // The next wave: everyone answers 4 instead of 2; the plan is reviewed beside the change
    // in its target dimension, in words.
    app.closed_wave_of(&[("T1", 8), ("T2", 7)], 4).await;
    let (_, page) = m1.get("/dashboard").await;
    let review = page
        .split("class=\"data plan-review\"")
        .nth(1)
        .expect("the review of the previous plan");
    let review = review.split("</table>").next().expect("its table");
    assert!(review.contains("朝会で一人ひと言話す") && review.contains("完了"));
    assert!(
        review.contains("change-meaningful") || review.contains("change-noise"),
        "the change is labelled: {review}"
    );
}

#[actix_web::test]
async fn the_print_view_shows_the_team_without_forms_to_its_manager_only() {
    let app = spawn_app().await;
    app.import_org("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,10\n");
    app.closed_wave_of(&[("T1", 8), ("T2", 7)], 3).await;
    add_account(&app, "m1", "manager", &["T1"]);
    add_account(&app, "hr1", "hr", &[]);
    let m1 = Browser::sign_in(&app, "m1").await;
    let (status, page) = m1.get("/dashboard/print?workplace=T1").await;
    assert_eq!(status, 200);
    assert!(page.contains("職場ミーティング用") && page.contains("職員係"));
    assert!(!page.contains("<form"), "no forms on paper");
    let (status, _) = m1.get("/dashboard/print?workplace=T2").await;
    assert_eq!(status, 403, "not their team");
    let hr = Browser::sign_in(&app, "hr1").await;
    let (status, page) = hr.get("/dashboard/print?workplace=T2").await;
    assert_eq!(status, 200);
    assert!(page.contains("人事係"));
}
