//! Views of guarded results for HR's analysis pages: the job-level table of one wave and the
//! organisation's trend across closed waves. Pure functions over [`WaveResults`]: they select
//! and arrange what the guard has shown, and never see a figure it hid.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use serde::Serialize;

use super::guard::HiddenReason;
use super::results::{DimensionMeta, GroupLevel, WaveResults};
use crate::survey::{JobLevelQuestion, LocalText};

/// One job-level cut of a total (the organisation or a department) as the guard left it:
/// every cut needs k2 responses of its own and passes the complementary suppression of the
/// departments × levels table (`guard::protect_cut_table`); job level is never crossed with a
/// single team, so no row names one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobLevelRow {
    /// The department's code; `None` for the organisation.
    pub total: Option<String>,
    pub total_name: String,
    /// The job-level option id.
    pub job_level: String,
    /// The option's label from the survey definition (the id where the definition has none).
    pub label_ja: String,
    pub label_en: String,
    /// Responses, where shown.
    pub n: Option<u32>,
    /// Dimension id → mean, for every shown cell.
    pub means: BTreeMap<String, f64>,
    /// Why the cut is hidden, where it is.
    pub hidden_reason: Option<HiddenReason>,
}

/// The job-level cuts of a wave in the results' order: the organisation's first, then each
/// department's, each total's levels in the order of the definition. HR's view only:
/// managers never see cuts (`WaveResults::visible_to`).
pub fn job_level_rows(
    results: &WaveResults,
    question: Option<&JobLevelQuestion>,
) -> Vec<JobLevelRow> {
    let label = |id: &str| {
        question
            .and_then(|q| q.options.iter().find(|o| o.id == id))
            .map_or_else(
                || LocalText {
                    ja: id.to_string(),
                    en: id.to_string(),
                },
                |o| o.label.clone(),
            )
    };
    results
        .groups
        .iter()
        .filter(|g| g.level == GroupLevel::JobLevel)
        .filter_map(|group| {
            let job_level = group.job_level.clone()?;
            let shown = !group.suppressed;
            Some(JobLevelRow {
                total: group.workplace.clone(),
                total_name: group.name.clone(),
                label_ja: label(&job_level).ja,
                label_en: label(&job_level).en,
                n: group.n.filter(|_| shown),
                means: group
                    .scores
                    .iter()
                    .filter(|_| shown)
                    .map(|(id, score)| (id.to_string(), score.mean))
                    .collect(),
                hidden_reason: group.hidden_reason,
                job_level,
            })
        })
        .collect()
}

/// One dimension's organisation-wide mean across waves, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionTrend {
    pub dimension: DimensionMeta,
    /// (wave name, mean): `None` where the wave did not measure the dimension or the guard
    /// hid the organisation's figure.
    pub points: Vec<(String, Option<f64>)>,
}

/// The organisation's trend for every dimension of the latest wave, across `waves` (closed
/// waves of one survey, oldest first). A dimension is matched across waves by its id.
pub fn organisation_trends<W: Borrow<WaveResults>>(waves: &[W]) -> Vec<DimensionTrend> {
    let Some(latest) = waves.last().map(Borrow::borrow) else {
        return Vec::new();
    };
    latest
        .dimensions
        .iter()
        .map(|dimension| DimensionTrend {
            dimension: dimension.clone(),
            points: waves
                .iter()
                .map(|wave| {
                    let wave: &WaveResults = wave.borrow();
                    let mean = wave
                        .groups
                        .iter()
                        .find(|g| g.level == GroupLevel::Organisation && !g.suppressed)
                        .and_then(|g| g.scores.get(&dimension.id))
                        .map(|s| s.mean);
                    (wave.wave_name.clone(), mean)
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::survey::SurveyDefinition;

    fn definition() -> Arc<SurveyDefinition> {
        let text = include_str!("../../survey-definitions/workplace-climate.toml");
        Arc::new(SurveyDefinition::parse(text, "workplace-climate.toml").expect("shipped"))
    }

    /// The demo city's three waves, each compared with the one before.
    fn demo_waves() -> Vec<WaveResults> {
        crate::demo::sample_results(3, 14)
    }

    #[test]
    fn job_level_rows_show_only_what_the_guard_shows_at_k2() {
        let waves = demo_waves();
        let latest = &waves[2];
        let definition = definition();
        let rows = job_level_rows(latest, definition.job_level.as_ref());
        let cuts = latest
            .groups
            .iter()
            .filter(|g| g.level == GroupLevel::JobLevel)
            .count();
        assert_eq!(rows.len(), cuts);
        assert!(!rows.is_empty(), "the demo asks job level");
        assert!(
            rows[0].total.is_none(),
            "the organisation's cuts come first"
        );
        for row in &rows {
            match row.n {
                Some(n) => {
                    assert!(n >= latest.k2, "{row:?}");
                    assert!(row.hidden_reason.is_none());
                }
                None => {
                    assert!(
                        row.means.is_empty() && row.hidden_reason.is_some(),
                        "{row:?}"
                    );
                }
            }
            assert_ne!(row.label_ja, row.job_level, "labelled from the definition");
        }
        assert!(rows.iter().any(|r| r.n.is_some()), "some cut is shown");
        // No cut names a team: only the organisation and top-level units are totals.
        let levels = latest.unit_levels();
        for row in rows.iter().filter_map(|r| r.total.as_deref()) {
            assert_eq!(levels.get(row), Some(&1), "{row} is a department");
        }
    }

    #[test]
    fn the_organisation_trend_has_every_dimension_across_the_waves() {
        let waves = demo_waves();
        let trends = organisation_trends(&waves);
        assert_eq!(trends.len(), waves[2].dimensions.len());
        for trend in &trends {
            assert_eq!(trend.points.len(), 3);
            assert!(trend.points.iter().all(|(_, mean)| mean.is_some()));
            assert_eq!(trend.points[0].0, waves[0].wave_name);
        }
        // A wave whose organisation is hidden breaks the line there.
        let mut hidden = waves.clone();
        for group in &mut hidden[1].groups {
            if group.level == GroupLevel::Organisation {
                group.suppressed = true;
                group.scores.clear();
            }
        }
        let trends = organisation_trends(&hidden);
        assert!(trends.iter().all(|t| t.points[1].1.is_none()));
        assert!(organisation_trends::<WaveResults>(&[]).is_empty());
    }
}
