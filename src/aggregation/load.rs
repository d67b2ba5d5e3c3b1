//! Loading a wave's stored rows from the database into [`WaveData`] (the input of
//! [`super::compute`]), the previous wave of the same survey, and [`ResultsError`]. Reading a
//! closed wave's results goes through [`super::frozen::wave_results`], which builds on this.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;

use super::engine::{AggregationError, ResponseTable, WaveData, WorkplaceNode};
use super::guard::Thresholds;
use super::psychometrics::PsychometricsError;
use super::results::{QuadrantCut, SharedText};
use crate::collection::slots;
use crate::db::schema::{comments, responses, waves};
use crate::org;
use crate::wave_status::WaveStatus;
use crate::wave_store::{Wave, WaveError};

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// Results of an open wave would change with every new response, and two reads could be
    /// subtracted to isolate the few answers given in between (rule 7).
    #[error("wave {0} is still open: its results are computed once it is closed")]
    WaveOpen(i32),
    #[error("{0}")]
    Wave(#[from] WaveError),
    #[error("{0}")]
    Aggregation(#[from] AggregationError),
    #[error("wave {wave}: stored thresholds are invalid: {message}")]
    Thresholds { wave: i32, message: String },
    #[error("wave {wave}: its frozen results cannot be read or stored: {message}")]
    Stored { wave: i32, message: String },
    #[error("{0}")]
    Psychometrics(#[from] PsychometricsError),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// The quadrant cut frozen from a baseline wave when `wave` opened, if its definition asks
/// for one.
pub fn baseline_cut(wave: &Wave) -> Option<QuadrantCut> {
    Some(QuadrantCut {
        x: wave.cut_x?,
        y: wave.cut_y?,
    })
}

/// The most recent earlier closed wave of the same survey.
pub fn previous_wave(conn: &mut SqliteConnection, wave: &Wave) -> QueryResult<Option<Wave>> {
    waves::table
        .filter(waves::survey_id.eq(&wave.survey_id))
        .filter(waves::id.lt(wave.id))
        .filter(waves::status.eq(WaveStatus::Closed))
        .order(waves::id.desc())
        .select(Wave::as_select())
        .first(conn)
        .optional()
}

/// Inserts each merged reporting unit between its members and their common parent, so the
/// unit is one more group of the tree (and the guard protects it like any other).
fn add_reporting_units(
    workplaces: &mut Vec<WorkplaceNode>,
    units: &[org::ReportingUnit],
    index_of: &HashMap<i32, usize>,
) {
    for unit in units {
        let members: Vec<usize> = unit
            .members
            .iter()
            .filter_map(|id| index_of.get(id).copied())
            .collect();
        let Some(&first) = members.first() else {
            continue;
        };
        let unit_index = workplaces.len();
        let headcount = members
            .iter()
            .map(|&m| workplaces[m].headcount)
            .sum::<Option<u32>>();
        workplaces.push(WorkplaceNode {
            code: unit.code.clone(),
            name: unit.name.clone(),
            parent: workplaces[first].parent,
            headcount,
            reporting_unit: true,
        });
        for member in members {
            workplaces[member].parent = Some(unit_index);
        }
    }
}

/// Reads everything aggregation needs of one wave.
pub fn load_wave(conn: &mut SqliteConnection, wave: &Wave) -> Result<WaveData, ResultsError> {
    let definition = Arc::new(wave.definition().map_err(WaveError::from)?);
    let thresholds = Thresholds::new(
        wave.min_group_size as u32,
        wave.min_detail_group_size as u32,
    )
    .map_err(|e| ResultsError::Thresholds {
        wave: wave.id,
        message: e.to_string(),
    })?;
    let stored = org::load_all(conn)?;
    let index_of: HashMap<i32, usize> = stored.iter().enumerate().map(|(i, w)| (w.id, i)).collect();
    let mut workplaces: Vec<WorkplaceNode> = stored
        .iter()
        .map(|w| WorkplaceNode {
            code: w.code.clone(),
            name: w.name.clone(),
            parent: w.parent_id.and_then(|p| index_of.get(&p).copied()),
            headcount: w.headcount.and_then(|h| u32::try_from(h).ok()),
            reporting_unit: false,
        })
        .collect();
    add_reporting_units(&mut workplaces, &org::load_units(conn)?, &index_of);

    let options: Vec<&str> = definition
        .job_level
        .iter()
        .flat_map(|q| q.options.iter().map(|o| o.id.as_str()))
        .collect();
    let items = definition.items.len();
    let mut table = ResponseTable::default();
    // Streamed straight into the column-wise table: a wave can hold 100,000 rows, in key
    // order, so a workplace's rows come together.
    let rows = responses::table
        .filter(responses::wave_id.eq(wave.id))
        .filter(responses::filled.eq(true))
        .select((
            responses::workplace_id,
            responses::job_level,
            responses::answers,
        ))
        .load_iter::<(i32, String, Vec<u8>), diesel::connection::DefaultLoadingMode>(conn)?;
    let mut last_workplace: Option<(i32, u32)> = None;
    for row in rows {
        let (workplace_id, job_level, answers) = row?;
        let workplace = match last_workplace {
            Some((id, index)) if id == workplace_id => index,
            _ => {
                let index = *index_of.get(&workplace_id).ok_or_else(|| {
                    AggregationError::Inconsistent(format!(
                        "a response names unknown workplace id {workplace_id}"
                    ))
                })? as u32;
                last_workplace = Some((workplace_id, index));
                index
            }
        };
        if answers.len() != items {
            return Err(AggregationError::Inconsistent(format!(
                "a response has {} answers, the definition {items} items",
                answers.len()
            ))
            .into());
        }
        let job_level = slots::unpadded(&job_level);
        table.workplace.push(workplace);
        table.job_level.push(
            options
                .iter()
                .position(|&o| o == job_level)
                .map(|o| o as u16),
        );
        table.answers.extend_from_slice(&answers);
    }

    // A comment slot holds its text NUL-padded to a fixed width (thousands of bytes), and a
    // comment never contains NUL (the form refuses control characters): SQLite's `length`
    // counts the characters before the first NUL, so only the text leaves the database.
    let comment_rows: Vec<(i32, String)> = comments::table
        .filter(comments::wave_id.eq(wave.id))
        .filter(comments::filled.eq(true))
        .select((
            comments::workplace_id,
            diesel::dsl::sql::<diesel::sql_types::Text>("substr(body, 1, length(body))"),
        ))
        .load(conn)?;
    let comments = comment_rows
        .into_iter()
        .filter_map(|(workplace_id, body)| {
            index_of
                .get(&workplace_id)
                .map(|&w| (w, SharedText::from(slots::unpadded(&body))))
        })
        .collect();

    Ok(WaveData {
        wave_id: wave.id,
        wave_name: wave.name.clone(),
        wave_status: wave.status,
        definition,
        thresholds,
        workplaces,
        responses: table,
        comments,
    })
}
