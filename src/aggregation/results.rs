//! Guarded results: the only form in which aggregated figures leave the aggregation module.
//! Every figure here has passed the anonymity guard; a hidden figure is `None`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use super::guard::{self, HiddenReason};
use super::stats;
use crate::wave_status::WaveStatus;

/// The four zones of the policy's quadrant (第4章 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// 学習: high psychological safety, high standards.
    Learning,
    /// 快適: high psychological safety, low standards.
    Comfort,
    /// 不安: low psychological safety, high standards.
    Anxiety,
    /// 無気力: low, low.
    Apathy,
}

impl Zone {
    /// A mean exactly at the cut counts as high.
    pub fn from_position(x: f64, y: f64, cut_x: f64, cut_y: f64) -> Zone {
        match (x >= cut_x, y >= cut_y) {
            (true, true) => Zone::Learning,
            (true, false) => Zone::Comfort,
            (false, true) => Zone::Anxiety,
            (false, false) => Zone::Apathy,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Learning => "learning",
            Zone::Comfort => "comfort",
            Zone::Anxiety => "anxiety",
            Zone::Apathy => "apathy",
        }
    }
}

/// Whether a group's position on one axis is clearly on one side of the cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// The axis's zone interval (the 95% interval the quadrant draws, SD floored;
    /// [`stats::zone_interval`]) excludes the cut.
    Certain,
    /// The interval includes the cut (or is undefined): the zone may differ with other
    /// respondents.
    Borderline,
}

impl Certainty {
    /// `Certain` when `interval` lies entirely on one side of `cut`.
    pub fn of(interval: Option<(f64, f64)>, cut: f64) -> Certainty {
        match interval {
            Some((low, high)) if low > cut || high < cut => Certainty::Certain,
            _ => Certainty::Borderline,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AxisCertainty {
    pub x: Certainty,
    pub y: Certainty,
}

impl AxisCertainty {
    /// The zone is certain only when both axes are: an intersection–union test, so the chance
    /// of calling a group certainly in a zone it is not in stays at most 2.5% without a
    /// Bonferroni correction (docs/methodology.md §4).
    pub fn zone(self) -> Certainty {
        if self.x == Certainty::Certain && self.y == Certainty::Certain {
            Certainty::Certain
        } else {
            Certainty::Borderline
        }
    }

    /// Both axes' certainty from their scores, scales and cuts.
    pub fn of(
        x: (&DimensionScore, &DimensionMeta),
        y: (&DimensionScore, &DimensionMeta),
        cut: QuadrantCut,
    ) -> AxisCertainty {
        AxisCertainty {
            x: Certainty::of(x.1.zone_interval(x.0), cut.x),
            y: Certainty::of(y.1.zone_interval(y.0), cut.y),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaveResults {
    pub wave: i32,
    pub wave_name: String,
    /// Written `"open"` / `"closed"`, as frozen results always were.
    pub wave_status: WaveStatus,
    pub survey: String,
    pub survey_version: u32,
    /// Minimum responses for scores.
    pub k: u32,
    /// Minimum responses for item distributions, comments and job-level cuts.
    pub k2: u32,
    /// The quadrant's cut on each axis.
    pub cut: QuadrantCut,
    /// The wave these results were compared with, if any.
    pub previous_wave: Option<i32>,
    pub dimensions: Vec<DimensionMeta>,
    pub groups: Vec<GroupResult>,
    /// Organisation-level checks that aggregating each dimension is justified.
    pub reliability: Vec<Reliability>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuadrantCut {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionMeta {
    pub id: String,
    pub name_ja: String,
    pub name_en: String,
    pub higher_is_better: bool,
    pub scale_min: u8,
    pub scale_max: u8,
    /// The quadrant axis this dimension is drawn on, if any (`"x"` or `"y"` in JSON).
    pub quadrant_axis: Option<QuadrantAxis>,
}

/// One of the quadrant's two axes. Serialised as `"x"` / `"y"`, the text results frozen
/// before this type existed hold, so stored JSON reads and writes the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuadrantAxis {
    X,
    Y,
}

impl DimensionMeta {
    /// The dimension's name in `lang`.
    pub fn name(&self, lang: crate::i18n::Lang) -> &str {
        match lang {
            crate::i18n::Lang::Ja => &self.name_ja,
            crate::i18n::Lang::En => &self.name_en,
        }
    }

    /// The interval that places a score in a zone and that the quadrant draws
    /// ([`stats::zone_interval`] on this dimension's scale).
    pub fn zone_interval(&self, score: &DimensionScore) -> Option<(f64, f64)> {
        stats::zone_interval(
            score.mean,
            score.sd,
            score.n as usize,
            f64::from(self.scale_min),
            f64::from(self.scale_max),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupLevel {
    Organisation,
    Workplace,
    /// A merged reporting unit (集計単位) of small sibling workplaces.
    ReportingUnit,
    JobLevel,
}

/// One group's guarded figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    /// The workplace code; `None` for the whole organisation (and its job-level cuts).
    pub workplace: Option<String>,
    pub name: String,
    pub level: GroupLevel,
    /// 0 for the organisation, 1 for a 部, 2 for a 課, …; a cut has its total's depth + 1.
    pub depth: u32,
    /// The enclosing group's workplace code (`None` = the organisation or none).
    pub parent: Option<String>,
    /// The job-level option id of a job-level cut.
    pub job_level: Option<String>,
    /// True when the guard hides every figure of this group.
    pub suppressed: bool,
    /// Why the group is hidden, for a suppressed group (`None` in results frozen before it
    /// existed).
    #[serde(default)]
    pub hidden_reason: Option<HiddenReason>,
    /// Why a dimension's score is missing, for each hidden cell of a shown group.
    #[serde(default)]
    pub hidden_scores: BTreeMap<String, HiddenReason>,
    /// Why the item distributions and comments are missing, for a shown group without them
    /// (they need k2).
    #[serde(default)]
    pub details_hidden: Option<HiddenReason>,
    /// Number of responses, for every shown group (`None` only where it is suppressed).
    pub n: Option<u32>,
    /// Dimension id → score, for every shown cell.
    pub scores: DimensionScores,
    pub zone: Option<Zone>,
    pub certainty: Option<AxisCertainty>,
    /// The zone in the previous wave, when shown in both.
    pub previous_zone: Option<Zone>,
    /// Item distributions (n ≥ k2 only).
    pub items: Option<Vec<ItemResult>>,
    /// Comments in random order (n ≥ k2 only).
    pub comments: Option<Vec<SharedText>>,
}

impl WaveResults {
    /// Puts the combined wording where a hidden figure's reason could be subtracted into a
    /// narrower count ([`guard::reasons_may_be_stated`]). What is hidden stays as it is. A
    /// job-level cut's or a dimension cell's own count is never bounded by its reason (the
    /// cut tables and the cells' answer counts would give more to subtract from); a shown
    /// group's details keep theirs, which its published n already implies. Applied when
    /// results are computed and again when stored results are read, so results frozen
    /// before the rule existed say no more than it allows.
    pub fn withhold_narrowing_reasons(&mut self) {
        let hierarchy: Vec<usize> = (0..self.groups.len())
            .filter(|&g| self.groups[g].job_level.is_none())
            .collect();
        let position: BTreeMap<Option<&str>, usize> = hierarchy
            .iter()
            .enumerate()
            .map(|(i, &g)| (self.groups[g].workplace.as_deref(), i))
            .collect();
        let published: Vec<guard::PublishedGroup> = hierarchy
            .iter()
            .map(|&g| {
                let group = &self.groups[g];
                let parent = match (&group.workplace, &group.parent) {
                    (None, _) => None,
                    (Some(_), parent) => position.get(&parent.as_deref()).copied(),
                };
                guard::PublishedGroup {
                    parent,
                    n: if group.suppressed { None } else { group.n },
                }
            })
            .collect();
        let may_state = guard::reasons_may_be_stated(&published, self.k);
        let mut stated = vec![false; self.groups.len()];
        for (&g, may) in hierarchy.iter().zip(may_state) {
            stated[g] = may;
        }
        let combined = HiddenReason::TooFewOrProtectsSmallerGroup;
        for (g, group) in self.groups.iter_mut().enumerate() {
            if let Some(reason) = group.hidden_reason.as_mut() {
                if reason.bounds_the_count() && !stated[g] {
                    *reason = combined;
                }
            }
            for reason in group.hidden_scores.values_mut() {
                if reason.bounds_the_count() {
                    *reason = combined;
                }
            }
        }
    }

    /// A workplace's own group (not one of its job-level cuts), where the results hold it.
    pub fn group(&self, workplace: &str) -> Option<&GroupResult> {
        self.groups
            .iter()
            .find(|g| g.workplace.as_deref() == Some(workplace) && g.job_level.is_none())
    }

    /// The organisation as a whole.
    pub fn organisation(&self) -> Option<&GroupResult> {
        self.groups
            .iter()
            .find(|g| g.workplace.is_none() && g.job_level.is_none())
    }

    /// A dimension by its id.
    pub fn dimension(&self, id: &str) -> Option<&DimensionMeta> {
        self.dimensions.iter().find(|d| d.id == id)
    }

    /// The dimension drawn on the quadrant's `axis`.
    pub fn axis(&self, axis: QuadrantAxis) -> Option<&DimensionMeta> {
        self.dimensions
            .iter()
            .find(|d| d.quadrant_axis == Some(axis))
    }

    /// A group's certainty by the current rule, from its published axis scores. Pages use
    /// this rather than the stored `certainty`, which results frozen by an older version
    /// computed by an older rule, so that the page always agrees with the drawn interval.
    pub fn certainty_of(&self, group: &GroupResult) -> Option<AxisCertainty> {
        let (x_axis, y_axis) = (self.axis(QuadrantAxis::X)?, self.axis(QuadrantAxis::Y)?);
        let x = group.scores.get(&x_axis.id)?;
        let y = group.scores.get(&y_axis.id)?;
        Some(AxisCertainty::of((x, x_axis), (y, y_axis), self.cut))
    }

    /// Each workplace's and reporting unit's level in the organisation, by code: 1 for a 部,
    /// 2 for a 課, 3 for a 係, … (see [`unit_level_name`]). Reporting units are not a level of
    /// their own: a unit and its members count as the level of the members, so a merged 係 is
    /// still a 係. The organisation and job-level cuts have no level.
    pub fn unit_levels(&self) -> BTreeMap<&str, u32> {
        let units: BTreeMap<&str, &GroupResult> = self
            .groups
            .iter()
            .filter(|g| matches!(g.level, GroupLevel::Workplace | GroupLevel::ReportingUnit))
            .filter_map(|g| Some((g.workplace.as_deref()?, g)))
            .collect();
        units
            .iter()
            .map(|(&code, &group)| {
                let mut level = 1u32;
                let mut parent = group.parent.as_deref();
                // Bounded by the number of units: a broken chain can never loop.
                for _ in 0..units.len() {
                    let Some(above) = parent.and_then(|p| units.get(p)) else {
                        break;
                    };
                    if above.level == GroupLevel::Workplace {
                        level += 1;
                    }
                    parent = above.parent.as_deref();
                }
                (code, level)
            })
            .collect()
    }

    /// What one role sees: everything for HR (`may_see` = `None`); for a manager the
    /// organisation's overall figures without its comments, and the workplaces and reporting
    /// units `may_see` admits — no other workplace, no job-level cut, no reliability figures.
    pub fn visible_to(&self, may_see: Option<&dyn Fn(&str) -> bool>) -> WaveResults {
        let Some(may_see) = may_see else {
            return self.clone();
        };
        let groups = self
            .groups
            .iter()
            .filter_map(|group| match (&group.workplace, group.level) {
                // The organisation as a whole is the manager's yardstick; its comments, written
                // about every workplace, are HR's alone.
                (None, GroupLevel::Organisation) => Some(group.without_comments()),
                (Some(code), GroupLevel::Workplace | GroupLevel::ReportingUnit)
                    if may_see(code) =>
                {
                    Some(group.clone())
                }
                _ => None,
            })
            .collect();
        WaveResults {
            wave: self.wave,
            wave_name: self.wave_name.clone(),
            wave_status: self.wave_status,
            survey: self.survey.clone(),
            survey_version: self.survey_version,
            k: self.k,
            k2: self.k2,
            cut: self.cut,
            previous_wave: self.previous_wave,
            dimensions: self.dimensions.clone(),
            groups,
            reliability: Vec::new(),
        }
    }
}

impl GroupResult {
    /// The key that identifies "the same group" across waves.
    pub fn key(&self) -> (Option<&str>, Option<&str>) {
        (self.workplace.as_deref(), self.job_level.as_deref())
    }

    /// A copy without the comments (which can be the bulk of a large group).
    pub fn without_comments(&self) -> GroupResult {
        GroupResult {
            workplace: self.workplace.clone(),
            name: self.name.clone(),
            level: self.level,
            depth: self.depth,
            parent: self.parent.clone(),
            job_level: self.job_level.clone(),
            suppressed: self.suppressed,
            hidden_reason: self.hidden_reason,
            hidden_scores: self.hidden_scores.clone(),
            details_hidden: self.details_hidden,
            n: self.n,
            scores: self.scores.clone(),
            zone: self.zone,
            certainty: self.certainty,
            previous_zone: self.previous_zone,
            items: self.items.clone(),
            comments: None,
        }
    }
}

/// The name of an organisation level ([`WaveResults::unit_levels`]): 部, 課, 係, then
/// "第4階層" and deeper.
pub fn unit_level_name(level: u32, lang: crate::i18n::Lang) -> String {
    use crate::i18n::Lang;
    match (level, lang) {
        (1, Lang::Ja) => "部".to_string(),
        (2, Lang::Ja) => "課".to_string(),
        (3, Lang::Ja) => "係".to_string(),
        (1, Lang::En) => "Department".to_string(),
        (2, Lang::En) => "Section".to_string(),
        (3, Lang::En) => "Team".to_string(),
        (_, Lang::Ja) => format!("第{level}階層"),
        (_, Lang::En) => format!("Level {level}"),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// Respondents with a score on the dimension (published for every shown cell).
    pub n: u32,
    pub mean: f64,
    pub sd: Option<f64>,
    pub ci95: Option<(f64, f64)>,
    /// Share of answers in the top two boxes after reverse coding (0–1).
    pub favourable: Option<f64>,
    /// (mean − min) / (max − min) · 100.
    pub display: f64,
    /// Within-group agreement r*wg(J) (Lindell).
    pub rwg: Option<f64>,
    /// r*wg(J) below .50: the team's views are split, so the mean hides disagreement.
    pub views_split: bool,
    /// r*wg(J) against the slight-skew null (variance 1.34; 5-point scales only): agreement
    /// beyond what a mild response bias would give. `None` on other scales and in results
    /// frozen before it existed.
    #[serde(default)]
    pub rwg_slight_skew: Option<f64>,
    /// Promoters minus detractors (percentage points), for 0–10 items in groups of n ≥ 30.
    pub promoter_score: Option<f64>,
    pub change: Option<Change>,
    /// Reliability of this mean as the workplace's own (Spearman–Brown from the
    /// organisation's ICC(1) of shown cells and this cell's n), for workplaces and reporting
    /// units; `None` elsewhere, where ICC(1) is undefined, and in results frozen before it
    /// existed.
    #[serde(default)]
    pub reliability: Option<f64>,
}

/// A group's scores by dimension id, in the order of the ids (as a `BTreeMap<String, _>`
/// kept them): one `Vec` whose ids are shared [`SharedText`], so writing a wave's results
/// allocates no key per score. Written and read as the same JSON object as the map was, so
/// stored results keep their bytes; a duplicate key in stored JSON keeps the last value, as
/// the map did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DimensionScores(Vec<(SharedText, DimensionScore)>);

impl DimensionScores {
    pub fn new() -> Self {
        DimensionScores(Vec::new())
    }

    pub fn with_capacity(capacity: usize) -> Self {
        DimensionScores(Vec::with_capacity(capacity))
    }

    #[inline]
    fn position(&self, id: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(key, _)| key.as_str().cmp(id))
    }

    #[inline]
    pub fn get(&self, id: &str) -> Option<&DimensionScore> {
        self.position(id).ok().map(|at| &self.0[at].1)
    }

    #[inline]
    pub fn get_mut(&mut self, id: &str) -> Option<&mut DimensionScore> {
        self.position(id).ok().map(|at| &mut self.0[at].1)
    }

    #[inline]
    pub fn contains_key(&self, id: &str) -> bool {
        self.position(id).is_ok()
    }

    /// Puts `score` under `id`, in order; returns the score it replaces, if any.
    pub fn insert(
        &mut self,
        id: impl Into<SharedText>,
        score: DimensionScore,
    ) -> Option<DimensionScore> {
        let id = id.into();
        // Ids usually arrive in order (stored JSON; a definition listing them sorted).
        if self.0.last().is_none_or(|(last, _)| *last < id) {
            self.0.push((id, score));
            return None;
        }
        match self.position(&id) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, score)),
            Err(at) => {
                self.0.insert(at, (id, score));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The score at `place` in the order of the ids ([`Self::iter`]).
    pub fn value_at_mut(&mut self, place: usize) -> Option<&mut DimensionScore> {
        self.0.get_mut(place).map(|(_, score)| score)
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// (dimension id, score), in the order of the ids.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &DimensionScore)> + '_ {
        self.0.iter().map(|(id, score)| (id.as_str(), score))
    }

    /// (dimension id, score), in the order of the ids, each score to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut DimensionScore)> + '_ {
        self.0.iter_mut().map(|(id, score)| (id.as_str(), score))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(|(id, _)| id.as_str())
    }

    pub fn values(&self) -> impl Iterator<Item = &DimensionScore> + '_ {
        self.0.iter().map(|(_, score)| score)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut DimensionScore> + '_ {
        self.0.iter_mut().map(|(_, score)| score)
    }
}

impl<'a> IntoIterator for &'a DimensionScores {
    type Item = (&'a str, &'a DimensionScore);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (SharedText, DimensionScore)>,
        fn(&'a (SharedText, DimensionScore)) -> (&'a str, &'a DimensionScore),
    >;

    fn into_iter(self) -> Self::IntoIter {
        let split: fn(&'a (SharedText, DimensionScore)) -> (&'a str, &'a DimensionScore) =
            |(id, score)| (id.as_str(), score);
        self.0.iter().map(split)
    }
}

impl<K: Into<SharedText>> FromIterator<(K, DimensionScore)> for DimensionScores {
    fn from_iter<I: IntoIterator<Item = (K, DimensionScore)>>(entries: I) -> Self {
        let mut scores = DimensionScores::new();
        for (id, score) in entries {
            scores.insert(id, score);
        }
        scores
    }
}

/// `scores["id"]`, as on the map, for tests: panics where the id has no score.
#[cfg(test)]
impl<Q: AsRef<str> + ?Sized> std::ops::Index<&Q> for DimensionScores {
    type Output = DimensionScore;

    fn index(&self, id: &Q) -> &DimensionScore {
        let id = id.as_ref();
        match self.get(id) {
            Some(score) => score,
            None => panic!("no score for dimension {id:?}"),
        }
    }
}

impl Serialize for DimensionScores {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(id, score)| (id.as_str(), score)))
    }
}

impl<'de> Deserialize<'de> for DimensionScores {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = DimensionScores;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of dimension ids to scores")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<DimensionScores, A::Error> {
                let mut scores = DimensionScores::new();
                while let Some(id) = map.next_key::<SharedText>()? {
                    let score = map.next_value()?;
                    scores.insert(id, score);
                }
                Ok(scores)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Below this reliability a workplace mean is flagged as mostly chance (the usual .70 for
/// reliability; Nunnally & Bernstein 1994).
pub const LOW_MEAN_RELIABILITY: f64 = 0.70;

/// Change since the previous wave. The test is missing (and `real` false) where Welch's test
/// is undefined: both waves without any spread, or a group of one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub previous_mean: f64,
    pub delta: f64,
    /// Welch 95% interval of the difference.
    pub ci95: Option<(f64, f64)>,
    pub p: Option<f64>,
    /// Benjamini–Hochberg q in one family across every dimension and group of the wave
    /// (waves closed before this version: per dimension).
    pub q: Option<f64>,
    /// q < .05 and |Δ| ≥ 0.3 (waves closed before this version: q < .10).
    pub real: bool,
}

/// Text that many results repeat (an item's id and its dimension's in every group's
/// distributions, a comment under its workplace and each ancestor): cloned without copying,
/// written and read as a plain JSON string, so stored results keep their shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SharedText(Arc<str>);

impl SharedText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for SharedText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for SharedText {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SharedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for SharedText {
    fn from(text: &str) -> Self {
        SharedText(Arc::from(text))
    }
}

impl From<String> for SharedText {
    fn from(text: String) -> Self {
        SharedText(Arc::from(text))
    }
}

impl PartialEq<str> for SharedText {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for SharedText {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for SharedText {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl Serialize for SharedText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SharedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SharedText;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SharedText, E> {
                Ok(SharedText::from(text))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// An item's (answer value, count) list, written and read as the same JSON array of pairs
/// as a `Vec<(u8, u32)>`. A scale has at most 11 points (0 to 10), kept in place rather than
/// on the heap: a large wave's results hold one list per item and shown group (41,000 for
/// 1,000 workplaces), each a heap block to allocate and free before. A longer list (none
/// comes from a checked definition) spills to the heap.
pub type Distribution = SmallVec<[(u8, u32); 11]>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub id: SharedText,
    pub dimension: SharedText,
    pub reverse: bool,
    /// The avoided behaviour the item asks about, if any.
    pub behaviour: Option<crate::survey::AvoidedBehaviour>,
    /// (answer value, count) for every point of the scale, as answered (before recoding).
    pub distribution: Distribution,
    /// Share of the group's responses without an answer to this item.
    pub missing_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    pub dimension: String,
    /// Complete cases used for alpha and the item–total correlations.
    pub complete_cases: u64,
    pub alpha: Option<f64>,
    /// Alpha below .70.
    pub alpha_low: bool,
    pub item_total: Vec<ItemTotal>,
    pub icc1: Option<f64>,
    pub icc2: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemTotal {
    pub item: String,
    pub r: Option<f64>,
    /// Corrected item–total correlation below .30.
    pub low: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A distribution is written as the `Vec<(u8, u32)>` it replaced was, and reads back,
    /// whether it fits in place (up to 11 points) or spills to the heap.
    #[test]
    fn distributions_write_and_read_the_json_of_a_vec() {
        for points in [0, 5, 11, 12] {
            let list: Vec<(u8, u32)> = (0..points).map(|v| (v, u32::from(v) * 7)).collect();
            let distribution: Distribution = list.clone().into();
            let json = serde_json::to_string(&distribution).expect("writes");
            assert_eq!(json, serde_json::to_string(&list).expect("writes"));
            let read: Distribution = serde_json::from_str(&json).expect("reads");
            assert_eq!(read.as_slice(), list.as_slice());
        }
    }

    /// Results frozen while the status and the axes were strings read as the enums, and are
    /// written back as the same bytes.
    #[test]
    fn results_frozen_with_string_states_read_and_write_the_same_json() {
        let old = concat!(
            r#"{"wave":1,"wave_name":"2024年度","wave_status":"closed","survey":"s","#,
            r#""survey_version":1,"k":5,"k2":10,"cut":{"x":3.5,"y":3.5},"previous_wave":null,"#,
            r#""dimensions":["#,
            r#"{"id":"a","name_ja":"甲","name_en":"A","higher_is_better":true,"#,
            r#""scale_min":1,"scale_max":5,"quadrant_axis":"x"},"#,
            r#"{"id":"b","name_ja":"乙","name_en":"B","higher_is_better":true,"#,
            r#""scale_min":1,"scale_max":5,"quadrant_axis":"y"},"#,
            r#"{"id":"c","name_ja":"丙","name_en":"C","higher_is_better":false,"#,
            r#""scale_min":1,"scale_max":5,"quadrant_axis":null}"#,
            r#"],"groups":[],"reliability":[]}"#
        );
        let results: WaveResults = serde_json::from_str(old).expect("old JSON reads");
        assert_eq!(results.wave_status, WaveStatus::Closed);
        assert_eq!(
            results.axis(QuadrantAxis::X).map(|d| d.id.as_str()),
            Some("a")
        );
        assert_eq!(
            results.axis(QuadrantAxis::Y).map(|d| d.id.as_str()),
            Some("b")
        );
        assert_eq!(results.dimensions[2].quadrant_axis, None);
        assert_eq!(serde_json::to_string(&results).expect("writes"), old);
        let open = old.replace(r#""closed""#, r#""open""#);
        let results: WaveResults = serde_json::from_str(&open).expect("an open wave reads");
        assert_eq!(results.wave_status, WaveStatus::Open);
        assert_eq!(serde_json::to_string(&results).expect("writes"), open);
    }

    fn score(mean: f64, sd: f64, n: u32) -> DimensionScore {
        DimensionScore {
            n,
            mean,
            sd: Some(sd),
            ci95: None,
            favourable: None,
            display: 0.0,
            rwg: None,
            views_split: false,
            rwg_slight_skew: Some(0.4),
            promoter_score: None,
            change: None,
            reliability: Some(0.36),
        }
    }

    /// Scores frozen as a `BTreeMap<String, DimensionScore>` read as [`DimensionScores`]
    /// and are written back as the same bytes; lookups find what the map held.
    #[test]
    fn dimension_scores_read_and_write_the_bytes_the_map_did() {
        let mut moved = score(0.1 + 0.2, 1.1, 17);
        moved.change = Some(Change {
            previous_mean: 2.9,
            delta: -0.4,
            ci95: Some((-0.71, -0.09)),
            p: Some(0.013),
            q: Some(0.041),
            real: true,
        });
        moved.ci95 = Some((2.1, 3.4));
        let map: BTreeMap<String, DimensionScore> = [
            ("psychological_safety", score(3.9, 0.7, 12)),
            ("high_standards", moved),
            ("engagement", score(4.25, 0.0, 5)),
            ("anxiety_ignorant", score(2.0, 1.3, 30)),
        ]
        .into_iter()
        .map(|(id, score)| (id.to_string(), score))
        .collect();
        let frozen = serde_json::to_string(&map).expect("the map writes");

        let scores: DimensionScores = serde_json::from_str(&frozen).expect("frozen JSON reads");
        assert_eq!(serde_json::to_string(&scores).expect("writes"), frozen);
        assert_eq!(scores.len(), map.len());
        assert!(scores.keys().eq(map.keys().map(String::as_str)));
        assert!(scores.iter().eq(map.iter().map(|(id, s)| (id.as_str(), s))));
        for (id, expected) in &map {
            assert_eq!(scores.get(id), Some(expected));
            assert_eq!(&scores[id], expected);
            assert!(scores.contains_key(id));
        }
        assert_eq!(scores.get("no_such_dimension"), None);

        // Built in any order, the scores are the same and write the same bytes.
        let built: DimensionScores = map
            .iter()
            .rev()
            .map(|(id, score)| (id.as_str(), score.clone()))
            .collect();
        assert_eq!(built, scores);
        assert_eq!(serde_json::to_string(&built).expect("writes"), frozen);

        // Through a `serde_json::Value` as well.
        let value = serde_json::to_value(&map).expect("a value");
        let from_value: DimensionScores = serde_json::from_value(value).expect("reads");
        assert_eq!(from_value, scores);

        // Keys out of order or repeated read as the map read them (the last value wins).
        let one = serde_json::to_string(&score(3.0, 0.5, 9)).expect("writes");
        let two = serde_json::to_string(&score(3.5, 0.6, 9)).expect("writes");
        let messy = format!(r#"{{"b":{one},"a":{one},"b":{two},"c":{one}}}"#);
        let as_map: BTreeMap<String, DimensionScore> =
            serde_json::from_str(&messy).expect("the map reads it");
        let as_scores: DimensionScores = serde_json::from_str(&messy).expect("it reads");
        assert_eq!(
            serde_json::to_string(&as_scores).expect("writes"),
            serde_json::to_string(&as_map).expect("writes")
        );
        assert_eq!(
            serde_json::from_str::<DimensionScores>("{}").expect("reads"),
            DimensionScores::new()
        );
    }

    /// A whole frozen group with its scores is written back byte for byte.
    #[test]
    fn a_frozen_group_writes_back_the_same_json() {
        let group = GroupResult {
            workplace: Some("W01".into()),
            name: "総務課".into(),
            level: GroupLevel::Workplace,
            depth: 2,
            parent: Some("D1".into()),
            job_level: None,
            suppressed: false,
            hidden_reason: None,
            hidden_scores: BTreeMap::from([("z".to_string(), HiddenReason::TooFewResponses)]),
            details_hidden: None,
            n: Some(12),
            scores: [("y", score(3.1, 0.8, 12)), ("x", score(4.2, 0.6, 12))]
                .into_iter()
                .collect(),
            zone: Some(Zone::Learning),
            certainty: None,
            previous_zone: None,
            items: None,
            comments: Some(vec![SharedText::from("よい職場です")]),
        };
        let json = serde_json::to_string(&group).expect("writes");
        assert!(
            json.contains(r#""scores":{"x":{"n":12,"mean":4.2"#),
            "{json}"
        );
        let read: GroupResult = serde_json::from_str(&json).expect("reads");
        assert_eq!(read, group);
        assert_eq!(serde_json::to_string(&read).expect("writes"), json);
    }

    #[test]
    fn a_score_frozen_before_issue_15_still_reads() {
        // A stored score from an older version has neither `rwg_slight_skew` nor
        // `reliability`: it must deserialise, with both missing.
        let mut value = serde_json::to_value(score(3.2, 0.8, 6)).expect("serialises");
        let object = value.as_object_mut().expect("an object");
        object.remove("rwg_slight_skew");
        object.remove("reliability");
        let old: DimensionScore = serde_json::from_value(value).expect("old results read");
        assert_eq!((old.rwg_slight_skew, old.reliability), (None, None));
        assert!((old.mean - 3.2).abs() < 1e-12);
    }

    #[test]
    fn the_zone_is_certain_only_when_both_axes_are() {
        let axis = |name: &str| DimensionMeta {
            id: name.into(),
            name_ja: name.into(),
            name_en: name.into(),
            higher_is_better: true,
            scale_min: 1,
            scale_max: 5,
            quadrant_axis: Some(if name == "x" {
                QuadrantAxis::X
            } else {
                QuadrantAxis::Y
            }),
        };
        let (x_axis, y_axis) = (axis("x"), axis("y"));
        let cut = QuadrantCut { x: 3.5, y: 3.5 };
        // x far above the cut, y at 3.9 with SD 0 in a team of 5: the floor makes y's
        // interval 3.9 ± 0.62, across the cut.
        let far = score(4.6, 0.5, 30);
        let close = score(3.9, 0.0, 5);
        let certainty = AxisCertainty::of((&far, &x_axis), (&close, &y_axis), cut);
        assert_eq!(certainty.x, Certainty::Certain);
        assert_eq!(certainty.y, Certainty::Borderline);
        assert_eq!(certainty.zone(), Certainty::Borderline);
        let both = AxisCertainty::of((&far, &x_axis), (&far, &y_axis), cut);
        assert_eq!(both.zone(), Certainty::Certain);
        // An undefined interval (n = 1) is never certain.
        let single = score(4.9, 0.0, 1);
        assert_eq!(
            Certainty::of(x_axis.zone_interval(&single), cut.x),
            Certainty::Borderline
        );
    }
}
