//! `scrutineer audit ...`: risk-limiting audits.

use crate::ui::outln;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use scrutineer_audit::{
    self as audit, AuditFile, ConsistentSampler, ContestStatus, Decision, Manifest, PollingMethod,
    RoundByRound, RoundsQuestion, SampleSizeMethod,
};
use scrutineer_core::Engine;

use scrutineer_core::text::csv_field;

use crate::ui::Context;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReplayFormat {
    /// Colorado's round report `contest.csv` (ColoradoRLA ballot comparison).
    ColoradoContest,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EstimateMethod {
    /// BRAVO ballot polling, expected sample size (Lindeman, Stark and Yates 2012).
    Bravo,
    /// Kaplan-Markov ballot-level comparison with no discrepancies (ColoradoRLA, rlacalc -n).
    Comparison,
    /// Minerva ballot polling: first-round sizes for each stopping probability.
    Minerva,
    /// Providence ballot polling: first-round sizes (as Minerva's in round 1).
    Providence,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CvrFormat {
    /// Dominion JSON export (CvrExport*.json) checked against the *Manifest.json files.
    DominionJson,
    /// Dominion CSV export (CVR_Export.csv) checked against a ballot manifest.
    DominionCsv,
    /// RAIRE ranked-choice ballots: IRV count and assertions.
    Raire,
    /// ES&S cast-vote-record workbook (.xlsx).
    Ess,
    /// Clear Ballot CSV export.
    ClearBallot,
    /// Hart: a folder of card XML files (or the files).
    Hart,
    /// NIST SP 1500-103 Cast Vote Record Common Data Format report (.json or .xml).
    NistCdf,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Start a ballot-polling audit file from reported results and a ballot manifest.
    Init(InitArgs),
    /// Print the ballots to pull (batch and position) from a manifest, seed and size.
    Sample {
        /// Ballot manifest; or use --audit to extend an audit file's sample.
        #[arg(long, conflicts_with = "audit")]
        manifest: Option<PathBuf>,
        #[arg(long, requires = "manifest")]
        seed: Option<String>,
        /// Total number of draws (an audit file's earlier draws are kept first).
        #[arg(long)]
        size: usize,
        #[arg(long)]
        with_replacement: bool,
        #[arg(long)]
        audit: Option<PathBuf>,
    },
    /// Record the audit board's interpretations (batch,position,contest,choice).
    Record {
        #[arg(long)]
        audit: PathBuf,
        #[arg(long)]
        interpretations: PathBuf,
    },
    /// Measured risk per contest: stop, continue, or full hand count.
    Status {
        #[arg(long)]
        audit: PathBuf,
        /// Also put findings into the store.
        #[arg(long)]
        store_findings: bool,
    },
    /// Sample sizes over a range of risk limits and margins.
    Estimate {
        /// Diluted margins as fractions (0.05 = 5%), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        margins: Vec<f64>,
        #[arg(long, value_delimiter = ',', default_value = "0.01,0.025,0.05,0.1,0.2")]
        risk_limits: Vec<f64>,
        #[arg(long, value_enum, default_value = "bravo")]
        method: EstimateMethod,
        #[arg(long, default_value_t = 1.03905)]
        gamma: f64,
        /// Minerva and Providence: the chances of finishing in the first round wanted.
        #[arg(long, value_delimiter = ',', default_value = "0.7,0.8,0.9")]
        stopping_probabilities: Vec<f64>,
    },
    /// Minerva or Providence from figures alone: a JSON list of questions (method,
    /// risk_limit, winner_votes, loser_votes, rounds, stopping_probabilities), each
    /// answered with every round's p-value and decision and the next round's sizes.
    Rounds {
        #[arg(long)]
        input: PathBuf,
    },
    /// Read an Arlo audit-report export: per-jurisdiction totals and the conclusion.
    Arlo {
        file: PathBuf,
        /// Write per-jurisdiction hand-tally totals here.
        #[arg(long)]
        totals: Option<PathBuf>,
    },
    /// Read cast-vote records and check card and vote counts against their manifests.
    Cvr {
        #[arg(long, value_enum)]
        format: CvrFormat,
        /// CVR files (JSON exports, one CSV export, or RAIRE files).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Dominion JSON: folder of *Manifest.json; Dominion CSV: ballot manifest CSV.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Dominion CSV: files `*-hash.txt` declaring the SHA-256 of the CVR / manifest.
        #[arg(long)]
        hash: Vec<PathBuf>,
        /// ES&S, Clear Ballot, Hart, NIST CDF: RCTab's configuration (candidate codes, labels,
        /// columns, ballot rules); without it, ES&S's usual layout and every label its own choice.
        #[arg(long)]
        rctab_config: Option<PathBuf>,
        /// With an RCTab configuration whose tie-break asks the operator
        /// (`stopCountingAndAsk`, `previousRoundCountsThenAsk`): the candidate chosen at
        /// each tie, in the order the ties arise (repeat the option).
        #[arg(long = "tiebreak-choice", value_name = "CANDIDATE")]
        tiebreak_choices: Vec<String>,
    },
    /// Recompute a state's published sample-size figures from its round report.
    Replay {
        /// Layout of the report.
        #[arg(long, value_enum)]
        format: ReplayFormat,
        /// The round report.
        file: PathBuf,
        /// Where to write `contest_name,optimistic_samples_to_audit,estimated_samples_to_audit`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Generate RAIRE assertions (NEB / NEN) proving an IRV contest's winner from its ranked ballots.
    RaireAssertions(super::audit_raire::AssertionsArgs),
    /// Measure the risk of each RAIRE assertion on a ballot-polling sample (ALPHA).
    RaireRisk(super::audit_raire::RiskArgs),
    /// A ballot-comparison audit across jurisdictions: start, seed, draw, retrieval, record, status, report.
    Comparison {
        #[command(subcommand)]
        command: super::audit_comparison::ComparisonCommand,
    },
    /// A batch-comparison audit (MACRO per contest, PPEB draws): start, draw, record, status.
    Batch {
        #[command(subcommand)]
        command: super::audit_batch::BatchCommand,
    },
    /// A hybrid audit (SUITE: CVR stratum compared, no-CVR stratum polled): start, draw, record, status, calc.
    Hybrid {
        #[command(subcommand)]
        command: super::audit_hybrid::HybridCommand,
    },
}

// The arguments of `audit init` (its help is the variant's).
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Reported results: contest,candidate,votes[,winners,ballots,kind,threshold].
    #[arg(long)]
    results: PathBuf,
    /// Ballot manifest (batches and ballot counts).
    #[arg(long)]
    manifest: PathBuf,
    /// Public random seed (e.g. 20 dice rolls).
    #[arg(long)]
    seed: String,
    #[arg(long, default_value_t = 0.10)]
    risk_limit: f64,
    #[arg(long, value_enum, default_value = "bravo")]
    method: MethodArg,
    /// Sample without replacement (default: with replacement, as BRAVO assumes).
    #[arg(long)]
    without_replacement: bool,
    /// The audit file to create.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MethodArg {
    Bravo,
    Alpha,
    /// Minerva, measured at the end of each round (each `audit sample`).
    Minerva,
    /// Providence, measured at the end of each round (each `audit sample`).
    Providence,
}

pub fn run(ctx: &Context, cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Replay { format, file, out } => replay(ctx, format, &file, &out),
        AuditCommand::Comparison { command } => super::audit_comparison::run(ctx, command),
        AuditCommand::Batch { command } => super::audit_batch::run(ctx, command),
        AuditCommand::Hybrid { command } => super::audit_hybrid::run(ctx, command),
        AuditCommand::Init(args) => init(ctx, args),
        AuditCommand::RaireAssertions(args) => super::audit_raire::assertions(ctx, args),
        AuditCommand::RaireRisk(args) => super::audit_raire::risk(ctx, args),
        AuditCommand::Sample { manifest, seed, size, with_replacement, audit } => {
            sample(ctx, manifest.as_deref(), seed.as_deref(), size, with_replacement, audit.as_deref())
        }
        AuditCommand::Record { audit, interpretations } => record(ctx, &audit, &interpretations),
        AuditCommand::Status { audit, store_findings } => status(ctx, &audit, store_findings),
        AuditCommand::Estimate { margins, risk_limits, method, gamma, stopping_probabilities } => {
            let method = match method {
                EstimateMethod::Bravo => SampleSizeMethod::Bravo,
                EstimateMethod::Comparison => SampleSizeMethod::Comparison { gamma },
                EstimateMethod::Minerva => {
                    return estimate_rounds(
                        ctx,
                        &margins,
                        &risk_limits,
                        &stopping_probabilities,
                        RoundByRound::Minerva,
                    );
                }
                EstimateMethod::Providence => {
                    let m = RoundByRound::Providence;
                    return estimate_rounds(ctx, &margins, &risk_limits, &stopping_probabilities, m);
                }
            };
            estimate(ctx, &margins, &risk_limits, method)
        }
        AuditCommand::Rounds { input } => rounds_cmd(&input),
        AuditCommand::Arlo { file, totals } => arlo_cmd(ctx, &file, totals.as_deref()),
        AuditCommand::Cvr { format, files, manifest, hash, rctab_config, tiebreak_choices } => cvr_cmd(
            ctx,
            format,
            &files,
            manifest.as_deref(),
            &hash,
            rctab_config.as_deref(),
            &tiebreak_choices,
        ),
    }
}

fn init(ctx: &Context, args: InitArgs) -> anyhow::Result<()> {
    let InitArgs { results, manifest, seed, risk_limit, method, without_replacement, out } = args;
    let method = match method {
        MethodArg::Bravo => PollingMethod::Bravo,
        MethodArg::Alpha => PollingMethod::Alpha,
        MethodArg::Minerva => PollingMethod::Minerva,
        MethodArg::Providence => PollingMethod::Providence,
    };
    let m = Manifest::read(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let contests = audit::read_results(&results, m.total_ballots())
        .with_context(|| format!("reading {}", results.display()))?;
    let a = AuditFile::new(seed, risk_limit, method, !without_replacement, m, contests)?;
    a.save(&out)?;
    ctx.note(format!(
        "{}: {} contests, {} ballots in {} batches",
        out.display(),
        a.contests.len(),
        a.manifest.total_ballots(),
        a.manifest.batches.len()
    ));
    Ok(())
}

fn sample(
    ctx: &Context,
    manifest: Option<&Path>,
    seed: Option<&str>,
    size: usize,
    with_replacement: bool,
    audit: Option<&Path>,
) -> anyhow::Result<()> {
    let draws = match (audit, manifest, seed) {
        (Some(path), _, _) => {
            let mut a = AuditFile::load(path)?;
            a.extend_sample(size);
            a.save(path)?;
            a.draws
        }
        (None, Some(m), Some(seed)) => {
            let m = Manifest::read(m).with_context(|| format!("reading {}", m.display()))?;
            let ids: Vec<String> = m.ballot_ids().collect();
            let s = ConsistentSampler::new(seed);
            audit::draws_from(&s.sample(ids.iter().map(String::as_str), size, with_replacement))
        }
        _ => bail!("give --audit FILE, or --manifest and --seed"),
    };
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&draws)?)?;
    } else {
        outln!("draw,batch,position,generation,ticket_number")?;
        for d in &draws {
            outln!(
                "{},{},{},{},{}",
                d.draw,
                csv_field(&d.batch).into_owned(),
                d.position,
                d.generation,
                d.ticket_number
            )?;
        }
    }
    Ok(())
}

fn record(ctx: &Context, audit: &Path, interpretations: &Path) -> anyhow::Result<()> {
    let mut a = AuditFile::load(audit)?;
    let new = audit::read_interpretations(interpretations)
        .with_context(|| format!("reading {}", interpretations.display()))?;
    let n = a.record_interpretations(new, interpretations)?;
    a.save(audit)?;
    ctx.note(format!(
        "recorded {n} ballots; {} of {} draws interpreted",
        a.interpretations.len(),
        a.draws.len()
    ));
    Ok(())
}

fn estimate(
    ctx: &Context,
    margins: &[f64],
    risk_limits: &[f64],
    method: SampleSizeMethod,
) -> anyhow::Result<()> {
    let grid = audit::sample_size_grid(margins, risk_limits, method)?;
    let rows = serde_json::to_value(&grid)?;
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
    } else {
        outln!("margin,risk_limit,sample_size")?;
        for r in rows.as_array().map(Vec::as_slice).unwrap_or_default() {
            outln!("{},{},{}", r["margin"], r["risk_limit"], r["sample_size"])?;
        }
    }
    Ok(())
}

fn estimate_rounds(
    ctx: &Context,
    margins: &[f64],
    risk_limits: &[f64],
    probabilities: &[f64],
    method: RoundByRound,
) -> anyhow::Result<()> {
    let grid = audit::round_size_grid(margins, risk_limits, probabilities, method)?;
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&grid)?)?;
        return Ok(());
    }
    outln!("margin,risk_limit,stopping_probability,sample_size,kmin,chance_one_round,expected_ballots")?;
    let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    for r in &grid {
        outln!(
            "{},{},{},{},{},{},{}",
            r.margin,
            r.risk_limit,
            r.stopping_probability,
            opt(r.sample_size),
            opt(r.kmin),
            r.chance_one_round.map_or(String::new(), |c| format!("{c:.6}")),
            r.expected_ballots.map_or(String::new(), |c| format!("{c:.1}"))
        )?;
    }
    Ok(())
}

fn rounds_cmd(input: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let questions: Vec<RoundsQuestion> =
        serde_json::from_str(&text).with_context(|| format!("reading {}", input.display()))?;
    let answers = questions
        .iter()
        .enumerate()
        .map(|(i, q)| q.answer().with_context(|| format!("{}: question {}", input.display(), i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    outln!("{}", serde_json::to_string_pretty(&answers)?)?;
    Ok(())
}

fn status(ctx: &Context, path: &Path, store_findings: bool) -> anyhow::Result<()> {
    let a = AuditFile::load(path)?;
    let st = audit::status(&a);
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&st)?)?;
    } else {
        print_status(&st);
    }
    if store_findings {
        let findings = audit::status_findings(&a, &st);
        let mut store = ctx.open_store("audit status", &path.display().to_string())?;
        let run = store.begin_run(Engine::Audit, "audit status")?;
        let n = store.put_findings(Some(run), &findings)?;
        let summary = scrutineer_audit::RunSummary::new(&st, n);
        store.finish_run(run, &scrutineer_core::StoredSummary::new(&summary)?)?;
        ctx.note(format!("{n} findings stored"));
    }
    Ok(())
}

/// The run's summary, stored with the run.
fn print_status(st: &[ContestStatus]) {
    let rows: Vec<Vec<String>> = st
        .iter()
        .map(|s| {
            vec![
                crate::ui::truncate(&s.contest, 40),
                s.reported_winners.join("; "),
                s.ballots_examined.to_string(),
                format!("{:.4}", s.measured_risk),
                format!("{}", s.risk_limit),
                match s.decision {
                    Decision::Stop => "stop: outcome confirmed".to_owned(),
                    Decision::Continue => format!(
                        "escalate: draw more (about {} in all), else full hand count",
                        s.estimated_total_draws.map_or("?".into(), |n| n.to_string())
                    ),
                    Decision::FullHandCount => {
                        format!("full hand count: winners {}", s.sample_leaders.join("; "))
                    }
                },
            ]
        })
        .collect();
    crate::ui::print_table(&["contest", "reported winners", "ballots", "risk", "limit", "decision"], &rows);
    for s in st.iter().filter(|s| !s.next_round.is_empty()) {
        let choices: Vec<String> = s
            .next_round
            .iter()
            .map(|ch| match (ch.total_draws, ch.chance) {
                (Some(n), Some(c)) => format!("{n} draws in all (stops with chance {c:.3})"),
                (Some(n), None) => format!("{n} draws in all"),
                _ => format!("chance {} out of reach: full hand count", ch.stopping_probability),
            })
            .collect();
        let _ = outln!(
            "{}: round {} sizes for stopping probability {}: {}",
            crate::ui::truncate(&s.contest, 40),
            s.rounds_measured + 1,
            s.next_round.iter().map(|c| c.stopping_probability.to_string()).collect::<Vec<_>>().join(" / "),
            choices.join("; ")
        );
    }
}

fn arlo_cmd(ctx: &Context, file: &std::path::Path, totals: Option<&std::path::Path>) -> anyhow::Result<()> {
    let report = audit::read_arlo_report(file)
        .with_context(|| format!("reading the Arlo report {}", file.display()))?;
    let by_j = audit::jurisdiction_totals(&report);
    if let Some(out) = totals {
        let mut text = String::from("jurisdiction,batches");
        for c in &report.choices {
            text.push(',');
            text.push_str(&csv_field(c));
        }
        text.push_str(",total\n");
        for (j, (batches, votes)) in &by_j {
            text.push_str(&format!("{},{}", csv_field(j), batches));
            for v in votes {
                text.push_str(&format!(",{v}"));
            }
            text.push_str(&format!(",{}\n", votes.iter().sum::<u64>()));
        }
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    }
    let concl = audit::arlo_conclusions(&report);
    if ctx.json {
        let v = serde_json::json!({
            "settings": report.settings,
            "batches": report.batches.len(),
            "jurisdictions": by_j.len(),
            "conclusions": concl,
        });
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        outln!(
            "{} ({}): {} {} audit, risk limit {}, seed {}",
            report.election,
            report.organization,
            report.settings.audit_type,
            report.settings.math_type,
            report.settings.risk_limit,
            report.settings.seed
        )?;
        outln!("{} batch rows in {} jurisdictions", report.batches.len(), by_j.len())?;
        for c in &concl {
            outln!(
                "{}: reported winner {}, audited winner {} (margin {} votes); {} of {} ballots examined{}; {}",
                c.contest,
                c.reported_winners.join("; "),
                c.audited_winners.join("; "),
                c.audited_margin,
                c.sample_size,
                c.total_ballots,
                if c.full_hand_count { " (full hand count)" } else { "" },
                if c.outcome_confirmed { "OUTCOME CONFIRMED" } else { "OUTCOME NOT CONFIRMED" }
            )?;
        }
    }
    Ok(())
}

fn cvr_cmd(
    ctx: &Context,
    format: CvrFormat,
    files: &[PathBuf],
    manifest: Option<&std::path::Path>,
    hashes: &[PathBuf],
    rctab_config: Option<&Path>,
    tiebreak_choices: &[String],
) -> anyhow::Result<()> {
    if !tiebreak_choices.is_empty() && rctab_config.is_none() {
        bail!("--tiebreak-choice needs --rctab-config (whose tiebreakMode asks the operator)");
    }
    let value = match format {
        CvrFormat::Ess | CvrFormat::ClearBallot | CvrFormat::Hart | CvrFormat::NistCdf => {
            vendor_cvrs(format, files, rctab_config, tiebreak_choices)?
        }
        CvrFormat::DominionJson => {
            let dir = manifest.context("--manifest FOLDER (with the *Manifest.json files) is required")?;
            let m = audit::DominionManifests::read_dir(dir)?;
            let mut exports = Vec::new();
            let mut lossless = 0;
            for f in files {
                let (e, same) = audit::read_cvr_json_lossless(f)?;
                lossless += same as usize;
                exports.push((f.display().to_string(), e));
            }
            let mut check = audit::check_dominion_json(&exports, &m);
            check.lossless_files = lossless;
            serde_json::to_value(check)?
        }
        CvrFormat::DominionCsv => {
            let [file] = files else { bail!("give one CSV export") };
            let e = audit::read_cvr_csv(file)?;
            let mpath = manifest.context("--manifest (ballot manifest CSV) is required")?;
            let m = Manifest::read(mpath)?;
            let check = audit::check_dominion_csv(&e, &m);
            let hash_checks = audit::check_hashes(hashes, &[file.as_path(), mpath])?;
            let mut v = serde_json::to_value(&check)?;
            v["hash_checks"] = serde_json::to_value(hash_checks)?;
            v["election"] = e.election.into();
            v
        }
        CvrFormat::Raire => {
            let mut all = Vec::new();
            for f in files {
                let r = audit::read_raire(f)?;
                for c in audit::check_raire(&r) {
                    let mut v = serde_json::to_value(&c)?;
                    v["file"] = f.display().to_string().into();
                    all.push(v);
                }
            }
            serde_json::Value::Array(all)
        }
    };
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        summarise(&value)?;
    }
    // The vendor readers keep reading past a malformed row so that every one is listed;
    // the command still fails, since those ballots are not in the counts.
    let malformed: u64 =
        value.as_array().map(|a| a.iter().filter_map(|v| v["malformed_rows"].as_u64()).sum()).unwrap_or(0);
    let unfinished: Vec<String> = value
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|v| v["contests"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["count_error"].as_str().map(|e| format!("{}: {e}", c["contest"])))
        .collect();
    if malformed > 0 {
        bail!(
            "{malformed} malformed rows, left out of the counts (the first 20 listed above; --json lists every one)"
        );
    }
    if !unfinished.is_empty() {
        bail!("RCTab's count did not finish: {}", unfinished.join("; "));
    }
    Ok(())
}

/// Reads a vendor export and summarises it: cards, contests, each one's choices and
/// first-round tally under the ballot rules, and every malformed row.
fn vendor_cvrs(
    format: CvrFormat,
    files: &[PathBuf],
    config_path: Option<&Path>,
    tiebreak_choices: &[String],
) -> anyhow::Result<serde_json::Value> {
    let config = config_path
        .map(|p| audit::RctabConfig::read(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    let source = config.as_ref().and_then(|c| c.cvr_file_sources.first()).cloned().unwrap_or_default();
    let labels = config.as_ref().map(|c| c.labels(&source)).unwrap_or_default();
    let rules = match &config {
        Some(c) => c.ballot_rules()?,
        None => audit::BallotRules::default(),
    };
    // A single-winner configuration is counted as RCTab counts it (its tie-breaks
    // included); other counts get the plain IRV winner.
    let count = match &config {
        Some(c) if c.is_single_winner() => {
            let mut count = c.count_rules()?;
            count.operator_choices = tiebreak_choices.to_vec();
            Some(count)
        }
        _ => None,
    };
    let mut all = Vec::new();
    for f in files {
        let cvrs = match format {
            CvrFormat::Ess => {
                let layout = match &config {
                    Some(c) => audit::EssLayout::from_rctab(
                        &source,
                        &c.output_settings.contest_name,
                        rules.max_rankings,
                    )?,
                    None => audit::EssLayout::default(),
                };
                audit::read_ess(f, &layout, &labels)?
            }
            CvrFormat::ClearBallot => audit::read_clear_ballot(f, &labels)?,
            CvrFormat::NistCdf => {
                let contest = (!source.contest_id.is_empty()).then_some(source.contest_id.as_str());
                audit::read_nist_cdf(f, &labels, contest)?
            }
            _ => {
                let contest = (!source.contest_id.is_empty()).then_some(source.contest_id.as_str());
                audit::read_hart(&audit::hart_files(f)?, &labels, contest)?
            }
        };
        all.push(cvrs);
    }
    let mut out = Vec::new();
    for cvrs in &all {
        let contests = audit::summarise_vendor(cvrs, &rules, count.as_ref());
        out.push(serde_json::json!({
            "format": cvrs.format,
            "files": cvrs.files.len(),
            "cards": cvrs.cards,
            "contests": contests,
            "malformed_rows": cvrs.malformed.len(),
            "problems": cvrs.malformed.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }));
    }
    Ok(serde_json::Value::Array(out))
}

fn summarise(v: &serde_json::Value) -> std::io::Result<()> {
    match v {
        serde_json::Value::Array(items) => items.iter().try_for_each(summarise)?,
        serde_json::Value::Object(map) => {
            let mut parts = Vec::new();
            for (k, x) in map {
                match x {
                    serde_json::Value::Number(_)
                    | serde_json::Value::String(_)
                    | serde_json::Value::Bool(_) => parts.push(format!("{k}={x}")),
                    serde_json::Value::Array(a) if k == "problems" => {
                        parts.push(format!("problems={}", a.len()))
                    }
                    _ => {}
                }
            }
            outln!("{}", parts.join(" "))?;
            if let Some(serde_json::Value::Array(p)) = map.get("problems") {
                for x in p.iter().take(20) {
                    outln!("  problem: {}", x.as_str().unwrap_or(""))?;
                }
            }
            if let Some(serde_json::Value::Array(cs)) = map.get("contests") {
                for c in cs {
                    let tally = c["first_round"]["tally"]
                        .as_object()
                        .map(|t| t.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "))
                        .unwrap_or_default();
                    let fr = &c["first_round"];
                    outln!(
                        "  contest {} choices={} cards={} ranks={} undervotes={} overvotes={} skipped={} exhausted={}{}",
                        c["contest"],
                        c["choices"],
                        c["cards"],
                        c["ranks"],
                        fr["undervotes"],
                        fr["overvotes"],
                        fr["skipped_rankings"],
                        fr["exhausted_choices"],
                        c["irv_winner"].as_str().map(|w| format!(" irv_winner=\"{w}\"")).unwrap_or_default()
                    )?;
                    outln!("    first round: {tally}")?;
                    if let Some(count) = c.get("rctab_count") {
                        let rounds = count["rounds"].as_array().map(Vec::len).unwrap_or(0);
                        outln!("    RCTab count: {rounds} rounds")?;
                        for t in count["ties"].as_array().into_iter().flatten() {
                            outln!(
                                "    tie in round {} among {}: {} {} ({})",
                                t["round"],
                                t["tied"],
                                t["chosen"],
                                if t["for_winner"].as_bool() == Some(true) { "wins" } else { "eliminated" },
                                t["reason"].as_str().unwrap_or("")
                            )?;
                        }
                    }
                    if let Some(e) = c["count_error"].as_str() {
                        outln!("    RCTab count not finished: {e}")?;
                    }
                }
            }
            if let Some(serde_json::Value::Array(h)) = map.get("hash_checks") {
                for x in h {
                    outln!("  hash: {x}")?;
                }
            }
        }
        _ => outln!("{v}")?,
    }
    Ok(())
}

fn replay(
    ctx: &Context,
    format: ReplayFormat,
    file: &std::path::Path,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    match format {
        ReplayFormat::ColoradoContest => {
            let rows = audit::read_colorado_contests(file)
                .with_context(|| format!("reading the Colorado round report {}", file.display()))?;
            let replayed = audit::replay_colorado(&rows);
            let f = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
            audit::write_replay_csv(std::io::BufWriter::new(f), &replayed)
                .with_context(|| format!("writing {}", out.display()))?;
            let published = replayed.iter().filter(|r| r.published_optimistic.is_some()).count();
            let matching = replayed.iter().filter(|r| r.matches()).count();
            let mismatches: Vec<_> =
                replayed.iter().filter(|r| r.published_optimistic.is_some() && !r.matches()).collect();
            if ctx.json {
                let v = serde_json::json!({
                    "rows": replayed.len(),
                    "rows_with_published_figures": published,
                    "matching": matching,
                    "mismatches": mismatches,
                });
                outln!("{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                ctx.note(format!(
                    "{}: {} rows replayed; {} of {} published rows match exactly; wrote {}",
                    file.display(),
                    replayed.len(),
                    matching,
                    published,
                    out.display()
                ));
                for m in mismatches.iter().take(20) {
                    ctx.note(format!(
                        "  line {}: {}: ours {}/{}, published {:?}/{:?}",
                        m.line,
                        m.contest_name,
                        m.optimistic_samples_to_audit,
                        m.estimated_samples_to_audit,
                        m.published_optimistic,
                        m.published_estimated
                    ));
                }
            }
            std::io::stdout().flush().ok();
            if replayed.is_empty() {
                bail!("{}: no contest rows", file.display());
            }
            Ok(())
        }
    }
}
