//! A positive model of normal traffic, learned from requests known to be normal, in the
//! manner of ModSecurity's learning mode and Kruegel & Vigna's anomaly models: for each
//! endpoint the methods and parameters it takes, and for each parameter the lengths,
//! character classes and (when it takes few values) the set of values it was seen with.
//!
//! A request departs from the profile when its endpoint, method or a parameter name was
//! never seen, or a value is longer than any seen, uses a character class never seen, or
//! falls outside a small value set. The thresholds are few and fixed:
//! * a parameter is an *enumeration* when it took at most [`ENUM_MAX`] distinct values
//!   over at least [`ENUM_MIN_PER_VALUE`] observations per value (so that the set has
//!   had the chance to be seen whole);
//! * lengths may not exceed the longest seen (no slack: a positive model is closed);
//! * character classes are digits, lower-case ASCII, upper-case ASCII, non-ASCII letters
//!   and each punctuation character on its own.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::decode::percent_decode;
use crate::event::{Event, text};
use crate::rules::{Rule, RuleSet};
use crate::signatures::params;

/// At most this many distinct values make an enumeration.
pub const ENUM_MAX: usize = 10;
/// Observations per distinct value needed before a value set is enforced.
pub const ENUM_MIN_PER_VALUE: u64 = 10;
/// Distinct values remembered per parameter while learning.
const VALUES_KEPT: usize = 64;

/// What one parameter of an endpoint looked like in normal traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamProfile {
    /// Times seen.
    pub count: u64,
    /// Shortest value, in bytes.
    pub min_len: usize,
    /// Longest value, in bytes.
    pub max_len: usize,
    /// Character classes seen, as a sorted string of class symbols.
    pub classes: String,
    /// Values seen with their counts, while there are at most `VALUES_KEPT` of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<BTreeMap<String, u64>>,
}

/// What requests to one endpoint (path) looked like in normal traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointProfile {
    /// Requests seen.
    pub count: u64,
    /// HTTP methods seen.
    pub methods: BTreeSet<String>,
    /// Parameters seen (query and body), by name.
    pub params: BTreeMap<String, ParamProfile>,
}

/// The learned model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The file format's name and version (`scrutineer-infra-profile/1`).
    pub format: String,
    /// Requests learned from.
    pub requests: u64,
    /// Endpoints by percent-decoded path.
    pub endpoints: BTreeMap<String, EndpointProfile>,
}

/// The class symbol of a byte: `d` digit, `l` lower, `u` upper, `L` non-ASCII, `c`
/// control, otherwise the character itself.
pub fn class_of(b: u8) -> char {
    match b {
        b'0'..=b'9' => 'd',
        b'a'..=b'z' => 'l',
        b'A'..=b'Z' => 'u',
        0x80..=0xff => 'L',
        0..=0x1f | 0x7f => 'c',
        _ => b as char,
    }
}

fn class_mask(v: &[u8]) -> [bool; 128] {
    let mut m = [false; 128];
    for &b in v {
        m[class_of(b) as usize & 0x7f] = true;
    }
    m
}

/// The endpoint key of a request: its percent-decoded path.
pub fn endpoint_key(ev: &Event) -> Option<String> {
    let p = ev.path()?;
    Some(if p.contains('%') { text(&percent_decode(p.as_bytes(), false)) } else { p.to_owned() })
}

impl Profile {
    /// An empty profile of the current format.
    pub fn new() -> Profile {
        Profile { format: "scrutineer-infra-profile/1".to_owned(), ..Profile::default() }
    }

    /// Adds one request known to be normal. Error responses (4xx/5xx) are not learned.
    pub fn learn(&mut self, ev: &Event) {
        if ev.status.is_some_and(|s| s >= 400) {
            return;
        }
        let (Some(key), Some(method)) = (endpoint_key(ev), ev.method.as_deref()) else { return };
        self.requests += 1;
        let ep = self.endpoints.entry(key).or_default();
        ep.count += 1;
        if !ep.methods.contains(method) {
            ep.methods.insert(method.to_owned());
        }
        for (k, v) in params(ev) {
            let p = ep.params.entry(text(&k)).or_insert_with(|| ParamProfile {
                min_len: usize::MAX,
                values: Some(BTreeMap::new()),
                ..ParamProfile::default()
            });
            p.count += 1;
            p.min_len = p.min_len.min(v.len());
            p.max_len = p.max_len.max(v.len());
            let mask = class_mask(&v);
            if mask.iter().enumerate().any(|(c, on)| *on && !p.classes.contains(c as u8 as char)) {
                let mut cs: Vec<char> = p.classes.chars().collect();
                cs.extend(mask.iter().enumerate().filter(|(_, on)| **on).map(|(c, _)| c as u8 as char));
                cs.sort_unstable();
                cs.dedup();
                p.classes = cs.into_iter().collect();
            }
            if let Some(values) = &mut p.values {
                *values.entry(text(&v)).or_default() += 1;
                if values.len() > VALUES_KEPT {
                    p.values = None;
                }
            }
        }
    }

    /// Merges a profile learned on another part of the data.
    pub fn merge(&mut self, other: Profile) {
        self.requests += other.requests;
        for (k, o) in other.endpoints {
            let ep = self.endpoints.entry(k).or_default();
            ep.count += o.count;
            ep.methods.extend(o.methods);
            for (name, op) in o.params {
                match ep.params.get_mut(&name) {
                    None => {
                        ep.params.insert(name, op);
                    }
                    Some(p) => {
                        p.count += op.count;
                        p.min_len = p.min_len.min(op.min_len);
                        p.max_len = p.max_len.max(op.max_len);
                        let mut cs: Vec<char> = p.classes.chars().chain(op.classes.chars()).collect();
                        cs.sort_unstable();
                        cs.dedup();
                        p.classes = cs.into_iter().collect();
                        p.values = match (p.values.take(), op.values) {
                            (Some(mut a), Some(b)) => {
                                for (v, n) in b {
                                    *a.entry(v).or_default() += n;
                                }
                                if a.len() > VALUES_KEPT { None } else { Some(a) }
                            }
                            _ => None,
                        };
                    }
                }
            }
        }
    }

    /// The profile rules a request breaks.
    pub fn check(&self, ev: &Event, out: &mut RuleSet) {
        let Some(key) = endpoint_key(ev) else { return };
        let Some(ep) = self.endpoints.get(&key) else {
            out.insert(Rule::UnknownEndpoint);
            return;
        };
        if let Some(m) = ev.method.as_deref()
            && !ep.methods.contains(m)
        {
            out.insert(Rule::UnexpectedMethod);
        }
        for (k, v) in params(ev) {
            let Some(p) = ep.params.get(text(&k).as_str()) else {
                out.insert(Rule::UnknownParam);
                continue;
            };
            if v.len() > p.max_len {
                out.insert(Rule::Length);
            }
            let mask = class_mask(&v);
            if mask.iter().enumerate().any(|(c, on)| *on && !p.classes.contains(c as u8 as char)) {
                out.insert(Rule::CharClass);
            }
            if let Some(values) = &p.values {
                let distinct = values.len();
                if distinct <= ENUM_MAX
                    && p.count >= ENUM_MIN_PER_VALUE * distinct as u64
                    && !values.contains_key(text(&v).as_str())
                {
                    out.insert(Rule::ValueSet);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(t: &str) -> Event {
        Event { method: Some("GET".into()), target: Some(t.into()), ..Event::default() }
    }

    fn learned() -> Profile {
        let mut p = Profile::new();
        for i in 0..100 {
            p.learn(&get(&format!("/shop/add.jsp?id={}&qty={}&B1=Add+to+cart", i % 3, i)));
        }
        p
    }

    fn broken(p: &Profile, t: &str) -> String {
        let mut r = RuleSet::default();
        p.check(&get(t), &mut r);
        r.names()
    }

    #[test]
    fn departures_from_the_profile_are_named() {
        let p = learned();
        assert_eq!(broken(&p, "/shop/add.jsp?id=1&qty=42&B1=Add+to+cart"), "");
        assert_eq!(broken(&p, "/shop/add.jsp.old"), "profile-endpoint");
        assert_eq!(broken(&p, "/shop/add.jsp?id=1&qty=42&B1A=Add+to+cart"), "profile-param");
        assert_eq!(broken(&p, "/shop/add.jsp?id=1&qty=4%2F&B1=Add+to+cart"), "profile-charset");
        assert_eq!(broken(&p, "/shop/add.jsp?id=1&qty=4222&B1=Add+to+cart"), "profile-length");
        assert_eq!(broken(&p, "/shop/add.jsp?id=7&qty=42&B1=Add+to+cart"), "profile-value");
        let mut post = get("/shop/add.jsp?id=1");
        post.method = Some("PUT".into());
        let mut r = RuleSet::default();
        p.check(&post, &mut r);
        assert_eq!(r.names(), "profile-method");
    }

    #[test]
    fn profile_round_trips_and_merges() {
        let p = learned();
        let json = serde_json::to_string(&p).expect("json");
        let back: Profile = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, p);
        let mut a = Profile::new();
        a.merge(p.clone());
        assert_eq!(a.requests, p.requests);
        assert_eq!(a.endpoints, p.endpoints);
    }
}
