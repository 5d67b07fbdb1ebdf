//! The run summary of `mail verify`: what was read, the verdicts, the forged-variant
//! groups. A stored layout (see [`scrutineer_core::summary`]): a change of its fields
//! takes a new version.

use std::path::PathBuf;

use scrutineer_core::{Engine, VersionedSummary};
use serde::{Deserialize, Serialize};

use crate::analysis::{VariantGroup, VerdictCounts};
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

impl VersionedSummary for RunSummary {
    const ENGINE: Engine = Engine::Mail;
    const VERSION: u32 = 1;
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
        assert_eq!(stored.decode::<RunSummary>().expect("decode"), s);
    }
}
