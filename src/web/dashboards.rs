//! The dashboards: HR's overview of waves and results, a manager's "my team" page with the
//! action plan of PDCA. Every figure comes from the guarded, scoped results (`results`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::extract::{carries_csrf, Hr, Manager, SignedIn, WithCsrf};
use super::pages::{language, remember_language, PageLang};
use super::redirect;
use super::results::{audit_view, cached_results, chart_for, results_for};
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{Account, Role};
use crate::aggregation::{
    stats, unit_level_name, Certainty, GroupResult, WaveResults, Zone, LOW_MEAN_RELIABILITY,
};
use crate::charts;
use crate::i18n::Lang;
use crate::participation::{self, stepped};
use crate::plans::{self, Plan, PlanError};
use crate::survey::AvoidedBehaviour;
use crate::waves::Wave;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dashboard").route(web::get().to(dashboard)));
    cfg.service(web::resource("/hr/groups").route(web::get().to(drill_down)));
    cfg.service(web::resource("/manager/plans").route(web::post().to(save_plan)));
}

carries_csrf!(PlanForm);

/// A plan the domain cannot take is a malformed request.
impl From<PlanError> for AppError {
    fn from(error: PlanError) -> Self {
        match error {
            PlanError::NotApplicable => AppError::BadRequest,
            PlanError::Definition(e) => AppError::internal(e),
            PlanError::Database(e) => AppError::unavailable(e),
        }
    }
}

/// What every page of a request needs to render.
struct View<'a> {
    state: &'a AppState,
    session: &'a TypedSession,
    lang: Lang,
}

impl View<'_> {
    /// A dashboard page's context: the language switch stays on the dashboard.
    fn context(&self) -> tera::Context {
        let mut context = self.state.pages.context(self.lang);
        context.insert(
            "lang_switch_href",
            &format!("/dashboard?lang={}", self.lang.other().code()),
        );
        context.insert("csrf", &self.session.csrf_token());
        context
    }

    /// The message an action left for this page ("… closed"), in the page's language.
    fn notice(&self) -> Option<String> {
        let (key, name) = self.session.take_notice()?;
        Some(self.message(&key).replace("{name}", &name))
    }

    fn message(&self, key: &str) -> String {
        self.state.pages.message(self.lang, key).to_string()
    }

    fn page(&self, status: StatusCode, template: &str, context: &tera::Context) -> HttpResponse {
        self.state.pages.html(status, template, context)
    }
}

/// `?lang=` and, for HR's organisation quadrant, `?level=` (1 = 部, 2 = 課, 3 = 係).
#[derive(Deserialize)]
struct DashboardQuery {
    lang: Option<String>,
    level: Option<String>,
}

async fn dashboard(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    query: web::Query<DashboardQuery>,
    SignedIn(account): SignedIn,
) -> Result<HttpResponse, AppError> {
    let lang = language(&req, query.lang.as_deref());
    let view = View {
        state: &state,
        session: &session,
        lang,
    };
    let page = match account.role {
        Role::Hr => {
            let level = match query.level.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(level) => Some(level.parse::<u32>().map_err(|_| AppError::BadRequest)?),
            };
            hr_page(&state, &view, &account, level).await?
        }
        Role::Manager => team_page(&state, &view, &account, &account.own_workplaces, None).await?,
    };
    Ok(remember_language(page, query.lang.as_deref()))
}

#[derive(Deserialize)]
struct DrillDownQuery {
    workplace: String,
}

/// HR's view of any one group, as a manager of it would see it (without the plan form).
async fn drill_down(
    state: web::Data<AppState>,
    session: TypedSession,
    query: web::Query<DrillDownQuery>,
    PageLang(lang): PageLang,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let view = View {
        state: &state,
        session: &session,
        lang,
    };
    let codes = [query.workplace.trim().to_string()];
    team_page(&state, &view, &account, &codes, None).await
}

#[derive(Serialize)]
struct WaveRow {
    id: i32,
    name: String,
    open: bool,
    opened_on: String,
    closed_on: Option<String>,
    /// A closed wave's total; an open wave's in steps of k ("10–14").
    responses: String,
}

impl WaveRow {
    fn new(wave: &Wave, count: i64) -> Self {
        WaveRow {
            id: wave.id,
            name: wave.name.clone(),
            open: wave.is_open(),
            opened_on: wave.opened_on.clone(),
            closed_on: wave.closed_on.clone(),
            responses: if wave.is_open() {
                stepped(count, wave.min_group_size).range()
            } else {
                count.to_string()
            },
        }
    }
}

async fn hr_page(
    state: &web::Data<AppState>,
    view: &View<'_>,
    account: &Account,
    level: Option<u32>,
) -> Result<HttpResponse, AppError> {
    let (waves, accounts, participation) = state
        .with_conn(|conn| {
            let waves = crate::waves::list_with_counts(conn)?;
            // Response counts per workplace while a wave is open are HR's alone (rule 7).
            let participation = match waves.iter().rev().find(|(w, _)| w.is_open()) {
                Some((open, _)) => participation::of_wave(conn, open.id, open.min_group_size)?,
                None => Vec::new(),
            };
            let accounts = crate::accounts::list(conn)?;
            Ok::<_, AppError>((waves, accounts, participation))
        })
        .await?;
    let latest_closed = waves.iter().rev().find(|(w, _)| !w.is_open());
    let rows: Vec<WaveRow> = waves.iter().map(|(w, n)| WaveRow::new(w, *n)).collect();
    let open_wave_names: Vec<&str> = rows
        .iter()
        .filter(|w| w.open)
        .map(|w| w.name.as_str())
        .collect();
    let mut context = view.context();
    context.insert("notice", &view.notice());
    let surveys = crate::waves::survey_ids(&state.settings.definitions_dir);
    context.insert("surveys", &surveys);
    context.insert("open_wave_names", &open_wave_names.join("、"));
    context.insert("waves", &rows);
    context.insert("accounts", &accounts);
    context.insert("participation", &participation);
    context.insert("latest_closed", &latest_closed.map(|(w, _)| w.id));
    if let Some((wave, _)) = latest_closed {
        let (_, results) = cached_results(state, wave.id).await?;
        let deepest = results.unit_levels().into_values().max().unwrap_or(0);
        let levels: Vec<(u32, String)> = (1..=deepest)
            .map(|l| (l, unit_level_name(l, view.lang)))
            .collect();
        context.insert("levels", &levels);
        context.insert("level", &level.filter(|l| (1..=deepest).contains(l)));
        // The page's one audit row; its charts (the heatmap inline, so that its cells link
        // to the drill-down, and the quadrant) are part of this view.
        audit_view(state, account, "view heatmap", wave.id).await?;
        let lang = view.lang;
        let key = format!("heatmap {}", lang.code());
        let heatmap = chart_for(state, account, wave.id, "view heatmap", key, |results| {
            Ok(charts::heatmap(results, lang))
        })
        .await?;
        context.insert("heatmap_svg", &String::from_utf8_lossy(&heatmap));
    }
    Ok(view.page(StatusCode::OK, "dashboard_hr.html", &context))
}

#[derive(Serialize)]
struct ScoreRow {
    dimension: String,
    team: Option<String>,
    organisation: Option<String>,
    change: Option<String>,
    real_change: bool,
    /// Reliability of the team's mean (Spearman–Brown), two decimals.
    reliability: Option<String>,
    /// Below [`LOW_MEAN_RELIABILITY`]: the page says the mean is mostly chance.
    reliability_low: bool,
}

#[derive(Serialize)]
struct PlanRow {
    dimension: String,
    action: String,
    owner: String,
    due_on: Option<String>,
}

#[derive(Serialize)]
struct TeamView {
    code: String,
    name: String,
    suppressed: bool,
    /// Responses in the wave shown, wherever the guard shows the team.
    responses: Option<u32>,
    zone: Option<&'static str>,
    zone_text: Option<String>,
    previous_zone: Option<&'static str>,
    zone_label: Option<String>,
    previous_zone_label: Option<String>,
    borderline: bool,
    scores: Vec<ScoreRow>,
    /// Share agreeing with the items about each avoided behaviour (groups of k2 or more).
    behaviours: Vec<(String, String)>,
    /// Message keys of the conversation prompts that fit the zone.
    prompts: Vec<&'static str>,
    /// Free-text comments in the guard's random order (groups of k2 or more).
    comments: Vec<String>,
    plans: Vec<PlanRow>,
    previous_plans: Vec<PlanRow>,
}

/// The team page for `codes`: a manager's own workplaces (with the action-plan form), or
/// one group HR drills down to (read-only).
async fn team_page(
    state: &web::Data<AppState>,
    view: &View<'_>,
    account: &Account,
    codes: &[String],
    plan_error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let latest = state.with_conn(crate::waves::latest_closed).await?;
    let mut context = view.context();
    context.insert("plan_error", &plan_error.map(|key| view.message(key)));
    context.insert("can_plan", &(account.role == Role::Manager));
    context.insert("drill_down", &(account.role == Role::Hr));
    context.insert("drill_down_name", &codes.join(", "));
    let Some(wave) = latest else {
        context.insert("wave", &Option::<i32>::None);
        context.insert("teams", &Vec::<TeamView>::new());
        return Ok(view.page(StatusCode::OK, "dashboard_manager.html", &context));
    };
    let results = results_for(state, account, wave.id, "view team results").await?;
    let (own, previous) = (codes.to_vec(), results.previous_wave);
    let plans = state
        .with_conn(move |conn| plans::load(conn, &own, wave.id, previous))
        .await?;
    let teams: Vec<TeamView> = codes
        .iter()
        .filter_map(|code| results.group(code))
        .map(|group| team_view(view, &results, group, &plans))
        .collect();
    let dimensions: Vec<(String, String)> = results
        .dimensions
        .iter()
        .map(|d| (d.id.clone(), d.name(view.lang).to_string()))
        .collect();
    if let Some(team) = teams.first() {
        context.insert("drill_down_name", &team.name);
    }
    context.insert("wave", &Some(wave.id));
    context.insert("wave_name", &wave.name);
    context.insert("k2", &results.k2);
    context.insert("teams", &teams);
    context.insert("dimensions", &dimensions);
    Ok(view.page(StatusCode::OK, "dashboard_manager.html", &context))
}

fn team_view(
    view: &View<'_>,
    results: &WaveResults,
    group: &GroupResult,
    plans: &[Plan],
) -> TeamView {
    let code = group.workplace.clone().unwrap_or_default();
    let zone_message =
        |prefix: &str, zone: Zone| view.message(&format!("{prefix}{}", zone.as_str()));
    TeamView {
        name: group.name.clone(),
        suppressed: group.suppressed || group.zone.is_none(),
        responses: group.n,
        zone: group.zone.map(|z| z.as_str()),
        zone_text: group.zone.map(|z| zone_message("zone_", z)),
        previous_zone: group.previous_zone.map(|z| z.as_str()),
        zone_label: group.zone.map(|z| zone_message("zone_label_", z)),
        previous_zone_label: group.previous_zone.map(|z| zone_message("zone_label_", z)),
        borderline: results
            .certainty_of(group)
            .is_some_and(|c| c.zone() == Certainty::Borderline),
        scores: score_rows(view.lang, results, group),
        behaviours: behaviours(view, group),
        prompts: prompts_for(group.zone),
        comments: group.comments.clone().unwrap_or_default(),
        plans: plan_rows(view.lang, results, plans, &code, Some(results.wave)),
        previous_plans: plan_rows(view.lang, results, plans, &code, results.previous_wave),
        code,
    }
}

/// A dimension's name in `lang`; its id where the results do not know it.
fn dimension_name(lang: Lang, results: &WaveResults, id: &str) -> String {
    results
        .dimension(id)
        .map_or(id.to_string(), |d| d.name(lang).to_string())
}

/// The team's score per dimension beside the organisation's, with the change since the
/// previous wave and the mean's reliability.
fn score_rows(lang: Lang, results: &WaveResults, group: &GroupResult) -> Vec<ScoreRow> {
    let organisation = results.organisation();
    results
        .dimensions
        .iter()
        .map(|dimension| {
            let team = group.scores.get(&dimension.id);
            ScoreRow {
                dimension: dimension.name(lang).to_string(),
                team: team.map(|s| format!("{:.2}", s.mean)),
                organisation: organisation
                    .and_then(|o| o.scores.get(&dimension.id))
                    .map(|s| format!("{:.2}", s.mean)),
                change: team.and_then(|s| s.change).map(|c| match c.ci95 {
                    Some((low, high)) => format!("{:+.2} ({low:+.2}〜{high:+.2})", c.delta),
                    None => format!("{:+.2}", c.delta),
                }),
                real_change: team.and_then(|s| s.change).is_some_and(|c| c.real),
                reliability: team.and_then(|s| s.reliability).map(|r| format!("{r:.2}")),
                reliability_low: team
                    .and_then(|s| s.reliability)
                    .is_some_and(|r| r < LOW_MEAN_RELIABILITY),
            }
        })
        .collect()
}

/// The plans of workplace `code` made after `wave`.
fn plan_rows(
    lang: Lang,
    results: &WaveResults,
    plans: &[Plan],
    code: &str,
    wave: Option<i32>,
) -> Vec<PlanRow> {
    plans
        .iter()
        .filter(|plan| plan.workplace == code && Some(plan.wave) == wave)
        .map(|plan| PlanRow {
            dimension: dimension_name(lang, results, &plan.dimension),
            action: plan.action.clone(),
            owner: plan.owner.clone(),
            due_on: plan.due_on.clone(),
        })
        .collect()
}

/// The share agreeing with the items of each avoided behaviour (groups of k2 or more).
fn behaviours(view: &View<'_>, group: &GroupResult) -> Vec<(String, String)> {
    let Some(items) = group.items.as_ref() else {
        return Vec::new();
    };
    AvoidedBehaviour::ALL
        .iter()
        .filter_map(|behaviour| {
            // Pool the answers to the behaviour's items; agreeing (the top two boxes)
            // means the person holds back in that way.
            let mut pooled: Vec<u32> = Vec::new();
            for item in items.iter().filter(|i| i.behaviour == Some(*behaviour)) {
                pooled.resize(pooled.len().max(item.distribution.len()), 0);
                for (slot, (_, count)) in pooled.iter_mut().zip(&item.distribution) {
                    *slot += count;
                }
            }
            stats::favourable_share(&pooled).map(|share| {
                let label = view.message(&format!("behaviour_{}", behaviour.id()));
                (label, format!("{:.0}%", share * 100.0))
            })
        })
        .collect()
}

/// The policy's conversation prompts (声掛け例, 共有, サポート) that fit a zone: listening
/// and positive framing where psychological safety is low, shared goals and backed
/// challenges where standards are low, recognition to keep a learning team growing.
fn prompts_for(zone: Option<Zone>) -> Vec<&'static str> {
    match zone {
        Some(Zone::Learning) => vec!["prompt_3", "prompt_sharing", "prompt_support"],
        Some(Zone::Comfort) => vec!["prompt_sharing", "prompt_support", "prompt_3"],
        Some(Zone::Anxiety) => vec!["prompt_1", "prompt_2", "prompt_support"],
        Some(Zone::Apathy) => vec!["prompt_1", "prompt_2", "prompt_sharing"],
        None => vec![
            "prompt_1",
            "prompt_2",
            "prompt_3",
            "prompt_sharing",
            "prompt_support",
        ],
    }
}

#[derive(Deserialize)]
struct PlanForm {
    csrf: String,
    wave: i32,
    workplace: String,
    dimension: String,
    action: String,
    owner: String,
    due_on: Option<String>,
}

/// Records an action plan for one of the manager's own workplaces; a plan that needs
/// correcting shows the team page again with the reason (400).
async fn save_plan(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    WithCsrf(Manager(account), form): WithCsrf<Manager, PlanForm>,
) -> Result<HttpResponse, AppError> {
    if !account.own_workplaces.contains(&form.workplace) {
        return Err(AppError::Forbidden);
    }
    let draft = match plans::check(&form.action, &form.owner, form.due_on.as_deref()) {
        Ok(draft) => draft,
        Err(message) => {
            let view = View {
                state: &state,
                session: &session,
                lang: language(&req, None),
            };
            let own = &account.own_workplaces;
            let mut page = team_page(&state, &view, &account, own, Some(message)).await?;
            *page.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(page);
        }
    };
    let account_id = account.id;
    state
        .with_conn(move |conn| {
            plans::save(
                conn,
                account_id,
                form.wave,
                &form.workplace,
                &form.dimension,
                &draft,
            )
        })
        .await?;
    Ok(redirect("/dashboard"))
}
