use std::path::{Path, PathBuf};

use crate::ui::outln;
use anyhow::{Context as _, bail};
use clap::Subcommand;
use scrutineer_ballots::{
    Anomaly, AnomalyOptions, CsvRecord, Dataset, Inputs, Layout, Reconciliation, RuleKind, column_for,
    count_by, detect_anomalies, encode_anomaly, encode_finding, encode_record, encode_source, read_all,
    reconcile, write_anomalies, write_findings, write_malformed, write_report, write_totals,
};
use scrutineer_core::Engine;
use scrutineer_ledger::{Durability, Ledger, SignedTreeHead};

use crate::cmd::ledger::AppendLedgerArgs;
use crate::ui::Context;

#[derive(Debug, Subcommand)]
pub enum BallotsCommand {
    /// Reconcile returned envelopes against issued ballots, the roll and check-ins; write
    /// findings.csv, anomalies.csv, totals.csv, malformed.csv and reconciliation.txt.
    Reconcile(ReconcileArgs),
    /// Count the rows of one file by columns, e.g. `--by county,status` (a state's
    /// published totals); prints CSV (or JSON with --json).
    Totals {
        /// The file to count (in NC layout: the absentee file).
        file: PathBuf,
        /// Grouping: county, precinct, status, type, party, channel, or any column name.
        #[arg(long, value_delimiter = ',', default_value = "county,status")]
        by: Vec<String>,
        #[arg(long, default_value = "generic")]
        layout: String,
        /// Write the CSV here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

// The arguments of `ballots reconcile` (its help is the variant's).
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// Voter roll (registration file).
    #[arg(long)]
    roll: PathBuf,
    /// Ballot issuance (envelopes sent).
    #[arg(long)]
    issued: PathBuf,
    /// Return events (envelope receipts with their outcome).
    #[arg(long)]
    returns: PathBuf,
    /// In-person check-ins from poll books.
    #[arg(long)]
    checkins: Option<PathBuf>,
    /// Receipt deadline, local time, YYYY-MM-DDTHH:MM:SS.
    #[arg(long)]
    deadline: String,
    /// Input layout: generic, nc (NC State Board absentee, ncvoter and ncvhis files), ohio (Ohio SOS
    /// voter-file extract as the roll), or a mapping .toml.
    #[arg(long, default_value = "generic")]
    layout: String,
    /// Output directory (created if needed).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    ledger: AppendLedgerArgs,
    /// Family-wise error rate for the statistical tests.
    #[arg(long, default_value_t = 0.01)]
    alpha: f64,
    #[command(flatten)]
    limits: crate::ui::ReadLimits,
}

pub fn run(ctx: &Context, cmd: BallotsCommand) -> anyhow::Result<()> {
    match cmd {
        BallotsCommand::Reconcile(args) => reconcile_cmd(ctx, &args),
        BallotsCommand::Totals { file, by, layout, out } => {
            totals_cmd(ctx, &file, &by, &layout, out.as_deref())
        }
    }
}

/// What a reconciliation run found, for the outputs, the store and the ledger.
struct RunOutcome {
    ds: Dataset,
    rec: Reconciliation,
    anomalies: Vec<Anomaly>,
    read_secs: f64,
}

fn reconcile_cmd(ctx: &Context, a: &ReconcileArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let layout = Layout::from_spec(&a.layout).context("reading the layout")?;
    let deadline_secs = scrutineer_ballots::parse_deadline(&a.deadline)?;
    let anomaly_options = AnomalyOptions::with_alpha(a.alpha)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let ledger_path = a.ledger.path(ctx);
    let mut led = a.ledger.open(ctx)?.map(|(l, _)| l);
    let first_entry = led.as_ref().map(|l| l.size()).unwrap_or(0);
    let bar = ctx.stage("reading inputs");
    let mut ds = read_inputs(a, &layout, led.as_mut(), &ledger_path, &bar)?;
    if let Err(too_many) = ds.stats.check_malformed(a.limits.max_malformed) {
        let listed = a.out.join("malformed.csv");
        write_malformed(&listed, &ds.malformed)?;
        // The records read so far are in the ledger: sign them, so that the
        // ledger stays whole for the next run.
        if let Some(mut l) = led.take() {
            l.sign().with_context(|| format!("signing {}", ledger_path.display()))?;
            l.close().with_context(|| format!("closing {}", ledger_path.display()))?;
        }
        return Err(anyhow::Error::new(too_many)
            .context(format!("reading the inputs; the malformed rows are listed in {}", listed.display())));
    }
    let read_secs = started.elapsed().as_secs_f64();
    bar.set_message("reconciling");
    let rec = reconcile(&mut ds, deadline_secs);
    let anomalies = detect_anomalies(&ds, &rec.env_state, &anomaly_options);
    let run = RunOutcome { ds, rec, anomalies, read_secs };
    bar.set_message("writing outputs");
    write_outputs(a, &layout, &run)?;

    // The store: rule findings and anomalies, under one run.
    bar.set_message("storing findings");
    let scope = format!("ballots:{}", a.issued.display());
    let findings = scrutineer_ballots::store_findings(&run.rec, &run.anomalies, &scope);
    let mut store = ctx.open_store("write", &format!("ballots reconcile {}", a.issued.display()))?;
    let run_id =
        store.begin_run(Engine::Ballots, &format!("ballots reconcile --issued {}", a.issued.display()))?;
    store.put_findings(Some(run_id), &findings).context("storing the findings")?;

    // The ledger: every finding, then a signed tree head.
    let head = match led.take() {
        Some(l) => {
            bar.set_message("signing the ledger");
            Some(append_findings(l, &ledger_path, &a.out, &run)?)
        }
        None => None,
    };
    let ledger = head.as_ref().map(|h| LedgerSummary {
        path: &ledger_path,
        first_entry,
        head: h,
        fsync: a.ledger.fsync,
    });
    let summary = run_summary(&run, ledger.as_ref(), started.elapsed().as_secs_f64())?;
    store.finish_run(run_id, &summary)?;
    bar.finish_and_clear();
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&summary.body)?)?;
        return Ok(());
    }
    print_outcome(&run, &a.out, ledger.as_ref())?;
    outln!("done in {:.1} s", started.elapsed().as_secs_f64())?;
    Ok(())
}

/// Reads the inputs, appending every record read to the ledger when there is one.
fn read_inputs(
    a: &ReconcileArgs,
    layout: &Layout,
    mut led: Option<&mut Ledger>,
    ledger_path: &Path,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Dataset> {
    let names: Vec<(&str, String)> = [
        ("roll", Some(&a.roll)),
        ("issued", Some(&a.issued)),
        ("returns", Some(&a.returns)),
        ("checkins", a.checkins.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, p)| p.map(|p| (k, p.display().to_string())))
    .collect();
    let progress = |file: &str, bytes: u64| bar.set_message(format!("reading {file}: {} MB", bytes >> 20));
    let mut buf = Vec::with_capacity(512);
    let mut ledger_error: Option<String> = None;
    let mut current_source = String::new();
    let recording = led.is_some();
    let mut sink = |source: &str, line: u64, rec: &CsvRecord| -> Result<(), String> {
        let Some(l) = led.as_mut() else { return Ok(()) };
        if current_source != source {
            // One entry naming the file; its records then carry only source and line.
            current_source = source.to_owned();
            let file = names.iter().find(|(k, _)| *k == source).map(|(_, f)| f.as_str()).unwrap_or("");
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            encode_source(&mut buf, source, file, size);
            l.append(&buf).map_err(|e| e.to_string())?;
        }
        encode_record(&mut buf, source, line, rec);
        l.append(&buf).map(|_| ()).map_err(|e| {
            ledger_error = Some(e.to_string());
            e.to_string()
        })
    };
    let inputs = Inputs {
        roll: &a.roll,
        issued: &a.issued,
        returns: &a.returns,
        checkins: a.checkins.as_deref(),
        max_line: a.limits.max_line_bytes,
    };
    let ds = read_all(&inputs, layout, if recording { Some(&mut sink) } else { None }, Some(&progress))
        .context("reading the inputs")?;
    if let Some(e) = ledger_error {
        bail!("appending to the ledger {}: {e}", ledger_path.display());
    }
    Ok(ds)
}

fn write_outputs(a: &ReconcileArgs, layout: &Layout, run: &RunOutcome) -> anyhow::Result<()> {
    let out = &a.out;
    write_findings(&out.join("findings.csv"), &run.rec.findings)?;
    write_anomalies(&out.join("anomalies.csv"), &run.anomalies)?;
    write_totals(&out.join("totals.csv"), &run.rec.totals)?;
    write_malformed(&out.join("malformed.csv"), &run.ds.malformed)?;
    let header = format!(
        "Inputs: roll {}, issued {}, returns {}{}; layout {}; deadline {}.",
        a.roll.display(),
        a.issued.display(),
        a.returns.display(),
        a.checkins.as_ref().map(|c| format!(", check-ins {}", c.display())).unwrap_or_default(),
        layout.name,
        a.deadline
    );
    write_report(
        &out.join("reconciliation.txt"),
        &run.rec.totals,
        &run.rec.findings,
        run.anomalies.len(),
        &run.ds.stats,
        &header,
    )?;
    Ok(())
}

/// Appends every finding and anomaly to the ledger, signs and closes it.
fn append_findings(
    mut l: Ledger,
    ledger_path: &Path,
    out: &Path,
    run: &RunOutcome,
) -> anyhow::Result<SignedTreeHead> {
    let mut buf = Vec::with_capacity(512);
    let findings_csv = out.join("findings.csv").display().to_string();
    for f in &run.rec.findings {
        encode_finding(&mut buf, f, &findings_csv);
        l.append(&buf)?;
    }
    let anomalies_csv = out.join("anomalies.csv").display().to_string();
    for an in &run.anomalies {
        encode_anomaly(&mut buf, an, &anomalies_csv);
        l.append(&buf)?;
    }
    let head = l.sign().with_context(|| format!("signing {}", ledger_path.display()))?;
    l.close().with_context(|| format!("closing {}", ledger_path.display()))?;
    Ok(head)
}

/// Where a run's entries went in the ledger.
struct LedgerSummary<'a> {
    path: &'a Path,
    first_entry: u64,
    head: &'a SignedTreeHead,
    fsync: Durability,
}

/// The run's summary, stored with the run: what the HTML report charts (findings by kind,
/// the largest precincts' totals and the overall closing figures) and what the run read.
fn run_summary(
    run: &RunOutcome,
    ledger: Option<&LedgerSummary<'_>>,
    seconds: f64,
) -> anyhow::Result<scrutineer_core::StoredSummary> {
    let (ds, rec, anomalies) = (&run.ds, &run.rec, &run.anomalies);
    let (overall, largest_precincts) = scrutineer_ballots::closing_rows(rec);
    let summary = scrutineer_ballots::RunSummary {
        stats: ds.stats.clone(),
        by_kind: scrutineer_ballots::findings_by_kind(rec),
        overall,
        precincts_total: rec.totals.len(),
        largest_precincts,
        findings: rec.findings.len(),
        anomalies: anomalies.len(),
        envelopes: ds.envelopes_issued(),
        voters: ds.voters_on_roll(),
        ledger: ledger.map(|l| scrutineer_ballots::LedgerHead {
            path: l.path.display().to_string(),
            first_entry: l.first_entry,
            tree_size: l.head.tree_size,
            root_hash: l.head.root_hash.clone(),
            fsync: l.fsync.as_str().to_owned(),
        }),
        seconds,
        read_seconds: run.read_secs,
    };
    Ok(scrutineer_core::StoredSummary::new(&summary)?)
}

fn print_outcome(run: &RunOutcome, out: &Path, ledger: Option<&LedgerSummary<'_>>) -> std::io::Result<()> {
    let (ds, rec) = (&run.ds, &run.rec);
    outln!(
        "{} voters, {} envelopes issued, {} receipts, {} check-ins read in {:.1} s ({} malformed rows: {})",
        ds.voters_on_roll(),
        ds.envelopes_issued(),
        ds.receipts.len(),
        ds.checkins.len(),
        run.read_secs,
        ds.stats.malformed,
        out.join("malformed.csv").display()
    )?;
    for k in RuleKind::ALL {
        let n = rec.findings.iter().filter(|f| f.kind == k).count();
        if n > 0 {
            outln!("  {:<22} {n}", k.as_str())?;
        }
    }
    outln!(
        "{} rule findings, {} statistical anomalies -> {}",
        rec.findings.len(),
        run.anomalies.len(),
        out.display()
    )?;
    if let Some(l) = ledger {
        outln!(
            "ledger {}: entries {}..{}, signed tree head {} (fsync {})",
            l.path.display(),
            l.first_entry,
            l.head.tree_size,
            &l.head.root_hash[..16],
            l.fsync.as_str()
        )?;
    }
    Ok(())
}

fn totals_cmd(
    ctx: &Context,
    file: &Path,
    by: &[String],
    layout: &str,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let layout = Layout::from_spec(layout).context("reading the layout")?;
    let columns: Vec<String> = by.iter().map(|b| column_for(&layout, b.trim())).collect();
    let bar = ctx.stage(&format!("counting {}", file.display()));
    let (counts, rows) = count_by(file, &columns)?;
    bar.finish_and_clear();
    if ctx.json {
        let list: Vec<serde_json::Value> = counts
            .iter()
            .map(|(k, v)| {
                let mut m = serde_json::Map::new();
                for (name, val) in by.iter().zip(k) {
                    m.insert(name.clone(), serde_json::Value::String(val.clone()));
                }
                m.insert("records".into(), (*v).into());
                serde_json::Value::Object(m)
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&serde_json::json!({"rows": rows, "totals": list}))?)?;
        return Ok(());
    }
    let mut text = String::new();
    text.push_str(&by.join(","));
    text.push_str(",records\n");
    for (k, v) in &counts {
        let cells: Vec<String> = k.iter().map(|c| scrutineer_core::text::csv_field(c).into_owned()).collect();
        text.push_str(&format!("{},{v}\n", cells.join(",")));
    }
    write_or_print(out, &text)?;
    ctx.note(format!("{rows} rows in {} groups", counts.len()));
    Ok(())
}

fn write_or_print(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
