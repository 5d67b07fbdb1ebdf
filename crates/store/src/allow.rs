//! The allow-list: sources (infra) and accounts (influence) an analyst judged harmless,
//! from a finding marked `false_positive`, with the reason. Later scans of those
//! engines leave out every finding all of whose subjects are on the list (a network
//! that gains a new account, or a campaign joined by a new address, comes back), and
//! record what they left out, so that the list shows what it hides.
//!
//! Every change (added, reason changed, removed) is an event in an append-only
//! history, like triage's; a removed entry stays, marked removed, and hides nothing.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use scrutineer_core::{Engine, Finding};

use crate::{Result, Store, StoreError, parse_time};

/// The engines whose findings the allow-list can hide.
pub const ALLOW_LIST_ENGINES: [Engine; 2] = [Engine::Infra, Engine::Influence];

/// An allow-list entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AllowEntry {
    /// Its number.
    pub id: i64,
    /// The engine whose findings it hides.
    pub engine: Engine,
    /// What it allows: source addresses (infra) or account handles (influence).
    pub subjects: Vec<String>,
    /// Why, in the analyst's words (the latest reason).
    pub reason: String,
    /// The false-positive finding it was made from.
    pub finding_id: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: String,
    /// When it was removed (it then hides nothing).
    pub removed_at: Option<DateTime<Utc>>,
    /// Who removed it.
    pub removed_by: Option<String>,
}

impl AllowEntry {
    /// Whether it still hides findings.
    pub fn active(&self) -> bool {
        self.removed_at.is_none()
    }
}

/// One change to an entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AllowEvent {
    /// The entry changed.
    pub entry_id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// `added`, `reason` or `removed`.
    pub action: String,
    /// The reason given with the change.
    pub reason: String,
}

/// A finding a scan left out because of the allow-list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AllowHit {
    /// The entry (one of them, when several cover its subjects).
    pub entry_id: i64,
    /// The run that left it out.
    pub run_id: i64,
    /// The finding's id.
    pub finding_id: String,
    /// Its title, as the engine wrote it.
    pub title: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a finding is about, as the allow-list matches it: the source addresses of an
/// infra finding (its `observable` evidence), the member accounts of an influence
/// network (its `members` evidence). Empty for other findings, which the list never
/// hides.
pub fn allow_subjects(f: &Finding) -> Vec<String> {
    let mut out = BTreeSet::new();
    match f.engine {
        Engine::Infra => {
            for e in f.evidence.iter().filter(|e| e.kind == "observable") {
                let is_address = e
                    .data
                    .get("type")
                    .and_then(|t| t.as_str())
                    .is_some_and(|t| t == "ipv4-addr" || t == "ipv6-addr");
                if let (true, Some(v)) = (is_address, e.data.get("value").and_then(|v| v.as_str())) {
                    out.insert(v.to_owned());
                }
            }
        }
        Engine::Influence => {
            for e in f.evidence.iter().filter(|e| e.kind == "members") {
                for a in e.data.as_array().into_iter().flatten().filter_map(|a| a.as_str()) {
                    out.insert(a.to_owned());
                }
            }
        }
        _ => {}
    }
    out.into_iter().collect()
}

fn engine_of(id: i64, s: &str) -> Result<Engine> {
    s.parse::<Engine>().map_err(|e| StoreError::UnknownValue {
        id: format!("allow-list entry {id}"),
        column: "engine",
        value: e.value,
    })
}

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<(AllowEntry, String, String)> {
    let id: i64 = r.get(0)?;
    Ok((
        AllowEntry {
            id,
            engine: Engine::Infra,
            subjects: Vec::new(),
            reason: r.get(3)?,
            finding_id: r.get(4)?,
            created_at: parse_time(&r.get::<_, String>(5)?).unwrap_or_default(),
            created_by: r.get(6)?,
            removed_at: r.get::<_, Option<String>>(7)?.as_deref().and_then(parse_time),
            removed_by: r.get(8)?,
        },
        r.get(1)?,
        r.get(2)?,
    ))
}

const ENTRY_COLUMNS: &str =
    "id, engine, subjects, reason, finding_id, created_at, created_by, removed_at, removed_by";

fn finish(row: (AllowEntry, String, String)) -> Result<AllowEntry> {
    let (mut entry, engine, subjects) = row;
    entry.engine = engine_of(entry.id, &engine)?;
    entry.subjects = serde_json::from_str(&subjects).map_err(|source| StoreError::Corrupt {
        id: format!("allow-list entry {}", entry.id),
        column: "subjects",
        source,
    })?;
    Ok(entry)
}

impl Store {
    /// Every entry, removed ones too, newest first.
    pub fn allow_entries(&self) -> Result<Vec<AllowEntry>> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM allow_list ORDER BY id DESC"))?;
        let rows = stmt.query_map([], row_to_entry)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(finish).collect()
    }

    /// One entry.
    pub fn allow_entry(&self, id: i64) -> Result<Option<AllowEntry>> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM allow_list WHERE id = ?1"),
                params![id],
                row_to_entry,
            )
            .optional()?;
        row.map(finish).transpose()
    }

    /// An entry's history, oldest first.
    pub fn allow_events(&self, id: i64) -> Result<Vec<AllowEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT entry_id, at, actor, action, reason FROM allow_list_events WHERE entry_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![id], |r| {
            Ok(AllowEvent {
                entry_id: r.get(0)?,
                at: parse_time(&r.get::<_, String>(1)?).unwrap_or_default(),
                actor: r.get(2)?,
                action: r.get(3)?,
                reason: r.get(4)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }

    /// Makes an entry from `finding`, which must be an infra or influence finding
    /// marked `false_positive` at triage, with subjects to allow. Returns its number.
    pub fn add_allow_entry(&mut self, finding: &Finding, actor: &str, reason: &str) -> Result<i64> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::AllowList("an allow-list entry needs a reason".into()));
        }
        if !ALLOW_LIST_ENGINES.contains(&finding.engine) {
            return Err(StoreError::AllowList(format!(
                "{} findings cannot be allow-listed (only infra sources and influence networks)",
                finding.engine.as_str()
            )));
        }
        let subjects = allow_subjects(finding);
        if subjects.is_empty() {
            return Err(StoreError::AllowList(format!(
                "finding {} names no source address or account to allow",
                finding.id.0
            )));
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let status: Option<String> = tx
            .query_row("SELECT status FROM triage WHERE finding_id = ?1", params![finding.id.0], |r| r.get(0))
            .optional()?;
        if status.as_deref() != Some("false_positive") {
            return Err(StoreError::AllowList(format!(
                "finding {} is not marked false_positive (it is {})",
                finding.id.0,
                status.as_deref().unwrap_or("new")
            )));
        }
        let now = Utc::now().to_rfc3339();
        let subjects_json = serde_json::to_string(&subjects).unwrap_or_else(|_| "[]".into());
        tx.execute(
            "INSERT INTO allow_list (engine, subjects, reason, finding_id, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![finding.engine.as_str(), subjects_json, reason, finding.id.0, now, actor],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO allow_list_events (entry_id, at, actor, action, reason) VALUES (?1, ?2, ?3, 'added', ?4)",
            params![id, now, actor, reason],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Changes an entry's reason (`removed` false) or removes it (`removed` true), with
    /// `reason` for the change.
    pub fn change_allow_entry(&mut self, id: i64, actor: &str, reason: &str, removed: bool) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::AllowList("a change to the allow-list needs a reason".into()));
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let removed_at: Option<Option<String>> = tx
            .query_row("SELECT removed_at FROM allow_list WHERE id = ?1", params![id], |r| r.get(0))
            .optional()?;
        match removed_at {
            None => return Err(StoreError::AllowList(format!("no allow-list entry {id}"))),
            Some(Some(_)) => return Err(StoreError::AllowList(format!("allow-list entry {id} was removed"))),
            Some(None) => {}
        }
        let now = Utc::now().to_rfc3339();
        if removed {
            tx.execute(
                "UPDATE allow_list SET removed_at = ?2, removed_by = ?3 WHERE id = ?1",
                params![id, now, actor],
            )?;
        } else {
            tx.execute("UPDATE allow_list SET reason = ?2 WHERE id = ?1", params![id, reason])?;
        }
        tx.execute(
            "INSERT INTO allow_list_events (entry_id, at, actor, action, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, now, actor, if removed { "removed" } else { "reason" }, reason],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The active entry that hides `finding`, if any: one of `entries` of its engine
    /// whose subjects, together with the other active entries', cover all of the
    /// finding's.
    pub fn allow_match(entries: &[AllowEntry], finding: &Finding) -> Option<i64> {
        let subjects = allow_subjects(finding);
        if subjects.is_empty() {
            return None;
        }
        let active: Vec<&AllowEntry> =
            entries.iter().filter(|e| e.active() && e.engine == finding.engine).collect();
        let covered = |s: &String| active.iter().any(|e| e.subjects.contains(s));
        if !subjects.iter().all(covered) {
            return None;
        }
        active.iter().find(|e| subjects.iter().any(|s| e.subjects.contains(s))).map(|e| e.id)
    }

    /// Leaves out of `findings` (of one engine's run `run_id`) those the allow-list
    /// hides, and records each one left out. Returns the findings kept and those left
    /// out.
    pub fn apply_allow_list(
        &mut self,
        run_id: i64,
        findings: Vec<Finding>,
    ) -> Result<(Vec<Finding>, Vec<AllowHit>)> {
        let entries = self.allow_entries()?;
        if entries.iter().all(|e| !e.active()) {
            return Ok((findings, Vec::new()));
        }
        let now = Utc::now();
        let mut kept = Vec::with_capacity(findings.len());
        let mut hits = Vec::new();
        for f in findings {
            match Store::allow_match(&entries, &f) {
                Some(entry_id) => hits.push(AllowHit {
                    entry_id,
                    run_id,
                    finding_id: f.id.0.clone(),
                    title: f.title.clone(),
                    at: now,
                }),
                None => kept.push(f),
            }
        }
        let tx = self.conn.transaction()?;
        for h in &hits {
            tx.execute(
                "INSERT INTO allow_list_hits (entry_id, run_id, finding_id, title, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![h.entry_id, h.run_id, h.finding_id, h.title, h.at.to_rfc3339()],
            )?;
        }
        tx.commit()?;
        Ok((kept, hits))
    }

    /// What an entry left out at the latest run that it left anything out of.
    pub fn allow_hits(&self, entry_id: i64) -> Result<Vec<AllowHit>> {
        let mut stmt = self.conn.prepare(
            "SELECT entry_id, run_id, finding_id, title, at FROM allow_list_hits
             WHERE entry_id = ?1 AND run_id = (SELECT MAX(run_id) FROM allow_list_hits WHERE entry_id = ?1)
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![entry_id], |r| {
            Ok(AllowHit {
                entry_id: r.get(0)?,
                run_id: r.get(1)?,
                finding_id: r.get(2)?,
                title: r.get(3)?,
                at: parse_time(&r.get::<_, String>(4)?).unwrap_or_default(),
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TriageChange;
    use scrutineer_core::Evidence;

    fn source(ip: &str) -> Evidence {
        Evidence::new(
            "observable",
            format!("source address {ip}"),
            serde_json::json!({"type": "ipv4-addr", "value": ip}),
        )
    }

    fn scan(ips: &[&str]) -> Finding {
        let mut f =
            Finding::new(Engine::Infra, "scanning", &ips.join(","), format!("scan from {}", ips.join(", ")));
        f.evidence = ips.iter().map(|ip| source(ip)).collect();
        f
    }

    fn false_positive(store: &mut Store, f: &Finding) {
        store.put_findings(None, std::slice::from_ref(f)).expect("put");
        let change = TriageChange { status: Some("false_positive".into()), ..Default::default() };
        store.apply_triage(&f.id.0, "ana", &change).expect("triage");
    }

    #[test]
    fn an_entry_hides_findings_whose_subjects_it_covers_until_removed() {
        let mut store = Store::open_in_memory().expect("open");
        let ours = scan(&["192.0.2.10"]);
        assert!(store.add_allow_entry(&ours, "ana", "our own scanner").is_err(), "not triaged yet");
        false_positive(&mut store, &ours);
        assert!(store.add_allow_entry(&ours, "ana", "  ").is_err(), "no reason");
        let id = store.add_allow_entry(&ours, "ana", "the office's vulnerability scanner").expect("add");

        let next_run =
            vec![scan(&["192.0.2.10"]), scan(&["192.0.2.10", "198.51.100.7"]), scan(&["198.51.100.7"])];
        let (kept, hits) = store.apply_allow_list(7, next_run.clone()).expect("apply");
        assert_eq!(hits.len(), 1, "only the finding all of whose sources are allowed");
        assert_eq!(hits[0].finding_id, next_run[0].id.0);
        assert_eq!(kept.len(), 2);
        assert_eq!(store.allow_hits(id).expect("hits").len(), 1);

        store.change_allow_entry(id, "bob", "still ours, a new contract", false).expect("reason");
        assert_eq!(store.allow_entry(id).expect("read").expect("entry").reason, "still ours, a new contract");
        store.change_allow_entry(id, "bob", "the contract ended", true).expect("remove");
        assert!(store.change_allow_entry(id, "bob", "again", true).is_err(), "removed once");
        let (kept, hits) = store.apply_allow_list(8, next_run).expect("apply");
        assert_eq!((kept.len(), hits.len()), (3, 0), "a removed entry hides nothing");
        let actions: Vec<String> =
            store.allow_events(id).expect("events").into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["added", "reason", "removed"]);
        assert!(store.conn.execute("DELETE FROM allow_list_events", []).is_err(), "append-only");
        assert!(store.conn.execute("DELETE FROM allow_list", []).is_err(), "entries stay");
    }

    #[test]
    fn only_infra_sources_and_influence_networks_are_allowed() {
        let mut store = Store::open_in_memory().expect("open");
        let ballots = Finding::new(Engine::Ballots, "double_vote", "V1", "double vote");
        false_positive(&mut store, &ballots);
        assert!(store.add_allow_entry(&ballots, "ana", "a clerk's error").is_err());
        let mut network = Finding::new(Engine::Influence, "coordinated_network", "n1", "network");
        network.evidence = vec![Evidence::new("members", "2 members", serde_json::json!(["@a", "@b"]))];
        assert_eq!(allow_subjects(&network), ["@a", "@b"]);
        false_positive(&mut store, &network);
        store.add_allow_entry(&network, "ana", "a newsroom's accounts").expect("add");
        let mut grown = network.clone();
        grown.id.0.push('2');
        grown.evidence[0].data = serde_json::json!(["@a", "@b", "@c"]);
        let (kept, hits) = store.apply_allow_list(1, vec![network.clone(), grown]).expect("apply");
        assert_eq!((kept.len(), hits.len()), (1, 1), "a network that gained an account comes back");
    }
}
