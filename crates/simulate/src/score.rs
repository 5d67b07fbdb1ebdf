//! The exercise's score: what the engines found in a simulated season against its ground
//! truth. `scrutineer demo` writes it as `score.json`; the report reads it back. It is a
//! stored layout: [`ExerciseScore::VERSION`] changes with any change to these types, and
//! a reader refuses any other version by name rather than showing a table of zeros
//! (version 2 added the hack-and-leak stage, [`LeakScore`]).

use std::collections::{BTreeMap, BTreeSet};

use scrutineer_mail::VariantGroup;
use serde::{Deserialize, Serialize};

use crate::count::ContestTruth;
use crate::mail::{MessageKind, MessageTruth};

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

/// The ballot-comparison audit of one contest: the count's cast-vote records compared
/// with the paper cards drawn, county by county, from retrieval lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonOutcome {
    /// The contest.
    pub contest: String,
    /// The audit's last decision (`stop`, `continue`, `full_hand_count`).
    pub decision: String,
    /// Cards compared with their CVRs in all.
    pub cards_examined: u64,
    /// Cards compared when the contest first met its risk limit (confirmed).
    pub confirmed_after: Option<u64>,
    /// The measured risk at the end.
    pub measured_risk: f64,
    /// The reported winners.
    pub reported_winners: Vec<String>,
    /// Two- and one-vote overstatements, one- and two-vote understatements found.
    pub o2: u64,
    pub o1: u64,
    pub u1: u64,
    pub u2: u64,
    /// Rounds drawn.
    pub rounds: usize,
    /// Retrieval-list rows written over the rounds (one per card to pull).
    pub cards_retrieved: u64,
}

/// One kind of message of the simulated dump, against `mail verify`'s verdicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakKindScore {
    /// The kind, as `mail/truth.csv` names it.
    pub kind: String,
    /// Messages of this kind in the dump.
    pub messages: usize,
    /// Of them, messages none of whose signatures `mail verify` found authentic (for
    /// authentic messages: false alarms).
    pub flagged: usize,
    /// Of them, messages with the verdict that names the kind (`body_altered` for an
    /// altered body, `authentic` for an authentic message, ...).
    pub named: usize,
    /// Of them, messages with no row in `verdicts.csv` (unread).
    pub unread: usize,
}

/// The hack-and-leak stage: each message's verdict against what it is, the forged
/// variants, and the amplifying network among the dump's spreaders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakScore {
    /// One row per kind of message, in [`MessageKind::ALL`]'s order.
    pub kinds: Vec<LeakKindScore>,
    /// Forgeries whose Message-ID group names their genuine original as the one that
    /// verifies.
    pub forgeries_grouped: usize,
    /// Accounts of the amplifying network.
    pub amplifiers: usize,
    /// Of them, accounts `mail sightings` lists as spreading the dump.
    pub amplifiers_spreading: usize,
    /// Of them, accounts placed in a detected network.
    pub amplifiers_in_network: usize,
    /// Ordinary accounts that spread the dump.
    pub ordinary_spreaders: usize,
    /// Of them, accounts placed in a detected network: false accusations.
    pub ordinary_in_network: usize,
}

impl LeakScore {
    /// Scores `mail verify`'s signature rows (`(offset, verdict)`, from `verdicts.csv`),
    /// its forged-variant groups and `mail sightings`' spreaders (`(account, placed in a
    /// network)`) against the dump's truth and the network's accounts.
    pub fn score(
        truth: &[MessageTruth],
        signatures: &[(u64, String)],
        groups: &[VariantGroup],
        amplifiers: &BTreeSet<String>,
        spreaders: &[(String, bool)],
    ) -> LeakScore {
        let mut by_offset: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
        for (offset, verdict) in signatures {
            by_offset.entry(*offset).or_default().push(verdict);
        }
        let kinds = MessageKind::ALL
            .iter()
            .map(|&kind| {
                let mut row = LeakKindScore {
                    kind: kind.as_str().to_owned(),
                    messages: 0,
                    flagged: 0,
                    named: 0,
                    unread: 0,
                };
                for t in truth.iter().filter(|t| t.kind == kind) {
                    row.messages += 1;
                    let Some(verdicts) = by_offset.get(&t.offset) else {
                        row.unread += 1;
                        continue;
                    };
                    if !verdicts.contains(&"authentic") {
                        row.flagged += 1;
                    }
                    if verdicts.iter().any(|v| kind.expected_verdicts().contains(v)) {
                        row.named += 1;
                    }
                }
                row
            })
            .collect();
        let genuine: BTreeMap<&str, u64> = truth
            .iter()
            .filter(|t| t.kind == MessageKind::Authentic)
            .map(|t| (t.message_id.as_str(), t.offset))
            .collect();
        let offset_of = |at: &str| at.rsplit_once(':').and_then(|(_, o)| o.parse::<u64>().ok());
        let forgeries_grouped = truth
            .iter()
            .filter(|t| t.kind == MessageKind::Forged)
            .filter(|t| {
                groups.iter().any(|g| {
                    g.message_id == t.message_id
                        && g.verified()
                            .any(|v| offset_of(&v.at) == genuine.get(t.message_id.as_str()).copied())
                })
            })
            .count();
        let (mut amplifiers_spreading, mut amplifiers_in_network) = (0, 0);
        let (mut ordinary_spreaders, mut ordinary_in_network) = (0, 0);
        for (account, placed) in spreaders {
            if amplifiers.contains(account) {
                amplifiers_spreading += 1;
                amplifiers_in_network += usize::from(*placed);
            } else {
                ordinary_spreaders += 1;
                ordinary_in_network += usize::from(*placed);
            }
        }
        LeakScore {
            kinds,
            forgeries_grouped,
            amplifiers: amplifiers.len(),
            amplifiers_spreading,
            amplifiers_in_network,
            ordinary_spreaders,
            ordinary_in_network,
        }
    }

    /// The row of one kind.
    pub fn kind(&self, kind: MessageKind) -> Option<&LeakKindScore> {
        self.kinds.iter().find(|k| k.kind == kind.as_str())
    }

    /// Injected messages (every kind but authentic), and of them those flagged.
    pub fn injected(&self) -> (usize, usize) {
        self.kinds
            .iter()
            .filter(|k| k.kind != MessageKind::Authentic.as_str())
            .fold((0, 0), |(n, f), k| (n + k.messages, f + k.flagged))
    }
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
    /// The ballot-polling audit of each contest.
    pub audit: Vec<AuditOutcome>,
    /// The ballot-comparison audit of each contest (layout version 3 on; empty when read
    /// from a version 2 score).
    #[serde(default)]
    pub comparison: Vec<ComparisonOutcome>,
    /// The count's ground truth per contest (as `count/truth.json` holds it).
    pub audit_truth: Vec<ContestTruth>,
    /// The leaked dump: verdicts against its truth, and its amplifying network.
    pub leak: LeakScore,
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
    /// The layout version this build writes.
    pub const VERSION: u32 = 3;
    /// The oldest layout version this build reads (version 2 has no comparison audit).
    pub const OLDEST_READ: u32 = 2;

    /// Reads a score from its JSON text, refusing a layout version it does not know by name.
    pub fn from_json(text: &str) -> Result<ExerciseScore, ScoreError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let found = serde_json::from_str::<VersionOnly>(text)?.version;
        if !(Self::OLDEST_READ..=Self::VERSION).contains(&found) {
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
            comparison: vec![ComparisonOutcome {
                contest: "Governor".into(),
                decision: "stop".into(),
                cards_examined: 40,
                confirmed_after: Some(40),
                measured_risk: 0.02,
                reported_winners: vec!["Avery Hale".into()],
                o2: 0,
                o1: 0,
                u1: 1,
                u2: 0,
                rounds: 1,
                cards_retrieved: 40,
            }],
            audit_truth: Vec::new(),
            leak: LeakScore {
                kinds: Vec::new(),
                forgeries_grouped: 0,
                amplifiers: 12,
                amplifiers_spreading: 12,
                amplifiers_in_network: 11,
                ordinary_spreaders: 40,
                ordinary_in_network: 0,
            },
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
        v["version"] = 1.into();
        let err = ExerciseScore::from_json(&v.to_string()).expect_err("version 1");
        assert!(err.to_string().contains("version 1"), "{err}");
        let mut v = serde_json::to_value(score()).expect("json");
        v.as_object_mut().expect("object").remove("organic_in_networks");
        let err = ExerciseScore::from_json(&v.to_string()).expect_err("missing field");
        assert!(err.to_string().contains("organic_in_networks"), "{err}");
        assert!(ExerciseScore::from_json("{\"operations\": []}").is_err(), "no version at all");
    }

    #[test]
    fn a_version_2_score_reads_without_a_comparison_audit() {
        let mut v = serde_json::to_value(score()).expect("json");
        v["version"] = 2.into();
        v.as_object_mut().expect("object").remove("comparison");
        let back = ExerciseScore::from_json(&v.to_string()).expect("version 2");
        assert!(back.comparison.is_empty());
        let mut v = serde_json::to_value(score()).expect("json");
        v["version"] = (ExerciseScore::VERSION + 1).into();
        assert!(ExerciseScore::from_json(&v.to_string()).is_err(), "a newer layout is refused");
    }

    fn truth(id: &str, kind: MessageKind, offset: u64) -> MessageTruth {
        MessageTruth { message_id: id.into(), kind, offset, detail: String::new() }
    }

    #[test]
    fn a_leak_is_scored_by_offset_and_the_genuine_variant_must_be_the_one_named() {
        use scrutineer_mail::{Variant, Verdict};
        let truth = [
            truth("a@x", MessageKind::Authentic, 0),
            truth("b@x", MessageKind::Authentic, 100),
            truth("a@x", MessageKind::Forged, 200),
            truth("c@x", MessageKind::AlteredBody, 300),
            truth("d@x", MessageKind::Unsigned, 400),
            truth("e@x", MessageKind::AlteredHeader, 500),
        ];
        let rows: Vec<(u64, String)> = [
            (0, "authentic"),
            (100, "unsigned_header_changed"),
            (200, "key_unknown"),
            (300, "headers_altered"),
            (400, "unsigned"),
        ]
        .iter()
        .map(|(o, v)| (*o, (*v).to_owned()))
        .collect();
        let variant = |at: &str, verdict| Variant {
            at: at.into(),
            verdict,
            subject: String::new(),
            sha256: String::new(),
            copies: 1,
        };
        let groups = [VariantGroup {
            message_id: "a@x".into(),
            variants: vec![
                variant("dump.mbox:0", Verdict::Authentic),
                variant("dump.mbox:200", Verdict::KeyUnknown),
            ],
        }];
        let amplifiers: BTreeSet<String> = ["n1", "n2"].iter().map(|s| (*s).to_owned()).collect();
        let spreaders = [("n1".to_owned(), true), ("o1".to_owned(), true), ("o2".to_owned(), false)];
        let s = LeakScore::score(&truth, &rows, &groups, &amplifiers, &spreaders);
        let row = |k| s.kind(k).cloned().expect("kind");
        assert_eq!((row(MessageKind::Authentic).flagged, row(MessageKind::Authentic).named), (1, 1));
        assert_eq!((row(MessageKind::Forged).flagged, row(MessageKind::Forged).named), (1, 1));
        assert_eq!((row(MessageKind::AlteredBody).flagged, row(MessageKind::AlteredBody).named), (1, 0));
        assert_eq!(row(MessageKind::AlteredHeader).unread, 1);
        assert_eq!(s.injected(), (4, 3));
        assert_eq!(s.forgeries_grouped, 1);
        assert_eq!((s.amplifiers, s.amplifiers_spreading, s.amplifiers_in_network), (2, 1, 1));
        assert_eq!((s.ordinary_spreaders, s.ordinary_in_network), (2, 1));
        // A group that names the forgery as the one that verifies does not count.
        let wrong = [VariantGroup {
            message_id: "a@x".into(),
            variants: vec![variant("dump.mbox:200", Verdict::Authentic)],
        }];
        assert_eq!(LeakScore::score(&truth, &rows, &wrong, &amplifiers, &spreaders).forgeries_grouped, 0);
    }
}
