//! `/api/findings` answers: encoded from the store's rows with the evidence passed on as
//! the JSON text the store holds wherever redaction leaves it as it is, and kept per
//! store state so that the same page asked again is served from memory.
//!
//! Decoding each finding's evidence into JSON values and encoding them again was most
//! of the cost of a page (allocations and string escaping, for the same bytes out as
//! in). A finding is decoded only when its caller may not see its engine's voter fields
//! and its evidence may hold one (see [`crate::redact::may_hold_voter_fields`]).

use std::collections::HashMap;
use std::sync::Mutex;

use scrutineer_core::{Engine, FindingId, Severity, TimeSpan};
use scrutineer_store::StoredFinding;
use serde::Serialize;

use crate::ApiError;
use crate::redact::{may_hold_voter_fields, redact_finding};

/// A finding's fields before its evidence and techniques, in `Finding`'s order and with
/// its serde attributes: the stored evidence and techniques are written after them.
#[derive(Serialize)]
struct Head<'a> {
    id: &'a FindingId,
    engine: Engine,
    kind: &'a str,
    title: &'a str,
    summary: &'a str,
    severity: Severity,
    confidence: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_span: Option<&'a TimeSpan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

/// Writes `f` as `Finding` encodes, the stored evidence and techniques as they are
/// (checked to be JSON, so that a damaged row fails the request as decoding it would).
pub(crate) fn write_stored(out: &mut Vec<u8>, f: &StoredFinding) -> Result<(), ApiError> {
    for (column, text) in [("evidence", &f.evidence_json), ("techniques", &f.techniques_json)] {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
            ApiError::Internal(format!("store holds a malformed {column} for finding {}: {e}", f.id.0))
        })?;
    }
    let head = Head {
        id: &f.id,
        engine: f.engine,
        kind: &f.kind,
        title: &f.title,
        summary: &f.summary,
        severity: f.severity,
        confidence: f.confidence,
        time_span: f.time_span.as_ref(),
        scope: f.scope.as_deref(),
    };
    serde_json::to_writer(&mut *out, &head).map_err(|e| ApiError::Internal(e.to_string()))?;
    // `{…}` without its closing brace, then the two stored lists.
    out.pop();
    out.extend_from_slice(b",\"evidence\":");
    out.extend_from_slice(f.evidence_json.as_bytes());
    out.extend_from_slice(b",\"techniques\":");
    out.extend_from_slice(f.techniques_json.as_bytes());
    out.push(b'}');
    Ok(())
}

/// Appends `f` to a JSON list being written, as the caller may see it, if it still
/// holds `needle` (lower case) once redacted; returns whether it did.
pub(crate) fn push_visible(
    out: &mut Vec<u8>,
    f: StoredFinding,
    may_see: &[Engine],
    needle: Option<&str>,
) -> Result<bool, ApiError> {
    let holds = |title: &str, summary: &str| {
        needle.is_none_or(|n| title.to_lowercase().contains(n) || summary.to_lowercase().contains(n))
    };
    let separator = |out: &mut Vec<u8>| {
        if out.last() != Some(&b'[') {
            out.push(b',');
        }
    };
    if may_see.contains(&f.engine) || !may_hold_voter_fields(f.engine, &f.evidence_json) {
        if !holds(&f.title, &f.summary) {
            return Ok(false);
        }
        separator(out);
        write_stored(out, &f)?;
        return Ok(true);
    }
    let mut finding = f.into_finding()?;
    redact_finding(&mut finding, may_see);
    if !holds(&finding.title, &finding.summary) {
        return Ok(false);
    }
    separator(out);
    serde_json::to_writer(&mut *out, &finding).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(true)
}

/// An answer as sent: the body and the next page's cursor.
#[derive(Clone)]
pub(crate) struct Answer {
    pub(crate) body: bytes::Bytes,
    pub(crate) next: Option<String>,
}

/// What an answer depends on: the query as asked and the engines whose voter fields
/// the caller sees.
type AnswerKey = (String, Vec<Engine>);

/// Answers kept, by query and visibility, with the store state they were read at
/// ([`scrutineer_store::Store::sharing_version`]: findings, runs, triage, the inbox).
/// An answer of another state is never served: every request reads the state first.
#[derive(Default)]
pub(crate) struct AnswerCache {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    answers: HashMap<AnswerKey, ((i64, i64), Answer)>,
    bytes: usize,
}

/// The most the cache holds, in bytes of answers; an answer bigger than an eighth of it
/// is not kept.
const MAX_CACHED_BYTES: usize = 64 << 20;

impl AnswerCache {
    /// The answer kept for `key` at store state `version`.
    pub(crate) fn get(&self, key: &AnswerKey, version: (i64, i64)) -> Option<Answer> {
        let kept = self.kept.lock().ok()?;
        kept.answers.get(key).filter(|(v, _)| *v == version).map(|(_, a)| a.clone())
    }

    /// Keeps `answer`; answers of other states go first when room is needed, then all.
    pub(crate) fn put(&self, key: AnswerKey, version: (i64, i64), answer: Answer) {
        let size = answer.body.len() + key.0.len();
        if size > MAX_CACHED_BYTES / 8 {
            return;
        }
        let Ok(mut kept) = self.kept.lock() else { return };
        if kept.bytes + size > MAX_CACHED_BYTES {
            kept.answers.retain(|_, (v, _)| *v == version);
            kept.bytes = kept.answers.iter().map(|(k, (_, a))| a.body.len() + k.0.len()).sum();
            if kept.bytes + size > MAX_CACHED_BYTES {
                kept.answers.clear();
                kept.bytes = 0;
            }
        }
        if let Some((_, old)) = kept.answers.insert(key.clone(), (version, answer)) {
            kept.bytes -= old.body.len() + key.0.len();
        }
        kept.bytes += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_core::{Evidence, Finding, Technique};
    use scrutineer_store::{FindingFilter, Store};

    /// The stored text passed on as it is reads back as the finding encoded whole.
    #[test]
    fn a_stored_finding_is_written_as_the_finding_encodes() {
        let start = chrono::DateTime::from_timestamp(1_600_000_000, 0).expect("time");
        let with_all = Finding::new(Engine::Infra, "scanning", "10.0.0.1", "scan \"from\" 10.0.0.1")
            .summary("1 200 requests\nto /wp-login.php")
            .severity(Severity::High)
            .confidence(0.875)
            .scope("Arapahoe")
            .time_span(Some(TimeSpan::new(start, start + chrono::Duration::hours(3))))
            .evidence(Evidence::new("request", "GET /x", serde_json::json!({"path": "/x", "n": [1, 2.5]})))
            .technique(Technique::attack("T1595"));
        let bare = Finding::new(Engine::Mail, "forged", "m1", "forged message");
        let mut store = Store::open_in_memory().expect("store");
        store.put_findings(None, &[with_all.clone(), bare.clone()]).expect("put");
        for stored in store.stored_findings(&FindingFilter::default()).expect("read") {
            let mut out = Vec::new();
            write_stored(&mut out, &stored).expect("write");
            let written: serde_json::Value = serde_json::from_slice(&out).expect("json");
            let whole = stored.into_finding().expect("decode");
            assert_eq!(written, serde_json::to_value(&whole).expect("encode"));
            assert!(whole == with_all || whole == bare);
        }
    }

    #[test]
    fn a_damaged_evidence_column_fails_instead_of_writing_broken_json() {
        let f = Finding::new(Engine::Infra, "scanning", "k", "t");
        let mut store = Store::open_in_memory().expect("store");
        store.put_findings(None, &[f]).expect("put");
        let mut stored = store.stored_findings(&FindingFilter::default()).expect("read").remove(0);
        stored.evidence_json = "[{\"kind\": ".into();
        assert!(write_stored(&mut Vec::new(), &stored).is_err());
    }
}
