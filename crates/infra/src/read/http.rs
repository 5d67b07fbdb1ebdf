//! Raw HTTP request dumps (CSIC 2010 style): request line, headers, blank line, body.

use std::sync::Arc;

use crate::event::{Event, EventKind, text};
use crate::read::trim_cr;

const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"PUT",
    b"DELETE",
    b"HEAD",
    b"OPTIONS",
    b"PATCH",
    b"TRACE",
    b"CONNECT",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"TRACK",
    b"DEBUG",
    b"SEARCH",
];

/// `METHOD target HTTP/x.y` with a known method.
pub fn is_request_line(line: &[u8]) -> bool {
    let Some(sp) = memchr::memchr(b' ', line) else { return false };
    if !METHODS.contains(&&line[..sp]) {
        return false;
    }
    let rest = &line[sp + 1..];
    match memchr::memrchr(b' ', rest) {
        Some(i) => i > 0 && rest[i + 1..].starts_with(b"HTTP/"),
        None => false,
    }
}

/// Parses one request record as cut by the framer.
pub fn parse_http_request(rec: &[u8], jurisdiction: &Arc<str>) -> Result<Event, &'static str> {
    let mut lines = rec.split(|&b| b == b'\n').map(trim_cr);
    let first = lines.next().ok_or("empty record")?;
    if !is_request_line(first) {
        return Err("not an HTTP request line");
    }
    let sp = memchr::memchr(b' ', first).ok_or("no space in request line")?;
    let last = memchr::memrchr(b' ', first).ok_or("no protocol")?;
    let method = text(&first[..sp]);
    let target = text(&first[sp + 1..last]);
    let protocol = text(&first[last + 1..]);
    let mut headers = Vec::new();
    let mut malformed_headers = 0;
    let mut body_lines: Vec<&[u8]> = Vec::new();
    let mut in_body = false;
    for l in lines {
        if in_body {
            body_lines.push(l);
            continue;
        }
        if l.is_empty() {
            in_body = true;
            continue;
        }
        match memchr::memchr(b':', l) {
            Some(i)
                if i > 0 && l[..i].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_') =>
            {
                let value = &l[i + 1..];
                if !value.is_empty() && value[0] != b' ' && value[0] != b'\t' {
                    // RFC 9112 allows no space, but browsers and proxies always send one;
                    // its absence marks a hand-crafted request.
                    malformed_headers += 1;
                }
                headers.push((text(&l[..i]), text(value.trim_ascii())));
            }
            _ => malformed_headers += 1,
        }
    }
    while body_lines.last().is_some_and(|l| l.trim_ascii().is_empty()) {
        body_lines.pop();
    }
    let body = if body_lines.is_empty() { None } else { Some(text(&body_lines.join(&b"\n"[..]))) };
    let mut ev = Event {
        kind: EventKind::Http,
        method: Some(method),
        target: Some(target),
        protocol: Some(protocol),
        malformed_headers,
        headers,
        body,
        jurisdiction: jurisdiction.clone(),
        ..Event::default()
    };
    ev.host = ev.header("host").map(|h| h.split(':').next().unwrap_or(h).to_owned());
    ev.user_agent = ev.header("user-agent").map(str::to_owned);
    ev.referer = ev.header("referer").map(str::to_owned);
    if ev.host.is_none()
        && let Some(rest) =
            ev.target.as_deref().and_then(|t| t.strip_prefix("http://").or(t.strip_prefix("https://")))
    {
        let h = rest.split(['/', '?']).next().unwrap_or_default();
        ev.host = Some(h.split(':').next().unwrap_or(h).to_owned());
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_with_headers_and_body() {
        let rec = b"POST http://localhost:8080/tienda1/publico/anadir.jsp HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\nHost: localhost:8080\r\nContent-Length: 3\r\n\r\nid=3\r\n";
        let e = parse_http_request(rec, &Arc::from("j")).expect("parse");
        assert_eq!(e.method.as_deref(), Some("POST"));
        assert_eq!(e.path(), Some("/tienda1/publico/anadir.jsp"));
        assert_eq!(e.host.as_deref(), Some("localhost"));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0"));
        assert_eq!(e.body.as_deref(), Some("id=3"));
        assert_eq!(e.malformed_headers, 0);
    }

    #[test]
    fn header_without_space_or_colon_is_counted() {
        let rec = b"GET /x HTTP/1.1\r\nAccept:text/html\r\nnot a header\r\n\r\n";
        let e = parse_http_request(rec, &Arc::from("j")).expect("parse");
        assert_eq!(e.malformed_headers, 2);
        assert!(parse_http_request(b"hello world\r\n", &Arc::from("j")).is_err());
        assert!(is_request_line(b"GET /a HTTP/1.1"));
        assert!(!is_request_line(b"GET /a"));
        assert!(!is_request_line(b"FOO /a HTTP/1.1"));
    }
}
