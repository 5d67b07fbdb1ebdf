//! The key archive: the `selector._domainkey.domain` TXT records a verifier needs, with
//! the dates each was seen published, so that mail is verified years after its keys
//! were rotated out of the DNS.
//!
//! Two layouts are read: CSV with the header `name,record,first_seen,last_seen`, and
//! JSON (an array of objects with those fields). Dates are ISO 8601 (`2014-01-14`,
//! `2014-01-14T11:29:55Z`) or empty when unknown; a day is taken as the whole day (a
//! first sighting from its start, a last one to its end).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use pkcs1::der::Decode;
use serde::{Deserialize, Serialize};

/// The CSV header of a key archive.
pub const KEY_ARCHIVE_HEADER: [&str; 4] = ["name", "record", "first_seen", "last_seen"];

/// The smallest RSA key accepted (RFC 8301: verifiers must not accept keys under 1024 bits).
pub const MIN_RSA_BITS: usize = 1024;
/// The largest RSA key accepted; a longer one is refused instead of costing a verifier
/// seconds per signature.
pub const MAX_RSA_BITS: usize = 8192;

/// One archived TXT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// `selector._domainkey.domain`, lower case, without a final dot.
    pub name: String,
    /// The TXT value, its strings joined.
    pub record: String,
    /// When the record was first seen published, if known.
    #[serde(default, with = "opt_date")]
    pub first_seen: Option<DateTime<Utc>>,
    /// When it was last seen published, if known.
    #[serde(default, with = "opt_date")]
    pub last_seen: Option<DateTime<Utc>>,
}

/// Why an archive could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyArchiveError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The archive.
        path: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A CSV archive without the expected header.
    #[error("{path}: the header must be `name,record,first_seen,last_seen`, found `{found}`")]
    Header {
        /// The archive.
        path: String,
        /// The header found.
        found: String,
    },
    /// A row or object that cannot be read.
    #[error("{path}:{line}: {field}: {reason}")]
    Record {
        /// The archive.
        path: String,
        /// The CSV line (or the JSON array index, from 1).
        line: u64,
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A JSON archive that is not an array of records.
    #[error("{path}: {source}")]
    Json {
        /// The archive.
        path: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}

/// Parses an ISO 8601 date or date-time; `end_of_day` places a bare date at its last second.
pub fn parse_seen(s: &str, end_of_day: bool) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(Some(t.and_utc()));
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => {
            let time = if end_of_day { NaiveTime::from_hms_opt(23, 59, 59) } else { Some(NaiveTime::MIN) };
            Ok(time.map(|t| d.and_time(t).and_utc()))
        }
        Err(_) => Err(format!("'{}' is not an ISO 8601 date", scrutineer_core::text::echo_str(s))),
    }
}

mod opt_date {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        // The JSON form takes the same dates as the CSV one; a bare last day is not known
        // to be a last sighting here, so both ends read a date as its start.
        super::parse_seen(s.as_deref().unwrap_or(""), false).map_err(serde::de::Error::custom)
    }
}

/// Normalises a record name: lower case, no final dot, surrounding space removed.
pub fn normalise_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The archived records, by name.
#[derive(Debug, Clone, Default)]
pub struct KeyArchive {
    by_name: HashMap<String, Vec<KeyRecord>>,
    /// Each record's parsed key, beside `by_name`'s records in the same order, parsed at
    /// its first use and kept: a dump signs thousands of messages with one key.
    parsed: HashMap<String, Vec<OnceLock<Result<KeyState, String>>>>,
    len: usize,
}

impl KeyArchive {
    /// An empty archive.
    pub fn new() -> KeyArchive {
        KeyArchive::default()
    }

    /// Reads a CSV or JSON archive (JSON when its first non-blank byte is `[`).
    pub fn read(path: &Path) -> Result<KeyArchive, KeyArchiveError> {
        let name = path.display().to_string();
        let io_err = |source| KeyArchiveError::Io { path: name.clone(), source };
        let mut reader = io::BufReader::new(File::open(path).map_err(io_err)?);
        let is_json = loop {
            let buf = reader.fill_buf().map_err(io_err)?;
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => break buf[i] == b'[',
                None if buf.is_empty() => break false,
                None => {
                    let n = buf.len();
                    reader.consume(n);
                }
            }
        };
        let mut archive = KeyArchive::new();
        if is_json {
            archive.read_json(&name, reader)?;
        } else {
            archive.read_csv(&name, reader)?;
        }
        Ok(archive)
    }

    fn read_json(&mut self, path: &str, reader: impl Read) -> Result<(), KeyArchiveError> {
        let records: Vec<KeyRecord> = serde_json::from_reader(reader)
            .map_err(|source| KeyArchiveError::Json { path: path.to_owned(), source })?;
        for (i, mut r) in records.into_iter().enumerate() {
            r.name = normalise_name(&r.name);
            check_name(&r.name).map_err(|reason| KeyArchiveError::Record {
                path: path.to_owned(),
                line: i as u64 + 1,
                field: "name",
                reason,
            })?;
            self.insert(r);
        }
        Ok(())
    }

    fn read_csv(&mut self, path: &str, reader: impl Read) -> Result<(), KeyArchiveError> {
        let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
        let header = csv.headers().map_err(|e| csv_error(path, 1, e))?.clone();
        if header.iter().map(str::trim).ne(KEY_ARCHIVE_HEADER) {
            return Err(KeyArchiveError::Header {
                path: path.to_owned(),
                found: scrutineer_core::text::echo_str(&header.iter().collect::<Vec<_>>().join(",")),
            });
        }
        for row in csv.records() {
            let row = row.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                csv_error(path, line, e)
            })?;
            let line = row.position().map(|p| p.line()).unwrap_or(0);
            let bad = |field, reason| KeyArchiveError::Record { path: path.to_owned(), line, field, reason };
            let name = normalise_name(&row[0]);
            check_name(&name).map_err(|r| bad("name", r))?;
            let first_seen = parse_seen(&row[2], false).map_err(|r| bad("first_seen", r))?;
            let last_seen = parse_seen(&row[3], true).map_err(|r| bad("last_seen", r))?;
            if let (Some(a), Some(b)) = (first_seen, last_seen)
                && b < a
            {
                return Err(bad("last_seen", "last seen before it was first seen".into()));
            }
            self.insert(KeyRecord { name, record: row[1].to_owned(), first_seen, last_seen });
        }
        Ok(())
    }

    /// Adds a record.
    pub fn insert(&mut self, record: KeyRecord) {
        self.len += 1;
        self.parsed.entry(record.name.clone()).or_default().push(OnceLock::new());
        self.by_name.entry(record.name.clone()).or_default().push(record);
    }

    /// The records of `selector._domainkey.domain`, each with its parsed key (parsed
    /// once, whatever the number of signatures that name it).
    pub(crate) fn lookup_parsed<'a>(
        &'a self,
        selector: &str,
        domain: &str,
    ) -> impl Iterator<Item = (&'a KeyRecord, &'a Result<KeyState, String>)> + 'a {
        let name = normalise_name(&format!("{selector}._domainkey.{domain}"));
        let records = self.by_name.get(&name).map(Vec::as_slice).unwrap_or(&[]);
        let parsed = self.parsed.get(&name).map(Vec::as_slice).unwrap_or(&[]);
        records.iter().zip(parsed).map(|(r, p)| (r, p.get_or_init(|| parse_key_record(&r.record))))
    }

    /// The records of `selector._domainkey.domain`.
    pub fn lookup(&self, selector: &str, domain: &str) -> &[KeyRecord] {
        let name = normalise_name(&format!("{selector}._domainkey.{domain}"));
        self.by_name.get(&name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How many records the archive holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn csv_error(path: &str, line: u64, e: csv::Error) -> KeyArchiveError {
    KeyArchiveError::Record { path: path.to_owned(), line, field: "row", reason: e.to_string() }
}

/// A record name must be `selector._domainkey.domain`.
pub fn check_name(name: &str) -> Result<(), String> {
    match name.split_once("._domainkey.") {
        Some((sel, dom)) if !sel.is_empty() && !dom.is_empty() => Ok(()),
        _ => Err(format!(
            "'{}' is not a DKIM key name (selector._domainkey.domain)",
            scrutineer_core::text::echo_str(name)
        )),
    }
}

/// Appends one record to a CSV archive, creating it (with its header) when missing.
pub fn append_key_csv(path: &Path, record: &KeyRecord) -> Result<(), KeyArchiveError> {
    let name = path.display().to_string();
    let io_err = |source| KeyArchiveError::Io { path: name.clone(), source };
    check_name(&record.name).map_err(|reason| KeyArchiveError::Record {
        path: name.clone(),
        line: 0,
        field: "name",
        reason,
    })?;
    let fresh = std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true);
    let mut file = OpenOptions::new().create(true).append(true).open(path).map_err(io_err)?;
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let date = |d: &Option<DateTime<Utc>>| {
        d.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
    };
    let io_csv = |e: csv::Error| KeyArchiveError::Io { path: name.clone(), source: io::Error::other(e) };
    if fresh {
        w.write_record(KEY_ARCHIVE_HEADER).map_err(io_csv)?;
    }
    w.write_record([
        record.name.as_str(),
        record.record.as_str(),
        &date(&record.first_seen),
        &date(&record.last_seen),
    ])
    .map_err(io_csv)?;
    let bytes =
        w.into_inner().map_err(|e| KeyArchiveError::Io { path: name.clone(), source: e.into_error() })?;
    file.write_all(&bytes).map_err(io_err)
}

/// Reads the DKIM key records of a DNS zone dump: BIND master-file lines
/// (`name [ttl] [class] TXT "string" "string"`, parenthesised continuations, `;`
/// comments, `$ORIGIN`, `@`) or plain `name value` lines as published key lists have them.
/// Names without a final dot are relative to the origin (`origin`, then `$ORIGIN`); only
/// `selector._domainkey.domain` records are returned, as `(name, joined strings)`, with
/// the line each started on for errors.
pub fn parse_zone(text: &str, origin: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let mut origin = origin.map(normalise_name);
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut start_line = 0;
    let mut first_raw = "";
    let mut depth = 0i32;
    for (i, raw) in text.lines().enumerate() {
        let line = strip_zone_comment(raw);
        if pending.is_empty() {
            start_line = i + 1;
            first_raw = raw;
        }
        depth += line.matches('(').count() as i32 - line.matches(')').count() as i32;
        pending.push(' ');
        pending.push_str(&line.replace(['(', ')'], " "));
        if depth > 0 {
            continue;
        }
        let record = std::mem::take(&mut pending);
        depth = 0;
        let tokens = zone_tokens(&record).map_err(|e| format!("line {start_line}: {e}"))?;
        let Some((first, rest)) = tokens.split_first() else { continue };
        if first.0.eq_ignore_ascii_case("$ORIGIN") {
            origin = rest.first().map(|t| normalise_name(&t.0));
            continue;
        }
        if first.0.starts_with('$') || first_raw.starts_with([' ', '\t']) {
            continue;
        }
        let name = if first.0 == "@" {
            origin.clone().unwrap_or_default()
        } else if first.0.ends_with('.') || origin.is_none() {
            normalise_name(&first.0)
        } else {
            normalise_name(&format!("{}.{}", first.0, origin.as_deref().unwrap_or("")))
        };
        let mut rest = rest;
        while let Some((t, r)) = rest.split_first() {
            if !t.1
                && (t.0.bytes().all(|b| b.is_ascii_digit())
                    || ["IN", "CH", "HS"].iter().any(|c| t.0.eq_ignore_ascii_case(c)))
            {
                rest = r;
            } else {
                break;
            }
        }
        let value = match rest.split_first() {
            Some((t, r)) if !t.1 && t.0.eq_ignore_ascii_case("TXT") => {
                r.iter().map(|t| t.0.as_str()).collect::<String>()
            }
            Some((t, _))
                if !t.1
                    && ["A", "AAAA", "MX", "NS", "CNAME", "SOA", "SRV", "PTR", "CAA"]
                        .iter()
                        .any(|k| t.0.eq_ignore_ascii_case(k)) =>
            {
                continue;
            }
            // `name value`: the rest of the line as it is.
            Some(_) => {
                let after = first_raw.trim_start();
                after[after.find(char::is_whitespace).unwrap_or(after.len())..].trim().to_owned()
            }
            None => continue,
        };
        if check_name(&name).is_ok() {
            out.push((name, value));
        }
    }
    if depth > 0 {
        return Err(format!("line {start_line}: unclosed parenthesis"));
    }
    Ok(out)
}

fn strip_zone_comment(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quoted = false;
    let mut escaped = false;
    for c in line.chars() {
        if !escaped && c == '"' {
            quoted = !quoted;
        }
        if !quoted && c == ';' {
            break;
        }
        escaped = !escaped && c == '\\';
        out.push(c);
    }
    out
}

/// The tokens of a zone record, each with whether it was quoted.
fn zone_tokens(s: &str) -> Result<Vec<(String, bool)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut t = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => t.extend(chars.next()),
                    Some(c) => t.push(c),
                    None => return Err("unclosed quote".into()),
                }
            }
            out.push((t, true));
        } else {
            let mut t = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                t.push(c);
                chars.next();
            }
            out.push((t, false));
        }
    }
    Ok(out)
}

/// The algorithm of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// RSA (`k=rsa`, the default).
    Rsa,
    /// Ed25519 (`k=ed25519`, RFC 8463).
    Ed25519,
}

/// An RSA public key: its modulus and exponent, big-endian without leading zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
    bits: usize,
}

impl RsaKey {
    /// The modulus's size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Whether `signature` is this key's PKCS#1 v1.5 signature over `message` (hashed
    /// with SHA-1 or SHA-256 here).
    pub(crate) fn verify(&self, sha1: bool, message: &[u8], signature: &[u8]) -> bool {
        use ring::signature as rs;
        let params: &rs::RsaParameters = if sha1 {
            &rs::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
        } else {
            &rs::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        };
        rs::RsaPublicKeyComponents { n: &self.n, e: &self.e }.verify(params, message, signature).is_ok()
    }
}

/// A usable public key.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// An RSA key.
    Rsa(RsaKey),
    /// An Ed25519 key.
    Ed25519(Box<ed25519_dalek::VerifyingKey>),
}

/// What a TXT record says, once parsed.
#[derive(Debug, Clone)]
pub enum KeyState {
    /// A key to verify with; `hashes` is the record's `h=` (empty: any), `testing` its `t=y`.
    Key {
        /// The key.
        key: PublicKey,
        /// The hash algorithms the record allows (`h=`), empty for any.
        hashes: Vec<String>,
        /// The domain is testing DKIM (`t=y`).
        testing: bool,
        /// `t=s`: the `i=` domain must equal `d=`.
        strict: bool,
    },
    /// `p=` is empty: the key was revoked.
    Revoked,
}

/// Parses a DKIM key record (RFC 6376 section 3.6.1; Ed25519 from RFC 8463).
pub fn parse_key_record(record: &str) -> Result<KeyState, String> {
    let tags = crate::dkim::parse_tag_list(record)?;
    let get = |n: &str| tags.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    if let Some(v) = get("v")
        && v != "DKIM1"
    {
        return Err(format!("v={} is not DKIM1", scrutineer_core::text::echo_str(v)));
    }
    let key_type = match get("k").unwrap_or("rsa") {
        "rsa" => KeyType::Rsa,
        "ed25519" => KeyType::Ed25519,
        other => return Err(format!("unknown key type k={}", scrutineer_core::text::echo_str(other))),
    };
    if let Some(s) = get("s")
        && !s.split(':').any(|t| matches!(t.trim(), "*" | "email"))
    {
        return Err(format!("service type s={} excludes e-mail", scrutineer_core::text::echo_str(s)));
    }
    let p: String = get("p").ok_or("no p= tag")?.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if p.is_empty() {
        return Ok(KeyState::Revoked);
    }
    let der =
        base64::engine::general_purpose::STANDARD.decode(&p).map_err(|e| format!("p= is not base64: {e}"))?;
    let key = match key_type {
        KeyType::Rsa => rsa_key(&der)?,
        KeyType::Ed25519 => {
            let bytes: [u8; 32] = der
                .as_slice()
                .try_into()
                .map_err(|_| format!("an Ed25519 key is 32 bytes, p= holds {}", der.len()))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|e| format!("bad Ed25519 key: {e}"))?;
            PublicKey::Ed25519(Box::new(key))
        }
    };
    let hashes = get("h").map(|h| h.split(':').map(|s| s.trim().to_owned()).collect()).unwrap_or_default();
    let flags: Vec<&str> = get("t").map(|t| t.split(':').map(str::trim).collect()).unwrap_or_default();
    Ok(KeyState::Key { key, hashes, testing: flags.contains(&"y"), strict: flags.contains(&"s") })
}

/// An RSA key from a SubjectPublicKeyInfo (what DKIM publishes) or a bare PKCS#1 key.
fn rsa_key(der: &[u8]) -> Result<PublicKey, String> {
    let pkcs1_der = match spki::SubjectPublicKeyInfoRef::from_der(der) {
        Ok(spki) => spki.subject_public_key.raw_bytes().to_vec(),
        Err(_) => der.to_vec(),
    };
    let k =
        pkcs1::RsaPublicKey::from_der(&pkcs1_der).map_err(|e| format!("p= is not an RSA public key: {e}"))?;
    let strip = |b: &[u8]| b[b.iter().position(|&x| x != 0).unwrap_or(b.len())..].to_vec();
    let n = strip(k.modulus.as_bytes());
    let e = strip(k.public_exponent.as_bytes());
    let bits = n.first().map(|top| n.len() * 8 - top.leading_zeros() as usize).unwrap_or(0);
    if bits < MIN_RSA_BITS {
        return Err(format!("RSA key of {bits} bits is shorter than {MIN_RSA_BITS} bits (RFC 8301)"));
    }
    if bits > MAX_RSA_BITS {
        return Err(format!("RSA key of {bits} bits is longer than {MAX_RSA_BITS} bits: refused"));
    }
    if n.last().is_some_and(|low| low & 1 == 0) {
        return Err("unusable RSA key: the modulus is even".into());
    }
    // The range every verifier takes (3 to 2^33 - 1, odd): a key outside it is not one
    // a signer could have used.
    let e_value =
        if e.len() <= 5 { e.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)) } else { u64::MAX };
    if !(3..1 << 33).contains(&e_value) || e_value & 1 == 0 {
        return Err(format!(
            "unusable RSA key: public exponent {} is not an odd number from 3 to 2^33-1",
            if e_value == u64::MAX { "of more than 40 bits".to_owned() } else { e_value.to_string() }
        ));
    }
    Ok(PublicKey::Rsa(RsaKey { n, e, bits }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_archive_reads_dates_and_refuses_bad_rows_by_line() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("keys.csv");
        std::fs::write(&p, "name,record,first_seen,last_seen\nS._domainkey.Example.org.,\"k=rsa; p=\",2012-01-13,2016-02-01\nt._domainkey.x.org,p=,,\n")
            .expect("write");
        let a = KeyArchive::read(&p).expect("read");
        assert_eq!(a.len(), 2);
        let r = &a.lookup("s", "EXAMPLE.org")[0];
        assert_eq!(r.first_seen.expect("first").to_rfc3339(), "2012-01-13T00:00:00+00:00");
        assert_eq!(r.last_seen.expect("last").to_rfc3339(), "2016-02-01T23:59:59+00:00");
        assert!(a.lookup("t", "x.org")[0].first_seen.is_none());

        std::fs::write(&p, "name,record,first_seen,last_seen\nx._domainkey.a.b,p=,yesterday,\n")
            .expect("write");
        let e = KeyArchive::read(&p).expect_err("an error").to_string();
        assert!(e.contains(":2: first_seen:"), "{e}");
        std::fs::write(&p, "name,value\n").expect("write");
        assert!(matches!(KeyArchive::read(&p), Err(KeyArchiveError::Header { .. })));
    }

    #[test]
    fn appended_records_read_back_from_csv_and_json_reads_the_same_fields() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("keys.csv");
        let rec = KeyRecord {
            name: "sel._domainkey.example.org".into(),
            record: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".into(),
            first_seen: parse_seen("2018-06-10", false).expect("date"),
            last_seen: None,
        };
        append_key_csv(&p, &rec).expect("append");
        append_key_csv(&p, &rec).expect("append");
        let a = KeyArchive::read(&p).expect("read");
        assert_eq!(a.lookup("sel", "example.org"), &[rec.clone(), rec.clone()]);
        let j = dir.path().join("keys.json");
        std::fs::write(&j, serde_json::to_string(&vec![rec.clone()]).expect("json")).expect("write");
        assert_eq!(KeyArchive::read(&j).expect("json").lookup("sel", "example.org"), &[rec]);
    }

    #[test]
    fn zone_dumps_give_their_dkim_records_with_strings_joined() {
        let zone = "$ORIGIN od.example.org.\n$TTL 3600\nod1._domainkey\tIN\tTXT\t( \"v=DKIM1; h=sha256; k=rsa; \"\n\t  \"p=MIIB\" \"IjAN\" )  ; ----- DKIM key od1\n@ IN A 192.0.2.1\ns2._domainkey.other.org. 300 IN TXT \"k=ed25519; p=11qY\\\"x\"\nwww IN TXT \"not a key\"\n";
        assert_eq!(
            parse_zone(zone, None).expect("zone"),
            [
                (
                    "od1._domainkey.od.example.org".to_owned(),
                    "v=DKIM1; h=sha256; k=rsa; p=MIIBIjAN".to_owned()
                ),
                ("s2._domainkey.other.org".to_owned(), "k=ed25519; p=11qY\"x".to_owned()),
            ]
        );
        let plain = "brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; p=11qY\n";
        assert_eq!(parse_zone(plain, None).expect("plain")[0].1, "v=DKIM1; k=ed25519; p=11qY");
        let relative = "sel._domainkey IN TXT \"p=\"\n";
        assert_eq!(
            parse_zone(relative, Some("Example.ORG.")).expect("origin")[0].0,
            "sel._domainkey.example.org"
        );
        assert!(
            parse_zone("x._domainkey.a.b IN TXT ( \"p=\"\n", None).expect_err("open").contains("unclosed")
        );
    }

    #[test]
    fn key_records_parse_revoked_short_and_absurd_keys_by_name() {
        assert!(matches!(parse_key_record("v=DKIM1; p="), Ok(KeyState::Revoked)));
        assert!(matches!(
            parse_key_record("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
            Ok(KeyState::Key { key: PublicKey::Ed25519(_), .. })
        ));
        assert!(parse_key_record("v=DKIM2; p=AAAA").expect_err("an error").contains("DKIM1"));
        assert!(parse_key_record("k=dsa; p=AAAA").expect_err("an error").contains("unknown key type"));
        assert!(parse_key_record("p=!!!").expect_err("an error").contains("base64"));
        // A 16384-bit modulus in a PKCS#1 structure: refused by size, not tried.
        let mut n = vec![0xffu8; 2048];
        n[0] = 0xc0;
        let der = der_rsa(&n, &[1, 0, 1]);
        let rec = format!("p={}", base64::engine::general_purpose::STANDARD.encode(der));
        let err = parse_key_record(&rec).expect_err("an error");
        assert!(err.contains("16384 bits is longer"), "{err}");
    }

    /// A DER RSAPublicKey (PKCS#1) for modulus `n` and exponent `e`.
    fn der_rsa(n: &[u8], e: &[u8]) -> Vec<u8> {
        fn len(l: usize) -> Vec<u8> {
            if l < 128 { vec![l as u8] } else { vec![0x82, (l >> 8) as u8, l as u8] }
        }
        let int = |v: &[u8]| {
            let mut body = if v[0] & 0x80 != 0 { vec![0u8] } else { Vec::new() };
            body.extend_from_slice(v);
            let mut out = vec![0x02];
            out.extend(len(body.len()));
            out.extend(body);
            out
        };
        let mut body = int(n);
        body.extend(int(e));
        let mut out = vec![0x30];
        out.extend(len(body.len()));
        out.extend(body);
        out
    }
}
