//! Indicator lists: addresses, networks, domains, URLs and user agents to watch for.
//! Read from plain lists (one per line, like the Emerging Threats feeds), CSV files with
//! `type,value[,description]` columns, or (through the binary and the share crate) STIX
//! 2.1 bundles.

use std::io::BufRead;
use std::net::IpAddr;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::event::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// What an indicator's value is.
pub enum IndicatorKind {
    /// An IPv4 or IPv6 address, matched against sources.
    Ip,
    /// A CIDR network, matched against sources.
    Network,
    /// A domain name, matched against hosts, DNS queries and TLS server names.
    Domain,
    /// A URL, matched against request targets.
    Url,
    /// A user agent, matched exactly.
    UserAgent,
    /// A TLS fingerprint (JA3, JA3S, JA4) or a certificate or file hash (MD5, SHA-1,
    /// SHA-256), matched against what network sensors record.
    Fingerprint,
}

impl IndicatorKind {
    /// The kind's name in indicator CSV lists (`ip`, `network`, `domain`, `url`, `user_agent`).
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "ip",
            IndicatorKind::Network => "network",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::UserAgent => "user_agent",
            IndicatorKind::Fingerprint => "fingerprint",
        }
    }

    /// The kind of a STIX 2.1 cyber-observable type that indicators can match
    /// (`ipv4-addr`, `ipv6-addr`, `ipv4-net`, `ipv6-net`, `domain-name`, `url`,
    /// `user-agent`); `None` for every other type.
    pub fn from_stix_type(stix_type: &str) -> Option<IndicatorKind> {
        Some(match stix_type {
            "ipv4-addr" | "ipv6-addr" => IndicatorKind::Ip,
            "ipv4-net" | "ipv6-net" => IndicatorKind::Network,
            "domain-name" => IndicatorKind::Domain,
            "url" => IndicatorKind::Url,
            "user-agent" => IndicatorKind::UserAgent,
            _ => return None,
        })
    }

    /// The STIX 2.1 cyber-observable type of an indicator of this kind with this value
    /// (`ipv4-addr` or `ipv6-addr` for addresses and networks, by the value's form).
    pub fn stix_observable_type(self, value: &str) -> &'static str {
        match self {
            IndicatorKind::Ip | IndicatorKind::Network => {
                if value.contains(':') {
                    "ipv6-addr"
                } else {
                    "ipv4-addr"
                }
            }
            IndicatorKind::Domain => "domain-name",
            IndicatorKind::Url => "url",
            IndicatorKind::UserAgent => "user-agent",
            IndicatorKind::Fingerprint => "file",
        }
    }

    fn parse(s: &str) -> Option<IndicatorKind> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "ip" | "ipv4" | "ipv6" | "ipv4-addr" | "ipv6-addr" | "ip-dst" | "ip-src" | "address" => {
                IndicatorKind::Ip
            }
            "cidr" | "network" | "net" | "subnet" => IndicatorKind::Network,
            "domain" | "domain-name" | "hostname" | "host" | "fqdn" => IndicatorKind::Domain,
            "url" | "uri" => IndicatorKind::Url,
            "user_agent" | "user-agent" | "useragent" | "ua" => IndicatorKind::UserAgent,
            "fingerprint" | "ja3" | "ja3s" | "ja4" | "hash" | "md5" | "sha1" | "sha-1" | "sha256"
            | "sha-256" | "x509" | "certificate" => IndicatorKind::Fingerprint,
            _ => return None,
        })
    }
}

/// One indicator of compromise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// What the value is.
    pub kind: IndicatorKind,
    /// The address, network, domain, URL or user agent.
    pub value: String,
    /// The list or bundle it came from.
    pub source: String,
    /// The STIX id, when it came from a bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stix_id: Option<String>,
    /// What the list says about it; may be empty.
    #[serde(default)]
    pub description: String,
}

impl Indicator {
    /// The indicator of one observable of a STIX 2.1 indicator object (its `type` and
    /// `value`), from the bundle named `source`; `None` for observable types that cannot
    /// be matched against logs.
    pub fn from_stix(
        stix_type: &str,
        value: &str,
        source: &str,
        stix_id: &str,
        name: Option<&str>,
    ) -> Option<Indicator> {
        Some(Indicator {
            kind: IndicatorKind::from_stix_type(stix_type)?,
            value: value.to_owned(),
            source: source.to_owned(),
            stix_id: Some(stix_id.to_owned()),
            description: name.unwrap_or_default().to_owned(),
        })
    }

    /// Guesses the kind of a bare value.
    pub fn infer(value: &str, source: &str) -> Option<Indicator> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        let kind = if v.parse::<IpAddr>().is_ok() {
            IndicatorKind::Ip
        } else if parse_cidr(v).is_some() {
            IndicatorKind::Network
        } else if v.contains("://") {
            IndicatorKind::Url
        } else if matches!(v.len(), 32 | 40 | 64) && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            IndicatorKind::Fingerprint
        } else if v.contains('.') && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
            IndicatorKind::Domain
        } else {
            return None;
        };
        Some(Indicator {
            kind,
            value: v.to_owned(),
            source: source.to_owned(),
            stix_id: None,
            description: String::new(),
        })
    }
}

/// Why an indicator list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// The file could not be opened or read.
    #[error("reading {path}: {source}")]
    Io {
        /// The list's file.
        path: String,
        /// What the system reported.
        source: std::io::Error,
    },
    /// A line holds no indicator of a kind that can be told.
    #[error(
        "{path}:{line}: cannot read '{value}' as an indicator (expected an IP, CIDR, domain, URL or hash)"
    )]
    Bad {
        /// The list's file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The value found.
        value: String,
    },
}

/// Writes indicators as the CSV list [`IndicatorSet::load_list`] reads: header
/// `type,value,description`, one row per indicator, fields quoted where needed.
pub fn write_indicator_list<'a, W: std::io::Write>(
    mut out: W,
    indicators: impl IntoIterator<Item = &'a Indicator>,
) -> std::io::Result<()> {
    use scrutineer_core::text::csv_field;
    writeln!(out, "type,value,description")?;
    for ind in indicators {
        writeln!(out, "{},{},{}", ind.kind.as_str(), csv_field(&ind.value), csv_field(&ind.description))?;
    }
    out.flush()
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, len) = s.split_once('/')?;
    let ip: IpAddr = ip.trim().parse().ok()?;
    let len: u8 = len.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// Indicators indexed for matching.
#[derive(Debug, Default, Clone)]
pub struct IndicatorSet {
    /// Every indicator added, in order; matches refer to them by index.
    pub list: Vec<Indicator>,
    ips: FxHashMap<IpAddr, Vec<u32>>,
    nets: Vec<(IpAddr, u8, u32)>,
    domains: FxHashMap<String, Vec<u32>>,
    urls: Vec<(String, u32)>,
    agents: Vec<(String, u32)>,
    fingerprints: FxHashMap<String, Vec<u32>>,
}

impl IndicatorSet {
    /// An empty set.
    pub fn new() -> IndicatorSet {
        IndicatorSet::default()
    }

    /// Indicators in the set.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the set holds no indicator.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Adds an indicator; one whose value does not parse as its kind (an address or
    /// network that is neither) is left out.
    pub fn add(&mut self, ind: Indicator) {
        let idx = self.list.len() as u32;
        match ind.kind {
            IndicatorKind::Ip => match ind.value.parse::<IpAddr>() {
                Ok(ip) => self.ips.entry(ip).or_default().push(idx),
                Err(_) => return,
            },
            IndicatorKind::Network => match parse_cidr(&ind.value) {
                Some((ip, len)) => self.nets.push((ip, len, idx)),
                None => return,
            },
            IndicatorKind::Domain => self
                .domains
                .entry(ind.value.trim_end_matches('.').to_ascii_lowercase())
                .or_default()
                .push(idx),
            IndicatorKind::Url => self.urls.push((ind.value.to_ascii_lowercase(), idx)),
            IndicatorKind::UserAgent => self.agents.push((ind.value.clone(), idx)),
            IndicatorKind::Fingerprint => {
                self.fingerprints.entry(ind.value.trim().to_ascii_lowercase()).or_default().push(idx)
            }
        }
        self.list.push(ind);
    }

    /// Reads a plain list or a CSV file. A first row naming `type` and `value` (or
    /// `indicator`) columns makes it CSV; otherwise the first comma-separated field of
    /// each line is the indicator and its kind is inferred.
    pub fn load_list(&mut self, path: &Path) -> Result<usize, IndicatorError> {
        let p = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| IndicatorError::Io { path: p.clone(), source })?;
        let source = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.clone());
        let mut cols: Option<(usize, Option<usize>, Option<usize>)> = None;
        let before = self.len();
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|source| IndicatorError::Io { path: p.clone(), source })?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(|f| f.trim().trim_matches('"')).collect();
            if i == 0 || (cols.is_none() && self.len() == before) {
                let lower: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
                let value = lower.iter().position(|f| f == "value" || f == "indicator" || f == "ioc");
                if let Some(v) = value {
                    let t = lower.iter().position(|f| f == "type" || f == "kind");
                    let d = lower.iter().position(|f| f == "description" || f == "comment" || f == "label");
                    cols = Some((v, t, d));
                    continue;
                }
            }
            let (vi, ti, di) = cols.unwrap_or((0, None, None));
            let value = fields.get(vi).copied().unwrap_or_default();
            let mut ind = match ti.and_then(|t| fields.get(t)).and_then(|t| IndicatorKind::parse(t)) {
                Some(kind) => Indicator {
                    kind,
                    value: value.to_owned(),
                    source: source.clone(),
                    stix_id: None,
                    description: String::new(),
                },
                None => Indicator::infer(value, &source).ok_or_else(|| IndicatorError::Bad {
                    path: p.clone(),
                    line: i + 1,
                    value: value.to_owned(),
                })?,
            };
            if let Some(d) = di.and_then(|d| fields.get(d)) {
                ind.description = (*d).to_owned();
            }
            self.add(ind);
        }
        Ok(self.len() - before)
    }

    /// Indices of the indicators an event matches.
    pub fn matches(&self, ev: &Event) -> Vec<u32> {
        let mut out = Vec::new();
        for ip in [ev.src, ev.dst].into_iter().flatten() {
            if let Some(v) = self.ips.get(&ip) {
                out.extend_from_slice(v);
            }
            for (net, len, idx) in &self.nets {
                if in_net(ip, *net, *len) {
                    out.push(*idx);
                }
            }
        }
        if !self.domains.is_empty() {
            for h in [ev.host.as_deref(), ev.query.as_deref()].into_iter().flatten() {
                let h = h.trim_end_matches('.').to_ascii_lowercase();
                // The host and each parent domain.
                let mut rest = h.as_str();
                loop {
                    if let Some(v) = self.domains.get(rest) {
                        out.extend_from_slice(v);
                    }
                    match rest.find('.') {
                        Some(i) => rest = &rest[i + 1..],
                        None => break,
                    }
                }
            }
        }
        if !self.urls.is_empty()
            && let Some(t) = ev.target.as_deref()
        {
            let full = match ev.host.as_deref() {
                Some(h) if t.starts_with('/') => format!("{h}{t}"),
                _ => t.to_owned(),
            }
            .to_ascii_lowercase();
            for (u, idx) in &self.urls {
                let bare = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
                if full.contains(bare) {
                    out.push(*idx);
                }
            }
        }
        if let Some(ua) = ev.user_agent.as_deref() {
            for (a, idx) in &self.agents {
                if ua.contains(a.as_str()) {
                    out.push(*idx);
                }
            }
        }
        if !self.fingerprints.is_empty()
            && let Some(net) = ev.net.as_deref()
        {
            let seen = net.ja3.iter().chain(&net.ja3s).chain(&net.hashes);
            for v in seen {
                if let Some(found) = self.fingerprints.get(&v.to_ascii_lowercase()) {
                    out.extend_from_slice(found);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn lists_and_csv_load_and_match() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        writeln!(f, "# feed\n101.202.19.199\n10.9.0.0/16\nevil.example\nhttp://bad.example/x.php")
            .expect("write");
        let mut set = IndicatorSet::new();
        assert_eq!(set.load_list(f.path()).expect("load"), 4);
        let ev = |src: &str, host: &str, t: &str| Event {
            src: src.parse().ok(),
            host: Some(host.into()),
            target: Some(t.into()),
            ..Event::default()
        };
        assert_eq!(set.matches(&ev("101.202.19.199", "a", "/")), vec![0]);
        assert_eq!(set.matches(&ev("10.9.3.4", "a", "/")), vec![1]);
        assert_eq!(set.matches(&ev("1.1.1.1", "www.evil.example", "/")), vec![2]);
        assert_eq!(set.matches(&ev("1.1.1.1", "bad.example", "/x.php?a=1")), vec![3]);
        assert!(set.matches(&ev("1.1.1.1", "good.example", "/")).is_empty());

        let mut c = tempfile::NamedTempFile::new().expect("temp");
        writeln!(c, "type,value,description\nip,192.0.2.1,scanner\nuser_agent,EvilBot,tool").expect("write");
        let mut set = IndicatorSet::new();
        assert_eq!(set.load_list(c.path()).expect("load"), 2);
        assert_eq!(set.list[0].description, "scanner");
        let mut e = ev("192.0.2.1", "a", "/");
        e.user_agent = Some("EvilBot/2".into());
        assert_eq!(set.matches(&e), vec![0, 1]);

        let mut bad = tempfile::NamedTempFile::new().expect("temp");
        writeln!(bad, "1.2.3.4\nnot an indicator").expect("write");
        let err = IndicatorSet::new().load_list(bad.path()).expect_err("bad");
        assert!(err.to_string().contains(":2:"), "{err}");
    }

    #[test]
    fn fingerprints_match_ja3_and_certificate_hashes_of_zeek_records() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        writeln!(f, "type,value\nja3,72A589DA586844D7F0818CE684948EEA\nsha256,aa11").expect("write");
        let mut set = IndicatorSet::new();
        set.load_list(f.path()).expect("load");
        assert_eq!(set.len(), 2);
        let with = |ja3: Option<&str>, hashes: &[&str]| Event {
            net: Some(Box::new(crate::event::NetDetail {
                ja3: ja3.map(str::to_owned),
                hashes: hashes.iter().map(|h| (*h).to_owned()).collect(),
                ..Default::default()
            })),
            ..Event::default()
        };
        assert_eq!(set.matches(&with(Some("72a589da586844d7f0818ce684948eea"), &[])), vec![0]);
        assert_eq!(set.matches(&with(None, &["bb22", "aa11"])), vec![1]);
        assert!(set.matches(&with(Some("0000"), &["bb22"])).is_empty());
        assert_eq!(
            Indicator::infer("d41d8cd98f00b204e9800998ecf8427e", "l").map(|i| i.kind),
            Some(IndicatorKind::Fingerprint)
        );
    }
}
