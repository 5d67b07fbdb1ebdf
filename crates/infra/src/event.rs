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
