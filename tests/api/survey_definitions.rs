//! The survey-definition loader: the default instrument is valid, and every class of error is
//! reported with the file and the part at fault.

use std::path::Path;

use anshin::survey::{SurveyDefinition, Threshold};

use crate::helpers::{anshin, stderr, stdout};

fn default_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions/workplace-climate.toml"),
    )
    .expect("default instrument")
}

/// Version 1 of the default instrument, kept for waves opened with it; the loader's error
/// tests below break its items.
fn version_1_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("survey-definitions/archive/workplace-climate.v1.toml"),
    )
    .expect("version 1")
}

/// Parses version 1 of the default instrument with one textual change applied.
fn broken(from: &str, to: &str) -> String {
    let text = version_1_text();
    assert!(text.contains(from), "fixture anchor {from:?} not found");
    let changed = text.replacen(from, to, 1);
    SurveyDefinition::parse(&changed, "broken.toml")
        .expect_err("the change must be rejected")
        .to_string()
}

#[test]
fn the_default_instrument_meets_the_policy_requirements() {
    let definition =
        SurveyDefinition::parse(&default_text(), "workplace-climate.toml").expect("valid");
    let count = |dimension: &str| {
        definition
            .items
            .iter()
            .filter(|i| definition.dimension_of(i).id == dimension)
            .count()
    };
    assert!(count("engagement") >= 5);
    assert!(count("psychological_safety") >= 5);
    assert!(count("high_standards") >= 4);
    for anxiety in [
        "anxiety_ignorant",
        "anxiety_incompetent",
        "anxiety_intrusive",
        "anxiety_negative",
    ] {
        assert!(count(anxiety) >= 2, "{anxiety}");
    }
    assert!(count("sharing") >= 3);
    assert!(count("support") >= 3);
    assert_eq!(count("recommend"), 1);
    let reversed_ps = definition
        .items
        .iter()
        .filter(|i| definition.dimension_of(i).id == "psychological_safety" && i.reverse)
        .count();
    assert!(
        reversed_ps >= 1,
        "some psychological-safety items are reverse-coded"
    );
    let behaviours: std::collections::HashSet<_> = definition
        .items
        .iter()
        .filter_map(|i| i.behaviour)
        .collect();
    assert_eq!(
        behaviours.len(),
        4,
        "all four avoided behaviours are covered"
    );
    let job_level = definition.job_level.as_ref().expect("job level question");
    let labels: Vec<&str> = job_level
        .options
        .iter()
        .map(|o| o.label.ja.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "管理職",
            "課長補佐職",
            "主査職",
            "主任職",
            "主事職",
            "答えたくない"
        ]
    );
    assert!(definition.comment.is_some());
    assert_eq!(
        definition.dimensions[definition.quadrant.x].id,
        "psychological_safety"
    );
    assert_eq!(
        definition.dimensions[definition.quadrant.y].id,
        "high_standards"
    );
    assert_eq!(definition.quadrant.threshold, Threshold::Fixed(3.5));
}

#[test]
fn syntax_errors_give_line_and_column() {
    let message = broken("version = 1", "version = = 1");
    assert!(
        message.starts_with("broken.toml: line 14, column"),
        "{message}"
    );
}

#[test]
fn unknown_keys_are_rejected() {
    let message = broken("id = \"ps1\"\n", "id = \"ps1\"\nweight = 2\n");
    assert!(message.contains("weight"), "{message}");
}

#[test]
fn duplicate_item_ids_name_the_item() {
    let message = broken("id = \"ps2\"", "id = \"ps1\"");
    assert_eq!(message, "broken.toml: item ps1: duplicate item id \"ps1\"");
}

#[test]
fn unknown_dimensions_name_the_item() {
    let message = broken(
        "id = \"ps3\"\ndimension = \"psychological_safety\"",
        "id = \"ps3\"\ndimension = \"psycho_safety\"",
    );
    assert_eq!(
        message,
        "broken.toml: item ps3: unknown dimension \"psycho_safety\""
    );
}

#[test]
fn missing_or_empty_translations_are_rejected() {
    let message = broken(
        "en = \"In this workplace, I can say frankly what I think and feel.\"",
        "en = \"\"",
    );
    assert_eq!(
        message,
        "broken.toml: item ps1: text: the en translation is empty"
    );
    let message = broken(
        ", en = \"In this workplace, I can say frankly what I think and feel.\"",
        "",
    );
    assert!(message.contains("missing field `en`"), "{message}");
}

#[test]
fn bad_scales_are_rejected() {
    let message = broken("min = 1\nmax = 5", "min = 5\nmax = 1");
    assert!(
        message.starts_with("broken.toml: scale agree5: min and max"),
        "{message}"
    );
    let message = broken(
        "  { ja = \"どちらともいえない\", en = \"Neither agree nor disagree\" },\n",
        "",
    );
    assert!(
        message.contains("scale agree5: expected 5 labels"),
        "{message}"
    );
}

#[test]
fn quadrant_axes_must_name_dimensions_on_one_scale() {
    let message = broken("x = \"psychological_safety\"", "x = \"safety\"");
    assert_eq!(
        message,
        "broken.toml: quadrant x: unknown dimension \"safety\""
    );
    let message = broken("y = \"high_standards\"", "y = \"recommend\"");
    assert!(message.contains("same scale"), "{message}");
    let message = broken("value = 3.5", "value = 7");
    assert!(message.contains("quadrant threshold"), "{message}");
}

#[test]
fn unknown_behaviours_and_bad_job_levels_are_rejected() {
    let message = broken("behaviour = \"not_consulting\"", "behaviour = \"silence\"");
    assert!(
        message.contains("unknown behaviour \"silence\""),
        "{message}"
    );
    let message = broken("en = \"Staff\" }", "en = \"Staff\", undisclosed = true }");
    assert!(
        message.contains("job_level: exactly one option"),
        "{message}"
    );
}

#[test]
fn a_reverse_coded_item_cannot_name_a_behaviour() {
    // Reports read agreeing with a tagged item as holding back.
    let message = broken(
        "behaviour = \"not_consulting\"",
        "reverse = true\nbehaviour = \"not_consulting\"",
    );
    assert_eq!(
        message,
        "broken.toml: item ign1: a reverse-coded item cannot name a behaviour: agreeing with it does not mean holding back"
    );
}

#[test]
fn version_2_of_the_default_instrument_answers_the_psychometric_review() {
    let v2 = SurveyDefinition::parse(&default_text(), "workplace-climate.toml").expect("valid");
    let v1 = SurveyDefinition::parse(&version_1_text(), "workplace-climate.v1.toml").expect("v1");
    assert_eq!((v1.id.as_str(), v1.version), ("workplace-climate", 1));
    assert_eq!((v2.id.as_str(), v2.version), ("workplace-climate", 2));
    // Same dimensions, so trends continue across the change; about the same length (10 min).
    let ids = |d: &SurveyDefinition| {
        d.dimensions
            .iter()
            .map(|x| x.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&v1), ids(&v2));
    assert!(
        v2.items.len().abs_diff(v1.items.len()) <= 2,
        "{}",
        v2.items.len()
    );
    let in_dimension = |prefix: &str| -> Vec<&anshin::survey::Item> {
        v2.items
            .iter()
            .filter(|i| v2.dimension_of(i).id.starts_with(prefix))
            .collect()
    };
    // Psychological safety speaks of the team's climate, not of the respondent.
    for item in in_dimension("psychological_safety") {
        assert!(item.text.ja.starts_with("この職場"), "{}", item.id);
        assert!(!item.text.ja.contains("自分"), "{}", item.id);
    }
    // Agreement stems on the agreement scale: no 「〜ことがある」 frequencies.
    for item in v2.items.iter().filter(|i| v2.scale_of(i).id == "agree5") {
        assert!(!item.text.ja.contains("ことがある"), "{}", item.id);
    }
    // The anxieties: about how one would be seen, a few reverse-keyed, those untagged.
    let anxieties = in_dimension("anxiety_");
    assert_eq!(anxieties.len(), 12);
    let reversed: Vec<_> = anxieties.iter().filter(|i| i.reverse).collect();
    assert!((2..=4).contains(&reversed.len()), "{}", reversed.len());
    assert!(v2
        .items
        .iter()
        .all(|i| !(i.reverse && i.behaviour.is_some())));
    for item in anxieties.iter().filter(|i| !i.reverse) {
        assert!(
            item.text.ja.ends_with("思われそうだ。")
                || item.text.ja.ends_with("受け取られそうだ。"),
            "{}",
            item.id
        );
    }
}

#[test]
fn survey_check_accepts_the_shipped_definitions_and_names_the_broken_item() {
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions/workplace-climate.toml");
    let output = anshin(
        &["survey", "check", shipped.to_str().expect("utf-8 path")],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("ok"));

    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("broken.toml");
    std::fs::write(
        &copy,
        default_text().replacen("scale = \"agree5\"", "scale = \"agree7\"", 1),
    )
    .expect("write");
    let output = anshin(
        &["survey", "check", copy.to_str().expect("utf-8 path")],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("broken.toml: item eng1: unknown scale \"agree7\""),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
}
