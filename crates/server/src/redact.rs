//! Voter-identifying fields (names, addresses, birth dates, voter ids) taken out of
//! findings for callers who may not see them, before a finding reaches a page, an API
//! answer or an export.
//!
//! The engines put such fields in their evidence under well-known keys (`voter_id` in
//! the ballot engine's, say). Each value found under one is replaced by `[redacted]`,
//! and so is every other occurrence of the same value, as a whole word, in the
//! finding's title, summary, scope, evidence descriptions and string data (a ballot
//! finding's title reads `voter 1234567` when the envelope id is empty). Keys that
//! are voter fields only in engines that read voter files (`name`, `address`, which
//! in the infra engine is an IP address) count only for those engines.

use scrutineer_core::{Engine, Finding};
use serde_json::Value;

/// What replaces a voter-identifying value.
pub const REDACTED: &str = "[redacted]";

/// Keys that name a voter-identifying field in any engine's evidence.
const VOTER_KEYS: &[&str] = &[
    "voter_id",
    "voterid",
    "voter_number",
    "voter_reg_num",
    "voter_registration_number",
    "registration_number",
    "ncid",
    "sos_voterid",
    "voter_name",
    "first_name",
    "last_name",
    "middle_name",
    "full_name",
    "given_name",
    "family_name",
    "surname",
    "birth_date",
    "date_of_birth",
    "birthdate",
    "dob",
    "birth_year",
    "residence_address",
    "mailing_address",
    "street_address",
    "res_street_address",
    "mail_addr1",
];

/// Keys that are voter fields in the engines reading voter files only.
const VOTER_FILE_KEYS: &[&str] = &["name", "address", "street", "voter", "city_street"];

/// Engines whose inputs are voter files.
const VOTER_FILE_ENGINES: &[Engine] = &[Engine::Ballots, Engine::Audit];

fn normalise(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace(['-', ' ', '.'], "_")
}

fn is_voter_key(engine: Engine, key: &str) -> bool {
    let key = normalise(key);
    VOTER_KEYS.contains(&key.as_str())
        || (VOTER_FILE_ENGINES.contains(&engine) && VOTER_FILE_KEYS.contains(&key.as_str()))
}

/// Replaces the values under voter keys in `data`, collecting the text of each.
fn redact_data(engine: Engine, data: &mut Value, found: &mut Vec<String>) {
    match data {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if is_voter_key(engine, key) {
                    collect(value, found);
                    if !value.is_null() && *value != Value::String(String::new()) {
                        *value = Value::String(REDACTED.into());
                    }
                } else {
                    redact_data(engine, value, found);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_data(engine, v, found)),
        _ => {}
    }
}

fn collect(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) if s.trim().len() >= 2 => found.push(s.trim().to_owned()),
        Value::Number(n) => found.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, found)),
        Value::Object(map) => map.values().for_each(|v| collect(v, found)),
        _ => {}
    }
}

/// `text` with each whole-word occurrence of a value in `values` replaced.
fn scrub(text: &str, values: &[String]) -> String {
    let mut out = text.to_owned();
    for v in values {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        let mut before: Option<char> = None;
        while let Some(at) = rest.find(v.as_str()) {
            let prev = rest[..at].chars().next_back().or(before);
            let next = rest[at + v.len()..].chars().next();
            let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
            result.push_str(&rest[..at]);
            if boundary(prev) && boundary(next) {
                result.push_str(REDACTED);
            } else {
                result.push_str(v);
            }
            before = v.chars().next_back();
            rest = &rest[at + v.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

fn scrub_strings(data: &mut Value, values: &[String]) {
    match data {
        Value::String(s) => *s = scrub(s, values),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_strings(v, values)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub_strings(v, values)),
        _ => {}
    }
}

/// Takes the voter-identifying fields out of `finding` unless `may_see` holds its
/// engine. Returns whether anything was taken out.
pub fn redact_finding(finding: &mut Finding, may_see: &[Engine]) -> bool {
    if may_see.contains(&finding.engine) {
        return false;
    }
    let mut found = Vec::new();
    for e in &mut finding.evidence {
        redact_data(finding.engine, &mut e.data, &mut found);
    }
    if found.is_empty() {
        return false;
    }
    // Longest first, so that a value containing another is replaced whole.
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    finding.title = scrub(&finding.title, &found);
    finding.summary = scrub(&finding.summary, &found);
    if let Some(scope) = &finding.scope {
        finding.scope = Some(scrub(scope, &found));
    }
    for e in &mut finding.evidence {
        e.description = scrub(&e.description, &found);
        scrub_strings(&mut e.data, &found);
    }
    true
}

/// `text` with the voter values of `finding` (as it was before redaction) replaced: for
/// free text written about a finding, such as a triage note.
pub(crate) fn scrub_like(finding: &Finding, text: &str) -> String {
    let mut found = Vec::new();
    let mut evidence = finding.evidence.clone();
    for e in &mut evidence {
        redact_data(finding.engine, &mut e.data, &mut found);
    }
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    scrub(text, &found)
}

/// Whether evidence stored as `json` (a finding of `engine`) may hold a voter field:
/// `false` only when no key [`redact_finding`] looks for can be in it, so that the text
/// can be passed on without decoding it. Conservative: each key is looked for as a
/// substring of the whole text, folded as keys are compared (ASCII case, `-`, ` `, `.`
/// as `_`), and a text with any `\u` escape, which could spell a key, may hold one.
pub(crate) fn may_hold_voter_fields(engine: Engine, json: &str) -> bool {
    if json.contains("\\u") {
        return true;
    }
    let folded: Vec<u8> = json
        .bytes()
        .map(|b| match b.to_ascii_lowercase() {
            b'-' | b' ' | b'.' => b'_',
            b => b,
        })
        .collect();
    let holds = |key: &str| folded.windows(key.len()).any(|w| w == key.as_bytes());
    VOTER_KEYS.iter().any(|k| holds(k))
        || (VOTER_FILE_ENGINES.contains(&engine) && VOTER_FILE_KEYS.iter().any(|k| holds(k)))
}

/// [`redact_finding`] over a list.
pub fn redact_findings(findings: &mut [Finding], may_see: &[Engine]) {
    for f in findings {
        redact_finding(f, may_see);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_core::Evidence;
    use serde_json::json;

    fn ballot(voter: &str) -> Finding {
        Finding::new(Engine::Ballots, "duplicate_return", voter, format!("Duplicate return: voter {voter}"))
            .summary(format!("voter {voter} returned twice; voter {voter}9 once"))
            .evidence(Evidence::new(
                "envelope",
                format!("envelope E1 of voter {voter}"),
                json!({"envelope_id": "E1", "voter_id": voter, "rows": [{"Name": "Ada Byron", "n": 2}]}),
            ))
    }

    #[test]
    fn voter_ids_and_names_leave_every_field_but_other_words_stay() {
        let mut f = ballot("1234567");
        assert!(redact_finding(&mut f, &[]));
        let text = serde_json::to_string(&f).expect("json");
        assert!(!text.contains("1234567\"") && !text.contains("voter 1234567 "), "{text}");
        assert!(!text.contains("Ada Byron"), "{text}");
        assert_eq!(f.title, "Duplicate return: voter [redacted]");
        // A longer number that merely starts with the id is another word.
        assert_eq!(f.summary, "voter [redacted] returned twice; voter 12345679 once");
        assert_eq!(f.evidence[0].data["envelope_id"], "E1");
        assert_eq!(f.evidence[0].data["rows"][0]["n"], 2);
    }

    /// Evidence said to hold no voter field is left as it is by redaction, for every
    /// key spelling redaction reads, and evidence with one is always said to.
    #[test]
    fn evidence_without_voter_keys_is_recognised_and_with_them_never_missed() {
        let cases = [
            (Engine::Ballots, json!({"Voter-ID": "1234567"})),
            (Engine::Ballots, json!({"rows": [{" Name ": "Ada Byron"}]})),
            (Engine::Infra, json!({"DATE.OF.BIRTH": "1970-01-01"})),
            (Engine::Infra, json!({"address": "10.0.0.1", "hits": 3})),
            (Engine::Influence, json!({"accounts": ["a", "b"], "window": 60})),
            (Engine::Audit, json!({"nested": {"street": "Main St 1"}})),
        ];
        for (engine, data) in cases {
            let mut f = Finding::new(engine, "k", "1", "t 1234567 Ada Byron 1970-01-01 Main St 1")
                .evidence(Evidence::new("e", "d", data.clone()));
            let json = serde_json::to_string(&f.evidence).expect("json");
            let changed = redact_finding(&mut f, &[]);
            assert!(!changed || may_hold_voter_fields(engine, &json), "{engine:?} {data}");
        }
        let plain = serde_json::to_string(&[Evidence::new("e", "d", json!({"hits": 3}))]).expect("json");
        assert!(!may_hold_voter_fields(Engine::Infra, &plain));
        assert!(may_hold_voter_fields(Engine::Infra, "[{\"kind\":\"\\u0076oter_id\"}]"));
    }

    #[test]
    fn a_granted_engine_is_left_alone_and_ip_addresses_are_not_voter_fields() {
        let mut f = ballot("1234567");
        let before = f.clone();
        assert!(!redact_finding(&mut f, &[Engine::Ballots]));
        assert_eq!(f, before);
        let mut infra = Finding::new(Engine::Infra, "scanning", "k", "scan from 10.0.0.1")
            .evidence(Evidence::new("src", "from 10.0.0.1", json!({"address": "10.0.0.1", "name": "scan"})));
        let before = infra.clone();
        assert!(!redact_finding(&mut infra, &[]));
        assert_eq!(infra, before);
    }
}
