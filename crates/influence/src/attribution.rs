//! Attribution signals: facts about a network that bear on who runs it. They are
//! reported as signals for an analyst to weigh, never as a verdict: a team keeping
//! office hours in UTC+3, Russian-language clients or a burst of account creation are
//! consistent with a foreign operation and with many innocent explanations too.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::corpus::{AccountProfile, Vocabulary};

/// One entry of the state-affiliated media list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateMediaEntry {
    /// The domain, without `www.`.
    pub domain: String,
    /// The state whose media it is.
    pub country: String,
    /// The outlet's name.
    pub outlet: String,
    /// Where the classification comes from, so an analyst can check it.
    pub source: String,
}

/// The list shipped with Scrutineer (`crates/influence/data/state-media.csv`).
pub const DEFAULT_STATE_MEDIA_CSV: &str = include_str!("../data/state-media.csv");

#[derive(Debug, thiserror::Error)]
/// A state-affiliated media list that cannot be read.
pub enum StateMediaError {
    #[error("state-media list {source_name}: {error}")]
    /// The list's CSV is malformed.
    Csv {
        /// The list's name.
        source_name: String,
        /// The CSV error.
        error: csv::Error,
    },
    #[error("state-media list {source_name} line {line}: empty domain")]
    /// An entry has no domain.
    EmptyDomain {
        /// The list's name.
        source_name: String,
        /// The entry's line.
        line: u64,
    },
}

/// The state-affiliated media list: domains, with the country and source of each.
#[derive(Debug, Clone, Default)]
pub struct StateMediaList {
    /// The list's entries, in file order.
    pub entries: Vec<StateMediaEntry>,
}

impl StateMediaList {
    /// The list shipped with Scrutineer.
    pub fn builtin() -> StateMediaList {
        // The built-in list is part of the source tree and tested, so parsing it succeeds.
        StateMediaList::parse(DEFAULT_STATE_MEDIA_CSV, "built-in").unwrap_or_default()
    }

    /// Parses a `domain,country,outlet,source` CSV.
    pub fn parse(text: &str, source_name: &str) -> Result<StateMediaList, StateMediaError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut entries = Vec::new();
        for row in reader.deserialize::<StateMediaEntry>() {
            let mut e =
                row.map_err(|error| StateMediaError::Csv { source_name: source_name.to_owned(), error })?;
            e.domain = e.domain.trim().trim_start_matches("www.").to_ascii_lowercase();
            if e.domain.is_empty() {
                return Err(StateMediaError::EmptyDomain {
                    source_name: source_name.to_owned(),
                    line: entries.len() as u64 + 2,
                });
            }
            entries.push(e);
        }
        Ok(StateMediaList { entries })
    }

    /// Reads a list (CSV: `domain,country,outlet,source`) from `path`.
    pub fn load(path: &Path) -> Result<StateMediaList, StateMediaError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| StateMediaError::Csv { source_name: name.clone(), error: csv::Error::from(e) })?;
        StateMediaList::parse(&text, &name)
    }

    /// The entry a host belongs to (the domain itself or a subdomain of it).
    pub fn lookup(&self, host: &str) -> Option<&StateMediaEntry> {
        self.entries.iter().find(|e| {
            host.strip_suffix(e.domain.as_str()).is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
        })
    }
}

#[derive(Debug, Clone, Serialize)]
/// A UTC offset at which a posting pattern looks like an office week.
pub struct OffsetFit {
    /// Hours east of UTC.
    pub utc_offset: i32,
    /// Share of posts that fall in Monday–Friday 09:00–18:00 local time at this offset.
    pub office_hours_share: f64,
}

#[derive(Debug, Clone, Serialize)]
/// A value and how often it occurs.
pub struct Count {
    /// The value (a language code, a client name).
    pub value: String,
    /// How many posts have it.
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
/// Accounts created close together: the most creation dates within one window.
pub struct CreationBurst {
    /// The window's length in days.
    pub window_days: i64,
    /// Accounts created within the window.
    pub accounts: usize,
    /// Accounts whose creation date is known.
    pub accounts_with_dates: usize,
    /// `accounts` as a share of `accounts_with_dates`.
    pub share: f64,
    /// The first creation date in the window.
    pub start: DateTime<Utc>,
    /// The last creation date in the window.
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
/// How much of a network's linking goes to state-affiliated media.
pub struct StateMediaShare {
    /// Links posted.
    pub links: u64,
    /// Of those, links to state-affiliated media.
    pub state_media_links: u64,
    /// `state_media_links` as a share of `links`.
    pub share: f64,
    /// The state-affiliated domains linked, most linked first.
    pub domains: Vec<StateMediaHit>,
}

#[derive(Debug, Clone, Serialize)]
/// One state-affiliated domain a network linked to.
pub struct StateMediaHit {
    /// The domain.
    pub domain: String,
    /// The state whose media it is.
    pub country: String,
    /// The outlet's name.
    pub outlet: String,
    /// Where the classification comes from.
    pub source: String,
    /// Links to it.
    pub links: u64,
}

#[derive(Debug, Clone, Serialize)]
/// Signals about who runs a network: when it posts, in which languages and clients, when its accounts were made, which state media it links. Signals, never verdicts.
pub struct Attribution {
    /// Posts per UTC hour of day.
    pub hour_profile_utc: [u64; 24],
    /// The offsets that best explain the posting pattern as an office week, best first.
    pub best_utc_offsets: Vec<OffsetFit>,
    /// The same share at US Eastern time (UTC−5), for comparison with a domestic team.
    pub us_eastern_office_hours_share: f64,
    /// Languages of the members' posts, commonest first.
    pub languages: Vec<Count>,
    /// Clients the members posted from, commonest first.
    pub clients: Vec<Count>,
    /// The tightest burst of account creation among the members, when dates are known.
    pub creation_burst: Option<CreationBurst>,
    /// Links to state-affiliated media.
    pub state_media: StateMediaShare,
}

/// Share of `week` (168 UTC weekday-hour bins, Monday 00 first) in local office hours.
fn office_share(week: &[u64; 168], offset: i32, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let mut office = 0u64;
    for (slot, &n) in week.iter().enumerate() {
        let local = (slot as i32 + offset).rem_euclid(168);
        let (day, hour) = (local / 24, local % 24);
        if day < 5 && (9..18).contains(&hour) {
            office += n;
        }
    }
    office as f64 / total as f64
}

/// The UTC offsets (−12..=+14) ranked by how well an office week explains the posts.
pub fn infer_utc_offset(week: &[u64; 168]) -> Vec<OffsetFit> {
    let total: u64 = week.iter().sum();
    let mut fits: Vec<OffsetFit> = (-12..=14)
        .map(|o| OffsetFit { utc_offset: o, office_hours_share: office_share(week, o, total) })
        .collect();
    fits.sort_by(|a, b| {
        b.office_hours_share.total_cmp(&a.office_hours_share).then(a.utc_offset.cmp(&b.utc_offset))
    });
    fits
}

fn top_counts(pairs: impl Iterator<Item = (String, u64)>, n: usize) -> Vec<Count> {
    let mut map: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        *map.entry(k).or_insert(0) += v;
    }
    let mut v: Vec<Count> = map.into_iter().map(|(value, count)| Count { value, count }).collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    v.truncate(n);
    v
}

/// The largest number of accounts created within any `window_days` window.
pub fn creation_burst(created: &mut [DateTime<Utc>], window_days: i64) -> Option<CreationBurst> {
    if created.is_empty() {
        return None;
    }
    created.sort_unstable();
    let window = chrono::Duration::days(window_days);
    let (mut best, mut best_at) = (0usize, 0usize);
    let mut lo = 0;
    for hi in 0..created.len() {
        while created[hi] - created[lo] > window {
            lo += 1;
        }
        if hi - lo + 1 > best {
            best = hi - lo + 1;
            best_at = lo;
        }
    }
    Some(CreationBurst {
        window_days,
        accounts: best,
        accounts_with_dates: created.len(),
        share: best as f64 / created.len() as f64,
        start: created[best_at],
        end: created[best_at + best - 1],
    })
}

/// Computes the signals of a set of accounts.
pub fn attribute(
    members: &[&AccountProfile],
    languages: &Vocabulary,
    clients: &Vocabulary,
    host_media: &[Option<&StateMediaEntry>],
) -> Attribution {
    let mut week = [0u64; 168];
    for m in members {
        for (slot, &n) in m.week_hours.iter().enumerate().take(168) {
            week[slot] += n as u64;
        }
    }
    let mut hour_profile_utc = [0u64; 24];
    for (slot, &n) in week.iter().enumerate() {
        hour_profile_utc[slot % 24] += n;
    }
    let total: u64 = week.iter().sum();
    let mut fits = infer_utc_offset(&week);
    fits.truncate(3);

    let mut created: Vec<DateTime<Utc>> = members.iter().filter_map(|m| m.created_at).collect();
    let mut links = 0u64;
    let mut hits: std::collections::BTreeMap<String, (StateMediaEntry, u64)> = Default::default();
    for m in members {
        for &(h, n) in &m.link_hosts {
            links += n as u64;
            if let Some(e) = host_media.get(h as usize).copied().flatten() {
                hits.entry(e.domain.clone()).or_insert_with(|| (e.clone(), 0)).1 += n as u64;
            }
        }
    }
    let state_media_links: u64 = hits.values().map(|(_, n)| n).sum();
    let mut domains: Vec<StateMediaHit> = hits
        .into_values()
        .map(|(e, n)| StateMediaHit {
            domain: e.domain,
            country: e.country,
            outlet: e.outlet,
            source: e.source,
            links: n,
        })
        .collect();
    domains.sort_by(|a, b| b.links.cmp(&a.links).then(a.domain.cmp(&b.domain)));

    Attribution {
        hour_profile_utc,
        best_utc_offsets: fits,
        us_eastern_office_hours_share: office_share(&week, -5, total),
        languages: top_counts(
            members
                .iter()
                .flat_map(|m| m.languages.iter().map(|&(l, n)| (languages.name(l).to_owned(), n as u64))),
            5,
        ),
        clients: top_counts(
            members
                .iter()
                .flat_map(|m| m.clients.iter().map(|&(c, n)| (clients.name(c).to_owned(), n as u64))),
            5,
        ),
        creation_burst: creation_burst(&mut created, 30),
        state_media: StateMediaShare {
            links,
            state_media_links,
            share: if links == 0 { 0.0 } else { state_media_links as f64 / links as f64 },
            domains,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn builtin_list_parses_and_matches_subdomains() {
        let list = StateMediaList::builtin();
        assert!(list.entries.len() >= 30);
        assert!(list.entries.iter().all(|e| !e.source.is_empty()));
        assert_eq!(list.lookup("rt.com").map(|e| e.country.as_str()), Some("Russia"));
        assert_eq!(list.lookup("arabic.rt.com").map(|e| e.outlet.as_str()), Some("RT"));
        assert!(list.lookup("art.com").is_none());
        assert!(list.lookup("nytimes.com").is_none());
    }

    #[test]
    fn office_hours_in_moscow_are_recovered() {
        // A team posting Monday–Friday 09:00–17:59 in UTC+3 posts 06:00–14:59 UTC.
        let mut week = [0u64; 168];
        for day in 0..5 {
            for local_hour in 9..18 {
                let utc_slot = (day * 24 + local_hour - 3 + 168) % 168;
                week[utc_slot] += 10;
            }
        }
        let fits = infer_utc_offset(&week);
        assert_eq!(fits[0].utc_offset, 3);
        assert!((fits[0].office_hours_share - 1.0).abs() < 1e-12);
        assert!(office_share(&week, -5, week.iter().sum()) < 0.5);
    }

    #[test]
    fn creation_bursts_find_the_dense_window() {
        let d = |y, m, day| Utc.with_ymd_and_hms(y, m, day, 0, 0, 0).single().expect("valid");
        let mut created = vec![d(2014, 1, 1), d(2015, 6, 1), d(2015, 6, 3), d(2015, 6, 20), d(2016, 2, 1)];
        let b = creation_burst(&mut created, 30).expect("burst");
        assert_eq!(b.accounts, 3);
        assert_eq!(b.start, d(2015, 6, 1));
        assert!(creation_burst(&mut [], 30).is_none());
    }
}
