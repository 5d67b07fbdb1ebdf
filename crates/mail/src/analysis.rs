//! From the verdicts of every message to the dump's findings: altered and re-dated
//! messages, headers outside the signature, and forged variants (messages that share a
//! Message-ID but not their content), naming the variant that verifies.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique, TimeSpan};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::arc::{ArcCheck, ArcVerdict};
use crate::dkim::{SignatureCheck, Verdict};
use crate::message::Message;
use crate::near::{NearDuplicate, NearIndex, NearMember, text_signature_of_words};

/// The checks of one message, with what identifies it.
#[derive(Debug, Clone)]
pub struct MessageVerdicts {
    /// The file it came from.
    pub file: String,
    /// Its byte offset there.
    pub offset: u64,
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// The claimed date.
    pub date: Option<DateTime<Utc>>,
    /// `From:`.
    pub from: Option<String>,
    /// `Subject:`.
    pub subject: Option<String>,
    /// SHA-256 of the message as it stands in the dump.
    pub sha256: [u8; 32],
    /// A digest of what a reader reads (subject and text, whitespace folded): copies of
    /// one message that differ only in their transport headers share it.
    pub content: [u8; 16],
    /// One check per signature.
    pub checks: Vec<SignatureCheck>,
    /// The ARC chain's check, when the message has ARC fields (set by whoever verifies
    /// the chain: [`crate::verify_arc`]).
    pub arc: Option<ArcCheck>,
    /// The MinHash signature of the text, for near-duplicates (None for short texts).
    text_signature: Option<[u32; 16]>,
}

impl MessageVerdicts {
    /// The checks of `msg`, read from `file` at `offset`.
    pub fn new(file: &str, offset: u64, msg: &Message, checks: Vec<SignatureCheck>) -> MessageVerdicts {
        // The subject's words joined by single spaces, a NUL, then each word of the text
        // followed by a space: gathered into one buffer and hashed at once (a hasher
        // update per word costs more than the hashing on long texts).
        let words: Vec<&str> = msg.text.split_whitespace().collect();
        let subject = msg.subject.as_deref().unwrap_or("");
        let mut content_bytes = Vec::with_capacity(subject.len() + 1 + msg.text.len() + 1);
        for (i, w) in subject.split_whitespace().enumerate() {
            if i > 0 {
                content_bytes.push(b' ');
            }
            content_bytes.extend_from_slice(w.as_bytes());
        }
        content_bytes.push(0);
        for w in &words {
            content_bytes.extend_from_slice(w.as_bytes());
            content_bytes.push(b' ');
        }
        let digest = Sha256::digest(&content_bytes);
        let mut content = [0u8; 16];
        content.copy_from_slice(&digest[..16]);
        MessageVerdicts {
            file: file.to_owned(),
            offset,
            message_id: msg.message_id.clone(),
            date: msg.date,
            from: msg.from.clone(),
            subject: msg.subject.clone(),
            sha256: msg.sha256,
            content,
            checks,
            arc: None,
            text_signature: text_signature_of_words(&words),
        }
    }

    /// The message's verdict: its best signature's (a list's re-signing may break one
    /// signature of an authentic message and leave another whole).
    pub fn verdict(&self) -> Verdict {
        self.checks.iter().map(|c| c.verdict).min_by_key(|v| rank(*v)).unwrap_or(Verdict::Unsigned)
    }

    /// The message's SHA-256 in hex.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// How much a verdict says for the message: lower is stronger.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Authentic => 0,
        Verdict::UnsignedHeaderChanged => 1,
        Verdict::Expired => 2,
        Verdict::BodyAltered => 3,
        Verdict::HeadersAltered => 4,
        Verdict::KeyRevoked => 5,
        Verdict::KeyUnknown => 6,
        Verdict::MalformedSignature => 7,
        Verdict::Unsigned => 8,
    }
}

/// Messages per verdict (each message counted once, under its best signature's verdict).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictCounts {
    /// `authentic`.
    pub authentic: u64,
    /// `body_altered`.
    pub body_altered: u64,
    /// `headers_altered`.
    pub headers_altered: u64,
    /// `unsigned_header_changed`.
    pub unsigned_header_changed: u64,
    /// `key_unknown`.
    pub key_unknown: u64,
    /// `key_revoked`.
    pub key_revoked: u64,
    /// `expired`.
    pub expired: u64,
    /// `malformed_signature`.
    pub malformed_signature: u64,
    /// `unsigned`.
    pub unsigned: u64,
}

impl VerdictCounts {
    fn add(&mut self, v: Verdict) {
        *self.slot(v) += 1;
    }

    fn slot(&mut self, v: Verdict) -> &mut u64 {
        match v {
            Verdict::Authentic => &mut self.authentic,
            Verdict::BodyAltered => &mut self.body_altered,
            Verdict::HeadersAltered => &mut self.headers_altered,
            Verdict::UnsignedHeaderChanged => &mut self.unsigned_header_changed,
            Verdict::KeyUnknown => &mut self.key_unknown,
            Verdict::KeyRevoked => &mut self.key_revoked,
            Verdict::Expired => &mut self.expired,
            Verdict::MalformedSignature => &mut self.malformed_signature,
            Verdict::Unsigned => &mut self.unsigned,
        }
    }

    /// The count of one verdict.
    pub fn get(&self, v: Verdict) -> u64 {
        let mut c = self.clone();
        *c.slot(v)
    }
}

/// Messages per ARC verdict, over the messages that carry ARC fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArcCounts {
    /// Messages with ARC fields (the sum of the three below).
    pub chains: u64,
    /// Chains that validate.
    pub pass: u64,
    /// Chains that do not.
    pub fail: u64,
    /// Chains naming a key the archive lacks or has revoked.
    pub key_unknown: u64,
}

impl ArcCounts {
    /// Counts one chain's verdict.
    pub fn add(&mut self, v: ArcVerdict) {
        self.chains += 1;
        match v {
            ArcVerdict::Pass => self.pass += 1,
            ArcVerdict::Fail => self.fail += 1,
            ArcVerdict::KeyUnknown => self.key_unknown += 1,
        }
    }

    /// The count of one verdict.
    pub fn get(&self, v: ArcVerdict) -> u64 {
        match v {
            ArcVerdict::Pass => self.pass,
            ArcVerdict::Fail => self.fail,
            ArcVerdict::KeyUnknown => self.key_unknown,
        }
    }
}

/// One message of a forged-variant group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// `file:offset` of the first copy read.
    pub at: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// `Subject:`.
    pub subject: String,
    /// SHA-256 of the message (the first copy read).
    pub sha256: String,
    /// How many messages of the dump are this version (same content, same verdict).
    pub copies: u64,
}

/// Messages that share a Message-ID but not their content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantGroup {
    /// The shared Message-ID.
    pub message_id: String,
    /// Every message with it, the ones that verify first.
    pub variants: Vec<Variant>,
}

impl VariantGroup {
    /// The variants whose signature verified as authentic.
    pub fn verified(&self) -> impl Iterator<Item = &Variant> {
        self.variants.iter().filter(|v| v.verdict == Verdict::Authentic)
    }
}

/// What is kept of a version of a message for grouping: one per Message-ID and distinct
/// content and verdict, so that copies of one message (the same mail in several folders)
/// cost nothing more; memory grows with distinct messages, never with their size.
struct Kept {
    content: [u8; 16],
    verdict: Verdict,
    file: u32,
    offset: u64,
    subject: Box<str>,
    sha256: [u8; 32],
    copies: u64,
}

/// The longest subject kept for a variant's listing.
const KEPT_SUBJECT_CHARS: usize = 120;

/// Collects every message's verdicts and, at the end, the dump's findings.
#[derive(Default)]
pub struct DumpAnalysis {
    counts: VerdictCounts,
    arc: ArcCounts,
    signatures: u64,
    by_message_id: HashMap<Box<str>, Vec<Kept>>,
    files: Vec<String>,
    near: NearIndex,
    findings: Vec<Finding>,
    span: Option<TimeSpan>,
    // Names the dump in its finding's id: the digest of its messages' digests in order.
    dump_digest: Sha256,
}

/// The result of a dump's analysis.
#[derive(Debug, Clone)]
pub struct DumpReport {
    /// Messages per verdict.
    pub counts: VerdictCounts,
    /// Messages per ARC verdict.
    pub arc: ArcCounts,
    /// Signatures checked (an unsigned message counts none).
    pub signatures: u64,
    /// The forged-variant groups.
    pub variant_groups: Vec<VariantGroup>,
    /// Messages that are not authentic whose text nearly repeats an authentic one's.
    pub near_duplicates: Vec<NearDuplicate>,
    /// The findings.
    pub findings: Vec<Finding>,
}

fn attack_t1114() -> Technique {
    Technique::attack("T1114")
}

impl DumpAnalysis {
    /// An empty analysis.
    pub fn new() -> DumpAnalysis {
        DumpAnalysis::default()
    }

    /// Takes one message's verdicts.
    pub fn observe(&mut self, m: &MessageVerdicts) {
        let verdict = m.verdict();
        self.counts.add(verdict);
        if let Some(a) = &m.arc {
            self.arc.add(a.verdict);
        }
        self.dump_digest.update(m.sha256);
        self.signatures += m.checks.iter().filter(|c| c.verdict != Verdict::Unsigned).count() as u64;
        if let Some(d) = m.date {
            match &mut self.span {
                Some(s) => s.extend(d),
                None => self.span = Some(TimeSpan::new(d, d)),
            }
        }
        if let Some(f) = message_finding(m, verdict) {
            self.findings.push(f);
        }
        let member = || NearMember {
            message_id: m.message_id.clone().unwrap_or_default(),
            at: format!("{}:{}", m.file, m.offset),
            verdict,
        };
        if m.message_id.is_none()
            && let Some(sig) = m.text_signature
        {
            self.near.add(sig, member());
        }
        if let Some(id) = &m.message_id {
            if self.files.last().is_none_or(|f| *f != m.file) {
                self.files.push(m.file.clone());
            }
            let file = (self.files.len() - 1) as u32;
            let versions = self.by_message_id.entry(id.as_str().into()).or_default();
            match versions.iter_mut().find(|k| k.content == m.content && k.verdict == verdict) {
                Some(k) => k.copies += 1,
                None => {
                    if let Some(sig) = m.text_signature {
                        self.near.add(sig, member());
                    }
                    versions.push(Kept {
                        content: m.content,
                        verdict,
                        file,
                        offset: m.offset,
                        subject: m
                            .subject
                            .as_deref()
                            .unwrap_or("")
                            .chars()
                            .take(KEPT_SUBJECT_CHARS)
                            .collect(),
                        sha256: m.sha256,
                        copies: 1,
                    })
                }
            }
        }
    }

    /// The findings and groups of everything observed.
    pub fn finish(mut self) -> DumpReport {
        let mut groups: Vec<VariantGroup> = Vec::new();
        for (id, kept) in self.by_message_id {
            let first = kept[0].content;
            if kept.iter().all(|k| k.content == first) {
                continue;
            }
            let mut variants: Vec<Variant> = kept
                .into_iter()
                .map(|k| Variant {
                    at: format!("{}:{}", self.files[k.file as usize], k.offset),
                    verdict: k.verdict,
                    subject: k.subject.into(),
                    sha256: hex(&k.sha256),
                    copies: k.copies,
                })
                .collect();
            variants.sort_by(|a, b| rank(a.verdict).cmp(&rank(b.verdict)).then_with(|| a.at.cmp(&b.at)));
            groups.push(VariantGroup { message_id: id.into(), variants });
        }
        groups.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        for g in &groups {
            self.findings.push(variant_finding(g));
        }
        let near_duplicates = self.near.pairs();
        for n in &near_duplicates {
            self.findings.push(near_duplicate_finding(n));
        }
        let total: u64 = Verdict::ALL.iter().map(|v| self.counts.get(*v)).sum();
        if total > 0 {
            let key = hex(&self.dump_digest.finalize()[..16]);
            self.findings.push(dump_finding(&self.counts, total, self.span, &key));
        }
        DumpReport {
            counts: self.counts,
            arc: self.arc,
            signatures: self.signatures,
            variant_groups: groups,
            near_duplicates,
            findings: self.findings,
        }
    }
}

/// The finding a message's verdict calls for, if any: altered, re-dated, or with
/// headers a reader trusts outside the signature.
fn message_finding(m: &MessageVerdicts, verdict: Verdict) -> Option<Finding> {
    let (severity, what) = match verdict {
        Verdict::BodyAltered => (Severity::High, "body changed after signing"),
        Verdict::HeadersAltered => (Severity::High, "signed headers changed after signing"),
        Verdict::UnsignedHeaderChanged => {
            (Severity::Medium, "a header a reader trusts is outside the signature")
        }
        Verdict::Expired => (Severity::Medium, "dated outside its key's validity"),
        _ => return None,
    };
    let check = m.checks.iter().find(|c| c.verdict == verdict)?;
    let id = m.message_id.as_deref().unwrap_or("(no Message-ID)");
    let title = format!("Message {} from {}: {what}", id, m.from.as_deref().unwrap_or("(no From)"));
    let mut f = Finding::new(Engine::Mail, verdict.as_str(), &m.sha256_hex(), title)
        .summary(format!(
            "{} (signed by {}, selector {}). Subject: {}",
            check.detail,
            check.signing_domain,
            check.selector,
            m.subject.as_deref().unwrap_or("")
        ))
        .severity(severity)
        .confidence(if verdict == Verdict::UnsignedHeaderChanged { 0.6 } else { 0.9 })
        .time_span(m.date.map(|d| TimeSpan::new(d, d)))
        .scope(check.signing_domain.clone())
        .evidence(Evidence::new(
            "message",
            format!("{} at byte {}: {}", m.file, m.offset, check.detail),
            serde_json::json!({
                "file": m.file, "offset": m.offset, "message_id": m.message_id, "sha256": m.sha256_hex(),
                "verdict": verdict, "signing_domain": check.signing_domain, "selector": check.selector,
                "key_window": check.key_window, "signed_at": check.signed_at, "date": m.date,
            }),
        ))
        .technique(attack_t1114());
    if matches!(verdict, Verdict::BodyAltered | Verdict::HeadersAltered) {
        f = f.technique(Technique::disarm("T0085.002"));
    }
    Some(f)
}

fn variant_finding(g: &VariantGroup) -> Finding {
    let verified: Vec<&Variant> = g.verified().collect();
    let (severity, named) = if verified.is_empty() {
        (Severity::Medium, "none of them verifies".to_owned())
    } else {
        (
            Severity::High,
            format!(
                "the one that verifies: {}",
                verified.iter().map(|v| v.at.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )
    };
    let title = format!("{} versions of message {}: {named}", g.variants.len(), g.message_id);
    let mut f = Finding::new(Engine::Mail, "forged_variant", &g.message_id, title)
        .summary(format!(
            "{} messages share the Message-ID {} but differ in their text or subject; {named}. A leak seeded with forgeries copies the headers of a real message and changes its text.",
            g.variants.len(),
            g.message_id
        ))
        .severity(severity)
        .confidence(if verified.is_empty() { 0.5 } else { 0.9 })
        .technique(attack_t1114())
        .technique(Technique::disarm("T0085.002"));
    for v in &g.variants {
        f = f.evidence(Evidence::new(
            "variant",
            format!("{}: {} ({})", v.at, v.verdict, v.subject),
            serde_json::json!({"at": v.at, "verdict": v.verdict, "subject": v.subject, "sha256": v.sha256}),
        ));
    }
    f
}

fn near_duplicate_finding(n: &NearDuplicate) -> Finding {
    let title = format!(
        "Message {} ({}) nearly repeats the authentic {}",
        if n.suspect.message_id.is_empty() { "(no Message-ID)" } else { n.suspect.message_id.as_str() },
        n.suspect.verdict,
        n.authentic.message_id
    );
    Finding::new(Engine::Mail, "near_duplicate_variant", &format!("{}|{}", n.authentic.at, n.suspect.at), title)
        .summary(format!(
            "{} ({}) shares about {:.0}% of its word sequences with {} ({}), which verifies: a forgery copies the text of a real message and changes a few words.",
            n.suspect.at, n.suspect.verdict, 100.0 * n.similarity, n.authentic.at, n.authentic.message_id
        ))
        .severity(Severity::Medium)
        .confidence(n.similarity.min(0.9))
        .evidence(Evidence::new(
            "near_duplicate",
            format!("{} and {}", n.authentic.at, n.suspect.at),
            serde_json::to_value(n).unwrap_or_default(),
        ))
        .technique(attack_t1114())
        .technique(Technique::disarm("T0085.002"))
}

fn dump_finding(c: &VerdictCounts, total: u64, span: Option<TimeSpan>, key: &str) -> Finding {
    let suspect = c.body_altered + c.headers_altered + c.unsigned_header_changed + c.expired;
    let title = format!(
        "Leaked mail dump: {} of {total} messages authentic, {suspect} altered or suspect",
        c.authentic
    );
    Finding::new(Engine::Mail, "dump_verified", key, title)
        .summary(format!(
            "authentic {}, body_altered {}, headers_altered {}, unsigned_header_changed {}, expired {}, key_unknown {}, key_revoked {}, malformed_signature {}, unsigned {}",
            c.authentic, c.body_altered, c.headers_altered, c.unsigned_header_changed, c.expired, c.key_unknown,
            c.key_revoked, c.malformed_signature, c.unsigned
        ))
        .severity(if suspect > 0 { Severity::Medium } else { Severity::Info })
        .confidence(1.0)
        .time_span(span)
        .evidence(Evidence::new("verdict_counts", "messages per verdict", serde_json::to_value(c).unwrap_or_default()))
        .technique(attack_t1114())
        .technique(Technique::disarm("T0089.001"))
}

/// Separates the fields of a ledger entry's last column (as in the other engines' entries).
pub const LEDGER_FIELD_SEPARATOR: u8 = 0x1f;

/// Writes the ledger entry of one message into `buf` (cleared first):
/// `message \t dump \t FILE \t OFFSET \t SHA256 US VERDICT US MESSAGE-ID`, so that the
/// chain of custody of every message of a dump, and what was concluded about it, can
/// be proven later.
pub fn encode_ledger_entry(buf: &mut Vec<u8>, m: &MessageVerdicts) {
    buf.clear();
    for column in ["message", "dump", m.file.as_str()] {
        buf.extend_from_slice(column.as_bytes());
        buf.push(b'\t');
    }
    buf.extend_from_slice(m.offset.to_string().as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(m.sha256_hex().as_bytes());
    buf.push(LEDGER_FIELD_SEPARATOR);
    buf.extend_from_slice(m.verdict().as_str().as_bytes());
    buf.push(LEDGER_FIELD_SEPARATOR);
    // A Message-ID is header text: no tab or separator of ours survives in it.
    let id: String = m.message_id.as_deref().unwrap_or("").chars().filter(|c| !c.is_control()).collect();
    buf.extend_from_slice(id.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(file: &str, offset: u64, id: &str, text: &str, verdict: Verdict) -> MessageVerdicts {
        let msg = Message::parse(
            format!("From: a@example.org\nSubject: s\nMessage-ID: <{id}>\n\n{text}\n").as_bytes(),
        )
        .expect("parse");
        let check = SignatureCheck {
            signing_domain: "example.org".into(),
            selector: "s".into(),
            verdict,
            detail: String::new(),
            key_window: None,
            signed_at: None,
        };
        MessageVerdicts::new(file, offset, &msg, vec![check])
    }

    #[test]
    fn copies_are_counted_once_and_a_changed_text_makes_a_group_naming_the_verified_one() {
        let mut a = DumpAnalysis::new();
        a.observe(&version("inbox.mbox", 0, "1@x", "the real text", Verdict::Authentic));
        a.observe(&version("all.mbox", 900, "1@x", "the  real\ttext", Verdict::Authentic));
        a.observe(&version("leak.mbox", 40, "1@x", "a forged text", Verdict::BodyAltered));
        a.observe(&version("inbox.mbox", 300, "2@x", "only one", Verdict::Authentic));
        a.observe(&version("all.mbox", 0, "2@x", "only one", Verdict::Authentic));
        let r = a.finish();
        assert_eq!(r.counts.authentic, 4);
        assert_eq!(r.counts.body_altered, 1);
        assert_eq!(r.variant_groups.len(), 1, "copies of one text are no variants: {:?}", r.variant_groups);
        let g = &r.variant_groups[0];
        assert_eq!(g.message_id, "1@x");
        assert_eq!(g.variants.len(), 2);
        assert_eq!((g.variants[0].at.as_str(), g.variants[0].copies), ("inbox.mbox:0", 2));
        assert_eq!(g.variants[1].verdict, Verdict::BodyAltered);
        let kinds: Vec<&str> = r.findings.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["body_altered", "forged_variant", "dump_verified"]);
        assert!(
            r.findings[1].title.contains("the one that verifies: inbox.mbox:0"),
            "{}",
            r.findings[1].title
        );
    }

    #[test]
    fn a_near_copy_of_an_authentic_text_under_another_message_id_is_paired_with_it() {
        let real = "The committee will meet on Thursday to approve the final budget for the autumn campaign and the field offices in the three northern counties";
        let mut a = DumpAnalysis::new();
        a.observe(&version("inbox.mbox", 0, "real@x", real, Verdict::Authentic));
        a.observe(&version(
            "leak.mbox",
            10,
            "fake@x",
            &real.replace("Thursday", "Sunday"),
            Verdict::Unsigned,
        ));
        a.observe(&version("leak.mbox", 90, "other@x", "Please find attached the minutes of the last meeting of the volunteers and the schedule for the canvassing weekend", Verdict::Unsigned));
        let r = a.finish();
        assert_eq!(r.near_duplicates.len(), 1, "{:?}", r.near_duplicates);
        let n = &r.near_duplicates[0];
        assert_eq!((n.authentic.message_id.as_str(), n.suspect.message_id.as_str()), ("real@x", "fake@x"));
        assert!(r.findings.iter().any(|f| f.kind == "near_duplicate_variant"));
    }
}
