//! Who led: inside each network, which members acted first on the items they shared and
//! which followed, per tie and per member, and the "fast sub-network" of ties whose
//! members acted within seconds of each other.
//!
//! Computed after detection from what it kept: the actions of items shared by several
//! accounts ([`crate::detect::BehaviourEdges::actions`], sorted by item) and the networks'
//! members. For each item (of each behaviour) the members of one network who acted on it
//! are taken at their first action on it; two members are compared on it when those
//! actions fall within the scan's window (the same window that made them coincide).
//!
//! - A **tie** (a kept edge between two members) counts the items on which each acted
//!   first and the ties (the same second), and the median gap between them.
//! - A **member** is classed on each item it was compared on: it *led* when more of the
//!   members compared with it acted after it than before, *followed* in the reverse case,
//!   and *tied* otherwise. Its leader score is `(led − followed) / (led + followed + tied)`,
//!   from −1 (always followed) to 1 (always first); ties pull it towards 0. How consistent
//!   that is: the two-sided sign test of `led` against `followed` (ties left out), the
//!   chance that a member acting first or second at random, a coin toss per item, would
//!   lean as far one way. A member is a `leader` (or `follower`) when it leans that way
//!   and the test's p is at most [`ROLE_P`]. Its lag is how long after the first member
//!   within the window it acted on an item (0 when it was first); the median is reported.
//! - The **fast sub-network**: ties compared on at least `min_count` items whose median gap
//!   is at most [`ScanParams::fast_lag_secs`], and the members they join. The threshold is
//!   fixed rather than learnt from the scan's own gaps: those are dominated by the
//!   networks when the networks are large, so a threshold taken from them would move with
//!   what it is meant to find.
//!
//! Cost: one pass over the kept actions, a sort of each item's member actions, and, for
//! the ties, a visit of each pair of members within the window of one item: pairs that
//! co-occurrence counted already, restricted to members of one network.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::corpus::Corpus;
use crate::detect::Detection;
use crate::explain::Network;
use crate::params::{Behaviour, ScanParams};

/// The sign test's level at or below which a member that leans one way is called a
/// leader or a follower.
pub const ROLE_P: f64 = 0.01;

/// A member's part in its network's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadRole {
    /// Acted first on more items than it followed, consistently (sign test p ≤ [`ROLE_P`]).
    Leader,
    /// Acted after other members on more items than it led, consistently.
    Follower,
    /// Neither consistently, or never compared.
    Undetermined,
}

impl LeadRole {
    /// The role's name in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            LeadRole::Leader => "leader",
            LeadRole::Follower => "follower",
            LeadRole::Undetermined => "undetermined",
        }
    }
}

/// One member's timing against the other members, over the items it was compared on.
#[derive(Debug, Clone, Serialize)]
pub struct AccountLead {
    /// The account's key.
    pub account: String,
    /// Items on which it acted before most of the members compared with it.
    pub led: u32,
    /// Items on which it acted after most of them.
    pub followed: u32,
    /// Items on which as many acted before it as after (same-second actions included).
    pub tied: u32,
    /// `(led − followed) / (led + followed + tied)`: 1 always first, −1 always after.
    pub leader_score: f64,
    /// Two-sided sign test of `led` against `followed`: how likely a coin toss per item
    /// leans as far; small means consistent.
    pub sign_test_p: f64,
    /// Median seconds after the first member within the window (0 when it was first).
    pub median_lag_secs: Option<f64>,
    /// Leader, follower, or neither.
    pub role: LeadRole,
    /// Whether it is in the fast sub-network.
    pub fast: bool,
}

/// One tie's timing: who of the two acted first, item by item.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeLead {
    /// One account.
    pub a: String,
    /// The other.
    pub b: String,
    /// Items on which `a` acted first.
    pub a_first: u32,
    /// Items on which `b` acted first.
    pub b_first: u32,
    /// Items on which both acted in the same second.
    pub ties: u32,
    /// Median seconds between the two on their items.
    pub median_gap_secs: f64,
    /// Whether the tie is in the fast sub-network.
    pub fast: bool,
}

/// The ties whose members acted within seconds of each other.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FastSubnetwork {
    /// A tie is fast when its median gap is at most this many seconds.
    pub threshold_secs: i64,
    /// Members joined by a fast tie, highest leader score first.
    pub accounts: Vec<String>,
    /// Fast ties.
    pub edges: usize,
}

/// Who led inside one network.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Leadership {
    /// Items (per behaviour) on which at least two members acted within the window.
    pub compared_items: u64,
    /// Median seconds between two tied members on their shared items.
    pub median_lag_secs: Option<f64>,
    /// Members classed as leaders, highest score first.
    pub leaders: Vec<String>,
    /// Every member compared on at least one item, highest leader score first.
    pub accounts: Vec<AccountLead>,
    /// The network's ties compared on at least one item.
    pub edges: Vec<EdgeLead>,
    /// The ties within seconds, and their members.
    pub fast: FastSubnetwork,
}

const NONE: u32 = u32::MAX;

#[derive(Default, Clone)]
struct Tally {
    led: u32,
    followed: u32,
    tied: u32,
}

/// Fills [`Network::leadership`] of every network from the detection's kept actions.
pub(crate) fn annotate(
    corpus: &Corpus,
    detection: &Detection,
    networks: &mut [Network],
    params: &ScanParams,
) {
    // Each member's slot (its place among all members) and network.
    let mut slot_of = vec![NONE; corpus.accounts.len()];
    let mut members: Vec<(u32, u32)> = Vec::new(); // (account, network)
    for (n, net) in networks.iter().enumerate() {
        for a in &net.accounts {
            if let Some(id) = corpus.account_id(&a.account) {
                slot_of[id as usize] = members.len() as u32;
                members.push((id, n as u32));
            }
        }
    }
    // The networks' ties, by ordered pair of accounts.
    let mut edge_of: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for &(a, b, _) in &detection.combined {
        let (sa, sb) = (slot(&slot_of, a), slot(&slot_of, b));
        if sa != NONE && sb != NONE && members[sa as usize].1 == members[sb as usize].1 {
            let key = (a.min(b), a.max(b));
            edge_of.entry(key).or_insert_with(|| {
                edges.push(key);
                edges.len() as u32 - 1
            });
        }
    }
    let window = params.window_secs.max(0);
    let crowd = if params.max_item_accounts == 0 { usize::MAX } else { params.max_item_accounts };
    let mut tallies = vec![Tally::default(); members.len()];
    let mut lags: Vec<(u32, u32)> = Vec::new(); // (slot, lag)
    let mut gaps: Vec<(u32, u32, i8)> = Vec::new(); // (edge, gap, sign: -1 lower account first)
    let mut compared = vec![0u64; networks.len()];
    let mut at: Vec<(u32, u32, i64)> = Vec::new(); // (network, account, time)
    let mut group: Vec<(i64, u32)> = Vec::new();
    for be in &detection.behaviours {
        if be.behaviour == Behaviour::Sync {
            continue;
        }
        let actions = be.actions_by_item();
        let mut i = 0;
        while i < actions.len() {
            let item = actions[i].item;
            let mut j = i;
            at.clear();
            while j < actions.len() && actions[j].item == item {
                let s = slot(&slot_of, actions[j].account);
                if s != NONE {
                    at.push((members[s as usize].1, actions[j].account, actions[j].time));
                }
                j += 1;
            }
            i = j;
            if at.len() < 2 {
                continue;
            }
            at.sort_unstable();
            // Each member at its first action on the item.
            at.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
            let mut g = 0;
            while g < at.len() {
                let net = at[g].0;
                let mut h = g;
                group.clear();
                while h < at.len() && at[h].0 == net {
                    group.push((at[h].2, at[h].1));
                    h += 1;
                }
                g = h;
                if group.len() < 2 {
                    continue;
                }
                group.sort_unstable();
                if !group.windows(2).any(|w| w[1].0 - w[0].0 <= window) {
                    continue;
                }
                compared[net as usize] += 1;
                compare_members(&group, window, &slot_of, &mut tallies, &mut lags);
                if group.len() <= crowd {
                    compare_ties(&group, window, &edge_of, &mut gaps);
                }
            }
        }
    }

    // Per member: its lags' median, its score and its role.
    lags.sort_unstable();
    let mut median_lag = vec![None; members.len()];
    for run in lags.chunk_by(|x, y| x.0 == y.0) {
        let values: Vec<u32> = run.iter().map(|&(_, l)| l).collect();
        median_lag[run[0].0 as usize] = median(&values);
    }
    // Per tie: who was first, and the median gap.
    gaps.sort_unstable();
    let mut per_net_edges: Vec<Vec<EdgeLead>> = vec![Vec::new(); networks.len()];
    let mut per_net_gaps: Vec<Vec<u32>> = vec![Vec::new(); networks.len()];
    let mut fast_slot = vec![false; members.len()];
    let mut fast_edges = vec![0usize; networks.len()];
    for run in gaps.chunk_by(|x, y| x.0 == y.0) {
        let (a, b) = edges[run[0].0 as usize];
        let net = members[slot(&slot_of, a) as usize].1 as usize;
        let values: Vec<u32> = run.iter().map(|&(_, gap, _)| gap).collect();
        let median_gap = median(&values).unwrap_or(0.0);
        let fast =
            values.len() >= params.min_count.max(1) as usize && median_gap <= params.fast_lag_secs as f64;
        if fast {
            fast_slot[slot(&slot_of, a) as usize] = true;
            fast_slot[slot(&slot_of, b) as usize] = true;
            fast_edges[net] += 1;
        }
        per_net_gaps[net].extend_from_slice(&values);
        per_net_edges[net].push(EdgeLead {
            a: corpus.account_key(a).to_owned(),
            b: corpus.account_key(b).to_owned(),
            a_first: run.iter().filter(|r| r.2 < 0).count() as u32,
            b_first: run.iter().filter(|r| r.2 > 0).count() as u32,
            ties: run.iter().filter(|r| r.2 == 0).count() as u32,
            median_gap_secs: median_gap,
            fast,
        });
    }
    let mut per_net_accounts: Vec<Vec<AccountLead>> = vec![Vec::new(); networks.len()];
    for (s, &(account, net)) in members.iter().enumerate() {
        let t = &tallies[s];
        let n = t.led + t.followed + t.tied;
        if n == 0 {
            continue;
        }
        let score = (t.led as f64 - t.followed as f64) / n as f64;
        let p = sign_test(t.led, t.followed);
        let role = if p <= ROLE_P && t.led > t.followed {
            LeadRole::Leader
        } else if p <= ROLE_P && t.followed > t.led {
            LeadRole::Follower
        } else {
            LeadRole::Undetermined
        };
        per_net_accounts[net as usize].push(AccountLead {
            account: corpus.account_key(account).to_owned(),
            led: t.led,
            followed: t.followed,
            tied: t.tied,
            leader_score: score,
            sign_test_p: p,
            median_lag_secs: median_lag[s],
            role,
            fast: fast_slot[s],
        });
    }
    for (n, net) in networks.iter_mut().enumerate() {
        let mut accounts = std::mem::take(&mut per_net_accounts[n]);
        accounts.sort_by(|x, y| {
            y.leader_score
                .total_cmp(&x.leader_score)
                .then(x.sign_test_p.total_cmp(&y.sign_test_p))
                .then_with(|| x.account.cmp(&y.account))
        });
        let mut edges = std::mem::take(&mut per_net_edges[n]);
        edges.sort_by(|x, y| (&x.a, &x.b).cmp(&(&y.a, &y.b)));
        net.leadership = Leadership {
            compared_items: compared[n],
            median_lag_secs: median(&per_net_gaps[n]),
            leaders: accounts
                .iter()
                .filter(|a| a.role == LeadRole::Leader)
                .map(|a| a.account.clone())
                .collect(),
            fast: FastSubnetwork {
                threshold_secs: params.fast_lag_secs,
                accounts: accounts.iter().filter(|a| a.fast).map(|a| a.account.clone()).collect(),
                edges: fast_edges[n],
            },
            accounts,
            edges,
        };
    }
}

fn slot(slot_of: &[u32], account: u32) -> u32 {
    slot_of.get(account as usize).copied().unwrap_or(NONE)
}

/// Classes each member of one item's group (sorted by time) as leading, following or
/// tied with the members within the window of it, and records its lag behind the first
/// of them.
fn compare_members(
    group: &[(i64, u32)],
    window: i64,
    slot_of: &[u32],
    tallies: &mut [Tally],
    lags: &mut Vec<(u32, u32)>,
) {
    for &(t, account) in group {
        let lo = group.partition_point(|x| x.0 < t.saturating_sub(window));
        let same_lo = group.partition_point(|x| x.0 < t);
        let same_hi = group.partition_point(|x| x.0 <= t);
        let hi = group.partition_point(|x| x.0 <= t.saturating_add(window));
        let before = same_lo - lo;
        let after = hi - same_hi;
        let same = same_hi - same_lo - 1;
        if before + after + same == 0 {
            continue;
        }
        let s = slot(slot_of, account) as usize;
        let tally = &mut tallies[s];
        match after.cmp(&before) {
            std::cmp::Ordering::Greater => tally.led += 1,
            std::cmp::Ordering::Less => tally.followed += 1,
            std::cmp::Ordering::Equal => tally.tied += 1,
        }
        let lag = (t - group[lo].0).clamp(0, u32::MAX as i64) as u32;
        lags.push((s as u32, lag));
    }
}

/// Records, for each tie between two members of one item's group within the window,
/// which of the two was first and the gap.
fn compare_ties(
    group: &[(i64, u32)],
    window: i64,
    edge_of: &FxHashMap<(u32, u32), u32>,
    gaps: &mut Vec<(u32, u32, i8)>,
) {
    for (x, &(tx, ax)) in group.iter().enumerate() {
        for &(ty, ay) in &group[x + 1..] {
            if ty - tx > window {
                break;
            }
            let key = (ax.min(ay), ax.max(ay));
            if let Some(&e) = edge_of.get(&key) {
                // Negative: the lower-numbered account (`a` of the tie) acted first.
                let sign = if ty == tx {
                    0
                } else if ax == key.0 {
                    -1
                } else {
                    1
                };
                gaps.push((e, (ty - tx).clamp(0, u32::MAX as i64) as u32, sign));
            }
        }
    }
}

/// The median of `values` (the mean of the two middle ones for an even count).
fn median(values: &[u32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    let (_, &mut upper, _) = v.select_nth_unstable(mid);
    if v.len() % 2 == 1 {
        return Some(upper as f64);
    }
    let lower = v[..mid].iter().copied().max().unwrap_or(upper);
    Some((lower as f64 + upper as f64) / 2.0)
}

/// Two-sided sign test: the chance that `led + followed` fair coin tosses split at least
/// as unevenly as `led` against `followed`.
pub(crate) fn sign_test(led: u32, followed: u32) -> f64 {
    let n = (led + followed) as u64;
    if n == 0 {
        return 1.0;
    }
    let k = led.max(followed) as u64;
    // P(X ≥ k) for X ~ Binomial(n, 1/2), summed in log space from the pmf's recurrence.
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_pmf = ln_half_n; // pmf(0)
    for i in 1..=k {
        ln_pmf += ((n - i + 1) as f64).ln() - (i as f64).ln();
    }
    let mut tail = 0.0;
    let mut term = ln_pmf;
    for i in k..=n {
        tail += term.exp();
        if i < n {
            term += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
        }
    }
    (2.0 * tail).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_test_matches_the_binomial_tail() {
        // 10 of 10 one way: 2 × 2⁻¹⁰.
        assert!((sign_test(10, 0) - 2.0 / 1024.0).abs() < 1e-12);
        assert!((sign_test(0, 10) - 2.0 / 1024.0).abs() < 1e-12);
        // 5 and 5: as even as can be.
        assert_eq!(sign_test(5, 5), 1.0);
        // 8 of 10: 2 × (45 + 10 + 1) / 1024.
        assert!((sign_test(8, 2) - 2.0 * 56.0 / 1024.0).abs() < 1e-12);
        assert_eq!(sign_test(0, 0), 1.0);
        // Large counts stay finite and tiny.
        assert!(sign_test(3000, 100) < 1e-100);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7]), Some(7.0));
        assert_eq!(median(&[9, 1, 5]), Some(5.0));
        assert_eq!(median(&[10, 1, 4, 6]), Some(5.0));
    }
}
