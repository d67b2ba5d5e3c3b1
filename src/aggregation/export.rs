//! Writing guarded results as CSV (for Excel) and JSON. Both read only [`WaveResults`], so
//! they can show nothing the guard has not allowed.

use std::io::Write;

use super::results::{Certainty, GroupLevel, WaveResults};

/// Excel in Japanese opens UTF-8 CSV correctly only with a byte-order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The CSV's columns, documented in docs/methodology.md.
pub const CSV_HEADER: &[&str] = &[
    "wave",
    "wave_name",
    "group_level",
    "workplace",
    "workplace_name",
    "parent",
    "job_level",
    "suppressed",
    "n",
    "dimension",
    "dimension_name",
    "dimension_n",
    "mean",
    "sd",
    "ci95_low",
    "ci95_high",
    "favourable",
    "score_0_100",
    "rwg",
    "views_split",
    "promoter_score",
    "change",
    "change_ci95_low",
    "change_ci95_high",
    "change_q",
    "real_change",
    "zone",
    "x_certainty",
    "y_certainty",
    "previous_zone",
];

/// One row per group × dimension; a suppressed group gets one row with nothing but its name.
pub fn write_csv(results: &WaveResults, out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(UTF8_BOM)?;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for group in &results.groups {
        // Text from people (names, codes, the wave's name) through `text_cell`; numbers and
        // our own keywords as they are (see `csv_safe`).
        let base = [
            results.wave.to_string(),
            text(&results.wave_name),
            level_name(group.level).to_string(),
            text(group.workplace.as_deref().unwrap_or_default()),
            text(&group.name),
            text(group.parent.as_deref().unwrap_or_default()),
            text(group.job_level.as_deref().unwrap_or_default()),
            group.suppressed.to_string(),
            opt(group.n),
        ];
        // The current rule, recomputed from the published scores, so that results frozen by
        // an older version agree with the chart's interval too.
        let certainty = group.certainty.and_then(|_| results.certainty_of(group));
        let zone = [
            group
                .zone
                .map(|z| z.as_str().to_string())
                .unwrap_or_default(),
            certainty
                .map(|c| certainty_name(c.x).to_string())
                .unwrap_or_default(),
            certainty
                .map(|c| certainty_name(c.y).to_string())
                .unwrap_or_default(),
            group
                .previous_zone
                .map(|z| z.as_str().to_string())
                .unwrap_or_default(),
        ];
        if group.scores.is_empty() {
            let mut row: Vec<String> = base.to_vec();
            row.resize(CSV_HEADER.len() - zone.len(), String::new());
            row.extend(zone);
            writer.write_record(&row)?;
            continue;
        }
        for dimension in &results.dimensions {
            let Some(score) = group.scores.get(&dimension.id) else {
                continue;
            };
            let mut row: Vec<String> = base.to_vec();
            let change = score.change;
            row.extend([
                text(&dimension.id),
                text(&dimension.name_ja),
                score.n.to_string(),
                fixed(Some(score.mean)),
                fixed(score.sd),
                fixed(score.ci95.map(|c| c.0)),
                fixed(score.ci95.map(|c| c.1)),
                fixed(score.favourable),
                format!("{:.1}", score.display),
                fixed(score.rwg),
                score.views_split.to_string(),
                score
                    .promoter_score
                    .map(|p| format!("{p:.1}"))
                    .unwrap_or_default(),
                fixed(change.map(|c| c.delta)),
                fixed(change.and_then(|c| c.ci95).map(|c| c.0)),
                fixed(change.and_then(|c| c.ci95).map(|c| c.1)),
                fixed(change.and_then(|c| c.q)),
                change.map(|c| c.real.to_string()).unwrap_or_default(),
            ]);
            row.extend(zone.iter().cloned());
            writer.write_record(&row)?;
        }
    }
    writer.flush()
}

/// The JSON document of `GET /api/waves/{id}/results` and `anshin results --format json`:
/// the guarded results as they are (suppressed groups carry no figures).
pub fn to_json(results: &WaveResults) -> serde_json::Result<String> {
    serde_json::to_string_pretty(results)
}

fn level_name(level: GroupLevel) -> &'static str {
    match level {
        GroupLevel::Organisation => "organisation",
        GroupLevel::Workplace => "workplace",
        GroupLevel::ReportingUnit => "reporting_unit",
        GroupLevel::JobLevel => "job_level",
    }
}

fn certainty_name(certainty: Certainty) -> &'static str {
    match certainty {
        Certainty::Certain => "certain",
        Certainty::Borderline => "borderline",
    }
}

fn text(cell: &str) -> String {
    crate::csv_safe::text_cell(cell).into_owned()
}

fn opt(value: Option<u32>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn fixed(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.3}")).unwrap_or_default()
}
