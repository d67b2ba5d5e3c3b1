//! Closed waves' results, frozen at closing (PRODUCT.md rule 9).
//!
//! [`freeze`] computes a wave's guarded results once, with the organisation, merged reporting
//! units, thresholds and previous wave as they stand at that moment, and stores them
//! (`frozen_results`). Every later read — JSON, CSV, pages, charts, trend, the change shown by
//! the next wave, a baseline cut — returns those stored results unchanged, so two reads of one
//! wave can never be subtracted, and nothing is recomputed from the response rows after the
//! wave closed.

use diesel::prelude::*;

use super::engine::compute;
use super::load::{baseline_cut, load_wave, previous_wave, ResultsError};
use super::psychometrics::{self, PsychometricsReport};
use super::results::WaveResults;
use crate::db::schema::{frozen_results, waves};
use crate::wave_status::WaveStatus;
use crate::wave_store;

/// A closed wave's guarded results as frozen when it closed ([`freeze`]), compared
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
    match stored(conn, wave_id)? {
        Some(results) => Ok(results),
        None => freeze(conn, wave_id),
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

/// A closed wave's stored results, if it has been frozen.
pub fn stored(
    conn: &mut SqliteConnection,
    wave_id: i32,
) -> Result<Option<WaveResults>, ResultsError> {
    let text: Option<String> = frozen_results::table
        .find(wave_id)
        .select(frozen_results::results_json)
        .first(conn)
        .optional()?;
    text.map(|text| {
        let mut results: WaveResults =
            serde_json::from_str(&text).map_err(|source| ResultsError::Stored {
                wave: wave_id,
                message: source.to_string(),
            })?;
        results.withhold_narrowing_reasons();
        Ok(results)
    })
    .transpose()
}

/// Freezes a closed wave's results and returns them as stored. Called by [`crate::waves::close`] inside
/// the transaction that closes the wave; a wave already frozen keeps its stored results. The
/// change is computed against the previous closed wave's *stored* results (frozen first if it
/// is a wave closed before freezing existed).
pub fn freeze(conn: &mut SqliteConnection, wave_id: i32) -> Result<WaveResults, ResultsError> {
    if let Some(results) = stored(conn, wave_id)? {
        return Ok(results);
    }
    let wave = wave_store::find(conn, wave_id)?;
    if wave.is_open() {
        return Err(ResultsError::WaveOpen(wave_id));
    }
    let previous = match previous_wave(conn, &wave)? {
        Some(earlier) => Some(freeze(conn, earlier.id)?),
        None => None,
    };
    let data = load_wave(conn, &wave)?;
    let results = compute(&data, baseline_cut(&wave), previous.as_ref())?;
    let text = serde_json::to_string(&results).map_err(|source| ResultsError::Stored {
        wave: wave_id,
        message: source.to_string(),
    })?;
    // Two first reads of an old wave may race to freeze it: the first stored copy wins and
    // both return it.
    diesel::insert_into(frozen_results::table)
        .values((
            frozen_results::wave_id.eq(wave_id),
            frozen_results::results_json.eq(&text),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    stored(conn, wave_id)?.ok_or(ResultsError::Stored {
        wave: wave_id,
        message: "the stored results disappeared".into(),
    })
}

/// The upgrade step for waves closed before results were frozen: freezes each closed wave
/// without stored results, oldest first, with the organisation as it stands now. Returns the
/// ids of the waves frozen; a wave whose results cannot be computed is reported and left for
/// its first read, which fails with the same error.
pub fn freeze_closed_waves(conn: &mut SqliteConnection) -> QueryResult<Vec<i32>> {
    let pending: Vec<i32> = waves::table
        .left_join(frozen_results::table)
        .filter(waves::status.eq(WaveStatus::Closed))
        .filter(frozen_results::wave_id.nullable().is_null())
        .order(waves::id)
        .select(waves::id)
        .load(conn)?;
    let mut frozen = Vec::new();
    for wave_id in pending {
        match conn.immediate_transaction(|conn| freeze(conn, wave_id)) {
            Ok(_) => frozen.push(wave_id),
            Err(error) => {
                tracing::warn!(wave = wave_id, %error, "a closed wave's results could not be frozen");
            }
        }
    }
    Ok(frozen)
}
