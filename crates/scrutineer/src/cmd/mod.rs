//! One module per top-level command.

pub mod findings;
pub mod influence;
