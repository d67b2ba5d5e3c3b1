//! What a dashboard user reads when the domain refuses a form: a message from the catalogue
//! in their language with the refused values filled in, or, for the rare technical refusal
//! without a message (a broken definition file, say), the domain's own English sentence.

use crate::accounts::{AccountError, MIN_PASSWORD_CHARS};
use crate::codes::{IssueError, MAX_CODES_PER_BATCH};
use crate::i18n::Lang;
use crate::org::UnitError;
use crate::waves::WaveError;

use super::pages::Pages;

#[derive(Debug)]
pub struct Refusal {
    /// Catalogue key of the message, whose `{name}`s are filled from `values`.
    key: Option<&'static str>,
    values: Vec<(&'static str, String)>,
    /// The domain's own (English) sentence: what is shown where no message exists.
    domain: String,
}

impl Refusal {
    fn new(
        key: &'static str,
        values: Vec<(&'static str, String)>,
        error: &dyn std::fmt::Display,
    ) -> Self {
        Refusal {
            key: Some(key),
            values,
            domain: error.to_string(),
        }
    }

    fn untranslated(error: &dyn std::fmt::Display) -> Self {
        Refusal {
            key: None,
            values: Vec::new(),
            domain: error.to_string(),
        }
    }

    pub fn text(&self, pages: &Pages, lang: Lang) -> String {
        match self.key {
            Some(key) => self.values.iter().fold(
                pages.message(lang, key).to_string(),
                |text, (name, value)| text.replace(&format!("{{{name}}}"), value),
            ),
            None => self.domain.clone(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.domain)
    }
}

pub fn account(error: &AccountError) -> Refusal {
    let (key, values) = match error {
        AccountError::BadLogin => ("refusal_bad_login", vec![]),
        AccountError::WeakPassword => (
            "refusal_weak_password",
            vec![("n", MIN_PASSWORD_CHARS.to_string())],
        ),
        AccountError::ManagerWithoutWorkplace => ("refusal_manager_without_workplace", vec![]),
        AccountError::HrWithWorkplace => ("refusal_hr_with_workplace", vec![]),
        AccountError::UnknownWorkplace(code) => {
            ("refusal_unknown_workplace", vec![("code", code.clone())])
        }
        AccountError::LoginTaken(login) => ("refusal_login_taken", vec![("login", login.clone())]),
        AccountError::UnknownLogin(login) => {
            ("refusal_unknown_login", vec![("login", login.clone())])
        }
        AccountError::Disabled(login) => ("refusal_disabled", vec![("login", login.clone())]),
        AccountError::LastHr(login) => ("refusal_last_hr", vec![("login", login.clone())]),
        AccountError::WrongPassword => ("password_wrong", vec![]),
        AccountError::Hash(_) | AccountError::Database(_) => return Refusal::untranslated(error),
    };
    Refusal::new(key, values, error)
}

pub fn wave(error: &WaveError) -> Refusal {
    let (key, values) = match error {
        WaveError::EmptyName => ("refusal_empty_wave_name", vec![]),
        WaveError::BadName => (
            "refusal_bad_wave_name",
            vec![("max", crate::waves::MAX_WAVE_NAME_CHARS.to_string())],
        ),
        // The refused text itself is not repeated: it may be anything.
        WaveError::BadSurveyId(_) => ("refusal_bad_survey_id", vec![]),
        // Which field of which file is wrong is for the command line (`survey check`).
        WaveError::Definition(_) => ("refusal_broken_definition", vec![]),
        WaveError::UnknownSurvey { id, .. } => {
            ("refusal_unknown_survey", vec![("survey", id.clone())])
        }
        WaveError::NotFound(wave) => ("refusal_unknown_wave", vec![("wave", wave.to_string())]),
        WaveError::BaselineRequired { survey } => (
            "refusal_baseline_required",
            vec![("survey", survey.clone())],
        ),
        WaveError::BaselineNotApplicable { survey } => (
            "refusal_baseline_not_applicable",
            vec![("survey", survey.clone())],
        ),
        WaveError::Baseline { wave, reason } => (
            "refusal_baseline",
            vec![("wave", wave.to_string()), ("reason", reason.clone())],
        ),
        WaveError::ReportingUnit(UnitError::TooSmall { code, headcount, k }) => (
            "refusal_unit_too_small",
            vec![
                ("unit", code.clone()),
                ("headcount", headcount.to_string()),
                ("k", k.to_string()),
            ],
        ),
        WaveError::ReportingUnit(UnitError::UnknownHeadcount { code, member }) => (
            "refusal_unit_headcount_unknown",
            vec![("unit", code.clone()), ("member", member.clone())],
        ),
        _ => return Refusal::untranslated(error),
    };
    Refusal::new(key, values, error)
}

pub fn codes(error: &IssueError) -> Refusal {
    let (key, values) = match error {
        IssueError::UnknownWorkplace(code) => {
            ("refusal_unknown_workplace", vec![("code", code.clone())])
        }
        IssueError::BadCount => (
            "refusal_bad_count",
            vec![("max", MAX_CODES_PER_BATCH.to_string())],
        ),
        IssueError::UnknownWave(wave) => ("refusal_unknown_wave", vec![("wave", wave.to_string())]),
        _ => return Refusal::untranslated(error),
    };
    Refusal::new(key, values, error)
}

/// More codes than one dashboard request may issue.
pub fn dashboard_batch(max: usize) -> Refusal {
    Refusal::new(
        "refusal_dashboard_batch",
        vec![("max", max.to_string())],
        &format!("at most {max} codes per request on the dashboard; use `anshin codes issue`"),
    )
}

/// A wave whose organisation shows fewer than k responses has no psychometrics report.
pub fn psychometrics_too_few(k: u32, error: &dyn std::fmt::Display) -> Refusal {
    Refusal::new(
        "refusal_psychometrics_too_few",
        vec![("k", k.to_string())],
        error,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages() -> Pages {
        Pages::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
            .expect("templates")
    }

    /// Every refusal a form can meet has its message in both languages, every value filled in.
    #[test]
    fn every_refusal_has_its_message_with_its_values() {
        let pages = pages();
        let refusals = [
            account(&AccountError::BadLogin),
            account(&AccountError::WeakPassword),
            account(&AccountError::ManagerWithoutWorkplace),
            account(&AccountError::HrWithWorkplace),
            account(&AccountError::UnknownWorkplace("T9".into())),
            account(&AccountError::LoginTaken("m1".into())),
            account(&AccountError::UnknownLogin("m1".into())),
            account(&AccountError::Disabled("m1".into())),
            account(&AccountError::LastHr("hr1".into())),
            account(&AccountError::WrongPassword),
            wave(&WaveError::EmptyName),
            wave(&WaveError::BadName),
            wave(&WaveError::BadSurveyId("../x".into())),
            wave(&WaveError::UnknownSurvey {
                id: "x".into(),
                expected: "dir/x.toml".into(),
            }),
            wave(&WaveError::NotFound(9)),
            wave(&WaveError::BaselineRequired { survey: "s".into() }),
            wave(&WaveError::BaselineNotApplicable { survey: "s".into() }),
            wave(&WaveError::Baseline {
                wave: 1,
                reason: "it is still open".into(),
            }),
            wave(&WaveError::ReportingUnit(UnitError::TooSmall {
                code: "U1".into(),
                headcount: 4,
                k: 5,
            })),
            wave(&WaveError::ReportingUnit(UnitError::UnknownHeadcount {
                code: "U1".into(),
                member: "T1".into(),
            })),
            codes(&IssueError::UnknownWorkplace("T9".into())),
            codes(&IssueError::BadCount),
            codes(&IssueError::UnknownWave(9)),
            dashboard_batch(2_000),
        ];
        for refusal in &refusals {
            let key = refusal.key.expect("a message");
            let (japanese, english) = (
                refusal.text(&pages, Lang::Ja),
                refusal.text(&pages, Lang::En),
            );
            assert_ne!(japanese, key, "{key} is in the catalogue");
            assert!(!japanese.is_ascii(), "{key} reads in Japanese: {japanese}");
            assert_ne!(japanese, english);
            for text in [&japanese, &english] {
                assert!(!text.contains('{'), "{key}: every value filled in: {text}");
                for (_, value) in &refusal.values {
                    assert!(text.contains(value.as_str()), "{key} names {value}: {text}");
                }
            }
        }
        // Without a message, the domain's sentence.
        let technical = wave(&WaveError::AlreadyClosed(3));
        assert_eq!(technical.text(&pages, Lang::Ja), "wave 3 is already closed");
    }
}
