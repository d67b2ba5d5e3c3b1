//! The `anshin` command line. `main.rs` parses it; each command calls into the library.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::accounts::{self, Role};
use crate::aggregation::guard::{Thresholds, DEFAULT_K2};
use crate::settings::{default_secret_file, Settings};
use crate::{codes, db, org, survey, waves};

#[derive(Debug, Parser)]
#[command(
    name = "anshin",
    version,
    about = "Anonymous work-engagement and psychological-safety surveys"
)]
pub struct Cli {
    /// SQLite database file.
    #[arg(long, global = true, env = "ANSHIN_DB")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations.
    Migrate,
    /// Write a consistent copy of the database while it is in use (SQLite VACUUM INTO).
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a fresh demo database (sample organisation, two closed waves and an open one, synthetic responses), then serve.
    Demo(DemoArgs),
    /// Serve the survey and dashboards (migrations run first).
    Serve(ServeArgs),
    /// Survey definitions.
    #[command(subcommand)]
    Survey(SurveyCommand),
    /// The organisation (workplaces).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Survey waves.
    #[command(subcommand)]
    Wave(WaveCommand),
    /// Invitation codes.
    #[command(subcommand)]
    Codes(CodesCommand),
    /// HR and manager accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// A wave's guarded results as CSV (UTF-8 with BOM, for Excel) or JSON.
    Results {
        #[arg(long)]
        wave: i32,
        #[arg(long, value_enum)]
        format: ResultsFormat,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Reliability and validity of a closed wave's dimensions for HR: alpha, omega, item–rest
    /// r, inter-dimension r and HTMT (organisation-wide), ICC(1)/ICC(2) from shown groups.
    Psychometrics {
        #[arg(long)]
        wave: i32,
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Disclosure audit of a closed wave: attacks every number each role can see and prints
    /// a verdict; exits 1 on any finding.
    Audit {
        #[arg(long)]
        wave: i32,
        /// Language of the verdict: ja (default) or en.
        #[arg(long, default_value = "ja", value_parser = ["ja", "en"])]
        lang: String,
    },
    /// Load test: submit complete surveys over HTTP with concurrent clients.
    Loadgen(crate::loadgen::LoadgenArgs),
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "ANSHIN_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// The server secret file (default: the database path + ".secret").
    #[arg(long, env = "ANSHIN_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// Minimum group size k for new waves (never below 3).
    #[arg(long, env = "ANSHIN_MIN_GROUP", default_value_t = crate::aggregation::guard::DEFAULT_K)]
    pub min_group: u32,
    /// Public base URL used in invitation links.
    #[arg(long, env = "ANSHIN_BASE_URL")]
    pub base_url: Option<String>,
    /// Behind a reverse proxy: take the client address for throttling from its
    /// Forwarded / X-Forwarded-For header (only if the proxy sets it).
    #[arg(long, env = "ANSHIN_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Templates directory.
    #[arg(long, env = "ANSHIN_TEMPLATES")]
    pub templates: Option<PathBuf>,
    /// Mark the session cookie Secure (set when served over TLS).
    #[arg(long, env = "ANSHIN_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// HTTP worker threads (0 = one per core).
    #[arg(long, env = "ANSHIN_WORKERS", default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub workers: u16,
    /// Hours a dashboard session lasts at most after sign-in, however active.
    #[arg(long, env = "ANSHIN_SESSION_HOURS", default_value_t = crate::settings::DEFAULT_SESSION_HOURS, value_parser = clap::value_parser!(u16).range(1..=720))]
    pub session_hours: u16,
    /// Time zone (IANA name) in which pages show times, e.g. the audit log's.
    #[arg(long, env = "ANSHIN_TIME_ZONE", default_value = crate::settings::DEFAULT_TIME_ZONE, value_parser = crate::settings::time_zone)]
    pub time_zone: jiff::tz::TimeZone,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Build the demo database and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Generate an organisation of this many workplaces instead of the sample city (benchmarks).
    #[arg(long, requires = "responses")]
    pub workplaces: Option<usize>,
    /// Responses per wave in a generated organisation.
    #[arg(long, requires = "workplaces")]
    pub responses: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// Validate survey-definition files (exit 1 on the first broken file).
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Upsert workplaces from CSV `code,name,parent_code[,headcount]` (all or nothing).
    Import { file: PathBuf },
    /// Report small sibling workplaces together as one unit (集計単位) instead of lowering k.
    Merge {
        /// Code of the new reporting unit.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Member workplace codes (at least two, with one parent); repeat the flag.
        #[arg(long = "workplace", required = true)]
        workplaces: Vec<String>,
    },
    /// Remove a reporting unit: its members report on their own again.
    Unmerge {
        #[arg(long)]
        code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WaveCommand {
    /// Open a wave with a snapshot of a survey definition; prints the new wave's id.
    Create {
        /// Survey definition id (the file `survey-definitions/ID.toml`).
        #[arg(long)]
        survey: String,
        #[arg(long)]
        name: String,
        /// Directory of survey definitions.
        #[arg(long, env = "ANSHIN_DEFINITIONS")]
        definitions: Option<PathBuf>,
        /// Minimum group size k (default ANSHIN_MIN_GROUP or 5; never below 3).
        #[arg(long, env = "ANSHIN_MIN_GROUP", default_value_t = crate::aggregation::guard::DEFAULT_K)]
        k: u32,
        /// Minimum group size k2 for item distributions, comments and job-level cuts
        /// (default 10, or k if larger).
        #[arg(long)]
        k2: Option<u32>,
        /// A closed wave whose organisation means become the quadrant cut (only for
        /// definitions whose threshold rule is "baseline_wave").
        #[arg(long, value_name = "WAVE")]
        baseline: Option<i32>,
    },
    /// Close a wave: its codes stop working.
    Close { id: i32 },
    /// Delete a closed wave's code hashes (retention).
    PurgeCodes { id: i32 },
    /// List waves.
    List,
}

#[derive(Debug, Subcommand)]
pub enum CodesCommand {
    /// Write fresh one-time codes for a workplace to a CSV file (`workplace,code,url`).
    Issue {
        #[arg(long)]
        wave: i32,
        #[arg(long)]
        workplace: String,
        #[arg(long)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
        /// Public base URL for the links.
        #[arg(long, env = "ANSHIN_BASE_URL", default_value = "http://127.0.0.1:8080")]
        base_url: String,
        #[arg(long, env = "ANSHIN_SECRET_FILE")]
        secret_file: Option<PathBuf>,
    },
}

/// What `anshin results` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResultsFormat {
    /// UTF-8 with BOM, for Excel.
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; the password is read from standard input.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long, value_enum)]
        role: Role,
        /// Workplace codes a manager sees (with their subtrees); repeat for several.
        #[arg(long = "workplace")]
        workplaces: Vec<String>,
        /// Read the password from standard input (required: never pass it as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a new password, read from standard input; the account's sessions end.
    Passwd {
        #[arg(long)]
        login: String,
        /// Read the password from standard input (required: never pass it as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Replace a manager's workplaces (after a transfer).
    Workplaces {
        #[arg(long)]
        login: String,
        #[arg(long = "workplace", required = true)]
        workplaces: Vec<String>,
    },
    /// Disable an account: it can no longer sign in; its records stay.
    Disable {
        #[arg(long)]
        login: String,
    },
    /// List every account.
    List,
}

pub const DEFAULT_DB: &str = "anshin.db";
pub const DEFAULT_DEMO_DB: &str = "anshin-demo.db";

/// Runs a parsed command. Errors come back as one readable message for stderr.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let db_path = cli.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
    match cli.command {
        Command::Migrate => {
            let applied = db::migrate(&db_path)?;
            println!("{}: {applied} migration(s) applied", db_path.display());
            Ok(())
        }
        Command::Backup { out } => {
            anyhow::ensure!(db_path.exists(), "{}: no such database", db_path.display());
            db::backup(&db_path, &out)?;
            println!(
                "{} backed up to {} (the secret file is not included: copy it separately)",
                db_path.display(),
                out.display()
            );
            Ok(())
        }
        Command::Serve(args) => serve(server_settings(&db_path, &args.server)?),
        Command::Demo(args) => {
            let db_path = cli.db.unwrap_or_else(|| PathBuf::from(DEFAULT_DEMO_DB));
            let settings = server_settings(&db_path, &args.server)?;
            let scale = match (args.workplaces, args.responses) {
                (Some(workplaces), Some(responses_per_wave)) => {
                    anyhow::ensure!(workplaces >= 2, "--workplaces must be at least 2");
                    crate::demo::DemoScale::Generated {
                        workplaces,
                        responses_per_wave,
                    }
                }
                _ => crate::demo::DemoScale::Sample,
            };
            let summary = crate::demo::build(&settings, scale)?;
            println!(
                "Demo database {} ready: {} workplaces, {} waves, {} synthetic responses.",
                db_path.display(),
                summary.workplaces,
                summary.waves,
                summary.responses
            );
            if !summary.logins.is_empty() {
                println!(
                    "Dashboards: sign in at {}/login as",
                    settings.base_url.trim_end_matches('/')
                );
                for (login, password, shows) in &summary.logins {
                    println!("  {login} / {password}\t{shows}");
                }
            }
            println!(
                "Unused invitation codes of the open wave \"{}\" (each works once):",
                summary.open_wave_name
            );
            for (workplace, code) in summary.unused_codes.iter().take(5) {
                println!(
                    "  {workplace}\t{}/s/{}",
                    settings.base_url.trim_end_matches('/'),
                    code.display_form()
                );
            }
            if args.no_serve {
                Ok(())
            } else {
                serve(settings)
            }
        }
        Command::Survey(SurveyCommand::Check { files }) => check_definitions(&files),
        Command::Org(OrgCommand::Import { file }) => import_org(&db_path, &file),
        Command::Org(OrgCommand::Merge {
            code,
            name,
            workplaces,
        }) => {
            db::migrate(&db_path)?;
            org::add_unit(&mut db::connect(&db_path)?, &code, &name, &workplaces)?;
            println!("reporting unit {code} merges {}", workplaces.join(", "));
            Ok(())
        }
        Command::Org(OrgCommand::Unmerge { code }) => {
            db::migrate(&db_path)?;
            org::remove_unit(&mut db::connect(&db_path)?, &code)?;
            println!("reporting unit {code} removed");
            Ok(())
        }
        Command::Wave(command) => run_wave(&db_path, command),
        Command::Codes(CodesCommand::Issue {
            wave,
            workplace,
            count,
            out,
            base_url,
            secret_file,
        }) => {
            db::migrate(&db_path)?;
            let secret_path = secret_file.unwrap_or_else(|| default_secret_file(&db_path));
            let secret = crate::secret::ServerSecret::load_or_create(&secret_path)?;
            let mut conn = db::connect(&db_path)?;
            let bar = indicatif::ProgressBar::new(count as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} codes")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            if count < 10_000 {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let request = codes::IssueRequest {
                wave_id: wave,
                workplace_code: &workplace,
                count,
                base_url: &base_url,
            };
            codes::issue_to_file(&mut conn, &secret, &request, &out, |done| {
                bar.set_position(done as u64)
            })?;
            bar.finish_and_clear();
            println!("{count} codes for {workplace} written to {}", out.display());
            Ok(())
        }
        Command::User(UserCommand::Add {
            login,
            role,
            workplaces,
            password_stdin: _,
        }) => {
            let password = password_from_stdin()?;
            let mut conn = migrated(&db_path)?;
            accounts::add_user(&mut conn, &login, role, &password, &workplaces)?;
            println!("account {login} ({}) added", role.as_str());
            Ok(())
        }
        Command::User(UserCommand::Passwd {
            login,
            password_stdin: _,
        }) => {
            let password = password_from_stdin()?;
            accounts::set_password(&mut migrated(&db_path)?, &login, &password)?;
            println!("account {login}: password set; its sessions have ended");
            Ok(())
        }
        Command::User(UserCommand::Workplaces { login, workplaces }) => {
            accounts::set_workplaces(&mut migrated(&db_path)?, &login, &workplaces)?;
            println!("account {login}: workplaces {}", workplaces.join(", "));
            Ok(())
        }
        Command::User(UserCommand::Disable { login }) => {
            accounts::disable(&mut migrated(&db_path)?, &login)?;
            println!("account {login} disabled");
            Ok(())
        }
        Command::User(UserCommand::List) => {
            for account in accounts::list(&mut migrated(&db_path)?)? {
                println!(
                    "{}\t{}\t{}\tcreated {}{}",
                    account.login,
                    account.role,
                    account.workplaces,
                    account.created_at,
                    account
                        .disabled_on
                        .map(|d| format!("\tdisabled {d}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Results { wave, format, out } => {
            write_results(&db_path, wave, format, out.as_deref())
        }
        Command::Psychometrics { wave, format, out } => {
            write_psychometrics(&db_path, wave, &format, out.as_deref())
        }
        Command::Audit { wave, lang } => audit_wave(&db_path, wave, &lang),
        Command::Loadgen(args) => crate::loadgen::run(&db_path, args),
    }
}

fn server_settings(db_path: &Path, args: &ServerArgs) -> anyhow::Result<Settings> {
    let mut settings = Settings::for_database(db_path);
    settings.bind = args.bind.clone();
    if let Some(secret_file) = &args.secret_file {
        settings.secret_file = secret_file.clone();
    }
    settings.thresholds = Thresholds::new(args.min_group, DEFAULT_K2.max(args.min_group))?;
    settings.base_url = args
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.bind));
    settings.trust_proxy = args.trust_proxy;
    if let Some(templates) = &args.templates {
        settings.templates_dir = templates.clone();
    }
    settings.workers = usize::from(args.workers);
    settings.secure_cookies = args.secure_cookies;
    settings.session_lifetime =
        std::time::Duration::from_secs(u64::from(args.session_hours) * 3600);
    settings.time_zone = args.time_zone.clone();
    Ok(settings)
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.bind.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = crate::web::startup::Application::build(settings)?;
        tracing::info!(address = %bind, "serving");
        println!("Anshin is serving on http://{bind}/");
        app.run_until_stopped().await?;
        anyhow::Ok(())
    })
}

fn check_definitions(files: &[PathBuf]) -> anyhow::Result<()> {
    match survey::check_files(files) {
        Ok(definitions) => {
            for (file, definition) in files.iter().zip(&definitions) {
                println!(
                    "{}: ok ({} v{}, {} items in {} dimensions)",
                    file.display(),
                    definition.id,
                    definition.version,
                    definition.items.len(),
                    definition.dimensions.len()
                );
            }
            Ok(())
        }
        Err(errors) => {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::bail!("{}", messages.join("\n"))
        }
    }
}

fn import_org(db_path: &Path, file: &Path) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", file.display()))?;
    let rows = org::parse_csv(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    db::migrate(db_path)?;
    let mut conn = db::connect(db_path)?;
    let summary =
        org::import(&mut conn, &rows).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    println!(
        "{}: {} workplaces added, {} updated",
        file.display(),
        summary.added,
        summary.updated
    );
    Ok(())
}

fn run_wave(db_path: &Path, command: WaveCommand) -> anyhow::Result<()> {
    db::migrate(db_path)?;
    let mut conn = db::connect(db_path)?;
    match command {
        WaveCommand::Create {
            survey,
            name,
            definitions,
            k,
            k2,
            baseline,
        } => {
            let thresholds = Thresholds::new(k, k2.unwrap_or(DEFAULT_K2.max(k)))?;
            let dir =
                definitions.unwrap_or_else(|| Settings::for_database(db_path).definitions_dir);
            let (text, origin) = waves::definition_source(&dir, &survey)?;
            let wave = waves::create(&mut conn, &name, &text, &origin, thresholds, baseline)?;
            println!("{}", wave.id);
        }
        WaveCommand::Close { id } => {
            let wave = waves::close(&mut conn, id)?;
            println!(
                "wave {} ({}) closed; its codes no longer work",
                wave.id, wave.name
            );
        }
        WaveCommand::PurgeCodes { id } => {
            let deleted = waves::purge_codes(&mut conn, id)?;
            println!("wave {id}: {deleted} code hashes deleted");
        }
        WaveCommand::List => {
            for wave in waves::list(&mut conn)? {
                let count = waves::response_count(&mut conn, wave.id)?;
                // An open wave's count in steps of k: one answer never shows.
                let responses = if wave.is_open() {
                    crate::aggregation::guard::SteppedCount::new(
                        u64::try_from(count).unwrap_or(0),
                        u32::try_from(wave.min_group_size).unwrap_or(1),
                    )
                    .range()
                } else {
                    count.to_string()
                };
                let baseline = match (
                    wave.baseline_wave_id,
                    crate::aggregation::load::baseline_cut(&wave),
                ) {
                    (Some(baseline), Some(cut)) => {
                        format!("\tcut {:.2}/{:.2} from wave {baseline}", cut.x, cut.y)
                    }
                    _ => String::new(),
                };
                println!(
                    "{}\t{}\t{}\t{} v{}\topened {}{}\tk={} k2={}\t{} responses{baseline}",
                    wave.id,
                    wave.name,
                    wave.status,
                    wave.survey_id,
                    wave.survey_version,
                    wave.opened_on,
                    wave.closed_on
                        .map(|d| format!(", closed {d}"))
                        .unwrap_or_default(),
                    wave.min_group_size,
                    wave.min_detail_group_size,
                    responses
                );
            }
        }
    }
    Ok(())
}

fn write_results(
    db_path: &Path,
    wave: i32,
    format: ResultsFormat,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    use crate::aggregation::{export, frozen};
    anyhow::ensure!(db_path.exists(), "{}: no such database", db_path.display());
    let mut conn = db::connect(db_path)?;
    let results = frozen::wave_results(&mut conn, wave)?;
    let mut buffer = Vec::new();
    match format {
        ResultsFormat::Csv => export::write_csv(&results, &mut buffer)?,
        ResultsFormat::Json => {
            buffer = export::to_json(&results)?.into_bytes();
            buffer.push(b'\n');
        }
    }
    write_output(&buffer, out)
}

/// `anshin psychometrics`: the report as CSV (UTF-8 with BOM) or pretty JSON.
fn write_psychometrics(
    db_path: &Path,
    wave: i32,
    format: &str,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    use crate::aggregation::{frozen, psychometrics};
    anyhow::ensure!(db_path.exists(), "{}: no such database", db_path.display());
    let mut conn = db::connect(db_path)?;
    let report = frozen::wave_psychometrics(&mut conn, wave)?;
    let buffer = match format {
        "csv" => psychometrics::to_csv(&report)?,
        _ => {
            let mut json = serde_json::to_vec_pretty(&report)?;
            json.push(b'\n');
            json
        }
    };
    write_output(&buffer, out)
}

/// Writes a command's output to `out` (whole or not at all) or to standard output.
fn write_output(buffer: &[u8], out: Option<&Path>) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            // Written whole or not at all.
            let partial = path.with_extension("partial");
            std::fs::write(&partial, buffer)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            std::fs::rename(&partial, path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(buffer)?;
        }
    }
    Ok(())
}

/// `anshin audit`: the verdict on standard output; a failed audit is an error (exit 1).
fn audit_wave(db_path: &Path, wave: i32, lang: &str) -> anyhow::Result<()> {
    use crate::aggregation::{disclosure, frozen};
    anyhow::ensure!(db_path.exists(), "{}: no such database", db_path.display());
    let lang = crate::i18n::Lang::from_code(lang).unwrap_or_default();
    let mut conn = migrated(db_path)?;
    let results = frozen::wave_results(&mut conn, wave)?;
    let managers = accounts::managers(&mut conn)?
        .into_iter()
        .map(|account| {
            let may_see = |code: &str| account.may_see(code);
            (account.login.clone(), results.visible_to(Some(&may_see)))
        })
        .collect::<Vec<_>>();
    let report = disclosure::audit(&results, &managers);
    print!("{}", report.render(lang));
    if report.passed() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(match lang {
            crate::i18n::Lang::Ja =>
                format!("開示監査で{}件の指摘があります", report.findings.len()),
            crate::i18n::Lang::En => format!(
                "the disclosure audit found {} route(s)",
                report.findings.len()
            ),
        }))
    }
}

/// The password piped in on standard input, without its trailing line break.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| anyhow::anyhow!("cannot read the password from standard input: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

/// A connection to a database with every migration applied.
fn migrated(db_path: &Path) -> anyhow::Result<diesel::SqliteConnection> {
    db::migrate(db_path)?;
    Ok(db::connect(db_path)?)
}
