//! JSON-per-line formats: nginx `escape=json` access logs and Suricata EVE.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::event::{Event, EventKind, IdsAlert};
use crate::read::clf::{parse_clf_time, parse_ip, split_request};

fn object(line: &[u8]) -> Result<Map<String, Value>, &'static str> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("JSON line is not an object"),
        Err(_) => Err("invalid JSON"),
    }
}

fn get_str<'a>(m: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| m.get(*k).and_then(Value::as_str)).filter(|s| !s.is_empty() && *s != "-")
}

fn get_num(m: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| match m.get(*k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = parse_clf_time(s.as_bytes()) {
        return Some(t);
    }
    // Suricata writes `2024-01-01T12:00:00.123456+0000` (offset without a colon).
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    scrutineer_core::time::parse_utc(s)
}

/// One nginx JSON access-log line. Field names follow the nginx variables
/// (`remote_addr`, `time_local`/`time_iso8601`, `request` or `request_method` +
/// `request_uri`, `status`, `body_bytes_sent`, `http_user_agent`, `request_time`, ...),
/// with common aliases.
pub fn parse_nginx_json_line(line: &[u8], jurisdiction: &Arc<str>) -> Result<Event, &'static str> {
    let m = object(line)?;
    let mut ev = Event { kind: EventKind::Http, jurisdiction: jurisdiction.clone(), ..Event::default() };
    ev.src = get_str(&m, &["remote_addr", "client_ip", "client", "src_ip", "ip", "remote_ip"])
        .and_then(|s| parse_ip(s.as_bytes()));
    ev.time =
        get_str(&m, &["time_iso8601", "time_local", "@timestamp", "timestamp", "time"]).and_then(parse_time);
    if let Some(r) = get_str(&m, &["request"]) {
        let (method, target, protocol) = split_request(r.as_bytes());
        ev.method = method;
        ev.target = target;
        ev.protocol = protocol;
    }
    if let Some(method) = get_str(&m, &["request_method", "method"]) {
        ev.method = Some(method.to_owned());
    }
    if ev.target.is_none() {
        ev.target = get_str(&m, &["request_uri", "uri", "url", "path"]).map(|u| {
            match get_str(&m, &["args", "query_string"]) {
                Some(q) if !u.contains('?') => format!("{u}?{q}"),
                _ => u.to_owned(),
            }
        });
    }
    ev.status =
        get_num(&m, &["status", "status_code"]).filter(|s| (0.0..1000.0).contains(s)).map(|s| s as u16);
    ev.bytes = get_num(&m, &["body_bytes_sent", "bytes_sent", "bytes", "size"])
        .filter(|b| *b >= 0.0)
        .map(|b| b as u64);
    ev.referer = get_str(&m, &["http_referer", "referer", "referrer"]).map(str::to_owned);
    ev.user_agent = get_str(&m, &["http_user_agent", "user_agent", "agent"]).map(str::to_owned);
    ev.host = get_str(&m, &["host", "server_name", "http_host", "vhost"]).map(str::to_owned);
    ev.user = get_str(&m, &["remote_user", "user"]).map(str::to_owned);
    ev.duration_ms = get_num(&m, &["request_time"]).map(|s| s * 1000.0);
    if ev.src.is_none() && ev.target.is_none() && ev.time.is_none() {
        return Err("no known access-log fields (remote_addr, request, time_local, ...)");
    }
    Ok(ev)
}

/// One Suricata EVE record: `alert`, `http`, `dns`, `tls`, `flow` and any other
/// `event_type` (kept as a flow-like record).
pub fn parse_eve_line(line: &[u8], jurisdiction: &Arc<str>) -> Result<Event, &'static str> {
    let m = object(line)?;
    let kind_name = get_str(&m, &["event_type"]).ok_or("no event_type")?;
    let kind = match kind_name {
        "alert" => EventKind::Alert,
        "http" => EventKind::Http,
        "dns" => EventKind::Dns,
        "tls" => EventKind::Tls,
        _ => EventKind::Flow,
    };
    let mut ev = Event { kind, jurisdiction: jurisdiction.clone(), ..Event::default() };
    ev.time = get_str(&m, &["timestamp"]).and_then(parse_time);
    ev.src = get_str(&m, &["src_ip"]).and_then(|s| parse_ip(s.as_bytes()));
    ev.dst = get_str(&m, &["dest_ip"]).and_then(|s| parse_ip(s.as_bytes()));
    if let Some(Value::Object(h)) = m.get("http") {
        ev.host = get_str(h, &["hostname"]).map(str::to_owned);
        ev.target = get_str(h, &["url"]).map(str::to_owned);
        ev.method = get_str(h, &["http_method"]).map(str::to_owned);
        ev.protocol = get_str(h, &["protocol"]).map(str::to_owned);
        ev.user_agent = get_str(h, &["http_user_agent"]).map(str::to_owned);
        ev.referer = get_str(h, &["http_refer"]).map(str::to_owned);
        ev.status = get_num(h, &["status"]).filter(|s| (0.0..1000.0).contains(s)).map(|s| s as u16);
        ev.bytes = get_num(h, &["length"]).filter(|b| *b >= 0.0).map(|b| b as u64);
    }
    if let Some(Value::Object(a)) = m.get("alert") {
        ev.alert = Some(IdsAlert {
            signature: get_str(a, &["signature"]).unwrap_or_default().to_owned(),
            signature_id: get_num(a, &["signature_id"]).unwrap_or(0.0) as u64,
            category: get_str(a, &["category"]).unwrap_or_default().to_owned(),
            severity: get_num(a, &["severity"]).unwrap_or(3.0).clamp(1.0, 4.0) as u8,
        });
    }
    if let Some(Value::Object(d)) = m.get("dns") {
        ev.query = get_str(d, &["rrname"]).map(str::to_owned).or_else(|| {
            d.get("queries")
                .and_then(Value::as_array)
                .and_then(|q| q.first())
                .and_then(Value::as_object)
                .and_then(|q| get_str(q, &["rrname"]))
                .map(str::to_owned)
        });
    }
    if let Some(Value::Object(t)) = m.get("tls") {
        ev.query = get_str(t, &["sni"]).map(str::to_owned);
        if ev.host.is_none() {
            ev.host = ev.query.clone();
        }
    }
    if kind == EventKind::Alert && ev.alert.is_none() {
        return Err("alert record without an alert object");
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_json() {
        let e = parse_nginx_json_line(
            br#"{"time_local":"17/May/2015:10:05:03 +0000","remote_addr":"1.2.3.4","request":"GET /a?x=1 HTTP/1.1","status":"404","body_bytes_sent":"12","http_user_agent":"sqlmap/1.7","request_time":"0.010"}"#,
            &Arc::from("j"),
        )
        .expect("parse");
        assert_eq!(e.src, "1.2.3.4".parse().ok());
        assert_eq!(e.status, Some(404));
        assert_eq!(e.query_string(), Some("x=1"));
        assert_eq!(e.duration_ms, Some(10.0));
        assert!(parse_nginx_json_line(b"{\"a\":1}", &Arc::from("j")).is_err());
        assert!(parse_nginx_json_line(b"{\"a\":", &Arc::from("j")).is_err());
    }

    #[test]
    fn eve_alert_http_dns_tls() {
        let j = Arc::from("j");
        let a = parse_eve_line(br#"{"timestamp":"2024-10-01T12:00:00.123456+0000","event_type":"alert","src_ip":"198.51.100.7","dest_ip":"10.0.0.2","alert":{"signature":"ET SCAN sqlmap","signature_id":2008538,"category":"Web Application Attack","severity":1},"http":{"hostname":"vote.example.gov","url":"/q?id=1","http_method":"GET","status":200}}"#, &j).expect("alert");
        assert_eq!(a.kind, EventKind::Alert);
        assert_eq!(a.alert.as_ref().map(|x| x.signature_id), Some(2008538));
        assert_eq!(a.host.as_deref(), Some("vote.example.gov"));
        assert_eq!(a.time.map(|t| t.timestamp()), Some(1727784000));
        let d = parse_eve_line(
            br#"{"event_type":"dns","src_ip":"10.0.0.1","dns":{"type":"query","rrname":"evil.example"}}"#,
            &j,
        )
        .expect("dns");
        assert_eq!(d.query.as_deref(), Some("evil.example"));
        let t = parse_eve_line(br#"{"event_type":"tls","src_ip":"10.0.0.1","tls":{"sni":"x.example"}}"#, &j)
            .expect("tls");
        assert_eq!(t.kind, EventKind::Tls);
        let f = parse_eve_line(br#"{"event_type":"flow","src_ip":"10.0.0.1"}"#, &j).expect("flow");
        assert_eq!(f.kind, EventKind::Flow);
        assert!(parse_eve_line(br#"{"src_ip":"10.0.0.1"}"#, &j).is_err());
    }
}
