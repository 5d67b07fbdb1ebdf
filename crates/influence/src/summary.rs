//! The run summary of `influence scan`: what was read, what was found, the parameters,
//! and what the report draws (the top networks' accounts and ties, the chance filter's
//! counts per behaviour).
//!
//! These types are a stored layout (see [`scrutineer_core::summary`]), kept apart from
//! the detection's own types so that those can change without breaking summaries
//! already in a store. Version 2 added who led ([`RunSummary::leadership`]) and the
//! cross-platform spread ([`RunSummary::spread`]); summaries of version 1 (and
//! unversioned ones, which have its layout) are read by [`RunSummary::from_stored`] with
//! both unknown.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use scrutineer_core::{Engine, StoredSummary, SummaryError, VersionedSummary};
use serde::{Deserialize, Deserializer, Serialize};

use crate::detect::BehaviourStats;
use crate::export::graph_summary;
use crate::params::Behaviour;
use crate::read::ReadReport;
use crate::{Analysis, ScanParams};

/// What one `influence scan` run records in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// The inputs, as named on the command line.
    pub inputs: Vec<String>,
    /// Posts read.
    pub posts: u64,
    /// Distinct accounts among them.
    pub accounts: usize,
    /// Coordinated networks found.
    pub networks: usize,
    /// Accounts in those networks.
    pub accounts_in_networks: usize,
    /// Seconds reading the inputs.
    pub read_seconds: f64,
    /// Seconds detecting and explaining.
    pub analyse_seconds: f64,
    /// Seconds storing the findings.
    pub store_seconds: f64,
    /// Seconds from start to the summary.
    pub total_seconds: f64,
    /// The scan's parameters.
    pub params: ScanParams,
    /// What the HTML report draws: the top networks' accounts and ties.
    pub graph: GraphSummary,
    /// The chance filter's counts, per behaviour.
    pub behaviours: Vec<BehaviourSummary>,
    /// What each input's reader did.
    pub reads: Vec<ReadSummary>,
    /// Who led in the highest-ranked networks; `None` in a summary of version 1, which
    /// did not record it (required in version 2).
    #[serde(deserialize_with = "required")]
    pub leadership: Option<Vec<NetworkLeadSummary>>,
    /// Links and texts seen on several platforms; `None` in a summary of version 1
    /// (required in version 2).
    #[serde(deserialize_with = "required")]
    pub spread: Option<SpreadSummary>,
}

/// Reads an `Option` field that must be present: serde would take a missing one as
/// `None`, and so a version-1 body for a version-2 one.
fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// Networks whose timing a run summary records at most (in rank order).
const SUMMARY_LEAD_NETWORKS: usize = 20;
/// Members per network listed with their timing.
const SUMMARY_LEADERS: usize = 5;
/// Cross-platform items a run summary lists.
const SUMMARY_SPREAD_ITEMS: usize = 10;

/// Who led in one network, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkLeadSummary {
    /// The network's id.
    pub network: String,
    /// Items on which at least two members acted within the window.
    pub compared_items: u64,
    /// Median seconds between two tied members on their shared items.
    pub median_lag_secs: Option<f64>,
    /// Members classed as leaders.
    pub leaders: usize,
    /// Members in the fast sub-network.
    pub fast_accounts: usize,
    /// Ties in the fast sub-network.
    pub fast_edges: usize,
    /// The fast sub-network's threshold, in seconds.
    pub fast_threshold_secs: i64,
    /// The members with the highest leader scores.
    pub top: Vec<MemberLeadSummary>,
}

/// One member's timing, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberLeadSummary {
    /// The account's key.
    pub account: String,
    /// Items it led, followed and tied on.
    pub led: u32,
    /// Items on which it followed.
    pub followed: u32,
    /// Items on which it tied.
    pub tied: u32,
    /// `(led − followed) / (led + followed + tied)`.
    pub leader_score: f64,
    /// The sign test's p.
    pub sign_test_p: f64,
    /// Median seconds after the first member.
    pub median_lag_secs: Option<f64>,
    /// `leader`, `follower` or `undetermined`.
    pub role: String,
}

/// The cross-platform spread, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpreadSummary {
    /// Items seen on at least two platforms.
    pub cross_platform_items: usize,
    /// The orders in which they reached the platforms, most common first.
    pub orders: Vec<PlatformOrderSummary>,
    /// Per network that carried items across platforms: its most common order.
    pub networks: Vec<NetworkOrderSummary>,
    /// The first items of the spread list.
    pub items: Vec<SpreadItemSummary>,
}

/// An order of platforms and how many items followed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformOrderSummary {
    /// The platforms, first reached first.
    pub order: Vec<String>,
    /// Items.
    pub items: usize,
}

/// A network's most common order of platforms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkOrderSummary {
    /// The network's id.
    pub network: String,
    /// Items its members carried across platforms.
    pub items: usize,
    /// The order most of them took.
    pub order: Vec<String>,
    /// Items that took it.
    pub order_items: usize,
}

/// One cross-platform item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpreadItemSummary {
    /// `co_link` or `co_tweet`.
    pub behaviour: String,
    /// The link or the text.
    pub item: String,
    /// Distinct accounts that acted on it.
    pub accounts: usize,
    /// Networks whose members acted on it.
    pub networks: Vec<String>,
    /// The platforms in the order reached.
    pub reached: Vec<ReachSummary>,
}

/// When and by whom an item reached one platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReachSummary {
    /// The platform.
    pub platform: String,
    /// The first action there.
    pub first: DateTime<Utc>,
    /// Its account.
    pub first_account: String,
    /// Seconds after the first action anywhere.
    pub after_secs: i64,
}

fn leadership_summary(analysis: &Analysis) -> Vec<NetworkLeadSummary> {
    analysis
        .networks
        .iter()
        .take(SUMMARY_LEAD_NETWORKS)
        .map(|n| {
            let l = &n.leadership;
            NetworkLeadSummary {
                network: n.id.clone(),
                compared_items: l.compared_items,
                median_lag_secs: l.median_lag_secs,
                leaders: l.leaders.len(),
                fast_accounts: l.fast.accounts.len(),
                fast_edges: l.fast.edges,
                fast_threshold_secs: l.fast.threshold_secs,
                top: l
                    .accounts
                    .iter()
                    .take(SUMMARY_LEADERS)
                    .map(|a| MemberLeadSummary {
                        account: a.account.clone(),
                        led: a.led,
                        followed: a.followed,
                        tied: a.tied,
                        leader_score: a.leader_score,
                        sign_test_p: a.sign_test_p,
                        median_lag_secs: a.median_lag_secs,
                        role: a.role.as_str().to_owned(),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn spread_summary(analysis: &Analysis) -> SpreadSummary {
    let s = &analysis.spread;
    SpreadSummary {
        cross_platform_items: s.cross_platform_items,
        orders: s
            .orders
            .iter()
            .map(|o| PlatformOrderSummary { order: o.order.clone(), items: o.items })
            .collect(),
        networks: s
            .networks
            .iter()
            .filter_map(|n| {
                n.orders.first().map(|o| NetworkOrderSummary {
                    network: n.network.clone(),
                    items: n.items,
                    order: o.order.clone(),
                    order_items: o.items,
                })
            })
            .collect(),
        items: s
            .items
            .iter()
            .take(SUMMARY_SPREAD_ITEMS)
            .map(|i| SpreadItemSummary {
                behaviour: i.behaviour.as_str().to_owned(),
                item: i.item.clone(),
                accounts: i.accounts,
                networks: i.networks.clone(),
                reached: i
                    .reached
                    .iter()
                    .map(|r| ReachSummary {
                        platform: r.platform.clone(),
                        first: r.first,
                        first_account: r.first_account.clone(),
                        after_secs: r.after_secs,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// How long each stage of a scan took, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageSeconds {
    /// Reading the inputs.
    pub read: f64,
    /// Detecting and explaining.
    pub analyse: f64,
    /// Storing the findings.
    pub store: f64,
    /// From the start to the summary.
    pub total: f64,
}

/// Accounts drawn in a run summary's graph at most: what the HTML report can show.
const SUMMARY_GRAPH_NODES: usize = 400;

impl RunSummary {
    /// The summary of a scan of `inputs` (as named on the command line), whose readers
    /// reported `reads`.
    pub fn new(
        inputs: Vec<String>,
        analysis: &Analysis,
        params: &ScanParams,
        reads: &[ReadReport],
        seconds: StageSeconds,
    ) -> RunSummary {
        RunSummary {
            inputs,
            posts: analysis.posts(),
            accounts: analysis.accounts(),
            networks: analysis.networks.len(),
            accounts_in_networks: analysis.accounts_placed(),
            read_seconds: seconds.read,
            analyse_seconds: seconds.analyse,
            store_seconds: seconds.store,
            total_seconds: seconds.total,
            params: params.clone(),
            graph: graph_summary(analysis, SUMMARY_GRAPH_NODES),
            behaviours: analysis
                .behaviour_stats()
                .map(|(behaviour, stats)| BehaviourSummary { behaviour, stats: stats.clone() })
                .collect(),
            reads: reads.iter().map(ReadSummary::from).collect(),
            leadership: Some(leadership_summary(analysis)),
            spread: Some(spread_summary(analysis)),
        }
    }

    /// Reads a stored `influence scan` summary of any version this build knows: version 2
    /// as it stands, version 1 (and unversioned ones) with who led and the spread unknown.
    pub fn from_stored(stored: &StoredSummary) -> Result<RunSummary, SummaryError> {
        if stored.engine == Engine::Influence && stored.version == Some(1) {
            return read_version_1(stored.body.clone(), 1);
        }
        stored.decode::<RunSummary>()
    }
}

/// A version-1 body is version 2's without `leadership` and `spread`: those are added as
/// unknown, and the rest is read strictly.
fn read_version_1(mut body: serde_json::Value, version: u32) -> Result<RunSummary, SummaryError> {
    if let Some(map) = body.as_object_mut() {
        map.insert("leadership".into(), serde_json::Value::Null);
        map.insert("spread".into(), serde_json::Value::Null);
    }
    serde_json::from_value(body).map_err(|source| SummaryError::Malformed {
        engine: Engine::Influence,
        version,
        read_as: 1,
        source,
    })
}

impl VersionedSummary for RunSummary {
    const ENGINE: Engine = Engine::Influence;
    const VERSION: u32 = 2;

    fn from_unversioned(body: serde_json::Value) -> Result<Self, SummaryError> {
        read_version_1(body, scrutineer_core::summary::UNVERSIONED)
    }
}

/// The coordination graph of the highest-ranked networks, for drawing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphSummary {
    /// The accounts drawn.
    pub nodes: Vec<GraphNode>,
    /// The ties among them.
    pub edges: Vec<GraphEdge>,
    /// Networks drawn (whole networks, in rank order).
    pub networks_shown: usize,
    /// Networks found.
    pub networks_total: usize,
}

/// One account in the drawing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    /// The account's id.
    pub id: String,
    /// The name shown (the handle when known).
    pub label: String,
    /// The network it belongs to.
    pub network: String,
    /// Its share of the network's ties.
    pub score: f64,
    /// Posts by it.
    pub posts: u32,
}

/// A tie between two drawn accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// One account's id.
    pub a: String,
    /// The other's.
    pub b: String,
    /// The tie's weight.
    pub weight: f64,
    /// Shared actions per behaviour (behaviours with none left out).
    pub behaviours: BTreeMap<String, u32>,
}

/// What the chance filter did with one behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviourSummary {
    /// The behaviour.
    pub behaviour: Behaviour,
    /// Its counts.
    pub stats: BehaviourStats,
}

/// What the reader did with one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadSummary {
    /// The input's name.
    pub source: String,
    /// The format read.
    pub format: String,
    /// Records seen.
    pub records: u64,
    /// Posts read from them.
    pub posts: u64,
    /// Records or posts skipped.
    pub skipped: u64,
    /// Records decoded as Windows-1252.
    pub decoded_latin1: u64,
    /// Whether the input ended early.
    pub truncated: bool,
    /// The first skips, described.
    pub skip_samples: Vec<String>,
}

impl From<&ReadReport> for ReadSummary {
    fn from(r: &ReadReport) -> Self {
        ReadSummary {
            source: r.source.clone(),
            format: r.format.to_owned(),
            records: r.records,
            posts: r.posts,
            skipped: r.skipped,
            decoded_latin1: r.decoded_latin1,
            truncated: r.truncated,
            skip_samples: r.skip_samples.iter().map(|s| s.to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Corpus, StateMediaList, analyse};

    fn summary() -> RunSummary {
        let params = ScanParams::default();
        let analysis = analyse(Corpus::new(&params), &params, &StateMediaList::default());
        RunSummary::new(vec!["posts.csv".into()], &analysis, &params, &[], StageSeconds::default())
    }

    #[test]
    fn version_2_round_trips_and_requires_who_led_and_the_spread() {
        let s = summary();
        let stored = StoredSummary::new(&s).expect("serialize");
        assert_eq!(stored.version, Some(2));
        let back = RunSummary::from_stored(&stored).expect("reads");
        assert_eq!(back.leadership, s.leadership);
        assert_eq!(back.spread, s.spread);
        assert!(back.leadership.is_some() && back.spread.is_some());
        let mut short = stored.clone();
        short.body.as_object_mut().expect("object").remove("spread");
        let err = RunSummary::from_stored(&short).expect_err("a version-2 body needs its spread").to_string();
        assert!(err.contains("spread") && err.contains("version 2"), "{err}");
    }

    #[test]
    fn version_1_and_unversioned_summaries_read_with_who_led_unknown() {
        let mut body = serde_json::to_value(summary()).expect("serialize");
        let map = body.as_object_mut().expect("object");
        map.remove("leadership");
        map.remove("spread");
        for version in [Some(1), None] {
            let stored = StoredSummary { engine: Engine::Influence, version, body: body.clone() };
            let old = RunSummary::from_stored(&stored).expect("an old summary reads");
            assert!(old.leadership.is_none() && old.spread.is_none());
        }
        // An old body that lacks one of its own fields is still refused, naming its version.
        body.as_object_mut().expect("object").remove("posts");
        let stored = StoredSummary { engine: Engine::Influence, version: Some(1), body };
        let err = RunSummary::from_stored(&stored).expect_err("malformed").to_string();
        assert!(err.contains("posts") && err.contains("version 1"), "{err}");
    }
}
