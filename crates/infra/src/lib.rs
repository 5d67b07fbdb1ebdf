//! Web, IDS and auth-log attack detection, campaign linking and trend tests for election
//! infrastructure.
//!
//! The pipeline: [`read`] turns every supported log format into [`Event`]s; [`analyse`]
//! gives each event a verdict from attack [`signatures`], the learned [`profile`] of
//! normal traffic and [`indicators`]; [`behaviour`] aggregates sources over time
//! (scanning, brute force); [`campaign`] links sources across jurisdictions; [`trend`]
//! tests whether activity has ramped up; [`explain`] turns it all into findings.
//! This crate does no output of its own: the binary writes files and the store.

pub mod analyse;
pub mod decode;
pub mod detect;
pub mod event;
pub mod fuzzing;
pub mod indicators;
pub mod profile;
pub mod read;
pub mod rules;
pub mod signatures;
mod summary;
pub mod trend;

pub use analyse::{Analysed, Analyser};
pub use event::{AuthOutcome, Event, EventKind};
pub use indicators::{Indicator, IndicatorKind, IndicatorSet};
pub use profile::Profile;
pub use read::{Format, ReadError, ReadOptions, ReadStats};
pub use rules::{Rule, RuleSet, Verdict};
pub use summary::{CampaignSummary, RampTestSummary, RunSummary, ScanTotals, TrendSeries};
