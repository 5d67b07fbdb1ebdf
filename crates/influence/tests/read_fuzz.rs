//! Property tests: no reader panics on any bytes, plain or gzip, whole or cut.

use std::io::Write;

use proptest::prelude::*;
use scrutineer_influence::{ColumnMapping, Format, read_posts};

fn formats() -> Vec<Format> {
    let mapping: ColumnMapping = "account=a,time=t,text=x,urls=u,kind=k".parse().expect("mapping");
    vec![
        Format::Auto,
        Format::TwitterV1,
        Format::TwitterV2,
        Format::Ira,
        Format::IoArchive,
        Format::Csv(mapping),
    ]
}

fn check(bytes: &[u8]) {
    for format in formats() {
        let mut posts = 0u64;
        if let Ok(report) = read_posts(bytes, "fuzz", &format, |_| posts += 1) {
            assert_eq!(report.posts, posts);
            assert!(report.skip_samples.len() as u64 <= report.skipped);
        }
    }
}

/// Inputs that look like each format, so the fuzzing gets past the header.
fn seeded() -> impl Strategy<Value = Vec<u8>> {
    let prefixes = prop::sample::select(vec![
        "author_id,content,publish_date,post_type,retweet\n",
        "tweetid,userid,tweet_time,tweet_text,is_retweet,hashtags,urls\n",
        "a,t,x,u,k\n",
        "{\"created_at\":\"Sat Oct 01 12:30:00 +0000 2016\",\"user\":{\"id_str\":\"1\"},\"text\":\"",
        "{\"data\":[{\"id\":\"1\",\"author_id\":\"2\",\"created_at\":\"2020-01-01T00:00:00Z\",\"text\":\"",
        "",
    ]);
    (prefixes, prop::collection::vec(any::<u8>(), 0..400)).prop_map(|(p, tail)| {
        let mut v = p.as_bytes().to_vec();
        v.extend(tail);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check(&bytes);
    }

    #[test]
    fn format_shaped_garbage_never_panics(bytes in seeded()) {
        check(&bytes);
    }

    #[test]
    fn gzip_cut_anywhere_never_panics(bytes in seeded(), cut in 0.0f64..1.0) {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).expect("gzip");
        let gz = enc.finish().expect("gzip");
        let end = ((gz.len() as f64) * cut) as usize;
        check(&gz[..end]);
    }

    #[test]
    fn entity_extraction_never_panics_and_finds_substrings(text in "\\PC{0,200}") {
        let e = scrutineer_influence::extract_entities(&text);
        for u in &e.urls {
            prop_assert!(text.contains(u.as_str()));
        }
        for h in &e.hashtags {
            prop_assert!(text.contains(h.as_str()) && !h.is_empty());
        }
        for m in &e.mentions {
            prop_assert!(text.contains(m.as_str()) && m.len() <= 15);
        }
    }
}
