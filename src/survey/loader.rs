//! Parsing and validation of survey-definition files. Every error names the file and the
//! item, dimension or scale it concerns, so HR can fix a definition without reading code.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::{
    AvoidedBehaviour, CommentQuestion, Dimension, Item, JobLevelOption, JobLevelQuestion,
    LocalText, Quadrant, Scale, SurveyDefinition, Threshold,
};

/// Bytes a job level option id may take: a stored response keeps its job level in a slot of
/// this fixed width (`collection::slots`), so longer ids are refused.
pub const JOB_LEVEL_WIDTH: usize = 32;

/// What is wrong with a definition, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    /// The file (or other origin) the definition came from.
    pub origin: String,
    /// The part of the definition at fault, e.g. `item ps3` or `line 12, column 5`.
    pub location: Option<String>,
    pub message: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{}: {}: {}", self.origin, location, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for DefinitionError {}

/// Reads and validates one definition file.
pub fn load_file(path: &Path) -> Result<SurveyDefinition, DefinitionError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| DefinitionError {
        origin: origin.clone(),
        location: None,
        message: format!("cannot read the file: {e}"),
    })?;
    SurveyDefinition::parse(&text, &origin)
}

/// Validates several files and returns every definition or every error found.
pub fn check_files(
    paths: &[impl AsRef<Path>],
) -> Result<Vec<SurveyDefinition>, Vec<DefinitionError>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match load_file(path.as_ref()) {
            Ok(definition) => definitions.push(definition),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(definitions)
    } else {
        Err(errors)
    }
}

impl SurveyDefinition {
    /// Parses definition text; `origin` names the file in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self, DefinitionError> {
        let raw: RawDefinition = toml::from_str(text).map_err(|e| {
            let location = e.span().map(|span| {
                let (line, column) = line_and_column(text, span.start);
                format!("line {line}, column {column}")
            });
            DefinitionError {
                origin: origin.to_string(),
                location,
                message: e.message().to_string(),
            }
        })?;
        Validator { origin }.validate(raw)
    }
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    id: String,
    version: i64,
    title: LocalText,
    intro: Option<LocalText>,
    #[serde(default)]
    scales: Vec<RawScale>,
    #[serde(default)]
    dimensions: Vec<RawDimension>,
    #[serde(default)]
    items: Vec<RawItem>,
    job_level: Option<RawJobLevel>,
    comment: Option<RawComment>,
    quadrant: RawQuadrant,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScale {
    id: String,
    min: i64,
    max: i64,
    #[serde(default)]
    allow_no_answer: bool,
    labels: Vec<LocalText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDimension {
    id: String,
    name: LocalText,
    description: LocalText,
    heading: Option<LocalText>,
    #[serde(default = "yes")]
    higher_is_better: bool,
    policy_source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: String,
    dimension: String,
    scale: String,
    #[serde(default)]
    reverse: bool,
    #[serde(default = "yes")]
    required: bool,
    behaviour: Option<String>,
    text: LocalText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJobLevel {
    #[serde(default)]
    required: bool,
    question: LocalText,
    options: Vec<RawJobLevelOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJobLevelOption {
    id: String,
    ja: String,
    en: String,
    #[serde(default)]
    undisclosed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComment {
    question: LocalText,
    max_chars: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuadrant {
    x: String,
    y: String,
    threshold: RawThreshold,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    rule: String,
    value: Option<f64>,
}

fn yes() -> bool {
    true
}

const MAX_COMMENT_CHARS: i64 = 4000;

struct Validator<'a> {
    origin: &'a str,
}

impl Validator<'_> {
    fn error(
        &self,
        location: impl Into<Option<String>>,
        message: impl Into<String>,
    ) -> DefinitionError {
        DefinitionError {
            origin: self.origin.to_string(),
            location: location.into(),
            message: message.into(),
        }
    }

    fn text(&self, location: &str, field: &str, text: &LocalText) -> Result<(), DefinitionError> {
        for (lang, value) in [("ja", &text.ja), ("en", &text.en)] {
            if value.trim().is_empty() {
                return Err(self.error(
                    location.to_string(),
                    format!("{field}: the {lang} translation is empty"),
                ));
            }
        }
        Ok(())
    }

    fn identifier(
        &self,
        location: &str,
        id: &str,
        allowed_extra: char,
    ) -> Result<(), DefinitionError> {
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == allowed_extra);
        if valid {
            Ok(())
        } else {
            Err(self.error(
                location.to_string(),
                format!(
                    "id {id:?} may contain only lowercase letters, digits and '{allowed_extra}'"
                ),
            ))
        }
    }

    fn validate(&self, raw: RawDefinition) -> Result<SurveyDefinition, DefinitionError> {
        self.identifier("survey", &raw.id, '-')?;
        let version = u32::try_from(raw.version)
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                self.error(
                    None,
                    format!("version must be a whole number >= 1, not {}", raw.version),
                )
            })?;
        self.text("survey", "title", &raw.title)?;
        if let Some(intro) = &raw.intro {
            self.text("survey", "intro", intro)?;
        }

        let scales = raw
            .scales
            .into_iter()
            .map(|s| self.scale(s))
            .collect::<Result<Vec<_>, _>>()?;
        self.unique("scale", scales.iter().map(|s| s.id.as_str()))?;
        let dimensions = raw
            .dimensions
            .into_iter()
            .map(|d| self.dimension(d))
            .collect::<Result<Vec<_>, _>>()?;
        self.unique("dimension", dimensions.iter().map(|d| d.id.as_str()))?;
        let items = raw
            .items
            .into_iter()
            .map(|i| self.item(i, &scales, &dimensions))
            .collect::<Result<Vec<_>, _>>()?;
        self.unique("item", items.iter().map(|i| i.id.as_str()))?;
        if items.is_empty() {
            return Err(self.error(None, "the survey has no items"));
        }
        for (index, dimension) in dimensions.iter().enumerate() {
            if !items.iter().any(|i| i.dimension == index) {
                return Err(self.error(
                    format!("dimension {}", dimension.id),
                    "no item measures this dimension",
                ));
            }
        }
        for (index, scale) in scales.iter().enumerate() {
            if !items.iter().any(|i| i.scale == index) {
                return Err(self.error(format!("scale {}", scale.id), "no item uses this scale"));
            }
        }

        // A dimension's score is a mean of its items, so they must share one scale.
        for (index, dimension) in dimensions.iter().enumerate() {
            let mut scales_used = items
                .iter()
                .filter(|i| i.dimension == index)
                .map(|i| i.scale);
            let first = scales_used.next();
            if scales_used.any(|s| Some(s) != first) {
                return Err(self.error(
                    format!("dimension {}", dimension.id),
                    "its items use different scales (a dimension's items must share one scale)",
                ));
            }
        }

        let job_level = raw.job_level.map(|j| self.job_level(j)).transpose()?;
        let comment = raw.comment.map(|c| self.comment(c)).transpose()?;
        let quadrant = self.quadrant(raw.quadrant, &scales, &dimensions, &items)?;

        Ok(SurveyDefinition {
            id: raw.id,
            version,
            title: raw.title,
            intro: raw.intro,
            scales,
            dimensions,
            items,
            job_level,
            comment,
            quadrant,
        })
    }

    fn unique<'s>(
        &self,
        kind: &str,
        ids: impl Iterator<Item = &'s str>,
    ) -> Result<(), DefinitionError> {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                return Err(self.error(
                    format!("{kind} {id}"),
                    format!("duplicate {kind} id {id:?}"),
                ));
            }
        }
        Ok(())
    }

    fn scale(&self, raw: RawScale) -> Result<Scale, DefinitionError> {
        let location = format!("scale {}", raw.id);
        self.identifier(&location, &raw.id, '_')?;
        if !(0..=10).contains(&raw.min) || !(0..=10).contains(&raw.max) || raw.min >= raw.max {
            return Err(self.error(
                location,
                format!(
                    "min and max must satisfy 0 <= min < max <= 10 (found {}..{})",
                    raw.min, raw.max
                ),
            ));
        }
        // Both bounds were checked to lie in 0..=10 just above.
        let (min, max) = (raw.min as u8, raw.max as u8);
        let points = usize::from(max - min) + 1;
        if raw.labels.len() != points && raw.labels.len() != 2 {
            return Err(self.error(
                location,
                format!(
                    "expected {points} labels (one per point) or 2 (the two ends), found {}",
                    raw.labels.len()
                ),
            ));
        }
        for (n, label) in raw.labels.iter().enumerate() {
            self.text(&location, &format!("label {}", n + 1), label)?;
        }
        Ok(Scale {
            id: raw.id,
            min,
            max,
            allow_no_answer: raw.allow_no_answer,
            labels: raw.labels,
        })
    }

    fn dimension(&self, raw: RawDimension) -> Result<Dimension, DefinitionError> {
        let location = format!("dimension {}", raw.id);
        self.identifier(&location, &raw.id, '_')?;
        self.text(&location, "name", &raw.name)?;
        self.text(&location, "description", &raw.description)?;
        if let Some(heading) = &raw.heading {
            self.text(&location, "heading", heading)?;
        }
        Ok(Dimension {
            id: raw.id,
            name: raw.name,
            description: raw.description,
            heading: raw.heading,
            higher_is_better: raw.higher_is_better,
            policy_source: raw.policy_source,
        })
    }

    fn item(
        &self,
        raw: RawItem,
        scales: &[Scale],
        dimensions: &[Dimension],
    ) -> Result<Item, DefinitionError> {
        let location = format!("item {}", raw.id);
        self.identifier(&location, &raw.id, '_')?;
        self.text(&location, "text", &raw.text)?;
        let dimension = dimensions
            .iter()
            .position(|d| d.id == raw.dimension)
            .ok_or_else(|| {
                self.error(
                    location.clone(),
                    format!("unknown dimension {:?}", raw.dimension),
                )
            })?;
        let scale = scales
            .iter()
            .position(|s| s.id == raw.scale)
            .ok_or_else(|| {
                self.error(location.clone(), format!("unknown scale {:?}", raw.scale))
            })?;
        let behaviour = raw
            .behaviour
            .map(|b| {
                AvoidedBehaviour::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&b))
                    .map_err(|_| {
                        self.error(
                            location.clone(),
                            format!(
                                "unknown behaviour {b:?} (expected not_consulting, not_reporting_mistakes, no_ideas or not_speaking_up)"
                            ),
                        )
                    })
            })
            .transpose()?;
        if behaviour.is_some() && raw.reverse {
            // Reports read agreeing with a tagged item as holding back (the top two boxes as
            // answered); a reverse-keyed item says the opposite.
            return Err(self.error(
                location,
                "a reverse-coded item cannot name a behaviour: agreeing with it does not mean holding back",
            ));
        }
        Ok(Item {
            id: raw.id,
            dimension,
            scale,
            reverse: raw.reverse,
            required: raw.required,
            behaviour,
            text: raw.text,
        })
    }

    fn job_level(&self, raw: RawJobLevel) -> Result<JobLevelQuestion, DefinitionError> {
        let location = "job_level";
        self.text(location, "question", &raw.question)?;
        let mut options = Vec::with_capacity(raw.options.len());
        for option in raw.options {
            let option_location = format!("job_level option {}", option.id);
            self.identifier(&option_location, &option.id, '_')?;
            if option.id.len() > JOB_LEVEL_WIDTH {
                return Err(self.error(
                    option_location,
                    format!(
                        "id {:?} is longer than {JOB_LEVEL_WIDTH} characters (the width of \
                         its stored field)",
                        option.id
                    ),
                ));
            }
            let label = LocalText {
                ja: option.ja,
                en: option.en,
            };
            self.text(&option_location, "label", &label)?;
            options.push(JobLevelOption {
                id: option.id,
                label,
                undisclosed: option.undisclosed,
            });
        }
        self.unique("job_level option", options.iter().map(|o| o.id.as_str()))?;
        if options.len() < 2 {
            return Err(self.error(location.to_string(), "needs at least two options"));
        }
        if options.iter().filter(|o| o.undisclosed).count() != 1 {
            return Err(self.error(
                location.to_string(),
                "exactly one option must have undisclosed = true (the \"prefer not to say\" choice)",
            ));
        }
        Ok(JobLevelQuestion {
            required: raw.required,
            question: raw.question,
            options,
        })
    }

    fn comment(&self, raw: RawComment) -> Result<CommentQuestion, DefinitionError> {
        self.text("comment", "question", &raw.question)?;
        if !(1..=MAX_COMMENT_CHARS).contains(&raw.max_chars) {
            return Err(self.error(
                "comment".to_string(),
                format!(
                    "max_chars must be between 1 and {MAX_COMMENT_CHARS}, not {}",
                    raw.max_chars
                ),
            ));
        }
        Ok(CommentQuestion {
            question: raw.question,
            max_chars: raw.max_chars as usize,
        })
    }

    fn quadrant(
        &self,
        raw: RawQuadrant,
        scales: &[Scale],
        dimensions: &[Dimension],
        items: &[Item],
    ) -> Result<Quadrant, DefinitionError> {
        let axis = |name: &str, id: &str| -> Result<(usize, usize), DefinitionError> {
            let location = format!("quadrant {name}");
            let dimension = dimensions
                .iter()
                .position(|d| d.id == id)
                .ok_or_else(|| self.error(location.clone(), format!("unknown dimension {id:?}")))?;
            // Every dimension has items, all on one scale (checked before the quadrant).
            let scale = items
                .iter()
                .find(|i| i.dimension == dimension)
                .map_or(0, |i| i.scale);
            Ok((dimension, scale))
        };
        let (x, x_scale) = axis("x", &raw.x)?;
        let (y, y_scale) = axis("y", &raw.y)?;
        if x == y {
            return Err(self.error(
                "quadrant".to_string(),
                "x and y must be different dimensions",
            ));
        }
        if x_scale != y_scale {
            return Err(self.error(
                "quadrant".to_string(),
                "x and y dimensions must use the same scale",
            ));
        }
        let scale = &scales[x_scale];
        let threshold = match (raw.threshold.rule.as_str(), raw.threshold.value) {
            ("fixed", Some(value)) => {
                if value <= f64::from(scale.min) || value >= f64::from(scale.max) {
                    return Err(self.error(
                        "quadrant threshold".to_string(),
                        format!(
                            "value {value} must lie strictly between {} and {}",
                            scale.min, scale.max
                        ),
                    ));
                }
                Threshold::Fixed(value)
            }
            ("fixed", None) => {
                return Err(self.error(
                    "quadrant threshold".to_string(),
                    "rule \"fixed\" needs a value",
                ));
            }
            ("baseline_wave", None) => Threshold::BaselineWave,
            ("baseline_wave", Some(_)) => {
                return Err(self.error(
                    "quadrant threshold".to_string(),
                    "rule \"baseline_wave\" takes no value: the cut comes from the baseline wave",
                ));
            }
            (other, _) => {
                return Err(self.error(
                    "quadrant threshold".to_string(),
                    format!("unknown rule {other:?} (expected \"fixed\" or \"baseline_wave\")"),
                ));
            }
        };
        Ok(Quadrant { x, y, threshold })
    }
}
