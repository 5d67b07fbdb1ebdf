//! Campaigns: hostile sources linked by what they share (a /24 or /48 network, an ASN, an
//! attack payload, a tool's user agent, the order of their attack requests), and the
//! offices each group reached. A group touching several offices ranks higher.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use scrutineer_core::{Engine, Evidence, Finding, FindingId, Severity, Technique, TimeSpan};
use serde_json::json;

use super::{Campaign, SourceStats, extend_span, observable};
use crate::tables::AsnTable;

/// A hostile source: its index in the sorted source list and the techniques of its
/// findings.
pub(super) struct HostileSource {
    pub(super) index: usize,
    pub(super) techniques: Vec<Technique>,
}

/// Links the hostile sources into groups; every group of two or more sources, or one
/// source active at two or more offices, is a `campaign` finding and a [`Campaign`].
/// Findings come in group order, campaigns by score (then events), highest first.
pub(super) fn link_campaigns(
    sources: &[(IpAddr, SourceStats)],
    hostile: &[HostileSource],
    asn: Option<&AsnTable>,
) -> (Vec<Finding>, Vec<Campaign>) {
    let mut uf = UnionFind((0..hostile.len()).collect());
    let mut keys: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (n, h) in hostile.iter().enumerate() {
        for key in link_keys(sources[h.index].0, &sources[h.index].1, asn) {
            keys.entry(key).or_default().push(n);
        }
    }
    let mut links_of: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (k, members) in &keys {
        for w in members.windows(2) {
            uf.union(w[0], w[1]);
        }
        if members.len() > 1 {
            let root = uf.find(members[0]);
            links_of.entry(root).or_default().insert(k.clone());
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for n in 0..hostile.len() {
        let r = uf.find(n);
        groups.entry(r).or_default().push(n);
    }
    let mut findings = Vec::new();
    let mut campaigns = Vec::new();
    for (root, members) in groups {
        let mut juris: BTreeSet<String> = BTreeSet::new();
        let mut events = 0;
        let mut span: Option<TimeSpan> = None;
        let mut techs: BTreeSet<Technique> = BTreeSet::new();
        let mut srcs = Vec::new();
        for &n in &members {
            let (ip, s) = &sources[hostile[n].index];
            juris.extend(s.jurisdictions.keys().map(|j| j.to_string()));
            events += s.hostile + s.anomalies + s.failures.len() as u64;
            if let Some(sp) = s.span {
                extend_span(&mut span, Some(sp.start));
                extend_span(&mut span, Some(sp.end));
            }
            techs.extend(hostile[n].techniques.iter().cloned());
            srcs.push(ip.to_string());
        }
        if members.len() < 2 && juris.len() < 2 {
            continue;
        }
        let links: Vec<String> = links_of.remove(&root).map(|l| l.into_iter().collect()).unwrap_or_default();
        let score = campaign_score(juris.len(), members.len(), events);
        let key = srcs.join(",");
        let id = FindingId::derive(Engine::Infra, "campaign", &key).0;
        let tech_list: Vec<Technique> = techs.into_iter().collect();
        let offices = juris.iter().cloned().collect::<Vec<_>>().join(", ");
        let mut f = Finding::new(
            Engine::Infra,
            "campaign",
            &key,
            format!("campaign: {} source(s) across {} office(s): {offices}", srcs.len(), juris.len()),
        )
        .summary(format!(
            "Sources {} are linked ({}) and were active against {offices}. A campaign touching several offices ranks higher.",
            srcs.iter().take(10).cloned().collect::<Vec<_>>().join(", "),
            if links.is_empty() { "same source".to_owned() } else { links.join("; ") },
        ))
        .severity(Severity::from_score(score))
        .confidence(
            if links.iter().any(|l| l.starts_with("payload") || l.starts_with("tool")) || members.len() == 1 {
                0.85
            } else {
                0.6
            },
        )
        .time_span(span)
        .scope(offices);
        for ip in srcs.iter().take(50).filter_map(|s| s.parse::<IpAddr>().ok()) {
            f = f.evidence(observable(ip));
        }
        f = f.evidence(Evidence::new(
            "links",
            "what links the sources",
            json!({"links": links, "jurisdictions": juris, "events": events}),
        ));
        for t in &tech_list {
            f = f.technique(t.clone());
        }
        if f.techniques.is_empty() {
            f = f.technique(Technique::attack("T1595"));
        }
        findings.push(f);
        campaigns.push(Campaign {
            id,
            sources: srcs,
            jurisdictions: juris.into_iter().collect(),
            events,
            links,
            score,
            techniques: tech_list.iter().map(|t| t.id.clone()).collect(),
            start: span.map(|s| s.start),
            end: span.map(|s| s.end),
        });
    }
    campaigns.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.events.cmp(&a.events)));
    (findings, campaigns)
}

/// Score of a campaign: offices reached count most, then the number of sources and
/// the volume of hostile events (both logarithmic). At most 1.
fn campaign_score(offices: usize, sources: usize, events: u64) -> f64 {
    (0.35
        + 0.2 * (offices as f64 - 1.0)
        + 0.05 * (sources as f64).ln()
        + 0.05 * (events as f64 + 1.0).log10())
    .min(1.0)
}

/// What a source shares with others that links them: every key two sources have in
/// common puts them in one group.
fn link_keys(ip: IpAddr, s: &SourceStats, asn: Option<&AsnTable>) -> Vec<String> {
    let mut keys = vec![format!("network {}", net_key(ip))];
    if let Some((asn, _)) = asn.and_then(|t| t.lookup(ip)) {
        keys.push(format!("AS{asn}"));
    }
    for fp in s.payloads.keys() {
        keys.push(format!("payload {fp:016x}"));
    }
    for ua in s.agents.keys().filter(|u| is_tool_agent(u)) {
        keys.push(format!("tool '{ua}'"));
    }
    if s.attack_order.len() >= 3 {
        let mut h = rustc_hash::FxHasher::default();
        s.attack_order.hash(&mut h);
        keys.push(format!("request order {:016x}", h.finish()));
    }
    keys.extend(s.net_links.iter().cloned());
    keys
}

fn net_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

fn is_tool_agent(ua: &str) -> bool {
    // Browser user agents are shared by millions and link nothing; tool agents do.
    !ua.starts_with("Mozilla/") && !ua.starts_with("Opera/") && ua.len() > 2
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}
