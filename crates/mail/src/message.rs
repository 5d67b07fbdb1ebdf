//! One message of a dump: its bytes with line ends made CRLF (what DKIM signs), its
//! header fields located, and the fields an analyst reads decoded by `mail-parser`.

use std::ops::Range;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The largest header block read (a message with a longer one is unreadable, not read).
pub const MAX_HEADER_BYTES: usize = 8 * 1024 * 1024;

/// Why the bytes of a message could not be read as a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Nothing before the body looks like a header field.
    #[error("no header fields")]
    NoHeaders,
    /// A line of the header block is neither a field nor a continuation of one.
    #[error("header line {line} is not a field (`name: value`): {text}")]
    NotAField {
        /// The line, 1-based within the message.
        line: usize,
        /// The start of the line, escaped.
        text: String,
    },
    /// The header block is longer than [`MAX_HEADER_BYTES`].
    #[error("header block longer than {MAX_HEADER_BYTES} bytes")]
    HeaderTooLong,
}

/// A header field: where its name and its value lie in [`Message::raw`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The field name, as written.
    pub name: Range<usize>,
    /// The value after the colon, folding and the final CRLF included.
    pub value: Range<usize>,
}

/// A parsed message.
#[derive(Debug, Clone)]
pub struct Message {
    /// The message with every line ending CRLF (a bare LF becomes CRLF, as DKIM verifiers
    /// read mail stored with Unix line ends).
    pub raw: Vec<u8>,
    /// The header fields in order.
    pub headers: Vec<HeaderField>,
    /// Where the body starts in [`Message::raw`] (its length when there is none).
    pub body_start: usize,
    /// SHA-256 of the message's bytes as they stand in the dump (mbox escaping undone).
    pub sha256: [u8; 32],
    /// `Message-ID`, without its angle brackets.
    pub message_id: Option<String>,
    /// The claimed date (`Date:`), in UTC.
    pub date: Option<DateTime<Utc>>,
    /// The `From:` address (or its display name when it has no address).
    pub from: Option<String>,
    /// The decoded `Subject:`.
    pub subject: Option<String>,
    /// The decoded text of the first text part, for grouping near-duplicates.
    pub text: String,
    /// The file names of its attachments, as given.
    pub attachments: Vec<String>,
}

impl Message {
    /// Parses the bytes of one message (an mbox `From ` line at the top is skipped).
    pub fn parse(bytes: &[u8]) -> Result<Message, MessageError> {
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let raw = crlf(bytes);
        let (headers, body_start) = locate_headers(&raw)?;
        let mut msg = Message {
            raw,
            headers,
            body_start,
            sha256,
            message_id: None,
            date: None,
            from: None,
            subject: None,
            text: String::new(),
            attachments: Vec::new(),
        };
        msg.decode_fields();
        Ok(msg)
    }

    /// The name of a header field.
    pub fn name(&self, h: &HeaderField) -> &[u8] {
        &self.raw[h.name.clone()]
    }

    /// The whole field, name to final CRLF.
    pub fn field(&self, h: &HeaderField) -> &[u8] {
        &self.raw[h.name.start..h.value.end]
    }

    /// The value of a header field.
    pub fn value(&self, h: &HeaderField) -> &[u8] {
        &self.raw[h.value.clone()]
    }

    /// The body (after the blank line).
    pub fn body(&self) -> &[u8] {
        &self.raw[self.body_start.min(self.raw.len())..]
    }

    /// The fields with this name (case-insensitive), in order.
    pub fn fields_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HeaderField> + 'a {
        self.headers.iter().filter(move |h| self.name(h).eq_ignore_ascii_case(name.as_bytes()))
    }

    fn decode_fields(&mut self) {
        use mail_parser::MimeHeaders as _;
        let Some(parsed) = parser().parse(&self.raw) else {
            return;
        };
        self.message_id = parsed.message_id().map(str::to_owned);
        self.date = parsed
            .date()
            .filter(|d| d.is_valid())
            .and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0));
        self.from = parsed
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address().map(str::to_owned).or_else(|| a.name().map(str::to_owned)));
        self.subject = parsed.subject().map(str::to_owned);
        self.text = parsed.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
        self.attachments =
            parsed.attachments().filter_map(|a| a.attachment_name().map(str::to_owned)).collect();
    }
}

/// The decoder of what an analyst reads: only the fields read here (and the MIME fields
/// the body's structure needs) are parsed; the others (Received chains, list headers) are
/// skipped, which a dump of millions of messages notices.
fn parser() -> &'static mail_parser::MessageParser {
    static PARSER: std::sync::OnceLock<mail_parser::MessageParser> = std::sync::OnceLock::new();
    PARSER.get_or_init(|| {
        mail_parser::MessageParser::new()
            .with_minimal_headers()
            .header_id(mail_parser::HeaderName::MessageId)
            .default_header_ignore()
    })
}

/// The bytes with every bare LF turned into CRLF.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    let mut prev = 0u8;
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', bytes) {
        let before = if i > 0 { bytes[i - 1] } else { prev };
        if before != b'\r' {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(b"\r\n");
            start = i + 1;
        }
        prev = b'\n';
    }
    out.extend_from_slice(&bytes[start..]);
    out
}

fn is_field_name_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && b != b':'
}

/// The header fields of a CRLF message and where its body starts.
fn locate_headers(raw: &[u8]) -> Result<(Vec<HeaderField>, usize), MessageError> {
    let mut headers: Vec<HeaderField> = Vec::new();
    let mut pos = 0;
    let mut line_no = 0;
    while pos < raw.len() {
        if pos > MAX_HEADER_BYTES {
            return Err(MessageError::HeaderTooLong);
        }
        line_no += 1;
        let end = line_end(raw, pos);
        let line = &raw[pos..end];
        let content = line.strip_suffix(b"\r\n").unwrap_or(line);
        if content.is_empty() {
            return finish(headers, end);
        }
        if content[0] == b' ' || content[0] == b'\t' {
            match headers.last_mut() {
                Some(h) => h.value.end = end,
                None => return Err(not_a_field(line_no, content)),
            }
        } else if let Some(colon) = content.iter().position(|&b| !is_field_name_byte(b)) {
            if content[colon] != b':' || colon == 0 {
                if line_no == 1 && content.starts_with(b"From ") {
                    pos = end;
                    continue;
                }
                return Err(not_a_field(line_no, content));
            }
            headers.push(HeaderField { name: pos..pos + colon, value: pos + colon + 1..end });
        } else {
            return Err(not_a_field(line_no, content));
        }
        pos = end;
    }
    finish(headers, raw.len())
}

/// Where the line starting at `pos` ends: past its first CRLF, or at the end of `raw`.
/// (A search for each LF checked for the CR before it: building a two-byte `memmem`
/// finder for every header line cost more than the search.)
fn line_end(raw: &[u8], pos: usize) -> usize {
    let rest = &raw[pos..];
    memchr::memchr_iter(b'\n', rest)
        .find(|&i| i > 0 && rest[i - 1] == b'\r')
        .map_or(raw.len(), |i| pos + i + 1)
}

fn finish(headers: Vec<HeaderField>, body_start: usize) -> Result<(Vec<HeaderField>, usize), MessageError> {
    if headers.is_empty() { Err(MessageError::NoHeaders) } else { Ok((headers, body_start)) }
}

fn not_a_field(line: usize, content: &[u8]) -> MessageError {
    MessageError::NotAField { line, text: scrutineer_core::text::echo(content) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_line_feeds_become_crlf_and_fields_are_located() {
        let m = Message::parse(b"From: a@example.org\nSubject: hi\n  there\r\n\nbody\n").expect("parse");
        assert_eq!(m.raw, b"From: a@example.org\r\nSubject: hi\r\n  there\r\n\r\nbody\r\n");
        assert_eq!(m.headers.len(), 2);
        assert_eq!(m.value(&m.headers[1]), b" hi\r\n  there\r\n");
        assert_eq!(m.body(), b"body\r\n");
        assert_eq!(m.from.as_deref(), Some("a@example.org"));
    }

    #[test]
    fn garbage_and_headerless_bytes_are_errors() {
        assert!(matches!(
            Message::parse(b"\x00\x01\x02 garbage\n\nx"),
            Err(MessageError::NotAField { line: 1, .. })
        ));
        assert_eq!(Message::parse(b"\r\nbody only").expect_err("an error"), MessageError::NoHeaders);
        assert!(matches!(Message::parse(b" folded first: x\n\n"), Err(MessageError::NotAField { .. })));
        assert!(matches!(Message::parse(b": empty name\n\n"), Err(MessageError::NotAField { .. })));
    }

    #[test]
    fn a_header_block_past_the_bound_is_refused() {
        let mut m = b"X-Long: ".to_vec();
        for _ in 0..(MAX_HEADER_BYTES / 10 + 2) {
            m.extend_from_slice(b"abcdefgh\n ");
        }
        m.extend_from_slice(b"\n\nbody");
        assert_eq!(Message::parse(&m).expect_err("an error"), MessageError::HeaderTooLong);
    }

    proptest::proptest! {
        #[test]
        fn a_line_ends_past_its_first_crlf(raw in proptest::collection::vec(
            proptest::sample::select(vec![b'\r', b'\n', b'a', b':']), 0..48), pos in 0usize..48) {
            let pos = pos.min(raw.len());
            let literal = raw[pos..].windows(2).position(|w| w == b"\r\n").map_or(raw.len(), |i| pos + i + 2);
            proptest::prop_assert_eq!(line_end(&raw, pos), literal);
        }
    }
}
