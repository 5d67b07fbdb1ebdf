use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use scrutineer_core::Finding;
use scrutineer_core::{Engine, StoredSummary};
use scrutineer_influence::{
    Analysis, Behaviour, ColumnMapping, Corpus, EdgeFilter, Format, ReadReport, RunSummary, ScanParams,
    StageSeconds, StateMediaList, analyse, estimate_posts, ingest_limited, network_findings, write_exports,
};
use scrutineer_store::Store;

use crate::ui::{Context, outln, print_table, truncate};

#[derive(Debug, Subcommand)]
pub enum InfluenceCommand {
    /// Find coordinated networks of accounts in posts (tweets) and rank them.
    ///
    /// Reads every FILE (plain or gzip), finds pairs of accounts that retweeted the same
    /// posts, shared the same links or hashtag sets, posted the same text or were active
    /// in the same minutes within the time window, drops pairs that chance explains,
    /// groups the rest into networks (Leiden), and stores one finding per network.
    Scan(ScanArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Input files: tweet JSON lines (API v1.1 or v2/twarc2), IRA CSV, Twitter IO archive CSV, or CSV with --map;
    /// Telegram (Desktop result.json or messages.html, Telethon JSON lines), Reddit (Pushshift/Arctic-Shift, or
    /// its own data export's posts.csv/comments.csv), Bluesky (Jetstream, a repository CAR file, or saved firehose frames), Meta Content
    /// Library and CrowdTangle CSV, TikTok Research API, YouTube comment threads, 4CAT. Plain, gzip or zstd; with
    /// --format auto each file is sniffed on its own, so one scan can mix platforms.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Input format: auto, twitter-v1, twitter-v2, ira, io-archive, csv, telegram, telegram-html, telethon, reddit,
    /// reddit-export, bluesky, bluesky-car, bluesky-firehose, meta, crowdtangle, tiktok, youtube, 4cat.
    #[arg(long, short, default_value = "auto")]
    format: String,
    /// Column mapping for --format csv, e.g. `account=user_id,time=created_at,text=message,retweeted_id=repost_id`.
    #[arg(long, value_name = "SPEC")]
    map: Option<String>,
    /// Column mapping for --format csv from a TOML file.
    #[arg(long, value_name = "FILE", conflicts_with = "map")]
    mapping: Option<PathBuf>,
    /// Write networks.json, accounts.csv, leaders.csv, edges/<behaviour>.csv, network.gexf and network.graphml here.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Behaviours to compute (comma-separated): co_retweet, co_link, co_hashtag, co_tweet, sync; also co_tag
    /// (each hashtag on its own), co_reply (replies to the same post) and co_comment (comments in the same
    /// Reddit thread, YouTube or TikTok video).
    #[arg(long, value_delimiter = ',', default_value = "co_retweet,co_link,co_hashtag,co_tweet,sync")]
    behaviours: Vec<Behaviour>,
    /// Two actions coincide when at most this many seconds apart (default 6 hours).
    #[arg(long, default_value_t = 21600)]
    window: i64,
    /// Minimum edge weight: posts of one account matched by the other within the window.
    #[arg(long, default_value_t = 2)]
    min_count: u32,
    /// Jaccard similarity (over word sets) at which two texts count as the same; 1 = identical only.
    #[arg(long, default_value_t = 0.8)]
    text_similarity: f64,
    /// How to drop pairs that chance explains: poisson (configuration null model, FDR), bonferroni, or none.
    #[arg(long, default_value = "poisson")]
    edge_filter: EdgeFilter,
    /// False discovery rate of the edge filter (family-wise rate with --edge-filter bonferroni).
    #[arg(long, default_value_t = 0.01)]
    alpha: f64,
    /// Sync: accounts need at least this many active minutes.
    #[arg(long, default_value_t = 10)]
    sync_min_minutes: u32,
    /// Sync: minimum shared active minutes for an edge.
    #[arg(long, default_value_t = 5)]
    sync_min_count: u32,
    /// Smallest network reported.
    #[arg(long, default_value_t = 3)]
    min_network_size: usize,
    /// Leiden resolution (higher gives smaller networks).
    #[arg(long, default_value_t = 1.0)]
    resolution: f64,
    /// Items acted on by more accounts than this are crowd items (counted in the null model, not paired); 0 = no limit.
    #[arg(long, default_value_t = 1000)]
    max_item_accounts: usize,
    /// Account-level test: an account is placed only when its coordinated items, each weighted by how little of a
    /// crowd shares it (1 when no ungrouped account acted on it), sum to at least this; 0 turns the test off.
    #[arg(long, default_value_t = 3.0)]
    min_account_evidence: f64,
    /// Account-level test: coordinated actions must fall on at least this many distinct UTC days.
    #[arg(long, default_value_t = 3)]
    min_account_days: u32,
    /// Group test: pairs the pair test did not keep but whose p-value is at most this are kept when they lie inside
    /// a group of accounts whose ties are far denser than chance allows; 0 turns the test off.
    #[arg(long, default_value_t = 1e-3)]
    group_alpha: f64,
    /// Who led: a tie between two network members is in the fast sub-network when their median gap on the items
    /// they shared is at most this many seconds.
    #[arg(long, default_value_t = 10)]
    fast_lag: i64,
    /// Random seed (Leiden, MinHash), for reproducible runs.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// State-affiliated media list (CSV: domain,country,outlet,source) replacing the built-in one.
    #[arg(long, value_name = "FILE")]
    state_media: Option<PathBuf>,
    /// Account–item actions (CSV with account,item,time: image hashes, phone numbers, ad library ids), matched as
    /// the co_item behaviour through the same window and chance filter. Repeatable.
    #[arg(long, value_name = "FILE")]
    items: Vec<PathBuf>,
    /// Platform name recorded with the findings.
    #[arg(long, default_value = "twitter")]
    platform: String,
    /// Rows in the printed table.
    #[arg(long, default_value_t = 20)]
    top: usize,
    #[command(flatten)]
    limits: crate::ui::ReadLimits,
}

pub fn run(ctx: &Context, cmd: InfluenceCommand) -> anyhow::Result<()> {
    match cmd {
        InfluenceCommand::Scan(args) => scan(ctx, args),
    }
}

fn parse_format(args: &ScanArgs) -> anyhow::Result<Format> {
    let mut format: Format = args.format.parse().with_context(|| format!("--format {}", args.format))?;
    if let Format::Csv(_) = format {
        let mapping = match (&args.map, &args.mapping) {
            (Some(spec), _) => spec.parse::<ColumnMapping>().context("--map")?,
            (None, Some(path)) => ColumnMapping::from_toml_file(path).context("--mapping")?,
            (None, None) if args.format.starts_with("csv:") => return Ok(format),
            (None, None) => bail!(
                "--format csv needs a column mapping: --map account=COL,time=COL,... or --mapping FILE.toml"
            ),
        };
        format = Format::Csv(mapping);
    } else if args.map.is_some() || args.mapping.is_some() {
        bail!("--map and --mapping apply to --format csv only");
    }
    Ok(format)
}

impl ScanArgs {
    /// The scan's parameters, checked.
    fn params(&self) -> anyhow::Result<ScanParams> {
        let mut behaviours = self.behaviours.clone();
        if !self.items.is_empty() {
            behaviours.push(Behaviour::CoItem);
        }
        ScanParams {
            behaviours,
            window_secs: self.window,
            min_count: self.min_count,
            text_similarity: self.text_similarity,
            edge_filter: self.edge_filter,
            alpha: self.alpha,
            sync_min_minutes: self.sync_min_minutes,
            sync_min_count: self.sync_min_count,
            min_network_size: self.min_network_size,
            resolution: self.resolution,
            seed: self.seed,
            max_item_accounts: self.max_item_accounts,
            min_account_evidence: self.min_account_evidence,
            min_account_days: self.min_account_days,
            group_alpha: self.group_alpha,
            fast_lag_secs: self.fast_lag,
            ..ScanParams::default()
        }
        .validated()
        .context("invalid scan parameters")
    }

    fn state_media(&self) -> anyhow::Result<StateMediaList> {
        match &self.state_media {
            Some(p) => {
                StateMediaList::load(p).with_context(|| format!("reading --state-media {}", p.display()))
            }
            None => Ok(StateMediaList::builtin()),
        }
    }
}

/// A run begun in the store, with the inputs it reads and the time spent so far.
struct OpenRun {
    store: Store,
    run_id: i64,
    inputs: Vec<String>,
    started: Instant,
    seconds: StageSeconds,
}

/// What a scan found and how long each stage took, for what is printed.
struct Scanned {
    analysis: Analysis,
    findings: Vec<Finding>,
    summary: serde_json::Value,
    seconds: StageSeconds,
    export_secs: f64,
    written: Vec<PathBuf>,
}

fn scan(ctx: &Context, args: ScanArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let format = parse_format(&args)?;
    let params = args.params()?;
    let state_media = args.state_media()?;

    let inputs: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
    let open_store = || -> anyhow::Result<(Store, i64)> {
        let store = ctx.open_store("influence scan", &inputs.join(" "))?;
        let run_id = store.begin_run(Engine::Influence, &format!("influence scan {}", inputs.join(" ")))?;
        Ok((store, run_id))
    };
    // The store is opened, and the access logged, while the input is read: a new store
    // waits on the disk (each fsync of its creation), which need not hold up the read. A
    // store that cannot be opened is reported first, before any error of the read.
    let (opened, read) = std::thread::scope(|scope| {
        let opening = scope.spawn(open_store);
        let read = read_inputs(ctx, &args.files, &format, &params, args.limits)
            .and_then(|(corpus, reports)| read_items(ctx, corpus, reports, &args.items));
        (opening.join(), read)
    });
    let (store, run_id) = match opened {
        Ok(opened) => opened?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let (corpus, reports) = read?;
    if corpus.post_count() == 0 {
        bail!("no posts were read from {}", inputs.join(", "));
    }
    let read_secs = started.elapsed().as_secs_f64();

    let stage = ctx.stage(&format!(
        "finding coordination among {} accounts, {} posts",
        corpus.account_count(),
        corpus.post_count()
    ));
    let analysis = analyse(corpus, &params, &state_media);
    stage.finish_and_clear();
    let seconds = StageSeconds {
        read: read_secs,
        analyse: started.elapsed().as_secs_f64() - read_secs,
        ..StageSeconds::default()
    };
    let run = OpenRun { store, run_id, inputs, started, seconds };
    let scanned = record_and_export(ctx, &args, analysis, &params, &reports, run)?;
    if ctx.json {
        return print_json(&scanned);
    }
    print_networks(&scanned, args.top)?;
    print_notes(ctx, &scanned, args.out.as_deref());
    Ok(())
}

/// Stores the findings and the run summary and, with `--out`, writes the exports. The
/// exports and the store's update are independent: the files are written while the run
/// is recorded and the store closed (closing waits on the disk for its checkpoint). The
/// stored summary times what came before it; the export's time is added to what `--json`
/// prints.
fn record_and_export(
    ctx: &Context,
    args: &ScanArgs,
    analysis: Analysis,
    params: &ScanParams,
    reports: &[ReadReport],
    run: OpenRun,
) -> anyhow::Result<Scanned> {
    let OpenRun { store, run_id, inputs, started, mut seconds } = run;
    let findings = network_findings(&analysis.networks, &args.platform, "");
    let (exported, recorded) = std::thread::scope(|scope| {
        let exporting = args.out.as_ref().map(|dir| {
            let analysis = &analysis;
            scope.spawn(move || {
                let begun = Instant::now();
                let written = write_exports(analysis, params, dir)
                    .with_context(|| format!("writing exports to {}", dir.display()));
                (written, begun.elapsed().as_secs_f64())
            })
        });
        let recorded = (|| -> anyhow::Result<(serde_json::Value, f64)> {
            let mut store = store;
            let (findings, hidden) =
                store.apply_allow_list(run_id, findings.clone()).context("applying the allow-list")?;
            crate::cmd::infra::note_allow_list(ctx, &hidden);
            store.put_findings(Some(run_id), &findings).context("storing findings")?;
            seconds.store = started.elapsed().as_secs_f64() - seconds.read - seconds.analyse;
            seconds.total = started.elapsed().as_secs_f64();
            let summary = RunSummary::new(inputs, &analysis, params, reports, seconds);
            let summary = StoredSummary::new(&summary)?;
            store.finish_run(run_id, &summary)?;
            let summary = summary.body;
            store.close().context("closing the store")?;
            Ok((summary, seconds.store))
        })();
        let exported = exporting.map(|job| match job.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        });
        (exported, recorded)
    });
    seconds.total = started.elapsed().as_secs_f64();
    let (mut summary, store_secs) = recorded?;
    seconds.store = store_secs;
    let (mut written, mut export_secs) = (Vec::new(), 0.0);
    if let Some((result, secs)) = exported {
        written = result?;
        export_secs = secs;
    }
    summary["export_seconds"] = serde_json::json!(export_secs);
    summary["lead_and_spread_seconds"] = serde_json::json!(analysis.lead_and_spread_seconds());
    summary["analysis_stage_seconds"] = serde_json::to_value(analysis.stage_times())?;
    summary["total_seconds"] = serde_json::json!(seconds.total);
    Ok(Scanned { analysis, findings, summary, seconds, export_secs, written })
}

fn print_json(scanned: &Scanned) -> anyhow::Result<()> {
    let nets: Vec<serde_json::Value> = scanned
        .analysis
        .networks
        .iter()
        .zip(&scanned.findings)
        .map(|(n, f)| {
            serde_json::json!({
                "id": n.id, "finding": f.id, "rank": n.rank, "score": n.score, "size": n.size,
                "behaviours": n.behaviours.iter().map(|b| b.behaviour).collect::<Vec<_>>(),
                "best_utc_offset": n.attribution.best_utc_offsets.first().map(|o| o.utc_offset),
                "accounts": n.accounts.iter().map(|a| &a.account).collect::<Vec<_>>(),
            })
        })
        .collect();
    outln!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({"summary": scanned.summary, "networks": nets}))?
    )?;
    Ok(())
}

/// The table of the `top` highest-ranked networks.
fn print_networks(scanned: &Scanned, top: usize) -> anyhow::Result<()> {
    let networks = &scanned.analysis.networks;
    let rows: Vec<Vec<String>> = networks
        .iter()
        .zip(&scanned.findings)
        .take(top)
        .map(|(n, f)| {
            let behaviours: Vec<&str> = n.behaviours.iter().map(|b| b.behaviour.as_str()).collect();
            let offset = n.attribution.best_utc_offsets.first().map_or(String::new(), |o| {
                format!("UTC{:+} ({:.0}%)", o.utc_offset, o.office_hours_share * 100.0)
            });
            let lang = n.attribution.languages.first().map(|c| c.value.clone()).unwrap_or_default();
            let members: Vec<&str> =
                n.accounts.iter().take(3).map(|a| a.handle.as_deref().unwrap_or(&a.account)).collect();
            vec![
                n.id.clone(),
                n.size.to_string(),
                format!("{:.2}", n.score),
                f.severity.to_string(),
                behaviours.join(","),
                offset,
                lang,
                truncate(&members.join(", "), 40),
                f.id.0.clone(),
            ]
        })
        .collect();
    if networks.is_empty() {
        outln!(
            "No coordinated networks found among {} accounts ({} posts).",
            scanned.analysis.accounts(),
            scanned.analysis.posts()
        )?;
    } else if !rows.is_empty() {
        print_table(
            &[
                "net",
                "accounts",
                "score",
                "severity",
                "behaviours",
                "office hours fit",
                "language",
                "members",
                "finding",
            ],
            &rows,
        );
    }
    if networks.len() > top {
        outln!(
            "... {} {}networks (see `scrutineer findings list --engine influence`)",
            networks.len() - top,
            if rows.is_empty() { "" } else { "more " }
        )?;
    }
    Ok(())
}

/// The notes after the table: totals, stage times, the chance filter per behaviour.
fn print_notes(ctx: &Context, scanned: &Scanned, out: Option<&std::path::Path>) {
    let (analysis, seconds) = (&scanned.analysis, scanned.seconds);
    ctx.note(format!(
        "{} networks, {} of {} accounts placed; {} posts in {:.1}s (read {:.1}s, detect {:.1}s, store {:.1}s, \
         export {:.1}s); findings stored in {}",
        analysis.networks.len(),
        analysis.accounts_placed(),
        analysis.accounts(),
        analysis.posts(),
        seconds.total,
        seconds.read,
        seconds.analyse,
        seconds.store,
        scanned.export_secs,
        ctx.store_path.display()
    ));
    for (behaviour, stats) in analysis.behaviour_stats() {
        ctx.note(format!(
            "  {:<10} {:>9} actions {:>9} candidate pairs {:>8} kept ({} below min count, {} explained by chance)",
            behaviour.as_str(),
            stats.actions,
            stats.candidate_pairs,
            stats.kept_pairs,
            stats.below_min_count,
            stats.explained_by_chance
        ));
    }
    if !scanned.written.is_empty() {
        ctx.note(format!(
            "wrote {} files to {}",
            scanned.written.len(),
            out.map(|d| d.display().to_string()).unwrap_or_default()
        ));
    }
}

/// Adds the `--items` files to the corpus, noting what each read gave.
fn read_items(
    ctx: &Context,
    mut corpus: Corpus,
    mut reports: Vec<ReadReport>,
    items: &[PathBuf],
) -> anyhow::Result<(Corpus, Vec<ReadReport>)> {
    for path in items {
        let file = File::open(path).with_context(|| format!("cannot open --items {}", path.display()))?;
        let report = scrutineer_influence::ingest_items(&mut corpus, file, &path.display().to_string())
            .with_context(|| format!("reading --items {}", path.display()))?;
        ctx.note(format!("read {report}"));
        for skip in report.skip_samples.iter().take(5) {
            ctx.note(format!("  skipped {}:{}", report.source, skip));
        }
        reports.push(report);
    }
    Ok((corpus, reports))
}

/// Reads every input into one corpus, noting what each read gave.
fn read_inputs(
    ctx: &Context,
    files: &[PathBuf],
    format: &Format,
    params: &ScanParams,
    limits: crate::ui::ReadLimits,
) -> anyhow::Result<(Corpus, Vec<ReadReport>)> {
    let mut corpus = Corpus::new(params);
    corpus.expect_posts(estimate_posts(files));
    let mut reports: Vec<ReadReport> = Vec::new();
    for path in files {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let bar = ctx.file_progress(path);
        let report = ingest_limited(
            &mut corpus,
            bar.wrap_read(file),
            &path.display().to_string(),
            format,
            limits.max_line_bytes,
        )
        .with_context(|| format!("reading {}", path.display()))?;
        bar.finish_and_clear();
        ctx.note(format!("read {report}"));
        for skip in report.skip_samples.iter().take(5) {
            ctx.note(format!("  skipped {}:{}", report.source, skip));
        }
        if report.skipped > 5 {
            ctx.note(format!(
                "  ... {} skipped rows in all (first {} listed in the run summary)",
                report.skipped,
                report.skip_samples.len()
            ));
        }
        reports.push(report);
    }
    // Every post handed over or skipped, over all inputs: a truncated or corrupt archive
    // whose rows mostly fail must not pass as a small corpus.
    let skipped: u64 = reports.iter().map(|r| r.skipped).sum();
    let seen: u64 = reports.iter().map(|r| r.posts + r.skipped).sum();
    scrutineer_core::lines::check_malformed("posts", skipped, seen, limits.max_malformed)
        .with_context(|| format!("reading {} input(s)", files.len()))?;
    Ok((corpus, reports))
}
