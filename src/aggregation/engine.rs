//! The aggregation engine: responses in, guarded results out.
//!
//! Responses are accumulated once at the workplace they answered for (and at their job-level
//! cuts), as additive moments and answer counts; every ancestor's figures are then the sum of
//! its children's. The guard decides what may be shown before any figure is written into the
//! results.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use rand::seq::SliceRandom;

use super::guard::{self, GroupKind, GuardGroup, HiddenReason, Thresholds};
use super::results::{
    AxisCertainty, Certainty, Change, DimensionMeta, DimensionScore, DimensionScores, GroupLevel,
    GroupResult, ItemResult, ItemTotal, QuadrantAxis, QuadrantCut, Reliability, SharedText,
    WaveResults, Zone,
};
use super::stats::{self, CovarianceAccumulator, Moments, Summary};
use crate::collection::answers::NO_ANSWER;
use crate::survey::{SurveyDefinition, Threshold};
use crate::wave_status::WaveStatus;

/// Answer slots per item: values 0..=10, then "no answer".
const SLOTS: usize = 12;
const MISSING_SLOT: usize = 11;
/// The promoter score is shown only for groups at least this large.
const MIN_PROMOTER_GROUP: u32 = 30;
/// Flags from the methodology (docs/methodology.md).
const LOW_ALPHA: f64 = 0.70;
const LOW_ITEM_TOTAL: f64 = 0.30;
const SPLIT_RWG: f64 = 0.50;
const REAL_CHANGE_Q: f64 = 0.05;
const REAL_CHANGE_DELTA: f64 = 0.3;

/// A workplace as aggregation sees it; `parent` indexes the same list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkplaceNode {
    pub code: String,
    pub name: String,
    pub parent: Option<usize>,
    pub headcount: Option<u32>,
    /// A merged reporting unit (集計単位) rather than a workplace of the organisation.
    pub reporting_unit: bool,
}

/// A wave's responses, column-wise: response r answered for `workplace[r]`, chose job-level
/// option `job_level[r]` (index into the definition's options, `None` if undisclosed) and its
/// answers are `answers[r * items .. (r + 1) * items]` in the stored encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseTable {
    pub workplace: Vec<u32>,
    pub job_level: Vec<Option<u16>>,
    pub answers: Vec<u8>,
}

impl ResponseTable {
    pub fn len(&self) -> usize {
        self.workplace.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workplace.is_empty()
    }
}

/// Everything one wave's results are computed from.
#[derive(Debug, Clone)]
pub struct WaveData {
    pub wave_id: i32,
    pub wave_name: String,
    pub wave_status: WaveStatus,
    pub definition: Arc<SurveyDefinition>,
    pub thresholds: Thresholds,
    pub workplaces: Vec<WorkplaceNode>,
    pub responses: ResponseTable,
    /// (workplace index, comment text): shared with the results that show it.
    pub comments: Vec<(usize, SharedText)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregationError {
    #[error("the definition's quadrant cut comes from a baseline wave, and none was given")]
    BaselineRequired,
    #[error("stored data does not match the wave's definition: {0}")]
    Inconsistent(String),
}

/// The groups of a wave: the organisation, every workplace, and job-level cuts of the
/// organisation and of each department (never of a smaller unit).
struct Layout {
    specs: Vec<GroupSpec>,
    /// Per group: the index of its first job-level cut (one per disclosed option).
    first_cut: Vec<Option<usize>>,
    /// Per workplace: the group of its department (its top-level ancestor).
    department: Vec<usize>,
    /// Every top-level unit's group. Each has job-level cuts in the layout (to count its
    /// cells of the job-level table), but only a unit with sub-units publishes them.
    top_level: Vec<usize>,
    /// Group indices, deepest first.
    bottom_up: Vec<usize>,
    /// Disclosed job levels (cuts per total).
    levels: usize,
}

struct GroupSpec {
    workplace: Option<usize>,
    job_level: Option<usize>,
    parent: Option<usize>,
    kind: GroupKind,
    depth: u32,
    /// False for the cuts of a top-level unit without sub-units: counted for the guard's
    /// job-level table, never shown and never listed (job level is never crossed with a
    /// single team).
    listed: bool,
}

const ORGANISATION: usize = 0;

fn workplace_group(workplace: usize) -> usize {
    workplace + 1
}

impl Layout {
    fn new(workplaces: &[WorkplaceNode], job_levels: usize) -> Result<Self, AggregationError> {
        let mut depth = vec![0u32; workplaces.len()];
        let mut department = vec![0usize; workplaces.len()];
        for w in 0..workplaces.len() {
            let (mut current, mut steps) = (w, 1u32);
            while let Some(parent) = workplaces[current].parent {
                if parent >= workplaces.len() || steps as usize > workplaces.len() {
                    return Err(AggregationError::Inconsistent(format!(
                        "workplace {} has a broken parent chain",
                        workplaces[w].code
                    )));
                }
                current = parent;
                steps += 1;
            }
            depth[w] = steps;
            department[w] = workplace_group(current);
        }
        let mut specs = vec![GroupSpec {
            workplace: None,
            job_level: None,
            parent: None,
            kind: GroupKind::Hierarchy,
            depth: 0,
            listed: true,
        }];
        for (w, node) in workplaces.iter().enumerate() {
            specs.push(GroupSpec {
                workplace: Some(w),
                job_level: None,
                parent: Some(node.parent.map_or(ORGANISATION, workplace_group)),
                kind: GroupKind::Hierarchy,
                depth: depth[w],
                listed: true,
            });
        }
        let mut first_cut = vec![None; specs.len()];
        // Job level is crossed with the organisation and with departments, never with a
        // single team: a top-level unit without sub-units gets no cuts.
        let mut has_children = vec![false; workplaces.len()];
        for node in workplaces {
            if let Some(parent) = node.parent {
                has_children[parent] = true;
            }
        }
        let top_level: Vec<usize> = if job_levels == 0 {
            Vec::new()
        } else {
            (0..workplaces.len())
                .filter(|&w| workplaces[w].parent.is_none())
                .map(workplace_group)
                .collect()
        };
        if job_levels > 0 {
            for total in std::iter::once(ORGANISATION).chain(top_level.iter().copied()) {
                let listed = specs[total].workplace.is_none_or(|w| has_children[w]);
                first_cut[total] = Some(specs.len());
                for level in 0..job_levels {
                    // The organisation's cuts come first, at first_cut[ORGANISATION] + level.
                    let level_total = first_cut[ORGANISATION]
                        .filter(|_| total != ORGANISATION)
                        .map(|first| first + level);
                    specs.push(GroupSpec {
                        workplace: specs[total].workplace,
                        job_level: Some(level),
                        parent: Some(total),
                        kind: GroupKind::JobLevelCut { level_total },
                        depth: specs[total].depth + 1,
                        listed,
                    });
                }
            }
        }
        first_cut.resize(specs.len(), None);
        let mut bottom_up: Vec<usize> = (0..specs.len()).collect();
        bottom_up.sort_by_key(|&g| std::cmp::Reverse(specs[g].depth));
        Ok(Layout {
            specs,
            first_cut,
            department,
            top_level,
            bottom_up,
            levels: job_levels,
        })
    }

    fn cut(&self, total: usize, level: usize) -> Option<usize> {
        self.first_cut[total].map(|first| first + level)
    }
}

/// Additive figures of every group: response counts, dimension-score moments and answer
/// counts per item.
struct Accumulators {
    dimensions: usize,
    items: usize,
    n: Vec<u32>,
    scores: Vec<Moments>,
    counts: Vec<u32>,
}

impl Accumulators {
    fn new(groups: usize, dimensions: usize, items: usize) -> Self {
        Accumulators {
            dimensions,
            items,
            n: vec![0; groups],
            scores: vec![Moments::default(); groups * dimensions],
            counts: vec![0; groups * items * SLOTS],
        }
    }

    /// Adds group `from`'s figures into group `into`.
    fn roll_up(&mut self, from: usize, into: usize) {
        self.n[into] += self.n[from];
        for d in 0..self.dimensions {
            let moments = self.scores[from * self.dimensions + d];
            self.scores[into * self.dimensions + d].add(&moments);
        }
        let width = self.items * SLOTS;
        for offset in 0..width {
            self.counts[into * width + offset] += self.counts[from * width + offset];
        }
    }

    /// Adds another part's figures for every group.
    fn merge(&mut self, other: &Accumulators) {
        for (total, part) in self.n.iter_mut().zip(&other.n) {
            *total += part;
        }
        for (total, part) in self.scores.iter_mut().zip(&other.scores) {
            total.add(part);
        }
        for (total, part) in self.counts.iter_mut().zip(&other.counts) {
            *total += part;
        }
    }

    fn score(&self, group: usize, dimension: usize) -> &Moments {
        &self.scores[group * self.dimensions + dimension]
    }

    fn item_counts(&self, group: usize, item: usize) -> &[u32] {
        let start = (group * self.items + item) * SLOTS;
        &self.counts[start..start + SLOTS]
    }
}

/// Responses below this count are scored on one thread.
const PARALLEL_FROM: usize = 20_000;
/// Fewer comments than this are sorted into their groups on the computing thread.
const PARALLEL_COMMENTS_FROM: usize = 1_000;
/// Results of fewer groups than this are written on one thread.
const PARALLEL_GROUPS_FROM: usize = 200;
const MAX_THREADS: usize = 4;

/// A recoded answer packed with its "answered" flag: adding the packed values of a
/// dimension's items gives the number answered (high half) and their sum (low half) at once.
const ANSWERED: u64 = 1 << 32;
const VALUE_MASK: u64 = ANSWERED - 1;
/// Recoding tables hold one entry per stored byte 0..=10, then one for anything else (no
/// answer, or a byte off every scale).
const RECODE_WIDTH: usize = 12;

/// The answer-count slot of every stored byte: its value, [`MISSING_SLOT`] for no answer,
/// and 10 for any other byte above 10 (as before: `min(10)`).
const SLOT_OF: [u8; 256] = {
    let mut table = [10u8; 256];
    let mut answer = 0;
    while answer <= 10 {
        table[answer] = answer as u8;
        answer += 1;
    }
    table[NO_ANSWER as usize] = MISSING_SLOT as u8;
    table
};

/// Responses scored together, position by position (see [`Scoring::accumulate`]).
const RESPONSE_BLOCK: usize = 64;

/// Dimensions of at most this many items look their respondent scores up in a table of
/// (answered, sum) instead of dividing; larger ones divide.
const SCORE_TABLE_ITEMS: usize = 16;

/// Complete rows are gathered this many at a time, item by item, and their products summed
/// in 16 bits (`BATCH` × 31² < 2^16) before they are added to the totals.
const BATCH: usize = 64;
const BATCHED_MAX_VALUE: u64 = 31;

/// Integer sums of one dimension's complete rows (values are at most 10, so every sum is
/// exact and converts to the same f64 that adding the values as floats gives).
struct CrossSums {
    items: usize,
    n: u64,
    sums: Vec<u64>,
    /// Row-major, upper triangle (j ≥ i) used.
    cross: Vec<u64>,
    /// Rows not yet in the sums, item by item (`batch[i * BATCH + r]`); empty where values
    /// can exceed [`BATCHED_MAX_VALUE`], and rows are then added one by one.
    batch: Vec<u16>,
    rows: usize,
}

impl CrossSums {
    fn new(items: usize, max_value: u64) -> Self {
        CrossSums {
            items,
            n: 0,
            sums: vec![0; items],
            cross: vec![0; items * items],
            batch: if max_value <= BATCHED_MAX_VALUE {
                vec![0; items * BATCH]
            } else {
                Vec::new()
            },
            rows: 0,
        }
    }

    fn push(&mut self, row: &[u32]) {
        if self.batch.is_empty() {
            self.add_row(row);
            return;
        }
        for (column, &x) in self.batch.chunks_exact_mut(BATCH).zip(row) {
            // At most BATCHED_MAX_VALUE: fits.
            column[self.rows] = x as u16;
        }
        self.rows += 1;
        if self.rows == BATCH {
            self.flush();
        }
    }

    /// Adds the gathered rows to the sums (needed before the sums are read or merged).
    fn flush(&mut self) {
        let rows = self.rows;
        if rows == 0 {
            return;
        }
        if rows < BATCH {
            for column in self.batch.chunks_exact_mut(BATCH) {
                column[rows..].fill(0);
            }
        }
        self.n += rows as u64;
        let items = self.items;
        let batch = &self.batch;
        for (i, a) in batch.chunks_exact(BATCH).enumerate() {
            self.sums[i] += a.iter().map(|&x| u64::from(x)).sum::<u64>();
            for (total, b) in self.cross[i * items + i..(i + 1) * items]
                .iter_mut()
                .zip(batch[i * BATCH..].chunks_exact(BATCH))
            {
                // Exact: every product is at most 31², and BATCH of them stay below 2^16.
                let dot = a
                    .iter()
                    .zip(b)
                    .fold(0u16, |sum, (&x, &y)| sum.wrapping_add(x.wrapping_mul(y)));
                *total += u64::from(dot);
            }
        }
        self.rows = 0;
    }

    fn add_row(&mut self, row: &[u32]) {
        self.n += 1;
        for (i, &x) in row.iter().enumerate() {
            self.sums[i] += u64::from(x);
            let cross = &mut self.cross[i * self.items + i..(i + 1) * self.items];
            for (total, &y) in cross.iter_mut().zip(&row[i..]) {
                *total += u64::from(x) * u64::from(y);
            }
        }
    }

    fn merge(&mut self, other: &CrossSums) {
        self.n += other.n;
        for (total, part) in self.sums.iter_mut().zip(&other.sums) {
            *total += part;
        }
        for (total, part) in self.cross.iter_mut().zip(&other.cross) {
            *total += part;
        }
    }

    fn covariance_accumulator(&self) -> CovarianceAccumulator {
        CovarianceAccumulator::from_sums(
            self.n,
            self.sums.iter().map(|&s| s as f64).collect(),
            self.cross.iter().map(|&s| s as f64).collect(),
        )
    }
}

/// One dimension as the response pass sees it: where its items sit in the pass's item order,
/// how many answers a score needs, and its respondent scores by (answered, sum).
struct DimensionPass {
    /// Its items are positions `start..end` of [`Scoring::item_at`].
    start: usize,
    end: usize,
    /// The answered items a score needs (two thirds, rounded up).
    required: u64,
    /// `sum / answered` and its square at `answered * stride + sum`, computed once with the
    /// same division and product the pass would do per response (so the same bits); empty
    /// for a dimension of more than [`SCORE_TABLE_ITEMS`] items, which divides.
    scores: Vec<(f64, f64)>,
    stride: u64,
}

impl DimensionPass {
    fn new(start: usize, end: usize, max_value: u64) -> Self {
        let members = (end - start) as u64;
        let required = (2 * members).div_ceil(3).max(1);
        let stride = members * max_value + 1;
        let scores = if end - start <= SCORE_TABLE_ITEMS {
            (0..=members)
                .flat_map(|answered| {
                    (0..stride).map(move |sum| {
                        let score = sum as f64 / answered as f64;
                        (score, score * score)
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        DimensionPass {
            start,
            end,
            required,
            scores,
            stride,
        }
    }

    /// A respondent's score and its square, from the number of items answered (at least
    /// `required`, so never zero) and the sum of their recoded values.
    fn score(&self, answered: u64, sum: u64) -> (f64, f64) {
        match self.scores.get((answered * self.stride + sum) as usize) {
            Some(&score) => score,
            None => {
                let score = sum as f64 / answered as f64;
                (score, score * score)
            }
        }
    }
}

/// Adds one respondent's score (and its square, computed as [`Moments::push`] would).
fn push_score(moments: &mut Moments, (score, square): (f64, f64)) {
    moments.n += 1;
    moments.sum += score;
    moments.sum_sq += square;
}

/// What scoring one response needs, as tables: each item's recoding, which items form each
/// dimension, and where a response's job level sends it.
struct Scoring<'a> {
    data: &'a WaveData,
    layout: &'a Layout,
    /// Items of each dimension.
    dimension_items: Vec<Vec<usize>>,
    /// The items in the pass's order: dimension by dimension, so each dimension's recoded
    /// answers lie side by side.
    item_at: Vec<usize>,
    dimensions: Vec<DimensionPass>,
    /// The largest recoded value.
    max_value: u64,
    /// Per position of [`Self::item_at`], per stored byte (see [`RECODE_WIDTH`]): the
    /// reverse-coded value with [`ANSWERED`], or 0 where the byte is no answer or off the
    /// item's scale.
    recode: Vec<u64>,
    /// Per job-level option: its disclosed level's index, if disclosed.
    level_of_option: Vec<Option<usize>>,
}

impl<'a> Scoring<'a> {
    fn new(data: &'a WaveData, layout: &'a Layout, job_levels: &[usize]) -> Self {
        let definition = &*data.definition;
        let dimension_items = definition.dimension_items();
        let item_at: Vec<usize> = dimension_items.iter().flatten().copied().collect();
        let mut recode = vec![0; item_at.len() * RECODE_WIDTH];
        for (&i, table) in item_at.iter().zip(recode.chunks_exact_mut(RECODE_WIDTH)) {
            let item = &definition.items[i];
            let scale = definition.scale_of(item);
            let (min, max) = (scale.min, scale.max);
            for answer in min..=max.min(10) {
                let value = if item.reverse {
                    min + max - answer
                } else {
                    answer
                };
                table[usize::from(answer)] = ANSWERED | u64::from(value);
            }
        }
        let max_value = recode.iter().map(|&v| v & VALUE_MASK).max().unwrap_or(0);
        let mut start = 0;
        let dimensions = dimension_items
            .iter()
            .map(|members| {
                let pass = DimensionPass::new(start, start + members.len(), max_value);
                start += members.len();
                pass
            })
            .collect();
        let options = definition.job_level.as_ref().map_or(0, |q| q.options.len());
        Scoring {
            data,
            layout,
            dimension_items,
            item_at,
            dimensions,
            max_value,
            recode,
            level_of_option: (0..options)
                .map(|o| job_levels.iter().position(|&j| j == o))
                .collect(),
        }
    }

    /// Scores every response. The response pass dominates; on a large wave it runs on every
    /// core and the parts' sums are added together (every accumulator is additive).
    fn accumulate_all(&self) -> (Accumulators, Vec<CovarianceAccumulator>) {
        let responses = self.data.responses.len();
        let parts = if responses >= PARALLEL_FROM {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_THREADS)
        } else {
            1
        };
        let chunk = responses.div_ceil(parts).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..parts)
                .map(|part| {
                    let range = part * chunk..((part + 1) * chunk).min(responses);
                    scope.spawn(move || self.accumulate(range))
                })
                .collect();
            self.combine(workers.into_iter().map(|worker| {
                // A panicking worker is a bug, not a data problem: surface it as such.
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }))
        })
    }

    /// Adds the parts' sums together, in order. The first part's sums are the running total:
    /// adding them to zeros would give the same bits, as every sum here is non-negative
    /// (never −0.0).
    fn combine(
        &self,
        mut parts: impl Iterator<Item = (Accumulators, Vec<CrossSums>)>,
    ) -> (Accumulators, Vec<CovarianceAccumulator>) {
        let (mut acc, mut cross) = parts.next().unwrap_or_else(|| self.accumulate(0..0));
        for (part, part_cross) in parts {
            acc.merge(&part);
            for (total, part) in cross.iter_mut().zip(&part_cross) {
                total.merge(part);
            }
        }
        let covariances = cross
            .iter()
            .map(CrossSums::covariance_accumulator)
            .collect();
        (acc, covariances)
    }

    /// Scores responses `range` (workplaces already checked) into fresh accumulators. A
    /// group's score moments are added in response order, as floats; everything else is
    /// integer counting.
    fn accumulate(&self, range: std::ops::Range<usize>) -> (Accumulators, Vec<CrossSums>) {
        let items = self.data.definition.items.len();
        let dimensions = self.dimensions.len();
        let responses = &self.data.responses;
        let mut acc = Accumulators::new(self.layout.specs.len(), dimensions, items);
        let mut cross: Vec<CrossSums> = self
            .dimension_items
            .iter()
            .map(|members| CrossSums::new(members.len(), self.max_value))
            .collect();
        let width = items * SLOTS;
        let positions = self.item_at.len();
        // A block of responses at a time, column by column: each position's packed answers
        // (`packed[p * RESPONSE_BLOCK + k]` for the block's response k), then each
        // dimension's sums (`totals[d * RESPONSE_BLOCK + k]`), so that neither loop walks
        // one response's scattered items. The responses are then taken in order, as before.
        let mut packed = vec![0u64; positions * RESPONSE_BLOCK];
        let mut totals = vec![0u64; dimensions * RESPONSE_BLOCK];
        let mut values = vec![0u32; positions];
        let mut block_start = range.start;
        while block_start < range.end {
            let block = block_start..(block_start + RESPONSE_BLOCK).min(range.end);
            let len = block.len();
            let block_answers = &responses.answers[block.start * items..block.end * items];
            for ((column, table), &item) in packed
                .chunks_exact_mut(RESPONSE_BLOCK)
                .zip(self.recode.chunks_exact(RECODE_WIDTH))
                .zip(&self.item_at)
            {
                for (slot, answers) in column[..len]
                    .iter_mut()
                    .zip(block_answers.chunks_exact(items))
                {
                    *slot = table[usize::from(answers[item].min(RECODE_WIDTH as u8 - 1))];
                }
            }
            for (dimension, sums) in self
                .dimensions
                .iter()
                .zip(totals.chunks_exact_mut(RESPONSE_BLOCK))
            {
                let sums = &mut sums[..len];
                sums.fill(0);
                for column in packed
                    [dimension.start * RESPONSE_BLOCK..dimension.end * RESPONSE_BLOCK]
                    .chunks_exact(RESPONSE_BLOCK)
                {
                    for (sum, &value) in sums.iter_mut().zip(&column[..len]) {
                        *sum += value;
                    }
                }
            }
            for (k, r) in block.clone().enumerate() {
                let answers = &block_answers[k * items..(k + 1) * items];
                let workplace = responses.workplace[r] as usize;
                let group = workplace_group(workplace);
                // Counted once, at the top-level unit's cut; those are added into the
                // organisation's later.
                let cut = responses.job_level[r]
                    .and_then(|o| self.level_of_option.get(usize::from(o)).copied().flatten())
                    .and_then(|level| self.layout.cut(self.layout.department[workplace], level));
                acc.n[group] += 1;
                if let Some(cut) = cut {
                    acc.n[cut] += 1;
                }
                for (d, dimension) in self.dimensions.iter().enumerate() {
                    let total = totals[d * RESPONSE_BLOCK + k];
                    let answered = total >> 32;
                    if answered < dimension.required {
                        continue;
                    }
                    let score = dimension.score(answered, total & VALUE_MASK);
                    push_score(&mut acc.scores[group * dimensions + d], score);
                    if let Some(cut) = cut {
                        push_score(&mut acc.scores[cut * dimensions + d], score);
                    }
                    let members = dimension.end - dimension.start;
                    if answered == members as u64 {
                        let row = &mut values[..members];
                        let columns = packed
                            [dimension.start * RESPONSE_BLOCK..dimension.end * RESPONSE_BLOCK]
                            .chunks_exact(RESPONSE_BLOCK);
                        for (value, column) in row.iter_mut().zip(columns) {
                            *value = (column[k] & VALUE_MASK) as u32;
                        }
                        cross[d].push(row);
                    }
                }
                for group in std::iter::once(group).chain(cut) {
                    let counts = &mut acc.counts[group * width..(group + 1) * width];
                    for (item, &answer) in counts.chunks_exact_mut(SLOTS).zip(answers) {
                        item[usize::from(SLOT_OF[usize::from(answer)])] += 1;
                    }
                }
            }
            block_start = block.end;
        }
        for cross in &mut cross {
            cross.flush();
        }
        (acc, cross)
    }
}

/// Computes a wave's guarded results; `previous` (the earlier wave's guarded results) adds the
/// change since then; `baseline` is the cut for definitions whose threshold rule is
/// `baseline_wave`.
///
/// The phases: check the data and lay out the groups, score every response into its
/// workplace (and job-level cut), roll the sums up the tree, let the guard decide what is
/// shown, compute the ICCs from the shown cells, then write each listed group's result.
pub fn compute(
    data: &WaveData,
    baseline: Option<QuadrantCut>,
    previous: Option<&WaveResults>,
) -> Result<WaveResults, AggregationError> {
    let definition = &*data.definition;
    let job_levels = disclosed_job_levels(definition);
    let cut = match definition.quadrant.threshold {
        Threshold::Fixed(value) => QuadrantCut { x: value, y: value },
        Threshold::BaselineWave => baseline.ok_or(AggregationError::BaselineRequired)?,
    };
    let layout = checked_layout(data, job_levels.len())?;
    let scoring = Scoring::new(data, &layout, &job_levels);
    let (mut acc, covariances) = scoring.accumulate_all();
    roll_up(&layout, &mut acc);
    // The comments are sorted into their groups on a second thread meanwhile (a large
    // wave's take about as long as the guard's decisions).
    let (shown, icc, comments) = std::thread::scope(|scope| {
        let comments = (data.comments.len() >= PARALLEL_COMMENTS_FROM)
            .then(|| scope.spawn(|| comments_by_group(&layout, &data.comments)));
        let shown = Shown::decide(&layout, &acc, definition, data.thresholds);
        let icc = icc_from_shown_cells(&layout, &acc, &shown.cell);
        let comments = match comments {
            // A panicking worker is a bug, not a data problem: surface it as such.
            Some(worker) => worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => comments_by_group(&layout, &data.comments),
        };
        (shown, icc, comments)
    });
    let assembly = Assembly {
        data,
        layout: &layout,
        acc: &acc,
        shown: &shown,
        icc: &icc,
        job_levels: &job_levels,
        dimension_items: &scoring.dimension_items,
        cut,
        previous,
    };
    let mut groups = assembly.groups(comments);
    if previous.is_some() {
        rate_changes(&mut groups, definition);
    }
    let reliability = if shown.group[ORGANISATION] {
        reliability(definition, &scoring.dimension_items, &covariances, &icc)
    } else {
        Vec::new()
    };
    let mut results = WaveResults {
        wave: data.wave_id,
        wave_name: data.wave_name.clone(),
        wave_status: data.wave_status,
        survey: definition.id.clone(),
        survey_version: definition.version,
        k: data.thresholds.k(),
        k2: data.thresholds.k2(),
        cut,
        previous_wave: previous.map(|p| p.wave),
        dimensions: dimension_meta(definition),
        groups,
        reliability,
    };
    results.withhold_narrowing_reasons();
    Ok(results)
}

/// The job-level options that are disclosed (one cut per total each), as option indices.
fn disclosed_job_levels(definition: &SurveyDefinition) -> Vec<usize> {
    definition
        .job_level
        .as_ref()
        .map(|q| {
            (0..q.options.len())
                .filter(|&o| !q.options[o].undisclosed)
                .collect()
        })
        .unwrap_or_default()
}

/// The groups of the wave, after checking that the stored responses fit the definition and
/// the workplaces.
fn checked_layout(data: &WaveData, job_levels: usize) -> Result<Layout, AggregationError> {
    let items = data.definition.items.len();
    if data.responses.answers.len() != data.responses.len() * items {
        return Err(AggregationError::Inconsistent(format!(
            "expected {items} answers per response"
        )));
    }
    let layout = Layout::new(&data.workplaces, job_levels)?;
    if data
        .responses
        .workplace
        .iter()
        .any(|&w| w as usize >= data.workplaces.len())
    {
        return Err(AggregationError::Inconsistent(
            "a response names an unknown workplace".into(),
        ));
    }
    Ok(layout)
}

/// Adds every group's figures into its totals: departments' job-level cuts into the
/// organisation's, then each workplace into its parent, deepest first.
fn roll_up(layout: &Layout, acc: &mut Accumulators) {
    for &department in &layout.top_level {
        for level in 0..layout.levels {
            if let (Some(from), Some(into)) = (
                layout.cut(department, level),
                layout.cut(ORGANISATION, level),
            ) {
                acc.roll_up(from, into);
            }
        }
    }
    for &group in &layout.bottom_up {
        let spec = &layout.specs[group];
        if let (Some(parent), GroupKind::Hierarchy) = (spec.parent, spec.kind) {
            acc.roll_up(group, parent);
        }
    }
}

/// The guard's decisions, per group: the group itself (k; cuts need k2), each dimension's
/// cell (k), the details (k2: item distributions and comments) and each item's distribution
/// (k2 answers to the item, where its cell is shown).
struct Shown {
    group: Vec<bool>,
    /// Per dimension, per group.
    cell: Vec<Vec<bool>>,
    detail: Vec<bool>,
    /// Per item, per group.
    item: Vec<Vec<bool>>,
}

impl Shown {
    fn decide(
        layout: &Layout,
        acc: &Accumulators,
        definition: &SurveyDefinition,
        thresholds: Thresholds,
    ) -> Self {
        let by_responses = guard_groups(layout, &|g| acc.n[g]);
        let tree = guard::GuardTree::new(&by_responses);
        let eligible: Vec<bool> = layout
            .specs
            .iter()
            .enumerate()
            .map(|(g, spec)| {
                spec.kind == GroupKind::Hierarchy || (spec.listed && acc.n[g] >= thresholds.k2())
            })
            .collect();
        let mut group = tree.visible(&by_responses, &eligible, thresholds.k());
        protect_cuts(layout, &by_responses, &mut group, thresholds.k2());
        let cell: Vec<Vec<bool>> = (0..definition.dimensions.len())
            .map(|d| {
                let by_cell = guard_groups(layout, &|g| acc.score(g, d).n as u32);
                let mut shown = tree.visible(&by_cell, &group, thresholds.k());
                protect_cuts(layout, &by_cell, &mut shown, thresholds.k());
                shown
            })
            .collect();
        let mut detail = tree.visible(&by_responses, &group, thresholds.k2());
        protect_cuts(layout, &by_responses, &mut detail, thresholds.k2());
        let item = definition
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let answered =
                    |g: usize| acc.n[g].saturating_sub(acc.item_counts(g, i)[MISSING_SLOT]);
                let by_item = guard_groups(layout, &answered);
                let eligible: Vec<bool> = (0..layout.specs.len())
                    .map(|g| detail[g] && cell[item.dimension][g])
                    .collect();
                let mut shown = tree.visible(&by_item, &eligible, thresholds.k2());
                protect_cuts(layout, &by_item, &mut shown, thresholds.k2());
                shown
            })
            .collect();
        Shown {
            group,
            cell,
            detail,
            item,
        }
    }
}

/// ICC from the shown cells only: their regions partition the respondents, and each region's
/// moments follow from the published n, mean and SD (docs/methodology.md §2).
fn icc_from_shown_cells(
    layout: &Layout,
    acc: &Accumulators,
    cell_shown: &[Vec<bool>],
) -> Vec<Option<stats::Icc>> {
    let parents: Vec<Option<usize>> = layout
        .specs
        .iter()
        .map(|spec| match spec.kind {
            GroupKind::Hierarchy => spec.parent,
            GroupKind::JobLevelCut { .. } => None,
        })
        .collect();
    cell_shown
        .iter()
        .enumerate()
        .map(|(d, shown)| {
            let moments: Vec<Moments> = (0..layout.specs.len()).map(|g| *acc.score(g, d)).collect();
            let hierarchy: Vec<bool> = layout
                .specs
                .iter()
                .enumerate()
                .map(|(g, spec)| spec.kind == GroupKind::Hierarchy && shown[g])
                .collect();
            stats::icc_from_moments(&stats::region_moments(&moments, &parents, &hierarchy))
        })
        .collect()
}

/// Each comment under its workplace and every ancestor (its text shared, not copied). Only
/// a group whose details the guard shows takes its comments ([`Assembly::group_run`]); the
/// others' lists are dropped unread.
fn comments_by_group(layout: &Layout, comments: &[(usize, SharedText)]) -> Vec<Vec<SharedText>> {
    let groups = layout.specs.len();
    let ancestors = |workplace: usize| {
        std::iter::successors(Some(workplace_group(workplace)), |&g| {
            layout.specs[g].parent
        })
    };
    let mut count = vec![0usize; groups];
    for (workplace, _) in comments {
        for g in ancestors(*workplace) {
            count[g] += 1;
        }
    }
    let mut by_group: Vec<Vec<SharedText>> = count.into_iter().map(Vec::with_capacity).collect();
    for (workplace, text) in comments {
        for g in ancestors(*workplace) {
            by_group[g].push(text.clone());
        }
    }
    by_group
}

/// Everything a group's result is written from, once the guard has decided.
struct Assembly<'a> {
    data: &'a WaveData,
    layout: &'a Layout,
    acc: &'a Accumulators,
    shown: &'a Shown,
    icc: &'a [Option<stats::Icc>],
    job_levels: &'a [usize],
    dimension_items: &'a [Vec<usize>],
    cut: QuadrantCut,
    /// The previous wave's results, for the change since then.
    previous: Option<&'a WaveResults>,
}

impl Assembly<'_> {
    /// Every listed group's result, in layout order, with the comments of each group
    /// ([`comments_by_group`]).
    fn groups(&self, comments: Vec<Vec<SharedText>>) -> Vec<GroupResult> {
        let parts = if self.layout.specs.len() >= PARALLEL_GROUPS_FROM {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_THREADS)
        } else {
            1
        };
        self.groups_with(parts, comments)
    }

    /// Every listed group's result, written by `parts` threads (each a run of groups, joined
    /// in layout order). Only the comments' random order differs with the split.
    #[cfg(test)]
    fn groups_in(&self, parts: usize) -> Vec<GroupResult> {
        self.groups_with(parts, comments_by_group(self.layout, &self.data.comments))
    }

    fn groups_with(&self, parts: usize, comments: Vec<Vec<SharedText>>) -> Vec<GroupResult> {
        let mut comments = comments;
        let definition = &*self.data.definition;
        // Every group's scores and distributions name the same dimensions and items: their
        // ids are shared.
        let ids = SharedIds::of(definition);
        let counterparts = self.previous.map(Counterparts::new);
        let chunk = self.layout.specs.len().div_ceil(parts.max(1)).max(1);
        if parts <= 1 {
            return self.group_run(0, 0, &mut comments, &ids, counterparts.as_ref());
        }
        // Where each run's first group will stand in the list: after the listed groups of
        // the runs before it.
        let mut place = 0;
        std::thread::scope(|scope| {
            let workers: Vec<_> = comments
                .chunks_mut(chunk)
                .enumerate()
                .map(|(part, comments)| {
                    let (ids, counterparts) = (&ids, counterparts.as_ref());
                    let first = part * chunk;
                    let first_place = place;
                    place += self.layout.specs[first..first + comments.len()]
                        .iter()
                        .filter(|spec| spec.listed)
                        .count();
                    scope.spawn(move || {
                        self.group_run(first, first_place, comments, ids, counterparts)
                    })
                })
                .collect();
            let mut groups = Vec::with_capacity(self.layout.specs.len());
            for worker in workers {
                // A panicking worker is a bug, not a data problem: surface it as such.
                groups.extend(
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            groups
        })
    }

    /// The listed groups among `first..first + comments.len()`, taking each one's comments;
    /// the first of them stands at `place` in the wave's list. With the previous wave's
    /// groups, each score's change since then, still without its q ([`rate_changes`]).
    fn group_run(
        &self,
        first: usize,
        mut place: usize,
        comments: &mut [Vec<SharedText>],
        ids: &SharedIds,
        counterparts: Option<&Counterparts<'_>>,
    ) -> Vec<GroupResult> {
        let mut rng = rand::rng();
        let mut groups = Vec::with_capacity(comments.len());
        for (g, comments) in (first..).zip(comments.iter_mut()) {
            // Taken here, so that a group without its details drops its list on this thread.
            let mut comments = std::mem::take(comments);
            let spec = &self.layout.specs[g];
            if !spec.listed {
                continue;
            }
            let mut result = self.identity(g, spec);
            self.add_hidden_reasons(&mut result, g, spec);
            if self.shown.group[g] {
                self.add_scores(&mut result, g, &ids.by_id);
            }
            if self.shown.detail[g] {
                result.items = Some(item_results(
                    &self.data.definition,
                    &ids.items,
                    self.acc,
                    g,
                    &self.shown.item,
                ));
                comments.shuffle(&mut rng);
                result.comments = Some(comments);
            }
            if let Some(counterparts) = counterparts {
                let before = counterparts.of(place, &result);
                add_change(&mut result, before);
            }
            groups.push(result);
            place += 1;
        }
        groups
    }

    /// Which group this is (workplace, level, parent, job level), with no figures yet.
    fn identity(&self, g: usize, spec: &GroupSpec) -> GroupResult {
        let workplaces = &self.data.workplaces;
        let workplace = spec.workplace.map(|w| &workplaces[w]);
        let job_level = spec.job_level.and_then(|level| {
            self.data
                .definition
                .job_level
                .as_ref()
                .map(|q| q.options[self.job_levels[level]].id.clone())
        });
        let parent = match spec.kind {
            GroupKind::Hierarchy => workplace
                .and_then(|w| w.parent)
                .map(|p| workplaces[p].code.clone()),
            GroupKind::JobLevelCut { .. } => workplace.map(|w| w.code.clone()),
        };
        let level = match (spec.kind, workplace) {
            (GroupKind::JobLevelCut { .. }, _) => GroupLevel::JobLevel,
            (_, None) => GroupLevel::Organisation,
            (_, Some(w)) if w.reporting_unit => GroupLevel::ReportingUnit,
            (_, Some(_)) => GroupLevel::Workplace,
        };
        GroupResult {
            workplace: workplace.map(|w| w.code.clone()),
            name: workplace.map_or_else(|| "組織全体".to_string(), |w| w.name.clone()),
            level,
            depth: spec.depth,
            parent,
            job_level,
            suppressed: !self.shown.group[g],
            hidden_reason: None,
            hidden_scores: BTreeMap::new(),
            details_hidden: None,
            n: None,
            scores: DimensionScores::new(),
            zone: None,
            certainty: None,
            previous_zone: None,
            items: None,
            comments: None,
        }
    }

    /// Why what is hidden is hidden: read off the guard's decisions, never feeding back.
    fn add_hidden_reasons(&self, result: &mut GroupResult, g: usize, spec: &GroupSpec) {
        let thresholds = self.data.thresholds;
        let (acc, shown) = (self.acc, self.shown);
        if !shown.group[g] {
            let total_shown = spec.parent.is_none_or(|p| shown.group[p]);
            let (threshold, total_matters) = match spec.kind {
                GroupKind::Hierarchy => (thresholds.k(), false),
                GroupKind::JobLevelCut { .. } => (thresholds.k2(), true),
            };
            result.hidden_reason = Some(HiddenReason::of(
                acc.n[g],
                threshold,
                !total_matters || total_shown,
            ));
            return;
        }
        for (d, dimension) in self.data.definition.dimensions.iter().enumerate() {
            if !shown.cell[d][g] {
                let n = acc.score(g, d).n as u32;
                result.hidden_scores.insert(
                    dimension.id.clone(),
                    HiddenReason::of(n, thresholds.k(), true),
                );
            }
        }
        if !shown.detail[g] {
            result.details_hidden = Some(HiddenReason::of(acc.n[g], thresholds.k2(), true));
        }
    }

    /// A shown group's count, its shown cells' scores, and its zone where both axes are shown.
    fn add_scores(
        &self,
        result: &mut GroupResult,
        g: usize,
        dimension_ids: &[(usize, SharedText)],
    ) {
        let definition = &*self.data.definition;
        // Every shown group's count is published: the means, SDs and intervals of a group
        // give its count back anyway (docs/methodology.md §6).
        result.n = Some(self.acc.n[g]);
        let per_workplace = matches!(
            result.level,
            GroupLevel::Workplace | GroupLevel::ReportingUnit
        );
        let mut variances = Vec::with_capacity(definition.items.len());
        result.scores = DimensionScores::with_capacity(definition.dimensions.len());
        // In the order of the ids, so that each score goes at the end.
        for &(d, ref id) in dimension_ids {
            if !self.shown.cell[d][g] {
                continue;
            }
            if let Some(mut score) = dimension_score(
                definition,
                self.acc,
                g,
                d,
                &self.dimension_items[d],
                &mut variances,
            ) {
                if per_workplace {
                    score.reliability =
                        self.icc[d].and_then(|icc| stats::mean_reliability(icc.icc1, score.n));
                }
                result.scores.insert(id.clone(), score);
            }
        }
        let quadrant = &definition.quadrant;
        let x = result.scores.get(&definition.dimensions[quadrant.x].id);
        let y = result.scores.get(&definition.dimensions[quadrant.y].id);
        if let (Some(x), Some(y)) = (x, y) {
            let cut = self.cut;
            let x_scale = definition.scale_of_dimension(quadrant.x);
            let y_scale = definition.scale_of_dimension(quadrant.y);
            result.zone = Some(Zone::from_position(x.mean, y.mean, cut.x, cut.y));
            result.certainty = Some(AxisCertainty {
                x: certainty(x, cut.x, (x_scale.min, x_scale.max)),
                y: certainty(y, cut.y, (y_scale.min, y_scale.max)),
            });
        }
    }
}

/// The dimensions' and items' ids, one shared copy each for every group's results.
struct SharedIds {
    /// Each dimension's index and id, in the order of the ids.
    by_id: Vec<(usize, SharedText)>,
    /// Each item's id and its dimension's.
    items: Vec<(SharedText, SharedText)>,
}

impl SharedIds {
    fn of(definition: &SurveyDefinition) -> Self {
        let dimensions: Vec<SharedText> = definition
            .dimensions
            .iter()
            .map(|dimension| SharedText::from(dimension.id.as_str()))
            .collect();
        let items = definition
            .items
            .iter()
            .map(|item| {
                // A checked definition's items name one of its dimensions
                // (`SurveyDefinition::dimension_of` indexes the same way).
                (
                    SharedText::from(item.id.as_str()),
                    dimensions[item.dimension].clone(),
                )
            })
            .collect();
        let mut by_id: Vec<(usize, SharedText)> = dimensions.into_iter().enumerate().collect();
        by_id.sort_by(|a, b| a.1.cmp(&b.1));
        SharedIds { by_id, items }
    }
}

/// What the results say of each dimension: names, direction, scale and quadrant axis.
fn dimension_meta(definition: &SurveyDefinition) -> Vec<DimensionMeta> {
    let quadrant = &definition.quadrant;
    definition
        .dimensions
        .iter()
        .enumerate()
        .map(|(d, dimension)| {
            let scale = definition.scale_of_dimension(d);
            DimensionMeta {
                id: dimension.id.clone(),
                name_ja: dimension.name.ja.clone(),
                name_en: dimension.name.en.clone(),
                higher_is_better: dimension.higher_is_better,
                scale_min: scale.min,
                scale_max: scale.max,
                quadrant_axis: if d == quadrant.x {
                    Some(QuadrantAxis::X)
                } else if d == quadrant.y {
                    Some(QuadrantAxis::Y)
                } else {
                    None
                },
            }
        })
        .collect()
}

fn guard_groups(layout: &Layout, n: &dyn Fn(usize) -> u32) -> Vec<GuardGroup> {
    layout
        .specs
        .iter()
        .enumerate()
        .map(|(g, spec)| GuardGroup {
            n: n(g),
            parent: spec.parent,
            kind: spec.kind,
        })
        .collect()
}

/// Job-level cuts of one statistic: a cut is shown only with its total, and the table of
/// top-level units × levels passes complete two-way complementary suppression
/// ([`guard::protect_cut_table`]).
fn protect_cuts(layout: &Layout, groups: &[GuardGroup], shown: &mut [bool], threshold: u32) {
    let Some(first) = layout.first_cut[ORGANISATION] else {
        return;
    };
    let levels = layout.levels;
    for (g, spec) in layout.specs.iter().enumerate() {
        if let (GroupKind::JobLevelCut { .. }, Some(total)) = (spec.kind, spec.parent) {
            if !shown[total] || !spec.listed {
                shown[g] = false;
            }
        }
    }
    if !shown[ORGANISATION] {
        return;
    }
    let mut counts = Vec::new();
    let mut cells = Vec::new();
    let mut may_split = Vec::new();
    let mut remainder: Vec<u32> = (0..levels).map(|l| groups[first + l].n).collect();
    let mut remainder_total = groups[ORGANISATION].n;
    for &unit in &layout.top_level {
        if !shown[unit] {
            continue;
        }
        let Some(start) = layout.first_cut[unit] else {
            continue;
        };
        let mut row: Vec<u32> = (0..levels).map(|l| groups[start + l].n).collect();
        for (rest, &cell) in remainder.iter_mut().zip(&row) {
            *rest = rest.saturating_sub(cell);
        }
        remainder_total = remainder_total.saturating_sub(groups[unit].n);
        let disclosed: u32 = row.iter().sum();
        row.push(groups[unit].n.saturating_sub(disclosed));
        counts.push(row);
        let listed = layout.specs[start].listed;
        cells.push(
            (0..levels)
                .map(|l| listed.then_some(start + l))
                .collect::<Vec<_>>(),
        );
        may_split.push(listed);
    }
    let disclosed: u32 = remainder.iter().sum();
    remainder.push(remainder_total.saturating_sub(disclosed));
    counts.push(remainder);
    cells.push(vec![None; levels]);
    may_split.push(false);
    let table = guard::CutTable {
        counts,
        cells,
        columns: (0..levels).map(|l| Some(first + l)).collect(),
        may_split,
    };
    guard::protect_cut_table(&table, groups, shown, threshold);
}

/// One axis's certainty: the zone interval the quadrant draws excludes the cut.
fn certainty(score: &DimensionScore, cut: f64, (min, max): (u8, u8)) -> Certainty {
    Certainty::of(
        stats::zone_interval(
            score.mean,
            score.sd,
            score.n as usize,
            f64::from(min),
            f64::from(max),
        ),
        cut,
    )
}

fn dimension_score(
    definition: &SurveyDefinition,
    acc: &Accumulators,
    group: usize,
    dimension: usize,
    members: &[usize],
    variances: &mut Vec<f64>,
) -> Option<DimensionScore> {
    let summary = acc.score(group, dimension).summary()?;
    let scale = definition.scale_of_dimension(dimension);
    let (min, max) = (scale.min, scale.max);
    let points = usize::from(max - min) + 1;

    // Top two boxes after reverse coding, pooled over the dimension's items.
    let mut pooled = [0u32; SLOTS];
    let pooled = &mut pooled[..points];
    variances.clear();
    let mut every_variance = true;
    for &i in members {
        let counts = acc.item_counts(group, i);
        let per_point = &counts[usize::from(min)..=usize::from(max)];
        let reverse = definition.items[i].reverse;
        for (offset, &count) in per_point.iter().enumerate() {
            pooled[if reverse { points - 1 - offset } else { offset }] += count;
        }
        let mut moments = Moments::default();
        for (offset, &count) in per_point.iter().enumerate() {
            moments.push_repeated(f64::from(min) + offset as f64, count);
        }
        match moments.variance() {
            Some(variance) => variances.push(variance),
            None => every_variance = false,
        }
    }
    let variances = every_variance.then_some(&variances[..]);
    let rwg = variances.and_then(|variances| stats::rwg_j_from_variances(variances, points));
    let rwg_slight_skew =
        variances.and_then(|variances| stats::rwg_j_slight_skew(variances, points));
    let promoter_score =
        (min == 0 && max == 10 && members.len() == 1 && summary.n as u32 >= MIN_PROMOTER_GROUP)
            .then(|| {
                let counts = acc.item_counts(group, members[0]);
                stats::promoter_score(&counts[..=10])
            })
            .flatten();
    Some(DimensionScore {
        n: summary.n as u32,
        mean: summary.mean,
        sd: summary.sd,
        ci95: summary.ci95,
        favourable: stats::favourable_share(pooled),
        display: stats::display_score(summary.mean, f64::from(min), f64::from(max)),
        rwg,
        views_split: rwg.is_some_and(|r| r < SPLIT_RWG),
        rwg_slight_skew,
        promoter_score,
        change: None,
        reliability: None,
    })
}

/// The distributions of the items shown for `group` (its cell shown, and the item's own
/// answers passing the guard at k2).
fn item_results(
    definition: &SurveyDefinition,
    item_ids: &[(SharedText, SharedText)],
    acc: &Accumulators,
    group: usize,
    item_shown: &[Vec<bool>],
) -> Vec<ItemResult> {
    let n = acc.n[group].max(1);
    let mut results = Vec::with_capacity(definition.items.len());
    let shown = definition
        .items
        .iter()
        .enumerate()
        .filter(|(i, _)| item_shown[*i][group])
        .map(|(i, item)| {
            let scale = definition.scale_of(item);
            let counts = acc.item_counts(group, i);
            let (id, dimension) = &item_ids[i];
            ItemResult {
                id: id.clone(),
                dimension: dimension.clone(),
                reverse: item.reverse,
                behaviour: item.behaviour,
                distribution: scale
                    .points()
                    .map(|v| (v, counts[usize::from(v)]))
                    .collect(),
                missing_rate: f64::from(counts[MISSING_SLOT]) / f64::from(n),
            }
        });
    // Sized once: a filtered iterator's collect would grow the list step by step.
    results.extend(shown);
    results
}

/// The previous wave's groups, where each group of this wave finds its counterpart.
struct Counterparts<'a> {
    previous: &'a WaveResults,
    /// By key, built only when a group is not at its own place in the previous list.
    by_key: OnceLock<HashMap<GroupKey<'a>, &'a GroupResult>>,
}

type GroupKey<'a> = (Option<&'a str>, Option<&'a str>);

impl<'a> Counterparts<'a> {
    fn new(previous: &'a WaveResults) -> Self {
        Counterparts {
            previous,
            by_key: OnceLock::new(),
        }
    }

    /// `group`'s counterpart: usually at the same `place` in the previous list (the same
    /// organisation, groups in the same order, and every group's key is unique), otherwise
    /// found by its key.
    fn of(&self, place: usize, group: &GroupResult) -> Option<&'a GroupResult> {
        let key = group.key();
        match self.previous.groups.get(place) {
            Some(before) if before.key() == key => Some(before),
            _ => self
                .by_key
                .get_or_init(|| self.previous.groups.iter().map(|g| (g.key(), g)).collect())
                .get(&key)
                .copied(),
        }
    }
}

/// The change since the previous wave of each score shown in both waves (Welch's test where
/// it is defined), and the previous zone where the zone is shown. The q of each test comes
/// later, from the whole wave ([`rate_changes`]); until then it is missing and no change is
/// real.
fn add_change(group: &mut GroupResult, before: Option<&GroupResult>) {
    let Some(before) = before else {
        return;
    };
    // Both groups' scores are in the order of their ids: one walk finds each counterpart
    // (the previous wave's ids are scattered in memory; a search per score touched each
    // several times).
    let mut earlier_scores = before.scores.iter().peekable();
    for (id, now) in group.scores.iter_mut() {
        let earlier = loop {
            match earlier_scores
                .peek()
                .map(|&(key, score)| (key.cmp(id), score))
            {
                Some((std::cmp::Ordering::Less, _)) => {
                    earlier_scores.next();
                }
                Some((std::cmp::Ordering::Equal, score)) => break Some(score),
                _ => break None,
            }
        };
        let Some(earlier) = earlier else {
            continue;
        };
        let previous_mean = earlier.mean;
        now.change = Some(match stats::welch(&summary_of(now), &summary_of(earlier)) {
            Some(welch) => Change {
                previous_mean,
                delta: welch.diff,
                ci95: Some(welch.ci95),
                p: Some(welch.p),
                q: None,
                real: false,
            },
            // Where the test is undefined the move is still a fact (the trajectory shows
            // it), just not one that can be called real.
            None => Change {
                previous_mean,
                delta: now.mean - previous_mean,
                ci95: None,
                p: None,
                q: None,
                real: false,
            },
        });
    }
    if group.zone.is_some() {
        group.previous_zone = before.zone;
    }
}

/// The Benjamini–Hochberg q of every tested change, in one family across every dimension and
/// group of the wave (docs/methodology.md §5), taken dimension by dimension in the
/// definition's order, each over the groups in list order; a change is real where q < .05
/// and |Δ| ≥ 0.3.
fn rate_changes(groups: &mut [GroupResult], definition: &SurveyDefinition) {
    // Each group's scores are kept in the order of their ids: walk them beside the
    // dimensions sorted the same way, once per group.
    let mut by_id: Vec<(&str, usize)> = definition
        .dimensions
        .iter()
        .enumerate()
        .map(|(d, dimension)| (dimension.id.as_str(), d))
        .collect();
    by_id.sort_unstable_by(|a, b| a.0.cmp(b.0));
    // Per dimension, in list order: (group, the score's place among its scores, p).
    let mut tested: Vec<Vec<(usize, usize, f64)>> = vec![Vec::new(); by_id.len()];
    for (index, group) in groups.iter().enumerate() {
        let mut next = 0;
        for (place, (id, score)) in group.scores.iter().enumerate() {
            // Both lists are sorted and without repeats: an id not found from `next` on is
            // not a dimension at all.
            let Some(offset) = by_id[next..].iter().position(|&(known, _)| known == id) else {
                continue;
            };
            let d = by_id[next + offset].1;
            next += offset + 1;
            if let Some(p) = score.change.and_then(|change| change.p) {
                tested[d].push((index, place, p));
            }
        }
    }
    // One family, dimension by dimension in the definition's order, each over the groups in
    // list order.
    let tested: Vec<(usize, usize, f64)> = tested.into_iter().flatten().collect();
    let p_values: Vec<f64> = tested.iter().map(|&(_, _, p)| p).collect();
    let q_values = stats::benjamini_hochberg(&p_values);
    for ((index, place, _), q) in tested.into_iter().zip(q_values) {
        let change = groups[index]
            .scores
            .value_at_mut(place)
            .and_then(|score| score.change.as_mut());
        if let Some(change) = change {
            change.q = Some(q);
            change.real = q < REAL_CHANGE_Q && change.delta.abs() >= REAL_CHANGE_DELTA;
        }
    }
}

fn summary_of(score: &DimensionScore) -> Summary {
    Summary {
        n: score.n as usize,
        mean: score.mean,
        sd: score.sd,
        ci95: score.ci95,
    }
}

fn reliability(
    definition: &SurveyDefinition,
    dimension_items: &[Vec<usize>],
    covariances: &[CovarianceAccumulator],
    icc: &[Option<stats::Icc>],
) -> Vec<Reliability> {
    definition
        .dimensions
        .iter()
        .enumerate()
        .map(|(d, dimension)| {
            let members = &dimension_items[d];
            let covariance = covariances[d].covariance();
            let alpha = covariance
                .as_ref()
                .and_then(|c| stats::cronbach_alpha_from_covariance(c, members.len()));
            let item_total = match &covariance {
                Some(c) if members.len() >= 2 => {
                    stats::item_rest_correlations_from_covariance(c, members.len())
                }
                _ => vec![None; members.len()],
            };
            Reliability {
                dimension: dimension.id.clone(),
                complete_cases: covariances[d].n(),
                alpha,
                alpha_low: alpha.is_some_and(|a| a < LOW_ALPHA),
                item_total: members
                    .iter()
                    .zip(item_total)
                    .map(|(&i, r)| ItemTotal {
                        item: definition.items[i].id.clone(),
                        r,
                        low: r.is_some_and(|r| r < LOW_ITEM_TOTAL),
                    })
                    .collect(),
                icc1: icc[d].map(|i| i.icc1),
                icc2: icc[d].map(|i| i.icc2),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregation::guard::Thresholds;

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
text = { ja = "1", en = "1" }
[[items]]
id = "ps2"
dimension = "ps"
scale = "agree5"
reverse = true
text = { ja = "2", en = "2" }
[[items]]
id = "hs1"
dimension = "hs"
scale = "agree5"
text = { ja = "3", en = "3" }
[job_level]
question = { ja = "職層", en = "Job level" }
options = [{ id = "manager", ja = "管理職", en = "Manager" }, { id = "staff", ja = "主事職", en = "Staff" }, { id = "undisclosed", ja = "答えたくない", en = "Prefer not to say", undisclosed = true }]
[quadrant]
x = "ps"
y = "hs"
threshold = { rule = "fixed", value = 3.5 }
"#;

    /// Organisation → D1 → {T1, T2}; D2 (no responses).
    fn workplaces() -> Vec<WorkplaceNode> {
        let node = |code: &str, parent: Option<usize>, headcount: Option<u32>| WorkplaceNode {
            code: code.into(),
            name: code.into(),
            parent,
            headcount,
            reporting_unit: false,
        };
        vec![
            node("D1", None, None),
            node("T1", Some(0), Some(12)),
            node("T2", Some(0), Some(6)),
            node("D2", None, Some(3)),
        ]
    }

    fn data(rows: &[(u32, Option<u16>, [u8; 3])]) -> WaveData {
        WaveData {
            wave_id: 1,
            wave_name: "w".into(),
            wave_status: WaveStatus::Closed,
            definition: Arc::new(
                SurveyDefinition::parse(DEFINITION, "mini.toml").expect("fixture"),
            ),
            thresholds: Thresholds::new(5, 10).expect("valid"),
            workplaces: workplaces(),
            responses: ResponseTable {
                workplace: rows.iter().map(|r| r.0).collect(),
                job_level: rows.iter().map(|r| r.1).collect(),
                answers: rows.iter().flat_map(|r| r.2).collect(),
            },
            comments: vec![(1, "コメント".into())],
        }
    }

    fn group<'a>(results: &'a WaveResults, code: Option<&str>) -> &'a GroupResult {
        results
            .groups
            .iter()
            .find(|g| g.workplace.as_deref() == code && g.job_level.is_none())
            .expect("group")
    }

    #[test]
    fn scores_use_reverse_coding_and_the_two_thirds_rule() {
        // Six respondents in T1: ps1 = 4, ps2 = 2 (reversed → 4), hs1 = 5 ⇒ ps 4.0, hs 5.0 ...
        let mut rows = vec![(1, None, [4, 2, 5]); 5];
        // ... and one who skipped ps2: 1 of 2 ps items < ⌈2/3·2⌉ = 2, so no ps score.
        rows.push((1, None, [2, NO_ANSWER, 3]));
        let results = compute(&data(&rows), None, None).expect("computed");
        let t1 = group(&results, Some("T1"));
        assert!(!t1.suppressed);
        let ps = &t1.scores["ps"];
        assert_eq!(ps.n, 5);
        assert!((ps.mean - 4.0).abs() < 1e-9);
        let hs = &t1.scores["hs"];
        assert_eq!(hs.n, 6);
        // (5·5 + 3) / 6
        assert!((hs.mean - 28.0 / 6.0).abs() < 1e-9);
        assert_eq!(t1.zone, Some(Zone::Learning));
        // Favourable: ps answers recoded 4,4,4,4,4,4(ps1 only: 2 → not favourable)… 10 of 11.
        assert!((ps.favourable.expect("share") - 10.0 / 11.0).abs() < 1e-9);
        // n is shown: T1's headcount 12 ≥ k2.
        assert_eq!(t1.n, Some(6));
    }

    #[test]
    fn small_groups_and_their_complements_are_suppressed_everywhere() {
        // T1: 8 responses, T2: 4 (below k). D1 − T1 would expose T2, so T1 is hidden too.
        let mut rows = vec![(1, Some(0), [4, 2, 4]); 8];
        rows.extend(vec![(2, Some(1), [1, 5, 1]); 4]);
        let results = compute(&data(&rows), None, None).expect("computed");
        for code in ["T1", "T2", "D2"] {
            let hidden = group(&results, Some(code));
            assert!(hidden.suppressed, "{code}");
            assert!(hidden.scores.is_empty() && hidden.n.is_none() && hidden.zone.is_none());
            assert!(hidden.items.is_none() && hidden.comments.is_none());
        }
        let d1 = group(&results, Some("D1"));
        assert!(!d1.suppressed);
        assert_eq!(d1.scores["ps"].n, 12);
        // Twelve responses: scores yes, but details (k2 = 10) too; job-level cuts of 8 and 4
        // are below k2 and so are hidden.
        assert!(d1.items.is_some());
        for cut in results.groups.iter().filter(|g| g.job_level.is_some()) {
            assert!(cut.suppressed, "{cut:?}");
        }
    }

    #[test]
    fn every_hidden_figure_says_why_it_is_hidden() {
        // T1: 8 responses, T2: 4 (below k): T2 is too small, T1 protects it; D2 has none.
        let mut rows = vec![(1, Some(0), [4, 2, 4]); 8];
        rows.extend(vec![(2, Some(1), [1, 5, 1]); 4]);
        let results = compute(&data(&rows), None, None).expect("computed");
        let reason = |code: &str| group(&results, Some(code)).hidden_reason;
        assert_eq!(reason("T2"), Some(HiddenReason::TooFewResponses));
        assert_eq!(reason("T1"), Some(HiddenReason::ProtectsSmallerGroup));
        assert_eq!(reason("D2"), Some(HiddenReason::TooFewResponses));
        let d1 = group(&results, Some("D1"));
        assert_eq!((d1.hidden_reason, d1.details_hidden), (None, None));
        assert!(d1.hidden_scores.is_empty());
        // D2 is hidden, so its job-level cuts are hidden with it (D2 has no sub-units, so it
        // has none listed); D1's cuts of 8 and 4 are below k2, which a cut never says: the
        // cut tables would give its bound more to subtract from.
        for cut in results.groups.iter().filter(|g| g.job_level.is_some()) {
            let expected = match cut.workplace.as_deref() {
                Some("D1") | None => HiddenReason::TooFewOrProtectsSmallerGroup,
                _ => HiddenReason::TotalHidden,
            };
            assert_eq!(cut.hidden_reason, Some(expected), "{cut:?}");
        }
        // A shown group of 12 (≥ k, < k2 of answers to hs1 …): details shown at 12 ≥ 10; a
        // group of 6 shows scores without details, and says why.
        let rows = vec![(1, None, [4, 2, 4]); 6];
        let results = compute(&data(&rows), None, None).expect("computed");
        let t1 = group(&results, Some("T1"));
        assert!(!t1.suppressed);
        assert_eq!(t1.details_hidden, Some(HiddenReason::TooFewResponses));
        // The reasons travel with the JSON.
        let json = serde_json::to_value(t1).expect("json");
        assert_eq!(json["details_hidden"], "too_few_responses");
    }

    #[test]
    fn a_small_team_that_answers_alike_is_not_certain() {
        // T1: five identical answers, ps = hs = 4.0, SD 0. The old rule (90% interval, no
        // floor) called this certain; with the SD floored at 0.5 the interval is
        // 4 ± t(0.975; 4) · 0.5/√5 = 4 ± 0.6208, which crosses the cut 3.5.
        let mut rows = vec![(1, None, [4, 2, 4]); 5];
        // T2: five at 5.0: 5 − 0.6208 > 3.5 on both axes, so certain.
        rows.extend(vec![(2, None, [5, 1, 5]); 5]);
        let results = compute(&data(&rows), None, None).expect("computed");
        let t1 = group(&results, Some("T1"));
        assert_eq!(t1.scores["ps"].sd, Some(0.0));
        let certainty = t1.certainty.expect("zone");
        assert_eq!(certainty.x, Certainty::Borderline);
        assert_eq!(certainty.zone(), Certainty::Borderline);
        let t2 = group(&results, Some("T2"));
        assert_eq!(t2.certainty.map(|c| c.zone()), Some(Certainty::Certain));
        // The page's recomputation agrees with the engine's.
        for g in &results.groups {
            assert_eq!(g.certainty, results.certainty_of(g), "{}", g.name);
        }
    }

    #[test]
    fn a_certain_zone_means_both_drawn_intervals_clear_their_cuts() {
        for seed in 0..20 {
            let results = compute(&random_wave(seed, false), None, None).expect("computed");
            let (x_axis, y_axis) = (
                results.axis(QuadrantAxis::X).expect("x"),
                results.axis(QuadrantAxis::Y).expect("y"),
            );
            for g in &results.groups {
                assert_eq!(
                    g.certainty,
                    results.certainty_of(g),
                    "seed {seed}: {}",
                    g.name
                );
                let Some(certainty) = g.certainty else {
                    continue;
                };
                let x = x_axis.zone_interval(&g.scores[&x_axis.id]);
                let y = y_axis.zone_interval(&g.scores[&y_axis.id]);
                let clears = |interval: Option<(f64, f64)>, cut: f64| {
                    interval.is_some_and(|(low, high)| low > cut || high < cut)
                };
                assert_eq!(
                    certainty.zone() == Certainty::Certain,
                    clears(x, results.cut.x) && clears(y, results.cut.y),
                    "seed {seed}: {}",
                    g.name
                );
                // The published 95% interval is never wider than the drawn one.
                if let (Some((low, high)), Some((zl, zh))) = (g.scores[&x_axis.id].ci95, x) {
                    assert!(zl <= low + 1e-12 && zh >= high - 1e-12);
                }
            }
        }
    }

    #[test]
    fn each_workplace_mean_carries_its_spearman_brown_reliability() {
        let mut with_reliability = 0;
        for seed in 0..20 {
            let results = compute(&random_wave(seed, false), None, None).expect("computed");
            for g in &results.groups {
                for (dimension, score) in &g.scores {
                    let icc1 = results
                        .reliability
                        .iter()
                        .find(|r| r.dimension == dimension)
                        .and_then(|r| r.icc1);
                    let expected = match g.level {
                        GroupLevel::Workplace | GroupLevel::ReportingUnit => {
                            icc1.and_then(|icc1| stats::mean_reliability(icc1, score.n))
                        }
                        _ => None,
                    };
                    // From the published ICC(1) and n only: nothing a reader could not compute.
                    assert_eq!(score.reliability, expected, "seed {seed}: {}", g.name);
                    with_reliability += usize::from(score.reliability.is_some());
                }
            }
        }
        assert!(with_reliability > 0);
    }

    #[test]
    fn change_against_the_previous_wave_is_flagged_only_when_real() {
        let before: Vec<_> = (0..10)
            .map(|i| (1, None, [2 + (i % 2) as u8, 4, 2]))
            .collect();
        let after: Vec<_> = (0..10)
            .map(|i| (1, None, [4 + (i % 2) as u8, 2, 4]))
            .collect();
        let previous = compute(&data(&before), None, None).expect("previous");
        let current = compute(&data(&after), None, Some(&previous)).expect("current");
        let t1 = group(&current, Some("T1"));
        let change = t1.scores["ps"].change.expect("change");
        // ps before: (2.5 + 2)/2 → mean of (2,2) and (3,2) = 2.25; after 4.25.
        assert!((change.delta - 2.0).abs() < 1e-9, "{change:?}");
        assert!(change.real);
        assert_eq!(t1.previous_zone, Some(Zone::Apathy));
        assert_eq!(t1.zone, Some(Zone::Learning));
        assert_eq!(current.previous_wave, Some(1));
    }

    #[test]
    fn a_move_without_any_spread_is_given_but_never_called_real() {
        // Everyone answers alike in both waves: Welch's test is undefined.
        let previous = compute(&data(&[(1, None, [2, 4, 2]); 10]), None, None).expect("previous");
        let current =
            compute(&data(&[(1, None, [4, 2, 4]); 10]), None, Some(&previous)).expect("current");
        let change = group(&current, Some("T1")).scores["ps"]
            .change
            .expect("the move is known");
        assert!((change.delta - 2.0).abs() < 1e-9, "{change:?}");
        assert!((change.previous_mean - 2.0).abs() < 1e-9, "{change:?}");
        assert_eq!((change.ci95, change.p, change.q), (None, None, None));
        assert!(!change.real);
    }

    #[test]
    fn comments_appear_only_in_groups_of_k2_in_random_order() {
        let wave_with = |t2_responses: usize| {
            let mut rows = vec![(1, None, [4, 2, 4]); 12];
            rows.extend(vec![(2, None, [3, 3, 3]); t2_responses]);
            let mut wave = data(&rows);
            wave.comments = (0..20)
                .map(|i| (1, format!("T1のコメント{i}").into()))
                .collect();
            wave.comments.push((2, "T2のコメント".into()));
            wave
        };
        // T1: 12 responses, T2: 10 — both reach k2.
        let wave = wave_with(10);
        let first = compute(&wave, None, None).expect("computed");
        assert_eq!(
            group(&first, Some("T1")).comments.as_ref().map(Vec::len),
            Some(20)
        );
        assert_eq!(
            group(&first, Some("T2")).comments.as_ref().map(Vec::len),
            Some(1)
        );
        assert_eq!(
            group(&first, Some("D1")).comments.as_ref().map(Vec::len),
            Some(21)
        );
        // Random order: two computations practically never agree (1 in 20!).
        let second = compute(&wave, None, None).expect("computed");
        assert_ne!(
            group(&first, Some("T1")).comments,
            group(&second, Some("T1")).comments
        );

        // T2 with 6: scores yes (≥ k), details no (< k2) — and T1's details go too, or D1's
        // comments minus T1's would be T2's.
        let results = compute(&wave_with(6), None, None).expect("computed");
        let (t1, t2) = (group(&results, Some("T1")), group(&results, Some("T2")));
        assert!(!t2.suppressed);
        assert!(t2.comments.is_none() && t2.items.is_none());
        assert!(t1.comments.is_none() && t1.items.is_none());
        assert_eq!(
            group(&results, Some("D1")).comments.as_ref().map(Vec::len),
            Some(21)
        );
    }

    #[test]
    fn a_baseline_cut_is_required_when_the_definition_asks_for_it() {
        let text = DEFINITION.replace(
            r#"{ rule = "fixed", value = 3.5 }"#,
            r#"{ rule = "baseline_wave" }"#,
        );
        let mut wave = data(&[]);
        wave.definition = Arc::new(SurveyDefinition::parse(&text, "mini.toml").expect("fixture"));
        assert_eq!(
            compute(&wave, None, None).err(),
            Some(AggregationError::BaselineRequired)
        );
        let cut = QuadrantCut { x: 3.2, y: 3.4 };
        assert_eq!(compute(&wave, Some(cut), None).expect("computed").cut, cut);
    }

    #[test]
    fn inconsistent_data_is_an_error_not_a_panic() {
        let mut wave = data(&[(1, None, [4, 2, 5])]);
        wave.responses.answers.pop();
        assert!(matches!(
            compute(&wave, None, None),
            Err(AggregationError::Inconsistent(_))
        ));
        let wave = data(&[(9, None, [4, 2, 5])]);
        assert!(matches!(
            compute(&wave, None, None),
            Err(AggregationError::Inconsistent(_))
        ));
    }

    fn audit(results: &WaveResults) -> Vec<crate::aggregation::disclosure::Finding> {
        crate::aggregation::disclosure::audit(results, &[]).findings
    }

    /// Route 1 of issue 11: ICC(1)/ICC(2) used every workplace, hidden ones included, so
    /// F = 1/(1 − ICC2) with the shown means solved a hidden team's mean. Now they are the
    /// ICC of the shown cells' regions, which the published n, mean and SD already give.
    #[test]
    fn route_1_reliability_figures_come_from_shown_groups_only() {
        // T1: 12 with spread; T2: 3 (hidden, and so T1 is hidden too: D1 − T1 = T2);
        // D2 (a single team): 6, shown.
        let mut rows: Vec<(u32, Option<u16>, [u8; 3])> = (0..12)
            .map(|i| (1, None, [2 + (i % 3) as u8, 3, 3]))
            .collect();
        rows.extend(vec![(2, None, [5, 1, 5]); 3]);
        rows.extend((0..6).map(|i| (3, None, [1 + (i % 2) as u8, 4, 2])));
        let results = compute(&data(&rows), None, None).expect("computed");
        assert!(group(&results, Some("T2")).suppressed);
        let ps = results
            .reliability
            .iter()
            .find(|r| r.dimension == "ps")
            .expect("reliability");
        // The regions of the shown ps cells: D1 (T1 and T2 together) and D2.
        let moments = |rows: &[(u32, Option<u16>, [u8; 3])], teams: &[u32]| {
            let mut m = Moments::default();
            for row in rows.iter().filter(|r| teams.contains(&r.0)) {
                m.push((f64::from(row.2[0]) + f64::from(6 - row.2[1])) / 2.0);
            }
            m
        };
        let from_shown =
            stats::icc_from_moments(&[moments(&rows, &[1, 2]), moments(&rows, &[3])]).expect("icc");
        assert!((ps.icc2.expect("icc2") - from_shown.icc2).abs() < 1e-12);
        assert!((ps.icc1.expect("icc1") - from_shown.icc1).abs() < 1e-12);
        let every_workplace = stats::icc_from_moments(&[
            moments(&rows, &[1]),
            moments(&rows, &[2]),
            moments(&rows, &[3]),
        ])
        .expect("icc");
        assert!((ps.icc2.expect("icc2") - every_workplace.icc2).abs() > 1e-3);
        assert_eq!(audit(&results), vec![]);
    }

    /// Route 2: the organisation's managers (17) minus D1's (12) gave the 5 managers of D2, a
    /// top-level team without sub-units. The column check now runs at k2 with every
    /// top-level unit as a row, so D1's cut goes (its column then holds two units).
    #[test]
    fn route_2_job_level_cuts_never_give_back_a_single_teams_level() {
        let mut rows = vec![(1, Some(0), [4, 2, 4]); 6];
        rows.extend(vec![(1, Some(1), [3, 3, 3]); 6]);
        rows.extend(vec![(2, Some(0), [2, 4, 2]); 6]);
        rows.extend(vec![(2, Some(1), [3, 2, 4]); 6]);
        rows.extend(vec![(3, Some(0), [5, 1, 5]); 5]);
        let results = compute(&data(&rows), None, None).expect("computed");
        let cut = |total: Option<&str>, level: &str| {
            results
                .groups
                .iter()
                .find(|g| g.workplace.as_deref() == total && g.job_level.as_deref() == Some(level))
                .expect("cut")
        };
        let (organisation, department) = (cut(None, "manager"), cut(Some("D1"), "manager"));
        assert!(
            organisation.suppressed || department.suppressed,
            "17 − 12 would be D2's five managers"
        );
        assert!(!results
            .groups
            .iter()
            .any(|g| g.job_level.is_some() && g.workplace.as_deref() == Some("D2")));
        assert_eq!(audit(&results), vec![]);
    }

    /// Route 4: a team of 10 where 8 chose 「わからない」 has its ps score hidden, yet its item
    /// list showed the other two people's answers. Items now need their cell shown and k2
    /// answers of their own.
    #[test]
    fn route_4_item_distributions_need_the_shown_cell_and_k2_answers() {
        let mut rows = vec![(1, None, [NO_ANSWER, NO_ANSWER, 4]); 8];
        rows.extend(vec![(1, None, [1, 5, 3]); 2]);
        let results = compute(&data(&rows), None, None).expect("computed");
        let t1 = group(&results, Some("T1"));
        assert!(!t1.suppressed);
        assert!(!t1.scores.contains_key("ps"), "two ps scores: hidden");
        let items = t1.items.as_ref().expect("details of a group of 10");
        assert_eq!(
            items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["hs1"],
            "ps1 and ps2 had two answers each"
        );
        assert_eq!(audit(&results), vec![]);
    }

    /// Route 5: SD and CI half-width gave back the count where n was hidden (headcount
    /// below k2). The count is now published for every shown cell, and agrees with them.
    #[test]
    fn route_5_every_shown_cell_publishes_the_n_its_interval_implies() {
        // T2's headcount is 6 (< k2): its n used to be hidden.
        let mut rows = vec![(2, None, [4, 2, 4]); 3];
        rows.extend(vec![(2, None, [3, 3, 2]); 3]);
        rows.extend(vec![(1, None, [4, 1, 4]); 12]);
        let results = compute(&data(&rows), None, None).expect("computed");
        let t2 = group(&results, Some("T2"));
        assert_eq!(t2.n, Some(6));
        let ps = &t2.scores["ps"];
        assert_eq!(ps.n, 6);
        let (low, high) = ps.ci95.expect("interval");
        let sd = ps.sd.expect("sd");
        let expected = stats::confidence_interval(ps.mean, sd, 6, 0.95).expect("ci");
        assert!((low - expected.0).abs() < 1e-12 && (high - expected.1).abs() < 1e-12);
        assert_eq!(audit(&results), vec![]);
    }

    /// A random organisation of depth 1–4 (reporting units among siblings), its responses
    /// (0–30 per workplace, heavy in "no answer", job levels or none) and its comments.
    fn random_wave(seed: u64, moved: bool) -> WaveData {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut workplaces: Vec<WorkplaceNode> = Vec::new();
        let mut depth: Vec<u32> = Vec::new();
        let count = rng.random_range(1..14usize);
        for i in 0..count {
            let parent = if i == 0 || rng.random_bool(0.3) {
                None
            } else {
                let candidates: Vec<usize> = (0..i).filter(|&p| depth[p] < 4).collect();
                candidates
                    .get(rng.random_range(0..candidates.len().max(1)))
                    .copied()
            };
            depth.push(parent.map_or(1, |p| depth[p] + 1));
            workplaces.push(WorkplaceNode {
                code: format!("W{i}"),
                name: format!("職場{i}"),
                parent,
                headcount: Some(rng.random_range(0..31)),
                reporting_unit: false,
            });
        }
        // An org change between waves: a leaf moves to another parent of the same depth.
        if moved && workplaces.len() > 2 {
            let last = workplaces.len() - 1;
            let has_children = workplaces.iter().any(|w| w.parent == Some(last));
            if !has_children {
                workplaces[last].parent = (0..last).find(|&p| depth[p] < 4 && p % 2 == 1);
            }
        }
        // A merged reporting unit of two siblings now and then.
        if rng.random_bool(0.5) {
            let pairs: Vec<(usize, usize)> = (0..workplaces.len())
                .flat_map(|a| (a + 1..workplaces.len()).map(move |b| (a, b)))
                .filter(|&(a, b)| workplaces[a].parent == workplaces[b].parent)
                .collect();
            if let Some(&(a, b)) = pairs.first() {
                let unit = workplaces.len();
                workplaces.push(WorkplaceNode {
                    code: "U1".into(),
                    name: "集計単位".into(),
                    parent: workplaces[a].parent,
                    headcount: None,
                    reporting_unit: true,
                });
                workplaces[a].parent = Some(unit);
                workplaces[b].parent = Some(unit);
            }
        }
        let mut responses = ResponseTable::default();
        let mut comments = Vec::new();
        for (w, node) in workplaces.iter().enumerate() {
            if node.reporting_unit {
                continue;
            }
            let size = if rng.random_bool(0.2) {
                0
            } else {
                rng.random_range(0..31)
            };
            for _ in 0..size {
                responses.workplace.push(w as u32);
                responses.job_level.push(match rng.random_range(0..5) {
                    0 => None,
                    level => Some((level % 3) as u16),
                });
                let heavy = rng.random_bool(0.3);
                for _ in 0..3 {
                    let missing = rng.random_bool(if heavy { 0.8 } else { 0.15 });
                    responses.answers.push(if missing {
                        NO_ANSWER
                    } else {
                        rng.random_range(1..=5)
                    });
                }
                if rng.random_bool(0.1) {
                    comments.push((w, "コメント".into()));
                }
            }
        }
        let k = rng.random_range(3..=6);
        WaveData {
            wave_id: 1,
            wave_name: "w".into(),
            wave_status: WaveStatus::Closed,
            definition: Arc::new(
                SurveyDefinition::parse(DEFINITION, "mini.toml").expect("fixture"),
            ),
            thresholds: Thresholds::new(k, 10.max(k)).expect("valid"),
            workplaces,
            responses,
            comments,
        }
    }

    /// The response pass as it was written before the integer tables (float values with NaN
    /// for no answer, one float covariance push per complete row): the reference the table
    /// pass must reproduce bit for bit, including its split into parts.
    fn reference_accumulate(
        data: &WaveData,
        layout: &Layout,
        job_levels: &[usize],
        parts: usize,
    ) -> (Accumulators, Vec<CovarianceAccumulator>) {
        let definition = &*data.definition;
        let items = definition.items.len();
        let dimension_items = definition.dimension_items();
        let recode: Vec<(u8, u8, bool)> = definition
            .items
            .iter()
            .map(|item| {
                let scale = definition.scale_of(item);
                (scale.min, scale.max, item.reverse)
            })
            .collect();
        let dimensions = dimension_items.len();
        let covariances = || -> Vec<CovarianceAccumulator> {
            dimension_items
                .iter()
                .map(|members| CovarianceAccumulator::new(members.len()))
                .collect()
        };
        let add_response =
            |acc: &mut Accumulators, group: usize, scores: &[Option<f64>], answers: &[u8]| {
                acc.n[group] += 1;
                for (d, score) in scores.iter().enumerate() {
                    if let Some(score) = score {
                        acc.scores[group * dimensions + d].push(*score);
                    }
                }
                let base = group * items * SLOTS;
                for (i, &answer) in answers.iter().enumerate() {
                    let slot = if answer == NO_ANSWER {
                        MISSING_SLOT
                    } else {
                        usize::from(answer.min(10))
                    };
                    acc.counts[base + i * SLOTS + slot] += 1;
                }
            };
        let responses = &data.responses;
        let chunk = responses.len().div_ceil(parts).max(1);
        let mut totals = (
            Accumulators::new(layout.specs.len(), dimensions, items),
            covariances(),
        );
        for part in 0..parts {
            let range = part * chunk..((part + 1) * chunk).min(responses.len());
            let mut acc = Accumulators::new(layout.specs.len(), dimensions, items);
            let mut part_covariances = covariances();
            let mut scores = vec![None; dimensions];
            let mut values = vec![f64::NAN; items];
            let mut complete_row: Vec<f64> = Vec::with_capacity(items);
            for r in range {
                let answers = &responses.answers[r * items..(r + 1) * items];
                let workplace = responses.workplace[r] as usize;
                for ((value, &answer), &(min, max, reverse)) in
                    values.iter_mut().zip(answers).zip(&recode)
                {
                    *value = if answer != NO_ANSWER && (min..=max).contains(&answer) {
                        f64::from(if reverse { min + max - answer } else { answer })
                    } else {
                        f64::NAN
                    };
                }
                for (d, members) in dimension_items.iter().enumerate() {
                    let (answered, sum) = members
                        .iter()
                        .map(|&i| values[i])
                        .filter(|v| !v.is_nan())
                        .fold((0usize, 0.0), |(count, sum), v| (count + 1, sum + v));
                    scores[d] = stats::respondent_score_from_sum(answered, sum, members.len());
                    if answered == members.len() {
                        complete_row.clear();
                        complete_row.extend(members.iter().map(|&i| values[i]));
                        part_covariances[d].push(&complete_row);
                    }
                }
                add_response(&mut acc, workplace_group(workplace), &scores, answers);
                let level = responses.job_level[r]
                    .and_then(|o| job_levels.iter().position(|&j| j == o as usize));
                if let Some(level) = level {
                    if let Some(cut_group) = layout.cut(layout.department[workplace], level) {
                        add_response(&mut acc, cut_group, &scores, answers);
                    }
                }
            }
            totals.0.merge(&acc);
            for (total, part) in totals.1.iter_mut().zip(&part_covariances) {
                total.merge(part);
            }
        }
        totals
    }

    /// Random responses to the shipped instrument (40 items, one of them 0–10), with every
    /// kind of stored byte: on and off each scale, no answer, and job-level options that are
    /// disclosed, undisclosed or unknown.
    fn random_responses(seed: u64, count: usize) -> WaveData {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let text = include_str!("../../survey-definitions/workplace-climate.toml");
        let definition =
            Arc::new(SurveyDefinition::parse(text, "workplace-climate.toml").expect("shipped"));
        let mut data =
            crate::demo::sample_wave_data(definition, 0, 0.5, Thresholds::default(), &mut rng);
        let items = data.definition.items.len();
        let workplaces = data.workplaces.len() as u32;
        let mut responses = ResponseTable::default();
        for _ in 0..count {
            responses.workplace.push(rng.random_range(0..workplaces));
            responses.job_level.push(match rng.random_range(0..6u16) {
                0 => None,
                option => Some(option - 1),
            });
            let heavy = rng.random_bool(0.2);
            for _ in 0..items {
                responses.answers.push(match rng.random_range(0..20) {
                    0 => rng.random_range(0..=u8::MAX),
                    1..=3 => NO_ANSWER,
                    _ if heavy && rng.random_bool(0.5) => NO_ANSWER,
                    _ => rng.random_range(0..=10),
                });
            }
        }
        data.responses = responses;
        data
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// The integer-table response pass gives exactly the reference's figures: every
        /// count, every float moment bit for bit, every covariance sum, in one part or many.
        #[test]
        fn the_table_pass_reproduces_the_reference_bit_for_bit(
            seed in proptest::prelude::any::<u64>(),
            count in 0usize..600,
            parts in 1usize..4,
        ) {
            let data = random_responses(seed, count);
            let job_levels = disclosed_job_levels(&data.definition);
            let layout = checked_layout(&data, job_levels.len()).expect("layout");
            let scoring = Scoring::new(&data, &layout, &job_levels);
            let chunk = count.div_ceil(parts).max(1);
            let (acc, covariances) = scoring.combine(
                (0..parts).map(|part| scoring.accumulate(part * chunk..((part + 1) * chunk).min(count))),
            );
            let (expected, expected_covariances) = reference_accumulate(&data, &layout, &job_levels, parts);
            proptest::prop_assert_eq!(&acc.n, &expected.n);
            proptest::prop_assert_eq!(&acc.counts, &expected.counts);
            let bits = |m: &[Moments]| -> Vec<(u64, u64, u64)> {
                m.iter().map(|m| (m.n, m.sum.to_bits(), m.sum_sq.to_bits())).collect()
            };
            proptest::prop_assert_eq!(bits(&acc.scores), bits(&expected.scores));
            proptest::prop_assert_eq!(format!("{covariances:?}"), format!("{expected_covariances:?}"));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// The auditor attacks every figure of random organisations, over three waves with
        /// organisation changes between them (a move, then another shape), and finds nothing.
        #[test]
        fn the_auditor_finds_nothing_in_random_organisations(seed in proptest::prelude::any::<u64>()) {
            let first = compute(&random_wave(seed, false), None, None).expect("first");
            proptest::prop_assert_eq!(audit(&first), vec![]);
            let mut second_data = random_wave(seed, true);
            second_data.wave_id = 2;
            let second = compute(&second_data, None, Some(&first)).expect("second");
            proptest::prop_assert_eq!(audit(&second), vec![]);
            // A third wave after a reorganisation of a different shape altogether.
            let mut third_data = random_wave(seed.rotate_left(17), true);
            third_data.wave_id = 3;
            let third = compute(&third_data, None, Some(&second)).expect("third");
            proptest::prop_assert_eq!(audit(&third), vec![]);
        }
    }

    /// Writing the groups' results on several threads gives the same results as one thread,
    /// in the same order, changes included; only the comments' random order may differ.
    #[test]
    fn results_written_in_parts_equal_those_written_on_one_thread() {
        let previous = compute(&random_responses(8, 3_000), None, None).expect("previous");
        let mut data = random_responses(7, 3_000);
        data.comments = (0..400)
            .map(|c| (c % data.workplaces.len(), format!("コメント{c}").into()))
            .collect();
        let definition = &*data.definition;
        let job_levels = disclosed_job_levels(definition);
        let layout = checked_layout(&data, job_levels.len()).expect("layout");
        let scoring = Scoring::new(&data, &layout, &job_levels);
        let (mut acc, _) = scoring.accumulate_all();
        roll_up(&layout, &mut acc);
        let shown = Shown::decide(&layout, &acc, definition, data.thresholds);
        let icc = icc_from_shown_cells(&layout, &acc, &shown.cell);
        let assembly = Assembly {
            data: &data,
            layout: &layout,
            acc: &acc,
            shown: &shown,
            icc: &icc,
            job_levels: &job_levels,
            dimension_items: &scoring.dimension_items,
            cut: QuadrantCut { x: 3.5, y: 3.5 },
            previous: Some(&previous),
        };
        let sorted = |mut groups: Vec<GroupResult>| {
            for group in &mut groups {
                if let Some(comments) = group.comments.as_mut() {
                    comments.sort();
                }
            }
            groups
        };
        let one = sorted(assembly.groups_in(1));
        assert!(one
            .iter()
            .any(|g| g.comments.as_ref().is_some_and(|c| !c.is_empty())));
        assert!(one.iter().any(|g| g.items.is_some()));
        assert!(one.iter().any(|g| g
            .scores
            .values()
            .any(|s| s.change.is_some_and(|c| c.p.is_some()))));
        for parts in 2..=4 {
            assert_eq!(sorted(assembly.groups_in(parts)), one);
        }
    }

    /// The change as the whole wave's pass computed it before the groups' threads took the
    /// Welch tests over: the reference the per-group changes must equal figure for figure.
    fn reference_changes(
        groups: &mut [GroupResult],
        previous: &WaveResults,
        definition: &SurveyDefinition,
    ) {
        let earlier: HashMap<_, _> = previous.groups.iter().map(|g| (g.key(), g)).collect();
        let counterpart: Vec<Option<&GroupResult>> = groups
            .iter()
            .map(|group| earlier.get(&group.key()).copied())
            .collect();
        let mut tests: Vec<(usize, &str, stats::Welch, f64)> = Vec::new();
        let mut untestable: Vec<(usize, &str, f64)> = Vec::new();
        for dimension in &definition.dimensions {
            for (index, group) in groups.iter().enumerate() {
                let Some(now) = group.scores.get(&dimension.id) else {
                    continue;
                };
                let Some(before) = counterpart[index].and_then(|g| g.scores.get(&dimension.id))
                else {
                    continue;
                };
                match stats::welch(&summary_of(now), &summary_of(before)) {
                    Some(welch) => tests.push((index, &dimension.id, welch, before.mean)),
                    None => untestable.push((index, &dimension.id, before.mean)),
                }
            }
        }
        let p: Vec<f64> = tests.iter().map(|(_, _, w, _)| w.p).collect();
        let q_values = stats::benjamini_hochberg(&p);
        for ((index, dimension, welch, previous_mean), q) in tests.into_iter().zip(q_values) {
            if let Some(score) = groups[index].scores.get_mut(dimension) {
                score.change = Some(Change {
                    previous_mean,
                    delta: welch.diff,
                    ci95: Some(welch.ci95),
                    p: Some(welch.p),
                    q: Some(q),
                    real: q < REAL_CHANGE_Q && welch.diff.abs() >= REAL_CHANGE_DELTA,
                });
            }
        }
        for (index, dimension, previous_mean) in untestable {
            if let Some(score) = groups[index].scores.get_mut(dimension) {
                score.change = Some(Change {
                    previous_mean,
                    delta: score.mean - previous_mean,
                    ci95: None,
                    p: None,
                    q: None,
                    real: false,
                });
            }
        }
        for (group, before) in groups.iter_mut().zip(counterpart) {
            if group.zone.is_some() {
                group.previous_zone = before.and_then(|g| g.zone);
            }
        }
    }

    /// Changes written per group on the groups' threads, with q taken over the whole wave
    /// afterwards, equal the whole-wave reference bit for bit (compared as JSON, which
    /// writes each float's shortest exact form): in one organisation, after a workplace
    /// moved, and in a reorganised one.
    #[test]
    fn changes_written_per_group_equal_the_whole_wave_reference() {
        let as_json = |mut groups: Vec<GroupResult>| {
            for group in &mut groups {
                if let Some(comments) = group.comments.as_mut() {
                    comments.sort();
                }
            }
            serde_json::to_string(&groups).expect("writes")
        };
        let mut pairs: Vec<(WaveData, WaveData)> = (0..3)
            .map(|seed| {
                (
                    random_responses(2 * seed, 3_000),
                    random_responses(2 * seed + 1, 3_000),
                )
            })
            .collect();
        // A wave whose every third workplace answers 1 throughout: changes that are real.
        let before = random_responses(6, 3_000);
        let mut after = before.clone();
        let items = after.definition.items.len();
        for (r, &workplace) in before.responses.workplace.iter().enumerate() {
            if workplace % 3 == 0 {
                after.responses.answers[r * items..(r + 1) * items].fill(1);
            }
        }
        pairs.push((before, after));
        for seed in 0..20 {
            pairs.push((random_wave(seed, false), random_wave(seed, true)));
            pairs.push((
                random_wave(seed, true),
                random_wave(seed.rotate_left(17), true),
            ));
        }
        let (mut tested, mut real) = (0, 0);
        for (before, now) in &pairs {
            let previous = compute(before, None, None).expect("previous");
            let mut expected = compute(now, None, None).expect("current");
            reference_changes(&mut expected.groups, &previous, &now.definition);
            let current = compute(now, None, Some(&previous)).expect("current");
            assert_eq!(as_json(current.groups.clone()), as_json(expected.groups));
            let changes = || {
                current
                    .groups
                    .iter()
                    .flat_map(|g| g.scores.values())
                    .filter_map(|s| s.change)
            };
            tested += changes().filter(|c| c.q.is_some()).count();
            real += changes().filter(|c| c.real).count();
        }
        assert!(tested > 100 && real > 0, "{tested} tests, {real} real");
    }

    /// The auditor's non-linear routes catch a leaked figure: an ICC that is not the shown
    /// cells', an item distribution without k2 answers, a shown group without its n.
    #[test]
    fn the_auditor_catches_each_non_linear_route() {
        use crate::aggregation::disclosure::Route;
        let mut rows: Vec<(u32, Option<u16>, [u8; 3])> = (0..12)
            .map(|i| (1, None, [2 + (i % 3) as u8, 3, 3]))
            .collect();
        rows.extend((0..10).map(|i| (2, None, [1 + (i % 2) as u8, 4, 2])));
        let results = compute(&data(&rows), None, None).expect("computed");
        assert_eq!(audit(&results), vec![]);
        let routes = |results: &WaveResults| -> Vec<Route> {
            audit(results).into_iter().map(|f| f.route).collect()
        };

        let mut leaked = results.clone();
        if let Some(icc2) = leaked.reliability[0].icc2.as_mut() {
            *icc2 += 0.01;
        }
        assert_eq!(routes(&leaked), [Route::Reliability]);

        let mut leaked = results.clone();
        let t1 = leaked
            .groups
            .iter_mut()
            .find(|g| g.workplace.as_deref() == Some("T1"))
            .expect("T1");
        if let Some(item) = t1.items.as_mut().and_then(|items| items.first_mut()) {
            item.distribution = vec![(1, 2), (2, 0), (3, 0), (4, 0), (5, 0)].into();
        }
        assert!(routes(&leaked).contains(&Route::Distribution));

        let mut leaked = results;
        leaked.groups[0].n = None;
        assert!(routes(&leaked).contains(&Route::SpreadAndInterval));
    }
}
