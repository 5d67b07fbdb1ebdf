//! What the TAXII server needs beyond findings: when each finding was recorded (a
//! shared object's `date_added`), and the objects partners post to the inbox.

use chrono::{DateTime, Utc};
use rusqlite::params;
use scrutineer_core::Engine;

use crate::{Result, Store, StoreError, parse_time};

/// An object a partner posted, as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedObject {
    /// The STIX id.
    pub id: String,
    /// When it was posted (its TAXII `date_added`).
    pub date_added: DateTime<Utc>,
    /// Who posted it (token or user name).
    pub posted_by: String,
    /// The object, as posted.
    pub object: serde_json::Value,
}

impl Store {
    /// A pair that changes whenever what the TAXII collections are made of changes:
    /// findings or runs ([`Store::change_counter`]), triage (statuses and markings), or
    /// the objects partners posted. Triggers keep it, so writes by any process count.
    pub fn sharing_version(&self) -> Result<(i64, i64)> {
        // Asked at every request the server answers from a cache: prepared once.
        Ok(self
            .conn
            .prepare_cached(
                "SELECT (SELECT counter FROM changes WHERE id = 1), (SELECT counter FROM sharing_changes WHERE id = 1)",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    /// When each of an engine's findings was last written, by finding id.
    pub fn finding_times(&self, engine: Engine) -> Result<Vec<(String, DateTime<Utc>)>> {
        let mut stmt = self.conn.prepare("SELECT id, recorded_at FROM findings WHERE engine = ?1")?;
        let rows = stmt.query_map(params![engine.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, parse_time(&r.get::<_, String>(1)?).unwrap_or_default()))
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }

    /// Keeps posted objects in one transaction; an object whose id and content are
    /// already kept is not added again. Returns how many were new.
    pub fn put_shared_objects(
        &mut self,
        posted_by: &str,
        objects: &[(String, serde_json::Value)],
    ) -> Result<usize> {
        let now = Utc::now().to_rfc3339();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO shared_objects (id, version, date_added, posted_by, object) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id, version) DO NOTHING",
            )?;
            for (id, object) in objects {
                let version = object
                    .get("modified")
                    .or_else(|| object.get("created"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned();
                added += stmt.execute(params![id, version, now, posted_by, object.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Every posted object, oldest first.
    pub fn shared_objects(&self) -> Result<Vec<SharedObject>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, date_added, posted_by, object FROM shared_objects ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, added, posted_by, text) = row?;
            let object = serde_json::from_str(&text).map_err(|source| StoreError::Corrupt {
                id: format!("shared object {id}"),
                column: "object",
                source,
            })?;
            out.push(SharedObject {
                id,
                date_added: parse_time(&added).unwrap_or_default(),
                posted_by,
                object,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posted_objects_are_kept_once_per_version() {
        let mut store = Store::open_in_memory().expect("open");
        let a = serde_json::json!({"type": "indicator", "id": "indicator--1", "modified": "2026-01-01T00:00:00Z"});
        let b = serde_json::json!({"type": "indicator", "id": "indicator--1", "modified": "2026-02-01T00:00:00Z"});
        assert_eq!(store.put_shared_objects("isac", &[("indicator--1".into(), a.clone())]).expect("put"), 1);
        assert_eq!(store.put_shared_objects("isac", &[("indicator--1".into(), a.clone())]).expect("put"), 0);
        assert_eq!(store.put_shared_objects("isac", &[("indicator--1".into(), b)]).expect("put"), 1);
        let kept = store.shared_objects().expect("read");
        assert_eq!(kept.len(), 2);
        assert_eq!((kept[0].posted_by.as_str(), &kept[0].object), ("isac", &a));
    }
}
