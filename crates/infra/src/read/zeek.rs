//! Zeek logs, in both forms Zeek writes: tab-separated with `#` header directives
//! (`#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#fields`,
//! `#types`) and JSON lines. Both forms go through one field accessor ([`ZeekFields`])
//! and one mapping ([`zeek_event`]), so the same traffic gives the same events whichever
//! form it was written in.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::event::{AuthOutcome, Event, EventKind, IdsAlert, NetDetail, ZeekLog, text};

/// The layout the header directives of a TSV log announce.
#[derive(Debug, Clone)]
pub struct ZeekHeader {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty: Vec<u8>,
    unset: Vec<u8>,
    log: Option<ZeekLog>,
    fields: Vec<String>,
    index: FxHashMap<String, usize>,
}

impl Default for ZeekHeader {
    fn default() -> ZeekHeader {
        ZeekHeader {
            separator: b"\t".to_vec(),
            set_separator: b",".to_vec(),
            empty: b"(empty)".to_vec(),
            unset: b"-".to_vec(),
            log: None,
            fields: Vec::new(),
            index: FxHashMap::default(),
        }
    }
}

/// `\x09` and other `\xHH` escapes Zeek writes for bytes it cannot print or that
/// would be read as a separator.
fn unescape(b: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memmem::find(b, b"\\x").is_none() {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1] == b'x'
            && let (Some(h), Some(l)) = (hex(b[i + 2]), hex(b[i + 3]))
        {
            out.push(h << 4 | l);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

impl ZeekHeader {
    /// Applies one `#` directive line; returns whether the layout changed (unknown
    /// directives such as `#open` and `#close` do not change it).
    pub fn apply(&mut self, line: &[u8]) -> bool {
        if let Some(rest) = line.strip_prefix(b"#separator") {
            let value = rest.strip_prefix(b" ").or_else(|| rest.strip_prefix(b"\t")).unwrap_or(rest);
            let sep = unescape(value).into_owned();
            if sep.is_empty() {
                return false;
            }
            self.separator = sep;
            return true;
        }
        let sep = self.separator.as_slice();
        let mut parts = split(line, sep);
        let name = parts.next().unwrap_or_default();
        let values: Vec<&[u8]> = parts.collect();
        let first = || values.first().map(|v| unescape(v).into_owned()).unwrap_or_default();
        match name {
            b"#set_separator" => self.set_separator = first(),
            b"#empty_field" => self.empty = first(),
            b"#unset_field" => self.unset = first(),
            b"#path" => self.log = Some(ZeekLog::from_path(&text(&first()))),
            b"#fields" => {
                self.fields = values.iter().map(|v| text(v)).collect();
                self.index = self.fields.iter().enumerate().map(|(i, f)| (f.clone(), i)).collect();
            }
            _ => return false,
        }
        true
    }

    fn value<'a>(&self, raw: &'a [u8]) -> Option<&'a [u8]> {
        if raw == self.unset.as_slice() { None } else { Some(raw) }
    }
}

fn split<'a>(line: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let r = rest?;
        if sep.is_empty() {
            rest = None;
            return Some(r);
        }
        match memchr::memmem::find(r, sep) {
            Some(i) => {
                rest = Some(&r[i + sep.len()..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Named access to one record's fields, whichever form it was written in. A field
/// that is absent, unset (`-`) or empty reads as `None`.
pub trait ZeekFields {
    /// The field as text.
    fn get(&self, name: &str) -> Option<Cow<'_, str>>;
    /// A set or vector field, element by element (a scalar is one element).
    fn list(&self, name: &str) -> Vec<String>;
    /// Every field name the record carries, in its order.
    fn names(&self) -> Vec<Cow<'_, str>>;
    /// The log named by the record itself (`#path`, `_path`), if any.
    fn log(&self) -> Option<ZeekLog>;
}

/// One TSV data line read against its header.
pub struct TsvRecord<'a> {
    header: &'a ZeekHeader,
    values: Vec<&'a [u8]>,
}

impl<'a> TsvRecord<'a> {
    /// Splits `line` by the header's separator; `Err` when the header has no `#fields`
    /// or the number of values differs from it.
    pub fn new(line: &'a [u8], header: &'a ZeekHeader) -> Result<TsvRecord<'a>, &'static str> {
        if header.fields.is_empty() {
            return Err("no #fields header before this line");
        }
        let values: Vec<&[u8]> = split(line, &header.separator).collect();
        if values.len() != header.fields.len() {
            return Err("number of values differs from the #fields header");
        }
        Ok(TsvRecord { header, values })
    }

    fn raw(&self, name: &str) -> Option<&'a [u8]> {
        let i = *self.header.index.get(name)?;
        self.header.value(self.values[i])
    }
}

impl ZeekFields for TsvRecord<'_> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        let raw = self.raw(name)?;
        if raw == self.header.empty.as_slice() || raw.is_empty() {
            return None;
        }
        Some(Cow::Owned(text(&unescape(raw))))
    }

    fn list(&self, name: &str) -> Vec<String> {
        let Some(raw) = self.raw(name) else { return Vec::new() };
        if raw == self.header.empty.as_slice() || raw.is_empty() {
            return Vec::new();
        }
        split(raw, &self.header.set_separator).map(|v| text(&unescape(v))).collect()
    }

    fn names(&self) -> Vec<Cow<'_, str>> {
        self.header.fields.iter().map(|f| Cow::Borrowed(f.as_str())).collect()
    }

    fn log(&self) -> Option<ZeekLog> {
        self.header.log
    }
}

/// One JSON line; dotted names (`id.orig_h`) are looked up flat first, then nested.
pub struct JsonRecord {
    map: Map<String, Value>,
}

impl JsonRecord {
    /// Parses one line; `Err` when it is not a JSON object.
    pub fn new(line: &[u8]) -> Result<JsonRecord, &'static str> {
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(map)) => Ok(JsonRecord { map }),
            Ok(_) => Err("JSON line is not an object"),
            Err(_) => Err("invalid JSON"),
        }
    }

    fn value(&self, name: &str) -> Option<&Value> {
        if let Some(v) = self.map.get(name) {
            return Some(v);
        }
        let mut parts = name.split('.');
        let mut v = self.map.get(parts.next()?)?;
        for p in parts {
            v = v.as_object()?.get(p)?;
        }
        Some(v)
    }
}

/// A JSON scalar as the TSV form writes it: booleans as `T`/`F`, numbers as written.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "T" } else { "F" }.to_owned()),
        Value::Null => None,
        Value::Array(a) => {
            let items: Vec<String> = a.iter().filter_map(scalar_text).collect();
            if items.is_empty() { None } else { Some(items.join(",")) }
        }
        Value::Object(_) => Some(v.to_string()),
    }
}

impl ZeekFields for JsonRecord {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        scalar_text(self.value(name)?).map(Cow::Owned)
    }

    fn list(&self, name: &str) -> Vec<String> {
        match self.value(name) {
            Some(Value::Array(a)) => a.iter().filter_map(scalar_text).collect(),
            Some(v) => scalar_text(v).into_iter().collect(),
            None => Vec::new(),
        }
    }

    fn names(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        for (k, v) in &self.map {
            match v {
                Value::Object(inner) => out.extend(inner.keys().map(|ik| Cow::Owned(format!("{k}.{ik}")))),
                _ => out.push(Cow::Borrowed(k.as_str())),
            }
        }
        out
    }

    fn log(&self) -> Option<ZeekLog> {
        self.map.get("_path").and_then(Value::as_str).map(ZeekLog::from_path)
    }
}

/// The log a record belongs to: named by the record (`#path`, `_path`) or, failing
/// that, told by the fields only that log has.
pub fn infer_log(f: &impl ZeekFields) -> ZeekLog {
    if let Some(l) = f.log() {
        return l;
    }
    let names = f.names();
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("conn_state") || (has("duration") && has("orig_bytes")) {
        ZeekLog::Conn
    } else if has("qtype_name") || has("rcode_name") || (has("query") && has("trans_id")) {
        ZeekLog::Dns
    } else if has("status_code") || (has("method") && has("uri")) {
        ZeekLog::Http
    } else if has("server_name") || has("ja3") || (has("cipher") && has("version")) {
        ZeekLog::Ssl
    } else if has("certificate.subject") || has("certificate.serial") {
        ZeekLog::X509
    } else if has("fuid") && (has("mime_type") || has("seen_bytes") || has("md5")) {
        ZeekLog::Files
    } else if has("note") {
        ZeekLog::Notice
    } else if has("name") && has("notice") && has("peer") {
        ZeekLog::Weird
    } else if has("mailfrom") || has("rcptto") || has("helo") {
        ZeekLog::Smtp
    } else if has("cookie") || has("security_protocol") || has("keyboard_layout") {
        ZeekLog::Rdp
    } else if has("auth_success")
        || has("auth_attempts")
        || (has("client") && has("server") && has("version"))
    {
        ZeekLog::Ssh
    } else {
        ZeekLog::Other
    }
}

/// `ts`: seconds since the epoch (`1596790164.509987`) or ISO 8601.
fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(secs) = s.parse::<f64>() {
        if !secs.is_finite() || !(-1e11..1e11).contains(&secs) {
            return None;
        }
        let whole = secs.floor();
        let nanos = ((secs - whole) * 1e9).round().min(999_999_999.0) as u32;
        return DateTime::from_timestamp(whole as i64, nanos);
    }
    scrutineer_core::time::parse_utc(s)
}

fn num(f: &impl ZeekFields, name: &str) -> Option<f64> {
    f.get(name)?.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn count(f: &impl ZeekFields, name: &str) -> Option<u64> {
    f.get(name)?.trim().parse::<u64>().ok()
}

fn string(f: &impl ZeekFields, name: &str) -> Option<String> {
    f.get(name).map(Cow::into_owned)
}

fn addr(f: &impl ZeekFields, name: &str) -> Result<Option<IpAddr>, &'static str> {
    match f.get(name) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| "address field is not an IP address"),
    }
}

/// Fields every log's mapping reads; anything else a record carries is kept in
/// [`NetDetail::extra`].
const KNOWN: &[&str] = &[
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "query",
    "qtype_name",
    "rcode_name",
    "method",
    "host",
    "uri",
    "version",
    "user_agent",
    "referrer",
    "status_code",
    "response_body_len",
    "username",
    "server_name",
    "ja3",
    "ja3s",
    "ja4",
    "cert_chain_fps",
    "fingerprint",
    "san.dns",
    "tx_hosts",
    "rx_hosts",
    "md5",
    "sha1",
    "sha256",
    "note",
    "msg",
    "name",
    "src",
    "dst",
    "p",
    "mailfrom",
    "helo",
    "cookie",
    "result",
    "auth_success",
    "client",
    "_path",
    "_write_ts",
];

/// Zeek notices that report an attack (the rest, such as certificate validation or
/// capture loss, are kept as plain records).
fn attack_notice(note: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "Scan::",
        "SSH::Password_Guessing",
        "SSH::Login_By_Password_Guesser",
        "HTTP::SQL_Injection",
        "FTP::Bruteforcing",
        "Intel::",
        "TeamCymruMalwareHashRegistry::",
        "Heartbleed::",
        "SMTP::Blocklist",
        "DNS::External_Name",
    ];
    PREFIXES.iter().any(|p| note.starts_with(p))
}

/// Maps one Zeek record to an [`Event`]; the record's log is named or inferred by
/// [`infer_log`]. `Err` when it has no readable `ts` or an address that is not one.
pub fn zeek_event(f: &impl ZeekFields, jurisdiction: &Arc<str>) -> Result<Event, &'static str> {
    let log = infer_log(f);
    let time = parse_ts(&f.get("ts").ok_or("no ts field")?).ok_or("ts is not a time")?;
    let mut ev = Event {
        kind: EventKind::Flow,
        time: Some(time),
        jurisdiction: jurisdiction.clone(),
        ..Event::default()
    };
    ev.src = addr(f, "id.orig_h")?;
    ev.dst = addr(f, "id.resp_h")?;
    let mut net = NetDetail {
        log,
        uid: string(f, "uid"),
        src_port: count(f, "id.orig_p").and_then(|p| u16::try_from(p).ok()),
        dst_port: count(f, "id.resp_p").and_then(|p| u16::try_from(p).ok()),
        proto: string(f, "proto"),
        ..NetDetail::default()
    };
    match log {
        ZeekLog::Conn => {
            net.service = string(f, "service");
            net.duration = num(f, "duration").filter(|d| *d >= 0.0);
            net.orig_bytes = count(f, "orig_bytes");
            net.resp_bytes = count(f, "resp_bytes");
            net.conn_state = string(f, "conn_state");
            ev.bytes = net.resp_bytes;
            ev.duration_ms = net.duration.map(|d| d * 1000.0);
        }
        ZeekLog::Dns => {
            ev.kind = EventKind::Dns;
            ev.query = string(f, "query").map(|q| q.to_ascii_lowercase());
            net.qtype = string(f, "qtype_name");
            net.rcode = string(f, "rcode_name");
        }
        ZeekLog::Http => {
            ev.kind = EventKind::Http;
            ev.method = string(f, "method");
            ev.host = string(f, "host");
            ev.target = string(f, "uri");
            ev.protocol = string(f, "version").map(|v| format!("HTTP/{v}"));
            ev.user_agent = string(f, "user_agent");
            ev.referer = string(f, "referrer");
            ev.status = count(f, "status_code").and_then(|s| u16::try_from(s).ok()).filter(|s| *s < 1000);
            ev.bytes = count(f, "response_body_len");
            ev.user = string(f, "username");
        }
        ZeekLog::Ssl => {
            ev.kind = EventKind::Tls;
            ev.query = string(f, "server_name").map(|q| q.to_ascii_lowercase());
            ev.host = ev.query.clone();
            net.ja3 = string(f, "ja3").or_else(|| string(f, "ja4"));
            net.ja3s = string(f, "ja3s");
            net.hashes = f.list("cert_chain_fps").into_iter().map(|h| h.to_ascii_lowercase()).collect();
        }
        ZeekLog::X509 => {
            net.hashes = string(f, "fingerprint").map(|h| h.to_ascii_lowercase()).into_iter().collect();
            ev.host = f.list("san.dns").into_iter().next();
        }
        ZeekLog::Files => {
            // Older Zeek names the hosts of a file in sets, newer ones by connection.
            if ev.src.is_none() {
                ev.src = f.list("rx_hosts").first().and_then(|h| h.parse().ok());
            }
            if ev.dst.is_none() {
                ev.dst = f.list("tx_hosts").first().and_then(|h| h.parse().ok());
            }
            net.hashes = ["md5", "sha1", "sha256"]
                .iter()
                .filter_map(|h| string(f, h).map(|v| v.to_ascii_lowercase()))
                .collect();
        }
        ZeekLog::Notice => {
            if ev.src.is_none() {
                ev.src = addr(f, "src")?;
            }
            if ev.dst.is_none() {
                ev.dst = addr(f, "dst")?;
            }
            let note = string(f, "note").unwrap_or_default();
            if attack_notice(&note) {
                ev.kind = EventKind::Alert;
                let msg = string(f, "msg").unwrap_or_default();
                ev.alert = Some(IdsAlert {
                    signature: if msg.is_empty() { note.clone() } else { format!("{note}: {msg}") },
                    signature_id: 0,
                    category: "zeek notice".to_owned(),
                    severity: 2,
                });
            }
            net.note = Some(note).filter(|n| !n.is_empty());
        }
        ZeekLog::Weird => net.note = string(f, "name"),
        ZeekLog::Smtp => {
            ev.host = string(f, "helo");
            ev.user = string(f, "mailfrom");
            ev.user_agent = string(f, "user_agent");
        }
        ZeekLog::Rdp => {
            ev.kind = EventKind::Auth;
            ev.user = string(f, "cookie");
            if f.get("result").as_deref() == Some("Success") {
                ev.auth = Some(AuthOutcome::Accepted);
            }
        }
        ZeekLog::Ssh => {
            ev.kind = EventKind::Auth;
            ev.user_agent = string(f, "client");
            ev.auth = match f.get("auth_success").as_deref() {
                Some("T" | "true") => Some(AuthOutcome::Accepted),
                Some("F" | "false") => Some(AuthOutcome::Failed),
                _ => None,
            };
        }
        ZeekLog::Other => {}
    }
    for name in f.names() {
        if !KNOWN.contains(&name.as_ref())
            && let Some(v) = f.get(&name)
        {
            net.extra.push((name.into_owned(), v.into_owned()));
        }
    }
    ev.net = Some(Box::new(net));
    Ok(ev)
}

/// One Zeek TSV data line against the header directives before it.
pub fn parse_zeek_tsv_line(
    line: &[u8],
    header: &ZeekHeader,
    jurisdiction: &Arc<str>,
) -> Result<Event, &'static str> {
    zeek_event(&TsvRecord::new(line, header)?, jurisdiction)
}

/// One Zeek JSON line. A line that is JSON but not a Zeek record (no `ts`, such as a
/// Suricata record in the wrong file) is malformed.
pub fn parse_zeek_json_line(line: &[u8], jurisdiction: &Arc<str>) -> Result<Event, &'static str> {
    let rec = JsonRecord::new(line)?;
    if rec.map.contains_key("event_type") {
        return Err("a Suricata EVE record, not a Zeek one");
    }
    zeek_event(&rec, jurisdiction)
}

/// Whether a JSON line looks like a Zeek record (for `--format auto`).
pub fn looks_like_zeek_json(line: &[u8]) -> bool {
    let has = |k: &[u8]| memchr::memmem::find(line, k).is_some();
    // Zeek writes `ts` first; other writers may reorder, but then carry a Zeek key.
    let compact: Vec<u8> = line.iter().copied().filter(|b| !b.is_ascii_whitespace()).take(8).collect();
    compact.starts_with(b"{\"ts\":")
        || (has(b"\"ts\"")
            && (has(b"\"uid\"")
                || has(b"\"id.orig_h\"")
                || has(b"\"_path\"")
                || has(b"\"fuid\"")
                || has(b"\"fingerprint\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(lines: &[&str]) -> ZeekHeader {
        let mut h = ZeekHeader::default();
        for l in lines {
            h.apply(l.as_bytes());
        }
        h
    }

    const CONN: &[&str] = &[
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\ttunnel_parents\tlabel",
    ];

    #[test]
    fn tsv_and_json_of_one_connection_give_the_same_event() {
        let h = header(CONN);
        let j = Arc::from("j");
        let tsv = parse_zeek_tsv_line(
            b"1596790164.509987\tCr01\t10.8.0.61\t35740\t8.8.8.8\t53\tudp\tdns\t0.017912\t48\t64\tSF\t(empty)\tMalicious",
            &h,
            &j,
        )
        .expect("tsv");
        let json = parse_zeek_json_line(
            br#"{"ts":1596790164.509987,"uid":"Cr01","id.orig_h":"10.8.0.61","id.orig_p":35740,"id.resp_h":"8.8.8.8","id.resp_p":53,"proto":"udp","service":"dns","duration":0.017912,"orig_bytes":48,"resp_bytes":64,"conn_state":"SF","label":"Malicious"}"#,
            &j,
        )
        .expect("json");
        assert_eq!(tsv.time, json.time);
        assert_eq!(tsv.src, json.src);
        assert_eq!(tsv.net, json.net);
        let net = tsv.net.as_ref().expect("net");
        assert_eq!(net.log, ZeekLog::Conn);
        assert_eq!(net.dst_port, Some(53));
        assert_eq!(net.resp_bytes, Some(64));
        assert_eq!(net.extra, vec![("label".to_owned(), "Malicious".to_owned())]);
    }

    #[test]
    fn unset_empty_and_escaped_values() {
        let mut lines = CONN.to_vec();
        lines[3] = "#unset_field\tNONE";
        let h = header(&lines);
        let e = parse_zeek_tsv_line(
            b"5.5\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\tNONE\tNONE\t-\t3\tS0\ta\\x09b,c\tx\\x41y",
            &h,
            &Arc::from("j"),
        )
        .expect("parse");
        let net = e.net.expect("net");
        assert_eq!(net.service, None);
        assert_eq!(net.duration, None);
        // `-` is not the unset marker in this header, so it is a value (not a count).
        assert_eq!(net.orig_bytes, None);
        assert_eq!(net.extra[0], ("tunnel_parents".to_owned(), "a\tb,c".to_owned()));
        assert_eq!(net.extra[1], ("label".to_owned(), "xAy".to_owned()));
    }

    #[test]
    fn missing_header_wrong_width_and_bad_values_are_errors() {
        let j = Arc::from("j");
        let none = ZeekHeader::default();
        assert_eq!(
            parse_zeek_tsv_line(b"1.0\tC\t10.0.0.1", &none, &j).err(),
            Some("no #fields header before this line")
        );
        let h = header(CONN);
        assert!(parse_zeek_tsv_line(b"1.0\tC\t10.0.0.1", &h, &j).is_err());
        let bad_ip = b"1.0\tC\tnot-an-ip\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tS0\t-\t-";
        assert!(parse_zeek_tsv_line(bad_ip, &h, &j).is_err());
        let bad_ts = b"yesterday\tC\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tS0\t-\t-";
        assert!(parse_zeek_tsv_line(bad_ts, &h, &j).is_err());
        assert!(parse_zeek_json_line(br#"{"event_type":"flow","ts":1,"uid":"C"}"#, &j).is_err());
        assert!(parse_zeek_json_line(br#"{"uid":"C"}"#, &j).is_err());
        assert!(parse_zeek_json_line(br#"[1,2]"#, &j).is_err());
    }

    #[test]
    fn json_logs_are_told_apart_by_their_fields() {
        let j = Arc::from("j");
        let dns = parse_zeek_json_line(
            br#"{"ts":"2024-10-01T12:00:00.5Z","uid":"C","id.orig_h":"10.0.0.1","query":"ABC.example","qtype_name":"TXT","rcode_name":"NXDOMAIN"}"#,
            &j,
        )
        .expect("dns");
        assert_eq!(dns.kind, EventKind::Dns);
        assert_eq!(dns.query.as_deref(), Some("abc.example"));
        assert_eq!(dns.net.as_ref().and_then(|n| n.rcode.as_deref()), Some("NXDOMAIN"));
        let ssh = parse_zeek_json_line(
            br#"{"ts":1.0,"uid":"C","id":{"orig_h":"10.0.0.9","resp_h":"10.0.0.1"},"auth_success":false,"client":"SSH-2.0-libssh"}"#,
            &j,
        )
        .expect("ssh");
        assert_eq!(ssh.kind, EventKind::Auth);
        assert_eq!(ssh.auth, Some(AuthOutcome::Failed));
        assert_eq!(ssh.src, "10.0.0.9".parse().ok());
        let notice = parse_zeek_json_line(
            br#"{"ts":1.0,"note":"Scan::Port_Scan","msg":"scanned 20 ports","src":"192.0.2.1"}"#,
            &j,
        )
        .expect("notice");
        assert_eq!(notice.kind, EventKind::Alert);
        assert_eq!(notice.src, "192.0.2.1".parse().ok());
    }
}
