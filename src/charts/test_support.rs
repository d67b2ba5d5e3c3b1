//! A hand-built wave for the chart tests, and helpers to read the SVG they draw.
//!
//! The organisation and four workplaces, one in each zone; 総務課 moved since the previous
//! wave; 小規模係 is suppressed; 福祉課 has one hidden anxiety cell; a job-level cut (a cut is
//! never charted here) has scores.

use std::collections::BTreeMap;

use plotters::style::RGBColor;

use crate::aggregation::{
    Change, DimensionMeta, DimensionScore, DimensionScores, GroupLevel, GroupResult, QuadrantAxis,
    QuadrantCut, WaveResults,
};

pub const LEARNING: &str = "W01";
pub const COMFORT: &str = "W02";
pub const ANXIETY: &str = "W03";
pub const APATHY: &str = "W04";
pub const SUPPRESSED: &str = "W05";
pub const SUPPRESSED_NAME: &str = "小規模係";
pub const CUT_NAME: &str = "管理職";

pub const ANXIETY_DIMENSIONS: [&str; 4] = [
    "anxiety_ignorant",
    "anxiety_incompetent",
    "anxiety_intrusive",
    "anxiety_negative",
];

fn dimension(id: &str, name_ja: &str, name_en: &str, axis: Option<QuadrantAxis>) -> DimensionMeta {
    DimensionMeta {
        id: id.to_string(),
        name_ja: name_ja.to_string(),
        name_en: name_en.to_string(),
        higher_is_better: !id.starts_with("anxiety_"),
        scale_min: 1,
        scale_max: 5,
        quadrant_axis: axis,
    }
}

pub fn score(mean: f64) -> DimensionScore {
    DimensionScore {
        n: 12,
        mean,
        sd: Some(0.6),
        ci95: Some((mean - 0.3, mean + 0.3)),
        favourable: None,
        display: (mean - 1.0) / 4.0 * 100.0,
        rwg: None,
        views_split: false,
        rwg_slight_skew: None,
        promoter_score: None,
        change: None,
        reliability: None,
    }
}

fn moved_from(mut current: DimensionScore, previous_mean: f64) -> DimensionScore {
    let delta = current.mean - previous_mean;
    current.change = Some(Change {
        previous_mean,
        delta,
        ci95: Some((delta - 0.2, delta + 0.2)),
        p: Some(0.01),
        q: Some(0.04),
        real: true,
    });
    current
}

/// Scores for the quadrant's axes and the four anxieties; `None` leaves a cell hidden.
fn scores(x: DimensionScore, y: DimensionScore, anxieties: [Option<f64>; 4]) -> DimensionScores {
    let mut scores: DimensionScores = [("psychological_safety", x), ("high_standards", y)]
        .into_iter()
        .collect();
    for (id, mean) in ANXIETY_DIMENSIONS.iter().zip(anxieties) {
        if let Some(mean) = mean {
            scores.insert(id.to_string(), score(mean));
        }
    }
    scores
}

fn group(
    workplace: Option<&str>,
    name: &str,
    level: GroupLevel,
    n: Option<u32>,
    scores: DimensionScores,
) -> GroupResult {
    GroupResult {
        workplace: workplace.map(str::to_string),
        name: name.to_string(),
        level,
        depth: match level {
            GroupLevel::Organisation => 0,
            _ => 1,
        },
        parent: None,
        job_level: (level == GroupLevel::JobLevel).then(|| "manager".to_string()),
        suppressed: scores.is_empty(),
        hidden_reason: None,
        hidden_scores: BTreeMap::new(),
        details_hidden: None,
        n,
        scores,
        zone: None,
        certainty: None,
        previous_zone: None,
        items: None,
        comments: None,
    }
}

pub fn wave() -> WaveResults {
    use GroupLevel::*;
    let groups = vec![
        group(
            None,
            "組織全体",
            Organisation,
            Some(120),
            scores(
                score(3.6),
                score(3.5),
                [Some(2.6), Some(2.4), Some(2.2), Some(2.5)],
            ),
        ),
        group(
            Some(LEARNING),
            "総務課",
            Workplace,
            Some(25),
            scores(
                moved_from(score(4.1), 3.4),
                moved_from(score(4.0), 3.6),
                [Some(2.0), Some(1.9), Some(2.1), Some(2.2)],
            ),
        ),
        group(
            Some(COMFORT),
            "市民課",
            Workplace,
            None,
            scores(
                score(4.0),
                score(3.0),
                [Some(2.3), Some(2.2), Some(2.0), Some(2.4)],
            ),
        ),
        group(
            Some(ANXIETY),
            "税務課",
            Workplace,
            None,
            scores(
                score(3.0),
                score(4.0),
                [Some(3.4), Some(3.5), Some(3.1), Some(3.3)],
            ),
        ),
        group(
            Some(APATHY),
            "福祉課",
            Workplace,
            None,
            scores(
                score(2.8),
                score(2.9),
                [Some(3.0), Some(3.2), Some(2.9), None],
            ),
        ),
        group(
            Some(SUPPRESSED),
            SUPPRESSED_NAME,
            Workplace,
            None,
            DimensionScores::new(),
        ),
        group(
            None,
            CUT_NAME,
            JobLevel,
            None,
            scores(
                score(3.9),
                score(3.8),
                [Some(2.0), Some(2.0), Some(2.0), Some(2.0)],
            ),
        ),
    ];
    WaveResults {
        wave: 2,
        wave_name: "2025年度".to_string(),
        wave_status: crate::wave_status::WaveStatus::Closed,
        survey: "workplace-climate".to_string(),
        survey_version: 1,
        k: 5,
        k2: 10,
        cut: QuadrantCut { x: 3.5, y: 3.5 },
        previous_wave: Some(1),
        dimensions: vec![
            dimension(
                "psychological_safety",
                "心理的安全性",
                "Psychological safety",
                Some(QuadrantAxis::X),
            ),
            dimension(
                "high_standards",
                "高い基準で仕事をする風土",
                "High-standards climate",
                Some(QuadrantAxis::Y),
            ),
            dimension(
                "anxiety_ignorant",
                "無知だと思われる不安",
                "Anxiety about seeming ignorant",
                None,
            ),
            dimension(
                "anxiety_incompetent",
                "無能だと思われる不安",
                "Anxiety about seeming incompetent",
                None,
            ),
            dimension(
                "anxiety_intrusive",
                "邪魔をしていると思われる不安",
                "Anxiety about seeming intrusive",
                None,
            ),
            dimension(
                "anxiety_negative",
                "ネガティブだと思われる不安",
                "Anxiety about seeming negative",
                None,
            ),
        ],
        groups,
        reliability: Vec::new(),
    }
}

/// The same wave without any comparison with a previous one.
pub fn first_wave() -> WaveResults {
    let mut results = wave();
    results.previous_wave = None;
    for group in &mut results.groups {
        for score in group.scores.values_mut() {
            score.change = None;
        }
    }
    results
}

/// The colour as the SVG backend writes it, e.g. `#4E79A7`.
pub fn hex(colour: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2)
}

pub fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg)
        .unwrap_or_else(|error| panic!("not well-formed: {error}\n{svg}"))
}

/// Number of `tag` elements whose `attribute` is `colour`.
pub fn count(
    document: &roxmltree::Document,
    tag: &str,
    attribute: &str,
    colour: RGBColor,
) -> usize {
    let wanted = hex(colour);
    document
        .descendants()
        .filter(|node| node.has_tag_name(tag) && node.attribute(attribute) == Some(wanted.as_str()))
        .count()
}

/// Every `<text>`, trimmed, in document order.
pub fn texts(document: &roxmltree::Document) -> Vec<String> {
    text_nodes(document)
        .map(|node| node.text().unwrap_or_default().trim().to_string())
        .collect()
}

pub fn text_nodes<'a, 'input>(
    document: &'a roxmltree::Document<'input>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'input>> {
    document
        .descendants()
        .filter(|node| node.has_tag_name("text"))
}

pub fn has_text(document: &roxmltree::Document, wanted: &str) -> bool {
    texts(document).iter().any(|text| text.contains(wanted))
}
