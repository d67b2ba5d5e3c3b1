//! Action plans, the "Act" of PDCA: what a manager means to do about one dimension of one of
//! their workplaces after a closed wave, the policy's 共有 / サポート actions the team picked
//! for it, and how far it has got (未着手・実施中・完了). Checked here, stored or edited with
//! their audit row in one transaction, and shown beside the wave's results and, as the
//! "Check", beside the change in the target dimension at the next wave.

use diesel::prelude::*;

use crate::db::schema::{action_plans, workplaces};
use crate::policy::PolicyActions;

/// Longest action or owner, in characters.
const MAX_PLAN_CHARS: usize = 500;

/// How far a plan has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlanStatus {
    /// 未着手.
    #[default]
    NotStarted,
    /// 実施中.
    InProgress,
    /// 完了.
    Done,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 3] = [
        PlanStatus::NotStarted,
        PlanStatus::InProgress,
        PlanStatus::Done,
    ];

    /// The stored value, also the suffix of its message key (`plan_status_*`).
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::NotStarted => "not_started",
            PlanStatus::InProgress => "in_progress",
            PlanStatus::Done => "done",
        }
    }

    pub fn parse(value: &str) -> Option<PlanStatus> {
        PlanStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A plan's text as typed and checked: an action, who owns it, an optional due date, its
/// status and the policy actions picked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDraft {
    pub action: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
    pub status: PlanStatus,
    /// Ids of the policy's actions (`src/policy/actions.toml`), each once, in policy order.
    pub policy_actions: Vec<String>,
}

/// A stored plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: i32,
    pub workplace: String,
    pub wave: i32,
    pub dimension: String,
    pub action: String,
    pub owner: String,
    pub due_on: Option<String>,
    pub status: PlanStatus,
    pub policy_actions: Vec<String>,
}

/// A plan's row as stored: the status and the policy actions as text.
type PlanRow = (
    i32,
    String,
    i32,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

impl Plan {
    fn from_row(row: PlanRow) -> Plan {
        let (id, workplace, wave, dimension, action, owner, due_on, status, picked) = row;
        Plan {
            id,
            workplace,
            wave,
            dimension,
            action,
            owner,
            due_on,
            // The column's CHECK constraint admits only the three values.
            status: PlanStatus::parse(&status).unwrap_or_default(),
            policy_actions: picked.split_whitespace().map(str::to_string).collect(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The workplace, the wave (not closed) or the dimension is not one a plan can be for.
    #[error("a plan must name a known workplace and a dimension of a closed wave")]
    NotApplicable,
    /// The plan to edit does not exist or belongs to a workplace the account does not manage.
    #[error("the plan is not one of this account's workplaces")]
    NotYours,
    #[error("{0}")]
    Definition(#[from] crate::survey::DefinitionError),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// A plan as typed in the form, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub action: String,
    pub owner: String,
    pub due_on: Option<String>,
    /// `None`: a new plan, not started.
    pub status: Option<String>,
    pub policy_actions: Vec<String>,
}

/// A plan as stored, or the message key of what is wrong: the action and the owner are
/// required, at most 500 characters, without control characters (the action may have line
/// breaks); the due date is empty or a real `YYYY-MM-DD` date; the status one of the three;
/// every picked action one of the policy's (kept once each, in the policy's order).
pub fn check(input: &PlanInput, policy: &PolicyActions) -> Result<PlanDraft, &'static str> {
    let mut draft = check_text(&input.action, &input.owner, input.due_on.as_deref())?;
    draft.status = match input.status.as_deref() {
        None => PlanStatus::NotStarted,
        Some(status) => PlanStatus::parse(status).ok_or("plan_bad_status")?,
    };
    // An id the policy does not have comes from a forged or stale form.
    if input
        .policy_actions
        .iter()
        .any(|id| policy.action(id).is_none())
    {
        return Err("plan_bad_action");
    }
    draft.policy_actions = policy
        .keywords
        .iter()
        .flat_map(|k| k.staff.iter().chain(&k.managers))
        .filter(|a| input.policy_actions.contains(&a.id))
        .map(|a| a.id.clone())
        .collect();
    Ok(draft)
}

fn check_text(action: &str, owner: &str, due_on: Option<&str>) -> Result<PlanDraft, &'static str> {
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
    Ok(PlanDraft {
        action: action.to_string(),
        owner: owner.to_string(),
        due_on,
        status: PlanStatus::NotStarted,
        policy_actions: Vec::new(),
    })
}

/// Stores a plan for `workplace` after closed wave `wave`, on `dimension`, with its audit row:
/// both or neither.
pub fn save(
    conn: &mut SqliteConnection,
    account_id: i32,
    wave: i32,
    workplace: &str,
    dimension: &str,
    draft: &PlanDraft,
) -> Result<(), PlanError> {
    let workplace_id: i32 = workplaces::table
        .filter(workplaces::code.eq(workplace))
        .select(workplaces::id)
        .first(conn)
        .optional()?
        .ok_or(PlanError::NotApplicable)?;
    applicable(conn, wave, dimension)?;
    conn.immediate_transaction(|conn| {
        diesel::insert_into(action_plans::table)
            .values((
                action_plans::wave_id.eq(wave),
                action_plans::workplace_id.eq(workplace_id),
                action_plans::dimension.eq(dimension),
                action_plans::action.eq(&draft.action),
                action_plans::owner.eq(&draft.owner),
                action_plans::due_on.eq(&draft.due_on),
                action_plans::status.eq(draft.status.as_str()),
                action_plans::policy_actions.eq(draft.policy_actions.join(" ")),
                action_plans::created_by.eq(account_id),
                action_plans::created_at.eq(crate::dates::today()),
            ))
            .execute(conn)?;
        crate::audit::record(
            conn,
            account_id,
            "save action plan",
            &format!("wave {wave} {workplace}"),
        )
    })?;
    Ok(())
}

/// Only a closed wave (whose results the page showed), and one of its dimensions.
fn applicable(conn: &mut SqliteConnection, wave: i32, dimension: &str) -> Result<(), PlanError> {
    let stored = crate::wave_store::find(conn, wave).map_err(|_| PlanError::NotApplicable)?;
    let definition = stored.definition()?;
    if stored.is_open() || !definition.dimensions.iter().any(|d| d.id == dimension) {
        return Err(PlanError::NotApplicable);
    }
    Ok(())
}

/// Replaces plan `plan_id` with `draft` (its target `dimension` too), with its audit row:
/// both or neither. Only a plan of one of `own` workplaces can be edited; returns its
/// workplace's code.
pub fn update(
    conn: &mut SqliteConnection,
    account_id: i32,
    plan_id: i32,
    own: &[String],
    dimension: &str,
    draft: &PlanDraft,
) -> Result<String, PlanError> {
    let (wave, workplace): (i32, String) = action_plans::table
        .inner_join(workplaces::table)
        .filter(action_plans::id.eq(plan_id))
        .select((action_plans::wave_id, workplaces::code))
        .first(conn)
        .optional()?
        .filter(|(_, code)| own.contains(code))
        .ok_or(PlanError::NotYours)?;
    applicable(conn, wave, dimension)?;
    conn.immediate_transaction(|conn| {
        diesel::update(action_plans::table.find(plan_id))
            .set((
                action_plans::dimension.eq(dimension),
                action_plans::action.eq(&draft.action),
                action_plans::owner.eq(&draft.owner),
                action_plans::due_on.eq(&draft.due_on),
                action_plans::status.eq(draft.status.as_str()),
                action_plans::policy_actions.eq(draft.policy_actions.join(" ")),
                action_plans::updated_at.eq(crate::dates::today()),
            ))
            .execute(conn)?;
        crate::audit::record(
            conn,
            account_id,
            "edit action plan",
            &format!("wave {wave} {workplace} plan {plan_id}"),
        )
    })?;
    Ok(workplace)
}

/// The plans of `workplaces` made after `wave` or after the `previous` one, oldest first.
pub fn load(
    conn: &mut SqliteConnection,
    workplaces: &[String],
    wave: i32,
    previous: Option<i32>,
) -> QueryResult<Vec<Plan>> {
    // One workplace at a time: `eq_any` binds one value per code, so diesel prepares that
    // statement again on every call, while this one stays in the statement cache (a manager
    // has a workplace or a few).
    let mut plans = Vec::new();
    for code in workplaces {
        plans.extend(load_one(conn, code, wave, previous)?);
    }
    plans.sort_by_key(|plan| plan.id);
    plans.dedup_by_key(|plan| plan.id);
    Ok(plans)
}

fn load_one(
    conn: &mut SqliteConnection,
    workplace: &str,
    wave: i32,
    previous: Option<i32>,
) -> QueryResult<Vec<Plan>> {
    action_plans::table
        .inner_join(workplaces::table)
        .filter(workplaces::code.eq(workplace))
        .filter(
            action_plans::wave_id
                .eq(wave)
                .or(action_plans::wave_id.nullable().eq(previous)),
        )
        .select((
            action_plans::id,
            workplaces::code,
            action_plans::wave_id,
            action_plans::dimension,
            action_plans::action,
            action_plans::owner,
            action_plans::due_on,
            action_plans::status,
            action_plans::policy_actions,
        ))
        .order(action_plans::id)
        .load::<PlanRow>(conn)
        .map(|rows| rows.into_iter().map(Plan::from_row).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(action: &str, owner: &str, due_on: Option<&str>) -> PlanInput {
        PlanInput {
            action: action.to_string(),
            owner: owner.to_string(),
            due_on: due_on.map(str::to_string),
            ..PlanInput::default()
        }
    }

    fn check(action: &str, owner: &str, due_on: Option<&str>) -> Result<PlanDraft, &'static str> {
        let policy = PolicyActions::shipped().expect("policy");
        super::check(&input(action, owner, due_on), policy)
    }

    #[test]
    fn plans_are_bounded_text_and_a_real_due_date() {
        assert_eq!(
            check(" 朝会を始める\r\n毎週 ", "係長", Some("2027-03-31")),
            Ok(PlanDraft {
                action: "朝会を始める\r\n毎週".to_string(),
                owner: "係長".to_string(),
                due_on: Some("2027-03-31".to_string()),
                status: PlanStatus::NotStarted,
                policy_actions: Vec::new(),
            })
        );
        assert_eq!(check("a", "b", Some(" ")).map(|p| p.due_on), Ok(None));
        for (action, owner) in [
            ("", "b"),
            ("a", ""),
            ("a\u{0}b", "b"),
            ("a", "b\nc"),
            (&"x".repeat(501), "b"),
        ] {
            assert_eq!(
                check(action, owner, None),
                Err("plan_invalid"),
                "{action:?}"
            );
        }
        for due in ["2027-02-30", "tomorrow", "2027-3-1", &"9".repeat(15_000)] {
            assert_eq!(check("a", "b", Some(due)), Err("plan_bad_due"), "{due}");
        }
    }

    #[test]
    fn a_plan_takes_one_of_three_statuses_and_only_the_policys_actions() {
        let policy = PolicyActions::shipped().expect("policy");
        let mut typed = input("朝会", "係長", None);
        typed.status = Some("in_progress".to_string());
        typed.policy_actions = vec![
            "sharing_staff_ideas".to_string(),
            "sharing_staff_goals".to_string(),
            "sharing_staff_ideas".to_string(),
        ];
        let draft = super::check(&typed, policy).expect("valid");
        assert_eq!(draft.status, PlanStatus::InProgress);
        assert_eq!(
            draft.policy_actions,
            ["sharing_staff_goals", "sharing_staff_ideas"],
            "once each, in the policy's order"
        );
        typed.status = Some("finished".to_string());
        assert_eq!(super::check(&typed, policy), Err("plan_bad_status"));
        typed.status = None;
        typed.policy_actions = vec!["sharing_staff_goals; DROP".to_string()];
        assert_eq!(super::check(&typed, policy), Err("plan_bad_action"));
        for status in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(status.as_str()), Some(status));
        }
    }
}
