//! The JSON-lines driver shared by the Twitter readers: one reused line buffer, UTF-8 with
//! a Windows-1252 fallback per line, field paths in error messages, and truncation
//! handling for a last line cut off.

use std::borrow::Cow;
use std::io::BufRead;

use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::Out;
use super::text::decode_1252;

/// Why a line gave no post.
pub(crate) enum LineError {
    /// The line is not valid JSON (or not the expected shape).
    Json(serde_json::Error, Option<String>),
    /// Anything else, already phrased (naming the field).
    Other(String),
}

/// Turns one JSON line into posts (a twarc2 page holds many; per-post problems inside a
/// line are skips the parser records itself).
pub(crate) trait LineParser {
    fn parse(&mut self, line: &str, line_no: u64, out: &mut Out<'_>) -> Result<(), LineError>;
}

/// Parses a line into `T`; on a type error, parses again to find the path of the field
/// at fault (cheap, as it only happens on bad lines).
pub(crate) fn parse_json<T: DeserializeOwned>(line: &str) -> Result<T, LineError> {
    match serde_json::from_str::<T>(line) {
        Ok(v) => Ok(v),
        Err(e) if e.classify() == Category::Data => {
            let mut de = serde_json::Deserializer::from_str(line);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(v) => Ok(v),
                Err(pe) => {
                    let path = pe.path().to_string();
                    Err(LineError::Json(pe.into_inner(), (path != ".").then_some(path)))
                }
            }
        }
        Err(e) => Err(LineError::Json(e, None)),
    }
}

pub(crate) fn drive(mut input: impl BufRead, out: &mut Out<'_>, parser: &mut dyn LineParser) {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => line_no += 1,
            Err(e) => {
                out.report.truncated = true;
                out.skip(
                    line_no + 1,
                    format!(
                        "cannot read past this point ({e}): the input is truncated or corrupt; \
                         the lines before it were kept"
                    ),
                );
                break;
            }
        }
        let ended = buf.last() == Some(&b'\n');
        let mut line: &[u8] = buf.trim_ascii();
        if line_no == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line).trim_ascii();
        }
        if line.is_empty() {
            continue;
        }
        out.report.records += 1;
        if memchr::memchr(0, line).is_some() {
            let reason = match scrutineer_core::lines::long_line(line) {
                Some(long) => long.reason(),
                None => "binary data (NUL bytes) in the line".to_string(),
            };
            out.skip(line_no, reason);
            continue;
        }
        let text: Cow<'_, str> = match simdutf8::basic::from_utf8(line) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                out.report.decoded_latin1 += 1;
                decode_1252(line)
            }
        };
        match parser.parse(&text, line_no, out) {
            Ok(()) => {}
            Err(LineError::Other(reason)) => out.skip(line_no, reason),
            Err(LineError::Json(e, path)) => {
                let reason = if e.classify() == Category::Eof && !ended {
                    out.report.truncated = true;
                    format!(
                        "the JSON ends at column {} before the object is complete: the input is truncated",
                        e.column()
                    )
                } else if e.classify() == Category::Eof {
                    format!(
                        "the JSON ends at column {} before the object is complete (line cut off?)",
                        e.column()
                    )
                } else if let Some(path) = path {
                    format!("field {path}: {e}")
                } else {
                    format!("invalid JSON: {e}")
                };
                out.skip(line_no, reason);
            }
        }
    }
}

/// Deserialises an id written as a string or a number (`"123"`, `123`, `1.23e2` whole)
/// into a string; `null` and absence give `None`.
pub(crate) fn lenient_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an id (string or integer)")
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok((!v.is_empty()).then(|| v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok((!v.is_empty()).then_some(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.is_finite() && v.fract() == 0.0 && v.abs() < 1.8e19 {
                Ok(Some(format!("{v:.0}")))
            } else {
                Err(E::custom(format!("{v} is not an id")))
            }
        }
    }
    d.deserialize_option(V)
}

/// Deserialises a count that may be missing, null, a number or a numeric string.
pub(crate) fn lenient_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(lenient_id(d)?.and_then(|s| super::text::parse_count(&s)))
}
