use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use scrutineer_ledger::{Durability, KeyOrigin, Ledger, commit_and_sign, sth};

use crate::ui::Context;

#[derive(Debug, clap::Args)]
pub struct LedgerArg {
    /// The ledger file (default: next to the store, with extension `.ledger`).
    #[arg(long)]
    pub ledger: Option<PathBuf>,
}

impl LedgerArg {
    pub fn path(&self, ctx: &Context) -> PathBuf {
        default_ledger(ctx, self.ledger.as_deref())
    }
}

pub fn default_ledger(ctx: &Context, given: Option<&Path>) -> PathBuf {
    given.map(Path::to_path_buf).unwrap_or_else(|| ctx.store_path.with_extension("ledger"))
}

/// Loads or creates the signing key, telling the user when one is made.
pub fn signing_key(
    ctx: &Context,
    ledger: &Path,
    key: Option<&Path>,
) -> anyhow::Result<scrutineer_ledger::SigningKey> {
    let key_path = key.map(Path::to_path_buf).unwrap_or_else(|| sth::default_key_path(ledger));
    let (k, origin) = sth::load_or_create_key(&key_path, ledger)
        .with_context(|| format!("loading the ledger signing key {}", key_path.display()))?;
    if origin == KeyOrigin::Generated {
        ctx.note(format!(
            "generated a new ed25519 signing key in {} (mode 0600: keep it secret); its public key is in {}",
            key_path.display(),
            sth::public_key_path(ledger).display()
        ));
    }
    Ok(k)
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute every entry, checksum, Merkle root and signed tree head; name the first
    /// altered, missing or reordered entry. Exits non-zero on any problem.
    Verify {
        #[command(flatten)]
        ledger: LedgerArg,
        /// The public key to check signatures against (hex, or a file holding it); default `<ledger>.pub`.
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Append each line of a file (or stdin with `-`) as one entry. Prints `ack N` for
    /// every entry once it is durable.
    Append {
        #[command(flatten)]
        ledger: LedgerArg,
        /// When entries reach the disk: always (fsync each), commit (fsync per batch), never.
        #[arg(long, default_value = "commit")]
        fsync: Durability,
        /// Entries per commit.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// The signing key file (default `<ledger>.key`, created on first use).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Input file, or `-` for stdin.
        input: PathBuf,
    },
    /// The latest signed tree head.
    Head {
        #[command(flatten)]
        ledger: LedgerArg,
    },
    /// Print entries `from..to` (index, leaf hash, data).
    Entries {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long, default_value_t = 0)]
        from: u64,
        #[arg(long, default_value_t = u64::MAX)]
        to: u64,
    },
    /// Inclusion proof of one entry (RFC 9162 audit path), as JSON.
    Prove {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long)]
        index: u64,
        /// Against the tree of this many entries (default: all).
        #[arg(long)]
        tree_size: Option<u64>,
    },
    /// Consistency proof between two tree sizes, as JSON.
    Consistency {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long)]
        old: u64,
        #[arg(long)]
        new: Option<u64>,
    },
    /// Measure appends per second at a durability setting (writes a scratch ledger).
    Bench {
        /// Scratch ledger path (removed afterwards).
        #[arg(long)]
        ledger: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        #[arg(long, default_value = "commit")]
        fsync: Durability,
        #[arg(long, default_value_t = 1000)]
        batch: u64,
        /// Bytes per entry.
        #[arg(long, default_value_t = 120)]
        size: usize,
    },
}

fn hexs(v: &[[u8; 32]]) -> Vec<String> {
    v.iter().map(hex::encode).collect()
}

mod hex {
    pub fn encode(b: impl AsRef<[u8]>) -> String {
        b.as_ref().iter().map(|x| format!("{x:02x}")).collect()
    }
}

pub fn run(ctx: &Context, cmd: LedgerCommand) -> anyhow::Result<()> {
    match cmd {
        LedgerCommand::Verify { ledger, public_key } => {
            let path = ledger.path(ctx);
            let key_src = public_key.unwrap_or_else(|| sth::public_key_path(&path));
            let key = sth::read_public_key(&key_src)
                .with_context(|| format!("reading the public key {}", key_src.display()))?;
            let bar = ctx.stage(&format!("verifying {}", path.display()));
            let r = scrutineer_ledger::verify(&path, Some(&key))
                .with_context(|| format!("verifying {}", path.display()))?;
            bar.finish_and_clear();
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "entries": r.entries, "root": hex::encode(r.root), "tree_heads_checked": r.tree_heads_checked,
                        "unsigned_tail": r.unsigned_tail, "torn_tail_bytes": r.torn_tail_bytes,
                        "ok": r.problem.is_none(), "problem": r.problem.as_ref().map(ToString::to_string),
                        "first_bad_index": r.problem.as_ref().map(|p| p.first_index()),
                    })
                );
            } else {
                println!("{} entries, root {}", r.entries, hex::encode(r.root));
                println!("{} signed tree heads verified", r.tree_heads_checked);
                if r.unsigned_tail > 0 {
                    println!("{} entries after the last signed tree head (not yet signed)", r.unsigned_tail);
                }
                if r.torn_tail_bytes > 0 {
                    println!(
                        "{} bytes of an incomplete final entry (an append cut short; never acknowledged)",
                        r.torn_tail_bytes
                    );
                }
            }
            match r.problem {
                Some(p) => bail!("ledger {} failed verification: {p}", path.display()),
                None => {
                    if !ctx.json {
                        println!("OK");
                    }
                    Ok(())
                }
            }
        }
        LedgerCommand::Append { ledger, fsync, batch, key, input } => {
            let path = ledger.path(ctx);
            let k = signing_key(ctx, &path, key.as_deref())?;
            let mut l = Ledger::open(&path, fsync).with_context(|| format!("opening {}", path.display()))?;
            if l.recovery().torn_bytes > 0 {
                ctx.note(format!("set aside {} bytes of a torn final entry", l.recovery().torn_bytes));
            }
            let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                Box::new(std::io::BufReader::new(
                    std::fs::File::open(&input).with_context(|| format!("opening {}", input.display()))?,
                ))
            };
            let out = std::io::stdout();
            let mut pending = Vec::new();
            for line in reader.lines() {
                let line = line.with_context(|| format!("reading {}", input.display()))?;
                pending.push(l.append(line.as_bytes())?);
                if pending.len() >= batch.max(1) || fsync == Durability::Always {
                    l.commit()?;
                    let mut o = out.lock();
                    for i in pending.drain(..) {
                        writeln!(o, "ack {i}")?;
                    }
                    o.flush()?;
                }
            }
            let sthd = commit_and_sign(&mut l, &k)?;
            let mut o = out.lock();
            for i in pending.drain(..) {
                writeln!(o, "ack {i}")?;
            }
            writeln!(o, "tree size {} root {}", sthd.tree_size, sthd.root_hash)?;
            Ok(())
        }
        LedgerCommand::Head { ledger } => {
            let path = ledger.path(ctx);
            let heads = sth::read_sths(&path)?;
            let Some(h) = heads.last() else { bail!("{} has no signed tree head yet", path.display()) };
            println!("{}", serde_json::to_string_pretty(h)?);
            Ok(())
        }
        LedgerCommand::Entries { ledger, from, to } => {
            let path = ledger.path(ctx);
            let entries = scrutineer_ledger::read_entries(&path, from, to)?;
            let out = std::io::stdout();
            let mut o = out.lock();
            for e in entries {
                writeln!(
                    o,
                    "{}\t{}\t{}",
                    e.index,
                    hex::encode(scrutineer_ledger::leaf_hash(&e.data)),
                    String::from_utf8_lossy(&e.data).replace('\x1f', ",")
                )?;
            }
            Ok(())
        }
        LedgerCommand::Prove { ledger, index, tree_size } => {
            let path = ledger.path(ctx);
            let p = scrutineer_ledger::prove_inclusion(&path, index, tree_size)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "index": p.index, "tree_size": p.tree_size, "leaf_hash": hex::encode(p.leaf_hash),
                    "root_hash": hex::encode(p.root), "audit_path": hexs(&p.path),
                }))?
            );
            Ok(())
        }
        LedgerCommand::Consistency { ledger, old, new } => {
            let path = ledger.path(ctx);
            let p = scrutineer_ledger::prove_consistency(&path, old, new)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "old_size": p.old_size, "new_size": p.new_size, "old_root": hex::encode(p.old_root),
                    "new_root": hex::encode(p.new_root), "proof": hexs(&p.path),
                }))?
            );
            Ok(())
        }
        LedgerCommand::Bench { ledger, entries, fsync, batch, size } => {
            if ledger.exists() {
                bail!("{} exists; the benchmark needs a scratch path", ledger.display());
            }
            let mut l = Ledger::open(&ledger, fsync)?;
            let mut data = vec![b'x'; size];
            let started = std::time::Instant::now();
            for i in 0..entries {
                data[..8].copy_from_slice(&i.to_le_bytes());
                l.append(&data)?;
                if (i + 1) % batch.max(1) == 0 && fsync == Durability::Commit {
                    l.commit()?;
                }
            }
            l.commit()?;
            let secs = started.elapsed().as_secs_f64();
            drop(l);
            for ext in ["", ".ckpt"] {
                let mut p = ledger.clone().into_os_string();
                p.push(ext);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            println!(
                "ledger appends: {entries} entries of {size} bytes, fsync={} (batch {batch}): {:.2} s, {:.0} appends/s",
                fsync.as_str(),
                secs,
                entries as f64 / secs.max(1e-9)
            );
            Ok(())
        }
    }
}
