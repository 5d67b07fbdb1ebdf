//! Triage: each finding's status, assignee and sharing marking, and the append-only
//! history of every change (who, when, which field, from what, to what). Notes are
//! history entries of their own.
//!
//! Triage is kept apart from the findings, keyed by finding id, so that an engine
//! re-run that replaces its findings keeps the triage of every finding whose id did not
//! change (ids derive from engine, kind and content). The history cannot be edited or
//! deleted: triggers refuse it, whatever connection tries.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::{Result, Store, StoreError, parse_time};

/// A finding's triage as it is now.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TriageState {
    /// `new`, `acknowledged`, `investigating`, `escalated`, `false_positive` or `resolved`.
    pub status: String,
    /// Who works on it.
    pub assignee: Option<String>,
    /// The TLP 2.0 marking set at triage (`clear`, `green`, `amber`, `amber+strict`,
    /// `red`); `None` keeps the engine's default.
    pub tlp: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who changed it last.
    pub updated_by: String,
}

/// One change in a finding's triage history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TriageEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// `status`, `assignee`, `tlp` or `note`.
    pub field: String,
    /// The value before (`None` for a note, or a field never set).
    pub from: Option<String>,
    /// The value after (a note's text).
    pub to: Option<String>,
}

/// A triage event with its finding and its position in the whole history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NumberedTriageEvent {
    /// The event's position in the history of every finding (increasing, from 1).
    pub seq: i64,
    /// The finding it changed.
    pub finding_id: String,
    /// The change.
    pub event: TriageEvent,
}

/// What a triage request changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TriageChange {
    /// A new status.
    pub status: Option<String>,
    /// A new assignee; `Some(None)` clears it.
    pub assignee: Option<Option<String>>,
    /// A new marking; `Some(None)` goes back to the engine's default.
    pub tlp: Option<Option<String>>,
    /// A note to add.
    pub note: Option<String>,
}

/// The status of a finding nobody has triaged.
pub const UNTRIAGED: &str = "new";

fn row_to_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<TriageState> {
    Ok(TriageState {
        status: r.get(0)?,
        assignee: r.get(1)?,
        tlp: r.get(2)?,
        updated_at: parse_time(&r.get::<_, String>(3)?).unwrap_or_default(),
        updated_by: r.get(4)?,
    })
}

impl Store {
    /// A finding's triage, if anyone triaged it.
    pub fn triage(&self, finding_id: &str) -> Result<Option<TriageState>> {
        Ok(self
            .conn
            .query_row(
                "SELECT status, assignee, tlp, updated_at, updated_by FROM triage WHERE finding_id = ?1",
                params![finding_id],
                row_to_state,
            )
            .optional()?)
    }

    /// Every triaged finding's state, by finding id.
    pub fn triage_all(&self) -> Result<std::collections::HashMap<String, TriageState>> {
        let mut stmt = self
            .conn
            .prepare("SELECT finding_id, status, assignee, tlp, updated_at, updated_by FROM triage")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                TriageState {
                    status: r.get(1)?,
                    assignee: r.get(2)?,
                    tlp: r.get(3)?,
                    updated_at: parse_time(&r.get::<_, String>(4)?).unwrap_or_default(),
                    updated_by: r.get(5)?,
                },
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }

    /// When each finding's marking was last set at triage, by finding id.
    pub fn triage_tlp_times(&self) -> Result<std::collections::HashMap<String, DateTime<Utc>>> {
        let mut stmt = self.conn.prepare(
            "SELECT finding_id, MAX(at) FROM triage_events WHERE field = 'tlp' GROUP BY finding_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, parse_time(&r.get::<_, String>(1)?).unwrap_or_default()))
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }

    /// A finding's triage history, oldest first.
    pub fn triage_history(&self, finding_id: &str) -> Result<Vec<TriageEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT at, actor, field, from_value, to_value FROM triage_events WHERE finding_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![finding_id], |r| {
            Ok(TriageEvent {
                at: parse_time(&r.get::<_, String>(0)?).unwrap_or_default(),
                actor: r.get(1)?,
                field: r.get(2)?,
                from: r.get(3)?,
                to: r.get(4)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }

    /// The triage history of every finding after position `after` (0 for all of it),
    /// oldest first, at most `limit` events: what a follower of the history (the
    /// server's live updates) has not seen yet.
    pub fn triage_events_after(&self, after: i64, limit: usize) -> Result<Vec<NumberedTriageEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, finding_id, at, actor, field, from_value, to_value FROM triage_events
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(NumberedTriageEvent {
                seq: r.get(0)?,
                finding_id: r.get(1)?,
                event: TriageEvent {
                    at: parse_time(&r.get::<_, String>(2)?).unwrap_or_default(),
                    actor: r.get(3)?,
                    field: r.get(4)?,
                    from: r.get(5)?,
                    to: r.get(6)?,
                },
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }

    /// The position of the latest triage event (0 before any).
    pub fn last_triage_event(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM triage_events", [], |r| r.get(0))?)
    }

    /// Applies a change by `actor` in one transaction (taken with the write lock at
    /// once, so that it waits for an engine's write rather than fail): one history event
    /// per field that changes, then the new state. Returns the events written (none if
    /// nothing changed).
    pub fn apply_triage(
        &mut self,
        finding_id: &str,
        actor: &str,
        change: &TriageChange,
    ) -> Result<Vec<TriageEvent>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = tx
            .query_row(
                "SELECT status, assignee, tlp, updated_at, updated_by FROM triage WHERE finding_id = ?1",
                params![finding_id],
                row_to_state,
            )
            .optional()?;
        let now = Utc::now();
        let (status, assignee, tlp) = match &current {
            Some(s) => (s.status.clone(), s.assignee.clone(), s.tlp.clone()),
            None => (UNTRIAGED.to_owned(), None, None),
        };
        let mut events = Vec::new();
        let mut event = |field: &str, from: Option<String>, to: Option<String>| {
            events.push(TriageEvent { at: now, actor: actor.to_owned(), field: field.to_owned(), from, to });
        };
        let mut next = (status.clone(), assignee.clone(), tlp.clone());
        if let Some(s) = &change.status
            && *s != status
        {
            event("status", Some(status.clone()), Some(s.clone()));
            next.0 = s.clone();
        }
        if let Some(a) = &change.assignee
            && *a != assignee
        {
            event("assignee", assignee.clone(), a.clone());
            next.1 = a.clone();
        }
        if let Some(t) = &change.tlp
            && *t != tlp
        {
            event("tlp", tlp.clone(), t.clone());
            next.2 = t.clone();
        }
        if let Some(n) = change.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            event("note", None, Some(n.to_owned()));
        }
        if events.is_empty() {
            return Ok(events);
        }
        for e in &events {
            tx.execute(
                "INSERT INTO triage_events (finding_id, at, actor, field, from_value, to_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![finding_id, e.at.to_rfc3339(), e.actor, e.field, e.from, e.to],
            )?;
        }
        tx.execute(
            "INSERT INTO triage (finding_id, status, assignee, tlp, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(finding_id) DO UPDATE SET status = ?2, assignee = ?3, tlp = ?4, updated_at = ?5, updated_by = ?6",
            params![finding_id, next.0, next.1, next.2, now.to_rfc3339(), actor],
        )?;
        tx.commit()?;
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_core::{Engine, Finding, Severity};

    #[test]
    fn triage_survives_a_rerun_and_its_history_cannot_be_changed() {
        let mut store = Store::open_in_memory().expect("open");
        let f = Finding::new(Engine::Infra, "scanning", "10.0.0.1", "scan").severity(Severity::High);
        store.put_findings(None, std::slice::from_ref(&f)).expect("put");
        let id = f.id.0.clone();
        assert!(store.triage(&id).expect("read").is_none());
        let change = TriageChange {
            status: Some("investigating".into()),
            assignee: Some(Some("ana".into())),
            note: Some("  looks like the March scanner  ".into()),
            ..TriageChange::default()
        };
        let events = store.apply_triage(&id, "ana", &change).expect("triage");
        let fields: Vec<_> = events.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status", "assignee", "note"]);
        assert_eq!(events[0].from.as_deref(), Some("new"));
        assert_eq!(events[2].to.as_deref(), Some("looks like the March scanner"));
        assert!(
            store.apply_triage(&id, "ana", &change.clone()).expect("again").len() == 1,
            "only the note repeats"
        );

        // The engine runs again: the finding is replaced, its triage stays.
        store.clear_findings(Engine::Infra, None).expect("clear");
        store.put_findings(None, std::slice::from_ref(&f)).expect("put");
        let state = store.triage(&id).expect("read").expect("kept");
        assert_eq!((state.status.as_str(), state.assignee.as_deref()), ("investigating", Some("ana")));
        let resolved =
            TriageChange { status: Some("resolved".into()), assignee: Some(None), ..Default::default() };
        store.apply_triage(&id, "bob", &resolved).expect("resolve");
        let history = store.triage_history(&id).expect("history");
        assert_eq!(history.len(), 6);
        assert_eq!(
            (history[4].from.as_deref(), history[4].to.as_deref(), history[4].actor.as_str()),
            (Some("investigating"), Some("resolved"), "bob")
        );
        assert_eq!((history[5].field.as_str(), history[5].to.as_deref()), ("assignee", None));
        assert!(store.conn.execute("UPDATE triage_events SET actor = 'x'", []).is_err());
        assert!(store.conn.execute("DELETE FROM triage_events", []).is_err());
        assert_eq!(store.triage_history(&id).expect("history").len(), 6);
        assert_eq!(store.triage_all().expect("all").len(), 1);
        assert!(store.triage_tlp_times().expect("times").is_empty(), "no marking was set");
        let green = TriageChange { tlp: Some(Some("green".into())), ..Default::default() };
        let set = store.apply_triage(&id, "ana", &green).expect("mark");
        assert_eq!(store.triage_tlp_times().expect("times").get(&id), Some(&set[0].at));
    }
}
