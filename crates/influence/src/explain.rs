//! Explain: turn communities into ranked networks with scores, evidence and
//! attribution signals, and networks into findings.

use chrono::{DateTime, TimeZone, Utc};
use rustc_hash::FxHashMap;
use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique, TimeSpan};
use serde::Serialize;

use crate::attribution::{Attribution, StateMediaList, attribute};
use crate::corpus::{Corpus, SamplePost};
use crate::detect::Detection;
use crate::evidence::{AccountEvidence, CommunityEvidence};
use crate::params::{Behaviour, ScanParams};

#[derive(Debug, Clone, Serialize)]
/// A member of a network.
pub struct NetworkAccount {
    /// The account's key in the input.
    pub account: String,
    /// Its handle, when known.
    pub handle: Option<String>,
    /// The account's share of the network's ties: its within-network weight divided by
    /// the largest member's, 0..1.
    pub score: f64,
    /// Its posts in the input.
    pub posts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The category the input gives it (the IRA file's `account_category`), carried to exports only.
    pub category: Option<String>,
    /// What the account's placement rests on (see [`AccountEvidence`]).
    pub evidence: AccountEvidence,
}

/// A benign explanation of a cluster that was checked, and what the check found.
#[derive(Debug, Clone, Serialize)]
pub struct BenignCheck {
    /// `thin_evidence`, `crowd_items`, `share_button_or_template`, `event_hashtag`, `single_burst`.
    pub explanation: &'static str,
    /// True when the network's evidence does not rest on it.
    pub ruled_out: bool,
    /// Why, in figures an analyst can check against the network's items and members.
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
/// One behaviour's share in tying a network together.
pub struct BehaviourSummary {
    /// The behaviour.
    pub behaviour: Behaviour,
    /// Kept pairs of this behaviour inside the network.
    pub pairs: usize,
    /// Sum of shared-item counts over those pairs.
    pub shared: u64,
    /// The smallest Poisson tail probability among them, as log10.
    pub strongest_log10_p: f64,
}

#[derive(Debug, Clone, Serialize)]
/// An item members acted on together.
pub struct SharedItem {
    /// The behaviour it belongs to.
    pub behaviour: Behaviour,
    /// The retweeted text, the link, the hashtag set or the text.
    pub item: String,
    /// Members who acted on it.
    pub accounts: usize,
    /// Members' actions on it.
    pub actions: usize,
    /// The first of them.
    pub first: DateTime<Utc>,
    /// The last of them.
    pub last: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
/// A member's post kept as evidence.
pub struct SampleEvidence {
    /// The member's account key.
    pub account: String,
    #[serde(flatten)]
    /// The post.
    pub post: SamplePost,
}

#[derive(Debug, Clone, Serialize)]
/// A coordinated network: its members, what tied them, the evidence and the attribution signals.
pub struct Network {
    /// `N1`, `N2`, ... in rank order.
    pub id: String,
    /// Its place in the ranking, 1 first.
    pub rank: usize,
    /// Ranking score, 0..1: a weighted mean of how strongly and densely members are tied
    /// and in how many independent ways, scaled by a size factor.
    pub score: f64,
    /// How sure the ranking is that the network is coordinated, 0..1.
    pub confidence: f64,
    /// Members.
    pub size: usize,
    /// Share of member pairs tied by at least one kept behaviour edge.
    pub density: f64,
    /// Member pairs tied by a kept edge.
    pub internal_pairs: usize,
    /// Sum of the kept edges' weights among members.
    pub internal_weight: f64,
    /// What tied the members, behaviour by behaviour.
    pub behaviours: Vec<BehaviourSummary>,
    /// The members' first coordinated action.
    pub first_activity: Option<DateTime<Utc>>,
    /// The members' last coordinated action.
    pub last_activity: Option<DateTime<Utc>>,
    /// The members, highest score first.
    pub accounts: Vec<NetworkAccount>,
    /// Items members acted on together, most shared first.
    pub shared_items: Vec<SharedItem>,
    /// Posts kept as evidence.
    pub sample_posts: Vec<SampleEvidence>,
    /// Who might run it: signals, never verdicts.
    pub attribution: Attribution,
    /// The benign explanations checked for this cluster and why each was ruled out.
    pub benign_explanations: Vec<BenignCheck>,
    /// Who acted first and who followed on the items members shared (see
    /// [`crate::Leadership`]).
    pub leadership: crate::lead::Leadership,
}

/// The score that ranks networks, in 0..1: a weighted mean of how strongly members are
/// tied (mean shared actions per tied pair, saturating), how densely (tied pairs over
/// all pairs) and in how many independent ways (behaviours present over behaviours
/// run), scaled by a size factor so that a ring of three ranks below a ring of thirty
/// with the same ties.
pub fn score_network(
    size: usize,
    density: f64,
    mean_pair_weight: f64,
    behaviours_present: usize,
    behaviours_run: usize,
) -> f64 {
    let strength = 1.0 - (-mean_pair_weight / 10.0).exp();
    let diversity = if behaviours_run == 0 { 0.0 } else { behaviours_present as f64 / behaviours_run as f64 };
    let size_factor = 1.0 - (-((size as f64) - 1.0) / 4.0).exp();
    ((0.4 * strength + 0.35 * density + 0.25 * diversity) * size_factor).clamp(0.0, 1.0)
}

/// Builds ranked networks from the detection.
pub fn explain(
    corpus: &Corpus,
    detection: &Detection,
    params: &ScanParams,
    state_media: &StateMediaList,
) -> Vec<Network> {
    let network_of = NetworkOf::new(corpus.accounts.len(), detection);
    let n = detection.communities.len();

    // Internal ties per network and per member.
    let mut strength: FxHashMap<u32, f64> = FxHashMap::default();
    let mut pairs_in = vec![0usize; n];
    let mut weight_in = vec![0f64; n];
    for &(a, b, w) in &detection.combined {
        if let (Some(na), Some(nb)) = (network_of.get(a), network_of.get(b))
            && na == nb
        {
            pairs_in[na as usize] += 1;
            weight_in[na as usize] += w;
            *strength.entry(a).or_insert(0.0) += w;
            *strength.entry(b).or_insert(0.0) += w;
        }
    }
    let mut summaries: Vec<Vec<BehaviourSummary>> = vec![Vec::new(); n];
    for be in &detection.behaviours {
        let mut per: Vec<(usize, u64, f64)> = vec![(0, 0, 0.0); n];
        for p in &be.pairs {
            if let (Some(na), Some(nb)) = (network_of.get(p.a), network_of.get(p.b))
                && na == nb
            {
                let s = &mut per[na as usize];
                s.0 += 1;
                s.1 += p.shared as u64;
                s.2 = s.2.min(p.log10_p);
            }
        }
        for (i, (pairs, shared, best)) in per.into_iter().enumerate() {
            if pairs > 0 {
                summaries[i].push(BehaviourSummary {
                    behaviour: be.behaviour,
                    pairs,
                    shared,
                    strongest_log10_p: best,
                });
            }
        }
    }
    let shared_items = shared_items_per_network(corpus, detection, &network_of, n);
    // The state-media entry of each link host, looked up once rather than per member.
    let host_media: Vec<_> = corpus.hosts.names.iter().map(|h| state_media.lookup(h)).collect();

    let mut networks: Vec<Network> = detection
        .communities
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let size = c.members.len();
            let possible = size * (size - 1) / 2;
            let density = if possible == 0 { 0.0 } else { pairs_in[i] as f64 / possible as f64 };
            let mean_w = if pairs_in[i] == 0 { 0.0 } else { weight_in[i] / pairs_in[i] as f64 };
            let score = score_network(size, density, mean_w, summaries[i].len(), params.behaviours.len());
            // Confidence grows with the number of independent significant ties per member.
            let confidence = 0.5 + 0.5 * (1.0 - (-(pairs_in[i] as f64) / size as f64).exp());
            let max_strength =
                c.members.iter().map(|m| strength.get(m).copied().unwrap_or(0.0)).fold(0.0, f64::max);
            let mut accounts: Vec<NetworkAccount> = c
                .members
                .iter()
                .map(|&m| {
                    let p = &corpus.accounts[m as usize];
                    let s = strength.get(&m).copied().unwrap_or(0.0);
                    NetworkAccount {
                        account: p.key.clone(),
                        handle: p.handle.clone(),
                        score: if max_strength > 0.0 { s / max_strength } else { 0.0 },
                        posts: p.posts,
                        category: p.category.clone(),
                        evidence: detection.evidence.get(&m).copied().unwrap_or_default(),
                    }
                })
                .collect();
            accounts.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.account.cmp(&b.account)));
            let profiles: Vec<_> = c.members.iter().map(|&m| &corpus.accounts[m as usize]).collect();
            let first_activity = profiles.iter().filter_map(|p| p.first).min();
            let last_activity = profiles.iter().filter_map(|p| p.last).max();
            let sample_posts = accounts
                .iter()
                .take(5)
                .filter_map(|a| {
                    let id = corpus.account_id(&a.account)?;
                    let post = corpus.accounts[id as usize].samples.first()?.clone();
                    Some(SampleEvidence { account: a.account.clone(), post })
                })
                .collect();
            let attribution = attribute(&profiles, &corpus.languages, &corpus.clients, &host_media);
            let mut behaviours = summaries[i].clone();
            behaviours.sort_by_key(|b| std::cmp::Reverse(b.shared));
            Network {
                id: String::new(),
                rank: 0,
                score,
                confidence,
                size,
                density,
                internal_pairs: pairs_in[i],
                internal_weight: weight_in[i],
                behaviours,
                first_activity,
                last_activity,
                accounts,
                shared_items: shared_items[i].clone(),
                sample_posts,
                attribution,
                benign_explanations: detection
                    .community_evidence
                    .get(i)
                    .map(|e| benign_checks(e, params))
                    .unwrap_or_default(),
                leadership: Default::default(),
            }
        })
        .collect();
    networks.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.size.cmp(&a.size))
            .then(a.accounts[0].account.cmp(&b.accounts[0].account))
    });
    for (i, net) in networks.iter_mut().enumerate() {
        net.rank = i + 1;
        net.id = format!("N{}", i + 1);
    }
    networks
}

/// The benign explanations checked for a network. A network is reported only when its
/// members passed the account-level test, so each check says why the pattern does not
/// explain the cluster, in the network's own figures.
pub fn benign_checks(e: &CommunityEvidence, params: &ScanParams) -> Vec<BenignCheck> {
    let total = e.coordinated_actions.max(1) as f64;
    let share = |x: u64| 100.0 * x as f64 / total;
    let mut checks = vec![
        BenignCheck {
            explanation: "thin_evidence",
            ruled_out: e.weakest_evidence >= params.min_account_evidence
                && e.fewest_days >= params.min_account_days,
            why: format!(
                "every member acted together with another member on items worth at least {:.1}                  crowd-weighted actions (minimum {:.1}) on at least {} distinct days (minimum {})",
                e.weakest_evidence, params.min_account_evidence, e.fewest_days, params.min_account_days
            ),
        },
        BenignCheck {
            explanation: "crowd_items",
            ruled_out: true,
            why: format!(
                "{:.0}% of the members' {} coordinated actions were on items that mostly ungrouped                  accounts acted on (viral posts, trending tags); each such item counts as a fraction of                  an action, by the size of its crowd, and members passed without them",
                share(e.crowd_actions),
                e.coordinated_actions
            ),
        },
        BenignCheck {
            explanation: "single_burst",
            ruled_out: e.days >= params.min_account_days,
            why: format!("the members acted together on {} distinct UTC days, not in one burst", e.days),
        },
    ];
    let benign = |n: u64, what: &str| {
        if n == 0 {
            format!("no coordinated action of the members was on {what}")
        } else {
            format!(
                "{:.0}% of the coordinated actions were on {what}; those count only as a viral post                  would (one over the number of its accounts), so the members' evidence rests on                  repeating them together across many items or on other items",
                share(n)
            )
        }
    };
    let mut why = benign(
        e.share_button_actions,
        "share-button or app-template text (the same text with a link, posted once each by many accounts)",
    );
    if e.site_explained_actions > 0 {
        why.push_str(&format!(
            "; {} of them were left out because how much the members read the same site or app explains them",
            e.site_explained_actions
        ));
    }
    checks.push(BenignCheck { explanation: "share_button_or_template", ruled_out: true, why });
    checks.push(BenignCheck {
        explanation: "readers_of_one_site",
        ruled_out: true,
        why: if e.site_link_actions == 0 {
            "no coordinated action of the members was a link to a site (other than a link shortener)".to_owned()
        } else {
            format!(
                "{:.0}% of the coordinated actions were links to a site; {} of them were left out because                  how much of each site the members share explains them (heavy readers of one site share                  many of its pages), and members passed on the rest",
                share(e.site_link_actions),
                e.site_link_explained_actions
            )
        },
    });
    checks.push(BenignCheck {
        explanation: "event_hashtag",
        ruled_out: true,
        why: benign(
            e.event_hashtag_actions,
            "event hashtags (a tag set used once each by many accounts in one burst)",
        ),
    });
    checks
}

/// The network of each account, by account id.
struct NetworkOf(Vec<Option<u32>>);

impl NetworkOf {
    fn new(n_accounts: usize, detection: &Detection) -> NetworkOf {
        let mut of = vec![None; n_accounts];
        for (i, c) in detection.communities.iter().enumerate() {
            for &m in &c.members {
                if let Some(slot) = of.get_mut(m as usize) {
                    *slot = Some(i as u32);
                }
            }
        }
        NetworkOf(of)
    }

    fn get(&self, account: u32) -> Option<u32> {
        self.0.get(account as usize).copied().flatten()
    }
}

/// The items most members of each network acted on, per behaviour (top five each).
fn shared_items_per_network(
    corpus: &Corpus,
    detection: &Detection,
    network_of: &NetworkOf,
    n: usize,
) -> Vec<Vec<SharedItem>> {
    /// One network's use of one item.
    struct Use {
        item: u64,
        accounts: usize,
        actions: usize,
        first: i64,
        last: i64,
    }
    let label = |item: u64| corpus.labels.get(&item).map_or("", |s| &**s);
    let mut out: Vec<Vec<SharedItem>> = vec![Vec::new(); n];
    // (network, account, time) of one item's actions by network members.
    let mut members: Vec<(u32, u32, i64)> = Vec::new();
    for be in &detection.behaviours {
        let actions = be.actions_by_item();
        let mut per: Vec<Vec<Use>> = (0..n).map(|_| Vec::new()).collect();
        for run in actions.chunk_by(|x, y| x.item == y.item) {
            members.clear();
            members.extend(run.iter().filter_map(|a| Some((network_of.get(a.account)?, a.account, a.time))));
            if members.len() < 2 {
                continue;
            }
            members.sort_unstable_by_key(|&(net, account, _)| (net, account));
            for group in members.chunk_by(|x, y| x.0 == y.0) {
                let accounts = group.chunk_by(|x, y| x.1 == y.1).count();
                if accounts < 2 {
                    continue;
                }
                per[group[0].0 as usize].push(Use {
                    item: run[0].item,
                    accounts,
                    actions: group.len(),
                    first: group.iter().map(|m| m.2).min().unwrap_or(0),
                    last: group.iter().map(|m| m.2).max().unwrap_or(0),
                });
            }
        }
        for (i, mut uses) in per.into_iter().enumerate() {
            // Most accounts first, then most actions, then by label (and by key, for equal
            // labels). The counts decide nearly always, so the five are narrowed by counts
            // first and labels, a hash lookup each, are fetched only for what ties the fifth.
            let counts = |u: &Use| std::cmp::Reverse((u.accounts, u.actions));
            if uses.len() > 5 {
                uses.select_nth_unstable_by_key(4, counts);
                let fifth = counts(&uses[4]);
                uses.retain(|u| counts(u) <= fifth);
            }
            let mut labelled: Vec<(&str, Use)> = uses.into_iter().map(|u| (label(u.item), u)).collect();
            let order = |a: &(&str, Use), b: &(&str, Use)| {
                counts(&a.1).cmp(&counts(&b.1)).then(a.0.cmp(b.0)).then(a.1.item.cmp(&b.1.item))
            };
            if labelled.len() > 5 {
                labelled.select_nth_unstable_by(4, order);
                labelled.truncate(5);
            }
            labelled.sort_unstable_by(order);
            out[i].extend(labelled.into_iter().map(|(label, u)| SharedItem {
                behaviour: be.behaviour,
                item: label.to_string(),
                accounts: u.accounts,
                actions: u.actions,
                first: Utc.timestamp_opt(u.first, 0).single().unwrap_or_default(),
                last: Utc.timestamp_opt(u.last, 0).single().unwrap_or_default(),
            }));
        }
    }
    out
}

/// DISARM techniques a behaviour is evidence of.
fn techniques_for(b: Behaviour) -> &'static [&'static str] {
    match b {
        Behaviour::CoRetweet => &["T0049.003"],
        Behaviour::CoLink => &["T0119", "T0118"],
        Behaviour::CoHashtag | Behaviour::CoTag => &["T0049.002", "T0015"],
        Behaviour::CoTweet => &["T0084.001"],
        Behaviour::Sync => &["T0049.003", "T0121"],
        // Swarming: many accounts piling into the same conversation.
        Behaviour::CoReply | Behaviour::CoComment => &["T0049.005"],
        Behaviour::CoItem => &[],
    }
}

/// One finding per network.
pub fn network_findings(networks: &[Network], platform: &str, run_key: &str) -> Vec<Finding> {
    networks
        .iter()
        .map(|net| {
            let what: Vec<&str> = net.behaviours.iter().map(|b| b.behaviour.describe()).collect();
            let title = format!("Coordinated network {} of {} accounts that {}", net.id, net.size, what.join(", "));
            let offset = net.attribution.best_utc_offsets.first();
            let summary = format!(
                "{} accounts tied by {} significant pairwise links ({:.0}% of possible pairs). Posting fits an office week at UTC{:+} ({:.0}% of posts in local weekday office hours, against {:.0}% at US Eastern). Attribution signals are signals, not a verdict.",
                net.size,
                net.internal_pairs,
                net.density * 100.0,
                offset.map_or(0, |o| o.utc_offset),
                offset.map_or(0.0, |o| o.office_hours_share * 100.0),
                net.attribution.us_eastern_office_hours_share * 100.0,
            );
            let mut f = Finding::new(Engine::Influence, "coordinated_network", &format!("{run_key}:{}", member_key(net)), title)
                .summary(summary)
                .severity(Severity::from_score(net.score))
                .confidence(net.confidence)
                .scope(platform)
                .time_span(match (net.first_activity, net.last_activity) {
                    (Some(a), Some(b)) => Some(TimeSpan::new(a, b)),
                    _ => None,
                })
                .technique(Technique::disarm("T0049"));
            for b in &net.behaviours {
                for t in techniques_for(b.behaviour) {
                    f = f.technique(Technique::disarm(t));
                }
                f = f.evidence(Evidence::new(
                    "behaviour",
                    format!(
                        "{} pairs {} ({} shared actions; strongest p = 1e{:.0})",
                        b.pairs,
                        b.behaviour.describe(),
                        b.shared,
                        b.strongest_log10_p
                    ),
                    serde_json::to_value(b).unwrap_or_default(),
                ));
            }
            for item in &net.shared_items {
                f = f.evidence(Evidence::new(
                    format!("shared_{}", item.behaviour.as_str()),
                    format!("{} members: {}", item.accounts, crate::explain::clip(&item.item, 160)),
                    serde_json::to_value(item).unwrap_or_default(),
                ));
            }
            for s in &net.sample_posts {
                f = f.evidence(Evidence::new(
                    "sample_post",
                    format!("{} at {}: {}", s.account, s.post.time.to_rfc3339(), clip(&s.post.text, 160)),
                    serde_json::to_value(s).unwrap_or_default(),
                ));
            }
            f = f.evidence(Evidence::new(
                "attribution",
                "Posting-hour profile, best UTC offsets, languages, clients, account creation and state-media links",
                serde_json::to_value(&net.attribution).unwrap_or_default(),
            ));
            let members: Vec<&str> = net.accounts.iter().map(|a| a.account.as_str()).collect();
            f.evidence(Evidence::new(
                "members",
                format!("{} member accounts, most central first", members.len()),
                serde_json::json!(members),
            ))
        })
        .collect()
}

fn member_key(net: &Network) -> String {
    let mut m: Vec<&str> = net.accounts.iter().map(|a| a.account.as_str()).collect();
    m.sort_unstable();
    m.join(",")
}

/// Shortens text to `max` characters for a one-line description.
pub fn clip(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut out: String = flat.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_rises_with_ties_density_diversity_and_size() {
        let base = score_network(10, 0.5, 5.0, 2, 5);
        assert!(score_network(10, 0.9, 5.0, 2, 5) > base);
        assert!(score_network(10, 0.5, 50.0, 2, 5) > base);
        assert!(score_network(10, 0.5, 5.0, 4, 5) > base);
        assert!(score_network(30, 0.5, 5.0, 2, 5) > base);
        assert!((0.0..=1.0).contains(&score_network(1000, 1.0, 1e9, 5, 5)));
    }
}
