//! Survey definitions: the TOML instrument format, its validated in-memory form and the loader.
//!
//! A definition is parsed once into [`SurveyDefinition`]; every other module works with that
//! validated type and never sees raw TOML. The format is documented in
//! `docs/survey-definitions.md`.

mod loader;

pub use loader::{check_files, load_file, DefinitionError, JOB_LEVEL_WIDTH};

use serde::Deserialize;

use crate::i18n::Lang;

/// A human text in both supported languages.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LocalText {
    pub ja: String,
    pub en: String,
}

impl LocalText {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

/// An answer scale such as 1–5 agreement or 0–10 recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    pub id: String,
    pub min: u8,
    pub max: u8,
    pub allow_no_answer: bool,
    /// Either one label per point or exactly two labels for the ends.
    pub labels: Vec<LocalText>,
}

impl Scale {
    pub fn points(&self) -> impl Iterator<Item = u8> {
        self.min..=self.max
    }

    pub fn contains(&self, value: u8) -> bool {
        (self.min..=self.max).contains(&value)
    }

    /// The label shown next to one point, if the scale labels it.
    pub fn label_for(&self, value: u8) -> Option<&LocalText> {
        if self.labels.len() == usize::from(self.max - self.min) + 1 {
            self.labels.get(usize::from(value - self.min))
        } else if value == self.min {
            self.labels.first()
        } else if value == self.max {
            self.labels.last()
        } else {
            None
        }
    }

    /// Reverse coding: x' = min + max − x.
    pub fn reverse(&self, value: u8) -> u8 {
        self.min + self.max - value
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub id: String,
    pub name: LocalText,
    pub description: LocalText,
    pub heading: Option<LocalText>,
    pub higher_is_better: bool,
    pub policy_source: Option<String>,
}

/// The behaviours the policy says low psychological safety causes (第4章 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AvoidedBehaviour {
    NotConsulting,
    NotReportingMistakes,
    NoIdeas,
    NotSpeakingUp,
}

impl AvoidedBehaviour {
    pub const ALL: [AvoidedBehaviour; 4] = [
        AvoidedBehaviour::NotConsulting,
        AvoidedBehaviour::NotReportingMistakes,
        AvoidedBehaviour::NoIdeas,
        AvoidedBehaviour::NotSpeakingUp,
    ];

    /// The id used in definitions and in message keys (`behaviour_<id>`).
    pub fn id(self) -> &'static str {
        match self {
            AvoidedBehaviour::NotConsulting => "not_consulting",
            AvoidedBehaviour::NotReportingMistakes => "not_reporting_mistakes",
            AvoidedBehaviour::NoIdeas => "no_ideas",
            AvoidedBehaviour::NotSpeakingUp => "not_speaking_up",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    /// Index into [`SurveyDefinition::dimensions`].
    pub dimension: usize,
    /// Index into [`SurveyDefinition::scales`].
    pub scale: usize,
    pub reverse: bool,
    pub required: bool,
    pub behaviour: Option<AvoidedBehaviour>,
    pub text: LocalText,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobLevelOption {
    pub id: String,
    pub label: LocalText,
    pub undisclosed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobLevelQuestion {
    pub required: bool,
    pub question: LocalText,
    pub options: Vec<JobLevelOption>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommentQuestion {
    pub question: LocalText,
    pub max_chars: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A fixed cut on the axis scale (default 3.5 on 1–5).
    Fixed(f64),
    /// The organisation mean of a frozen baseline wave chosen by HR.
    BaselineWave,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quadrant {
    /// Index of the x-axis dimension (psychological safety).
    pub x: usize,
    /// Index of the y-axis dimension (high-standards climate).
    pub y: usize,
    pub threshold: Threshold,
}

/// A validated survey definition. Items keep the file's order, which is also the order of the
/// compact answer encoding stored with each response.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyDefinition {
    pub id: String,
    pub version: u32,
    pub title: LocalText,
    pub intro: Option<LocalText>,
    pub scales: Vec<Scale>,
    pub dimensions: Vec<Dimension>,
    pub items: Vec<Item>,
    pub job_level: Option<JobLevelQuestion>,
    pub comment: Option<CommentQuestion>,
    pub quadrant: Quadrant,
}

impl SurveyDefinition {
    /// Each dimension's items, as indices into `items`, in item order.
    pub fn dimension_items(&self) -> Vec<Vec<usize>> {
        (0..self.dimensions.len())
            .map(|d| {
                (0..self.items.len())
                    .filter(|&i| self.items[i].dimension == d)
                    .collect()
            })
            .collect()
    }

    pub fn scale_of(&self, item: &Item) -> &Scale {
        &self.scales[item.scale]
    }

    /// The scale all of a dimension's items share (the loader guarantees one per dimension).
    pub fn scale_of_dimension(&self, dimension: usize) -> &Scale {
        let scale = self
            .items
            .iter()
            .find(|i| i.dimension == dimension)
            .map_or(0, |i| i.scale);
        &self.scales[scale]
    }

    pub fn dimension_of(&self, item: &Item) -> &Dimension {
        &self.dimensions[item.dimension]
    }

    /// Consecutive runs of items sharing a dimension: the parts of the staff form.
    pub fn form_parts(&self) -> Vec<&[Item]> {
        self.items
            .chunk_by(|a, b| a.dimension == b.dimension)
            .collect()
    }
}
