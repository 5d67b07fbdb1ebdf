//! DKIM signing (RFC 6376, `c=relaxed/relaxed`) with Ed25519-SHA256 (RFC 8463) or
//! RSA-SHA256: what a sender's mail server adds, for making signed test corpora and
//! simulated dumps that this crate's verifier (and dkimpy) can check.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};

use crate::dkim::{Algorithm, Canon, canonical_body, header_data};
use crate::message::{Message, MessageError};

/// The header fields a [`DkimSigner`] signs by default, each as often as the message
/// holds it: every header a reader trusts, and the ones that give a message its thread
/// and its MIME structure.
pub const DEFAULT_SIGNED_HEADERS: [&str; 12] = [
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

/// Why a message could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The bytes are not a message.
    #[error("not a message: {0}")]
    Message(#[from] MessageError),
    /// The message has no `From:` field, which every DKIM signature must cover.
    #[error("the message has no From: field, which a DKIM signature must sign")]
    NoFrom,
    /// The signing domain or the selector is not a DNS name.
    #[error("{what} '{name}' is not a DNS name (letters, digits, '-' and '_' in dot-separated labels)")]
    BadName {
        /// `domain` or `selector`.
        what: &'static str,
        /// The name given, escaped.
        name: String,
    },
    /// The expiry (`x=`) is before the signing time (`t=`).
    #[error("the expiry x={expiration} is before the signing time t={timestamp}")]
    ExpiresBeforeSigned {
        /// `t=`.
        timestamp: i64,
        /// `x=`.
        expiration: i64,
    },
    /// The RSA private key was refused (not of the encoding named, or not 2048 to 4096
    /// bits).
    #[error("the RSA private key was refused: {0}")]
    RsaKey(String),
    /// The RSA signing operation failed.
    #[error("RSA signing failed")]
    RsaSigning,
}

/// A private key to sign with, and the DNS record that publishes its public half.
pub struct SigningKey {
    inner: KeyInner,
}

enum KeyInner {
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Rsa(Box<ring::signature::RsaKeyPair>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private key itself.
        write!(f, "SigningKey({})", self.algorithm().as_str())
    }
}

impl SigningKey {
    /// An Ed25519 key from its 32-byte seed (RFC 8032's private key).
    pub fn ed25519(seed: [u8; 32]) -> SigningKey {
        SigningKey { inner: KeyInner::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed))) }
    }

    /// An RSA key from its PKCS#8 DER encoding (`openssl genpkey -algorithm RSA
    /// -pkeyopt rsa_keygen_bits:2048 | openssl pkcs8 -topk8 -nocrypt -outform DER`),
    /// 2048 to 4096 bits.
    pub fn rsa_pkcs8(der: &[u8]) -> Result<SigningKey, SignError> {
        let pair =
            ring::signature::RsaKeyPair::from_pkcs8(der).map_err(|e| SignError::RsaKey(e.to_string()))?;
        Ok(SigningKey { inner: KeyInner::Rsa(Box::new(pair)) })
    }

    /// An RSA key from its PKCS#1 `RSAPrivateKey` DER encoding (`openssl genrsa`'s
    /// key, `-outform DER`), 2048 to 4096 bits.
    pub fn rsa_pkcs1(der: &[u8]) -> Result<SigningKey, SignError> {
        let pair =
            ring::signature::RsaKeyPair::from_der(der).map_err(|e| SignError::RsaKey(e.to_string()))?;
        Ok(SigningKey { inner: KeyInner::Rsa(Box::new(pair)) })
    }

    /// The algorithm its signatures use.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            KeyInner::Ed25519(_) => Algorithm::Ed25519Sha256,
            KeyInner::Rsa(_) => Algorithm::RsaSha256,
        }
    }

    /// The TXT record that publishes the public key (`v=DKIM1; k=...; p=...`): for RSA
    /// the SubjectPublicKeyInfo, for Ed25519 the raw 32 bytes (RFC 8463).
    pub fn dns_record(&self) -> String {
        match &self.inner {
            KeyInner::Ed25519(k) => {
                format!("v=DKIM1; k=ed25519; p={}", STANDARD.encode(k.verifying_key().to_bytes()))
            }
            KeyInner::Rsa(k) => {
                use ring::signature::KeyPair as _;
                format!("v=DKIM1; k=rsa; p={}", STANDARD.encode(rsa_spki(k.public_key().as_ref())))
            }
        }
    }

    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.inner {
            // RFC 8463: Ed25519 signs the SHA-256 of the header data as its message.
            KeyInner::Ed25519(k) => Ok(k.sign(&Sha256::digest(data)).to_bytes().to_vec()),
            KeyInner::Rsa(k) => {
                let mut out = vec![0u8; k.public().modulus_len()];
                let rng = ring::rand::SystemRandom::new();
                k.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, data, &mut out)
                    .map_err(|_| SignError::RsaSigning)?;
                Ok(out)
            }
        }
    }
}

/// DER length octets.
fn der_len(n: usize, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
}

/// A PKCS#1 `RSAPublicKey` wrapped in a SubjectPublicKeyInfo (rsaEncryption), the form
/// DKIM records publish.
fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    const ALGORITHM: [u8; 15] =
        [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bits = vec![0x03];
    der_len(pkcs1.len() + 1, &mut bits);
    bits.push(0);
    bits.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    der_len(ALGORITHM.len() + bits.len(), &mut out);
    out.extend_from_slice(&ALGORITHM);
    out.extend_from_slice(&bits);
    out
}

fn check_dns_name(what: &'static str, name: &str) -> Result<(), SignError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(SignError::BadName { what, name: scrutineer_core::text::echo_str(name) });
    }
    Ok(())
}

/// Signs messages for one domain and selector: adds a `DKIM-Signature` field with
/// `c=relaxed/relaxed`, the body hash and the signature over the chosen header fields.
///
/// ```
/// use scrutineer_mail::{DkimSigner, KeyArchive, KeyRecord, Message, SigningKey, Verdict, verify_message};
///
/// let key = SigningKey::ed25519([7; 32]);
/// let mut keys = KeyArchive::new();
/// keys.insert(KeyRecord {
///     name: "sel._domainkey.example.org".into(),
///     record: key.dns_record(),
///     first_seen: None,
///     last_seen: None,
/// });
/// let signer = DkimSigner::new("example.org", "sel", key)?;
/// let signed = signer.sign(b"From: a@example.org\r\nSubject: hi\r\n\r\nHello.\r\n")?;
/// let checks = verify_message(&Message::parse(&signed)?, &keys);
/// assert_eq!(checks[0].verdict, Verdict::Authentic);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DkimSigner {
    domain: String,
    selector: String,
    key: SigningKey,
    headers: Vec<String>,
    timestamp: Option<i64>,
    expiration: Option<i64>,
}

impl DkimSigner {
    /// A signer for `d=domain`, `s=selector` with `key`, signing
    /// [`DEFAULT_SIGNED_HEADERS`].
    pub fn new(domain: &str, selector: &str, key: SigningKey) -> Result<DkimSigner, SignError> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let selector = selector.trim().to_ascii_lowercase();
        check_dns_name("domain", &domain)?;
        check_dns_name("selector", &selector)?;
        Ok(DkimSigner {
            domain,
            selector,
            key,
            headers: DEFAULT_SIGNED_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            timestamp: None,
            expiration: None,
        })
    }

    /// Signs these header fields (each as often as the message holds it) instead of
    /// the defaults; `From` is signed whatever the list says.
    pub fn with_headers(mut self, names: &[&str]) -> DkimSigner {
        let mut headers: Vec<String> = vec!["from".to_owned()];
        for n in names {
            let n = n.trim().to_ascii_lowercase();
            if !n.is_empty() && !headers.contains(&n) {
                headers.push(n);
            }
        }
        self.headers = headers;
        self
    }

    /// Writes `t=` (seconds since the epoch): when the message was signed.
    pub fn with_timestamp(mut self, t: i64) -> DkimSigner {
        self.timestamp = Some(t);
        self
    }

    /// Writes `x=` (seconds since the epoch): when the signature expires.
    pub fn with_expiration(mut self, x: i64) -> DkimSigner {
        self.expiration = Some(x);
        self
    }

    /// The signing domain (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The selector (`s=`).
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The TXT record of the key, as [`SigningKey::dns_record`] gives it.
    pub fn dns_record(&self) -> String {
        self.key.dns_record()
    }

    /// The `DKIM-Signature` field for `message` (name to final CRLF), folded.
    pub fn signature_field(&self, message: &[u8]) -> Result<String, SignError> {
        let msg = Message::parse(message)?;
        self.field_for(&msg)
    }

    /// `message` with its `DKIM-Signature` field added above its first header field
    /// (after an mbox `From ` line, if it has one). Line ends become CRLF.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let msg = Message::parse(message)?;
        let field = self.field_for(&msg)?;
        let at = msg.headers.first().map_or(0, |h| h.name.start);
        let mut out = Vec::with_capacity(msg.raw.len() + field.len());
        out.extend_from_slice(&msg.raw[..at]);
        out.extend_from_slice(field.as_bytes());
        out.extend_from_slice(&msg.raw[at..]);
        Ok(out)
    }

    fn field_for(&self, msg: &Message) -> Result<String, SignError> {
        if let (Some(timestamp), Some(expiration)) = (self.timestamp, self.expiration)
            && expiration < timestamp
        {
            return Err(SignError::ExpiresBeforeSigned { timestamp, expiration });
        }
        let mut signed: Vec<String> = Vec::new();
        for name in &self.headers {
            for _ in msg.fields_named(name) {
                signed.push(name.clone());
            }
        }
        if !signed.iter().any(|h| h == "from") {
            return Err(SignError::NoFrom);
        }
        let body_hash = STANDARD.encode(Sha256::digest(canonical_body(Canon::Relaxed, msg.body())));
        let mut tags = vec![
            "v=1".to_owned(),
            format!("a={}", self.key.algorithm().as_str()),
            "c=relaxed/relaxed".to_owned(),
            format!("d={}", self.domain),
            format!("s={}", self.selector),
        ];
        if let Some(t) = self.timestamp {
            tags.push(format!("t={t}"));
        }
        if let Some(x) = self.expiration {
            tags.push(format!("x={x}"));
        }
        tags.push(format!("h={}", signed.join(":")));
        tags.push(format!("bh={body_hash}"));
        tags.push("b=".to_owned());
        let value = fold_tags(&tags);
        let data = header_data(msg, &signed, Canon::Relaxed, b"DKIM-Signature", value.as_bytes());
        let b = STANDARD.encode(self.key.sign(&data)?);
        // The b= value is folded too: verifiers drop its whitespace, and it is left out
        // of what was signed.
        let chunks: Vec<&str> =
            b.as_bytes().chunks(72).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
        Ok(format!("DKIM-Signature:{value}{}\r\n", chunks.join("\r\n ")))
    }
}

/// `tags` joined by `; `, each line kept under 78 characters where a tag allows it.
fn fold_tags(tags: &[String]) -> String {
    let mut out = String::new();
    let mut line = "DKIM-Signature:".len();
    for (i, tag) in tags.iter().enumerate() {
        let piece = if i + 1 < tags.len() { format!("{tag};") } else { tag.clone() };
        // b= starts a line of its own: its value is folded after it.
        if i > 0 && (line + 1 + piece.len() > 78 || tag == "b=") {
            out.push_str("\r\n ");
            line = 1;
        } else {
            out.push(' ');
            line += 1;
        }
        out.push_str(&piece);
        line += piece.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::{Verdict, verify_message};
    use crate::keys::{KeyArchive, KeyRecord, parse_key_record};

    /// A 2048-bit RSA test key (PKCS#8 DER, base64), made for these tests with
    /// `openssl genpkey` and `openssl pkcs8 -topk8 -nocrypt -outform DER`.
    const RSA_TEST_KEY: &str = include_str!("../testdata/rsa-2048-test-key.pkcs8.b64");

    const MESSAGE: &str = "From: Ana Ruiz <ana@example.org>\nTo: Bo <bo@example.net>\nCc: c@example.net\nSubject: The  budget\nDate: Tue, 14 Jan 2020 06:29:55 -0500\nMessage-ID: <1@example.org>\nX-Mailer: test\n\nThe budget is\t final. \n\n\n";

    fn rsa_key() -> SigningKey {
        let clean: String = RSA_TEST_KEY.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        SigningKey::rsa_pkcs8(&STANDARD.decode(clean).expect("base64")).expect("key")
    }

    fn archive(signer: &DkimSigner) -> KeyArchive {
        let mut keys = KeyArchive::new();
        keys.insert(KeyRecord {
            name: format!("{}._domainkey.{}", signer.selector(), signer.domain()),
            record: signer.dns_record(),
            first_seen: None,
            last_seen: None,
        });
        keys
    }

    fn verdict(msg: &[u8], keys: &KeyArchive) -> Verdict {
        let checks = verify_message(&Message::parse(msg).expect("parse"), keys);
        assert_eq!(checks.len(), 1);
        checks[0].verdict
    }

    #[test]
    fn both_algorithms_sign_what_the_verifier_accepts_and_alterations_break() {
        for key in [SigningKey::ed25519([3; 32]), rsa_key()] {
            let alg = key.algorithm();
            let signer =
                DkimSigner::new("Example.org.", "s2020", key).expect("signer").with_timestamp(1579001395);
            let keys = archive(&signer);
            assert!(parse_key_record(&signer.dns_record()).is_ok(), "{}", signer.dns_record());
            let signed = signer.sign(MESSAGE.as_bytes()).expect("sign");
            let text = String::from_utf8(signed.clone()).expect("utf-8");
            assert!(text.starts_with("DKIM-Signature: v=1; a="), "{text}");
            assert!(text.contains(&format!("a={}", alg.as_str())), "{text}");
            assert!(text.contains("h=from:to:cc:subject:date:message-id;"), "{text}");
            assert!(text.lines().all(|l| l.len() <= 998), "{text}");
            assert_eq!(verdict(&signed, &keys), Verdict::Authentic, "{}: {text}", alg.as_str());
            // Relaxed canonicalisation forgives whitespace, not words.
            let spaced = text.replace("The  budget", "The budget").replace("is\t final", "is final");
            assert_eq!(verdict(spaced.as_bytes(), &keys), Verdict::Authentic);
            assert_eq!(verdict(text.replace("final", "draft").as_bytes(), &keys), Verdict::BodyAltered);
            assert_eq!(
                verdict(text.replace("Subject: The  budget", "Subject: A budget").as_bytes(), &keys),
                Verdict::HeadersAltered
            );
            // X-Mailer is not signed: changing it changes nothing.
            assert_eq!(
                verdict(text.replace("X-Mailer: test", "X-Mailer: other").as_bytes(), &keys),
                Verdict::Authentic
            );
        }
    }

    #[test]
    fn a_repeated_header_is_signed_as_often_as_it_appears_and_an_mbox_line_stays_first() {
        let signer = DkimSigner::new("example.org", "sel", SigningKey::ed25519([5; 32])).expect("signer");
        let keys = archive(&signer);
        let msg = format!(
            "From ana Tue Jan 14 06:29:55 2020\n{}",
            MESSAGE.replace("Cc: c@example.net\n", "Cc: c@example.net\nCc: d@example.net\n")
        );
        let signed = signer.sign(msg.as_bytes()).expect("sign");
        let text = String::from_utf8(signed.clone()).expect("utf-8");
        assert!(text.starts_with("From ana Tue Jan 14 06:29:55 2020\r\nDKIM-Signature:"), "{text}");
        assert!(text.contains("h=from:to:cc:cc:subject"), "{text}");
        assert_eq!(verdict(&signed, &keys), Verdict::Authentic);
        // Signed by another key under the same name: the archive's key refuses it.
        let forger = DkimSigner::new("example.org", "sel", SigningKey::ed25519([6; 32])).expect("signer");
        assert_eq!(verdict(&forger.sign(msg.as_bytes()).expect("sign"), &keys), Verdict::HeadersAltered);
    }

    #[test]
    fn bad_names_keys_dates_and_messages_are_refused_by_name() {
        let key = || SigningKey::ed25519([1; 32]);
        assert!(matches!(
            DkimSigner::new("exa mple.org", "s", key()),
            Err(SignError::BadName { what: "domain", .. })
        ));
        assert!(matches!(
            DkimSigner::new("example.org", "s;x", key()),
            Err(SignError::BadName { what: "selector", .. })
        ));
        assert!(matches!(SigningKey::rsa_pkcs8(b"not a key"), Err(SignError::RsaKey(_))));
        assert!(matches!(SigningKey::rsa_pkcs1(b"not a key"), Err(SignError::RsaKey(_))));
        let signer = DkimSigner::new("example.org", "s", key()).expect("signer");
        assert!(matches!(signer.sign(b"Subject: no sender\r\n\r\nx\r\n"), Err(SignError::NoFrom)));
        assert!(matches!(signer.sign(b"\x00 not mail"), Err(SignError::Message(_))));
        let late =
            DkimSigner::new("example.org", "s", key()).expect("signer").with_timestamp(10).with_expiration(5);
        let err = late.sign(MESSAGE.as_bytes()).expect_err("x before t");
        assert!(err.to_string().contains("x=5 is before"), "{err}");
        assert_eq!(format!("{:?}", SigningKey::ed25519([1; 32])), "SigningKey(ed25519-sha256)");
    }
}
