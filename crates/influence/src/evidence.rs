//! Account-level evidence: an account is placed in a network only when its own
//! coordinated actions are strong, not merely because Leiden put it beside accounts that
//! are.
//!
//! Pair edges say that two accounts overlap more than a configuration null model allows.
//! On real organic traffic that is not enough: readers of one news site, users of one
//! app and the audience of one televised event overlap far more than a model of
//! independent accounts predicts, and an account with two posts can be tied by both.
//! So each member of a community is tested on its own actions:
//!
//! * An action of account `a` on item `i` is **coordinated** when another member of
//!   `a`'s community acted on `i` within the window.
//! * Each coordinated item counts by how little of a crowd acted on it: with `d_i`
//!   accounts acting on `i` in the whole input and `p_i` of them in some community, the
//!   item is worth `1 / (1 + d_i − p_i)`: 1 when only grouped accounts acted on it, close
//!   to 0 when it is a viral post, a trending tag or a headline that thousands shared
//!   and the community is a few of them. (Members of other communities are not counted
//!   as the crowd: an operation whose ties are sparse is often split in several.) The
//!   account's **evidence** is the sum over its distinct coordinated items.
//! * **Benign patterns** are weaker still: share-button headlines and app templates
//!   (the same text with a link, posted once each by many accounts) and event hashtags
//!   (a tag set many accounts used once each, in one burst) are worth `1 / (d_i − 1)`,
//!   what a viral post is worth to any one of its sharers, whoever the community holds:
//!   readers of one site repeating its share button count only if they repeat it
//!   together across many items. An account that used at least ten distinct items of
//!   these patterns (other than share buttons of a named outlet, judged by the outlet's
//!   reading below) together with fellow members is repeating a pattern, not attending
//!   events, and they count as ordinary items: a hashtag game that launches a tag of its
//!   own at each push looks like a televised event's audience, push by push.
//! * **Readers of one site**: an account's coordinated links to one site (the link's
//!   host; shorteners are no site) are left out when its links to the site times the
//!   chance that another member linked to any one of the site's pages explain them, as
//!   share buttons of a named outlet are (see [`site_explains`]), provided the site has
//!   readers outside every network: the pages of one town share most of its paper's
//!   stories with each other, hours after they appear, while a site only the network
//!   links to is its own outlet, and posting it together is amplification.
//! * The account must reach [`ScanParams::min_account_evidence`] (default 3: the
//!   equivalent of three actions that no ungrouped account shares) on at least
//!   [`ScanParams::min_account_days`] distinct UTC days (default 3: coordination repeated,
//!   not one burst or one evening), unless its evidence is three times the minimum (dozens
//!   of items no crowd shares are not one evening's event). An account that acted with
//!   fellow members on at least 30 distinct items needs only half the minimum evidence:
//!   that is repetition, even on items a crowd also shared (an operation's posts that
//!   real users amplified).
//!
//! Members that fail are removed from their community (they are listed, not silently
//! dropped: [`Pruned`]), and a community left below the minimum network size is
//! dissolved; the test is applied again to the networks as they stand until no member
//! fails, so that no placed account rests on members that were removed. The crowd is
//! fixed by Leiden's partition: accounts it grouped nowhere and that no kept tie (other
//! than synchronised minutes) binds. Synchronised minutes are not items and give no account evidence on their own (activity in the
//! same minutes is the weakest tie, and a detector of it alone accuses every busy
//! account on a news night).
//!
//! The false-discovery control stays at the edges (Benjamini–Hochberg over the pair
//! tests, see [`crate::nullmodel`]); this stage only removes accounts, so it cannot add
//! a false edge, and it bounds what any one placed account rests on.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::corpus::{Action, Corpus};
use crate::detect::{BehaviourEdges, Community};
use crate::params::{Behaviour, ScanParams};

/// What one account's placement rests on. An action is coordinated when a fellow
/// member acted on the same item within the window; each coordinated item is worth
/// `1 / (1 + d − p)`, with `d` the accounts that acted on it and `p` those of them in
/// some community (benign patterns such as share buttons and event hashtags less), and
/// an account is placed only when that sum reaches [`ScanParams::min_account_evidence`]
/// on at least [`ScanParams::min_account_days`] distinct UTC days (fewer days suffice
/// for three times the minimum evidence).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AccountEvidence {
    /// Sum over the account's distinct coordinated items of their weight (see the module doc).
    pub evidence: f64,
    /// Distinct items the account acted on together with a fellow member.
    pub items: u32,
    /// Distinct UTC days of those coordinated actions.
    pub days: u32,
    /// Of `items`, those that matched a benign pattern (share button, app template, event hashtag).
    pub benign_items: u32,
    /// Share-button items left out because how much the account and its fellow members
    /// read one site explains them (a Poisson count within about two standard deviations
    /// of what their reading of the site gives by chance).
    pub site_explained_items: u32,
}

/// Why an account was taken out of its community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PruneReason {
    /// Its evidence was below the minimum.
    WeakEvidence,
    /// Its coordinated actions fell on fewer distinct days than the minimum.
    SingleBurst,
    /// Its community fell below the minimum network size once weak members were removed.
    CommunityTooSmall,
}

/// An account that Leiden placed and the account-level test removed.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Pruned {
    #[serde(skip)]
    pub(crate) account: u32,
    /// Why it was removed.
    pub reason: PruneReason,
    #[serde(flatten)]
    /// What its placement would have rested on.
    pub evidence: AccountEvidence,
}

/// Per-community totals, for the benign explanations a network reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CommunityEvidence {
    /// Coordinated (account, item) pairs of members.
    pub coordinated_actions: u64,
    /// Of those, on items most of whose actors are in no community (crowd items).
    pub crowd_actions: u64,
    /// Of those, on items matching a benign pattern.
    pub share_button_actions: u64,
    pub event_hashtag_actions: u64,
    /// Share-button actions that the members' reading of one site explains, left out.
    pub site_explained_actions: u64,
    /// Co-link actions on links to a site (a host other than a link shortener).
    pub site_link_actions: u64,
    /// Of those, the ones the members' reading of the site explains, left out.
    pub site_link_explained_actions: u64,
    /// Distinct UTC days with a coordinated action.
    pub days: u32,
    /// The weakest member's evidence and days.
    pub weakest_evidence: f64,
    pub fewest_days: u32,
}

/// The benign pattern an item matches, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Benign {
    None,
    /// Text with a link, posted once each by most of its accounts: a share button or an
    /// app's template.
    ShareButton,
    /// A hashtag set used once each by most of its accounts, within one window.
    EventHashtag,
}

/// Evidence this many times the minimum places an account even on fewer days: the day
/// rule is there for a burst of a few items (one evening's event), and dozens of items no
/// crowd shares are not that.
const BURST_OVERRIDE: f64 = 3.0;

/// Pruning stops after this many rounds even if a round still removed someone (each round
/// only removes accounts, so it converges; the bound keeps a pathological case linear).
const MAX_PRUNE_ROUNDS: u32 = 8;

/// An account that acted together with fellow members on this many distinct items is
/// repeating, not coinciding, even when the items were popular (an operation's posts
/// that real users also shared): half the minimum evidence places it.
const REPEATED_ITEMS: u32 = 30;

/// An account that acted together with fellow members on this many distinct items of a
/// benign pattern (event hashtags; share-button and template texts of no named outlet)
/// is repeating the pattern, not attending events: those items then count as ordinary
/// items do. Viewers of one season's televised events share a handful.
const BENIGN_REPEATED_ITEMS: u32 = 10;

/// Smallest crowd that makes a benign pattern: two or three accounts posting the same
/// headline is ordinary copying and is judged like any other item.
const BENIGN_MIN_ACCOUNTS: usize = 4;
/// Share of an item's accounts that acted on it exactly once for the crowd pattern.
const BENIGN_ONCE_SHARE: f64 = 0.8;

/// The number of distinct accounts in `accounts`, counted in `scratch`.
fn distinct(scratch: &mut Vec<u32>, accounts: impl Iterator<Item = u32>) -> usize {
    scratch.clear();
    scratch.extend(accounts);
    scratch.sort_unstable();
    scratch.dedup();
    scratch.len()
}

/// Whether `observed` share-button items shared with fellow members are no more than the
/// members' reading of one site gives by chance: with `expected` the account's items of
/// the site times the chance that another member posted any one of them (from each
/// member's share of the site's items), a Poisson count within two standard deviations
/// (plus one) of it. Two heavy readers of one site share many of its headlines; a team
/// pushing a few of a site's headlines shares far more of them than its reading explains.
pub fn site_explains(observed: f64, expected: f64) -> bool {
    observed <= expected + 2.0 * expected.sqrt() + 1.0
}

/// The outlet a share-button text names after its link: a trailing `#Outlet` or `via
/// @outlet` (lower-cased, hashed), the way share buttons sign what they post.
fn share_source(label: &str) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let words: Vec<&str> = label.split_whitespace().collect();
    let last_link = words.iter().rposition(|w| looks_like_link_text(w))?;
    let tail = &words[last_link + 1..];
    let source = tail
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case("via") && w[1].starts_with('@'))
        .map(|w| w[1])
        .or_else(|| tail.iter().rev().find(|w| w.starts_with('#') || w.starts_with('@')).copied())
        .or_else(|| {
            // "via @outlet headline link" and "#Outlet: headline link" put the source first.
            words[..last_link].iter().find(|w| w.starts_with('@') || w.starts_with('#')).copied()
        })?;
    let name = source.trim_start_matches(['#', '@']).trim_end_matches(|c: char| !c.is_alphanumeric());
    if name.is_empty() {
        return None;
    }
    let mut h = rustc_hash::FxHasher::default();
    name.to_lowercase().hash(&mut h);
    Some(h.finish())
}

/// The site a shared link belongs to: its host as link normalisation gives it (lower-cased,
/// without `www.`), hashed. Shorteners are no site (their links lead anywhere, and `t.co`
/// wraps every link on Twitter), nor is a label that is not a link. `buf` is scratch.
pub(crate) fn link_site(label: &str, buf: &mut String) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    buf.clear();
    let (_, host) = crate::normalize::push_normalized_url(label, buf);
    let host = &buf[host?];
    if !host.contains('.') || crate::normalize::SHORTENERS.contains(&host) {
        return None;
    }
    let mut h = rustc_hash::FxHasher::default();
    ("link", host).hash(&mut h);
    Some(h.finish())
}

/// Fewest accounts outside every network that must link to a site for the members'
/// reading of it to explain their shared links: with fewer, the site's audience is the
/// network, and the network is not explained by reading it.
const OUTLET_MIN_READERS: u32 = 3;

/// What kind of site reading an item is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SiteKind {
    /// A share-button text naming its outlet.
    ShareButton,
    /// A link to one host.
    Link,
}

fn looks_like_link_text(label: &str) -> bool {
    label.contains("http://") || label.contains("https://") || label.contains("t.co/")
}

/// Result of [`prune`].
pub struct Placement {
    pub communities: Vec<Community>,
    /// Evidence of every placed account.
    pub evidence: FxHashMap<u32, AccountEvidence>,
    /// Per community (same order as `communities`).
    pub per_community: Vec<CommunityEvidence>,
    pub pruned: Vec<Pruned>,
}

/// Applies the account-level test to Leiden's communities, round after round until no
/// member fails: an account whose evidence rested on members removed in one round is
/// tested again against the network as it stands, so that no placed account shows less
/// than the minimum. The crowd stays what Leiden's partition left ungrouped (and untied).
pub fn prune(
    corpus: &Corpus,
    behaviours: &[BehaviourEdges],
    communities: Vec<Community>,
    params: &ScanParams,
) -> Placement {
    let n_accounts = corpus.accounts.len();
    // The crowd is what Leiden left ungrouped, in the test and in the figures reported: an
    // operation's weak members, removed here, are not the independent crowd that makes an
    // item ordinary.
    let mut grouped = vec![false; n_accounts];
    for c in &communities {
        for &m in &c.members {
            if let Some(slot) = grouped.get_mut(m as usize) {
                *slot = true;
            }
        }
    }
    // An account with a kept tie of its own (other than synchronised minutes) is no
    // independent crowd either: an operation whose members Leiden left out of every
    // community still retweets its leaders and links its own sites.
    let mut crowd: Vec<bool> = grouped.iter().map(|&g| !g).collect();
    for be in behaviours {
        if be.behaviour == Behaviour::Sync {
            continue;
        }
        for e in &be.pairs {
            for x in [e.a, e.b] {
                if let Some(slot) = crowd.get_mut(x as usize) {
                    *slot = false;
                }
            }
        }
    }
    let mut pruned = Vec::new();
    let mut current = communities;
    // Pruned to a fixed point: an account whose evidence rested on members removed in one
    // round is tested again against the network as it stands, so that no placed account
    // shows less evidence than the minimum. The round that removes no one measured the
    // networks as placed, and its figures are the ones reported.
    for _ in 0..MAX_PRUNE_ROUNDS {
        current.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.members.cmp(&b.members)));
        let (evidence, per_community) = measure(corpus, behaviours, &current, &grouped, &crowd, params);
        let before = pruned.len();
        let mut kept: Vec<Community> = Vec::with_capacity(current.len());
        for c in current {
            let mut members = Vec::with_capacity(c.members.len());
            for &m in &c.members {
                let e = evidence.get(&m).copied().unwrap_or_default();
                match failed_test(&e, params) {
                    Some(reason) => pruned.push(Pruned { account: m, reason, evidence: e }),
                    None => members.push(m),
                }
            }
            if members.len() >= params.min_network_size {
                kept.push(Community { members });
            } else {
                for m in members {
                    let e = evidence.get(&m).copied().unwrap_or_default();
                    pruned.push(Pruned { account: m, reason: PruneReason::CommunityTooSmall, evidence: e });
                }
            }
        }
        current = kept;
        if pruned.len() == before {
            pruned.sort_by_key(|p| p.account);
            return Placement { communities: current, evidence, per_community, pruned };
        }
    }
    current.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.members.cmp(&b.members)));
    pruned.sort_by_key(|p| p.account);
    let (evidence, per_community) = measure(corpus, behaviours, &current, &grouped, &crowd, params);
    Placement { communities: current, evidence, per_community, pruned }
}

/// Which part of the account-level test `e` fails, if any.
fn failed_test(e: &AccountEvidence, params: &ScanParams) -> Option<PruneReason> {
    let repeated = e.items >= REPEATED_ITEMS && e.evidence >= params.min_account_evidence / 2.0;
    if e.evidence < params.min_account_evidence && !repeated {
        Some(PruneReason::WeakEvidence)
    } else if e.days < params.min_account_days && e.evidence < BURST_OVERRIDE * params.min_account_evidence {
        Some(PruneReason::SingleBurst)
    } else {
        None
    }
}

/// One pass over every behaviour's repeated actions: each member's evidence and each
/// community's totals.
fn measure(
    corpus: &Corpus,
    behaviours: &[BehaviourEdges],
    communities: &[Community],
    grouped: &[bool],
    crowd: &[bool],
    params: &ScanParams,
) -> (FxHashMap<u32, AccountEvidence>, Vec<CommunityEvidence>) {
    let n_accounts = grouped.len();
    const NONE: u32 = u32::MAX;
    let mut community_of = vec![NONE; n_accounts];
    for (i, c) in communities.iter().enumerate() {
        for &m in &c.members {
            if let Some(slot) = community_of.get_mut(m as usize) {
                *slot = i as u32;
            }
        }
    }
    let mut evidence: FxHashMap<u32, AccountEvidence> = FxHashMap::default();
    let mut per: Vec<CommunityEvidence> = vec![CommunityEvidence::default(); communities.len()];
    // (account, day) and (community, day) of coordinated actions, counted at the end.
    let mut account_days: Vec<(u32, i64)> = Vec::new();
    let mut community_days: Vec<(u32, i64)> = Vec::new();
    let window = params.window_secs;

    let mut accounts: Vec<u32> = Vec::new();
    let mut members: Vec<(u32, i64, u32)> = Vec::new();
    let mut coordinated: Vec<u32> = Vec::new();
    let mut scratch: Vec<u32> = Vec::new();
    let mut url_buf = String::new();
    // Share-button items of a known site: (site, item, account) of every post, the site's
    // distinct items, and the members' coordinated ones (account, site, weight), which
    // count only if the site does not explain them.
    let mut site_posters: Vec<(u64, u64, u32)> = Vec::new();
    let mut site_items: FxHashMap<u64, u32> = FxHashMap::default();
    let mut site_coordinated: Vec<(u32, u64, f64, SiteKind)> = Vec::new();
    // Per account, its benign items of no named site: (their weight as benign items, as
    // ordinary items, how many).
    let mut benign_of: FxHashMap<u32, (f64, f64, u32)> = FxHashMap::default();
    for be in behaviours {
        if be.behaviour == Behaviour::Sync || be.actions.is_empty() {
            continue;
        }
        let actions = be.actions_by_item();
        for run in actions.chunk_by(|x, y| x.item == y.item) {
            // Every share-button text of a named outlet counts towards how much of the
            // outlet each account posted, grouped or not, shared or not.
            let source = match be.behaviour {
                Behaviour::CoTweet => corpus
                    .labels
                    .get(&run[0].item)
                    .filter(|l| looks_like_link_text(l))
                    .and_then(|l| share_source(l)),
                // A link's site is its host: readers of one site share its pages.
                Behaviour::CoLink => corpus.labels.get(&run[0].item).and_then(|l| link_site(l, &mut url_buf)),
                _ => None,
            };
            if let Some(source) = source {
                *site_items.entry(source).or_insert(0) += 1;
                site_posters.extend(run.iter().map(|a| (source, a.item, a.account)));
            }
            members.clear();
            members.extend(run.iter().filter_map(|a| {
                let c = *community_of.get(a.account as usize)?;
                (c != NONE).then_some((c, a.time, a.account))
            }));
            if members.len() < 2 {
                continue;
            }
            accounts.clear();
            accounts.extend(run.iter().map(|a| a.account));
            accounts.sort_unstable();
            let d = accounts.chunk_by(|x, y| x == y).count();
            let once = accounts.chunk_by(|x, y| x == y).filter(|g| g.len() == 1).count();
            let benign = classify(be.behaviour, run, d, once, window, corpus);
            let site = match be.behaviour {
                Behaviour::CoLink => source.map(|s| (s, SiteKind::Link)),
                _ if benign == Benign::ShareButton => source.map(|s| (s, SiteKind::ShareButton)),
                _ => None,
            };
            members.sort_unstable();
            let crowd_on_item = distinct(
                &mut scratch,
                run.iter().map(|a| a.account).filter(|&a| crowd.get(a as usize).copied().unwrap_or(false)),
            );
            let placed_on_item = d - crowd_on_item;
            for group in members.chunk_by(|x, y| x.0 == y.0) {
                let community = group[0].0;
                if distinct(&mut scratch, group.iter().map(|x| x.2)) < 2 {
                    continue;
                }
                coordinated.clear();
                // `group` is sorted by time: the nearest actions of other members are
                // found by walking out from each action while within the window.
                for (k, &(_, t, acc)) in group.iter().enumerate() {
                    let near = group[..k].iter().rev().take_while(|x| t - x.1 <= window).any(|x| x.2 != acc)
                        || group[k + 1..].iter().take_while(|x| x.1 - t <= window).any(|x| x.2 != acc);
                    if near {
                        coordinated.push(acc);
                        account_days.push((acc, t.div_euclid(86_400)));
                        community_days.push((community, t.div_euclid(86_400)));
                    }
                }
                coordinated.sort_unstable();
                coordinated.dedup();
                // The crowd is every account on the item that no community holds and that no
                // kept tie binds: members of other communities are not a crowd but likely
                // the same operation, which community detection often splits when its ties
                // are sparse.
                let outside = crowd_on_item;
                // What the item is worth as an ordinary item, and what it is worth here.
                let as_item = 1.0 / (1.0 + outside as f64);
                let weight = match benign {
                    Benign::None => as_item,
                    _ => 1.0 / (d.saturating_sub(1).max(1)) as f64,
                };
                let c = &mut per[community as usize];
                for &acc in &coordinated {
                    c.coordinated_actions += 1;
                    if let Some((site, kind)) = site {
                        match kind {
                            SiteKind::ShareButton => c.share_button_actions += 1,
                            SiteKind::Link => c.site_link_actions += 1,
                        }
                        site_coordinated.push((acc, site, weight, kind));
                        continue;
                    }
                    let e = evidence.entry(acc).or_default();
                    e.items += 1;
                    if outside > placed_on_item {
                        c.crowd_actions += 1;
                    }
                    match benign {
                        Benign::None => e.evidence += weight,
                        Benign::ShareButton | Benign::EventHashtag => {
                            e.benign_items += 1;
                            if benign == Benign::ShareButton {
                                c.share_button_actions += 1;
                            } else {
                                c.event_hashtag_actions += 1;
                            }
                            // Weighed once every benign item of the account is known.
                            let b = benign_of.entry(acc).or_default();
                            b.0 += weight;
                            b.1 += as_item;
                            b.2 += 1;
                        }
                    }
                }
            }
        }
    }
    // A benign pattern repeated with fellow members on many distinct items is a team's
    // habit, not an audience's: a hashtag game launches a tag of its own at each push and
    // its members use each once, in a burst, as viewers of a televised event do; viewers
    // share a handful of events, a team dozens of pushes.
    for (acc, (as_benign, as_item, count)) in benign_of {
        let e = evidence.entry(acc).or_default();
        e.evidence += if count >= BENIGN_REPEATED_ITEMS { as_item } else { as_benign };
    }
    // How much of each site every community's members posted: Σ ln(1 − k_b/N_s).
    // An account posting one headline twice has still posted one of the outlet's items.
    let mut site_volume: FxHashMap<(u64, u32), u32> = FxHashMap::default();
    site_posters.sort_unstable();
    site_posters.dedup();
    for &(site, _, acc) in &site_posters {
        *site_volume.entry((site, acc)).or_insert(0) += 1;
    }
    let share = |site: u64, acc: u32| {
        let n = site_items.get(&site).copied().unwrap_or(1).max(1) as f64;
        (site_volume.get(&(site, acc)).copied().unwrap_or(0) as f64 / n).min(1.0 - 1e-9)
    };
    let mut missed_by_all: FxHashMap<(u32, u64), f64> = FxHashMap::default();
    for &(site, acc) in site_volume.keys() {
        let c = community_of.get(acc as usize).copied().unwrap_or(NONE);
        if c != NONE {
            *missed_by_all.entry((c, site)).or_insert(0.0) += (1.0 - share(site, acc)).ln();
        }
    }
    // A site has readers when accounts that Leiden grouped nowhere link to it too. A site
    // only a network links to is its own outlet, and posting its pages together is what
    // amplification is.
    let mut site_readers: FxHashMap<u64, u32> = FxHashMap::default();
    for &(site, acc) in site_volume.keys() {
        if crowd.get(acc as usize).copied().unwrap_or(false) {
            *site_readers.entry(site).or_insert(0) += 1;
        }
    }
    site_coordinated.sort_unstable_by_key(|x| (x.0, x.1));
    for run in site_coordinated.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        let (acc, site) = (run[0].0, run[0].1);
        let community = community_of[acc as usize];
        let own = share(site, acc);
        // Chance that another member posted a given item of the site, from their volumes.
        let others = missed_by_all.get(&(community, site)).copied().unwrap_or(0.0) - (1.0 - own).ln();
        let covered = 1.0 - others.exp();
        let expected = site_volume.get(&(site, acc)).copied().unwrap_or(0) as f64 * covered;
        let e = evidence.entry(acc).or_default();
        let kind = run[0].3;
        let has_readers = kind == SiteKind::ShareButton
            || site_readers.get(&site).copied().unwrap_or(0) >= OUTLET_MIN_READERS;
        if has_readers && site_explains(run.len() as f64, expected) {
            e.site_explained_items += run.len() as u32;
            match kind {
                SiteKind::ShareButton => per[community as usize].site_explained_actions += run.len() as u64,
                SiteKind::Link => per[community as usize].site_link_explained_actions += run.len() as u64,
            }
        } else {
            e.evidence += run.iter().map(|x| x.2).sum::<f64>();
            e.items += run.len() as u32;
            if kind == SiteKind::ShareButton {
                e.benign_items += run.len() as u32;
            }
        }
    }
    account_days.sort_unstable();
    account_days.dedup();
    for run in account_days.chunk_by(|x, y| x.0 == y.0) {
        if let Some(e) = evidence.get_mut(&run[0].0) {
            e.days = run.len() as u32;
        }
    }
    community_days.sort_unstable();
    community_days.dedup();
    for run in community_days.chunk_by(|x, y| x.0 == y.0) {
        per[run[0].0 as usize].days = run.len() as u32;
    }
    for (i, c) in communities.iter().enumerate() {
        let mut weakest = f64::INFINITY;
        let mut fewest = u32::MAX;
        for m in &c.members {
            let e = evidence.get(m).copied().unwrap_or_default();
            weakest = weakest.min(e.evidence);
            fewest = fewest.min(e.days);
        }
        per[i].weakest_evidence = if weakest.is_finite() { weakest } else { 0.0 };
        per[i].fewest_days = if fewest == u32::MAX { 0 } else { fewest };
    }
    (evidence, per)
}

/// Whether an item is a share-button headline or app template (co_tweet) or an event
/// hashtag (co_hashtag, co_tag): many accounts, most of them acting on it once.
fn classify(
    behaviour: Behaviour,
    run: &[Action],
    d: usize,
    once: usize,
    window: i64,
    corpus: &Corpus,
) -> Benign {
    if d < BENIGN_MIN_ACCOUNTS || (once as f64) < BENIGN_ONCE_SHARE * d as f64 {
        return Benign::None;
    }
    match behaviour {
        Behaviour::CoTweet => {
            let label = corpus.labels.get(&run[0].item).map_or("", |s| &**s);
            if looks_like_link_text(label) { Benign::ShareButton } else { Benign::None }
        }
        Behaviour::CoHashtag | Behaviour::CoTag => {
            let (lo, hi) =
                run.iter().fold((i64::MAX, i64::MIN), |(lo, hi), a| (lo.min(a.time), hi.max(a.time)));
            if hi - lo <= window { Benign::EventHashtag } else { Benign::None }
        }
        _ => Benign::None,
    }
}
