//! STIX 2.1 import and export of Scrutineer findings.
//!
//! Export turns findings into a bundle an ISAC or a partner office can load: the
//! reporting office as an `identity`, every ATT&CK/DISARM technique as an
//! `attack-pattern` with its external reference, every observable a finding carries
//! (evidence of kind `observable` with `{"type": "ipv4-addr", "value": ...}`) as an
//! `indicator` with a STIX pattern, a `sighting` of it by the office, `indicates`
//! relationships to the techniques, campaigns as `campaign` objects, and a `report`
//! that lists everything. Ids are derived from the finding ids (UUIDv5-shaped), so
//! re-exporting the same findings gives the same objects.
//!
//! Import reads `indicator` objects and pulls the observables out of simple patterns
//! (`[ipv4-addr:value = '198.51.100.7']`, joined with OR/AND).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use scrutineer_core::{Finding, Technique};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a STIX bundle: {0}")]
    NotBundle(&'static str),
}

/// Who is sharing.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub identity_name: String,
    /// STIX identity class: `organization` for an office.
    pub identity_class: String,
    pub created: DateTime<Utc>,
}

impl ExportOptions {
    pub fn new(identity_name: &str) -> ExportOptions {
        ExportOptions {
            identity_name: identity_name.to_owned(),
            identity_class: "organization".to_owned(),
            created: Utc::now(),
        }
    }
}

/// A deterministic RFC 4122 UUID (version 5 layout) from a name, via SHA-256.
pub fn stix_id(kind: &str, name: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"scrutineer-stix/");
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!("{kind}--{}-{}-{}-{}-{}", &x[0..8], &x[8..12], &x[12..16], &x[16..20], &x[20..32])
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn pattern_escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\'', "\\'")
}

fn technique_url(t: &Technique) -> Option<String> {
    match t.framework {
        scrutineer_core::Framework::MitreAttack => {
            Some(format!("https://attack.mitre.org/techniques/{}/", t.id.replace('.', "/")))
        }
        scrutineer_core::Framework::Disarm => None,
    }
}

/// The observables a finding carries: `(STIX type, value, sighting count)`.
fn observables(f: &Finding) -> Vec<(String, String, u64)> {
    f.evidence
        .iter()
        .filter(|e| e.kind == "observable")
        .filter_map(|e| {
            let t = e.data.get("type")?.as_str()?;
            let v = e.data.get("value")?.as_str()?;
            let n = e.data.get("sighting_count").and_then(Value::as_u64).unwrap_or(1).max(1);
            Some((t.to_owned(), v.to_owned(), n))
        })
        .collect()
}

fn pattern_for(t: &str, v: &str) -> Option<String> {
    let v = pattern_escape(v);
    Some(match t {
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" => format!("[{t}:value = '{v}']"),
        "user-agent" => {
            format!("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = '{v}']")
        }
        _ => return None,
    })
}

/// Builds a STIX 2.1 bundle from findings.
pub fn export_bundle(findings: &[Finding], opts: &ExportOptions) -> Value {
    let created = ts(opts.created);
    let identity_id = stix_id("identity", &opts.identity_name);
    let mut objects: Vec<Value> = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": created,
        "modified": created,
        "name": opts.identity_name,
        "identity_class": opts.identity_class,
        "sectors": ["government-national", "government-local"],
    })];
    let mut patterns: BTreeMap<String, String> = BTreeMap::new();
    let techniques: BTreeSet<&Technique> = findings.iter().flat_map(|f| f.techniques.iter()).collect();
    for t in techniques {
        let id = stix_id("attack-pattern", &format!("{}:{}", t.framework.as_str(), t.id));
        let mut ext = json!({"source_name": t.framework.stix_source_name(), "external_id": t.id});
        if let Some(url) = technique_url(t) {
            ext["url"] = json!(url);
        }
        objects.push(json!({
            "type": "attack-pattern",
            "spec_version": "2.1",
            "id": id,
            "created": created,
            "modified": created,
            "created_by_ref": identity_id,
            "name": if t.name.is_empty() { t.id.clone() } else { t.name.clone() },
            "external_references": [ext],
        }));
        patterns.insert(format!("{}:{}", t.framework.as_str(), t.id), id);
    }
    let mut indicator_ids: BTreeMap<(String, String), String> = BTreeMap::new();
    for f in findings {
        let first = f.time_span.map(|s| s.start).unwrap_or(opts.created);
        let last = f.time_span.map(|s| s.end).unwrap_or(opts.created);
        let tech_ids: Vec<&String> = f
            .techniques
            .iter()
            .filter_map(|t| patterns.get(&format!("{}:{}", t.framework.as_str(), t.id)))
            .collect();
        let mut campaign_id = None;
        if f.kind == "campaign" {
            let id = stix_id("campaign", &f.id.0);
            objects.push(json!({
                "type": "campaign",
                "spec_version": "2.1",
                "id": id,
                "created": created,
                "modified": created,
                "created_by_ref": identity_id,
                "name": f.title,
                "description": f.summary,
                "first_seen": ts(first),
                "last_seen": ts(last),
                "confidence": (f.confidence * 100.0).round() as u8,
            }));
            for tid in &tech_ids {
                objects.push(relationship(&id, "uses", tid, &identity_id, &created));
            }
            campaign_id = Some(id);
        }
        for (t, v, count) in observables(f) {
            let Some(pattern) = pattern_for(&t, &v) else { continue };
            let key = (t.clone(), v.clone());
            let ind_id = match indicator_ids.get(&key) {
                Some(id) => id.clone(),
                None => {
                    let id = stix_id("indicator", &format!("{t}:{v}"));
                    objects.push(json!({
                        "type": "indicator",
                        "spec_version": "2.1",
                        "id": id,
                        "created": created,
                        "modified": created,
                        "created_by_ref": identity_id,
                        "name": format!("{t} {v}"),
                        "description": f.title,
                        "indicator_types": ["malicious-activity"],
                        "pattern": pattern,
                        "pattern_type": "stix",
                        "pattern_version": "2.1",
                        "valid_from": ts(first),
                        "confidence": (f.confidence * 100.0).round() as u8,
                        "labels": [f.kind.clone(), f.severity.as_str().to_owned()],
                    }));
                    indicator_ids.insert(key, id.clone());
                    id
                }
            };
            if f.kind != "campaign" {
                let sid = stix_id("sighting", &format!("{}:{t}:{v}", f.id.0));
                objects.push(json!({
                    "type": "sighting",
                    "spec_version": "2.1",
                    "id": sid,
                    "created": created,
                    "modified": created,
                    "created_by_ref": identity_id,
                    "sighting_of_ref": ind_id,
                    "where_sighted_refs": [identity_id],
                    "first_seen": ts(first),
                    "last_seen": ts(last),
                    "count": count.min(999_999_999),
                    "description": format!("{} ({})", f.title, f.scope.as_deref().unwrap_or("")),
                }));
                for tid in &tech_ids {
                    let rid = stix_id("relationship", &format!("{ind_id}>{tid}"));
                    if !objects.iter().any(|o| o.get("id").and_then(Value::as_str) == Some(rid.as_str())) {
                        objects.push(relationship_with_id(
                            &rid,
                            &ind_id,
                            "indicates",
                            tid,
                            &identity_id,
                            &created,
                        ));
                    }
                }
            }
            if let Some(cid) = &campaign_id {
                objects.push(relationship(&ind_id, "indicates", cid, &identity_id, &created));
            }
        }
    }
    let refs: Vec<Value> = objects.iter().filter_map(|o| o.get("id").cloned()).collect();
    let report_id = stix_id("report", &format!("{}:{}", opts.identity_name, created));
    objects.push(json!({
        "type": "report",
        "spec_version": "2.1",
        "id": report_id,
        "created": created,
        "modified": created,
        "created_by_ref": identity_id,
        "name": format!("Scrutineer infrastructure findings from {}", opts.identity_name),
        "description": format!("{} findings: attacks, scanning, brute force, indicator sightings and campaigns against election systems.", findings.len()),
        "report_types": ["threat-report", "attack-pattern", "indicator"],
        "published": created,
        "object_refs": refs,
    }));
    json!({
        "type": "bundle",
        "id": stix_id("bundle", &format!("{}:{}:{}", opts.identity_name, created, findings.len())),
        "objects": objects,
    })
}

fn relationship(src: &str, kind: &str, dst: &str, identity: &str, created: &str) -> Value {
    let id = stix_id("relationship", &format!("{src}>{kind}>{dst}"));
    relationship_with_id(&id, src, kind, dst, identity, created)
}

fn relationship_with_id(id: &str, src: &str, kind: &str, dst: &str, identity: &str, created: &str) -> Value {
    json!({
        "type": "relationship",
        "spec_version": "2.1",
        "id": id,
        "created": created,
        "modified": created,
        "created_by_ref": identity,
        "relationship_type": kind,
        "source_ref": src,
        "target_ref": dst,
    })
}

/// An indicator read from a bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedIndicator {
    pub id: String,
    pub name: Option<String>,
    pub pattern: String,
    /// `(STIX type, value)` pairs found in the pattern.
    pub observables: Vec<(String, String)>,
    pub valid_from: Option<String>,
}

/// Reads the indicators of a STIX 2.1 bundle (or of a bare list of objects).
pub fn import_bundle(text: &str) -> Result<Vec<ImportedIndicator>, ShareError> {
    let v: Value = serde_json::from_str(text)?;
    let objects = match &v {
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("bundle") => m
            .get("objects")
            .and_then(Value::as_array)
            .ok_or(ShareError::NotBundle("bundle without 'objects'"))?,
        Value::Array(a) => a,
        _ => return Err(ShareError::NotBundle("expected an object with \"type\": \"bundle\"")),
    };
    let mut out = Vec::new();
    for o in objects {
        if o.get("type").and_then(Value::as_str) != Some("indicator") {
            continue;
        }
        let Some(pattern) = o.get("pattern").and_then(Value::as_str) else { continue };
        if o.get("pattern_type").and_then(Value::as_str).is_some_and(|t| t != "stix") {
            continue;
        }
        out.push(ImportedIndicator {
            id: o.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
            name: o.get("name").and_then(Value::as_str).map(str::to_owned),
            pattern: pattern.to_owned(),
            observables: parse_pattern(pattern),
            valid_from: o.get("valid_from").and_then(Value::as_str).map(str::to_owned),
        });
    }
    Ok(out)
}

/// Pulls `type:value = 'x'` comparisons out of a STIX pattern. Comparisons on other
/// properties, and operators other than `=`, are not observables and are skipped.
pub fn parse_pattern(p: &str) -> Vec<(String, String)> {
    pattern_comparisons(p)
        .into_iter()
        .filter(|c| c.property == "value")
        .map(|c| {
            let kind = match c.object_type.as_str() {
                "ipv4-addr" if c.value.contains('/') => "ipv4-net".to_owned(),
                "ipv6-addr" if c.value.contains('/') => "ipv6-net".to_owned(),
                _ => c.object_type,
            };
            (kind, c.value)
        })
        .collect()
}

/// One `object-type:property = 'value'` comparison of a STIX pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternComparison {
    /// The cyber-observable type (`file`, `ipv4-addr`, ...).
    pub object_type: String,
    /// The property path as written (`value`, `name`, `hashes.'SHA-256'`,
    /// `parent_directory_ref.path`).
    pub property: String,
    /// The compared value, unescaped.
    pub value: String,
}

/// Every equality comparison with a quoted string in a STIX pattern, in pattern order:
/// `[file:hashes.'SHA-256' = '...' OR file:name = 'x.exe']` gives two. Other operators
/// (`!=`, `LIKE`, `MATCHES`, `IN`) and unterminated strings are skipped.
pub fn pattern_comparisons(p: &str) -> Vec<PatternComparison> {
    let mut out = Vec::new();
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let Some(rel) = p[i..].find(':') else { break };
        let at = i + rel;
        let start =
            p[..at].rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).map(|s| s + 1).unwrap_or(0);
        let object_type = &p[start..at];
        // The property path: names, dots and quoted keys (`hashes.'SHA-256'`).
        let mut j = at + 1;
        while j < b.len() {
            match b[j] {
                b'\'' => match p[j + 1..].find('\'') {
                    Some(close) => j += close + 2,
                    None => break,
                },
                c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' => j += 1,
                _ => break,
            }
        }
        let property = &p[at + 1..j];
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if object_type.is_empty()
            || property.is_empty()
            || b.get(j) != Some(&b'=')
            || b.get(j + 1) == Some(&b'=')
        {
            i = at + 1;
            continue;
        }
        j += 1;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if b.get(j) != Some(&b'\'') {
            i = at + 1;
            continue;
        }
        let mut v = String::new();
        let mut k = j + 1;
        let mut closed = false;
        while k < b.len() {
            match b[k] {
                b'\\' if k + 1 < b.len() => {
                    let ch = p[k + 1..].chars().next().unwrap_or(' ');
                    v.push(ch);
                    k += 1 + ch.len_utf8();
                }
                b'\'' => {
                    closed = true;
                    break;
                }
                _ => {
                    let ch = p[k..].chars().next().unwrap_or(' ');
                    v.push(ch);
                    k += ch.len_utf8();
                }
            }
        }
        if !closed {
            break;
        }
        out.push(PatternComparison {
            object_type: object_type.to_owned(),
            property: property.to_owned(),
            value: v,
        });
        i = k + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_core::{Engine, Evidence, Severity};

    fn finding() -> Finding {
        Finding::new(Engine::Infra, "web_attack", "203.0.113.9", "203.0.113.9 sent 3 attack requests")
            .severity(Severity::High)
            .confidence(0.9)
            .scope("cook")
            .evidence(Evidence::new(
                "observable",
                "source",
                json!({"type": "ipv4-addr", "value": "203.0.113.9", "sighting_count": 3}),
            ))
            .technique(Technique::attack("T1190"))
            .technique(Technique::attack("T1110.001"))
    }

    #[test]
    fn export_has_identity_patterns_indicators_sightings() {
        let b = export_bundle(&[finding()], &ExportOptions::new("Cook County Clerk"));
        assert_eq!(b["type"], "bundle");
        let objs = b["objects"].as_array().expect("objects");
        let of = |t: &str| objs.iter().filter(|o| o["type"] == t).collect::<Vec<_>>();
        assert_eq!(of("identity").len(), 1);
        assert_eq!(of("attack-pattern").len(), 2);
        let ap = of("attack-pattern");
        assert!(
            ap.iter()
                .any(|o| o["external_references"][0]["url"]
                    == "https://attack.mitre.org/techniques/T1110/001/")
        );
        let ind = of("indicator");
        assert_eq!(ind.len(), 1);
        assert_eq!(ind[0]["pattern"], "[ipv4-addr:value = '203.0.113.9']");
        let s = of("sighting");
        assert_eq!(s[0]["count"], 3);
        assert_eq!(s[0]["sighting_of_ref"], ind[0]["id"]);
        assert_eq!(of("relationship").len(), 2);
        // Every id is type--uuid with a version-5 layout.
        for o in objs {
            let id = o["id"].as_str().expect("id");
            let (t, uuid) = id.split_once("--").expect("sep");
            assert_eq!(t, o["type"].as_str().expect("type"));
            assert_eq!(uuid.len(), 36);
            assert_eq!(&uuid[14..15], "5");
        }
    }

    #[test]
    fn import_reads_back_what_export_wrote() {
        let b = export_bundle(&[finding()], &ExportOptions::new("Cook"));
        let got = import_bundle(&b.to_string()).expect("import");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].observables, vec![("ipv4-addr".to_owned(), "203.0.113.9".to_owned())]);
        assert!(import_bundle("{\"type\": \"x\"}").is_err());
        assert!(import_bundle("not json").is_err());
    }

    #[test]
    fn patterns_with_or_escapes_and_networks() {
        let p = "[ipv4-addr:value = '10.0.0.0/8' OR domain-name:value = 'evil.example'] AND [url:value = 'http://x/it\\'s']";
        assert_eq!(
            parse_pattern(p),
            vec![
                ("ipv4-net".to_owned(), "10.0.0.0/8".to_owned()),
                ("domain-name".to_owned(), "evil.example".to_owned()),
                ("url".to_owned(), "http://x/it's".to_owned()),
            ]
        );
        assert!(parse_pattern("[file:hashes.MD5 = 'abc']").is_empty());
        assert!(parse_pattern("[ipv4-addr:value = 'unterminated").is_empty());
    }

    #[test]
    fn file_comparisons_with_quoted_hash_keys() {
        let p = "[file:hashes.'SHA-256' = 'AB12' OR file:hashes.MD5 = 'cd34'] AND [file:name = 'a.exe' AND file:size != '3']";
        let got: Vec<(String, String, String)> =
            pattern_comparisons(p).into_iter().map(|c| (c.object_type, c.property, c.value)).collect();
        let want =
            [("file", "hashes.'SHA-256'", "AB12"), ("file", "hashes.MD5", "cd34"), ("file", "name", "a.exe")];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str()), w);
        }
    }
}
