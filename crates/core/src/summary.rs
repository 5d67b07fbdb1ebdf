//! Versioned run summaries: what an engine records about a run (counts, parameters, and
//! what the report charts), as a typed struct owned by the engine.
//!
//! A summary is stored, so its layout is an interface: each engine's summary type
//! implements [`VersionedSummary`] with a [`VersionedSummary::VERSION`] that changes whenever its
//! layout does, and is stored as a [`StoredSummary`] (engine, version, body). Reading it
//! back ([`StoredSummary::decode`]) checks the engine and the version: a summary of the
//! current version is read strictly (a missing field is an error, never a zero); one
//! written before summaries carried a version goes through
//! [`VersionedSummary::from_unversioned`]; any other version is an error that names it.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Engine;

/// The version number under which summaries written before versioning are reported.
pub const UNVERSIONED: u32 = 0;

/// A run summary an engine writes at the end of a run.
pub trait VersionedSummary: Serialize + DeserializeOwned {
    /// The engine whose runs this summarises.
    const ENGINE: Engine;
    /// The layout's version; bumped whenever a field is added, removed or changes meaning.
    const VERSION: u32;

    /// Reads a summary stored before summaries carried a version (version
    /// [`UNVERSIONED`]). That layout is version 1's, so the default reads it as version 1,
    /// strictly: a summary that does not match fails with an error naming version 0.
    fn from_unversioned(body: serde_json::Value) -> Result<Self, SummaryError> {
        serde_json::from_value(body).map_err(|source| SummaryError::Malformed {
            engine: Self::ENGINE,
            version: UNVERSIONED,
            read_as: 1,
            source,
        })
    }
}

/// A run summary as the store keeps it: the engine, the layout's version (`None` for a
/// summary written before versioning) and the serialized body.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSummary {
    /// The engine that wrote the summary.
    pub engine: Engine,
    /// The layout's version; `None` when the summary predates versioning.
    pub version: Option<u32>,
    /// The summary itself.
    pub body: serde_json::Value,
}

/// Why a stored summary could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The summary belongs to another engine than the type asked for.
    #[error("a {found} run summary cannot be read as a {expected} one")]
    WrongEngine {
        /// The engine the caller expected.
        expected: Engine,
        /// The engine the stored summary names.
        found: Engine,
    },
    /// A version this build has no reader or migration for.
    #[error(
        "the {engine} run summary has version {version}, which this build cannot read (it reads version {known} and unversioned summaries); re-run the {engine} engine or upgrade scrutineer"
    )]
    UnknownVersion {
        /// The summary's engine.
        engine: Engine,
        /// The version found in the store.
        version: u32,
        /// The version this build writes.
        known: u32,
    },
    /// The body does not match the layout of its version.
    #[error(
        "the {engine} run summary of version {version} does not read as version {read_as}: {source}; re-run the {engine} engine to record a current one"
    )]
    Malformed {
        /// The summary's engine.
        engine: Engine,
        /// The version the summary was stored under ([`UNVERSIONED`] for none).
        version: u32,
        /// The layout it was read as.
        read_as: u32,
        /// What did not match.
        source: serde_json::Error,
    },
    /// The summary could not be serialized.
    #[error("serializing the {engine} run summary: {source}")]
    Serialize {
        /// The summary's engine.
        engine: Engine,
        /// The serializer's error.
        source: serde_json::Error,
    },
}

impl StoredSummary {
    /// The stored form of `summary`, under its type's current version.
    pub fn new<T: VersionedSummary>(summary: &T) -> Result<StoredSummary, SummaryError> {
        let body = serde_json::to_value(summary)
            .map_err(|source| SummaryError::Serialize { engine: T::ENGINE, source })?;
        Ok(StoredSummary { engine: T::ENGINE, version: Some(T::VERSION), body })
    }

    /// Reads the summary back as `T`, migrating an unversioned one and refusing any
    /// version `T` does not know.
    pub fn decode<T: VersionedSummary>(&self) -> Result<T, SummaryError> {
        if self.engine != T::ENGINE {
            return Err(SummaryError::WrongEngine { expected: T::ENGINE, found: self.engine });
        }
        match self.version {
            None => T::from_unversioned(self.body.clone()),
            Some(v) if v == T::VERSION => serde_json::from_value(self.body.clone()).map_err(|source| {
                SummaryError::Malformed { engine: T::ENGINE, version: v, read_as: v, source }
            }),
            Some(v) => Err(SummaryError::UnknownVersion { engine: T::ENGINE, version: v, known: T::VERSION }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Counts {
        records: u64,
        malformed: u64,
    }

    impl VersionedSummary for Counts {
        const ENGINE: Engine = Engine::Infra;
        const VERSION: u32 = 1;
    }

    #[test]
    fn a_summary_reads_back_under_its_version() {
        let stored = StoredSummary::new(&Counts { records: 7, malformed: 1 }).expect("serialize");
        assert_eq!(stored.version, Some(1));
        assert_eq!(stored.decode::<Counts>().expect("decode"), Counts { records: 7, malformed: 1 });
    }

    #[test]
    fn a_missing_field_is_an_error_not_a_zero() {
        let stored = StoredSummary {
            engine: Engine::Infra,
            version: Some(1),
            body: serde_json::json!({"records": 7}),
        };
        let err = stored.decode::<Counts>().expect_err("missing field").to_string();
        assert!(err.contains("missing field `malformed`"), "{err}");
        assert!(err.contains("version 1"), "{err}");
    }

    #[test]
    fn unversioned_summaries_migrate_or_fail_naming_version_0() {
        let old = |body| StoredSummary { engine: Engine::Infra, version: None, body };
        let migrated = old(serde_json::json!({"records": 3, "malformed": 0})).decode::<Counts>();
        assert_eq!(migrated.expect("same layout"), Counts { records: 3, malformed: 0 });
        let err = old(serde_json::json!({"records": 3})).decode::<Counts>().expect_err("short").to_string();
        assert!(err.contains("version 0"), "{err}");
    }

    #[test]
    fn other_versions_and_engines_are_refused_by_name() {
        let body = serde_json::json!({"records": 3, "malformed": 0});
        let newer = StoredSummary { engine: Engine::Infra, version: Some(2), body: body.clone() };
        let err = newer.decode::<Counts>().expect_err("unknown version").to_string();
        assert!(err.contains("version 2"), "{err}");
        let other = StoredSummary { engine: Engine::Ballots, version: Some(1), body };
        assert!(matches!(other.decode::<Counts>(), Err(SummaryError::WrongEngine { .. })));
    }
}
