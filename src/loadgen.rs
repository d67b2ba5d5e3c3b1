//! `anshin loadgen`: a load tool for the submission path. It prepares a wave and fresh codes
//! in the server's database, submits complete surveys over HTTP from concurrent clients, and
//! then checks that nothing was lost: every 303 has its response and every code was redeemed
//! at most once.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::Args;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::codes::{self, InvitationCode};
use crate::db::{self, schema::invitation_codes, schema::responses};
use crate::secret::ServerSecret;
use crate::settings::{default_secret_file, Settings};
use crate::{org, waves};

#[derive(Debug, Args)]
pub struct LoadgenArgs {
    /// Base URL of the running server that uses the same database.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Submissions in total.
    #[arg(long, default_value_t = 20_000)]
    pub submissions: usize,
    /// The server's secret file (default: the database path + ".secret").
    #[arg(long, env = "ANSHIN_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// Skip the anchor: a bare actix-web server in this process that only parses the same
    /// forms and answers 303, loaded the same way first, so that Anshin's speed is stated as
    /// a ratio to it (the machine's speed drifts).
    #[arg(long)]
    pub no_anchor: bool,
}

const LOAD_WORKPLACE: &str = "LOADGEN";
/// Codes per load-test team: a large team of a city office.
const LOAD_TEAM_SIZE: usize = 50;

pub fn run(db_path: &Path, args: LoadgenArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.clients > 0 && args.submissions > 0,
        "--clients and --submissions must be positive"
    );
    let secret = ServerSecret::load_or_create(
        &args
            .secret_file
            .clone()
            .unwrap_or_else(|| default_secret_file(db_path)),
    )?;
    db::migrate(db_path)?;
    let mut conn = db::connect(db_path)?;

    // Teams of a realistic size under one department, and an open wave of the default
    // instrument, just for this run. Each code belongs to a team, and the submissions go out
    // in a random order across the teams.
    let teams = args.submissions.div_ceil(LOAD_TEAM_SIZE);
    let rows: Vec<org::OrgRow> = std::iter::once(org::OrgRow {
        line: 1,
        code: LOAD_WORKPLACE.into(),
        name: "負荷試験".into(),
        parent_code: None,
        headcount: None,
    })
    .chain((0..teams).map(|team| org::OrgRow {
        line: team as u64 + 2,
        code: format!("{LOAD_WORKPLACE}-{team:05}"),
        name: format!("負荷試験 {team}"),
        parent_code: Some(LOAD_WORKPLACE.into()),
        headcount: None,
    }))
    .collect();
    org::import(&mut conn, &rows)?;
    let team_ids: Vec<i32> = org::load_all(&mut conn)?
        .into_iter()
        .filter(|w| w.code.starts_with(&format!("{LOAD_WORKPLACE}-")))
        .map(|w| w.id)
        .collect();
    anyhow::ensure!(
        team_ids.len() == teams,
        "the load-test workplaces were not created"
    );
    let definitions_dir = Settings::for_database(db_path).definitions_dir;
    let (text, origin) = waves::definition_source(&definitions_dir, "workplace-climate")?;
    let wave = waves::create(
        &mut conn,
        "loadgen",
        &text,
        &origin,
        Default::default(),
        None,
    )?;
    let definition = wave.definition()?;
    // Codes must be fresh on every run; the synthetic answers may repeat.
    let mut code_rng = rand::rng();
    let all_codes: Vec<InvitationCode> = (0..args.submissions)
        .map(|_| InvitationCode::generate(&mut code_rng))
        .collect();
    let mut rng = StdRng::seed_from_u64(1);
    for (team, chunk) in team_ids.iter().zip(all_codes.chunks(LOAD_TEAM_SIZE)) {
        codes::store_new_codes(&mut conn, &secret, wave.id, *team, chunk, |_| {})?;
    }

    // One complete, valid form body per code.
    let bodies: Vec<(String, String)> = all_codes
        .iter()
        .map(|code| {
            let (answers, job_level, _) =
                crate::demo::synthetic_response(&definition, 3.8, 3.6, &mut rng);
            let mut pairs: Vec<(String, String)> = definition
                .items
                .iter()
                .zip(&answers)
                .map(|(item, answer)| {
                    (
                        item.id.clone(),
                        answer.map_or("na".to_string(), |v| v.to_string()),
                    )
                })
                .collect();
            if let Some(level) = job_level {
                pairs.push(("job_level".into(), level));
            }
            let body = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            (
                format!(
                    "{}/s/{}",
                    args.url.trim_end_matches('/'),
                    code.display_form()
                ),
                body,
            )
        })
        .collect();
    let mut bodies = bodies;
    bodies.shuffle(&mut rng);

    println!(
        "loadgen: wave {} with {} codes in {teams} teams of up to {LOAD_TEAM_SIZE}; {} clients against {}",
        wave.id, args.submissions, args.clients, args.url
    );
    let anchor = if args.no_anchor {
        None
    } else {
        let cpu = process_cpu();
        let report = anchor::measure(&bodies, args.clients)?;
        Some((report, cpu_since(cpu)))
    };
    let cpu = process_cpu();
    let mut report = actix_web::rt::System::new().block_on(fire(bodies, args.clients));
    let client_cpu = cpu_since(cpu);

    let stored: i64 = responses::table
        .filter(responses::wave_id.eq(wave.id))
        .filter(responses::filled.eq(true))
        .count()
        .get_result(&mut conn)?;
    let redeemed: i64 = invitation_codes::table
        .filter(invitation_codes::wave_id.eq(wave.id))
        .filter(invitation_codes::used.eq(true))
        .count()
        .get_result(&mut conn)?;
    waves::close(&mut conn, wave.id)?;

    if let Some((mut anchor, anchor_cpu)) = anchor {
        print!("anchor (bare actix-web, same forms, same clients): ");
        anchor.print();
        print_cpu("the anchor server and these clients", anchor_cpu, &anchor);
        print!("anshin: ");
        report.print();
        print_cpu("these clients", client_cpu, &report);
        println!(
            "ratio to the anchor: {:.2} of its submissions/s, {:.1}× its p99",
            report.per_second() / anchor.per_second().max(1e-9),
            report.percentile(0.99) / anchor.percentile(0.99).max(1e-9),
        );
    } else {
        report.print();
        print_cpu("these clients", client_cpu, &report);
    }
    let acknowledged = report.see_other as i64;
    println!(
        "loss check: {acknowledged} acknowledged (303), {stored} stored, {redeemed} codes redeemed"
    );
    anyhow::ensure!(
        stored == acknowledged,
        "LOST: {} acknowledged responses are missing",
        acknowledged - stored
    );
    anyhow::ensure!(
        redeemed == stored,
        "MISMATCH: {redeemed} codes redeemed for {stored} responses"
    );
    anyhow::ensure!(
        report.other_status == 0 && report.failed == 0,
        "{} submissions were refused and {} failed: is the server using this database ({}) and its secret?",
        report.other_status,
        report.failed,
        db_path.display()
    );
    println!("loss check: ok (zero lost, zero double-redeemed)");
    Ok(())
}

/// CPU time (user + system) of this process so far, from `/proc/self/stat` (in clock ticks
/// of 10 ms); `None` where there is no such file.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces): utime and stime are the
    // 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn cpu_since(start: Option<Duration>) -> Option<Duration> {
    Some(process_cpu()?.saturating_sub(start?))
}

/// The load's own CPU cost per request: with the server's (benches/submissions.sh) it tells
/// how much of the two cores a run could use at all.
fn print_cpu(what: &str, cpu: Option<Duration>, report: &Report) {
    if let Some(cpu) = cpu {
        let requests = report.latencies.len().max(1) as f64;
        println!(
            "CPU of {what}: {:.0} µs per request",
            cpu.as_secs_f64() * 1e6 / requests
        );
    }
}

#[derive(Default)]
struct Report {
    latencies: Vec<Duration>,
    see_other: usize,
    other_status: usize,
    failed: usize,
    elapsed: Duration,
}

impl Report {
    fn per_second(&self) -> f64 {
        self.see_other as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency at `p` (0–1) in milliseconds; the latencies must be sorted.
    fn percentile(&self, p: f64) -> f64 {
        let index = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        self.latencies
            .get(index)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    fn print(&mut self) {
        self.latencies.sort();
        let total = self.latencies.len();
        println!(
            "{total} requests in {:.2} s: {:.0} submissions/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.percentile(0.50),
            self.percentile(0.99),
            self.percentile(1.0),
        );
        println!(
            "statuses: {} × 303, {} other, {} transport failures",
            self.see_other, self.other_status, self.failed
        );
    }
}

/// The anchor: what actix-web itself does with the same load, measured in the same run.
mod anchor {
    use actix_web::{web, App, HttpResponse, HttpServer};

    use super::{fire, Report};

    /// Parses the survey form as any actix-web handler would, and answers like Anshin.
    async fn submit(form: web::Form<Vec<(String, String)>>) -> HttpResponse {
        std::hint::black_box(form.into_inner());
        HttpResponse::SeeOther()
            .insert_header(("location", "/thanks?lang=ja"))
            .finish()
    }

    /// Starts the bare server on its own threads (one worker per core, as `anshin serve`),
    /// fires the same bodies at it, stops it and returns its report.
    pub fn measure(bodies: &[(String, String)], clients: usize) -> anyhow::Result<Report> {
        let (ready, started) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server =
                    HttpServer::new(|| App::new().route("/s/{code}", web::post().to(submit)))
                        .bind(("127.0.0.1", 0));
                let server = match server {
                    Ok(server) => server,
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                let port = server.addrs().first().map_or(0, |a| a.port());
                let running = server.disable_signals().run();
                let _ = ready.send(Ok((port, running.handle())));
                let _ = running.await;
            });
        });
        let (port, handle) = started
            .recv()
            .map_err(|_| anyhow::anyhow!("the anchor server did not start"))??;
        let anchor_bodies: Vec<(String, String)> = bodies
            .iter()
            .map(|(url, body)| {
                let path = url.find("/s/").map_or("/s/x", |at| &url[at..]);
                (format!("http://127.0.0.1:{port}{path}"), body.clone())
            })
            .collect();
        let report = actix_web::rt::System::new().block_on(fire(anchor_bodies, clients));
        actix_web::rt::System::new().block_on(handle.stop(true));
        let _ = thread.join();
        Ok(report)
    }
}

async fn fire(bodies: Vec<(String, String)>, clients: usize) -> Report {
    let queue = Rc::new(RefCell::new(bodies.into_iter()));
    let report = Rc::new(RefCell::new(Report::default()));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let queue = queue.clone();
        let report = report.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let client = awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(30))
                .finish();
            loop {
                let next = queue.borrow_mut().next();
                let Some((url, body)) = next else { break };
                let sent = Instant::now();
                let result = client
                    .post(url)
                    .insert_header(("content-type", "application/x-www-form-urlencoded"))
                    .send_body(body)
                    .await;
                let latency = sent.elapsed();
                let mut report = report.borrow_mut();
                report.latencies.push(latency);
                match result {
                    Ok(response) if response.status().as_u16() == 303 => report.see_other += 1,
                    Ok(_) => report.other_status += 1,
                    Err(_) => report.failed += 1,
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut report = Rc::try_unwrap(report)
        .map(RefCell::into_inner)
        .unwrap_or_default();
    report.elapsed = started.elapsed();
    report
}
