//! Reads the real data in `../shared/data/influence` and checks the readers against
//! counts computed independently (flate2 + csv directly) from the same files.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use scrutineer_influence::{Format, read_posts_from_path};
use scrutineer_influence::{Post, PostKind};

fn shared(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/influence").join(rel);
    assert!(path.is_file(), "missing shared data file {} (see ../shared/data/README.md)", path.display());
    path
}

fn read_all(path: &Path, format: &Format) -> (Vec<Post>, scrutineer_influence::ReadReport) {
    let mut posts = Vec::new();
    let report = read_posts_from_path(path, format, |p| posts.push(p)).expect("readable");
    (posts, report)
}

#[test]
fn ira_election_season_file() {
    let path = shared("ira/tweets-2016-09-01_2016-11-30.csv.gz");

    // Independent expectation, straight from the file.
    let gz = flate2::read::GzDecoder::new(File::open(&path).expect("open"));
    let mut rdr = csv::Reader::from_reader(gz);
    let headers = rdr.byte_headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name.as_bytes()).expect("column");
    let (author, post_type, retweet) = (col("author_id"), col("post_type"), col("retweet"));
    let mut rows = 0u64;
    let mut rt_prefixed = 0u64;
    let mut authors = HashSet::new();
    let mut want_kinds: HashMap<PostKind, u64> = HashMap::new();
    for rec in rdr.byte_records() {
        let rec = rec.expect("record");
        rows += 1;
        authors.insert(rec[author].to_vec());
        let kind = match (&rec[post_type], &rec[retweet]) {
            (b"R" | b"RETWEET", _) | (b"", b"1") => PostKind::Retweet,
            (b"Q" | b"QUOTE_TWEET", _) => PostKind::Quote,
            _ => PostKind::Original,
        };
        *want_kinds.entry(kind).or_default() += 1;
        let content = &rec[col("content")];
        if kind == PostKind::Retweet
            && content.starts_with(b"RT @")
            && content[4..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count() > 0
        {
            let after = &content[4..];
            let len = after.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            if after.get(len) == Some(&b':') {
                rt_prefixed += 1;
            }
        }
    }
    assert_eq!(rows, 326_980, "the file's documented row count");
    assert_eq!(authors.len(), 598, "the file's documented account count");

    let started = std::time::Instant::now();
    let (posts, report) = read_all(&path, &Format::Auto);
    eprintln!("read {} posts in {:.3} s ({report})", posts.len(), started.elapsed().as_secs_f64());

    assert_eq!(report.format, "ira");
    assert_eq!(report.skipped, 0, "{:?}", report.skip_samples);
    assert!(!report.truncated);
    assert_eq!(report.records, rows);
    assert_eq!(report.posts, rows);
    assert_eq!(posts.len() as u64, rows);
    let accounts: HashSet<&str> = posts.iter().map(|p| p.account.as_str()).collect();
    assert_eq!(accounts.len(), authors.len());
    let mut got_kinds: HashMap<PostKind, u64> = HashMap::new();
    for p in &posts {
        *got_kinds.entry(p.kind).or_default() += 1;
    }
    assert_eq!(got_kinds, want_kinds);

    let from = Utc.with_ymd_and_hms(2016, 9, 1, 0, 0, 0).single().expect("date");
    let to = Utc.with_ymd_and_hms(2016, 12, 1, 0, 0, 0).single().expect("date");
    assert!(posts.iter().all(|p| p.time >= from && p.time < to), "every post inside the documented period");
    // Retweets whose content kept its `RT @handle:` prefix name the retweeted account.
    let named = posts.iter().filter(|p| p.kind == PostKind::Retweet && p.retweeted_account.is_some()).count();
    assert_eq!(named as u64, rt_prefixed);
    // Hashtags are found in the text.
    assert!(posts.iter().filter(|p| !p.hashtags.is_empty()).count() > 10_000);
}

#[test]
fn chuachinhon_unseen_files_read_as_io_archive() {
    for name in ["iranian_unseen.csv", "russian_unseen.csv", "vz_unseen.csv"] {
        let path = shared(&format!("chuachinhon_state_trolls/{name}"));
        // Bare carriage returns occur inside unquoted tweet text: only `\n` ends a row.
        let mut rdr =
            csv::ReaderBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_path(&path).expect("open");
        let rows = rdr.byte_records().count() as u64;
        let (posts, report) = read_all(&path, &Format::Auto);
        assert_eq!(report.format, "io-archive", "{name}");
        assert_eq!(report.records, rows, "{name}");
        assert_eq!(report.posts + report.skipped, rows, "{name}");
        assert_eq!(report.skipped, 0, "{name}: {:?}", report.skip_samples);
        assert!(!report.truncated);
        // No userid column in these files: the screen name is the account key.
        assert!(posts.iter().all(|p| p.handle.as_deref() == Some(p.account.as_str())), "{name}");
        assert!(posts.iter().all(|p| p.id.is_some()), "{name}");
        let explicit = read_all(&path, &Format::IoArchive).1;
        assert_eq!(explicit.posts, report.posts, "{name}");
    }
}
