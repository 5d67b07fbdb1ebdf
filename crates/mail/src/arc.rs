//! ARC (RFC 8617): the chain of ARC sets that intermediaries (mailing lists, forwarders)
//! add, verified against the same [`KeyArchive`] as DKIM. Each set `i=N` has an
//! `ARC-Authentication-Results` (what that hop saw), an `ARC-Message-Signature` (a DKIM
//! signature of the message as it left that hop) and an `ARC-Seal` (a signature over
//! every set up to its own). The chain passes when the sets are numbered 1 to N without
//! gap or duplicate, the latest message signature verifies, every seal verifies and each
//! seal's `cv=` says what the chain was when it was sealed (`none` for the first, `pass`
//! after it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dkim::{
    Algorithm, BodyHashes, Canon, Signature, Verdict, parse_tag_list, relaxed_header, usable_keys,
    verify_header_data, verify_parsed, without_b_value,
};
use crate::keys::KeyArchive;
use crate::message::{HeaderField, Message};

/// The most ARC sets a chain may hold (RFC 8617 section 4.2.1).
pub const MAX_ARC_INSTANCES: u32 = 50;

/// The verdict on a message's ARC chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ArcVerdict {
    /// The chain validates (`cv=pass`): every seal and the latest message signature
    /// verify with archived keys.
    #[serde(rename = "arc_pass")]
    Pass,
    /// The chain does not validate (`cv=fail`): a seal or the latest message signature
    /// does not verify, the sets are misnumbered or incomplete, or a sealer recorded a
    /// failed chain.
    #[serde(rename = "arc_fail")]
    Fail,
    /// A key the chain names is not in the archive (or is revoked there), so it cannot
    /// be validated either way.
    #[serde(rename = "arc_key_unknown")]
    KeyUnknown,
}

impl ArcVerdict {
    /// The name written in `verdicts.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            ArcVerdict::Pass => "arc_pass",
            ArcVerdict::Fail => "arc_fail",
            ArcVerdict::KeyUnknown => "arc_key_unknown",
        }
    }
}

impl std::fmt::Display for ArcVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What checking a message's ARC chain gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArcCheck {
    /// The highest instance number found (the chain's length when it is well formed).
    pub instances: u32,
    /// `d=` of the latest ARC-Seal, when it could be read.
    pub signing_domain: String,
    /// `s=` of the latest ARC-Seal.
    pub selector: String,
    /// The verdict.
    pub verdict: ArcVerdict,
    /// The reason, in a sentence.
    pub detail: String,
}

/// One ARC set's fields, as found.
#[derive(Default)]
struct ArcSet<'a> {
    results: Option<&'a HeaderField>,
    signature: Option<&'a HeaderField>,
    seal: Option<&'a HeaderField>,
}

/// A parsed ARC-Seal.
struct Seal {
    algorithm: Algorithm,
    domain: String,
    selector: String,
    chain: String,
    signature: Vec<u8>,
}

/// The instance number of an ARC field's value (`i=N` first in an
/// ARC-Authentication-Results, a tag anywhere in the other two).
fn instance_of(kind: usize, value: &[u8]) -> Result<u32, String> {
    let text = std::str::from_utf8(value).map_err(|_| "not ASCII".to_owned())?;
    let raw = if kind == 0 {
        let t = text.trim_start();
        let rest = t.strip_prefix("i=").ok_or("does not start with i=")?;
        rest.split(';').next().unwrap_or("").trim().to_owned()
    } else {
        let tags = parse_tag_list(text)?;
        tags.into_iter().find(|(k, _)| k == "i").map(|(_, v)| v).ok_or("no i= tag")?
    };
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_ARC_INSTANCES).contains(&n) => Ok(n),
        _ => Err(format!(
            "i={} is not an instance from 1 to {MAX_ARC_INSTANCES}",
            scrutineer_core::text::echo_str(&raw)
        )),
    }
}

fn parse_seal(value: &[u8]) -> Result<Seal, String> {
    let text = std::str::from_utf8(value).map_err(|_| "the seal is not ASCII".to_owned())?;
    // The tag list's grammar (RFC 6376 section 3.2) has no empty tag between two `;`.
    let parts: Vec<&str> = text.split(';').collect();
    if parts.iter().rev().skip(1).any(|p| p.trim().is_empty()) {
        return Err("an empty tag (two ';' in a row)".into());
    }
    let tags = parse_tag_list(text)?;
    let get = |n: &str| tags.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let need = |n: &str| get(n).ok_or_else(|| format!("required tag {n}= missing"));
    if get("h").is_some() {
        return Err("h= is not allowed in an ARC-Seal".into());
    }
    let algorithm = match need("a")?.to_ascii_lowercase().as_str() {
        "rsa-sha256" => Algorithm::RsaSha256,
        "ed25519-sha256" => Algorithm::Ed25519Sha256,
        other => return Err(format!("unknown algorithm a={}", scrutineer_core::text::echo_str(other))),
    };
    let clean: String = need("b")?.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    use base64::Engine as _;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .map_err(|e| format!("b= is not base64: {e}"))?;
    Ok(Seal {
        algorithm,
        domain: need("d")?.trim().trim_end_matches('.').to_ascii_lowercase(),
        selector: need("s")?.trim().to_ascii_lowercase(),
        chain: need("cv")?.trim().to_ascii_lowercase(),
        signature,
    })
}

/// Checks the ARC chain of `msg` against `keys`; `None` when the message has no ARC field.
pub fn verify_arc(msg: &Message, keys: &KeyArchive) -> Option<ArcCheck> {
    const NAMES: [&str; 3] = ["arc-authentication-results", "arc-message-signature", "arc-seal"];
    const SHOWN: [&str; 3] = ["ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"];
    let mut sets: BTreeMap<u32, ArcSet> = BTreeMap::new();
    let mut problem: Option<String> = None;
    for h in &msg.headers {
        let Some(kind) = NAMES.iter().position(|n| msg.name(h).eq_ignore_ascii_case(n.as_bytes())) else {
            continue;
        };
        match instance_of(kind, msg.value(h)) {
            Ok(i) => {
                let set = sets.entry(i).or_default();
                let slot = match kind {
                    0 => &mut set.results,
                    1 => &mut set.signature,
                    _ => &mut set.seal,
                };
                if slot.is_some() {
                    problem.get_or_insert(format!("instance {i} has two {} fields", SHOWN[kind]));
                }
                *slot = Some(h);
            }
            Err(e) => {
                problem.get_or_insert(format!("an {} field's instance cannot be read: {e}", SHOWN[kind]));
            }
        }
    }
    if sets.is_empty() && problem.is_none() {
        return None;
    }
    let instances = sets.keys().next_back().copied().unwrap_or(0);
    let latest_seal = sets.get(&instances).and_then(|s| s.seal).and_then(|f| parse_seal(msg.value(f)).ok());
    let mut out = ArcCheck {
        instances,
        signing_domain: latest_seal.as_ref().map(|s| s.domain.clone()).unwrap_or_default(),
        selector: latest_seal.as_ref().map(|s| s.selector.clone()).unwrap_or_default(),
        verdict: ArcVerdict::Fail,
        detail: String::new(),
    };
    let fail = |mut out: ArcCheck, verdict: ArcVerdict, detail: String| {
        out.verdict = verdict;
        out.detail = detail;
        Some(out)
    };
    if let Some(p) = problem {
        return fail(out, ArcVerdict::Fail, format!("the ARC chain is malformed: {p}"));
    }
    // Complete sets numbered 1 to N.
    let mut ordered: Vec<(&HeaderField, &HeaderField, &HeaderField)> = Vec::new();
    for i in 1..=instances {
        let Some(set) = sets.get(&i) else {
            return fail(
                out,
                ArcVerdict::Fail,
                format!("the ARC chain skips instance {i} (highest {instances})"),
            );
        };
        match (set.results, set.signature, set.seal) {
            (Some(r), Some(s), Some(seal)) => ordered.push((r, s, seal)),
            _ => {
                let missing: Vec<&str> = [set.results, set.signature, set.seal]
                    .iter()
                    .zip(SHOWN)
                    .filter(|(f, _)| f.is_none())
                    .map(|(_, n)| n)
                    .collect();
                return fail(out, ArcVerdict::Fail, format!("ARC set {i} lacks {}", missing.join(" and ")));
            }
        }
    }
    let mut seals = Vec::with_capacity(ordered.len());
    for (i, (_, _, seal)) in ordered.iter().enumerate() {
        match parse_seal(msg.value(seal)) {
            Ok(s) => seals.push(s),
            Err(e) => {
                return fail(out, ArcVerdict::Fail, format!("ARC-Seal i={} cannot be read: {e}", i + 1));
            }
        }
    }
    // What each sealer recorded of the chain before it.
    for (i, s) in seals.iter().enumerate().rev() {
        let expected = if i == 0 { "none" } else { "pass" };
        if s.chain != expected {
            let why = if s.chain == "fail" {
                format!(
                    "ARC-Seal i={} records cv=fail: the chain was already broken when it was sealed",
                    i + 1
                )
            } else {
                format!(
                    "ARC-Seal i={} records cv={} where cv={expected} belongs",
                    i + 1,
                    scrutineer_core::text::echo_str(&s.chain)
                )
            };
            return fail(out, ArcVerdict::Fail, why);
        }
    }
    // The latest message signature, as a DKIM signature of the message as it stands.
    let (_, ams_field, _) = ordered[ordered.len() - 1];
    let ams = match Signature::parse_as(msg.value(ams_field), true) {
        Ok(s) => s,
        Err(e) => {
            return fail(
                out,
                ArcVerdict::Fail,
                format!("ARC-Message-Signature i={instances} cannot be read: {e}"),
            );
        }
    };
    if ams.signed_headers.iter().any(|h| h == "arc-seal") {
        return fail(out, ArcVerdict::Fail, format!("ARC-Message-Signature i={instances} signs ARC-Seal"));
    }
    let mut bodies = BodyHashes::default();
    let ams_check = verify_parsed(msg, ams_field, &ams, keys, &mut bodies);
    if !ams_check.verdict.signature_verified() {
        let verdict = match ams_check.verdict {
            Verdict::KeyUnknown | Verdict::KeyRevoked => ArcVerdict::KeyUnknown,
            _ => ArcVerdict::Fail,
        };
        return fail(
            out,
            verdict,
            format!(
                "ARC-Message-Signature i={instances} (d={}): {}: {}",
                ams.domain, ams_check.verdict, ams_check.detail
            ),
        );
    }
    // Every seal, over the sets up to its own, newest first.
    let mut data = Vec::with_capacity(4096);
    for i in (0..seals.len()).rev() {
        data.clear();
        for (j, (results, signature, seal)) in ordered.iter().take(i + 1).enumerate() {
            relaxed_header(msg.name(results), msg.value(results), &mut data);
            relaxed_header(msg.name(signature), msg.value(signature), &mut data);
            if j == i {
                relaxed_header(msg.name(seal), &without_b_value(msg.value(seal)), &mut data);
                if data.ends_with(b"\r\n") {
                    data.truncate(data.len() - 2);
                }
            } else {
                relaxed_header(msg.name(seal), msg.value(seal), &mut data);
            }
        }
        let seal = &seals[i];
        let as_sig = Signature {
            domain: seal.domain.clone(),
            selector: seal.selector.clone(),
            algorithm: seal.algorithm,
            header_canon: Canon::Relaxed,
            body_canon: Canon::Relaxed,
            signed_headers: Vec::new(),
            body_hash: Vec::new(),
            signature: Vec::new(),
            length: None,
            timestamp: None,
            expiration: None,
            identity: None,
            copied_headers: Vec::new(),
        };
        let candidates = match usable_keys(&as_sig, keys) {
            Ok(c) => c,
            Err((verdict, why)) => {
                let verdict = match verdict {
                    Verdict::KeyUnknown | Verdict::KeyRevoked => ArcVerdict::KeyUnknown,
                    _ => ArcVerdict::Fail,
                };
                return fail(out, verdict, format!("ARC-Seal i={} (d={}): {why}", i + 1, seal.domain));
            }
        };
        if !candidates.iter().any(|c| verify_header_data(c.key, seal.algorithm, &data, &seal.signature)) {
            return fail(
                out,
                ArcVerdict::Fail,
                format!(
                    "ARC-Seal i={} (d={}, s={}) does not verify with the archived key: an ARC set up to it was changed",
                    i + 1,
                    seal.domain,
                    seal.selector
                ),
            );
        }
    }
    let sealers: Vec<String> = seals.iter().map(|s| s.domain.clone()).collect();
    out.verdict = ArcVerdict::Pass;
    out.detail = format!(
        "ARC chain of {instances} set(s) validates (cv=pass): every seal verifies (sealed by {}) and the latest ARC-Message-Signature (d={}) verifies",
        sealers.join(", "),
        ams.domain
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::canonical_body;
    use crate::keys::KeyRecord;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use ed25519_dalek::Signer as _;
    use sha2::{Digest, Sha256};

    const MESSAGE: &str = "From: Ana <ana@example.org>\r\nTo: list@lists.example.net\r\nSubject: Budget\r\nDate: Tue, 14 Jan 2020 06:29:55 -0500\r\nMessage-ID: <1@example.org>\r\n\r\nThe budget is final.\r\n";

    fn key(seed: u8) -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
    }

    fn archive(sealers: &[(&str, u8)]) -> KeyArchive {
        let mut a = KeyArchive::new();
        for (domain, seed) in sealers {
            a.insert(KeyRecord {
                name: format!("arc._domainkey.{domain}"),
                record: format!(
                    "v=DKIM1; k=ed25519; p={}",
                    STANDARD.encode(key(*seed).verifying_key().to_bytes())
                ),
                first_seen: None,
                last_seen: None,
            });
        }
        a
    }

    fn sign(key: &ed25519_dalek::SigningKey, data: &[u8]) -> String {
        STANDARD.encode(key.sign(&Sha256::digest(data)).to_bytes())
    }

    /// Adds ARC set `i` sealed by `domain` (cv= as given), the way an intermediary would.
    fn seal(msg: &str, i: u32, domain: &str, seed: u8, cv: &str) -> String {
        let k = key(seed);
        let m = Message::parse(msg.as_bytes()).expect("parse");
        let bh = STANDARD.encode(Sha256::digest(canonical_body(Canon::Relaxed, m.body())));
        let aar = format!("ARC-Authentication-Results: i={i}; {domain}; dkim=pass header.d=example.org\r\n");
        let ams_unsigned = format!(
            "ARC-Message-Signature: i={i}; a=ed25519-sha256; c=relaxed/relaxed; d={domain}; s=arc;\r\n h=from:to:subject:date:message-id; bh={bh}; b=\r\n"
        );
        // The AMS signs the h= fields (bottom up) and then itself.
        let with_ams = format!("{ams_unsigned}{msg}");
        let m2 = Message::parse(with_ams.as_bytes()).expect("parse");
        let mut data = Vec::new();
        for name in ["from", "to", "subject", "date", "message-id"] {
            let h = m2.fields_named(name).last().expect("field");
            relaxed_header(m2.name(h), m2.value(h), &mut data);
        }
        relaxed_header(m2.name(&m2.headers[0]), &without_b_value(m2.value(&m2.headers[0])), &mut data);
        data.truncate(data.len() - 2);
        let ams = ams_unsigned.replacen("b=\r\n", &format!("b={}\r\n", sign(&k, &data)), 1);
        // The seal signs every earlier set and this one, oldest first.
        let as_unsigned = format!("ARC-Seal: i={i}; a=ed25519-sha256; cv={cv}; d={domain}; s=arc; b=\r\n");
        let with_set = format!("{as_unsigned}{ams}{aar}{msg}");
        let m3 = Message::parse(with_set.as_bytes()).expect("parse");
        let mut data = Vec::new();
        for j in 1..=i {
            for name in NAMES_IN_ORDER {
                let kind = NAMES_IN_ORDER.iter().position(|n| n == &name).unwrap_or(0);
                // A set missing below this one (the gap test) is skipped.
                let Some(h) = m3.fields_named(name).find(|h| instance_of(kind, m3.value(h)).ok() == Some(j))
                else {
                    continue;
                };
                if j == i && name == "arc-seal" {
                    relaxed_header(m3.name(h), &without_b_value(m3.value(h)), &mut data);
                    data.truncate(data.len() - 2);
                } else {
                    relaxed_header(m3.name(h), m3.value(h), &mut data);
                }
            }
        }
        let sealed = as_unsigned.replacen("b=\r\n", &format!("b={}\r\n", sign(&k, &data)), 1);
        format!("{sealed}{ams}{aar}{msg}")
    }

    const NAMES_IN_ORDER: [&str; 3] = ["arc-authentication-results", "arc-message-signature", "arc-seal"];

    fn check(msg: &str, keys: &KeyArchive) -> ArcCheck {
        verify_arc(&Message::parse(msg.as_bytes()).expect("parse"), keys).expect("an ARC chain")
    }

    #[test]
    fn a_sealed_chain_passes_and_each_break_fails_with_its_reason() {
        let keys = archive(&[("lists.example.net", 1), ("forward.example.com", 2)]);
        assert!(verify_arc(&Message::parse(MESSAGE.as_bytes()).expect("parse"), &keys).is_none());
        let one = seal(MESSAGE, 1, "lists.example.net", 1, "none");
        let c = check(&one, &keys);
        assert_eq!(
            (c.verdict, c.instances, c.signing_domain.as_str()),
            (ArcVerdict::Pass, 1, "lists.example.net"),
            "{}",
            c.detail
        );
        let two = seal(&one, 2, "forward.example.com", 2, "pass");
        assert_eq!(check(&two, &keys).verdict, ArcVerdict::Pass, "{}", check(&two, &keys).detail);

        // The body changed after the last hop: the latest message signature breaks.
        let c = check(&two.replace("is final", "is void"), &keys);
        assert_eq!(c.verdict, ArcVerdict::Fail);
        assert!(
            c.detail.contains("ARC-Message-Signature i=2") && c.detail.contains("body_altered"),
            "{}",
            c.detail
        );
        // The first hop's results rewritten: its seal, and the next, no longer verify.
        let c = check(
            &two.replace("dkim=pass header.d=example.org\r\nFrom", "dkim=fail header.d=example.org\r\nFrom"),
            &keys,
        );
        assert_eq!(c.verdict, ArcVerdict::Fail);
        assert!(c.detail.contains("ARC-Seal i=2") && c.detail.contains("does not verify"), "{}", c.detail);
        // A second hop that says the chain was fine when it was not first: cv=pass at i=1.
        let c = check(&seal(MESSAGE, 1, "lists.example.net", 1, "pass"), &keys);
        assert!(c.verdict == ArcVerdict::Fail && c.detail.contains("cv=pass where cv=none"), "{}", c.detail);
        // A set removed: the numbering has a gap.
        let gap = seal(MESSAGE, 2, "forward.example.com", 2, "pass");
        let c = check(&gap, &keys);
        assert!(c.verdict == ArcVerdict::Fail && c.detail.contains("skips instance 1"), "{}", c.detail);
        // A sealer whose key the archive lacks.
        let c = check(&two, &archive(&[("lists.example.net", 1)]));
        assert_eq!(c.verdict, ArcVerdict::KeyUnknown, "{}", c.detail);
        // A seal signed with another key than the archived one.
        let c = check(&two, &archive(&[("lists.example.net", 1), ("forward.example.com", 3)]));
        assert_eq!(c.verdict, ArcVerdict::Fail, "{}", c.detail);
        // Two seals for one instance.
        let dup = two.replacen(
            "ARC-Seal: i=2",
            "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x; s=y; b=AA==\r\nARC-Seal: i=2",
            1,
        );
        let c = check(&dup, &keys);
        assert!(c.verdict == ArcVerdict::Fail && c.detail.contains("two ARC-Seal"), "{}", c.detail);
    }
}
