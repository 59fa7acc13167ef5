//! The soak's pass/fail rules, as plain functions of the samples.
//!
//! - **Flat**: a least-squares line through the samples taken after the warm-up; its
//!   slope times the span of those samples is the growth the run shows. RSS passes when
//!   that growth is under [`RSS_GROWTH_TOLERANCE`] of its mean after the warm-up, open
//!   file descriptors when it is within ± [`FD_GROWTH_TOLERANCE`]. A fitted line rather
//!   than last − first: one sample taken during a burst of allocation must neither fail
//!   nor pass the run by itself.
//! - **Stable latency**: the p99 of every period (a minute in a full run) is at most
//!   [`P99_FACTOR`] × the first period's.

use serde::Serialize;

/// RSS may grow by at most this fraction of its post-warm-up mean over the run.
pub(crate) const RSS_GROWTH_TOLERANCE: f64 = 0.05;

/// Open file descriptors may drift by at most this many over the run.
pub(crate) const FD_GROWTH_TOLERANCE: f64 = 5.0;

/// No period's p99 may exceed the first period's by more than this factor.
pub(crate) const P99_FACTOR: f64 = 2.0;

/// Fewest samples after the warm-up that make a trend.
const MIN_TREND_SAMPLES: usize = 3;

/// How much growth a series may show.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Tolerance {
    /// At most this fraction of the series' mean after the warm-up.
    Relative(f64),
    /// At most this much, up or down.
    Absolute(f64),
}

/// Whether a series stayed flat after the warm-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Flatness {
    /// The rule.
    pub(crate) tolerance: Tolerance,
    /// Samples the line was fitted to.
    pub(crate) samples: usize,
    /// Mean of those samples.
    pub(crate) mean: f64,
    /// Fitted slope per minute.
    pub(crate) slope_per_min: f64,
    /// Slope × span of the fitted samples: the growth the run shows.
    pub(crate) growth: f64,
    /// The largest growth allowed (a decrease is always allowed for RSS).
    pub(crate) allowed: f64,
    /// Within the tolerance (false with fewer than three samples: no trend to judge).
    pub(crate) passed: bool,
}

/// Least-squares slope of `y` over `x`; `None` for fewer than two distinct `x`.
pub(crate) fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (x, y) in points {
        covariance += (x - mean_x) * (y - mean_y);
        variance += (x - mean_x) * (x - mean_x);
    }
    (variance > 0.0).then(|| covariance / variance)
}

/// Judges `(seconds, value)` samples taken at or after `warm_up_secs`.
pub(crate) fn flatness(points: &[(f64, f64)], warm_up_secs: f64, tolerance: Tolerance) -> Flatness {
    let after: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(at, _)| *at >= warm_up_secs)
        .collect();
    let mean = if after.is_empty() {
        0.0
    } else {
        after.iter().map(|(_, y)| y).sum::<f64>() / after.len() as f64
    };
    let span = match (after.first(), after.last()) {
        (Some((first, _)), Some((last, _))) => last - first,
        _ => 0.0,
    };
    let per_sec = slope(&after).unwrap_or(0.0);
    let growth = per_sec * span;
    let (allowed, within) = match tolerance {
        Tolerance::Relative(fraction) => (fraction * mean, growth <= fraction * mean),
        Tolerance::Absolute(limit) => (limit, growth.abs() <= limit),
    };
    Flatness {
        tolerance,
        samples: after.len(),
        mean,
        slope_per_min: per_sec * 60.0,
        growth,
        allowed,
        passed: after.len() >= MIN_TREND_SAMPLES && within,
    }
}

/// Whether a latency percentile stayed near its first period's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Stability {
    /// The first period's p99, microseconds.
    pub(crate) first_us: f64,
    /// The last period's p99, microseconds.
    pub(crate) last_us: f64,
    /// The highest p99 of any period, microseconds.
    pub(crate) worst_us: f64,
    /// Which period (0 = the first) had it.
    pub(crate) worst_period: usize,
    /// `P99_FACTOR` × `first_us`.
    pub(crate) allowed_us: f64,
    /// Every period within the allowance (false with no period measured).
    pub(crate) passed: bool,
}

/// Judges the p99 of each period (microseconds, in order).
pub(crate) fn stability(period_p99_us: &[f64]) -> Stability {
    let first_us = period_p99_us.first().copied().unwrap_or(0.0);
    let (worst_period, worst_us) =
        period_p99_us
            .iter()
            .copied()
            .enumerate()
            .fold((0, 0.0), |(at, worst), (period, p99)| {
                if p99 > worst {
                    (period, p99)
                } else {
                    (at, worst)
                }
            });
    let allowed_us = P99_FACTOR * first_us;
    Stability {
        first_us,
        last_us: period_p99_us.last().copied().unwrap_or(0.0),
        worst_us,
        worst_period,
        allowed_us,
        passed: !period_p99_us.is_empty() && worst_us <= allowed_us,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;

    fn series(values: &[f64]) -> Vec<(f64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(n, value)| (n as f64 * 10.0, *value))
            .collect()
    }

    #[test]
    fn slope_is_least_squares() {
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]), Some(2.0));
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 0.0), (2.0, 1.0)]), Some(0.0));
        assert_eq!(slope(&[(5.0, 1.0), (5.0, 9.0)]), None, "no spread in x");
        assert_eq!(slope(&[(0.0, 1.0)]), None);
    }

    #[test]
    fn rss_that_levels_off_after_the_warm_up_is_flat() {
        // Grows 10 MiB during the warm-up (first 20 s), then wobbles around 40 MiB.
        let rss = series(&[30.0, 35.0, 40.0, 40.2, 39.9, 40.1, 40.0, 40.2, 39.8, 40.1]);
        let rss: Vec<_> = rss.into_iter().map(|(t, mib)| (t, mib * MIB)).collect();
        let verdict = flatness(&rss, 20.0, Tolerance::Relative(RSS_GROWTH_TOLERANCE));
        assert_eq!(verdict.samples, 8);
        assert!(verdict.growth.abs() < 0.5 * MIB, "{verdict:?}");
        assert!(verdict.passed, "{verdict:?}");
    }

    #[test]
    fn steady_rss_growth_beyond_five_percent_fails() {
        // 1 MiB per sample over 8 samples after the warm-up: 7 MiB on ~43 MiB, > 5 %.
        let rss: Vec<_> = series(&[38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0])
            .into_iter()
            .map(|(t, mib)| (t, mib * MIB))
            .collect();
        let verdict = flatness(&rss, 20.0, Tolerance::Relative(RSS_GROWTH_TOLERANCE));
        assert!((verdict.growth - 7.0 * MIB).abs() < 1.0, "{verdict:?}");
        assert!(
            (verdict.allowed - 0.05 * 43.5 * MIB).abs() < 1.0,
            "{verdict:?}"
        );
        assert!(!verdict.passed);
        // A shrinking RSS is not a leak.
        let shrinking: Vec<_> = rss
            .iter()
            .rev()
            .enumerate()
            .map(|(n, (_, y))| (n as f64 * 10.0, *y))
            .collect();
        assert!(flatness(&shrinking, 20.0, Tolerance::Relative(RSS_GROWTH_TOLERANCE)).passed);
    }

    #[test]
    fn fds_may_drift_five_either_way() {
        let steady = series(&[30.0, 34.0, 33.0, 34.0, 35.0, 33.0, 34.0]);
        assert!(flatness(&steady, 10.0, Tolerance::Absolute(FD_GROWTH_TOLERANCE)).passed);
        let leaking = series(&[30.0, 32.0, 34.0, 36.0, 38.0, 40.0, 42.0]);
        let verdict = flatness(&leaking, 10.0, Tolerance::Absolute(FD_GROWTH_TOLERANCE));
        assert!((verdict.growth - 10.0).abs() < 1e-9, "{verdict:?}");
        assert!(!verdict.passed);
        let closing = series(&[42.0, 40.0, 38.0, 36.0, 34.0, 32.0, 30.0]);
        assert!(!flatness(&closing, 10.0, Tolerance::Absolute(FD_GROWTH_TOLERANCE)).passed);
    }

    #[test]
    fn too_few_samples_after_the_warm_up_do_not_pass() {
        let short = series(&[1.0, 1.0, 1.0]);
        let verdict = flatness(&short, 15.0, Tolerance::Absolute(FD_GROWTH_TOLERANCE));
        assert_eq!(verdict.samples, 1);
        assert!(!verdict.passed);
    }

    #[test]
    fn p99_within_twice_the_first_period_passes() {
        let verdict = stability(&[1_000.0, 1_400.0, 2_000.0, 900.0]);
        assert_eq!(
            (
                verdict.first_us,
                verdict.last_us,
                verdict.worst_us,
                verdict.worst_period
            ),
            (1_000.0, 900.0, 2_000.0, 2)
        );
        assert_eq!(verdict.allowed_us, 2_000.0);
        assert!(verdict.passed);
    }

    #[test]
    fn p99_above_twice_the_first_period_fails() {
        let verdict = stability(&[1_000.0, 1_200.0, 2_001.0]);
        assert_eq!(verdict.worst_period, 2);
        assert!(!verdict.passed);
        assert!(!stability(&[]).passed, "nothing measured");
    }
}
