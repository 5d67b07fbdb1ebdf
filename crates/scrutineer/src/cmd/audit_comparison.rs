//! `scrutineer audit comparison ...`: a ballot-comparison audit across jurisdictions,
//! one state file per audit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use scrutineer_audit::{
    self as audit, ComparisonAudit, ComparisonDecision, ComparisonParams, RiskFunction, SeedCeremony,
    Universe,
};

use crate::ui::{Context, outln};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UniverseArg {
    /// Every card in the jurisdictions where a contest appears (ColoradoRLA).
    Jurisdiction,
    /// Only the cards whose CVR carries the contest (card-style data).
    CardStyle,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RiskArg {
    /// Kaplan-Markov over the discrepancy counts (ColoradoRLA).
    KaplanMarkov,
    /// ALPHA on SHANGRLA's comparison assorter.
    Alpha,
}

#[derive(Debug, Subcommand)]
pub enum ComparisonCommand {
    /// Start an audit from each jurisdiction's ballot manifest and CVR export.
    Start {
        /// CSV `jurisdiction,manifest,cvr[,format]` (paths relative to this file; `format`
        /// dominion-csv (the default), dominion-json, clear-ballot, hart, ess or nist-cdf).
        #[arg(long)]
        jurisdictions: PathBuf,
        /// The audit's name (printed on retrieval lists).
        #[arg(long, default_value = "Ballot-comparison audit")]
        name: String,
        #[arg(long, default_value_t = 0.03)]
        risk_limit: f64,
        /// Error inflation factor (Colorado: 1.03905).
        #[arg(long, default_value_t = 1.03905)]
        gamma: f64,
        #[arg(long, value_enum, default_value = "jurisdiction")]
        universe: UniverseArg,
        /// How risk is measured.
        #[arg(long, value_enum, default_value = "kaplan-markov")]
        risk_function: RiskArg,
        /// Contests that drive the sample size (repeatable; default: every contest with a margin).
        #[arg(long)]
        target: Vec<String>,
        /// The state file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Record the public seed ceremony (before the first draw).
    Seed {
        #[arg(long)]
        audit: PathBuf,
        /// The seed, e.g. twenty digits rolled with ten-sided dice.
        #[arg(long)]
        seed: String,
        /// Who rolled the dice (repeatable).
        #[arg(long, required = true)]
        rolled_by: Vec<String>,
        /// Who witnessed it (repeatable).
        #[arg(long)]
        witness: Vec<String>,
        /// When (RFC 3339; default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Draw the next round (Colorado's sizes unless --size is given) and write retrieval lists.
    Draw {
        #[arg(long)]
        audit: PathBuf,
        /// A contest's total sample size, `CONTEST=N` (repeatable).
        #[arg(long)]
        size: Vec<String>,
        /// Audit boards per jurisdiction for the retrieval lists.
        #[arg(long, default_value_t = 1)]
        boards: usize,
        /// Folder for this round's retrieval lists (CSV and printable HTML).
        #[arg(long)]
        retrieval_dir: Option<PathBuf>,
    },
    /// Write a retrieval list (every card drawn, or one round's).
    Retrieval {
        #[arg(long)]
        audit: PathBuf,
        #[arg(long, default_value_t = 1)]
        boards: usize,
        #[arg(long)]
        round: Option<u32>,
        /// CSV output.
        #[arg(long)]
        out: PathBuf,
        /// Printable HTML page.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Write a blank readings form: one row per drawn card and contest its CVR carries, choice left empty.
    Form {
        #[arg(long)]
        audit: PathBuf,
        #[arg(long, default_value_t = 1)]
        boards: usize,
        #[arg(long)]
        round: Option<u32>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Record audit-board readings (jurisdiction,tabulator,batch,position,contest,choice[,audit_board,found]).
    Record {
        #[arg(long)]
        audit: PathBuf,
        #[arg(long, required = true)]
        readings: Vec<PathBuf>,
    },
    /// Each contest's discrepancies, risk and decision; progress per jurisdiction.
    Status {
        #[arg(long)]
        audit: PathBuf,
    },
    /// The final report in Colorado's contest.csv columns.
    Report {
        #[arg(long)]
        audit: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Recompute each contest's winners, smallest margin and card universe from Colorado's
    /// published canvass, with Colorado's first-round sample size (no discrepancies).
    ColoradoCanvass {
        /// Statewide `tabulate.csv` (contest_name,choice,votes).
        #[arg(long)]
        tabulate: PathBuf,
        /// `contests_by_county.csv`.
        #[arg(long)]
        contests_by_county: PathBuf,
        /// `batch_count_comparison.csv` (cards per county in the CVR files).
        #[arg(long)]
        batch_counts: PathBuf,
        /// A round `contest.csv`: the contests to cover and their winners allowed.
        #[arg(long)]
        contests: PathBuf,
        #[arg(long, default_value_t = 0.03)]
        risk_limit: f64,
        #[arg(long, default_value_t = 1.03905)]
        gamma: f64,
        /// CSV output in contest.csv's columns.
        #[arg(long)]
        out: PathBuf,
    },
    /// Count discrepancies per contest in Colorado's published contestComparison.csv.
    ColoradoDiscrepancies {
        /// The round's `contestComparison.csv`.
        #[arg(long)]
        comparison: PathBuf,
        /// A round `contest.csv` giving each contest's winners and votes allowed.
        #[arg(long)]
        contests: PathBuf,
        /// CSV output: contest_name,compared_cards,two_vote_over_count,one_vote_over_count,one_vote_under_count,two_vote_under_count.
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(ctx: &Context, cmd: ComparisonCommand) -> anyhow::Result<()> {
    match cmd {
        ComparisonCommand::Start {
            jurisdictions,
            name,
            risk_limit,
            gamma,
            universe,
            risk_function,
            target,
            out,
        } => {
            let files = audit::read_jurisdictions(&jurisdictions)?;
            let universe = match universe {
                UniverseArg::Jurisdiction => Universe::Jurisdiction,
                UniverseArg::CardStyle => Universe::CardStyle,
            };
            let risk_function = match risk_function {
                RiskArg::KaplanMarkov => RiskFunction::KaplanMarkov,
                RiskArg::Alpha => RiskFunction::Alpha,
            };
            let params =
                ComparisonParams { name, risk_limit, gamma, universe, targets: target, risk_function };
            let a = ComparisonAudit::start(params, &files)
                .with_context(|| format!("starting the audit from {}", jurisdictions.display()))?;
            if out.exists() {
                bail!("{} exists: an audit's state file is not overwritten", out.display());
            }
            a.save(&out)?;
            let cards: u64 = a.jurisdictions.iter().map(|j| j.cards()).sum();
            ctx.note(format!(
                "{}: {} jurisdictions, {} cards, {} contests ({} targeted); next: audit comparison seed",
                out.display(),
                a.jurisdictions.len(),
                cards,
                a.contests.len(),
                a.contests.iter().filter(|c| c.targeted).count()
            ));
            Ok(())
        }
        ComparisonCommand::Seed { audit: path, seed, rolled_by, witness, at } => {
            let mut a = ComparisonAudit::load(&path)?;
            let at = match at {
                Some(t) => {
                    chrono::DateTime::parse_from_rfc3339(&t)
                        .with_context(|| format!("--at '{t}' is not an RFC 3339 time"))?;
                    t
                }
                None => chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            a.record_seed(SeedCeremony { seed, rolled_by, witnesses: witness, at })?;
            a.save(&path)?;
            ctx.note(format!("{}: seed recorded", path.display()));
            Ok(())
        }
        ComparisonCommand::Draw { audit: path, size, boards, retrieval_dir } => {
            let mut a = ComparisonAudit::load(&path)?;
            let unread = a.cards.iter().filter(|c| !a.readings.contains_key(&c.id)).count();
            if size.is_empty() && unread > 0 {
                // Colorado's next-round size rests on the discrepancies of every card drawn.
                bail!(
                    "{}: {unread} drawn cards are not read yet: record their readings before the next round (or give --size)",
                    path.display()
                );
            }
            let sizes = if size.is_empty() { a.next_round_sizes() } else { parse_sizes(&size)? };
            let round = a.draw(&sizes).with_context(|| format!("drawing a round of {}", path.display()))?;
            a.save(&path)?;
            ctx.note(format!(
                "round {}: {} new cards drawn, {} in all",
                round.number,
                round.new_cards,
                a.cards.len()
            ));
            if let Some(dir) = retrieval_dir {
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                let csv = dir.join(format!("round-{}-retrieval.csv", round.number));
                let html = dir.join(format!("round-{}-retrieval.html", round.number));
                write_retrieval(&a, boards, Some(round.number), &csv, Some(&html))?;
                ctx.note(format!("wrote {} and {}", csv.display(), html.display()));
            }
            Ok(())
        }
        ComparisonCommand::Retrieval { audit: path, boards, round, out, html } => {
            let a = ComparisonAudit::load(&path)?;
            write_retrieval(&a, boards, round, &out, html.as_deref())
        }
        ComparisonCommand::Form { audit: path, boards, round, out } => {
            let a = ComparisonAudit::load(&path)?;
            let by_id: BTreeMap<(&str, &str, &str, u64), &audit::DrawnCard> = a
                .cards
                .iter()
                .map(|c| ((c.jurisdiction.as_str(), c.tabulator.as_str(), c.batch.as_str(), c.position), c))
                .collect();
            let mut w =
                csv::Writer::from_path(&out).with_context(|| format!("creating {}", out.display()))?;
            w.write_record([
                "jurisdiction",
                "audit_board",
                "tabulator",
                "batch",
                "position",
                "imprinted_id",
                "found",
                "contest",
                "choice",
            ])?;
            for r in a.retrieval_list(boards, round) {
                let key = (r.jurisdiction.as_str(), r.tabulator.as_str(), r.batch.as_str(), r.position);
                let Some(card) = by_id.get(&key) else { continue };
                let pos = r.position.to_string();
                for contest in card.cvr.keys() {
                    w.write_record(scrutineer_core::text::csv_safe_record([
                        r.jurisdiction.as_str(),
                        &r.audit_board,
                        &r.tabulator,
                        &r.batch,
                        &pos,
                        &r.imprinted_id,
                        "yes",
                        contest,
                        "",
                    ]))?;
                }
            }
            w.flush()?;
            ctx.note(format!("wrote {}", out.display()));
            Ok(())
        }
        ComparisonCommand::Record { audit: path, readings } => {
            let mut a = ComparisonAudit::load(&path)?;
            let mut n = 0;
            for f in &readings {
                let rows = audit::read_readings(f).with_context(|| format!("reading {}", f.display()))?;
                n += a.record_readings(rows, f)?;
            }
            a.save(&path)?;
            ctx.note(format!(
                "recorded {n} cards; {} of {} drawn cards read",
                a.readings.len(),
                a.cards.len()
            ));
            Ok(())
        }
        ComparisonCommand::Status { audit: path } => status(ctx, &path),
        ComparisonCommand::Report { audit: path, out } => {
            let a = ComparisonAudit::load(&path)?;
            let f = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            audit::write_report_csv(std::io::BufWriter::new(f), &a.report())
                .with_context(|| format!("writing {}", out.display()))?;
            ctx.note(format!("wrote {}", out.display()));
            Ok(())
        }
        ComparisonCommand::ColoradoCanvass {
            tabulate,
            contests_by_county,
            batch_counts,
            contests,
            risk_limit,
            gamma,
            out,
        } => {
            let rows = audit::read_colorado_contests(&contests)
                .with_context(|| format!("reading {}", contests.display()))?;
            let vote_for = rows.iter().map(|r| (r.contest_name.clone(), r.winners_allowed)).collect();
            let canvass = audit::colorado_canvass(&tabulate, &contests_by_county, &batch_counts, &vote_for)?;
            let by_name: BTreeMap<&str, &audit::AuditedContest> =
                canvass.iter().map(|c| (c.name.as_str(), c)).collect();
            // In the round report's order, so that rows line up with the published ones.
            let report: Vec<audit::ContestReportRow> = rows
                .iter()
                .filter_map(|r| by_name.get(r.contest_name.as_str()))
                .map(|c| audit::canvass_row(c, risk_limit, gamma))
                .collect();
            let f = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            audit::write_report_csv(std::io::BufWriter::new(f), &report)
                .with_context(|| format!("writing {}", out.display()))?;
            ctx.note(format!("{} contests; wrote {}", report.len(), out.display()));
            Ok(())
        }
        ComparisonCommand::ColoradoDiscrepancies { comparison, contests, out } => {
            let rows = audit::read_colorado_contests(&contests)
                .with_context(|| format!("reading {}", contests.display()))?;
            let winners = rows
                .iter()
                .map(|r| (r.contest_name.clone(), (r.winners_allowed, split_winners(&r.winners))))
                .collect();
            let counts = audit::colorado_comparison_discrepancies(&comparison, &winners)?;
            let mut w =
                csv::Writer::from_path(&out).with_context(|| format!("creating {}", out.display()))?;
            w.write_record([
                "contest_name",
                "compared_cards",
                "two_vote_over_count",
                "one_vote_over_count",
                "one_vote_under_count",
                "two_vote_under_count",
            ])?;
            for (name, (n, d)) in &counts {
                let cells = [
                    name.clone(),
                    n.to_string(),
                    d.o2.to_string(),
                    d.o1.to_string(),
                    d.u1.to_string(),
                    d.u2.to_string(),
                ];
                w.write_record(scrutineer_core::text::csv_safe_record(cells.iter().map(String::as_str)))?;
            }
            w.flush()?;
            ctx.note(format!("{} contests compared; wrote {}", counts.len(), out.display()));
            Ok(())
        }
    }
}

/// Colorado writes winners as `"A","B"` inside the cell.
fn split_winners(s: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(s.as_bytes());
    r.records()
        .next()
        .and_then(|x| x.ok())
        .map(|x| x.iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect())
        .unwrap_or_default()
}

fn parse_sizes(args: &[String]) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for a in args {
        let Some((name, n)) = a.rsplit_once('=') else { bail!("--size '{a}': expected CONTEST=N") };
        let n: u64 = n.trim().parse().with_context(|| format!("--size '{a}': N is not a whole number"))?;
        out.insert(name.trim().to_owned(), n);
    }
    Ok(out)
}

fn write_retrieval(
    a: &ComparisonAudit,
    boards: usize,
    round: Option<u32>,
    csv: &Path,
    html: Option<&Path>,
) -> anyhow::Result<()> {
    let rows = a.retrieval_list(boards, round);
    let f = std::fs::File::create(csv).with_context(|| format!("creating {}", csv.display()))?;
    audit::write_retrieval_csv(std::io::BufWriter::new(f), &rows)
        .with_context(|| format!("writing {}", csv.display()))?;
    if let Some(h) = html {
        let title = match round {
            Some(r) => format!("{}: round {r} retrieval list", a.params.name),
            None => format!("{}: retrieval list", a.params.name),
        };
        std::fs::write(h, audit::retrieval_html(&title, &rows))
            .with_context(|| format!("writing {}", h.display()))?;
    }
    Ok(())
}

fn status(ctx: &Context, path: &Path) -> anyhow::Result<()> {
    let a = ComparisonAudit::load(path)?;
    let st = a.status();
    let mut progress: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for c in &a.cards {
        let e = progress.entry(c.jurisdiction.as_str()).or_default();
        e.0 += 1;
        if a.readings.contains_key(&c.id) {
            e.1 += 1;
        }
    }
    if ctx.json {
        let v = serde_json::json!({
            "rounds": a.rounds.len(),
            "contests": st,
            "jurisdictions": progress.iter().map(|(j, (d, r))| serde_json::json!({"jurisdiction": j, "drawn": d, "read": r})).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    outln!("round {}; {} cards drawn, {} read", a.rounds.len(), a.cards.len(), a.readings.len())?;
    for (j, (d, r)) in &progress {
        outln!("  {j}: {r} of {d} cards read")?;
    }
    outln!("contest,targeted,sample,examined,o2,o1,u1,u2,risk,decision,estimated_samples")?;
    for s in &st {
        let d = s.discrepancies;
        let decision = match s.decision {
            ComparisonDecision::Stop => "stop",
            ComparisonDecision::Continue => "continue",
            ComparisonDecision::FullHandCount => "full_hand_count",
        };
        outln!(
            "{},{},{},{},{},{},{},{},{:.6},{},{}",
            scrutineer_core::text::csv_field(&s.contest),
            s.targeted,
            s.sample_size,
            s.examined,
            d.o2,
            d.o1,
            d.u1,
            d.u2,
            s.measured_risk,
            decision,
            s.estimated_samples
        )?;
    }
    Ok(())
}
