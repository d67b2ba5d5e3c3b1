use std::collections::HashMap;

use diesel::prelude::*;

use super::{check_hierarchy, ImportError, OrgRow};
use crate::db::schema::workplaces;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = workplaces)]
pub struct Workplace {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub parent_id: Option<i32>,
    pub headcount: Option<i32>,
}

pub fn load_all(conn: &mut SqliteConnection) -> QueryResult<Vec<Workplace>> {
    workplaces::table
        .select(Workplace::as_select())
        .order(workplaces::id)
        .load(conn)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub added: usize,
    pub updated: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum OrgImportError {
    #[error("{0}")]
    Invalid(#[from] ImportError),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// Upserts the rows by code in one transaction: new codes are added, existing ones get the
/// new name, parent and headcount, and workplaces missing from the file are kept (their past
/// results stay valid). Nothing is written unless the whole file is valid.
/// A file may not reuse a reporting unit's code, nor move a unit's member to another parent
/// (a unit's members must stay siblings).
fn check_reporting_units(
    conn: &mut SqliteConnection,
    rows: &[OrgRow],
    existing_parents: &HashMap<String, Option<String>>,
) -> Result<(), OrgImportError> {
    let units = super::load_units(conn)?;
    let member_ids: std::collections::HashSet<i32> = units
        .iter()
        .flat_map(|u| u.members.iter().copied())
        .collect();
    let members: std::collections::HashSet<String> = workplaces::table
        .select((workplaces::id, workplaces::code))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .filter(|(id, _)| member_ids.contains(id))
        .map(|(_, code)| code)
        .collect();
    for row in rows {
        if let Some(unit) = units.iter().find(|u| u.code == row.code) {
            return Err(ImportError {
                line: Some(row.line),
                message: format!(
                    "code {:?} is already the code of reporting unit {:?}",
                    row.code, unit.name
                ),
            }
            .into());
        }
        let moved = existing_parents
            .get(&row.code)
            .is_some_and(|parent| *parent != row.parent_code);
        if moved && members.contains(&row.code) {
            return Err(ImportError {
                line: Some(row.line),
                message: format!(
                    "{:?} belongs to a reporting unit and cannot move to another parent; remove the unit first (anshin org unmerge)",
                    row.code
                ),
            }
            .into());
        }
    }
    Ok(())
}

pub fn import(
    conn: &mut SqliteConnection,
    rows: &[OrgRow],
) -> Result<ImportSummary, OrgImportError> {
    conn.immediate_transaction(|conn| {
        let existing = load_all(conn)?;
        let code_by_id: HashMap<i32, &str> =
            existing.iter().map(|w| (w.id, w.code.as_str())).collect();
        let existing_parents: HashMap<String, Option<String>> = existing
            .iter()
            .map(|w| {
                let parent = w
                    .parent_id
                    .and_then(|id| code_by_id.get(&id))
                    .map(|c| c.to_string());
                (w.code.clone(), parent)
            })
            .collect();
        check_hierarchy(rows, &existing_parents)?;
        check_reporting_units(conn, rows, &existing_parents)?;

        let mut id_by_code: HashMap<String, i32> =
            existing.iter().map(|w| (w.code.clone(), w.id)).collect();
        let mut summary = ImportSummary {
            added: 0,
            updated: 0,
        };
        // First every workplace exists with its name, then parents are linked, so a child may
        // appear in the file before its parent.
        for row in rows {
            let headcount = row.headcount.map(|h| h as i32);
            if let Some(id) = id_by_code.get(&row.code) {
                diesel::update(workplaces::table.find(*id))
                    .set((
                        workplaces::name.eq(&row.name),
                        workplaces::headcount.eq(headcount),
                    ))
                    .execute(conn)?;
                summary.updated += 1;
            } else {
                let id: i32 = diesel::insert_into(workplaces::table)
                    .values((
                        workplaces::code.eq(&row.code),
                        workplaces::name.eq(&row.name),
                        workplaces::headcount.eq(headcount),
                    ))
                    .returning(workplaces::id)
                    .get_result(conn)?;
                id_by_code.insert(row.code.clone(), id);
                summary.added += 1;
            }
        }
        for row in rows {
            let parent_id = row
                .parent_code
                .as_ref()
                .and_then(|p| id_by_code.get(p))
                .copied();
            let id = id_by_code[&row.code];
            diesel::update(workplaces::table.find(id))
                .set(workplaces::parent_id.eq(parent_id))
                .execute(conn)?;
        }
        super::bump_version(conn)?;
        Ok(summary)
    })
}
