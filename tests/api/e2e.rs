//! End to end in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them). Screenshots of every step go
//! to `target/e2e/` for inspection.
//!
//! Without chromedriver the tests say so and pass, unless `ANSHIN_E2E=required` (as in CI),
//! where a missing browser is a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::helpers::{add_account, spawn_app, TestApp, TEST_PASSWORD};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port, stopped when dropped.
pub(crate) struct Driver {
    process: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

pub(crate) fn driver() -> Option<Driver> {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        let required = std::env::var("ANSHIN_E2E").is_ok_and(|v| v == "required");
        assert!(
            !required,
            "ANSHIN_E2E=required but {CHROMEDRIVER} or {CHROMIUM} is missing"
        );
        eprintln!("browser tests skipped: install chromium and chromium-driver (see .ci/run)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    // Owned by `Driver` at once, so every path below stops it again.
    let driver = Driver {
        process: Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(driver);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("chromedriver did not start");
}

/// A headless Chromium session with a phone-sized (or desktop) window; downloads go to
/// `target/e2e/downloads`.
pub(crate) async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    browser_with(driver, width, height, true).await
}

/// The same; with `javascript` false the survey's script is blocked from loading (through
/// chromedriver's DevTools endpoint), the path of a browser without it. Switching JavaScript
/// off in the profile instead stalls chromedriver's own clicks.
async fn browser_with(driver: &Driver, width: u32, height: u32, javascript: bool) -> Client {
    let client = plain_browser(driver, width, height).await;
    if !javascript {
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let endpoint = format!("{}/session/{session}/goog/cdp/execute", driver.url);
        for (cmd, params) in [
            ("Network.enable", serde_json::json!({})),
            (
                "Network.setBlockedURLs",
                serde_json::json!({ "urls": ["*/static/survey.js"] }),
            ),
        ] {
            let response = awc::Client::new()
                .post(&endpoint)
                .send_json(&serde_json::json!({ "cmd": cmd, "params": params }))
                .await
                .expect("DevTools command");
            assert!(response.status().is_success(), "{cmd}");
        }
    }
    client
}

async fn plain_browser(driver: &Driver, width: u32, height: u32) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_string(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--lang=ja",
            ],
            // Japanese first, as the city's staff browsers send it.
            "prefs": {
                "intl.accept_languages": "ja,en",
                "download.default_directory": download_dir(),
                "download.prompt_for_download": false,
            },
            // The page's viewport (a phone is 360 × 740 CSS pixels).
            "mobileEmulation": { "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1 } },
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
    std::fs::create_dir_all(&dir).expect("target/e2e");
    dir
}

fn download_dir() -> PathBuf {
    let dir = screenshot_dir().join("downloads");
    std::fs::create_dir_all(&dir).expect("target/e2e/downloads");
    dir
}

/// Waits for the browser to finish downloading `name` and returns its contents.
async fn downloaded(name: &str) -> String {
    let path = download_dir().join(name);
    for _ in 0..100 {
        // Chromium writes `name.crdownload` and renames it when complete.
        if let Ok(text) = std::fs::read_to_string(&path) {
            return text;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser did not download {name}");
}

pub(crate) async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Waits until the browser shows a page at `path` (after a click that navigates).
pub(crate) async fn wait_for_path(client: &Client, path: &str) {
    for _ in 0..100 {
        if client
            .current_url()
            .await
            .is_ok_and(|url| url.path() == path)
        {
            // The new document is there; let it finish loading.
            if client.find(Locator::Css("footer")).await.is_ok() {
                return;
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser never reached {path}");
}

/// The visible text of the page, once a navigation started by a click has finished.
pub(crate) async fn page_text(client: &Client) -> String {
    for _ in 0..50 {
        if let Ok(body) = client.find(Locator::Css("body")).await {
            if let Ok(text) = body.text().await {
                return text;
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page did not settle");
}

/// Waits until the page's text contains `words` (a script may still be filling it in).
async fn wait_for_text(client: &Client, words: &str) {
    for _ in 0..100 {
        if page_text(client).await.contains(words) {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never said {words:?}: {}", page_text(client).await);
}

/// Waits until `condition`, a script that returns a boolean, holds on the page.
async fn wait_until(client: &Client, condition: &str, what: &str) {
    for _ in 0..100 {
        let held = client.execute(condition, vec![]).await;
        if held.is_ok_and(|value| value == serde_json::json!(true)) {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}");
}

/// Waits until the survey's script has taken over the page: it marks `<html>` with
/// `js-steps` in the same task in which it restores the answers kept on this device.
async fn wait_for_steps(client: &Client) {
    wait_until(
        client,
        "return document.documentElement.classList.contains('js-steps')",
        "the survey's script never took over the page",
    )
    .await;
}

/// Chooses `value` for every radio item of the survey except those named in `skip`.
async fn answer_all(client: &Client, value: &str, skip: &[&str]) {
    let definition = anshin::survey::load_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions/workplace-climate.toml"),
    )
    .expect("default instrument");
    for item in definition
        .items
        .iter()
        .filter(|i| !skip.contains(&i.id.as_str()))
    {
        let chosen = if definition.scale_of(item).max == 10 {
            "8"
        } else {
            value
        };
        let radio = client
            .find(Locator::Css(&format!(
                "input[name=\"{}\"][value=\"{chosen}\"]",
                item.id
            )))
            .await
            .expect("radio button");
        // Click the label a person would tap; the input itself may be visually styled.
        let id = radio.attr("id").await.expect("id").expect("radio id");
        client
            .find(Locator::Css(&format!("label[for=\"{id}\"]")))
            .await
            .unwrap_or(radio)
            .click()
            .await
            .expect("click");
    }
}

async fn submit_survey(client: &Client) {
    client
        .find(Locator::Css(".submit-area button[type=submit]"))
        .await
        .expect("submit button")
        .click()
        .await
        .expect("submit");
}

#[actix_web::test]
async fn without_javascript_a_staff_member_answers_the_whole_form_fixes_an_error_and_cannot_answer_twice(
) {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    let code = app.issue_codes(wave, "T1", 1).remove(0);
    let client = browser_with(&driver, 360, 740, false).await;

    client
        .goto(&app.url(&format!("/s/{}", code.display_form())))
        .await
        .expect("open link");
    screenshot(&client, "staff-1-form").await;
    assert!(
        page_text(&client).await.contains("保存されるもの"),
        "the page says what is stored"
    );
    // Without the script: no steps, no bar, no saving on the device; every item on the page.
    for hidden in ["stepper-bar", "step-nav", "saved-on-device", "review"] {
        let shown = client
            .find(Locator::Id(hidden))
            .await
            .expect(hidden)
            .is_displayed()
            .await
            .expect("displayed");
        assert!(!shown, "{hidden} stays hidden without JavaScript");
    }

    // Everything but one required item: the browser's own check holds the form back ...
    answer_all(&client, "4", &["ps9"]).await;
    submit_survey(&client).await;
    // What is checked is that nothing happens, which only a bounded wait can show.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let held_back = client
        .execute(
            "return document.querySelector('input[name=\"ps9\"]:invalid') !== null",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        held_back,
        serde_json::Value::Bool(true),
        "the missing item is marked invalid"
    );
    screenshot(&client, "staff-2-browser-check").await;

    // ... and where a browser does not check (old browsers, some assistive technology), the
    // server answers with the error beside the item and the answers kept.
    client
        .execute(
            "document.querySelector('form.survey-form').noValidate = true",
            vec![],
        )
        .await
        .expect("script");
    submit_survey(&client).await;
    // The form posts to /s with the code in its body.
    wait_for_path(&client, "/s").await;
    let text = page_text(&client).await;
    screenshot(&client, "staff-3-error").await;
    assert!(
        text.contains("この質問に回答してください"),
        "the error sits beside the item"
    );
    // The page opens on the missing item: focused, its question in view.
    let landing = client
        .execute(
            "const el = document.activeElement;
             const box = el && el.closest('.item');
             const legend = box && box.querySelector('legend').getBoundingClientRect();
             return [el ? el.name : null, legend ? legend.top >= 0 && legend.bottom <= innerHeight : false]",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(landing, serde_json::json!(["ps9", true]), "lands on ps9");
    axe_check(&client, "survey-400").await;
    let kept = client
        .find(Locator::Css("input[name=\"eng1\"][value=\"4\"]"))
        .await
        .expect("radio")
        .prop("checked")
        .await
        .expect("checked");
    assert_eq!(kept.as_deref(), Some("true"), "answers are kept");

    answer_all(&client, "4", &[]).await;
    submit_survey(&client).await;
    wait_for_path(&client, "/thanks").await;
    screenshot(&client, "staff-4-thanks").await;
    assert!(page_text(&client)
        .await
        .contains("ご回答ありがとうございました"));
    assert!(!client
        .current_url()
        .await
        .expect("url")
        .as_str()
        .contains(&code.display_form()));

    client
        .goto(&app.url(&format!("/s/{}", code.display_form())))
        .await
        .expect("open again");
    screenshot(&client, "staff-5-used").await;
    assert!(
        page_text(&client).await.contains("使用済み"),
        "the code works once"
    );
    client.close().await.expect("close browser");
}

pub(crate) async fn sign_in(client: &Client, app: &TestApp, login: &str) {
    client.goto(&app.url("/login")).await.expect("login page");
    client
        .find(Locator::Id("login"))
        .await
        .expect("login")
        .send_keys(login)
        .await
        .expect("type");
    client
        .find(Locator::Id("password"))
        .await
        .expect("password")
        .send_keys(TEST_PASSWORD)
        .await
        .expect("type");
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("sign in");
    wait_for_path(client, "/dashboard").await;
}

#[actix_web::test]
async fn hr_opens_a_wave_and_issues_slips_and_a_manager_saves_a_plan() {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    let rows = anshin::org::parse_csv("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,10\n".as_bytes())
        .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    // Two closed waves: people answer 2 or 3 everywhere, then 4, so the teams move on the
    // quadrant (from apathy to anxiety).
    for answers in [[2, 3], [4, 4]] {
        let wave = app.open_wave();
        for (team, count) in [("T1", 8), ("T2", 7)] {
            let codes = app.issue_codes(wave, team, count);
            for (code, answer) in codes.iter().zip(answers.iter().cycle()) {
                let body = crate::helpers::form_body(&crate::helpers::complete_answers(*answer));
                let (status, _, _) = app
                    .post_form(&format!("/s/{}", code.display_form()), &body)
                    .await;
                assert_eq!(status, 303);
            }
        }
        anshin::waves::close(&mut app.conn(), wave).expect("closed");
    }
    add_account(&app, "hr1", "hr", &[]);
    add_account(&app, "m1", "manager", &["T1"]);

    let hr = browser(&driver, 1280, 1600).await;
    sign_in(&hr, &app, "hr1").await;
    screenshot(&hr, "hr-1-dashboard").await;
    hr.find(Locator::Id("wave-name"))
        .await
        .expect("name")
        .send_keys("2027年度")
        .await
        .expect("type");
    hr.find(Locator::Css("form[action=\"/hr/waves\"] button"))
        .await
        .expect("open")
        .click()
        .await
        .expect("open wave");
    wait_for_path(&hr, "/dashboard").await;
    assert!(page_text(&hr).await.contains("2027年度"));
    hr.find(Locator::Css("input[name=\"workplace\"]"))
        .await
        .expect("workplace")
        .send_keys("T1")
        .await
        .expect("type");
    hr.find(Locator::Css("button[value=\"sheet\"]"))
        .await
        .expect("sheet")
        .click()
        .await
        .expect("issue");
    wait_for_path(&hr, "/hr/waves/3/codes").await;
    screenshot(&hr, "hr-2-slips").await;
    let slips = hr.find_all(Locator::Css(".slip")).await.expect("slips");
    assert_eq!(slips.len(), 10, "the default of ten slips");

    // The same for the other team as a CSV file, for a mail merge.
    let _ = std::fs::remove_file(download_dir().join("anshin-wave-3-codes.csv"));
    hr.back().await.expect("back");
    wait_for_path(&hr, "/dashboard").await;
    let workplace = hr
        .find(Locator::Css("input[name=\"workplace\"]"))
        .await
        .expect("workplace");
    workplace.clear().await.expect("clear");
    workplace.send_keys("T2").await.expect("type");
    hr.find(Locator::Css("button[value=\"csv\"]"))
        .await
        .expect("csv")
        .click()
        .await
        .expect("download");
    let csv = downloaded("anshin-wave-3-codes.csv").await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().expect("header"),
        vec!["workplace", "code", "url"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|row| &row[0] == "T2"));
    // A downloaded link opens the survey.
    hr.goto(&rows[0][2].replace("http://127.0.0.1:8080", &app.address))
        .await
        .expect("open a downloaded link");
    screenshot(&hr, "hr-3-downloaded-link").await;
    assert!(page_text(&hr).await.contains("保存されるもの"));

    // The manager's account page, where HR moves them after a transfer.
    let m1 = anshin::accounts::list(&mut app.conn())
        .expect("accounts")
        .into_iter()
        .find(|account| account.login == "m1")
        .expect("m1")
        .id;
    hr.goto(&app.url(&format!("/hr/accounts/{m1}")))
        .await
        .expect("account page");
    screenshot(&hr, "hr-4-account").await;
    assert!(page_text(&hr).await.contains("担当職場の変更（異動）"));
    hr.close().await.expect("close");

    let manager = browser(&driver, 390, 900).await;
    sign_in(&manager, &app, "m1").await;
    let text = page_text(&manager).await;
    screenshot(&manager, "manager-1-team").await;
    assert!(
        text.contains("職員係") && text.contains("不安ゾーン"),
        "the team's zone in the policy's words"
    );
    assert!(
        text.contains("前回からの移動: 無気力 → 不安"),
        "and where it came from: {text}"
    );
    let quadrant_width = manager
        .execute(
            "return document.querySelector('img[src*=\"quadrant.svg\"]').naturalWidth",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        quadrant_width,
        serde_json::json!(720),
        "the quadrant chart loads"
    );
    // The team's trajectory is drawn: the fills of the chart's polygons include an arrowhead.
    let fills = manager
        .execute_async(
            "const done = arguments[0];
             const src = document.querySelector('img[src*=\"quadrant.svg\"]').src;
             fetch(src).then(r => r.text()).then(svg => {
               const chart = new DOMParser().parseFromString(svg, 'image/svg+xml');
               done([...chart.querySelectorAll('polygon')]
                 .map(p => (p.getAttribute('fill') || '').toUpperCase()));
             });",
            vec![],
        )
        .await
        .expect("script");
    assert!(
        fills
            .as_array()
            .expect("fills")
            .contains(&serde_json::json!("#9C3109")),
        "the team's arrowhead: {fills}"
    );
    manager
        .find(Locator::Css("textarea[name=\"action\"]"))
        .await
        .expect("action")
        .send_keys("朝会で一人ひと言、困りごとを話す")
        .await
        .expect("type");
    manager
        .find(Locator::Css("input[name=\"owner\"]"))
        .await
        .expect("owner")
        .send_keys("係長")
        .await
        .expect("type");
    manager
        .find(Locator::Css("form[action=\"/manager/plans\"] button"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save plan");
    wait_for_path(&manager, "/dashboard").await;
    screenshot(&manager, "manager-2-plan").await;
    assert!(page_text(&manager)
        .await
        .contains("朝会で一人ひと言、困りごとを話す"));
    manager.close().await.expect("close");
}

/// axe-core's browser bundle, installed by `.ci/run` (`npm install axe-core` under `target/`).
fn axe_source() -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/e2e-node/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            let required = std::env::var("ANSHIN_E2E").is_ok_and(|v| v == "required");
            assert!(
                !required,
                "ANSHIN_E2E=required but {} is missing",
                path.display()
            );
            eprintln!("axe checks skipped: run the npm install of .ci/run");
            None
        }
    }
}

/// Runs axe-core in the page (injected by WebDriver, so the page's CSP is not loosened) and
/// fails on any serious or critical violation.
pub(crate) async fn axe_check(client: &Client, page: &str) {
    let Some(source) = axe_source() else { return };
    client.execute(&source, vec![]).await.expect("axe injected");
    let found = client
        .execute_async(
            "const done = arguments[0];
             axe.run(document).then(result => done(result.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => v.impact + ' ' + v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
             .catch(error => done(['axe failed: ' + error]));",
            vec![],
        )
        .await
        .expect("axe ran");
    assert_eq!(
        found,
        serde_json::json!([]),
        "{page}: serious or critical accessibility violations"
    );
}

/// The step on screen: its index (from 1), the number of screens, and the answered count.
async fn step_state(client: &Client) -> (u64, u64, u64, u64) {
    let state = client
        .execute(
            "const steps = [...document.querySelectorAll('section.part, section.review')];
             const bar = document.getElementById('answered-progress');
             return [steps.findIndex(s => !s.hidden) + 1, steps.length, bar.value, bar.max];",
            vec![],
        )
        .await
        .expect("script");
    let n = |i: usize| state[i].as_u64().expect("number");
    (n(0), n(1), n(2), n(3))
}

/// Answers every question of the step on screen by tapping its label (4 on a 1–5 scale, 8
/// on 0–10, the first option otherwise), leaving out the items named in `skip`.
async fn answer_this_step(client: &Client, skip: &[&str]) -> Vec<String> {
    let groups = client
        .execute(
            "return [...document.querySelectorAll('section.part:not([hidden]) fieldset.item')]
               .map(f => [...f.querySelectorAll('input[type=radio]')])
               .map(r => [r[0].name, r.map(x => x.value)]);",
            vec![],
        )
        .await
        .expect("script");
    let mut answered = Vec::new();
    for group in groups.as_array().expect("groups") {
        let name = group[0].as_str().expect("name");
        if skip.contains(&name) {
            continue;
        }
        let values: Vec<&str> = group[1]
            .as_array()
            .expect("values")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let chosen = if values.contains(&"10") {
            "8"
        } else if values.contains(&"4") {
            "4"
        } else {
            values[0]
        };
        let radio = client
            .find(Locator::Css(&format!(
                "input[name=\"{name}\"][value=\"{chosen}\"]"
            )))
            .await
            .expect("radio");
        let id = radio.attr("id").await.expect("id").expect("radio id");
        let label = client
            .find(Locator::Css(&format!("label[for=\"{id}\"]")))
            .await
            .expect("label");
        // A thumb taps what is in the middle of the screen (WebDriver would scroll the label
        // to the very top, under the sticky bar).
        client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'})",
                vec![serde_json::to_value(&label).expect("element")],
            )
            .await
            .expect("scroll");
        label.click().await.expect("tap");
        answered.push(name.to_string());
    }
    answered
}

async fn click_id(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .expect(id)
        .click()
        .await
        .expect("click");
}

async fn is_checked(client: &Client, name: &str) -> bool {
    client
        .execute(
            &format!("return document.querySelector('input[name=\"{name}\"]:checked') !== null"),
            vec![],
        )
        .await
        .expect("script")
        == serde_json::Value::Bool(true)
}

/// The issue's walk on a 360 × 740 phone: step by step, a reload half-way, Back, a switch to
/// English, the review of what is missing, submit, and the English thank-you page; the saved
/// answers are gone afterwards. Screens and time go to `target/e2e/walk.txt`.
#[actix_web::test]
async fn a_staff_member_walks_the_survey_in_steps_on_a_phone_and_nothing_is_lost() {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    let code = app.issue_codes(wave, "T1", 1).remove(0);
    let client = browser(&driver, 360, 740).await;
    let started = std::time::Instant::now();

    client
        .goto(&app.url(&format!("/s/{}", code.display_form())))
        .await
        .expect("open link");
    // The script has taken over: a bar, one section, Back / Next.
    wait_for_steps(&client).await;
    let (step, screens, answered, total) = step_state(&client).await;
    assert_eq!((step, answered), (1, 0));
    assert!(screens >= 10, "one screen per section plus the review");
    screenshot(&client, "walk-01").await;
    axe_check(&client, "survey step 1").await;

    let mut all_answered: Vec<String> = Vec::new();
    let half = screens / 2;
    // One required item left for the review to find.
    let skipped = "ps9";
    let mut visited = 1;
    loop {
        let (step, _, _, _) = step_state(&client).await;
        if step == screens {
            break;
        }
        all_answered.extend(answer_this_step(&client, &[skipped]).await);
        // The bar stays on screen however far down the section one has scrolled.
        let bar_top = client
            .execute(
                "const bar = document.getElementById('stepper-bar').getBoundingClientRect();
                 return bar.top >= 0 && bar.bottom <= innerHeight ? 0 : bar.top",
                vec![],
            )
            .await
            .expect("script");
        assert!(
            bar_top.as_f64().is_some_and(|top| top.abs() < 1.0),
            "sticky bar: {bar_top}"
        );
        let (_, _, answered, _) = step_state(&client).await;
        assert_eq!(
            answered as usize,
            all_answered.len(),
            "the bar counts answers"
        );
        screenshot(&client, &format!("walk-{step:02}-answered")).await;

        if step == half {
            // Interrupted: a reload finds the same screen and every answer.
            client.refresh().await.expect("reload");
            wait_for_steps(&client).await;
            let (again, _, answered, _) = step_state(&client).await;
            assert_eq!(again, step, "the reload opens the same screen");
            assert_eq!(
                answered as usize,
                all_answered.len(),
                "and finds the answers"
            );
            for name in &all_answered {
                assert!(
                    is_checked(&client, name).await,
                    "{name} kept over the reload"
                );
            }
            screenshot(&client, "walk-reloaded").await;
            // Back one screen: its answers are there; Next again.
            click_id(&client, "step-back").await;
            assert_eq!(step_state(&client).await.0, step - 1);
            let earlier = client
                .execute(
                    "return [...document.querySelectorAll('section.part:not([hidden]) input:checked')].length",
                    vec![],
                )
                .await
                .expect("script");
            assert!(
                earlier.as_u64().is_some_and(|n| n > 0),
                "the earlier screen's answers"
            );
            screenshot(&client, "walk-back").await;
            click_id(&client, "step-next").await;
            assert_eq!(step_state(&client).await.0, step);
        }
        if step == half + 1 {
            // Switching to English: the same screen, the same answers, in English.
            client
                .find(Locator::Css("button[name=\"switch_lang\"]"))
                .await
                .expect("language switch")
                .click()
                .await
                .expect("switch");
            wait_for_path(&client, "/s").await;
            wait_until(
                &client,
                "return document.documentElement.lang === 'en'
                   && document.documentElement.classList.contains('js-steps')",
                "the survey never came back in English",
            )
            .await;
            let lang = client
                .find(Locator::Css("html"))
                .await
                .expect("html")
                .attr("lang")
                .await
                .expect("lang");
            assert_eq!(lang.as_deref(), Some("en"));
            let (again, _, answered, _) = step_state(&client).await;
            assert_eq!((again, answered as usize), (step, all_answered.len()));
            assert!(page_text(&client).await.contains("Answered"));
            screenshot(&client, "walk-english").await;
            axe_check(&client, "survey in English").await;
        }
        click_id(&client, "step-next").await;
        visited += 1;
    }

    // The review lists the one item left, and will not send without it.
    screenshot(&client, "walk-review").await;
    let review = client
        .find(Locator::Id("review-list"))
        .await
        .expect("review")
        .text()
        .await
        .expect("text");
    let links = client
        .find_all(Locator::Css("#review-list .review-link"))
        .await
        .expect("links");
    assert_eq!(links.len(), 1, "only the skipped item is missing: {review}");
    axe_check(&client, "review").await;
    submit_survey(&client).await;
    let refused = client
        .find(Locator::Id("review-required"))
        .await
        .expect("message")
        .is_displayed()
        .await
        .expect("displayed");
    assert!(refused, "a required item stops the submission");
    // The link leads to the item, with its question in view.
    links[0].click().await.expect("go to item");
    let in_view = client
        .execute(
            "const box = document.getElementById('q-ps9').getBoundingClientRect();
             return box.top >= 0 && box.top < innerHeight;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(in_view, serde_json::Value::Bool(true));
    answer_this_step(&client, &[]).await;
    screenshot(&client, "walk-fixed").await;
    while step_state(&client).await.0 < screens {
        click_id(&client, "step-next").await;
    }
    let (_, _, answered, total_now) = step_state(&client).await;
    assert_eq!(answered, total_now, "everything answered");
    assert_eq!(total_now, total);
    submit_survey(&client).await;
    wait_for_path(&client, "/thanks").await;
    let walk = started.elapsed();
    screenshot(&client, "walk-thanks").await;
    let text = page_text(&client).await;
    assert!(text.contains("Thank you for your answers"), "{text}");
    assert!(client
        .current_url()
        .await
        .expect("url")
        .query()
        .is_some_and(|q| q == "lang=en"));
    axe_check(&client, "thanks").await;
    // Nothing of the survey is left in this browser.
    let kept = client
        .execute(
            "return Object.keys(localStorage).filter(k => k.startsWith('anshin-answers'))",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(kept, serde_json::json!([]), "saved answers forgotten");
    {
        use diesel::prelude::*;
        let stored: i64 = anshin::db::schema::responses::table
            .filter(anshin::db::schema::responses::filled.eq(true))
            .count()
            .get_result(&mut app.conn())
            .expect("count");
        assert_eq!(stored, 1, "one response stored");
    }
    let record = format!(
        "screens: {screens}\nscreens visited (with one Back): {visited}\nwalk: {:.1} s\n",
        walk.as_secs_f64()
    );
    std::fs::write(screenshot_dir().join("walk.txt"), &record).expect("walk.txt");
    eprintln!("{record}");
    client.close().await.expect("close browser");
}

/// The forget button clears this device's copy and every choice; a reload then starts empty.
#[actix_web::test]
async fn the_forget_button_clears_the_answers_kept_on_this_device() {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    let code = app.issue_codes(wave, "T1", 1).remove(0);
    let client = browser(&driver, 360, 740).await;
    let link = app.url(&format!("/s/{}", code.display_form()));
    client.goto(&link).await.expect("open link");
    wait_for_steps(&client).await;
    let answered = answer_this_step(&client, &[]).await;
    assert!(!answered.is_empty());
    let stored = client
        .execute("return JSON.stringify(localStorage)", vec![])
        .await
        .expect("script");
    let stored = stored.as_str().expect("text").to_string();
    assert!(stored.contains("anshin-answers-v1:"), "{stored}");
    assert!(
        !stored.contains(&code.display_form())
            && !stored.contains(&code.display_form().replace('-', "")),
        "the key is a hash, not the code"
    );
    // Opening the link again later (a new visit) finds them.
    client.goto(&app.url("/")).await.expect("away");
    client.goto(&link).await.expect("back to the link");
    wait_for_steps(&client).await;
    assert!(
        is_checked(&client, &answered[0]).await,
        "kept across visits"
    );
    click_id(&client, "forget-answers").await;
    screenshot(&client, "forget").await;
    assert!(!is_checked(&client, &answered[0]).await);
    assert!(page_text(&client).await.contains("選択をすべて外しました"));
    let left = client
        .execute(
            "return Object.keys(localStorage).filter(k => k.startsWith('anshin-answers')).length",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(left, serde_json::json!(0));
    client.refresh().await.expect("reload");
    wait_for_steps(&client).await;
    assert_eq!(step_state(&client).await.2, 0, "nothing comes back");
    client.close().await.expect("close");
}

/// Every staff page passes axe-core: the start page, the pages of refusals (unknown code,
/// used code, closed wave, too many attempts, an unknown address), in both languages.
#[actix_web::test]
async fn every_staff_page_passes_axe() {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    let mut codes = app.issue_codes(wave, "T1", 2);
    let used = codes.remove(0);
    let body = crate::helpers::form_body(&crate::helpers::complete_answers(3));
    let (status, _, _) = app
        .post_form(&format!("/s/{}", used.display_form()), &body)
        .await;
    assert_eq!(status, 303);
    let client = browser(&driver, 360, 740).await;
    // Japanese by default; once English is chosen (`?lang=en`), it is remembered.
    for (path, name, words) in [
        ("/".to_string(), "start", "回答コード"),
        (format!("/s/{}", used.display_form()), "used", "使用済み"),
        (
            "/nowhere".to_string(),
            "not-found",
            "ページが見つかりません",
        ),
        ("/thanks".to_string(), "thanks", "ありがとう"),
        ("/?lang=en".to_string(), "start-en", "Your code"),
        ("/nowhere".to_string(), "not-found-en", "Page not found"),
        (
            format!("/s/{}", used.display_form()),
            "used-en",
            "already been used",
        ),
        (
            format!("/s/{}", codes[0].display_form()),
            "survey-en",
            "Answered",
        ),
    ] {
        client.goto(&app.url(&path)).await.expect("page");
        wait_for_text(&client, words).await;
        let text = page_text(&client).await;
        assert!(
            !text.contains("エラー 4") && !text.contains("Error 4"),
            "{name} in words"
        );
        screenshot(&client, &format!("axe-{name}")).await;
        axe_check(&client, name).await;
    }
    anshin::waves::close(&mut app.conn(), wave).expect("closed");
    client
        .goto(&app.url(&format!("/s/{}", codes[0].display_form())))
        .await
        .expect("closed wave");
    assert!(page_text(&client).await.contains("This survey has closed"));
    axe_check(&client, "closed").await;
    for i in 0..25 {
        client
            .goto(&app.url(&format!("/s/ZZZZ-ZZZZ-ZZZZ-{i:04}")))
            .await
            .expect("wrong code");
    }
    let text = page_text(&client).await;
    assert!(text.contains("Too many attempts"), "{text}");
    screenshot(&client, "axe-throttled").await;
    axe_check(&client, "throttled").await;
    client.close().await.expect("close");
}

/// Clicks the first element `css` finds.
async fn click_css(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css} on the page"))
        .click()
        .await
        .unwrap_or_else(|_| panic!("{css} clicked"));
}

/// HR on a 1280 × 800 screen: the wide dashboard, a heatmap cell into the drill-down and
/// back, the job-level view, the organisation's trend, the audit log, and closing a wave
/// through its confirmation; axe-core on every page on the way.
#[actix_web::test]
async fn hr_walks_the_analysis_pages_and_closes_a_wave_through_the_confirmation() {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    let rows = anshin::org::parse_csv("D1,総務部,,\nT1,職員係,D1,12\nT2,人事係,D1,10\n".as_bytes())
        .expect("org");
    anshin::org::import(&mut app.conn(), &rows).expect("imported");
    let mut latest = 0;
    for answers in [[2, 3], [4, 4]] {
        let wave = app.open_wave();
        for (team, count) in [("T1", 8), ("T2", 7)] {
            let codes = app.issue_codes(wave, team, count);
            for (code, answer) in codes.iter().zip(answers.iter().cycle()) {
                let body = crate::helpers::form_body(&crate::helpers::complete_answers(*answer));
                let (status, _, _) = app
                    .post_form(&format!("/s/{}", code.display_form()), &body)
                    .await;
                assert_eq!(status, 303);
            }
        }
        anshin::waves::close(&mut app.conn(), wave).expect("closed");
        latest = wave;
    }
    let open = app.open_wave();
    add_account(&app, "hr1", "hr", &[]);

    let hr = browser(&driver, 1280, 800).await;
    sign_in(&hr, &app, "hr1").await;
    screenshot(&hr, "hr-wide-1-dashboard").await;
    axe_check(&hr, "HR dashboard").await;
    let columns: u64 = hr
        .execute(
            "return getComputedStyle(document.querySelector('.dashboard-grid'))
               .gridTemplateColumns.split(' ').length",
            vec![],
        )
        .await
        .expect("grid")
        .as_u64()
        .unwrap_or(0);
    assert_eq!(columns, 2, "two columns on a wide screen");

    // A heatmap cell opens the drill-down, whose link leads back.
    click_css(&hr, "#heatmap a[href='/hr/groups?workplace=T1']").await;
    wait_for_path(&hr, "/hr/groups").await;
    assert_eq!(
        hr.title().await.expect("title"),
        "職場の結果：職員係 | 安心サーベイ / Anshin"
    );
    screenshot(&hr, "hr-wide-2-drill-down").await;
    axe_check(&hr, "drill-down").await;
    click_css(&hr, "a[href='/dashboard#heatmap']").await;
    wait_for_path(&hr, "/dashboard").await;

    click_css(&hr, &format!("a[href='/hr/waves/{latest}/job-levels']")).await;
    wait_for_path(&hr, &format!("/hr/waves/{latest}/job-levels")).await;
    assert!(page_text(&hr).await.contains("職層別の結果"));
    screenshot(&hr, "hr-wide-3-job-levels").await;
    axe_check(&hr, "job levels").await;
    hr.back().await.expect("back");
    wait_for_path(&hr, "/dashboard").await;

    click_css(&hr, "a[href='/hr/trends']").await;
    wait_for_path(&hr, "/hr/trends").await;
    assert!(page_text(&hr).await.contains("組織全体の推移"));
    screenshot(&hr, "hr-wide-4-trends").await;
    axe_check(&hr, "organisation trend").await;
    hr.back().await.expect("back");
    wait_for_path(&hr, "/dashboard").await;

    click_css(&hr, &format!("a[href='/hr/waves/{latest}/psychometrics']")).await;
    wait_for_path(&hr, &format!("/hr/waves/{latest}/psychometrics")).await;
    assert!(page_text(&hr).await.contains("調査票の信頼性・妥当性"));
    screenshot(&hr, "hr-wide-5-psychometrics").await;
    axe_check(&hr, "psychometrics report").await;

    hr.goto(&app.url("/hr/audit")).await.expect("audit");
    screenshot(&hr, "hr-wide-6-audit").await;
    axe_check(&hr, "audit log").await;

    // Closing asks first, then says what happened.
    hr.goto(&app.url("/dashboard")).await.expect("dashboard");
    click_css(&hr, &format!("a[href='/hr/waves/{open}/confirm-close']")).await;
    wait_for_path(&hr, &format!("/hr/waves/{open}/confirm-close")).await;
    assert!(page_text(&hr).await.contains("再開できません"));
    screenshot(&hr, "hr-wide-7-confirm-close").await;
    axe_check(&hr, "close confirmation").await;
    click_css(
        &hr,
        &format!("form[action='/hr/waves/{open}/close'] button"),
    )
    .await;
    wait_for_path(&hr, "/dashboard").await;
    assert!(page_text(&hr)
        .await
        .contains("「2026年度」を締め切りました"));
    screenshot(&hr, "hr-wide-8-closed").await;
    axe_check(&hr, "HR dashboard after closing").await;
    hr.close().await.expect("close");
}
