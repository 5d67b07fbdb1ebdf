//! The influence-operations engine: posts in, coordination networks out.
//!
//! Pipeline: [`read`] (five input formats -> [`Post`]) -> [`corpus`] (interned
//! accounts and per-behaviour actions) -> [`cooccur`] and [`minhash`] (pairs that acted
//! alike) -> [`nullmodel`] (drop what chance explains) -> [`detect`] (multiplex graph,
//! Leiden communities, scores) -> [`attribution`] (signals, never verdicts) ->
//! [`explain`] (findings) and [`export`] (JSON, CSV, GEXF, GraphML).

pub mod attribution;
pub mod cooccur;
pub mod corpus;
pub mod detect;
pub mod evidence;
pub mod explain;
pub mod export;
mod keyset;
pub mod minhash;
pub mod normalize;
pub mod nullmodel;
pub mod params;
pub mod post;
pub mod read;
mod summary;

pub use params::{Behaviour, EdgeFilter, ScanParams};
pub use post::{AccountMeta, Post, PostKind};
pub use summary::{
    BehaviourCounts, BehaviourSummary, GraphEdge, GraphNode, GraphSummary, ReadSummary, RunSummary,
};

use attribution::StateMediaList;
use corpus::Corpus;
use detect::Detection;
use explain::Network;

/// The result of a scan: the corpus summary, the filtered edges and the ranked networks.
pub struct Analysis {
    pub corpus: Corpus,
    pub detection: Detection,
    pub networks: Vec<Network>,
}

/// Runs detection and explanation on an ingested corpus.
pub fn analyse(mut corpus: Corpus, params: &ScanParams, state_media: &StateMediaList) -> Analysis {
    let detection = detect::detect(&mut corpus, params);
    let networks = explain::explain(&corpus, &detection, params, state_media);
    Analysis { corpus, detection, networks }
}
