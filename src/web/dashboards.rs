//! The dashboards: HR's overview of waves and results, a manager's "my team" page with the
//! action plan of PDCA. Every figure comes from the guarded, scoped results (`results`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::SqliteConnection;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::error::AppError;
use super::extract::{carries_csrf, Hr, Manager, SignedIn, WithCsrf};
use super::pages::{language, remember_language, PageLang};
use super::redirect;
use super::results::{audit_view, audited_scope, cached_results, cached_results_on, chart_for};
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{Account, AccountSummary, Role};
use crate::aggregation::guard::HiddenReason;
use crate::aggregation::{
    stats, unit_level_name, Certainty, Change, GroupResult, WaveResults, Zone, LOW_MEAN_RELIABILITY,
};
use crate::charts;
use crate::i18n::Lang;
use crate::participation::{self, stepped, Participation};
use crate::plans::{self, Plan, PlanError, PlanInput, PlanStatus};
use crate::policy::PolicyActions;
use crate::survey::AvoidedBehaviour;
use crate::waves::Wave;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dashboard").route(web::get().to(dashboard)));
    cfg.service(web::resource("/hr/groups").route(web::get().to(drill_down)));
    cfg.service(web::resource("/manager/plans").route(web::post().to(save_plan)));
    cfg.service(web::resource("/manager/plans/{id}").route(web::post().to(edit_plan)));
    cfg.service(web::resource("/dashboard/print").route(web::get().to(print_page)));
}

carries_csrf!(PlanForm);

/// A plan the domain cannot take is a malformed request.
impl From<PlanError> for AppError {
    fn from(error: PlanError) -> Self {
        match error {
            PlanError::NotApplicable => AppError::BadRequest,
            PlanError::NotYours => AppError::Forbidden,
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
        Role::Manager => {
            let own = &account.own_workplaces;
            team_page(&state, &view, &account, own, TeamMode::Page(None)).await?
        }
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
    team_page(&state, &view, &account, &codes, TeamMode::Page(None)).await
}

/// One team's page for the team meeting, on A4 paper: a manager's own workplace or, for HR,
/// any group. The same figures as the screen, without forms; the page's print stylesheet
/// makes it black-and-white safe.
async fn print_page(
    state: web::Data<AppState>,
    session: TypedSession,
    query: web::Query<DrillDownQuery>,
    PageLang(lang): PageLang,
    SignedIn(account): SignedIn,
) -> Result<HttpResponse, AppError> {
    let code = query.workplace.trim().to_string();
    if account.role == Role::Manager && !account.own_workplaces.contains(&code) {
        return Err(AppError::Forbidden);
    }
    let view = View {
        state: &state,
        session: &session,
        lang,
    };
    team_page(&state, &view, &account, &[code], TeamMode::Print).await
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
    let (waves, accounts, participation) = state.with_conn(hr_overview).await?;
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
        insert_heatmap(state, view, account, wave.id, level, &mut context).await?;
    }
    Ok(view.page(StatusCode::OK, "dashboard_hr.html", &context))
}

type HrOverview = (Vec<(Wave, i64)>, Vec<AccountSummary>, Vec<Participation>);

/// Every wave with its responses, every account, and the responses per workplace of the
/// latest open wave (HR's alone while it is open: rule 7).
fn hr_overview(conn: &mut SqliteConnection) -> Result<HrOverview, AppError> {
    let waves = crate::waves::list_with_counts(conn)?;
    let participation = match waves.iter().rev().find(|(w, _)| w.is_open()) {
        Some((open, _)) => participation::of_wave(conn, open.id, open.min_group_size)?,
        None => Vec::new(),
    };
    let accounts = crate::accounts::list(conn)?;
    Ok((waves, accounts, participation))
}

/// The latest closed wave's levels and heatmap on HR's page. The page's one audit row; its
/// charts (the heatmap inline, so that its cells link to the drill-down, and the quadrant)
/// are part of this view.
async fn insert_heatmap(
    state: &web::Data<AppState>,
    view: &View<'_>,
    account: &Account,
    wave: i32,
    level: Option<u32>,
    context: &mut tera::Context,
) -> Result<(), AppError> {
    let (_, results) = cached_results(state, wave).await?;
    let deepest = results.unit_levels().into_values().max().unwrap_or(0);
    let levels: Vec<(u32, String)> = (1..=deepest)
        .map(|l| (l, unit_level_name(l, view.lang)))
        .collect();
    context.insert("levels", &levels);
    context.insert("level", &level.filter(|l| (1..=deepest).contains(l)));
    audit_view(state, account, "view heatmap", wave).await?;
    let lang = view.lang;
    let key = format!("heatmap {}", lang.code());
    let heatmap = chart_for(state, account, wave, "view heatmap", key, |results| {
        Ok(charts::heatmap(results, lang))
    })
    .await?;
    context.insert("heatmap_svg", &String::from_utf8_lossy(&heatmap));
    Ok(())
}

/// A change since the previous wave, its interval and its word: meaningful or within noise.
#[derive(Serialize)]
struct ChangeView {
    delta: String,
    /// The 95% interval, "(−0.40〜+0.71)".
    interval: Option<String>,
    meaningful: bool,
    word: String,
}

#[derive(Serialize)]
struct ScoreRow {
    dimension: String,
    team: Option<String>,
    organisation: Option<String>,
    change: Option<ChangeView>,
    /// Agreement within the team, r*wg(J), two decimals.
    agreement: Option<String>,
    /// r*wg(J) below .50: the team's views are split.
    views_split: bool,
    /// Reliability of the team's mean (Spearman–Brown), two decimals.
    reliability: Option<String>,
    /// Below [`LOW_MEAN_RELIABILITY`]: the page says the mean is mostly chance.
    reliability_low: bool,
}

#[derive(Serialize)]
struct PlanRow {
    id: i32,
    dimension_id: String,
    dimension: String,
    action: String,
    owner: String,
    due_on: Option<String>,
    status: &'static str,
    status_label: String,
    /// Ids of the policy actions picked (the edit form's ticks).
    picked: Vec<String>,
    /// Their texts, for reading.
    picked_texts: Vec<String>,
    /// At the next wave: the change in the plan's target dimension (the "Check").
    review: Option<ChangeView>,
}

/// One of the policy's keywords (共有 / サポート) with its actions, as a checklist.
#[derive(Serialize)]
struct KeywordView {
    name: String,
    staff: Vec<(String, String)>,
    managers: Vec<(String, String)>,
}

/// How the team page is shown.
#[derive(Clone, Copy)]
enum TeamMode<'a> {
    /// On screen, with the message key of a plan that needs correcting, if any.
    Page(Option<&'a str>),
    /// For paper: no forms, no navigation.
    Print,
}

#[derive(Serialize)]
struct TeamView {
    code: String,
    name: String,
    suppressed: bool,
    /// Why the team (or some of its figures) is hidden, in the words of the case, each once.
    hidden_reasons: Vec<String>,
    /// The team or one of its scores is hidden: a merged reporting unit would show it.
    merging_helps: bool,
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
    comments: Vec<crate::aggregation::SharedText>,
    plans: Vec<PlanRow>,
    previous_plans: Vec<PlanRow>,
    /// The policy's 共有 / サポート actions, the keyword that fits the zone first.
    checklist: Vec<KeywordView>,
}

/// The team page for `codes`: a manager's own workplaces (with the action-plan forms), one
/// group HR drills down to (read-only), or one team on paper.
async fn team_page(
    state: &web::Data<AppState>,
    view: &View<'_>,
    account: &Account,
    codes: &[String],
    mode: TeamMode<'_>,
) -> Result<HttpResponse, AppError> {
    let latest = latest_with_plans(state, codes).await?;
    let policy = PolicyActions::shipped().map_err(AppError::internal)?;
    let mut context = team_context(view, account, codes, mode);
    let Some((wave, results, plans)) = latest else {
        context.insert("wave", &Option::<i32>::None);
        context.insert("teams", &Vec::<TeamView>::new());
        return Ok(view.page(StatusCode::OK, "dashboard_manager.html", &context));
    };
    let results = audited_scope(state, account, "view team results", wave.id, results).await?;
    let teams: Vec<TeamView> = codes
        .iter()
        .filter_map(|code| results.group(code))
        .map(|group| team_view(view, &results, group, &plans, policy))
        .collect();
    add_teams(&mut context, view, &wave, &results, &teams);
    Ok(view.page(StatusCode::OK, "dashboard_manager.html", &context))
}

/// The latest closed wave, its full results and the plans of `codes` in it and the wave
/// before, in one trip to the blocking pool. Nothing of it is shown before the view is
/// audited ([`audited_scope`]).
async fn latest_with_plans(
    state: &web::Data<AppState>,
    codes: &[String],
) -> Result<Option<(Wave, Arc<WaveResults>, Vec<Plan>)>, AppError> {
    let (app, own) = (state.clone(), codes.to_vec());
    state
        .with_conn(move |conn| {
            let Some(wave) = crate::waves::latest_closed(conn)? else {
                return Ok(None);
            };
            let (_, results) = cached_results_on(conn, &app, wave.id)?;
            let plans = plans::load(conn, &own, wave.id, results.previous_wave)?;
            Ok::<_, AppError>(Some((wave, results, plans)))
        })
        .await
}

/// The wave and its teams' views on the team page.
fn add_teams(
    context: &mut tera::Context,
    view: &View<'_>,
    wave: &crate::waves::Wave,
    results: &WaveResults,
    teams: &[TeamView],
) {
    if let Some(team) = teams.first() {
        context.insert("drill_down_name", &team.name);
    }
    context.insert("wave", &Some(wave.id));
    context.insert("wave_name", &wave.name);
    context.insert("k2", &results.k2);
    context.insert("teams", teams);
    context.insert("dimensions", &dimension_names(results, view.lang));
}

/// The team page's frame, the same with or without a closed wave: who may plan or drill
/// down, whether it is for paper, the notice and a plan's error, the plan statuses' words.
fn team_context(
    view: &View<'_>,
    account: &Account,
    codes: &[String],
    mode: TeamMode<'_>,
) -> tera::Context {
    let mut context = view.context();
    let (plan_error, print) = match mode {
        TeamMode::Page(error) => (error, false),
        TeamMode::Print => (None, true),
    };
    context.insert("plan_error", &plan_error.map(|key| view.message(key)));
    context.insert("can_plan", &(account.role == Role::Manager && !print));
    context.insert("print", &print);
    context.insert("drill_down", &(account.role == Role::Hr && !print));
    context.insert("drill_down_name", &codes.join(", "));
    let notice = view.session.take_notice();
    context.insert(
        "notice",
        &notice.map(|(key, code)| (view.message(&key), code)),
    );
    let statuses: Vec<(&str, String)> = PlanStatus::ALL
        .iter()
        .map(|s| {
            let key = format!("plan_status_{}", s.as_str());
            (s.as_str(), view.message(&key))
        })
        .collect();
    context.insert("statuses", &statuses);
    context
}

/// Each dimension's id and its name in `lang`.
fn dimension_names(results: &WaveResults, lang: Lang) -> Vec<(String, String)> {
    results
        .dimensions
        .iter()
        .map(|d| (d.id.clone(), d.name(lang).to_string()))
        .collect()
}

fn team_view(
    view: &View<'_>,
    results: &WaveResults,
    group: &GroupResult,
    plans: &[Plan],
    policy: &PolicyActions,
) -> TeamView {
    let code = group.workplace.clone().unwrap_or_default();
    let zone_message =
        |prefix: &str, zone: Zone| view.message(&format!("{prefix}{}", zone.as_str()));
    TeamView {
        name: group.name.clone(),
        suppressed: group.suppressed || group.zone.is_none(),
        hidden_reasons: hidden_reasons(view, results, group),
        merging_helps: group.suppressed || group.zone.is_none() || !group.hidden_scores.is_empty(),
        responses: group.n,
        zone: group.zone.map(|z| z.as_str()),
        zone_text: group.zone.map(|z| zone_message("zone_", z)),
        previous_zone: group.previous_zone.map(|z| z.as_str()),
        zone_label: group.zone.map(|z| zone_message("zone_label_", z)),
        previous_zone_label: group.previous_zone.map(|z| zone_message("zone_label_", z)),
        borderline: results
            .certainty_of(group)
            .is_some_and(|c| c.zone() == Certainty::Borderline),
        scores: score_rows(view, results, group),
        behaviours: behaviours(view, group),
        prompts: prompts_for(group.zone),
        comments: group.comments.clone().unwrap_or_default(),
        plans: plan_rows(view, results, policy, plans, &code, Some(results.wave)),
        previous_plans: plan_rows(view, results, policy, plans, &code, results.previous_wave)
            .into_iter()
            .map(|mut row| {
                row.review = group
                    .scores
                    .get(&row.dimension_id)
                    .and_then(|s| s.change)
                    .map(|c| change_view(view, c));
                row
            })
            .collect(),
        checklist: checklist(view.lang, policy, group.zone),
        code,
    }
}

/// Why the guard hid the team or some of its figures, each reason once, with the sizes it
/// speaks of filled in: the whole team, a dimension's score, the distributions and comments.
fn hidden_reasons(view: &View<'_>, results: &WaveResults, group: &GroupResult) -> Vec<String> {
    let whole = group
        .hidden_reason
        .or((group.suppressed || group.zone.is_none())
            .then_some(HiddenReason::TooFewOrProtectsSmallerGroup));
    let details = group.details_hidden.map(|_| "hidden_details_need_k2");
    let mut keys: Vec<&str> = whole
        .into_iter()
        .chain(group.hidden_scores.values().copied())
        .map(HiddenReason::message_key)
        .chain(details)
        .collect();
    let mut seen = std::collections::HashSet::new();
    keys.retain(|key| seen.insert(*key));
    keys.iter()
        .map(|key| {
            view.message(key)
                .replace("{k}", &results.k.to_string())
                .replace("{k2}", &results.k2.to_string())
        })
        .collect()
}

/// A dimension's name in `lang`; its id where the results do not know it.
fn dimension_name(lang: Lang, results: &WaveResults, id: &str) -> String {
    results
        .dimension(id)
        .map_or(id.to_string(), |d| d.name(lang).to_string())
}

/// The team's score per dimension beside the organisation's, with the change since the
/// previous wave (in words too), the team's agreement and the mean's reliability.
fn score_rows(view: &View<'_>, results: &WaveResults, group: &GroupResult) -> Vec<ScoreRow> {
    let organisation = results.organisation();
    results
        .dimensions
        .iter()
        .map(|dimension| {
            let team = group.scores.get(&dimension.id);
            ScoreRow {
                dimension: dimension.name(view.lang).to_string(),
                team: team.map(|s| format!("{:.2}", s.mean)),
                organisation: organisation
                    .and_then(|o| o.scores.get(&dimension.id))
                    .map(|s| format!("{:.2}", s.mean)),
                change: team.and_then(|s| s.change).map(|c| change_view(view, c)),
                agreement: team.and_then(|s| s.rwg).map(|r| format!("{r:.2}")),
                views_split: team.is_some_and(|s| s.views_split),
                reliability: team.and_then(|s| s.reliability).map(|r| format!("{r:.2}")),
                reliability_low: team
                    .and_then(|s| s.reliability)
                    .is_some_and(|r| r < LOW_MEAN_RELIABILITY),
            }
        })
        .collect()
}

/// A change with its interval and the results' own verdict in words.
fn change_view(view: &View<'_>, change: Change) -> ChangeView {
    ChangeView {
        delta: format!("{:+.2}", change.delta),
        interval: change
            .ci95
            .map(|(low, high)| format!("({low:+.2}〜{high:+.2})")),
        meaningful: change.real,
        word: view.message(if change.real {
            "real_change"
        } else {
            "change_noise"
        }),
    }
}

/// The plans of workplace `code` made after `wave`, with their status and picked actions.
fn plan_rows(
    view: &View<'_>,
    results: &WaveResults,
    policy: &PolicyActions,
    plans: &[Plan],
    code: &str,
    wave: Option<i32>,
) -> Vec<PlanRow> {
    plans
        .iter()
        .filter(|plan| plan.workplace == code && Some(plan.wave) == wave)
        .map(|plan| PlanRow {
            id: plan.id,
            dimension_id: plan.dimension.clone(),
            dimension: dimension_name(view.lang, results, &plan.dimension),
            action: plan.action.clone(),
            owner: plan.owner.clone(),
            due_on: plan.due_on.clone(),
            status: plan.status.as_str(),
            status_label: view.message(&format!("plan_status_{}", plan.status.as_str())),
            picked: plan.policy_actions.clone(),
            picked_texts: plan
                .policy_actions
                .iter()
                .filter_map(|id| policy.action(id))
                .map(|a| a.text(view.lang).to_string())
                .collect(),
            review: None,
        })
        .collect()
}

/// The policy's keywords with their staff and manager actions, the one that fits `zone` first.
fn checklist(lang: Lang, policy: &PolicyActions, zone: Option<Zone>) -> Vec<KeywordView> {
    let texts = |actions: &[crate::policy::Action]| {
        actions
            .iter()
            .map(|a| (a.id.clone(), a.text(lang).to_string()))
            .collect()
    };
    policy
        .for_zone(zone)
        .0
        .into_iter()
        .map(|keyword| KeywordView {
            name: keyword.name.get(lang).to_string(),
            staff: texts(&keyword.staff),
            managers: texts(&keyword.managers),
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

/// A plan form: the fields of a new plan (its wave and workplace) or of an edit, with any
/// number of ticked policy actions (`policy_action`, repeated).
#[derive(Deserialize)]
#[serde(try_from = "Vec<(String, String)>")]
struct PlanForm {
    csrf: String,
    wave: Option<i32>,
    workplace: Option<String>,
    dimension: String,
    input: PlanInput,
}

impl TryFrom<Vec<(String, String)>> for PlanForm {
    type Error = String;

    fn try_from(fields: Vec<(String, String)>) -> Result<Self, Self::Error> {
        let (mut csrf, mut wave, mut workplace, mut dimension) = (None, None, None, None);
        let mut input = PlanInput::default();
        let (mut action, mut owner) = (None, None);
        for (name, value) in fields {
            match name.as_str() {
                "csrf" => csrf = Some(value),
                "wave" => wave = Some(value.parse().map_err(|_| "wave: not a number")?),
                "workplace" => workplace = Some(value),
                "dimension" => dimension = Some(value),
                "action" => action = Some(value),
                "owner" => owner = Some(value),
                "due_on" => input.due_on = Some(value),
                "status" => input.status = Some(value),
                "policy_action" => input.policy_actions.push(value),
                _ => {}
            }
        }
        let missing = |field: &str| format!("missing field `{field}`");
        input.action = action.ok_or_else(|| missing("action"))?;
        input.owner = owner.ok_or_else(|| missing("owner"))?;
        Ok(PlanForm {
            csrf: csrf.ok_or_else(|| missing("csrf"))?,
            wave,
            workplace,
            dimension: dimension.ok_or_else(|| missing("dimension"))?,
            input,
        })
    }
}

/// The team page again with what needs correcting (400).
async fn plan_refused(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &TypedSession,
    account: &Account,
    message: &str,
) -> Result<HttpResponse, AppError> {
    let view = View {
        state,
        session,
        lang: language(req, None),
    };
    let own = &account.own_workplaces;
    let mut page = team_page(state, &view, account, own, TeamMode::Page(Some(message))).await?;
    *page.status_mut() = StatusCode::BAD_REQUEST;
    Ok(page)
}

/// Records an action plan for one of the manager's own workplaces and says so on the page
/// it returns to; a plan that needs correcting shows the team page again with the reason.
async fn save_plan(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    WithCsrf(Manager(account), form): WithCsrf<Manager, PlanForm>,
) -> Result<HttpResponse, AppError> {
    let (Some(wave), Some(workplace)) = (form.wave, form.workplace) else {
        return Err(AppError::BadRequest);
    };
    if !account.own_workplaces.contains(&workplace) {
        return Err(AppError::Forbidden);
    }
    let policy = PolicyActions::shipped().map_err(AppError::internal)?;
    let draft = match plans::check(&form.input, policy) {
        Ok(draft) => draft,
        Err(message) => return plan_refused(&state, &req, &session, &account, message).await,
    };
    let (account_id, code, dimension) = (account.id, workplace.clone(), form.dimension);
    state
        .with_conn(move |conn| plans::save(conn, account_id, wave, &code, &dimension, &draft))
        .await?;
    session.leave_notice("plan_saved", &workplace)?;
    Ok(redirect("/dashboard"))
}

/// Edits a plan of one of the manager's own workplaces: its text, target, status and picked
/// actions.
async fn edit_plan(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    plan: web::Path<i32>,
    WithCsrf(Manager(account), form): WithCsrf<Manager, PlanForm>,
) -> Result<HttpResponse, AppError> {
    let policy = PolicyActions::shipped().map_err(AppError::internal)?;
    let draft = match plans::check(&form.input, policy) {
        Ok(draft) => draft,
        Err(message) => return plan_refused(&state, &req, &session, &account, message).await,
    };
    let (account_id, own, plan_id) = (account.id, account.own_workplaces.clone(), *plan);
    let workplace = state
        .with_conn(move |conn| {
            plans::update(conn, account_id, plan_id, &own, &form.dimension, &draft)
        })
        .await?;
    session.leave_notice("plan_updated", &workplace)?;
    Ok(redirect("/dashboard"))
}
