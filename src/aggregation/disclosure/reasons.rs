//! The reasons given for hidden figures, attacked as bounds on counts.
//!
//! "Too few answers" says a hidden group's count is below k; "hidden to protect a smaller
//! neighbour" says it is at least k. The attacker adds these bounds to every published count
//! of the organisation tree and narrows each hidden group's count to an interval. In a tree of
//! sums with interval bounds, one pass up and one pass down give each count's exact range.
//! A hidden group that may hold fewer than k responses must keep at least k possible counts,
//! or as many as the published counts alone leave it. A unit's own members (staff of a 部
//! itself) are tried both ways: any number, or none, as when the attacker knows that no codes
//! were issued there.
//!
//! Job-level cuts and dimension cells never state a bound (`WaveResults::withhold_narrowing_reasons`):
//! one that does is a finding too.

use super::{Finding, Route, Tree};
use crate::aggregation::guard::HiddenReason;
use crate::aggregation::results::WaveResults;

/// Stands for "no upper bound"; far above any count.
const UNBOUNDED: i64 = 1 << 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    lo: i64,
    hi: i64,
}

impl Range {
    const ANY: Range = Range {
        lo: 0,
        hi: UNBOUNDED,
    };

    fn exactly(n: u32) -> Range {
        Range {
            lo: i64::from(n),
            hi: i64::from(n),
        }
    }

    fn meet(self, other: Range) -> Range {
        Range {
            lo: self.lo.max(other.lo),
            hi: self.hi.min(other.hi),
        }
    }

    fn plus(self, other: Range) -> Range {
        Range {
            lo: self.lo + other.lo,
            hi: (self.hi + other.hi).min(UNBOUNDED),
        }
    }

    /// The values `self − x` can take for x in `other`.
    fn minus(self, other: Range) -> Range {
        Range {
            lo: self.lo - other.hi,
            hi: if self.hi >= UNBOUNDED {
                UNBOUNDED
            } else {
                self.hi - other.lo
            },
        }
    }

    fn is_empty(self) -> bool {
        self.lo > self.hi
    }

    fn values(self) -> i64 {
        if self.hi >= UNBOUNDED {
            UNBOUNDED
        } else {
            self.hi - self.lo + 1
        }
    }
}

/// Each node's exact range under `bounds` and the tree's sums, or `None` when the bounds
/// contradict each other (the assumption about units' own members was wrong).
fn ranges(tree: &Tree, bounds: &[Range], own_members_possible: bool) -> Option<Vec<Range>> {
    let nodes = tree.parent.len();
    let mut children = vec![Vec::new(); nodes];
    let mut roots = Vec::new();
    for (node, parent) in tree.parent.iter().enumerate() {
        match parent {
            Some(p) => children[*p].push(node),
            None => roots.push(node),
        }
    }
    let mut order = Vec::with_capacity(nodes);
    let mut stack = roots.clone();
    while let Some(node) = stack.pop() {
        order.push(node);
        stack.extend_from_slice(&children[node]);
    }
    let own = |node: usize| match (tree.own[node], children[node].is_empty()) {
        (false, _) => Range::exactly(0),
        (true, true) => Range::ANY,
        (true, false) if own_members_possible => Range::ANY,
        (true, false) => Range::exactly(0),
    };
    let mut below = vec![Range::ANY; nodes];
    for &node in order.iter().rev() {
        let sum = children[node]
            .iter()
            .fold(own(node), |sum, &c| sum.plus(below[c]));
        below[node] = bounds[node].meet(sum);
    }
    let mut exact = below.clone();
    for &node in &order {
        for &child in &children[node] {
            let rest = children[node]
                .iter()
                .filter(|&&s| s != child)
                .fold(own(node), |sum, &s| sum.plus(below[s]));
            exact[child] = below[child].meet(exact[node].minus(rest));
        }
    }
    exact.iter().all(|r| !r.is_empty()).then_some(exact)
}

/// Findings where a stated reason narrows a hidden group's count.
pub(super) fn reason_routes(results: &WaveResults, tree: &Tree) -> Vec<Finding> {
    let k = i64::from(results.k);
    let mut stated = vec![Range::ANY; tree.parent.len()];
    let mut plain = vec![Range::ANY; tree.parent.len()];
    let mut hidden = vec![None; tree.parent.len()];
    let mut findings = Vec::new();
    for group in &results.groups {
        let bounds_the_count = group
            .hidden_reason
            .is_some_and(HiddenReason::bounds_the_count)
            || group.hidden_scores.values().any(|r| r.bounds_the_count());
        if group.job_level.is_some() || !group.hidden_scores.is_empty() {
            if bounds_the_count {
                findings.push(Finding {
                    route: Route::HiddenReason,
                    ja: format!("{}の非表示の理由が、人数の範囲を示しています", group.name),
                    en: format!("the reason {} is hidden bounds its count", group.name),
                });
            }
            if group.job_level.is_some() {
                continue;
            }
        }
        let node = tree.group_node(group);
        match (group.suppressed, group.n) {
            (false, Some(n)) => {
                stated[node] = Range::exactly(n);
                plain[node] = Range::exactly(n);
            }
            _ => {
                hidden[node] = Some(group.name.as_str());
                stated[node] = match group.hidden_reason {
                    Some(HiddenReason::TooFewResponses) => Range { lo: 0, hi: k - 1 },
                    Some(HiddenReason::ProtectsSmallerGroup) => Range {
                        lo: k,
                        hi: UNBOUNDED,
                    },
                    _ => Range::ANY,
                };
            }
        }
    }
    let mut narrowed: Vec<Option<Range>> = vec![None; tree.parent.len()];
    for own_members_possible in [true, false] {
        let (Some(with), Some(without)) = (
            ranges(tree, &stated, own_members_possible),
            ranges(tree, &plain, own_members_possible),
        ) else {
            continue;
        };
        for node in (0..with.len()).filter(|&n| hidden[n].is_some()) {
            let range = with[node];
            if range.lo < k && range.values() < k.min(without[node].values()) {
                narrowed[node] = Some(range);
            }
        }
    }
    for (node, range) in narrowed.iter().enumerate() {
        if let (Some(range), Some(name)) = (range, hidden[node]) {
            findings.push(Finding {
                route: Route::HiddenReason,
                ja: format!(
                    "秘匿された集団「{name}」の回答者数は、非表示の理由と公開された人数から{}〜{}人に絞り込めます",
                    range.lo, range.hi
                ),
                en: format!(
                    "the reasons for hidden figures and the published counts narrow hidden group \"{name}\" to {}–{} responses",
                    range.lo, range.hi
                ),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::tests::{group, wave};
    use super::*;
    use crate::aggregation::guard::{self, GroupKind, GuardGroup};
    use crate::aggregation::results::{GroupLevel, GroupResult};
    use proptest::prelude::*;

    fn hidden(code: &str, parent: Option<&str>, reason: HiddenReason) -> GroupResult {
        let mut g = group(Some(code), parent, GroupLevel::Workplace, None, None);
        g.hidden_reason = Some(reason);
        g
    }

    fn shown(code: Option<&str>, parent: Option<&str>, n: u32) -> GroupResult {
        let level = if code.is_some() {
            GroupLevel::Workplace
        } else {
            GroupLevel::Organisation
        };
        group(code, parent, level, None, Some(n))
    }

    fn findings(results: &WaveResults) -> Vec<Finding> {
        reason_routes(results, &Tree::new(results))
    }

    use HiddenReason::{ProtectsSmallerGroup as Protects, TooFewResponses as TooFew};

    #[test]
    fn a_neighbours_count_subtracted_from_the_remainder_is_found_and_then_withheld() {
        // k = 5. D1 20 = T1 12 (shown) + T2 6 + T3 2: the remainder is 8, so T3, "too few",
        // had 0–3 responses beside T2's "at least 5".
        let mut results = wave(vec![
            shown(None, None, 20),
            shown(Some("D1"), None, 20),
            shown(Some("T1"), Some("D1"), 12),
            hidden("T2", Some("D1"), Protects),
            hidden("T3", Some("D1"), TooFew),
        ]);
        let found = findings(&results);
        assert!(
            found.iter().any(|f| f.en.contains("\"T3\" to 0–3")),
            "{found:?}"
        );
        results.withhold_narrowing_reasons();
        for code in ["T2", "T3"] {
            assert_eq!(
                results.group(code).and_then(|g| g.hidden_reason),
                Some(HiddenReason::TooFewOrProtectsSmallerGroup)
            );
        }
        assert_eq!(findings(&results), vec![]);
    }

    #[test]
    fn a_remainder_of_k_plus_one_pins_the_small_neighbour_without_the_rule() {
        // D1 13 = T1 7 (shown) + T2 5 + T3 1: remainder 6 = k + 1.
        let results = wave(vec![
            shown(None, None, 13),
            shown(Some("D1"), None, 13),
            shown(Some("T1"), Some("D1"), 7),
            hidden("T2", Some("D1"), Protects),
            hidden("T3", Some("D1"), TooFew),
        ]);
        let found = findings(&results);
        assert!(
            found.iter().any(|f| f.en.contains("\"T3\" to 0–1")),
            "{found:?}"
        );
    }

    #[test]
    fn reasons_stay_where_the_remainder_leaves_every_small_count_open() {
        // The manager page's fixture: D1 11 = T1 8 + T2 3, both hidden; 11 ≥ 2 × 5.
        let mut results = wave(vec![
            shown(None, None, 11),
            shown(Some("D1"), None, 11),
            hidden("T1", Some("D1"), Protects),
            hidden("T2", Some("D1"), TooFew),
        ]);
        results.withhold_narrowing_reasons();
        assert_eq!(
            results.group("T1").and_then(|g| g.hidden_reason),
            Some(Protects)
        );
        assert_eq!(
            results.group("T2").and_then(|g| g.hidden_reason),
            Some(TooFew)
        );
        assert_eq!(findings(&results), vec![]);
    }

    #[test]
    fn a_hidden_unit_said_to_hold_k_gives_its_two_small_teams_a_floor() {
        // S1 (hidden, "at least 5") holds only T1 and T2, both "too few": together they hold at
        // least 5, so each had at least one response. The rule withholds S1's reason.
        let mut results = wave(vec![
            shown(None, None, 40),
            shown(Some("D1"), None, 40),
            shown(Some("T0"), Some("D1"), 20),
            hidden("S1", Some("D1"), Protects),
            hidden("T1", Some("S1"), TooFew),
            hidden("T2", Some("S1"), TooFew),
            hidden("T3", Some("D1"), Protects),
        ]);
        // S1 is a unit without members of its own.
        results.groups[3].level = GroupLevel::ReportingUnit;
        let found = findings(&results);
        assert!(
            found.iter().any(|f| f.en.contains("\"T1\" to 1–4")),
            "{found:?}"
        );
        results.withhold_narrowing_reasons();
        assert_eq!(findings(&results), vec![]);
    }

    #[test]
    fn a_cut_or_cell_that_states_a_bound_is_found() {
        let mut results = wave(vec![shown(None, None, 30)]);
        results.groups[0]
            .hidden_scores
            .insert("ps".into(), HiddenReason::TooFewResponses);
        assert_eq!(findings(&results).len(), 1);
        results.withhold_narrowing_reasons();
        assert_eq!(findings(&results), vec![]);
    }

    /// A random organisation: node 0 is the organisation, every other node a workplace under
    /// an earlier one, with its own responses (none at units with sub-units, if so drawn).
    fn organisation() -> impl Strategy<Value = (Vec<usize>, Vec<u32>, bool)> {
        (2usize..24).prop_flat_map(|size| {
            (
                proptest::collection::vec(any::<prop::sample::Index>(), size),
                proptest::collection::vec(0u32..13, size),
                any::<bool>(),
            )
                .prop_map(|(parents, own, leaves_only)| {
                    let parents = parents
                        .iter()
                        .enumerate()
                        .map(|(i, p)| if i == 0 { 0 } else { p.index(i) })
                        .collect();
                    (parents, own, leaves_only)
                })
        })
    }

    proptest! {
        #[test]
        fn no_stated_reason_narrows_a_small_hidden_group((parents, own, leaves_only) in organisation()) {
            let size = parents.len();
            let has_children: Vec<bool> =
                (0..size).map(|g| (1..size).any(|c| parents[c] == g)).collect();
            let mut n: Vec<u32> = (0..size)
                .map(|g| if g == 0 || (leaves_only && has_children[g]) { 0 } else { own[g] })
                .collect();
            for g in (1..size).rev() {
                n[parents[g]] += n[g];
            }
            let guard_groups: Vec<GuardGroup> = (0..size)
                .map(|g| GuardGroup {
                    n: n[g],
                    parent: (g > 0).then_some(parents[g]),
                    kind: GroupKind::Hierarchy,
                })
                .collect();
            let visible = guard::visible_groups(&guard_groups, &vec![true; size], 5);
            let mut groups = Vec::new();
            for g in 0..size {
                let code = (g > 0).then(|| format!("W{g}"));
                let parent = (g > 0 && parents[g] > 0).then(|| format!("W{}", parents[g]));
                let mut result = shown(code.as_deref(), parent.as_deref(), n[g]);
                if !visible[g] {
                    result.suppressed = true;
                    result.n = None;
                    result.hidden_reason = Some(HiddenReason::of(n[g], 5, true));
                }
                groups.push(result);
            }
            let mut results = wave(groups);
            results.withhold_narrowing_reasons();
            prop_assert_eq!(findings(&results), vec![]);
        }
    }
}
