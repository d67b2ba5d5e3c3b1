//! The manager's page in a real browser (see `e2e` for the browser and axe-core): a team
//! hidden to protect a neighbour reads why; a phone shows every figure on one line; a plan
//! is saved, edited, completed and reviewed after the next wave; the print view opens.
//! Screenshots go to `target/e2e/manager-page-*.png`.

use fantoccini::{Client, Locator};

use crate::e2e::{axe_check, browser, driver, page_text, screenshot, sign_in, wait_for_path};
use crate::helpers::{add_account, spawn_app};

/// The `.figure` elements drawn on more than one line (a number broken mid-way).
async fn broken_figures(client: &Client) -> serde_json::Value {
    client
        .execute(
            "return [...document.querySelectorAll('.figure')]
               .filter(e => e.getClientRects().length !== 1)
               .map(e => e.textContent);",
            vec![],
        )
        .await
        .expect("script")
}

/// Whether the confirmation after saving is on screen where the page opens.
async fn notice_in_view(client: &Client) -> bool {
    client
        .execute(
            "const n = document.getElementById('plan-notice');
             return n !== null && n.getBoundingClientRect().bottom <= window.innerHeight;",
            vec![],
        )
        .await
        .expect("script")
        == serde_json::json!(true)
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"))
        .click()
        .await
        .unwrap_or_else(|_| panic!("click {css}"));
}

async fn select(client: &Client, css: &str, value: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|_| panic!("select {value}"));
}

#[actix_web::test]
async fn a_manager_whose_team_protects_a_neighbour_reads_why_on_a_phone() {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    app.import_org("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,4\n");
    app.closed_wave_of(&[("T1", 8), ("T2", 3)], 4).await;
    add_account(&app, "m1", "manager", &["T1"]);
    let manager = browser(&driver, 360, 740).await;
    sign_in(&manager, &app, "m1").await;
    let text = page_text(&manager).await;
    screenshot(&manager, "manager-page-1-hidden-by-neighbour").await;
    assert!(
        text.contains("隣の小さな集団") && text.contains("集計単位"),
        "the reason and what HR can do: {text}"
    );
    axe_check(&manager, "hidden team page").await;
    manager.close().await.expect("close");
}

#[actix_web::test]
async fn a_manager_plans_on_a_phone_completes_the_plan_and_reviews_it_after_the_next_wave() {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    app.import_org("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,10\n");
    app.closed_wave_of(&[("T1", 8), ("T2", 7)], 2).await;
    app.closed_wave_of(&[("T1", 8), ("T2", 7)], 3).await;
    add_account(&app, "m1", "manager", &["T1"]);

    let manager = browser(&driver, 360, 740).await;
    sign_in(&manager, &app, "m1").await;
    screenshot(&manager, "manager-page-2-phone").await;
    assert_eq!(
        broken_figures(&manager).await,
        serde_json::json!([]),
        "no figure wraps at 360 px"
    );
    let text = page_text(&manager).await;
    assert!(text.contains("誤差の範囲") || text.contains("有意な変化"));
    axe_check(&manager, "team page on a phone").await;

    // Save a plan with one of the policy's actions ticked.
    manager
        .find(Locator::Css("#action-T1"))
        .await
        .expect("action")
        .send_keys("朝会で一人ひと言、困りごとを話す")
        .await
        .expect("type");
    manager
        .find(Locator::Css("#owner-T1"))
        .await
        .expect("owner")
        .send_keys("係長")
        .await
        .expect("type");
    click(&manager, "#pick-T1-sharing_staff_ideas").await;
    click(
        &manager,
        "form[action=\"/manager/plans\"] button[type=submit]",
    )
    .await;
    wait_for_path(&manager, "/dashboard").await;
    let text = page_text(&manager).await;
    assert!(text.contains("プランを保存しました。") && text.contains("未着手"));
    assert!(
        notice_in_view(&manager).await,
        "the confirmation is seen at once"
    );
    screenshot(&manager, "manager-page-3-saved").await;

    // Edit it: in progress, then done.
    for (status, word) in [("in_progress", "実施中"), ("done", "完了")] {
        click(&manager, ".plan details summary").await;
        select(&manager, ".plan details select[name=\"status\"]", status).await;
        click(&manager, ".plan details button[type=submit]").await;
        wait_for_path(&manager, "/dashboard").await;
        let text = page_text(&manager).await;
        assert!(
            text.contains("プランを更新しました。") && text.contains(word),
            "{status}: {text}"
        );
        assert!(notice_in_view(&manager).await);
    }
    let picked = manager
        .execute(
            "return document.querySelector('.plan details input[value=\"sharing_staff_ideas\"]').checked",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(picked, serde_json::json!(true), "the ticked action is kept");
    screenshot(&manager, "manager-page-4-done").await;

    // The next wave: the plan is reviewed beside the change in its dimension.
    app.closed_wave_of(&[("T1", 8), ("T2", 7)], 4).await;
    manager.refresh().await.expect("reload");
    wait_for_path(&manager, "/dashboard").await;
    let review = manager
        .find(Locator::Css("table.plan-review"))
        .await
        .expect("the review")
        .text()
        .await
        .expect("text");
    assert!(
        review.contains("朝会で一人ひと言、困りごとを話す") && review.contains("完了"),
        "{review}"
    );
    assert!(review.contains("有意な変化") || review.contains("誤差の範囲"));
    screenshot(&manager, "manager-page-5-review").await;
    assert_eq!(broken_figures(&manager).await, serde_json::json!([]));
    axe_check(&manager, "team page with a review").await;

    // The print view.
    click(&manager, "a[href^=\"/dashboard/print\"]").await;
    wait_for_path(&manager, "/dashboard/print").await;
    assert!(page_text(&manager).await.contains("職場ミーティング用"));
    screenshot(&manager, "manager-page-6-print").await;
    axe_check(&manager, "print view").await;
    manager.close().await.expect("close");

    let desktop = browser(&driver, 1280, 800).await;
    sign_in(&desktop, &app, "m1").await;
    screenshot(&desktop, "manager-page-7-desktop").await;
    assert_eq!(broken_figures(&desktop).await, serde_json::json!([]));
    desktop.close().await.expect("close");
}
