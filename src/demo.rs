//! `anshin demo`: a disposable database with a sample city organisation, two closed earlier
//! waves and an open current wave, filled with synthetic responses that go through the same
//! storage path as real ones (codes issued, then redeemed by the group-commit writer).

use std::path::Path;

use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

use crate::accounts::Role;
use crate::codes::{self, InvitationCode};
use crate::collection::answers;
use crate::collection::store::{store_batch, Outcome, Submission};
use crate::db::{self, schema::settings as settings_table};
use crate::secret::ServerSecret;
use crate::settings::Settings;
use crate::survey::SurveyDefinition;
use crate::wave_status::WaveStatus;
use crate::{org, waves};

const DEMO_MARKER: &str = "demo";
const SEED: u64 = 20_261_125;

/// Sample organisation: 3 部, 9 課, 18 係 (code, name, parent, headcount).
const ORGANISATION: &[(&str, &str, &str, Option<u32>)] = &[
    ("D10", "総務部", "", None),
    ("S11", "総務課", "D10", None),
    ("T111", "職員係", "S11", Some(12)),
    ("T112", "文書法制係", "S11", Some(9)),
    ("S12", "人事課", "D10", None),
    ("T121", "人事係", "S12", Some(11)),
    ("T122", "人材育成係", "S12", Some(7)),
    ("S13", "財政課", "D10", None),
    ("T131", "予算係", "S13", Some(10)),
    ("T132", "契約係", "S13", Some(4)),
    ("D20", "市民部", "", None),
    ("S21", "市民課", "D20", None),
    ("T211", "住民記録係", "S21", Some(16)),
    ("T212", "窓口サービス係", "S21", Some(14)),
    ("S22", "保険年金課", "D20", None),
    ("T221", "国民健康保険係", "S22", Some(13)),
    ("T222", "年金係", "S22", Some(3)),
    ("S23", "協働推進課", "D20", None),
    ("T231", "市民活動支援係", "S23", Some(8)),
    ("T232", "地域づくり係", "S23", Some(9)),
    ("D30", "都市整備部", "", None),
    ("S31", "都市計画課", "D30", None),
    ("T311", "計画係", "S31", Some(10)),
    ("T312", "景観係", "S31", Some(4)),
    ("S32", "道路課", "D30", None),
    ("T321", "道路管理係", "S32", Some(15)),
    ("T322", "道路建設係", "S32", Some(12)),
    ("S33", "公園緑地課", "D30", None),
    ("T331", "公園管理係", "S33", Some(11)),
    ("T332", "緑化推進係", "S33", Some(6)),
];

/// The demo's waves, oldest first: name, and whether it is closed. Results exist only for
/// closed waves, so two closed waves give every team a trajectory; the open one is in
/// progress with unused codes to try.
const DEMO_WAVES: [(&str, bool); 3] = [
    ("2024年度 職場風土調査", true),
    ("2025年度 職場風土調査", true),
    ("2026年度 職場風土調査", false),
];

/// Where each team's climate sits in each demo wave: (psychological safety, high standards)
/// on 1–5. Chosen so that teams fall in all four zones and some move between waves, yet
/// close enough together (against the spread between people in `synthetic_response`) that
/// the ICC(1) is realistic, about .05–.15 (`tests::the_demo_city_has_a_realistic_icc`).
fn climate(index: usize) -> [(f64, f64); 3] {
    const LEARNING: (f64, f64) = (3.8, 3.75);
    const COMFORT: (f64, f64) = (3.75, 3.15);
    const ANXIETY: (f64, f64) = (3.1, 3.75);
    const APATHY: (f64, f64) = (3.05, 3.05);
    match index % 6 {
        0 => [LEARNING, LEARNING, LEARNING],
        1 => [ANXIETY, ANXIETY, LEARNING],
        2 => [COMFORT, COMFORT, COMFORT],
        3 => [APATHY, ANXIETY, ANXIETY],
        4 => [APATHY, APATHY, APATHY],
        _ => [APATHY, APATHY, COMFORT],
    }
}

const SAMPLE_COMMENTS: &[&str] = &[
    "朝のミーティングで困りごとを共有できるようになり、相談しやすくなりました。",
    "繁忙期に業務が特定の人に集中しがちなので、応援体制があると助かります。",
    "新しいやり方を提案しても検討されないことが多いと感じます。",
    "係長が話を最後まで聴いてくれるので、安心して意見が言えます。",
    "マニュアルが古く、ノウハウが個人に頼っている部分があります。",
    "子育て中ですが、時差出勤などで協力してもらえて感謝しています。",
    "目標が共有されていないため、何を優先すべきか迷うことがあります。",
];

/// How big a demo to build: the sample city organisation, or a generated one of a given
/// size (for benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoScale {
    Sample,
    Generated {
        workplaces: usize,
        responses_per_wave: usize,
    },
}

/// What was built, for the caller to print.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub workplaces: usize,
    pub waves: usize,
    pub responses: i64,
    pub open_wave: i32,
    pub open_wave_name: String,
    /// (workplace code, code) of codes left unused in the open wave.
    pub unused_codes: Vec<(String, InvitationCode)>,
    /// (login, password, what it shows) of the demo accounts.
    pub logins: Vec<(&'static str, &'static str, &'static str)>,
}

/// Demo accounts of the sample organisation: HR, a manager of a team in the learning zone
/// and a manager of a team too small to report on (it shows the protected message). Their
/// passwords are printed: this is a disposable demo database.
const DEMO_LOGINS: &[(&str, &str, Role, Option<&str>, &str)] = &[
    (
        "hr",
        "demo-hr-password",
        Role::Hr,
        None,
        "HR: every workplace, CSV, heatmap",
    ),
    (
        "manager1",
        "demo-manager-password",
        Role::Manager,
        Some("T111"),
        "manager of 職員係",
    ),
    (
        "manager2",
        "demo-manager-password",
        Role::Manager,
        Some("T132"),
        "manager of 契約係 (4 people: protected)",
    ),
];

/// Builds a fresh demo database at `settings.db_path`: the organisation, two closed waves and
/// an open current wave, with synthetic responses stored by the collection code.
pub fn build(settings: &Settings, scale: DemoScale) -> anyhow::Result<DemoSummary> {
    let path = &settings.db_path;
    prepare_fresh_file(path)?;
    db::migrate(path)?;
    let mut conn = db::connect(path)?;
    diesel::insert_into(settings_table::table)
        .values((
            settings_table::key.eq(DEMO_MARKER),
            settings_table::value.eq("true"),
        ))
        .execute(&mut conn)?;

    let (rows, rates) = match scale {
        DemoScale::Sample => (sample_organisation(), SAMPLE_RESPONSE_RATES),
        DemoScale::Generated {
            workplaces,
            responses_per_wave,
        } => (
            generated_organisation(workplaces, responses_per_wave),
            [GENERATED_RESPONSE_RATE; 3],
        ),
    };
    org::import(&mut conn, &rows)?;
    let teams: Vec<org::Workplace> = org::load_all(&mut conn)?
        .into_iter()
        .filter(|w| w.headcount.is_some())
        .collect();

    let secret = ServerSecret::load_or_create(&settings.secret_file)?;
    let (text, origin) = waves::definition_source(&settings.definitions_dir, "workplace-climate")?;
    let definition = SurveyDefinition::parse(&text, &origin)?;
    let demo = DemoWave {
        definition: &definition,
        secret: &secret,
        teams: &teams,
    };
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut unused_codes = Vec::new();
    let mut responses = 0;
    let mut open_wave = None;
    for (index, ((name, closed), rate)) in DEMO_WAVES.iter().zip(rates).enumerate() {
        let wave = waves::create(&mut conn, name, &text, &origin, settings.thresholds, None)?;
        unused_codes.clear();
        demo.fill(&mut conn, wave.id, rate, index, &mut rng, &mut unused_codes)?;
        responses += waves::response_count(&mut conn, wave.id)?;
        if *closed {
            waves::close(&mut conn, wave.id)?;
        } else {
            open_wave = Some(wave);
        }
    }
    let open_wave = open_wave.ok_or_else(|| anyhow::anyhow!("the demo has no open wave"))?;
    Ok(DemoSummary {
        workplaces: rows.len(),
        waves: DEMO_WAVES.len(),
        responses,
        logins: match scale {
            DemoScale::Sample => add_demo_logins(&mut conn)?,
            DemoScale::Generated { .. } => Vec::new(),
        },
        open_wave: open_wave.id,
        open_wave_name: open_wave.name,
        unused_codes,
    })
}

fn add_demo_logins(
    conn: &mut SqliteConnection,
) -> anyhow::Result<Vec<(&'static str, &'static str, &'static str)>> {
    let mut logins = Vec::new();
    for (login, password, role, workplace, shows) in DEMO_LOGINS {
        let workplaces: Vec<String> = workplace.iter().map(|w| w.to_string()).collect();
        crate::accounts::add_user(conn, login, *role, password, &workplaces)?;
        logins.push((*login, *password, *shows));
    }
    Ok(logins)
}

fn sample_organisation() -> Vec<org::OrgRow> {
    ORGANISATION
        .iter()
        .enumerate()
        .map(|(i, (code, name, parent, headcount))| org::OrgRow {
            line: i as u64 + 1,
            code: code.to_string(),
            name: name.to_string(),
            parent_code: (!parent.is_empty()).then(|| parent.to_string()),
            headcount: *headcount,
        })
        .collect()
}

/// 部 of 9 課 of 10 係 each, `workplaces` in all. Team sizes vary from half to one and a half
/// times the average (every 25th team has only 4 people, too few to report on alone) and add
/// up to what `responses_per_wave` needs.
fn generated_organisation(workplaces: usize, responses_per_wave: usize) -> Vec<org::OrgRow> {
    // (code, name, parent, relative size of a team)
    let mut units: Vec<(String, String, Option<String>, Option<f64>)> =
        Vec::with_capacity(workplaces);
    'outer: for d in 1.. {
        if units.len() >= workplaces {
            break;
        }
        let department = format!("D{d:02}");
        units.push((department.clone(), format!("第{d}部"), None, None));
        for s in 1..=9 {
            if units.len() >= workplaces {
                break 'outer;
            }
            let section = format!("{department}S{s}");
            units.push((
                section.clone(),
                format!("第{d}部 第{s}課"),
                Some(department.clone()),
                None,
            ));
            for t in 1..=10 {
                if units.len() >= workplaces {
                    break 'outer;
                }
                let index = units.len();
                let weight = 0.5 + ((index * 37) % 100) as f64 / 100.0;
                units.push((
                    format!("{section}T{t:02}"),
                    format!("第{d}部 第{s}課 第{t}係"),
                    Some(section.clone()),
                    Some(if index.is_multiple_of(25) {
                        0.0
                    } else {
                        weight
                    }),
                ));
            }
        }
    }
    let staff = responses_per_wave as f64 / GENERATED_RESPONSE_RATE;
    let total_weight: f64 = units.iter().filter_map(|u| u.3).sum();
    units
        .into_iter()
        .enumerate()
        .map(|(line, (code, name, parent_code, weight))| org::OrgRow {
            line: line as u64 + 1,
            code,
            name,
            parent_code,
            headcount: weight.map(|w| {
                if w == 0.0 {
                    4
                } else {
                    (staff * w / total_weight.max(f64::MIN_POSITIVE))
                        .round()
                        .max(1.0) as u32
                }
            }),
        })
        .collect()
}

/// Share of codes redeemed in each demo wave (the open one is still in progress); a
/// generated organisation uses one rate so that every wave holds about the requested number
/// of responses.
const SAMPLE_RESPONSE_RATES: [f64; 3] = [0.85, 0.85, 0.6];
const GENERATED_RESPONSE_RATE: f64 = 0.9;

/// Submissions stored per transaction while filling a wave.
const DEMO_BATCH: usize = 2_000;

struct DemoWave<'a> {
    definition: &'a SurveyDefinition,
    secret: &'a ServerSecret,
    teams: &'a [org::Workplace],
}

impl DemoWave<'_> {
    /// Issues codes to every team and redeems a share of them with synthetic responses,
    /// through the same store code that the group-commit writer uses (`store_batch`).
    fn fill(
        &self,
        conn: &mut SqliteConnection,
        wave_id: i32,
        response_rate: f64,
        wave_index: usize,
        rng: &mut StdRng,
        unused_codes: &mut Vec<(String, InvitationCode)>,
    ) -> anyhow::Result<()> {
        let mut pending = Vec::with_capacity(DEMO_BATCH);
        for (index, team) in self.teams.iter().enumerate() {
            let headcount = team.headcount.unwrap_or(0).max(0) as usize;
            let team_codes: Vec<InvitationCode> = (0..headcount)
                .map(|_| InvitationCode::generate(rng))
                .collect();
            codes::store_new_codes(conn, self.secret, wave_id, team.id, &team_codes, |_| {})?;
            let (safety, standards) = climate(index)[wave_index];
            for code in team_codes {
                if rng.random_bool(response_rate) {
                    let (answers, job_level, comment) =
                        synthetic_response(self.definition, safety, standards, rng);
                    pending.push(Submission {
                        code_hash: code.keyed_hash(self.secret),
                        looked_up: Some((wave_id, team.id)),
                        answers: answers::encode(&answers),
                        job_level,
                        comment,
                    });
                    if pending.len() == DEMO_BATCH {
                        store_all(conn, &mut pending)?;
                    }
                } else {
                    unused_codes.push((team.code.clone(), code));
                }
            }
        }
        store_all(conn, &mut pending)
    }
}

fn store_all(conn: &mut SqliteConnection, pending: &mut Vec<Submission>) -> anyhow::Result<()> {
    let outcomes = store_batch(conn, pending)?;
    anyhow::ensure!(
        outcomes.iter().all(|o| *o == Outcome::Stored),
        "a demo submission was refused"
    );
    pending.clear();
    Ok(())
}

/// Refuses to touch a database that is not a demo database; replaces an earlier demo.
fn prepare_fresh_file(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let is_demo = {
        let mut conn = db::connect(path)?;
        settings_table::table
            .filter(settings_table::key.eq(DEMO_MARKER))
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap_or(0)
            > 0
    };
    if !is_demo {
        anyhow::bail!(
            "{} exists and is not a demo database; choose another file with --db",
            path.display()
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                anyhow::bail!(
                    "cannot remove the old demo database {}: {e}",
                    name.to_string_lossy()
                );
            }
            _ => {}
        }
    }
    Ok(())
}

/// One synthetic respondent: a personal level per dimension around the team's climate, then
/// noisy item answers (reverse-coded items answered in reverse), a few "prefer not to answer".
pub fn synthetic_response(
    definition: &SurveyDefinition,
    safety: f64,
    standards: f64,
    rng: &mut impl Rng,
) -> (Vec<Option<u8>>, Option<String>, Option<String>) {
    // People differ far more within a team than teams differ (ICC(1) ≈ .1).
    let personal = Normal::new(0.0, 0.75).expect("constant, positive deviation");
    let item_noise = Normal::new(0.0, 0.6).expect("constant, positive deviation");
    let shift: f64 = personal.sample(rng);
    let levels: Vec<f64> = definition
        .dimensions
        .iter()
        .map(|dimension| {
            let base = match dimension.id.as_str() {
                "psychological_safety" => safety,
                "high_standards" => standards,
                "engagement" => 0.5 * safety + 0.5 * standards,
                "sharing" | "support" => 0.7 * safety + 0.3 * standards,
                // The anxieties rise as psychological safety falls.
                id if id.starts_with("anxiety") => 6.0 - safety,
                _ => 0.5 * safety + 0.5 * standards,
            };
            base + shift + personal.sample(rng) * 0.5
        })
        .collect();
    let answers = definition
        .items
        .iter()
        .map(|item| {
            let scale = definition.scale_of(item);
            if scale.allow_no_answer && rng.random_bool(0.03) {
                return None;
            }
            let level = levels[item.dimension];
            let span = f64::from(scale.max - scale.min);
            // Map the 1–5 level onto the item's scale (0–10 for the recommend item).
            let on_scale = f64::from(scale.min)
                + (level - 1.0) / 4.0 * span
                + item_noise.sample(rng) * span / 4.0;
            let value = on_scale
                .round()
                .clamp(f64::from(scale.min), f64::from(scale.max)) as u8;
            Some(if item.reverse {
                scale.reverse(value)
            } else {
                value
            })
        })
        .collect();
    let job_level = definition.job_level.as_ref().and_then(|question| {
        let option = &question.options[rng.random_range(0..question.options.len())];
        (!option.undisclosed).then(|| option.id.clone())
    });
    let comment = (definition.comment.is_some() && rng.random_bool(0.12))
        .then(|| SAMPLE_COMMENTS[rng.random_range(0..SAMPLE_COMMENTS.len())].to_string());
    (answers, job_level, comment)
}

/// One wave of the sample city organisation as the aggregation engine reads it, without a
/// database: every team's members answer with the climate of demo wave `wave_index` (0–2),
/// each with probability `response_rate`. For simulations of the statistics on the demo.
pub fn sample_wave_data(
    definition: std::sync::Arc<SurveyDefinition>,
    wave_index: usize,
    response_rate: f64,
    thresholds: crate::aggregation::guard::Thresholds,
    rng: &mut impl Rng,
) -> crate::aggregation::WaveData {
    use crate::aggregation::{ResponseTable, WaveData, WorkplaceNode};
    let workplaces: Vec<WorkplaceNode> = ORGANISATION
        .iter()
        .map(|(code, name, parent, headcount)| WorkplaceNode {
            code: code.to_string(),
            name: name.to_string(),
            parent: ORGANISATION.iter().position(|(c, ..)| c == parent),
            headcount: *headcount,
            reporting_unit: false,
        })
        .collect();
    let option_index = |id: &str| {
        definition
            .job_level
            .as_ref()
            .and_then(|q| q.options.iter().position(|o| o.id == id))
            .and_then(|i| u16::try_from(i).ok())
    };
    let mut responses = ResponseTable::default();
    let teams = workplaces
        .iter()
        .enumerate()
        .filter(|(_, w)| w.headcount.is_some());
    for (index, (w, team)) in teams.enumerate() {
        let (safety, standards) = climate(index)[wave_index.min(2)];
        for _ in 0..team.headcount.unwrap_or(0) {
            if !rng.random_bool(response_rate) {
                continue;
            }
            let (answers, job_level, _) = synthetic_response(&definition, safety, standards, rng);
            responses.workplace.push(w as u32);
            responses
                .job_level
                .push(job_level.as_deref().and_then(option_index));
            responses.answers.extend(answers::encode(&answers));
        }
    }
    WaveData {
        wave_id: wave_index as i32 + 1,
        wave_name: format!("demo {wave_index}"),
        wave_status: WaveStatus::Closed,
        definition,
        thresholds,
        workplaces,
        responses,
        comments: Vec::new(),
    }
}

/// The sample city's first `count` waves, each aggregated against the one before, answered
/// on the shipped instrument with a seeded generator: the fixture of the views' and exports'
/// tests.
#[cfg(test)]
pub(crate) fn sample_results(count: usize, seed: u64) -> Vec<crate::aggregation::WaveResults> {
    use rand::SeedableRng;
    let text = include_str!("../survey-definitions/workplace-climate.toml");
    let definition = std::sync::Arc::new(
        SurveyDefinition::parse(text, "workplace-climate.toml").expect("shipped"),
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut waves: Vec<crate::aggregation::WaveResults> = Vec::new();
    for index in 0..count {
        let data = sample_wave_data(
            definition.clone(),
            index,
            0.9,
            crate::aggregation::guard::Thresholds::default(),
            &mut rng,
        );
        let results =
            crate::aggregation::compute(&data, None, waves.last()).expect("the demo aggregates");
        waves.push(results);
    }
    waves
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::aggregation::{compute, guard::Thresholds};

    fn definition() -> Arc<SurveyDefinition> {
        let text = include_str!("../survey-definitions/workplace-climate.toml");
        Arc::new(SurveyDefinition::parse(text, "workplace-climate.toml").expect("shipped"))
    }

    /// Share of simulated pairs of waves, with no true change between them, in which at
    /// least one cell of the second wave is flagged as a real change.
    fn false_alarm_rate(seed: u64, waves: usize) -> f64 {
        let definition = definition();
        let thresholds = Thresholds::new(5, 10).expect("valid");
        let mut rng = StdRng::seed_from_u64(seed);
        // The pairs are drawn in order from the one seeded generator (the same data whatever
        // the threads do); two threads compute them, so the test takes half the time on the
        // two cores it is run on.
        let (pairs, queue) = std::sync::mpsc::sync_channel(2);
        let queue = std::sync::Mutex::new(queue);
        let alarms = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        let mut alarms = 0usize;
                        loop {
                            let next = queue.lock().expect("queue").recv();
                            let Ok((before, after)) = next else { break };
                            let previous = compute(&before, None, None).expect("computed");
                            let current = compute(&after, None, Some(&previous)).expect("computed");
                            let flagged = current
                                .groups
                                .iter()
                                .flat_map(|g| g.scores.values())
                                .any(|s| s.change.is_some_and(|c| c.real));
                            alarms += usize::from(flagged);
                        }
                        alarms
                    })
                })
                .collect();
            for _ in 0..waves {
                let before = sample_wave_data(definition.clone(), 0, 0.85, thresholds, &mut rng);
                let after = sample_wave_data(definition.clone(), 0, 0.85, thresholds, &mut rng);
                pairs.send((before, after)).expect("a worker");
            }
            drop(pairs);
            workers
                .into_iter()
                .map(|worker| worker.join().expect("worker"))
                .sum::<usize>()
        });
        alarms as f64 / waves as f64
    }

    /// ICC(1) of the quadrant's two axes in one demo wave, as the engine reports it.
    fn demo_icc(seed: u64, wave_index: usize) -> Vec<(String, f64)> {
        let definition = definition();
        let thresholds = Thresholds::new(5, 10).expect("valid");
        let mut rng = StdRng::seed_from_u64(seed);
        let data = sample_wave_data(definition, wave_index, 0.85, thresholds, &mut rng);
        let results = compute(&data, None, None).expect("computed");
        results
            .reliability
            .iter()
            .filter_map(|r| r.icc1.map(|icc| (r.dimension.clone(), icc)))
            .collect()
    }

    #[test]
    fn the_demo_city_has_a_realistic_icc() {
        // Real staff surveys show ICC(1) of about .05–.15 (Bliese 2000; James 1982): teams
        // differ, but most of the variance is between people. The axes of every demo wave,
        // averaged over 20 seeded draws, must sit in that band.
        for wave in 0..3 {
            for axis in ["psychological_safety", "high_standards"] {
                let draws: Vec<f64> = (0..20)
                    .filter_map(|seed| {
                        demo_icc(seed, wave)
                            .into_iter()
                            .find(|(d, _)| d == axis)
                            .map(|(_, icc)| icc)
                    })
                    .collect();
                let mean = draws.iter().sum::<f64>() / draws.len() as f64;
                eprintln!("wave {wave} {axis}: mean ICC(1) {mean:.3}");
                assert!((0.05..=0.15).contains(&mean), "wave {wave} {axis}: {mean}");
            }
        }
    }

    #[test]
    fn no_change_waves_rarely_raise_a_real_change_flag() {
        // 400 pairs of waves of the demo city with the same climate in both (seeded): the
        // share with any "real change" anywhere must stay at or below 5%.
        let rate = false_alarm_rate(20_261_130, 400);
        eprintln!("false-alarm rate per wave: {rate:.4}");
        assert!(rate <= 0.05, "{rate}");
    }

    /// Measurement, not a rule: would empirical-Bayes shrinkage of a team's axis means toward
    /// the organisation's (weight = the mean's Spearman–Brown reliability) place teams of
    /// 5–10 respondents in their true zone more often than the raw means do? Run with
    /// `cargo test --lib shrinkage -- --ignored --nocapture`; docs/methodology.md §4 gives the
    /// result.
    #[test]
    #[ignore]
    fn shrinkage_zone_accuracy_for_small_teams() {
        use crate::aggregation::{GroupLevel, Zone};
        let definition = definition();
        let thresholds = Thresholds::new(5, 10).expect("valid");
        let mut rng = StdRng::seed_from_u64(20_261_131);
        let (mut raw_hits, mut shrunk_hits, mut parent_hits, mut teams) = (0, 0, 0, 0usize);
        let true_climates: Vec<(String, (f64, f64))> = ORGANISATION
            .iter()
            .filter(|(.., headcount)| headcount.is_some())
            .enumerate()
            .map(|(index, (code, ..))| (code.to_string(), climate(index)[0]))
            .collect();
        for _ in 0..300 {
            let data = sample_wave_data(definition.clone(), 0, 0.85, thresholds, &mut rng);
            let results = compute(&data, None, None).expect("computed");
            let (Some(x), Some(y)) = (
                results.axis(crate::aggregation::QuadrantAxis::X),
                results.axis(crate::aggregation::QuadrantAxis::Y),
            ) else {
                continue;
            };
            let Some(organisation) = results
                .groups
                .iter()
                .find(|g| g.level == GroupLevel::Organisation)
            else {
                continue;
            };
            let (Some(ox), Some(oy)) = (
                organisation.scores.get(&x.id),
                organisation.scores.get(&y.id),
            ) else {
                continue;
            };
            for group in &results.groups {
                let Some((_, (tx, ty))) = true_climates
                    .iter()
                    .find(|(code, _)| group.workplace.as_deref() == Some(code))
                else {
                    continue;
                };
                let (Some(gx), Some(gy)) = (group.scores.get(&x.id), group.scores.get(&y.id))
                else {
                    continue;
                };
                if !(5..=10).contains(&gx.n) {
                    continue;
                }
                let truth = Zone::from_position(*tx, *ty, results.cut.x, results.cut.y);
                let raw = Zone::from_position(gx.mean, gy.mean, results.cut.x, results.cut.y);
                let shrink = |score: &crate::aggregation::DimensionScore, parent: f64| {
                    let weight = score.reliability.unwrap_or(1.0);
                    weight * score.mean + (1.0 - weight) * parent
                };
                let shrunk = Zone::from_position(
                    shrink(gx, ox.mean),
                    shrink(gy, oy.mean),
                    results.cut.x,
                    results.cut.y,
                );
                // The same toward the parent unit (課), where it is shown.
                let parent = results
                    .groups
                    .iter()
                    .find(|p| p.job_level.is_none() && p.workplace == group.parent)
                    .and_then(|p| Some((p.scores.get(&x.id)?.mean, p.scores.get(&y.id)?.mean)))
                    .unwrap_or((ox.mean, oy.mean));
                let to_parent = Zone::from_position(
                    shrink(gx, parent.0),
                    shrink(gy, parent.1),
                    results.cut.x,
                    results.cut.y,
                );
                teams += 1;
                raw_hits += usize::from(raw == truth);
                shrunk_hits += usize::from(shrunk == truth);
                parent_hits += usize::from(to_parent == truth);
            }
        }
        eprintln!(
            "teams of 5–10: {teams}; zone correct: raw {:.3}, shrunk to the organisation {:.3}, \
             to the parent {:.3}",
            raw_hits as f64 / teams as f64,
            shrunk_hits as f64 / teams as f64,
            parent_hits as f64 / teams as f64
        );
        assert!(teams > 0);
    }
}
