//! Reads each file given with the format given and prints how fast: the reader alone,
//! every post collected (as a scan's first stage does), no detection.
//!
//! ```text
//! cargo run --release -p scrutineer-influence --example read_speed -- FORMAT FILE [REPEAT]
//! ```
//!
//! Prints one line: `format=F bytes=N posts=N skipped=N seconds=S mb_per_s=X`, the best
//! of REPEAT runs (default 3). Bytes are the file's bytes as stored.

use std::process::ExitCode;
use std::time::Instant;

use scrutineer_influence::{Fields, Format, PostRef, read_posts_with};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(format), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: read_speed FORMAT FILE [REPEAT]");
        return ExitCode::from(2);
    };
    let format: Format = match format.parse() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let repeat: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let bytes = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeat {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        };
        let started = Instant::now();
        let mut posts = 0u64;
        // Every post made owned, as a caller that keeps it would.
        let report =
            read_posts_with(file, path, &format, Fields::ALL, &|p: PostRef<'_>| p.into_owned(), |_| {
                posts += 1
            });
        let seconds = started.elapsed().as_secs_f64();
        match report {
            Ok(report) => {
                best = best.min(seconds);
                last = Some((report, posts));
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let Some((report, posts)) = last else { return ExitCode::FAILURE };
    println!(
        "format={} bytes={bytes} posts={posts} skipped={} seconds={best:.3} mb_per_s={:.1}",
        report.format,
        report.skipped,
        bytes as f64 / 1e6 / best
    );
    ExitCode::SUCCESS
}
