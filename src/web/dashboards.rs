//! The dashboards: HR's overview of waves and results, a manager's "my team" page with the
//! action plan of PDCA. Every figure comes from the guarded, scoped results.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::api::results_for;
use super::auth::{current_account, current_hr, page_error, redirect};
use super::pages::AppError;
use super::pages::{language, remember_language, LangQuery};
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{Account, Role};
use crate::aggregation::guard::SteppedCount;
use crate::aggregation::{stats, Certainty, GroupResult, WaveResults, Zone, LOW_MEAN_RELIABILITY};
use crate::db::schema::{action_plans, invitation_codes, responses, waves, workplaces};
use crate::i18n::Lang;
use crate::survey::AvoidedBehaviour;
use crate::waves::Wave;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dashboard").route(web::get().to(dashboard)));
    cfg.service(web::resource("/hr/groups").route(web::get().to(drill_down)));
    cfg.service(web::resource("/manager/plans").route(web::post().to(save_plan)));
}

async fn dashboard(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    query: web::Query<LangQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        let account = current_account(&state, &session).await?;
        match account.role {
            Role::Hr => hr_page(&state, &session, &account, lang).await,
            Role::Manager => manager_page(&state, &session, &account, lang, None).await,
        }
    }
    .await;
    let page = result.unwrap_or_else(|error| page_error(&state, lang, error));
    remember_language(page, query.lang.as_deref())
}

#[derive(Deserialize)]
struct DrillDownQuery {
    workplace: String,
    lang: Option<String>,
}

/// HR's view of any one group, as a manager of it would see it (without the plan form).
async fn drill_down(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    query: web::Query<DrillDownQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        let account = current_hr(&state, &session).await?;
        team_page(
            &state,
            &session,
            &account,
            lang,
            &[query.workplace.trim().to_string()],
            None,
        )
        .await
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

/// A dashboard page's context: the language switch stays on the dashboard.
fn dashboard_context(state: &AppState, session: &TypedSession, lang: Lang) -> tera::Context {
    let mut context = state.pages.context(lang);
    context.insert(
        "lang_switch_href",
        &format!("/dashboard?lang={}", lang.other().code()),
    );
    context.insert("csrf", &session.csrf_token());
    context
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

#[derive(Serialize)]
struct Participation {
    code: String,
    name: String,
    /// In steps of k while the wave is open ("5–9"): one answer never shows.
    responses: String,
    issued: i64,
    headcount: Option<i32>,
    /// Even the top of the step is below half the codes issued.
    remind: bool,
}

async fn load_waves(state: &web::Data<AppState>) -> Result<Vec<(Wave, i64)>, AppError> {
    state
        .with_conn(|conn| {
            let all = crate::waves::list(conn).map_err(AppError::unavailable)?;
            all.into_iter()
                .map(|wave| {
                    let count = crate::waves::response_count(conn, wave.id)
                        .map_err(AppError::unavailable)?;
                    Ok((wave, count))
                })
                .collect()
        })
        .await
}

fn latest_closed(waves: &[(Wave, i64)]) -> Option<&Wave> {
    waves.iter().rev().map(|(w, _)| w).find(|w| !w.is_open())
}

async fn hr_page(
    state: &web::Data<AppState>,
    session: &TypedSession,
    _account: &Account,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let waves = load_waves(state).await?;
    let open_ids: Vec<i32> = waves
        .iter()
        .filter(|(w, _)| w.is_open())
        .map(|(w, _)| w.id)
        .collect();
    // Response counts per workplace while a wave is open are HR's alone (rule 7), and in
    // steps of the wave's k.
    let participation = match open_ids.last().copied() {
        Some(wave_id) => {
            let k = waves
                .iter()
                .find(|(w, _)| w.id == wave_id)
                .map_or(1, |(w, _)| w.min_group_size);
            state
                .with_conn(move |conn| {
                    participation(conn, wave_id, k).map_err(AppError::unavailable)
                })
                .await?
        }
        None => Vec::new(),
    };
    let rows: Vec<WaveRow> = waves
        .iter()
        .map(|(wave, count)| WaveRow {
            id: wave.id,
            name: wave.name.clone(),
            open: wave.is_open(),
            opened_on: wave.opened_on.clone(),
            closed_on: wave.closed_on.clone(),
            responses: if wave.is_open() {
                stepped(*count, wave.min_group_size).range()
            } else {
                count.to_string()
            },
        })
        .collect();
    let mut context = dashboard_context(state, session, lang);
    context.insert("waves", &rows);
    let accounts = state
        .with_conn(|conn| crate::accounts::list(conn).map_err(AppError::unavailable))
        .await?;
    context.insert("accounts", &accounts);
    context.insert("participation", &participation);
    context.insert("latest_closed", &latest_closed(&waves).map(|w| w.id));
    Ok(state
        .pages
        .html(StatusCode::OK, "dashboard_hr.html", &context))
}

fn stepped(count: i64, k: i32) -> SteppedCount {
    SteppedCount::new(
        u64::try_from(count).unwrap_or(0),
        u32::try_from(k).unwrap_or(1),
    )
}

fn participation(
    conn: &mut SqliteConnection,
    wave_id: i32,
    k: i32,
) -> QueryResult<Vec<Participation>> {
    let issued: Vec<(i32, i64)> = invitation_codes::table
        .filter(invitation_codes::wave_id.eq(wave_id))
        .group_by(invitation_codes::workplace_id)
        .select((invitation_codes::workplace_id, diesel::dsl::count_star()))
        .load(conn)?;
    let answered: Vec<(i32, i64)> = responses::table
        .filter(responses::wave_id.eq(wave_id))
        .filter(responses::filled.eq(true))
        .group_by(responses::workplace_id)
        .select((responses::workplace_id, diesel::dsl::count_star()))
        .load(conn)?;
    let places: Vec<(i32, String, String, Option<i32>)> = workplaces::table
        .select((
            workplaces::id,
            workplaces::code,
            workplaces::name,
            workplaces::headcount,
        ))
        .order(workplaces::id)
        .load(conn)?;
    Ok(places
        .into_iter()
        .filter_map(|(id, code, name, headcount)| {
            let issued = issued.iter().find(|(w, _)| *w == id).map_or(0, |(_, n)| *n);
            (issued > 0).then(|| {
                let answered = answered
                    .iter()
                    .find(|(w, _)| *w == id)
                    .map_or(0, |(_, n)| *n);
                let step = stepped(answered, k);
                Participation {
                    code,
                    name,
                    responses: step.range(),
                    issued,
                    headcount,
                    remind: step.needs_reminder(u64::try_from(issued).unwrap_or(0)),
                }
            })
        })
        .collect())
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

async fn manager_page(
    state: &web::Data<AppState>,
    session: &TypedSession,
    account: &Account,
    lang: Lang,
    plan_error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    team_page(
        state,
        session,
        account,
        lang,
        &account.own_workplaces,
        plan_error,
    )
    .await
}

/// The team page for `codes`: a manager's own workplaces (with the action-plan form), or
/// one group HR drills down to (read-only).
async fn team_page(
    state: &web::Data<AppState>,
    session: &TypedSession,
    account: &Account,
    lang: Lang,
    codes: &[String],
    plan_error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    // The latest closed wave; a manager's page needs no response counts.
    let latest = state
        .with_conn(|conn| {
            waves::table
                .filter(waves::status.eq("closed"))
                .order(waves::id.desc())
                .select(Wave::as_select())
                .first(conn)
                .optional()
                .map_err(AppError::unavailable)
        })
        .await?;
    let mut context = dashboard_context(state, session, lang);
    context.insert(
        "plan_error",
        &plan_error.map(|key| state.pages.message(lang, key).to_string()),
    );
    context.insert("can_plan", &(account.role == Role::Manager));
    let Some(wave) = latest else {
        context.insert("wave", &Option::<i32>::None);
        context.insert("teams", &Vec::<TeamView>::new());
        return Ok(state
            .pages
            .html(StatusCode::OK, "dashboard_manager.html", &context));
    };
    let results = results_for(state, account, wave.id, "view team results").await?;
    let previous_wave = results.previous_wave;
    let own = codes.to_vec();
    let wave_id = wave.id;
    let plans = state
        .with_conn(move |conn| {
            load_plans(conn, &own, wave_id, previous_wave).map_err(AppError::unavailable)
        })
        .await?;
    let teams: Vec<TeamView> = codes
        .iter()
        .filter_map(|code| {
            results
                .groups
                .iter()
                .find(|g| g.workplace.as_deref() == Some(code) && g.job_level.is_none())
        })
        .map(|group| team_view(state, lang, &results, group, &plans))
        .collect();
    context.insert("wave", &Some(wave.id));
    context.insert("wave_name", &wave.name);
    context.insert("k2", &results.k2);
    context.insert("teams", &teams);
    context.insert(
        "dimensions",
        &results
            .dimensions
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    if lang == Lang::Ja {
                        d.name_ja.clone()
                    } else {
                        d.name_en.clone()
                    },
                )
            })
            .collect::<Vec<_>>(),
    );
    Ok(state
        .pages
        .html(StatusCode::OK, "dashboard_manager.html", &context))
}

type Plans = Vec<(String, i32, String, String, String, Option<String>)>;

fn load_plans(
    conn: &mut SqliteConnection,
    own: &[String],
    wave: i32,
    previous: Option<i32>,
) -> QueryResult<Plans> {
    action_plans::table
        .inner_join(workplaces::table)
        .filter(workplaces::code.eq_any(own))
        .filter(
            action_plans::wave_id
                .eq(wave)
                .or(action_plans::wave_id.nullable().eq(previous)),
        )
        .select((
            workplaces::code,
            action_plans::wave_id,
            action_plans::dimension,
            action_plans::action,
            action_plans::owner,
            action_plans::due_on,
        ))
        .order(action_plans::id)
        .load(conn)
}

fn team_view(
    state: &AppState,
    lang: Lang,
    results: &WaveResults,
    group: &GroupResult,
    plans: &Plans,
) -> TeamView {
    let organisation = results
        .groups
        .iter()
        .find(|g| g.workplace.is_none() && g.job_level.is_none());
    let code = group.workplace.clone().unwrap_or_default();
    let dimension_name = |id: &str| {
        results
            .dimensions
            .iter()
            .find(|d| d.id == id)
            .map_or(id.to_string(), |d| {
                if lang == Lang::Ja {
                    d.name_ja.clone()
                } else {
                    d.name_en.clone()
                }
            })
    };
    let scores = results
        .dimensions
        .iter()
        .map(|dimension| {
            let team = group.scores.get(&dimension.id);
            ScoreRow {
                dimension: dimension_name(&dimension.id),
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
        .collect();
    let plan_rows = |wave: Option<i32>| -> Vec<PlanRow> {
        plans
            .iter()
            .filter(|(workplace, plan_wave, ..)| *workplace == code && Some(*plan_wave) == wave)
            .map(|(_, _, dimension, action, owner, due_on)| PlanRow {
                dimension: dimension_name(dimension),
                action: action.clone(),
                owner: owner.clone(),
                due_on: due_on.clone(),
            })
            .collect()
    };
    let behaviours = group
        .items
        .as_ref()
        .map(|items| {
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
                        let label = state
                            .pages
                            .message(lang, &format!("behaviour_{}", behaviour.id()))
                            .to_string();
                        (label, format!("{:.0}%", share * 100.0))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    TeamView {
        code: code.clone(),
        name: group.name.clone(),
        suppressed: group.suppressed || group.zone.is_none(),
        responses: group.n,
        zone: group.zone.map(|z| z.as_str()),
        zone_text: group.zone.map(|z| {
            state
                .pages
                .message(lang, &format!("zone_{}", z.as_str()))
                .to_string()
        }),
        previous_zone: group.previous_zone.map(|z| z.as_str()),
        zone_label: group.zone.map(|z| zone_label(state, lang, z)),
        previous_zone_label: group.previous_zone.map(|z| zone_label(state, lang, z)),
        borderline: results
            .certainty_of(group)
            .is_some_and(|c| c.zone() == Certainty::Borderline),
        scores,
        behaviours,
        prompts: prompts_for(group.zone),
        comments: group.comments.clone().unwrap_or_default(),
        plans: plan_rows(Some(results.wave)),
        previous_plans: plan_rows(results.previous_wave),
    }
}

fn zone_label(state: &AppState, lang: Lang, zone: Zone) -> String {
    state
        .pages
        .message(lang, &format!("zone_label_{}", zone.as_str()))
        .to_string()
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

const MAX_PLAN_CHARS: usize = 500;

/// A plan's action, owner and due date as stored, or the message key of what is wrong: the
/// action and the owner are required, at most 500 characters, without control characters
/// (the action may have line breaks); the due date is empty or a real `YYYY-MM-DD` date.
fn check_plan(
    action: &str,
    owner: &str,
    due_on: Option<&str>,
) -> Result<(String, String, Option<String>), &'static str> {
    let (action, owner) = (action.trim(), owner.trim());
    let fits = |text: &str, line_breaks: bool| {
        !text.is_empty()
            && text.chars().count() <= MAX_PLAN_CHARS
            && !text
                .chars()
                .any(|c| c.is_control() && !(line_breaks && matches!(c, '\n' | '\r')))
    };
    if !fits(action, true) || !fits(owner, false) {
        return Err("plan_invalid");
    }
    let due_on = match due_on.map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(due) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let date = time::Date::parse(due, &format).map_err(|_| "plan_bad_due")?;
            Some(date.format(&format).map_err(|_| "plan_bad_due")?)
        }
    };
    Ok((action.to_string(), owner.to_string(), due_on))
}

/// Records an action plan for one of the manager's own workplaces.
async fn save_plan(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    form: web::Form<PlanForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    let result = async {
        let account = current_account(&state, &session).await?;
        if !session.csrf_matches(&form.csrf) {
            return Err(AppError::Forbidden);
        }
        if account.role != Role::Manager || !account.own_workplaces.contains(&form.workplace) {
            return Err(AppError::Forbidden);
        }
        let (action, owner, due_on) =
            match check_plan(&form.action, &form.owner, form.due_on.as_deref()) {
                Ok(plan) => plan,
                Err(message) => {
                    return manager_page(&state, &session, &account, lang, Some(message))
                        .await
                        .map(|mut page| {
                            *page.status_mut() = StatusCode::BAD_REQUEST;
                            page
                        });
                }
            };
        let (wave, workplace, dimension) =
            (form.wave, form.workplace.clone(), form.dimension.clone());
        let account_id = account.id;
        state
            .with_conn(move |conn| {
                let workplace_id: i32 = workplaces::table
                    .filter(workplaces::code.eq(&workplace))
                    .select(workplaces::id)
                    .first(conn)
                    .map_err(|_| AppError::BadRequest)?;
                // Only a closed wave (whose results the page showed), and one of its dimensions.
                let stored = crate::waves::find(conn, wave).map_err(|_| AppError::BadRequest)?;
                let definition = stored.definition().map_err(AppError::internal)?;
                if stored.is_open() || !definition.dimensions.iter().any(|d| d.id == dimension) {
                    return Err(AppError::BadRequest);
                }
                // The plan and its audit row are written together or not at all.
                conn.immediate_transaction(|conn| {
                    diesel::insert_into(action_plans::table)
                        .values((
                            action_plans::wave_id.eq(wave),
                            action_plans::workplace_id.eq(workplace_id),
                            action_plans::dimension.eq(&dimension),
                            action_plans::action.eq(&action),
                            action_plans::owner.eq(&owner),
                            action_plans::due_on.eq(&due_on),
                            action_plans::created_by.eq(account_id),
                            action_plans::created_at.eq(crate::waves::today()),
                        ))
                        .execute(conn)?;
                    crate::audit::record(
                        conn,
                        account_id,
                        "save action plan",
                        &format!("wave {wave} {workplace}"),
                    )
                })
                .map_err(AppError::unavailable)
            })
            .await?;
        Ok(redirect("/dashboard"))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_bounded_text_and_a_real_due_date() {
        assert_eq!(
            check_plan(" 朝会を始める\r\n毎週 ", "係長", Some("2027-03-31")),
            Ok((
                "朝会を始める\r\n毎週".to_string(),
                "係長".to_string(),
                Some("2027-03-31".to_string())
            ))
        );
        assert_eq!(check_plan("a", "b", Some(" ")).map(|p| p.2), Ok(None));
        for (action, owner) in [
            ("", "b"),
            ("a", ""),
            ("a\u{0}b", "b"),
            ("a", "b\nc"),
            (&"x".repeat(501), "b"),
        ] {
            assert_eq!(
                check_plan(action, owner, None),
                Err("plan_invalid"),
                "{action:?}"
            );
        }
        for due in ["2027-02-30", "tomorrow", "2027-3-1", &"9".repeat(15_000)] {
            assert_eq!(
                check_plan("a", "b", Some(due)),
                Err("plan_bad_due"),
                "{due}"
            );
        }
    }
}
