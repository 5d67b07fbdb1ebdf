//! `scrutineer mail sightings`: who spreads a dump. The mail engine indexes the dump's
//! markers and finds them in posts; the influence engine reads the posts and detects the
//! coordinated networks among their accounts; this command joins the two.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Args;
use scrutineer_core::StoredSummary;
use scrutineer_core::text::csv_safe;
use scrutineer_influence::{Corpus, Fields, Format, Post, ReadReport, ScanParams, StateMediaList};
use scrutineer_mail::{
    KeyArchive, MboxFlavor, MessageVerdicts, NetworkMembership, ReadMessage, ReadOptions, SpreadAnalysis,
    SpreadIndex, SpreadPost, SpreadReport, SpreadSummary, read_dump, verify_message,
};

use crate::ui::{Context, outln, truncate, write_json, write_table};

// The options of `mail sightings` (a plain comment: clap takes the variant's doc as the about).
#[derive(Debug, Args)]
pub struct SightingsArgs {
    /// The dump: mbox files, single messages (.eml), Maildirs, directories or tar/zip
    /// archives of them; plain, .gz or .zst.
    #[arg(required = true)]
    dumps: Vec<PathBuf>,
    /// Posts, in any format the influence engine reads (tweet JSON lines, IRA CSV, IO
    /// archive, Telegram, Reddit, Bluesky, ...; plain, gzip or zstd).
    #[arg(long, required = true, num_args = 1..)]
    posts: Vec<PathBuf>,
    /// Format of the posts: auto, or a name `scrutineer influence scan --format` takes
    /// (`csv:account=COL,time=COL,...` for any CSV).
    #[arg(long, short, default_value = "auto")]
    format: String,
    /// A host the dump was published on, with an optional path (`wikileaks.org/podesta-emails`):
    /// posts linking there spread it. Repeatable.
    #[arg(long)]
    host: Vec<String>,
    /// A hashtag of the dump (`PodestaEmails`; `PodestaEmails*` for the numbered ones). Repeatable.
    #[arg(long)]
    hashtag: Vec<String>,
    /// When the dump was released (ISO 8601): sightings are timed against it, and posts
    /// before it are a finding.
    #[arg(long)]
    released: Option<String>,
    /// The key archive: with it, every message is verified and the sightings of altered
    /// or forged messages are findings.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Output directory for sightings.csv, spreaders.csv and sightings.json (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Do not detect coordinated networks among the posts' accounts.
    #[arg(long)]
    no_networks: bool,
    /// A message longer than this is skipped and listed as unreadable (K, M, G suffixes).
    #[arg(long, default_value = "64M", value_parser = scrutineer_core::lines::parse_bytes)]
    max_message_bytes: usize,
    /// How `>From ` lines of mbox files are unescaped: rd (mboxrd) or o (mboxo).
    #[arg(long, default_value = "rd")]
    mbox_flavor: MboxFlavor,
    /// Do not write findings to the store.
    #[arg(long)]
    no_store: bool,
    /// Rows in the printed tables.
    #[arg(long, default_value_t = 15)]
    top: usize,
    #[command(flatten)]
    limits: crate::ui::ReadLimits,
}

pub fn sightings(ctx: &Context, a: &SightingsArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let format: Format = a.format.parse().with_context(|| format!("--format {}", a.format))?;
    let released = a
        .released
        .as_deref()
        .map(|r| scrutineer_mail::parse_seen(r, false).map_err(|e| anyhow::anyhow!("--released: {e}")))
        .transpose()?
        .flatten();
    let keys = a.keys.as_deref().map(KeyArchive::read).transpose().context("reading the key archive")?;
    let mut index = SpreadIndex::new(&a.host, &a.hashtag)?;
    let dump_messages = index_dump(ctx, a, keys.as_ref(), &mut index)?;
    if dump_messages == 0 && a.host.is_empty() && a.hashtag.is_empty() {
        bail!(
            "no message could be read from the dump, and no --host or --hashtag was given: nothing to look for"
        );
    }

    let params = ScanParams::default();
    let mut corpus = (!a.no_networks).then(|| Corpus::new(&params));
    let mut analysis = SpreadAnalysis::new(&index, released);
    let reports = read_posts(ctx, a, &format, &mut analysis, &mut corpus)?;
    let networks = match corpus {
        Some(corpus) if corpus.post_count() > 0 => {
            let stage = ctx.stage(&format!(
                "finding coordination among {} accounts, {} posts",
                corpus.account_count(),
                corpus.post_count()
            ));
            let found = scrutineer_influence::analyse(corpus, &params, &StateMediaList::builtin());
            stage.finish_and_clear();
            found
                .networks
                .iter()
                .map(|n| NetworkMembership {
                    network: n.id.clone(),
                    score: n.score,
                    accounts: n.accounts.iter().map(|m| m.account.clone()).collect(),
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let report = analysis.finish(&networks);
    write_outputs(&a.out, &index, &report)?;
    let summary = SpreadSummary {
        findings: report.findings.len(),
        networks_detected: !a.no_networks,
        seconds: started.elapsed().as_secs_f64(),
        report,
    };
    let stored = StoredSummary::new(&summary)?;
    let file = serde_json::json!({
        "engine": stored.engine, "layout": "mail-sightings", "version": stored.version, "summary": stored.body
    });
    write_json(&a.out.join("sightings.json"), &file)?;
    if !a.no_store {
        let names = a.dumps.iter().chain(&a.posts).map(|f| f.display().to_string()).collect::<Vec<_>>();
        let mut store = ctx.open_store("mail sightings", &names.join(" "))?;
        store.put_findings(None, &summary.report.findings).context("storing findings")?;
    }
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
        return Ok(());
    }
    let posts_read: u64 = reports.iter().map(|r| r.posts).sum();
    print_report(&summary.report, networks.len(), posts_read, a)
}

/// Reads (and, with keys, verifies) every message of the dump into the index.
fn index_dump(
    ctx: &Context,
    a: &SightingsArgs,
    keys: Option<&KeyArchive>,
    index: &mut SpreadIndex,
) -> anyhow::Result<u64> {
    let opts = ReadOptions { max_message_bytes: a.max_message_bytes, mbox: a.mbox_flavor };
    let bar = ctx.stage("indexing the dump");
    let mut shown = 0;
    let stats = read_dump(&a.dumps, &opts, |m: ReadMessage| {
        match m.result {
            Ok(msg) => {
                let verdict = keys.map(|k| {
                    MessageVerdicts::new(&m.file, m.offset, &msg, verify_message(&msg, k)).verdict()
                });
                index.add_message(&m.file, m.offset, &msg, verdict);
                bar.inc(1);
            }
            Err(u) => {
                if shown < 10 {
                    ctx.note(format!("{}: message at byte {}: {}", m.file, m.offset, u.reason));
                    shown += 1;
                }
            }
        }
        Ok(())
    })
    .context("reading the dump")?;
    bar.finish_and_clear();
    ctx.note(format!(
        "indexed {} messages of {} files ({} unreadable)",
        stats.messages - stats.unreadable,
        stats.files,
        stats.unreadable
    ));
    scrutineer_core::lines::check_malformed(
        "messages",
        stats.unreadable,
        stats.messages,
        a.limits.max_malformed,
    )
    .context("reading the dump")?;
    Ok(stats.messages - stats.unreadable)
}

/// Reads every post file with the influence engine's readers, looking for the dump in
/// each post and adding it to the corpus networks are detected in.
fn read_posts(
    ctx: &Context,
    a: &SightingsArgs,
    format: &Format,
    analysis: &mut SpreadAnalysis<'_>,
    corpus: &mut Option<Corpus>,
) -> anyhow::Result<Vec<ReadReport>> {
    let mut reports = Vec::new();
    for path in &a.posts {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let bar = ctx.file_progress(path);
        let keep = |p: scrutineer_influence::PostRef<'_>| -> Post { p.into_owned() };
        let report = scrutineer_influence::read_posts_limited(
            bar.wrap_read(file),
            &path.display().to_string(),
            format,
            Fields::ALL,
            a.limits.max_line_bytes,
            &keep,
            |post: Post| {
                analysis.observe(&SpreadPost {
                    id: post.id.as_deref(),
                    account: &post.account,
                    handle: post.handle.as_deref(),
                    time: post.time,
                    text: &post.text,
                    urls: &post.urls,
                    hashtags: &post.hashtags,
                });
                if let Some(c) = corpus.as_mut() {
                    c.add(post);
                }
            },
        )
        .with_context(|| format!("reading {}", path.display()))?;
        bar.finish_and_clear();
        ctx.note(format!("read {report}"));
        for skip in report.skip_samples.iter().take(5) {
            ctx.note(format!("  skipped {}:{}", report.source, skip));
        }
        reports.push(report);
    }
    let skipped: u64 = reports.iter().map(|r| r.skipped).sum();
    let seen: u64 = reports.iter().map(|r| r.posts + r.skipped).sum();
    scrutineer_core::lines::check_malformed("posts", skipped, seen, a.limits.max_malformed)
        .with_context(|| format!("reading {} post file(s)", a.posts.len()))?;
    if seen == 0 {
        bail!(
            "no posts were read from {}",
            a.posts.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(reports)
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `sightings.csv` (one row per sighting, input order) and `spreaders.csv` (one row per
/// account, earliest first).
fn write_outputs(out: &Path, index: &SpreadIndex, r: &SpreadReport) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let path = out.join("sightings.csv");
    let mut w = csv::Writer::from_path(&path).with_context(|| format!("creating {}", path.display()))?;
    w.write_record([
        "time",
        "post_id",
        "account",
        "handle",
        "kind",
        "marker",
        "message_id",
        "message",
        "verdict",
        "other_messages",
        "network",
    ])?;
    for s in &r.sightings {
        let m = s.message.map(|i| &index.messages()[i]);
        let cells = [
            rfc3339(s.time),
            s.post_id.clone().unwrap_or_default(),
            s.account.clone(),
            s.handle.clone().unwrap_or_default(),
            s.kind.as_str().to_owned(),
            s.marker.clone(),
            m.and_then(|m| m.message_id.clone()).unwrap_or_default(),
            m.map(|m| m.at.clone()).unwrap_or_default(),
            m.and_then(|m| m.verdict).map(|v| v.as_str().to_owned()).unwrap_or_default(),
            s.other_messages.to_string(),
            s.network.clone().unwrap_or_default(),
        ];
        w.write_record(cells.iter().map(|c| csv_safe(c).into_owned()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    w.flush().with_context(|| format!("writing {}", path.display()))?;
    let path = out.join("spreaders.csv");
    let mut w = csv::Writer::from_path(&path).with_context(|| format!("creating {}", path.display()))?;
    w.write_record([
        "account",
        "handle",
        "first_sighting",
        "hours_after_release",
        "posts",
        "messages",
        "network",
    ])?;
    for s in &r.spreaders {
        let cells = [
            s.account.clone(),
            s.handle.clone().unwrap_or_default(),
            rfc3339(s.first),
            s.hours_after_release.map(|h| format!("{h:.2}")).unwrap_or_default(),
            s.posts.to_string(),
            s.messages.to_string(),
            s.network.clone().unwrap_or_default(),
        ];
        w.write_record(cells.iter().map(|c| csv_safe(c).into_owned()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    w.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn print_report(
    r: &SpreadReport,
    networks_found: usize,
    posts_read: u64,
    a: &SightingsArgs,
) -> anyhow::Result<()> {
    let kinds: Vec<String> =
        r.by_kind.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{} {n}", k.as_str())).collect();
    outln!(
        "{} of {} posts show the dump ({} messages indexed); sightings: {}",
        r.posts_with_sightings,
        posts_read,
        r.dump_messages,
        if kinds.is_empty() { "none".to_owned() } else { kinds.join(", ") }
    )?;
    if let Some(s) = &r.first_sighting {
        let rel =
            r.first_hours_after_release.map(|h| format!(" ({h:+.1} h from the release)")).unwrap_or_default();
        outln!(
            "first sighting: {} by {}{rel}: {} {}",
            rfc3339(s.time),
            s.handle.as_deref().unwrap_or(&s.account),
            s.kind.as_str(),
            truncate(&s.marker, 60)
        )?;
    }
    if let Some(rel) = r.released {
        outln!("{} posts before the release at {}", r.before_release, rfc3339(rel))?;
    }
    if !r.spreaders.is_empty() {
        outln!("\nearliest spreaders ({} accounts in all):", r.spreaders.len())?;
        let rows: Vec<Vec<String>> = r
            .spreaders
            .iter()
            .take(a.top)
            .map(|s| {
                vec![
                    truncate(s.handle.as_deref().unwrap_or(&s.account), 30),
                    rfc3339(s.first),
                    s.hours_after_release.map(|h| format!("{h:+.1}")).unwrap_or_default(),
                    s.posts.to_string(),
                    s.messages.to_string(),
                    s.network.clone().unwrap_or_default(),
                ]
            })
            .collect();
        write_table(&["account", "first", "h from release", "posts", "messages", "network"], &rows)?;
    }
    if !r.networks.is_empty() {
        outln!("\ndetected networks among the spreaders ({networks_found} networks in the posts):")?;
        let rows: Vec<Vec<String>> = r
            .networks
            .iter()
            .take(a.top)
            .map(|n| {
                vec![
                    n.network.clone(),
                    n.members.to_string(),
                    n.spreaders.to_string(),
                    n.posts.to_string(),
                    format!("{:.0}%", 100.0 * n.share_of_posts),
                    rfc3339(n.first),
                ]
            })
            .collect();
        write_table(&["network", "members", "spreaders", "posts", "share", "first"], &rows)?;
    } else if !a.no_networks {
        outln!("\nno detected network among the spreaders ({networks_found} networks in the posts)")?;
    }
    if !r.messages.is_empty() {
        outln!("\nmessages seen in posts ({} in all):", r.messages.len())?;
        let rows: Vec<Vec<String>> = r
            .messages
            .iter()
            .take(a.top)
            .map(|m| {
                vec![
                    truncate(m.message.message_id.as_deref().unwrap_or(&m.message.at), 36),
                    truncate(m.message.subject.as_deref().unwrap_or(""), 36),
                    m.message.verdict.map(|v| v.as_str().to_owned()).unwrap_or_default(),
                    m.posts.to_string(),
                    m.accounts.to_string(),
                    rfc3339(m.first),
                    m.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(","),
                ]
            })
            .collect();
        write_table(&["message", "subject", "verdict", "posts", "accounts", "first", "seen as"], &rows)?;
    }
    outln!("\nsightings -> {}", a.out.join("sightings.csv").display())?;
    Ok(())
}
