//! The run summary of `audit status --store-findings`: each contest's measured risk and
//! decision, what the report tabulates.
//!
//! These types are a stored layout (see [`scrutineer_core::summary`]), kept apart from
//! [`ContestStatus`] so that it can change without breaking summaries already in a store.

use scrutineer_core::{Engine, VersionedSummary};
use serde::{Deserialize, Serialize};

use crate::workflow::{ContestStatus, Decision};

/// What one audit status run records in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Contests audited.
    pub contests: usize,
    /// Findings stored.
    pub findings: usize,
    /// Each contest's status.
    pub status: Vec<ContestSummary>,
}

impl VersionedSummary for RunSummary {
    const ENGINE: Engine = Engine::Audit;
    const VERSION: u32 = 1;
}

impl RunSummary {
    /// The summary of a status run over `status` that stored `findings` findings.
    pub fn new(status: &[ContestStatus], findings: usize) -> Self {
        RunSummary {
            contests: status.len(),
            findings,
            status: status.iter().map(ContestSummary::from).collect(),
        }
    }
}

/// Where one contest's audit stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestSummary {
    /// The contest's name.
    pub contest: String,
    /// The winners the results reported.
    pub reported_winners: Vec<String>,
    /// Ballots examined so far.
    pub ballots_examined: u64,
    /// The risk measured.
    pub measured_risk: f64,
    /// The risk limit.
    pub risk_limit: f64,
    /// What to do next.
    pub decision: AuditDecision,
    /// Estimated total draws to finish if the sample keeps the reported shares.
    pub estimated_total_draws: Option<u64>,
    /// Interpretations missing for drawn ballots.
    pub missing_interpretations: u64,
    /// Winners according to the examined ballots.
    pub sample_leaders: Vec<String>,
}

/// A contest's decision, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditDecision {
    /// The reported outcome stands.
    Stop,
    /// Draw more ballots.
    Continue,
    /// Every ballot examined: the hand count decides.
    FullHandCount,
}

impl AuditDecision {
    /// The decision's name as stored (`stop`, `continue`, `full_hand_count`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditDecision::Stop => "stop",
            AuditDecision::Continue => "continue",
            AuditDecision::FullHandCount => "full_hand_count",
        }
    }
}

impl From<&Decision> for AuditDecision {
    fn from(d: &Decision) -> Self {
        match d {
            Decision::Stop => AuditDecision::Stop,
            Decision::Continue => AuditDecision::Continue,
            Decision::FullHandCount => AuditDecision::FullHandCount,
        }
    }
}

impl From<&ContestStatus> for ContestSummary {
    fn from(s: &ContestStatus) -> Self {
        ContestSummary {
            contest: s.contest.clone(),
            reported_winners: s.reported_winners.clone(),
            ballots_examined: s.ballots_examined,
            measured_risk: s.measured_risk,
            risk_limit: s.risk_limit,
            decision: (&s.decision).into(),
            estimated_total_draws: s.estimated_total_draws,
            missing_interpretations: s.missing_interpretations,
            sample_leaders: s.sample_leaders.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_serializes_as_the_status_does() {
        let status = ContestStatus {
            contest: "Mayor".into(),
            reported_winners: vec!["Alice".into()],
            ballots_examined: 120,
            measured_risk: 0.03,
            risk_limit: 0.05,
            decision: Decision::FullHandCount,
            estimated_total_draws: None,
            missing_interpretations: 2,
            sample_leaders: vec!["Bob".into()],
            rounds_measured: 0,
            next_round: Vec::new(),
        };
        let summary = RunSummary::new(std::slice::from_ref(&status), 1);
        let stored = serde_json::to_value(&summary).expect("serialize");
        assert_eq!(stored["status"][0], serde_json::to_value(&status).expect("serialize"));
        let back: RunSummary = serde_json::from_value(stored).expect("read back");
        assert_eq!(back, summary);
    }
}
