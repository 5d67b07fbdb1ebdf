//! `scrutineer simulate social`: determinism, the shape of the organic traffic, and an
//! end-to-end run where `influence scan` must find the injected operations.

use std::collections::{HashMap, HashSet};
use std::path::Path;

fn simulate(out: &Path, args: &[&str]) {
    crate::util::scrutineer()
        .args(["--quiet", "simulate", "social"])
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).expect("read csv");
    let mut lines = parse_csv(&text).into_iter();
    let header = lines.next().expect("header");
    lines.map(|row| header.iter().cloned().zip(row).collect()).collect()
}

/// A small RFC 4180 reader (quoted fields, doubled quotes, newlines inside quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |name: &str, seed: &str, format: &str| {
        let out = dir.path().join(name);
        simulate(
            &out,
            &[
                "--seed",
                seed,
                "--accounts",
                "400",
                "--days",
                "5",
                "--operations",
                "2",
                "--evasive",
                "--format",
                format,
            ],
        );
        out
    };
    for (format, posts) in [("ira", "posts.csv"), ("twitter-v1", "posts.jsonl")] {
        let a = run(&format!("a-{format}"), "7", format);
        let b = run(&format!("b-{format}"), "7", format);
        let c = run(&format!("c-{format}"), "8", format);
        for f in [posts, "truth.csv"] {
            let (x, y) = (std::fs::read(a.join(f)).expect("a"), std::fs::read(b.join(f)).expect("b"));
            assert!(x.len() > 100, "{f} is nearly empty");
            assert!(x == y, "{format}/{f} differs between two runs with seed 7");
        }
        assert_ne!(std::fs::read(a.join(posts)).expect("a"), std::fs::read(c.join(posts)).expect("c"));
    }
}

#[test]
fn organic_traffic_is_heavy_tailed_diurnal_and_viral() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("v1");
    simulate(
        &out,
        &[
            "--seed",
            "11",
            "--accounts",
            "4000",
            "--days",
            "14",
            "--operations",
            "0",
            "--format",
            "twitter-v1",
        ],
    );
    let text = std::fs::read_to_string(out.join("posts.jsonl")).expect("posts");
    let mut per_account: HashMap<String, u64> = HashMap::new();
    let mut hours = [0u64; 24];
    let mut retweeters: HashMap<String, HashSet<String>> = HashMap::new();
    let mut tags: HashMap<String, u64> = HashMap::new();
    let mut domains: HashMap<String, u64> = HashMap::new();
    let (mut posts, mut replies, mut quotes) = (0u64, 0u64, 0u64);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        posts += 1;
        let user = v["user"]["id_str"].as_str().expect("user id").to_string();
        *per_account.entry(user.clone()).or_default() += 1;
        let offset = v["user"]["utc_offset"].as_i64().expect("organic accounts carry utc_offset");
        let created = &v["created_at"].as_str().expect("created_at")[11..13];
        let utc_hour: i64 = created.parse().expect("hour");
        // utc_offset is the standard-time offset of 1 October (daylight time).
        hours[(utc_hour + offset / 3600).rem_euclid(24) as usize] += 1;
        if let Some(rt) = v.get("retweeted_status") {
            let id = rt["id_str"].as_str().expect("retweeted id").to_string();
            retweeters.entry(id).or_default().insert(user);
            continue;
        }
        replies += v.get("in_reply_to_status_id_str").is_some() as u64;
        quotes += v.get("quoted_status_id_str").is_some() as u64;
        for t in v["entities"]["hashtags"].as_array().expect("hashtags") {
            *tags.entry(t["text"].as_str().expect("tag").to_lowercase()).or_default() += 1;
        }
        for u in v["entities"]["urls"].as_array().expect("urls") {
            let url = u["expanded_url"].as_str().expect("url");
            let host = url.split('/').nth(2).expect("host").trim_start_matches("www.").to_string();
            *domains.entry(host).or_default() += 1;
        }
    }
    assert!(posts > 10_000, "only {posts} posts");

    // Heavy tail: the most active 1% of accounts write a large share of the posts.
    let mut counts: Vec<u64> = per_account.values().copied().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top = counts.len().div_ceil(100);
    let share = counts[..top].iter().sum::<u64>() as f64 / posts as f64;
    assert!(share > 0.2, "top 1% of accounts write {share:.3} of posts");
    let median = counts[counts.len() / 2];
    assert!(counts[0] > 50 * median, "max {} vs median {median}", counts[0]);

    // Diurnal rhythm in local time: evening peak, small-hours trough.
    let peak = (0..24).max_by_key(|&h| hours[h]).expect("peak");
    let trough = (0..24).min_by_key(|&h| hours[h]).expect("trough");
    assert!((18..=23).contains(&peak), "local peak at {peak}h: {hours:?}");
    assert!((2..=6).contains(&trough), "local trough at {trough}h: {hours:?}");
    assert!(hours[peak] > 3 * hours[trough], "{hours:?}");

    // Retweets follow popularity: most posts get a retweet or two, a few get very many.
    let mut sizes: Vec<usize> = retweeters.values().map(HashSet::len).collect();
    sizes.sort_unstable();
    let max = *sizes.last().expect("retweets");
    assert!(
        max >= 100 && max > 30 * sizes[sizes.len() / 2],
        "max cascade {max}, median {}",
        sizes[sizes.len() / 2]
    );
    let rts: usize = sizes.iter().sum();
    assert!((0.3..0.7).contains(&(rts as f64 / posts as f64)), "retweet share {}", rts as f64 / posts as f64);
    assert!(replies > posts / 20 && quotes > posts / 200, "replies {replies}, quotes {quotes}");

    // Hashtags: heavy-tailed popularity.
    let mut tag_counts: Vec<u64> = tags.values().copied().collect();
    tag_counts.sort_unstable_by(|a, b| b.cmp(a));
    assert!(tag_counts.len() > 200, "{} distinct hashtags", tag_counts.len());
    assert!(tag_counts[0] > 20 * tag_counts[tag_counts.len() / 2], "{:?}", &tag_counts[..5]);

    // Links: news sites, YouTube and shorteners all present, no one domain dominating
    // (twitter.com links are the quoted posts of quotes).
    domains.remove("twitter.com");
    let total: u64 = domains.values().sum();
    for d in ["youtube.com", "bit.ly", "nytimes.com", "foxnews.com"] {
        assert!(domains.get(d).copied().unwrap_or(0) > 0, "no links to {d}: {domains:?}");
    }
    assert!(domains.values().all(|&n| (n as f64) < 0.3 * total as f64), "{domains:?}");
}

/// Runs the scan and returns (per operation: placed, size), organic accounts placed and
/// active organic accounts.
fn detect(dir: &Path, extra: &[&str]) -> (HashMap<String, (usize, usize)>, usize, usize) {
    let out = dir.join("sim");
    let mut args = vec!["--seed", "3", "--accounts", "1500", "--days", "14", "--operation-size", "12"];
    args.extend_from_slice(extra);
    simulate(&out, &args);
    crate::util::scrutineer()
        .arg("--quiet")
        .arg("--store")
        .arg(dir.join("store.db"))
        .args(["influence", "scan"])
        .arg(out.join("posts.csv"))
        .args(["--format", "ira", "--out"])
        .arg(dir.join("scan"))
        .assert()
        .success();
    let truth: HashMap<String, String> = read_csv(&out.join("truth.csv"))
        .into_iter()
        .map(|r| (r["account"].clone(), r["operation"].clone()))
        .collect();
    let placed: HashSet<String> =
        read_csv(&dir.join("scan/accounts.csv")).into_iter().map(|r| r["account"].clone()).collect();
    let active: HashSet<String> =
        read_csv(&out.join("posts.csv")).into_iter().map(|r| r["author_id"].clone()).collect();
    let mut ops: HashMap<String, (usize, usize)> = HashMap::new();
    for (acc, op) in &truth {
        let e = ops.entry(op.clone()).or_default();
        e.1 += 1;
        e.0 += placed.contains(acc) as usize;
    }
    let organic_placed = placed.iter().filter(|a| !truth.contains_key(*a)).count();
    let organic_active = active.iter().filter(|a| !truth.contains_key(*a)).count();
    (ops, organic_placed, organic_active)
}

#[test]
fn injected_operations_are_found_and_organic_accounts_mostly_are_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ops, organic_placed, organic_active) = detect(dir.path(), &[]);
    assert_eq!(ops.len(), 4, "one operation per tactic");
    for (op, (found, size)) in &ops {
        assert!(*found * 10 >= *size * 9, "{op}: {found} of {size} accounts placed");
    }
    // False-alarm budget: at most 1% of active organic accounts placed in a network.
    assert!(organic_active > 800, "{organic_active} active organic accounts");
    assert!(
        organic_placed * 100 <= organic_active,
        "{organic_placed} of {organic_active} organic accounts placed"
    );

    // Evasion must cost the detector something, and still not raise false alarms.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let (evasive, organic_placed, organic_active) = detect(dir2.path(), &["--evasive"]);
    let plain: usize = ops.values().map(|v| v.0).sum();
    let hidden: usize = evasive.values().map(|v| v.0).sum();
    assert!(hidden < plain, "evasive operations: {hidden} accounts placed, plain: {plain}");
    assert!(
        organic_placed * 100 <= organic_active,
        "{organic_placed} of {organic_active} organic accounts placed"
    );
}
