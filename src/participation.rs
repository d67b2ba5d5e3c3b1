//! How many of a wave's invitations have been answered, per workplace: HR's alone while the
//! wave is open (rule 7), and only in steps of the wave's k, so one answer never shows.

use diesel::prelude::*;

use crate::aggregation::guard::SteppedCount;
use crate::db::schema::{invitation_codes, responses, workplaces};

/// One workplace that was issued codes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Participation {
    pub code: String,
    pub name: String,
    /// In steps of k while the wave is open ("5–9").
    pub responses: String,
    pub issued: i64,
    pub headcount: Option<i32>,
    /// Even the top of the step is below half the codes issued.
    pub remind: bool,
}

/// A count in steps of the wave's k.
pub fn stepped(count: i64, k: i32) -> SteppedCount {
    SteppedCount::new(
        u64::try_from(count).unwrap_or(0),
        u32::try_from(k).unwrap_or(1),
    )
}

/// Every workplace with codes in `wave_id`, in workplace order.
pub fn of_wave(
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
    let count_of = |counts: &[(i32, i64)], id: i32| {
        counts.iter().find(|(w, _)| *w == id).map_or(0, |(_, n)| *n)
    };
    Ok(places
        .into_iter()
        .filter_map(|(id, code, name, headcount)| {
            let issued = count_of(&issued, id);
            (issued > 0).then(|| {
                let step = stepped(count_of(&answered, id), k);
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
