//! Survey waves: one survey period, with a frozen snapshot of its definition and locked
//! anonymity thresholds.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::aggregation::guard::Thresholds;
use crate::aggregation::{GroupLevel, QuadrantCut};
use crate::dates::today;
use crate::db::schema::{responses, waves};
use crate::survey::{DefinitionError, SurveyDefinition, Threshold};
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

    /// The cut frozen from a baseline wave, if the definition asks for one.
    pub fn baseline_cut(&self) -> Option<QuadrantCut> {
        Some(QuadrantCut {
            x: self.cut_x?,
            y: self.cut_y?,
        })
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
    #[error("the wave's results could not be frozen: {0}")]
    Freeze(Box<crate::aggregation::load::ResultsError>),
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

/// Opens a new wave with a snapshot of the definition text. `baseline` is the closed wave
/// whose organisation means become the quadrant cut, required exactly when the definition's
/// threshold rule is `baseline_wave`.
pub fn create(
    conn: &mut SqliteConnection,
    name: &str,
    definition_text: &str,
    origin: &str,
    thresholds: Thresholds,
    baseline: Option<i32>,
) -> Result<Wave, WaveError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(WaveError::EmptyName);
    }
    if name.chars().count() > MAX_WAVE_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(WaveError::BadName);
    }
    let definition = SurveyDefinition::parse(definition_text, origin)?;
    let cut = match (&definition.quadrant.threshold, baseline) {
        (Threshold::Fixed(_), None) => None,
        (Threshold::Fixed(_), Some(_)) => {
            return Err(WaveError::BaselineNotApplicable {
                survey: definition.id,
            })
        }
        (Threshold::BaselineWave, None) => {
            return Err(WaveError::BaselineRequired {
                survey: definition.id,
            })
        }
        (Threshold::BaselineWave, Some(wave)) => Some(baseline_cut(conn, wave, &definition)?),
    };
    // Merged reporting units must hold at least k people under this wave's k (rule 8).
    crate::org::check_units(
        &crate::org::load_all(conn)?,
        &crate::org::load_units(conn)?,
        thresholds.k(),
    )?;
    let sha256 = hex::encode(Sha256::digest(definition_text.as_bytes()));
    let wave = diesel::insert_into(waves::table)
        .values((
            waves::name.eq(name),
            waves::survey_id.eq(&definition.id),
            waves::survey_version.eq(definition.version as i32),
            waves::definition_toml.eq(definition_text),
            waves::definition_sha256.eq(sha256),
            waves::status.eq(WaveStatus::Open),
            waves::min_group_size.eq(thresholds.k() as i32),
            waves::min_detail_group_size.eq(thresholds.k2() as i32),
            waves::opened_on.eq(today()),
            waves::baseline_wave_id.eq(baseline),
            waves::cut_x.eq(cut.map(|c| c.x)),
            waves::cut_y.eq(cut.map(|c| c.y)),
        ))
        .returning(Wave::as_returning())
        .get_result(conn)?;
    Ok(wave)
}

/// The organisation means of a closed wave's guarded results on `definition`'s two axes
/// (matched by dimension id), each strictly inside the axis's scale.
fn baseline_cut(
    conn: &mut SqliteConnection,
    wave: i32,
    definition: &SurveyDefinition,
) -> Result<QuadrantCut, WaveError> {
    let refuse = |reason: String| WaveError::Baseline { wave, reason };
    if find(conn, wave)?.is_open() {
        return Err(refuse("it is still open; close it first".into()));
    }
    let results = crate::aggregation::load::wave_results(conn, wave)
        .map_err(|e| refuse(format!("its results cannot be computed: {e}")))?;
    let organisation = results
        .groups
        .iter()
        .find(|g| g.level == GroupLevel::Organisation && !g.suppressed)
        .ok_or_else(|| {
            refuse("its organisation results are hidden (fewer than k responses)".into())
        })?;
    let axis_mean = |axis: usize| {
        let dimension = &definition.dimensions[axis].id;
        let scale = definition.scale_of_dimension(axis);
        let mean = organisation
            .scores
            .get(dimension)
            .map(|score| score.mean)
            .ok_or_else(|| refuse(format!("it has no organisation score for {dimension:?}")))?;
        if mean > f64::from(scale.min) && mean < f64::from(scale.max) {
            Ok(mean)
        } else {
            Err(refuse(format!(
                "its mean {mean:.2} for {dimension:?} is not inside the scale {}–{}",
                scale.min, scale.max
            )))
        }
    };
    Ok(QuadrantCut {
        x: axis_mean(definition.quadrant.x)?,
        y: axis_mean(definition.quadrant.y)?,
    })
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
    waves::table
        .filter(waves::status.eq(WaveStatus::Closed))
        .order(waves::id.desc())
        .select(Wave::as_select())
        .first(conn)
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

/// Closes a wave: its codes stop working at once. Its stored rows are then sealed (empty
/// slots dropped, small cells generalised: [`crate::collection::sealing`]) and the file is
/// rebuilt in key order with an empty write-ahead log ([`crate::db::compact`]), so no byte
/// keeps the order of submissions or redemptions.
pub fn close(conn: &mut SqliteConnection, id: i32) -> Result<Wave, WaveError> {
    let closed = conn.immediate_transaction(|conn| {
        let wave = find(conn, id)?;
        if !wave.is_open() {
            return Err(WaveError::AlreadyClosed(id));
        }
        let closed = diesel::update(waves::table.find(id))
            .set((
                waves::status.eq(WaveStatus::Closed),
                waves::closed_on.eq(today()),
            ))
            .returning(Wave::as_returning())
            .get_result(conn)?;
        // Later waves' results compare with the previous *closed* wave: cached ones are stale.
        crate::org::bump_version(conn)?;
        // Frozen as the organisation stands now; no later read recomputes them (rule 9).
        crate::aggregation::frozen::freeze(conn, id).map_err(|e| WaveError::Freeze(e.into()))?;
        // Then what is kept of the rows: they no longer serve any published figure.
        crate::collection::sealing::seal(
            conn,
            id,
            closed.min_group_size as usize,
            closed.min_detail_group_size as usize,
        )?;
        Ok::<_, WaveError>(closed)
    })?;
    compact_after(conn, "closing the wave");
    Ok(closed)
}

/// The wave's change is committed either way; a file that could not be rebuilt yet (readers
/// holding it) is rebuilt by the next closing or purge, and the operator is told.
fn compact_after(conn: &mut SqliteConnection, what: &str) {
    if let Err(error) = crate::db::compact(conn) {
        tracing::warn!(%error, "the database file could not be rebuilt after {what}; run `anshin wave purge-codes` or close again later");
    }
}

/// Deletes a closed wave's code hashes (retention): the codes are dead once the wave closes,
/// and without them nothing is left to relate to the responses. The file is rebuilt
/// afterwards, so no hash or used flag is left in a freed page. Returns how many went.
pub fn purge_codes(conn: &mut SqliteConnection, id: i32) -> Result<usize, WaveError> {
    use crate::db::schema::invitation_codes;
    let purged = conn.immediate_transaction(|conn| {
        let wave = find(conn, id)?;
        if wave.is_open() {
            return Err(WaveError::StillOpen(id));
        }
        Ok::<_, WaveError>(
            diesel::delete(invitation_codes::table.filter(invitation_codes::wave_id.eq(id)))
                .execute(conn)?,
        )
    })?;
    compact_after(conn, "purging codes");
    Ok(purged)
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
