//! The staff survey over HTTP: every status, nothing consumed by a rejected submission, and
//! exactly one success for concurrent submissions with one code.

use diesel::prelude::*;

use anshin::codes::InvitationCode;
use anshin::collection::answers;
use anshin::db::schema::{comments, invitation_codes, responses};

use crate::helpers::{complete_answers, form_body, spawn_app, TestApp};

fn used_codes(app: &TestApp) -> i64 {
    invitation_codes::table
        .filter(invitation_codes::used.eq(true))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

fn stored_responses(app: &TestApp) -> i64 {
    responses::table
        .filter(anshin::db::schema::responses::filled.eq(true))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

async fn ready_app() -> (TestApp, i32, Vec<InvitationCode>) {
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    let codes = app.issue_codes(wave, "T1", 10);
    (app, wave, codes)
}

#[actix_web::test]
async fn health_and_start_page() {
    let app = spawn_app().await;
    let (status, body) = app.get("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, body) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(body.contains("name=\"code\""));
    assert!(body.contains("lang=\"ja\""));
    let (status, body) = app.get("/?lang=en").await;
    assert_eq!(status, 200);
    assert!(body.contains("lang=\"en\""));
}

#[actix_web::test]
async fn the_link_shows_the_form_with_what_is_stored_and_k() {
    let (app, _, codes) = ready_app().await;
    let (status, body) = app.get(&format!("/s/{}", codes[0].display_form())).await;
    assert_eq!(status, 200);
    for item in ["eng1", "ps7", "hs1", "rec1", "job_level", "comment"] {
        assert!(body.contains(&format!("name=\"{item}\"")), "{item}");
    }
    assert!(body.contains("type=\"radio\""));
    assert!(body.contains("5人以上"), "the page states k");
    // The form posts the code in its body, to a URL without the code.
    assert!(body.contains("action=\"&#x2F;s\"") || body.contains("action=\"/s\""));
    assert!(body.contains(&format!(
        "name=\"code\" value=\"{}\"",
        codes[0].display_form()
    )));
}

#[actix_web::test]
async fn a_complete_submission_is_stored_and_the_code_is_spent() {
    let (app, wave, codes) = ready_app().await;
    let mut pairs = complete_answers(4);
    pairs.push(("job_level".into(), "staff".into()));
    pairs.push(("comment".into(), "朝会で相談しやすい".into()));
    let (status, location, _) = app
        .post_form(
            &format!("/s/{}", codes[0].display_form()),
            &form_body(&pairs),
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/thanks?lang=ja"));
    let (status, _) = app.get("/thanks").await;
    assert_eq!(status, 200);

    let stored: Vec<(i32, String, Vec<u8>)> = responses::table
        .filter(responses::filled.eq(true))
        .select((responses::wave_id, responses::job_level, responses::answers))
        .load(&mut app.conn())
        .expect("responses");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, wave);
    assert_eq!(anshin::collection::slots::unpadded(&stored[0].1), "staff");
    let decoded = answers::decode(&stored[0].2);
    assert_eq!(decoded.len(), pairs.len() - 2);
    assert!(decoded.iter().all(|a| a.is_some()));
    let comment_count: i64 = comments::table
        .filter(comments::filled.eq(true))
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(comment_count, 1);
    assert_eq!(used_codes(&app), 1);

    // The same code again: 409, on the link and on submission.
    let (status, _) = app.get(&format!("/s/{}", codes[0].display_form())).await;
    assert_eq!(status, 409);
    let (status, _, body) = app
        .post_form(
            &format!("/s/{}", codes[0].display_form()),
            &form_body(&pairs),
        )
        .await;
    assert_eq!(status, 409);
    assert!(body.contains("使用済み"), "{body}");
    // The error page's language link must not lead back to the code's URL.
    assert!(body.contains("href=\"&#x2F;?lang=en\""), "{body}");
    assert!(
        !body.contains(&codes[0].display_form()),
        "the code is not repeated on the page"
    );
    assert_eq!(stored_responses(&app), 1);
}

#[actix_web::test]
async fn codes_are_accepted_however_they_are_typed() {
    let (app, _, codes) = ready_app().await;
    let typed = codes[1].display_form().to_lowercase().replace('-', " ");
    let (status, _, body) = app
        .post_form("/s", &form_body(&[("code".into(), typed)]))
        .await;
    assert_eq!(status, 200, "the start page's code opens the form");
    assert!(body.contains("name=\"ps7\""));
    let mut pairs = complete_answers(3);
    pairs.push(("code".into(), codes[1].display_form().replace('-', "")));
    pairs.push(("step".into(), "answers".into()));
    let (status, _, _) = app.post_form("/s", &form_body(&pairs)).await;
    assert_eq!(status, 303);
}

#[actix_web::test]
async fn unknown_codes_are_404_and_closed_waves_410() {
    let (app, wave, codes) = ready_app().await;
    let unknown = "ZZZZ-ZZZZ-ZZZZ-ZZZZ";
    let (status, _) = app.get(&format!("/s/{unknown}")).await;
    assert_eq!(status, 404);
    let (status, _, _) = app
        .post_form(&format!("/s/{unknown}"), &form_body(&complete_answers(3)))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.get("/s/not-a-code").await;
    assert_eq!(status, 404);
    let (status, _, body) = app.post_form("/s", "code=nonsense").await;
    assert_eq!(status, 404);
    assert!(
        body.contains("value=\"nonsense\""),
        "the start page keeps what was typed"
    );

    anshin::waves::close(&mut app.conn(), wave).expect("closed");
    let (status, _) = app.get(&format!("/s/{}", codes[0].display_form())).await;
    assert_eq!(status, 410);
    let (status, _, _) = app
        .post_form(
            &format!("/s/{}", codes[0].display_form()),
            &form_body(&complete_answers(3)),
        )
        .await;
    assert_eq!(status, 410);
    assert_eq!(used_codes(&app), 0);
}

#[actix_web::test]
async fn invalid_answers_are_400_with_answers_kept_and_nothing_consumed() {
    let (app, _, codes) = ready_app().await;
    let path = format!("/s/{}", codes[0].display_form());

    // Out of range, with everything else kept.
    let mut pairs = complete_answers(4);
    pairs[0].1 = "9".into();
    let (status, _, body) = app.post_form(&path, &form_body(&pairs)).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("eng1-error"),
        "the error sits beside its item"
    );
    assert_eq!(
        body.matches(" checked").count(),
        pairs.len() - 1,
        "every valid answer is kept checked"
    );

    // Missing required answers.
    let (status, _, _) = app
        .post_form(&path, &form_body(&complete_answers(4)[1..]))
        .await;
    assert_eq!(status, 400);
    // An unknown item.
    let mut pairs = complete_answers(4);
    pairs.push(("q999".into(), "3".into()));
    let (status, _, _) = app.post_form(&path, &form_body(&pairs)).await;
    assert_eq!(status, 400);
    // Duplicate fields.
    let mut pairs = complete_answers(4);
    pairs.push(("ps7".into(), "1".into()));
    let (status, _, _) = app.post_form(&path, &form_body(&pairs)).await;
    assert_eq!(status, 400);
    // A malformed body.
    let (status, _, _) = app.post_form(&path, "%%%=%zz&&=").await;
    assert_eq!(status, 400);
    // A comment over the limit.
    let mut pairs = complete_answers(4);
    pairs.push(("comment".into(), "あ".repeat(1001)));
    let (status, _, _) = app.post_form(&path, &form_body(&pairs)).await;
    assert_eq!(status, 400);

    assert_eq!(used_codes(&app), 0, "no code consumed by a rejected answer");
    assert_eq!(stored_responses(&app), 0);
    // The code still works.
    let (status, _, _) = app.post_form(&path, &form_body(&complete_answers(4))).await;
    assert_eq!(status, 303);
}

/// A write that fails inside the transaction (here a trigger refuses the comment, the last
/// slot filled) rolls back the code's redemption and the response with it.
#[actix_web::test]
async fn a_failed_write_is_503_with_the_answers_handed_back_and_nothing_consumed() {
    let (app, _, codes) = ready_app().await;
    diesel::sql_query(
        "CREATE TRIGGER refuse_comments BEFORE UPDATE ON comments \
         BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END",
    )
    .execute(&mut app.conn())
    .expect("trigger");
    let path = format!("/s/{}", codes[0].display_form());
    let mut pairs = complete_answers(4);
    pairs.push(("comment".into(), "書き込みに失敗するコメント".into()));

    let (status, _, body) = app.post_form(&path, &form_body(&pairs)).await;
    assert_eq!(status, 503);
    assert!(body.contains("回答はまだ保存されていません"), "{body}");
    assert_eq!(body.matches(" checked").count(), pairs.len() - 1);
    assert!(
        body.contains("書き込みに失敗するコメント"),
        "the comment is handed back"
    );
    assert_eq!(used_codes(&app), 0, "the redemption was rolled back");
    assert_eq!(stored_responses(&app), 0, "the response was rolled back");

    diesel::sql_query("DROP TRIGGER refuse_comments")
        .execute(&mut app.conn())
        .expect("trigger dropped");
    let (status, _, _) = app.post_form(&path, &form_body(&pairs)).await;
    assert_eq!(status, 303, "the same code and answers go through");
    assert_eq!((used_codes(&app), stored_responses(&app)), (1, 1));
}

#[actix_web::test]
async fn oversized_bodies_are_413_and_consume_nothing() {
    let (app, _, codes) = ready_app().await;
    let mut pairs = complete_answers(4);
    pairs.push(("comment".into(), "x".repeat(70 * 1024)));
    let (status, _, body) = app
        .post_form(
            &format!("/s/{}", codes[0].display_form()),
            &form_body(&pairs),
        )
        .await;
    assert_eq!(status, 413);
    assert!(body.contains("<html"), "a page in the user's language");
    assert_eq!(used_codes(&app), 0);
}

#[actix_web::test]
async fn switching_language_keeps_the_answers_and_stores_nothing() {
    let (app, _, codes) = ready_app().await;
    let mut pairs = complete_answers(2);
    pairs.truncate(3);
    pairs.push(("code".into(), codes[0].display_form()));
    pairs.push(("step".into(), "answers".into()));
    pairs.push(("switch_lang".into(), "en".into()));
    let (status, _, body) = app.post_form("/s", &form_body(&pairs)).await;
    assert_eq!(status, 200);
    assert!(body.contains("lang=\"en\""));
    assert!(body.contains("checked"), "answers survive the switch");
    assert_eq!(used_codes(&app), 0);
}

#[actix_web::test]
async fn fifty_concurrent_submissions_with_one_code_yield_exactly_one_success() {
    let (app, _, codes) = ready_app().await;
    let path = format!("/s/{}", codes[0].display_form());
    let body = form_body(&complete_answers(5));
    let attempts = (0..50).map(|_| app.post_form(&path, &body));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|(status, _, _)| status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(stored_responses(&app), 1);
    assert_eq!(used_codes(&app), 1);
}

#[actix_web::test]
async fn repeated_wrong_codes_are_throttled() {
    let (app, _, codes) = ready_app().await;
    let mut last = 0;
    for i in 0..25 {
        let (status, _) = app.get(&format!("/s/ZZZZ-ZZZZ-ZZZZ-{:04}", i)).await;
        last = status;
    }
    assert_eq!(last, 429);
    // Even a valid code waits until the window passes.
    let (status, _) = app.get(&format!("/s/{}", codes[0].display_form())).await;
    assert_eq!(status, 429);
}

#[actix_web::test]
async fn every_page_carries_the_security_headers() {
    let (app, _, codes) = ready_app().await;
    for path in [
        "/",
        "/healthz",
        &format!("/s/{}", codes[0].display_form()),
        "/nowhere",
    ] {
        let response = app.client.get(app.url(path)).send().await.expect("GET");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("cache-control"), "no-store", "{path}");
        let csp = header("content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
    }
    // Pages have no inline script or style for the policy to allow.
    let (_, body) = app.get(&format!("/s/{}", codes[0].display_form())).await;
    assert!(!body.contains("style="));
    // Its one script is a file of our own origin, with nothing between the tags.
    let scripts: Vec<&str> = body
        .match_indices("<script")
        .map(|(i, _)| &body[i..])
        .collect();
    assert_eq!(scripts.len(), 1);
    assert!(scripts[0].starts_with(r#"<script src="/static/survey.js" defer></script>"#));
    let (status, script) = app.get("/static/survey.js").await;
    assert_eq!(status, 200);
    assert!(script.contains("localStorage"));
}

/// POSTs a complete survey for `code` with the given extra headers; returns the status.
async fn post_with_headers(
    app: &TestApp,
    code: &InvitationCode,
    headers: &[(&'static str, String)],
) -> u16 {
    let mut request = app
        .client
        .post(app.url(&format!("/s/{}", code.display_form())))
        .insert_header(("content-type", "application/x-www-form-urlencoded"));
    for (name, value) in headers {
        request = request.insert_header((*name, value.clone()));
    }
    request
        .send_body(form_body(&complete_answers(4)))
        .await
        .expect("POST")
        .status()
        .as_u16()
}

#[actix_web::test]
async fn cross_site_posts_are_refused_and_same_origin_ones_pass() {
    let (app, _, codes) = ready_app().await;
    let host = app.address.trim_start_matches("http://").to_string();
    for refused in [
        vec![("origin", "https://evil.example".to_string())],
        vec![
            ("sec-fetch-site", "cross-site".to_string()),
            ("origin", "null".to_string()),
        ],
        vec![("sec-fetch-site", "same-site".to_string())],
    ] {
        assert_eq!(
            post_with_headers(&app, &codes[0], &refused).await,
            403,
            "{refused:?}"
        );
    }
    assert_eq!(used_codes(&app), 0);
    // What a browser sends for our own form under Referrer-Policy: no-referrer.
    let browser = vec![
        ("origin", "null".to_string()),
        ("sec-fetch-site", "same-origin".to_string()),
    ];
    assert_eq!(post_with_headers(&app, &codes[0], &browser).await, 303);
    let same_host = vec![("origin", format!("http://{host}"))];
    assert_eq!(post_with_headers(&app, &codes[1], &same_host).await, 303);
}

/// English chosen on the form holds through the thank-you page and every refusal, and staff
/// pages say what happened in words, never with a status number.
#[actix_web::test]
async fn the_chosen_language_holds_through_thanks_and_errors_in_words() {
    let (app, _, codes) = ready_app().await;
    let code = codes[0].display_form();
    // The switch re-renders the form in English, carrying the language on.
    let mut pairs = vec![
        ("code".to_string(), code.clone()),
        ("step".to_string(), "answers".to_string()),
        ("switch_lang".to_string(), "en".to_string()),
    ];
    let (status, _, body) = app.post_form("/s", &form_body(&pairs)).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"<input type="hidden" name="lang" value="en">"#));
    // What that English form posts next: its answers and the hidden fields.
    pairs.pop();
    pairs.push(("lang".into(), "en".into()));
    pairs.extend(complete_answers(3));
    let (status, location, _) = app.post_form("/s", &form_body(&pairs)).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/thanks?lang=en"));
    let (_, thanks) = app.get("/thanks?lang=en").await;
    assert!(thanks.contains("lang=\"en\"") && thanks.contains("Thank you"));
    // The same form again: used, in English, in words.
    let (status, _, used) = app.post_form("/s", &form_body(&pairs)).await;
    assert_eq!(status, 409);
    assert!(used.contains("This code has already been used"), "{used}");
    assert!(used.contains("href=\"/?lang=en\">Back to the start page"));
    for page in [&used, &thanks] {
        assert!(!page.contains("Error 4") && !page.contains("409"), "{page}");
    }
    // An unknown address in English after `?lang=en`, and a Japanese one by default.
    let (status, body) = app.get("/nowhere?lang=en").await;
    assert_eq!(status, 404);
    assert!(
        body.contains("Page not found") && !body.contains("404"),
        "{body}"
    );
    let (_, body) = app.get("/nowhere").await;
    assert!(body.contains("ページが見つかりません") && !body.contains("エラー"));
    // Too many wrong codes: 429, in the language the form carried, in words.
    let mut last = (0, String::new());
    for i in 0..25 {
        let wrong = [
            ("code".to_string(), format!("ZZZZ-ZZZZ-ZZZZ-{i:04}")),
            ("step".to_string(), "answers".to_string()),
            ("lang".to_string(), "en".to_string()),
        ];
        let (status, _, body) = app.post_form("/s", &form_body(&wrong)).await;
        last = (status, body);
    }
    assert_eq!(last.0, 429);
    assert!(last.1.contains("Too many attempts") && !last.1.contains("429"));
}

/// An incomplete submission comes back with the focus on the first item to answer.
#[actix_web::test]
async fn an_incomplete_submission_focuses_the_first_missing_item() {
    let (app, _, codes) = ready_app().await;
    let path = format!("/s/{}", codes[0].display_form());
    let pairs = complete_answers(4);
    // The first three items left out: the first of them takes the focus, and only it.
    let (status, _, body) = app.post_form(&path, &form_body(&pairs[3..])).await;
    assert_eq!(status, 400);
    assert_eq!(body.matches("autofocus").count(), 1);
    let first = &pairs[0].0;
    assert!(
        body.contains(&format!(
            r#"id="{first}-1" name="{first}" value="1" required aria-invalid="true" autofocus>"#
        )),
        "{body}"
    );
    // Nothing answered at all: the same first item.
    let (status, _, body) = app.post_form(&path, "").await;
    assert_eq!(status, 400);
    assert!(body.contains(&format!(r#"id="{first}-1""#)));
    assert_eq!(body.matches("autofocus").count(), 1);
}

/// Pages go out gzip-compressed to a client that accepts it, and as they are to one that
/// does not (load tools, old clients).
#[actix_web::test]
async fn pages_are_compressed_when_the_client_accepts_gzip() {
    let (app, _, codes) = ready_app().await;
    let url = app.url(&format!("/s/{}", codes[0].display_form()));
    let client = awc::Client::new();
    let mut plain = client
        .get(&url)
        .insert_header(("Accept-Encoding", "identity"))
        .send()
        .await
        .expect("plain");
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    let raw = plain.body().limit(1 << 20).await.expect("body").len();
    let mut packed = client
        .get(&url)
        .insert_header(("Accept-Encoding", "gzip"))
        .send()
        .await
        .expect("gzip");
    assert_eq!(
        packed
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let wire = packed.body().limit(1 << 20).await.expect("body").len();
    assert!(wire * 4 < raw, "{raw} bytes go out as {wire}");
    // The security headers are still there.
    assert_eq!(
        packed
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}
