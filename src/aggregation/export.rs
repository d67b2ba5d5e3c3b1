//! Writing guarded results as CSV (for Excel) and JSON. Both read only [`WaveResults`], so
//! they can show nothing the guard has not allowed.

use std::io::Write;

use super::guard::HiddenReason;
use super::results::{Certainty, GroupLevel, WaveResults, Zone};
use crate::survey::JobLevelQuestion;

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

/// The sheet's fixed columns, before three per dimension ("… 平均", "… 前回差", "… 変化").
pub const SHEET_HEADER: &[&str] = &[
    "調査",
    "区分",
    "職場コード",
    "職場名",
    "上位の職場コード",
    "職層",
    "回答者数",
    "表示",
    "非表示の理由",
    "象限",
    "象限の確からしさ",
    "前回の象限",
];

/// The same guarded results in the shape an Excel user wants: **one row per group** (every
/// group, job-level cuts included, in the results' order), Japanese column headers, Japanese
/// zone names, and for each dimension its mean, its change since the previous wave and
/// whether that change is meaningful ("意味のある変化") or within noise ("誤差の範囲"). A hidden
/// group's row holds its names and why it is hidden, no figure. UTF-8 with a byte-order
/// mark; every text cell through [`crate::csv_safe::text_cell`].
pub fn write_sheet_csv(
    results: &WaveResults,
    job_levels: Option<&JobLevelQuestion>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    out.write_all(UTF8_BOM)?;
    let mut writer = csv::Writer::from_writer(out);
    let mut header: Vec<String> = SHEET_HEADER.iter().map(|h| h.to_string()).collect();
    for dimension in &results.dimensions {
        for suffix in ["平均", "前回差", "変化"] {
            header.push(text(&format!("{} {suffix}", dimension.name_ja)));
        }
    }
    writer.write_record(&header)?;
    for group in &results.groups {
        let job_level = group.job_level.as_deref().map(|id| {
            job_levels
                .and_then(|q| q.options.iter().find(|o| o.id == id))
                .map_or(id, |o| o.label.ja.as_str())
        });
        let certainty = group.certainty.and_then(|_| results.certainty_of(group));
        let mut row = vec![
            text(&results.wave_name),
            level_name_ja(group.level).to_string(),
            text(group.workplace.as_deref().unwrap_or_default()),
            text(&group.name),
            text(group.parent.as_deref().unwrap_or_default()),
            text(job_level.unwrap_or_default()),
            opt(group.n.filter(|_| !group.suppressed)),
            if group.suppressed {
                "非表示"
            } else {
                "表示"
            }
            .to_string(),
            group
                .hidden_reason
                .filter(|_| group.suppressed)
                .map(reason_ja)
                .unwrap_or_default()
                .to_string(),
            group.zone.map(zone_ja).unwrap_or_default().to_string(),
            certainty
                .map(|c| match c.zone() {
                    Certainty::Certain => "確実",
                    Certainty::Borderline => "境界付近",
                })
                .unwrap_or_default()
                .to_string(),
            group
                .previous_zone
                .map(zone_ja)
                .unwrap_or_default()
                .to_string(),
        ];
        for dimension in &results.dimensions {
            let score = group
                .scores
                .get(&dimension.id)
                .filter(|_| !group.suppressed);
            let change = score.and_then(|s| s.change);
            row.extend([
                fixed(score.map(|s| s.mean)),
                fixed(change.map(|c| c.delta)),
                change
                    .map(|c| {
                        if c.real {
                            "意味のある変化"
                        } else {
                            "誤差の範囲"
                        }
                    })
                    .unwrap_or_default()
                    .to_string(),
            ]);
        }
        writer.write_record(&row)?;
    }
    writer.flush()
}

fn level_name_ja(level: GroupLevel) -> &'static str {
    match level {
        GroupLevel::Organisation => "組織全体",
        GroupLevel::Workplace => "職場",
        GroupLevel::ReportingUnit => "集計単位",
        GroupLevel::JobLevel => "職層別",
    }
}

/// The zone as the policy names it (第4章).
pub fn zone_ja(zone: Zone) -> &'static str {
    match zone {
        Zone::Learning => "学習",
        Zone::Comfort => "快適",
        Zone::Anxiety => "不安",
        Zone::Apathy => "無気力",
    }
}

fn reason_ja(reason: HiddenReason) -> &'static str {
    match reason {
        HiddenReason::TooFewResponses => "回答者が少ないため",
        HiddenReason::ProtectsSmallerGroup => "小さな隣の集団を守るため",
        HiddenReason::TotalHidden => "部・組織全体が非表示のため",
        HiddenReason::TooFewOrProtectsSmallerGroup => {
            "回答者が少ないため、または小さな隣の集団を守るため"
        }
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::survey::SurveyDefinition;

    fn definition() -> Arc<SurveyDefinition> {
        let text = include_str!("../../survey-definitions/workplace-climate.toml");
        Arc::new(SurveyDefinition::parse(text, "workplace-climate.toml").expect("shipped"))
    }

    /// The demo city's second wave, compared with its first.
    fn demo() -> WaveResults {
        let mut waves = crate::demo::sample_results(2, 5);
        waves.pop().expect("two waves")
    }

    fn sheet(results: &WaveResults) -> (Vec<u8>, Vec<csv::StringRecord>) {
        let mut bytes = Vec::new();
        write_sheet_csv(results, definition().job_level.as_ref(), &mut bytes).expect("written");
        let records = csv::Reader::from_reader(&bytes[UTF8_BOM.len()..])
            .records()
            .collect::<Result<Vec<_>, _>>()
            .expect("valid CSV");
        (bytes, records)
    }

    #[test]
    fn the_sheet_has_japanese_headers_and_one_row_per_group() {
        let mut results = demo();
        results.wave_name = "=2026年度".to_string();
        let (bytes, rows) = sheet(&results);
        assert!(bytes.starts_with(UTF8_BOM), "Excel needs the BOM");
        let mut reader = csv::Reader::from_reader(&bytes[UTF8_BOM.len()..]);
        let header: Vec<String> = reader
            .headers()
            .expect("a header")
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(&header[..SHEET_HEADER.len()], SHEET_HEADER);
        let first = &results.dimensions[0].name_ja;
        assert_eq!(header[SHEET_HEADER.len()], format!("{first} 平均"));
        assert_eq!(header[SHEET_HEADER.len() + 2], format!("{first} 変化"));
        assert_eq!(
            header.len(),
            SHEET_HEADER.len() + 3 * results.dimensions.len()
        );
        assert_eq!(rows.len(), results.groups.len(), "one row per group");

        let organisation = &rows[0];
        assert_eq!(
            &organisation[0], "'=2026年度",
            "formula injection is defused"
        );
        assert_eq!(&organisation[1], "組織全体");
        assert_eq!(&organisation[7], "表示");
        assert!(["学習", "快適", "不安", "無気力"].contains(&&organisation[9]));
        let mean: f64 = organisation[SHEET_HEADER.len()].parse().expect("a mean");
        assert!((1.0..=5.0).contains(&mean));
        assert!(["意味のある変化", "誤差の範囲"].contains(&&organisation[SHEET_HEADER.len() + 2]));

        // 契約係 (4 people) is hidden for too few answers: names and reason, no figure.
        let hidden = rows
            .iter()
            .find(|r| &r[3] == "契約係")
            .expect("the small team has its row");
        assert_eq!((&hidden[6], &hidden[7]), ("", "非表示"));
        assert_eq!(&hidden[8], "回答者が少ないため");
        assert!(hidden.iter().skip(SHEET_HEADER.len()).all(str::is_empty));
        // Job-level rows carry the level's Japanese label.
        assert!(rows.iter().any(|r| &r[1] == "職層別" && !r[5].is_empty()));
    }
}
