//! Streaming the records out of one large JSON document (Telegram's `result.json`): a
//! structural scan finds the elements of every array held under a given key, and each
//! element is handed on as its own bytes, to be parsed from a slice (fast, and a record
//! of an unexpected shape is then a skip, not the end of the document). Only the record
//! being read is held, never the document. The scan tracks strings and nesting only; the
//! records themselves are checked by the parser they are handed to.

use std::io::BufRead;

/// Where a record was found, and the scalar fields of the object holding its array.
pub(crate) struct Found<'a> {
    /// The record's bytes: one JSON value.
    pub bytes: &'a [u8],
    /// The line (1-based) the record starts on.
    pub line: u64,
    /// The `context` fields of the object whose `key` array holds the record, as JSON
    /// scalars (strings with their quotes), in the order written.
    pub context: &'a [(Vec<u8>, Vec<u8>)],
}

/// How the scan ended.
pub(crate) enum End {
    /// The document was complete.
    Complete,
    /// The input ended inside the document (cut off), at this byte and line.
    Truncated(u64, u64),
    /// Reading failed at this byte and line.
    Failed(u64, u64, std::io::Error),
    /// The input is not a JSON object or array.
    NotJson,
}

enum Frame {
    Object {
        /// The last key read, while its value is pending.
        key: Option<Vec<u8>>,
        /// The next string is a key.
        expect_key: bool,
        context: Vec<(Vec<u8>, Vec<u8>)>,
    },
    Array {
        /// The array holds records (it is the value of `key`).
        records: bool,
        context: Vec<(Vec<u8>, Vec<u8>)>,
    },
}

/// Scans `input`, calling `each` for every element of every array that is the value of
/// `key` (at any depth), with the scalar fields named in `context_keys` of the object
/// holding that array.
pub(crate) fn scan_records(
    mut input: impl BufRead,
    key: &[u8],
    context_keys: &[&[u8]],
    mut each: impl FnMut(Found<'_>),
) -> End {
    let mut stack: Vec<Frame> = Vec::new();
    let mut line = 1u64;
    let mut offset = 0u64;
    let mut started = false;
    // A record being collected, across buffer refills, and its nesting depth.
    let mut record: Vec<u8> = Vec::new();
    let mut record_line = 0u64;
    let mut record_depth = 0usize;
    let mut in_record = false;
    // A key, or a scalar value outside records (kept when it is a context field, or
    // handed on when it stands among the records), being collected.
    let mut key_buf: Option<Vec<u8>> = None;
    let mut scalar: Option<Vec<u8>> = None;
    let mut in_string = false;
    let mut escaped = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => chunk,
            Err(e) => return End::Failed(offset, line, e),
        };
        let n = chunk.len();
        let mut i = 0;
        while i < n {
            if in_string {
                if escaped {
                    escaped = false;
                    collect(&mut record, in_record, &mut key_buf, &mut scalar, &chunk[i..=i]);
                    i += 1;
                    continue;
                }
                let Some(j) = memchr::memchr2(b'"', b'\\', &chunk[i..]) else {
                    collect(&mut record, in_record, &mut key_buf, &mut scalar, &chunk[i..]);
                    i = n;
                    continue;
                };
                let stop = i + j;
                if chunk[stop] == b'\\' {
                    collect(&mut record, in_record, &mut key_buf, &mut scalar, &chunk[i..=stop]);
                    escaped = true;
                    i = stop + 1;
                    continue;
                }
                // The closing quote: part of a record or a scalar, not of a key.
                collect(&mut record, in_record, &mut key_buf, &mut scalar, &chunk[i..stop]);
                if in_record {
                    record.push(b'"');
                }
                in_string = false;
                i = stop + 1;
                if let Some(k) = key_buf.take() {
                    if let Some(Frame::Object { key, expect_key, .. }) = stack.last_mut() {
                        *key = Some(k);
                        *expect_key = false;
                    }
                } else if let Some(mut value) = scalar.take() {
                    value.push(b'"');
                    end_scalar(&mut stack, value, line, &mut each);
                }
                continue;
            }
            let b = chunk[i];
            if scalar.is_some() && (matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace()) {
                // The end of a number, `true`, `false` or `null`; the delimiter is
                // handled on the next pass.
                let value = scalar.take().unwrap_or_default();
                end_scalar(&mut stack, value, line, &mut each);
                continue;
            }
            if b == b'\n' {
                line += 1;
            }
            if in_record {
                record.push(b);
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => record_depth += 1,
                    b'}' | b']' => {
                        record_depth -= 1;
                        if record_depth == 0 {
                            in_record = false;
                            let context = match stack.last() {
                                Some(Frame::Array { context, .. }) => context.as_slice(),
                                _ => &[],
                            };
                            each(Found { bytes: &record, line: record_line, context });
                            record.clear();
                        }
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            if let Some(s) = scalar.as_mut() {
                s.push(b);
                i += 1;
                continue;
            }
            let in_records = matches!(stack.last(), Some(Frame::Array { records: true, .. }));
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | b':' => {}
                b',' => {
                    if let Some(Frame::Object { expect_key, key, .. }) = stack.last_mut() {
                        *expect_key = true;
                        *key = None;
                    }
                }
                b'"' => {
                    in_string = true;
                    match stack.last() {
                        Some(Frame::Object { expect_key: true, .. }) => key_buf = Some(Vec::new()),
                        Some(Frame::Object { key: Some(k), .. }) if context_keys.contains(&k.as_slice()) => {
                            scalar = Some(vec![b'"']);
                        }
                        _ if in_records => scalar = Some(vec![b'"']),
                        _ => {}
                    }
                }
                b'{' | b'[' if in_records => {
                    in_record = true;
                    record_depth = 1;
                    record_line = line;
                    record.clear();
                    record.push(b);
                }
                b'{' => {
                    started = true;
                    stack.push(Frame::Object { key: None, expect_key: true, context: Vec::new() });
                }
                b'[' => {
                    started = true;
                    let (records, context) = match stack.last() {
                        Some(Frame::Object { key: Some(k), context, .. }) if k == key => {
                            (true, context.clone())
                        }
                        _ => (false, Vec::new()),
                    };
                    stack.push(Frame::Array { records, context });
                }
                b'}' | b']' => {
                    stack.pop();
                    if let Some(Frame::Object { key, .. }) = stack.last_mut() {
                        *key = None;
                    }
                    if stack.is_empty() {
                        // The document is complete; anything after it is ignored.
                        input.consume(i + 1);
                        return End::Complete;
                    }
                }
                _ if !started => return End::NotJson,
                _ => scalar = Some(vec![b]),
            }
            i += 1;
        }
        offset += n as u64;
        input.consume(n);
    }
    if started { End::Truncated(offset, line) } else { End::NotJson }
}

/// Adds string bytes to whatever is being collected.
fn collect(
    record: &mut Vec<u8>,
    in_record: bool,
    key: &mut Option<Vec<u8>>,
    scalar: &mut Option<Vec<u8>>,
    bytes: &[u8],
) {
    if in_record {
        record.extend_from_slice(bytes);
    } else if let Some(k) = key.as_mut() {
        k.extend_from_slice(bytes);
    } else if let Some(s) = scalar.as_mut() {
        s.extend_from_slice(bytes);
    }
}

/// A finished scalar: a context field of its object, or a record of its own (to be
/// refused by the record parser) when it stands among the records.
fn end_scalar(stack: &mut [Frame], value: Vec<u8>, line: u64, each: &mut impl FnMut(Found<'_>)) {
    match stack.last() {
        Some(Frame::Array { records: true, .. }) => each(Found { bytes: &value, line, context: &[] }),
        _ => store_scalar(stack, value),
    }
}

fn store_scalar(stack: &mut [Frame], value: Vec<u8>) {
    if let Some(Frame::Object { key, context, .. }) = stack.last_mut()
        && let Some(k) = key.take()
    {
        context.push((k, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(doc: &str) -> (Vec<(String, u64, Vec<String>)>, bool) {
        let mut got = Vec::new();
        let end = scan_records(doc.as_bytes(), b"messages", &[b"id", b"type"], |f| {
            let ctx = f
                .context
                .iter()
                .map(|(k, v)| format!("{}={}", String::from_utf8_lossy(k), String::from_utf8_lossy(v)))
                .collect();
            got.push((String::from_utf8_lossy(f.bytes).into_owned(), f.line, ctx));
        });
        (got, matches!(end, End::Complete))
    }

    #[test]
    fn records_come_out_whole_with_their_context_and_line() {
        let doc = "{\"type\": \"public_channel\", \"id\": 12, \"x\": {\"messages\": 1},\n \"messages\": [\n  {\"id\": 1, \"text\": \"a \\\"}] quoted\"},\n  {\"id\": 2, \"text\": [\"x\", {\"type\": \"link\"}]}\n ]}";
        let (got, complete) = scan(doc);
        assert!(complete);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "{\"id\": 1, \"text\": \"a \\\"}] quoted\"}");
        assert_eq!(got[0].1, 3);
        assert_eq!(got[1].1, 4);
        assert_eq!(got[0].2, ["type=\"public_channel\"", "id=12"]);
        let v: serde_json::Value = serde_json::from_str(&got[1].0).expect("whole");
        assert_eq!(v["text"][1]["type"], "link");
    }

    #[test]
    fn nested_chat_lists_and_cut_documents() {
        let doc = r#"{"chats": {"list": [{"id": 5, "type": "personal_chat", "messages": [{"id": 9}]}, {"id": 6, "messages": [{"id": 10}, {"id": 11"#;
        let (got, complete) = scan(doc);
        assert!(!complete);
        let shown: Vec<(&str, Vec<String>)> = got.iter().map(|(b, _, c)| (b.as_str(), c.clone())).collect();
        assert_eq!(
            shown,
            [
                ("{\"id\": 9}", vec!["id=5".to_string(), "type=\"personal_chat\"".to_string()]),
                ("{\"id\": 10}", vec!["id=6".to_string()]),
            ]
        );
    }

    /// Read through buffers of every small size, the records are the same.
    #[test]
    fn buffer_boundaries_do_not_matter() {
        let doc =
            "{\"id\": 12, \"messages\": [{\"id\": 1, \"t\": \"a\\\\\"}, {\"id\": 2, \"t\": \"\\\"{\"}]}";
        let (want, _) = scan(doc);
        assert_eq!(want.len(), 2);
        for cap in 1..16 {
            let mut got = Vec::new();
            let reader = std::io::BufReader::with_capacity(cap, doc.as_bytes());
            scan_records(reader, b"messages", &[b"id"], |f| {
                got.push(String::from_utf8_lossy(f.bytes).into_owned())
            });
            let want: Vec<String> = want.iter().map(|w| w.0.clone()).collect();
            assert_eq!(got, want, "buffer of {cap} bytes");
        }
    }
}
