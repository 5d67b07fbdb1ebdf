//! IIS W3C extended logs: `#Fields:` names the space-separated columns.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};

use crate::event::{Event, EventKind, text};
use crate::read::clf::{parse_ip, parse_u64};

/// The column layout announced by the last `#Fields:` directive.
#[derive(Debug, Clone, Default)]
pub struct IisFields {
    pub names: Vec<String>,
}

impl IisFields {
    /// IIS's default field set, used until a directive says otherwise.
    pub fn default_fields() -> IisFields {
        let names = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";
        IisFields { names: names.split(' ').map(str::to_owned).collect() }
    }

    /// Reads `#Fields: a b c`; other directives give `None`.
    pub fn from_directive(line: &[u8]) -> Option<IisFields> {
        let rest = line.strip_prefix(b"#Fields:")?;
        let names: Vec<String> = text(rest).split_ascii_whitespace().map(str::to_owned).collect();
        if names.is_empty() { None } else { Some(IisFields { names }) }
    }
}

fn dash(v: &str) -> Option<&str> {
    if v == "-" || v.is_empty() { None } else { Some(v) }
}

/// Parses one IIS data line against the current field list.
pub fn parse_iis_line(
    line: &[u8],
    fields: &IisFields,
    jurisdiction: &Arc<str>,
) -> Result<Event, &'static str> {
    let s = text(line);
    let values: Vec<&str> = s.split([' ', '\t']).filter(|v| !v.is_empty()).collect();
    if values.len() != fields.names.len() {
        return Err("number of values differs from the #Fields directive");
    }
    let mut ev = Event { kind: EventKind::Http, jurisdiction: jurisdiction.clone(), ..Event::default() };
    let mut date = None;
    let mut time = None;
    let mut stem = None;
    let mut query = None;
    for (name, v) in fields.names.iter().zip(values) {
        let Some(v) = dash(v) else { continue };
        match name.as_str() {
            "date" => date = Some(NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| "unreadable date")?),
            "time" => {
                time = Some(NaiveTime::parse_from_str(v, "%H:%M:%S%.f").map_err(|_| "unreadable time")?)
            }
            "c-ip" => ev.src = Some(parse_ip(v.as_bytes()).ok_or("c-ip is not an address")?),
            "s-ip" => ev.dst = parse_ip(v.as_bytes()),
            "cs-method" => ev.method = Some(v.to_owned()),
            "cs-uri-stem" => stem = Some(v.to_owned()),
            "cs-uri-query" => query = Some(v.to_owned()),
            "cs-username" => ev.user = Some(v.to_owned()),
            "cs(User-Agent)" => ev.user_agent = Some(v.replace('+', " ")),
            "cs(Referer)" => ev.referer = Some(v.to_owned()),
            "cs-host" => ev.host = Some(v.to_owned()),
            "s-computername" if ev.host.is_none() => ev.host = Some(v.to_owned()),
            "sc-status" => {
                ev.status =
                    Some(parse_u64(v.as_bytes()).filter(|s| *s < 1000).ok_or("sc-status is not a number")?
                        as u16)
            }
            "sc-bytes" => ev.bytes = parse_u64(v.as_bytes()),
            "time-taken" => ev.duration_ms = parse_u64(v.as_bytes()).map(|t| t as f64),
            "cs-version" => ev.protocol = Some(v.to_owned()),
            _ => {}
        }
    }
    if let (Some(d), Some(t)) = (date, time) {
        ev.time = Some(d.and_time(t).and_utc());
    }
    ev.target = match (stem, query) {
        (Some(s), Some(q)) => Some(format!("{s}?{q}")),
        (Some(s), None) => Some(s),
        (None, _) => None,
    };
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iis_line_against_fields() {
        let f = IisFields::from_directive(b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken").expect("fields");
        let e = parse_iis_line(
            b"2024-10-01 12:00:01 10.0.0.5 GET /results/default.aspx id=1'+or+1=1-- 443 - 203.0.113.9 Mozilla/5.0+(Windows) - 200 0 0 31",
            &f,
            &Arc::from("j"),
        )
        .expect("parse");
        assert_eq!(e.src, "203.0.113.9".parse().ok());
        assert_eq!(e.target.as_deref(), Some("/results/default.aspx?id=1'+or+1=1--"));
        assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (Windows)"));
        assert_eq!(e.status, Some(200));
        assert_eq!(e.duration_ms, Some(31.0));
        assert!(parse_iis_line(b"2024-10-01 12:00:01", &f, &Arc::from("j")).is_err());
    }
}
