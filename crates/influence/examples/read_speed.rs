//! Reads each file given with the format given and prints how fast: the reader alone,
//! every post collected (as a scan's first stage does), no detection.
//!
//! ```text
//! cargo run --release -p scrutineer-influence --example read_speed -- FORMAT FILE [REPEAT [MIN_SECONDS]]
//! ```
//!
//! Prints one line: `format=F bytes=N posts=N skipped=N runs=N seconds=S mb_per_s=X`, the
//! best of at least REPEAT runs (default 3), run again until MIN_SECONDS (default 1) have
//! been spent reading. A small file read in 20 ms is at the mercy of whatever else the
//! machine runs: the best of many runs is the reader's own speed, the best of three is not.
//! Bytes are the file's bytes as stored.

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
    let min_seconds: f64 = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(1.0);
    // A bound on the runs, so that a tiny file does not loop for ever.
    const MAX_RUNS: usize = 500;
    let bytes = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut best = f64::INFINITY;
    let mut last = None;
    let mut spent = 0.0;
    let mut runs = 0usize;
    while runs < repeat || (spent < min_seconds && runs < MAX_RUNS) {
        runs += 1;
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
                spent += seconds;
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
        "format={} bytes={bytes} posts={posts} skipped={} runs={runs} seconds={best:.3} mb_per_s={:.1}",
        report.format,
        report.skipped,
        bytes as f64 / 1e6 / best
    );
    ExitCode::SUCCESS
}
