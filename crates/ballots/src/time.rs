//! Fast parsing of the fixed date layouts the readers meet, to seconds since 1970 in
//! local (naive) time; the hot path avoids a general date parser.

/// Days since 1970-01-01 of a civil date (proleptic Gregorian), or `None` if invalid.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// The civil date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 {
        return None;
    }
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    Some(n)
}

/// How dates are written in a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS]`.
    Iso,
    /// `MM/DD/YYYY`, optionally followed by a space and `HH:MM[:SS]` (NC State Board files).
    Us,
    /// A chrono `strftime` layout from a mapping file.
    Custom(String),
}

/// Seconds since 1970-01-01T00:00:00 (local, naive) of a date or date-time.
pub fn parse(s: &[u8], fmt: &DateFormat) -> Option<i64> {
    let s = s.trim_ascii();
    match fmt {
        DateFormat::Iso => {
            if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
                return None;
            }
            let day = days_from_civil(num(&s[0..4])? as i64, num(&s[5..7])?, num(&s[8..10])?)?;
            Some(day * 86_400 + clock(&s[10..])?)
        }
        DateFormat::Us => {
            let mut parts = s.splitn(2, |&c| c == b' ');
            let date = parts.next()?;
            let mut dp = date.split(|&c| c == b'/');
            let (m, d, y) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
            if dp.next().is_some() || y < 1000 {
                return None;
            }
            let day = days_from_civil(y as i64, m, d)?;
            let rest = parts.next().map(|r| [b" ", r].concat()).unwrap_or_default();
            Some(day * 86_400 + clock(&rest)?)
        }
        DateFormat::Custom(layout) => {
            let text = std::str::from_utf8(s).ok()?;
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, layout) {
                return Some(t.and_utc().timestamp());
            }
            let d = chrono::NaiveDate::parse_from_str(text, layout).ok()?;
            Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
        }
    }
}

/// `""`, `THH:MM`, `THH:MM:SS`, ` HH:MM:SS` (fractions ignored) to seconds.
fn clock(rest: &[u8]) -> Option<i64> {
    if rest.is_empty() {
        return Some(0);
    }
    if rest[0] != b'T' && rest[0] != b' ' {
        return None;
    }
    let t = &rest[1..];
    if t.len() < 5 || t[2] != b':' {
        return None;
    }
    let (h, m) = (num(&t[0..2])?, num(&t[3..5])?);
    let sec = if t.len() >= 8 && t[5] == b':' {
        let s = num(&t[6..8])?;
        let tail = &t[8..];
        if !(tail.is_empty() || tail[0] == b'.' && tail[1..].iter().all(u8::is_ascii_digit)) {
            return None;
        }
        s
    } else if t.len() == 5 {
        0
    } else {
        return None;
    };
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((h * 3600 + m * 60 + sec) as i64)
}

/// `YYYY-MM-DDTHH:MM:SS` of seconds since 1970.
pub fn format_datetime(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveDateTime};

    #[test]
    fn agrees_with_chrono() {
        for s in ["2020-11-03T19:30:00", "2020-02-29T00:00:01", "1999-12-31 23:59:59", "2024-03-01"] {
            let want = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
                .map(|t| t.and_utc().timestamp())
                .unwrap_or_else(|_| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc().timestamp())
                        .unwrap_or(i64::MIN)
                });
            assert_eq!(parse(s.as_bytes(), &DateFormat::Iso), Some(want), "{s}");
        }
        assert_eq!(parse(b"11/03/2020", &DateFormat::Us), parse(b"2020-11-03", &DateFormat::Iso));
        for d in -1000..100_000i64 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), Some(d));
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "2020-13-01", "2021-02-29", "2020-11-03T25:00:00", "2020-11-03X", "11/3/20", "abc"] {
            assert_eq!(
                parse(s.as_bytes(), &DateFormat::Iso).or(parse(s.as_bytes(), &DateFormat::Us)),
                None,
                "{s}"
            );
        }
        assert_eq!(
            format_datetime(parse(b"2020-11-03T07:05:09", &DateFormat::Iso).unwrap_or(0)),
            "2020-11-03T07:05:09"
        );
    }
}
