//! Linux auth logs (syslog lines). sshd logins are recognised; other lines are kept as
//! auth events without an outcome.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::event::{AuthOutcome, Event, EventKind, text};
use crate::read::clf::{parse_ip, parse_u64};

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// `Dec 10 06:55:46 host prog[pid]: message` (BSD syslog, `year` supplied) or
/// `2024-12-10T06:55:46.123+00:00 host prog[pid]: message` (RFC 3339 syslog).
pub fn parse_auth_line(line: &[u8], year: i32, jurisdiction: &Arc<str>) -> Result<Event, &'static str> {
    let (time, rest) = syslog_time(line, year).ok_or("no syslog timestamp")?;
    let rest = rest.trim_ascii_start();
    let sp = memchr::memchr(b' ', rest).ok_or("no host name")?;
    let host = &rest[..sp];
    let rest = rest[sp + 1..].trim_ascii_start();
    let colon = memchr::memmem::find(rest, b": ").ok_or("no program tag")?;
    let tag = &rest[..colon];
    let msg = &rest[colon + 2..];
    let program = tag.split(|&b| b == b'[').next().unwrap_or_default();
    if program.is_empty() || program.contains(&b' ') && !program.starts_with(b"message repeated") {
        return Err("no program tag");
    }
    let mut ev = Event {
        kind: EventKind::Auth,
        time: Some(time),
        host: Some(text(host)),
        jurisdiction: jurisdiction.clone(),
        ..Event::default()
    };
    ev.method = Some(text(program));
    let msg_s = text(msg);
    ev.target = Some(msg_s.clone());
    parse_sshd(&msg_s, &mut ev);
    Ok(ev)
}

fn parse_sshd(msg: &str, ev: &mut Event) {
    let (outcome, rest) = if let Some(r) = msg.strip_prefix("Failed ") {
        (AuthOutcome::Failed, r)
    } else if let Some(r) = msg.strip_prefix("Accepted ") {
        (AuthOutcome::Accepted, r)
    } else if let Some(r) = msg.strip_prefix("Invalid user ") {
        // Announces the attempt; the `Failed ... for invalid user` line that follows
        // is the one counted, so no outcome here.
        if let Some((user, from)) = r.rsplit_once(" from ") {
            ev.user = Some(user.to_owned());
            ev.src = from.split(' ').next().and_then(|ip| parse_ip(ip.as_bytes()));
        }
        return;
    } else {
        if let Some(i) = msg.find(" from ") {
            ev.src = msg[i + 6..].split([' ', ':']).next().and_then(|ip| parse_ip(ip.as_bytes()));
        }
        if let Some(i) = msg.find("rhost=") {
            ev.src = ev.src.or_else(|| msg[i + 6..].split(' ').next().and_then(|ip| parse_ip(ip.as_bytes())));
        }
        return;
    };
    // `<method> for [invalid user ]<user> from <ip> port <n> ssh2`
    let Some(for_at) = rest.find(" for ") else { return };
    let after = &rest[for_at + 5..];
    let Some((who, from)) = after.rsplit_once(" from ") else { return };
    let (outcome, user) = match who.strip_prefix("invalid user ") {
        Some(u) => (if outcome == AuthOutcome::Failed { AuthOutcome::InvalidUser } else { outcome }, u),
        None => (outcome, who),
    };
    ev.auth = Some(outcome);
    ev.user = Some(user.to_owned());
    ev.src = from.split(' ').next().and_then(|ip| parse_ip(ip.as_bytes()));
}

fn syslog_time(line: &[u8], year: i32) -> Option<(DateTime<Utc>, &[u8])> {
    if line.len() >= 15 && line[3] == b' ' {
        let month = MONTHS.iter().position(|m| &line[..3] == m.as_slice())? as u32 + 1;
        let day_field = &line[4..6];
        let day = parse_u64(day_field.trim_ascii())? as u32;
        let t = &line[7..15];
        if t[2] != b':' || t[5] != b':' {
            return None;
        }
        let h = parse_u64(&t[0..2])? as u32;
        let m = parse_u64(&t[3..5])? as u32;
        let s = parse_u64(&t[6..8])? as u32;
        let dt = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(h, m, s)?.and_utc();
        return Some((dt, &line[15..]));
    }
    let sp = memchr::memchr(b' ', line)?;
    let ts = std::str::from_utf8(&line[..sp]).ok()?;
    if !ts.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    let t = DateTime::parse_from_rfc3339(ts).ok()?.with_timezone(&Utc);
    Some((t, &line[sp..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(l: &str) -> Event {
        parse_auth_line(l.as_bytes(), 2024, &Arc::from("j")).expect("parse")
    }

    #[test]
    fn sshd_outcomes() {
        let e = p(
            "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2",
        );
        assert_eq!(e.auth, Some(AuthOutcome::InvalidUser));
        assert_eq!(e.user.as_deref(), Some("webmaster"));
        assert_eq!(e.src, "173.234.31.186".parse().ok());
        let e = p(
            "Dec 10 09:32:20 LabSZ sshd[24680]: Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
        );
        assert_eq!(e.auth, Some(AuthOutcome::Accepted));
        assert_eq!(e.user.as_deref(), Some("fztu"));
        let e = p("Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 5.6.7.8 port 1 ssh2");
        assert_eq!(e.auth, Some(AuthOutcome::Failed));
        assert_eq!(e.time.map(|t| t.to_rfc3339()), Some("2024-12-10T06:55:46+00:00".into()));
        let e = p(
            "2024-12-10T06:55:46.5+01:00 host sshd[1]: Failed publickey for admin from 2001:db8::1 port 22 ssh2",
        );
        assert_eq!(e.src, "2001:db8::1".parse().ok());
        let e = p("Dec  1 06:55:46 LabSZ CRON[1]: pam_unix(cron:session): session opened");
        assert_eq!(e.auth, None);
        assert!(parse_auth_line(b"Dec 10 06:55", 2024, &Arc::from("j")).is_err());
        assert!(parse_auth_line(b"\xff\xfe\x00", 2024, &Arc::from("j")).is_err());
    }
}
