//! Network-sensor detections on Zeek records: beaconing (per source–destination pair
//! and per source–server-name pair), long connections, network scans, DGA-looking
//! lookups and NXDOMAIN floods per host, DNS tunnelling per domain, and destinations
//! no other host talks to.
//!
//! Memory is bounded whatever the log's length: at most `MAX_PAIRS` pairs are followed,
//! each keeping at most `MAX_SAMPLES` connection times (when full, every other one is
//! dropped and only every second later connection kept, which halves the sampling rate
//! but keeps a regular series regular); distinct names, targets and destinations are
//! kept in capped sets. What a cap left out is counted and said in the evidence.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique, TimeSpan};
use serde_json::json;

use super::{Thresholds, extend_span, observable};
use crate::event::{Event, EventKind, NetDetail, ZeekLog};

/// Finding kinds that describe traffic worth a look rather than an attack: they do not
/// make a source hostile for campaign linking.
pub(super) const CONTEXT_KINDS: &[&str] = &["long_connection", "rare_destination"];

const MAX_PAIRS: usize = 200_000;
const MAX_SAMPLES: usize = 2048;
const MAX_NAMES: usize = 4096;
/// Entries (sampled times, names, targets, probing sources) all detectors keep together:
/// about 16 bytes each, so a few hundred MiB at most whatever the input.
const BUDGET: usize = 8_000_000;
/// With the budget spent, a pair keeps at least this many samples, halving its own
/// sampling rate to take a new one.
const MIN_SAMPLES: usize = 16;
const MAX_DESTINATIONS: usize = 500_000;
const MAX_HOSTS: usize = 100_000;
const MAX_DOMAINS: usize = 100_000;

/// What a beacon is measured between.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum PairKey {
    /// Connections from a source to an address (conn.log).
    Address(IpAddr, IpAddr),
    /// Requests or handshakes from a source to a server name (http.log, ssl.log).
    Name(IpAddr, String),
}

#[derive(Debug, Default)]
struct PairStats {
    /// Connection start times (seconds) and originator bytes, sampled.
    samples: Vec<(f64, u64)>,
    /// 1 in `stride` connections is sampled.
    stride: u64,
    connections: u64,
    span: Option<TimeSpan>,
    longest: f64,
    long_total: f64,
    long_count: u64,
    bytes_out: u64,
    bytes_in: u64,
    ports: FxHashSet<u16>,
}

impl PairStats {
    /// Adds a connection; `squeeze` when the shared budget is spent. Returns the change
    /// in samples kept.
    fn add(&mut self, t: DateTime<Utc>, out: u64, squeeze: bool) -> isize {
        let before = self.samples.len() as isize;
        if self.stride == 0 {
            self.stride = 1;
        }
        if self.connections.is_multiple_of(self.stride) {
            if self.samples.len() >= MAX_SAMPLES || (squeeze && self.samples.len() >= MIN_SAMPLES) {
                let mut i = 0;
                self.samples.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
            if self.connections.is_multiple_of(self.stride) {
                self.samples.push((t.timestamp_micros() as f64 / 1e6, out));
            }
        }
        self.connections += 1;
        extend_span(&mut self.span, Some(t));
        self.samples.len() as isize - before
    }
}

#[derive(Debug, Default)]
struct HostDns {
    queries: u64,
    nx: u64,
    nx_names: FxHashSet<u64>,
    nx_samples: Vec<String>,
    odd_names: FxHashSet<u64>,
    odd_samples: Vec<(String, f64)>,
    span: Option<TimeSpan>,
}

#[derive(Debug, Default)]
struct DomainDns {
    queries: u64,
    subdomains: FxHashSet<u64>,
    label_bytes: u64,
    entropy_sum: f64,
    unusual_types: u64,
    sources: FxHashSet<IpAddr>,
    samples: Vec<String>,
    span: Option<TimeSpan>,
}

#[derive(Debug, Default)]
struct ScanStats {
    attempts: u64,
    failed: u64,
    targets: FxHashSet<u64>,
    hosts: FxHashSet<IpAddr>,
    ports: FxHashSet<u16>,
    span: Option<TimeSpan>,
}

/// Connection attempts one host received: the ports it answered on, and per source the
/// ports it tried without an answer.
#[derive(Debug, Default)]
struct ProbedHost {
    answered: FxHashSet<u16>,
    tries: FxHashMap<IpAddr, Vec<u16>>,
    span: Option<TimeSpan>,
}

const MAX_PROBED_HOSTS: usize = 4096;

/// The network detectors' state, fed one event at a time.
#[derive(Debug, Default)]
pub(super) struct NetworkState {
    pairs: FxHashMap<PairKey, PairStats>,
    untracked_pairs: u64,
    hosts: FxHashMap<IpAddr, HostDns>,
    domains: FxHashMap<String, DomainDns>,
    scans: FxHashMap<IpAddr, ScanStats>,
    probed: FxHashMap<IpAddr, ProbedHost>,
    /// Per destination: the first source seen and whether a second one was.
    destinations: FxHashMap<IpAddr, (IpAddr, bool, u64)>,
    /// Sources of connections, for the rare-destination population.
    sources: FxHashSet<IpAddr>,
    first: Option<f64>,
    last: Option<f64>,
    /// Entries kept against [`BUDGET`].
    kept: usize,
}

/// Addresses that are not someone's server: multicast, broadcast, link-local, unspecified.
fn not_a_server(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            v.is_multicast()
                || v.is_broadcast()
                || v.is_link_local()
                || v.is_unspecified()
                || v.octets()[3] == 255
        }
        IpAddr::V6(v) => v.is_multicast() || v.is_unspecified() || (v.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_private() || v.is_loopback() || v.is_link_local(),
        IpAddr::V6(v) => {
            v.is_loopback() || (v.segments()[0] & 0xfe00) == 0xfc00 || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Infrastructure services every host talks to on a timer (name resolution, time,
/// discovery, DHCP), which are regular by design.
fn infrastructure_port(port: Option<u16>) -> bool {
    matches!(port, Some(53 | 67 | 68 | 123 | 137 | 138 | 1900 | 5353 | 5355))
}

/// Connection states of an attempt that got no conversation: no answer, refused, or
/// reset before data.
fn failed_state(state: &str) -> bool {
    matches!(state, "S0" | "REJ" | "RSTOS0" | "RSTRH" | "SH" | "SHR" | "OTH")
}

fn hash_of(v: impl Hash) -> u64 {
    let mut h = FxHasher::default();
    v.hash(&mut h);
    h.finish()
}

/// The registered part of a name: the last two labels, or three under a two-letter
/// country code with a generic second level (`example.co.uk`, `county.gov.au`).
pub(super) fn registered_domain(name: &str) -> (&str, &str) {
    let name = name.trim_end_matches('.');
    let labels: Vec<usize> = name.match_indices('.').map(|(i, _)| i).collect();
    let n = labels.len();
    if n == 0 {
        return (name, "");
    }
    let tld = &name[labels[n - 1] + 1..];
    let mut keep = 2;
    if n >= 2 && tld.len() == 2 {
        let second = &name[labels[n - 2] + 1..labels[n - 1]];
        if matches!(second, "co" | "com" | "net" | "org" | "gov" | "ac" | "edu" | "or" | "ne" | "go") {
            keep = 3;
        }
    }
    if n < keep {
        return (name, "");
    }
    let cut = labels[n - keep];
    (&name[cut + 1..], &name[..cut])
}

/// English letter frequencies (per cent, Lewand, *Cryptological Mathematics*, 2000), the
/// reference a machine-made label departs from.
const ENGLISH: [f64; 26] = [
    8.167, 1.492, 2.782, 4.253, 12.702, 2.228, 2.015, 6.094, 6.966, 0.153, 0.772, 4.025, 2.406, 6.749, 7.507,
    1.929, 0.095, 5.987, 6.327, 9.056, 2.758, 0.978, 2.360, 0.150, 1.974, 0.074,
];

/// Mean surprise (bits per letter) of English text under [`ENGLISH`]: its entropy.
const ENGLISH_SURPRISE: f64 = 4.176;
/// Mean surprise of letters drawn uniformly at random, as many generators draw them.
const RANDOM_SURPRISE: f64 = 5.590;

fn shannon(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// How machine-made a label looks, 0 to 1, from character statistics: mostly where the
/// mean surprise of its letters under English letter frequencies falls between English
/// text (0) and uniformly random letters (1), then letters mixed with digits, long runs
/// of consonants and length. Labels under 6 characters score 0: too short to tell.
pub(super) fn dga_score(label: &str) -> f64 {
    let l = label.to_ascii_lowercase();
    if l.len() < 6 || l.starts_with("xn--") {
        return 0.0;
    }
    let letters: Vec<u8> = l.bytes().filter(u8::is_ascii_lowercase).collect();
    let digits = l.bytes().filter(u8::is_ascii_digit).count();
    if letters.is_empty() {
        return 0.0;
    }
    let surprise: f64 = letters.iter().map(|&c| -(ENGLISH[(c - b'a') as usize] / 100.0).log2()).sum::<f64>()
        / letters.len() as f64;
    let surprise_score =
        ((surprise - ENGLISH_SURPRISE) / (RANDOM_SURPRISE - ENGLISH_SURPRISE)).clamp(0.0, 1.0);
    let mut run = 0;
    let mut longest = 0;
    for &c in &letters {
        if b"aeiouy".contains(&c) {
            run = 0;
        } else {
            run += 1;
            longest = longest.max(run);
        }
    }
    let run_score = ((longest as f64 - 3.0) / 3.0).clamp(0.0, 1.0);
    let digit_share = digits as f64 / l.len() as f64;
    let digit_score = if digits > 0 && digit_share < 0.9 { (digit_share * 3.0).min(1.0) } else { 0.0 };
    let length_score = ((l.len() as f64 - 6.0) / 10.0).clamp(0.0, 1.0);
    (0.6 * surprise_score + 0.15 * run_score + 0.15 * digit_score + 0.1 * length_score).clamp(0.0, 1.0)
}

impl NetworkState {
    /// Adds one Zeek event (events without network detail are not for these detectors).
    pub(super) fn observe(&mut self, ev: &Event) {
        let (Some(net), Some(time)) = (ev.net.as_deref(), ev.time) else { return };
        let secs = time.timestamp_micros() as f64 / 1e6;
        self.first = Some(self.first.map_or(secs, |f| f.min(secs)));
        self.last = Some(self.last.map_or(secs, |l| l.max(secs)));
        match (net.log, ev.src, ev.dst) {
            (ZeekLog::Conn, Some(src), Some(dst)) => self.observe_conn(ev, net, src, dst, time),
            (ZeekLog::Dns, Some(src), _) if ev.kind == EventKind::Dns => self.observe_dns(ev, net, src),
            (ZeekLog::Http | ZeekLog::Ssl, Some(src), Some(dst)) if !not_a_server(dst) => {
                if let Some(name) = ev.host.as_deref().filter(|h| !h.is_empty()) {
                    let name = name.to_ascii_lowercase();
                    let key = PairKey::Name(src, name);
                    let squeeze = self.kept >= BUDGET;
                    if let Some(p) = self.pair(key) {
                        let d = p.add(time, 0, squeeze);
                        self.kept = self.kept.saturating_add_signed(d);
                    }
                }
            }
            _ => {}
        }
    }

    fn pair(&mut self, key: PairKey) -> Option<&mut PairStats> {
        if self.pairs.len() >= MAX_PAIRS && !self.pairs.contains_key(&key) {
            self.untracked_pairs += 1;
            return None;
        }
        Some(self.pairs.entry(key).or_default())
    }

    fn observe_conn(&mut self, ev: &Event, net: &NetDetail, src: IpAddr, dst: IpAddr, time: DateTime<Utc>) {
        let room = self.kept < BUDGET;
        let mut added = 0;
        if self.sources.len() < MAX_HOSTS {
            self.sources.insert(src);
        }
        if let Some(state) = net.conn_state.as_deref()
            && (self.scans.len() < MAX_HOSTS || self.scans.contains_key(&src))
        {
            let s = self.scans.entry(src).or_default();
            s.attempts += 1;
            extend_span(&mut s.span, ev.time);
            if failed_state(state) {
                s.failed += 1;
                if room && s.targets.len() < MAX_NAMES && s.targets.insert(hash_of((dst, net.dst_port))) {
                    added += 1;
                }
                if room && s.hosts.len() < MAX_NAMES && s.hosts.insert(dst) {
                    added += 1;
                }
                if let Some(p) = net.dst_port
                    && s.ports.len() < MAX_NAMES
                {
                    s.ports.insert(p);
                }
            }
        }
        if let (Some(state), Some(port)) = (net.conn_state.as_deref(), net.dst_port)
            && !not_a_server(dst)
            && (self.probed.len() < MAX_PROBED_HOSTS || self.probed.contains_key(&dst))
        {
            let h = self.probed.entry(dst).or_default();
            if failed_state(state) {
                extend_span(&mut h.span, ev.time);
                let more = room && h.tries.len() < MAX_NAMES;
                match h.tries.get_mut(&src) {
                    Some(ports) if ports.len() < 8 && !ports.contains(&port) => ports.push(port),
                    Some(_) => {}
                    None if more => {
                        h.tries.insert(src, vec![port]);
                        added += 4;
                    }
                    None => {}
                }
            } else if h.answered.len() < MAX_NAMES {
                h.answered.insert(port);
            }
        }
        self.kept += added;
        if not_a_server(dst) || infrastructure_port(net.dst_port) {
            return;
        }
        if !is_private(dst) {
            let room = self.destinations.len() < MAX_DESTINATIONS;
            match self.destinations.get_mut(&dst) {
                Some(d) => {
                    d.2 += 1;
                    if d.0 != src {
                        d.1 = true;
                    }
                }
                None if room => {
                    self.destinations.insert(dst, (src, false, 1));
                }
                None => {}
            }
        }
        let out = net.orig_bytes.unwrap_or(0);
        let squeeze = !room;
        let Some(p) = self.pair(PairKey::Address(src, dst)) else { return };
        let d = p.add(time, out, squeeze);
        p.bytes_out += out;
        p.bytes_in += net.resp_bytes.unwrap_or(0);
        if let Some(port) = net.dst_port
            && p.ports.len() < 16
        {
            p.ports.insert(port);
        }
        if let Some(secs) = net.duration {
            p.longest = p.longest.max(secs);
            if secs >= 3600.0 {
                p.long_total += secs;
                p.long_count += 1;
            }
        }
        self.kept = self.kept.saturating_add_signed(d);
    }

    fn observe_dns(&mut self, ev: &Event, net: &NetDetail, src: IpAddr) {
        let Some(q) = ev.query.as_deref().filter(|q| q.contains('.')) else { return };
        let (registered, sub) = registered_domain(q);
        if registered.is_empty() || q.ends_with(".arpa") || q.ends_with(".local") {
            return;
        }
        let room = self.kept < BUDGET;
        let mut added = 0;
        if self.hosts.len() < MAX_HOSTS || self.hosts.contains_key(&src) {
            let h = self.hosts.entry(src).or_default();
            h.queries += 1;
            extend_span(&mut h.span, ev.time);
            if net.rcode.as_deref() == Some("NXDOMAIN") {
                h.nx += 1;
                if room && h.nx_names.len() < MAX_NAMES && h.nx_names.insert(hash_of(registered)) {
                    added += 1;
                    if h.nx_samples.len() < 8 {
                        h.nx_samples.push(q.to_owned());
                    }
                }
            }
            let label = registered.split('.').next().unwrap_or(registered);
            let score = dga_score(label);
            if score >= DGA_LABEL_SCORE
                && room
                && h.odd_names.len() < MAX_NAMES
                && h.odd_names.insert(hash_of(registered))
            {
                added += 1;
                if h.odd_samples.len() < 8 {
                    h.odd_samples.push((registered.to_owned(), score));
                }
            }
        }
        if self.domains.len() < MAX_DOMAINS || self.domains.contains_key(registered) {
            let d = self.domains.entry(registered.to_owned()).or_default();
            d.queries += 1;
            extend_span(&mut d.span, ev.time);
            if d.sources.len() < 16 {
                d.sources.insert(src);
            }
            if matches!(net.qtype.as_deref(), Some("TXT" | "NULL" | "PRIVATE" | "ANY" | "AXFR" | "KEY")) {
                d.unusual_types += 1;
            }
            if !sub.is_empty() && room && d.subdomains.len() < MAX_NAMES && d.subdomains.insert(hash_of(sub))
            {
                added += 1;
                d.label_bytes += sub.len() as u64;
                d.entropy_sum += shannon(sub);
                if d.samples.len() < 5 {
                    d.samples.push(q.to_owned());
                }
            }
        }
        self.kept += added;
    }
}

/// A label at or above this [`dga_score`] counts as machine-made looking.
const DGA_LABEL_SCORE: f64 = 0.6;

/// Quantiles of sorted values (linear interpolation).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn bowley_skew(sorted: &[f64]) -> f64 {
    let (q1, q2, q3) = (quantile(sorted, 0.25), quantile(sorted, 0.5), quantile(sorted, 0.75));
    if q3 - q1 <= f64::EPSILON || q2 == q1 || q2 == q3 { 0.0 } else { (q3 + q1 - 2.0 * q2) / (q3 - q1) }
}

fn median_abs_deviation(sorted: &[f64]) -> f64 {
    let m = quantile(sorted, 0.5);
    let mut dev: Vec<f64> = sorted.iter().map(|v| (v - m).abs()).collect();
    dev.sort_by(f64::total_cmp);
    quantile(&dev, 0.5)
}

/// The beacon score of one pair and its parts, after RITA: interval skew and
/// dispersion, size skew, dispersion and smallness, the histogram of connections over
/// the hours of the data (coefficient of variation, or a two-mode fit for beacons that
/// sleep), and how much of the data's span the pair covers.
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct BeaconScore {
    pub score: f64,
    pub interval_skew: f64,
    pub interval_dispersion: f64,
    pub size_skew: f64,
    pub size_dispersion: f64,
    pub size_smallness: f64,
    pub histogram: f64,
    pub coverage: f64,
    pub median_interval: f64,
    pub median_bytes: f64,
}

pub(super) fn beacon_score(samples: &[(f64, u64)], data_span: (f64, f64)) -> Option<BeaconScore> {
    let mut times: Vec<f64> = samples.iter().map(|s| s.0).collect();
    times.sort_by(f64::total_cmp);
    times.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
    if times.len() < 3 {
        return None;
    }
    let mut intervals: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    intervals.sort_by(f64::total_cmp);
    let median_interval = quantile(&intervals, 0.5);
    if median_interval <= 0.0 {
        return None;
    }
    let ts_skew = 1.0 - bowley_skew(&intervals).abs();
    // RITA cuts dispersion off at 30 s; measured against the median interval instead,
    // jitter proportional to the period (10-30% in common implants) still scores.
    let mad = median_abs_deviation(&intervals);
    let ts_mad = (1.0 - mad / (0.5 * median_interval).max(1.0)).max(0.0);
    let mut sizes: Vec<f64> = samples.iter().map(|s| s.1 as f64).collect();
    sizes.sort_by(f64::total_cmp);
    let ds_skew = 1.0 - bowley_skew(&sizes).abs();
    let ds_mad = (1.0 - median_abs_deviation(&sizes) / 32.0).max(0.0);
    let median_bytes = quantile(&sizes, 0.5);
    let ds_small = (1.0 - median_bytes / 65535.0).max(0.0);
    // Connections per hour of the data's span (24 buckets at most, as RITA's histogram).
    let (first, last) = data_span;
    let span = (last - first).max(1.0);
    let buckets = ((span / 3600.0).ceil() as usize).clamp(1, 24);
    let width = span / buckets as f64;
    let mut counts = vec![0f64; buckets];
    for t in &times {
        let b = (((t - first) / width) as usize).min(buckets - 1);
        counts[b] += 1.0;
    }
    let mean = counts.iter().sum::<f64>() / buckets as f64;
    let sd = (counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / buckets as f64).sqrt();
    let cv_score = if mean > 0.0 { (1.0 - sd / mean).max(0.0) } else { 0.0 };
    let histogram = if buckets >= 6 { cv_score.max(two_mode_fit(&counts)) } else { cv_score };
    let own_span = times[times.len() - 1] - times[0];
    let coverage = (own_span / span).clamp(0.0, 1.0);
    let ts = (ts_skew + ts_mad) / 2.0;
    let ds = (ds_skew + ds_mad + ds_small) / 3.0;
    let score = (ts + ds + histogram + coverage) / 4.0;
    Some(BeaconScore {
        score,
        interval_skew: ts_skew,
        interval_dispersion: ts_mad,
        size_skew: ds_skew,
        size_dispersion: ds_mad,
        size_smallness: ds_small,
        histogram,
        coverage,
        median_interval,
        median_bytes,
    })
}

/// Share of hourly buckets whose counts fall in the two commonest count levels (levels
/// 5% of the largest count wide): a beacon that sleeps part of the day has two levels,
/// zero and its rate.
fn two_mode_fit(counts: &[f64]) -> f64 {
    let max = counts.iter().cloned().fold(0.0, f64::max);
    if max <= 0.0 {
        return 0.0;
    }
    let width = (max * 0.05).max(1.0);
    let mut levels: FxHashMap<i64, usize> = FxHashMap::default();
    for c in counts {
        *levels.entry((c / width).round() as i64).or_default() += 1;
    }
    let mut freq: Vec<usize> = levels.into_values().collect();
    freq.sort_unstable_by(|a, b| b.cmp(a));
    let top = freq.iter().take(2).sum::<usize>();
    // Only the active level counts towards regularity: a pair silent all day but for
    // one hour is not a sleeping beacon.
    let active = counts.iter().filter(|c| **c > 0.0).count();
    if active * 2 < counts.len() / 2 {
        return 0.0;
    }
    top as f64 / counts.len() as f64
}

fn finding_base(
    kind: &str,
    key: &str,
    title: String,
    src: Option<IpAddr>,
    span: Option<TimeSpan>,
) -> Finding {
    let mut f = Finding::new(Engine::Infra, kind, key, title).time_span(span);
    if let Some(ip) = src {
        f = f.evidence(observable(ip));
    }
    f
}

/// The destination of a pair finding as an observable (exported as a STIX indicator),
/// described so that it is never read as a source address.
fn destination(dst: &str) -> Evidence {
    let t = match dst.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => "ipv4-addr",
        Ok(IpAddr::V6(_)) => "ipv6-addr",
        Err(_) => "domain-name",
    };
    Evidence::new("observable", format!("destination {dst}"), json!({"type": t, "value": dst}))
}

impl NetworkState {
    /// The findings, each with the source it is about (`None` for per-domain ones), in
    /// a fixed order: pairs by key, then hosts by address, then domains by name.
    pub(super) fn finish(self, th: &Thresholds) -> Vec<(Option<IpAddr>, Finding, Vec<String>)> {
        let mut out = Vec::new();
        let data_span = (self.first.unwrap_or(0.0), self.last.unwrap_or(0.0));
        let mut pairs: Vec<(PairKey, PairStats)> = self.pairs.into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, p) in &pairs {
            let (src, dst) = match key {
                PairKey::Address(s, d) => (*s, d.to_string()),
                PairKey::Name(s, n) => (*s, n.clone()),
            };
            if p.connections >= th.beacon_min_connections as u64
                && let Some(b) = beacon_score(&p.samples, data_span)
                && b.score >= th.beacon_min_score
            {
                let link = vec![format!("beacon destination {dst}")];
                out.push((Some(src), beacon_finding(src, &dst, p, &b, self.untracked_pairs), link));
            }
            if p.long_count > 0 && p.longest >= th.long_connection_secs {
                out.push((Some(src), long_finding(src, &dst, p), vec![]));
            }
        }
        let mut scans: Vec<(IpAddr, ScanStats)> = self.scans.into_iter().collect();
        scans.sort_by_key(|s| s.0);
        for (src, s) in &scans {
            if s.targets.len() >= th.netscan_min_targets && s.failed * 2 >= s.attempts {
                out.push((Some(*src), scan_finding(*src, s), vec![]));
            }
        }
        let mut probed: Vec<(IpAddr, ProbedHost)> = self.probed.into_iter().collect();
        probed.sort_by_key(|p| p.0);
        for (dst, h) in &probed {
            let mut sources: Vec<IpAddr> = h
                .tries
                .iter()
                .filter(|(_, ports)| ports.iter().any(|p| !h.answered.contains(p)))
                .map(|(s, _)| *s)
                .collect();
            let ports: FxHashSet<u16> =
                h.tries.values().flatten().copied().filter(|p| !h.answered.contains(p)).collect();
            if sources.len() >= th.probe_min_sources && ports.len() >= th.probe_min_ports {
                sources.sort_unstable();
                out.push((None, probe_finding(*dst, &sources, ports.len(), h), vec![]));
            }
        }
        let mut hosts: Vec<(IpAddr, HostDns)> = self.hosts.into_iter().collect();
        hosts.sort_by_key(|h| h.0);
        for (src, h) in &hosts {
            let nx = h.nx_names.len();
            let odd = h.odd_names.len();
            if nx >= th.nxdomain_min_names || odd >= th.dga_min_names {
                out.push((Some(*src), dga_finding(*src, h, th), vec![]));
            }
        }
        let mut domains: Vec<(String, DomainDns)> = self.domains.into_iter().collect();
        domains.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, d) in &domains {
            let subs = d.subdomains.len();
            if subs == 0 {
                continue;
            }
            let mean_len = d.label_bytes as f64 / subs as f64;
            let mean_entropy = d.entropy_sum / subs as f64;
            let long_random = subs >= th.tunnel_min_subdomains && mean_len >= 20.0 && mean_entropy >= 3.5;
            let odd_types =
                d.unusual_types >= th.tunnel_min_subdomains as u64 && subs * 2 >= th.tunnel_min_subdomains;
            if long_random || odd_types {
                out.push((None, tunnel_finding(name, d, mean_len, mean_entropy), vec![]));
            }
        }
        if self.sources.len() >= th.rare_min_population {
            let mut rare: FxHashMap<IpAddr, Vec<(IpAddr, u64)>> = FxHashMap::default();
            for (dst, (src, shared, n)) in &self.destinations {
                if !shared && *n >= 3 {
                    rare.entry(*src).or_default().push((*dst, *n));
                }
            }
            let mut rare: Vec<(IpAddr, Vec<(IpAddr, u64)>)> = rare.into_iter().collect();
            rare.sort_by_key(|r| r.0);
            for (src, mut dsts) in rare {
                dsts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                out.push((Some(src), rare_finding(src, &dsts, self.sources.len()), vec![]));
            }
        }
        out
    }
}

fn beacon_finding(src: IpAddr, dst: &str, p: &PairStats, b: &BeaconScore, untracked: u64) -> Finding {
    let key = format!("{src}>{dst}");
    let f = finding_base(
        "beaconing",
        &key,
        format!(
            "{src} calls {dst} every {:.0} s ({} connections, beacon score {:.2})",
            b.median_interval, p.connections, b.score
        ),
        Some(src),
        p.span,
    )
    .summary(format!(
        "{src} connected to {dst} {} times at a median interval of {:.0} s carrying a median {:.0} bytes out; the intervals' regularity (skew {:.2}, dispersion {:.2}), the sizes' (skew {:.2}, dispersion {:.2}, smallness {:.2}), the spread over the hours (histogram {:.2}) and the span covered ({:.2}) give a beacon score of {:.2}, after RITA's method.",
        p.connections, b.median_interval, b.median_bytes, b.interval_skew, b.interval_dispersion, b.size_skew,
        b.size_dispersion, b.size_smallness, b.histogram, b.coverage, b.score
    ))
    .severity(Severity::from_score(0.3 + 0.6 * b.score))
    .confidence((b.score * 0.9).min(0.95))
    .technique(Technique::attack("T1071"))
    .technique(Technique::attack("T1573"))
    .evidence(destination(dst));
    let mut intervals: Vec<f64> = p.samples.windows(2).map(|w| w[1].0 - w[0].0).take(20).collect();
    intervals.iter_mut().for_each(|v| *v = (*v * 1000.0).round() / 1000.0);
    f.evidence(Evidence::new(
        "beacon",
        format!("{} connections, median interval {:.1} s", p.connections, b.median_interval),
        json!({
            "score": b, "connections": p.connections, "sampled": p.samples.len(), "sampling_stride": p.stride,
            "first_intervals": intervals, "bytes_out": p.bytes_out, "bytes_in": p.bytes_in,
            "first_seen": p.span.map(|s| s.start.to_rfc3339()), "last_seen": p.span.map(|s| s.end.to_rfc3339()),
            "ports": p.ports.iter().copied().collect::<std::collections::BTreeSet<u16>>(),
            "pairs_not_followed": untracked,
        }),
    ))
}

fn long_finding(src: IpAddr, dst: &str, p: &PairStats) -> Finding {
    finding_base(
        "long_connection",
        &format!("{src}>{dst}"),
        format!("{src} held a connection to {dst} open for {:.1} h", p.longest / 3600.0),
        Some(src),
        p.span,
    )
    .summary(format!(
        "{} connection(s) from {src} to {dst} lasted an hour or more, the longest {:.0} s, {:.0} s in all: a remote-access or tunnel session stays open where ordinary traffic closes.",
        p.long_count, p.longest, p.long_total
    ))
    // After RITA's long-connection tiers: 1 h, 4 h, 8 h, 12 h.
    .severity(match p.longest / 3600.0 {
        h if h >= 12.0 => Severity::High,
        h if h >= 4.0 => Severity::Medium,
        _ => Severity::Low,
    })
    .confidence(0.6)
    .technique(Technique::attack("T1071"))
    .technique(Technique::attack("T1572"))
    .evidence(destination(dst))
    .evidence(Evidence::new(
        "duration",
        format!("longest {:.0} s", p.longest),
        json!({"longest_secs": p.longest, "long_connections": p.long_count, "long_total_secs": p.long_total, "bytes_out": p.bytes_out, "bytes_in": p.bytes_in}),
    ))
}

fn scan_finding(src: IpAddr, s: &ScanStats) -> Finding {
    let internal = is_private(src);
    finding_base(
        "network_scan",
        &src.to_string(),
        format!("{src} probed {} host:port targets on {} hosts without an answer", s.targets.len(), s.hosts.len()),
        Some(src),
        s.span,
    )
    .summary(format!(
        "{src} made {} connection attempts, {} of which got no conversation (no answer, refused or reset), on {} distinct host:port targets, {} hosts and {} ports.",
        s.attempts, s.failed, s.targets.len(), s.hosts.len(), s.ports.len()
    ))
    .severity(Severity::from_score((0.4 + 0.1 * (s.targets.len() as f64 / 50.0).log2()).min(0.85)))
    .confidence(0.8)
    .technique(Technique::attack(if internal { "T1046" } else { "T1595.001" }))
    .evidence(Evidence::new(
        "counts",
        format!("{} attempts, {} failed", s.attempts, s.failed),
        json!({"attempts": s.attempts, "failed": s.failed, "targets": s.targets.len(), "hosts": s.hosts.len(), "ports": s.ports.len()}),
    ))
}

fn probe_finding(dst: IpAddr, sources: &[IpAddr], ports: usize, h: &ProbedHost) -> Finding {
    let capped = h.tries.len() >= MAX_NAMES;
    finding_base(
        "probed_host",
        &dst.to_string(),
        format!("{} sources probed {ports} closed ports on {dst}", sources.len()),
        None,
        h.span,
    )
    .summary(format!(
        "{} sources tried {dst} on ports it never answered on ({ports} such ports): scanning of an exposed host, each source named in the evidence{}.",
        sources.len(),
        if capped { format!(" (the first {MAX_NAMES} sources are followed)") } else { String::new() }
    ))
    .severity(Severity::Medium)
    .confidence(0.7)
    .technique(Technique::attack("T1595.001"))
    .technique(Technique::attack("T1046"))
    .evidence(Evidence::new("target", format!("target {dst}"), json!({"value": dst.to_string()})))
    .evidence(Evidence::new(
        "sources",
        format!("{} probing sources", sources.len()),
        json!({"sources": sources.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "closed_ports": ports, "answered_ports": h.answered.len()}),
    ))
}

fn dga_finding(src: IpAddr, h: &HostDns, th: &Thresholds) -> Finding {
    let nx = h.nx_names.len();
    let odd = h.odd_names.len();
    let mut f = finding_base(
        "dga_lookups",
        &src.to_string(),
        format!("{src} looked up {odd} machine-made looking domains ({nx} distinct NXDOMAIN)"),
        Some(src),
        h.span,
    )
    .summary(format!(
        "Of {} lookups by {src}, {} failed with NXDOMAIN on {nx} distinct registered domains, and {odd} distinct registered domains had a label that character statistics score as machine-made (>= {DGA_LABEL_SCORE}). Thresholds: >= {} NXDOMAIN domains or >= {} such domains.",
        h.queries, h.nx, th.nxdomain_min_names, th.dga_min_names
    ))
    .severity(Severity::from_score((0.45 + 0.1 * ((nx.max(odd)) as f64 / 10.0).log2()).min(0.9)))
    .confidence(if nx >= th.nxdomain_min_names && odd >= th.dga_min_names { 0.85 } else { 0.65 })
    .technique(Technique::attack("T1568.002"))
    .technique(Technique::attack("T1071.004"));
    f = f.evidence(Evidence::new(
        "lookups",
        format!("{} queries, {} NXDOMAIN", h.queries, h.nx),
        json!({"queries": h.queries, "nxdomain": h.nx, "nxdomain_domains": nx, "dga_domains": odd, "nxdomain_samples": h.nx_samples, "dga_samples": h.odd_samples}),
    ));
    f
}

fn tunnel_finding(name: &str, d: &DomainDns, mean_len: f64, mean_entropy: f64) -> Finding {
    let mut sources: Vec<IpAddr> = d.sources.iter().copied().collect();
    sources.sort_unstable();
    let mut f = finding_base(
        "dns_tunnel",
        name,
        format!("{} distinct subdomains of {name} looked up (mean {:.0} characters)", d.subdomains.len(), mean_len),
        None,
        d.span,
    )
    .summary(format!(
        "{} lookups of {name} used {} distinct subdomains, {:.0} characters long on average with {:.2} bits of character entropy, and {} asked for TXT, NULL or other unusual record types: data carried in names (DNS tunnelling or exfiltration).",
        d.queries, d.subdomains.len(), mean_len, mean_entropy, d.unusual_types
    ))
    .severity(Severity::from_score(0.7))
    .confidence(0.7)
    .technique(Technique::attack("T1071.004"))
    .technique(Technique::attack("T1048"))
    .technique(Technique::attack("T1572"))
    .evidence(Evidence::new("observable", format!("tunnel domain {name}"), json!({"type": "domain-name", "value": name})))
    .evidence(Evidence::new(
        "lookups",
        format!("{} queries, {} subdomains", d.queries, d.subdomains.len()),
        json!({"queries": d.queries, "subdomains": d.subdomains.len(), "mean_length": mean_len, "mean_entropy": mean_entropy, "unusual_types": d.unusual_types, "samples": d.samples}),
    ));
    for ip in sources {
        f = f.evidence(observable(ip));
    }
    f
}

fn rare_finding(src: IpAddr, dsts: &[(IpAddr, u64)], population: usize) -> Finding {
    let shown: Vec<String> = dsts.iter().take(10).map(|(d, n)| format!("{d} ({n})")).collect();
    finding_base(
        "rare_destination",
        &src.to_string(),
        format!("{src} is the only host talking to {} external addresses", dsts.len()),
        Some(src),
        None,
    )
    .summary(format!(
        "Of {population} hosts seen, only {src} connected (3 or more times) to {} external addresses: {}.",
        dsts.len(),
        shown.join(", ")
    ))
    .severity(Severity::Low)
    .confidence(0.3)
    .technique(Technique::attack("T1071"))
    .evidence(Evidence::new(
        "destinations",
        format!("{} rare destinations", dsts.len()),
        json!({"destinations": dsts.iter().take(50).map(|(d, n)| json!({"address": d.to_string(), "connections": n})).collect::<Vec<_>>(), "population": population}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(times: impl Iterator<Item = f64>, bytes: u64) -> Vec<(f64, u64)> {
        times.map(|t| (t, bytes)).collect()
    }

    /// A deterministic jitter in [-1, 1) (splitmix-style), so the tests need no RNG.
    fn jitter(i: u64) -> f64 {
        let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    #[test]
    fn a_jittered_beacon_scores_high_and_random_traffic_low() {
        let day = (0.0, 86_400.0);
        let regular = series((0..288).map(|i| i as f64 * 300.0), 310);
        let jittered = series((0..288).map(|i| i as f64 * 300.0 + 60.0 * jitter(i)), 310);
        // Exponential gaps (a person's traffic) with varied sizes.
        let mut t = 0.0;
        let random: Vec<(f64, u64)> = (0..288)
            .map(|i| {
                t += -300.0 * (1.0 - (jitter(i) + 1.0) / 2.0).max(1e-9).ln();
                (t, 200 + (jitter(i + 999).abs() * 60_000.0) as u64)
            })
            .collect();
        let r = beacon_score(&regular, day).expect("scored").score;
        let j = beacon_score(&jittered, day).expect("scored").score;
        let n = beacon_score(&random, day).expect("scored").score;
        assert!(r > 0.95, "regular {r}");
        assert!(j > 0.8, "jittered {j}");
        assert!(n < 0.7, "random {n}");
    }

    #[test]
    fn a_beacon_that_sleeps_at_night_still_scores() {
        // Every 10 minutes from 08:00 to 18:00, five days running.
        let times =
            (0..5).flat_map(|d| (0..60).map(move |i| d as f64 * 86_400.0 + 8.0 * 3600.0 + i as f64 * 600.0));
        let s = beacon_score(&series(times, 500), (0.0, 5.0 * 86_400.0)).expect("scored");
        assert!(s.score > 0.75, "{s:?}");
    }

    #[test]
    fn sampling_keeps_a_long_series_bounded_and_regular() {
        let mut p = PairStats::default();
        for i in 0..100_000i64 {
            p.add(DateTime::from_timestamp(i * 60, 0).expect("time"), 100, false);
        }
        assert!(p.samples.len() <= MAX_SAMPLES);
        assert_eq!(p.connections, 100_000);
        let s = beacon_score(&p.samples, (0.0, 6_000_000.0)).expect("scored");
        assert!(s.score > 0.9, "{s:?}");
    }

    #[test]
    fn a_spent_budget_halves_a_pairs_sampling_instead_of_growing() {
        let mut p = PairStats::default();
        let mut kept: isize = 0;
        for i in 0..1000i64 {
            kept += p.add(DateTime::from_timestamp(i * 60, 0).expect("time"), 100, true);
        }
        assert_eq!(kept as usize, p.samples.len());
        assert!(p.samples.len() <= MIN_SAMPLES + 1, "{}", p.samples.len());
        assert_eq!(p.connections, 1000);
    }

    #[test]
    fn machine_made_labels_score_above_words() {
        for word in ["google", "microsoft", "election", "facebook", "wikipedia", "cloudflare"] {
            assert!(dga_score(word) < DGA_LABEL_SCORE, "{word} {}", dga_score(word));
        }
        for dga in ["xjw4qpz9kd", "qzvbxkrtmw", "k3j9x2q8zv7w", "vowyzuk", "qexyryl"] {
            assert!(dga_score(dga) >= DGA_LABEL_SCORE, "{dga} {}", dga_score(dga));
        }
        assert_eq!(registered_domain("a.b.example.co.uk"), ("example.co.uk", "a.b"));
        assert_eq!(registered_domain("www.example.com"), ("example.com", "www"));
        assert_eq!(registered_domain("example.com"), ("example.com", ""));
    }
}
