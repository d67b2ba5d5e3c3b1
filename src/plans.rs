//! Action plans, the "Act" of PDCA: what a manager means to do about one dimension of one of
//! their workplaces after a closed wave. Checked here, stored with their audit row in one
//! transaction, and shown beside the wave's results and the next wave's.

use diesel::prelude::*;

use crate::db::schema::{action_plans, workplaces};

/// Longest action or owner, in characters.
const MAX_PLAN_CHARS: usize = 500;

/// A plan's text as typed and checked: an action, who owns it, and an optional due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDraft {
    pub action: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
}

/// A stored plan.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Plan {
    pub workplace: String,
    pub wave: i32,
    pub dimension: String,
    pub action: String,
    pub owner: String,
    pub due_on: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The workplace, the wave (not closed) or the dimension is not one a plan can be for.
    #[error("a plan must name a known workplace and a dimension of a closed wave")]
    NotApplicable,
    #[error("{0}")]
    Definition(#[from] crate::survey::DefinitionError),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// A plan's action, owner and due date as stored, or the message key of what is wrong: the
/// action and the owner are required, at most 500 characters, without control characters
/// (the action may have line breaks); the due date is empty or a real `YYYY-MM-DD` date.
pub fn check(action: &str, owner: &str, due_on: Option<&str>) -> Result<PlanDraft, &'static str> {
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
    // Only a closed wave (whose results the page showed), and one of its dimensions.
    let stored = crate::waves::find(conn, wave).map_err(|_| PlanError::NotApplicable)?;
    let definition = stored.definition()?;
    if stored.is_open() || !definition.dimensions.iter().any(|d| d.id == dimension) {
        return Err(PlanError::NotApplicable);
    }
    conn.immediate_transaction(|conn| {
        diesel::insert_into(action_plans::table)
            .values((
                action_plans::wave_id.eq(wave),
                action_plans::workplace_id.eq(workplace_id),
                action_plans::dimension.eq(dimension),
                action_plans::action.eq(&draft.action),
                action_plans::owner.eq(&draft.owner),
                action_plans::due_on.eq(&draft.due_on),
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

/// The plans of `workplaces` made after `wave` or after the `previous` one, oldest first.
pub fn load(
    conn: &mut SqliteConnection,
    workplaces: &[String],
    wave: i32,
    previous: Option<i32>,
) -> QueryResult<Vec<Plan>> {
    action_plans::table
        .inner_join(workplaces::table)
        .filter(workplaces::code.eq_any(workplaces))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_bounded_text_and_a_real_due_date() {
        assert_eq!(
            check(" 朝会を始める\r\n毎週 ", "係長", Some("2027-03-31")),
            Ok(PlanDraft {
                action: "朝会を始める\r\n毎週".to_string(),
                owner: "係長".to_string(),
                due_on: Some("2027-03-31".to_string())
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
}
