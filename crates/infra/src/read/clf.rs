//! Apache/nginx access logs: common, combined, with a leading virtual host
//! (`%v:%p` / `%v`) and trailing extras such as the response time (`%D`, `%T`,
//! `$request_time`). Hand-written byte parser: this is the hot path.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::event::{Event, EventKind, text};

/// Parses one access-log line.
pub fn parse_clf_line(line: &[u8], jurisdiction: &Arc<str>) -> Result<Event, &'static str> {
    let mut line = line.trim_ascii();
    // Some exports wrap every line in an extra pair of double quotes.
    if line.len() > 2 && line[0] == b'"' && line[line.len() - 1] == b'"' && line.get(1) != Some(&b'"') {
        let inner = &line[1..line.len() - 1];
        if inner.first().is_some_and(|b| b.is_ascii_alphanumeric() || *b == b':') {
            line = inner;
        }
    }
    let mut c = Cursor { s: line, i: 0 };
    let first = c.token().ok_or("empty line")?;
    let mut host = None;
    let src_tok = if let Some(ip) = parse_ip(first) {
        Some(ip)
    } else {
        // `vhost[:port] client ...`
        let second = c.token().ok_or("missing client address")?;
        match parse_ip(second) {
            Some(ip) => {
                host = Some(text(strip_port(first)));
                Some(ip)
            }
            None if looks_like_host(first) => None,
            None => return Err("first field is neither a client address nor a virtual host"),
        }
    };
    let _ident = c.token().ok_or("missing ident field")?;
    let user = c.token().ok_or("missing user field")?;
    let time_field = c.bracketed().ok_or("missing [time] field")?;
    let time = parse_clf_time(time_field).ok_or("unreadable [time] field")?;
    let request = c.quoted().ok_or("missing \"request\" field")?;
    let status_tok = c.token().ok_or("missing status field")?;
    let status = if status_tok == b"-" {
        None
    } else {
        Some(parse_u64(status_tok).filter(|s| *s < 1000).ok_or("status is not a number")? as u16)
    };
    let bytes = match c.token() {
        None | Some(b"-") => None,
        Some(t) => Some(parse_u64(t).ok_or("size is not a number")?),
    };
    let mut referer = None;
    let mut user_agent = None;
    let mut duration_ms = None;
    if let Some(r) = c.quoted() {
        referer = non_dash(r);
        user_agent = c.quoted().and_then(non_dash);
    }
    // Trailing extras: the first bare number is taken as the response time
    // (with a decimal point: seconds; without: microseconds, Apache's %D).
    while let Some(t) = c.any() {
        if duration_ms.is_none()
            && let Some(ms) = parse_duration(t)
        {
            duration_ms = Some(ms);
        }
    }
    let (method, target, protocol) = split_request(request);
    Ok(Event {
        kind: EventKind::Http,
        time: Some(time),
        src: src_tok,
        host,
        method,
        target,
        protocol,
        status,
        bytes,
        referer,
        user_agent,
        user: non_dash(user),
        duration_ms,
        jurisdiction: jurisdiction.clone(),
        ..Event::default()
    })
}

/// `GET /x HTTP/1.1` -> parts; anything else is kept whole as the target (a request
/// line that is not one, e.g. a TLS handshake sent to port 80, is itself a signal).
pub(crate) fn split_request(r: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    if r == b"-" || r.is_empty() {
        return (None, None, None);
    }
    let mut parts = r.splitn(3, |&b| b == b' ');
    let m = parts.next().unwrap_or_default();
    let t = parts.next();
    let p = parts.next();
    let method_ok = !m.is_empty()
        && m.len() <= 20
        && m.iter().all(|b| b.is_ascii_uppercase() || *b == b'_' || *b == b'-');
    match (method_ok, t) {
        (true, Some(t)) => {
            // A target containing spaces leaves the protocol at the end.
            let (t, p) = match p {
                Some(p) if p.starts_with(b"HTTP/") || p.starts_with(b"HTTP") => (t.to_vec(), Some(text(p))),
                Some(p) => {
                    let mut whole = t.to_vec();
                    whole.push(b' ');
                    whole.extend_from_slice(p);
                    match whole.iter().rposition(|&b| b == b' ') {
                        Some(i) if whole[i + 1..].starts_with(b"HTTP/") => {
                            let proto = text(&whole[i + 1..]);
                            whole.truncate(i);
                            (whole, Some(proto))
                        }
                        _ => (whole, None),
                    }
                }
                None => (t.to_vec(), None),
            };
            (Some(text(m)), Some(text(&t)), p)
        }
        (true, None) => (Some(text(m)), None, None),
        (false, _) => (None, Some(text(r)), None),
    }
}

fn non_dash(b: &[u8]) -> Option<String> {
    if b.is_empty() || b == b"-" { None } else { Some(text(b)) }
}

fn strip_port(h: &[u8]) -> &[u8] {
    match h.iter().rposition(|&b| b == b':') {
        Some(i) if h[i + 1..].iter().all(u8::is_ascii_digit) && !h[..i].contains(&b':') => &h[..i],
        _ => h,
    }
}

fn looks_like_host(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'_'))
}

pub(crate) fn parse_ip(b: &[u8]) -> Option<IpAddr> {
    if b.is_empty() || b.len() > 45 {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

pub(crate) fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

fn parse_duration(t: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(t).ok()?;
    if s.contains('.') {
        s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(|v| v * 1000.0)
    } else {
        parse_u64(t).map(|us| us as f64 / 1000.0)
    }
}

/// `10/Oct/2000:13:55:36 -0700` -> UTC.
pub fn parse_clf_time(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| parse_u64(b.get(r)?);
    let day = num(0..2)? as u32;
    let month = match b.get(3..6)? {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let year = num(7..11)? as i32;
    if b.get(2) != Some(&b'/') || b.get(6) != Some(&b'/') || b.get(11) != Some(&b':') {
        return None;
    }
    let h = num(12..14)? as u32;
    let m = num(15..17)? as u32;
    let s = num(18..20)? as u32;
    let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(h, m, s)?;
    let offset = if b.len() >= 26 && b[20] == b' ' {
        let sign = match b[21] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let oh = num(22..24)? as i32;
        let om = num(24..26)? as i32;
        FixedOffset::east_opt(sign * (oh * 3600 + om * 60))?
    } else {
        FixedOffset::east_opt(0)?
    };
    naive.and_local_timezone(offset).single().map(|t| t.with_timezone(&Utc))
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] == b' ' || self.s[self.i] == b'\t') {
            self.i += 1;
        }
    }

    /// A bare token up to the next space.
    fn token(&mut self) -> Option<&'a [u8]> {
        self.skip_ws();
        if self.i >= self.s.len() || matches!(self.s[self.i], b'"' | b'[') {
            return None;
        }
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != b' ' && self.s[self.i] != b'\t' {
            self.i += 1;
        }
        Some(&self.s[start..self.i])
    }

    /// Any next field: quoted, bracketed or bare.
    fn any(&mut self) -> Option<&'a [u8]> {
        self.skip_ws();
        match self.s.get(self.i)? {
            b'"' => self.quoted(),
            b'[' => self.bracketed(),
            _ => self.token(),
        }
    }

    fn bracketed(&mut self) -> Option<&'a [u8]> {
        self.skip_ws();
        if self.s.get(self.i) != Some(&b'[') {
            return None;
        }
        let start = self.i + 1;
        let end = start + memchr::memchr(b']', &self.s[start..])?;
        self.i = end + 1;
        Some(&self.s[start..end])
    }

    /// A double-quoted field; `\"` inside is an escaped quote. A quote followed by a
    /// space or the end of line closes the field, so unescaped quotes inside a request
    /// (as some servers log them) do not derail the rest of the line.
    fn quoted(&mut self) -> Option<&'a [u8]> {
        self.skip_ws();
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        while j < self.s.len() {
            match self.s[j] {
                b'\\' => j += 2,
                b'"' if j + 1 == self.s.len() || self.s[j + 1] == b' ' || self.s[j + 1] == b'\t' => {
                    self.i = j + 1;
                    return Some(&self.s[start..j]);
                }
                _ => j += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j() -> Arc<str> {
        Arc::from("test")
    }

    #[test]
    fn combined_line() {
        let e = parse_clf_line(
            br#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/x.png HTTP/1.1" 200 203023 "http://semicomplete.com/" "Mozilla/5.0 (Macintosh)""#,
            &j(),
        )
        .expect("parse");
        assert_eq!(e.src, "83.149.9.216".parse().ok());
        assert_eq!(e.method.as_deref(), Some("GET"));
        assert_eq!(e.path(), Some("/presentations/x.png"));
        assert_eq!(e.status, Some(200));
        assert_eq!(e.bytes, Some(203023));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (Macintosh)"));
        assert_eq!(e.time.map(|t| t.to_rfc3339()), Some("2015-05-17T10:05:03+00:00".into()));
    }

    #[test]
    fn common_vhost_quoted_and_timed_variants() {
        let e = parse_clf_line(
            br#"10.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 -"#,
            &j(),
        )
        .expect("common");
        assert_eq!(e.user.as_deref(), Some("bob"));
        assert_eq!(e.bytes, None);
        assert_eq!(e.time.map(|t| t.to_rfc3339()), Some("2000-10-10T20:55:36+00:00".into()));
        let e = parse_clf_line(
            br#"vote.example.gov:443 10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "POST /login HTTP/1.1" 401 12 "-" "curl/8" 1532"#,
            &j(),
        )
        .expect("vhost");
        assert_eq!(e.host.as_deref(), Some("vote.example.gov"));
        assert_eq!(e.status, Some(401));
        assert_eq!(e.duration_ms, Some(1.532));
        let e = parse_clf_line(
            br#""192.168.4.163 - - [22/Dec/2016:22:32:31 +0300] "GET / HTTP/1.1" 200 3279 "-" "w3af.org"""#,
            &j(),
        )
        .expect("quoted");
        assert_eq!(e.user_agent.as_deref(), Some("w3af.org"));
        let e = parse_clf_line(
            br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "x" 0.250"#,
            &j(),
        )
        .expect("nginx request_time");
        assert_eq!(e.duration_ms, Some(250.0));
    }

    #[test]
    fn odd_request_lines_are_kept() {
        let e =
            parse_clf_line(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "\x16\x03\x01" 400 0 "-" "-""#, &j())
                .expect("tls garbage");
        assert_eq!(e.method, None);
        assert!(e.target.is_some());
        let e =
            parse_clf_line(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /a b c HTTP/1.1" 200 5"#, &j())
                .expect("spaces");
        assert_eq!(e.target.as_deref(), Some("/a b c"));
    }

    #[test]
    fn truncated_lines_are_errors_not_panics() {
        let full = br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "ua""#;
        for n in 0..full.len() {
            let _ = parse_clf_line(&full[..n], &j());
        }
        assert!(parse_clf_line(&full[..30], &j()).is_err());
        assert!(parse_clf_line(b"\x00\xff\xfe garbage", &j()).is_err());
    }
}
