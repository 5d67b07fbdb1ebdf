//! The run summary of `mail verify`: what was read, the verdicts, the ARC chains, the
//! forged-variant groups. A stored layout (see [`scrutineer_core::summary`]): a change of
//! its fields takes a new version. Version 2 added the ARC counts; version 1 summaries
//! (and unversioned ones, which have its layout) are still read, by
//! [`RunSummary::from_stored`], with the ARC counts unknown.

use std::path::PathBuf;

use scrutineer_core::{Engine, StoredSummary, SummaryError, VersionedSummary};
use serde::{Deserialize, Serialize};

use crate::analysis::{ArcCounts, VariantGroup, VerdictCounts};
use crate::near::NearDuplicate;
use crate::read::ReadStats;

/// What one `mail verify` run records in the store and writes to `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// What the reader counted.
    pub read: ReadStats,
    /// Records in the key archive.
    pub keys: usize,
    /// Signatures checked.
    pub signatures: u64,
    /// Messages per verdict (under their best signature's verdict).
    pub verdicts: VerdictCounts,
    /// Messages per ARC verdict; `None` in a summary of version 1, which did not count
    /// them. Required in version 2 (written as `null` only by a version-1 reader).
    #[serde(deserialize_with = "required")]
    pub arc: Option<ArcCounts>,
    /// Messages that share a Message-ID but not their content.
    pub variant_groups: Vec<VariantGroup>,
    /// Messages that are not authentic whose text nearly repeats an authentic one's.
    pub near_duplicates: Vec<NearDuplicate>,
    /// Findings made.
    pub findings: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Messages per second of wall-clock time (0 when none was measured).
    pub messages_per_second: f64,
    /// Where the verdicts were written.
    pub verdicts_csv: PathBuf,
}

/// Reads an `Option` field that must be present (serde would take a missing one as
/// `None`, and a version-1 body for a version-2 one).
fn required<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ArcCounts>, D::Error> {
    Option::<ArcCounts>::deserialize(d)
}

impl VersionedSummary for RunSummary {
    const ENGINE: Engine = Engine::Mail;
    const VERSION: u32 = 2;

    fn from_unversioned(body: serde_json::Value) -> Result<Self, SummaryError> {
        RunSummaryV1::read(body, scrutineer_core::summary::UNVERSIONED)
    }
}

impl RunSummary {
    /// Reads a stored `mail verify` summary of any version this build knows: version 2
    /// as it stands, version 1 (and unversioned ones) with the ARC counts unknown.
    pub fn from_stored(stored: &StoredSummary) -> Result<RunSummary, SummaryError> {
        if stored.engine == Engine::Mail && stored.version == Some(1) {
            return RunSummaryV1::read(stored.body.clone(), 1);
        }
        stored.decode::<RunSummary>()
    }
}

/// The layout of version 1: version 2 without the ARC counts.
#[derive(Deserialize)]
struct RunSummaryV1 {
    read: ReadStats,
    keys: usize,
    signatures: u64,
    verdicts: VerdictCounts,
    variant_groups: Vec<VariantGroup>,
    near_duplicates: Vec<NearDuplicate>,
    findings: usize,
    seconds: f64,
    messages_per_second: f64,
    verdicts_csv: PathBuf,
}

impl RunSummaryV1 {
    fn read(body: serde_json::Value, version: u32) -> Result<RunSummary, SummaryError> {
        let v1: RunSummaryV1 = serde_json::from_value(body).map_err(|source| SummaryError::Malformed {
            engine: Engine::Mail,
            version,
            read_as: 1,
            source,
        })?;
        Ok(RunSummary {
            read: v1.read,
            keys: v1.keys,
            signatures: v1.signatures,
            verdicts: v1.verdicts,
            arc: None,
            variant_groups: v1.variant_groups,
            near_duplicates: v1.near_duplicates,
            findings: v1.findings,
            seconds: v1.seconds,
            messages_per_second: v1.messages_per_second,
            verdicts_csv: v1.verdicts_csv,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_core::StoredSummary;

    #[test]
    fn the_summary_round_trips_through_its_stored_form() {
        let s = RunSummary {
            read: ReadStats { files: 2, messages: 5, unreadable: 1, bytes: 900, truncated_files: 0 },
            keys: 3,
            signatures: 4,
            verdicts: VerdictCounts { authentic: 3, unsigned: 1, ..VerdictCounts::default() },
            arc: Some(ArcCounts { chains: 2, pass: 1, fail: 1, key_unknown: 0 }),
            variant_groups: Vec::new(),
            near_duplicates: Vec::new(),
            findings: 1,
            seconds: 0.25,
            messages_per_second: 20.0,
            verdicts_csv: PathBuf::from("out/verdicts.csv"),
        };
        let stored = StoredSummary::new(&s).expect("serialize");
        assert_eq!(stored.engine, Engine::Mail);
        assert_eq!(stored.body["verdicts"]["authentic"], 3);
        assert_eq!(stored.version, Some(2));
        assert_eq!(stored.body["arc"]["fail"], 1);
        assert_eq!(stored.decode::<RunSummary>().expect("decode"), s);
        assert_eq!(RunSummary::from_stored(&stored).expect("decode"), s);
    }

    #[test]
    fn a_version_1_summary_is_read_with_its_arc_counts_unknown() {
        let mut body = serde_json::json!({
            "read": {"files": 1, "messages": 2, "unreadable": 0, "bytes": 10, "truncated_files": 0},
            "keys": 1, "signatures": 2,
            "verdicts": serde_json::to_value(VerdictCounts { authentic: 2, ..VerdictCounts::default() }).expect("counts"),
            "variant_groups": [], "near_duplicates": [], "findings": 1, "seconds": 0.1,
            "messages_per_second": 20.0, "verdicts_csv": "v.csv"
        });
        for version in [Some(1), None] {
            let stored = StoredSummary { engine: Engine::Mail, version, body: body.clone() };
            let s = RunSummary::from_stored(&stored).expect("version 1");
            assert_eq!((s.verdicts.authentic, s.arc.clone()), (2, None));
        }
        // A version-1 body is not a version-2 one, and a broken one names version 1.
        let as_v2 = StoredSummary { engine: Engine::Mail, version: Some(2), body: body.clone() };
        assert!(RunSummary::from_stored(&as_v2).is_err());
        body.as_object_mut().expect("object").remove("keys");
        let broken = StoredSummary { engine: Engine::Mail, version: Some(1), body };
        let err = RunSummary::from_stored(&broken).expect_err("missing field").to_string();
        assert!(err.contains("version 1") && err.contains("keys"), "{err}");
    }
}
