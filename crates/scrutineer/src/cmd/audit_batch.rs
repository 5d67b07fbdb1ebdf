//! `scrutineer audit batch ...`: a batch-comparison audit (MACRO per contest, PPEB
//! draws), one state file per audit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use scrutineer_audit::{self as audit, BatchAudit, BatchDecision, BatchStartOptions};

use crate::ui::{Context, outln};

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Start an audit from the reported batch tallies and the ballot manifest.
    Start {
        /// Reported batch tallies: CSV `batch,contest,choice,votes`.
        #[arg(long)]
        tallies: PathBuf,
        /// Ballot manifest (ballots per batch; the batch names of the tallies).
        #[arg(long)]
        manifest: PathBuf,
        /// Certified contest totals `contest,candidate,votes[,winners]` (default: the batch sums);
        /// votes in no batch are unauditable ballots, taken off the margins.
        #[arg(long)]
        results: Option<PathBuf>,
        /// Public random seed.
        #[arg(long)]
        seed: String,
        #[arg(long, default_value_t = 0.10)]
        risk_limit: f64,
        /// Winners of a contest, `CONTEST=N` (repeatable; default 1).
        #[arg(long)]
        winners: Vec<String>,
        /// Votes a voter may cast in a contest, `CONTEST=N` (repeatable; default: its winners).
        #[arg(long)]
        votes_allowed: Vec<String>,
        /// Ballots of a contest not yet tallied, `CONTEST=N` (repeatable).
        #[arg(long)]
        pending: Vec<String>,
        /// A contest decided by a majority threshold (majority or run-off; repeatable).
        #[arg(long)]
        runoff: Vec<String>,
        /// The state file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Draw the next round (MACRO's sizes unless --size is given) and write its retrieval list.
    Draw {
        #[arg(long)]
        audit: PathBuf,
        /// Draws to add for a contest this round, `CONTEST=N` (repeatable).
        #[arg(long)]
        size: Vec<String>,
        /// Retrieval list CSV `batch,ballots,round,times_drawn,contests`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Record hand tallies of drawn batches (CSV `batch,contest,choice,votes`).
    Record {
        #[arg(long)]
        audit: PathBuf,
        #[arg(long, required = true)]
        tallies: Vec<PathBuf>,
    },
    /// Each contest's error bound, draws, risk and decision.
    Status {
        #[arg(long)]
        audit: PathBuf,
    },
}

fn parse_counts(flag: &str, args: &[String]) -> anyhow::Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for a in args {
        let Some((name, n)) = a.rsplit_once('=') else { bail!("--{flag} '{a}': expected CONTEST=N") };
        let n: u64 = n.trim().parse().with_context(|| format!("--{flag} '{a}': N is not a whole number"))?;
        out.push((name.trim().to_owned(), n));
    }
    Ok(out)
}

pub fn run(ctx: &Context, cmd: BatchCommand) -> anyhow::Result<()> {
    match cmd {
        BatchCommand::Start {
            tallies,
            manifest,
            results,
            seed,
            risk_limit,
            winners,
            votes_allowed,
            pending,
            runoff,
            out,
        } => {
            if out.exists() {
                bail!("{} exists: an audit's state file is not overwritten", out.display());
            }
            let reported = audit::read_batch_tallies(&tallies)
                .with_context(|| format!("reading {}", tallies.display()))?;
            let m = audit::Manifest::read(&manifest)
                .with_context(|| format!("reading {}", manifest.display()))?;
            let mut options = BatchStartOptions {
                totals: None,
                winners: parse_counts("winners", &winners)?,
                votes_allowed: parse_counts("votes-allowed", &votes_allowed)?,
                pending: parse_counts("pending", &pending)?,
                runoff,
            };
            if let Some(r) = &results {
                let contests =
                    audit::read_results(r, 0).with_context(|| format!("reading {}", r.display()))?;
                let mut totals = BTreeMap::new();
                for c in contests {
                    if !reported.choices.contains_key(&c.name) {
                        bail!(
                            "{}: contest '{}' has no batch tallies in {}",
                            r.display(),
                            c.name,
                            tallies.display()
                        );
                    }
                    if !options.winners.iter().any(|(n, _)| n == &c.name) {
                        options.winners.push((c.name.clone(), c.winners as u64));
                    }
                    // Ties are broken in the order the batch tallies name the choices.
                    let order = &reported.choices[&c.name];
                    let mut t: Vec<(String, u64)> =
                        order.iter().map(|n| (n.clone(), c.tallies.get(n).copied().unwrap_or(0))).collect();
                    t.extend(
                        c.tallies.iter().filter(|(n, _)| !order.contains(n)).map(|(n, v)| (n.clone(), *v)),
                    );
                    totals.insert(c.name, t);
                }
                if let Some(missing) = reported.choices.keys().find(|c| !totals.contains_key(*c)) {
                    bail!("{}: no totals for contest '{missing}' of {}", r.display(), tallies.display());
                }
                options.totals = Some(totals);
            }
            let a = BatchAudit::start(reported, &tallies, &m, risk_limit, &seed, &options)
                .with_context(|| format!("starting the audit from {}", tallies.display()))?;
            a.save(&out)?;
            ctx.note(format!(
                "{}: {} batches, {} contests; next: audit batch draw",
                out.display(),
                a.ballots.len(),
                a.contests.len()
            ));
            Ok(())
        }
        BatchCommand::Draw { audit: path, size, out } => {
            let mut a = BatchAudit::load(&path)?;
            let sizes = parse_counts("size", &size)?;
            let list =
                a.draw_round(&sizes).with_context(|| format!("drawing a round of {}", path.display()))?;
            let f = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            audit::write_batch_retrieval_csv(std::io::BufWriter::new(f), &list)
                .with_context(|| format!("writing {}", out.display()))?;
            a.save(&path)?;
            ctx.note(format!(
                "round {}: {} batches to hand count; wrote {}",
                a.rounds,
                list.len(),
                out.display()
            ));
            Ok(())
        }
        BatchCommand::Record { audit: path, tallies } => {
            let mut a = BatchAudit::load(&path)?;
            let mut n = 0;
            for f in &tallies {
                let t = audit::read_batch_tallies(f).with_context(|| format!("reading {}", f.display()))?;
                n += a.record(t, f)?;
            }
            a.save(&path)?;
            ctx.note(format!("recorded {n} batches; {} awaited", a.awaited().len()));
            Ok(())
        }
        BatchCommand::Status { audit: path } => status(ctx, &path),
    }
}

fn status(ctx: &Context, path: &Path) -> anyhow::Result<()> {
    let a = BatchAudit::load(path)?;
    let st = a.status();
    if ctx.json {
        let v = serde_json::json!({ "rounds": a.rounds, "risk_limit": a.risk_limit, "contests": st });
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    outln!(
        "contest,winners,total_error_bound,batches,draws,tallied_draws,batches_counted,risk,decision,next_round"
    )?;
    for s in &st {
        let decision = match s.decision {
            BatchDecision::RiskLimitMet => "risk_limit_met",
            BatchDecision::Continue => "continue",
            BatchDecision::FullHandCount => "full_hand_count",
            BatchDecision::HandCountConfirmed => "hand_count_confirmed",
            BatchDecision::HandCountOverturned => "hand_count_overturned",
            BatchDecision::Uncontested => "uncontested",
        };
        outln!(
            "{},{},{:.6},{},{},{},{},{:.10},{},{}",
            scrutineer_core::text::csv_field(&s.contest),
            scrutineer_core::text::csv_field(&s.winners.join(";")),
            s.total_error_bound,
            s.batches,
            s.draws,
            s.tallied_draws,
            s.batches_counted,
            s.risk,
            decision,
            s.next_round
        )?;
    }
    Ok(())
}
