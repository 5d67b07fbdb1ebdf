//! Any bytes, plain or gzip, read with `--format auto`: the sniffing picks a reader (or
//! refuses the input), and every record becomes a post or a skip with a line number,
//! never a panic. Lines are bounded at 1 KiB so that the long-line path is reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scrutineer_influence::{Fields, Format, read_posts_limited};

fuzz_target!(|data: &[u8]| {
    let mut posts = 0u64;
    if let Ok(report) =
        read_posts_limited(data, "fuzz", &Format::Auto, Fields::ALL, 1024, &|p| p.into_owned(), |_| {
            posts += 1
        })
    {
        assert_eq!(report.posts, posts, "every post reaches the sink");
        let mut last = 0;
        for s in &report.skip_samples {
            assert!(s.line >= last, "skips in input order");
            assert!(s.reason.len() <= 1024, "skip reasons are bounded");
            last = s.line;
        }
    }
});
