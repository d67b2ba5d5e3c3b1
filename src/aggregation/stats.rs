//! Statistics for the "Check" step of the PDCA cycle: numbers in, numbers out.
//!
//! Every function is pure. A statistic that is undefined for the input (too few
//! respondents, zero variance, malformed matrix) comes back as `None` rather than as
//! NaN or infinity, so callers must decide what to show instead.
//!
//! Inputs are expected to be finite Likert answers (small integers stored as `f64`).
//! For such data sums are exact, so the "zero variance" checks below are exact
//! comparisons. The anonymity guard (minimum group sizes) is the caller's job; nothing
//! here knows about k.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Descriptive statistics of one set of scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1 denominator); `None` when n < 2.
    pub sd: Option<f64>,
    /// 95% confidence interval of the mean (t-distribution); `None` when n < 2.
    pub ci95: Option<(f64, f64)>,
}

/// Mean, sample SD and 95% t-interval of `values`; `None` for empty input.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let mean = mean(values)?;
    let n = values.len();
    let sd = sample_variance(values).map(f64::sqrt);
    let ci95 = sd.and_then(|sd| confidence_interval(mean, sd, n, 0.95));
    Some(Summary { n, mean, sd, ci95 })
}

/// Two-sided confidence interval of a mean: mean ± t_{(1+level)/2, n−1} · sd/√n
/// (NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.5.2).
///
/// `level` is the coverage, e.g. 0.95 or 0.90. `None` when n < 2, `level` is not in
/// (0, 1) or `sd` is negative or not finite. sd = 0 gives the degenerate interval
/// (mean, mean).
pub fn confidence_interval(mean: f64, sd: f64, n: usize, level: f64) -> Option<(f64, f64)> {
    let level_ok = level > 0.0 && level < 1.0;
    if n < 2 || !level_ok || !sd.is_finite() || sd < 0.0 {
        return None;
    }
    let t = t_quantile((n - 1) as f64, (1.0 + level) / 2.0)?;
    let half_width = t * sd / (n as f64).sqrt();
    Some((mean - half_width, mean + half_width))
}

/// The SD floor of a zone interval, as a share of the scale's range: one eighth, i.e. 0.5 on
/// a 1–5 scale — the SD of answers split evenly between two adjacent points, the least
/// disagreement a real team can be assumed to have when a small sample shows none.
pub const ZONE_SD_FLOOR_SHARE: f64 = 0.125;

/// The 95% interval of a group mean used to place it in a quadrant zone and drawn on the
/// quadrant: m ± t(0.975; n − 1) · max(s, floor)/√n with floor = (max − min)/8
/// ([`ZONE_SD_FLOOR_SHARE`]). The floor keeps a small group whose answers happen to agree
/// (s = 0 in a team of 5) from looking exact. `None` when n < 2, `sd` is missing, negative
/// or not finite, or the scale is empty.
pub fn zone_interval(
    mean: f64,
    sd: Option<f64>,
    n: usize,
    scale_min: f64,
    scale_max: f64,
) -> Option<(f64, f64)> {
    let sd = sd.filter(|s| s.is_finite() && *s >= 0.0)?;
    if scale_max.partial_cmp(&scale_min) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let floor = (scale_max - scale_min) * ZONE_SD_FLOOR_SHARE;
    confidence_interval(mean, sd.max(floor), n, 0.95)
}

/// A respondent's scale score: the mean of the items they answered, provided they
/// answered at least ⌈2/3 · J⌉ of the J items; otherwise `None` (too incomplete to
/// stand for the scale). `None` also for J = 0.
pub fn respondent_score(answers: &[Option<f64>]) -> Option<f64> {
    let (answered, sum) = answers
        .iter()
        .flatten()
        .fold((0usize, 0.0), |(count, sum), value| {
            (count + 1, sum + value)
        });
    respondent_score_from_sum(answered, sum, answers.len())
}

/// [`respondent_score`] from the number of answered items, their sum and the number of
/// items J (for callers that already hold the sum).
pub fn respondent_score_from_sum(answered: usize, sum: f64, items: usize) -> Option<f64> {
    let required = (2 * items).div_ceil(3);
    if answered == 0 || answered < required {
        return None;
    }
    Some(sum / answered as f64)
}

/// Share (0.0–1.0, not percent) of answers in the top two boxes.
///
/// `counts[i]` is the number of answers on the i-th point of the scale, lowest first, after
/// reverse coding (so the last two points are the favourable ones). `None` without answers
/// or for a scale with fewer than 3 points (where the top two boxes would be everything).
pub fn favourable_share(counts: &[u32]) -> Option<f64> {
    let total: u32 = counts.iter().sum();
    if counts.len() < 3 || total == 0 {
        return None;
    }
    let favourable: u32 = counts[counts.len() - 2..].iter().sum();
    Some(f64::from(favourable) / f64::from(total))
}

/// Maps a mean on the `min..=max` scale to 0–100: (mean − min)/(max − min) · 100.
///
/// The scale bounds come from the survey definition, not from data; `max > min` is the
/// caller's precondition.
pub fn display_score(mean: f64, min: f64, max: f64) -> f64 {
    debug_assert!(max > min, "scale bounds must satisfy max > min");
    (mean - min) / (max - min) * 100.0
}

/// Net promoter score on the 0–10 scale, in percentage points (−100 to 100):
/// % promoters (9–10) − % detractors (0–6) (Reichheld 2003, "The One Number You Need to
/// Grow", HBR). `counts[v]` is the number of answers v for v = 0..=10. `None` without
/// answers or for another number of points. The minimum-n rule for showing it is the
/// caller's guard.
pub fn promoter_score(counts: &[u32]) -> Option<f64> {
    let total: u32 = counts.iter().sum();
    if counts.len() != 11 || total == 0 {
        return None;
    }
    let promoters: u32 = counts[9..].iter().sum();
    let detractors: u32 = counts[..=6].iter().sum();
    Some((f64::from(promoters) - f64::from(detractors)) / f64::from(total) * 100.0)
}

/// Cronbach's alpha (Cronbach 1951, Psychometrika 16:297–334):
/// α = J/(J − 1) · (1 − Σ var_i / var_total), with sample variances of the J item
/// columns and of the respondents' total scores.
///
/// `rows` are complete cases: one row per respondent, one column per item. `None` if
/// the matrix is ragged, J < 2, n < 2, or the totals have zero variance.
pub fn cronbach_alpha(rows: &[Vec<f64>]) -> Option<f64> {
    let (_, items) = matrix_shape(rows)?;
    let covariance = covariance_of_rows(rows, items)?;
    cronbach_alpha_from_covariance(&covariance, items)
}

/// Cronbach's alpha from the J × J sample covariance matrix (row-major) of complete cases:
/// Σ var_i is its trace and var_total the sum of all its entries.
pub fn cronbach_alpha_from_covariance(covariance: &[f64], items: usize) -> Option<f64> {
    if items < 2 || covariance.len() != items * items {
        return None;
    }
    let item_variance_sum: f64 = (0..items).map(|i| covariance[i * items + i]).sum();
    let total_variance: f64 = covariance.iter().sum();
    if total_variance <= 0.0 {
        return None;
    }
    let j = items as f64;
    Some(j / (j - 1.0) * (1.0 - item_variance_sum / total_variance))
}

/// Corrected item–total correlations: for each item, the Pearson correlation between
/// the item and the sum of the *other* items (so the item does not correlate with
/// itself; Nunnally & Bernstein 1994, Psychometric Theory, ch. 8).
///
/// One entry per item; an entry is `None` when the item or the rest-sum has zero
/// variance or n < 2. Empty when `rows` is empty or ragged.
pub fn item_total_correlations(rows: &[Vec<f64>]) -> Vec<Option<f64>> {
    let Some((_, items)) = matrix_shape(rows) else {
        return Vec::new();
    };
    match covariance_of_rows(rows, items) {
        Some(covariance) => item_rest_correlations_from_covariance(&covariance, items),
        None => vec![None; items],
    }
}

/// Corrected item–total correlations from the J × J sample covariance matrix:
/// cov(i, rest) = Σ_{j≠i} cov_ij and var(rest) = Σ_{j,l≠i} cov_jl.
pub fn item_rest_correlations_from_covariance(
    covariance: &[f64],
    items: usize,
) -> Vec<Option<f64>> {
    if covariance.len() != items * items {
        return vec![None; items];
    }
    let entry = |row: usize, col: usize| covariance[row * items + col];
    (0..items)
        .map(|i| {
            let item_variance = entry(i, i);
            let with_rest: f64 = (0..items).filter(|&j| j != i).map(|j| entry(i, j)).sum();
            let rest_variance: f64 = (0..items)
                .filter(|&j| j != i)
                .flat_map(|j| (0..items).filter(move |&l| l != i).map(move |l| (j, l)))
                .map(|(j, l)| entry(j, l))
                .sum();
            if item_variance <= 0.0 || rest_variance <= 0.0 {
                return None;
            }
            // Rounding can push |r| a hair past 1 for perfectly collinear data.
            Some((with_rest / (item_variance * rest_variance).sqrt()).clamp(-1.0, 1.0))
        })
        .collect()
}

/// Intra-class correlations from a one-way ANOVA of respondents nested in groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Icc {
    /// ICC(1): share of individual variance attributable to group membership.
    pub icc1: f64,
    /// ICC(2): reliability of the group means.
    pub icc2: f64,
    /// F = MSB / MSW; infinite when every group is internally constant (MSW = 0).
    pub f: f64,
    pub df_between: usize,
    pub df_within: usize,
    /// k0 = (N − Σ n_g² / N) / (G − 1), the group size the coefficients assume for unequal
    /// groups (Snedecor & Cochran); multilevel's `ICC1` uses N / G instead.
    pub k0: f64,
}

/// ICC(1) and ICC(2) after Bliese (2000), "Within-group agreement, non-independence,
/// and reliability", in Klein & Kozlowski (eds.), Multilevel Theory, Research, and
/// Methods in Organizations:
///
/// - ICC(1) = (MSB − MSW) / (MSB + (k0 − 1) · MSW)
/// - ICC(2) = (MSB − MSW) / MSB
///
/// where for unequal group sizes k0 = (N − Σ n_g² / N) / (G − 1), the usual
/// average group size of unbalanced one-way ANOVA (Snedecor & Cochran, Statistical
/// Methods). Both may be negative when groups differ less than chance would predict.
///
/// Empty groups are ignored. `None` with fewer than 2 non-empty groups, when N ≤ G
/// (no within-group degrees of freedom), or when MSB = 0.
pub fn icc(groups: &[Vec<f64>]) -> Option<Icc> {
    let moments: Vec<Moments> = groups
        .iter()
        .map(|group| {
            let mut m = Moments::default();
            group.iter().for_each(|&x| m.push(x));
            m
        })
        .collect();
    icc_from_moments(&moments)
}

/// [`icc`] from each group's running n, Σx and Σx² (see [`Moments`]).
pub fn icc_from_moments(groups: &[Moments]) -> Option<Icc> {
    let groups: Vec<&Moments> = groups.iter().filter(|g| g.n > 0).collect();
    let group_count = groups.len();
    let total_n: u64 = groups.iter().map(|g| g.n).sum();
    if group_count < 2 || total_n <= group_count as u64 {
        return None;
    }
    let n = total_n as f64;
    let grand_mean = groups.iter().map(|g| g.sum).sum::<f64>() / n;
    let ss_between: f64 = groups
        .iter()
        .map(|g| g.n as f64 * (g.sum / g.n as f64 - grand_mean).powi(2))
        .sum();
    let ss_within: f64 = groups.iter().map(|g| g.sum_of_squared_deviations()).sum();
    let df_between = group_count - 1;
    let df_within = total_n as usize - group_count;
    let ms_between = ss_between / df_between as f64;
    let ms_within = ss_within / df_within as f64;
    // Equal group means that are not whole numbers (3.33…) leave rounding dust in SSB; treat
    // anything below the sums' rounding error as no between-group variance at all.
    let sum_of_squares: f64 = groups.iter().map(|g| g.sum * g.sum / g.n as f64).sum();
    if ss_between <= sum_of_squares * 1e-12 {
        return None;
    }
    let sum_sq_sizes: f64 = groups.iter().map(|g| (g.n as f64).powi(2)).sum();
    let k0 = (n - sum_sq_sizes / n) / df_between as f64;
    Some(Icc {
        icc1: (ms_between - ms_within) / (ms_between + (k0 - 1.0) * ms_within),
        icc2: (ms_between - ms_within) / ms_between,
        f: ms_between / ms_within,
        df_between,
        df_within,
        k0,
    })
}

/// Reliability of one group's mean from the organisation's ICC(1) and the group's size n:
/// the Spearman–Brown formula n·ICC(1) / (1 + (n − 1)·ICC(1)) (Bliese 2000, eq. 7; the
/// ICC(2) of a group of n). It says how far the mean of n members stands for the group
/// rather than for who happened to answer. An ICC(1) at or below 0 (groups differ no more
/// than chance predicts) gives 0: the mean carries no group-specific signal. `None` when
/// n = 0 or ICC(1) is not finite or above 1.
pub fn mean_reliability(icc1: f64, n: u32) -> Option<f64> {
    if n == 0 || !icc1.is_finite() || icc1 > 1.0 {
        return None;
    }
    if icc1 <= 0.0 {
        return Some(0.0);
    }
    let n = f64::from(n);
    Some(n * icc1 / (1.0 + (n - 1.0) * icc1))
}

/// Within-group agreement r*wg(J) of Lindell, Brandt & Whitney (1999), Applied
/// Psychological Measurement 23(2):127–135:
///
/// r*wg(J) = 1 − (mean of the J observed item variances) / σ²_EU,
/// σ²_EU = (A² − 1) / 12 for A response options (uniform, "random responding" null).
///
/// Unlike James, Demaree & Wolf's rwg(J) it is not inflated by the number of items and
/// is reported as computed: 1 is perfect agreement, 0 is what random answering gives,
/// and values below 0 mean *more* disagreement than random answering (e.g. a split
/// group). Do not clamp it.
///
/// `rows` are the respondents of ONE group × items. `None` if the matrix is ragged or
/// has no items, n < 2, or `scale_points` < 2.
pub fn rwg_j_lindell(rows: &[Vec<f64>], scale_points: usize) -> Option<f64> {
    let (n, items) = matrix_shape(rows)?;
    if n < 2 || items == 0 {
        return None;
    }
    let variances = (0..items)
        .map(|i| sample_variance(&column(rows, i)))
        .collect::<Option<Vec<f64>>>()?;
    rwg_j_from_variances(&variances, scale_points)
}

/// [`rwg_j_lindell`] from the group's observed item variances.
pub fn rwg_j_from_variances(item_variances: &[f64], scale_points: usize) -> Option<f64> {
    if item_variances.is_empty() || scale_points < 2 {
        return None;
    }
    let mean_item_variance = item_variances.iter().sum::<f64>() / item_variances.len() as f64;
    let a = scale_points as f64;
    let uniform_variance = (a * a - 1.0) / 12.0;
    Some(1.0 - mean_item_variance / uniform_variance)
}

/// The slight-skew null of James, Demaree & Wolf (1984, J. Appl. Psychol. 69:85–98) for a
/// 5-point scale, as tabled by LeBreton & Senter (2008, Organizational Research Methods
/// 11:815–852, Table 3): answers 1–5 with probabilities .05, .15, .20, .35, .25 (a mild lean
/// towards agreeing). Its variance is 1.34 — close to the triangular "central tendency"
/// null (1.32), so it also stands for answers clustering at the midpoint.
pub const SLIGHT_SKEW_5: [f64; 5] = [0.05, 0.15, 0.20, 0.35, 0.25];

/// Variance of a null response distribution given as probabilities of consecutive points.
/// `None` for an empty distribution or probabilities that do not sum to 1.
pub fn null_variance(probabilities: &[f64]) -> Option<f64> {
    let total: f64 = probabilities.iter().sum();
    if probabilities.is_empty() || (total - 1.0).abs() > 1e-9 {
        return None;
    }
    let mean: f64 = probabilities
        .iter()
        .enumerate()
        .map(|(i, p)| i as f64 * p)
        .sum();
    Some(
        probabilities
            .iter()
            .enumerate()
            .map(|(i, p)| p * (i as f64 - mean).powi(2))
            .sum(),
    )
}

/// r*wg(J) against the slight-skew null ([`SLIGHT_SKEW_5`]): 1 − mean item variance / 1.34.
/// Defined for 5-point scales only (no published skewed null for other lengths is used);
/// lower than the uniform-null figure, so a group that looks in agreement against random
/// answering may not against a mild response bias (LeBreton & Senter 2008, Q7).
pub fn rwg_j_slight_skew(item_variances: &[f64], scale_points: usize) -> Option<f64> {
    if item_variances.is_empty() || scale_points != SLIGHT_SKEW_5.len() {
        return None;
    }
    let mean_item_variance = item_variances.iter().sum::<f64>() / item_variances.len() as f64;
    Some(1.0 - mean_item_variance / null_variance(&SLIGHT_SKEW_5)?)
}

/// Result of Welch's unequal-variance t-test between two waves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// Current mean − previous mean.
    pub diff: f64,
    /// 95% confidence interval of `diff`.
    pub ci95: (f64, f64),
    /// Two-sided p-value.
    pub p: f64,
    /// Welch–Satterthwaite degrees of freedom (fractional).
    pub df: f64,
}

/// Welch's t-test (Welch 1947, Biometrika 34:28–35) with the Welch–Satterthwaite
/// degrees of freedom (Satterthwaite 1946, Biometrics Bulletin 2:110–114):
///
/// - se² = s_a²/n_a + s_b²/n_b, t = (mean_a − mean_b) / se
/// - df = se⁴ / ((s_a²/n_a)²/(n_a − 1) + (s_b²/n_b)²/(n_b − 1))
/// - p = 2 · P(T_df > |t|), CI = diff ± t_{0.975, df} · se
///
/// `a` is the current wave, `b` the previous one, so `diff` > 0 is an improvement when
/// high is good. `None` when either n < 2 (no SD) or both variances are zero.
pub fn welch(a: &Summary, b: &Summary) -> Option<Welch> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let var_mean_a = a.sd?.powi(2) / a.n as f64;
    let var_mean_b = b.sd?.powi(2) / b.n as f64;
    let se_squared = var_mean_a + var_mean_b;
    if se_squared == 0.0 {
        return None;
    }
    let df = se_squared.powi(2)
        / (var_mean_a.powi(2) / (a.n - 1) as f64 + var_mean_b.powi(2) / (b.n - 1) as f64);
    let se = se_squared.sqrt();
    let diff = a.mean - b.mean;
    let t_dist = t_distribution(df)?;
    // The survival function keeps precision for small p where 1 − cdf would cancel.
    let p = 2.0 * t_dist.sf(diff.abs() / se);
    let half_width = t_quantile(df, 0.975)? * se;
    Some(Welch {
        diff,
        ci95: (diff - half_width, diff + half_width),
        p,
        df,
    })
}

/// Benjamini–Hochberg false-discovery-rate adjustment (Benjamini & Hochberg 1995,
/// JRSS B 57(1):289–300): with p sorted ascending, q_(i) = min over j ≥ i of
/// p_(j) · m / j, capped at 1. Returned in the input order.
///
/// p-values must lie in [0, 1]. Ties are fine; they receive equal q-values.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len() as f64;
    // Sorted by `f64::total_cmp`, ties in input order: the same order a stable sort by
    // `total_cmp` gives, as plain integers (the key is `total_cmp`'s own transformation of
    // the bits, shifted to unsigned).
    let mut order: Vec<(u64, usize)> = p_values
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let bits = p.to_bits() as i64;
            let ordered = bits ^ (((bits >> 63) as u64) >> 1) as i64;
            ((ordered as u64) ^ (1 << 63), i)
        })
        .collect();
    order.sort_unstable();

    let mut q_values = vec![0.0; p_values.len()];
    // Starting the running minimum at 1 applies the cap; walking from the largest p
    // down makes the q-values monotone in p.
    let mut running_min = 1.0_f64;
    for (index, &(_, original)) in order.iter().enumerate().rev() {
        let rank = (index + 1) as f64;
        running_min = running_min.min(p_values[original] * m / rank);
        q_values[original] = running_min;
    }
    q_values
}

/// Running n, Σx and Σx² of one variable: enough for its mean, sample variance and CI, and
/// additive, so a group's figures are the sum of its parts' without revisiting responses.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Moments {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    /// Adds `count` observations of the value `x` (an answer-count histogram).
    pub fn push_repeated(&mut self, x: f64, count: u32) {
        let count = u64::from(count);
        self.n += count;
        self.sum += x * count as f64;
        self.sum_sq += x * x * count as f64;
    }

    pub fn add(&mut self, other: &Moments) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    /// Removes a part's figures (the part must lie within these).
    pub fn subtract(&mut self, part: &Moments) {
        self.n = self.n.saturating_sub(part.n);
        self.sum -= part.sum;
        self.sum_sq -= part.sum_sq;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// Σ(x − mean)², never negative despite rounding.
    fn sum_of_squared_deviations(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        (self.sum_sq - self.sum * self.sum / self.n as f64).max(0.0)
    }

    /// Sample variance (n − 1 denominator); `None` when n < 2.
    pub fn variance(&self) -> Option<f64> {
        (self.n >= 2).then(|| self.sum_of_squared_deviations() / (self.n - 1) as f64)
    }

    /// The same [`Summary`] that [`summarize`] gives for the raw values.
    pub fn summary(&self) -> Option<Summary> {
        let mean = self.mean()?;
        let sd = self.variance().map(f64::sqrt);
        let n = self.n as usize;
        Some(Summary {
            n,
            mean,
            sd,
            ci95: sd.and_then(|sd| confidence_interval(mean, sd, n, 0.95)),
        })
    }
}

/// The moments of each shown group's *region*: its own moments minus those of its bounding
/// shown descendants (the shown descendants with no shown group in between). `parents` gives
/// each group's parent (`None` for a root or a group outside the tree). The regions of the
/// shown groups partition the respondents of the shown roots, and each follows from the
/// shown groups' published n, mean and SD, so figures computed from them reveal nothing the
/// guard hid. Regions without respondents are left out.
pub fn region_moments(
    moments: &[Moments],
    parents: &[Option<usize>],
    shown: &[bool],
) -> Vec<Moments> {
    let mut regions: Vec<Moments> = moments
        .iter()
        .zip(shown)
        .map(|(m, &s)| if s { *m } else { Moments::default() })
        .collect();
    for g in 0..moments.len() {
        if !shown[g] {
            continue;
        }
        // The nearest shown ancestor bounds g.
        let mut ancestor = parents[g];
        let mut steps = 0;
        while let Some(a) = ancestor {
            if shown[a] {
                regions[a].subtract(&moments[g]);
                break;
            }
            ancestor = parents[a];
            steps += 1;
            if steps > moments.len() {
                break;
            }
        }
    }
    regions.into_iter().filter(|m| m.n > 0).collect()
}

/// Sample covariance matrix of J items, accumulated one complete case at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct CovarianceAccumulator {
    items: usize,
    n: u64,
    sums: Vec<f64>,
    cross: Vec<f64>,
}

impl CovarianceAccumulator {
    pub fn new(items: usize) -> Self {
        CovarianceAccumulator {
            items,
            n: 0,
            sums: vec![0.0; items],
            cross: vec![0.0; items * items],
        }
    }

    /// An accumulator that has seen `n` rows with these column sums and cross-product sums
    /// (row-major J × J, upper triangle j ≥ i), e.g. summed exactly by the caller.
    pub fn from_sums(n: u64, sums: Vec<f64>, cross: Vec<f64>) -> Self {
        let items = sums.len();
        debug_assert_eq!(cross.len(), items * items);
        CovarianceAccumulator {
            items,
            n,
            sums,
            cross,
        }
    }

    /// Adds one respondent's complete row of J item values.
    pub fn push(&mut self, row: &[f64]) {
        debug_assert_eq!(row.len(), self.items);
        self.n += 1;
        for (i, &x) in row.iter().enumerate() {
            self.sums[i] += x;
            let cross = &mut self.cross[i * self.items..(i + 1) * self.items];
            for (total, &y) in cross[i..].iter_mut().zip(&row[i..]) {
                *total += x * y;
            }
        }
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    /// Adds the rows another accumulator has seen (same items).
    pub fn merge(&mut self, other: &CovarianceAccumulator) {
        debug_assert_eq!(self.items, other.items);
        self.n += other.n;
        for (total, part) in self.sums.iter_mut().zip(&other.sums) {
            *total += part;
        }
        for (total, part) in self.cross.iter_mut().zip(&other.cross) {
            *total += part;
        }
    }

    /// The J × J sample covariance matrix, row-major; `None` when n < 2.
    pub fn covariance(&self) -> Option<Vec<f64>> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let mut covariance = vec![0.0; self.items * self.items];
        for i in 0..self.items {
            for j in i..self.items {
                let value =
                    (self.cross[i * self.items + j] - self.sums[i] * self.sums[j] / n) / (n - 1.0);
                covariance[i * self.items + j] = value;
                covariance[j * self.items + i] = value;
            }
        }
        Some(covariance)
    }
}

fn covariance_of_rows(rows: &[Vec<f64>], items: usize) -> Option<Vec<f64>> {
    let mut accumulator = CovarianceAccumulator::new(items);
    rows.iter().for_each(|row| accumulator.push(row));
    accumulator.covariance()
}

fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample variance (n − 1 denominator), two-pass. Constant data return exactly 0:
/// the mean of identical non-integers can be off by an ulp, which would otherwise
/// leave a tiny non-zero variance and defeat the zero-variance checks.
fn sample_variance(values: &[f64]) -> Option<f64> {
    let first = *values.first()?;
    if values.len() < 2 {
        return None;
    }
    if values.iter().all(|&v| v == first) {
        return Some(0.0);
    }
    let m = mean(values)?;
    let sum_sq: f64 = values.iter().map(|v| (v - m).powi(2)).sum();
    Some(sum_sq / (values.len() - 1) as f64)
}

/// (respondents, items) of a rectangular, non-empty matrix; `None` if ragged or empty.
fn matrix_shape(rows: &[Vec<f64>]) -> Option<(usize, usize)> {
    let items = rows.first()?.len();
    rows.iter()
        .all(|row| row.len() == items)
        .then_some((rows.len(), items))
}

/// Column `index` of a matrix already checked by [`matrix_shape`].
fn column(rows: &[Vec<f64>], index: usize) -> Vec<f64> {
    rows.iter().map(|row| row[index]).collect()
}

/// Standard Student's t; `None` for df that are not positive and finite.
/// The p-quantile of Student's t with `df` degrees of freedom.
///
/// statrs inverts the CDF numerically, which costs far more than everything else a results
/// page computes; a wave needs thousands of quantiles but only a few distinct (df, p) pairs
/// (df = n − 1 of its group sizes), so they are remembered: per thread, and behind that for
/// the process, so that the short-lived threads that write a large wave's results start
/// warm. Exact, not an approximation; a memo is emptied when it grows large (Welch's df are
/// fractional).
fn t_quantile(df: f64, p: f64) -> Option<f64> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    const MAX_REMEMBERED: usize = 50_000;
    type Memo = HashMap<(u64, u64), f64, BitsHash>;
    thread_local! {
        static QUANTILES: RefCell<Memo> = RefCell::new(HashMap::default());
    }
    static SHARED: OnceLock<Mutex<Memo>> = OnceLock::new();
    let remember = |memo: &mut Memo, key: (u64, u64), quantile: f64| {
        if memo.len() >= MAX_REMEMBERED {
            memo.clear();
        }
        memo.insert(key, quantile);
    };
    // Whole df of a 95% interval (n − 1 of the group sizes): a table every thread reads
    // without a lock or a hash.
    if p.to_bits() == CI95_P.to_bits() && df.fract() == 0.0 && (1.0..TABLED_DF as f64).contains(&df)
    {
        let slot = &CI95_BY_DF[df as usize];
        if let Some(&known) = slot.get() {
            return Some(known);
        }
        let quantile = t_distribution(df)?.inverse_cdf(p);
        return Some(*slot.get_or_init(|| quantile));
    }
    let key = (df.to_bits(), p.to_bits());
    if let Some(known) = QUANTILES.with(|memo| memo.borrow().get(&key).copied()) {
        return Some(known);
    }
    // A poisoned memo only ever holds finished entries: keep using it.
    let shared = SHARED.get_or_init(Mutex::default);
    let known = shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&key)
        .copied();
    let quantile = match known {
        Some(quantile) => quantile,
        None => {
            let quantile = t_distribution(df)?.inverse_cdf(p);
            let mut shared = shared
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            remember(&mut shared, key, quantile);
            quantile
        }
    };
    QUANTILES.with(|memo| remember(&mut memo.borrow_mut(), key, quantile));
    Some(quantile)
}

/// The p of a two-sided 95% interval, computed as [`confidence_interval`] computes it.
const CI95_P: f64 = (1.0 + 0.95) / 2.0;
/// Whole degrees of freedom below this have their 95% quantile in [`CI95_BY_DF`].
const TABLED_DF: usize = 4096;
static CI95_BY_DF: [std::sync::OnceLock<f64>; TABLED_DF] =
    [const { std::sync::OnceLock::new() }; TABLED_DF];

/// A hasher for the quantile memo's keys (the bits of two floats the program computed
/// itself, not input an outsider chooses): a multiply and rotate per word instead of SipHash.
type BitsHash = std::hash::BuildHasherDefault<BitsHasher>;

#[derive(Default)]
struct BitsHasher(u64);

impl std::hash::Hasher for BitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

fn t_distribution(df: f64) -> Option<StudentsT> {
    StudentsT::new(0.0, 1.0, df).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-6;

    #[test]
    fn moments_summarise_like_the_raw_values() {
        let values = [4.0, 2.0, 5.0, 3.0, 3.0, 4.5];
        let mut moments = Moments::default();
        values.iter().for_each(|&v| moments.push(v));
        let (a, b) = (
            moments.summary().expect("summary"),
            summarize(&values).expect("summary"),
        );
        assert_eq!(a.n, b.n);
        assert!((a.mean - b.mean).abs() < EPS);
        assert!((a.sd.expect("sd") - b.sd.expect("sd")).abs() < EPS);
        let (a_ci, b_ci) = (a.ci95.expect("ci"), b.ci95.expect("ci"));
        assert!((a_ci.0 - b_ci.0).abs() < EPS && (a_ci.1 - b_ci.1).abs() < EPS);
        let mut split = Moments::default();
        values[..2].iter().for_each(|&v| split.push(v));
        let mut rest = Moments::default();
        values[2..].iter().for_each(|&v| rest.push(v));
        split.add(&rest);
        assert_eq!(split.n, moments.n);
        assert!((split.variance().expect("var") - moments.variance().expect("var")).abs() < EPS);
    }
    /// For checks against printed t-table quantiles (6 decimals).
    const TABLE_EPS: f64 = 1e-4;

    fn close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "expected {expected}, got {actual} (tol {tol})"
        );
    }

    fn close_pair(actual: (f64, f64), expected: (f64, f64), tol: f64) {
        close(actual.0, expected.0, tol);
        close(actual.1, expected.1, tol);
    }

    // ---- summarize / confidence_interval ----

    #[test]
    fn summarize_one_to_five() {
        // mean = 15/5 = 3; SS = 4+1+0+1+4 = 10; var = 10/4 = 2.5; sd = √2.5 = 1.5811388.
        // se = sd/√5 = 0.7071068; t_{0.975,4} = 2.776445 (table);
        // half = 2.776445 · 0.7071068 = 1.963243 → (1.036757, 4.963243).
        let s = summarize(&[1.0, 2.0, 3.0, 4.0, 5.0]).expect("defined for n = 5");
        assert_eq!(s.n, 5);
        close(s.mean, 3.0, EPS);
        close(s.sd.expect("n ≥ 2"), 2.5_f64.sqrt(), EPS);
        close_pair(s.ci95.expect("n ≥ 2"), (1.036757, 4.963243), TABLE_EPS);
    }

    #[test]
    fn summarize_small_inputs() {
        assert_eq!(summarize(&[]), None);
        let single = summarize(&[4.0]).expect("mean defined for n = 1");
        assert_eq!(single.n, 1);
        close(single.mean, 4.0, EPS);
        assert_eq!(single.sd, None);
        assert_eq!(single.ci95, None);
    }

    #[test]
    fn summarize_constant_values_has_zero_sd_and_degenerate_ci() {
        // 0.1 summed ten times is 0.9999999999999999, so the mean is an ulp off 0.1;
        // the variance must still be exactly zero.
        let s = summarize(&[0.1; 10]).expect("defined");
        assert_eq!(s.sd, Some(0.0));
        let (lo, hi) = s.ci95.expect("defined");
        assert_eq!(lo, hi);
    }

    #[test]
    fn confidence_interval_levels_on_one_to_ten() {
        // 1..10: mean 5.5; SS = 82.5; var = 82.5/9 = 9.1666667; sd = 3.0276504;
        // se = sd/√10 = 0.9574271.
        // 90%: t_{0.95,9} = 1.833113 → half = 1.755072 → (3.744928, 7.255072).
        // 95%: t_{0.975,9} = 2.262157 → half = 2.165851 → (3.334149, 7.665851).
        let sd = (82.5_f64 / 9.0).sqrt();
        let ci90 = confidence_interval(5.5, sd, 10, 0.90).expect("defined");
        close_pair(ci90, (3.744928, 7.255072), TABLE_EPS);
        let ci95 = confidence_interval(5.5, sd, 10, 0.95).expect("defined");
        close_pair(ci95, (3.334149, 7.665851), TABLE_EPS);
        let via_summary = summarize(&(1..=10).map(f64::from).collect::<Vec<_>>())
            .and_then(|s| s.ci95)
            .expect("defined");
        close_pair(via_summary, ci95, EPS);
    }

    #[test]
    fn zone_interval_floors_the_sd_at_an_eighth_of_the_scale() {
        // SD 0 in a team of 5 on 1–5: floor 0.5, half-width t(0.975; 4) · 0.5/√5 with
        // t(0.975; 4) = 2.776445 (NIST/SEMATECH e-Handbook, Table of t critical values).
        let (low, high) = zone_interval(4.0, Some(0.0), 5, 1.0, 5.0).expect("defined");
        close_pair((low, high), (4.0 - 0.620832, 4.0 + 0.620832), TABLE_EPS);
        // Above the floor it is the ordinary 95% interval.
        let sd = 0.9;
        close_pair(
            zone_interval(3.0, Some(sd), 12, 1.0, 5.0).expect("defined"),
            confidence_interval(3.0, sd, 12, 0.95).expect("defined"),
            EPS,
        );
        // 0–10 scale: floor 1.25.
        let (low, _) = zone_interval(7.0, Some(0.2), 10, 0.0, 10.0).expect("defined");
        let expected = 7.0 - 2.262157 * 1.25 / 10f64.sqrt();
        assert!((low - expected).abs() < TABLE_EPS, "{low}");
        assert_eq!(zone_interval(3.0, None, 5, 1.0, 5.0), None);
        assert_eq!(zone_interval(3.0, Some(0.5), 1, 1.0, 5.0), None);
        assert_eq!(zone_interval(3.0, Some(0.5), 5, 5.0, 5.0), None);
    }

    #[test]
    fn mean_reliability_is_spearman_brown() {
        // Issue 15's figure: ICC(1) = .10, a team of 5 → 0.5 / 1.4 = .357.
        assert!((mean_reliability(0.10, 5).expect("defined") - 0.5 / 1.4).abs() < EPS);
        // Bliese (2000), p. 360: with ICC(1) = .10, groups of 25 give a reliable mean (ICC(2)
        // ≈ .74): 2.5 / 3.4.
        assert!((mean_reliability(0.10, 25).expect("defined") - 2.5 / 3.4).abs() < EPS);
        assert_eq!(mean_reliability(0.10, 1), Some(0.10));
        assert_eq!(mean_reliability(-0.05, 8), Some(0.0));
        assert_eq!(mean_reliability(0.10, 0), None);
        assert_eq!(mean_reliability(f64::NAN, 5), None);
    }

    #[test]
    fn k0_is_n_over_g_for_equal_groups_and_smaller_otherwise() {
        let moments = |sizes: &[usize]| -> Vec<Moments> {
            sizes
                .iter()
                .enumerate()
                .map(|(g, &size)| {
                    let mut m = Moments::default();
                    for i in 0..size {
                        m.push(1.0 + ((i + g) % 5) as f64);
                    }
                    m
                })
                .collect()
        };
        let equal = icc_from_moments(&moments(&[6, 6, 6])).expect("defined");
        assert!((equal.k0 - 6.0).abs() < EPS);
        // Unequal sizes: k0 = (18 − (4 + 36 + 100)/18) / 2 = 5.111 < N/G = 6, so ICC(1) with
        // k0 exceeds the R package multilevel's ICC1 (which uses N/G) when MSB > MSW.
        let unequal = icc_from_moments(&moments(&[2, 6, 10])).expect("defined");
        assert!((unequal.k0 - (18.0 - 140.0 / 18.0) / 2.0).abs() < EPS);
        assert!(unequal.k0 < 6.0);
    }

    #[test]
    fn equal_fractional_group_means_have_no_icc() {
        // Means of 10/3 in every group: SSB is rounding dust, not between-group variance.
        let groups: Vec<Moments> = (0..3)
            .map(|_| {
                let mut m = Moments::default();
                for v in [3.0, 4.0, 3.0] {
                    m.push(v);
                }
                m
            })
            .collect();
        assert_eq!(icc_from_moments(&groups), None);
    }

    #[test]
    fn icc2_is_spearman_brown_of_icc1_at_k0() {
        // The identity that ties the per-group figure to the organisation's ICC(2): the ICC(2)
        // of the ANOVA equals the Spearman–Brown reliability at the average group size k0.
        let groups: Vec<Moments> = [
            vec![3.0, 4.0, 4.0, 5.0],
            vec![2.0, 2.0, 3.0, 3.0, 4.0, 2.0],
            vec![4.0, 5.0, 5.0],
        ]
        .iter()
        .map(|values| {
            let mut m = Moments::default();
            for &v in values {
                m.push(v);
            }
            m
        })
        .collect();
        let icc = icc_from_moments(&groups).expect("defined");
        // k0 = (13 − (16 + 36 + 9)/13) / 2
        assert!((icc.k0 - (13.0 - 61.0 / 13.0) / 2.0).abs() < EPS);
        let n = icc.k0;
        let sb = n * icc.icc1 / (1.0 + (n - 1.0) * icc.icc1);
        assert!((sb - icc.icc2).abs() < EPS, "{sb} vs {}", icc.icc2);
    }

    #[test]
    fn null_variances_match_lebreton_and_senter_table_3() {
        // LeBreton & Senter (2008), Table 3, 5-point scale (from James, Demaree & Wolf 1984):
        // uniform 2.00, slight skew 1.34, moderate skew 0.90, heavy skew 0.44,
        // triangular 1.32, normal 1.04.
        let close = |p: &[f64], v: f64| {
            let got = null_variance(p).expect("defined");
            assert!((got - v).abs() < 0.005, "{p:?}: {got} vs {v}");
        };
        close(&[0.2; 5], 2.00);
        close(&SLIGHT_SKEW_5, 1.34);
        close(&[0.0, 0.10, 0.15, 0.40, 0.35], 0.90);
        close(&[0.0, 0.0, 0.10, 0.40, 0.50], 0.44);
        close(&[0.11, 0.22, 0.34, 0.22, 0.11], 1.32);
        close(&[0.07, 0.24, 0.38, 0.24, 0.07], 1.04);
        assert_eq!(null_variance(&[0.5, 0.4]), None);
        assert_eq!(null_variance(&[]), None);
    }

    #[test]
    fn rwg_against_slight_skew_is_stricter_than_against_uniform() {
        // Mean item variance 0.67: uniform 1 − 0.67/2 = .665; slight skew 1 − 0.67/1.34 = .50.
        let variances = [0.60, 0.74];
        let uniform = rwg_j_from_variances(&variances, 5).expect("defined");
        let skew = rwg_j_slight_skew(&variances, 5).expect("defined");
        assert!((uniform - 0.665).abs() < EPS, "{uniform}");
        assert!((skew - 0.5).abs() < EPS, "{skew}");
        assert_eq!(rwg_j_slight_skew(&variances, 11), None);
        assert_eq!(rwg_j_slight_skew(&[], 5), None);
    }

    #[test]
    fn confidence_interval_rejects_bad_arguments() {
        assert_eq!(confidence_interval(3.0, 1.0, 1, 0.95), None);
        assert_eq!(confidence_interval(3.0, 1.0, 0, 0.95), None);
        assert_eq!(confidence_interval(3.0, 1.0, 10, 0.0), None);
        assert_eq!(confidence_interval(3.0, 1.0, 10, 1.0), None);
        assert_eq!(confidence_interval(3.0, 1.0, 10, f64::NAN), None);
        assert_eq!(confidence_interval(3.0, -1.0, 10, 0.95), None);
        assert_eq!(confidence_interval(3.0, f64::NAN, 10, 0.95), None);
        assert_eq!(confidence_interval(3.0, 0.0, 10, 0.95), Some((3.0, 3.0)));
    }

    // ---- respondent_score ----

    #[test]
    fn respondent_score_two_thirds_rule_boundaries() {
        // (J, minimum answered) = ⌈2J/3⌉: 1→1, 2→2, 3→2, 4→3, 5→4, 6→4.
        for (items, required) in [(1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (6, 4)] {
            let answers_with = |answered: usize| -> Vec<Option<f64>> {
                (0..items).map(|i| (i < answered).then_some(4.0)).collect()
            };
            assert_eq!(
                respondent_score(&answers_with(required)),
                Some(4.0),
                "J = {items} with {required} answered should score"
            );
            assert_eq!(
                respondent_score(&answers_with(required - 1)),
                None,
                "J = {items} with {} answered should not score",
                required - 1
            );
        }
    }

    #[test]
    fn respondent_score_averages_answered_items_only() {
        // J = 6, 4 answered (the minimum): (1 + 2 + 4 + 5) / 4 = 3.
        let answers = [Some(1.0), None, Some(2.0), Some(4.0), None, Some(5.0)];
        close(respondent_score(&answers).expect("4 of 6"), 3.0, EPS);
        assert_eq!(respondent_score(&[]), None);
    }

    // ---- favourable_share ----

    /// Answer counts per scale point (lowest first) for raw answers on `min..=max`.
    fn histogram(values: &[u8], min: u8, max: u8) -> Vec<u32> {
        (min..=max)
            .map(|point| values.iter().filter(|&&v| v == point).count() as u32)
            .collect()
    }

    #[test]
    fn favourable_share_counts_top_two_boxes() {
        // 1–5 scale, top two boxes = {4, 5}: 5, 4, 4 of six answers → 3/6 = 0.5.
        let share = favourable_share(&histogram(&[5, 4, 3, 2, 1, 4], 1, 5)).expect("defined");
        close(share, 0.5, EPS);
        // 0–10 scale: {9, 10} → 2/4.
        close(
            favourable_share(&histogram(&[10, 9, 8, 0], 0, 10)).expect("defined"),
            0.5,
            EPS,
        );
    }

    #[test]
    fn favourable_share_undefined_cases() {
        assert_eq!(favourable_share(&histogram(&[], 1, 5)), None);
        // Two-point scale: the "top two boxes" would be everything.
        assert_eq!(favourable_share(&histogram(&[1, 2], 1, 2)), None);
        close(
            favourable_share(&histogram(&[1, 2, 3], 1, 3)).expect("3-point"),
            2.0 / 3.0,
            EPS,
        );
    }

    // ---- display_score ----

    #[test]
    fn display_score_maps_scale_to_percent() {
        close(display_score(1.0, 1.0, 5.0), 0.0, EPS);
        close(display_score(5.0, 1.0, 5.0), 100.0, EPS);
        // (3.2 − 1)/(5 − 1) · 100 = 55.
        close(display_score(3.2, 1.0, 5.0), 55.0, EPS);
        // (7 − 0)/(10 − 0) · 100 = 70.
        close(display_score(7.0, 0.0, 10.0), 70.0, EPS);
    }

    // ---- promoter_score ----

    #[test]
    fn promoter_score_hand_computed() {
        // 10, 10, 9 promoters (3); 8 passive; 5 detractor (1): (3 − 1)/5 · 100 = 40.
        close(
            promoter_score(&histogram(&[10, 10, 9, 8, 5], 0, 10)).expect("defined"),
            40.0,
            EPS,
        );
        // 7 and 8 are passive; 6 and 0 detract: (2 − 2)/6 = 0.
        close(
            promoter_score(&histogram(&[10, 9, 8, 7, 6, 0], 0, 10)).expect("defined"),
            0.0,
            EPS,
        );
        close(
            promoter_score(&histogram(&[0, 6], 0, 10)).expect("defined"),
            -100.0,
            EPS,
        );
    }

    #[test]
    fn promoter_score_undefined_cases() {
        assert_eq!(promoter_score(&histogram(&[], 0, 10)), None);
        assert_eq!(
            promoter_score(&histogram(&[3], 1, 5)),
            None,
            "not a 0–10 scale"
        );
    }

    // ---- cronbach_alpha / item_total_correlations ----

    /// 4 respondents × 3 items.
    fn alpha_fixture() -> Vec<Vec<f64>> {
        vec![
            vec![4.0, 5.0, 4.0],
            vec![3.0, 4.0, 3.0],
            vec![5.0, 5.0, 4.0],
            vec![2.0, 3.0, 3.0],
        ]
    }

    #[test]
    fn cronbach_alpha_four_by_three() {
        // Item 1: 4,3,5,2  mean 3.5   SS = .25+.25+2.25+2.25 = 5      var = 5/3
        // Item 2: 5,4,5,3  mean 4.25  SS = .5625+.0625+.5625+1.5625 = 2.75 var = 2.75/3
        // Item 3: 4,3,4,3  mean 3.5   SS = 4 · .25 = 1                var = 1/3
        // Σ var_i = 8.75/3.
        // Totals: 13,10,14,8  mean 11.25  SS = 3.0625+1.5625+7.5625+10.5625 = 22.75
        // var_total = 22.75/3.
        // α = 3/2 · (1 − 8.75/22.75) = 3/2 · 14/22.75 = 12/13 = 0.9230769.
        let alpha = cronbach_alpha(&alpha_fixture()).expect("defined");
        close(alpha, 12.0 / 13.0, EPS);
    }

    #[test]
    fn cronbach_alpha_undefined_cases() {
        // J < 2
        assert_eq!(cronbach_alpha(&[vec![1.0], vec![2.0]]), None);
        // n < 2
        assert_eq!(cronbach_alpha(&[vec![1.0, 2.0]]), None);
        assert_eq!(cronbach_alpha(&[]), None);
        // Ragged
        assert_eq!(cronbach_alpha(&[vec![1.0, 2.0], vec![2.0]]), None);
        // Totals constant (everyone answered the same): var_total = 0.
        assert_eq!(cronbach_alpha(&[vec![3.0, 3.0], vec![3.0, 3.0]]), None);
    }

    #[test]
    fn cronbach_alpha_can_be_negative() {
        // Items that pull in opposite directions: (1,3,2) var 1, (3,1,3) var 4/3;
        // totals 4,4,5 mean 13/3, SS = 2/3, var 1/3.
        // α = 2 · (1 − (7/3)/(1/3)) = 2 · (1 − 7) = −12.
        let rows = vec![vec![1.0, 3.0], vec![3.0, 1.0], vec![2.0, 3.0]];
        close(cronbach_alpha(&rows).expect("defined"), -12.0, EPS);
    }

    #[test]
    fn item_total_correlations_four_by_three() {
        // Item 1 vs rest (items 2+3): item 4,3,5,2 (mean 3.5), rest 9,7,9,6 (mean 7.75).
        // Deviations: (.5,−.5,1.5,−1.5) and (1.25,−.75,1.25,−1.75).
        // Sxy = .625+.375+1.875+2.625 = 5.5; Sxx = 5; Syy = 6.75.
        // r = 5.5/√33.75 = 0.9467293.
        // Item 2 vs rest 8,6,9,5:  Sxy = 5,   Sxx = 2.75, Syy = 10    → r = 0.9534626.
        // Item 3 vs rest 9,7,10,5: Sxy = 3.5, Sxx = 1,    Syy = 14.75 → r = 0.9113224.
        // (Cross-checked with a stdlib-only Python computation.)
        let r = item_total_correlations(&alpha_fixture());
        assert_eq!(r.len(), 3);
        close(r[0].expect("defined"), 5.5 / 33.75_f64.sqrt(), EPS);
        close(r[0].expect("defined"), 0.9467293, EPS);
        close(r[1].expect("defined"), 0.9534626, EPS);
        close(r[2].expect("defined"), 0.9113224, EPS);
    }

    #[test]
    fn item_total_correlations_undefined_cases() {
        // A constant item has no correlation; the others still do.
        // Item 1 vs rest: rest = 3+x₃ = 4,5,6 with item 1,2,3 → r = 1.
        let rows = vec![
            vec![1.0, 3.0, 1.0],
            vec![2.0, 3.0, 2.0],
            vec![3.0, 3.0, 3.0],
        ];
        let r = item_total_correlations(&rows);
        close(r[0].expect("defined"), 1.0, EPS);
        assert_eq!(r[1], None);
        close(r[2].expect("defined"), 1.0, EPS);
        // One item: the rest-sum is empty (constant 0).
        assert_eq!(item_total_correlations(&[vec![1.0], vec![2.0]]), vec![None]);
        // n < 2
        assert_eq!(item_total_correlations(&[vec![1.0, 2.0]]), vec![None, None]);
        assert!(item_total_correlations(&[]).is_empty());
        assert!(item_total_correlations(&[vec![1.0, 2.0], vec![1.0]]).is_empty());
    }

    // ---- icc ----

    #[test]
    fn icc_three_unequal_groups() {
        // Groups: {2,3,4} mean 3, {4,5,6} mean 5, {6,7,7,8} mean 7; N = 10, G = 3.
        // Grand mean = (9 + 15 + 28)/10 = 5.2.
        // SSB = 3·2.2² + 3·0.2² + 4·1.8² = 14.52 + 0.12 + 12.96 = 27.6
        // SSW = 2 + 2 + (1+0+0+1) = 6
        // df_b = 2, df_w = 7 → MSB = 13.8, MSW = 6/7 = 0.8571429, F = 16.1.
        // k0 = (10 − (9+9+16)/10)/2 = (10 − 3.4)/2 = 3.3.
        // ICC(1) = (13.8 − 6/7)/(13.8 + 2.3·6/7) = 12.942857/15.771429 = 0.8206522.
        // ICC(2) = (13.8 − 6/7)/13.8 = 0.9378882.
        let groups = vec![
            vec![2.0, 3.0, 4.0],
            vec![4.0, 5.0, 6.0],
            vec![6.0, 7.0, 7.0, 8.0],
        ];
        let result = icc(&groups).expect("defined");
        assert_eq!(result.df_between, 2);
        assert_eq!(result.df_within, 7);
        close(result.f, 16.1, EPS);
        close(result.icc1, 0.8206522, EPS);
        close(result.icc2, 0.9378882, EPS);
    }

    #[test]
    fn icc_equal_groups_matches_balanced_formula() {
        // Balanced: k0 = k = 2. Groups {1,3} mean 2, {4,6} mean 5; grand mean 3.5.
        // SSB = 2·1.5² · 2 = 9, MSB = 9/1 = 9; SSW = 2 + 2 = 4, MSW = 4/2 = 2.
        // ICC(1) = (9 − 2)/(9 + 1·2) = 7/11; ICC(2) = 7/9; F = 4.5.
        // An empty group is ignored.
        let groups = vec![vec![1.0, 3.0], vec![], vec![4.0, 6.0]];
        let result = icc(&groups).expect("defined");
        assert_eq!((result.df_between, result.df_within), (1, 2));
        close(result.icc1, 7.0 / 11.0, EPS);
        close(result.icc2, 7.0 / 9.0, EPS);
        close(result.f, 4.5, EPS);
    }

    #[test]
    fn icc_undefined_cases() {
        // One group.
        assert_eq!(icc(&[vec![1.0, 2.0, 3.0]]), None);
        // One non-empty group plus an empty one.
        assert_eq!(icc(&[vec![1.0, 2.0], vec![]]), None);
        // N = G: no within-group degrees of freedom.
        assert_eq!(icc(&[vec![1.0], vec![2.0]]), None);
        // Identical group means: MSB = 0.
        assert_eq!(icc(&[vec![1.0, 3.0], vec![2.0, 2.0]]), None);
        assert_eq!(icc(&[]), None);
    }

    #[test]
    fn icc_constant_groups_have_infinite_f() {
        // MSW = 0, MSB > 0: groups are perfectly separated; ICC(1) = ICC(2) = 1.
        let result = icc(&[vec![2.0, 2.0], vec![4.0, 4.0]]).expect("defined");
        assert!(result.f.is_infinite());
        close(result.icc1, 1.0, EPS);
        close(result.icc2, 1.0, EPS);
    }

    // ---- rwg_j_lindell ----

    #[test]
    fn rwg_j_lindell_five_point_scale() {
        // A = 5 → σ²_EU = (25 − 1)/12 = 2.
        // Item 1: 4,4,5,3  mean 4     SS = 0+0+1+1 = 2        var = 2/3
        // Item 2: 5,4,4,4  mean 4.25  SS = .5625+3·.0625 = .75 var = .25
        // Mean variance = (2/3 + 1/4)/2 = 11/24 = 0.4583333.
        // r*wg(J) = 1 − (11/24)/2 = 1 − 11/48 = 37/48 = 0.7708333.
        let rows = vec![
            vec![4.0, 5.0],
            vec![4.0, 4.0],
            vec![5.0, 4.0],
            vec![3.0, 4.0],
        ];
        close(rwg_j_lindell(&rows, 5).expect("defined"), 37.0 / 48.0, EPS);
    }

    #[test]
    fn rwg_j_lindell_negative_for_split_group_and_one_for_consensus() {
        // Split group on a 5-point scale: each item 1,5,1,5 → mean 3, SS = 16,
        // var = 16/3. r*wg(J) = 1 − (16/3)/2 = −5/3: more disagreement than random.
        let split = vec![
            vec![1.0, 5.0],
            vec![5.0, 1.0],
            vec![1.0, 5.0],
            vec![5.0, 1.0],
        ];
        close(rwg_j_lindell(&split, 5).expect("defined"), -5.0 / 3.0, EPS);
        let consensus = vec![vec![4.0, 2.0], vec![4.0, 2.0], vec![4.0, 2.0]];
        close(rwg_j_lindell(&consensus, 5).expect("defined"), 1.0, EPS);
    }

    #[test]
    fn rwg_j_lindell_undefined_cases() {
        assert_eq!(rwg_j_lindell(&[vec![3.0, 4.0]], 5), None);
        assert_eq!(rwg_j_lindell(&[], 5), None);
        assert_eq!(rwg_j_lindell(&[vec![], vec![]], 5), None);
        assert_eq!(rwg_j_lindell(&[vec![3.0, 4.0], vec![3.0]], 5), None);
        assert_eq!(rwg_j_lindell(&[vec![1.0], vec![1.0]], 1), None);
    }

    // ---- welch ----

    #[test]
    fn welch_matches_r_sleep_example() {
        // R: t.test(extra ~ group, data = sleep) prints
        //   t = -1.8608, df = 17.776, p-value = 0.07939
        //   95 percent CI: -3.3654832 0.2054832; means 0.75 and 2.33.
        // By hand: s_a² = 3.2005556, s_b² = 4.0090000 (n = 10 each);
        // se² = 0.3200556 + 0.4009 = 0.7209556, se = 0.8490910;
        // df = se⁴/(0.3200556²/9 + 0.4009²/9) = 17.776474; t = −1.58/se = −1.8608135.
        // A stdlib-only Python integration of the t density gives p = 0.0793941 and
        // CI (−3.3654832, 0.2054832).
        let group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
        let group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
        let a = summarize(&group1).expect("defined");
        let b = summarize(&group2).expect("defined");
        let w = welch(&a, &b).expect("defined");
        close(w.diff, -1.58, EPS);
        close(w.df, 17.776474, EPS);
        close(w.p, 0.0793941, EPS);
        close_pair(w.ci95, (-3.3654832, 0.2054832), EPS);
    }

    #[test]
    fn welch_with_one_constant_group_uses_the_other_df() {
        // a = {3,3,3}: s_a = 0. b = {1,2,3,4}: s_b² = 5/3, se² = 5/12, se = 0.6454972.
        // df = (5/12)²/((5/12)²/3) = 3 (= n_b − 1); t = 0.5/se = 0.7745967.
        // Python: p = 0.4950253; t_{0.975,3} = 3.182446 → CI (−1.5542603, 2.5542603).
        let a = summarize(&[3.0, 3.0, 3.0]).expect("defined");
        let b = summarize(&[1.0, 2.0, 3.0, 4.0]).expect("defined");
        let w = welch(&a, &b).expect("defined");
        close(w.diff, 0.5, EPS);
        close(w.df, 3.0, EPS);
        close(w.p, 0.4950253, EPS);
        close_pair(w.ci95, (-1.5542603, 2.5542603), EPS);
    }

    #[test]
    fn welch_undefined_cases() {
        let ok = summarize(&[1.0, 2.0, 3.0]).expect("defined");
        let single = summarize(&[2.0]).expect("defined");
        assert_eq!(welch(&ok, &single), None);
        assert_eq!(welch(&single, &ok), None);
        let flat_a = summarize(&[2.0, 2.0]).expect("defined");
        let flat_b = summarize(&[3.0, 3.0, 3.0]).expect("defined");
        assert_eq!(welch(&flat_a, &flat_b), None);
    }

    #[test]
    fn welch_equal_means_give_p_one() {
        let a = summarize(&[1.0, 2.0, 3.0]).expect("defined");
        let b = summarize(&[0.0, 2.0, 4.0]).expect("defined");
        let w = welch(&a, &b).expect("defined");
        close(w.diff, 0.0, EPS);
        close(w.p, 1.0, EPS);
    }

    // ---- benjamini_hochberg ----

    #[test]
    fn benjamini_hochberg_known_example() {
        // Sorted: 0.005 (rank 1), 0.01 (2), 0.03 (3), 0.04 (4); m = 4.
        // p·m/rank: 0.02, 0.02, 0.04, 0.04; running min from the top leaves them as is.
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005]);
        let expected = [0.02, 0.04, 0.04, 0.02];
        assert_eq!(q.len(), expected.len());
        for (actual, want) in q.iter().zip(expected) {
            close(*actual, want, EPS);
        }
    }

    #[test]
    fn benjamini_hochberg_enforces_monotonicity() {
        // Sorted 0.02 (1), 0.021 (2), 0.5 (3); m = 3.
        // p·m/rank: 0.06, 0.0315, 0.5 → rank 1 takes min(0.06, 0.0315) = 0.0315.
        let q = benjamini_hochberg(&[0.5, 0.021, 0.02]);
        close(q[0], 0.5, EPS);
        close(q[1], 0.0315, EPS);
        close(q[2], 0.0315, EPS);
    }

    #[test]
    fn benjamini_hochberg_caps_at_one_and_handles_ties_and_empty() {
        // Sorted 0.6 (1) → 1.2, 0.7 (2) → 0.7; the running min caps rank 1 at 0.7.
        let q = benjamini_hochberg(&[0.7, 0.6]);
        close(q[0], 0.7, EPS);
        close(q[1], 0.7, EPS);
        // Ties: 0.04·2/2 = 0.04 for both.
        assert_eq!(benjamini_hochberg(&[0.04, 0.04]), vec![0.04, 0.04]);
        // All q ≤ 1 even for p = 1.
        assert!(benjamini_hochberg(&[1.0, 1.0, 0.9])
            .iter()
            .all(|&q| q <= 1.0));
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    /// The integer sort key orders p-values exactly as a stable sort by `total_cmp` did (the
    /// implementation before it), so every q keeps its bits: random p-values with many ties,
    /// zeros of both signs, NaN and values off [0, 1].
    #[test]
    fn benjamini_hochberg_matches_the_stable_total_cmp_sort() {
        fn reference(p_values: &[f64]) -> Vec<f64> {
            let m = p_values.len() as f64;
            let mut order: Vec<usize> = (0..p_values.len()).collect();
            order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
            let mut q_values = vec![0.0; p_values.len()];
            let mut running_min = 1.0_f64;
            for (index, &original) in order.iter().enumerate().rev() {
                let rank = (index + 1) as f64;
                running_min = running_min.min(p_values[original] * m / rank);
                q_values[original] = running_min;
            }
            q_values
        }
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let odd = [
            0.0,
            -0.0,
            1.0,
            f64::NAN,
            -f64::NAN,
            -0.5,
            2.0,
            f64::MIN_POSITIVE,
            1e-300,
        ];
        for size in [0, 1, 2, 3, 10, 100, 2_000] {
            let p: Vec<f64> = (0..size)
                .map(|_| match next() % 4 {
                    0 => odd[(next() % odd.len() as u64) as usize],
                    1 => (next() % 20) as f64 / 20.0,
                    _ => (next() >> 11) as f64 / (1u64 << 53) as f64,
                })
                .collect();
            let bits = |q: Vec<f64>| q.into_iter().map(f64::to_bits).collect::<Vec<_>>();
            assert_eq!(bits(benjamini_hochberg(&p)), bits(reference(&p)), "{p:?}");
        }
    }
}
