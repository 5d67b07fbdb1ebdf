//! Seeded election-season scenario generator with ground truth.
//!
//! One module per kind of scenario; each writes the inputs an engine reads plus a file of
//! every injected item, so that evaluations can count what was found and what was missed.
//! - [`ballots`]: voter roll, ballot issuance, returns and poll-book check-ins.
//! - [`social`]: organic social-media traffic with injected influence operations.

pub mod ballots;
mod nc_counties;
mod rng;
pub mod social;

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}
