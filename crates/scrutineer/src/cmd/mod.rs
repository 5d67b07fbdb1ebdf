//! One module per top-level command.

pub mod audit;
pub mod ballots;
pub mod findings;
pub mod influence;
pub mod infra;
pub mod ledger;
pub mod simulate;
