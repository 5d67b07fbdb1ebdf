//! The one normalised record every reader produces.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What sort of log event a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A web request (access logs, raw HTTP dumps, Suricata `http`).
    #[default]
    Http,
    /// An authentication attempt or other line of an auth log.
    Auth,
    /// An IDS alert (Suricata `alert`).
    Alert,
    /// A DNS query (Suricata `dns`).
    Dns,
    /// A TLS handshake (Suricata `tls`).
    Tls,
    /// A network flow (Suricata `flow`) or any other IDS record.
    Flow,
}

impl EventKind {
    /// The kind's name (`http`, `auth`, `alert`, `dns`, `tls`, `flow`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Http => "http",
            EventKind::Auth => "auth",
            EventKind::Alert => "alert",
            EventKind::Dns => "dns",
            EventKind::Tls => "tls",
            EventKind::Flow => "flow",
        }
    }
}

/// The outcome of a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthOutcome {
    /// A failed attempt for an existing (or unnamed) account.
    Failed,
    /// A failed attempt for an account that does not exist.
    InvalidUser,
    /// A successful login.
    Accepted,
}

/// An IDS alert carried by an event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdsAlert {
    /// The signature's message.
    pub signature: String,
    /// The signature id (`sid`).
    pub signature_id: u64,
    /// The signature's class (`classtype` description).
    pub category: String,
    /// Suricata severity: 1 (highest) to 4.
    pub severity: u8,
}

/// One request or log line, whatever format it came from.
///
/// Text fields keep the bytes of the input: valid UTF-8 is kept as is, anything else is
/// read as Latin-1 (which is lossless), so that encoded attack payloads survive.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// What sort of record it is.
    pub kind: EventKind,
    /// When it happened, in UTC.
    pub time: Option<DateTime<Utc>>,
    /// The client or attacking address.
    pub src: Option<IpAddr>,
    /// The server or attacked address, where the log records it.
    pub dst: Option<IpAddr>,
    /// Virtual host, Host header, SNI or the syslog host name.
    pub host: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// The request target as sent (path and query, still percent-encoded).
    pub target: Option<String>,
    /// HTTP protocol version (`HTTP/1.1`).
    pub protocol: Option<String>,
    /// Request headers, when the input carries them (raw HTTP dumps).
    pub headers: Vec<(String, String)>,
    /// Header lines that were not `Name: value`.
    pub malformed_headers: u32,
    /// Request body (raw HTTP dumps).
    pub body: Option<String>,
    /// HTTP response status.
    pub status: Option<u16>,
    /// Response size in bytes.
    pub bytes: Option<u64>,
    /// The Referer header.
    pub referer: Option<String>,
    /// The User-Agent header.
    pub user_agent: Option<String>,
    /// The account a login attempt was for.
    pub user: Option<String>,
    /// The outcome of a login attempt (auth logs).
    pub auth: Option<AuthOutcome>,
    /// The IDS alert (Suricata `alert`).
    pub alert: Option<IdsAlert>,
    /// DNS query name or TLS server name.
    pub query: Option<String>,
    /// Response time in milliseconds, where the log records it.
    pub duration_ms: Option<f64>,
    /// The office the event was observed at.
    pub jurisdiction: Arc<str>,
    /// What a network sensor (Zeek) recorded beyond the fields above.
    pub net: Option<Box<NetDetail>>,
}

/// The Zeek logs the readers know by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeekLog {
    /// `conn.log`: one row per connection.
    Conn,
    /// `dns.log`: one row per query and its answers.
    Dns,
    /// `http.log`: one row per request.
    Http,
    /// `ssl.log`: one row per TLS handshake.
    Ssl,
    /// `x509.log`: one row per certificate seen.
    X509,
    /// `files.log`: one row per file transferred.
    Files,
    /// `notice.log`: Zeek's own detections.
    Notice,
    /// `weird.log`: protocol violations.
    Weird,
    /// `smtp.log`: one row per message.
    Smtp,
    /// `rdp.log`: one row per RDP session.
    Rdp,
    /// `ssh.log`: one row per SSH session.
    Ssh,
    /// Any other log (`software`, `sip`, `tunnel`, ...), kept as a flow-like record.
    #[default]
    Other,
}

impl ZeekLog {
    /// The log's `#path` name.
    pub fn as_str(self) -> &'static str {
        match self {
            ZeekLog::Conn => "conn",
            ZeekLog::Dns => "dns",
            ZeekLog::Http => "http",
            ZeekLog::Ssl => "ssl",
            ZeekLog::X509 => "x509",
            ZeekLog::Files => "files",
            ZeekLog::Notice => "notice",
            ZeekLog::Weird => "weird",
            ZeekLog::Smtp => "smtp",
            ZeekLog::Rdp => "rdp",
            ZeekLog::Ssh => "ssh",
            ZeekLog::Other => "other",
        }
    }

    /// The log a `#path` (or `_path`) names; rotated and labelled names
    /// (`conn.log.labeled`, `dns.04:00:00-05:00:00`) reduce to their first part.
    pub fn from_path(path: &str) -> ZeekLog {
        let base = path.rsplit('/').next().unwrap_or(path);
        match base.split(['.', '_', '-']).next().unwrap_or(base) {
            "conn" => ZeekLog::Conn,
            "dns" => ZeekLog::Dns,
            "http" => ZeekLog::Http,
            "ssl" => ZeekLog::Ssl,
            "x509" => ZeekLog::X509,
            "files" => ZeekLog::Files,
            "notice" => ZeekLog::Notice,
            "weird" => ZeekLog::Weird,
            "smtp" => ZeekLog::Smtp,
            "rdp" => ZeekLog::Rdp,
            "ssh" => ZeekLog::Ssh,
            _ => ZeekLog::Other,
        }
    }
}

/// Network-sensor fields of an event (Zeek logs): ports, byte counts, connection state,
/// DNS answer codes, TLS fingerprints, hashes, and the columns the reader does not know.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetDetail {
    /// The log the record came from.
    pub log: ZeekLog,
    /// Zeek's connection id (`uid`), which links the logs of one connection.
    pub uid: Option<String>,
    /// Originator port.
    pub src_port: Option<u16>,
    /// Responder port.
    pub dst_port: Option<u16>,
    /// Transport protocol (`tcp`, `udp`, `icmp`).
    pub proto: Option<String>,
    /// Application protocol Zeek recognised (`dns`, `ssl`, `http`, ...).
    pub service: Option<String>,
    /// Connection length in seconds.
    pub duration: Option<f64>,
    /// Payload bytes the originator sent.
    pub orig_bytes: Option<u64>,
    /// Payload bytes the responder sent.
    pub resp_bytes: Option<u64>,
    /// Zeek's connection state (`SF`, `S0`, `REJ`, ...).
    pub conn_state: Option<String>,
    /// DNS query type name (`A`, `TXT`, `NULL`, ...).
    pub qtype: Option<String>,
    /// DNS response code name (`NOERROR`, `NXDOMAIN`, ...).
    pub rcode: Option<String>,
    /// TLS client fingerprint (JA3 or JA4), as the sensor wrote it.
    pub ja3: Option<String>,
    /// TLS server fingerprint (JA3S).
    pub ja3s: Option<String>,
    /// Certificate or file hashes (x509 fingerprint, ssl `cert_chain_fps`, files
    /// `md5`/`sha1`/`sha256`), lower case.
    pub hashes: Vec<String>,
    /// Notice or weird name (`Scan::Port_Scan`, `bad_TCP_checksum`).
    pub note: Option<String>,
    /// Columns the reader has no field for (sensor labels, community ids), by name.
    pub extra: Vec<(String, String)>,
}

impl Event {
    /// The path of the request target, without query or fragment, with an absolute-URL
    /// target (`http://host/path`) reduced to its path.
    pub fn path(&self) -> Option<&str> {
        let t = self.target.as_deref()?;
        let t = strip_origin(t);
        let end = t.find(['?', '#']).unwrap_or(t.len());
        Some(&t[..end])
    }

    /// The query string of the request target, if any.
    pub fn query_string(&self) -> Option<&str> {
        let t = self.target.as_deref()?;
        let q = t.find('?')? + 1;
        let end = t[q..].find('#').map(|e| q + e).unwrap_or(t.len());
        Some(&t[q..end])
    }

    /// The value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// `http://host:port/path` -> `/path`; anything else unchanged.
pub fn strip_origin(t: &str) -> &str {
    for scheme in ["http://", "https://"] {
        // Compare bytes: a text decoded from Latin-1 can hold a multi-byte character
        // where the scheme would end, and slicing the str there would panic. A match is
        // all ASCII, so the offset after it is a character boundary.
        let n = scheme.len();
        if t.len() > n && t.as_bytes()[..n].eq_ignore_ascii_case(scheme.as_bytes()) {
            let rest = &t[n..];
            return match rest.find('/') {
                Some(i) => &rest[i..],
                None => "/",
            };
        }
    }
    t
}

/// Bytes to text: UTF-8 when valid, otherwise Latin-1 (every byte one char).
pub fn text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_origin_survives_multibyte_text_where_the_scheme_would_end() {
        // Found by fuzzing read_http: byte 7 falls inside the third 'é'.
        assert_eq!(strip_origin("ht\u{e9}\u{e9}\u{e9}x/path"), "ht\u{e9}\u{e9}\u{e9}x/path");
        assert_eq!(strip_origin("HTTP://host:8080/a?b=1"), "/a?b=1");
        assert_eq!(strip_origin("https://host"), "/");
        assert_eq!(strip_origin("/plain"), "/plain");
    }

    #[test]
    fn path_and_query_of_absolute_and_relative_targets() {
        let e = Event { target: Some("http://localhost:8080/a/b.jsp?x=1&y=2#f".into()), ..Event::default() };
        assert_eq!(e.path(), Some("/a/b.jsp"));
        assert_eq!(e.query_string(), Some("x=1&y=2"));
        let e = Event { target: Some("/index.html".into()), ..Event::default() };
        assert_eq!(e.path(), Some("/index.html"));
        assert_eq!(e.query_string(), None);
    }

    #[test]
    fn latin1_survives() {
        assert_eq!(text(b"A\xf1adir"), "Añadir");
        assert_eq!(text("Añadir".as_bytes()), "Añadir");
    }
}
