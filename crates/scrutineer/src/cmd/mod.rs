//! One module per top-level command.

pub mod audit;
pub mod audit_batch;
pub mod audit_comparison;
pub mod audit_hybrid;
pub mod audit_raire;
pub mod ballots;
pub mod bulletin;
pub mod demo;
mod demo_comparison;
pub mod findings;
pub mod hunt;
pub mod influence;
pub mod infra;
pub mod join;
pub mod ledger;
pub mod mail;
pub mod mail_spread;
pub mod report;
pub mod serve;
pub mod simulate;
pub mod users;
