//! Links between findings of different engines that name the same source: an address
//! or an account. The binary computes them (engines never see each other's findings)
//! and hands each join's whole set to [`Store::sync_links`], which keeps one row per
//! direction and key, so that re-running a join adds nothing twice and drops the links
//! whose findings or shared key are gone.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::{Result, Store, StoreError, parse_time};

/// What two linked findings share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKeyKind {
    /// A network address (IPv4 or IPv6, in its canonical text form).
    Address,
    /// An account name (lower-case).
    Account,
}

impl LinkKeyKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKeyKind::Address => "address",
            LinkKeyKind::Account => "account",
        }
    }

    fn parse(s: &str) -> Option<LinkKeyKind> {
        match s {
            "address" => Some(LinkKeyKind::Address),
            "account" => Some(LinkKeyKind::Account),
            _ => None,
        }
    }
}

impl std::fmt::Display for LinkKeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A link a join found: two findings and the key they share. [`Store::sync_links`]
/// stores it in both directions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewLink {
    /// One finding's id.
    pub finding_id: String,
    /// The other's.
    pub linked_id: String,
    /// What they share.
    pub kind: LinkKeyKind,
    /// The shared address or account.
    pub value: String,
}

/// A stored link, seen from `finding_id`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FindingLink {
    /// The finding the link is read from.
    pub finding_id: String,
    /// The finding it links to.
    pub linked_id: String,
    /// What they share.
    pub kind: LinkKeyKind,
    /// The shared address or account.
    pub value: String,
    /// The join that found it (`hunt-infra`).
    pub join: String,
    /// When the link was first found.
    pub created_at: DateTime<Utc>,
}

/// What [`Store::sync_links`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkSync {
    /// Links stored now that were not before (each direction counts once).
    pub added: usize,
    /// Links dropped because the join no longer finds them.
    pub removed: usize,
    /// Links the join found that were stored already.
    pub kept: usize,
}

type Row = (String, String, LinkKeyKind, String);

impl Store {
    /// Makes the stored links of `join` exactly `links` (each in both directions), in
    /// one transaction: new ones are added with the current time, those already stored
    /// keep when they were first found, and those `links` no longer holds are removed.
    pub fn sync_links(&mut self, join: &str, links: &[NewLink]) -> Result<LinkSync> {
        let mut wanted: BTreeSet<Row> = BTreeSet::new();
        for l in links {
            wanted.insert((l.finding_id.clone(), l.linked_id.clone(), l.kind, l.value.clone()));
            wanted.insert((l.linked_id.clone(), l.finding_id.clone(), l.kind, l.value.clone()));
        }
        let now = Utc::now().to_rfc3339();
        let tx = self.conn.transaction()?;
        let mut stored: BTreeSet<Row> = BTreeSet::new();
        {
            let mut stmt = tx.prepare(
                "SELECT finding_id, linked_id, key_kind, key_value FROM finding_links WHERE join_name = ?1",
            )?;
            let rows = stmt.query_map(params![join], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            for row in rows {
                let (a, b, kind, value) = row?;
                let kind = kind_of(&a, &kind)?;
                stored.insert((a, b, kind, value));
            }
        }
        let mut sync = LinkSync::default();
        {
            let mut delete = tx.prepare(
                "DELETE FROM finding_links
                 WHERE join_name = ?1 AND finding_id = ?2 AND linked_id = ?3 AND key_kind = ?4 AND key_value = ?5",
            )?;
            for (a, b, kind, value) in stored.difference(&wanted) {
                sync.removed += delete.execute(params![join, a, b, kind.as_str(), value])?;
            }
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO finding_links (finding_id, linked_id, key_kind, key_value, join_name, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (a, b, kind, value) in wanted.difference(&stored) {
                sync.added += insert.execute(params![a, b, kind.as_str(), value, join, now])?;
            }
        }
        tx.commit()?;
        sync.kept = wanted.intersection(&stored).count();
        Ok(sync)
    }

    /// The links from one finding (by its full id), by kind, value and linked id.
    pub fn links_of(&self, finding_id: &str) -> Result<Vec<FindingLink>> {
        let mut stmt = self.conn.prepare(
            "SELECT finding_id, linked_id, key_kind, key_value, join_name, created_at FROM finding_links
             WHERE finding_id = ?1 ORDER BY key_kind, key_value, linked_id",
        )?;
        let rows = stmt.query_map(params![finding_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (finding_id, linked_id, kind, value, join, at) = row?;
            let kind = kind_of(&finding_id, &kind)?;
            out.push(FindingLink {
                finding_id,
                linked_id,
                kind,
                value,
                join,
                created_at: parse_time(&at).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

fn kind_of(id: &str, kind: &str) -> Result<LinkKeyKind> {
    LinkKeyKind::parse(kind).ok_or_else(|| StoreError::UnknownValue {
        id: format!("the link from finding {id}"),
        column: "key_kind",
        value: kind.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: &str, b: &str, kind: LinkKeyKind, value: &str) -> NewLink {
        NewLink { finding_id: a.into(), linked_id: b.into(), kind, value: value.into() }
    }

    #[test]
    fn links_are_stored_both_ways_once_and_follow_the_join() {
        let mut s = Store::open_in_memory().expect("store");
        let first = vec![
            link("hunt-1", "infra-1", LinkKeyKind::Address, "192.0.2.7"),
            link("hunt-1", "infra-2", LinkKeyKind::Account, "admin"),
        ];
        let sync = s.sync_links("hunt-infra", &first).expect("sync");
        assert_eq!((sync.added, sync.removed, sync.kept), (4, 0, 0));
        let from_infra = s.links_of("infra-1").expect("links");
        assert_eq!(from_infra.len(), 1);
        assert_eq!((from_infra[0].linked_id.as_str(), from_infra[0].kind), ("hunt-1", LinkKeyKind::Address));
        let created = from_infra[0].created_at;

        let again = s.sync_links("hunt-infra", &first).expect("sync again");
        assert_eq!((again.added, again.removed, again.kept), (0, 0, 4));
        assert_eq!(s.links_of("hunt-1").expect("links").len(), 2);
        assert_eq!(s.links_of("infra-1").expect("links")[0].created_at, created);

        // A join that no longer finds the account link drops it in both directions.
        let shrunk = s.sync_links("hunt-infra", &first[..1]).expect("sync shrunk");
        assert_eq!((shrunk.added, shrunk.removed, shrunk.kept), (0, 2, 2));
        assert!(s.links_of("infra-2").expect("links").is_empty());
        // Another join's links are not touched by this one's.
        s.sync_links("other", &[link("x", "y", LinkKeyKind::Account, "a")]).expect("other join");
        s.sync_links("hunt-infra", &[]).expect("empty");
        assert!(s.links_of("hunt-1").expect("links").is_empty());
        assert_eq!(s.links_of("x").expect("links").len(), 1);
    }
}
