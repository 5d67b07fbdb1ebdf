//! Any bytes read as each platform format named (Telegram Desktop JSON and HTML, Telethon,
//! Reddit, Bluesky Jetstream, repository CAR files and firehose frames, Meta Content Library, CrowdTangle,
//! TikTok, YouTube, 4CAT): every record
//! becomes a post, a count (no account, not a post) or a skip with a line number, never a
//! panic, and the skips come in input order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scrutineer_influence::{Fields, Format, read_posts_limited};

// `reddit-export` is left out: it reads the account from a file beside its input, which
// the fuzzer's bytes have not (its rows go through the CSV driver the others exercise).
const FORMATS: [&str; 12] = [
    "telegram",
    "telegram-html",
    "telethon",
    "reddit",
    "bluesky",
    "bluesky-car",
    "bluesky-firehose",
    "meta",
    "crowdtangle",
    "tiktok",
    "youtube",
    "4cat",
];

fuzz_target!(|data: &[u8]| {
    for name in FORMATS {
        let format: Format = name.parse().expect("a format name");
        let mut posts = 0u64;
        if let Ok(report) =
            read_posts_limited(data, "fuzz", &format, Fields::ALL, 1024, &|p| p.into_owned(), |_| posts += 1)
        {
            assert_eq!(report.posts, posts, "{name}: every post reaches the sink");
            let mut last = 0;
            for s in &report.skip_samples {
                assert!(s.line >= last, "{name}: skips in input order");
                assert!(s.reason.len() <= 1024, "{name}: skip reasons are bounded");
                last = s.line;
            }
        }
    }
});
