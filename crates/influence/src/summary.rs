//! The run summary of `influence scan`: what was read, what was found, the parameters,
//! and what the report draws (the top networks' accounts and ties, the chance filter's
//! counts per behaviour).
//!
//! These types are a stored layout (see [`scrutineer_core::summary`]), kept apart from
//! the detection's own types so that those can change without breaking summaries
//! already in a store.

use std::collections::BTreeMap;

use scrutineer_core::{Engine, VersionedSummary};
use serde::{Deserialize, Serialize};

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
        }
    }
}

impl VersionedSummary for RunSummary {
    const ENGINE: Engine = Engine::Influence;
    const VERSION: u32 = 1;
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
