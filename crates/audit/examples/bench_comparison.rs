//! Benchmark of a ballot-comparison audit at state scale: `cards` cards in
//! `jurisdictions` counties, `contests` contests (statewide ones on every card, the rest
//! local, card-style), Colorado's first-round sizes drawn with the consistent sampler,
//! retrieval lists (CSV and HTML) written, every drawn card read, risk measured.
//! Prints the seconds of each step. Run by `scripts/bench-audit-comparison.sh`.
//!
//! Usage: `bench_comparison [cards] [contests] [jurisdictions] [out_dir]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use scrutineer_audit::{
    ComparisonAudit, ComparisonDecision, ComparisonParams, ContestDef, CvrCard, CvrSet, Jurisdiction,
    LocatedReading, ManifestBatch, RiskFunction, SeedCeremony, Universe, retrieval_html, write_retrieval_csv,
};

const STATEWIDE: usize = 2;
const LOCAL_PER_CARD: usize = 2;
const BATCH: u64 = 200;

/// CPU seconds used by this process so far (user + system, from /proc/self/stat), so
/// that a figure measured on a busy machine can be read beside its wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the name; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let cards = arg(1, 10_000_000);
    let contests = arg(2, 50) as usize;
    let counties = arg(3, 64) as usize;
    let out = PathBuf::from(args.get(4).cloned().unwrap_or_else(|| "target/bench-audit-comparison".into()));
    std::fs::create_dir_all(&out)?;
    let local = contests.saturating_sub(STATEWIDE).max(1);
    println!("cores: {}", rayon::current_num_threads());
    println!(
        "cards: {cards}, contests: {contests} ({STATEWIDE} statewide, {local} local), jurisdictions: {counties}"
    );

    let t = Instant::now();
    let defs: Vec<ContestDef> = (0..contests)
        .map(|c| ContestDef {
            name: if c < STATEWIDE { format!("Statewide {c}") } else { format!("Local {}", c - STATEWIDE) },
            vote_for: 1,
            choices: vec!["A".into(), "B".into()],
        })
        .collect();
    let mut sets = Vec::with_capacity(counties);
    let mut jurisdictions = Vec::with_capacity(counties);
    let per = cards / counties as u64;
    for j in 0..counties {
        let n = if j + 1 == counties { cards - per * (counties as u64 - 1) } else { per };
        let mut batches = Vec::new();
        let mut list = Vec::with_capacity(n as usize);
        for i in 0..n {
            let b = i / BATCH;
            if i % BATCH == 0 {
                batches.push(ManifestBatch {
                    container: format!("Box {}", b / 10 + 1),
                    tabulator: (b % 8 + 1).to_string(),
                    batch: b.to_string(),
                    ballots: BATCH.min(n - i),
                });
            }
            let h = mix(i ^ ((j as u64) << 40));
            // Statewide contest 0 has a 2% margin, contest 1 a 10% one; local contests
            // 5% to 30%. Each card carries the statewide contests and LOCAL_PER_CARD locals.
            let mut votes: Vec<(u32, Vec<u32>)> = Vec::with_capacity(STATEWIDE + LOCAL_PER_CARD);
            for c in 0..STATEWIDE {
                let a_share = if c == 0 { 510 } else { 550 };
                votes.push((c as u32, vec![u32::from(mix(h ^ c as u64) % 1000 >= a_share)]));
            }
            for k in 0..LOCAL_PER_CARD {
                let c = STATEWIDE + (j * LOCAL_PER_CARD + k) % local;
                let a_share = 525 + (c as u64 % 6) * 25;
                votes.push((c as u32, vec![u32::from(mix(h ^ (c as u64 + 99)) % 1000 >= a_share)]));
            }
            votes.sort_by_key(|v| v.0);
            votes.dedup_by_key(|v| v.0);
            list.push(CvrCard {
                tabulator: (b % 8 + 1).to_string(),
                batch: b.to_string(),
                position: i % BATCH + 1,
                imprinted_id: String::new(),
                votes,
            });
        }
        jurisdictions.push(Jurisdiction {
            name: format!("County{j:02}"),
            manifest_file: PathBuf::new(),
            manifest_sha256: String::new(),
            cvr_file: PathBuf::new(),
            cvr_sha256: String::new(),
            cvr_format: Default::default(),
            rctab_config: None,
            batches,
        });
        sets.push(CvrSet { contests: defs.clone(), cards: list });
    }
    println!("generate CVRs and manifests: {:.2} s (not part of the audit)", t.elapsed().as_secs_f64());

    let t0 = Instant::now();
    let cpu0 = cpu_seconds();
    let params = ComparisonParams {
        name: "Benchmark".into(),
        risk_limit: 0.03,
        gamma: 1.03905,
        universe: Universe::CardStyle,
        targets: Vec::new(),
        risk_function: RiskFunction::KaplanMarkov,
    };
    let mut audit = ComparisonAudit::from_records(params, jurisdictions, &sets)?;
    audit.record_seed(SeedCeremony {
        seed: "01234567890123456789".into(),
        rolled_by: vec!["bench".into()],
        witnesses: vec![],
        at: "2024-11-20T09:00:00Z".into(),
    })?;
    println!(
        "start (manifest checks, tabulation): {:.2} s wall, {:.2} s CPU",
        t0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0
    );

    let t = Instant::now();
    let cpu = cpu_seconds();
    let sizes = audit.next_round_sizes();
    let round = audit.draw_records(&sizes, &sets)?;
    println!(
        "draw round 1 (tickets for every card): {:.2} s wall, {:.2} s CPU, {} cards drawn",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        round.new_cards
    );

    let t = Instant::now();
    let rows = audit.retrieval_list(4, None);
    write_retrieval_csv(std::io::BufWriter::new(std::fs::File::create(out.join("retrieval.csv"))?), &rows)?;
    std::fs::write(out.join("retrieval.html"), retrieval_html("Benchmark", &rows))?;
    println!("retrieval lists (CSV and HTML, {} rows): {:.2} s", rows.len(), t.elapsed().as_secs_f64());

    let t = Instant::now();
    let readings = read_as_cvr(&audit);
    audit.record_readings(readings, Path::new("bench-readings"))?;
    let status = audit.status();
    let stopped = status.iter().filter(|s| s.decision == ComparisonDecision::Stop).count();
    println!(
        "record readings and measure risk: {:.2} s ({stopped} of {} contests met the risk limit)",
        t.elapsed().as_secs_f64(),
        status.len()
    );
    println!(
        "audit total (start, draw, retrieval lists, risk): {:.2} s wall, {:.2} s CPU",
        t0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0
    );
    Ok(())
}

/// The boards read every drawn card as its CVR says.
fn read_as_cvr(a: &ComparisonAudit) -> Vec<LocatedReading> {
    let mut out = Vec::new();
    for c in &a.cards {
        let by: BTreeMap<&String, &Vec<String>> = c.cvr.iter().collect();
        for (contest, choices) in by {
            out.push(LocatedReading {
                line: 0,
                jurisdiction: c.jurisdiction.clone(),
                tabulator: c.tabulator.clone(),
                batch: c.batch.clone(),
                position: c.position,
                board: "Board 1".into(),
                found: true,
                contest: Some(contest.clone()),
                choice: choices.first().cloned(),
            });
        }
    }
    out
}
