//! What the report reads from the store, read in one place for `scrutineer report` and
//! the server's dashboard alike.

use scrutineer_core::{Engine, Finding, SummaryError, VersionedSummary};
use scrutineer_store::{FindingFilter, RunRecord, Store, StoreError};

/// The latest finished run of each engine, its summary read as the engine's type.
#[derive(Debug, Clone, Default)]
pub struct LatestRuns {
    /// The latest `influence scan` (a version-1 summary reads with who led and the
    /// spread unknown).
    pub influence: Option<scrutineer_influence::RunSummary>,
    /// The latest `infra scan`.
    pub infra: Option<scrutineer_infra::RunSummary>,
    /// The latest `ballots reconcile`.
    pub ballots: Option<scrutineer_ballots::RunSummary>,
    /// The latest `audit status --store-findings`.
    pub audit: Option<scrutineer_audit::RunSummary>,
    /// The latest `mail verify` (a version-1 summary reads with its ARC counts unknown).
    pub mail: Option<scrutineer_mail::RunSummary>,
}

/// Everything a report shows that comes from the store.
#[derive(Debug, Clone, Default)]
pub struct StoreContents {
    /// Every finding in the store.
    pub findings: Vec<Finding>,
    /// The latest run of each engine.
    pub runs: LatestRuns,
}

/// Why the store's contents could not be read for a report.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The store could not be read.
    #[error("reading the store: {0}")]
    Store(#[from] StoreError),
    /// A run's summary is of a version this build cannot read, or does not match its
    /// version's layout.
    #[error("run {run} (`{command}`): {source}")]
    Summary {
        /// The run's id in the store.
        run: i64,
        /// The command that made the run.
        command: String,
        /// What was wrong with its summary.
        source: SummaryError,
    },
}

/// Reads every finding and the latest finished run of each engine from `store`.
///
/// A summary of an unknown version, or one that does not match its version's layout, is
/// an error naming the run and the version, never a report with zeros in its place.
/// Call it inside [`Store::snapshot`] for findings and runs from one state of the store.
pub fn read_store(store: &Store) -> Result<StoreContents, InputError> {
    let findings = store.findings(&FindingFilter::default())?;
    let runs = LatestRuns {
        influence: store
            .latest_finished_run(Engine::Influence)?
            .map(|run| {
                scrutineer_influence::RunSummary::from_stored(&run.stored_summary()).map_err(|source| {
                    InputError::Summary { run: run.id, command: run.command.clone(), source }
                })
            })
            .transpose()?,
        infra: latest(store, Engine::Infra)?,
        ballots: latest(store, Engine::Ballots)?,
        audit: latest(store, Engine::Audit)?,
        mail: store
            .latest_finished_run(Engine::Mail)?
            .map(|run| {
                scrutineer_mail::RunSummary::from_stored(&run.stored_summary()).map_err(|source| {
                    InputError::Summary { run: run.id, command: run.command.clone(), source }
                })
            })
            .transpose()?,
    };
    Ok(StoreContents { findings, runs })
}

fn latest<T: VersionedSummary>(store: &Store, engine: Engine) -> Result<Option<T>, InputError> {
    store.latest_finished_run(engine)?.map(|run| decode(&run)).transpose()
}

fn decode<T: VersionedSummary>(run: &RunRecord) -> Result<T, InputError> {
    run.stored_summary().decode::<T>().map_err(|source| InputError::Summary {
        run: run.id,
        command: run.command.clone(),
        source,
    })
}
