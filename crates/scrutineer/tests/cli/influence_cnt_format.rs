//! End-to-end: the 8-column CSV of coordination-network-toolkit read with `--format csv`
//! and the toolkit's parameters (window 60 s, minimum weight 2, exact text, no chance
//! filter) gives the toolkit's directed edge weights, worked out by hand below.

use std::collections::BTreeSet;
use std::path::Path;

const HEADER: &str = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n";
const MAP: &str = "account=user_id,handle=username,retweeted_id=repost_id,reply_to_id=reply_id,text=message,\
                   time=timestamp,urls=urls,id=message_id,list_separator=space";
const T0: i64 = 1_475_280_000;

struct Rows(String, usize);

impl Rows {
    fn add(&mut self, user: &str, repost: &str, message: &str, t: i64, urls: &str) {
        self.1 += 1;
        let message = message.replace('"', "\"\"");
        self.0 += &format!("{},{user},{user},{repost},,\"{message}\",{},{urls}\n", self.1, T0 + t);
    }
}

fn edges(dir: &Path, behaviour: &str) -> BTreeSet<(String, String, u32)> {
    let path = dir.join("edges").join(format!("{behaviour}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("account_a,account_b,weight"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].to_string(), f[1].to_string(), f[2].parse().expect("weight"))
        })
        .collect()
}

fn set(items: &[(&str, &str, u32)]) -> BTreeSet<(String, String, u32)> {
    items.iter().map(|(a, b, w)| (a.to_string(), b.to_string(), *w)).collect()
}

#[test]
fn toolkit_layout_gives_the_toolkit_weights() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut r = Rows(HEADER.to_string(), 0);
    // co_retweet. Post x: a at 0 and 100, b at 50: both of a's retweets have b within
    // 60 s (w(a->b) = 2), b's one has a (w(b->a) = 1). Post y: 60 s apart is inside the
    // window (+1 each way), 61 s apart is not. c retweets x alone, hours later.
    r.add("a", "x", "retweeted text x", 0, "");
    r.add("b", "x", "retweeted text x", 50, "");
    r.add("a", "x", "retweeted text x", 100, "");
    r.add("a", "y", "retweeted text y", 1000, "");
    r.add("b", "y", "retweeted text y", 1060, "");
    r.add("a", "y", "retweeted text y", 2000, "");
    r.add("b", "y", "retweeted text y", 2061, "");
    r.add("c", "x", "retweeted text x", 20_000, "");
    // co_link: one page written two ways (host case, tracking parameter), twice; the
    // same link in retweets does not count (it is the original author's).
    r.add("d", "", "read HTTPS://Example.COM/p?utm_source=z", 5000, "HTTPS://Example.COM/p?utm_source=z");
    r.add("e", "", "read https://example.com/p", 5010, "https://example.com/p");
    r.add("d", "", "again HTTPS://Example.COM/p?utm_source=z", 6000, "HTTPS://Example.COM/p?utm_source=z");
    r.add("e", "", "again https://example.com/p", 6030, "https://example.com/p");
    r.add("d", "z1", "rt https://other.org/x", 7000, "https://other.org/x");
    r.add("e", "z2", "rt https://other.org/x", 7001, "https://other.org/x");
    r.add("d", "z3", "rt https://other.org/x", 7100, "https://other.org/x");
    r.add("e", "z4", "rt https://other.org/x", 7101, "https://other.org/x");
    // co_tweet: case, mentions and white space do not matter; texts that are only
    // mentions are not matched.
    r.add("f", "", "Hello @x World", 8000, "");
    r.add("g", "", "hello   world @y", 8020, "");
    r.add("f", "", "Hello @x World", 9000, "");
    r.add("g", "", "HELLO world", 9040, "");
    r.add("f", "", "@a @b", 10_000, "");
    r.add("g", "", "@c", 10_001, "");
    r.add("f", "", "@a @b", 10_100, "");
    r.add("g", "", "@c", 10_101, "");
    let input = dir.path().join("cnt.csv");
    std::fs::write(&input, &r.0).expect("write fixture");
    let out = dir.path().join("out");
    crate::util::scrutineer()
        .args(["--quiet", "--store"])
        .arg(dir.path().join("s.db"))
        .args(["influence", "scan"])
        .arg(&input)
        .args(["--format", "csv", "--map", MAP, "--out"])
        .arg(&out)
        .args(["--window", "60", "--min-count", "2", "--edge-filter", "none", "--text-similarity", "1"])
        .args([
            "--max-item-accounts",
            "0",
            "--behaviours",
            "co_retweet,co_link,co_tweet",
            "--min-network-size",
            "2",
        ])
        .assert()
        .success();
    assert_eq!(edges(&out, "co_retweet"), set(&[("a", "b", 3), ("b", "a", 2)]));
    assert_eq!(edges(&out, "co_link"), set(&[("d", "e", 2), ("e", "d", 2)]));
    assert_eq!(edges(&out, "co_tweet"), set(&[("f", "g", 2), ("g", "f", 2)]));
}
