//! The run summary of `infra scan`: the scan's counts, and what the report charts (the
//! campaigns and the hostile events per day and office).
//!
//! These types are a stored layout (see [`scrutineer_core::summary`]). Campaigns are the
//! detection's own [`Campaign`]: a change to its fields is a change of this layout, and
//! takes a new version. The trend is kept apart from [`TrendRow`], whose ramp-up test
//! holds figures that are not finite (stored here as null).

use std::path::PathBuf;

use chrono::NaiveDate;
use scrutineer_core::{Engine, VersionedSummary};
use serde::{Deserialize, Serialize};

use crate::detect::{Campaign, TrendRow};
use crate::trend::RampTest;

/// The counts of a scan, also what `infra scan --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanTotals {
    /// Log records read, malformed ones included.
    pub records: u64,
    /// Records that could not be read.
    pub malformed: u64,
    /// Records with the verdict normal.
    pub normal: u64,
    /// Records with the verdict anomaly.
    pub anomaly: u64,
    /// Records with the verdict attack.
    pub attack: u64,
    /// Findings made.
    pub findings: usize,
    /// Wall-clock seconds of the scan.
    pub seconds: f64,
    /// Records per second of wall-clock time (0 when no time was measured).
    pub records_per_second: f64,
    /// Where the per-event CSV was written.
    pub events_csv: PathBuf,
}

/// What one `infra scan` run records in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The scan's counts.
    #[serde(flatten)]
    pub totals: ScanTotals,
    /// The linked campaigns, best first.
    pub campaigns: Vec<Campaign>,
    /// The hostile events per day and office, with each series' ramp-up test.
    pub trend: Vec<TrendSeries>,
}

impl VersionedSummary for RunSummary {
    const ENGINE: Engine = Engine::Infra;
    const VERSION: u32 = 1;
}

/// One office's (or, as `*`, every office's) hostile events over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendSeries {
    /// The office, or `*` for all of them.
    pub jurisdiction: String,
    /// Hostile events per week (the week's first day).
    pub weekly: Vec<(NaiveDate, u64)>,
    /// Hostile events per day.
    pub daily: Vec<(NaiveDate, u64)>,
    /// The ramp-up test, when the series is long enough for one.
    pub test: Option<RampTestSummary>,
}

/// The outcome of a series' ramp-up test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampTestSummary {
    /// Weeks in the recent window.
    pub recent_weeks: usize,
    /// Weeks before it.
    pub baseline_weeks: usize,
    /// Events in the recent window.
    pub recent: u64,
    /// Events before it.
    pub baseline: u64,
    /// Recent weekly rate over baseline weekly rate; `None` when the baseline is empty
    /// (an infinite ratio, which JSON cannot hold).
    pub ratio: Option<f64>,
    /// The test's p-value.
    pub p_value: f64,
    /// The significance level.
    pub alpha: f64,
    /// Whether the recent rate is significantly higher.
    pub ramp_up: bool,
}

impl From<&RampTest> for RampTestSummary {
    fn from(t: &RampTest) -> Self {
        RampTestSummary {
            recent_weeks: t.recent_weeks,
            baseline_weeks: t.baseline_weeks,
            recent: t.recent,
            baseline: t.baseline,
            // Non-finite ratios serialized as null before the summary was typed.
            ratio: t.ratio.is_finite().then_some(t.ratio),
            p_value: t.p_value,
            alpha: t.alpha,
            ramp_up: t.ramp_up,
        }
    }
}

impl From<&TrendRow> for TrendSeries {
    fn from(t: &TrendRow) -> Self {
        TrendSeries {
            jurisdiction: t.jurisdiction.clone(),
            weekly: t.weekly.clone(),
            daily: t.daily.clone(),
            test: t.test.as_ref().map(RampTestSummary::from),
        }
    }
}

impl RunSummary {
    /// The summary of a scan with `totals`, the detection's campaigns and trend.
    pub fn new(totals: ScanTotals, campaigns: &[Campaign], trend: &[TrendRow]) -> Self {
        RunSummary {
            totals,
            campaigns: campaigns.to_vec(),
            trend: trend.iter().map(TrendSeries::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_core::StoredSummary;

    fn ramp(ratio: f64) -> RampTest {
        RampTest {
            recent_weeks: 2,
            baseline_weeks: 6,
            recent: 40,
            baseline: 0,
            ratio,
            p_value: 1e-9,
            alpha: 0.01,
            ramp_up: true,
        }
    }

    #[test]
    fn an_infinite_ratio_is_stored_as_null_and_reads_back() {
        let row = TrendRow {
            jurisdiction: "*".into(),
            weekly: Vec::new(),
            daily: vec![(NaiveDate::from_ymd_opt(2026, 10, 1).expect("date"), 5)],
            test: Some(ramp(f64::INFINITY)),
        };
        let totals = ScanTotals {
            records: 10,
            malformed: 1,
            normal: 5,
            anomaly: 2,
            attack: 2,
            findings: 1,
            seconds: 0.5,
            records_per_second: 20.0,
            events_csv: PathBuf::from("out/events.csv"),
        };
        let summary = RunSummary::new(totals, &[], &[row]);
        let stored = StoredSummary::new(&summary).expect("serialize");
        assert!(stored.body["trend"][0]["test"]["ratio"].is_null());
        assert_eq!(stored.body["records"], 10, "the totals sit at the top level");
        assert_eq!(stored.decode::<RunSummary>().expect("decode"), summary);
        assert_eq!(RampTestSummary::from(&ramp(2.5)).ratio, Some(2.5));
    }
}
