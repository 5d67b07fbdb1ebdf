//! Who led and cross-platform spread, on constructed inputs whose timing is known: one
//! member that always acts first is the leader, followers within seconds of each other
//! form the fast sub-network, same-second actions make no leader, and reversing the order
//! reverses the roles; a link and a text posted on one platform and then on others are
//! reported reaching the platforms in that order, with the first account on each.

use chrono::{DateTime, Utc};
use scrutineer_influence::{
    Analysis, Behaviour, Corpus, LeadRole, Network, Post, PostKind, ScanParams, StateMediaList, analyse,
    ingest_items,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const START: i64 = 1_476_000_000;
const LEADER: &str = "telegram:channel0";

/// Five accounts share the same 12 images over 12 days; `offset(k, member, rng)` is each
/// member's delay after the day's base time. 60 other accounts post images of their own
/// and a few popular memes.
fn scan(offset: impl Fn(usize, &mut Rng) -> i64) -> Analysis {
    let mut rng = Rng(0xdeadbeefcafef00d);
    let mut items = String::from("account,item,time\n");
    for k in 0..12i64 {
        let base = START + k * 86_400 + rng.below(20_000) as i64;
        for member in 0..5 {
            let t = base + offset(member, &mut rng);
            items += &format!("telegram:channel{member},phash:{k:016x},{t}\n");
        }
    }
    for p in 0..60 {
        for _ in 0..20 {
            let hash = if rng.below(4) == 0 {
                format!("meme{}", rng.below(10))
            } else {
                format!("own{}", rng.next())
            };
            items += &format!("telegram:user{p},{hash},{}\n", START + rng.below(12 * 86_400) as i64);
        }
    }
    let params = ScanParams { behaviours: vec![Behaviour::CoItem], ..ScanParams::default() }
        .validated()
        .expect("valid");
    let mut corpus = Corpus::new(&params);
    ingest_items(&mut corpus, items.as_bytes(), "items.csv").expect("reads");
    analyse(corpus, &params, &StateMediaList::default())
}

fn the_network(analysis: &Analysis) -> &Network {
    let members: Vec<String> = (0..5).map(|m| format!("telegram:channel{m}")).collect();
    analysis
        .networks
        .iter()
        .find(|n| members.iter().all(|m| n.accounts.iter().any(|a| &a.account == m)))
        .unwrap_or_else(|| panic!("no network holds the five members: {:?}", analysis.networks.len()))
}

/// Followers act 5 minutes after the leader, within 8 seconds of each other, in a
/// different order each day.
fn leader_then_fast_followers(member: usize, rng: &mut Rng) -> i64 {
    if member == 0 { 0 } else { 300 + rng.below(8) as i64 }
}

#[test]
fn the_account_that_always_acts_first_is_the_leader() {
    let analysis = scan(leader_then_fast_followers);
    let lead = &the_network(&analysis).leadership;
    assert_eq!(lead.leaders, vec![LEADER.to_owned()], "{:#?}", lead.accounts);
    let leader = lead.accounts.iter().find(|a| a.account == LEADER).expect("leader compared");
    assert_eq!((leader.led, leader.followed, leader.tied), (12, 0, 0));
    assert_eq!(leader.leader_score, 1.0);
    assert_eq!(leader.median_lag_secs, Some(0.0));
    for a in lead.accounts.iter().filter(|a| a.account != LEADER) {
        assert_ne!(a.role, LeadRole::Leader, "{a:?}");
        assert!(a.leader_score < 1.0, "{a:?}");
        let lag = a.median_lag_secs.expect("compared");
        assert!((300.0..=308.0).contains(&lag), "a follower's lag behind the first member: {a:?}");
    }
    // On each of the leader's ties the leader is the one that acted first, every time.
    for e in lead.edges.iter().filter(|e| e.a == LEADER || e.b == LEADER) {
        let (leader_first, other_first) =
            if e.a == LEADER { (e.a_first, e.b_first) } else { (e.b_first, e.a_first) };
        assert!(leader_first > 0 && other_first == 0, "{e:?}");
        assert!(e.median_gap_secs >= 300.0, "{e:?}");
        assert!(!e.fast, "five minutes is not within seconds: {e:?}");
    }
    // The followers, seconds apart, are the fast sub-network; the leader is not in it.
    let mut fast = lead.fast.accounts.clone();
    fast.sort();
    let want: Vec<String> = (1..5).map(|m| format!("telegram:channel{m}")).collect();
    assert_eq!(fast, want);
    assert!(lead.fast.edges > 0);
}

#[test]
fn same_second_actions_make_no_leader() {
    let analysis = scan(|_, _| 0);
    let lead = &the_network(&analysis).leadership;
    assert!(lead.leaders.is_empty(), "{:#?}", lead.accounts);
    for a in &lead.accounts {
        assert_eq!((a.led, a.followed), (0, 0), "{a:?}");
        assert_eq!(a.leader_score, 0.0);
        assert_eq!(a.role, LeadRole::Undetermined);
    }
    for e in &lead.edges {
        assert_eq!((e.a_first, e.b_first), (0, 0), "{e:?}");
        assert!(e.ties > 0 && e.fast, "{e:?}");
    }
    assert_eq!(lead.median_lag_secs, Some(0.0));
}

#[test]
fn reversing_the_order_reverses_the_roles() {
    // The same timing mirrored: the former leader acts five minutes after the others.
    let analysis = scan(|member, rng| if member == 0 { 300 } else { rng.below(8) as i64 });
    let lead = &the_network(&analysis).leadership;
    assert!(!lead.leaders.contains(&LEADER.to_owned()), "{:#?}", lead.accounts);
    let last = lead.accounts.iter().find(|a| a.account == LEADER).expect("compared");
    assert_eq!((last.led, last.followed), (0, 12));
    assert_eq!(last.leader_score, -1.0);
    assert_eq!(last.role, LeadRole::Follower);
    assert_eq!(lead.accounts.last().map(|a| a.account.as_str()), Some(LEADER), "lowest score last");
}

fn at(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).expect("time")
}

fn post(account: &str, t: i64, text: &str, link: Option<&str>) -> Post {
    let mut p = Post::new(account, at(t), PostKind::Original, text);
    p.urls = link.map(|l| vec![l.to_owned()]).unwrap_or_default();
    p
}

#[test]
fn a_link_and_a_text_are_reported_in_the_order_the_platforms_saw_them() {
    let params =
        ScanParams { behaviours: vec![Behaviour::CoLink, Behaviour::CoTweet], ..ScanParams::default() }
            .validated()
            .expect("valid");
    let mut corpus = Corpus::new(&params);
    // The link reaches Telegram, then Twitter (unqualified keys) an hour later, then
    // Reddit; the text (edited a little on the way) Reddit first, then Bluesky.
    let link = "https://www.example-news.info/2016/10/story";
    let order = [("telegram:channel7", 0), ("1234567", 3600), ("reddit:poster", 7200)];
    for (i, &(account, after)) in order.iter().enumerate() {
        corpus.add(post(account, START + after, &format!("read this {i}"), Some(link)));
        // A second account on each platform, later.
        let other = format!("{account}x");
        corpus.add(post(
            &other,
            START + after + 60,
            &format!("look {i}"),
            Some(&format!("{link}?utm_source=x")),
        ));
    }
    let text = "the ballots in the county were counted twice and nobody is talking about it";
    corpus.add(post("reddit:first_text", START + 100, text, None));
    corpus.add(post("bluesky:did:plc:abc", START + 900, &format!("{text} today"), None));
    corpus.add(post("bluesky:did:plc:def", START + 950, text, None));
    let analysis = analyse(corpus, &params, &StateMediaList::default());
    let spread = &analysis.spread;
    assert_eq!(spread.cross_platform_items, 2, "{spread:#?}");
    let link_item = spread.items.iter().find(|i| i.behaviour == Behaviour::CoLink).expect("the link");
    let platforms: Vec<&str> = link_item.reached.iter().map(|r| r.platform.as_str()).collect();
    assert_eq!(platforms, ["telegram", "twitter", "reddit"]);
    for (reach, &(account, after)) in link_item.reached.iter().zip(&order) {
        assert_eq!(reach.first_account, account);
        assert_eq!(reach.first, at(START + after));
        assert_eq!(reach.after_secs, after);
        assert_eq!(reach.accounts, 2, "the utm_ copy is the same link");
    }
    let text_item = spread.items.iter().find(|i| i.behaviour == Behaviour::CoTweet).expect("the text");
    let platforms: Vec<&str> = text_item.reached.iter().map(|r| r.platform.as_str()).collect();
    assert_eq!(platforms, ["reddit", "bluesky"]);
    assert_eq!(text_item.reached[0].first_account, "reddit:first_text");
    assert_eq!(text_item.reached[1].first_account, "bluesky:did:plc:abc", "the edited copy is the same text");
    assert!(spread.orders.iter().any(|o| o.order == ["telegram", "twitter", "reddit"] && o.items == 1));
}

#[test]
fn one_platform_has_no_spread() {
    let params =
        ScanParams { behaviours: vec![Behaviour::CoLink], ..ScanParams::default() }.validated().expect("ok");
    let mut corpus = Corpus::new(&params);
    for a in 0..5 {
        corpus.add(post(&format!("reddit:a{a}"), START + a * 60, "x", Some("https://example.org/a")));
    }
    let analysis = analyse(corpus, &params, &StateMediaList::default());
    assert_eq!(analysis.spread.cross_platform_items, 0);
    assert!(analysis.spread.items.is_empty());
}
