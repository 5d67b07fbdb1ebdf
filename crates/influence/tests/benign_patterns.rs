//! The organic patterns that placed ordinary accounts in "coordinated networks" on a real
//! 2024 election collection (share-button headlines, app templates, event hashtags, thin
//! accounts), each built beside an organic background: the organic pattern is not placed
//! at the default settings, and the same pattern repeated by a team is.
//!
//! Each organic case also checks that the pattern does tie its accounts at the edge
//! level (with the account-level test switched off they are placed): the test is about
//! the account-level evidence, and would fail if that stage let them through.

use chrono::{DateTime, TimeZone, Utc};
use scrutineer_influence::{Behaviour, Corpus, Post, PostKind, ScanParams, StateMediaList, analyse};
use std::collections::BTreeSet;

use scrutineer_core::splitmix::SplitMix64 as Rng;

const DAY: i64 = 86_400;
const T0: i64 = 1_725_148_800; // 2024-09-01 00:00 UTC

fn at(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).single().expect("valid time")
}

fn original(account: &str, t: i64, text: &str, urls: &[&str], tags: &[&str]) -> Post {
    let mut p = Post::new(account, at(t), PostKind::Original, text);
    p.urls = urls.iter().map(|s| s.to_string()).collect();
    p.hashtags = tags.iter().map(|s| s.to_string()).collect();
    p
}

fn retweet(account: &str, t: i64, id: &str, author: &str, text: &str) -> Post {
    let mut p = Post::new(account, at(t), PostKind::Retweet, text);
    p.retweeted_id = Some(id.to_string());
    p.retweeted_account = Some(author.to_string());
    p
}

/// Ordinary traffic over 14 days: 2,000 accounts with heavy-tailed activity retweeting
/// popular posts, sharing links of many sites, posting their own text and tags from a
/// long-tailed vocabulary.
fn background() -> Vec<Post> {
    let mut r = Rng::new(7);
    let mut posts = Vec::new();
    for a in 0..2000u64 {
        let account = format!("user{a}");
        let n = 1 + (40.0 / (1.0 + r.below(40) as f64)) as u64;
        for k in 0..n {
            let t = T0 + r.below(14 * DAY as u64) as i64;
            match r.below(4) {
                0 => {
                    // Popular posts: a Zipf-like pick among 300.
                    let id = (r.below(3000) * r.below(3000)) / 3000;
                    posts.push(retweet(
                        &account,
                        t,
                        &format!("p{id}"),
                        &format!("star{}", id % 20),
                        "popular post",
                    ));
                }
                1 => {
                    let site = r.below(200);
                    let url = format!("https://site{site}.example/story/{}", r.below(2000));
                    posts.push(original(&account, t, &format!("reading {url}"), &[&url], &[]));
                }
                2 => {
                    let tag = format!("trend{}", (r.below(400) * r.below(400)) / 400);
                    posts.push(original(&account, t, &format!("my take {a} {k} #{tag}"), &[], &[&tag]));
                }
                _ => posts.push(original(&account, t, &format!("own words of {a} number {k}"), &[], &[])),
            }
        }
    }
    posts
}

fn placed(posts: Vec<Post>, params: &ScanParams) -> BTreeSet<String> {
    scan(posts, params).0
}

/// The accounts placed, and a line per account grouped but not placed (for messages).
fn scan(posts: Vec<Post>, params: &ScanParams) -> (BTreeSet<String>, Vec<String>) {
    let mut corpus = Corpus::new(params);
    for p in posts {
        corpus.add(p);
    }
    let analysis = analyse(corpus, params, &StateMediaList::builtin());
    let placed =
        analysis.networks.iter().flat_map(|n| n.accounts.iter().map(|a| a.account.clone())).collect();
    let pruned =
        analysis.pruned().map(|(account, p)| format!("{account} {:?} {:?}", p.reason, p.evidence)).collect();
    (placed, pruned)
}

fn without_account_test() -> ScanParams {
    ScanParams { min_account_evidence: 0.0, min_account_days: 0, ..ScanParams::default() }
}

/// Checks an organic case the edge test itself explains: not placed even without the
/// account test.
fn assert_organic_not_tied(pattern: Vec<Post>, accounts: &[String], what: &str) {
    let mut posts = background();
    posts.extend(pattern);
    let loose = placed(posts, &without_account_test());
    let tied: Vec<&String> = accounts.iter().filter(|a| loose.contains(*a)).collect();
    assert!(tied.is_empty(), "{what}: ordinary accounts tied at the edge level: {tied:?}");
}

/// Checks the organic case: tied at the edge level, not placed at the defaults.
fn assert_organic_not_placed(pattern: Vec<Post>, accounts: &[String], what: &str) {
    let mut posts = background();
    posts.extend(pattern);
    let loose = placed(posts.clone(), &without_account_test());
    let tied = accounts.iter().filter(|a| loose.contains(*a)).count();
    assert!(
        tied >= 3,
        "{what}: the pattern should tie its accounts at the edge level (placed {tied} without the account test)"
    );
    let strict = placed(posts, &ScanParams::default());
    let wrongly: Vec<&String> = accounts.iter().filter(|a| strict.contains(*a)).collect();
    assert!(wrongly.is_empty(), "{what}: ordinary accounts placed at the defaults: {wrongly:?}");
}

fn assert_team_placed(pattern: Vec<Post>, team: &[String], what: &str) {
    let mut posts = background();
    posts.extend(pattern);
    let (strict, pruned) = scan(posts, &ScanParams::default());
    let missed: Vec<&String> = team.iter().filter(|a| !strict.contains(*a)).collect();
    let why: Vec<&String> =
        pruned.iter().filter(|p| missed.iter().any(|m| p.starts_with(m.as_str()))).collect();
    assert!(
        missed.is_empty(),
        "{what}: team members not placed: {missed:?} (grouped but not placed: {why:?})"
    );
}

/// A news site's share button: "headline link #Outlet", each click its own t.co link.
fn share(account: &str, t: i64, headline: &str, click: u64) -> Post {
    let link = format!("https://t.co/{click:010x}");
    original(account, t, &format!("{headline} {link} #FoxBusiness"), &[&link], &["FoxBusiness"])
}

/// A headline of its own for each number: headlines of one site share no more words
/// than any two sentences do.
fn headline(n: u64) -> String {
    const WORDS: [&str; 24] = [
        "senate", "budget", "vote", "delayed", "markets", "rally", "governor", "signs", "water", "bill",
        "county", "schools", "reopen", "storm", "damage", "rises", "court", "blocks", "rule", "farmers",
        "warn", "prices", "record", "low",
    ];
    let mut r = Rng::new(1000 + n);
    (0..8).map(|_| WORDS[r.below(24) as usize]).collect::<Vec<_>>().join(" ") + &format!(" story {n}")
}

#[test]
fn share_button_readers_are_not_placed_and_a_team_repeating_it_is() {
    let mut r = Rng::new(11);
    let headlines = [
        "Kamala Harris' tax plan could cost US nearly 800K jobs, study finds",
        "Mortgage rates fall to their lowest level in two years as buyers return",
        "Small business owners say inflation is still their biggest problem",
        "Oil prices jump after the latest report on supplies in the Gulf",
        "The Fed's next move: what the markets expect after the jobs report",
    ];
    // Readers: 21 on the first headline within an hour, 19 on the second the next day, and
    // so on; readers of the site click more than one; each has one to five posts.
    let mut pattern = Vec::new();
    let mut readers = Vec::new();
    for (h, (n, day)) in [(21u64, 2i64), (19, 2), (12, 3), (15, 3), (18, 4)].into_iter().enumerate() {
        for k in 0..n {
            let account = format!("reader{}", (k * 3 + h as u64) % 26);
            let t = T0 + day * DAY + 15 * 3600 + r.below(3600) as i64;
            pattern.push(share(&account, t, headlines[h], r.next_u64()));
            readers.push(account);
        }
    }
    readers.sort();
    readers.dedup();
    assert_organic_not_placed(pattern, &readers, "share button");

    // A team: 6 accounts posting 24 of the site's headlines together, minutes apart, on 8
    // days, while the site's 300 other headlines are shared by its ordinary readers.
    let team: Vec<String> = (0..6).map(|k| format!("team{k}")).collect();
    let mut pattern = Vec::new();
    for k in 0..300u64 {
        let t = T0 + r.below(14 * DAY as u64) as i64;
        pattern.push(share(&format!("fan{}", r.below(80)), t, &headline(1000 + k), r.next_u64()));
    }
    for item in 0..24i64 {
        let t = T0 + (1 + item / 3) * DAY + 10 * 3600 + (item % 3) * 3 * 3600;
        for (k, a) in team.iter().enumerate() {
            pattern.push(share(
                a,
                t + 60 * k as i64 + r.below(120) as i64,
                &headline(item as u64),
                r.next_u64(),
            ));
        }
    }
    assert_team_placed(pattern, &team, "share button, team");
}

#[test]
fn app_template_users_are_not_placed_and_a_team_repeating_it_is() {
    let mut r = Rng::new(12);
    let template = |a: &str, t: i64, creator: &str, r: &mut Rng| {
        let link = format!("https://t.co/{:010x}", r.next_u64());
        original(a, t, &format!("Check out {creator}'s video! #TikTok {link}"), &[&link], &["TikTok"])
    };
    let mut pattern = Vec::new();
    let mut users = Vec::new();
    for (c, creator) in ["Robert F. Kennedy Jr", "Kamala HQ", "Donald J Trump"].into_iter().enumerate() {
        for k in 0..11u64 {
            let account = format!("tiktoker{}", (k * 2 + c as u64) % 18);
            let t = T0 + (3 + c as i64) * DAY + r.below(8 * 3600) as i64;
            pattern.push(template(&account, t, creator, &mut r));
            users.push(account);
        }
    }
    users.sort();
    users.dedup();
    assert_organic_not_placed(pattern, &users, "app template");

    let team: Vec<String> = (0..6).map(|k| format!("amplifier{k}")).collect();
    let mut pattern = Vec::new();
    // The app's ordinary users share 300 other creators' videos.
    for k in 0..300u64 {
        let t = T0 + r.below(14 * DAY as u64) as i64;
        pattern.push(template(&format!("appuser{}", r.below(80)), t, &format!("someone{k}"), &mut r));
    }
    for item in 0..24i64 {
        let t = T0 + (1 + item / 3) * DAY + 9 * 3600 + (item % 3) * 4 * 3600;
        for (k, a) in team.iter().enumerate() {
            pattern.push(template(a, t + 90 * k as i64, &format!("creator{item}"), &mut r));
        }
    }
    assert_team_placed(pattern, &team, "app template, team");
}

#[test]
fn event_hashtag_viewers_are_not_placed_and_a_team_repeating_tags_is() {
    let mut r = Rng::new(13);
    // A televised panel: 13 accounts, once each, within the hour; four more events on the
    // following days with partly the same viewers.
    let mut pattern = Vec::new();
    let mut viewers = Vec::new();
    for (e, (tag, n)) in
        [("NABJ", 13u64), ("DemDebate", 15), ("NABJ2024", 10), ("VPDebate", 14), ("DNCNight4", 12)]
            .into_iter()
            .enumerate()
    {
        for k in 0..n {
            let account = format!("viewer{}", (k + 3 * e as u64) % 18);
            let t = T0 + (4 + e as i64 / 2) * DAY + (14 + 3 * (e as i64 % 2)) * 3600 + r.below(3600) as i64;
            pattern.push(original(
                &account,
                t,
                &format!("watching this now, {account} says #{tag}"),
                &[],
                &[tag],
            ));
            viewers.push(account);
        }
    }
    viewers.sort();
    viewers.dedup();
    assert_organic_not_placed(pattern, &viewers, "event hashtag");

    // A hashtag game: 6 accounts pushing 24 tags of their own together, on 8 days.
    let team: Vec<String> = (0..6).map(|k| format!("gamer{k}")).collect();
    let mut pattern = Vec::new();
    for item in 0..24i64 {
        let tag = format!("PushTag{item}");
        let t = T0 + (1 + item / 3) * DAY + 11 * 3600 + (item % 3) * 3 * 3600;
        for (k, a) in team.iter().enumerate() {
            let text = format!("{a} has thoughts number {item} #{tag}");
            pattern.push(original(a, t + 120 * k as i64 + r.below(600) as i64, &text, &[], &[&tag]));
        }
    }
    assert_team_placed(pattern, &team, "event hashtag, team");
}

#[test]
fn a_hashtag_game_pairing_its_tag_with_new_companions_is_tied_by_single_hashtags() {
    // A team of 12 launching a tag of its own at each of 30 pushes over 15 days, each
    // member joining three pushes in four, and pairing the push's tag with a different
    // companion tag each time, so that no two posts share a hashtag *set*.
    let mut r = Rng::new(15);
    let team: Vec<String> = (0..12).map(|k| format!("pusher{k}")).collect();
    let mut pattern = Vec::new();
    for push in 0..30i64 {
        let tag = format!("Wave{push}");
        let t = T0 + (push / 2) * DAY + (10 + 6 * (push % 2)) * 3600;
        for a in &team {
            if r.below(4) == 0 {
                continue;
            }
            let companion = format!("trend{}", r.below(400));
            let text = format!("{a} says {push} #{tag} #{companion}");
            pattern.push(original(a, t + r.below(6 * 3600) as i64, &text, &[], &[&tag, &companion]));
        }
    }
    let mut posts = background();
    posts.extend(pattern);
    // Hashtag sets alone do not see it ...
    let by_sets = placed(posts.clone(), &ScanParams::default());
    assert!(team.iter().all(|a| !by_sets.contains(a)), "hashtag sets should not tie the game: {by_sets:?}");
    // ... single hashtags (`co_tag`, computed when asked for) do.
    let mut params = ScanParams::default();
    params.behaviours.push(Behaviour::CoTag);
    let (strict, pruned) = scan(posts, &params);
    let missed: Vec<&String> = team.iter().filter(|a| !strict.contains(*a)).collect();
    assert!(missed.is_empty(), "hashtag game: team members not placed: {missed:?} ({pruned:?})");
    let background_placed = strict.iter().filter(|a| a.starts_with("user")).count();
    assert_eq!(background_placed, 0, "background accounts placed with co_tag: {strict:?}");
}

#[test]
fn thin_accounts_are_not_placed_and_a_team_with_the_same_habit_is() {
    let mut r = Rng::new(14);
    // Five accounts with two posts each, both retweets of the same two obscure posts on
    // one evening, and five more doing the same with two other posts.
    let mut pattern = Vec::new();
    let mut thin = Vec::new();
    for g in 0..2u64 {
        for k in 0..5u64 {
            let account = format!("thin{g}_{k}");
            for item in 0..2u64 {
                let t = T0 + (3 + g as i64) * DAY + 19 * 3600 + r.below(1800) as i64;
                let id = format!("obscure{g}_{item}");
                pattern.push(retweet(&account, t, &id, "smallaccount", "an obscure post"));
            }
            thin.push(account);
        }
    }
    assert_organic_not_placed(pattern, &thin, "thin evidence");

    // A ring: the same five-account habit, on twelve obscure posts over six days.
    let team: Vec<String> = (0..5).map(|k| format!("ring{k}")).collect();
    let mut pattern = Vec::new();
    for item in 0..12i64 {
        let t = T0 + (1 + item / 2) * DAY + 14 * 3600;
        for (k, a) in team.iter().enumerate() {
            pattern.push(retweet(a, t + 300 * k as i64, &format!("lead{item}"), "ringleader", "a lead post"));
        }
    }
    assert_team_placed(pattern, &team, "thin evidence, team");
}

/// A link to a story of a site that few others read: readers of a local paper share most
/// of its stories, each within hours of its publication.
fn story(site: &str, n: u64) -> String {
    format!("https://{site}/2024/story-{n}")
}

#[test]
fn readers_of_one_site_are_not_placed_and_a_team_pushing_its_pages_is() {
    let mut r = Rng::new(23);
    // Readers: a local paper publishes four stories a day for 14 days; its six most
    // faithful readers (a town's pages) each share about 70% of them, hours after they
    // appear, and a dozen townspeople share one or two each.
    let readers: Vec<String> = (0..6).map(|k| format!("townpage{k}")).collect();
    let paper = |r: &mut Rng, authors: &[String], share_of_ten: u64| {
        let mut pattern = Vec::new();
        for n in 0..56u64 {
            let published = T0 + (n as i64 / 4) * DAY + 7 * 3600 + (n as i64 % 4) * 3 * 3600;
            for a in authors {
                if r.below(10) < share_of_ten {
                    let url = story("dorfzeitung.example", n);
                    let t = published + r.below(4 * 3600) as i64;
                    pattern.push(original(a, t, &format!("{a} zu Geschichte {n}: {url}"), &[&url], &[]));
                }
            }
        }
        pattern
    };
    let mut pattern = paper(&mut r, &readers, 7);
    for k in 0..12u64 {
        let n = r.below(56);
        let url = story("dorfzeitung.example", n);
        let t = T0 + (n as i64 / 4) * DAY + 9 * 3600 + r.below(12 * 3600) as i64;
        pattern.push(original(&format!("townsperson{k}"), t, &format!("gelesen {url}"), &[&url], &[]));
    }
    // The co-link null model expects what reading one site gives (its site term), so these
    // readers are not even tied at the edge level: the account test is not needed here.
    assert_organic_not_tied(pattern, &readers, "readers of one site");

    // The same pages posting a site that nobody else links to: its audience is the
    // network, and posting its pages together is amplification, not reading.
    assert_team_placed(paper(&mut r, &readers, 7), &readers, "a network's own outlet");

    // A team: six accounts pushing 24 of a site's 300 stories together, minutes apart,
    // on 8 days, while its ordinary readers share the site's stories a few each.
    let team: Vec<String> = (0..6).map(|k| format!("team{k}")).collect();
    let mut pattern = Vec::new();
    for n in 0..300u64 {
        for _ in 0..2 {
            let url = story("bigpaper.example", 1000 + n);
            let t = T0 + r.below(14 * DAY as u64) as i64;
            pattern.push(original(&format!("fan{}", r.below(80)), t, &format!("read {url}"), &[&url], &[]));
        }
    }
    for item in 0..24u64 {
        let t = T0 + (1 + item as i64 / 3) * DAY + 10 * 3600 + (item as i64 % 3) * 3 * 3600;
        for (k, a) in team.iter().enumerate() {
            let url = story("bigpaper.example", item);
            pattern.push(original(
                a,
                t + 60 * k as i64 + r.below(120) as i64,
                &format!("look {url}"),
                &[&url],
                &[],
            ));
        }
    }
    assert_team_placed(pattern, &team, "readers of one site, team");
}
