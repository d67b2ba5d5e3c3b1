//! The psychometrics report for HR: is each dimension measured reliably, are the dimensions
//! distinct, and do workplaces differ enough for their means to be read (docs/methodology.md
//! §10).
//!
//! Pure: a closed wave's responses ([`WaveData`]) and its frozen, guarded results
//! ([`WaveResults`]) in, a [`PsychometricsReport`] out. Everything computed from item
//! responses is organisation-wide; the ICCs are the ones the frozen results already publish,
//! computed from shown cells only. Why none of it gives back a hidden group:
//! docs/anonymity.md, "The psychometrics report".

use serde::{Deserialize, Serialize};

use super::engine::WaveData;
use super::results::{GroupLevel, WaveResults};
use super::stats::{self, CovarianceAccumulator};
use crate::collection::answers::NO_ANSWER;
use crate::csv_safe::text_cell;
use crate::wave_status::WaveStatus;

/// Flags (docs/methodology.md §10, with their sources).
pub const LOW_ALPHA: f64 = 0.70;
pub const LOW_OMEGA: f64 = 0.70;
pub const LOW_ITEM_REST: f64 = 0.30;
pub const HIGH_HTMT: f64 = 0.85;
pub const LOW_ICC2: f64 = 0.70;

/// Principal-axis iterations before ω is given up as not converging.
const MAX_ITERATIONS: usize = 10_000;
const CONVERGED: f64 = 1e-12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PsychometricsReport {
    pub wave: i32,
    pub wave_name: String,
    pub survey: String,
    pub survey_version: u32,
    pub k: u32,
    pub k2: u32,
    /// The organisation's response count, as the guarded results publish it.
    pub respondents: u32,
    pub dimensions: Vec<DimensionReport>,
    /// Every pair of dimensions, in definition order (a before b).
    pub pairs: Vec<PairReport>,
}

/// One dimension's reliability. Item figures need at least k2 complete cases
/// (`complete_cases` is then published, else `None` with every item figure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionReport {
    pub dimension: String,
    pub name_ja: String,
    pub name_en: String,
    pub complete_cases: Option<u64>,
    pub alpha: Option<f64>,
    pub alpha_low: bool,
    pub omega: Option<f64>,
    pub omega_low: bool,
    pub items: Vec<ItemReport>,
    /// From the frozen results: ICC(1) and ICC(2) of the shown cells' regions.
    pub icc1: Option<f64>,
    pub icc2: Option<f64>,
    pub icc2_low: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemReport {
    pub item: String,
    pub reverse: bool,
    /// Corrected item–total (item–rest) correlation.
    pub item_rest: Option<f64>,
    pub item_rest_low: bool,
    /// Standardised loading on the dimension's one factor (the one ω uses).
    pub loading: Option<f64>,
}

/// Two dimensions: the correlation of their scores and the HTMT ratio, both over the
/// respondents who answered every item of both (at least k2 of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    pub a: String,
    pub b: String,
    pub complete_cases: Option<u64>,
    pub r: Option<f64>,
    pub htmt: Option<f64>,
    pub htmt_high: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PsychometricsError {
    #[error("wave {0} is still open: its psychometrics are computed once it is closed")]
    WaveOpen(i32),
    #[error(
        "wave {wave}: the organisation shows {shown} responses, fewer than k = {k}: \
         no psychometrics are published for it"
    )]
    TooFewResponses { wave: i32, shown: u32, k: u32 },
    #[error("wave {wave}: stored responses and frozen results do not match: {message}")]
    Inconsistent { wave: i32, message: String },
}

/// The report for one closed wave. `results` must be the wave's frozen results (the ICCs and
/// the organisation's count come from them); `data` its stored responses and definition
/// snapshot. Refused for an open wave and when the organisation as a whole is hidden or
/// shows fewer than k responses.
pub fn report(
    data: &WaveData,
    results: &WaveResults,
) -> Result<PsychometricsReport, PsychometricsError> {
    let wave = data.wave_id;
    if data.wave_status != WaveStatus::Closed || results.wave_status != WaveStatus::Closed {
        return Err(PsychometricsError::WaveOpen(wave));
    }
    let definition = &*data.definition;
    let inconsistent = |message: &str| PsychometricsError::Inconsistent {
        wave,
        message: message.to_string(),
    };
    if results.wave != wave
        || results.survey != definition.id
        || results.survey_version != definition.version
    {
        return Err(inconsistent(
            "the results belong to another wave or definition",
        ));
    }
    let items = definition.items.len();
    if data.responses.answers.len() != data.responses.len() * items {
        return Err(inconsistent("a response has the wrong number of answers"));
    }
    let organisation = results
        .groups
        .iter()
        .find(|g| g.level == GroupLevel::Organisation)
        .ok_or_else(|| inconsistent("the results have no organisation"))?;
    let shown = organisation.n.filter(|_| !organisation.suppressed);
    let respondents = match shown {
        Some(n) if n >= results.k => n,
        _ => {
            return Err(PsychometricsError::TooFewResponses {
                wave,
                shown: shown.unwrap_or(0),
                k: results.k,
            })
        }
    };
    let k2 = u64::from(results.k2);

    let members = definition.dimension_items();
    let pairs: Vec<(usize, usize)> = (0..members.len())
        .flat_map(|a| (a + 1..members.len()).map(move |b| (a, b)))
        .collect();
    let (singles, joint) = accumulate(data, &members, &pairs);

    let dimensions = definition
        .dimensions
        .iter()
        .enumerate()
        .map(|(d, dimension)| {
            let covariance = singles[d].covariance().filter(|_| singles[d].n() >= k2);
            let j = members[d].len();
            let alpha = covariance
                .as_deref()
                .and_then(|c| stats::cronbach_alpha_from_covariance(c, j));
            let item_rest = match &covariance {
                Some(c) if j >= 2 => stats::item_rest_correlations_from_covariance(c, j),
                _ => vec![None; j],
            };
            let loadings = covariance
                .as_deref()
                .and_then(|c| correlation_from_covariance(c, j))
                .and_then(|r| one_factor_loadings(&r, j));
            let omega = loadings.as_deref().map(mcdonald_omega);
            let published = results
                .reliability
                .iter()
                .find(|r| r.dimension == dimension.id);
            let icc2 = published.and_then(|r| r.icc2);
            DimensionReport {
                dimension: dimension.id.clone(),
                name_ja: dimension.name.ja.clone(),
                name_en: dimension.name.en.clone(),
                complete_cases: covariance.as_ref().map(|_| singles[d].n()),
                alpha,
                alpha_low: alpha.is_some_and(|a| a < LOW_ALPHA),
                omega,
                omega_low: omega.is_some_and(|w| w < LOW_OMEGA),
                items: members[d]
                    .iter()
                    .enumerate()
                    .map(|(position, &i)| ItemReport {
                        item: definition.items[i].id.clone(),
                        reverse: definition.items[i].reverse,
                        item_rest: item_rest[position],
                        item_rest_low: item_rest[position].is_some_and(|r| r < LOW_ITEM_REST),
                        loading: loadings.as_ref().map(|l| l[position]),
                    })
                    .collect(),
                icc1: published.and_then(|r| r.icc1),
                icc2,
                icc2_low: icc2.is_some_and(|v| v < LOW_ICC2),
            }
        })
        .collect();

    let pairs = pairs
        .iter()
        .zip(&joint)
        .map(|(&(a, b), accumulator)| {
            let (ja, jb) = (members[a].len(), members[b].len());
            let correlation = accumulator
                .covariance()
                .filter(|_| accumulator.n() >= k2)
                .and_then(|c| correlation_from_covariance(&c, ja + jb).map(|r| (c, r)));
            let r = correlation
                .as_ref()
                .and_then(|(c, _)| sum_correlation(c, ja, jb));
            let htmt = correlation.as_ref().and_then(|(_, r)| htmt(r, ja, jb));
            PairReport {
                a: definition.dimensions[a].id.clone(),
                b: definition.dimensions[b].id.clone(),
                complete_cases: correlation.as_ref().map(|_| accumulator.n()),
                r,
                htmt,
                htmt_high: htmt.is_some_and(|h| h > HIGH_HTMT),
            }
        })
        .collect();

    Ok(PsychometricsReport {
        wave,
        wave_name: data.wave_name.clone(),
        survey: definition.id.clone(),
        survey_version: definition.version,
        k: results.k,
        k2: results.k2,
        respondents,
        dimensions,
        pairs,
    })
}

/// One pass over the responses: the covariance of each dimension's items over its complete
/// cases, and of each pair's items (a's, then b's) over the cases complete on both.
fn accumulate(
    data: &WaveData,
    members: &[Vec<usize>],
    pairs: &[(usize, usize)],
) -> (Vec<CovarianceAccumulator>, Vec<CovarianceAccumulator>) {
    let definition = &*data.definition;
    let items = definition.items.len();
    let recode: Vec<(u8, u8, bool)> = definition
        .items
        .iter()
        .map(|item| {
            let scale = definition.scale_of(item);
            (scale.min, scale.max, item.reverse)
        })
        .collect();
    let mut singles: Vec<CovarianceAccumulator> = members
        .iter()
        .map(|m| CovarianceAccumulator::new(m.len()))
        .collect();
    let mut joint: Vec<CovarianceAccumulator> = pairs
        .iter()
        .map(|&(a, b)| CovarianceAccumulator::new(members[a].len() + members[b].len()))
        .collect();
    let mut values = vec![f64::NAN; items];
    let mut complete = vec![false; members.len()];
    let mut row = Vec::with_capacity(items);
    for answers in data.responses.answers.chunks_exact(items.max(1)) {
        for ((value, &answer), &(min, max, reverse)) in values.iter_mut().zip(answers).zip(&recode)
        {
            *value = if answer != NO_ANSWER && (min..=max).contains(&answer) {
                f64::from(if reverse { min + max - answer } else { answer })
            } else {
                f64::NAN
            };
        }
        for (d, m) in members.iter().enumerate() {
            complete[d] = m.iter().all(|&i| !values[i].is_nan());
            if complete[d] {
                row.clear();
                row.extend(m.iter().map(|&i| values[i]));
                singles[d].push(&row);
            }
        }
        for (&(a, b), accumulator) in pairs.iter().zip(joint.iter_mut()) {
            if complete[a] && complete[b] {
                row.clear();
                row.extend(members[a].iter().chain(&members[b]).map(|&i| values[i]));
                accumulator.push(&row);
            }
        }
    }
    (singles, joint)
}

/// The correlation matrix of a J × J covariance matrix (row-major); `None` when an item has
/// no variance.
pub fn correlation_from_covariance(covariance: &[f64], items: usize) -> Option<Vec<f64>> {
    if covariance.len() != items * items {
        return None;
    }
    let sd: Vec<f64> = (0..items)
        .map(|i| covariance[i * items + i])
        .map(|v| (v > 0.0).then(|| v.sqrt()))
        .collect::<Option<_>>()?;
    Some(
        (0..items * items)
            .map(|e| {
                let (i, j) = (e / items, e % items);
                if i == j {
                    1.0
                } else {
                    (covariance[e] / (sd[i] * sd[j])).clamp(-1.0, 1.0)
                }
            })
            .collect(),
    )
}

/// Pearson r between the sum of the first `a` variables and the sum of the next `b`, from
/// their joint covariance matrix: cov(A, B) = Σ cov_ij over i in A, j in B.
pub fn sum_correlation(covariance: &[f64], a: usize, b: usize) -> Option<f64> {
    let j = a + b;
    if covariance.len() != j * j || a == 0 || b == 0 {
        return None;
    }
    let block = |rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| -> f64 {
        rows.flat_map(|i| cols.clone().map(move |c| (i, c)))
            .map(|(i, c)| covariance[i * j + c])
            .sum()
    };
    let (var_a, var_b, cov) = (block(0..a, 0..a), block(a..j, a..j), block(0..a, a..j));
    (var_a > 0.0 && var_b > 0.0).then(|| (cov / (var_a * var_b).sqrt()).clamp(-1.0, 1.0))
}

/// Heterotrait–monotrait ratio (Henseler, Ringle & Sarstedt 2015, J. of the Academy of
/// Marketing Science 43:115–135, eq. 6) of the first `a` and the next `b` items of a
/// correlation matrix: the mean |r| between the two dimensions' items over the geometric
/// mean of the mean |r| within each (absolute values, as semTools' `htmt` default). `None`
/// when either has fewer than 2 items or no correlation within.
pub fn htmt(correlation: &[f64], a: usize, b: usize) -> Option<f64> {
    let j = a + b;
    if correlation.len() != j * j || a < 2 || b < 2 {
        return None;
    }
    let mean_abs = |pairs: Vec<(usize, usize)>| -> f64 {
        let count = pairs.len() as f64;
        pairs
            .into_iter()
            .map(|(i, c)| correlation[i * j + c].abs())
            .sum::<f64>()
            / count
    };
    let within = |range: std::ops::Range<usize>| {
        range
            .clone()
            .flat_map(|i| range.clone().filter(move |&c| c > i).map(move |c| (i, c)))
            .collect::<Vec<_>>()
    };
    let between: Vec<(usize, usize)> = (0..a).flat_map(|i| (a..j).map(move |c| (i, c))).collect();
    let monotrait = mean_abs(within(0..a)) * mean_abs(within(a..j));
    (monotrait > 0.0).then(|| mean_abs(between) / monotrait.sqrt())
}

/// Loadings of a one-factor model fitted to a J × J correlation matrix by iterated principal
/// axis factoring, which converges to the unweighted-least-squares (minres) solution: the
/// loadings λ minimising Σ_{i≠j} (r_ij − λ_i λ_j)². Communalities start at each item's
/// largest |r| with another item; each round takes the largest eigenpair of the correlation
/// matrix with the communalities on its diagonal. Signed so that Σλ > 0.
///
/// `None` for J < 3 (one factor is not identified by a single correlation), when it does not
/// converge, and for an improper solution (a loading of magnitude 1 or more, a Heywood case).
pub fn one_factor_loadings(correlation: &[f64], items: usize) -> Option<Vec<f64>> {
    if items < 3 || correlation.len() != items * items {
        return None;
    }
    let mut communality: Vec<f64> = (0..items)
        .map(|i| {
            (0..items)
                .filter(|&c| c != i)
                .map(|c| correlation[i * items + c].abs())
                .fold(0.0, f64::max)
        })
        .collect();
    let mut reduced = correlation.to_vec();
    for _ in 0..MAX_ITERATIONS {
        for (i, h2) in communality.iter().enumerate() {
            reduced[i * items + i] = *h2;
        }
        let (value, vector) = largest_eigenpair(&reduced, items)?;
        if value <= 0.0 {
            return None;
        }
        let sign = if vector.iter().sum::<f64>() < 0.0 {
            -1.0
        } else {
            1.0
        };
        let loadings: Vec<f64> = vector.iter().map(|v| sign * v * value.sqrt()).collect();
        let change = loadings
            .iter()
            .zip(&communality)
            .map(|(l, h2)| (l * l - h2).abs())
            .fold(0.0, f64::max);
        communality = loadings.iter().map(|l| l * l).collect();
        if change < CONVERGED {
            return loadings.iter().all(|l| l.abs() < 1.0).then_some(loadings);
        }
    }
    None
}

/// McDonald's ω (total) of a one-factor model on standardised items (McDonald 1999, *Test
/// Theory: A Unified Treatment*, ch. 6): (Σλ)² / ((Σλ)² + Σ(1 − λ²)).
pub fn mcdonald_omega(loadings: &[f64]) -> f64 {
    let common = loadings.iter().sum::<f64>().powi(2);
    let unique: f64 = loadings.iter().map(|l| 1.0 - l * l).sum();
    common / (common + unique)
}

/// The largest eigenvalue of a symmetric n × n matrix (row-major) and its unit eigenvector,
/// by cyclic Jacobi rotations. `None` if the matrix is not n × n or a value is not finite.
fn largest_eigenpair(matrix: &[f64], n: usize) -> Option<(f64, Vec<f64>)> {
    if n == 0 || matrix.len() != n * n || matrix.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut a = matrix.to_vec();
    let mut vectors: Vec<f64> = (0..n * n)
        .map(|e| if e / n == e % n { 1.0 } else { 0.0 })
        .collect();
    let scale: f64 = a.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q].powi(2))
            .sum();
        if off <= scale * 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (vectors[k * n + p], vectors[k * n + q]);
                    vectors[k * n + p] = c * vkp - s * vkq;
                    vectors[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let largest = (0..n).max_by(|&x, &y| a[x * n + x].total_cmp(&a[y * n + y]))?;
    let vector = (0..n).map(|k| vectors[k * n + largest]).collect();
    Some((a[largest * n + largest], vector))
}

/// The CSV's columns (docs/methodology.md §10): one row per figure.
pub const CSV_HEADER: &[&str] = &[
    "wave",
    "statistic",
    "dimension",
    "dimension_name",
    "other_dimension",
    "item",
    "n",
    "value",
    "threshold",
    "flag",
];

/// The report as CSV for Excel: UTF-8 with BOM, one row per figure (long format), values
/// to 3 decimals, empty where a figure is undefined or withheld.
pub fn to_csv(report: &PsychometricsReport) -> Result<Vec<u8>, csv::Error> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(CSV_HEADER)?;
        let wave = report.wave.to_string();
        let mut row = |statistic: &str,
                       dimension: &DimensionReport,
                       other: &str,
                       item: &str,
                       n: Option<u64>,
                       value: Option<f64>,
                       flag: Option<(f64, bool)>|
         -> Result<(), csv::Error> {
            writer.write_record([
                wave.as_str(),
                statistic,
                &text_cell(&dimension.dimension),
                &text_cell(&dimension.name_ja),
                &text_cell(other),
                &text_cell(item),
                &n.map(|n| n.to_string()).unwrap_or_default(),
                &value.map(|v| format!("{v:.3}")).unwrap_or_default(),
                &flag.map(|(t, _)| format!("{t:.2}")).unwrap_or_default(),
                flag.filter(|_| value.is_some())
                    .map_or("", |(_, f)| if f { "true" } else { "false" }),
            ])
        };
        for d in &report.dimensions {
            let n = d.complete_cases;
            row(
                "alpha",
                d,
                "",
                "",
                n,
                d.alpha,
                Some((LOW_ALPHA, d.alpha_low)),
            )?;
            row(
                "omega",
                d,
                "",
                "",
                n,
                d.omega,
                Some((LOW_OMEGA, d.omega_low)),
            )?;
            for item in &d.items {
                let flag = Some((LOW_ITEM_REST, item.item_rest_low));
                row("item_rest_r", d, "", &item.item, n, item.item_rest, flag)?;
                row("loading", d, "", &item.item, n, item.loading, None)?;
            }
            row("icc1", d, "", "", None, d.icc1, None)?;
            row(
                "icc2",
                d,
                "",
                "",
                None,
                d.icc2,
                Some((LOW_ICC2, d.icc2_low)),
            )?;
        }
        for pair in &report.pairs {
            let Some(a) = report.dimensions.iter().find(|d| d.dimension == pair.a) else {
                continue;
            };
            let n = pair.complete_cases;
            row("correlation", a, &pair.b, "", n, pair.r, None)?;
            let flag = Some((HIGH_HTMT, pair.htmt_high));
            row("htmt", a, &pair.b, "", n, pair.htmt, flag)?;
        }
        writer.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::aggregation::guard::Thresholds;
    use crate::aggregation::{compute, ResponseTable, WorkplaceNode};
    use crate::survey::SurveyDefinition;

    const N: u8 = NO_ANSWER;

    /// Dimension a (4 items), b (3 items; b3 reverse-keyed), on one 1–5 scale.
    const DEFINITION: &str = r#"
id = "psy"
version = 2
title = { ja = "テスト", en = "Test" }
[[scales]]
id = "agree5"
min = 1
max = 5
allow_no_answer = true
labels = [{ ja = "いいえ", en = "No" }, { ja = "はい", en = "Yes" }]
[[dimensions]]
id = "a"
name = { ja = "次元A", en = "A" }
description = { ja = "説明", en = "Description" }
[[dimensions]]
id = "b"
name = { ja = "次元B", en = "B" }
description = { ja = "説明", en = "Description" }
[[items]]
id = "a1"
dimension = "a"
scale = "agree5"
text = { ja = "1", en = "1" }
[[items]]
id = "a2"
dimension = "a"
scale = "agree5"
text = { ja = "2", en = "2" }
[[items]]
id = "a3"
dimension = "a"
scale = "agree5"
text = { ja = "3", en = "3" }
[[items]]
id = "a4"
dimension = "a"
scale = "agree5"
text = { ja = "4", en = "4" }
[[items]]
id = "b1"
dimension = "b"
scale = "agree5"
text = { ja = "5", en = "5" }
[[items]]
id = "b2"
dimension = "b"
scale = "agree5"
text = { ja = "6", en = "6" }
[[items]]
id = "b3"
dimension = "b"
scale = "agree5"
reverse = true
text = { ja = "7", en = "7" }
[quadrant]
x = "a"
y = "b"
threshold = { rule = "fixed", value = 3.5 }
"#;

    /// 16 respondents, drawn once (numpy seed 1, two correlated factors, rounded to 1–5) by
    /// the script that computed the reference values below; row 4 skipped a2, row 10 b2.
    /// Columns a1–a4, b1–b3 as scored (b3 is stored reversed in [`wave`]).
    const ROWS: [[u8; 7]; 16] = [
        [3, 5, 4, 4, 4, 4, 3],
        [3, 2, 3, 3, 2, 2, 3],
        [3, 3, 4, 3, 4, 4, 4],
        [2, N, 3, 2, 3, 3, 2],
        [4, 4, 4, 3, 5, 3, 3],
        [4, 3, 4, 2, 4, 3, 4],
        [3, 2, 2, 2, 3, 3, 2],
        [3, 3, 2, 2, 4, 3, 4],
        [3, 3, 3, 4, 4, 2, 1],
        [1, 3, 3, 2, 3, N, 2],
        [2, 4, 3, 4, 2, 3, 2],
        [4, 3, 4, 3, 4, 4, 4],
        [1, 1, 1, 1, 1, 1, 1],
        [3, 3, 2, 3, 2, 2, 2],
        [4, 3, 4, 3, 3, 2, 2],
        [5, 4, 5, 2, 4, 3, 3],
    ];

    fn teams(count: usize) -> Vec<WorkplaceNode> {
        (0..count)
            .map(|t| WorkplaceNode {
                code: format!("T{t}"),
                name: format!("T{t}"),
                parent: None,
                headcount: None,
                reporting_unit: false,
            })
            .collect()
    }

    fn wave(definition: &str, rows: &[Vec<u8>], teams_of: usize, k: u32, k2: u32) -> WaveData {
        let definition = SurveyDefinition::parse(definition, "psy.toml").expect("fixture");
        let workplaces = teams(rows.len().div_ceil(teams_of));
        WaveData {
            wave_id: 7,
            wave_name: "2026年度".into(),
            wave_status: WaveStatus::Closed,
            definition: Arc::new(definition),
            thresholds: Thresholds::new(k, k2).expect("valid"),
            workplaces,
            responses: ResponseTable {
                workplace: (0..rows.len()).map(|r| (r / teams_of) as u32).collect(),
                job_level: vec![None; rows.len()],
                answers: rows.iter().flatten().copied().collect(),
            },
            comments: Vec::new(),
        }
    }

    /// The reference dataset as stored: b3 is reverse-keyed, so its stored answer is 6 − x.
    fn reference_wave(k: u32, k2: u32) -> WaveData {
        let rows: Vec<Vec<u8>> = ROWS
            .iter()
            .map(|row| {
                let mut stored = row.to_vec();
                stored[6] = 6 - stored[6];
                stored
            })
            .collect();
        wave(DEFINITION, &rows, 6, k, k2)
    }

    fn report_of(data: &WaveData) -> Result<PsychometricsReport, PsychometricsError> {
        let results = compute(data, None, None).expect("computed");
        report(data, &results)
    }

    fn close(actual: Option<f64>, expected: f64, tolerance: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() < tolerance)
    }

    #[test]
    fn alpha_matches_pingouins_documented_listwise_example() {
        // pingouin 0.5+ `cronbach_alpha` docstring, dataset "cronbach_wide_missing" (shipped
        // with pingouin; 12 respondents × 11 binary items, 3 rows with a missing answer):
        // `pg.cronbach_alpha(data=data, nan_policy="listwise")` → 0.8016949152542373, noted
        // there as R's `psych::alpha(data, use="complete.obs")`.
        let binary = r#"
id = "binary"
version = 1
title = { ja = "テスト", en = "Test" }
[[scales]]
id = "yes_no"
min = 0
max = 1
allow_no_answer = true
labels = [{ ja = "いいえ", en = "No" }, { ja = "はい", en = "Yes" }]
[[dimensions]]
id = "q"
name = { ja = "Q", en = "Q" }
description = { ja = "説明", en = "Description" }
[[dimensions]]
id = "z"
name = { ja = "Z", en = "Z" }
description = { ja = "説明", en = "Description" }
ITEMS
[[items]]
id = "z1"
dimension = "z"
scale = "yes_no"
text = { ja = "z", en = "z" }
[quadrant]
x = "q"
y = "z"
threshold = { rule = "fixed", value = 0.5 }
"#;
        let items: String = (1..=11)
            .map(|i| {
                format!(
                    "[[items]]\nid = \"q{i}\"\ndimension = \"q\"\nscale = \"yes_no\"\n\
                     text = {{ ja = \"{i}\", en = \"{i}\" }}\n"
                )
            })
            .collect();
        let data: [[u8; 11]; 12] = [
            [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0],
            [N, 0, 1, 1, N, 1, 1, 1, 1, 0, 0],
            [1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0],
            [1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0],
            [0, 1, N, 0, 1, 1, 1, 1, 0, 0, 0],
            [1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
            [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
            [0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0],
            [1, 0, 0, 1, 0, 1, 0, 0, N, 0, 0],
            [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        ];
        let rows: Vec<Vec<u8>> = data
            .iter()
            .enumerate()
            .map(|(r, row)| row.iter().copied().chain([(r % 2) as u8]).collect())
            .collect();
        let report =
            report_of(&wave(&binary.replace("ITEMS", &items), &rows, 6, 3, 3)).expect("report");
        let q = &report.dimensions[0];
        assert_eq!(q.complete_cases, Some(9));
        assert!(close(q.alpha, 0.8016949152542373, 1e-12), "{:?}", q.alpha);
        assert!(!q.alpha_low);
    }

    #[test]
    fn every_statistic_matches_an_independent_python_implementation() {
        // No published example covers ω, item–rest r, HTMT and r on one dataset, so the
        // reference values come from an independent Python implementation on ROWS (numpy
        // 2, pandas, scipy 1.x, pingouin 0.7.0): α = pingouin.cronbach_alpha(nan_policy=
        // "listwise"); item–rest r = numpy.corrcoef(item, sum of the other items) on complete
        // cases; the one-factor loadings by scipy.optimize.minimize (BFGS, gtol 1e-12) of
        // Σ_{i<j} (r_ij − λ_i λ_j)² — a different algorithm from our principal-axis
        // iteration — and ω = (Σλ)²/((Σλ)² + Σ(1 − λ²)); HTMT as Henseler et al. (2015)
        // define it on |numpy.corrcoef| over the cases complete on a and b; r = corrcoef of
        // the two item means on those cases. The script: tests/reference/psychometrics.py.
        let report = report_of(&reference_wave(5, 10)).expect("report");
        let (a, b) = (&report.dimensions[0], &report.dimensions[1]);
        assert_eq!((a.complete_cases, b.complete_cases), (Some(15), Some(15)));
        assert!(close(a.alpha, 0.7921791233049511, 1e-12), "{:?}", a.alpha);
        assert!(close(b.alpha, 0.8397524071526823, 1e-12), "{:?}", b.alpha);
        let rest_a = [
            0.5302969433666217,
            0.7062617307954757,
            0.7697000179873501,
            0.43062054069004274,
        ];
        let rest_b = [0.6663465078494385, 0.7733966434521817, 0.6984556383004715];
        for (item, expected) in a
            .items
            .iter()
            .chain(&b.items)
            .zip(rest_a.iter().chain(&rest_b))
        {
            assert!(close(item.item_rest, *expected, 1e-12), "{item:?}");
            assert!(!item.item_rest_low);
        }
        assert!(b.items[2].reverse);
        let loadings_a = [
            0.6101420860831317,
            0.8013366655778936,
            0.9108913751920037,
            0.4977117070262435,
        ];
        let loadings_b = [0.734120307885645, 0.9032906853074099, 0.789005473648491];
        for (item, expected) in a
            .items
            .iter()
            .chain(&b.items)
            .zip(loadings_a.iter().chain(&loadings_b))
        {
            assert!(close(item.loading, *expected, 1e-5), "{item:?}");
        }
        assert!(close(a.omega, 0.8064958265899236, 1e-6), "{:?}", a.omega);
        assert!(close(b.omega, 0.852013199033188, 1e-6), "{:?}", b.omega);
        let pair = &report.pairs[0];
        assert_eq!((pair.a.as_str(), pair.b.as_str()), ("a", "b"));
        assert_eq!(pair.complete_cases, Some(14));
        assert!(
            close(pair.htmt, 0.8033507688741274, 1e-12),
            "{:?}",
            pair.htmt
        );
        assert!(!pair.htmt_high);
        assert!(close(pair.r, 0.6577363277619973, 1e-12), "{:?}", pair.r);
    }

    #[test]
    fn iccs_are_the_frozen_results_from_shown_cells() {
        let data = reference_wave(5, 10);
        let results = compute(&data, None, None).expect("computed");
        let psy = report(&data, &results).expect("report");
        for (dimension, published) in psy.dimensions.iter().zip(&results.reliability) {
            assert_eq!(dimension.icc1, published.icc1);
            assert_eq!(dimension.icc2, published.icc2);
            assert_eq!(
                dimension.icc2_low,
                published.icc2.is_some_and(|v| v < LOW_ICC2)
            );
        }
        // Teams of 6, 6 and 4 (k = 5): T2 is hidden, and the organisation minus T0 and T1
        // would be T2, so one of those is hidden too. The ANOVA then has two groups — the
        // shown team, and the organisation's region (everyone else) — never the hidden team.
        let shown: Vec<usize> = (0..3)
            .filter(|t| {
                let code = format!("T{t}");
                results
                    .groups
                    .iter()
                    .any(|g| g.workplace.as_deref() == Some(code.as_str()) && !g.suppressed)
            })
            .collect();
        assert_eq!(shown.len(), 1, "{shown:?}");
        let score = |row: &[u8; 7], items: std::ops::Range<usize>| {
            let answered: Vec<f64> = row[items]
                .iter()
                .filter(|&&v| v != N)
                .map(|&v| f64::from(v))
                .collect();
            answered.iter().sum::<f64>() / answered.len() as f64
        };
        for (d, items) in [(0, 0..4), (1, 4..7)] {
            let (mut team, mut rest) = (Vec::new(), Vec::new());
            for (r, row) in ROWS.iter().enumerate() {
                let target = if r / 6 == shown[0] {
                    &mut team
                } else {
                    &mut rest
                };
                target.push(score(row, items.clone()));
            }
            let expected = stats::icc(&[team, rest]).expect("defined");
            // Relative: with nearly equal means MSB is tiny and ICC(2) large and negative.
            for (actual, expected) in [
                (psy.dimensions[d].icc1, expected.icc1),
                (psy.dimensions[d].icc2, expected.icc2),
            ] {
                assert!(close(actual, expected, 1e-10 * expected.abs().max(1.0)));
            }
        }
    }

    #[test]
    fn item_figures_do_not_depend_on_who_answered_for_which_workplace() {
        // Organisation-wide only: moving responses between workplaces (so other cells are
        // shown or hidden) changes the ICCs at most, never an item figure.
        let data = reference_wave(5, 10);
        let mut moved = data.clone();
        moved.responses.workplace = (0..16).map(|r| [2, 0, 1, 1][r % 4]).collect();
        let (before, after) = (
            report_of(&data).expect("report"),
            report_of(&moved).expect("report"),
        );
        assert_eq!(before.pairs, after.pairs);
        for (b, a) in before.dimensions.iter().zip(&after.dimensions) {
            assert_eq!((b.alpha, b.omega, &b.items), (a.alpha, a.omega, &a.items));
            assert_eq!(b.complete_cases, a.complete_cases);
        }
        assert_ne!(
            before.dimensions.iter().map(|d| d.icc1).collect::<Vec<_>>(),
            after.dimensions.iter().map(|d| d.icc1).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_wave_whose_organisation_shows_fewer_than_k_is_refused() {
        let rows: Vec<Vec<u8>> = ROWS[..4]
            .iter()
            .map(|r| r.map(|v| v.min(5)).to_vec())
            .collect();
        let data = wave(DEFINITION, &rows, 6, 5, 10);
        assert_eq!(
            report_of(&data),
            Err(PsychometricsError::TooFewResponses {
                wave: 7,
                shown: 0,
                k: 5
            })
        );
        // Five responses: shown, so a report — but every item figure needs k2 complete
        // cases, so only the (undefined) ICCs are left.
        let rows: Vec<Vec<u8>> = ROWS[..5].iter().map(|r| r.to_vec()).collect();
        let small = report_of(&wave(DEFINITION, &rows, 6, 5, 10)).expect("report");
        assert_eq!(small.respondents, 5);
        for d in &small.dimensions {
            assert_eq!((d.complete_cases, d.alpha, d.omega), (None, None, None));
            assert!(d
                .items
                .iter()
                .all(|i| i.item_rest.is_none() && i.loading.is_none()));
        }
        assert!(small
            .pairs
            .iter()
            .all(|p| p.complete_cases.is_none() && p.r.is_none()));
        // An open wave is refused whatever its size.
        let mut open = reference_wave(5, 10);
        let results = compute(&open, None, None).expect("computed");
        open.wave_status = WaveStatus::Open;
        assert_eq!(
            report(&open, &results),
            Err(PsychometricsError::WaveOpen(7))
        );
    }

    #[test]
    fn figures_need_k2_complete_cases() {
        // k2 = 15: each dimension has 15 complete cases, the pair only 14.
        let report = report_of(&reference_wave(5, 15)).expect("report");
        assert!(report
            .dimensions
            .iter()
            .all(|d| d.complete_cases == Some(15)));
        let pair = &report.pairs[0];
        assert_eq!((pair.complete_cases, pair.r, pair.htmt), (None, None, None));
    }

    #[test]
    fn htmt_of_a_hand_computed_matrix() {
        // Two items each: within a .6, within b .4, between all −.3 (absolute values count):
        // HTMT = .3 / √(.6 · .4) = .61237…
        let r = [
            1.0, 0.6, -0.3, -0.3, //
            0.6, 1.0, -0.3, -0.3, //
            -0.3, -0.3, 1.0, 0.4, //
            -0.3, -0.3, 0.4, 1.0,
        ];
        assert!(close(htmt(&r, 2, 2), 0.3 / 0.24f64.sqrt(), 1e-15));
        assert_eq!(htmt(&r, 1, 3), None);
    }

    #[test]
    fn one_factor_recovers_exact_loadings_and_refuses_improper_ones() {
        let lambda = [0.8, 0.7, 0.6, 0.5];
        let r: Vec<f64> = (0..16)
            .map(|e| {
                let (i, j) = (e / 4, e % 4);
                if i == j {
                    1.0
                } else {
                    lambda[i] * lambda[j]
                }
            })
            .collect();
        let loadings = one_factor_loadings(&r, 4).expect("converges");
        for (l, expected) in loadings.iter().zip(lambda) {
            assert!((l - expected).abs() < 1e-9, "{loadings:?}");
        }
        // (2.6)² / ((2.6)² + 2.26)
        assert!((mcdonald_omega(&loadings) - 6.76 / 9.02).abs() < 1e-9);
        // Three items with r12 = r13 = .9, r23 = .5 force λ1² = .9·.9/.5 > 1: improper.
        let heywood = [1.0, 0.9, 0.9, 0.9, 1.0, 0.5, 0.9, 0.5, 1.0];
        assert_eq!(one_factor_loadings(&heywood, 3), None);
        assert_eq!(one_factor_loadings(&r[..4], 2), None);
    }

    #[test]
    fn largest_eigenpair_of_a_small_matrix() {
        let (value, vector) = largest_eigenpair(&[2.0, 1.0, 1.0, 2.0], 2).expect("pair");
        assert!((value - 3.0).abs() < 1e-12);
        assert!((vector[0].abs() - 0.5f64.sqrt()).abs() < 1e-12);
        assert!((vector[0] - vector[1]).abs() < 1e-12);
    }

    #[test]
    fn the_csv_has_one_row_per_figure_with_flags() {
        let report = report_of(&reference_wave(5, 10)).expect("report");
        let bytes = to_csv(&report).expect("csv");
        let text = std::str::from_utf8(&bytes).expect("utf-8");
        let text = text.strip_prefix('\u{feff}').expect("BOM for Excel");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        // Per dimension: α, ω, ICC(1), ICC(2) and two rows per item; one pair: r and HTMT.
        assert_eq!(lines.len(), 1 + (4 + 2 * 4) + (4 + 2 * 3) + 2);
        assert!(lines.contains(&"7,alpha,a,次元A,,,15,0.792,0.70,false"));
        assert!(lines.contains(&"7,htmt,a,次元A,b,,14,0.803,0.85,false"));
        assert!(lines.contains(&"7,loading,b,次元B,,b3,15,0.789,,"));
    }
}
