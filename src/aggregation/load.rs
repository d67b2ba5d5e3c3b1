//! Loading a wave from the database into [`WaveData`], and computing its results with the
//! change against the previous wave of the same survey.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;

use super::engine::{AggregationError, ResponseTable, WaveData, WorkplaceNode};
use super::guard::Thresholds;
use super::psychometrics::{self, PsychometricsError, PsychometricsReport};
use super::results::WaveResults;
use crate::collection::slots;
use crate::db::schema::{comments, responses, waves};
use crate::org;
use crate::wave_status::WaveStatus;
use crate::waves::{self as wave_store, Wave, WaveError};

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

/// A closed wave's guarded results as frozen when it closed ([`super::frozen`]), compared
/// with the previous closed wave of the same survey as it stood then. Never recomputed: a
/// closed wave that has no stored results (closed before freezing existed and missed by the
/// upgrade step) is frozen now, once.
pub fn wave_results(
    conn: &mut SqliteConnection,
    wave_id: i32,
) -> Result<WaveResults, ResultsError> {
    let wave = wave_store::find(conn, wave_id)?;
    if wave.is_open() {
        return Err(ResultsError::WaveOpen(wave_id));
    }
    match super::frozen::stored(conn, wave_id)? {
        Some(results) => Ok(results),
        None => super::frozen::freeze(conn, wave_id),
    }
}

/// A closed wave's psychometrics report ([`psychometrics::report`]): item statistics from its
/// stored responses and definition snapshot, ICCs from its frozen results. Refused for an open
/// wave and for one whose organisation shows fewer than k responses.
pub fn wave_psychometrics(
    conn: &mut SqliteConnection,
    wave_id: i32,
) -> Result<PsychometricsReport, ResultsError> {
    let results = wave_results(conn, wave_id)?;
    let wave = wave_store::find(conn, wave_id)?;
    let data = load_wave(conn, &wave)?;
    Ok(psychometrics::report(&data, &results)?)
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
            index_of.get(&workplace_id).map(|&w| {
                let mut body = body;
                body.truncate(slots::unpadded(&body).len());
                (w, body)
            })
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
