//! Per-event analysis: signatures, the learned profile and indicator lists, giving each
//! event a verdict and the rules behind it.

use std::hash::{Hash, Hasher};

use crate::event::{AuthOutcome, Event, EventKind};
use crate::indicators::IndicatorSet;
use crate::profile::Profile;
use crate::rules::{Rule, RuleSet, Verdict};
use crate::signatures::inspect;

/// An event with what the per-event detectors said about it.
#[derive(Debug, Clone)]
pub struct Analysed {
    /// The event as read (and placed at its office).
    pub event: Event,
    /// The rules it tripped.
    pub rules: RuleSet,
    /// The decoded payload that tripped an attack rule, if any.
    pub payload: Option<Vec<u8>>,
    /// Indicators (by index into the [`IndicatorSet`]) the event matched.
    pub indicators: Vec<u32>,
}

impl Analysed {
    /// The strongest verdict of its rules.
    pub fn verdict(&self) -> Verdict {
        self.rules.verdict()
    }

    /// A fingerprint of the payload that survives changes of quoting, case, spacing
    /// and numbers: two requests carrying "the same" injection share it.
    pub fn payload_fingerprint(&self) -> Option<u64> {
        let p = self.payload.as_ref()?;
        let canon = crate::decode::canonical(p);
        let mut h = rustc_hash::FxHasher::default();
        let mut last_digit = false;
        for &b in &canon {
            let d = b.is_ascii_digit();
            if !(d && last_digit) {
                (if d { b'0' } else { b }).hash(&mut h);
            }
            last_digit = d;
        }
        Some(h.finish())
    }
}

/// The per-event detectors, shared read-only across threads.
#[derive(Default)]
pub struct Analyser<'a> {
    /// The learned profile of normal traffic: requests outside it are anomalies.
    pub profile: Option<&'a Profile>,
    /// Indicators to match sources, hosts, URLs and user agents against.
    pub indicators: Option<&'a IndicatorSet>,
}

impl Analyser<'_> {
    /// Runs the signatures, the profile check and the indicator match on one event.
    pub fn analyse(&self, event: Event) -> Analysed {
        let mut rules = RuleSet::default();
        let mut payload = None;
        match event.kind {
            EventKind::Http | EventKind::Alert => {
                if event.target.is_some() || event.user_agent.is_some() {
                    let hit = inspect(&event);
                    rules = hit.rules;
                    payload = hit.payload;
                    if let Some(p) = self.profile
                        && event.kind == EventKind::Http
                    {
                        p.check(&event, &mut rules);
                    }
                }
                if event.alert.is_some() {
                    rules.insert(Rule::IdsAlert);
                    if payload.is_none() {
                        payload = event.alert.as_ref().map(|a| a.signature.as_bytes().to_vec());
                    }
                }
            }
            EventKind::Auth => {
                if matches!(event.auth, Some(AuthOutcome::Failed | AuthOutcome::InvalidUser)) {
                    rules.insert(Rule::AuthFailure);
                }
            }
            EventKind::Dns | EventKind::Tls | EventKind::Flow => {}
        }
        let indicators = match self.indicators {
            Some(set) => set.matches(&event),
            None => Vec::new(),
        };
        if !indicators.is_empty() {
            rules.insert(Rule::Indicator);
        }
        Analysed { event, rules, payload, indicators }
    }
}
