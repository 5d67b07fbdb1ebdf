//! `scrutineer audit hybrid ...`: a hybrid audit (SUITE: a CVR stratum compared card by
//! card, a no-CVR stratum polled, the risks combined), one state file per audit.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use scrutineer_audit::{self as audit, HybridAudit, HybridDecision, Manifest, SuiteQuestion};
use scrutineer_core::text::csv_field;

use crate::ui::{Context, outln};

#[derive(Debug, Subcommand)]
pub enum HybridCommand {
    /// Start an audit from the certified results, the CVR stratum's CVRs and both strata's manifests.
    Start {
        /// Certified results `contest,candidate,votes[,winners]` (both strata).
        #[arg(long)]
        results: PathBuf,
        /// CVRs of the CVR stratum: CSV `batch,position,contest,choice` (one row per mark;
        /// an empty choice: the contest on the card with no vote).
        #[arg(long)]
        cvrs: PathBuf,
        /// Ballot manifest of the cards with CVRs.
        #[arg(long)]
        cvr_manifest: PathBuf,
        /// Ballot manifest of the cards without CVRs.
        #[arg(long)]
        no_cvr_manifest: PathBuf,
        /// Public random seed.
        #[arg(long)]
        seed: String,
        #[arg(long, default_value_t = 0.10)]
        risk_limit: f64,
        /// The state file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Draw the next round (SUITE's sizes unless both --cvr and --no-cvr are given) and write its retrieval list.
    Draw {
        #[arg(long)]
        audit: PathBuf,
        /// Cards of the CVR stratum in the sample after this round (cumulative).
        #[arg(long, requires = "no_cvr")]
        cvr: Option<u64>,
        /// Cards of the no-CVR stratum in the sample after this round (cumulative).
        #[arg(long, requires = "cvr")]
        no_cvr: Option<u64>,
        /// Retrieval list CSV `round,stratum,batch,position,ticket_number`, sorted by stratum, batch, position.
        #[arg(long)]
        out: PathBuf,
    },
    /// Record the boards' readings: CSV `stratum,batch,position,contest,choice[,found]`.
    Record {
        #[arg(long)]
        audit: PathBuf,
        #[arg(long, required = true)]
        readings: Vec<PathBuf>,
    },
    /// Each contest's strata, sample, misstatements, combined risk, decision and next sizes.
    Status {
        #[arg(long)]
        audit: PathBuf,
    },
    /// Answer a SUITE question given as figures (JSON: strata totals, samples, misstatements):
    /// the combined risk and the next round's sizes, for planning or re-checking.
    Calc {
        #[arg(long)]
        input: PathBuf,
    },
}

pub fn run(ctx: &Context, cmd: HybridCommand) -> anyhow::Result<()> {
    match cmd {
        HybridCommand::Start { results, cvrs, cvr_manifest, no_cvr_manifest, seed, risk_limit, out } => {
            if out.exists() {
                bail!("{} exists: an audit's state file is not overwritten", out.display());
            }
            let contests =
                audit::read_results(&results, 0).with_context(|| format!("reading {}", results.display()))?;
            let marks =
                audit::read_cvr_marks(&cvrs).with_context(|| format!("reading {}", cvrs.display()))?;
            let m1 = Manifest::read(&cvr_manifest)
                .with_context(|| format!("reading {}", cvr_manifest.display()))?;
            let m2 = Manifest::read(&no_cvr_manifest)
                .with_context(|| format!("reading {}", no_cvr_manifest.display()))?;
            let a = HybridAudit::start(&contests, marks, &cvrs, m1, m2, risk_limit, &seed)
                .with_context(|| format!("starting the audit from {}", results.display()))?;
            a.save(&out)?;
            ctx.note(format!(
                "{}: {} contests, {} cards with CVRs, {} without; next: audit hybrid draw",
                out.display(),
                a.contests.len(),
                a.cvr_manifest.total_ballots(),
                a.no_cvr_manifest.total_ballots()
            ));
            Ok(())
        }
        HybridCommand::Draw { audit: path, cvr, no_cvr, out } => {
            let mut a = HybridAudit::load(&path)?;
            let sizes = cvr.zip(no_cvr);
            let list =
                a.draw_round(sizes).with_context(|| format!("drawing a round of {}", path.display()))?;
            let f = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            audit::write_hybrid_retrieval_csv(std::io::BufWriter::new(f), &list)
                .with_context(|| format!("writing {}", out.display()))?;
            a.save(&path)?;
            ctx.note(format!(
                "round {}: {} cards to retrieve; wrote {}",
                a.rounds,
                list.len(),
                out.display()
            ));
            Ok(())
        }
        HybridCommand::Record { audit: path, readings } => {
            let mut a = HybridAudit::load(&path)?;
            let mut n = 0;
            for f in &readings {
                let r = audit::read_hybrid_readings(f).with_context(|| format!("reading {}", f.display()))?;
                n += a.record(r, f)?;
            }
            a.save(&path)?;
            ctx.note(format!("recorded {n} cards"));
            Ok(())
        }
        HybridCommand::Status { audit: path } => status(ctx, &path),
        HybridCommand::Calc { input } => {
            let q = SuiteQuestion::read(&input)?;
            let ans = q.answer().with_context(|| format!("answering {}", input.display()))?;
            if ctx.json {
                outln!("{}", serde_json::to_string_pretty(&ans)?)?;
            } else {
                outln!("contest,risk,winner,loser,lambda,next_cvr,next_no_cvr,full_hand_count")?;
                outln!(
                    "{},{:.12},{},{},{:.6},{},{},{}",
                    csv_field(&q.contest),
                    ans.risk,
                    csv_field(&ans.pair.0),
                    csv_field(&ans.pair.1),
                    ans.lambda,
                    ans.next.cvr,
                    ans.next.no_cvr,
                    ans.next.full_hand_count
                )?;
            }
            Ok(())
        }
    }
}

fn status(ctx: &Context, path: &Path) -> anyhow::Result<()> {
    let a = HybridAudit::load(path)?;
    let st = a.status().with_context(|| format!("measuring the risk of {}", path.display()))?;
    if ctx.json {
        let v = serde_json::json!({ "rounds": a.rounds, "risk_limit": a.risk_limit, "contests": st });
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    outln!(
        "contest,winners,cvr_ballots,no_cvr_ballots,cvr_sampled,no_cvr_sampled,awaited,o1,o2,risk,decision,next_cvr,next_no_cvr"
    )?;
    for s in &st {
        let decision = match s.decision {
            HybridDecision::RiskLimitMet => "risk_limit_met",
            HybridDecision::Continue => "continue",
            HybridDecision::FullHandCount => "full_hand_count",
            HybridDecision::Uncontested => "uncontested",
        };
        outln!(
            "{},{},{},{},{},{},{},{},{},{:.10},{},{},{}",
            csv_field(&s.contest),
            csv_field(&s.winners.join(";")),
            s.cvr_ballots,
            s.no_cvr_ballots,
            s.cvr_sampled,
            s.no_cvr_sampled,
            s.awaited,
            s.misstatements.o1,
            s.misstatements.o2,
            s.risk,
            decision,
            s.next.cvr,
            s.next.no_cvr
        )?;
    }
    Ok(())
}
