//! The demo's ballot-comparison audit of the count: the counties' Dominion CVR exports and
//! ColoradoRLA manifests that `simulate count` wrote in `count/comparison/`, audited with
//! `scrutineer audit comparison` round by round from a recorded seed ceremony. Each round
//! writes the retrieval lists the audit boards walk the storage room with; the demo then
//! acts as the boards, reading each card pulled from the paper ballots.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use scrutineer_audit::{ComparisonDecision, ComparisonStatus};
use scrutineer_simulate::score::ComparisonOutcome;

use super::demo::{AuditBoard, arg, path_arg};

/// Audit boards per county.
const BOARDS: usize = 2;
/// Rounds sized by Colorado's formulas before the contests still open are counted in full.
const ESCALATING_ROUNDS: u32 = 3;

/// What `audit comparison status --json` prints.
#[derive(serde::Deserialize)]
struct StatusJson {
    contests: Vec<ComparisonStatus>,
}

/// A card as the retrieval lists address it.
type CardKey = (String, String, String, u64);

/// Runs the comparison audit to its end; every command is appended to `commands`.
pub(super) fn audit(
    commands: &mut Vec<String>,
    store: &Path,
    count: &Path,
    seed: u64,
) -> anyhow::Result<Vec<ComparisonOutcome>> {
    let files = count.join("comparison");
    let audit_file = count.join("comparison-audit.json");
    let retrieval = count.join("retrieval");
    let board = AuditBoard { store, audit_file: &audit_file };
    let af = || path_arg(&audit_file);
    board.run_logged(
        commands,
        vec![
            arg("audit"),
            arg("comparison"),
            arg("start"),
            arg("--jurisdictions"),
            path_arg(&files.join("jurisdictions.csv")),
            arg("--name"),
            arg("Simulated general election"),
            arg("--out"),
            af(),
        ],
    )?;
    // The public seed: in a real audit, dice rolled in public by the people named.
    board.run_logged(
        commands,
        vec![
            arg("audit"),
            arg("comparison"),
            arg("seed"),
            arg("--audit"),
            af(),
            arg("--seed"),
            format!("{:020}", scrutineer_simulate::mix(seed ^ 0x5eed)),
            arg("--rolled-by"),
            arg("Secretary of State's office"),
            arg("--witness"),
            arg("Public observer"),
            arg("--at"),
            arg("2016-11-15T10:00:00Z"),
        ],
    )?;
    let paper = read_paper(&files.join("paper.csv"))?;
    let mut first_stop: BTreeMap<String, u64> = BTreeMap::new();
    let mut retrieved = 0u64;
    let mut round = 0u32;
    // Contests that the last round left open.
    let mut open: Vec<String> = Vec::new();
    let contests = loop {
        round += 1;
        let mut draw = vec![
            arg("audit"),
            arg("comparison"),
            arg("draw"),
            arg("--audit"),
            af(),
            arg("--boards"),
            arg(BOARDS),
            arg("--retrieval-dir"),
            path_arg(&retrieval),
        ];
        if round > ESCALATING_ROUNDS {
            // The contests still open after Colorado's rounds are counted by hand: every
            // card of their universe is drawn (sizes are capped at the universe).
            for contest in &open {
                draw.push(arg("--size"));
                draw.push(format!("{contest}={}", u64::MAX));
            }
        }
        board.run_logged(commands, draw)?;
        let list = retrieval.join(format!("round-{round}-retrieval.csv"));
        retrieved += count_rows(&list)?;
        let form = count.join(format!("comparison-form-round{round}.csv"));
        board.run_logged(
            commands,
            vec![
                arg("audit"),
                arg("comparison"),
                arg("form"),
                arg("--audit"),
                af(),
                arg("--boards"),
                arg(BOARDS),
                arg("--round"),
                arg(round),
                arg("--out"),
                path_arg(&form),
            ],
        )?;
        // The audit boards: each card pulled is read and its marks written on the form.
        let readings = count.join(format!("comparison-readings-round{round}.csv"));
        fill_form(&paper, &form, &readings)?;
        board.run_logged(
            commands,
            vec![
                arg("audit"),
                arg("comparison"),
                arg("record"),
                arg("--audit"),
                af(),
                arg("--readings"),
                path_arg(&readings),
            ],
        )?;
        let st = status(&board, commands)?;
        for c in &st {
            if c.decision == ComparisonDecision::Stop {
                first_stop.entry(c.contest.clone()).or_insert(c.examined);
            }
        }
        open = st
            .iter()
            .filter(|c| c.decision == ComparisonDecision::Continue)
            .map(|c| c.contest.clone())
            .collect();
        if open.is_empty() {
            break st;
        }
        if round > ESCALATING_ROUNDS {
            bail!("the comparison audit is still open after every card of its contests was drawn");
        }
    };
    board.run_logged(
        commands,
        vec![
            arg("audit"),
            arg("comparison"),
            arg("report"),
            arg("--audit"),
            af(),
            arg("--out"),
            path_arg(&count.join("comparison-contest.csv")),
        ],
    )?;
    Ok(contests
        .into_iter()
        .map(|c| ComparisonOutcome {
            decision: match c.decision {
                ComparisonDecision::Stop => "stop",
                ComparisonDecision::Continue => "continue",
                ComparisonDecision::FullHandCount => "full_hand_count",
            }
            .to_owned(),
            cards_examined: c.examined,
            confirmed_after: first_stop.get(&c.contest).copied(),
            measured_risk: c.measured_risk,
            reported_winners: c.winners,
            o2: c.discrepancies.o2,
            o1: c.discrepancies.o1,
            u1: c.discrepancies.u1,
            u2: c.discrepancies.u2,
            rounds: round as usize,
            cards_retrieved: retrieved,
            contest: c.contest,
        })
        .collect())
}

fn status(board: &AuditBoard<'_>, commands: &mut Vec<String>) -> anyhow::Result<Vec<ComparisonStatus>> {
    let args = vec![
        arg("--json"),
        arg("audit"),
        arg("comparison"),
        arg("status"),
        arg("--audit"),
        path_arg(board.audit_file),
    ];
    let text = board.run_logged(commands, args)?;
    let s: StatusJson = serde_json::from_str(&text).context("reading `audit comparison status --json`")?;
    Ok(s.contests)
}

/// The paper cards: each card's marks per contest (an empty choice for no vote).
fn read_paper(path: &Path) -> anyhow::Result<BTreeMap<CardKey, BTreeMap<String, String>>> {
    let mut out: BTreeMap<CardKey, BTreeMap<String, String>> = BTreeMap::new();
    let mut r = csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        let field = |k: usize| rec.get(k).unwrap_or("").to_owned();
        let position: u64 = rec
            .get(3)
            .unwrap_or("")
            .parse()
            .with_context(|| format!("{} line {}: position is not a number", path.display(), i + 2))?;
        out.entry((field(0), field(1), field(2), position)).or_default().insert(field(4), field(5));
    }
    Ok(out)
}

/// Copies the blank form `audit comparison form` wrote, with each row's choice read from
/// the paper card.
fn fill_form(
    paper: &BTreeMap<CardKey, BTreeMap<String, String>>,
    form: &Path,
    out: &Path,
) -> anyhow::Result<()> {
    let mut r = csv::Reader::from_path(form).with_context(|| format!("opening {}", form.display()))?;
    let headers = r.headers().with_context(|| format!("reading {}", form.display()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{}: no column {name}", form.display()))
    };
    let (cj, ct, cb, cp, cc, cch) = (
        col("jurisdiction")?,
        col("tabulator")?,
        col("batch")?,
        col("position")?,
        col("contest")?,
        col("choice")?,
    );
    let mut w = csv::Writer::from_path(out).with_context(|| format!("writing {}", out.display()))?;
    w.write_record(&headers)?;
    for rec in r.records() {
        let rec = rec.with_context(|| format!("reading {}", form.display()))?;
        let get = |i: usize| rec.get(i).unwrap_or("").to_owned();
        let position: u64 = get(cp).parse().with_context(|| format!("{}: bad position", form.display()))?;
        let key = (get(cj), get(ct), get(cb), position);
        let marks = paper.get(&key).with_context(|| {
            format!("card {}/{}/{}-{} drawn but not among the paper ballots", key.0, key.1, key.2, key.3)
        })?;
        let contest = get(cc);
        let choice = marks.get(&contest).with_context(|| {
            format!("card {}/{}/{}-{} has no contest '{contest}' on paper", key.0, key.1, key.2, key.3)
        })?;
        let row: Vec<String> = rec
            .iter()
            .enumerate()
            .map(|(i, v)| if i == cch { choice.clone() } else { v.to_owned() })
            .collect();
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn count_rows(path: &Path) -> anyhow::Result<u64> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let mut n = 0;
    for rec in r.records() {
        rec.with_context(|| format!("reading {}", path.display()))?;
        n += 1;
    }
    Ok(n)
}
