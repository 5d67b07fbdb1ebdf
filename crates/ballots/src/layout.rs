//! Input layouts: which column holds which field, how dates are written and what the
//! status words mean. Three sources: the documented generic layout, the North Carolina
//! State Board of Elections files (absentee file layout for issuance, returns and one-stop
//! check-ins; `ncvoter` layout for the roll), and a TOML column mapping for anything else.

use std::collections::HashMap;
use std::path::Path;

use rustc_hash::FxHashMap;

use serde::Deserialize;

use crate::time::DateFormat;
use crate::{BallotsError, Outcome, VoterStatus};

/// The roll's columns.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RollColumns {
    /// The voter's id (what issuance and check-ins name).
    pub voter_id: String,
    /// `None`: the file has no status column (an extract of registered voters); every
    /// voter then takes the layout's `default_voter_status`.
    #[serde(default)]
    pub status: Option<String>,
    /// The voter's precinct (the totals are per precinct).
    pub precinct: String,
    /// The voter's ballot style, for `style_mismatch`.
    #[serde(default)]
    pub ballot_style: Option<String>,
    /// The residential address.
    #[serde(default)]
    pub address: Option<String>,
    /// The residential ZIP code.
    #[serde(default)]
    pub zip: Option<String>,
    /// The county.
    #[serde(default)]
    pub county: Option<String>,
}

/// The issuance file's columns (envelopes sent).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct IssuedColumns {
    /// `None`: the envelope is named by voter id and issue date (files without envelope ids).
    #[serde(default)]
    pub envelope_id: Option<String>,
    /// The voter the envelope was issued to.
    pub voter_id: String,
    /// The ballot style issued.
    #[serde(default)]
    pub ballot_style: Option<String>,
    /// The date the envelope was issued.
    pub issue_date: String,
    /// The mailing address.
    #[serde(default)]
    pub address: Option<String>,
    /// The mailing ZIP code.
    #[serde(default)]
    pub zip: Option<String>,
    /// Rows whose value here is one of `in_person_types` are in-person votes, not envelopes.
    #[serde(default)]
    pub request_type: Option<String>,
    /// USPS Intelligent Mail barcode of the envelope (20, 25, 29 or 31 digits), read where
    /// present: return scans may name the envelope by it.
    #[serde(default)]
    pub imb: Option<String>,
}

/// The returns file's columns (receipts and their outcome).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReturnsColumns {
    /// The envelope received (or its barcode, see `imb`).
    #[serde(default)]
    pub envelope_id: Option<String>,
    /// With `issue_date`, names the envelope when there is no envelope id column.
    #[serde(default)]
    pub voter_id: Option<String>,
    /// The issue date, where the returns file carries it (NC's absentee file is both).
    #[serde(default)]
    pub issue_date: Option<String>,
    /// When the envelope was received.
    pub returned_at: String,
    /// How it came in: mail, a drop box, in person.
    #[serde(default)]
    pub channel: Option<String>,
    /// Its outcome (mapped to an [`Outcome`] by [`Layout::outcome`]).
    pub outcome: String,
    /// Why it was rejected.
    #[serde(default)]
    pub reason: Option<String>,
    /// The request type (NC: MAIL, ONE-STOP); in-person types are check-ins.
    #[serde(default)]
    pub request_type: Option<String>,
    /// The site of an in-person vote.
    #[serde(default)]
    pub site: Option<String>,
    /// The scanned Intelligent Mail barcode, where the scan file has its own column for it
    /// (an `envelope_id` that holds an issued envelope's IMb is matched as well).
    #[serde(default)]
    pub imb: Option<String>,
}

/// The check-ins file's columns (poll books).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckinColumns {
    /// The voter who checked in.
    pub voter_id: String,
    /// When.
    pub checked_in_at: String,
    /// Where.
    #[serde(default)]
    pub location: Option<String>,
    /// If set, only rows whose value here is one of `in_person_types` are check-ins.
    #[serde(default)]
    pub request_type: Option<String>,
    /// The election date of each row, for voter-history files that list every election
    /// (NC `ncvhis`): only rows of the latest election on or before the deadline count.
    #[serde(default)]
    pub election: Option<String>,
}

/// A complete description of how to read the four inputs.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The layout's name, as given to `--layout`.
    pub name: String,
    /// How to read the roll.
    pub roll: RollColumns,
    /// How to read the issuance file.
    pub issued: IssuedColumns,
    /// How to read the returns file.
    pub returns: ReturnsColumns,
    /// How to read the check-ins file.
    pub checkins: CheckinColumns,
    /// Other check-in layouts accepted for the same `--checkins` argument; the first whose
    /// columns the file has is used (NC: the absentee file's one-stop rows or `ncvhis`).
    pub checkins_alt: Vec<CheckinColumns>,
    /// The status of every voter when the roll has no status column.
    pub default_voter_status: Option<VoterStatus>,
    /// How dates are written.
    pub date_format: DateFormat,
    /// How dates with a time are written.
    pub datetime_format: DateFormat,
    /// Several rows for one envelope are successive statuses of one receipt (NC), not
    /// separate physical receipts; `duplicate_return` is then not evaluated.
    pub status_events: bool,
    /// Outcome words (upper-cased) to outcomes; unknown words are malformed rows unless
    /// `unknown_outcome_rejected`. Looked up once per row of files with tens of millions
    /// of rows, hence the fast hasher here and in `voter_statuses`.
    pub outcomes: FxHashMap<String, Outcome>,
    /// Whether an outcome word not in `outcomes` is a rejection (else a malformed row).
    pub unknown_outcome_rejected: bool,
    /// Status words (upper-cased) to voter statuses.
    pub voter_statuses: FxHashMap<String, VoterStatus>,
    /// Request types (upper-cased) that are in-person votes, read as check-ins.
    pub in_person_types: Vec<String>,
}

fn generic_outcomes() -> FxHashMap<String, Outcome> {
    [
        ("ACCEPTED", Outcome::Accepted),
        ("CURED", Outcome::Cured),
        ("REJECTED", Outcome::Rejected),
        ("PENDING", Outcome::Pending),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn generic_statuses() -> FxHashMap<String, VoterStatus> {
    [("ACTIVE", VoterStatus::Active), ("INACTIVE", VoterStatus::Inactive), ("REMOVED", VoterStatus::Removed)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

impl Layout {
    /// The generic layout documented in the README (headers exact; extra columns ignored).
    pub fn generic() -> Layout {
        Layout {
            name: "generic".into(),
            roll: RollColumns {
                voter_id: "voter_id".into(),
                status: Some("status".into()),
                precinct: "precinct".into(),
                ballot_style: Some("ballot_style".into()),
                address: Some("address".into()),
                zip: Some("zip".into()),
                county: Some("county".into()),
            },
            issued: IssuedColumns {
                envelope_id: Some("envelope_id".into()),
                voter_id: "voter_id".into(),
                ballot_style: Some("ballot_style".into()),
                issue_date: "issue_date".into(),
                address: Some("address".into()),
                zip: Some("zip".into()),
                request_type: None,
                imb: Some("imb".into()),
            },
            returns: ReturnsColumns {
                envelope_id: Some("envelope_id".into()),
                voter_id: None,
                issue_date: None,
                returned_at: "returned_at".into(),
                channel: Some("channel".into()),
                outcome: "outcome".into(),
                reason: Some("reason".into()),
                request_type: None,
                site: None,
                imb: Some("imb".into()),
            },
            checkins: CheckinColumns {
                voter_id: "voter_id".into(),
                checked_in_at: "checked_in_at".into(),
                location: Some("location".into()),
                request_type: None,
                election: None,
            },
            checkins_alt: Vec::new(),
            default_voter_status: None,
            date_format: DateFormat::Iso,
            datetime_format: DateFormat::Iso,
            status_events: false,
            outcomes: generic_outcomes(),
            unknown_outcome_rejected: false,
            voter_statuses: generic_statuses(),
            in_person_types: Vec::new(),
        }
    }

    /// North Carolina State Board of Elections: the absentee file (one row per ballot
    /// status; columns `county_desc, voter_reg_num, ncid, ..., precinct_desc, ...,
    /// ballot_req_type, ballot_req_dt, ballot_send_dt, ballot_rtn_dt, ballot_rtn_status,
    /// site_name, sdr, mail_veri_status`) for issued, returns and check-ins (ONE-STOP rows
    /// are in-person early votes), and the `ncvoter` registration file for the roll.
    /// The envelope is named by `ncid` and `ballot_send_dt` (the file has no envelope id);
    /// an optional `ballot_style` column is read where present.
    pub fn nc() -> Layout {
        let mut outcomes = FxHashMap::default();
        outcomes.insert("ACCEPTED".to_owned(), Outcome::Accepted);
        for s in ["ACCEPTED - CURED", "ACCEPTED-CURED"] {
            outcomes.insert(s.to_owned(), Outcome::Cured);
        }
        for s in ["PENDING", "PENDING CURE", ""] {
            outcomes.insert(s.to_owned(), Outcome::Pending);
        }
        for s in [
            "SPOILED",
            "SPOILED-EV",
            "CANCELLED",
            "RETURNED UNDELIVERABLE",
            "NOT VOTED",
            "E-TRANSMISSION FAILURE",
            "REISSUED",
        ] {
            outcomes.insert(s.to_owned(), Outcome::Spoiled);
        }
        for s in [
            "WITNESS INFO INCOMPLETE",
            "ASSISTANT INFO INCOMPLETE",
            "SIGNATURE DIFFERENT",
            "CONFLICT",
            "DUPLICATE",
            "WRONG VOTER",
            "RETURNED AFTER DEADLINE",
            "NOT PROPERLY NOTARIZED",
            "WITNESS SIGNATURE MISSING",
            "VOTER SIGNATURE MISSING",
        ] {
            outcomes.insert(s.to_owned(), Outcome::Rejected);
        }
        let voter_statuses = [
            ("ACTIVE", VoterStatus::Active),
            ("TEMPORARY", VoterStatus::Active),
            ("INACTIVE", VoterStatus::Inactive),
            ("REMOVED", VoterStatus::Removed),
            ("DENIED", VoterStatus::Removed),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Layout {
            name: "nc".into(),
            roll: RollColumns {
                voter_id: "ncid".into(),
                status: Some("voter_status_desc".into()),
                precinct: "precinct_desc".into(),
                ballot_style: Some("ballot_style".into()),
                address: Some("res_street_address".into()),
                zip: Some("zip_code".into()),
                county: Some("county_desc".into()),
            },
            issued: IssuedColumns {
                envelope_id: None,
                voter_id: "ncid".into(),
                ballot_style: Some("ballot_style".into()),
                issue_date: "ballot_send_dt".into(),
                address: Some("ballot_mail_street_address".into()),
                zip: Some("ballot_mail_zip".into()),
                request_type: Some("ballot_req_type".into()),
                imb: None,
            },
            returns: ReturnsColumns {
                envelope_id: None,
                voter_id: Some("ncid".into()),
                issue_date: Some("ballot_send_dt".into()),
                returned_at: "ballot_rtn_dt".into(),
                channel: None,
                outcome: "ballot_rtn_status".into(),
                reason: Some("ballot_rtn_status".into()),
                request_type: Some("ballot_req_type".into()),
                site: Some("site_name".into()),
                imb: None,
            },
            checkins: CheckinColumns {
                voter_id: "ncid".into(),
                checked_in_at: "ballot_rtn_dt".into(),
                location: Some("site_name".into()),
                request_type: Some("ballot_req_type".into()),
                election: None,
            },
            // The voter history file (layout_ncvhis.txt: county_id, county_desc,
            // voter_reg_num, election_lbl, election_desc, voting_method, voted_party_cd,
            // voted_party_desc, pct_label, pct_description, ncid, voted_county_id,
            // voted_county_desc, vtd_label, vtd_description): one row per voter and
            // election, no time of day, so a check-in is dated by its election.
            checkins_alt: vec![CheckinColumns {
                voter_id: "ncid".into(),
                checked_in_at: "election_lbl".into(),
                location: Some("pct_description".into()),
                request_type: Some("voting_method".into()),
                election: Some("election_lbl".into()),
            }],
            default_voter_status: None,
            date_format: DateFormat::Us,
            datetime_format: DateFormat::Us,
            status_events: true,
            outcomes,
            // The Board adds status words over time; an unknown one is a rejection
            // reason rather than an unreadable row.
            unknown_outcome_rejected: true,
            voter_statuses,
            // Absentee-file request types, then the ncvhis voting methods that are votes cast
            // in person (old and current vocabularies). Not ABSENTEE BY MAIL, not the bare
            // ABSENTEE or LEGACY (method unknown), not ELIGIBLE DID NOT VOTE.
            in_person_types: [
                "ONE-STOP",
                "EARLY VOTING",
                "IN PERSON",
                "IN-PERSON",
                "ABSENTEE ONESTOP",
                "ABSENTEE CURBSIDE",
                "CURBSIDE",
                "PROVISIONAL",
                "TRANSFER",
                "EARLY VOTING IN-PERSON",
                "ELECTION DAY IN-PERSON",
                "EARLY VOTING CURBSIDE",
                "ELECTION DAY CURBSIDE",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
        }
    }

    /// The Ohio Secretary of State voter-file extract as the roll (`layouts/ohio-sos.toml`:
    /// `SOS_VOTERI` voter id, `county` as precinct and county, `full_addr` address, every
    /// voter active), the other three files in the generic layout.
    pub fn ohio() -> Layout {
        // The mapping is part of the crate and covered by a unit test; it cannot fail.
        Layout::from_mapping_str(OHIO_SOS_MAPPING, Path::new("ohio"))
            .unwrap_or_else(|e| unreachable!("built-in Ohio mapping: {e}"))
    }

    /// `generic`, `nc`, `ohio`, or the path of a TOML mapping file.
    pub fn from_spec(spec: &str) -> Result<Layout, BallotsError> {
        match spec {
            "generic" => Ok(Layout::generic()),
            "nc" => Ok(Layout::nc()),
            "ohio" => Ok(Layout::ohio()),
            path => Layout::from_mapping_file(Path::new(path)),
        }
    }

    /// A mapping file: `[roll]`, `[issued]`, `[returns]`, `[checkins]` tables mapping each
    /// field to a column name, plus optional `date_format` / `datetime_format` (strftime),
    /// `[outcomes]` (word -> accepted|cured|rejected|pending|spoiled), `[voter_statuses]`
    /// (word -> active|inactive|removed), `status_events` and `in_person_types`. Any
    /// table left out keeps the generic layout's columns.
    pub fn from_mapping_file(path: &Path) -> Result<Layout, BallotsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| BallotsError::Io { path: path.to_path_buf(), source })?;
        Layout::from_mapping_str(&text, path)
    }

    /// A mapping given as text; `path` names it in errors and in the layout's name.
    pub fn from_mapping_str(text: &str, path: &Path) -> Result<Layout, BallotsError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Mapping {
            roll: Option<RollColumns>,
            issued: Option<IssuedColumns>,
            returns: Option<ReturnsColumns>,
            checkins: Option<CheckinColumns>,
            date_format: Option<String>,
            datetime_format: Option<String>,
            status_events: Option<bool>,
            outcomes: Option<HashMap<String, String>>,
            voter_statuses: Option<HashMap<String, String>>,
            in_person_types: Option<Vec<String>>,
            unknown_outcome_rejected: Option<bool>,
            default_voter_status: Option<String>,
        }
        let m: Mapping = toml::from_str(text)
            .map_err(|e| BallotsError::Mapping { path: path.to_path_buf(), message: e.to_string() })?;
        let bad = |message: String| BallotsError::Mapping { path: path.to_path_buf(), message };
        let mut l = Layout::generic();
        l.name = path.display().to_string();
        if let Some(r) = m.roll {
            l.roll = r;
        }
        if let Some(r) = m.issued {
            l.issued = r;
        }
        if let Some(r) = m.returns {
            l.returns = r;
        }
        if let Some(r) = m.checkins {
            l.checkins = r;
        }
        if let Some(f) = m.date_format {
            l.date_format = DateFormat::Custom(f);
        }
        if let Some(f) = m.datetime_format {
            l.datetime_format = DateFormat::Custom(f);
        }
        l.status_events = m.status_events.unwrap_or(false);
        l.unknown_outcome_rejected = m.unknown_outcome_rejected.unwrap_or(false);
        if let Some(o) = m.outcomes {
            for (word, v) in o {
                let outcome = Outcome::parse_name(&v).ok_or_else(|| {
                    bad(format!(
                        "outcome '{v}' for '{word}' is not one of accepted, cured, rejected, pending, spoiled"
                    ))
                })?;
                l.outcomes.insert(word.trim().to_uppercase(), outcome);
            }
        }
        if let Some(o) = m.voter_statuses {
            for (word, v) in o {
                let s = VoterStatus::parse_name(&v).ok_or_else(|| {
                    bad(format!("status '{v}' for '{word}' is not one of active, inactive, removed"))
                })?;
                l.voter_statuses.insert(word.trim().to_uppercase(), s);
            }
        }
        if let Some(v) = m.default_voter_status {
            l.default_voter_status = Some(VoterStatus::parse_name(&v).ok_or_else(|| {
                bad(format!("default_voter_status '{v}' is not one of active, inactive, removed"))
            })?);
        }
        if l.roll.status.is_none() && l.default_voter_status.is_none() {
            return Err(bad("[roll] has no status column: set default_voter_status".into()));
        }
        if let Some(t) = m.in_person_types {
            l.in_person_types = t.into_iter().map(|s| s.trim().to_uppercase()).collect();
        }
        if l.issued.envelope_id.is_none() && l.returns.envelope_id.is_none() && l.returns.voter_id.is_none() {
            return Err(bad("without envelope ids, [returns] needs voter_id and issue_date".into()));
        }
        Ok(l)
    }

    /// The outcome an outcome word stands for.
    pub fn outcome(&self, word: &[u8]) -> Option<Outcome> {
        let found = with_upper(word, |w| self.outcomes.get(w).copied());
        found.or(if self.unknown_outcome_rejected { Some(Outcome::Rejected) } else { None })
    }

    /// The voter status a status word stands for.
    pub fn voter_status(&self, word: &[u8]) -> Option<VoterStatus> {
        with_upper(word, |w| self.voter_statuses.get(w).copied())
    }

    /// Whether a request type is an in-person vote.
    pub fn is_in_person(&self, word: &[u8]) -> bool {
        with_upper(word, |w| self.in_person_types.iter().any(|t| t == w))
    }
}

/// The shipped mapping of the Ohio Secretary of State voter-file extract.
pub const OHIO_SOS_MAPPING: &str = include_str!("../layouts/ohio-sos.toml");

/// Calls `f` with `word` trimmed and upper-cased (Unicode rules, invalid UTF-8 replaced);
/// short ASCII words, nearly all of them, are upper-cased on the stack without allocating.
fn with_upper<T>(word: &[u8], f: impl FnOnce(&str) -> T) -> T {
    let word = word.trim_ascii();
    let mut buf = [0u8; 64];
    if word.len() <= buf.len() && word.is_ascii() {
        let b = &mut buf[..word.len()];
        b.copy_from_slice(word);
        b.make_ascii_uppercase();
        if let Ok(w) = std::str::from_utf8(b) {
            return f(w);
        }
    }
    f(&String::from_utf8_lossy(word).to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ohio_preset_maps_the_sos_extract() {
        let l = Layout::from_spec("ohio").expect("ohio");
        assert_eq!(l.roll.voter_id, "SOS_VOTERI");
        assert_eq!(l.roll.status, None);
        assert_eq!(l.default_voter_status, Some(VoterStatus::Active));
        assert_eq!(l.roll.precinct, "county");
        assert_eq!(l.roll.address.as_deref(), Some("full_addr"));
        // The other files stay generic, IMb included.
        assert_eq!(l.issued.envelope_id.as_deref(), Some("envelope_id"));
        assert_eq!(l.issued.imb.as_deref(), Some("imb"));
    }

    #[test]
    fn a_roll_without_status_needs_a_default() {
        let text = "[roll]\nvoter_id = \"ID\"\nprecinct = \"P\"\n";
        let e = Layout::from_mapping_str(text, Path::new("m.toml")).expect_err("error");
        assert!(e.to_string().contains("default_voter_status"), "{e}");
        let ok = format!("default_voter_status = \"inactive\"\n{text}");
        let l = Layout::from_mapping_str(&ok, Path::new("m.toml")).expect("ok");
        assert_eq!(l.default_voter_status, Some(VoterStatus::Inactive));
    }

    #[test]
    fn ncvhis_methods_in_person_or_not() {
        let l = Layout::nc();
        for m in ["IN-PERSON", "ABSENTEE ONESTOP", "absentee curbside", "ELECTION DAY IN-PERSON"] {
            assert!(l.is_in_person(m.as_bytes()), "{m}");
        }
        for m in ["ABSENTEE BY MAIL", "ABSENTEE", "ELIGIBLE DID NOT VOTE", "MAIL"] {
            assert!(!l.is_in_person(m.as_bytes()), "{m}");
        }
    }
}
