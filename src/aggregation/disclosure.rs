//! The disclosure auditor: every number each role can see of a closed wave, attacked the way
//! an HR department or a manager could with the product's own outputs.
//!
//! It works from the published results alone (as an attacker would), with the organisation
//! tree those results carry (every workplace and reporting unit is listed, shown or not, with
//! its parent) and the job levels of their cuts:
//!
//! 1. **Collect.** HR's JSON (everything), HR's CSV, and each manager's JSON view; pages and
//!    charts are drawn from these same views, so they show no other number.
//! 2. **Linear attack.** The unknowns are the cells of the organisation: the responses each
//!    workplace gave itself, split by job level (the disclosed levels and a remainder column
//!    for "no level"/"prefer not to say"). Every published count is the sum of a set of cells,
//!    and every published sum (n · mean) and sum of squares (from the SD) the sum over the same
//!    set, so one exact question decides all three: is a sensitive set's indicator in the span
//!    of the published sets? Exact rational Gaussian elimination answers it, per statistic
//!    (responses, details, each dimension's cells, each item's distribution). Sensitive sets:
//!    every hidden group, every workplace's own cell and each of its job-level parts, every
//!    workplace subtree split by level, the remainders of every cut table's rows and columns.
//!    A determined set is a finding when its derived count is 1 … k − 1, when it splits by
//!    job level and counts 1 … k2 − 1 (k for dimension cells), or when it is part of a single
//!    team (a unit without cuts) by job level.
//! 3. **Non-linear routes.** ICC(1)/ICC(2) must equal what the shown cells alone give; every
//!    shown cell's n must be published and agree with its SD and CI; every item distribution
//!    needs its cell shown and k2 answers; comments need k2; cuts exist only for the
//!    organisation and for top-level units with sub-units.
//! 4. **Reasons.** A hidden figure's reason is a bound on its count; added to the published
//!    counts it must not narrow a hidden group that may hold fewer than k (`reasons`).

mod reasons;

use std::collections::{BTreeMap, HashMap};

use super::export;
use super::results::{GroupLevel, GroupResult, WaveResults};
use super::stats::{self, Moments};
use crate::i18n::Lang;

/// Which route a finding takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Sums and differences of published counts and sums.
    Linear,
    /// ICC(1)/ICC(2) or another reliability figure.
    Reliability,
    /// A count given back by the SD and the interval.
    SpreadAndInterval,
    /// An item distribution or comments where they may not appear.
    Distribution,
    /// Job level crossed with a single team.
    JobLevel,
    /// The reason given for a hidden figure, as a bound added to the published counts.
    HiddenReason,
    /// The exact audit could not finish (numbers too large): treated as a finding.
    Inconclusive,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub route: Route,
    pub ja: String,
    pub en: String,
}

impl Finding {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

/// The numbers one role can see in one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub ja: String,
    pub en: String,
    pub numbers: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditReport {
    pub wave: i32,
    pub wave_name: String,
    pub views: Vec<View>,
    /// Statistics attacked (each with its own set of published groups).
    pub statistics: usize,
    /// Sensitive sets tested for being determined.
    pub sets_tested: usize,
    pub findings: Vec<Finding>,
}

impl AuditReport {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// The verdict HR can show its staff union.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = String::new();
        match lang {
            Lang::Ja => {
                out.push_str(&format!(
                    "開示監査: 第{}回「{}」\n",
                    self.wave, self.wave_name
                ));
                out.push_str("各役割が見られる数値:\n");
                for view in &self.views {
                    out.push_str(&format!("  {}: {}個\n", view.ja, view.numbers));
                }
                out.push_str(&format!(
                    "統計量{}種について、秘匿された集団・職場・職層の組合せ{}通りを、公開された人数と合計の足し引き（厳密な有理数計算）で復元できるか調べ、信頼性係数・標準偏差と信頼区間・項目分布・非表示の理由の経路も確認しました。\n",
                    self.statistics, self.sets_tested
                ));
                if self.passed() {
                    out.push_str("判定: 合格。公開されたどの数値を組み合わせても、k人未満の回答・秘匿された値・単一の職場の職層別の値は導けません。\n");
                } else {
                    out.push_str(&format!(
                        "判定: 不合格。{}件の開示経路が見つかりました。\n",
                        self.findings.len()
                    ));
                    for finding in &self.findings {
                        out.push_str(&format!("  - {}\n", finding.ja));
                    }
                }
            }
            Lang::En => {
                out.push_str(&format!(
                    "Disclosure audit: wave {} \"{}\"\n",
                    self.wave, self.wave_name
                ));
                out.push_str("Numbers each role can see:\n");
                for view in &self.views {
                    out.push_str(&format!("  {}: {}\n", view.en, view.numbers));
                }
                out.push_str(&format!(
                    "For {} statistics, {} hidden groups, workplace cells and job-level combinations were tested for being derivable by adding and subtracting published counts and sums (exact rational arithmetic); reliability figures, SDs with intervals, item distributions and the reasons given for hidden figures were checked too.\n",
                    self.statistics, self.sets_tested
                ));
                if self.passed() {
                    out.push_str("Verdict: passed. No combination of the published numbers gives away fewer than k responses, a hidden figure, or a single workplace by job level.\n");
                } else {
                    out.push_str(&format!(
                        "Verdict: FAILED. {} disclosure route(s) found.\n",
                        self.findings.len()
                    ));
                    for finding in &self.findings {
                        out.push_str(&format!("  - {}\n", finding.en));
                    }
                }
            }
        }
        out
    }
}

/// Audits a wave's results as HR sees them, with each manager's view (login, view).
pub fn audit(results: &WaveResults, manager_views: &[(String, WaveResults)]) -> AuditReport {
    let mut views = vec![View {
        ja: "人事 JSON（API・画面・グラフ）".into(),
        en: "HR JSON (API, pages, charts)".into(),
        numbers: json_numbers(results),
    }];
    let mut findings = Vec::new();
    match csv_numbers(results) {
        Ok(numbers) => views.push(View {
            ja: "人事 CSV".into(),
            en: "HR CSV".into(),
            numbers,
        }),
        Err(message) => findings.push(Finding {
            route: Route::Inconclusive,
            ja: format!("CSV を作れません: {message}"),
            en: format!("the CSV cannot be written: {message}"),
        }),
    }
    for (login, view) in manager_views {
        views.push(View {
            ja: format!("管理職 {login} の JSON（画面・グラフ）"),
            en: format!("manager {login}: JSON (page, charts)"),
            numbers: json_numbers(view),
        });
        // Every manager view must be a part of HR's: then HR's view is what all roles
        // together can see.
        for group in &view.groups {
            let same = results
                .groups
                .iter()
                .find(|g| g.key() == group.key() && g.level == group.level);
            let within = same.is_some_and(|g| {
                g.scores == group.scores
                    && g.n == group.n
                    && g.items == group.items
                    && g.hidden_reason == group.hidden_reason
                    && g.hidden_scores == group.hidden_scores
                    && (group.comments.is_none() || g.comments == group.comments)
            });
            if !within {
                findings.push(Finding {
                    route: Route::Linear,
                    ja: format!(
                        "管理職 {login} の表示に、人事の結果にない数値があります（{}）",
                        group.name
                    ),
                    en: format!(
                        "manager {login} sees figures HR's results do not hold ({})",
                        group.name
                    ),
                });
            }
        }
    }

    let tree = Tree::new(results);
    let mut statistics = 0;
    let mut sets_tested = 0;
    for statistic in tree.statistics(results) {
        statistics += 1;
        let (tested, mut found) = tree.linear_attack(results, &statistic);
        sets_tested += tested;
        findings.append(&mut found);
    }
    findings.extend(reliability_routes(results, &tree));
    findings.extend(spread_routes(results));
    findings.extend(distribution_routes(results, &tree));
    findings.extend(reasons::reason_routes(results, &tree));
    AuditReport {
        wave: results.wave,
        wave_name: results.wave_name.clone(),
        views,
        statistics,
        sets_tested,
        findings,
    }
}

fn json_numbers(results: &WaveResults) -> usize {
    fn count(value: &serde_json::Value) -> usize {
        match value {
            serde_json::Value::Number(_) => 1,
            serde_json::Value::Array(items) => items.iter().map(count).sum(),
            serde_json::Value::Object(map) => map.values().map(count).sum(),
            _ => 0,
        }
    }
    serde_json::to_value(results).map_or(0, |value| count(&value))
}

fn csv_numbers(results: &WaveResults) -> Result<usize, String> {
    let mut bytes = Vec::new();
    export::write_csv(results, &mut bytes).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes);
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut numbers = 0;
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        numbers += record
            .iter()
            .filter(|field| !field.is_empty() && field.parse::<f64>().is_ok())
            .count();
    }
    Ok(numbers)
}

/// The organisation as the results describe it: node 0 is the organisation, then every
/// workplace and reporting unit in the order listed.
struct Tree {
    codes: Vec<Option<String>>,
    names: Vec<String>,
    parent: Vec<Option<usize>>,
    /// Workplaces hold responses of their own; reporting units only their members'.
    own: Vec<bool>,
    children: Vec<usize>,
    /// Job-level ids of the cuts, in order; the remainder column comes after them.
    levels: Vec<String>,
    index: HashMap<String, usize>,
    k: u32,
    k2: u32,
}

/// One statistic's published sets (as groups) and their counts.
struct Statistic {
    ja: String,
    en: String,
    /// Minimum count of a derived set that keeps whole workplaces, and of one split by level.
    whole: u32,
    split: u32,
    published: Vec<(usize, f64)>,
    /// Every listed group's atom set (index into `sets`), shown or not.
    hidden: Vec<usize>,
}

impl Tree {
    fn new(results: &WaveResults) -> Tree {
        let mut codes = vec![None];
        let mut names = vec!["組織全体".to_string()];
        let mut own = vec![false];
        let mut index = HashMap::new();
        let mut levels: Vec<String> = Vec::new();
        for group in &results.groups {
            match (group.level, &group.workplace) {
                (GroupLevel::Workplace | GroupLevel::ReportingUnit, Some(code)) => {
                    index.insert(code.clone(), codes.len());
                    codes.push(Some(code.clone()));
                    names.push(group.name.clone());
                    own.push(group.level == GroupLevel::Workplace);
                }
                (GroupLevel::JobLevel, _) => {
                    if let Some(level) = &group.job_level {
                        if !levels.contains(level) {
                            levels.push(level.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        let mut parent = vec![None; codes.len()];
        for group in &results.groups {
            if let (GroupLevel::Workplace | GroupLevel::ReportingUnit, Some(code)) =
                (group.level, &group.workplace)
            {
                if let Some(&node) = index.get(code) {
                    parent[node] = Some(
                        group
                            .parent
                            .as_ref()
                            .and_then(|p| index.get(p).copied())
                            .unwrap_or(0),
                    );
                }
            }
        }
        let mut children = vec![0; codes.len()];
        for p in parent.iter().flatten() {
            children[*p] += 1;
        }
        Tree {
            codes,
            names,
            parent,
            own,
            children,
            levels,
            index,
            k: results.k,
            k2: results.k2,
        }
    }

    fn columns(&self) -> usize {
        self.levels.len() + 1
    }

    fn atom(&self, node: usize, column: usize) -> usize {
        node * self.columns() + column
    }

    fn within(&self, node: usize, ancestor: usize) -> bool {
        let mut current = Some(node);
        let mut steps = 0;
        while let Some(c) = current {
            if c == ancestor {
                return true;
            }
            current = self.parent[c];
            steps += 1;
            if steps > self.parent.len() {
                return false;
            }
        }
        false
    }

    fn top_level(&self, node: usize) -> Option<usize> {
        let mut current = node;
        let mut steps = 0;
        while let Some(p) = self.parent[current] {
            if p == 0 {
                return Some(current);
            }
            current = p;
            steps += 1;
            if steps > self.parent.len() {
                return None;
            }
        }
        None
    }

    /// May `node` be split by job level: the organisation, or a top-level unit with sub-units.
    fn may_split(&self, node: usize) -> bool {
        node == 0 || (self.parent[node] == Some(0) && self.children[node] > 0)
    }

    /// Atoms of `node`'s subtree in the given columns.
    fn subtree_atoms(&self, node: usize, columns: &[usize]) -> Vec<usize> {
        let mut atoms = Vec::new();
        for w in 0..self.codes.len() {
            if self.own[w] && self.within(w, node) {
                atoms.extend(columns.iter().map(|&c| self.atom(w, c)));
            }
        }
        atoms.sort_unstable();
        atoms
    }

    fn group_node(&self, group: &GroupResult) -> usize {
        group
            .workplace
            .as_ref()
            .and_then(|code| self.index.get(code).copied())
            .unwrap_or(0)
    }

    fn group_atoms(&self, group: &GroupResult) -> Vec<usize> {
        let node = self.group_node(group);
        match (&group.job_level, group.level) {
            (Some(level), GroupLevel::JobLevel) => {
                let column = self.levels.iter().position(|l| l == level).unwrap_or(0);
                self.subtree_atoms(node, &[column])
            }
            _ => self.subtree_atoms(node, &(0..self.columns()).collect::<Vec<_>>()),
        }
    }

    /// Every statistic with its own set of published groups.
    fn statistics(&self, results: &WaveResults) -> Vec<Statistic> {
        let mut out = Vec::new();
        let all: Vec<usize> = (0..results.groups.len()).collect();
        out.push(Statistic {
            ja: "回答数".into(),
            en: "response counts".into(),
            whole: self.k,
            split: self.k2,
            published: results
                .groups
                .iter()
                .enumerate()
                .filter_map(|(g, group)| {
                    (!group.suppressed)
                        .then_some(group.n)
                        .flatten()
                        .map(|n| (g, f64::from(n)))
                })
                .collect(),
            hidden: all.clone(),
        });
        out.push(Statistic {
            ja: "項目分布・コメント".into(),
            en: "item distributions and comments".into(),
            whole: self.k2,
            split: self.k2,
            published: results
                .groups
                .iter()
                .enumerate()
                .filter(|(_, group)| group.items.is_some() || group.comments.is_some())
                .filter_map(|(g, group)| group.n.map(|n| (g, f64::from(n))))
                .collect(),
            hidden: all.clone(),
        });
        for dimension in &results.dimensions {
            out.push(Statistic {
                ja: format!("「{}」の人数・合計・二乗和", dimension.name_ja),
                en: format!("{}: counts, sums, sums of squares", dimension.name_en),
                whole: self.k,
                split: self.k,
                published: results
                    .groups
                    .iter()
                    .enumerate()
                    .filter_map(|(g, group)| {
                        group
                            .scores
                            .get(&dimension.id)
                            .map(|score| (g, f64::from(score.n)))
                    })
                    .collect(),
                hidden: all.clone(),
            });
        }
        let mut items: BTreeMap<String, Vec<(usize, f64)>> = BTreeMap::new();
        for (g, group) in results.groups.iter().enumerate() {
            for item in group.items.iter().flatten() {
                let answered: u32 = item.distribution.iter().map(|(_, c)| c).sum();
                items
                    .entry(item.id.to_string())
                    .or_default()
                    .push((g, f64::from(answered)));
            }
        }
        for (item, published) in items {
            out.push(Statistic {
                ja: format!("項目 {item} の分布"),
                en: format!("item {item}: distribution"),
                whole: self.k2,
                split: self.k2,
                published,
                hidden: all.clone(),
            });
        }
        out
    }

    /// The sensitive sets of one statistic: hidden groups, every workplace's own cell and its
    /// level parts, every subtree by level, and the remainders of the cut table.
    fn sensitive_sets(
        &self,
        results: &WaveResults,
        statistic: &Statistic,
    ) -> Vec<(Vec<usize>, String, String)> {
        let mut sets = Vec::new();
        let published: Vec<usize> = statistic.published.iter().map(|(g, _)| *g).collect();
        for &g in &statistic.hidden {
            if !published.contains(&g) {
                let group = &results.groups[g];
                let label = group_label(group);
                sets.push((self.group_atoms(group), label.0, label.1));
            }
        }
        let columns = self.columns();
        // Regions: a shown group's responses outside its shown descendants (also by level).
        let shown_nodes: Vec<usize> = published
            .iter()
            .map(|&g| &results.groups[g])
            .filter(|g| g.level != GroupLevel::JobLevel)
            .map(|g| self.group_node(g))
            .collect();
        let nearest: Vec<Option<usize>> = (0..self.codes.len())
            .map(|w| {
                let mut current = Some(w);
                let mut steps = 0;
                while let Some(c) = current {
                    if shown_nodes.contains(&c) {
                        return Some(c);
                    }
                    current = self.parent[c];
                    steps += 1;
                    if steps > self.parent.len() {
                        break;
                    }
                }
                None
            })
            .collect();
        for &g in &shown_nodes {
            let members: Vec<usize> = (0..self.codes.len())
                .filter(|&w| self.own[w] && nearest[w] == Some(g))
                .collect();
            let name = &self.names[g];
            sets.push((
                members
                    .iter()
                    .flat_map(|&w| (0..columns).map(move |c| (w, c)))
                    .map(|(w, c)| self.atom(w, c))
                    .collect(),
                format!("{name}から表示された下位集団を除いた残り"),
                format!("{name} minus its shown sub-units"),
            ));
            if columns > 1 {
                for c in 0..columns {
                    let (level_ja, level_en) = self.level_names(c);
                    sets.push((
                        members.iter().map(|&w| self.atom(w, c)).collect(),
                        format!("{name}から表示された下位集団を除いた残りの{level_ja}"),
                        format!("{name} minus its shown sub-units, {level_en}"),
                    ));
                }
            }
        }
        for w in 0..self.codes.len() {
            let name = &self.names[w];
            if self.own[w] {
                sets.push((
                    (0..columns).map(|c| self.atom(w, c)).collect(),
                    format!("{name}の自所属の回答"),
                    format!("{name}'s own responses"),
                ));
            }
            for c in 0..columns {
                let (level_ja, level_en) = self.level_names(c);
                if self.own[w] && columns > 1 {
                    sets.push((
                        vec![self.atom(w, c)],
                        format!("{name}の自所属・{level_ja}"),
                        format!("{name}'s own responses, {level_en}"),
                    ));
                }
                if columns > 1 {
                    sets.push((
                        self.subtree_atoms(w, &[c]),
                        format!("{name}の{level_ja}"),
                        format!("{name}, {level_en}"),
                    ));
                }
            }
        }
        // Cut-table remainders: each level outside the published department cuts, each
        // total outside its published cuts, and the remainder column.
        if columns > 1 {
            for c in 0..self.levels.len() {
                let covered: Vec<usize> = published
                    .iter()
                    .map(|&g| &results.groups[g])
                    .filter(|g| g.level == GroupLevel::JobLevel && g.workplace.is_some())
                    .filter(|g| g.job_level.as_deref() == Some(&self.levels[c]))
                    .map(|g| self.group_node(g))
                    .collect();
                let atoms: Vec<usize> = (0..self.codes.len())
                    .filter(|&w| self.own[w] && !covered.iter().any(|&t| self.within(w, t)))
                    .map(|w| self.atom(w, c))
                    .collect();
                let (level_ja, level_en) = self.level_names(c);
                sets.push((
                    atoms,
                    format!("部門別の職層集計の外にいる{level_ja}"),
                    format!("{level_en} outside the published department cuts"),
                ));
            }
            for (g, group) in results.groups.iter().enumerate() {
                if group.level == GroupLevel::JobLevel || !published.contains(&g) {
                    continue;
                }
                let node = self.group_node(group);
                let cut_columns: Vec<usize> = published
                    .iter()
                    .map(|&p| &results.groups[p])
                    .filter(|p| p.level == GroupLevel::JobLevel && self.group_node(p) == node)
                    .filter_map(|p| {
                        p.job_level
                            .as_ref()
                            .and_then(|l| self.levels.iter().position(|x| x == l))
                    })
                    .collect();
                if cut_columns.is_empty() {
                    continue;
                }
                let rest: Vec<usize> = (0..columns).filter(|c| !cut_columns.contains(c)).collect();
                sets.push((
                    self.subtree_atoms(node, &rest),
                    format!("{}の職層集計の残り", group.name),
                    format!("{} outside its published job-level cuts", group.name),
                ));
            }
        }
        sets
    }

    /// A column's name in Japanese and English: the level's id, or the remainder column.
    fn level_names(&self, column: usize) -> (String, String) {
        match self.levels.get(column) {
            Some(level) => (level.clone(), level.clone()),
            None => ("職層なし・無回答".to_string(), "no level".to_string()),
        }
    }

    /// Whether a set splits some workplace by job level, and whether it lies within a single
    /// unit that may not be split.
    fn classify(&self, atoms: &[usize]) -> (bool, bool) {
        let columns = self.columns();
        let mut per_node: BTreeMap<usize, usize> = BTreeMap::new();
        for &a in atoms {
            *per_node.entry(a / columns).or_default() += 1;
        }
        let splits = columns > 1 && per_node.values().any(|&count| count < columns);
        let single_team = splits && {
            // The smallest unit holding every node of the set.
            let nodes: Vec<usize> = per_node.keys().copied().collect();
            let tops: Vec<Option<usize>> = nodes.iter().map(|&n| self.top_level(n)).collect();
            match tops.first().copied().flatten() {
                Some(top) if tops.iter().all(|&t| t == Some(top)) => {
                    // Within one top-level unit: a single team unless the unit may be split
                    // and the set reaches more than one of its sub-units.
                    !self.may_split(top) || {
                        let mut container = nodes[0];
                        while !nodes.iter().all(|&n| self.within(n, container)) {
                            match self.parent[container] {
                                Some(p) => container = p,
                                None => break,
                            }
                        }
                        container != top
                    }
                }
                _ => false,
            }
        };
        (splits, single_team)
    }

    /// Tests every sensitive set of one statistic; returns how many were tested and the
    /// findings.
    fn linear_attack(&self, results: &WaveResults, statistic: &Statistic) -> (usize, Vec<Finding>) {
        let mut findings = Vec::new();
        let mut basis = Basis::default();
        let atoms_of: Vec<Vec<usize>> = statistic
            .published
            .iter()
            .map(|(g, _)| self.group_atoms(&results.groups[*g]))
            .collect();
        // Deepest sets first: a parent then reduces to its region without fill-in.
        let mut order: Vec<usize> = (0..atoms_of.len()).collect();
        order.sort_by_key(|&s| atoms_of[s].len());
        for s in order {
            let row = atoms_of[s].iter().map(|&a| (a, Q::ONE)).collect();
            if let Err(overflow) = basis.insert(row, vec![(s, Q::ONE)]) {
                findings.push(overflow.finding(statistic));
                return (0, findings);
            }
        }
        let sets = self.sensitive_sets(results, statistic);
        let mut seen = std::collections::HashSet::new();
        let mut tested = 0;
        for (mut atoms, ja, en) in sets {
            atoms.sort_unstable();
            atoms.dedup();
            if atoms.is_empty() || !seen.insert(atoms.clone()) {
                continue;
            }
            tested += 1;
            let target = atoms.iter().map(|&a| (a, Q::ONE)).collect();
            let combination = match basis.solve(target) {
                Ok(Some(combination)) => combination,
                Ok(None) => continue,
                Err(overflow) => {
                    findings.push(overflow.finding(statistic));
                    continue;
                }
            };
            let derived: f64 = combination
                .iter()
                .map(|(s, q)| q.to_f64() * statistic.published[*s].1)
                .sum();
            let count = derived.round().max(0.0) as u32;
            let (splits, single_team) = self.classify(&atoms);
            let threshold = if splits {
                statistic.split
            } else {
                statistic.whole
            };
            if count > 0 && (count < threshold || single_team) {
                findings.push(Finding {
                    route: if single_team { Route::JobLevel } else { Route::Linear },
                    ja: format!(
                        "{}: {}（{}人）が公開値の足し引きで求まります",
                        statistic.ja, ja, count
                    ),
                    en: format!(
                        "{}: {} ({} responses) follows from sums and differences of published figures",
                        statistic.en, en, count
                    ),
                });
            }
        }
        (tested, findings)
    }
}

/// An exact rational number (i128 numerator and positive denominator, in lowest terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Q {
    num: i128,
    den: i128,
}

#[derive(Debug, Clone, Copy)]
struct Overflow;

impl Overflow {
    fn finding(self, statistic: &Statistic) -> Finding {
        Finding {
            route: Route::Inconclusive,
            ja: format!(
                "{}: 厳密計算が桁あふれし、監査を完了できません",
                statistic.ja
            ),
            en: format!(
                "{}: the exact arithmetic overflowed; the audit could not finish",
                statistic.en
            ),
        }
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

impl Q {
    const ONE: Q = Q { num: 1, den: 1 };

    fn new(num: i128, den: i128) -> Result<Q, Overflow> {
        if den == 0 {
            return Err(Overflow);
        }
        let sign = if den < 0 { -1 } else { 1 };
        let g = gcd(num, den);
        Ok(Q {
            num: sign * num / g,
            den: sign * den / g,
        })
    }

    fn is_zero(self) -> bool {
        self.num == 0
    }

    fn mul(self, other: Q) -> Result<Q, Overflow> {
        let num = self.num.checked_mul(other.num).ok_or(Overflow)?;
        let den = self.den.checked_mul(other.den).ok_or(Overflow)?;
        Q::new(num, den)
    }

    fn div(self, other: Q) -> Result<Q, Overflow> {
        Q::new(
            self.num.checked_mul(other.den).ok_or(Overflow)?,
            self.den.checked_mul(other.num).ok_or(Overflow)?,
        )
    }

    fn sub(self, other: Q) -> Result<Q, Overflow> {
        let num = self
            .num
            .checked_mul(other.den)
            .and_then(|a| {
                other
                    .num
                    .checked_mul(self.den)
                    .and_then(|b| a.checked_sub(b))
            })
            .ok_or(Overflow)?;
        Q::new(num, self.den.checked_mul(other.den).ok_or(Overflow)?)
    }

    fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

/// A sparse row: (column, value) sorted by column, no zeros.
type Row = Vec<(usize, Q)>;

/// `a − factor · b` for sparse rows.
fn axpy(a: &Row, factor: Q, b: &Row) -> Result<Row, Overflow> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(&(ca, va)), Some(&(cb, vb))) if ca == cb => {
                i += 1;
                j += 1;
                (ca, va.sub(factor.mul(vb)?)?)
            }
            (Some(&(ca, va)), Some(&(cb, _))) if ca < cb => {
                i += 1;
                (ca, va)
            }
            (Some(&(ca, va)), None) => {
                i += 1;
                (ca, va)
            }
            (_, Some(&(cb, vb))) => {
                j += 1;
                (cb, Q::new(0, 1)?.sub(factor.mul(vb)?)?)
            }
            (None, None) => break,
        };
        if !next.1.is_zero() {
            out.push(next);
        }
    }
    Ok(out)
}

/// Row echelon form of the published sets, each row remembering which published sets it
/// combines; a row's pivot is its first column.
#[derive(Default)]
struct Basis {
    rows: Vec<(Row, Row)>,
    pivot: HashMap<usize, usize>,
}

impl Basis {
    /// Reduces `row` (with its combination) by the basis; returns what is left.
    fn reduce(&self, mut row: Row, mut combination: Row) -> Result<(Row, Row), Overflow> {
        let mut position = 0;
        while position < row.len() {
            let (column, value) = row[position];
            match self.pivot.get(&column) {
                Some(&r) => {
                    let (pivot_row, pivot_combination) = &self.rows[r];
                    let factor = value.div(pivot_row[0].1)?;
                    row = axpy(&row, factor, pivot_row)?;
                    combination = axpy(&combination, factor, pivot_combination)?;
                    // Entries before `position` are unchanged (pivots come first in their row).
                }
                None => position += 1,
            }
        }
        Ok((row, combination))
    }

    fn insert(&mut self, row: Row, combination: Row) -> Result<(), Overflow> {
        let (row, combination) = self.reduce(row, combination)?;
        if let Some(&(column, _)) = row.first() {
            self.pivot.insert(column, self.rows.len());
            self.rows.push((row, combination));
        }
        Ok(())
    }

    /// The combination of published sets that equals `target`, if there is one.
    fn solve(&self, target: Row) -> Result<Option<Vec<(usize, Q)>>, Overflow> {
        let (rest, combination) = self.reduce(target, Vec::new())?;
        if !rest.is_empty() {
            return Ok(None);
        }
        // target − Σ f·row = 0 with rows = Σ c·sets, tracked negated: the combination holds
        // −Σ f·c, so the sets' coefficients are its negation.
        Ok(Some(
            combination
                .into_iter()
                .map(|(s, q)| Ok((s, Q::new(0, 1)?.sub(q)?)))
                .collect::<Result<Vec<_>, Overflow>>()?,
        ))
    }
}

fn group_label(group: &GroupResult) -> (String, String) {
    match &group.job_level {
        Some(level) => (
            format!("秘匿された{}の職層集計（{level}）", group.name),
            format!("hidden job-level cut of {} ({level})", group.name),
        ),
        None => (
            format!("秘匿された集団「{}」", group.name),
            format!("hidden group \"{}\"", group.name),
        ),
    }
}

/// ICC(1)/ICC(2) must be exactly what the shown cells give: the regions of the shown
/// workplaces, with moments from their published n, mean and SD.
fn reliability_routes(results: &WaveResults, tree: &Tree) -> Vec<Finding> {
    let mut findings = Vec::new();
    for reliability in &results.reliability {
        let hierarchy: Vec<(usize, &GroupResult)> = results
            .groups
            .iter()
            .filter(|g| g.level != GroupLevel::JobLevel)
            .map(|g| (tree.group_node(g), g))
            .collect();
        let mut moments = vec![Moments::default(); tree.codes.len()];
        let mut shown = vec![false; tree.codes.len()];
        for (node, group) in &hierarchy {
            if let Some(score) = group.scores.get(&reliability.dimension) {
                let n = f64::from(score.n);
                let sd = score.sd.unwrap_or(0.0);
                moments[*node] = Moments {
                    n: u64::from(score.n),
                    sum: n * score.mean,
                    sum_sq: (n - 1.0).max(0.0) * sd * sd + n * score.mean * score.mean,
                };
                shown[*node] = true;
            }
        }
        let expected =
            stats::icc_from_moments(&stats::region_moments(&moments, &tree.parent, &shown));
        let close = |published: Option<f64>, from_shown: Option<f64>| match (published, from_shown)
        {
            (None, _) => true,
            (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
            (Some(_), None) => false,
        };
        if !close(reliability.icc1, expected.map(|i| i.icc1))
            || !close(reliability.icc2, expected.map(|i| i.icc2))
        {
            findings.push(Finding {
                route: Route::Reliability,
                ja: format!(
                    "「{}」の ICC(1)/ICC(2) が、表示された集団の数値だけからは得られません（秘匿された集団を含んでいます）",
                    reliability.dimension
                ),
                en: format!(
                    "{}: ICC(1)/ICC(2) differ from what the shown groups give (hidden groups went into them)",
                    reliability.dimension
                ),
            });
        }
    }
    if !results.reliability.is_empty()
        && results
            .groups
            .iter()
            .any(|g| g.level == GroupLevel::Organisation && g.suppressed)
    {
        findings.push(Finding {
            route: Route::Reliability,
            ja: "組織全体が秘匿されているのに信頼性係数が出ています".into(),
            en: "reliability figures are published while the organisation is hidden".into(),
        });
    }
    findings
}

/// Every shown cell publishes its n; its SD and 95% interval must agree with it (so they give
/// nothing more).
fn spread_routes(results: &WaveResults) -> Vec<Finding> {
    let mut findings = Vec::new();
    for group in &results.groups {
        if group.suppressed && (group.n.is_some() || !group.scores.is_empty()) {
            findings.push(Finding {
                route: Route::SpreadAndInterval,
                ja: format!("秘匿された「{}」に数値が出ています", group.name),
                en: format!("hidden group \"{}\" carries figures", group.name),
            });
        }
        if !group.suppressed && group.n.is_none() {
            findings.push(Finding {
                route: Route::SpreadAndInterval,
                ja: format!(
                    "「{}」の人数が出ていません（平均・SD・区間から求まります）",
                    group.name
                ),
                en: format!(
                    "\"{}\" hides its n, which its mean, SD and interval give back",
                    group.name
                ),
            });
        }
        for (dimension, score) in &group.scores {
            let (Some(sd), Some((low, high))) = (score.sd, score.ci95) else {
                continue;
            };
            let expected = stats::confidence_interval(score.mean, sd, score.n as usize, 0.95);
            let agrees = expected.is_some_and(|(l, h)| {
                (l - low).abs() <= 1e-9 * (1.0 + low.abs())
                    && (h - high).abs() <= 1e-9 * (1.0 + high.abs())
            });
            if !agrees {
                findings.push(Finding {
                    route: Route::SpreadAndInterval,
                    ja: format!(
                        "「{}」の{dimension}: SD と信頼区間が公開された人数と合いません",
                        group.name
                    ),
                    en: format!(
                        "\"{}\", {dimension}: SD and interval do not match the published n",
                        group.name
                    ),
                });
            }
        }
    }
    findings
}

/// Item distributions only where the cell is shown and the item has k2 answers; comments
/// only in groups of k2; job-level cuts only for the organisation and top-level units with
/// sub-units.
fn distribution_routes(results: &WaveResults, tree: &Tree) -> Vec<Finding> {
    let mut findings = Vec::new();
    for group in &results.groups {
        for item in group.items.iter().flatten() {
            let answered: u32 = item.distribution.iter().map(|(_, c)| c).sum();
            if !group.scores.contains_key(item.dimension.as_str()) || answered < results.k2 {
                findings.push(Finding {
                    route: Route::Distribution,
                    ja: format!(
                        "「{}」の項目 {} の分布が出ています（回答{}件、得点の表示: {}）",
                        group.name,
                        item.id,
                        answered,
                        if group.scores.contains_key(item.dimension.as_str()) {
                            "あり"
                        } else {
                            "なし"
                        }
                    ),
                    en: format!(
                        "\"{}\" shows item {}'s distribution ({} answers, score shown: {})",
                        group.name,
                        item.id,
                        answered,
                        group.scores.contains_key(item.dimension.as_str())
                    ),
                });
            }
        }
        if group.comments.is_some() && group.n.is_none_or(|n| n < results.k2) {
            findings.push(Finding {
                route: Route::Distribution,
                ja: format!("「{}」のコメントが k2 未満の集団で出ています", group.name),
                en: format!("\"{}\" shows comments below k2", group.name),
            });
        }
        if group.level == GroupLevel::JobLevel && !tree.may_split(tree.group_node(group)) {
            findings.push(Finding {
                route: Route::JobLevel,
                ja: format!("単一の職場「{}」が職層で分けられています", group.name),
                en: format!("a single team, \"{}\", is split by job level", group.name),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregation::results::QuadrantCut;

    pub(super) fn group(
        code: Option<&str>,
        parent: Option<&str>,
        level: GroupLevel,
        job_level: Option<&str>,
        n: Option<u32>,
    ) -> GroupResult {
        GroupResult {
            workplace: code.map(String::from),
            name: code.unwrap_or("組織全体").to_string(),
            level,
            depth: 0,
            parent: parent.map(String::from),
            job_level: job_level.map(String::from),
            suppressed: n.is_none(),
            hidden_reason: None,
            hidden_scores: BTreeMap::new(),
            details_hidden: None,
            n,
            scores: crate::aggregation::results::DimensionScores::new(),
            zone: None,
            certainty: None,
            previous_zone: None,
            items: None,
            comments: None,
        }
    }

    pub(super) fn wave(groups: Vec<GroupResult>) -> WaveResults {
        WaveResults {
            wave: 1,
            wave_name: "w".into(),
            wave_status: crate::wave_status::WaveStatus::Closed,
            survey: "s".into(),
            survey_version: 1,
            k: 5,
            k2: 10,
            cut: QuadrantCut { x: 3.5, y: 3.5 },
            previous_wave: None,
            dimensions: Vec::new(),
            groups,
            reliability: Vec::new(),
        }
    }

    use GroupLevel::{JobLevel, Organisation, Workplace};

    #[test]
    fn a_parent_minus_its_shown_child_is_found() {
        let results = wave(vec![
            group(None, None, Organisation, None, Some(12)),
            group(Some("D1"), None, Workplace, None, Some(12)),
            group(Some("T1"), Some("D1"), Workplace, None, Some(8)),
            group(Some("T2"), Some("D1"), Workplace, None, None),
        ]);
        let findings = audit(&results, &[]).findings;
        assert!(
            findings
                .iter()
                .any(|f| f.route == Route::Linear && f.en.contains("(4 responses)")),
            "{findings:?}"
        );
    }

    #[test]
    fn an_organisation_cut_minus_a_department_cut_is_found() {
        let results = wave(vec![
            group(None, None, Organisation, None, Some(29)),
            group(Some("D1"), None, Workplace, None, Some(24)),
            group(Some("T1"), Some("D1"), Workplace, None, Some(12)),
            group(Some("T2"), Some("D1"), Workplace, None, Some(12)),
            group(Some("D2"), None, Workplace, None, Some(5)),
            group(None, None, JobLevel, Some("manager"), Some(17)),
            group(Some("D1"), Some("D1"), JobLevel, Some("manager"), Some(12)),
        ]);
        let findings = audit(&results, &[]).findings;
        assert!(
            findings
                .iter()
                .any(|f| f.route == Route::JobLevel && f.en.contains("D2")),
            "{findings:?}"
        );
        // With the department's cut hidden, nothing is left to subtract.
        let mut safe = results.clone();
        safe.groups[6].suppressed = true;
        safe.groups[6].n = None;
        assert_eq!(audit(&safe, &[]).findings, vec![]);
    }

    #[test]
    fn a_shown_group_without_its_n_is_found() {
        let mut results = wave(vec![group(None, None, Organisation, None, Some(12))]);
        results.groups[0].n = None;
        results.groups[0].suppressed = false;
        let findings = audit(&results, &[]).findings;
        assert!(findings.iter().any(|f| f.route == Route::SpreadAndInterval));
    }

    #[test]
    fn the_verdict_reads_in_japanese_by_default_and_in_english() {
        let report = audit(
            &wave(vec![group(None, None, Organisation, None, Some(12))]),
            &[],
        );
        assert!(report.passed());
        assert!(report.render(Lang::Ja).contains("判定: 合格"));
        assert!(report.render(Lang::En).contains("Verdict: passed"));
    }
}
