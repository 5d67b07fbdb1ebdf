//! The count: paper ballots (the voters' true marks), the cast-vote records the tabulators
//! made of them, a ballot manifest, and the reported results, with the tabulation altered in
//! some counties for some contests so that a risk-limiting audit has something to catch.
//!
//! Files (batch labels are `JURISDICTION/BATCH`, as the manifest reader builds them):
//! - `manifest.csv`: `Jurisdiction,Batch Name,Number of Ballots` (Arlo's layout);
//! - `paper.csv`: `batch,position,contest,choice`: the marks on each paper ballot, one row
//!   per ballot and contest (an empty choice is an undervote); the audit board's view;
//! - `cvr.csv`: `cvr_id,batch,position,contest,choice`: what the tabulators recorded;
//! - `results.csv`: `contest,candidate,votes`: the reported statewide totals (sums of the CVRs);
//! - `results_by_county.csv`: `jurisdiction,contest,candidate,votes`;
//! - `truth.csv`: `contest,jurisdiction,candidate,paper_votes,reported_votes`;
//! - `truth.json`: per contest the true and the reported winner, the altered counties and
//!   the number of switched votes.
//!
//! and, for a ballot-comparison audit (`scrutineer audit comparison`), in `comparison/`:
//! - `jurisdictions.csv`: `jurisdiction,manifest,cvr`, one row per county;
//! - `COUNTY-manifest.csv`: the county's ballot manifest in ColoradoRLA's layout
//!   (`CountyID,ScannerID,BatchID,NumBallots,StorageLocation`): batch `b` of a county was
//!   scanned on tabulator `b mod 3 + 1` and is stored in box `b / 4 + 1`, so that the
//!   retrieval lists have containers and tabulators to sort by;
//! - `COUNTY-CVR_Export.csv`: the same cast-vote records as `cvr.csv`, as a Dominion
//!   Democracy Suite CSV export (four header rows, one 0/1 column per choice);
//! - `paper.csv`: `jurisdiction,tabulator,batch,position,contest,choice`: the paper
//!   ballots, addressed as the comparison audit's retrieval lists address them.
//!
//! An alteration switches a share of the true leader's votes to the runner-up on the CVRs
//! of the altered counties (the "hacked tabulator" of the threat model): the reported
//! totals follow the CVRs, the paper does not change.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::rng::Draws;
use crate::{SimulateError, csv_err};

/// Tabulators per county in the comparison files (batch `b` on tabulator `b mod 3 + 1`).
const TABULATORS: u64 = 3;
/// Batches per storage box in the comparison files.
const BATCHES_PER_BOX: u64 = 4;

#[derive(Debug, Clone)]
pub struct ContestSpec {
    pub name: String,
    /// Candidates and their true shares of the votes cast in the contest.
    pub candidates: Vec<(String, f64)>,
    /// Counties whose tabulation of this contest is altered.
    pub altered: Vec<String>,
    /// Share of the true leader's votes switched to the runner-up where altered.
    pub switch_share: f64,
}

#[derive(Debug, Clone)]
pub struct CountScenario {
    pub seed: u64,
    /// Counties and the ballots cast in each.
    pub counties: Vec<(String, u64)>,
    pub contests: Vec<ContestSpec>,
    /// Ballots per batch (a tabulator's box).
    pub batch_size: u64,
    /// Share of ballots with no vote in a contest.
    pub undervote: f64,
}

impl CountScenario {
    /// Two statewide contests: one tabulated honestly with a clear margin, one close
    /// contest whose tabulation is altered in the first half of the counties, enough to
    /// flip the reported winner.
    pub fn demo(seed: u64, counties: Vec<(String, u64)>) -> CountScenario {
        let half: Vec<String> =
            counties.iter().take(counties.len().div_ceil(2)).map(|c| c.0.clone()).collect();
        CountScenario {
            seed,
            counties,
            contests: vec![
                ContestSpec {
                    name: "Governor".into(),
                    candidates: vec![
                        ("Avery Hale".into(), 0.555),
                        ("Jordan Pike".into(), 0.425),
                        ("Sam Ortiz".into(), 0.02),
                    ],
                    altered: Vec::new(),
                    switch_share: 0.0,
                },
                ContestSpec {
                    name: "Secretary of State".into(),
                    candidates: vec![
                        ("Morgan Reyes".into(), 0.51),
                        ("Casey Lund".into(), 0.47),
                        ("Riley Shaw".into(), 0.02),
                    ],
                    altered: half,
                    switch_share: 0.15,
                },
            ],
            batch_size: 200,
            undervote: 0.02,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestTruth {
    pub contest: String,
    pub true_winner: String,
    pub reported_winner: String,
    pub altered_counties: Vec<String>,
    pub switched_votes: u64,
    pub paper: BTreeMap<String, u64>,
    pub reported: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CountWritten {
    pub files: Vec<PathBuf>,
    pub ballots: u64,
    pub batches: u64,
    pub contests: Vec<ContestTruth>,
}

fn draw_choice(r: &mut Draws, candidates: &[(String, f64)], undervote: f64) -> Option<usize> {
    if r.chance(undervote) {
        return None;
    }
    let total: f64 = candidates.iter().map(|c| c.1).sum();
    let mut x = r.unit() * total;
    for (i, c) in candidates.iter().enumerate() {
        if x < c.1 {
            return Some(i);
        }
        x -= c.1;
    }
    Some(candidates.len() - 1)
}

/// Writes the count into `out`.
pub fn generate(s: &CountScenario, out: &Path) -> Result<CountWritten, SimulateError> {
    for c in &s.contests {
        if c.candidates.len() < 2 {
            return Err(SimulateError::Invalid(format!("contest {} needs two candidates", c.name)));
        }
    }
    if s.batch_size == 0 {
        return Err(SimulateError::Invalid("batch size must be at least 1".into()));
    }
    let io = |p: &Path| {
        let p = p.to_owned();
        move |e| SimulateError::Io { path: p.clone(), source: e }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let open = |name: &str| -> Result<(PathBuf, BufWriter<File>), SimulateError> {
        let p = out.join(name);
        let f = File::create(&p).map_err(io(&p))?;
        Ok((p, BufWriter::with_capacity(1 << 20, f)))
    };
    let (manifest_p, mut manifest) = open("manifest.csv")?;
    let (paper_p, mut paper) = open("paper.csv")?;
    let (cvr_p, mut cvr) = open("cvr.csv")?;
    writeln!(manifest, "Jurisdiction,Batch Name,Number of Ballots").map_err(io(&manifest_p))?;
    writeln!(paper, "batch,position,contest,choice").map_err(io(&paper_p))?;
    writeln!(cvr, "cvr_id,batch,position,contest,choice").map_err(io(&cvr_p))?;
    let cmp_dir = out.join("comparison");
    std::fs::create_dir_all(&cmp_dir).map_err(io(&cmp_dir))?;
    let csv_writer = |p: &Path| -> Result<csv::Writer<BufWriter<File>>, SimulateError> {
        let f = File::create(p).map_err(io(p))?;
        Ok(csv::WriterBuilder::new().flexible(true).from_writer(BufWriter::with_capacity(1 << 20, f)))
    };
    let jurisdictions_p = cmp_dir.join("jurisdictions.csv");
    let mut jurisdictions = csv_writer(&jurisdictions_p)?;
    jurisdictions.write_record(["jurisdiction", "manifest", "cvr"]).map_err(csv_err(&jurisdictions_p))?;
    let cmp_paper_p = cmp_dir.join("paper.csv");
    let mut cmp_paper = csv_writer(&cmp_paper_p)?;
    cmp_paper
        .write_record(["jurisdiction", "tabulator", "batch", "position", "contest", "choice"])
        .map_err(csv_err(&cmp_paper_p))?;
    let mut files = Vec::new();

    // (contest, county, candidate) -> (paper, reported)
    let mut tallies: BTreeMap<(usize, String, usize), (u64, u64)> = BTreeMap::new();
    let mut switched = vec![0u64; s.contests.len()];
    let mut ballots = 0u64;
    let mut batches = 0u64;
    let mut cvr_id = 0u64;
    for (ci, (county, cast)) in s.counties.iter().enumerate() {
        let manifest_name = format!("{county}-manifest.csv");
        let export_name = format!("{county}-CVR_Export.csv");
        jurisdictions
            .write_record([county.as_str(), &manifest_name, &export_name])
            .map_err(csv_err(&jurisdictions_p))?;
        let county_manifest_p = cmp_dir.join(&manifest_name);
        let mut county_manifest = csv_writer(&county_manifest_p)?;
        county_manifest
            .write_record(["CountyID", "ScannerID", "BatchID", "NumBallots", "StorageLocation"])
            .map_err(csv_err(&county_manifest_p))?;
        let export_p = cmp_dir.join(&export_name);
        let mut export = csv_writer(&export_p)?;
        write_dominion_headers(&mut export, &s.contests).map_err(csv_err(&export_p))?;
        let n_batches = cast.div_ceil(s.batch_size);
        for b in 0..n_batches {
            let in_batch = if b + 1 == n_batches { cast - b * s.batch_size } else { s.batch_size };
            let label = format!("B{:04}", b + 1);
            writeln!(manifest, "{county},{label},{in_batch}").map_err(io(&manifest_p))?;
            let (tabulator, batch_id) = ((b % TABULATORS + 1).to_string(), (b + 1).to_string());
            county_manifest
                .write_record([
                    county.as_str(),
                    &tabulator,
                    &batch_id,
                    &in_batch.to_string(),
                    &format!("Box {}", b / BATCHES_PER_BOX + 1),
                ])
                .map_err(csv_err(&county_manifest_p))?;
            batches += 1;
            for pos in 1..=in_batch {
                ballots += 1;
                cvr_id += 1;
                let position = pos.to_string();
                let mut record = vec![
                    protect(&cvr_id.to_string()),
                    protect(&tabulator),
                    protect(&batch_id),
                    protect(&position),
                    protect(&format!("{tabulator}-{batch_id}-{pos}")),
                    protect("Mail"),
                    protect("Precinct 1"),
                    protect("1"),
                ];
                let mut r = Draws::new(s.seed, (ci as u64) << 40 | b << 20 | pos, 91);
                for (k, c) in s.contests.iter().enumerate() {
                    let truth = draw_choice(&mut r, &c.candidates, s.undervote);
                    let mut recorded = truth;
                    if truth == Some(0) && c.altered.contains(county) && r.chance(c.switch_share) {
                        recorded = Some(1);
                        switched[k] += 1;
                    }
                    let name = |i: Option<usize>| i.map_or("", |i| c.candidates[i].0.as_str());
                    writeln!(paper, "{county}/{label},{pos},{},{}", c.name, name(truth))
                        .map_err(io(&paper_p))?;
                    writeln!(cvr, "{cvr_id},{county}/{label},{pos},{},{}", c.name, name(recorded))
                        .map_err(io(&cvr_p))?;
                    cmp_paper
                        .write_record([
                            county.as_str(),
                            &tabulator,
                            &batch_id,
                            &position,
                            &c.name,
                            name(truth),
                        ])
                        .map_err(csv_err(&cmp_paper_p))?;
                    record.extend(
                        (0..c.candidates.len())
                            .map(|i| if recorded == Some(i) { "1" } else { "0" }.to_owned()),
                    );
                    if let Some(t) = truth {
                        tallies.entry((k, county.clone(), t)).or_default().0 += 1;
                    }
                    if let Some(t) = recorded {
                        tallies.entry((k, county.clone(), t)).or_default().1 += 1;
                    }
                }
                export.write_record(&record).map_err(csv_err(&export_p))?;
            }
        }
        county_manifest.flush().map_err(io(&county_manifest_p))?;
        export.flush().map_err(io(&export_p))?;
        files.push(county_manifest_p);
        files.push(export_p);
    }
    jurisdictions.flush().map_err(io(&jurisdictions_p))?;
    cmp_paper.flush().map_err(io(&cmp_paper_p))?;
    files.push(jurisdictions_p);
    files.push(cmp_paper_p);
    for (p, w) in [(&manifest_p, &mut manifest), (&paper_p, &mut paper), (&cvr_p, &mut cvr)] {
        w.flush().map_err(io(p))?;
    }

    let (results_p, mut results) = open("results.csv")?;
    let (by_county_p, mut by_county) = open("results_by_county.csv")?;
    let (truth_p, mut truth) = open("truth.csv")?;
    writeln!(results, "contest,candidate,votes").map_err(io(&results_p))?;
    writeln!(by_county, "jurisdiction,contest,candidate,votes").map_err(io(&by_county_p))?;
    writeln!(truth, "contest,jurisdiction,candidate,paper_votes,reported_votes").map_err(io(&truth_p))?;
    let mut contests = Vec::new();
    for (k, c) in s.contests.iter().enumerate() {
        let mut paper_tot: BTreeMap<String, u64> = BTreeMap::new();
        let mut rep_tot: BTreeMap<String, u64> = BTreeMap::new();
        for (county, _) in &s.counties {
            for (i, (cand, _)) in c.candidates.iter().enumerate() {
                let (p, r) = tallies.get(&(k, county.clone(), i)).copied().unwrap_or_default();
                writeln!(by_county, "{county},{},{cand},{r}", c.name).map_err(io(&by_county_p))?;
                writeln!(truth, "{},{county},{cand},{p},{r}", c.name).map_err(io(&truth_p))?;
                *paper_tot.entry(cand.clone()).or_default() += p;
                *rep_tot.entry(cand.clone()).or_default() += r;
            }
        }
        for (cand, _) in &c.candidates {
            writeln!(results, "{},{cand},{}", c.name, rep_tot[cand]).map_err(io(&results_p))?;
        }
        let leader = |t: &BTreeMap<String, u64>| {
            t.iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(k, _)| k.clone())
                .unwrap_or_default()
        };
        contests.push(ContestTruth {
            contest: c.name.clone(),
            true_winner: leader(&paper_tot),
            reported_winner: leader(&rep_tot),
            altered_counties: c.altered.clone(),
            switched_votes: switched[k],
            paper: paper_tot,
            reported: rep_tot,
        });
    }
    for (p, w) in [(&results_p, &mut results), (&by_county_p, &mut by_county), (&truth_p, &mut truth)] {
        w.flush().map_err(io(p))?;
    }
    let json_p = out.join("truth.json");
    let text = serde_json::to_string_pretty(&contests).map_err(|e| SimulateError::Invalid(e.to_string()))?;
    std::fs::write(&json_p, text).map_err(io(&json_p))?;
    let mut all = vec![manifest_p, paper_p, cvr_p, results_p, by_county_p, truth_p, json_p];
    all.extend(files);
    Ok(CountWritten { files: all, ballots, batches, contests })
}

/// A field as Dominion writes its identifiers (`="12"`), so that spreadsheets keep them text.
fn protect(s: &str) -> String {
    format!("=\"{s}\"")
}

/// The four header rows of a Dominion CSV export: the election's title, each choice's
/// contest (with its `(Vote For=1)`), the choice, and the column names (the party codes
/// over the choices).
fn write_dominion_headers<W: Write>(w: &mut csv::Writer<W>, contests: &[ContestSpec]) -> csv::Result<()> {
    const FIXED: [&str; 8] = [
        "CvrNumber",
        "TabulatorNum",
        "BatchId",
        "RecordId",
        "ImprintedId",
        "CountingGroup",
        "PrecinctPortion",
        "BallotType",
    ];
    let choices: usize = contests.iter().map(|c| c.candidates.len()).sum();
    let blank = || vec![String::new(); FIXED.len()];
    let mut title = vec!["Simulated general election".to_owned(), "5.2.13.9".to_owned()];
    title.resize(FIXED.len() + choices, String::new());
    w.write_record(&title)?;
    let mut contest_row = blank();
    let mut choice_row = blank();
    let mut names = FIXED.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    for c in contests {
        for (i, (candidate, _)) in c.candidates.iter().enumerate() {
            contest_row.push(format!("{} (Vote For=1)", c.name));
            choice_row.push(candidate.clone());
            names.push(format!("P{}", i + 1));
        }
    }
    w.write_record(&contest_row)?;
    w.write_record(&choice_row)?;
    w.write_record(&names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn altered_contest_flips_and_honest_one_does_not() {
        let dir = std::env::temp_dir().join(format!("scrutineer-sim-count-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let counties = vec![("A".to_owned(), 3000), ("B".to_owned(), 2500), ("C".to_owned(), 2000)];
        let w = generate(&CountScenario::demo(3, counties), &dir).expect("generate");
        assert_eq!(w.ballots, 7500);
        let gov = &w.contests[0];
        assert_eq!(gov.true_winner, gov.reported_winner);
        assert_eq!(gov.paper, gov.reported);
        let sos = &w.contests[1];
        assert_ne!(sos.true_winner, sos.reported_winner, "{sos:?}");
        assert!(sos.switched_votes > 0);
        // Paper and CVR files hold one row per ballot and contest.
        let rows = |name: &str| std::fs::read_to_string(dir.join(name)).expect("read").lines().count() - 1;
        assert_eq!(rows("paper.csv"), 15_000);
        assert_eq!(rows("cvr.csv"), 15_000);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
