//! Live DNS, an explicit opt-in: the keys a dump's signatures name that the archive lacks,
//! looked up as today's TXT records. A key fetched today says nothing about when it was
//! published, so it enters the archive with `last_seen` the day of the lookup and
//! `first_seen` unknown, and the names fetched so are kept to mark the verdicts made with
//! them. The lookup is a trait, so that it can be tested without the network; the real
//! resolver (`DnsResolver`, hickory-resolver with the system's configuration) is behind
//! the `live-dns` feature.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::keys::{KeyArchive, KeyRecord, normalise_name, parse_key_record};

/// Looks up the TXT records of a name: each record's strings joined, `Ok` and empty when
/// the name has none (or does not exist), `Err` when the lookup itself failed.
pub trait TxtResolver {
    /// The TXT records of `name` (`selector._domainkey.domain`).
    fn txt(&self, name: &str) -> Result<Vec<String>, String>;
}

/// A resolver over a fixed table of names (tests, and replaying a capture).
#[derive(Debug, Default, Clone)]
pub struct StaticResolver {
    records: HashMap<String, Vec<String>>,
    failing: BTreeSet<String>,
}

impl StaticResolver {
    /// An empty table.
    pub fn new() -> StaticResolver {
        StaticResolver::default()
    }

    /// Adds a TXT record for `name`.
    pub fn with_record(mut self, name: &str, record: &str) -> StaticResolver {
        self.records.entry(normalise_name(name)).or_default().push(record.to_owned());
        self
    }

    /// Makes the lookup of `name` fail (a timeout, SERVFAIL).
    pub fn failing(mut self, name: &str) -> StaticResolver {
        self.failing.insert(normalise_name(name));
        self
    }
}

impl TxtResolver for StaticResolver {
    fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        let name = normalise_name(name);
        if self.failing.contains(&name) {
            return Err(format!("{name}: lookup failed"));
        }
        Ok(self.records.get(&name).cloned().unwrap_or_default())
    }
}

/// One TXT record's value from its character strings: RFC 6376 section 3.6.2.2 joins
/// them with nothing between (a 2048-bit key does not fit one 255-byte string). Bytes
/// that are not UTF-8 are replaced, and then fail as a key record.
pub fn join_txt_strings<'a>(strings: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut joined = Vec::new();
    for s in strings {
        joined.extend_from_slice(s);
    }
    String::from_utf8_lossy(&joined).into_owned()
}

/// The `(selector, domain)` pairs named by the DKIM-Signature, ARC-Message-Signature and
/// ARC-Seal fields of a raw message's header block, lower case, in order, without repeats.
pub fn signature_key_names(raw: &[u8]) -> Vec<(String, String)> {
    let end = memchr::memmem::find(raw, b"\r\n\r\n")
        .or_else(|| memchr::memmem::find(raw, b"\n\n"))
        .unwrap_or(raw.len());
    let header = String::from_utf8_lossy(&raw[..end]);
    // Unfold: a line starting with white space continues the field above.
    let mut fields: Vec<String> = Vec::new();
    for line in header.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.push_str(line);
            }
        } else {
            fields.push(line.to_owned());
        }
    }
    let mut out = Vec::new();
    for field in &fields {
        let Some((name, value)) = field.split_once(':') else { continue };
        let name = name.trim().to_ascii_lowercase();
        if !matches!(name.as_str(), "dkim-signature" | "arc-message-signature" | "arc-seal") {
            continue;
        }
        let (mut s, mut d) = (None, None);
        for tag in value.split(';') {
            let Some((k, v)) = tag.split_once('=') else { continue };
            let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            match k.trim() {
                "s" => s = Some(v.to_ascii_lowercase()),
                "d" => d = Some(v.to_ascii_lowercase()),
                _ => {}
            }
        }
        if let (Some(s), Some(d)) = (s, d)
            && !s.is_empty()
            && !d.is_empty()
            && !out.contains(&(s.clone(), d.clone()))
        {
            out.push((s, d));
        }
    }
    out
}

/// What the live lookups found (`summary.json`'s `live_dns`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveKeys {
    /// When the lookups were made.
    pub looked_up: Option<DateTime<Utc>>,
    /// Names looked up (those the archive lacked).
    pub queried: usize,
    /// Names with at least one DKIM key record, the records added to the archive.
    pub found: Vec<KeyRecord>,
    /// Names without a DKIM key record today.
    pub not_found: Vec<String>,
    /// Names whose lookup failed, with why.
    pub failed: Vec<(String, String)>,
}

impl LiveKeys {
    /// Whether `selector._domainkey.domain`'s records were fetched live.
    pub fn fetched(&self, selector: &str, domain: &str) -> bool {
        let name = format!("{selector}._domainkey.{domain}").to_ascii_lowercase();
        self.found.iter().any(|r| r.name == name)
    }
}

/// Looks up every named key that `archive` holds no record for and adds the DKIM key
/// records found (revoked ones included: an empty `p=` today is a fact), each with
/// `last_seen` = `now` and `first_seen` unknown. Records at the name that are no DKIM key
/// (an SPF string at a wildcard) are left out.
pub fn fetch_missing_keys(
    archive: &mut KeyArchive,
    names: impl IntoIterator<Item = (String, String)>,
    resolver: &dyn TxtResolver,
    now: DateTime<Utc>,
) -> LiveKeys {
    let mut live = LiveKeys { looked_up: Some(now), ..LiveKeys::default() };
    let mut done = BTreeSet::new();
    for (selector, domain) in names {
        if !archive.lookup(&selector, &domain).is_empty() {
            continue;
        }
        let name = normalise_name(&format!("{selector}._domainkey.{domain}"));
        if !done.insert(name.clone()) {
            continue;
        }
        live.queried += 1;
        match resolver.txt(&name) {
            Err(e) => live.failed.push((name, e)),
            Ok(records) => {
                let keys: Vec<String> = records.into_iter().filter(|r| parse_key_record(r).is_ok()).collect();
                if keys.is_empty() {
                    live.not_found.push(name.clone());
                }
                for record in keys {
                    let record = KeyRecord {
                        name: name.clone(),
                        record: record.trim().to_owned(),
                        first_seen: None,
                        last_seen: Some(now),
                    };
                    archive.insert(record.clone());
                    live.found.push(record);
                }
            }
        }
    }
    live
}

/// The system's resolver (`/etc/resolv.conf`), through hickory-resolver.
#[cfg(feature = "live-dns")]
pub struct DnsResolver {
    runtime: tokio::runtime::Runtime,
    resolver: hickory_resolver::TokioResolver,
}

#[cfg(feature = "live-dns")]
impl DnsResolver {
    /// A resolver with the system's configuration.
    pub fn from_system() -> Result<DnsResolver, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the DNS runtime: {e}"))?;
        let resolver = runtime
            .block_on(async { hickory_resolver::TokioResolver::builder_tokio().map(|b| b.build()) })
            .map_err(|e| format!("reading the system's DNS configuration: {e}"))?;
        Ok(DnsResolver { runtime, resolver })
    }
}

#[cfg(feature = "live-dns")]
impl TxtResolver for DnsResolver {
    fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        // A final dot: the name is absolute, never searched under the local domain.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.runtime.block_on(self.resolver.txt_lookup(fqdn)) {
            Ok(lookup) => {
                Ok(lookup.iter().map(|txt| join_txt_strings(txt.txt_data().iter().map(|s| &**s))).collect())
            }
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
            Err(e) => Err(format!("{name}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    fn signed(s: &str, d: &str) -> String {
        format!(
            "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d={d};\r\n\ts={s}; h=from; bh=x; b=y\r\nFrom: a@{d}\r\n\r\nbody\r\n"
        )
    }

    #[test]
    fn names_come_from_every_signature_field_unfolded() {
        let raw = format!(
            "ARC-Seal: i=1; a=rsa-sha256; d=List.Example; s=Arc; cv=none; b=z\r\n{}",
            signed("Sel", "Example.ORG")
        );
        let names = signature_key_names(raw.as_bytes());
        assert_eq!(
            names,
            [("arc".to_owned(), "list.example".to_owned()), ("sel".to_owned(), "example.org".to_owned())]
        );
        // The body is not read: a signature quoted in it names nothing.
        let quoted = format!("From: a@b\r\n\r\n{}", signed("q", "quoted.example"));
        assert!(signature_key_names(quoted.as_bytes()).is_empty());
    }

    #[test]
    fn only_missing_keys_are_looked_up_and_marked() {
        let mut archive = KeyArchive::new();
        archive.insert(KeyRecord {
            name: "old._domainkey.example.org".into(),
            record: ED.into(),
            first_seen: None,
            last_seen: None,
        });
        let resolver = StaticResolver::new()
            .with_record("old._domainkey.example.org", "v=DKIM1; k=rsa; p=")
            .with_record("new._domainkey.example.org", "v=spf1 -all")
            .with_record("new._domainkey.example.org", ED)
            .failing("down._domainkey.example.org");
        let now =
            DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").expect("test fixture").with_timezone(&Utc);
        let names = ["old", "new", "new", "gone", "down"].map(|s| (s.to_owned(), "example.org".to_owned()));
        let live = fetch_missing_keys(&mut archive, names, &resolver, now);
        assert_eq!(live.queried, 3, "old is archived, new is asked once");
        assert_eq!(live.found.len(), 1, "the SPF string is no key: {live:?}");
        assert_eq!(live.found[0].record, ED);
        assert_eq!((live.found[0].first_seen, live.found[0].last_seen), (None, Some(now)));
        assert_eq!(live.not_found, ["gone._domainkey.example.org"]);
        assert_eq!(live.failed.len(), 1);
        assert!(live.fetched("new", "example.org") && !live.fetched("old", "example.org"));
        assert_eq!(archive.lookup("new", "example.org").len(), 1);
        // The archived key was not replaced by today's (revoked) one.
        assert_eq!(archive.lookup("old", "example.org")[0].record, ED);
    }

    #[test]
    fn txt_strings_are_joined_without_separator() {
        let key = ED.as_bytes();
        let (a, b) = key.split_at(40);
        let joined = join_txt_strings([a, b]);
        assert_eq!(joined, ED);
        assert!(parse_key_record(&joined).is_ok());
        // Split inside the base64 with a space between, it would be another key.
        assert_ne!(join_txt_strings([a, b" ", b]), ED);
    }
}
