//! The exercise's score: what the engines found in a simulated season against its ground
//! truth. `scrutineer demo` writes it as `score.json`; the report reads it back. It is a
//! stored layout: [`ExerciseScore::VERSION`] changes with any change to these types, and
//! a reader refuses any other version by name rather than showing a table of zeros.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::count::ContestTruth;

/// One injected influence operation: its accounts and how many a network held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationScore {
    /// The operation's name in `social/truth.csv`.
    pub operation: String,
    /// The tactic it used.
    pub tactic: String,
    /// Its accounts.
    pub accounts: usize,
    /// Of them, accounts placed in a detected network.
    pub found: usize,
}

/// How the risk-limiting audit of one contest ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditOutcome {
    /// The contest.
    pub contest: String,
    /// The audit's last decision (`stop`, `escalate`, `full_hand_count`).
    pub decision: String,
    /// Ballots examined in all.
    pub ballots_examined: u64,
    /// The measured risk at the end.
    pub measured_risk: f64,
    /// The reported winners.
    pub reported_winners: Vec<String>,
    /// The winners of the hand count, when it came to one.
    pub hand_count_winners: Vec<String>,
    /// Ballots examined when the contest first met its risk limit (confirmed).
    pub confirmed_after: Option<u64>,
    /// Rounds drawn.
    pub rounds: usize,
}

/// Injected against found, per engine, for one simulated season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseScore {
    /// The layout version ([`ExerciseScore::VERSION`] when written by this build).
    pub version: u32,
    /// The influence operations injected.
    pub operations: Vec<OperationScore>,
    /// Organic (not injected) accounts that posted.
    pub organic_accounts: usize,
    /// Of them, accounts placed in a network: false accusations.
    pub organic_in_networks: usize,
    /// Whether the campaign against the offices was found: some of its addresses, and
    /// every office it touched.
    pub campaign_found: bool,
    /// The campaign's addresses.
    pub campaign_sources: usize,
    /// Of them, addresses in a detected campaign.
    pub campaign_sources_found: usize,
    /// The offices the campaign targeted.
    pub campaign_offices: Vec<String>,
    /// The offices a detected campaign named.
    pub campaign_offices_found: Vec<String>,
    /// Whether the ramp-up test fired.
    pub ramp_up_found: bool,
    /// Innocent addresses named in a finding.
    pub innocent_sources_flagged: usize,
    /// Per ballot rule: (injected, found).
    pub ballots_injected: BTreeMap<String, (usize, usize)>,
    /// Ballot findings that no injection explains.
    pub ballots_false: usize,
    /// The audit of each contest.
    pub audit: Vec<AuditOutcome>,
    /// The count's ground truth per contest (as `count/truth.json` holds it).
    pub audit_truth: Vec<ContestTruth>,
}

/// Why a `score.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// Not JSON of this layout (a field missing or of the wrong type).
    #[error("not an exercise score of this layout: {0}")]
    Layout(#[from] serde_json::Error),
    /// Written by another version of the layout.
    #[error("exercise score of layout version {found}; this build reads version {known}")]
    Version {
        /// The version the file declares.
        found: u32,
        /// The version this build reads.
        known: u32,
    },
}

impl ExerciseScore {
    /// The layout version this build writes and reads.
    pub const VERSION: u32 = 1;

    /// Reads a score from its JSON text, refusing another layout version by name.
    pub fn from_json(text: &str) -> Result<ExerciseScore, ScoreError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let found = serde_json::from_str::<VersionOnly>(text)?.version;
        if found != Self::VERSION {
            return Err(ScoreError::Version { found, known: Self::VERSION });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// Injected accounts of every operation, and of them those placed in a network.
    pub fn operation_accounts(&self) -> (usize, usize) {
        self.operations.iter().fold((0, 0), |(i, f), o| (i + o.accounts, f + o.found))
    }

    /// Ballot items injected over every rule, and of them those found.
    pub fn ballot_items(&self) -> (usize, usize) {
        self.ballots_injected.values().fold((0, 0), |(i, f), (a, b)| (i + a, f + b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score() -> ExerciseScore {
        ExerciseScore {
            version: ExerciseScore::VERSION,
            operations: vec![OperationScore {
                operation: "op1".into(),
                tactic: "retweet_ring".into(),
                accounts: 12,
                found: 9,
            }],
            organic_accounts: 1000,
            organic_in_networks: 2,
            campaign_found: true,
            campaign_sources: 6,
            campaign_sources_found: 6,
            campaign_offices: vec!["WAKE".into()],
            campaign_offices_found: vec!["WAKE".into()],
            ramp_up_found: true,
            innocent_sources_flagged: 0,
            ballots_injected: BTreeMap::from([("double_vote".into(), (4, 4)), ("ghost".into(), (3, 2))]),
            ballots_false: 1,
            audit: Vec::new(),
            audit_truth: Vec::new(),
        }
    }

    #[test]
    fn a_score_reads_back_as_written_and_sums_its_parts() {
        let s = score();
        let back = ExerciseScore::from_json(&serde_json::to_string(&s).expect("json")).expect("read");
        assert_eq!(back, s);
        assert_eq!(back.operation_accounts(), (12, 9));
        assert_eq!(back.ballot_items(), (7, 6));
    }

    #[test]
    fn another_version_or_a_missing_field_is_refused() {
        let mut v = serde_json::to_value(score()).expect("json");
        v["version"] = 2.into();
        let err = ExerciseScore::from_json(&v.to_string()).expect_err("version 2");
        assert!(err.to_string().contains("version 2"), "{err}");
        let mut v = serde_json::to_value(score()).expect("json");
        v.as_object_mut().expect("object").remove("organic_in_networks");
        let err = ExerciseScore::from_json(&v.to_string()).expect_err("missing field");
        assert!(err.to_string().contains("organic_in_networks"), "{err}");
        assert!(ExerciseScore::from_json("{\"operations\": []}").is_err(), "no version at all");
    }
}
