//! End-to-end: `scrutineer influence scan` on fixtures written here.

use std::io::Write;
use std::path::Path;

use crate::util::quiet_with_store as scrutineer;
use predicates::prelude::*;

const IRA_HEADER: &str = "author_id,content,region,language,publish_date,harvested_date,following,followers,updates,post_type,retweet\n";

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

fn stamp(minute: u64) -> String {
    // Minutes after 2016-10-01 00:00 UTC.
    let t = chrono::DateTime::from_timestamp(1_475_280_000 + minute as i64 * 60, 0).expect("valid");
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Writes an IRA-format file: a ring of `ring` accounts that retweet the same posts
/// within minutes of each other and copy-paste one another's text, among `organic`
/// accounts that post and retweet independently.
fn write_fixture(path: &Path, ring: usize, organic: usize) -> (Vec<String>, Vec<String>) {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut out = String::from(IRA_HEADER);
    let ring_accounts: Vec<String> = (0..ring).map(|i| format!("ring_{i}")).collect();
    let organic_accounts: Vec<String> = (0..organic).map(|i| format!("person_{i}")).collect();
    // The ring: 25 campaign posts over 20 days, each retweeted by every member within
    // 10 minutes, and 10 slogans each posted by every member within the hour.
    for k in 0..25u64 {
        let base = k * 1100 + rng.below(300);
        for a in &ring_accounts {
            let m = base + rng.below(10);
            out += &format!(
                "{a},Campaign message number {k} about the election https://t.co/c{k},United States,English,{},{},10,10,10,R,1\n",
                stamp(m),
                stamp(m)
            );
        }
    }
    for k in 0..10u64 {
        let base = k * 2500 + 77;
        for a in &ring_accounts {
            let m = base + rng.below(60);
            out += &format!(
                "{a},The vote is rigged slogan {k} share before they delete it,United States,English,{},{},10,10,10,,0\n",
                stamp(m),
                stamp(m)
            );
        }
    }
    // Organic accounts: random posts and retweets of a large pool of posts, at random
    // times over the same 20 days.
    for a in &organic_accounts {
        let n = 20 + rng.below(40);
        for _ in 0..n {
            let m = rng.below(30 * 1440);
            if rng.below(2) == 0 {
                let post = rng.below(5000);
                out += &format!(
                    "{a},Popular post {post} on sports and weather,United States,English,{},{},5,5,5,R,1\n",
                    stamp(m),
                    stamp(m)
                );
            } else {
                let words = rng.next();
                out += &format!(
                    "{a},my own thoughts {words} today,United States,English,{},{},5,5,5,,0\n",
                    stamp(m),
                    stamp(m)
                );
            }
        }
    }
    std::fs::write(path, out).expect("write fixture");
    (ring_accounts, organic_accounts)
}

#[test]
fn planted_ring_is_one_network_and_exports_keep_their_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("posts.csv");
    let (ring, organic) = write_fixture(&input, 8, 60);
    let out = dir.path().join("out");
    let store = dir.path().join("s.db");
    scrutineer(&store)
        .args(["influence", "scan"])
        .arg(&input)
        .args(["--format", "ira", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("N1"));

    let accounts = std::fs::read_to_string(out.join("accounts.csv")).expect("accounts.csv");
    let mut lines = accounts.lines();
    assert_eq!(lines.next(), Some("account,network,score"));
    let rows: Vec<(String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].to_owned())
        })
        .collect();
    let network_of = |a: &str| rows.iter().find(|(x, _)| x == a).map(|(_, n)| n.clone());
    let ring_network = network_of(&ring[0]).expect("ring member placed");
    for a in &ring {
        assert_eq!(network_of(a).as_deref(), Some(ring_network.as_str()), "{a} not with the ring");
    }
    for a in &organic {
        assert_ne!(network_of(a).as_deref(), Some(ring_network.as_str()), "{a} wrongly in the ring");
    }

    for b in ["co_retweet", "co_link", "co_hashtag", "co_tweet", "sync"] {
        let edges = std::fs::read_to_string(out.join("edges").join(format!("{b}.csv"))).expect("edge file");
        assert!(edges.starts_with("account_a,account_b,weight\n"), "{b}: {edges:.60}");
    }
    let co_retweet = std::fs::read_to_string(out.join("edges/co_retweet.csv")).expect("edges");
    // Every ordered pair of ring members retweeted the same 25 posts.
    let ring_pairs = co_retweet.lines().filter(|l| l.starts_with("ring_") && l.contains(",ring_")).count();
    assert_eq!(ring_pairs, ring.len() * (ring.len() - 1));
    assert!(co_retweet.lines().skip(1).all(|l| l.ends_with(",25") || !l.starts_with("ring_")));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("networks.json")).expect("json"))
            .expect("valid JSON");
    let first = &json["networks"][0];
    assert_eq!(first["id"], ring_network.as_str());
    assert!(first["attribution"]["hour_profile_utc"].as_array().is_some_and(|h| h.len() == 24));
    let gexf = std::fs::read_to_string(out.join("network.gexf")).expect("gexf");
    assert!(gexf.contains("<gexf") && gexf.contains(&format!("id=\"{}\"", ring[0])));
    let graphml = std::fs::read_to_string(out.join("network.graphml")).expect("graphml");
    assert!(graphml.contains("<graphml") && graphml.contains(&format!("<node id=\"{}\">", ring[0])));

    // The finding is in the store, with DISARM techniques and evidence.
    let listed = scrutineer(&store)
        .args(["--json", "findings", "list", "--engine", "influence"])
        .output()
        .expect("run");
    let findings: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("findings JSON");
    let f = &findings[0];
    assert_eq!(f["kind"], "coordinated_network");
    assert!(f["techniques"].as_array().is_some_and(|t| t.iter().any(|x| x["id"] == "T0049.003")));
    let id = f["id"].as_str().expect("id");
    scrutineer(&store)
        .args(["findings", "show", &id[..16]])
        .assert()
        .success()
        .stdout(predicate::str::contains("evidence"));
}

#[test]
fn organic_traffic_alone_gives_no_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("posts.csv");
    write_fixture(&input, 0, 80);
    let out = dir.path().join("out");
    scrutineer(&dir.path().join("s.db"))
        .args(["influence", "scan"])
        .arg(&input)
        .args(["--format", "ira", "--out"])
        .arg(&out)
        .assert()
        .success();
    let accounts = std::fs::read_to_string(out.join("accounts.csv")).expect("accounts.csv");
    assert_eq!(accounts.lines().count(), 1, "organic accounts were placed in networks:\n{accounts}");
}

#[test]
fn out_of_range_parameters_are_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("posts.csv");
    write_fixture(&input, 3, 10);
    for (flag, value, named) in [
        ("--alpha", "0", "alpha"),
        ("--alpha", "1.5", "alpha"),
        ("--text-similarity", "1.1", "text similarity"),
        ("--min-account-evidence", "-1", "account evidence"),
        ("--window", "-5", "window"),
    ] {
        let store = dir.path().join("s.db");
        scrutineer(&store)
            .args(["influence", "scan"])
            .arg(&input)
            .args(["--format", "ira", &format!("{flag}={value}")])
            .assert()
            .failure()
            .stderr(predicate::str::contains(named).and(predicate::str::contains(value)));
        assert!(!store.exists(), "{flag} {value}: the store was created for a refused scan");
    }
}

#[test]
fn missing_columns_name_the_file_and_the_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("bad.csv");
    std::fs::write(&input, "author_id,text\nx,hello\n").expect("write");
    scrutineer(&dir.path().join("s.db"))
        .args(["influence", "scan"])
        .arg(&input)
        .args(["--format", "ira"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("bad.csv").and(predicate::str::contains("content")));
}

#[test]
fn garbage_lines_are_counted_and_reported_with_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("mixed.csv");
    let (_, _) = write_fixture(&input, 5, 10);
    let mut f = std::fs::OpenOptions::new().append(true).open(&input).expect("open");
    f.write_all(b"ring_0,broken row,United States,English,not-a-date,x,1,1,1,,0\n").expect("write");
    f.write_all(b"\x00\x01\x02 binary junk\n").expect("write");
    drop(f);
    let store = dir.path().join("s.db");
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["influence", "scan"])
        .arg(&input)
        .args(["--format", "ira", "--top", "1"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 skipped"), "{stderr}");
    assert!(stderr.contains("publish_date"), "{stderr}");
}

#[test]
fn truncated_gzip_keeps_what_was_read_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("posts.csv");
    write_fixture(&plain, 5, 20);
    let bytes = std::fs::read(&plain).expect("read");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&bytes).expect("gzip");
    let gz = enc.finish().expect("gzip");
    let cut = dir.path().join("cut.csv.gz");
    std::fs::write(&cut, &gz[..gz.len() * 2 / 3]).expect("write");
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(dir.path().join("s.db"))
        .args(["influence", "scan"])
        .arg(&cut)
        .args(["--format", "ira"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("truncated"), "{stderr}");
}

#[test]
fn latin1_bytes_are_decoded_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("latin1.csv");
    let mut bytes = IRA_HEADER.as_bytes().to_vec();
    for i in 0..5 {
        bytes.extend_from_slice(format!("acct_{i},caf").as_bytes());
        bytes.push(0xe9); // 'é' in Latin-1, invalid as UTF-8
        bytes.extend_from_slice(b" ouvert,France,French,2016-10-01 10:00:00,2016-10-01 10:00:00,1,1,1,,0\n");
    }
    std::fs::write(&input, bytes).expect("write");
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(dir.path().join("s.db"))
        .args(["influence", "scan"])
        .arg(&input)
        .args(["--format", "ira"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("5 posts") && stderr.contains("Windows-1252"), "{stderr}");
}

#[test]
fn help_reads_well() {
    crate::util::scrutineer()
        .args(["influence", "scan", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--window").and(predicate::str::contains("co_retweet")));
}
