//! Opening an input: plain, gzip or zstd by magic bytes ([`scrutineer_core::input`]), the
//! first non-blank line kept for sniffing, and
//! the header-based format detection behind `--format auto`.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};

use scrutineer_core::lines::LineLimit;

use super::ReadError;

/// An opened input: the bytes up to and including the first non-blank line (already read,
/// for sniffing), and the rest of the stream.
pub(crate) struct Opened<'a> {
    pub first_line: Vec<u8>,
    /// Where the first non-blank line starts in `prefix`.
    first_start: usize,
    /// Whether `first_line` is a whole JSON value (JSON lines), as opposed to the start of
    /// a document written over several lines; `prefix` then holds up to [`PEEK_BYTES`]
    /// more of it, for sniffing.
    first_line_whole: bool,
    /// The input is binary, a CAR file or saved firehose frames (`rest` is the decoded
    /// stream itself, with no line limit, and nothing has been read from it).
    binary: Option<Binary>,
    max_line: usize,
    prefix: Vec<u8>,
    rest: Box<dyn BufRead + 'a>,
}

/// A binary input, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binary {
    /// A CAR v1 file: a Bluesky repository export.
    Car,
    /// Saved `com.atproto.sync.subscribeRepos` frames.
    Firehose,
}

/// How much of the decoded input is read to tell a binary input by its first bytes.
const CAR_MAGIC_BYTES: usize = 16;

/// How much of a JSON document written over several lines is read ahead for sniffing.
const PEEK_BYTES: usize = 64 * 1024;

impl<'a> Opened<'a> {
    /// What sniffing looks at: the first non-blank line, and for a JSON document written
    /// over several lines, what follows it up to [`PEEK_BYTES`].
    pub fn head(&self) -> &[u8] {
        if self.first_line_whole && !self.first_line.trim_ascii_start().starts_with(b"<") {
            &self.first_line
        } else {
            &self.prefix[self.first_start..]
        }
    }

    /// Whether the input is binary (a Bluesky repository CAR file, or saved firehose
    /// frames), told by its first bytes.
    pub fn binary(&self) -> Option<Binary> {
        self.binary
    }

    /// The decoded bytes, from the first, for binary readers: not cut into lines.
    pub fn into_binary(self) -> Box<dyn BufRead + 'a> {
        if self.binary.is_some() { self.rest } else { Box::new(Cursor::new(self.prefix).chain(self.rest)) }
    }

    /// Whether the first non-blank line is a whole JSON value, or not JSON at all (a CSV
    /// header): the input is read line by line.
    pub fn first_line_is_whole_json(&self) -> bool {
        self.first_line_whole
    }

    /// The whole input again, from its first byte.
    pub fn into_stream(self) -> Chain<Cursor<Vec<u8>>, Box<dyn BufRead + 'a>> {
        let rest = if self.binary.is_some() {
            Box::new(LineLimit::new(self.rest, self.max_line))
        } else {
            self.rest
        };
        Cursor::new(self.prefix).chain(rest)
    }
}

/// A reader that fails once with the error that stopped the first-line read, so the
/// drivers see it at the same place in the stream and report the truncation.
struct FailOnce(Option<io::Error>);

impl Read for FailOnce {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Opens `raw`; after decompression no line is longer than `max_line` bytes (a longer
/// one reaches the readers as a marker, see [`scrutineer_core::lines::LineLimit`]).
pub(crate) fn open<'a>(
    raw: &'a mut dyn Read,
    source_name: &str,
    max_line: usize,
) -> Result<Opened<'a>, ReadError> {
    let decoded = scrutineer_core::input::decode(raw, source_name).map_err(|e| match e {
        scrutineer_core::input::InputError::Io { source, .. } => {
            ReadError::Io { source_name: source_name.to_string(), source }
        }
        scrutineer_core::input::InputError::Unsupported { kind, .. } => {
            ReadError::UnsupportedCompression { source_name: source_name.to_string(), kind }
        }
    })?;
    // A CAR file or firehose frames are binary: handed on whole, never cut into lines. An error here is
    // met again by the reader at the same place.
    let mut decoded = decoded;
    let mut magic = Vec::with_capacity(CAR_MAGIC_BYTES);
    let failed = (&mut decoded).take(CAR_MAGIC_BYTES as u64).read_to_end(&mut magic).err();
    let binary = if failed.is_some() {
        None
    } else if super::platforms::is_car_header(&magic) {
        Some(Binary::Car)
    } else if super::platforms::is_firehose_header(&magic) {
        Some(Binary::Firehose)
    } else {
        None
    };
    // A read error here is handed on, after the bytes read before it, for the driver to
    // meet and report where it happened.
    let decoded: Box<dyn Read + 'a> = match failed {
        Some(e) => Box::new(Cursor::new(magic).chain(FailOnce(Some(e)))),
        None => Box::new(Cursor::new(magic).chain(decoded)),
    };
    if binary.is_some() {
        return Ok(Opened {
            first_line: Vec::new(),
            first_start: 0,
            first_line_whole: true,
            binary,
            max_line,
            prefix: Vec::new(),
            rest: Box::new(BufReader::new(decoded)),
        });
    }
    let mut rest: Box<dyn BufRead + 'a> = Box::new(LineLimit::new(decoded, max_line));

    let mut prefix = Vec::new();
    let mut first_line = Vec::new();
    let mut first_start = 0;
    for _ in 0..10_000 {
        let start = prefix.len();
        match rest.read_until(b'\n', &mut prefix) {
            Ok(0) => break,
            Ok(_) => {
                let line = &prefix[start..];
                if !is_blank(line) {
                    first_line = line.to_vec();
                    first_start = start;
                    break;
                }
            }
            Err(e) => {
                // Keep what was read; the driver meets the error right after it.
                first_line = prefix[start..].to_vec();
                rest = Box::new(BufReader::new(FailOnce(Some(e))));
                break;
            }
        }
    }
    let trimmed = first_line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&first_line).trim_ascii();
    let first_line_whole = !trimmed.starts_with(b"{")
        || serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).is_ok()
        || scrutineer_core::lines::long_line(trimmed).is_some();
    let markup = trimmed.starts_with(b"<");
    if !first_line_whole || markup {
        // A document over several lines (JSON, or an HTML page): read ahead for its
        // telltale keys or markup. An error here is met again by the driver at the same
        // place.
        while prefix.len() - first_start < PEEK_BYTES {
            match rest.read_until(b'\n', &mut prefix) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    rest = Box::new(BufReader::new(FailOnce(Some(e))));
                    break;
                }
            }
        }
    }
    Ok(Opened { first_line, first_start, first_line_whole, binary: None, max_line, prefix, rest })
}

fn is_blank(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    line.iter().all(|b| b.is_ascii_whitespace())
}

/// What `--format auto` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    TwitterV1,
    TwitterV2,
    Ira,
    IoArchive,
    Platform(super::platforms::Platform),
}

/// Decides the format from the first non-blank line: a JSON object is told apart by its
/// keys, anything else is taken as a CSV header.
pub(crate) fn detect(first_line: &[u8], source_name: &str) -> Result<Sniffed, ReadError> {
    let line = first_line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first_line);
    let line = line.trim_ascii();
    let unknown = |seen: String| ReadError::UnknownFormat { source_name: source_name.to_string(), seen };
    if line.is_empty() {
        return Err(ReadError::Empty { source_name: source_name.to_string() });
    }
    if let Some(long) = scrutineer_core::lines::long_line(line) {
        return Err(unknown(format!(
            "a first line of {} bytes, longer than --max-line-bytes ({})",
            long.bytes, long.limit
        )));
    }
    if line.iter().take(4096).any(|b| *b == 0 || (*b < 0x20 && !b"\t\r\n".contains(b))) {
        let hex: Vec<String> = line.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return Err(unknown(format!("binary data (first bytes {})", hex.join(" "))));
    }
    if line.starts_with(b"[") {
        return Err(unknown("a JSON array (one JSON object per line is expected)".to_string()));
    }
    if let Some(platform) = super::platforms::sniff(line) {
        return Ok(Sniffed::Platform(platform));
    }
    if line.starts_with(b"<") {
        return Err(unknown(
            "an HTML or XML page that is not a Telegram Desktop HTML export (messages.html)".to_string(),
        ));
    }
    if line.starts_with(b"{") {
        return match serde_json::from_slice::<BTreeMap<String, serde::de::IgnoredAny>>(line) {
            Ok(keys) => {
                let has = |k: &str| keys.contains_key(k);
                if has("data") || has("author_id") || (has("author") && has("text") && !has("user")) {
                    Ok(Sniffed::TwitterV2)
                } else if has("id_str") || has("user") {
                    Ok(Sniffed::TwitterV1)
                } else {
                    let names: Vec<&str> = keys.keys().map(String::as_str).take(20).collect();
                    Err(unknown(format!("a JSON object with keys {}", names.join(", "))))
                }
            }
            // A first line that is not a whole object (pretty-printed or cut off): look for
            // the telltale keys in what is there.
            Err(_) => {
                let has = |k: &[u8]| memchr::memmem::find(line, k).is_some();
                if has(br#""data""#) || has(br#""author_id""#) {
                    Ok(Sniffed::TwitterV2)
                } else if has(br#""id_str""#) {
                    Ok(Sniffed::TwitterV1)
                } else {
                    Err(unknown("a JSON line that is not a complete object".to_string()))
                }
            }
        };
    }
    let header = header_names(line);
    let has = |k: &str| header.iter().any(|h| h.eq_ignore_ascii_case(k));
    if (has("author_id") || has("external_author_id")) && has("content") && has("publish_date") {
        return Ok(Sniffed::Ira);
    }
    if has("tweetid") && has("tweet_time") && (has("userid") || has("user_screen_name")) {
        return Ok(Sniffed::IoArchive);
    }
    let shown: Vec<String> = header.iter().take(30).map(|h| super::text::clip(h)).collect();
    Err(unknown(format!("a CSV header with columns {}", shown.join(", "))))
}

/// Splits a CSV header line into trimmed column names.
pub(crate) fn header_names(line: &[u8]) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(line);
    let mut rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => rec.iter().map(|f| super::text::decode_cell(f).trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(s: &str) -> Result<Sniffed, ReadError> {
        detect(s.as_bytes(), "t")
    }

    #[test]
    fn json_lines_are_told_apart_by_keys() {
        assert_eq!(sniff(r#"{"created_at":"x","id_str":"1","user":{}}"#).ok(), Some(Sniffed::TwitterV1));
        assert_eq!(sniff(r#"{"data":[],"includes":{}}"#).ok(), Some(Sniffed::TwitterV2));
        assert_eq!(sniff(r#"{"id":"1","text":"x","author_id":"2"}"#).ok(), Some(Sniffed::TwitterV2));
        assert_eq!(sniff(r#"{"data":[{"id":"1"#).ok(), Some(Sniffed::TwitterV2));
    }

    #[test]
    fn csv_headers_decide() {
        assert_eq!(sniff("author_id,content,region,publish_date").ok(), Some(Sniffed::Ira));
        assert_eq!(sniff("\u{feff}external_author_id,author,content,publish_date").ok(), Some(Sniffed::Ira));
        assert_eq!(sniff("tweetid,userid,tweet_time,tweet_text").ok(), Some(Sniffed::IoArchive));
        assert_eq!(
            sniff(",account_creation_date,tweet_time,tweetid,user_screen_name").ok(),
            Some(Sniffed::IoArchive)
        );
    }

    #[test]
    fn unknown_input_lists_what_was_seen() {
        let err = sniff("id,name,when").expect_err("not a known header").to_string();
        assert!(err.contains("a CSV header with columns id, name, when"), "{err}");
        assert!(err.contains("io-archive (CSV with tweetid, userid, tweet_time)"), "{err}");
        let err = sniff(r#"{"foo":1}"#).expect_err("unknown keys").to_string();
        assert!(err.contains("keys foo"), "{err}");
        let err = sniff("\u{0}\u{1}\u{2}garbage").expect_err("binary").to_string();
        assert!(err.contains("binary data (first bytes 00 01 02"), "{err}");
    }

    #[test]
    fn other_compressions_are_named() {
        let mut bzip2: &[u8] = b"BZh91AY&SY";
        let err = open(&mut bzip2, "x.bz2", 1 << 20).err().expect("bzip2 refused").to_string();
        assert!(err.starts_with("x.bz2: bzip2-compressed"), "{err}");
    }
}
