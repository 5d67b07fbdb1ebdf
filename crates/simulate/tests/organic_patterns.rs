//! The organic traffic carries the patterns of a real keyword collection that look like
//! coordination and are not: share-button headlines, app templates, televised-event
//! hashtags and a heavy tail of accounts seen once or twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDateTime;
use scrutineer_simulate::social::{self, SocialFormat, SocialScenario};

struct Row {
    author: String,
    content: String,
    time: i64,
    retweet: bool,
}

fn scenario(format: SocialFormat) -> SocialScenario {
    SocialScenario {
        seed: 21,
        accounts: 3000,
        days: 21,
        start: chrono::NaiveDate::from_ymd_opt(2016, 10, 1).expect("date"),
        operations: Vec::new(),
        evasive: false,
        format,
    }
}

fn organic_ira(dir: &Path) -> Vec<Row> {
    social::generate(&scenario(SocialFormat::Ira), dir, &|_| {}).expect("generate");
    let mut reader = csv::Reader::from_path(dir.join("posts.csv")).expect("posts.csv");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let (a, c, t, r) = (col("author_id"), col("content"), col("publish_date"), col("retweet"));
    reader
        .records()
        .map(|rec| {
            let rec = rec.expect("record");
            Row {
                author: rec[a].to_string(),
                content: rec[c].to_string(),
                time: NaiveDateTime::parse_from_str(&rec[t], "%Y-%m-%d %H:%M:%S")
                    .expect("publish_date")
                    .and_utc()
                    .timestamp(),
                retweet: &rec[r] == "1",
            }
        })
        .collect()
}

/// The text without its t.co links, and the links.
fn split_links(text: &str) -> (String, Vec<String>) {
    let mut words = Vec::new();
    let mut links = Vec::new();
    for w in text.split(' ') {
        if w.starts_with("https://t.co/") {
            links.push(w.to_string());
        } else {
            words.push(w);
        }
    }
    (words.join(" "), links)
}

/// A share-button post: "headline link #Outlet", "headline link via @outlet" or both; the
/// outlet's mark follows the link.
fn share_button_outlet(text: &str) -> Option<String> {
    let (_, after) = text.split_once(" https://t.co/")?;
    let tail: Vec<&str> = after.split(' ').skip(1).collect();
    let ok = match tail.as_slice() {
        [tag] => tag.starts_with('#'),
        ["via", handle] => handle.starts_with('@'),
        [tag, "via", handle] => tag.starts_with('#') && handle.starts_with('@'),
        _ => false,
    };
    ok.then(|| tail.join(" "))
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scrutineer-organic-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn organic_traffic_has_share_buttons_app_templates_event_tags_and_thin_accounts() {
    let dir = tempdir("ira");
    let rows = organic_ira(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let originals: Vec<&Row> = rows.iter().filter(|r| !r.retweet).collect();

    // Share buttons: one headline from many distinct accounts within an hour, each post
    // with its own t.co link.
    let mut by_headline: HashMap<String, Vec<(i64, &str, String)>> = HashMap::new();
    for r in &originals {
        if share_button_outlet(&r.content).is_some() {
            let (text, links) = split_links(&r.content);
            by_headline.entry(text).or_default().push((r.time, &r.author, links.concat()));
        }
    }
    let (mut best_hour, mut best_six_hours) = (0, 0);
    let mut all_links = 0;
    let mut distinct_links: HashSet<&str> = HashSet::new();
    for shares in by_headline.values_mut() {
        shares.sort();
        let within = |i: usize, secs: i64| -> usize {
            let start = shares[i].0;
            shares[i..].iter().take_while(|x| x.0 - start <= secs).map(|x| x.1).collect::<HashSet<_>>().len()
        };
        for i in 0..shares.len() {
            best_hour = best_hour.max(within(i, 3600));
        }
        best_six_hours = best_six_hours.max(within(0, 6 * 3600));
        all_links += shares.len();
        distinct_links.extend(shares.iter().map(|s| s.2.as_str()));
    }
    assert!(best_hour >= 3, "most accounts sharing one headline within an hour: {best_hour}");
    assert!(
        best_six_hours >= 8,
        "most accounts sharing one headline in its first six hours: {best_six_hours}"
    );
    assert_eq!(distinct_links.len(), all_links, "every share-button post has its own link");
    let popular = by_headline.values().filter(|s| s.len() >= 5).count();
    assert!(popular >= 20, "{popular} headlines shared 5 times or more");

    // Readers of one outlet share several of its headlines on different days.
    // (account, outlet) -> (headlines, days).
    type Shared = (HashSet<String>, HashSet<i64>);
    let mut reader_days: HashMap<(&str, String), Shared> = HashMap::new();
    for r in &originals {
        if let Some(outlet) = share_button_outlet(&r.content) {
            let e = reader_days.entry((&r.author, outlet)).or_default();
            e.0.insert(split_links(&r.content).0);
            e.1.insert(r.time.div_euclid(86_400));
        }
    }
    let readers = reader_days.values().filter(|(h, d)| h.len() >= 3 && d.len() >= 2).count();
    assert!(readers >= 10, "{readers} accounts shared 3+ headlines of one outlet over 2+ days");

    // App templates: the app's words from many accounts, each once or twice.
    // (prefix, accounts using the template, accounts behind its most common text: videos
    // are many and short-lived, creators and places few and lasting).
    for (prefix, min_accounts, min_widest) in [
        ("Check out ", 20, 5),
        ("I liked a @YouTube video https://t.co/", 20, 3),
        ("Just posted a photo @ ", 20, 5),
    ] {
        let mut per_account: HashMap<&str, usize> = HashMap::new();
        let mut by_text: HashMap<String, HashSet<&str>> = HashMap::new();
        for r in originals.iter().filter(|r| r.content.starts_with(prefix)) {
            *per_account.entry(&r.author).or_default() += 1;
            by_text.entry(split_links(&r.content).0).or_default().insert(&r.author);
        }
        assert!(per_account.len() >= min_accounts, "{prefix}: {} accounts", per_account.len());
        let few = per_account.values().filter(|&&n| n <= 2).count();
        assert!(
            few * 5 >= per_account.len() * 4,
            "{prefix}: {few} of {} accounts at most twice",
            per_account.len()
        );
        let widest = by_text.values().map(HashSet::len).max().unwrap_or(0);
        assert!(widest >= min_widest, "{prefix}: the most common text comes from {widest} accounts");
    }

    // Televised events: a tag used once each by many accounts, all within two hours.
    let mut by_tag: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for r in &originals {
        for w in r.content.split(' ').filter(|w| w.starts_with('#')) {
            by_tag.entry(w).or_default().push((r.time, &r.author));
        }
    }
    let bursts = by_tag
        .values()
        .filter(|uses| {
            let accounts: HashSet<&str> = uses.iter().map(|u| u.1).collect();
            let (lo, hi) = uses.iter().fold((i64::MAX, i64::MIN), |(lo, hi), u| (lo.min(u.0), hi.max(u.0)));
            uses.len() >= 25 && accounts.len() == uses.len() && hi - lo <= 2 * 3600
        })
        .count();
    assert!(bursts >= 2, "{bursts} tags used once each by 25+ accounts within two hours");

    // Thin accounts: most accounts of a collection are seen once or twice.
    let mut posts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *posts.entry(&r.author).or_default() += 1;
    }
    let thin = posts.values().filter(|&&n| n <= 2).count() as f64 / posts.len() as f64;
    assert!(thin >= 0.55, "accounts with at most 2 posts: {thin:.3}");
}

#[test]
fn twitter_v1_share_buttons_carry_their_own_tco_link_to_the_outlet_page() {
    let dir = tempdir("v1");
    social::generate(&scenario(SocialFormat::TwitterV1), &dir, &|_| {}).expect("generate");
    let text = std::fs::read_to_string(dir.join("posts.jsonl")).expect("posts.jsonl");
    let _ = std::fs::remove_dir_all(&dir);
    let mut pages: HashMap<String, (HashSet<String>, HashSet<String>)> = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        if v.get("retweeted_status").is_some() {
            continue;
        }
        let body = v["text"].as_str().expect("text");
        if share_button_outlet(body).is_none() {
            continue;
        }
        let urls = v["entities"]["urls"].as_array().expect("urls");
        assert_eq!(urls.len(), 1, "{body}");
        let short = urls[0]["url"].as_str().expect("url").to_string();
        let page = urls[0]["expanded_url"].as_str().expect("expanded_url").to_string();
        assert!(body.contains(&short) && short.starts_with("https://t.co/"), "{body}");
        assert!(!page.contains("t.co/"), "{page}");
        let e = pages.entry(page).or_default();
        e.0.insert(short);
        e.1.insert(v["user"]["id_str"].as_str().expect("user").to_string());
    }
    let shared =
        pages.values().filter(|(links, users)| users.len() >= 5 && links.len() == users.len()).count();
    assert!(shared >= 10, "{shared} outlet pages shared by 5+ accounts, each through its own t.co link");
}
