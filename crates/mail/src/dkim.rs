//! DKIM (RFC 6376) verification against a [`KeyArchive`]: the signature's tags, simple
//! and relaxed canonicalisation, `l=`, RSA-SHA256, RSA-SHA1 and Ed25519-SHA256
//! (RFC 8463), and the verdicts an analyst of a leaked dump needs, evaluated at the
//! message's claimed date rather than today.

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::keys::{KeyArchive, KeyRecord, KeyState, PublicKey};
use crate::message::{HeaderField, Message};

/// The header fields a reader trusts: one of them outside the signature's cover means
/// what the reader sees may not be what was signed.
/// (`Sender` is left out: mailing lists add it to every message they pass on.)
pub const TRUSTED_HEADERS: [&str; 6] = ["from", "to", "cc", "subject", "date", "reply-to"];

/// The verdict on one signature (or on an unsigned message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The signature and the body hash verify with an archived key.
    Authentic,
    /// The signed headers verify but the body hash does not: the body was changed.
    BodyAltered,
    /// The signature over the signed headers does not verify.
    HeadersAltered,
    /// The signature verifies, but a header a reader trusts is not covered by it.
    UnsignedHeaderChanged,
    /// The archive holds no key for the signature's selector and domain.
    KeyUnknown,
    /// The archived record has an empty `p=`: the key was revoked.
    KeyRevoked,
    /// The signature verifies but had expired (`x=`), or its key was not published, at the
    /// message's claimed date.
    Expired,
    /// The signature (or the key it names) cannot be read or used.
    MalformedSignature,
    /// The message carries no DKIM signature.
    Unsigned,
}

impl Verdict {
    /// Every verdict, in the order the summary lists them.
    pub const ALL: [Verdict; 9] = [
        Verdict::Authentic,
        Verdict::BodyAltered,
        Verdict::HeadersAltered,
        Verdict::UnsignedHeaderChanged,
        Verdict::KeyUnknown,
        Verdict::KeyRevoked,
        Verdict::Expired,
        Verdict::MalformedSignature,
        Verdict::Unsigned,
    ];

    /// The name written in `verdicts.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Authentic => "authentic",
            Verdict::BodyAltered => "body_altered",
            Verdict::HeadersAltered => "headers_altered",
            Verdict::UnsignedHeaderChanged => "unsigned_header_changed",
            Verdict::KeyUnknown => "key_unknown",
            Verdict::KeyRevoked => "key_revoked",
            Verdict::Expired => "expired",
            Verdict::MalformedSignature => "malformed_signature",
            Verdict::Unsigned => "unsigned",
        }
    }

    /// True when the signature itself verified (the message is as it was signed, though
    /// the verdict may still warn about dates or unsigned headers).
    pub fn signature_verified(self) -> bool {
        matches!(self, Verdict::Authentic | Verdict::UnsignedHeaderChanged | Verdict::Expired)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `rsa-sha256`.
    RsaSha256,
    /// `rsa-sha1` (RFC 8301 forbids signing with it; old mail has it).
    RsaSha1,
    /// `ed25519-sha256` (RFC 8463).
    Ed25519Sha256,
}

impl Algorithm {
    fn hash_name(self) -> &'static str {
        match self {
            Algorithm::RsaSha1 => "sha1",
            _ => "sha256",
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::RsaSha1 => Sha1::digest(data).to_vec(),
            _ => Sha256::digest(data).to_vec(),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Algorithm::RsaSha256 => "rsa-sha256",
            Algorithm::RsaSha1 => "rsa-sha1",
            Algorithm::Ed25519Sha256 => "ed25519-sha256",
        }
    }
}

/// Simple or relaxed canonicalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canon {
    /// `simple`.
    Simple,
    /// `relaxed`.
    Relaxed,
}

/// A parsed `DKIM-Signature`.
#[derive(Debug, Clone)]
pub struct Signature {
    /// `d=`.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// `a=`.
    pub algorithm: Algorithm,
    /// The header canonicalisation (`c=` before the slash).
    pub header_canon: Canon,
    /// The body canonicalisation.
    pub body_canon: Canon,
    /// `h=`, lower case, in order.
    pub signed_headers: Vec<String>,
    /// `bh=`, decoded.
    pub body_hash: Vec<u8>,
    /// `b=`, decoded.
    pub signature: Vec<u8>,
    /// `l=`.
    pub length: Option<u64>,
    /// `t=`, seconds since the epoch.
    pub timestamp: Option<i64>,
    /// `x=`.
    pub expiration: Option<i64>,
    /// `i=`.
    pub identity: Option<String>,
    /// `z=`, decoded: the header fields as the signer saw them.
    pub copied_headers: Vec<(String, String)>,
}

/// Splits a tag list (`a=b; c=d`) into lower-level `(name, value)` pairs, whitespace
/// around names and values removed; a duplicated or nameless tag makes the list invalid.
pub fn parse_tag_list(text: &str) -> Result<Vec<(String, String)>, String> {
    Ok(tag_list(text)?.into_iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect())
}

/// [`parse_tag_list`] borrowing from `text` (a signature is parsed once per message, and
/// a string per tag name and value is most of what that costs).
pub(crate) fn tag_list(text: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut tags: Vec<(&str, &str)> = Vec::with_capacity(16);
    for part in text.split(';') {
        if part.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("tag without '=': {}", scrutineer_core::text::echo_str(part.trim())));
        };
        let name = name.trim();
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!("bad tag name '{}'", scrutineer_core::text::echo_str(name)));
        }
        if tags.iter().any(|(n, _)| *n == name) {
            return Err(format!("tag {name}= appears twice"));
        }
        tags.push((name, value.trim()));
    }
    Ok(tags)
}

fn b64(tag: &str, v: &str) -> Result<Vec<u8>, String> {
    let engine = &base64::engine::general_purpose::STANDARD;
    let decoded = if v.bytes().any(|b| b.is_ascii_whitespace()) {
        let clean: Vec<u8> = v.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        engine.decode(clean)
    } else {
        engine.decode(v)
    };
    decoded.map_err(|e| format!("{tag}= is not base64: {e}"))
}

fn number(tag: &str, v: &str) -> Result<u64, String> {
    if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{tag}= is not a number: {}", scrutineer_core::text::echo_str(v)));
    }
    v.parse().map_err(|_| format!("{tag}= is out of range"))
}

/// Decodes `dkim-quoted-printable` (`=XX` escapes, whitespace dropped), as `z=` uses.
fn dkim_qp(v: &str) -> String {
    let bytes: Vec<u8> = v.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len() + 1
            && let Some(h) = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok())
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Signature {
    /// Parses the value of a `DKIM-Signature` field.
    pub fn parse(value: &[u8]) -> Result<Signature, String> {
        Signature::parse_as(value, false)
    }

    /// Parses a `DKIM-Signature` value, or with `arc` an `ARC-Message-Signature` one
    /// (RFC 8617 section 4.1.2: no `v=`, and `i=` is the instance, not an identity).
    pub(crate) fn parse_as(value: &[u8], arc: bool) -> Result<Signature, String> {
        let text = std::str::from_utf8(value).map_err(|_| "the signature is not ASCII".to_owned())?;
        let tags = tag_list(text)?;
        let get = |n: &str| tags.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let need = |n: &str| get(n).ok_or_else(|| format!("required tag {n}= missing"));
        if !arc && need("v")? != "1" {
            return Err(format!("v={} is not 1", scrutineer_core::text::echo_str(need("v")?)));
        }
        let algorithm = match need("a")?.to_ascii_lowercase().as_str() {
            "rsa-sha256" => Algorithm::RsaSha256,
            // ARC came after RFC 8301 retired SHA-1 (RFC 8617 section 4.1.2 names rsa-sha256).
            "rsa-sha1" if arc => return Err("a=rsa-sha1 is not an ARC algorithm".into()),
            "rsa-sha1" => Algorithm::RsaSha1,
            "ed25519-sha256" => Algorithm::Ed25519Sha256,
            other => return Err(format!("unknown algorithm a={}", scrutineer_core::text::echo_str(other))),
        };
        let (header_canon, body_canon) = match get("c") {
            // An ARC-Message-Signature without c= is relaxed (RFC 8617 section 4.1.2).
            None if arc => (Canon::Relaxed, Canon::Relaxed),
            None => (Canon::Simple, Canon::Simple),
            Some(c) => {
                let canon = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
                    "simple" => Ok(Canon::Simple),
                    "relaxed" => Ok(Canon::Relaxed),
                    _ => Err(format!("unknown canonicalisation c={}", scrutineer_core::text::echo_str(c))),
                };
                match c.split_once('/') {
                    Some((h, b)) => (canon(h)?, canon(b)?),
                    None => (canon(c)?, Canon::Simple),
                }
            }
        };
        let domain = need("d")?.trim().trim_end_matches('.').to_ascii_lowercase();
        let selector = need("s")?.trim().to_ascii_lowercase();
        if domain.is_empty() || selector.is_empty() {
            return Err("empty d= or s=".into());
        }
        let signed_headers: Vec<String> =
            need("h")?.split(':').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        // An ARC-Message-Signature need not sign From (RFC 8617 section 4.1.2).
        if !arc && !signed_headers.iter().any(|h| h == "from") {
            return Err("h= does not sign From".into());
        }
        if let Some(q) = get("q")
            && !q.split(':').any(|m| m.trim().eq_ignore_ascii_case("dns/txt"))
        {
            return Err(format!("query method q={} is not dns/txt", scrutineer_core::text::echo_str(q)));
        }
        let identity = if arc { None } else { get("i").map(str::to_owned) };
        if let Some(i) = &identity {
            let idom =
                i.rsplit_once('@').map(|(_, d)| d).unwrap_or("").trim_end_matches('.').to_ascii_lowercase();
            if idom != domain && !idom.ends_with(&format!(".{domain}")) {
                return Err(format!("i={} is not within d={domain}", scrutineer_core::text::echo_str(i)));
            }
        }
        let timestamp = get("t").map(|v| number("t", v)).transpose()?.map(|v| v as i64);
        let expiration = get("x").map(|v| number("x", v)).transpose()?.map(|v| v as i64);
        if let (Some(t), Some(x)) = (timestamp, expiration)
            && x < t
        {
            return Err(format!("x={x} is before t={t}"));
        }
        let copied_headers = get("z")
            .map(|z| {
                z.split('|')
                    .filter_map(|f| {
                        let f = dkim_qp(f);
                        f.split_once(':').map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Signature {
            domain,
            selector,
            algorithm,
            header_canon,
            body_canon,
            signed_headers,
            body_hash: b64("bh", need("bh")?)?,
            signature: b64("b", need("b")?)?,
            length: get("l").map(|v| number("l", v)).transpose()?,
            timestamp,
            expiration,
            identity,
            copied_headers,
        })
    }
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A header field in relaxed form: lower-case name, unfolded value with runs of
/// whitespace as one space and none at either end, then CRLF.
pub(crate) fn relaxed_header(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    let end = name.iter().rposition(|&b| !is_wsp(b)).map_or(0, |i| i + 1);
    out.extend(name[..end].iter().map(u8::to_ascii_lowercase));
    out.push(b':');
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => pending_space = started,
            _ => {
                if pending_space {
                    out.push(b' ');
                }
                pending_space = false;
                started = true;
                out.push(b);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
}

fn canon_header(canon: Canon, msg: &Message, h: &HeaderField, out: &mut Vec<u8>) {
    match canon {
        Canon::Simple => out.extend_from_slice(msg.field(h)),
        Canon::Relaxed => relaxed_header(msg.name(h), msg.value(h), out),
    }
}

/// The body in canonical form.
pub fn canonical_body(canon: Canon, body: &[u8]) -> Vec<u8> {
    canonical_body_cow(canon, body).into_owned()
}

/// [`canonical_body`] without a copy when the body is already canonical (simple
/// canonicalisation only drops trailing empty lines).
fn canonical_body_cow(canon: Canon, body: &[u8]) -> Cow<'_, [u8]> {
    let mut out = match canon {
        Canon::Simple => {
            let mut end = body.len();
            while body[..end].ends_with(b"\r\n\r\n") {
                end -= 2;
            }
            let kept = &body[..end];
            if kept.is_empty() {
                return Cow::Borrowed(b"\r\n");
            }
            if kept.ends_with(b"\r\n") {
                return Cow::Borrowed(kept);
            }
            kept.to_vec()
        }
        Canon::Relaxed => {
            let mut out = Vec::with_capacity(body.len());
            for line in body.split_inclusive(|&b| b == b'\n') {
                let (content, eol) = match line.strip_suffix(b"\r\n") {
                    Some(c) => (c, true),
                    None => (line, false),
                };
                // Runs of whitespace become one space; whitespace at the line's end goes.
                let mut rest = content;
                while let Some(i) = memchr::memchr2(b' ', b'\t', rest) {
                    out.extend_from_slice(&rest[..i]);
                    let run = rest[i..].iter().take_while(|&&b| is_wsp(b)).count();
                    rest = &rest[i + run..];
                    if !rest.is_empty() {
                        out.push(b' ');
                    }
                }
                out.extend_from_slice(rest);
                if eol {
                    out.extend_from_slice(b"\r\n");
                }
            }
            out
        }
    };
    // Both forms drop the empty lines at the end; simple keeps one CRLF even for an
    // empty body, relaxed none.
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    while out.ends_with(b"\r\n\r\n") {
        out.truncate(out.len() - 2);
    }
    if out == b"\r\n" && canon == Canon::Relaxed {
        out.clear();
    }
    if out.is_empty() && canon == Canon::Simple {
        out.extend_from_slice(b"\r\n");
    }
    Cow::Owned(out)
}

/// The value of the signature field with its `b=` tag's value removed.
pub(crate) fn without_b_value(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for (i, part) in value.split(|&b| b == b';').enumerate() {
        if i > 0 {
            out.push(b';');
        }
        let eq = part.iter().position(|&b| b == b'=');
        let name_is_b = eq.is_some_and(|e| {
            let name: Vec<u8> = part[..e].iter().copied().filter(|b| !b" \t\r\n".contains(b)).collect();
            name == b"b"
        });
        match eq {
            Some(e) if name_is_b => out.extend_from_slice(&part[..=e]),
            _ => out.extend_from_slice(part),
        }
    }
    out
}

/// What checking one signature gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureCheck {
    /// `d=`, when the signature could be read that far.
    pub signing_domain: String,
    /// `s=`.
    pub selector: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The reason, in a sentence.
    pub detail: String,
    /// When the key that verified it was seen published, for dating the message.
    pub key_window: Option<KeyWindow>,
    /// `t=`, when the signature had one.
    pub signed_at: Option<DateTime<Utc>>,
}

/// The dates an archived key was seen published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyWindow {
    /// First seen, if known.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last seen, if known.
    pub last_seen: Option<DateTime<Utc>>,
}

impl KeyWindow {
    /// True when `t` falls outside the window (an unknown end bounds nothing).
    pub fn excludes(&self, t: DateTime<Utc>) -> bool {
        self.first_seen.is_some_and(|f| t < f) || self.last_seen.is_some_and(|l| t > l)
    }

    fn describe(&self) -> String {
        let d = |t: Option<DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or("?".into());
        format!("{}..{}", d(self.first_seen), d(self.last_seen))
    }
}

fn fmt_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// Checks every DKIM signature of `msg` against `keys`: one check per signature, or one
/// [`Verdict::Unsigned`] check for a message without any.
pub fn verify_message(msg: &Message, keys: &KeyArchive) -> Vec<SignatureCheck> {
    let sigs: Vec<&HeaderField> = msg.fields_named("dkim-signature").collect();
    if sigs.is_empty() {
        return vec![SignatureCheck {
            signing_domain: String::new(),
            selector: String::new(),
            verdict: Verdict::Unsigned,
            detail: "no DKIM-Signature header".into(),
            key_window: None,
            signed_at: None,
        }];
    }
    let mut bodies = BodyHashes::default();
    sigs.into_iter().map(|h| verify_signature(msg, h, keys, &mut bodies)).collect()
}

/// A message's body hashes, computed once per canonicalisation, hash and `l=` however
/// many signatures share them (a list's signature and the author's often do).
#[derive(Default)]
pub(crate) struct BodyHashes {
    hashes: Vec<(Canon, bool, Option<u64>, BodyHash)>,
}

#[derive(Clone)]
struct BodyHash {
    digest: Vec<u8>,
    /// The body is shorter than `l=`.
    short: bool,
    canonical_len: usize,
}

impl BodyHashes {
    fn get(&mut self, msg: &Message, canon: Canon, alg: Algorithm, length: Option<u64>) -> BodyHash {
        let sha1 = alg == Algorithm::RsaSha1;
        if let Some((.., h)) =
            self.hashes.iter().find(|(c, s, l, _)| *c == canon && *s == sha1 && *l == length)
        {
            return h.clone();
        }
        let body = canonical_body_cow(canon, msg.body());
        let (hashed, short) = match length {
            Some(l) if l > body.len() as u64 => (&body[..], true),
            Some(l) => (&body[..l as usize], false),
            None => (&body[..], false),
        };
        let h = BodyHash { digest: alg.digest(hashed), short, canonical_len: body.len() };
        self.hashes.push((canon, sha1, length, h.clone()));
        h
    }
}

fn check(sig: &Signature, verdict: Verdict, detail: String) -> SignatureCheck {
    SignatureCheck {
        signing_domain: sig.domain.clone(),
        selector: sig.selector.clone(),
        verdict,
        detail,
        key_window: None,
        signed_at: sig.timestamp.and_then(|t| DateTime::<Utc>::from_timestamp(t, 0)),
    }
}

/// A key usable for this signature, and its record.
pub(crate) struct Candidate<'a> {
    pub(crate) key: &'a PublicKey,
    record: &'a KeyRecord,
    testing: bool,
}

fn verify_signature(
    msg: &Message,
    field: &HeaderField,
    keys: &KeyArchive,
    bodies: &mut BodyHashes,
) -> SignatureCheck {
    let sig = match Signature::parse(msg.value(field)) {
        Ok(s) => s,
        Err(reason) => {
            // What can still be read of d= and s= names the row.
            let tags = std::str::from_utf8(msg.value(field)).ok().and_then(|t| parse_tag_list(t).ok());
            let tag = |n: &str| {
                tags.as_ref()
                    .and_then(|t| t.iter().find(|(k, _)| k == n))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            return SignatureCheck {
                signing_domain: tag("d"),
                selector: tag("s"),
                verdict: Verdict::MalformedSignature,
                detail: reason,
                key_window: None,
                signed_at: None,
            };
        }
    };
    verify_parsed(msg, field, &sig, keys, bodies)
}

/// The archived keys usable for a signature by `sig`'s domain, selector and algorithm,
/// or the verdict and reason when there is none.
pub(crate) fn usable_keys<'a>(
    sig: &Signature,
    keys: &'a KeyArchive,
) -> Result<Vec<Candidate<'a>>, (Verdict, String)> {
    let name = format!("{}._domainkey.{}", sig.selector, sig.domain);
    let mut candidates = Vec::new();
    let mut revoked = 0;
    let mut unusable = Vec::new();
    let mut records = 0;
    for (record, parsed) in keys.lookup_parsed(&sig.selector, &sig.domain) {
        records += 1;
        match parsed {
            Ok(KeyState::Revoked) => revoked += 1,
            Ok(KeyState::Key { key, hashes, testing, strict }) => {
                let kind_fits = matches!(
                    (key, sig.algorithm),
                    (PublicKey::Rsa(_), Algorithm::RsaSha256 | Algorithm::RsaSha1)
                        | (PublicKey::Ed25519(_), Algorithm::Ed25519Sha256)
                );
                if !kind_fits {
                    unusable.push(format!("the archived key is not for {}", sig.algorithm.as_str()));
                } else if !hashes.is_empty() && !hashes.iter().any(|h| h == sig.algorithm.hash_name()) {
                    unusable.push(format!("the key allows only h={}", hashes.join(":")));
                } else if *strict
                    && sig
                        .identity
                        .as_deref()
                        .and_then(|i| i.rsplit_once('@'))
                        .is_some_and(|(_, d)| !d.eq_ignore_ascii_case(&sig.domain))
                {
                    unusable.push("the key is strict (t=s) and i= is a subdomain of d=".into());
                } else {
                    candidates.push(Candidate { key, record, testing: *testing });
                }
            }
            Err(e) => unusable.push(e.clone()),
        }
    }
    if records == 0 {
        return Err((Verdict::KeyUnknown, format!("no key for {name} in the archive")));
    }
    if candidates.is_empty() {
        return Err(if revoked > 0 && unusable.is_empty() {
            (
                Verdict::KeyRevoked,
                format!("the archived record for {name} has an empty p=: the key was revoked"),
            )
        } else {
            (Verdict::MalformedSignature, format!("no usable key for {name}: {}", unusable.join("; ")))
        });
    }
    Ok(candidates)
}

/// Checks a parsed signature of `msg` (in `field`) against the archive.
pub(crate) fn verify_parsed(
    msg: &Message,
    field: &HeaderField,
    sig: &Signature,
    keys: &KeyArchive,
    bodies: &mut BodyHashes,
) -> SignatureCheck {
    let candidates = match usable_keys(sig, keys) {
        Ok(c) => c,
        Err((verdict, detail)) => return check(sig, verdict, detail),
    };

    let body = bodies.get(msg, sig.body_canon, sig.algorithm, sig.length);
    let (short_body, body_len) = (body.short, body.canonical_len);
    let body_ok = !short_body && body.digest == sig.body_hash;
    let header_data = signed_header_data(msg, field, sig);
    let verified: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| verify_header_data(c.key, sig.algorithm, &header_data, &sig.signature))
        .collect();
    let claimed = msg.date.or_else(|| sig.timestamp.and_then(|t| DateTime::<Utc>::from_timestamp(t, 0)));

    let Some(best) =
        verified.iter().find(|c| claimed.is_none_or(|d| !window(c.record).excludes(d))).or(verified.first())
    else {
        let body_note = if body_ok { "the body hash matches" } else { "the body hash does not match either" };
        let mut detail = format!(
            "the signature over the signed headers ({}) does not verify with the archived key; {body_note}",
            sig.signed_headers.join(":")
        );
        let changed = changed_copied_headers(msg, sig);
        if !changed.is_empty() {
            let _ = write!(detail, "; changed since signing (z=): {}", changed.join(", "));
        }
        return check(sig, Verdict::HeadersAltered, detail);
    };
    let mut out = check(sig, Verdict::Authentic, String::new());
    let key_window = window(best.record);
    out.key_window = Some(key_window);
    if !body_ok {
        out.verdict = Verdict::BodyAltered;
        out.detail = if short_body {
            format!("the signed headers verify but the body is shorter than l={}", sig.length.unwrap_or(0))
        } else {
            "the signed headers verify but the body hash does not match: the body was changed after signing"
                .into()
        };
        return out;
    }
    if let (Some(x), Some(d)) = (sig.expiration, claimed)
        && x < d.timestamp()
    {
        out.verdict = Verdict::Expired;
        out.detail = format!(
            "the signature verifies but expired (x=) at {}, before the message's date {}",
            DateTime::<Utc>::from_timestamp(x, 0).map(fmt_date).unwrap_or_default(),
            fmt_date(d)
        );
        return out;
    }
    if let Some(d) = claimed
        && key_window.excludes(d)
    {
        out.verdict = Verdict::Expired;
        out.detail = format!(
            "the signature verifies but the message is dated {} and the key was published only {}",
            fmt_date(d),
            key_window.describe()
        );
        return out;
    }
    let uncovered = uncovered_trusted_headers(msg, sig);
    if !uncovered.is_empty() {
        out.verdict = Verdict::UnsignedHeaderChanged;
        out.detail = format!("the signature verifies but does not cover {}", uncovered.join("; "));
        return out;
    }
    let mut detail = format!("{} signature and body hash verify", sig.algorithm.as_str());
    if let PublicKey::Rsa(k) = best.key {
        let _ = write!(detail, " ({}-bit key)", k.bits());
    }
    if key_window.first_seen.is_some() || key_window.last_seen.is_some() {
        let _ = write!(detail, "; key published {}: signed within it", key_window.describe());
    }
    if sig.algorithm == Algorithm::RsaSha1 {
        detail.push_str("; rsa-sha1 is no longer acceptable for new mail (RFC 8301)");
    }
    if let Some(l) = sig.length
        && (l as usize) < body_len
    {
        let _ = write!(detail, "; only the first {l} of {body_len} body bytes are signed (l=)");
    }
    if best.testing {
        detail.push_str("; the key is marked testing (t=y)");
    }
    if claimed.is_none() {
        detail.push_str("; no Date: or t= to date it");
    }
    out.detail = detail;
    out
}

fn window(r: &KeyRecord) -> KeyWindow {
    KeyWindow { first_seen: r.first_seen, last_seen: r.last_seen }
}

/// The bytes the header signature covers: the `h=` fields, each taken from the bottom
/// up, then the signature field itself without its `b=` value and final CRLF.
fn signed_header_data(msg: &Message, sig_field: &HeaderField, sig: &Signature) -> Vec<u8> {
    let value = without_b_value(msg.value(sig_field));
    header_data(msg, &sig.signed_headers, sig.header_canon, msg.name(sig_field), &value)
}

/// The bytes a header signature covers: the fields named in `signed` (each taken from the
/// bottom up of `msg`), then the signature field `sig_name: sig_value` (its `b=` value
/// already removed) without its final CRLF. The verifier and the signer both build it here.
pub(crate) fn header_data(
    msg: &Message,
    signed: &[String],
    canon: Canon,
    sig_name: &[u8],
    sig_value: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let mut used = vec![false; msg.headers.len()];
    for name in signed {
        let pick = msg
            .headers
            .iter()
            .enumerate()
            .rev()
            .find(|(i, h)| !used[*i] && msg.name(h).eq_ignore_ascii_case(name.as_bytes()));
        if let Some((i, h)) = pick {
            used[i] = true;
            canon_header(canon, msg, h, &mut out);
        }
    }
    match canon {
        Canon::Simple => {
            out.extend_from_slice(sig_name);
            out.push(b':');
            out.extend_from_slice(sig_value);
        }
        Canon::Relaxed => relaxed_header(sig_name, sig_value, &mut out),
    }
    if out.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    }
    out
}

/// Whether `signature` signs `header_data` with `key`: RSA signs the data's hash, Ed25519
/// (RFC 8463) the SHA-256 of it as its message.
pub(crate) fn verify_header_data(
    key: &PublicKey,
    alg: Algorithm,
    header_data: &[u8],
    signature: &[u8],
) -> bool {
    match key {
        PublicKey::Rsa(k) => k.verify(alg == Algorithm::RsaSha1, header_data, signature),
        PublicKey::Ed25519(k) => {
            let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else { return false };
            k.verify_strict(&Sha256::digest(header_data), &sig).is_ok()
        }
    }
}

/// The trusted headers that appear more often than the signature covers them (a
/// reader shows the topmost; DKIM signs from the bottom up).
fn uncovered_trusted_headers(msg: &Message, sig: &Signature) -> Vec<String> {
    let mut out = Vec::new();
    for name in TRUSTED_HEADERS {
        let present = msg.fields_named(name).count();
        let signed = sig.signed_headers.iter().filter(|h| *h == name).count();
        if present > signed {
            let shown = msg.fields_named(name).next().map(|h| msg.name(h)).unwrap_or(name.as_bytes());
            let shown = String::from_utf8_lossy(shown);
            out.push(if signed == 0 {
                format!("{shown} (not signed)")
            } else {
                format!("{shown} ({present} in the message, {signed} signed: the one a reader sees is not)")
            });
        }
    }
    out
}

/// The signed headers whose value differs from the copy the signer left in `z=`.
fn changed_copied_headers(msg: &Message, sig: &Signature) -> Vec<String> {
    let mut out = Vec::new();
    for (name, copied) in &sig.copied_headers {
        if !sig.signed_headers.contains(name) {
            continue;
        }
        let now = msg.fields_named(name).last().map(|h| {
            let mut v = Vec::new();
            relaxed_header(b"x", msg.value(h), &mut v);
            String::from_utf8_lossy(&v[2..v.len() - 2]).into_owned()
        });
        let mut copied_relaxed = Vec::new();
        relaxed_header(b"x", copied.as_bytes(), &mut copied_relaxed);
        let copied = String::from_utf8_lossy(&copied_relaxed[2..copied_relaxed.len() - 2]).into_owned();
        if now.as_deref() != Some(copied.as_str()) {
            out.push(name.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::parse_seen;
    use base64::engine::general_purpose::STANDARD;
    use ed25519_dalek::Signer as _;

    /// The example of RFC 8463 (appendix A): one message signed with Ed25519 and RSA.
    const RFC8463_KEYS: [(&str, &str); 2] = [
        (
            "brisbane._domainkey.football.example.com",
            "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        ),
        (
            "test._domainkey.football.example.com",
            "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
        ),
    ];
    const RFC8463_MESSAGE: &str = "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n d=football.example.com; i=@football.example.com;\r\n q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n subject : date : message-id : from : subject : date;\r\n bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n d=football.example.com; i=@football.example.com;\r\n q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n date : message-id : from : subject : date;\r\n bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\nFrom: Joe SixPack <joe@football.example.com>\r\nTo: Suzie Q <suzie@shopping.example.net>\r\nSubject: Is dinner ready?\r\nDate: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\nMessage-ID: <20030712040037.46341.5F8J@football.example.com>\r\n\r\nHi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n";

    fn archive(records: &[(&str, &str)], first: &str, last: &str) -> KeyArchive {
        let mut a = KeyArchive::new();
        for (name, record) in records {
            a.insert(KeyRecord {
                name: (*name).into(),
                record: (*record).into(),
                first_seen: parse_seen(first, false).expect("date"),
                last_seen: parse_seen(last, true).expect("date"),
            });
        }
        a
    }

    fn verdicts(msg: &str, keys: &KeyArchive) -> Vec<Verdict> {
        let m = Message::parse(msg.as_bytes()).expect("parse");
        verify_message(&m, keys).into_iter().map(|c| c.verdict).collect()
    }

    #[test]
    fn the_rfc_8463_example_verifies_with_both_algorithms() {
        let keys = archive(&RFC8463_KEYS, "", "");
        assert_eq!(verdicts(RFC8463_MESSAGE, &keys), [Verdict::Authentic, Verdict::Authentic]);
        let lf = RFC8463_MESSAGE.replace("\r\n", "\n");
        assert_eq!(
            verdicts(&lf, &keys),
            [Verdict::Authentic, Verdict::Authentic],
            "Unix line ends read as CRLF"
        );
        let body = RFC8463_MESSAGE.replace("hungry", "thirsty");
        assert_eq!(verdicts(&body, &keys), [Verdict::BodyAltered, Verdict::BodyAltered]);
        let header = RFC8463_MESSAGE.replace("Subject: Is dinner ready?", "Subject: Is lunch ready?");
        assert_eq!(verdicts(&header, &keys), [Verdict::HeadersAltered, Verdict::HeadersAltered]);
    }

    #[test]
    fn oversigned_headers_added_anywhere_break_the_signature_and_others_are_named() {
        // RFC 8463's signer lists From, Subject and Date in h= twice each, once more than
        // the message has them: a field of those names added anywhere, in any case, takes
        // the place of the null string the extra entry signed.
        let keys = archive(&RFC8463_KEYS, "", "");
        let (head, body) = RFC8463_MESSAGE.split_once("\r\n\r\n").expect("a body");
        let with = |top: &str, bottom: &str| format!("{top}{head}\r\n{bottom}\r\n{body}");
        for (top, bottom) in [
            ("From: Mallory <mallory@football.example.com>\r\n", ""),
            ("", "From: Mallory <mallory@football.example.com>\r\n"),
            ("FROM:  Mallory\r\n <mallory@football.example.com>\r\n", ""),
            ("", "subject: Dinner is cancelled\r\n"),
            ("Date: Sat, 12 Jul 2003 09:00:00 -0700\r\n", ""),
            ("", "Date: Sat, 12 Jul 2003 09:00:00 -0700\r\n"),
        ] {
            let m = with(top, bottom);
            assert_eq!(verdicts(&m, &keys), [Verdict::HeadersAltered; 2], "{top}{bottom}");
        }
        // To is signed once, as often as it appears: a second one above it is what a
        // reader sees, and the signature, still whole, does not cover it.
        let m = Message::parse(with("To: Mallory <mallory@example.net>\r\n", "").as_bytes()).expect("parse");
        let checks = verify_message(&m, &keys);
        assert_eq!(checks.iter().map(|c| c.verdict).collect::<Vec<_>>(), [Verdict::UnsignedHeaderChanged; 2]);
        assert!(checks.iter().all(|c| c.detail.contains("To (2 in the message, 1 signed")), "{checks:?}");
        // A field h= does not name at all changes nothing signed but is named when trusted.
        let m = Message::parse(with("Cc: mallory@example.net\r\n", "").as_bytes()).expect("parse");
        let checks = verify_message(&m, &keys);
        assert_eq!(checks.iter().map(|c| c.verdict).collect::<Vec<_>>(), [Verdict::UnsignedHeaderChanged; 2]);
        assert!(checks.iter().all(|c| c.detail.contains("Cc (not signed)")), "{checks:?}");
        assert_eq!(verdicts(&with("X-Mailer: anything\r\n", ""), &keys), [Verdict::Authentic; 2]);
    }

    #[test]
    fn the_key_window_and_the_archive_decide_at_the_claimed_date() {
        // The example is dated 2003: a key first seen in 2018 was not published then.
        let late = archive(&RFC8463_KEYS, "2018-01-01", "");
        let checks = verify_message(&Message::parse(RFC8463_MESSAGE.as_bytes()).expect("parse"), &late);
        assert_eq!(checks[0].verdict, Verdict::Expired);
        assert!(checks[0].detail.contains("2018-01-01.."), "{}", checks[0].detail);
        let covering = archive(&RFC8463_KEYS, "2003-01-01", "2003-12-31");
        assert_eq!(verdicts(RFC8463_MESSAGE, &covering), [Verdict::Authentic, Verdict::Authentic]);
        assert_eq!(verdicts(RFC8463_MESSAGE, &KeyArchive::new()), [Verdict::KeyUnknown, Verdict::KeyUnknown]);
        let revoked = archive(&[(RFC8463_KEYS[0].0, "v=DKIM1; k=ed25519; p=")], "", "");
        assert_eq!(verdicts(RFC8463_MESSAGE, &revoked), [Verdict::KeyRevoked, Verdict::KeyUnknown]);
        let short = archive(
            &[(
                RFC8463_KEYS[1].0,
                "k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMB1/lgCLkzX0Ifpg4SKm0J/Mag+kSB6b6qGmVvQdW2L3L0tPyQK1FbqVAVZAbQMZu3bW3GnOvbXvbqlRAvavYUCAwEAAQ==",
            )],
            "",
            "",
        );
        let checks = verify_message(&Message::parse(RFC8463_MESSAGE.as_bytes()).expect("parse"), &short);
        assert_eq!(checks[1].verdict, Verdict::MalformedSignature);
        assert!(checks[1].detail.contains("shorter than 1024"), "{}", checks[1].detail);
    }

    /// Signs `msg` (CRLF) with Ed25519 over `headers`, the way a signer would.
    fn sign(msg: &str, key: &ed25519_dalek::SigningKey, headers: &str, extra: &str) -> String {
        let m = Message::parse(msg.as_bytes()).expect("parse");
        let sig = Signature {
            domain: "example.org".into(),
            selector: "sel".into(),
            algorithm: Algorithm::Ed25519Sha256,
            header_canon: Canon::Relaxed,
            body_canon: Canon::Relaxed,
            signed_headers: headers.split(':').map(str::to_owned).collect(),
            body_hash: Vec::new(),
            signature: Vec::new(),
            length: None,
            timestamp: None,
            expiration: None,
            identity: None,
            copied_headers: Vec::new(),
        };
        let bh = STANDARD.encode(Sha256::digest(canonical_body(Canon::Relaxed, m.body())));
        let field = format!(
            "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=sel;{extra}\r\n h={headers}; bh={bh}; b=\r\n"
        );
        let with_field = format!("{field}{msg}");
        let m2 = Message::parse(with_field.as_bytes()).expect("parse");
        let data = signed_header_data(&m2, &m2.headers[0], &sig);
        let b = STANDARD.encode(key.sign(&Sha256::digest(&data)).to_bytes());
        with_field.replacen("b=\r\n", &format!("b={b}\r\n"), 1)
    }

    fn own_key() -> (ed25519_dalek::SigningKey, KeyArchive) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let record = format!("v=DKIM1; k=ed25519; p={}", STANDARD.encode(key.verifying_key().to_bytes()));
        (key, archive(&[("sel._domainkey.example.org", &record)], "2020-01-01", "2020-12-31"))
    }

    const PLAIN: &str = "From: Ana <ana@example.org>\r\nTo: Bo <bo@example.net>\r\nSubject: Budget\r\nDate: Tue, 14 Jan 2020 06:29:55 -0500\r\nMessage-ID: <1@example.org>\r\n\r\nThe  budget is\t final. \r\n\r\n\r\n";

    #[test]
    fn each_alteration_gets_its_verdict() {
        let (key, keys) = own_key();
        let signed = sign(PLAIN, &key, "from:to:subject:date:message-id", "");
        assert_eq!(verdicts(&signed, &keys), [Verdict::Authentic]);
        // Relaxed body canonicalisation ignores changes of whitespace and trailing lines.
        assert_eq!(
            verdicts(&signed.replace("The  budget", "The budget").replace("\r\n\r\n\r\n", "\r\n"), &keys),
            [Verdict::Authentic]
        );
        assert_eq!(verdicts(&signed.replace("final", "draft"), &keys), [Verdict::BodyAltered]);
        assert_eq!(
            verdicts(&signed.replace("Subject: Budget", "Subject: Budgets"), &keys),
            [Verdict::HeadersAltered]
        );
        assert_eq!(
            verdicts(&signed.replace("From: Ana", "Subject: Resign now\r\nFrom: Ana"), &keys),
            [Verdict::UnsignedHeaderChanged],
            "a second Subject above the signed one is what a reader sees"
        );
        let stripped: String =
            signed.split_once("From: Ana").map(|(_, rest)| format!("From: Ana{rest}")).expect("split");
        assert_eq!(verdicts(&stripped, &keys), [Verdict::Unsigned]);
        let redated = sign(&PLAIN.replace("2020", "2023"), &key, "from:to:subject:date:message-id", "");
        assert_eq!(verdicts(&redated, &keys), [Verdict::Expired]);
        let unsigned_to = sign(PLAIN, &key, "from:subject:date:message-id", "");
        let checks = verify_message(&Message::parse(unsigned_to.as_bytes()).expect("parse"), &keys);
        assert_eq!(checks[0].verdict, Verdict::UnsignedHeaderChanged);
        assert!(checks[0].detail.contains("To (not signed)"), "{}", checks[0].detail);
        // Reordering signed headers of different names changes nothing DKIM signs.
        let reordered = signed.replace(
            "To: Bo <bo@example.net>\r\nSubject: Budget\r\n",
            "Subject: Budget\r\nTo: Bo <bo@example.net>\r\n",
        );
        assert_eq!(verdicts(&reordered, &keys), [Verdict::Authentic]);
    }

    #[test]
    fn expiry_is_judged_at_the_claimed_date_not_today() {
        let (key, keys) = own_key();
        // x= in 2020-06 (after the message's date, long before today): not expired.
        let live = sign(PLAIN, &key, "from:to:subject:date:message-id", " t=1578000000; x=1591000000;");
        assert_eq!(verdicts(&live, &keys), [Verdict::Authentic]);
        // x= a day after t=, both before the date the message claims.
        let dead = sign(PLAIN, &key, "from:to:subject:date:message-id", " t=1577000000; x=1577086400;");
        assert_eq!(verdicts(&dead, &keys), [Verdict::Expired]);
    }

    #[test]
    fn broken_signatures_are_malformed_with_a_reason() {
        let (_, keys) = own_key();
        for (tags, why) in [
            ("v=1; a=rsa-sha256; d=example.org; s=sel; h=to; bh=AA==; b=AA==", "does not sign From"),
            ("v=1; a=rsa-md5; d=example.org; s=sel; h=from; bh=AA==; b=AA==", "unknown algorithm"),
            ("v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AA==", "b= missing"),
            ("v=1; v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AA==; b=AA==", "twice"),
            ("v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AA==; b=AA==; l=12x", "l= is not a number"),
            ("v=1; a=rsa-sha256; d=example.org; i=@evil.test; s=sel; h=from; bh=AA==; b=AA==", "not within"),
            ("v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=%%; b=AA==", "bh= is not base64"),
        ] {
            let msg = format!("DKIM-Signature: {tags}\r\n{PLAIN}");
            let checks = verify_message(&Message::parse(msg.as_bytes()).expect("parse"), &keys);
            assert_eq!(checks[0].verdict, Verdict::MalformedSignature, "{tags}");
            assert!(checks[0].detail.contains(why), "{tags}: {}", checks[0].detail);
        }
    }

    /// RFC 6376 section 3.4.4 read literally, byte by byte.
    fn reference_relaxed_body(body: &[u8]) -> Vec<u8> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for line in body.split_inclusive(|&b| b == b'\n') {
            let (content, eol) = match line.strip_suffix(b"\r\n") {
                Some(c) => (c, true),
                None => (line, false),
            };
            let mut l = Vec::new();
            let mut pending = false;
            for &b in content {
                if b == b' ' || b == b'\t' {
                    pending = true;
                } else {
                    if pending {
                        l.push(b' ');
                    }
                    pending = false;
                    l.push(b);
                }
            }
            if eol || !l.is_empty() {
                l.extend_from_slice(b"\r\n");
            }
            lines.push(l);
        }
        while lines.last().is_some_and(|l| l == b"\r\n" || l.is_empty()) {
            lines.pop();
        }
        lines.concat()
    }

    proptest::proptest! {
        #[test]
        fn relaxed_bodies_match_the_literal_reading(body in proptest::collection::vec(
            proptest::sample::select(vec![b' ', b'\t', b'\r', b'\n', b'a', b'b']), 0..64)
        ) {
            // Bodies as a message holds them: every LF after a CR.
            let body = crate::message::Message::parse(&[b"a: b\r\n\r\n".as_slice(), &body].concat())
                .expect("parse").body().to_vec();
            proptest::prop_assert_eq!(canonical_body(Canon::Relaxed, &body), reference_relaxed_body(&body));
        }
    }

    #[test]
    fn canonical_bodies_follow_rfc_6376() {
        // RFC 6376 section 3.4.5's example body.
        let body = b" C \r\nD \t E\r\n\r\n\r\n";
        assert_eq!(canonical_body(Canon::Relaxed, body), b" C\r\nD E\r\n");
        assert_eq!(canonical_body(Canon::Simple, body), b" C \r\nD \t E\r\n");
        assert_eq!(canonical_body(Canon::Simple, b""), b"\r\n");
        assert_eq!(canonical_body(Canon::Relaxed, b"\r\n\r\n"), b"");
        let mut out = Vec::new();
        relaxed_header(b"SUBJect", b" \t AbC\r\n  def \r\n", &mut out);
        assert_eq!(out, b"subject:AbC def\r\n");
        assert_eq!(without_b_value(b" a=1; b=abc\r\n def; bh=x"), b" a=1; b=; bh=x");
    }
}
