//! Repeated timings of one figure, and the statistics the report quotes.
//! Both systems' raw samples go through this one code, so a median means the
//! same thing on either side.

use std::time::Duration;

/// The timings of one figure, in the order they were taken.
#[derive(Debug, Clone, Default)]
pub(crate) struct Samples(Vec<Duration>);

impl Samples {
    pub(crate) fn push(&mut self, sample: Duration) {
        self.0.push(sample);
    }

    /// Seconds as the DuckDB script prints them.
    pub(crate) fn from_seconds(seconds: &[f64]) -> Self {
        Samples(
            seconds
                .iter()
                .map(|s| Duration::from_secs_f64(*s))
                .collect(),
        )
    }

    pub(crate) fn median(&self) -> Duration {
        self.percentile(0.5)
    }

    /// The nearest-rank percentile, `p` in 0..=1; zero when there are no samples.
    pub(crate) fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        let Some(last) = sorted.len().checked_sub(1) else {
            return Duration::ZERO;
        };
        sorted[((last as f64) * p).round() as usize]
    }
}

impl FromIterator<Duration> for Samples {
    fn from_iter<I: IntoIterator<Item = Duration>>(iter: I) -> Self {
        Samples(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99_pick_ranks_not_means() {
        let samples: Samples = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(samples.median(), Duration::from_millis(51));
        assert_eq!(samples.percentile(0.99), Duration::from_millis(99));
        assert_eq!(Samples::default().median(), Duration::ZERO);
    }
}
