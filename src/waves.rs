//! Survey waves' lifecycle: opening a wave with a frozen snapshot of its definition and
//! locked anonymity thresholds, closing it (results frozen, rows sealed, file rebuilt) and
//! purging its codes. These steps reach across `org`, `aggregation` and `collection`, so they
//! live here, above all of them; the stored wave and its queries are in
//! [`crate::wave_store`] (re-exported here), which `aggregation` and the rest read.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::aggregation::guard::Thresholds;
use crate::aggregation::{GroupLevel, QuadrantCut};
use crate::dates::today;
use crate::db::schema::waves;
use crate::survey::{SurveyDefinition, Threshold};
use crate::wave_status::WaveStatus;

pub use crate::wave_store::{
    closed_of_latest_survey, definition_source, find, is_survey_id, latest_closed, list,
    list_with_counts, response_count, survey_ids, DefinitionCache, Wave, WaveError, WaveForm,
    MAX_WAVE_NAME_CHARS,
};

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
    let results = crate::aggregation::frozen::wave_results(conn, wave)
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
        crate::aggregation::frozen::freeze(conn, id).map_err(|e| WaveError::Freeze(Box::new(e)))?;
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
