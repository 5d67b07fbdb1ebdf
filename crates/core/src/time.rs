//! Time parsing shared by the readers: every engine stores instants in UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parses the timestamp layouts found in the data Scrutineer reads, returning UTC.
///
/// Accepted: RFC 3339 (`2016-10-01T12:00:00Z`, with offset or fraction), Twitter v1.1's
/// `Sat Oct 01 12:00:00 +0000 2016`, `YYYY-MM-DD HH:MM[:SS]` and `YYYY-MM-DDTHH:MM[:SS]`
/// without zone (read as UTC), `M/D/YYYY H:MM` (FiveThirtyEight's IRA files, UTC), a
/// bare date (midnight UTC), and Unix seconds (integer or fractional).
pub fn parse_utc(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y") {
        return Some(t.with_timezone(&Utc));
    }
    for layout in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, layout) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && let Ok(secs) = s.parse::<f64>()
    {
        // Milliseconds since the epoch are common in exports; anything past year 5000
        // in seconds is taken to be milliseconds.
        let secs = if secs > 1e11 { secs / 1000.0 } else { secs };
        let whole = secs.trunc() as i64;
        let nanos = ((secs - secs.trunc()) * 1e9) as u32;
        return Utc.timestamp_opt(whole, nanos).single();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_agree_on_one_instant() {
        let want = Utc.with_ymd_and_hms(2016, 10, 1, 12, 30, 0).single().expect("valid");
        for s in [
            "2016-10-01T12:30:00Z",
            "2016-10-01T15:30:00+03:00",
            "Sat Oct 01 12:30:00 +0000 2016",
            "2016-10-01 12:30:00",
            "2016-10-01 12:30",
            "10/01/2016 12:30",
            "1475325000",
            "1475325000000",
        ] {
            assert_eq!(parse_utc(s), Some(want), "{s}");
        }
    }

    #[test]
    fn garbage_is_rejected() {
        for s in ["", "yesterday", "2016-13-45 99:00", "12:30"] {
            assert_eq!(parse_utc(s), None, "{s}");
        }
    }
}
