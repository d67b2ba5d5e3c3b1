//! Survey waves as stored: the `waves` row ([`Wave`]), its definition snapshot and where a
//! new wave's definition text comes from, the queries every other module reads waves with,
//! and the survey pages' [`DefinitionCache`]. Opening, closing and purging a wave, which also
//! freeze results, seal rows and rebuild the file, are in [`crate::waves`], above
//! `aggregation`; this module sits below it and depends on no domain module.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use diesel::prelude::*;

use crate::db::schema::{responses, waves};
use crate::survey::{DefinitionError, SurveyDefinition};
use crate::wave_status::WaveStatus;

/// The default instrument, built into the binary so that a server started outside the source
/// tree can still open a wave with it.
const BUILT_IN_DEFINITIONS: &[(&str, &str)] = &[(
    "workplace-climate",
    include_str!("../survey-definitions/workplace-climate.toml"),
)];

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = waves)]
pub struct Wave {
    pub id: i32,
    pub name: String,
    pub survey_id: String,
    pub survey_version: i32,
    pub definition_toml: String,
    pub definition_sha256: String,
    pub status: WaveStatus,
    pub min_group_size: i32,
    pub min_detail_group_size: i32,
    pub opened_on: String,
    pub closed_on: Option<String>,
    /// The wave whose organisation means are this wave's quadrant cut, for definitions whose
    /// threshold rule is `baseline_wave`.
    pub baseline_wave_id: Option<i32>,
    pub cut_x: Option<f64>,
    pub cut_y: Option<f64>,
}

impl Wave {
    pub fn is_open(&self) -> bool {
        self.status == WaveStatus::Open
    }

    /// Parses the stored snapshot (validated when the wave was created).
    pub fn definition(&self) -> Result<SurveyDefinition, DefinitionError> {
        SurveyDefinition::parse(
            &self.definition_toml,
            &format!("wave {} definition snapshot", self.id),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    #[error("no survey definition with id {id:?}: expected {expected}")]
    UnknownSurvey { id: String, expected: String },
    #[error("{0}")]
    Definition(#[from] DefinitionError),
    #[error("wave {0} does not exist")]
    NotFound(i32),
    #[error("wave {0} is already closed")]
    AlreadyClosed(i32),
    #[error("wave {0} is still open: close it first")]
    StillOpen(i32),
    #[error("the wave name must not be empty")]
    EmptyName,
    #[error("the wave name must be at most {MAX_WAVE_NAME_CHARS} characters, without control characters")]
    BadName,
    #[error(
        "survey id {0:?} is not an id: lower-case letters, digits, '-' and '_', \
         starting with a letter or digit, at most 64"
    )]
    BadSurveyId(String),
    #[error("{0}")]
    ReportingUnit(#[from] crate::org::UnitError),
    #[error(
        "the survey {survey:?} takes its quadrant cut from a baseline wave: \
         choose a closed wave as the baseline"
    )]
    BaselineRequired { survey: String },
    #[error("the survey {survey:?} has a fixed quadrant cut; a baseline wave does not apply")]
    BaselineNotApplicable { survey: String },
    #[error("baseline wave {wave}: {reason}")]
    Baseline { wave: i32, reason: String },
    /// Closing could not freeze the results (an `aggregation::load::ResultsError`, boxed so
    /// that this module stays below `aggregation`).
    #[error("the wave's results could not be frozen: {0}")]
    Freeze(Box<dyn std::error::Error + Send + Sync>),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// Longest wave name (it is shown in charts, tables and every row of the results CSV).
pub const MAX_WAVE_NAME_CHARS: usize = 100;

/// Whether `id` is a survey id: `^[a-z0-9][a-z0-9_-]{0,63}$`. Only such an id is looked up,
/// so a path (`../x`, `/etc/x`) never reaches the file system.
pub fn is_survey_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Finds the definition text for a survey id: `DIR/ID.toml`, else the built-in copy.
pub fn definition_source(
    definitions_dir: &Path,
    survey_id: &str,
) -> Result<(String, String), WaveError> {
    if !is_survey_id(survey_id) {
        return Err(WaveError::BadSurveyId(survey_id.to_string()));
    }
    let path = definitions_dir.join(format!("{survey_id}.toml"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok((text, path.display().to_string()));
    }
    BUILT_IN_DEFINITIONS
        .iter()
        .find(|(id, _)| *id == survey_id)
        .map(|(id, text)| (text.to_string(), format!("built-in {id}.toml")))
        .ok_or_else(|| WaveError::UnknownSurvey {
            id: survey_id.to_string(),
            expected: path.display().to_string(),
        })
}

/// The survey ids a new wave can use: the built-in ones and every `ID.toml` with a valid id
/// in `definitions_dir`, sorted, once each.
pub fn survey_ids(definitions_dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = BUILT_IN_DEFINITIONS
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    if let Ok(entries) = std::fs::read_dir(definitions_dir) {
        ids.extend(entries.filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let id = name.strip_suffix(".toml")?;
            is_survey_id(id).then(|| id.to_string())
        }));
    }
    ids.sort();
    ids.dedup();
    ids
}

pub fn find(conn: &mut SqliteConnection, id: i32) -> Result<Wave, WaveError> {
    waves::table
        .find(id)
        .select(Wave::as_select())
        .first(conn)
        .optional()?
        .ok_or(WaveError::NotFound(id))
}

pub fn list(conn: &mut SqliteConnection) -> QueryResult<Vec<Wave>> {
    waves::table
        .select(Wave::as_select())
        .order(waves::id)
        .load(conn)
}

/// Every wave with its number of stored responses (one grouped query, not one a wave).
pub fn list_with_counts(conn: &mut SqliteConnection) -> QueryResult<Vec<(Wave, i64)>> {
    let counts: Vec<(i32, i64)> = responses::table
        .filter(responses::filled.eq(true))
        .group_by(responses::wave_id)
        .select((responses::wave_id, diesel::dsl::count_star()))
        .load(conn)?;
    let counts: HashMap<i32, i64> = counts.into_iter().collect();
    Ok(list(conn)?
        .into_iter()
        .map(|wave| {
            let count = counts.get(&wave.id).copied().unwrap_or(0);
            (wave, count)
        })
        .collect())
}

/// The latest closed wave, if any.
pub fn latest_closed(conn: &mut SqliteConnection) -> QueryResult<Option<Wave>> {
    // The highest id by `max` rather than `ORDER BY … LIMIT ?` (`.first()`): SQLite prepares
    // a statement with a bound `LIMIT` again on every run, and every team page asks.
    let latest: Option<i32> = waves::table
        .filter(waves::status.eq(WaveStatus::Closed))
        .select(diesel::dsl::max(waves::id))
        .get_result(conn)?;
    let Some(id) = latest else {
        return Ok(None);
    };
    waves::table
        .find(id)
        .select(Wave::as_select())
        .get_result(conn)
        .optional()
}

/// The closed waves of the latest closed wave's survey, oldest first: the waves a trend
/// runs across.
pub fn closed_of_latest_survey(conn: &mut SqliteConnection) -> QueryResult<Vec<i32>> {
    let closed: Vec<(i32, String)> = waves::table
        .filter(waves::status.eq(WaveStatus::Closed))
        .order(waves::id)
        .select((waves::id, waves::survey_id))
        .load(conn)?;
    let Some((_, survey)) = closed.last().cloned() else {
        return Ok(Vec::new());
    };
    Ok(closed
        .into_iter()
        .filter(|(_, s)| *s == survey)
        .map(|(id, _)| id)
        .collect())
}

/// How many responses a wave has (HR's figure; never shown per workplace to managers while
/// the wave is open).
pub fn response_count(conn: &mut SqliteConnection, id: i32) -> QueryResult<i64> {
    responses::table
        .filter(responses::wave_id.eq(id))
        .filter(responses::filled.eq(true))
        .count()
        .get_result(conn)
}

/// What the survey pages need of a wave, parsed once. A wave's snapshot and thresholds never
/// change, so an entry never goes stale.
#[derive(Debug)]
pub struct WaveForm {
    pub definition: SurveyDefinition,
    /// The minimum group size k, stated on the form.
    pub min_group_size: i32,
}

/// Wave id → [`WaveForm`], so a submission needs no database read for its definition.
#[derive(Default)]
pub struct DefinitionCache {
    forms: RwLock<HashMap<i32, Arc<WaveForm>>>,
}

impl DefinitionCache {
    pub fn get(&self, wave_id: i32) -> Option<Arc<WaveForm>> {
        self.forms
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&wave_id)
            .cloned()
    }

    pub fn load(
        &self,
        conn: &mut SqliteConnection,
        wave_id: i32,
    ) -> Result<Arc<WaveForm>, WaveError> {
        let wave = find(conn, wave_id)?;
        let form = Arc::new(WaveForm {
            definition: wave.definition()?,
            min_group_size: wave.min_group_size,
        });
        self.forms
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(wave_id, form.clone());
        Ok(form)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_are_looked_up_as_survey_definitions() {
        for id in ["workplace-climate", "a", "2026_pulse", &"x".repeat(64)] {
            assert!(is_survey_id(id), "{id}");
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions");
        for id in [
            "",
            "../Cargo",
            "../../etc/passwd",
            "/etc/x",
            "Workplace",
            "-x",
            "_x",
            "a.b",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(!is_survey_id(id), "{id}");
            assert!(
                matches!(definition_source(&dir, id), Err(WaveError::BadSurveyId(_))),
                "{id}"
            );
        }
    }
}
