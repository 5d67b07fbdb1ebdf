//! `scrutineer mail`: hack-and-leak dumps, each message's DKIM verdict against a key
//! archive, forged variants, and the chain of custody in the ledger.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use scrutineer_core::text::csv_safe;
use scrutineer_core::{Engine, StoredSummary};
use scrutineer_ledger::{Ledger, SignedTreeHead};
use scrutineer_mail::{
    ArcVerdict, BatchVerifier, DumpAnalysis, DumpReport, KeyArchive, KeyRecord, LiveKeys, MboxFlavor,
    MessageVerdicts, RawMessage, ReadOptions, ReadStats, TxtResolver, Verdict, Verified, append_key_csv,
    encode_ledger_entry, fetch_missing_keys, normalise_name, parse_key_record, parse_seen, parse_zone,
    read_dump_raw, signature_key_names,
};

use crate::cmd::ledger::AppendLedgerArgs;
use crate::ui::{Context, outln, truncate, write_json, write_table};

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Verify every message of a dump: one DKIM verdict per signature (DIR/verdicts.csv),
    /// forged variants, findings to the store, each message's SHA-256 and verdict to the ledger.
    Verify(VerifyArgs),
    /// Who spreads a dump: posts that link to its host, use its hashtags or quote a
    /// message's subject, text, links or attachment names; the first sighting, the earliest
    /// accounts, the timing against the release, and the detected networks among them.
    Sightings(crate::cmd::mail_spread::SightingsArgs),
    /// The key archive (`name,record,first_seen,last_seen` CSV).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Export the mail findings in the store as a STIX 2.1 bundle.
    Export {
        /// Output file for the bundle.
        #[arg(long)]
        stix: PathBuf,
        /// Name of the reporting office (the bundle's identity).
        #[arg(long, default_value = "Election office")]
        identity: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add one TXT record to a CSV key archive (created with its header if missing).
    Add {
        /// The record's name: `selector._domainkey.domain`.
        name: String,
        /// The TXT value, its strings joined (`v=DKIM1; k=rsa; p=...`).
        record: String,
        /// The CSV archive.
        #[arg(long)]
        keys: PathBuf,
        /// When the record was first seen published (ISO 8601).
        #[arg(long)]
        first_seen: Option<String>,
        /// When it was last seen published (ISO 8601).
        #[arg(long)]
        last_seen: Option<String>,
    },
    /// Import the DKIM key records of a DNS zone dump (BIND master file) or of a published
    /// key list (`name value` lines) into a CSV key archive.
    Import {
        /// The zone dump or key list.
        file: PathBuf,
        /// The CSV archive.
        #[arg(long)]
        keys: PathBuf,
        /// The domain that relative names belong to (else the file's $ORIGIN).
        #[arg(long)]
        origin: Option<String>,
        /// When the records were first seen published (ISO 8601; e.g. the dump's date).
        #[arg(long)]
        first_seen: Option<String>,
        /// When they were last seen published (ISO 8601).
        #[arg(long)]
        last_seen: Option<String>,
    },
}

// The options of `mail verify` (a plain comment: clap takes the variant's doc as the about).
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// mbox files, single messages (.eml), Maildirs, directories or tar archives of them;
    /// plain, .gz or .zst.
    #[arg(required = true)]
    dumps: Vec<PathBuf>,
    /// The key archive: CSV `name,record,first_seen,last_seen` or JSON.
    #[arg(long)]
    keys: PathBuf,
    /// Output directory for verdicts.csv, unreadable.csv and summary.json (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// A message longer than this is skipped and listed as unreadable (K, M, G suffixes).
    #[arg(long, default_value = "64M", value_parser = scrutineer_core::lines::parse_bytes)]
    max_message_bytes: usize,
    /// How `>From ` lines of mbox files are unescaped: rd (mboxrd) or o (mboxo).
    #[arg(long, default_value = "rd")]
    mbox_flavor: MboxFlavor,
    /// Fail when more than this share of the messages is unreadable (0 to 1, or a
    /// percentage); the outputs listing them are still written.
    #[arg(long, default_value_t = scrutineer_core::lines::DEFAULT_MAX_MALFORMED, value_parser = scrutineer_core::lines::parse_share)]
    max_unreadable: f64,
    /// Do not write findings to the store.
    #[arg(long)]
    no_store: bool,
    /// Look up in today's DNS the keys that the archive lacks (an explicit opt-in: a dump
    /// is verified against the keys published when it was signed, and a key fetched today
    /// says nothing of that). Verdicts made with such a key say so in their detail, and
    /// summary.json lists the lookups under `live_dns`. Needs a build with the `live-dns`
    /// feature.
    #[arg(long)]
    live_dns: bool,
    /// With --live-dns: append the keys found to the --keys CSV archive, `last_seen` the day
    /// of the lookup and `first_seen` unknown.
    #[arg(long, requires = "live_dns")]
    save_keys: bool,
    #[command(flatten)]
    ledger: AppendLedgerArgs,
}

pub fn run(ctx: &Context, cmd: MailCommand) -> anyhow::Result<()> {
    match cmd {
        MailCommand::Verify(args) => verify(ctx, &args),
        MailCommand::Sightings(args) => crate::cmd::mail_spread::sightings(ctx, &args),
        MailCommand::Keys(KeysCommand::Add { name, record, keys, first_seen, last_seen }) => {
            keys_add(ctx, &name, &record, &keys, first_seen.as_deref(), last_seen.as_deref())
        }
        MailCommand::Keys(KeysCommand::Import { file, keys, origin, first_seen, last_seen }) => {
            keys_import(ctx, &file, &keys, origin.as_deref(), first_seen.as_deref(), last_seen.as_deref())
        }
        MailCommand::Export { stix, identity } => {
            crate::cmd::findings::export_stix(ctx, Engine::Mail, "mail verify", &stix, &identity)
        }
    }
}

fn keys_import(
    ctx: &Context,
    file: &Path,
    keys: &Path,
    origin: Option<&str>,
    first_seen: Option<&str>,
    last_seen: Option<&str>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let records = parse_zone(&text, origin).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let first_seen =
        parse_seen(first_seen.unwrap_or(""), false).map_err(|e| anyhow::anyhow!("--first-seen: {e}"))?;
    let last_seen =
        parse_seen(last_seen.unwrap_or(""), true).map_err(|e| anyhow::anyhow!("--last-seen: {e}"))?;
    let (mut added, mut skipped) = (0, 0);
    for (name, record) in records {
        // A record that is no key is named and skipped; the others are archived.
        if let Err(e) = parse_key_record(&record) {
            ctx.note(format!("{}: {name}: not a DKIM key record, skipped: {e}", file.display()));
            skipped += 1;
            continue;
        }
        append_key_csv(keys, &KeyRecord { name, record, first_seen, last_seen })?;
        added += 1;
    }
    if added == 0 {
        bail!("{}: no DKIM key record (selector._domainkey.domain TXT) found", file.display());
    }
    ctx.note(format!("imported {added} key records into {} ({skipped} skipped)", keys.display()));
    Ok(())
}

fn keys_add(
    ctx: &Context,
    name: &str,
    record: &str,
    keys: &Path,
    first_seen: Option<&str>,
    last_seen: Option<&str>,
) -> anyhow::Result<()> {
    // A record that is no key at all is refused here rather than at verification time;
    // a revoked one (empty p=) is a fact worth archiving.
    parse_key_record(record)
        .map_err(|e| anyhow::anyhow!("{name}: the record is not a DKIM key record: {e}"))?;
    let record = KeyRecord {
        name: normalise_name(name),
        record: record.trim().to_owned(),
        first_seen: parse_seen(first_seen.unwrap_or(""), false)
            .map_err(|e| anyhow::anyhow!("--first-seen: {e}"))?,
        last_seen: parse_seen(last_seen.unwrap_or(""), true)
            .map_err(|e| anyhow::anyhow!("--last-seen: {e}"))?,
    };
    append_key_csv(keys, &record)?;
    let total = KeyArchive::read(keys)?.len();
    ctx.note(format!("added {} to {} ({total} records)", record.name, keys.display()));
    Ok(())
}

/// The outputs of a run being written.
struct Outputs {
    verdicts: csv::Writer<BufWriter<File>>,
    unreadable: csv::Writer<BufWriter<File>>,
    verdicts_path: PathBuf,
    unreadable_path: PathBuf,
    shown_unreadable: usize,
}

impl Outputs {
    fn create(out: &Path) -> anyhow::Result<Outputs> {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let open = |name: &str, header: &[&str]| -> anyhow::Result<(csv::Writer<BufWriter<File>>, PathBuf)> {
            let path = out.join(name);
            let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            let mut w = csv::Writer::from_writer(BufWriter::new(f));
            w.write_record(header).with_context(|| format!("writing {}", path.display()))?;
            Ok((w, path))
        };
        let (verdicts, verdicts_path) = open(
            "verdicts.csv",
            &[
                "file",
                "offset",
                "message_id",
                "date",
                "from",
                "signing_domain",
                "selector",
                "verdict",
                "detail",
            ],
        )?;
        let (unreadable, unreadable_path) = open("unreadable.csv", &["file", "offset", "reason"])?;
        Ok(Outputs { verdicts, unreadable, verdicts_path, unreadable_path, shown_unreadable: 0 })
    }

    fn verdict_rows(&mut self, m: &MessageVerdicts) -> csv::Result<()> {
        let offset = m.offset.to_string();
        let date = m.date.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
        // One row per signature, then the ARC chain's, when there is one: a row of its own,
        // named by the latest seal.
        let signatures =
            m.checks.iter().map(|c| (&c.signing_domain, &c.selector, c.verdict.as_str(), &c.detail));
        let arc = m.arc.iter().map(|a| (&a.signing_domain, &a.selector, a.verdict.as_str(), &a.detail));
        for (domain, selector, verdict, detail) in signatures.chain(arc) {
            let cells = [
                m.file.as_str(),
                &offset,
                m.message_id.as_deref().unwrap_or(""),
                &date,
                m.from.as_deref().unwrap_or(""),
                domain,
                selector,
                verdict,
                detail,
            ];
            self.verdicts.write_record(cells.iter().map(|c| csv_safe(c).into_owned()))?;
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.verdicts.flush().with_context(|| format!("writing {}", self.verdicts_path.display()))?;
        self.unreadable.flush().with_context(|| format!("writing {}", self.unreadable_path.display()))?;
        Ok(())
    }
}

/// The resolver of `--live-dns`.
#[cfg(feature = "live-dns")]
fn live_resolver() -> anyhow::Result<Box<dyn TxtResolver>> {
    Ok(Box::new(scrutineer_mail::DnsResolver::from_system().map_err(anyhow::Error::msg)?))
}

#[cfg(not(feature = "live-dns"))]
fn live_resolver() -> anyhow::Result<Box<dyn TxtResolver>> {
    bail!(
        "--live-dns needs a build with the live-dns feature (cargo build --release -p scrutineer --features live-dns)"
    )
}

/// `--live-dns`: a first pass over the dump for the keys its signatures name, the ones the
/// archive lacks looked up with `resolver` and added to `keys` (and, with `--save-keys`,
/// to the CSV archive).
pub(crate) fn fetch_live_keys(
    ctx: &Context,
    a: &VerifyArgs,
    opts: &ReadOptions,
    keys: &mut KeyArchive,
    resolver: &dyn TxtResolver,
) -> anyhow::Result<LiveKeys> {
    if a.save_keys && a.keys.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        bail!("--save-keys appends to a CSV archive; {} is JSON", a.keys.display());
    }
    let mut names = std::collections::BTreeSet::new();
    read_dump_raw(&a.dumps, opts, |m: RawMessage| {
        if let Ok(raw) = &m.result {
            names.extend(signature_key_names(raw));
        }
        Ok(())
    })
    .context("reading the dump for the keys it names")?;
    let live = fetch_missing_keys(keys, names, resolver, chrono::Utc::now());
    for (name, why) in live.failed.iter().take(10) {
        ctx.note(format!("live DNS: {name}: {why}"));
    }
    ctx.note(format!(
        "live DNS: {} names the archive lacks looked up, {} key records found, {} names without one, {} lookups failed",
        live.queried,
        live.found.len(),
        live.not_found.len(),
        live.failed.len()
    ));
    if a.save_keys {
        for record in &live.found {
            append_key_csv(&a.keys, record)?;
        }
        ctx.note(format!("live DNS: {} key records appended to {}", live.found.len(), a.keys.display()));
    }
    Ok(live)
}

/// Marks the verdicts made with a key fetched live.
fn mark_live(v: &mut MessageVerdicts, live: &LiveKeys) {
    let Some(day) = live.looked_up else { return };
    let note = format!(
        "; key fetched live from DNS on {}, not archived from the time of signing",
        day.format("%Y-%m-%d")
    );
    for c in &mut v.checks {
        if live.fetched(&c.selector, &c.signing_domain) {
            c.detail.push_str(&note);
        }
    }
    if let Some(c) = &mut v.arc
        && live.fetched(&c.selector, &c.signing_domain)
    {
        c.detail.push_str(&note);
    }
}

fn verify(ctx: &Context, a: &VerifyArgs) -> anyhow::Result<()> {
    match a.live_dns {
        true => verify_with(ctx, a, Some(live_resolver()?.as_ref())),
        false => verify_with(ctx, a, None),
    }
}

pub(crate) fn verify_with(
    ctx: &Context,
    a: &VerifyArgs,
    resolver: Option<&dyn TxtResolver>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let opts = ReadOptions { max_message_bytes: a.max_message_bytes, mbox: a.mbox_flavor };
    let mut archive = KeyArchive::read(&a.keys).context("reading the key archive")?;
    let live = match resolver {
        Some(r) => Some(fetch_live_keys(ctx, a, &opts, &mut archive, r)?),
        None => None,
    };
    let keys = std::sync::Arc::new(archive);
    let mut outputs = Outputs::create(&a.out)?;
    let mut ledger = a.ledger.open(ctx)?;
    let mut analysis = DumpAnalysis::new();
    let bar = ctx.stage("verifying messages");
    let mut buf = Vec::with_capacity(256);
    let mut handle = |v: Verified| -> std::io::Result<()> {
        let verdicts = match v {
            Verified::Message(mut v) => {
                if let Some(live) = &live {
                    mark_live(&mut v, live);
                }
                *v
            }
            Verified::Unreadable { file, offset, reason } => {
                outputs.unreadable.write_record([&*file, &offset.to_string(), &csv_safe(&reason)])?;
                if outputs.shown_unreadable < 10 {
                    ctx.note(format!("{file}: message at byte {offset}: {reason}"));
                    outputs.shown_unreadable += 1;
                }
                return Ok(());
            }
        };
        outputs.verdict_rows(&verdicts)?;
        if let Some((l, _)) = ledger.as_mut() {
            encode_ledger_entry(&mut buf, &verdicts);
            l.append(&buf).map_err(std::io::Error::other)?;
        }
        analysis.observe(&verdicts);
        bar.inc(1);
        Ok(())
    };
    // Messages are verified in batches on every core and handed on in input order.
    let mut verifier = BatchVerifier::new(keys.clone());
    let mut stats = read_dump_raw(&a.dumps, &opts, |m: RawMessage| verifier.push(m, &mut handle))
        .context("reading the dump")?;
    verifier.flush(&mut handle).context("writing the verdicts")?;
    stats.unreadable += verifier.unparsable();
    drop(verifier);
    bar.finish_and_clear();
    outputs.finish()?;
    let head = match ledger {
        Some((l, path)) => Some(sign_ledger(l, &path)?),
        None => None,
    };
    let report = analysis.finish();
    let summary = run_summary(&keys, &stats, &report, started.elapsed().as_secs_f64(), &a.out);
    let stored = StoredSummary::new(&summary)?;
    // The file carries the layout's name and version, as the store does.
    let mut file =
        serde_json::json!({"engine": stored.engine, "version": stored.version, "summary": stored.body});
    if let Some(live) = &live {
        // Only with --live-dns: which keys came from today's DNS rather than the archive.
        file["live_dns"] = serde_json::to_value(live)?;
    }
    write_json(&a.out.join("summary.json"), &file)?;
    if !a.no_store {
        store_run(ctx, &a.dumps, &report, &summary)?;
    }
    scrutineer_core::lines::check_malformed("messages", stats.unreadable, stats.messages, a.max_unreadable)
        .with_context(|| {
        format!("unreadable messages are listed in {}", a.out.join("unreadable.csv").display())
    })?;
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
        return Ok(());
    }
    print_summary(&summary, &report, head.as_ref())
}

fn sign_ledger(mut l: Ledger, path: &Path) -> anyhow::Result<SignedTreeHead> {
    let head = l.sign().with_context(|| format!("signing {}", path.display()))?;
    l.close().with_context(|| format!("closing {}", path.display()))?;
    Ok(head)
}

fn run_summary(
    keys: &KeyArchive,
    stats: &ReadStats,
    report: &DumpReport,
    seconds: f64,
    out: &Path,
) -> scrutineer_mail::RunSummary {
    let readable = stats.messages - stats.unreadable;
    scrutineer_mail::RunSummary {
        read: stats.clone(),
        keys: keys.len(),
        signatures: report.signatures,
        verdicts: report.counts.clone(),
        arc: Some(report.arc.clone()),
        variant_groups: report.variant_groups.clone(),
        near_duplicates: report.near_duplicates.clone(),
        findings: report.findings.len(),
        seconds,
        messages_per_second: if seconds > 0.0 { readable as f64 / seconds } else { 0.0 },
        verdicts_csv: out.join("verdicts.csv"),
    }
}

fn store_run(
    ctx: &Context,
    dumps: &[PathBuf],
    report: &DumpReport,
    summary: &scrutineer_mail::RunSummary,
) -> anyhow::Result<()> {
    let names = dumps.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" ");
    let mut store = ctx.open_store("mail verify", &names)?;
    let run = store.begin_run(Engine::Mail, "mail verify").context("starting a run in the store")?;
    store.put_findings(Some(run), &report.findings).context("storing findings")?;
    store.finish_run(run, &StoredSummary::new(summary)?).context("finishing the run")?;
    Ok(())
}

fn print_summary(
    s: &scrutineer_mail::RunSummary,
    report: &DumpReport,
    head: Option<&SignedTreeHead>,
) -> anyhow::Result<()> {
    let readable = s.read.messages - s.read.unreadable;
    outln!(
        "{} messages in {} files ({} unreadable), {} signatures, {:.2}s ({:.0} messages/s)",
        s.read.messages,
        s.read.files,
        s.read.unreadable,
        s.signatures,
        s.seconds,
        s.messages_per_second
    )?;
    let rows: Vec<Vec<String>> = Verdict::ALL
        .iter()
        .map(|v| {
            let n = s.verdicts.get(*v);
            let share = if readable > 0 { 100.0 * n as f64 / readable as f64 } else { 0.0 };
            vec![v.as_str().to_owned(), n.to_string(), format!("{share:.1}%")]
        })
        .collect();
    write_table(&["verdict", "messages", "share"], &rows)?;
    if let Some(arc) = s.arc.as_ref().filter(|a| a.chains > 0) {
        outln!("\nARC chains ({} messages carry ARC fields):", arc.chains)?;
        let rows: Vec<Vec<String>> = [ArcVerdict::Pass, ArcVerdict::Fail, ArcVerdict::KeyUnknown]
            .iter()
            .map(|v| {
                let n = arc.get(*v);
                vec![
                    v.as_str().to_owned(),
                    n.to_string(),
                    format!("{:.1}%", 100.0 * n as f64 / arc.chains as f64),
                ]
            })
            .collect();
        write_table(&["arc verdict", "messages", "share"], &rows)?;
    }
    if !report.variant_groups.is_empty() {
        outln!("\nforged variants (one Message-ID, different content):")?;
        let rows: Vec<Vec<String>> = report
            .variant_groups
            .iter()
            .take(15)
            .map(|g| {
                let verified: Vec<&str> = g.verified().map(|v| v.at.as_str()).collect();
                vec![
                    truncate(&g.message_id, 40),
                    g.variants.len().to_string(),
                    if verified.is_empty() { "none".into() } else { truncate(&verified.join(", "), 50) },
                ]
            })
            .collect();
        write_table(&["message_id", "variants", "the one that verifies"], &rows)?;
    }
    outln!("\nverdicts -> {}", s.verdicts_csv.display())?;
    if let Some(h) = head {
        outln!("ledger: {} entries, signed head {}", h.tree_size, h.root_hash)?;
    }
    Ok(())
}

#[cfg(test)]
mod live_dns_tests {
    use super::*;
    use clap::Parser;
    use scrutineer_mail::{DkimSigner, SigningKey, StaticResolver};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        verify: VerifyArgs,
    }

    fn run(
        dir: &Path,
        out: &str,
        extra: &[&str],
        resolver: Option<&dyn TxtResolver>,
    ) -> (Vec<csv::StringRecord>, serde_json::Value) {
        let (dump, keys, out) = (dir.join("dump.eml"), dir.join("keys.csv"), dir.join(out));
        let mut argv = vec!["verify".to_owned(), dump.display().to_string()];
        argv.extend(
            [
                "--keys",
                keys.to_str().expect("test fixture"),
                "--out",
                out.to_str().expect("test fixture"),
                "--no-ledger",
                "--no-store",
            ]
            .map(String::from),
        );
        argv.extend(extra.iter().map(|s| s.to_string()));
        let args = Cli::try_parse_from(argv).expect("test fixture").verify;
        let ctx = Context { store_path: dir.join("store"), quiet: true, json: true, actor: "test".into() };
        verify_with(&ctx, &args, resolver).expect("test fixture");
        let rows = csv::Reader::from_path(out.join("verdicts.csv"))
            .expect("test fixture")
            .records()
            .map(|r| r.expect("test fixture"))
            .collect();
        let summary =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("test fixture"))
                .expect("test fixture");
        (rows, summary)
    }

    #[test]
    fn live_keys_are_used_marked_and_saved_only_when_asked() {
        let dir = tempfile::tempdir().expect("test fixture");
        let signer =
            DkimSigner::new("example.org", "live", SigningKey::ed25519([7; 32])).expect("test fixture");
        let message = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\nDate: Mon, 6 Jan 2020 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nbody\r\n";
        std::fs::write(dir.path().join("dump.eml"), signer.sign(message).expect("test fixture"))
            .expect("test fixture");
        let keys = dir.path().join("keys.csv");
        append_key_csv(
            &keys,
            &KeyRecord {
                name: "other._domainkey.example.org".into(),
                record: signer.dns_record(),
                first_seen: None,
                last_seen: None,
            },
        )
        .expect("test fixture");
        let verdict = |rows: &[csv::StringRecord]| (rows[0][7].to_owned(), rows[0][8].to_owned());

        // Without live DNS the archive lacks the key.
        let (rows, summary) = run(dir.path(), "offline", &[], None);
        assert_eq!(verdict(&rows).0, "key_unknown");
        assert!(summary.get("live_dns").is_none());

        let resolver = StaticResolver::new().with_record("live._domainkey.example.org", &signer.dns_record());
        let (rows, summary) = run(dir.path(), "live", &["--live-dns"], Some(&resolver));
        let (v, detail) = verdict(&rows);
        assert_eq!(v, "authentic");
        assert!(detail.contains("key fetched live from DNS"), "{detail}");
        assert_eq!(summary["live_dns"]["queried"], 1);
        assert_eq!(summary["live_dns"]["found"][0]["name"], "live._domainkey.example.org");
        assert_eq!(KeyArchive::read(&keys).expect("test fixture").len(), 1, "not saved without --save-keys");

        run(dir.path(), "saved", &["--live-dns", "--save-keys"], Some(&resolver));
        let archive = KeyArchive::read(&keys).expect("test fixture");
        let saved = archive.lookup("live", "example.org");
        assert_eq!(saved.len(), 1);
        assert!(saved[0].first_seen.is_none() && saved[0].last_seen.is_some());
        // Once archived, the key is not fetched again, nor marked.
        let (rows, summary) = run(dir.path(), "again", &["--live-dns"], Some(&resolver));
        assert_eq!(verdict(&rows).0, "authentic");
        assert!(!verdict(&rows).1.contains("fetched live"));
        assert_eq!(summary["live_dns"]["queried"], 0);
    }

    #[test]
    fn save_keys_needs_live_dns() {
        assert!(Cli::try_parse_from(["verify", "d", "--keys", "k", "--out", "o", "--save-keys"]).is_err());
    }
}
