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
struct Driver {
    process: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn driver() -> Option<Driver> {
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
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("chromedriver did not start");
}

/// A headless Chromium session with a phone-sized (or desktop) window; downloads go to
/// `target/e2e/downloads`.
async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
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

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Waits until the browser shows a page at `path` (after a click that navigates).
async fn wait_for_path(client: &Client, path: &str) {
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
async fn page_text(client: &Client) -> String {
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
async fn a_staff_member_answers_on_a_phone_fixes_an_error_and_cannot_answer_twice() {
    let Some(driver) = driver() else { return };
    let app = spawn_app().await;
    app.seed_org();
    let wave = app.open_wave();
    let code = app.issue_codes(wave, "T1", 1).remove(0);
    let client = browser(&driver, 360, 740).await;

    client
        .goto(&app.url(&format!("/s/{}", code.display_form())))
        .await
        .expect("open link");
    screenshot(&client, "staff-1-form").await;
    assert!(
        page_text(&client).await.contains("保存されるもの"),
        "the page says what is stored"
    );

    // Everything but one required item: the browser's own check holds the form back ...
    answer_all(&client, "4", &["ps3"]).await;
    submit_survey(&client).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let held_back = client
        .execute(
            "return document.querySelector('input[name=\"ps3\"]:invalid') !== null",
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

async fn sign_in(client: &Client, app: &TestApp, login: &str) {
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
