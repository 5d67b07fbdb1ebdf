//! Cross-platform spread: links and (near-duplicate) texts that appear on several
//! platforms, in the order the platforms were reached, with the first account and time
//! on each.
//!
//! An account's platform is the prefix the platform readers qualify it with (`telegram:`,
//! `reddit:`, `bluesky:`, `facebook:`, `instagram:`, `tiktok:`, `youtube:`, `4cat:`);
//! unqualified keys, which the Twitter formats and the generic CSV give, are `twitter`.
//! Items are the detection's own: links normalised as co-link normalises them, texts
//! after near-duplicate merging (so a copy edited on its way to another platform is the
//! same item). Computed in one pass over the kept actions of those two behaviours; only
//! items seen on several platforms are looked at further.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::corpus::Corpus;
use crate::detect::Detection;
use crate::explain::Network;
use crate::params::Behaviour;

/// The platform prefixes the readers write; anything else is Twitter.
const QUALIFIED: [&str; 8] =
    ["telegram", "reddit", "bluesky", "facebook", "instagram", "tiktok", "youtube", "4cat"];
/// Platforms known, in the order of their ids: Twitter first.
const PLATFORMS: [&str; 9] =
    ["twitter", "telegram", "reddit", "bluesky", "facebook", "instagram", "tiktok", "youtube", "4cat"];

/// Items listed in full in [`Spread::items`] at most.
pub const SPREAD_ITEMS_SHOWN: usize = 100;

/// The platform of an account key: its qualifying prefix, or `twitter`.
pub fn platform_of(account: &str) -> &'static str {
    PLATFORMS[platform_id(account) as usize]
}

fn platform_id(account: &str) -> u8 {
    match account.split_once(':') {
        Some((prefix, _)) => QUALIFIED.iter().position(|&q| q == prefix).map_or(0, |i| i as u8 + 1),
        None => 0,
    }
}

/// When and by whom an item reached one platform.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformReach {
    /// The platform.
    pub platform: String,
    /// The first action on it there.
    pub first: DateTime<Utc>,
    /// The account that acted first there.
    pub first_account: String,
    /// Seconds after the item's first action anywhere.
    pub after_secs: i64,
    /// Distinct accounts that acted on it there.
    pub accounts: usize,
}

/// One item seen on several platforms.
#[derive(Debug, Clone, Serialize)]
pub struct SpreadItem {
    /// `co_link` (a normalised link) or `co_tweet` (a text and its near-duplicates).
    pub behaviour: Behaviour,
    /// The link or the text.
    pub item: String,
    /// Distinct accounts that acted on it.
    pub accounts: usize,
    /// The networks whose members acted on it.
    pub networks: Vec<String>,
    /// The platforms it reached, in the order it reached them.
    pub reached: Vec<PlatformReach>,
}

/// How many items reached the platforms in one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformOrder {
    /// The platforms, first reached first.
    pub order: Vec<String>,
    /// Items that reached them in that order.
    pub items: usize,
}

/// One network's share in the spread: the items its members carried to several
/// platforms, and the order of the platforms by the members' first action on each.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkSpread {
    /// The network.
    pub network: String,
    /// Items its members acted on from several platforms.
    pub items: usize,
    /// The orders in which its members reached the platforms, most common first.
    pub orders: Vec<PlatformOrder>,
}

/// Links and texts that appear on several platforms.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Spread {
    /// Items seen on at least two platforms.
    pub cross_platform_items: usize,
    /// The orders in which those items reached the platforms, most common first.
    pub orders: Vec<PlatformOrder>,
    /// Per network whose members carried items across platforms.
    pub networks: Vec<NetworkSpread>,
    /// The items themselves (at most [`SPREAD_ITEMS_SHOWN`]): those reaching the most
    /// platforms first, then those carried by networks, then the most accounts.
    pub items: Vec<SpreadItem>,
}

/// One platform's first action on an item.
#[derive(Clone, Copy)]
struct Reach {
    platform: u8,
    time: i64,
    account: u32,
    accounts: u32,
}

/// A cross-platform item, kept compact until the ones shown are chosen.
struct Found {
    behaviour: Behaviour,
    item: u64,
    accounts: u32,
    reached: Vec<Reach>,
    networks: Vec<u32>,
}

/// Finds the links and texts of the detection's kept actions that several platforms saw.
pub(crate) fn spread(corpus: &Corpus, detection: &Detection, networks: &[Network]) -> Spread {
    let platform: Vec<u8> = corpus.accounts.iter().map(|a| platform_id(&a.key)).collect();
    if platform.iter().all(|&p| p == platform.first().copied().unwrap_or(0)) {
        return Spread::default();
    }
    let mut network_of = vec![u32::MAX; corpus.accounts.len()];
    for (n, net) in networks.iter().enumerate() {
        for a in &net.accounts {
            if let Some(id) = corpus.account_id(&a.account) {
                network_of[id as usize] = n as u32;
            }
        }
    }
    let mut found: Vec<Found> = Vec::new();
    // Per network: order of platforms → items.
    let mut network_orders: FxHashMap<(u32, Vec<u8>), usize> = FxHashMap::default();
    let mut network_items = vec![0usize; networks.len()];
    let mut run: Vec<(u8, u32, i64)> = Vec::new();
    for be in &detection.behaviours {
        if !matches!(be.behaviour, Behaviour::CoLink | Behaviour::CoTweet) {
            continue;
        }
        let actions = be.actions_by_item();
        let mut i = 0;
        while i < actions.len() {
            let item = actions[i].item;
            let first_platform = platform[actions[i].account as usize];
            let mut j = i;
            let mut several = false;
            while j < actions.len() && actions[j].item == item {
                several |= platform[actions[j].account as usize] != first_platform;
                j += 1;
            }
            let span = &actions[i..j];
            i = j;
            if !several {
                continue;
            }
            run.clear();
            run.extend(span.iter().map(|a| (platform[a.account as usize], a.account, a.time)));
            run.sort_unstable();
            run.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
            let mut reached: Vec<Reach> = Vec::new();
            for group in run.chunk_by(|x, y| x.0 == y.0) {
                let &(p, account, time) = group.iter().min_by_key(|x| (x.2, x.1)).unwrap_or(&group[0]);
                reached.push(Reach { platform: p, time, account, accounts: group.len() as u32 });
            }
            reached.sort_by_key(|r| (r.time, r.platform));
            // Each network's members: their first action per platform.
            let mut by_network: Vec<(u32, u8, i64)> = run
                .iter()
                .filter(|x| network_of[x.1 as usize] != u32::MAX)
                .map(|x| (network_of[x.1 as usize], x.0, x.2))
                .collect();
            by_network.sort_unstable();
            let mut nets = Vec::new();
            for group in by_network.chunk_by(|x, y| x.0 == y.0) {
                let net = group[0].0;
                nets.push(net);
                let mut firsts: Vec<(i64, u8)> = Vec::new();
                for per in group.chunk_by(|x, y| x.1 == y.1) {
                    firsts.push((per[0].2, per[0].1));
                }
                if firsts.len() < 2 {
                    continue;
                }
                firsts.sort_unstable();
                network_items[net as usize] += 1;
                *network_orders.entry((net, firsts.iter().map(|f| f.1).collect())).or_default() += 1;
            }
            found.push(Found {
                behaviour: be.behaviour,
                item,
                accounts: run.len() as u32,
                reached,
                networks: nets,
            });
        }
    }

    let name = |order: &[u8]| order.iter().map(|&p| PLATFORMS[p as usize].to_owned()).collect::<Vec<_>>();
    let mut orders: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
    for f in &found {
        *orders.entry(f.reached.iter().map(|r| r.platform).collect()).or_default() += 1;
    }
    let ranked = |orders: Vec<(Vec<u8>, usize)>| {
        let mut v: Vec<PlatformOrder> =
            orders.into_iter().map(|(o, items)| PlatformOrder { order: name(&o), items }).collect();
        v.sort_by(|a, b| b.items.cmp(&a.items).then_with(|| a.order.cmp(&b.order)));
        v
    };
    let mut per_network: Vec<Vec<(Vec<u8>, usize)>> = vec![Vec::new(); networks.len()];
    for ((net, order), items) in network_orders {
        per_network[net as usize].push((order, items));
    }
    let network_spread = per_network
        .into_iter()
        .enumerate()
        .filter(|(n, _)| network_items[*n] > 0)
        .map(|(n, orders)| NetworkSpread {
            network: networks[n].id.clone(),
            items: network_items[n],
            orders: ranked(orders),
        })
        .collect();

    found.sort_by(|a, b| {
        b.reached
            .len()
            .cmp(&a.reached.len())
            .then(a.networks.is_empty().cmp(&b.networks.is_empty()))
            .then(b.accounts.cmp(&a.accounts))
            .then(a.reached[0].time.cmp(&b.reached[0].time))
            .then(a.item.cmp(&b.item))
    });
    let cross_platform_items = found.len();
    let items = found
        .iter()
        .take(SPREAD_ITEMS_SHOWN)
        .map(|f| {
            let start = f.reached[0].time;
            SpreadItem {
                behaviour: f.behaviour,
                item: corpus.labels.get(&f.item).map(|l| l.to_string()).unwrap_or_default(),
                accounts: f.accounts as usize,
                networks: f.networks.iter().map(|&n| networks[n as usize].id.clone()).collect(),
                reached: f
                    .reached
                    .iter()
                    .map(|r| PlatformReach {
                        platform: PLATFORMS[r.platform as usize].to_owned(),
                        first: DateTime::from_timestamp(r.time, 0).unwrap_or_default(),
                        first_account: corpus.account_key(r.account).to_owned(),
                        after_secs: r.time - start,
                        accounts: r.accounts as usize,
                    })
                    .collect(),
            }
        })
        .collect();
    Spread {
        cross_platform_items,
        orders: ranked(orders.into_iter().collect()),
        networks: network_spread,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_come_from_the_readers_prefixes() {
        assert_eq!(platform_of("telegram:user42"), "telegram");
        assert_eq!(platform_of("reddit:someone"), "reddit");
        assert_eq!(platform_of("4cat:x"), "4cat");
        assert_eq!(platform_of("12345"), "twitter");
        // A colon inside a Twitter-style key that is not a platform's prefix.
        assert_eq!(platform_of("odd:handle"), "twitter");
    }
}
