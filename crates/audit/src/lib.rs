//! Risk-limiting audits: sample sizes, seeded sampling, risk measurement.
//!
//! The crate is a pipeline like every Scrutineer engine: `read` (Colorado round reports,
//! Arlo exports, Dominion and RAIRE cast-vote records, ballot manifests) → `detect`
//! (risk measurement per contest: BRAVO, ALPHA, Kaplan-Markov ballot comparison, batch
//! comparison) → `explain` (findings: outcome confirmed, escalate, discrepancies).
//! It does no I/O beyond the readers and never touches the store.

pub mod arlo;
pub mod bravo;
pub mod colorado;
pub mod dominion;
pub mod error;
pub mod manifest;
pub mod raire;
pub mod risk;
pub mod sampler;
mod summary;
pub mod workflow;

pub use error::{AuditError, Result};
pub use summary::{AuditDecision, ContestSummary, RunSummary};
