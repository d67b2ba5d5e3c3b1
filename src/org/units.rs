//! Merged reporting units (集計単位): small sibling workplaces reported together as one
//! group instead of lowering k (anonymity rule 8). Members keep their own (guarded) results;
//! the unit adds a group between them and their parent.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::Workplace;
use crate::db::schema::{reporting_unit_members, reporting_units, workplaces};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportingUnit {
    pub code: String,
    pub name: String,
    /// Workplace ids of the members.
    pub members: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("a reporting unit needs a code and a name")]
    MissingName,
    #[error(
        "a reporting unit's code has at most {} and its name at most {} characters, \
         without control characters",
        super::MAX_CODE_CHARS,
        super::MAX_NAME_CHARS
    )]
    BadText,
    #[error("code {0:?} is already used by a workplace or another unit")]
    CodeTaken(String),
    #[error("no reporting unit has the code {0:?}")]
    UnknownUnit(String),
    #[error("a reporting unit merges at least two workplaces")]
    TooFewMembers,
    #[error("unknown workplace {0:?}")]
    UnknownWorkplace(String),
    #[error("workplace {0:?} already belongs to a reporting unit")]
    AlreadyMerged(String),
    #[error("the members of a reporting unit must share one parent ({0:?} does not)")]
    DifferentParents(String),
    #[error("reporting unit {code:?}: headcount of {member:?} is unknown (import it with the organisation)")]
    UnknownHeadcount { code: String, member: String },
    #[error("reporting unit {code:?} has {headcount} people, fewer than k = {k}")]
    TooSmall {
        code: String,
        headcount: u32,
        k: u32,
    },
    #[error("database error: {0}")]
    Database(String),
}

impl From<diesel::result::Error> for UnitError {
    fn from(error: diesel::result::Error) -> Self {
        UnitError::Database(error.to_string())
    }
}

/// Adds a unit merging the given sibling workplaces.
pub fn add_unit(
    conn: &mut SqliteConnection,
    code: &str,
    name: &str,
    member_codes: &[String],
) -> Result<(), UnitError> {
    let (code, name) = (code.trim(), name.trim());
    if code.is_empty() || name.is_empty() {
        return Err(UnitError::MissingName);
    }
    let fits = |text: &str, max| text.chars().count() <= max && !text.chars().any(char::is_control);
    if !fits(code, super::MAX_CODE_CHARS) || !fits(name, super::MAX_NAME_CHARS) {
        return Err(UnitError::BadText);
    }
    let distinct: HashSet<&String> = member_codes.iter().collect();
    if distinct.len() < 2 {
        return Err(UnitError::TooFewMembers);
    }
    conn.immediate_transaction(|conn| {
        let workplace_taken: i64 = workplaces::table
            .filter(workplaces::code.eq(code))
            .count()
            .get_result(conn)?;
        let unit_taken: i64 = reporting_units::table
            .filter(reporting_units::code.eq(code))
            .count()
            .get_result(conn)?;
        if workplace_taken + unit_taken > 0 {
            return Err(UnitError::CodeTaken(code.to_string()));
        }
        let mut members = Vec::with_capacity(distinct.len());
        let mut parent = None;
        for member in &distinct {
            let (id, member_parent): (i32, Option<i32>) = workplaces::table
                .filter(workplaces::code.eq(member.as_str()))
                .select((workplaces::id, workplaces::parent_id))
                .first(conn)
                .optional()?
                .ok_or_else(|| UnitError::UnknownWorkplace(member.to_string()))?;
            let merged: i64 = reporting_unit_members::table
                .filter(reporting_unit_members::workplace_id.eq(id))
                .count()
                .get_result(conn)?;
            if merged > 0 {
                return Err(UnitError::AlreadyMerged(member.to_string()));
            }
            match parent {
                None => parent = Some(member_parent),
                Some(expected) if expected != member_parent => {
                    return Err(UnitError::DifferentParents(member.to_string()));
                }
                Some(_) => {}
            }
            members.push(id);
        }
        let unit_id: i32 = diesel::insert_into(reporting_units::table)
            .values((
                reporting_units::code.eq(code),
                reporting_units::name.eq(name),
            ))
            .returning(reporting_units::id)
            .get_result(conn)?;
        for workplace_id in members {
            diesel::insert_into(reporting_unit_members::table)
                .values((
                    reporting_unit_members::unit_id.eq(unit_id),
                    reporting_unit_members::workplace_id.eq(workplace_id),
                ))
                .execute(conn)?;
        }
        super::bump_version(conn)?;
        Ok(())
    })
}

/// Removes a reporting unit (its members report on their own again).
pub fn remove_unit(conn: &mut SqliteConnection, code: &str) -> Result<(), UnitError> {
    conn.immediate_transaction(|conn| {
        let removed = diesel::delete(reporting_units::table.filter(reporting_units::code.eq(code)))
            .execute(conn)?;
        if removed == 0 {
            return Err(UnitError::UnknownUnit(code.to_string()));
        }
        super::bump_version(conn)?;
        Ok(())
    })
}

pub fn load_units(conn: &mut SqliteConnection) -> QueryResult<Vec<ReportingUnit>> {
    let rows: Vec<(i32, String, String, i32)> = reporting_units::table
        .inner_join(reporting_unit_members::table)
        .select((
            reporting_units::id,
            reporting_units::code,
            reporting_units::name,
            reporting_unit_members::workplace_id,
        ))
        .order((reporting_units::id, reporting_unit_members::workplace_id))
        .load(conn)?;
    let mut units: Vec<(i32, ReportingUnit)> = Vec::new();
    for (id, code, name, member) in rows {
        match units.last_mut() {
            Some((last, unit)) if *last == id => unit.members.push(member),
            _ => units.push((
                id,
                ReportingUnit {
                    code,
                    name,
                    members: vec![member],
                },
            )),
        }
    }
    Ok(units.into_iter().map(|(_, unit)| unit).collect())
}

/// Checks, when a wave is created, that every unit holds at least `k` people.
pub fn check_units(
    workplaces: &[Workplace],
    units: &[ReportingUnit],
    k: u32,
) -> Result<(), UnitError> {
    let by_id: HashMap<i32, &Workplace> = workplaces.iter().map(|w| (w.id, w)).collect();
    for unit in units {
        let mut headcount = 0u32;
        for member in &unit.members {
            let workplace = by_id
                .get(member)
                .ok_or_else(|| UnitError::UnknownWorkplace(format!("id {member}")))?;
            let members_headcount =
                workplace
                    .headcount
                    .ok_or_else(|| UnitError::UnknownHeadcount {
                        code: unit.code.clone(),
                        member: workplace.code.clone(),
                    })?;
            headcount += u32::try_from(members_headcount).unwrap_or(0);
        }
        if headcount < k {
            return Err(UnitError::TooSmall {
                code: unit.code.clone(),
                headcount,
                k,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workplace(id: i32, code: &str, headcount: Option<i32>) -> Workplace {
        Workplace {
            id,
            code: code.into(),
            name: code.into(),
            parent_id: Some(1),
            headcount,
        }
    }

    #[test]
    fn units_must_reach_k_with_known_headcounts() {
        let workplaces = [
            workplace(2, "T1", Some(3)),
            workplace(3, "T2", Some(2)),
            workplace(4, "T3", None),
        ];
        let unit = |members: Vec<i32>| ReportingUnit {
            code: "U1".into(),
            name: "小規模係".into(),
            members,
        };
        assert_eq!(check_units(&workplaces, &[unit(vec![2, 3])], 5), Ok(()));
        assert_eq!(
            check_units(&workplaces, &[unit(vec![2, 3])], 6),
            Err(UnitError::TooSmall {
                code: "U1".into(),
                headcount: 5,
                k: 6
            })
        );
        assert!(matches!(
            check_units(&workplaces, &[unit(vec![2, 4])], 3),
            Err(UnitError::UnknownHeadcount { .. })
        ));
    }
}
