use crate::ui::outln;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use scrutineer_ledger::{
    BenchOptions, Durability, KeyOrigin, KeyPlacement, Ledger, LockWait, Signer, VerifyOptions, VerifyReport,
    Witness, WriterOptions, public_key_path, read_head_file, read_public_key, read_sths,
};

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

/// The ledger options of an engine command that appends its records to the ledger
/// (`ballots reconcile`, `mail verify`).
#[derive(Debug, clap::Args)]
pub struct AppendLedgerArgs {
    /// The tamper-evident ledger this command's records are appended to (default: next
    /// to the store).
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// The ledger's signing key (created with mode 0600 on first use). Default: under the
    /// user's configuration folder (`$XDG_CONFIG_HOME/scrutineer/ledger-keys/`, else
    /// `~/.config/scrutineer/ledger-keys/`), one per ledger; never in the ledger's folder.
    #[arg(long, env = scrutineer_ledger::KEY_ENV, value_name = "PATH")]
    pub ledger_key: Option<PathBuf>,
    /// Accept a ledger signing key inside the ledger's folder (throw-away ledgers only).
    #[arg(long)]
    pub allow_key_beside_ledger: bool,
    /// Fail at once if another process is writing the ledger, instead of waiting for it.
    #[arg(long)]
    pub no_wait: bool,
    /// Ledger durability: commit (fsync once the run's entries are written; the default),
    /// always (fsync every entry; slow) or never (benchmarks only).
    #[arg(long, default_value = "commit")]
    pub fsync: Durability,
    /// Do not append to the ledger (dry runs, timing the engine alone).
    #[arg(long)]
    pub no_ledger: bool,
}

impl AppendLedgerArgs {
    /// The ledger's path, given or next to the store.
    pub fn path(&self, ctx: &Context) -> PathBuf {
        default_ledger(ctx, self.ledger.as_deref())
    }

    /// The ledger opened for appending with its signing key, and its path; `None` with
    /// `--no-ledger`.
    pub fn open(&self, ctx: &Context) -> anyhow::Result<Option<(Ledger, PathBuf)>> {
        if self.no_ledger {
            return Ok(None);
        }
        let path = self.path(ctx);
        let key = KeyArgs {
            key: self.ledger_key.clone(),
            allow_key_beside_ledger: self.allow_key_beside_ledger,
            no_wait: self.no_wait,
        };
        let signer = signer(ctx, &path, &key)?;
        Ok(Some((open_for_append(ctx, &path, signer, self.fsync, &key)?, path)))
    }
}

/// Where the signing key comes from, for every command that writes a ledger.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// The ed25519 signing key (created with mode 0600 on first use). Default: under the
    /// user's configuration folder, `$XDG_CONFIG_HOME/scrutineer/ledger-keys/` (else
    /// `~/.config/scrutineer/ledger-keys/`), one per ledger. It must not be in the ledger's folder.
    #[arg(long = "key", env = scrutineer_ledger::KEY_ENV, value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Accept a signing key inside the ledger's folder (throw-away ledgers only: whoever can
    /// write the ledger could then re-sign it).
    #[arg(long)]
    pub allow_key_beside_ledger: bool,
    /// Fail at once if another process is writing the ledger, instead of waiting for it.
    #[arg(long)]
    pub no_wait: bool,
}

/// Loads or creates the signing key, telling the user when one is made.
pub fn signer(ctx: &Context, ledger: &Path, key: &KeyArgs) -> anyhow::Result<Signer> {
    let placement = if key.allow_key_beside_ledger {
        KeyPlacement::AllowBesideLedger
    } else {
        KeyPlacement::OutsideLedgerFolder
    };
    let s = Signer::load_or_create(key.key.as_deref(), ledger, placement)
        .with_context(|| format!("loading the signing key of the ledger {}", ledger.display()))?;
    if s.origin() == KeyOrigin::Generated {
        ctx.note(format!(
            "generated a new ed25519 signing key in {} (mode 0600: keep it secret and back it up); its public key is in {}",
            s.key_path().display(),
            public_key_path(ledger).display()
        ));
    }
    Ok(s)
}

/// Opens `ledger` for appending with `signer`, reporting what recovery did.
pub fn open_for_append(
    ctx: &Context,
    ledger: &Path,
    signer: Signer,
    durability: Durability,
    key: &KeyArgs,
) -> anyhow::Result<Ledger> {
    let on_wait =
        |p: &Path| ctx.note(format!("another process is writing {}; waiting for it to finish", p.display()));
    let opts = WriterOptions {
        durability,
        lock: if key.no_wait { LockWait::Fail } else { LockWait::Wait },
        on_wait: Some(&on_wait),
    };
    let l = Ledger::open(ledger, signer, &opts)
        .with_context(|| format!("opening the ledger {}", ledger.display()))?;
    let r = l.recovery();
    if let Some(n) = r.adopted_head {
        ctx.note(format!(
            "the signing key had no record of {}; continuing from its signed tree head at size {n}",
            ledger.display()
        ));
    }
    if let Some(n) = r.republished {
        ctx.note(format!("published the tree head at size {n}, signed just before an interrupted run"));
    }
    if r.torn_bytes > 0 || r.unacknowledged_entries > 0 {
        ctx.note(format!(
            "set aside {} unacknowledged entries and {} bytes of a torn final entry left by an interrupted run, into {}",
            r.unacknowledged_entries,
            r.torn_bytes,
            r.torn_saved_to.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
        ));
    }
    Ok(l)
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute every entry, checksum, Merkle root and signed tree head, and check the
    /// ledger extends every witnessed head; name the first altered, missing, reordered or
    /// unsigned entry. Exits non-zero on any problem.
    Verify {
        #[command(flatten)]
        ledger: LedgerArg,
        /// The public key to check signatures against (hex, or a file holding it); default
        /// `<ledger>.pub`, which whoever can write the ledger can replace: pin a copy.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// Accept entries after the last signed tree head and a torn final entry (what a
        /// crash leaves), reporting them, instead of failing.
        #[arg(long)]
        allow_unsigned_tail: bool,
        /// A tree head seen earlier (from `ledger head --json`); the ledger must extend it
        /// (checked with a consistency proof). Repeatable.
        #[arg(long, value_name = "STH.json", num_args = 1..)]
        witness: Vec<PathBuf>,
    },
    /// Append each line of a file (or stdin with `-`) as one entry. Prints `ack N` for
    /// every entry once a signed tree head covers it.
    Append {
        #[command(flatten)]
        ledger: LedgerArg,
        /// When entries reach the disk: always (fsync each), commit (fsync per batch), never.
        #[arg(long, default_value = "commit")]
        fsync: Durability,
        /// Entries per signed tree head.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        #[command(flatten)]
        key: KeyArgs,
        /// Input file, or `-` for stdin.
        input: PathBuf,
    },
    /// The latest signed tree head (JSON; what an office publishes or sends to partners,
    /// for `verify --witness`).
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
        LedgerCommand::Verify { ledger, public_key, allow_unsigned_tail, witness } => {
            verify_cmd(ctx, &ledger.path(ctx), public_key, allow_unsigned_tail, &witness)
        }
        LedgerCommand::Append { ledger, fsync, batch, key, input } => {
            append_cmd(ctx, &ledger.path(ctx), fsync, batch, &key, &input)
        }
        LedgerCommand::Head { ledger } => head_cmd(ctx, &ledger.path(ctx)),
        LedgerCommand::Entries { ledger, from, to } => entries_cmd(&ledger.path(ctx), from, to),
        LedgerCommand::Prove { ledger, index, tree_size } => {
            let p = scrutineer_ledger::prove_inclusion(&ledger.path(ctx), index, tree_size)?;
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "index": p.index, "tree_size": p.tree_size, "leaf_hash": hex::encode(p.leaf_hash),
                    "root_hash": hex::encode(p.root), "audit_path": hexs(&p.path),
                }))?
            )?;
            Ok(())
        }
        LedgerCommand::Consistency { ledger, old, new } => {
            let p = scrutineer_ledger::prove_consistency(&ledger.path(ctx), old, new)?;
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "old_size": p.old_size, "new_size": p.new_size, "old_root": hex::encode(p.old_root),
                    "new_root": hex::encode(p.new_root), "proof": hexs(&p.path),
                }))?
            )?;
            Ok(())
        }
        LedgerCommand::Bench { ledger, entries, fsync, batch, size } => {
            let opts = BenchOptions { entries, durability: fsync, batch, entry_bytes: size };
            let r = scrutineer_ledger::bench(&ledger, &opts)?;
            outln!(
                "ledger appends: {entries} entries of {size} bytes, fsync={} (a signed head every {}): {:.2} s, {:.0} appends/s",
                fsync.as_str(),
                r.per_head,
                r.seconds,
                r.appends_per_second()
            )?;
            Ok(())
        }
    }
}

fn verify_cmd(
    ctx: &Context,
    path: &Path,
    public_key: Option<PathBuf>,
    allow_unsigned_tail: bool,
    witness: &[PathBuf],
) -> anyhow::Result<()> {
    let pinned = public_key.is_some();
    let key_src = public_key.unwrap_or_else(|| public_key_path(path));
    let key =
        read_public_key(&key_src).with_context(|| format!("reading the public key {}", key_src.display()))?;
    if !pinned {
        ctx.note(format!(
            "checking signatures against {}, beside the ledger; pin a copy kept elsewhere with --public-key",
            key_src.display()
        ));
    }
    let mut witnesses = Vec::with_capacity(witness.len());
    for w in witness {
        let head = read_head_file(w).with_context(|| format!("reading the witness {}", w.display()))?;
        witnesses.push(Witness { source: w.display().to_string(), head });
    }
    let bar = ctx.stage(&format!("verifying {}", path.display()));
    let opts = VerifyOptions { allow_unsigned_tail, witnesses };
    let r = scrutineer_ledger::verify(path, Some(&key), &opts)
        .with_context(|| format!("verifying {}", path.display()))?;
    bar.finish_and_clear();
    if ctx.json {
        outln!("{}", verify_json(&r, allow_unsigned_tail, &key_src, pinned))?;
    } else {
        print_verify(&r, allow_unsigned_tail)?;
    }
    match r.problem {
        Some(p) => bail!("ledger {} failed verification: {p}", path.display()),
        None => {
            if !ctx.json {
                outln!("OK")?;
            }
            Ok(())
        }
    }
}

fn verify_json(
    r: &VerifyReport,
    allow_unsigned_tail: bool,
    key_src: &Path,
    pinned: bool,
) -> serde_json::Value {
    let witnesses: Vec<serde_json::Value> = r
        .witnesses
        .iter()
        .map(|w| {
            serde_json::json!({
                "source": w.source, "tree_size": w.tree_size, "root_hash": w.root_hash,
                "consistent": w.consistent, "proof": hexs(&w.proof), "problem": w.reason,
            })
        })
        .collect();
    serde_json::json!({
        "entries": r.entries, "root": hex::encode(r.root), "tree_heads_checked": r.tree_heads_checked,
        "signed_size": r.signed_size, "unsigned_tail": r.unsigned_tail,
        "torn_tail_bytes": r.torn_tail_bytes, "allow_unsigned_tail": allow_unsigned_tail,
        "public_key": key_src.display().to_string(), "public_key_pinned": pinned,
        "witnesses": witnesses,
        "ok": r.problem.is_none(), "problem": r.problem.as_ref().map(ToString::to_string),
        "first_bad_index": r.problem.as_ref().and_then(|p| p.first_index()),
        "suspects": r.problem.as_ref().and_then(|p| p.suspects()).map(|(a, b)| [a, b]),
    })
}

fn print_verify(r: &VerifyReport, allow_unsigned_tail: bool) -> std::io::Result<()> {
    outln!("{} entries, root {}", r.entries, hex::encode(r.root))?;
    outln!("{} signed tree heads verified (covering {} entries)", r.tree_heads_checked, r.signed_size)?;
    for w in &r.witnesses {
        match &w.reason {
            None => outln!(
                "witness {}: size {} is consistent with today's ledger (proof of {} hashes)",
                w.source,
                w.tree_size,
                w.proof.len()
            )?,
            Some(why) => outln!("witness {}: size {}: {why}", w.source, w.tree_size)?,
        }
    }
    if r.unsigned_tail > 0 && allow_unsigned_tail {
        outln!(
            "{} entries after the last signed tree head (accepted with --allow-unsigned-tail: never acknowledged)",
            r.unsigned_tail
        )?;
    }
    if r.torn_tail_bytes > 0 && allow_unsigned_tail {
        outln!(
            "{} bytes of an incomplete final entry (accepted with --allow-unsigned-tail: an append cut short, never acknowledged)",
            r.torn_tail_bytes
        )?;
    }
    Ok(())
}

fn append_cmd(
    ctx: &Context,
    path: &Path,
    fsync: Durability,
    batch: usize,
    key: &KeyArgs,
    input: &Path,
) -> anyhow::Result<()> {
    let signer = signer(ctx, path, key)?;
    let mut l = open_for_append(ctx, path, signer, fsync, key)?;
    // Standard input is a live stream whose producer waits for each `ack`: it is read as
    // it comes, never held back to sniff a compression. A file may be gzip or zstd.
    let reader: Box<dyn BufRead> = if scrutineer_core::input::is_stdin(input) {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(scrutineer_core::input::open(input)?)
    };
    let out = std::io::stdout();
    let mut pending = Vec::new();
    let per_head = if fsync == Durability::Always { 1 } else { batch.max(1) };
    for line in reader.lines() {
        let line = line.with_context(|| format!("reading {}", input.display()))?;
        pending.push(l.append(line.as_bytes())?);
        if pending.len() >= per_head {
            l.sign().with_context(|| format!("signing {}", path.display()))?;
            let mut o = out.lock();
            for i in pending.drain(..) {
                writeln!(o, "ack {i}")?;
            }
            o.flush()?;
        }
    }
    let head = l.sign().with_context(|| format!("signing {}", path.display()))?;
    l.close()?;
    let mut o = out.lock();
    for i in pending.drain(..) {
        writeln!(o, "ack {i}")?;
    }
    writeln!(o, "tree size {} root {}", head.tree_size, head.root_hash)?;
    Ok(())
}

fn head_cmd(ctx: &Context, path: &Path) -> anyhow::Result<()> {
    let heads = read_sths(path)?;
    let Some(h) = heads.last() else { bail!("{} has no signed tree head yet", path.display()) };
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(h)?)?;
    } else {
        outln!(
            "tree size {} root {} at {} ms, signed by {}",
            h.tree_size,
            h.root_hash,
            h.timestamp_ms,
            h.public_key
        )?;
    }
    Ok(())
}

fn entries_cmd(path: &Path, from: u64, to: u64) -> anyhow::Result<()> {
    let entries = scrutineer_ledger::read_entries(path, from, to)?;
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
