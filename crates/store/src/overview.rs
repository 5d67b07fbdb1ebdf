//! Counts for the workspace's overview: findings per engine and day, per status (triage
//! joined to the findings), per jurisdiction, and those written since a time; and when
//! someone last did something, from the access log.

use chrono::{DateTime, Utc};
use rusqlite::params;
use scrutineer_core::Engine;

use crate::{Result, Store, StoreError, parse_time};

fn engine(s: &str) -> Result<Engine> {
    s.parse::<Engine>().map_err(|e| StoreError::UnknownValue {
        id: "the overview counts".into(),
        column: "engine",
        value: e.value,
    })
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

impl Store {
    /// Findings per engine and UTC day (`YYYY-MM-DD`) of the activity they describe
    /// (the start of their time span; `None` for findings without one, such as a
    /// ballot-file anomaly), oldest day first.
    pub fn findings_per_day(&self) -> Result<Vec<(Engine, Option<String>, usize)>> {
        let mut stmt = self.conn.prepare(
            "SELECT engine, substr(span_start, 1, 10) AS day, COUNT(*)
             FROM findings GROUP BY engine, day ORDER BY day, engine",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, i64>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (e, day, n) = row?;
            out.push((engine(&e)?, day, count(n)));
        }
        Ok(out)
    }

    /// Findings per engine and triage status (`new` for the untriaged).
    pub fn findings_per_status(&self) -> Result<Vec<(Engine, String, usize)>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.engine, COALESCE(t.status, 'new') AS status, COUNT(*)
             FROM findings f LEFT JOIN triage t ON t.finding_id = f.id GROUP BY f.engine, status",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (e, status, n) = row?;
            out.push((engine(&e)?, status, count(n)));
        }
        Ok(out)
    }

    /// Findings per engine and jurisdiction (their scope; `None` for findings without
    /// one), largest first.
    pub fn findings_per_scope(&self) -> Result<Vec<(Engine, Option<String>, usize)>> {
        let mut stmt = self.conn.prepare(
            "SELECT engine, scope, COUNT(*) AS n FROM findings GROUP BY engine, scope ORDER BY n DESC, engine, scope",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, i64>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (e, scope, n) = row?;
            out.push((engine(&e)?, scope, count(n)));
        }
        Ok(out)
    }

    /// Findings per engine written after `since`.
    pub fn findings_per_engine_after(&self, since: DateTime<Utc>) -> Result<Vec<(Engine, usize)>> {
        let mut stmt = self.conn.prepare(
            "SELECT engine, COUNT(*) FROM findings WHERE recorded_at > ?1 GROUP BY engine ORDER BY engine",
        )?;
        let rows = stmt
            .query_map(params![since.to_rfc3339()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (e, n) = row?;
            out.push((engine(&e)?, count(n)));
        }
        Ok(out)
    }

    /// When `actor` last did `action` (an access-log row's action, exactly) with no
    /// query (a page's own live refresh carries one, and is not a visit).
    pub fn last_access(&self, actor: &str, action: &str) -> Result<Option<DateTime<Utc>>> {
        let at: Option<String> = self.conn.query_row(
            "SELECT MAX(at) FROM log.access_log WHERE actor = ?1 AND action = ?2 AND target = ''",
            params![actor, action],
            |r| r.get(0),
        )?;
        Ok(at.as_deref().and_then(parse_time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use scrutineer_core::{Finding, TimeSpan};

    #[test]
    fn counts_per_day_status_and_scope() {
        let mut store = Store::open_in_memory().expect("open");
        let day = |d: u32| Utc.with_ymd_and_hms(2024, 10, d, 12, 0, 0).single().expect("time");
        let mut a = Finding::new(Engine::Infra, "scanning", "a", "a").scope("WAKE");
        a.time_span = Some(TimeSpan { start: day(1), end: day(2) });
        let mut b = Finding::new(Engine::Infra, "scanning", "b", "b").scope("WAKE");
        b.time_span = Some(TimeSpan { start: day(1), end: day(1) });
        let c = Finding::new(Engine::Ballots, "double_vote", "c", "c");
        store.put_findings(None, &[a.clone(), b, c]).expect("put");
        let per_day = store.findings_per_day().expect("days");
        assert_eq!(per_day, [(Engine::Ballots, None, 1), (Engine::Infra, Some("2024-10-01".to_owned()), 2)]);
        let change = crate::TriageChange { status: Some("escalated".into()), ..Default::default() };
        store.apply_triage(&a.id.0, "ana", &change).expect("triage");
        let mut per_status = store.findings_per_status().expect("status");
        per_status.sort();
        assert!(per_status.contains(&(Engine::Infra, "escalated".to_owned(), 1)), "{per_status:?}");
        assert!(per_status.contains(&(Engine::Infra, "new".to_owned(), 1)), "{per_status:?}");
        let scopes = store.findings_per_scope().expect("scopes");
        assert_eq!(scopes[0], (Engine::Infra, Some("WAKE".to_owned()), 2));
        let before = Utc::now() - chrono::Duration::hours(1);
        let after: usize =
            store.findings_per_engine_after(before).expect("after").iter().map(|(_, n)| n).sum();
        assert_eq!(after, 3);
        assert!(store.findings_per_engine_after(Utc::now()).expect("none").is_empty());
        assert_eq!(store.last_access("ana", "http 200 GET /overview").expect("none"), None);
        store.log_access("ana", "http 200 GET /overview", "refresh=live").expect("log");
        assert_eq!(store.last_access("ana", "http 200 GET /overview").expect("a refresh"), None);
        store.log_access("ana", "http 200 GET /overview", "").expect("log");
        assert!(store.last_access("ana", "http 200 GET /overview").expect("some").is_some());
    }
}
