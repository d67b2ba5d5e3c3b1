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
        Ok(summary)
    })
}
