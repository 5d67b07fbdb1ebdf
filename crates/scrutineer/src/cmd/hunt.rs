//! `scrutineer hunt`: intrusions on office computers, from their Windows event logs.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use scrutineer_core::{Engine, StoredSummary};
use scrutineer_hunt::{HuntConfig, HuntReport, HuntSummary, SigmaRules, hunt_evtx, write_hits_csv};

use crate::ui::{Context, outln, truncate, write_json, write_table};

#[derive(Debug, Subcommand)]
pub enum HuntCommand {
    /// Hunt in Windows event logs (EVTX) with Sigma rules and the built-in detections:
    /// matches to DIR/hits.csv, findings to the store.
    Evtx(EvtxArgs),
    /// Export the hunt findings in the store as a STIX 2.1 bundle.
    Export {
        /// Output file for the bundle.
        #[arg(long)]
        stix: PathBuf,
        /// Name of the reporting office (the bundle's identity).
        #[arg(long, default_value = "Election office")]
        identity: String,
    },
}

// The options of `hunt evtx` (a plain comment: clap takes the variant's doc as the about).
#[derive(Debug, Args)]
pub struct EvtxArgs {
    /// EVTX files, or directories searched for *.evtx.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Sigma rule files, or directories searched for *.yml (SigmaHQ's rules/windows, for
    /// one). Repeatable.
    #[arg(long = "sigma")]
    sigma: Vec<PathBuf>,
    /// Output directory for hits.csv, findings.json, summary.json and read_problems.csv.
    #[arg(long)]
    out: PathBuf,
    /// Run the Sigma rules only, not the built-in detections.
    #[arg(long)]
    no_builtin: bool,
    /// Do not write findings to the store.
    #[arg(long)]
    no_store: bool,
}

pub fn run(ctx: &Context, cmd: HuntCommand) -> anyhow::Result<()> {
    match cmd {
        HuntCommand::Evtx(args) => evtx(ctx, &args),
        HuntCommand::Export { stix, identity } => {
            crate::cmd::findings::export_stix(ctx, Engine::Hunt, "hunt evtx", &stix, &identity)
        }
    }
}

/// The EVTX files named by `inputs`: files as given, directories searched recursively
/// in name order.
fn evtx_files(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading the directory {}", dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .with_context(|| format!("reading the directory {}", dir.display()))?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("evtx")) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut out)?;
        } else if input.exists() {
            out.push(input.clone());
        } else {
            bail!("input {} does not exist", input.display());
        }
    }
    if out.is_empty() {
        bail!(
            "no .evtx files in {}",
            inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(out)
}

fn evtx(ctx: &Context, args: &EvtxArgs) -> anyhow::Result<()> {
    let files = evtx_files(&args.files)?;
    let rules = if args.sigma.is_empty() {
        None
    } else {
        let stage = ctx.stage("loading Sigma rules");
        let rules = SigmaRules::load(&args.sigma).context("loading the Sigma rules")?;
        stage.finish_and_clear();
        let s = &rules.stats;
        ctx.note(format!(
            "{} Sigma rules for Windows loaded from {} files ({} for other products and {} correlation rules not evaluated)",
            s.rules, s.files, s.other_products, s.correlations
        ));
        Some(rules)
    };
    if rules.is_none() && args.no_builtin {
        bail!("nothing to hunt with: give --sigma rules or drop --no-builtin");
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let config = HuntConfig { sigma: rules.as_ref(), builtins: !args.no_builtin };
    let stage = ctx.stage(&format!("hunting in {} event log file(s)", files.len()));
    let started = std::time::Instant::now();
    let report = hunt_evtx(&files, &config);
    let seconds = started.elapsed().as_secs_f64();
    stage.finish_and_clear();

    let hits_path = args.out.join("hits.csv");
    let w = BufWriter::new(
        File::create(&hits_path).with_context(|| format!("creating {}", hits_path.display()))?,
    );
    write_hits_csv(w, &files, &report.hits).with_context(|| format!("writing {}", hits_path.display()))?;
    write_read_problems(&args.out.join("read_problems.csv"), &report)?;
    write_json(&args.out.join("findings.json"), &report.findings)?;
    let summary = HuntSummary::new(&report, rules.as_ref(), seconds, hits_path.clone());
    write_json(&args.out.join("summary.json"), &StoredSummary::new(&summary)?.body)?;
    report_damage(ctx, &report);
    if report.files.iter().all(|f| f.error.is_some()) {
        bail!("none of the {} input file(s) could be read as an event log", files.len());
    }
    if !args.no_store {
        let mut store = ctx.open_store("hunt evtx", &args.out.display().to_string())?;
        let run = store.begin_run(Engine::Hunt, "hunt evtx").context("starting a run in the store")?;
        store.put_findings(Some(run), &report.findings).context("storing findings")?;
        store.finish_run(run, &StoredSummary::new(&summary)?).context("finishing the run")?;
    }
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
        return Ok(());
    }
    print_summary(&summary)?;
    Ok(())
}

/// Every unreadable file and damaged place, one row each: `file,location,error`.
fn write_read_problems(path: &Path, report: &HuntReport) -> anyhow::Result<()> {
    let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = csv::Writer::from_writer(BufWriter::new(f));
    let io = || format!("writing {}", path.display());
    w.write_record(["file", "location", "error"]).with_context(io)?;
    for file in &report.files {
        let name = file.path.display().to_string();
        if let Some(e) = &file.error {
            w.write_record([name.as_str(), "file", e]).with_context(io)?;
        }
        for p in &file.stats.problems {
            w.write_record([name.as_str(), &p.location, &p.error]).with_context(io)?;
        }
    }
    w.flush().with_context(io)?;
    Ok(())
}

fn report_damage(ctx: &Context, report: &HuntReport) {
    for f in &report.files {
        if let Some(e) = &f.error {
            ctx.note(format!("skipped {}: {e}", f.path.display()));
        } else if f.stats.damaged() {
            ctx.note(format!(
                "{}: {} damaged chunk(s), {} unreadable record(s), {} bytes of a truncated chunk; {} records read (details in read_problems.csv)",
                f.path.display(),
                f.stats.bad_chunks,
                f.stats.bad_records,
                f.stats.truncated_bytes,
                f.stats.records
            ));
        }
    }
}

fn print_summary(s: &HuntSummary) -> std::io::Result<()> {
    let t = &s.totals;
    outln!(
        "{} files ({} unreadable), {} records ({} unreadable, {} damaged chunks) in {:.2} s ({:.0} records/s)",
        s.files.len(),
        s.unreadable_files,
        t.records,
        t.bad_records,
        t.bad_chunks,
        s.seconds,
        s.records_per_second
    )?;
    outln!("{} hits -> {}, {} findings", s.hits, s.hits_csv.display(), s.findings)?;
    if s.per_rule.is_empty() {
        return Ok(());
    }
    outln!()?;
    let rows: Vec<Vec<String>> = s
        .per_rule
        .iter()
        .take(30)
        .map(|r| {
            vec![r.hits.to_string(), truncate(&r.rule, 36), r.techniques.clone(), truncate(&r.title, 60)]
        })
        .collect();
    write_table(&["hits", "rule", "att&ck", "title"], &rows)?;
    if s.per_rule.len() > rows.len() {
        outln!("... and {} more rules (summary.json lists all)", s.per_rule.len() - rows.len())?;
    }
    Ok(())
}
