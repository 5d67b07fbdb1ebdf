//! The influence-operations engine: posts in, coordination networks out.
//!
//! # Brief overview
//!
//! A scan runs in four steps, each with one main type:
//!
//! 1. **Read.** [`read_posts`] (or [`read_posts_from_path`], [`read_posts_limited`])
//!    streams every supported input [`Format`] (Twitter API v1.1 and v2 JSON lines, the
//!    IRA CSV, Twitter's information-operations archive, any CSV with a
//!    [`ColumnMapping`], and Telegram (JSON and HTML exports, Telethon), Reddit (dumps and
//!    its own data export), Bluesky (Jetstream and repository CAR files), Meta Content
//!    Library, CrowdTangle, TikTok, YouTube and 4CAT exports with platform-qualified ids;
//!    plain, gzip or zstd)
//!    into one [`Post`] type. [`ingest_items`] adds an analyst's account–item actions. What could not be used is
//!    counted, with line and field, in a [`ReadReport`]; an input that cannot be read at
//!    all is a [`ReadError`].
//! 2. **Ingest.** A [`Corpus`], made for the [`ScanParams`] of the scan, interns accounts
//!    and keeps each behaviour's actions: [`ingest`] and [`ingest_limited`] read an input
//!    straight into it, [`Corpus::add`] takes posts one by one.
//!    [`ScanParams::validated`] checks parameters that came from a user ([`ParamsError`]).
//! 3. **Analyse.** [`analyse`] pairs accounts that acted alike (co-retweet, co-link,
//!    co-hashtag, co-tweet and synchronised activity: [`Behaviour`]), drops the pairs
//!    that chance explains ([`EdgeFilter`]: a Poisson test against a configuration null
//!    model with the false discovery rate held by Benjamini–Hochberg), groups the rest
//!    into communities with Leiden, keeps the accounts whose evidence holds
//!    ([`AccountEvidence`], [`Pruned`]) and ranks the resulting [`Network`]s with their
//!    [`Attribution`] signals (office hours, languages, clients, creation bursts,
//!    state-affiliated media from a [`StateMediaList`]): signals, never verdicts. Inside
//!    each network it says who acted first and who followed ([`Leadership`], with the
//!    fast sub-network of ties within seconds), and across the scan which links and texts
//!    reached several platforms and in what order ([`Spread`]). The result is an
//!    [`Analysis`].
//! 4. **Report.** [`network_findings`] turns the networks into findings for the store,
//!    [`write_exports`] writes `networks.json`, `accounts.csv`, `edges/<behaviour>.csv`,
//!    GEXF and GraphML, and a [`RunSummary`] (with its [`GraphSummary`] for the HTML
//!    report) records the run.
//!
//! This crate writes no output of its own beyond [`write_exports`]: the binary shows
//! progress and writes the store.
#![deny(missing_docs)]

mod attribution;
mod cooccur;
mod corpus;
mod detect;
mod evidence;
mod explain;
mod export;
mod group;
mod keyset;
mod lead;
mod minhash;
mod normalize;
mod nullmodel;
mod params;
mod post;
mod read;
mod sitenull;
mod spread;
mod summary;

pub use attribution::{
    Attribution, Count, CreationBurst, OffsetFit, StateMediaEntry, StateMediaError, StateMediaHit,
    StateMediaList, StateMediaShare,
};
pub use corpus::{Corpus, SamplePost, ingest, ingest_limited};
pub use detect::{BehaviourStats, StageTimes};
pub use evidence::{AccountEvidence, PruneReason, Pruned};
pub use explain::{
    BehaviourSummary as NetworkBehaviour, BenignCheck, Network, NetworkAccount, SampleEvidence, SharedItem,
    network_findings,
};
pub use export::{ExportError, NETWORKS_SCHEMA_VERSION, write_all as write_exports};
pub use lead::{AccountLead, EdgeLead, FastSubnetwork, LeadRole, Leadership, ROLE_P};
pub use params::{Behaviour, EdgeFilter, ParamsError, ScanParams};
pub use post::{AccountMeta, Post, PostKind, PostRef, Reaction, ReactionKind};
pub use read::{
    ColumnMapping, Fields, Format, ITEM_COLUMNS, MappedField, ReadError, ReadReport, Skip, TextEntities,
    estimate_posts, extract_entities, ingest_items, read_posts, read_posts_from_path, read_posts_limited,
    read_posts_with,
};
pub use spread::{
    NetworkSpread, PlatformOrder, PlatformReach, SPREAD_ITEMS_SHOWN, Spread, SpreadItem, platform_of,
};
pub use summary::{
    BehaviourSummary, GraphEdge, GraphNode, GraphSummary, MemberLeadSummary, NetworkLeadSummary,
    NetworkOrderSummary, PlatformOrderSummary, ReachSummary, ReadSummary, RunSummary, SpreadItemSummary,
    SpreadSummary, StageSeconds,
};

use detect::Detection;

/// The result of a scan: the corpus it ran on, the filtered edges and the ranked networks.
pub struct Analysis {
    pub(crate) corpus: Corpus,
    pub(crate) detection: Detection,
    /// The networks found, highest score first.
    pub networks: Vec<Network>,
    /// Links and texts seen on several platforms.
    pub spread: Spread,
}

impl Analysis {
    /// Distinct accounts in the corpus.
    pub fn accounts(&self) -> usize {
        self.corpus.accounts.len()
    }

    /// Posts in the corpus.
    pub fn posts(&self) -> u64 {
        self.corpus.posts
    }

    /// Seconds [`analyse`] spent on who led and the cross-platform spread (the stages
    /// after the networks are explained), so that their cost can be told apart.
    pub fn lead_and_spread_seconds(&self) -> f64 {
        self.detection.times.lead_and_spread
    }

    /// Seconds [`analyse`] spent in each of its stages.
    pub fn stage_times(&self) -> StageTimes {
        self.detection.times
    }

    /// Accounts placed in a network.
    pub fn accounts_placed(&self) -> usize {
        self.networks.iter().map(|n| n.size).sum()
    }

    /// What the chance filter did, per behaviour computed (in the order of
    /// [`ScanParams::behaviours`]).
    pub fn behaviour_stats(&self) -> impl Iterator<Item = (Behaviour, &BehaviourStats)> {
        self.detection.behaviours.iter().map(|b| (b.behaviour, &b.stats))
    }

    /// Accounts that Leiden grouped and the account-level test removed, each with its
    /// account key.
    pub fn pruned(&self) -> impl Iterator<Item = (&str, &Pruned)> {
        self.detection.pruned.iter().map(|p| (self.corpus.account_key(p.account), p))
    }
}

/// Runs detection and explanation on an ingested corpus.
pub fn analyse(mut corpus: Corpus, params: &ScanParams, state_media: &StateMediaList) -> Analysis {
    let mut detection = detect::detect(&mut corpus, params);
    let started = std::time::Instant::now();
    let mut networks = explain::explain(&corpus, &detection, params, state_media);
    detection.times.explain = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    lead::annotate(&corpus, &detection, &mut networks, params);
    let spread = spread::spread(&corpus, &detection, &networks);
    detection.times.lead_and_spread = started.elapsed().as_secs_f64();
    Analysis { corpus, detection, networks, spread }
}
