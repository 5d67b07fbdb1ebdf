//! End-to-end: one `scrutineer influence scan` over Twitter, Telegram and Reddit exports at
//! once, each in its own platform's layout, told apart by `--format auto`.

use std::path::Path;

use crate::util::with_store as scrutineer;

/// A small deterministic generator (xorshift), so fixtures need no extra crate.
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

/// Seconds after 2024-10-01 00:00 UTC.
const START: i64 = 1_727_740_800;

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).expect("valid").to_rfc3339()
}

fn twitter(user: &str, id: u64, t: i64, text: &str, url: &str) -> String {
    let created = chrono::DateTime::from_timestamp(t, 0).expect("valid").format("%a %b %d %H:%M:%S +0000 %Y");
    format!(
        r#"{{"created_at":"{created}","id_str":"{id}","text":"{text} {url}","entities":{{"urls":[{{"url":"https://t.co/x","expanded_url":"{url}"}}],"hashtags":[],"user_mentions":[]}},"user":{{"id_str":"{user}","screen_name":"{user}"}}}}"#
    )
}

fn telethon(channel: u64, id: u64, t: i64, text: &str, url: &str) -> String {
    let text = format!("{text} {url}");
    format!(
        r#"{{"_": "Message", "id": {id}, "peer_id": {{"_": "PeerChannel", "channel_id": {channel}}}, "date": "{}", "message": "{text}", "from_id": null, "fwd_from": null, "reply_to": null, "entities": [{{"_": "MessageEntityUrl", "offset": {}, "length": {}}}]}}"#,
        rfc3339(t),
        text.encode_utf16().count() - url.encode_utf16().count(),
        url.encode_utf16().count()
    )
}

fn reddit(author: &str, id: u64, t: i64, title: &str, url: &str) -> String {
    let domain = url.split('/').nth(2).unwrap_or("");
    format!(
        r#"{{"author":"{author}","created_utc":{t},"domain":"{domain}","id":"s{id}","is_self":false,"selftext":"","subreddit":"politics","title":"{title}","url":"{url}"}}"#
    )
}

/// A ring of three accounts on each platform posts the same 20 campaign links with the
/// same slogan within minutes; 60 ordinary accounts (20 a platform) post links of their
/// own and popular ones at random times; a `[deleted]` author posts too.
fn write_fixtures(dir: &Path) -> [std::path::PathBuf; 3] {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let (mut tw, mut tg, mut rd) = (String::new(), String::new(), String::new());
    let mut id = 1000u64;
    for k in 0..20i64 {
        let base = START + k * 86_400 + rng.below(3_600) as i64;
        let url = format!("https://campaign.example/story{k}");
        let text = format!("They do not want you to see story {k}");
        for m in 0..3 {
            id += 1;
            tw += &twitter(&format!("tw_ring{m}"), id, base + rng.below(600) as i64, &text, &url);
            tw.push('\n');
            tg += &telethon(7_000 + m, id, base + rng.below(600) as i64, &text, &url);
            tg.push('\n');
            rd += &reddit(&format!("rd_ring{m}"), id, base + rng.below(600) as i64, &text, &url);
            rd.push('\n');
        }
    }
    for person in 0..20u64 {
        for _ in 0..25 {
            id += 1;
            let t = START + rng.below(20 * 86_400) as i64;
            let url = if rng.below(3) == 0 {
                format!("https://popular.example/p{}", rng.below(200))
            } else {
                format!("https://own.example/u{person}/{}", rng.next())
            };
            let text = format!("my view {}", rng.next());
            match rng.below(3) {
                0 => tw += &(twitter(&format!("tw_person{person}"), id, t, &text, &url) + "\n"),
                1 => tg += &(telethon(9_000 + person, id, t, &text, &url) + "\n"),
                _ => rd += &(reddit(&format!("rd_person{person}"), id, t, &text, &url) + "\n"),
            }
        }
    }
    rd += &(reddit("[deleted]", 1, START, "gone", "https://campaign.example/story0") + "\n");
    let paths = [dir.join("tweets.jsonl"), dir.join("telegram.jsonl"), dir.join("RS_2024-10.ndjson")];
    for (path, body) in paths.iter().zip([tw, tg, rd]) {
        std::fs::write(path, body).expect("write fixture");
    }
    paths
}

#[test]
fn one_scan_over_three_platforms_finds_the_network_across_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = write_fixtures(dir.path());
    let out = dir.path().join("out");
    let run = scrutineer(&dir.path().join("s.db"))
        .args(["influence", "scan"])
        .args(&inputs)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    for format in ["(twitter-v1)", "(telethon)", "(reddit)"] {
        assert!(stderr.contains(format), "{format} not sniffed: {stderr}");
    }
    assert!(stderr.contains("1 without an account"), "the [deleted] author is counted: {stderr}");

    let accounts = std::fs::read_to_string(out.join("accounts.csv")).expect("accounts.csv");
    let rows: Vec<(String, String)> = accounts
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].to_owned())
        })
        .collect();
    let network_of = |a: &str| rows.iter().find(|(x, _)| x == a).map(|(_, n)| n.clone());
    let ring: Vec<String> = (0..3)
        .flat_map(|m| {
            [format!("tw_ring{m}"), format!("telegram:channel{}", 7_000 + m), format!("reddit:rd_ring{m}")]
        })
        .collect();
    let network = network_of(&ring[0]).expect("ring member placed");
    for a in &ring {
        assert_eq!(network_of(a).as_deref(), Some(network.as_str()), "{a} not with the ring:\n{accounts}");
    }
    let outsiders: Vec<&(String, String)> =
        rows.iter().filter(|(a, n)| *n == network && !ring.contains(a)).collect();
    assert!(outsiders.is_empty(), "ordinary accounts in the ring's network: {outsiders:?}");
    assert!(!rows.iter().any(|(a, _)| a.contains("[deleted]")), "a deleted author was made an account");
}

/// `--items` adds the analyst's account–item actions as the `co_item` behaviour: accounts
/// that shared the same images within minutes are one network, with their edges exported.
#[test]
fn supplied_items_join_the_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = write_fixtures(dir.path());
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut items = String::from("account,item,time\n");
    for k in 0..12i64 {
        for a in 0..4 {
            let t = START + k * 86_400 + rng.below(900) as i64;
            items += &format!("telegram:channel{},phash:{k:016x},{}\n", 9_000 + a, rfc3339(t));
        }
    }
    for p in 0..20 {
        for _ in 0..10 {
            items += &format!("tw_person{p},own{},{}\n", rng.next(), START + rng.below(12 * 86_400) as i64);
        }
    }
    items += "tw_person1,,2024-10-01T00:00:00Z\n";
    let items_path = dir.path().join("images.csv");
    std::fs::write(&items_path, items).expect("write items");
    let out = dir.path().join("out");
    let run = scrutineer(&dir.path().join("s.db"))
        .args(["influence", "scan"])
        .args(&inputs)
        .arg("--items")
        .arg(&items_path)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("field item: empty"), "the bad row is named: {stderr}");
    let edges = std::fs::read_to_string(out.join("edges/co_item.csv")).expect("co_item edges");
    let pairs = edges
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("telegram:channel9") && l.contains(",telegram:channel9"))
        .count();
    assert_eq!(pairs, 4 * 3, "every ordered pair of the four channels: {edges}");
    assert_eq!(edges.lines().count(), 1 + pairs, "no other account tied by items: {edges}");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "account,thing\n").expect("write");
    let run = scrutineer(&dir.path().join("s.db"))
        .args(["influence", "scan"])
        .args(&inputs)
        .arg("--items")
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("bad.csv") && stderr.contains("item, time"), "{stderr}");
}
