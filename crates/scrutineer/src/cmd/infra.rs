//! `scrutineer infra`: attacks on election infrastructure from web, IDS and auth logs.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use scrutineer_core::lines::check_malformed;
use scrutineer_core::text::csv_field;
use scrutineer_core::{Engine, Finding, StoredSummary};
use scrutineer_infra::{
    ALPHA, Aggregator, Analyser, AsnTable, Enrichment, Format, GeoDb, Indicator, IndicatorSet,
    JurisdictionMap, MIN_RATIO, Profile, ReadError, ReadOptions, ReadStats, Report, Thresholds, TrendRow,
    Verdict, read_daily_counts, read_file, trend_rows, write_indicator_list,
};

use crate::ui::{Context, ReadLimits, outln, truncate, write_json, write_table};

#[derive(Debug, Subcommand)]
pub enum InfraCommand {
    /// Learn a profile of normal traffic (endpoints, parameters, lengths, character
    /// classes, value sets) from requests known to be normal.
    Learn {
        /// Log or request-dump files (plain or .gz) of normal traffic only.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, short, default_value = "auto", value_parser = parse_format)]
        format: Format,
        /// Where to write the profile (JSON).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        limits: ReadLimits,
    },
    /// Scan logs: verdict per event (DIR/events.csv), findings to the store, campaigns.
    Scan(ScanArgs),
    /// Daily and weekly hostile-event counts per office with a ramp-up test.
    Trend {
        /// Log files to count (attack and anomaly verdicts), as for `scan`.
        files: Vec<PathBuf>,
        #[command(flatten)]
        input: InputArgs,
        /// A profile from `infra learn`.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Count every event, not only attacks and anomalies.
        #[arg(long)]
        all_events: bool,
        /// Ready-made daily counts instead of logs: CSV `date,count` or
        /// `date,jurisdiction,count`.
        #[arg(long, conflicts_with = "files")]
        counts: Option<PathBuf>,
        /// Weeks in the recent window tested against all earlier weeks.
        #[arg(long, default_value_t = 2)]
        recent_weeks: usize,
    },
    /// Export the infra findings in the store as a STIX 2.1 bundle.
    Export {
        /// Output file for the bundle.
        #[arg(long)]
        stix: PathBuf,
        /// Name of the reporting office (the bundle's identity).
        #[arg(long, default_value = "Election office")]
        identity: String,
    },
    /// Read indicators from a STIX 2.1 bundle; print them or write a CSV list for `scan --indicators`.
    Import {
        bundle: PathBuf,
        /// Write `type,value,description` CSV here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

// The options of `infra scan` (a plain comment: clap takes the variant's doc as the about).
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Log or request-dump files (plain or .gz).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
    /// A profile from `infra learn`: requests outside it are anomalies.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Output directory for events.csv, findings.json, campaigns.json, malformed.csv.
    #[arg(long)]
    out: PathBuf,
    /// Indicator lists to match (plain lists, CSV `type,value,description`, or STIX
    /// 2.1 bundles ending in .json). Repeatable.
    #[arg(long = "indicators")]
    indicators: Vec<PathBuf>,
    /// MaxMind-format country database for offline geolocation of sources.
    #[arg(long)]
    geoip: Option<PathBuf>,
    /// Offline IP-to-ASN table (`CIDR,ASN[,organisation]` CSV) for campaign linking.
    #[arg(long)]
    asn: Option<PathBuf>,
    /// Weeks in the recent window of the ramp-up test.
    #[arg(long, default_value_t = 2)]
    recent_weeks: usize,
    /// Do not write findings to the store.
    #[arg(long)]
    no_store: bool,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Input format.
    #[arg(long, short, default_value = "auto", value_parser = parse_format)]
    format: Format,
    /// Office the inputs come from: one name for all inputs, or one per input in order.
    /// Default: the input's directory name.
    #[arg(long)]
    jurisdiction: Vec<String>,
    /// CSV `hostname,jurisdiction` mapping virtual hosts to offices.
    #[arg(long)]
    jurisdiction_file: Option<PathBuf>,
    /// Year of syslog timestamps (which carry none). Default: this year.
    #[arg(long)]
    year: Option<i32>,
    #[command(flatten)]
    limits: ReadLimits,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>().map_err(|e| e.to_string())
}

pub fn run(ctx: &Context, cmd: InfraCommand) -> anyhow::Result<()> {
    match cmd {
        InfraCommand::Learn { files, format, out, limits } => learn(ctx, &files, format, &out, limits),
        InfraCommand::Scan(args) => scan(ctx, &args),
        InfraCommand::Trend { files, input, profile, all_events, counts, recent_weeks } => {
            trend(ctx, &files, &input, profile.as_deref(), all_events, counts.as_deref(), recent_weeks)
        }
        InfraCommand::Export { stix, identity } => {
            crate::cmd::findings::export_stix(ctx, Engine::Infra, "infra scan", &stix, &identity)
        }
        InfraCommand::Import { bundle, out } => import(ctx, &bundle, out.as_deref()),
    }
}

fn jurisdictions(files: &[PathBuf], names: &[String]) -> anyhow::Result<Vec<String>> {
    if !names.is_empty() && names.len() != 1 && names.len() != files.len() {
        bail!(
            "--jurisdiction given {} times for {} inputs: give it once for all inputs or once per input",
            names.len(),
            files.len()
        );
    }
    Ok(files
        .iter()
        .enumerate()
        .map(|(i, f)| match names.len() {
            0 => f
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| !n.is_empty() && n != ".")
                .unwrap_or_else(|| "default".to_owned()),
            1 => names[0].clone(),
            _ => names[i].clone(),
        })
        .collect())
}

fn read_options(input: &InputArgs, format: Format, jurisdiction: &str) -> ReadOptions {
    let mut o = ReadOptions::new(format, jurisdiction);
    o.max_line = input.limits.max_line_bytes;
    if let Some(y) = input.year {
        o.year = y;
    }
    o
}

fn load_profile(path: &Path) -> anyhow::Result<Profile> {
    let f = File::open(path).with_context(|| format!("opening the profile {}", path.display()))?;
    serde_json::from_reader(std::io::BufReader::new(f))
        .with_context(|| format!("{} is not a profile written by `scrutineer infra learn`", path.display()))
}

fn learn(
    ctx: &Context,
    files: &[PathBuf],
    format: Format,
    out: &Path,
    limits: ReadLimits,
) -> anyhow::Result<()> {
    let mut profile = Profile::new();
    let mut malformed = 0;
    let mut records = 0;
    for file in files {
        let bar = ctx.file_progress(file);
        let mut opts = ReadOptions::new(format, "learn");
        opts.max_line = limits.max_line_bytes;
        let stats = read_file(
            file,
            &opts,
            &|n| bar.inc(n),
            |e| e,
            |batch| {
                for p in batch {
                    match p.result {
                        Ok(ev) => profile.learn(&ev),
                        Err(reason) => {
                            if malformed < 10 {
                                ctx.note(format!(
                                    "{}:{}: skipped malformed record: {reason}",
                                    file.display(),
                                    p.line
                                ));
                            }
                            malformed += 1;
                        }
                    }
                }
                Ok(())
            },
        )
        .with_context(|| format!("learning from {}", file.display()))?;
        bar.finish_and_clear();
        records += stats.records;
        if let Some(t) = &stats.truncated {
            malformed += 1;
            records += 1;
            ctx.note(format!("{}:{}: input truncated or corrupt: {}", file.display(), t.line, t.error));
        }
        ctx.note(format!(
            "{}: {} records ({} malformed) as {}",
            file.display(),
            stats.records,
            stats.malformed,
            stats.format.map(|f| f.to_string()).unwrap_or_default()
        ));
    }
    check_malformed("records", malformed, records, limits.max_malformed)
        .with_context(|| format!("learning from {} input(s)", files.len()))?;
    if profile.requests == 0 {
        bail!("no requests to learn from in {} input(s)", files.len());
    }
    let f = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    serde_json::to_writer_pretty(BufWriter::new(f), &profile)
        .with_context(|| format!("writing {}", out.display()))?;
    print_learned(ctx, &profile, out)?;
    Ok(())
}

fn print_learned(ctx: &Context, profile: &Profile, out: &Path) -> std::io::Result<()> {
    let params: usize = profile.endpoints.values().map(|e| e.params.len()).sum();
    if ctx.json {
        outln!(
            "{}",
            serde_json::json!({"requests": profile.requests, "endpoints": profile.endpoints.len(), "parameters": params, "profile": out})
        )
    } else {
        outln!(
            "learned {} requests: {} endpoints, {} parameters -> {}",
            profile.requests,
            profile.endpoints.len(),
            params,
            out.display()
        )
    }
}

/// Indicators from plain or CSV lists and from STIX 2.1 bundles (`.json`).
fn load_indicators(paths: &[PathBuf]) -> anyhow::Result<IndicatorSet> {
    let mut set = IndicatorSet::new();
    for p in paths {
        let is_json = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if !is_json {
            set.load_list(p)?;
            continue;
        }
        let source = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for ind in read_stix_indicators(p, &source)? {
            set.add(ind);
        }
    }
    Ok(set)
}

/// The matchable observables of a STIX 2.1 bundle's indicators, in bundle order.
fn read_stix_indicators(path: &Path, source: &str) -> anyhow::Result<Vec<Indicator>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let imported = scrutineer_share::import_bundle(&text)
        .with_context(|| format!("reading the STIX bundle {}", path.display()))?;
    Ok(stix_indicators(&imported, source))
}

fn stix_indicators(imported: &[scrutineer_share::ImportedIndicator], source: &str) -> Vec<Indicator> {
    imported
        .iter()
        .flat_map(|ind| {
            ind.observables
                .iter()
                .filter_map(|(t, v)| Indicator::from_stix(t, v, source, &ind.id, ind.name.as_deref()))
        })
        .collect()
}

/// What a scan reads besides the logs: the profile, indicators and offline tables.
struct ScanTables {
    profile: Option<Profile>,
    indicators: IndicatorSet,
    jurisdictions: Option<JurisdictionMap>,
    geo: Option<GeoDb>,
    asn: Option<AsnTable>,
}

impl ScanTables {
    fn load(args: &ScanArgs) -> anyhow::Result<ScanTables> {
        Ok(ScanTables {
            profile: args.profile.as_deref().map(load_profile).transpose()?,
            indicators: load_indicators(&args.indicators)?,
            jurisdictions: args.input.jurisdiction_file.as_deref().map(JurisdictionMap::load).transpose()?,
            geo: args.geoip.as_deref().map(GeoDb::open).transpose()?,
            asn: args.asn.as_deref().map(AsnTable::load).transpose()?,
        })
    }

    fn indicators(&self) -> Option<&IndicatorSet> {
        if self.indicators.is_empty() { None } else { Some(&self.indicators) }
    }
}

/// `DIR/events.csv` and `DIR/malformed.csv`, written as the scan reads.
struct ScanOutputs {
    events_path: PathBuf,
    events: BufWriter<File>,
    malformed_path: PathBuf,
    malformed: BufWriter<File>,
}

impl ScanOutputs {
    fn create(out: &Path) -> anyhow::Result<ScanOutputs> {
        std::fs::create_dir_all(out)
            .with_context(|| format!("creating the output directory {}", out.display()))?;
        let events_path = out.join("events.csv");
        let mut events = BufWriter::with_capacity(
            1 << 20,
            File::create(&events_path).with_context(|| format!("creating {}", events_path.display()))?,
        );
        writeln!(events, "file,index,verdict,rule")?;
        let malformed_path = out.join("malformed.csv");
        let mut malformed = BufWriter::new(
            File::create(&malformed_path)
                .with_context(|| format!("creating {}", malformed_path.display()))?,
        );
        writeln!(malformed, "file,line,reason")?;
        Ok(ScanOutputs { events_path, events, malformed_path, malformed })
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.events.flush().with_context(|| format!("writing {}", self.events_path.display()))?;
        self.malformed.flush().with_context(|| format!("writing {}", self.malformed_path.display()))
    }
}

/// Records and malformed records read so far, over all inputs.
#[derive(Default)]
struct Totals {
    records: u64,
    malformed: u64,
}

/// What one input of a scan is read with and handed to.
struct ScanState<'a> {
    args: &'a ScanArgs,
    tables: &'a ScanTables,
    analyser: Analyser<'a>,
    agg: Aggregator,
    outputs: ScanOutputs,
    totals: Totals,
}

fn scan(ctx: &Context, args: &ScanArgs) -> anyhow::Result<()> {
    let files = &args.files;
    let juris = jurisdictions(files, &args.input.jurisdiction)?;
    for f in files {
        if !f.is_file() {
            bail!("input {} does not exist or is not a file", f.display());
        }
    }
    let tables = ScanTables::load(args)?;
    let mut state = ScanState {
        args,
        tables: &tables,
        analyser: Analyser { profile: tables.profile.as_ref(), indicators: tables.indicators() },
        agg: Aggregator::new(Thresholds::default()),
        outputs: ScanOutputs::create(&args.out)?,
        totals: Totals::default(),
    };
    let started = std::time::Instant::now();
    for (file, j) in files.iter().zip(&juris) {
        scan_file(ctx, &mut state, file, j)?;
    }
    let ScanState { agg, mut outputs, totals, .. } = state;
    outputs.flush()?;
    check_malformed("records", totals.malformed, totals.records, args.input.limits.max_malformed)
        .with_context(|| {
            format!(
                "scanning {} input(s); the malformed records are listed in {}",
                files.len(),
                outputs.malformed_path.display()
            )
        })?;
    let elapsed = started.elapsed().as_secs_f64();
    let verdicts = agg.verdicts;
    let stage = ctx.stage("linking campaigns and testing the trend");
    let enrich = Enrichment {
        geo: tables.geo.as_ref(),
        asn: tables.asn.as_ref(),
        indicators: tables.indicators(),
        recent_weeks: args.recent_weeks,
    };
    let report = agg.finish(&enrich);
    stage.finish_and_clear();
    write_json(&args.out.join("findings.json"), &report.findings)?;
    write_json(&args.out.join("campaigns.json"), &report.campaigns)?;
    write_json(&args.out.join("trend.json"), &report.trend)?;
    let summary = scan_summary(&totals, verdicts, &report, elapsed, &outputs.events_path);
    if !args.no_store {
        store_scan(ctx, files, &report, &summary)?;
    }
    if ctx.json {
        let mut printed = serde_json::to_value(&summary.totals)?;
        printed["campaigns"] = serde_json::json!(report.campaigns.len());
        outln!("{}", serde_json::to_string_pretty(&printed)?)?;
        return Ok(());
    }
    print_scan(&totals, verdicts, elapsed, &outputs.events_path, &report)?;
    Ok(())
}

/// Reads one input: a row of `events.csv` per record, malformed ones also to
/// `malformed.csv`, every parsed event to the aggregator.
fn scan_file(
    ctx: &Context,
    state: &mut ScanState<'_>,
    file: &Path,
    jurisdiction: &str,
) -> anyhow::Result<()> {
    let bar = ctx.file_progress(file);
    if file.extension().is_some_and(|e| e == "gz") {
        bar.unset_length();
    }
    let opts = read_options(&state.args.input, state.args.input.format, jurisdiction);
    let name = file.display().to_string();
    let name_field = csv_field(&name).into_owned();
    let mut index: u64 = 0;
    let mut shown = 0;
    let ScanState { tables, analyser, agg, outputs, totals, .. } = state;
    let ScanOutputs { events_path, events, malformed, malformed_path } = outputs;
    let stats = read_file(
        file,
        &opts,
        &|n| bar.inc(n),
        |mut ev| {
            if let Some(m) = &tables.jurisdictions {
                m.resolve(&mut ev);
            }
            analyser.analyse(ev)
        },
        |batch| {
            let io = |source| ReadError::Io { path: events_path.clone(), source };
            for p in batch {
                match p.result {
                    Ok(a) => {
                        let v = a.verdict();
                        writeln!(events, "{name_field},{index},{},{}", v.as_str(), a.rules.names())
                            .map_err(io)?;
                        agg.observe(&a);
                    }
                    Err(reason) => {
                        writeln!(events, "{name_field},{index},anomaly,malformed").map_err(io)?;
                        writeln!(malformed, "{name_field},{},{}", p.line, csv_field(reason)).map_err(io)?;
                        if shown < 5 {
                            ctx.note(format!("{name}:{}: malformed record: {reason}", p.line));
                            shown += 1;
                        }
                    }
                }
                index += 1;
            }
            Ok(())
        },
    )
    .with_context(|| format!("scanning {name}"))?;
    bar.finish_and_clear();
    totals.malformed += stats.malformed;
    totals.records += stats.records;
    if let Some(t) = &stats.truncated {
        // The cut is one more record lost; the complete ones before it were scanned.
        totals.malformed += 1;
        totals.records += 1;
        let reason = format!("input truncated or corrupt: {}", t.error);
        writeln!(malformed, "{name_field},{},{}", t.line, csv_field(&reason))
            .with_context(|| format!("writing {}", malformed_path.display()))?;
        ctx.note(format!("{name}:{}: {reason}; every complete record before it was scanned", t.line));
    }
    note_file_read(ctx, &name, jurisdiction, &stats, malformed_path);
    Ok(())
}

fn note_file_read(ctx: &Context, name: &str, jurisdiction: &str, stats: &ReadStats, malformed_path: &Path) {
    ctx.note(format!(
        "{name}: {} records as {} ({} malformed{}), office {jurisdiction}",
        stats.records,
        stats.format.map(|f| f.to_string()).unwrap_or_default(),
        stats.malformed,
        if stats.malformed > 0 { format!(", listed in {}", malformed_path.display()) } else { String::new() }
    ));
}

fn records_per_second(records: u64, elapsed: f64) -> f64 {
    if elapsed > 0.0 { records as f64 / elapsed } else { 0.0 }
}

// ---- The run summary of `infra scan`: printed with --json and stored with the run. ----

fn scan_summary(
    totals: &Totals,
    verdicts: [u64; 3],
    report: &Report,
    elapsed: f64,
    events_path: &Path,
) -> scrutineer_infra::RunSummary {
    let totals = scrutineer_infra::ScanTotals {
        records: totals.records,
        malformed: totals.malformed,
        normal: verdicts[Verdict::Normal as usize],
        anomaly: verdicts[Verdict::Anomaly as usize],
        attack: verdicts[Verdict::Attack as usize],
        findings: report.findings.len(),
        seconds: elapsed,
        records_per_second: records_per_second(totals.records, elapsed),
        events_csv: events_path.to_path_buf(),
    };
    // The stored summary also carries what the HTML report charts: the campaigns and
    // the hostile events per day and office; `--json` prints the totals and the
    // number of campaigns.
    scrutineer_infra::RunSummary::new(totals, &report.campaigns, &report.trend)
}

fn store_scan(
    ctx: &Context,
    files: &[PathBuf],
    report: &Report,
    summary: &scrutineer_infra::RunSummary,
) -> anyhow::Result<()> {
    let mut store = ctx.open_store(
        "infra scan",
        &files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" "),
    )?;
    let run = store.begin_run(Engine::Infra, "infra scan").context("starting a run in the store")?;
    let (kept, hidden) =
        store.apply_allow_list(run, report.findings.clone()).context("applying the allow-list")?;
    note_allow_list(ctx, &hidden);
    store.put_findings(Some(run), &kept).context("storing findings")?;
    store.finish_run(run, &StoredSummary::new(summary)?).context("finishing the run")?;
    crate::cmd::join::link_hunt_and_infra(ctx, &mut store)?;
    Ok(())
}

/// Says what the allow-list left out of the store (the findings files keep them all).
pub(crate) fn note_allow_list(ctx: &Context, hidden: &[scrutineer_store::AllowHit]) {
    if !hidden.is_empty() {
        ctx.note(format!(
            "{} findings not stored: their sources or accounts are on the allow-list (see /allow-list in scrutineer serve)",
            hidden.len()
        ));
    }
}

// ---- End of the run summary. ----

fn print_scan(
    totals: &Totals,
    verdicts: [u64; 3],
    elapsed: f64,
    events_path: &Path,
    report: &Report,
) -> std::io::Result<()> {
    outln!(
        "{} records in {elapsed:.2}s ({:.0}/s): {} attack, {} anomaly, {} normal; {} malformed",
        totals.records,
        records_per_second(totals.records, elapsed),
        verdicts[2],
        verdicts[1],
        verdicts[0],
        totals.malformed
    )?;
    outln!("verdicts -> {}", events_path.display())?;
    print_findings(&report.findings)?;
    if !report.campaigns.is_empty() {
        outln!("\ncampaigns (most offices first):")?;
        let rows: Vec<Vec<String>> = report
            .campaigns
            .iter()
            .take(15)
            .map(|c| {
                vec![
                    format!("{:.2}", c.score),
                    c.jurisdictions.len().to_string(),
                    c.sources.len().to_string(),
                    truncate(&c.jurisdictions.join(","), 30),
                    truncate(&c.links.join("; "), 50),
                ]
            })
            .collect();
        write_table(&["score", "offices", "sources", "jurisdictions", "linked by"], &rows)?;
    }
    Ok(())
}

fn print_findings(findings: &[Finding]) -> std::io::Result<()> {
    if findings.is_empty() {
        return outln!("no findings");
    }
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.confidence.total_cmp(&a.confidence)));
    outln!("\n{} findings (top 20):", findings.len())?;
    let rows: Vec<Vec<String>> = sorted
        .iter()
        .take(20)
        .map(|f| {
            vec![
                f.severity.to_string(),
                f.kind.clone(),
                f.techniques.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(","),
                truncate(&f.title, 70),
            ]
        })
        .collect();
    write_table(&["severity", "kind", "att&ck", "title"], &rows)
}

fn trend(
    ctx: &Context,
    files: &[PathBuf],
    input: &InputArgs,
    profile: Option<&Path>,
    all_events: bool,
    counts: Option<&Path>,
    recent_weeks: usize,
) -> anyhow::Result<()> {
    let series = match counts {
        Some(c) => read_daily_counts(c)?,
        None => count_daily(ctx, files, input, profile)?.daily_series(all_events),
    };
    let rows = trend_rows(&series, recent_weeks);
    if rows.is_empty() {
        bail!("no dated events to count");
    }
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    print_trend(&rows)?;
    Ok(())
}

/// Reads and analyses the logs for their daily counts only.
fn count_daily(
    ctx: &Context,
    files: &[PathBuf],
    input: &InputArgs,
    profile: Option<&Path>,
) -> anyhow::Result<Aggregator> {
    if files.is_empty() {
        bail!("give log files to count, or --counts CSV");
    }
    let juris = jurisdictions(files, &input.jurisdiction)?;
    let profile = profile.map(load_profile).transpose()?;
    let analyser = Analyser { profile: profile.as_ref(), indicators: None };
    let mut agg = Aggregator::new(Thresholds::default());
    let mut totals = Totals::default();
    for (file, j) in files.iter().zip(&juris) {
        let bar = ctx.file_progress(file);
        let opts = read_options(input, input.format, j);
        let stats = read_file(
            file,
            &opts,
            &|n| bar.inc(n),
            |ev| analyser.analyse(ev),
            |batch| {
                for p in batch {
                    if let Ok(a) = p.result {
                        agg.observe(&a);
                    }
                }
                Ok(())
            },
        )
        .with_context(|| format!("reading {}", file.display()))?;
        bar.finish_and_clear();
        totals.records += stats.records;
        totals.malformed += stats.malformed;
        if let Some(t) = &stats.truncated {
            totals.records += 1;
            totals.malformed += 1;
            ctx.note(format!("{}:{}: input truncated or corrupt: {}", file.display(), t.line, t.error));
        }
    }
    check_malformed("records", totals.malformed, totals.records, input.limits.max_malformed)
        .with_context(|| format!("counting {} input(s)", files.len()))?;
    Ok(agg)
}

fn sparkline(counts: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    counts.iter().map(|&c| BARS[((c * 7) / max) as usize]).collect()
}

fn print_trend(rows: &[TrendRow]) -> std::io::Result<()> {
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let weekly: Vec<u64> = r.weekly.iter().map(|(_, n)| *n).collect();
            let (recent, baseline, ratio, p, verdict) = match &r.test {
                Some(t) => (
                    t.recent.to_string(),
                    format!("{} ({} wk)", t.baseline, t.baseline_weeks),
                    if t.ratio.is_finite() { format!("{:.2}", t.ratio) } else { "inf".to_owned() },
                    format!("{:.2e}", t.p_value),
                    if t.ramp_up { "RAMP-UP".to_owned() } else { "no ramp-up".to_owned() },
                ),
                None => ("-".into(), "-".into(), "-".into(), "-".into(), "too few weeks".into()),
            };
            vec![
                if r.jurisdiction == "*" { "(all)".into() } else { r.jurisdiction.clone() },
                r.weekly.len().to_string(),
                sparkline(&weekly),
                recent,
                baseline,
                ratio,
                p,
                verdict,
            ]
        })
        .collect();
    write_table(
        &["jurisdiction", "weeks", "weekly", "recent", "baseline", "ratio", "p-value", "verdict"],
        &table,
    )?;
    outln!(
        "\ntest: one-sided Poisson rate-ratio (exact binomial) of the recent weeks against all earlier weeks; ramp-up when p < {} and ratio >= {}",
        ALPHA,
        MIN_RATIO
    )
}

fn import(ctx: &Context, bundle: &Path, out: Option<&Path>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(bundle).with_context(|| format!("reading {}", bundle.display()))?;
    let indicators = scrutineer_share::import_bundle(&text)
        .with_context(|| format!("reading the STIX bundle {}", bundle.display()))?;
    if let Some(out) = out {
        let w = BufWriter::new(File::create(out).with_context(|| format!("creating {}", out.display()))?);
        write_indicator_list(w, &stix_indicators(&indicators, ""))
            .with_context(|| format!("writing {}", out.display()))?;
        ctx.note(format!("wrote {} indicators to {}", indicators.len(), out.display()));
    }
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&indicators)?)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = indicators
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                truncate(i.name.as_deref().unwrap_or(""), 30),
                truncate(
                    &i.observables.iter().map(|(t, v)| format!("{t}={v}")).collect::<Vec<_>>().join(" "),
                    50,
                ),
            ]
        })
        .collect();
    write_table(&["id", "name", "observables"], &rows)?;
    Ok(())
}
