//! Any bytes as Twitter v1.1 and v2 (twarc2) JSON lines: posts or skips, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scrutineer_influence::{Fields, Format, read_posts_limited};

fuzz_target!(|data: &[u8]| {
    for format in [Format::TwitterV1, Format::TwitterV2] {
        let _ = read_posts_limited(data, "fuzz", &format, Fields::ALL, 1024, &|p| p.into_owned(), |_| {});
    }
});
