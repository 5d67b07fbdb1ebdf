//! Reading Windows event logs (EVTX) into flat [`EventRecord`]s.
//!
//! The binary format is parsed by the `evtx` crate; this module flattens each record the
//! way Sigma engines for EVTX (Hayabusa, Chainsaw, Zircolite) do, so SigmaHQ rules see
//! the field names they are written against: `Event.System.*` children by name
//! (attributes as `Parent_Attribute`, e.g. `Provider_Name`), and `Event.EventData` /
//! `Event.UserData` leaves by their own name (`TargetUserName`, `CommandLine`).
//!
//! Damage is counted, never fatal past the file header: a chunk that fails its checks, a
//! record that cannot be rendered, bytes after the last whole chunk (a truncated file),
//! and a parser panic on hostile input are each a [`ReadProblem`] in [`EvtxStats`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Size of the EVTX file header and of every chunk after it.
const FILE_HEADER_BYTES: u64 = 4096;
const CHUNK_BYTES: u64 = 65536;
/// How many problems a file keeps word for word; the counts cover the rest.
const KEPT_PROBLEMS: usize = 20;

/// One event log record, flattened for rule evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// `Event.System.EventRecordID`, the record's number in its log (the record
    /// header's number when the element is missing).
    pub record_id: u64,
    /// When the record was written.
    pub time: DateTime<Utc>,
    /// `Event.System.EventID` (0 when the record has none).
    pub event_id: u32,
    /// `Event.System.Channel` (`Security`, `Microsoft-Windows-Sysmon/Operational`, ...).
    pub channel: String,
    /// `Event.System.Computer`, the machine that wrote the record.
    pub computer: String,
    /// The flat field map rules are evaluated against.
    pub fields: Map<String, Value>,
}

impl EventRecord {
    /// The field `name` as text (numbers written out), or `""` when absent.
    pub fn text(&self, name: &str) -> String {
        match self.fields.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        }
    }

    /// Builds a record from the JSON the `evtx` crate renders (`{"Event": {...}}`).
    pub fn from_json(record_id: u64, time: DateTime<Utc>, json: &Value) -> EventRecord {
        let mut fields = Map::new();
        let event = json.get("Event").unwrap_or(json);
        if let Some(system) = event.get("System").and_then(Value::as_object) {
            for (key, value) in system {
                flatten_system(key, value, &mut fields);
            }
        }
        for section in ["EventData", "UserData"] {
            if let Some(data) = event.get(section) {
                flatten_data(section, data, &mut fields);
            }
        }
        // The record header's number and `System/EventRecordID` differ in logs exported
        // from others (the SigmaHQ samples number every record 1 in its header); the
        // element is what Windows, the peers and analysts call the record's id.
        let record_id = fields.get("EventRecordID").and_then(as_u64).unwrap_or(record_id);
        let event_id =
            fields.get("EventID").and_then(as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        EventRecord {
            record_id,
            time,
            event_id,
            channel: text("Channel"),
            computer: text("Computer"),
            fields,
        }
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `System` children: a plain value under its name; an element with attributes gives
/// `Name_Attribute` for each attribute and `Name` for its text (`EventID` with
/// `Qualifiers`).
fn flatten_system(key: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(obj) => {
            for (k, v) in obj {
                match k.as_str() {
                    "#attributes" => {
                        if let Some(attrs) = v.as_object() {
                            for (a, av) in attrs {
                                out.insert(format!("{key}_{a}"), av.clone());
                            }
                        }
                    }
                    "#text" => {
                        out.insert(key.to_owned(), v.clone());
                    }
                    _ => flatten_system(&format!("{key}_{k}"), v, out),
                }
            }
        }
        Value::Null => {}
        _ => {
            out.insert(key.to_owned(), value.clone());
        }
    }
}

/// `EventData` and `UserData`: every leaf under its own name, as the peers name them. A
/// name seen twice keeps the first value; unnamed `Data` elements stay a list under `Data`.
fn flatten_data(key: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(obj) => {
            for (k, v) in obj {
                match k.as_str() {
                    "#attributes" => {}
                    "#text" => insert_leaf(key, v, out),
                    _ => flatten_data(k, v, out),
                }
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object()) => insert_leaf(key, value, out),
        Value::Array(items) => {
            for item in items {
                flatten_data(key, item, out);
            }
        }
        _ => insert_leaf(key, value, out),
    }
}

fn insert_leaf(key: &str, value: &Value, out: &mut Map<String, Value>) {
    if key == "EventData" || key == "UserData" {
        // Text directly under the section: keep it searchable by keyword rules.
        out.entry("Data").or_insert_with(|| value.clone());
        return;
    }
    out.entry(key.to_owned()).or_insert_with(|| value.clone());
}

/// What went wrong at one place in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadProblem {
    /// Where: `chunk N`, `record N`, `byte offset N`.
    pub location: String,
    /// What the parser said.
    pub error: String,
}

/// Counts of one EVTX file's reading.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvtxStats {
    /// Records read and handed on.
    pub records: u64,
    /// Records that could not be rendered.
    pub bad_records: u64,
    /// Chunks that failed their checks (their records are lost).
    pub bad_chunks: u64,
    /// Bytes after the last whole chunk: a file cut short.
    pub truncated_bytes: u64,
    /// The first problems word for word (see the counts for all of them).
    pub problems: Vec<ReadProblem>,
}

impl EvtxStats {
    fn problem(&mut self, location: String, error: String) {
        if self.problems.len() < KEPT_PROBLEMS {
            self.problems.push(ReadProblem { location, error });
        }
    }

    /// Adds another file's counts to these (problems up to the kept number).
    pub fn add(&mut self, other: &EvtxStats) {
        self.records += other.records;
        self.bad_records += other.bad_records;
        self.bad_chunks += other.bad_chunks;
        self.truncated_bytes += other.truncated_bytes;
        for p in &other.problems {
            self.problem(p.location.clone(), p.error.clone());
        }
    }

    /// Whether anything in the file could not be read.
    pub fn damaged(&self) -> bool {
        self.bad_records + self.bad_chunks > 0 || self.truncated_bytes > 0
    }
}

/// A file that cannot be read as an event log at all.
#[derive(Debug, thiserror::Error)]
pub enum EvtxReadError {
    /// The file could not be opened or read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file header is not an EVTX header.
    #[error("{path} is not a Windows event log (EVTX): {reason}")]
    NotEvtx {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
}

/// Reads the EVTX file at `path`, handing every record to `on_record` in log order.
pub fn read_evtx(path: &Path, on_record: impl FnMut(EventRecord)) -> Result<EvtxStats, EvtxReadError> {
    let bytes = std::fs::read(path).map_err(|source| EvtxReadError::Io { path: path.to_owned(), source })?;
    read_evtx_bytes(path, bytes, on_record)
}

/// Reads EVTX `bytes` (named `path` in errors), as [`read_evtx`] does.
pub fn read_evtx_bytes(
    path: &Path,
    bytes: Vec<u8>,
    mut on_record: impl FnMut(EventRecord),
) -> Result<EvtxStats, EvtxReadError> {
    let mut stats = EvtxStats::default();
    let len = bytes.len() as u64;
    if len > FILE_HEADER_BYTES {
        let tail = (len - FILE_HEADER_BYTES) % CHUNK_BYTES;
        if tail > 0 {
            stats.truncated_bytes = tail;
            stats.problem(
                format!("byte offset {}", len - tail),
                format!("the file ends {tail} bytes into a chunk: truncated"),
            );
        }
    }
    let not_evtx = |reason: String| EvtxReadError::NotEvtx { path: path.to_owned(), reason };
    let opened = catch_unwind(AssertUnwindSafe(|| EvtxParser::from_buffer(bytes)));
    let parser = match opened {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return Err(not_evtx(error_chain(&e))),
        Err(_) => return Err(not_evtx("the parser failed on the file header".to_owned())),
    };
    // Checksums are not enforced, as Hayabusa, Chainsaw and the Python `evtx` do not: a
    // log that was not closed cleanly has stale chunk checksums over good records. A chunk
    // that is really damaged fails on its records, which are counted one by one.
    let settings = ParserSettings::new().validate_checksums(false).separate_json_attributes(false);
    let mut parser = parser.with_configuration(settings);
    let walked = catch_unwind(AssertUnwindSafe(|| {
        for item in parser.records_json_value() {
            match item {
                Ok(rec) => {
                    let time = DateTime::<Utc>::from_timestamp(
                        rec.timestamp.as_second(),
                        rec.timestamp.subsec_nanosecond().max(0) as u32,
                    )
                    .unwrap_or_default();
                    stats.records += 1;
                    on_record(EventRecord::from_json(rec.event_record_id, time, &rec.data));
                }
                Err(e) => {
                    let location = match &e {
                        EvtxError::FailedToParseChunk { chunk_id, .. } => {
                            stats.bad_chunks += 1;
                            format!("chunk {chunk_id}")
                        }
                        EvtxError::FailedToParseRecord { record_id, .. } => {
                            stats.bad_records += 1;
                            format!("record {record_id}")
                        }
                        EvtxError::FailedToReadRecordAt { chunk, offset, .. } => {
                            stats.bad_records += 1;
                            match chunk {
                                Some(c) => format!("chunk {c}, offset {offset}"),
                                None => format!("offset {offset}"),
                            }
                        }
                        _ => {
                            stats.bad_records += 1;
                            "record".to_owned()
                        }
                    };
                    let message = error_chain(&e);
                    stats.problem(location, message);
                }
            }
        }
    }));
    if walked.is_err() {
        // The reader stops at the record the parser could not survive; what came before it
        // was handed on, and the rest of the file counts as one damaged chunk.
        stats.bad_chunks += 1;
        stats
            .problem("after the last record read".to_owned(), "the parser failed on damaged data".to_owned());
    }
    Ok(stats)
}

/// The error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn system_attributes_and_event_data_are_flattened_under_their_names() {
        let j = json!({"Event": {
            "#attributes": {"xmlns": "x"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing", "Guid": "{g}"}},
                "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045},
                "Channel": "System",
                "Computer": "PC1",
                "Correlation": null
            },
            "EventData": {"ServiceName": "evil", "ImagePath": "C:\\evil.exe"},
            "UserData": {"LogFileCleared": {"SubjectUserName": "bob"}}
        }});
        let r = EventRecord::from_json(9, DateTime::<Utc>::default(), &j);
        assert_eq!(r.event_id, 7045);
        assert_eq!(r.channel, "System");
        assert_eq!(r.computer, "PC1");
        assert_eq!(r.text("Provider_Name"), "Microsoft-Windows-Security-Auditing");
        assert_eq!(r.text("EventID_Qualifiers"), "16384");
        assert_eq!(r.text("ServiceName"), "evil");
        assert_eq!(r.text("SubjectUserName"), "bob");
        assert!(!r.fields.contains_key("Correlation"));
        assert!(!r.fields.contains_key("xmlns"));
    }

    #[test]
    fn the_record_id_is_the_system_element_not_the_header_number() {
        let with = json!({"Event": {"System": {"EventRecordID": 23503, "EventID": 11}}});
        assert_eq!(EventRecord::from_json(1, DateTime::<Utc>::default(), &with).record_id, 23503);
        let without = json!({"Event": {"System": {"EventID": 11}}});
        assert_eq!(EventRecord::from_json(7, DateTime::<Utc>::default(), &without).record_id, 7);
    }

    #[test]
    fn garbage_is_not_an_event_log_and_names_the_file() {
        let err = read_evtx_bytes(Path::new("x.evtx"), b"not an event log at all".to_vec(), |_| {})
            .expect_err("garbage");
        assert!(err.to_string().contains("x.evtx"), "{err}");
    }
}
