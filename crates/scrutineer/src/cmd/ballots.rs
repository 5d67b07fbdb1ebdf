use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use scrutineer_ballots::{AnomalyOptions, Inputs, Layout, explain, output, read_all, reconcile, totals};
use scrutineer_core::Engine;
use scrutineer_ledger::Durability;

use crate::cmd::ledger::{KeyArgs, default_ledger, open_for_append, signer};
use crate::ui::Context;

#[derive(Debug, Subcommand)]
pub enum BallotsCommand {
    /// Reconcile returned envelopes against issued ballots, the roll and check-ins; write
    /// findings.csv, anomalies.csv, totals.csv, malformed.csv and reconciliation.txt.
    Reconcile {
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
        /// The tamper-evident ledger every record and finding is appended to (default: next to the store).
        #[arg(long)]
        ledger: Option<PathBuf>,
        /// The ledger's signing key (created with mode 0600 on first use). Default: under the
        /// user's configuration folder (`$XDG_CONFIG_HOME/scrutineer/ledger-keys/`, else
        /// `~/.config/scrutineer/ledger-keys/`), one per ledger; never in the ledger's folder.
        #[arg(long, env = scrutineer_ledger::keys::KEY_ENV, value_name = "PATH")]
        ledger_key: Option<PathBuf>,
        /// Accept a ledger signing key inside the ledger's folder (throw-away ledgers only).
        #[arg(long)]
        allow_key_beside_ledger: bool,
        /// Fail at once if another process is writing the ledger, instead of waiting for it.
        #[arg(long)]
        no_wait: bool,
        /// Ledger durability: commit (fsync once the run's entries are written; the default),
        /// always (fsync every entry; slow) or never (benchmarks only).
        #[arg(long, default_value = "commit")]
        fsync: Durability,
        /// Do not append to the ledger (for dry runs and timing the reconciliation alone).
        #[arg(long)]
        no_ledger: bool,
        /// Family-wise error rate for the statistical tests.
        #[arg(long, default_value_t = 0.01)]
        alpha: f64,
        #[command(flatten)]
        limits: crate::ui::ReadLimits,
    },
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

fn ledger_entry(buf: &mut Vec<u8>, kind: &str, source: &str, file: &str, line: u64, fields: &[&[u8]]) {
    buf.clear();
    buf.extend_from_slice(kind.as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(source.as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(file.as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(line.to_string().as_bytes());
    buf.push(b'\t');
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(0x1f);
        }
        buf.extend_from_slice(f);
    }
}

pub fn run(ctx: &Context, cmd: BallotsCommand) -> anyhow::Result<()> {
    match cmd {
        BallotsCommand::Reconcile {
            roll,
            issued,
            returns,
            checkins,
            deadline,
            layout,
            out,
            ledger,
            ledger_key,
            allow_key_beside_ledger,
            no_wait,
            fsync,
            no_ledger,
            alpha,
            limits,
        } => {
            let started = std::time::Instant::now();
            let layout = Layout::from_spec(&layout).context("reading the layout")?;
            let deadline_secs = scrutineer_ballots::parse_deadline(&deadline)?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let ledger_path = default_ledger(ctx, ledger.as_deref());
            let mut led = if no_ledger {
                None
            } else {
                let key = KeyArgs { key: ledger_key, allow_key_beside_ledger, no_wait };
                let signer = signer(ctx, &ledger_path, &key)?;
                Some(open_for_append(ctx, &ledger_path, signer, fsync, &key)?)
            };
            let first_entry = led.as_ref().map(|l| l.size()).unwrap_or(0);
            let names: Vec<(String, String)> = [
                ("roll", Some(&roll)),
                ("issued", Some(&issued)),
                ("returns", Some(&returns)),
                ("checkins", checkins.as_ref()),
            ]
            .into_iter()
            .filter_map(|(k, p)| p.map(|p| (k.to_owned(), p.display().to_string())))
            .collect();
            let bar = ctx.stage("reading inputs");
            let progress =
                |file: &str, bytes: u64| bar.set_message(format!("reading {file}: {} MB", bytes >> 20));
            let mut buf = Vec::with_capacity(512);
            let mut ledger_error: Option<String> = None;
            let mut current_source = String::new();
            let ds = {
                let mut sink = |source: &str, line: u64, rec: &csv_record::Record| -> Result<(), String> {
                    let Some(l) = led.as_mut() else { return Ok(()) };
                    if current_source != source {
                        // One entry naming the file; its records then carry only source and line.
                        current_source = source.to_owned();
                        let file =
                            names.iter().find(|(k, _)| k == source).map(|(_, f)| f.as_str()).unwrap_or("");
                        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0).to_string();
                        ledger_entry(&mut buf, "source", source, file, 0, &[size.as_bytes()]);
                        l.append(&buf).map_err(|e| e.to_string())?;
                    }
                    let fields: Vec<&[u8]> = rec.iter().collect();
                    ledger_entry(&mut buf, "record", source, "", line, &fields);
                    l.append(&buf).map(|_| ()).map_err(|e| {
                        ledger_error = Some(e.to_string());
                        e.to_string()
                    })
                };
                let inputs = Inputs {
                    roll: &roll,
                    issued: &issued,
                    returns: &returns,
                    checkins: checkins.as_deref(),
                    max_line: limits.max_line_bytes,
                };
                read_all(&inputs, &layout, if no_ledger { None } else { Some(&mut sink) }, Some(&progress))
                    .context("reading the inputs")?
            };
            if let Some(e) = ledger_error {
                bail!("appending to the ledger {}: {e}", ledger_path.display());
            }
            let st = &ds.stats;
            // Rows read in all: those counted by file, and malformed rows the csv layer
            // rejected before any count (a few malformed rows are counted twice: the
            // share errs low).
            let rows = st.roll_rows + st.issued_rows + st.return_rows + st.checkin_rows + st.malformed;
            if let Err(too_many) =
                scrutineer_core::lines::check_malformed("rows", st.malformed, rows, limits.max_malformed)
            {
                let listed = out.join("malformed.csv");
                output::write_malformed(&listed, &ds.malformed)?;
                // The records read so far are in the ledger: sign them, so that the
                // ledger stays whole for the next run.
                if let Some(mut l) = led.take() {
                    l.sign().with_context(|| format!("signing {}", ledger_path.display()))?;
                    l.close().with_context(|| format!("closing {}", ledger_path.display()))?;
                }
                return Err(anyhow::Error::new(too_many).context(format!(
                    "reading the inputs; the malformed rows are listed in {}",
                    listed.display()
                )));
            }
            let read_secs = started.elapsed().as_secs_f64();
            bar.set_message("reconciling");
            let mut ds = ds;
            let rec = reconcile(&mut ds, deadline_secs);
            let anomalies = scrutineer_ballots::anomaly::detect(
                &ds,
                &rec.env_state,
                &AnomalyOptions { alpha, ..AnomalyOptions::default() },
            );
            bar.set_message("writing outputs");
            output::write_findings(&out.join("findings.csv"), &rec.findings)?;
            output::write_anomalies(&out.join("anomalies.csv"), &anomalies)?;
            output::write_totals(&out.join("totals.csv"), &rec.totals)?;
            output::write_malformed(&out.join("malformed.csv"), &ds.malformed)?;
            let header = format!(
                "Inputs: roll {}, issued {}, returns {}{}; layout {}; deadline {deadline}.",
                roll.display(),
                issued.display(),
                returns.display(),
                checkins.as_ref().map(|c| format!(", check-ins {}", c.display())).unwrap_or_default(),
                layout.name
            );
            output::write_report(
                &out.join("reconciliation.txt"),
                &rec.totals,
                &rec.findings,
                anomalies.len(),
                &ds.stats,
                &header,
            )?;

            // The store: rule findings and anomalies, under one run.
            bar.set_message("storing findings");
            let scope = format!("ballots:{}", issued.display());
            let mut findings: Vec<scrutineer_core::Finding> =
                rec.findings.iter().map(|f| explain::rule_finding(f, &scope)).collect();
            findings.extend(anomalies.iter().map(|a| explain::anomaly_finding(a, &scope)));
            let mut store = ctx.open_store("write", &format!("ballots reconcile {}", issued.display()))?;
            let run_id = store
                .begin_run(Engine::Ballots, &format!("ballots reconcile --issued {}", issued.display()))?;
            store.put_findings(Some(run_id), &findings).context("storing the findings")?;

            // The ledger: every finding, then a signed tree head.
            let mut head = None;
            if let Some(mut l) = led.take() {
                bar.set_message("signing the ledger");
                for f in &rec.findings {
                    let fields: [&[u8]; 4] = [
                        f.kind.as_str().as_bytes(),
                        f.envelope_id.as_bytes(),
                        f.voter_id.as_bytes(),
                        f.detail.as_bytes(),
                    ];
                    ledger_entry(
                        &mut buf,
                        "finding",
                        "findings.csv",
                        &out.join("findings.csv").display().to_string(),
                        0,
                        &fields,
                    );
                    l.append(&buf)?;
                }
                for a in &anomalies {
                    let p = format!("{:e}", a.p_value);
                    let fields: [&[u8]; 4] =
                        [a.kind.as_bytes(), a.scope.as_bytes(), a.key.as_bytes(), p.as_bytes()];
                    ledger_entry(
                        &mut buf,
                        "anomaly",
                        "anomalies.csv",
                        &out.join("anomalies.csv").display().to_string(),
                        0,
                        &fields,
                    );
                    l.append(&buf)?;
                }
                head = Some(l.sign().with_context(|| format!("signing {}", ledger_path.display()))?);
                l.close().with_context(|| format!("closing {}", ledger_path.display()))?;
            }
            // What the HTML report charts: findings by kind, the largest precincts' totals
            // and the overall closing figures.
            let (overall, largest_precincts) = scrutineer_ballots::closing_rows(&rec);
            let summary = scrutineer_ballots::RunSummary {
                stats: (&ds.stats).into(),
                by_kind: scrutineer_ballots::findings_by_kind(&rec),
                overall,
                precincts_total: rec.totals.len(),
                largest_precincts,
                findings: rec.findings.len(),
                anomalies: anomalies.len(),
                envelopes: ds.envelopes_issued(),
                voters: ds.voters_on_roll(),
                ledger: head.as_ref().map(|h| scrutineer_ballots::LedgerHead {
                    path: ledger_path.display().to_string(),
                    first_entry,
                    tree_size: h.tree_size,
                    root_hash: h.root_hash.clone(),
                    fsync: fsync.as_str().to_owned(),
                }),
                seconds: started.elapsed().as_secs_f64(),
                read_seconds: read_secs,
            };
            let summary = scrutineer_core::StoredSummary::new(&summary)?;
            store.finish_run(run_id, &summary)?;
            let summary = summary.body;
            bar.finish_and_clear();
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
                return Ok(());
            }
            println!(
                "{} voters, {} envelopes issued, {} receipts, {} check-ins read in {:.1} s ({} malformed rows: {})",
                ds.voters_on_roll(),
                ds.envelopes_issued(),
                ds.receipts.len(),
                ds.checkins.len(),
                read_secs,
                ds.stats.malformed,
                out.join("malformed.csv").display()
            );
            for k in scrutineer_ballots::RuleKind::ALL {
                let n = rec.findings.iter().filter(|f| f.kind == k).count();
                if n > 0 {
                    println!("  {:<22} {n}", k.as_str());
                }
            }
            println!(
                "{} rule findings, {} statistical anomalies -> {}",
                rec.findings.len(),
                anomalies.len(),
                out.display()
            );
            if let Some(h) = head {
                println!(
                    "ledger {}: entries {}..{}, signed tree head {} (fsync {})",
                    ledger_path.display(),
                    first_entry,
                    h.tree_size,
                    &h.root_hash[..16],
                    fsync.as_str()
                );
            }
            println!("done in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        BallotsCommand::Totals { file, by, layout, out } => {
            let layout = Layout::from_spec(&layout).context("reading the layout")?;
            let columns: Vec<String> = by.iter().map(|b| totals::column_for(&layout, b.trim())).collect();
            let bar = ctx.stage(&format!("counting {}", file.display()));
            let (counts, rows) = totals::count_by(&file, &columns)?;
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
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({"rows": rows, "totals": list}))?
                );
                return Ok(());
            }
            let mut text = String::new();
            text.push_str(&by.join(","));
            text.push_str(",records\n");
            for (k, v) in &counts {
                let cells: Vec<String> =
                    k.iter().map(|c| scrutineer_core::text::csv_field(c).into_owned()).collect();
                text.push_str(&format!("{},{v}\n", cells.join(",")));
            }
            write_or_print(out.as_deref(), &text)?;
            ctx.note(format!("{rows} rows in {} groups", counts.len()));
            Ok(())
        }
    }
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

mod csv_record {
    pub type Record = scrutineer_ballots::read::CsvRecord;
}
