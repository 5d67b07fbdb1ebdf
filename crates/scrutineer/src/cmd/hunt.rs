//! `scrutineer hunt`: intrusions on office computers, from their Windows event logs and
//! their files.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use scrutineer_core::{Engine, StoredSummary};
use scrutineer_hunt::{
    FileIndicator, FileIndicators, FileScanConfig, FilesReport, FilesRun, FilesSummary, HuntConfig,
    HuntReport, HuntSummary, SigmaRules, YARA_BUILT, YaraRules, hunt_evtx, parse_size, scan_files,
    write_file_hits_csv, write_hashes_csv, write_hits_csv, write_matches_jsonl, write_skipped_csv,
};

use crate::ui::{Context, outln, truncate, write_json, write_table};

#[derive(Debug, Subcommand)]
pub enum HuntCommand {
    /// Hunt in Windows event logs (EVTX) with Sigma rules and the built-in detections:
    /// matches to DIR/hits.csv, findings to the store.
    Evtx(EvtxArgs),
    /// Hunt in files, directories and archives (zip, tar, tar.gz): hashes of every file,
    /// indicator lists, and YARA rules (in a build with `--features yara`): matches to
    /// DIR/hits.csv, findings to the store.
    Files(FilesArgs),
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

// The options of `hunt files`.
#[derive(Debug, Args)]
pub struct FilesArgs {
    /// Files, directories (searched recursively; links inside them not followed) and
    /// archives (zip, tar, tar.gz: the archive and each member are scanned).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// YARA rule files, or directories searched for *.yar and *.yara. Needs a build with
    /// `--features yara`.
    #[arg(long, num_args = 1..)]
    rules: Vec<PathBuf>,
    /// Indicator lists: CSV (`type,value,description`; type md5, sha1, sha256, hash,
    /// name, path) or plain lists (*.csv, *.txt), STIX 2.1 bundles (*.json), CISA
    /// CHIRP-style YAML (*.yaml, *.yml), or directories of them.
    #[arg(long, num_args = 1..)]
    indicators: Vec<PathBuf>,
    /// Output directory for hits.csv, hashes.csv, skipped.csv, matches.jsonl,
    /// findings.json and summary.json.
    #[arg(long)]
    out: PathBuf,
    /// Files and archive members larger than this are skipped (and counted): bytes, or
    /// with K, M, G.
    #[arg(long, default_value = "256M", value_parser = parse_size)]
    max_size: u64,
    /// Scan archives as files only, without opening them.
    #[arg(long)]
    no_archives: bool,
    /// Do not write findings to the store.
    #[arg(long)]
    no_store: bool,
}

pub fn run(ctx: &Context, cmd: HuntCommand) -> anyhow::Result<()> {
    match cmd {
        HuntCommand::Evtx(args) => evtx(ctx, &args),
        HuntCommand::Files(args) => files(ctx, &args),
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
            "{} Sigma rules for Windows loaded from {} files, {} of them process_creation rules also run on Security 4688 events ({} for other products and {} correlation rules not evaluated)",
            s.rules,
            s.files,
            rules.audit_routed(),
            s.other_products,
            s.correlations
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
        crate::cmd::join::link_hunt_and_infra(ctx, &mut store)?;
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

/// The indicator files named by `inputs`: files as given, directories searched
/// recursively for *.csv, *.txt, *.json, *.yaml and *.yml, in name order.
fn indicator_files(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
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
            } else if indicator_format(&p).is_some() {
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
            bail!("indicator list {} does not exist", input.display());
        }
    }
    Ok(out)
}

#[derive(Clone, Copy)]
enum IndicatorFormat {
    List,
    Stix,
    Chirp,
}

fn indicator_format(p: &Path) -> Option<IndicatorFormat> {
    let ext = p.extension()?.to_string_lossy().to_ascii_lowercase();
    Some(match ext.as_str() {
        "csv" | "txt" => IndicatorFormat::List,
        "json" => IndicatorFormat::Stix,
        "yaml" | "yml" => IndicatorFormat::Chirp,
        _ => return None,
    })
}

/// Loads every indicator file: lists and CHIRP files by the hunt engine, STIX bundles
/// through the share crate's reader (the one `infra import` uses).
fn load_file_indicators(ctx: &Context, inputs: &[PathBuf]) -> anyhow::Result<FileIndicators> {
    let mut set = FileIndicators::new();
    for p in indicator_files(inputs)? {
        match indicator_format(&p).unwrap_or(IndicatorFormat::List) {
            IndicatorFormat::List => {
                set.load_csv(&p)?;
            }
            IndicatorFormat::Chirp => {
                set.load_chirp(&p)?;
            }
            IndicatorFormat::Stix => {
                let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
                let imported = scrutineer_share::import_bundle(&text)
                    .with_context(|| format!("reading the STIX bundle {}", p.display()))?;
                let source = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let before = set.len();
                for ind in &imported {
                    for c in scrutineer_share::pattern_comparisons(&ind.pattern) {
                        if let Some(fi) = FileIndicator::from_stix(
                            &c.object_type,
                            &c.property,
                            &c.value,
                            &source,
                            &ind.id,
                            ind.name.as_deref(),
                        ) {
                            set.add(fi);
                        }
                    }
                }
                ctx.note(format!(
                    "{}: {} file indicators from {} STIX indicators",
                    p.display(),
                    set.len() - before,
                    imported.len()
                ));
            }
        }
    }
    Ok(set)
}

fn files(ctx: &Context, args: &FilesArgs) -> anyhow::Result<()> {
    let indicators = load_file_indicators(ctx, &args.indicators)?;
    let c = &indicators.chirp;
    if c.indicators > 0 {
        let others: Vec<String> = c.other_plugins.iter().map(|(k, n)| format!("{n} {k}")).collect();
        ctx.note(format!(
            "CHIRP: {} indicators, {} YARA rules ({} hashes from their metadata); not for files: {}",
            c.indicators,
            c.yara,
            c.meta_hashes,
            if others.is_empty() { "none".to_owned() } else { others.join(", ") }
        ));
    }
    if !args.rules.is_empty() && !YARA_BUILT {
        bail!(scrutineer_hunt::YaraError::NotBuilt);
    }
    let yara = if !args.rules.is_empty() || (YARA_BUILT && !indicators.chirp_rules.is_empty()) {
        let stage = ctx.stage("compiling YARA rules");
        let rules =
            YaraRules::compile(&args.rules, &indicators.chirp_rules).context("compiling the YARA rules")?;
        stage.finish_and_clear();
        let s = &rules.stats;
        ctx.note(format!(
            "{} YARA rules compiled from {} files and {} CHIRP indicators in {:.2} s ({} warnings)",
            s.rules, s.files, s.chirp_rules, s.compile_seconds, s.warnings
        ));
        Some(rules)
    } else {
        if !indicators.chirp_rules.is_empty() {
            ctx.note(format!(
                "{} CHIRP YARA rules not run: this build has no YARA engine (build with --features yara); their metadata hashes are matched",
                indicators.chirp_rules.len()
            ));
        }
        None
    };
    if yara.is_none() && indicators.list.is_empty() {
        ctx.note("no rules or indicators: hashing only (hashes.csv)");
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let config = FileScanConfig {
        indicators: &indicators,
        yara: yara.as_ref(),
        max_size: args.max_size,
        open_archives: !args.no_archives,
    };
    let stage = ctx.stage("scanning files");
    let started = std::time::Instant::now();
    let report = scan_files(&args.paths, &config)?;
    let seconds = started.elapsed().as_secs_f64();
    stage.finish_and_clear();

    let hits_path = args.out.join("hits.csv");
    write_csv_file(&hits_path, |w| write_file_hits_csv(w, &report))?;
    write_csv_file(&args.out.join("hashes.csv"), |w| write_hashes_csv(w, &report))?;
    write_csv_file(&args.out.join("skipped.csv"), |w| write_skipped_csv(w, &report))?;
    let jsonl = args.out.join("matches.jsonl");
    let w = BufWriter::new(File::create(&jsonl).with_context(|| format!("creating {}", jsonl.display()))?);
    write_matches_jsonl(w, &report).with_context(|| format!("writing {}", jsonl.display()))?;
    write_json(&args.out.join("findings.json"), &report.findings)?;
    let run = FilesRun {
        inputs: &args.paths,
        indicators: &indicators,
        yara: yara.as_ref(),
        max_size: args.max_size,
        seconds,
        hits_csv: &hits_path,
    };
    let summary = FilesSummary::new(&report, &run);
    write_json(&args.out.join("summary.json"), &StoredSummary::new(&summary)?.body)?;
    report_skipped(ctx, &report);
    if report.scanned.is_empty() && !report.skipped.is_empty() {
        bail!("none of the {} file(s) found could be scanned (skipped.csv lists why)", report.skipped.len());
    }
    if !args.no_store {
        let mut store = ctx.open_store("hunt files", &args.out.display().to_string())?;
        let run = store.begin_run(Engine::Hunt, "hunt files").context("starting a run in the store")?;
        store.put_findings(Some(run), &report.findings).context("storing findings")?;
        store.finish_run(run, &StoredSummary::new(&summary)?).context("finishing the run")?;
    }
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
        return Ok(());
    }
    print_files_summary(&summary)
}

fn write_csv_file(path: &Path, write: impl FnOnce(BufWriter<File>) -> csv::Result<()>) -> anyhow::Result<()> {
    let w = BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?);
    write(w).with_context(|| format!("writing {}", path.display()))
}

fn report_skipped(ctx: &Context, report: &FilesReport) {
    if report.skipped.is_empty() {
        return;
    }
    for s in report.skipped.iter().take(10) {
        ctx.note(format!("skipped {} ({}): {}", s.path, s.reason.as_str(), s.detail));
    }
    if report.skipped.len() > 10 {
        ctx.note(format!("... and {} more skipped (skipped.csv lists all)", report.skipped.len() - 10));
    }
}

fn print_files_summary(s: &FilesSummary) -> anyhow::Result<()> {
    let reasons: Vec<String> =
        s.skipped_by_reason.iter().map(|(r, n)| format!("{n} {}", r.as_str())).collect();
    outln!(
        "{} files scanned ({} archive members), {} bytes in {:.2} s ({:.1} MB/s); {} skipped{}",
        s.scanned,
        s.archive_members,
        s.bytes,
        s.seconds,
        s.bytes_per_second / 1e6,
        s.skipped,
        if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) }
    )?;
    outln!(
        "{} hits in {} files -> {}, {} findings",
        s.hits,
        s.files_matched,
        s.hits_csv.display(),
        s.findings
    )?;
    if s.per_rule.is_empty() {
        return Ok(());
    }
    outln!()?;
    let rows: Vec<Vec<String>> = s
        .per_rule
        .iter()
        .take(30)
        .map(|r| vec![r.files.to_string(), r.kind.clone(), truncate(&r.rule, 80)])
        .collect();
    write_table(&["files", "kind", "rule"], &rows)?;
    if s.per_rule.len() > rows.len() {
        outln!("... and {} more (summary.json lists all)", s.per_rule.len() - rows.len())?;
    }
    Ok(())
}
