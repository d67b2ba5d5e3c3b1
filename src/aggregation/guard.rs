//! The anonymity guard: the minimum group sizes that decide what any output may show.

use std::fmt;

/// The floor below which k may never be set, whatever the configuration says.
pub const MIN_K: u32 = 3;
pub const DEFAULT_K: u32 = 5;
/// Japan's Stress Check group analysis uses 10 as its minimum group.
pub const DEFAULT_K2: u32 = 10;

/// k: scores need at least k responses. k2: item distributions, comments and job-level cuts
/// need at least k2. Locked for a wave once its first response is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    k: u32,
    k2: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("k = {0} is below the minimum of {MIN_K}")]
    KTooSmall(u32),
    #[error("k2 = {k2} must be at least k = {k}")]
    K2BelowK { k: u32, k2: u32 },
}

impl Thresholds {
    pub fn new(k: u32, k2: u32) -> Result<Self, ThresholdError> {
        if k < MIN_K {
            return Err(ThresholdError::KTooSmall(k));
        }
        if k2 < k {
            return Err(ThresholdError::K2BelowK { k, k2 });
        }
        Ok(Thresholds { k, k2 })
    }

    pub fn k(&self) -> u32 {
        self.k
    }

    pub fn k2(&self) -> u32 {
        self.k2
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            k: DEFAULT_K,
            k2: DEFAULT_K2,
        }
    }
}

impl fmt::Display for Thresholds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "k = {}, k2 = {}", self.k, self.k2)
    }
}

/// A response count of an **open** wave as it may be shown: in steps of k, so that one
/// answer moves the figure at most once in k answers and a watcher cannot tell from the
/// count that a person they saw answering has answered (issue 11, route 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SteppedCount {
    /// The count rounded down to a multiple of k: the true count is `at_least` … `at_least + k − 1`.
    pub at_least: u64,
    pub step: u32,
}

impl SteppedCount {
    pub fn new(count: u64, k: u32) -> SteppedCount {
        let step = k.max(1);
        SteppedCount {
            at_least: count / u64::from(step) * u64::from(step),
            step,
        }
    }

    /// The highest count the step allows.
    pub fn at_most(self) -> u64 {
        self.at_least + u64::from(self.step) - 1
    }

    /// "10–14", or "0–4" below the first step.
    pub fn range(self) -> String {
        format!("{}–{}", self.at_least, self.at_most())
    }

    /// A workplace where even the upper end is below half the codes issued needs a reminder.
    pub fn needs_reminder(self, issued: u64) -> bool {
        issued > 0 && self.at_most() * 2 < issued
    }
}

/// Why the guard hides a figure, so that a page can say so in words that fit the case
/// (`hidden_*` in the message catalogue) and what HR can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenReason {
    /// The group itself has fewer responses (or answers) than the threshold.
    TooFewResponses,
    /// The group has enough, but showing it beside its enclosing group would let a smaller
    /// neighbouring group be worked out by subtraction (complementary suppression).
    ProtectsSmallerGroup,
    /// A job-level cut whose total (its department or the organisation) is hidden.
    TotalHidden,
    /// Hidden, without saying on which side of the threshold the group's own count lies:
    /// where saying so could be subtracted into a narrower count ([`reasons_may_be_stated`]).
    TooFewOrProtectsSmallerGroup,
}

impl HiddenReason {
    /// The reason a figure of `n` responses is hidden at `threshold`: too few of its own,
    /// else hidden with its total, else complementary suppression. Call it only for a figure
    /// the guard hid; it does not decide anything.
    pub fn of(n: u32, threshold: u32, total_shown: bool) -> HiddenReason {
        if !total_shown {
            HiddenReason::TotalHidden
        } else if n < threshold {
            HiddenReason::TooFewResponses
        } else {
            HiddenReason::ProtectsSmallerGroup
        }
    }

    /// The key of the explanation in the message catalogue (`templates/messages.toml`).
    pub fn message_key(self) -> &'static str {
        match self {
            HiddenReason::TooFewResponses => "hidden_too_few_responses",
            HiddenReason::ProtectsSmallerGroup => "hidden_protects_smaller_group",
            HiddenReason::TotalHidden => "hidden_total_hidden",
            HiddenReason::TooFewOrProtectsSmallerGroup => {
                "hidden_too_few_or_protects_smaller_group"
            }
        }
    }

    /// Whether the reason says on which side of the threshold the group's own count lies.
    pub fn bounds_the_count(self) -> bool {
        matches!(
            self,
            HiddenReason::TooFewResponses | HiddenReason::ProtectsSmallerGroup
        )
    }
}

/// A group of the organisation tree as the published results show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedGroup {
    pub parent: Option<usize>,
    /// The published count; `None` for a hidden group.
    pub n: Option<u32>,
}

/// Which hidden groups of the organisation tree may say on which side of `threshold` their own
/// count lies (too few answers, or hidden to protect a smaller neighbour).
///
/// Such a reason is a bound, and bounds add up. Below a shown group S, the published figures
/// leave R responses: S's count minus its nearest shown descendants'. They are shared by the
/// hidden groups below S and S's own members. With R = k + 1 and two hidden teams, one said to
/// have at least k and the other fewer than k, the second had exactly one response (or none).
/// So a reason is stated only by the *innermost* hidden groups of a region (no hidden group
/// below them, so their bounds are about disjoint sets) and only where R is at least their
/// number times `threshold`. Then a team said to have fewer than k keeps every count from 0
/// to k − 1 open: the others' lower bounds take at most (their number) × k from R, and they
/// cannot all be small, since R is larger than that many small teams could hold.
/// Every other hidden group gets the combined wording, except where nothing is left (R = 0). Groups with no shown ancestor are all
/// below the threshold (the organisation itself is hidden), which their reasons only repeat.
///
/// The rule reads published figures only, so whether a reason is withheld gives nothing
/// away either. `disclosure::reason_routes` attacks the stated reasons as an attacker would.
pub fn reasons_may_be_stated(groups: &[PublishedGroup], threshold: u32) -> Vec<bool> {
    let nearest_shown_ancestor = |mut group: usize| {
        while let Some(parent) = groups[group].parent {
            if groups[parent].n.is_some() {
                return Some(parent);
            }
            group = parent;
        }
        None
    };
    let region_of: Vec<Option<usize>> = (0..groups.len()).map(nearest_shown_ancestor).collect();
    let mut has_hidden_child = vec![false; groups.len()];
    let mut covered = vec![0u64; groups.len()];
    for (group, published) in groups.iter().enumerate() {
        match (published.n, published.parent) {
            (None, Some(parent)) if groups[parent].n.is_none() => has_hidden_child[parent] = true,
            (Some(n), _) => {
                if let Some(region) = region_of[group] {
                    covered[region] += u64::from(n);
                }
            }
            _ => {}
        }
    }
    let innermost = |group: usize| groups[group].n.is_none() && !has_hidden_child[group];
    let mut stating = vec![0u64; groups.len()];
    for group in (0..groups.len()).filter(|&g| innermost(g)) {
        if let Some(region) = region_of[group] {
            stating[region] += 1;
        }
    }
    (0..groups.len())
        .map(|group| {
            if groups[group].n.is_some() {
                return false;
            }
            match region_of[group] {
                None => true,
                Some(region) => {
                    let remainder = groups[region]
                        .n
                        .map_or(0, u64::from)
                        .saturating_sub(covered[region]);
                    // Nothing left below the region: every hidden group in it has none, as the
                    // published counts already say.
                    remainder == 0
                        || (innermost(group) && remainder >= stating[region] * u64::from(threshold))
                }
            }
        })
        .collect()
}

/// Whether a group is part of the organisation tree or a job-level cut of a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// The organisation, a 部, 課 or 係: its parent is the enclosing unit.
    Hierarchy,
    /// A job-level cut: its parent is the total (a department or the organisation) it splits.
    /// A department's cut also lies within the organisation's cut of the same level,
    /// `level_total`: the organisation's managers minus the departments' managers are the
    /// managers elsewhere, so that difference is protected too.
    JobLevelCut { level_total: Option<usize> },
}

/// A group as the guard sees it: how many responses it holds and where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardGroup {
    pub n: u32,
    pub parent: Option<usize>,
    pub kind: GroupKind,
}

/// Decides which groups may be shown for one statistic with minimum size `threshold`.
///
/// A group is shown when it is `eligible`, has at least `threshold` responses, and survives
/// complementary suppression: within the organisation tree, every shown group's *region* — its
/// responses minus those of its largest shown descendants — must be 0 or at least `threshold`,
/// because that region is exactly what subtraction reveals. In a tree (a laminar family) every
/// set that sums and differences of shown groups can isolate is a union of such regions, so
/// this check is complete. Groups are processed bottom-up; when a region is too small, the
/// smallest shown descendant bounding it is suppressed and the region checked again. Job-level
/// cuts are checked the same way against their total.
pub fn visible_groups(groups: &[GuardGroup], eligible: &[bool], threshold: u32) -> Vec<bool> {
    GuardTree::new(groups).visible(groups, eligible, threshold)
}

/// The shape of the groups (children, cuts, the bottom-up order), built once and reused by
/// every pass of the guard over the same groups.
#[derive(Debug, Clone)]
pub struct GuardTree {
    hierarchy_children: Vec<Vec<usize>>,
    cuts: Vec<Vec<usize>>,
    level_parts: Vec<Vec<usize>>,
    bottom_up: Vec<usize>,
}

impl GuardTree {
    pub fn new(groups: &[GuardGroup]) -> GuardTree {
        let mut hierarchy_children: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
        let mut cuts: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
        let mut level_parts: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
        for (index, group) in groups.iter().enumerate() {
            match (group.kind, group.parent) {
                (GroupKind::Hierarchy, Some(parent)) => hierarchy_children[parent].push(index),
                (GroupKind::JobLevelCut { level_total }, Some(parent)) => {
                    cuts[parent].push(index);
                    if let Some(level_total) = level_total {
                        level_parts[level_total].push(index);
                    }
                }
                (_, None) => {}
            }
        }
        let depth = depths(groups);
        let mut bottom_up: Vec<usize> = (0..groups.len())
            .filter(|&i| groups[i].kind == GroupKind::Hierarchy)
            .collect();
        bottom_up.sort_by_key(|&i| std::cmp::Reverse(depth[i]));
        GuardTree {
            hierarchy_children,
            cuts,
            level_parts,
            bottom_up,
        }
    }

    /// [`visible_groups`] for groups of this shape (`groups` gives each one's count).
    pub fn visible(&self, groups: &[GuardGroup], eligible: &[bool], threshold: u32) -> Vec<bool> {
        let mut shown: Vec<bool> = groups
            .iter()
            .zip(eligible)
            .map(|(group, eligible)| *eligible && group.n >= threshold)
            .collect();
        // One stack for every region's walk: most regions pass at the first look.
        let mut stack: Vec<usize> = Vec::new();
        for &group in &self.bottom_up {
            while shown[group] {
                stack.clear();
                stack.extend_from_slice(&self.hierarchy_children[group]);
                let mut covered = 0u32;
                while let Some(next) = stack.pop() {
                    if shown[next] {
                        covered += groups[next].n;
                    } else {
                        stack.extend_from_slice(&self.hierarchy_children[next]);
                    }
                }
                let region = groups[group].n.saturating_sub(covered);
                if region == 0 || region >= threshold {
                    break;
                }
                let bounds = bounding_shown_descendants(group, &self.hierarchy_children, &shown);
                match bounds.iter().copied().min_by_key(|&b| (groups[b].n, b)) {
                    Some(smallest) => shown[smallest] = false,
                    None => shown[group] = false,
                }
            }
        }
        // Job-level cuts form a table (departments × levels): each total's cuts ("rows") and
        // each organisation-level cut's department parts ("columns") leave 0 or ≥ threshold.
        // Suppressing only ever grows the other residuals, so one pass of each suffices.
        for partition in [&self.cuts, &self.level_parts] {
            for (total, parts) in partition.iter().enumerate() {
                if !parts.is_empty() {
                    protect_region(total, threshold, groups, &mut shown, |shown| {
                        parts.iter().copied().filter(|&c| shown[c]).collect()
                    });
                }
            }
        }
        shown
    }
}

/// The job-level table of one statistic, for complete two-way complementary suppression.
///
/// Rows: every top-level unit shown for this statistic, and one **remainder** row holding
/// everything else (hidden top-level units). Columns: every disclosed job level, and the
/// remainder column (no level or "prefer not to say"), which is never published. A row's
/// total is known (a shown unit's count; the remainder is the organisation's minus the shown
/// units'). Published are the organisation's cut of a level (a column total) and a
/// department's cut (a cell). `counts[r][c]` holds the statistic's count of each cell;
/// `cells[r][c]` the group index of a department cut published in that cell, if any;
/// `columns[c]` the group index of the organisation's cut of level `c`.
#[derive(Debug, Clone)]
pub struct CutTable {
    pub counts: Vec<Vec<u32>>,
    pub cells: Vec<Vec<Option<usize>>>,
    pub columns: Vec<Option<usize>>,
    /// Whether a row may be split by job level at all (a department with cuts); a single team
    /// and the remainder row may not: no part of them by level may be derivable.
    pub may_split: Vec<bool>,
}

/// A derivable set of a cut table that splits rows by job level: its count and the rows it
/// reaches (with a positive count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedSplit {
    pub count: u32,
    pub rows: Vec<usize>,
    /// The published groups whose figures derive it (their suppression removes this path).
    pub through: Vec<usize>,
}

impl CutTable {
    fn published(&self, row: usize, column: usize, shown: &[bool]) -> bool {
        self.cells[row][column].is_some_and(|g| shown[g])
    }

    fn column_published(&self, column: usize, shown: &[bool]) -> bool {
        self.columns[column].is_some_and(|g| shown[g])
    }

    /// The first set that sums and differences of the published figures isolate inside the
    /// table, that splits some row by level, and that gives away fewer than `threshold`
    /// responses or part of a row that may not be split.
    ///
    /// Row totals are known, so a derived set is given by a potential p per row (0 or 1: every
    /// row has an unpublished remainder cell tied to the never-published remainder column)
    /// and per published column (p(c) ∈ {p(r) − 1, p(r)} for each row r whose cell in c is
    /// unpublished); it holds the unpublished cells with p(r) − p(c) = 1. Besides the row
    /// remainders, a column either stays out (p = 0), is *excluded* from rows that all take
    /// p = 1 (p = 1), or *included* while they all take p = 0 (p = −1); rows not forced either
    /// way add only whole rows or row remainders, which are checked on their own. Published
    /// cells impose nothing (their own figure absorbs any coefficient). Every such choice is
    /// tried (3^levels).
    pub fn violation(&self, shown: &[bool], threshold: u32) -> Option<DerivedSplit> {
        let rows = self.counts.len();
        let columns = self.columns.len();
        let published: Vec<Vec<bool>> = (0..rows)
            .map(|r| (0..columns).map(|c| self.published(r, c, shown)).collect())
            .collect();
        let violates = |count: u32, reached: usize, single: Option<usize>| {
            (count > 0 && count < threshold)
                || (reached == 1 && single.is_some_and(|r| !self.may_split[r]))
        };
        // Row remainders: a row with published cells, minus them.
        for (r, row_published) in published.iter().enumerate() {
            if !row_published.iter().any(|&p| p) {
                continue;
            }
            let count: u32 = (0..=columns)
                .filter(|&c| c == columns || !row_published[c])
                .map(|c| self.counts[r][c])
                .sum();
            if violates(count, usize::from(count > 0), Some(r)) {
                return Some(DerivedSplit {
                    count,
                    rows: vec![r],
                    through: (0..columns)
                        .filter_map(|c| self.cells[r][c].filter(|&g| shown[g]))
                        .collect(),
                });
            }
        }
        let open: Vec<usize> = (0..columns)
            .filter(|&c| self.column_published(c, shown))
            .collect();
        let choices = 3usize.saturating_pow(open.len() as u32);
        let mut column_state = vec![0i32; columns + 1];
        // Per open column, the rows whose cell in it is unpublished, as a bit set: a choice is
        // consistent when no row is both forced in (p = 1) and forced out (p = 0).
        let words = rows.div_ceil(64);
        let unpublished: Vec<Vec<u64>> = open
            .iter()
            .map(|&c| {
                let mut mask = vec![0u64; words];
                for (r, row) in published.iter().enumerate() {
                    if !row[c] {
                        mask[r / 64] |= 1 << (r % 64);
                    }
                }
                mask
            })
            .collect();
        let mut forced_in = vec![0u64; words];
        let mut forced_out = vec![0u64; words];
        let mut in_p = vec![false; rows];
        for choice in 1..choices {
            // 0 = out, 1 = excluded (p = 1), −1 = included (p = −1).
            let mut rest = choice;
            forced_in.iter_mut().for_each(|w| *w = 0);
            forced_out.iter_mut().for_each(|w| *w = 0);
            for (o, &c) in open.iter().enumerate() {
                column_state[c] = match rest % 3 {
                    1 => 1,
                    2 => -1,
                    _ => 0,
                };
                rest /= 3;
                let target = match column_state[c] {
                    1 => &mut forced_in,
                    -1 => &mut forced_out,
                    _ => continue,
                };
                for (word, bits) in target.iter_mut().zip(&unpublished[o]) {
                    *word |= bits;
                }
            }
            if forced_in.iter().zip(&forced_out).any(|(a, b)| a & b != 0) {
                continue;
            }
            for (r, p) in in_p.iter_mut().enumerate() {
                *p = forced_in[r / 64] & (1 << (r % 64)) != 0;
            }
            let (mut count, mut reached, mut single) = (0u32, 0usize, None);
            for r in 0..rows {
                let p_row = i32::from(in_p[r]);
                let mut part = 0u32;
                for c in 0..=columns {
                    if c < columns && published[r][c] {
                        continue;
                    }
                    if p_row - column_state[c] == 1 {
                        part += self.counts[r][c];
                    }
                }
                if part > 0 {
                    reached += 1;
                    single = Some(r);
                }
                count += part;
            }
            if violates(count, reached, single) {
                let through = open
                    .iter()
                    .filter(|&&c| column_state[c] != 0)
                    .flat_map(|&c| {
                        self.columns[c]
                            .into_iter()
                            .chain((0..rows).filter_map(move |r| self.cells[r][c]))
                    })
                    .filter(|&g| shown[g])
                    .collect();
                let rows_reached = (0..rows)
                    .filter(|&r| single == Some(r) || reached > 1)
                    .collect();
                return Some(DerivedSplit {
                    count,
                    rows: rows_reached,
                    through,
                });
            }
        }
        None
    }
}

/// Complete two-way complementary suppression of a job-level table: while any derived split
/// is too small or isolates part of a single team (or of the remainder), the smallest
/// published department cut on its path is hidden, else the smallest organisation cut.
/// Each step hides a figure, so it ends.
pub fn protect_cut_table(
    table: &CutTable,
    groups: &[GuardGroup],
    shown: &mut [bool],
    threshold: u32,
) {
    while let Some(split) = table.violation(shown, threshold) {
        let is_column = |g: usize| table.columns.contains(&Some(g));
        let pick = split
            .through
            .iter()
            .copied()
            .filter(|&g| !is_column(g))
            .min_by_key(|&g| (groups[g].n, g))
            .or_else(|| {
                split
                    .through
                    .iter()
                    .copied()
                    .min_by_key(|&g| (groups[g].n, g))
            });
        match pick {
            Some(g) => shown[g] = false,
            None => return,
        }
    }
}

/// Suppresses the smallest bounding group until `group`'s region is 0 or ≥ `threshold`.
fn protect_region(
    group: usize,
    threshold: u32,
    groups: &[GuardGroup],
    shown: &mut [bool],
    bounding: impl Fn(&[bool]) -> Vec<usize>,
) {
    while shown[group] {
        let bounds = bounding(shown);
        let covered: u32 = bounds.iter().map(|&b| groups[b].n).sum();
        let region = groups[group].n.saturating_sub(covered);
        if region == 0 || region >= threshold {
            return;
        }
        match bounds.iter().copied().min_by_key(|&b| (groups[b].n, b)) {
            Some(smallest) => shown[smallest] = false,
            // Unreachable while `group` is shown (its region would be n ≥ threshold), but a
            // guard errs towards hiding.
            None => shown[group] = false,
        }
    }
}

/// The shown descendants of `group` with no shown group between them and `group`.
fn bounding_shown_descendants(group: usize, children: &[Vec<usize>], shown: &[bool]) -> Vec<usize> {
    let mut bounds = Vec::new();
    let mut stack: Vec<usize> = children[group].clone();
    while let Some(next) = stack.pop() {
        if shown[next] {
            bounds.push(next);
        } else {
            stack.extend_from_slice(&children[next]);
        }
    }
    bounds
}

fn depths(groups: &[GuardGroup]) -> Vec<usize> {
    (0..groups.len())
        .map(|mut i| {
            let mut depth = 0;
            while let Some(parent) = groups[i].parent {
                depth += 1;
                i = parent;
                if depth > groups.len() {
                    break; // a cycle cannot occur (imports reject them); never loop forever
                }
            }
            depth
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn node(n: u32, parent: Option<usize>) -> GuardGroup {
        GuardGroup {
            n,
            parent,
            kind: GroupKind::Hierarchy,
        }
    }

    fn cut(n: u32, total: usize) -> GuardGroup {
        GuardGroup {
            n,
            parent: Some(total),
            kind: GroupKind::JobLevelCut { level_total: None },
        }
    }

    #[test]
    fn small_groups_are_hidden() {
        let groups = [node(12, None), node(8, Some(0)), node(4, Some(0))];
        // 12 − 8 = 4: the 4-response team would be derivable, so the 8 is hidden too.
        assert_eq!(visible_groups(&groups, &[true; 3], 5), [true, false, false]);
    }

    #[test]
    fn a_parent_whose_children_cover_it_hides_nothing() {
        let groups = [node(15, None), node(8, Some(0)), node(7, Some(0))];
        assert_eq!(visible_groups(&groups, &[true; 3], 5), [true, true, true]);
    }

    #[test]
    fn the_smallest_child_is_suppressed_and_the_check_repeats() {
        // Root 30 = 10 + 9 + 8 + 3 (the 3 is hidden): residual 3 → hide the 8 → residual 11.
        let groups = [
            node(30, None),
            node(10, Some(0)),
            node(9, Some(0)),
            node(8, Some(0)),
            node(3, Some(0)),
        ];
        assert_eq!(
            visible_groups(&groups, &[true; 5], 5),
            [true, true, true, false, false]
        );
    }

    #[test]
    fn regions_count_shown_grandchildren_under_hidden_children() {
        // Root 20: child A (ineligible) contains grandchild G (6); child B 10. Root − B − G = 4.
        let groups = [
            node(20, None),
            node(10, Some(0)),
            node(10, Some(0)),
            node(6, Some(2)),
        ];
        let shown = visible_groups(&groups, &[true, true, false, true], 5);
        assert!(shown[0]);
        let region = 20
            - [1, 2, 3]
                .iter()
                .filter(|&&i| shown[i])
                .map(|&i| groups[i].n)
                .sum::<u32>();
        assert!(region == 0 || region >= 5, "{shown:?}");
    }

    #[test]
    fn job_level_cuts_are_protected_against_their_total() {
        // Department 25: managers 10, staff 12, rest (undisclosed) 3 → hide the smaller cut.
        let groups = [node(25, None), cut(10, 0), cut(12, 0)];
        assert_eq!(visible_groups(&groups, &[true; 3], 10), [true, false, true]);
    }

    #[test]
    fn an_organisation_cut_is_protected_against_its_department_parts() {
        // Organisation 40 = department A 20 + department B 20. Managers: organisation 25,
        // A 12, B 11 → 2 managers elsewhere would be exposed; B's managers are hidden.
        let mut groups = vec![
            node(40, None),
            node(20, Some(0)),
            node(20, Some(0)),
            cut(25, 0),
        ];
        for (n, department) in [(12, 1), (11, 2)] {
            groups.push(GuardGroup {
                n,
                parent: Some(department),
                kind: GroupKind::JobLevelCut {
                    level_total: Some(3),
                },
            });
        }
        let shown = visible_groups(&groups, &[true; 6], 5);
        assert!(shown[3] && shown[4]);
        assert!(!shown[5], "{shown:?}");
    }

    /// A random forest (parents before children) with random sizes consistent with nesting,
    /// plus job-level cuts under some groups.
    fn forest() -> impl Strategy<Value = (Vec<GuardGroup>, Vec<bool>)> {
        (1usize..40)
            .prop_flat_map(|size| {
                (
                    proptest::collection::vec(any::<prop::sample::Index>(), size),
                    proptest::collection::vec(0u32..15, size),
                    proptest::collection::vec(any::<bool>(), size),
                    proptest::collection::vec((any::<prop::sample::Index>(), 0u32..12), 0..8),
                    proptest::collection::vec(prop::bool::weighted(0.9), size + 8),
                )
            })
            .prop_map(|(parents, direct, roots, cut_specs, eligible)| {
                let size = parents.len();
                let mut groups: Vec<GuardGroup> = (0..size)
                    .map(|i| {
                        let parent = (i > 0 && !roots[i]).then(|| parents[i].index(i));
                        node(direct[i], parent)
                    })
                    .collect();
                // Each group holds its own direct responses plus its descendants'.
                for i in (0..size).rev() {
                    if let Some(parent) = groups[i].parent {
                        groups[parent].n += groups[i].n;
                    }
                }
                // Cuts of a total never add up to more than the total.
                let mut cut_room: Vec<u32> = groups.iter().map(|g| g.n).collect();
                for (total, n) in cut_specs {
                    let total = total.index(size);
                    let n = n.min(cut_room[total]);
                    cut_room[total] -= n;
                    groups.push(cut(n, total));
                }
                let eligible = eligible[..groups.len()].to_vec();
                (groups, eligible)
            })
    }

    proptest! {
        /// No shown group is small, and no set that sums and differences of shown groups can
        /// isolate holds 1..k−1 responses: every shown group's region is 0 or ≥ k.
        #[test]
        fn no_output_lets_a_small_group_be_derived((groups, eligible) in forest(), k in 3u32..8) {
            let shown = visible_groups(&groups, &eligible, k);
            let mut children = vec![Vec::new(); groups.len()];
            let mut cuts = vec![Vec::new(); groups.len()];
            for (i, g) in groups.iter().enumerate() {
                if let Some(p) = g.parent {
                    match g.kind {
                        GroupKind::Hierarchy => children[p].push(i),
                        GroupKind::JobLevelCut { .. } => cuts[p].push(i),
                    }
                }
            }
            for (i, g) in groups.iter().enumerate() {
                if !shown[i] {
                    continue;
                }
                prop_assert!(g.n >= k, "shown group {i} has n = {}", g.n);
                prop_assert!(eligible[i]);
                let bounds = bounding_shown_descendants(i, &children, &shown);
                let region = g.n - bounds.iter().map(|&b| groups[b].n).sum::<u32>();
                prop_assert!(region == 0 || region >= k, "region of {i} is {region}");
                let cut_sum: u32 = cuts[i].iter().filter(|&&c| shown[c]).map(|&c| groups[c].n).sum();
                let rest = g.n - cut_sum;
                prop_assert!(cuts[i].iter().all(|&c| !shown[c]) || rest == 0 || rest >= k, "cut rest of {i} is {rest}");
            }
        }
    }

    #[test]
    fn a_hidden_group_says_whether_it_is_small_or_protects_a_neighbour() {
        // Root 12 = 8 + 4 at k = 5: the 4 is too small, the 8 protects it.
        let groups = [node(12, None), node(8, Some(0)), node(4, Some(0))];
        let shown = visible_groups(&groups, &[true; 3], 5);
        let reasons: Vec<Option<HiddenReason>> = groups
            .iter()
            .zip(&shown)
            .map(|(g, &shown)| (!shown).then(|| HiddenReason::of(g.n, 5, true)))
            .collect();
        assert_eq!(
            reasons,
            [
                None,
                Some(HiddenReason::ProtectsSmallerGroup),
                Some(HiddenReason::TooFewResponses)
            ]
        );
        assert_eq!(HiddenReason::of(30, 10, false), HiddenReason::TotalHidden);
        let json = serde_json::to_string(&HiddenReason::ProtectsSmallerGroup).expect("json");
        assert_eq!(json, "\"protects_smaller_group\"");
    }

    #[test]
    fn k_never_goes_below_three_and_k2_never_below_k() {
        assert_eq!(Thresholds::new(2, 10), Err(ThresholdError::KTooSmall(2)));
        assert_eq!(
            Thresholds::new(5, 4),
            Err(ThresholdError::K2BelowK { k: 5, k2: 4 })
        );
        assert!(Thresholds::new(3, 3).is_ok());
        assert_eq!(
            Thresholds::default(),
            Thresholds::new(5, 10).expect("defaults are valid")
        );
    }

    /// Route 6 of issue 11: HR's count moved from 5 / 6 to 6 / 6 the moment a known person
    /// answered. In steps of k it moves once in k answers.
    #[test]
    fn route_6_open_wave_counts_move_only_in_steps_of_k() {
        let shown: Vec<String> = (0..12).map(|n| SteppedCount::new(n, 5).range()).collect();
        assert_eq!(shown[5], shown[6], "the sixth answer changes nothing");
        assert_eq!(shown[4], "0–4");
        assert_eq!(shown[9], "5–9");
        assert_eq!(shown[10], "10–14");
        let changes = shown.windows(2).filter(|pair| pair[0] != pair[1]).count();
        assert_eq!(changes, 2, "two steps in eleven answers");
        assert!(SteppedCount::new(3, 5).needs_reminder(20));
        assert!(!SteppedCount::new(10, 5).needs_reminder(20));
    }
}
