//! Web, IDS and auth-log attack detection, campaign linking and trend tests for election
//! infrastructure.
//!
//! # Brief overview
//!
//! The pipeline runs in three steps, each with one main type:
//!
//! 1. **Read.** [`read_file`] (or [`read_stream`] for bytes already in memory) turns every
//!    supported log [`Format`] (Apache/nginx access logs, nginx JSON, IIS W3C, Suricata
//!    EVE, Zeek TSV and JSON, sshd auth logs, raw HTTP request dumps; plain or
//!    compressed) into [`Event`]s (Zeek's extra fields in [`NetDetail`]), in
//!    batches of [`Parsed`] records: each one parsed or malformed with its line number,
//!    never dropped. [`ReadOptions`] say how; [`ReadStats`] count what was read.
//! 2. **Analyse.** An [`Analyser`] gives each event its [`Rule`]s and a [`Verdict`]
//!    (normal, anomaly or attack) from attack signatures, the learned [`Profile`] of
//!    normal traffic (built with [`Profile::learn`]) and an [`IndicatorSet`] of watched
//!    addresses, networks, domains, URLs and user agents.
//! 3. **Detect.** An [`Aggregator`] is fed every [`Analysed`] event and, at the end,
//!    [`Aggregator::finish`] gives a [`Report`]: findings per source (web attacks,
//!    anomalies, scanning, brute force and password spraying; from network sensors,
//!    beaconing, network scans, probed hosts, DGA lookups, DNS tunnels, long
//!    connections and rare destinations), per account (attacked
//!    from many sources), per indicator sighting, [`Campaign`]s linking sources across
//!    offices, and a [`TrendRow`] per office with a ramp-up test ([`ramp_test`]).
//!    [`Enrichment`] hands it the offline tables: [`GeoDb`], [`AsnTable`] and, before
//!    analysis, [`JurisdictionMap`] to place events at offices by host name.
//!
//! This crate does no output of its own: the binary writes files and the store.
//! Errors are typed: [`ReadError`] for inputs, [`IndicatorError`] for indicator lists,
//! [`TableError`] for the offline tables and daily counts.
#![deny(missing_docs)]

mod analyse;
mod decode;
mod detect;
mod event;
mod fuzzing;
mod indicators;
mod profile;
mod read;
mod rules;
mod signatures;
mod summary;
mod tables;
mod trend;

pub use analyse::{Analysed, Analyser};
pub use detect::{
    Aggregator, Campaign, Enrichment, Report, Thresholds, TrendRow, source_accounts, source_addresses,
    trend_rows,
};
pub use event::{AuthOutcome, Event, EventKind, IdsAlert, NetDetail, ZeekLog};
pub use fuzzing::read_and_analyse;
pub use indicators::{Indicator, IndicatorError, IndicatorKind, IndicatorSet, write_indicator_list};
pub use profile::{EndpointProfile, ParamProfile, Profile};
pub use read::{
    Format, LONG_LINE, Parsed, ReadError, ReadOptions, ReadStats, Truncation, UnknownFormat, read_file,
    read_stream,
};
pub use rules::{Rule, RuleSet, Verdict};
pub use summary::{RampTestSummary, RunSummary, ScanTotals, TrendSeries};
pub use tables::{AsnTable, GeoDb, JurisdictionMap, TableError, read_daily_counts};
pub use trend::{ALPHA, DailySeries, MIN_RATIO, RampTest, ramp_test};
