//! Parsing a submitted survey form into a response ("parse, don't validate"): the result is
//! either a complete [`ResponseDraft`] or every problem, keyed by the field it belongs to, so
//! the form can be shown again with the answers kept and each error beside its item.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::survey::SurveyDefinition;

/// The value a "prefer not to answer" choice submits.
pub const NO_ANSWER_VALUE: &str = "na";
pub const JOB_LEVEL_FIELD: &str = "job_level";
pub const COMMENT_FIELD: &str = "comment";

/// A valid response, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseDraft {
    /// One entry per item in definition order; `None` = not answered.
    pub answers: Vec<Option<u8>>,
    /// The chosen job-level option id; `None` when not given or "prefer not to say".
    pub job_level: Option<String>,
    pub comment: Option<String>,
}

/// What is wrong with one field. The web layer turns each into a sentence in the user's
/// language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    Missing,
    OutOfRange,
    Duplicate,
    TooLong,
    InvalidText,
    UnknownOption,
}

impl FieldProblem {
    /// The message key used by the templates.
    pub fn key(self) -> &'static str {
        match self {
            FieldProblem::Missing => "error_missing",
            FieldProblem::OutOfRange => "error_out_of_range",
            FieldProblem::Duplicate => "error_duplicate",
            FieldProblem::TooLong => "error_too_long",
            FieldProblem::InvalidText => "error_invalid_text",
            FieldProblem::UnknownOption => "error_unknown_option",
        }
    }
}

/// Why a form was rejected, with what the person had entered so it can be shown again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormRejection {
    /// Field name → problem, for fields the definition knows.
    pub problems: BTreeMap<String, FieldProblem>,
    /// Field names the definition does not know (a tampered or outdated form).
    pub unknown_fields: Vec<String>,
    /// Field name → submitted value (first occurrence), for re-display.
    pub entered: HashMap<String, String>,
}

/// One decoded `name=value` pair: borrowed from the body where nothing needed decoding.
pub type Field<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Decodes an urlencoded body strictly: a name or value that is not valid UTF-8 once
/// percent-decoded rejects the whole form (a lossy decoder would store replacement
/// characters instead of what the person typed).
pub fn decode(body: &[u8]) -> Option<Vec<Field<'_>>> {
    fn decode(part: &[u8]) -> Option<Cow<'_, str>> {
        // Most names and answers are plain ASCII: borrowed, no copy, no decoding pass.
        if !part.iter().any(|&b| b == b'+' || b == b'%') {
            return std::str::from_utf8(part).ok().map(Cow::Borrowed);
        }
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
        String::from_utf8(bytes).ok().map(Cow::Owned)
    }
    // Sized once: a survey form has dozens of fields, and growing the list step by step
    // copied it five times.
    let mut fields = Vec::with_capacity(body.iter().filter(|&&b| b == b'&').count() + 1);
    for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        let mut halves = pair.splitn(2, |&b| b == b'=');
        let name = decode(halves.next().unwrap_or_default())?;
        let value = decode(halves.next().unwrap_or_default())?;
        fields.push((name, value));
    }
    Some(fields)
}

/// The index of the item named `name`: `hint` first (forms send their items in order), then
/// every item.
fn item_index(definition: &SurveyDefinition, name: &str, hint: usize) -> Option<usize> {
    match definition.items.get(hint) {
        Some(item) if item.id == name => Some(hint),
        _ => definition.items.iter().position(|item| item.id == name),
    }
}

/// Parses decoded form pairs. `control_fields` (such as the code or the language switch) are
/// the web layer's and are skipped here.
pub fn parse<N: AsRef<str>, V: AsRef<str>>(
    definition: &SurveyDefinition,
    pairs: &[(N, V)],
    control_fields: &[&str],
) -> Result<ResponseDraft, FormRejection> {
    let mut rejection = FormRejection::default();
    // The first value of every field the definition knows, by the item's position (no map:
    // hashing every name cost more than the rest of the parse).
    let mut item_values: Vec<Option<&str>> = vec![None; definition.items.len()];
    let mut job_level_value: Option<&str> = None;
    let mut comment_value: Option<&str> = None;
    let mut hint = 0;
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), value.as_ref());
        if control_fields.contains(&name) {
            continue;
        }
        let item = item_index(definition, name, hint);
        let is_job_level = name == JOB_LEVEL_FIELD && definition.job_level.is_some();
        let is_comment = name == COMMENT_FIELD && definition.comment.is_some();
        let seen = if let Some(index) = item {
            hint = index + 1;
            item_values[index].is_some()
        } else if is_job_level {
            job_level_value.is_some()
        } else if is_comment {
            comment_value.is_some()
        } else {
            // A tampered or outdated form: the names in the order they came.
            if !rejection.unknown_fields.iter().any(|n| n == name) {
                rejection.unknown_fields.push(name.to_string());
            }
            continue;
        };
        if seen {
            rejection
                .problems
                .insert(name.to_string(), FieldProblem::Duplicate);
            continue;
        }
        if let Some(index) = item {
            item_values[index] = Some(value);
        }
        if is_job_level {
            job_level_value = Some(value);
        }
        if is_comment {
            comment_value = Some(value);
        }
    }

    let mut answers = Vec::with_capacity(definition.items.len());
    for (item, value) in definition.items.iter().zip(&item_values) {
        let scale = definition.scale_of(item);
        let value = value.map(|v| v.trim()).filter(|v| !v.is_empty());
        let answer = match value {
            None => {
                if item.required {
                    rejection
                        .problems
                        .entry(item.id.clone())
                        .or_insert(FieldProblem::Missing);
                }
                None
            }
            Some(NO_ANSWER_VALUE) if scale.allow_no_answer => None,
            Some(text) => match text.parse::<u8>() {
                Ok(v) if scale.contains(v) => Some(v),
                _ => {
                    rejection
                        .problems
                        .entry(item.id.clone())
                        .or_insert(FieldProblem::OutOfRange);
                    None
                }
            },
        };
        answers.push(answer);
    }

    let mut job_level = None;
    if let Some(question) = &definition.job_level {
        match job_level_value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None if question.required => {
                rejection
                    .problems
                    .entry(JOB_LEVEL_FIELD.into())
                    .or_insert(FieldProblem::Missing);
            }
            None => {}
            Some(chosen) => match question.options.iter().find(|o| o.id == chosen) {
                Some(option) if !option.undisclosed => job_level = Some(option.id.clone()),
                Some(_) => {}
                None => {
                    rejection
                        .problems
                        .entry(JOB_LEVEL_FIELD.into())
                        .or_insert(FieldProblem::UnknownOption);
                }
            },
        }
    }

    let mut comment = None;
    if let Some(question) = &definition.comment {
        if let Some(text) = comment_value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
            if text.chars().count() > question.max_chars {
                rejection
                    .problems
                    .entry(COMMENT_FIELD.into())
                    .or_insert(FieldProblem::TooLong);
            } else if text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                rejection
                    .problems
                    .entry(COMMENT_FIELD.into())
                    .or_insert(FieldProblem::InvalidText);
            } else {
                comment = Some(text.replace("\r\n", "\n"));
            }
        }
    }

    if rejection.problems.is_empty() && rejection.unknown_fields.is_empty() {
        Ok(ResponseDraft {
            answers,
            job_level,
            comment,
        })
    } else {
        // Copied only for a form shown again, not for every stored one.
        let items = definition.items.iter().zip(&item_values);
        rejection.entered = items
            .map(|(item, value)| (item.id.as_str(), *value))
            .chain([
                (JOB_LEVEL_FIELD, job_level_value),
                (COMMENT_FIELD, comment_value),
            ])
            .filter_map(|(name, value)| Some((name.to_string(), value?.to_string())))
            .collect();
        Err(rejection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFINITION: &str = r#"
id = "mini"
version = 1
title = { ja = "テスト", en = "Test" }
[[scales]]
id = "agree5"
min = 1
max = 5
allow_no_answer = true
labels = [{ ja = "いいえ", en = "No" }, { ja = "はい", en = "Yes" }]
[[dimensions]]
id = "ps"
name = { ja = "心理的安全性", en = "Psychological safety" }
description = { ja = "説明", en = "Description" }
[[dimensions]]
id = "hs"
name = { ja = "高い基準", en = "High standards" }
description = { ja = "説明", en = "Description" }
[[items]]
id = "ps1"
dimension = "ps"
scale = "agree5"
text = { ja = "質問1", en = "Question 1" }
[[items]]
id = "hs1"
dimension = "hs"
scale = "agree5"
required = false
text = { ja = "質問2", en = "Question 2" }
[job_level]
question = { ja = "職層", en = "Job level" }
options = [{ id = "staff", ja = "主事職", en = "Staff" }, { id = "undisclosed", ja = "答えたくない", en = "Prefer not to say", undisclosed = true }]
[comment]
question = { ja = "自由記述", en = "Comment" }
max_chars = 10
[quadrant]
x = "ps"
y = "hs"
threshold = { rule = "fixed", value = 3.5 }
"#;

    fn definition() -> SurveyDefinition {
        SurveyDefinition::parse(DEFINITION, "mini.toml").expect("valid fixture")
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn decoding_is_strict_about_utf8() {
        assert_eq!(
            decode(b"ps1=4&comment=%E3%81%82+b"),
            Some(vec![
                ("ps1".into(), "4".into()),
                ("comment".into(), "あ b".into())
            ])
        );
        assert_eq!(decode(b"comment=%FF"), None);
        assert_eq!(decode(b"comment=\xff"), None);
        assert_eq!(decode(b""), Some(vec![]));
    }

    #[test]
    fn a_complete_form_becomes_a_draft() {
        let draft = parse(
            &definition(),
            &pairs(&[
                ("code", "X"),
                ("ps1", "4"),
                ("hs1", "na"),
                ("job_level", "staff"),
                ("comment", " ok "),
            ]),
            &["code"],
        )
        .expect("valid");
        assert_eq!(draft.answers, vec![Some(4), None]);
        assert_eq!(draft.job_level.as_deref(), Some("staff"));
        assert_eq!(draft.comment.as_deref(), Some("ok"));
    }

    #[test]
    fn undisclosed_job_level_and_empty_optional_fields_store_nothing() {
        let draft = parse(
            &definition(),
            &pairs(&[
                ("ps1", "1"),
                ("job_level", "undisclosed"),
                ("comment", "  "),
            ]),
            &[],
        )
        .expect("valid");
        assert_eq!(draft.job_level, None);
        assert_eq!(draft.comment, None);
    }

    #[test]
    fn every_problem_is_reported_beside_its_field_with_the_answers_kept() {
        let rejection = parse(
            &definition(),
            &pairs(&[
                ("hs1", "6"),
                ("job_level", "boss"),
                ("comment", "12345678901"),
                ("extra", "1"),
            ]),
            &[],
        )
        .expect_err("invalid");
        assert_eq!(rejection.problems.get("ps1"), Some(&FieldProblem::Missing));
        assert_eq!(
            rejection.problems.get("hs1"),
            Some(&FieldProblem::OutOfRange)
        );
        assert_eq!(
            rejection.problems.get("job_level"),
            Some(&FieldProblem::UnknownOption)
        );
        assert_eq!(
            rejection.problems.get("comment"),
            Some(&FieldProblem::TooLong)
        );
        assert_eq!(rejection.unknown_fields, vec!["extra".to_string()]);
        assert_eq!(rejection.entered.get("hs1").map(String::as_str), Some("6"));
    }

    #[test]
    fn duplicates_non_numbers_and_control_characters_are_rejected() {
        let rejection = parse(
            &definition(),
            &pairs(&[
                ("ps1", "4"),
                ("ps1", "5"),
                ("hs1", "four"),
                ("comment", "a\u{0}b"),
            ]),
            &[],
        )
        .expect_err("invalid");
        assert_eq!(
            rejection.problems.get("ps1"),
            Some(&FieldProblem::Duplicate)
        );
        assert_eq!(
            rejection.problems.get("hs1"),
            Some(&FieldProblem::OutOfRange)
        );
        assert_eq!(
            rejection.problems.get("comment"),
            Some(&FieldProblem::InvalidText)
        );
    }

    #[test]
    fn no_answer_is_refused_where_the_scale_does_not_offer_it() {
        let text = DEFINITION.replace("allow_no_answer = true", "allow_no_answer = false");
        let definition = SurveyDefinition::parse(&text, "mini.toml").expect("valid fixture");
        let rejection = parse(&definition, &pairs(&[("ps1", "na")]), &[]).expect_err("invalid");
        assert_eq!(
            rejection.problems.get("ps1"),
            Some(&FieldProblem::OutOfRange)
        );
    }
}
