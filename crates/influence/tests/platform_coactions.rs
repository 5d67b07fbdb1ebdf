//! Co-reply, co-comment and user-supplied items go through the same window, chance filter
//! and account test as the Twitter behaviours: a ring that comments in the same Reddit
//! threads (or shares the same supplied items) within minutes is found, while ordinary
//! commenters who pile into the same popular threads at their own pace are not.

use scrutineer_influence::{
    Behaviour, Corpus, Format, ScanParams, StateMediaList, analyse, ingest, ingest_items,
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

fn comment(author: &str, id: u64, t: i64, thread: u64, parent: Option<u64>) -> String {
    let parent = parent.map_or(format!("t3_{thread}"), |p| format!("t1_{p}"));
    format!(
        r#"{{"author":"{author}","body":"comment {id}","created_utc":{t},"id":"c{id}","link_id":"t3_{thread}","parent_id":"{parent}","subreddit":"politics"}}"#
    ) + "\n"
}

/// Six ring accounts comment, within ten minutes of each other, on the same 15
/// submissions over 15 days, replying to the same comment there; 80 ordinary accounts
/// comment 30 times each on 400 threads, a handful of them very popular, at random times.
fn dump() -> (String, Vec<String>) {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut out = String::new();
    let mut id = 0u64;
    let ring: Vec<String> = (0..6).map(|i| format!("ring{i}")).collect();
    for k in 0..15u64 {
        let base = START + k as i64 * 86_400 + rng.below(20_000) as i64;
        let thread = 10_000 + k;
        // The comment they all answer, by someone outside the ring.
        id += 1;
        let target = id;
        out += &comment(&format!("person{k}"), target, base - 60, thread, None);
        for a in &ring {
            id += 1;
            out += &comment(a, id, base + rng.below(600) as i64, thread, Some(target));
        }
    }
    for p in 0..80 {
        for _ in 0..30 {
            id += 1;
            let thread = if rng.below(3) == 0 { rng.below(5) } else { rng.below(400) };
            out += &comment(&format!("person{p}"), id, START + rng.below(15 * 86_400) as i64, thread, None);
        }
    }
    (out, ring.iter().map(|a| format!("reddit:{a}")).collect())
}

fn params(behaviours: &[Behaviour]) -> ScanParams {
    ScanParams { behaviours: behaviours.to_vec(), ..ScanParams::default() }.validated().expect("valid")
}

#[test]
fn co_comment_and_co_reply_find_the_ring_and_only_it() {
    let (input, ring) = dump();
    for behaviour in [Behaviour::CoComment, Behaviour::CoReply] {
        let params = params(&[behaviour]);
        let mut corpus = Corpus::new(&params);
        ingest(&mut corpus, input.as_bytes(), "RC_2016-10", &Format::Auto).expect("reads");
        let analysis = analyse(corpus, &params, &StateMediaList::default());
        let found: Vec<&str> =
            analysis.networks.iter().flat_map(|n| n.accounts.iter().map(|a| a.account.as_str())).collect();
        let mut want: Vec<&str> = ring.iter().map(String::as_str).collect();
        let mut got = found.clone();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "{behaviour}: networks {found:?}");
        assert_eq!(analysis.networks.len(), 1, "{behaviour}");
        assert!(analysis.networks[0].behaviours.iter().any(|b| b.behaviour == behaviour), "{behaviour}");
    }
    // Without the behaviour asked for, comments alone tie no one.
    let params = params(&[Behaviour::CoRetweet]);
    let mut corpus = Corpus::new(&params);
    ingest(&mut corpus, input.as_bytes(), "RC_2016-10", &Format::Auto).expect("reads");
    assert!(analyse(corpus, &params, &StateMediaList::default()).networks.is_empty());
}

#[test]
fn supplied_items_find_the_accounts_that_share_them() {
    let mut rng = Rng(0xdeadbeefcafef00d);
    let mut items = String::from("account,item,time\n");
    // Five accounts post the same 12 images (perceptual hashes) within minutes, over 12
    // days; 60 others post images of their own and a few popular memes.
    for k in 0..12i64 {
        let base = START + k * 86_400;
        for a in 0..5 {
            items += &format!("telegram:channel{a},phash:{k:016x},{}\n", base + rng.below(900) as i64);
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
    let params = params(&[Behaviour::CoItem]);
    let mut corpus = Corpus::new(&params);
    let report = ingest_items(&mut corpus, items.as_bytes(), "items.csv").expect("reads");
    assert_eq!(report.skipped, 0);
    let analysis = analyse(corpus, &params, &StateMediaList::default());
    let mut got: Vec<&str> =
        analysis.networks.iter().flat_map(|n| n.accounts.iter().map(|a| a.account.as_str())).collect();
    got.sort_unstable();
    let want: Vec<String> = (0..5).map(|a| format!("telegram:channel{a}")).collect();
    assert_eq!(got, want);
}
