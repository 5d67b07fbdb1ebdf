use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::technique::Technique;

/// The engine that produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Influence,
    Infra,
    Ballots,
    Audit,
    Hunt,
    Mail,
}

impl Engine {
    pub const ALL: [Engine; 6] =
        [Engine::Influence, Engine::Infra, Engine::Ballots, Engine::Audit, Engine::Hunt, Engine::Mail];

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Influence => "influence",
            Engine::Infra => "infra",
            Engine::Ballots => "ballots",
            Engine::Audit => "audit",
            Engine::Hunt => "hunt",
            Engine::Mail => "mail",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no known variant of an enum.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} '{value}' (expected one of: {expected})")]
pub struct ParseEnumError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl FromStr for Engine {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Engine::ALL.into_iter().find(|e| e.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| ParseEnumError {
            what: "engine",
            value: s.to_owned(),
            expected: "influence, infra, ballots, audit, hunt, mail",
        })
    }
}

/// How urgently an analyst should look at a finding. Ordered: `Info < Low < ... < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Maps a score in 0..1 onto the five levels at fixed cut points, so that engines
    /// that score continuously agree on what "high" means.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 0.9 => Severity::Critical,
            s if s >= 0.7 => Severity::High,
            s if s >= 0.4 => Severity::Medium,
            s if s >= 0.15 => Severity::Low,
            _ => Severity::Info,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| ParseEnumError {
            what: "severity",
            value: s.to_owned(),
            expected: "info, low, medium, high, critical",
        })
    }
}

/// A closed interval of time in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSpan {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl TimeSpan {
    /// A span covering both instants, whichever order they come in.
    pub fn new(a: DateTime<Utc>, b: DateTime<Utc>) -> TimeSpan {
        TimeSpan { start: a.min(b), end: a.max(b) }
    }

    pub fn extend(&mut self, t: DateTime<Utc>) {
        self.start = self.start.min(t);
        self.end = self.end.max(t);
    }
}

/// One piece of evidence: a human sentence plus structured data a tool can read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What sort of evidence this is (`shared_retweet`, `sample_post`, `request`, `envelope`, ...).
    pub kind: String,
    /// One sentence an analyst can read without the data.
    pub description: String,
    /// The machine-readable detail (ids, counts, timestamps).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

impl Evidence {
    pub fn new(kind: impl Into<String>, description: impl Into<String>, data: serde_json::Value) -> Evidence {
        Evidence { kind: kind.into(), description: description.into(), data }
    }
}

/// A stable identifier: the same engine, kind and key always give the same id, so that a
/// re-run updates a finding instead of duplicating it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FindingId(pub String);

impl FindingId {
    pub fn derive(engine: Engine, kind: &str, key: &str) -> FindingId {
        let mut h = Sha256::new();
        h.update(engine.as_str().as_bytes());
        h.update([0u8]);
        h.update(kind.as_bytes());
        h.update([0u8]);
        h.update(key.as_bytes());
        let digest = h.finalize();
        FindingId(format!("{}-{}", engine.as_str(), hex::encode(&digest[..8])))
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A claim an engine makes about its input, with everything needed to check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: FindingId,
    pub engine: Engine,
    /// Machine name of the kind of finding (`coordinated_network`, `sql_injection`, `duplicate_return`, ...).
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub severity: Severity,
    /// How sure the engine is that the claim holds, 0..1.
    pub confidence: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_span: Option<TimeSpan>,
    /// Where the finding applies: a jurisdiction (county, state) or a platform (`twitter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub techniques: Vec<Technique>,
}

impl Finding {
    /// Starts a finding whose id is derived from `engine`, `kind` and `key`.
    pub fn new(engine: Engine, kind: &str, key: &str, title: impl Into<String>) -> Finding {
        Finding {
            id: FindingId::derive(engine, kind, key),
            engine,
            kind: kind.to_owned(),
            title: title.into(),
            summary: String::new(),
            severity: Severity::Info,
            confidence: 0.0,
            time_span: None,
            scope: None,
            evidence: Vec::new(),
            techniques: Vec::new(),
        }
    }

    pub fn summary(mut self, s: impl Into<String>) -> Finding {
        self.summary = s.into();
        self
    }

    pub fn severity(mut self, s: Severity) -> Finding {
        self.severity = s;
        self
    }

    /// Sets the confidence, clamped into 0..1 (NaN becomes 0).
    pub fn confidence(mut self, c: f64) -> Finding {
        self.confidence = if c.is_nan() { 0.0 } else { c.clamp(0.0, 1.0) };
        self
    }

    pub fn time_span(mut self, span: Option<TimeSpan>) -> Finding {
        self.time_span = span;
        self
    }

    pub fn scope(mut self, scope: impl Into<String>) -> Finding {
        self.scope = Some(scope.into());
        self
    }

    pub fn evidence(mut self, e: Evidence) -> Finding {
        self.evidence.push(e);
        self
    }

    pub fn technique(mut self, t: Technique) -> Finding {
        if !self.techniques.contains(&t) {
            self.techniques.push(t);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = FindingId::derive(Engine::Influence, "coordinated_network", "n1");
        let b = FindingId::derive(Engine::Influence, "coordinated_network", "n1");
        let c = FindingId::derive(Engine::Influence, "coordinated_network", "n2");
        let d = FindingId::derive(Engine::Infra, "coordinated_network", "n1");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert!(a.0.starts_with("influence-"));
    }

    #[test]
    fn confidence_is_clamped() {
        let f = Finding::new(Engine::Audit, "k", "x", "t").confidence(3.0);
        assert_eq!(f.confidence, 1.0);
        let f = Finding::new(Engine::Audit, "k", "x", "t").confidence(f64::NAN);
        assert_eq!(f.confidence, 0.0);
    }

    #[test]
    fn severity_round_trips_and_orders() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().ok(), Some(s));
        }
        assert!(Severity::Critical > Severity::Low);
        assert!("bogus".parse::<Severity>().is_err());
        assert_eq!(Severity::from_score(0.95), Severity::Critical);
        assert_eq!(Severity::from_score(0.0), Severity::Info);
    }

    #[test]
    fn finding_serialises_to_json_and_back() {
        let f = Finding::new(Engine::Ballots, "duplicate_return", "E1", "Envelope E1 returned twice")
            .severity(Severity::High)
            .confidence(0.9)
            .evidence(Evidence::new("envelope", "scanned twice", serde_json::json!({"scans": 2})))
            .technique(Technique::attack("T1190"));
        let s = serde_json::to_string(&f).expect("serialise");
        let back: Finding = serde_json::from_str(&s).expect("parse");
        assert_eq!(back, f);
    }
}
