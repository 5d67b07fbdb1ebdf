//! Seeded election-season scenario generator with ground truth.
//!
//! One module per kind of scenario; each writes the inputs an engine reads plus a file of
//! every injected item, so that evaluations can count what was found and what was missed.
//! - [`ballots`]: voter roll, ballot issuance, returns and poll-book check-ins.
//! - [`infra`]: access logs of county election websites with one actor's campaign.
//! - [`count`]: cast-vote records, the paper ballots behind them and reported results.
//! - [`social`]: organic social-media traffic with injected influence operations.
//! - [`mail`]: a leaked mailbox, DKIM-signed, with forged and altered messages seeded in
//!   it, its senders' key archive, and a network amplifying it.
//! - [`score`]: what the engines found against the ground truth, as `scrutineer demo`
//!   writes it for the report.

pub mod ballots;
pub mod count;
pub mod infra;
pub mod mail;
mod mail_posts;
mod nc_counties;
mod rng;
pub mod score;
pub mod social;

pub use rng::mix;

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

/// Maps an I/O error on `path` into [`SimulateError::Io`].
pub(crate) fn io_err(path: &std::path::Path) -> impl Fn(std::io::Error) -> SimulateError + '_ {
    move |source| SimulateError::Io { path: path.to_path_buf(), source }
}

/// Maps a CSV error on `path` into [`SimulateError::Io`].
pub(crate) fn csv_err(path: &std::path::Path) -> impl Fn(csv::Error) -> SimulateError + '_ {
    move |e| SimulateError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) }
}

/// Maps a JSON error on `path` into [`SimulateError::Io`].
pub(crate) fn json_err(path: &std::path::Path) -> impl Fn(serde_json::Error) -> SimulateError + '_ {
    move |e| SimulateError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) }
}

/// The `n` most populous counties of the simulated state (North Carolina's, by accepted mail
/// ballots in 2020) with their relative weights, largest first.
pub fn largest_counties(n: usize) -> Vec<(String, u32)> {
    let mut all: Vec<(String, u32)> =
        nc_counties::NC_COUNTIES.iter().map(|(c, w)| ((*c).to_owned(), *w)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

/// Splits `total` among `counties` in proportion to their weights (largest remainders).
pub fn apportion(total: u64, counties: &[(String, u32)]) -> Vec<(String, u64)> {
    let sum: u64 = counties.iter().map(|c| u64::from(c.1)).sum::<u64>().max(1);
    let mut out: Vec<(String, u64)> =
        counties.iter().map(|(c, w)| (c.clone(), total * u64::from(*w) / sum)).collect();
    let mut left = total - out.iter().map(|c| c.1).sum::<u64>();
    for c in out.iter_mut() {
        if left == 0 {
            break;
        }
        c.1 += 1;
        left -= 1;
    }
    out
}
