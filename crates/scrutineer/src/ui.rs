//! What every command shares: the store path, output mode, progress bars and the
//! access log.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use scrutineer_store::Store;

use crate::Cli;
pub use scrutineer_core::text::{terminal, terminal_multiline};

/// `println!` that returns the write's error instead of panicking, so that a closed pipe
/// (`scrutineer findings list | head`) reaches `main` as an [`std::io::Error`] of kind
/// `BrokenPipe`, which ends the command quietly.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use outln;

/// Whether `err` is, or was caused by, writing to a reader that has gone (a closed
/// pipe): for a command-line tool that means "the reader has had enough", not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

pub struct Context {
    pub store_path: PathBuf,
    pub quiet: bool,
    pub json: bool,
    pub actor: String,
}

impl Context {
    pub fn new(cli: &Cli) -> Context {
        let actor = cli
            .actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_else(|| "unknown".to_owned());
        Context { store_path: cli.store.clone(), quiet: cli.quiet, json: cli.json, actor }
    }

    /// Opens the store and records in its access log that `action` touched `target`.
    pub fn open_store(&self, action: &str, target: &str) -> anyhow::Result<Store> {
        let store = Store::open(&self.store_path)
            .with_context(|| format!("opening the store {}", self.store_path.display()))?;
        store
            .log_access(&self.actor, action, target)
            .with_context(|| format!("writing the access log of {}", self.store_path.display()))?;
        Ok(store)
    }

    /// A byte-count progress bar for reading `path`, hidden when quiet or not on a terminal.
    pub fn file_progress(&self, path: &Path) -> ProgressBar {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let bar = ProgressBar::with_draw_target(Some(len), self.draw_target());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner:.green} {msg:30!} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        bar
    }

    /// A spinner for a stage whose length is unknown.
    pub fn stage(&self, message: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.draw_target());
        bar.set_style(
            ProgressStyle::with_template("{spinner:.green} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    fn draw_target(&self) -> ProgressDrawTarget {
        if self.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        }
    }

    /// A note for a person, on stderr so that stdout stays machine-readable. Notes quote
    /// file names and input values, so control characters are shown escaped.
    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", terminal_multiline(message.as_ref()));
        }
    }
}

/// The bounds every reader of a command applies to its input.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ReadLimits {
    /// Longest line read, in bytes (K, M, G suffixes): a longer line is one malformed
    /// record, reported with its line number and first bytes, and is never held whole.
    #[arg(long, default_value = "16M", value_parser = scrutineer_core::lines::parse_bytes)]
    pub max_line_bytes: usize,
    /// Fail when more than this share of the records is malformed (0 to 1, or a
    /// percentage such as 5%); the outputs listing them are still written.
    #[arg(long, default_value_t = scrutineer_core::lines::DEFAULT_MAX_MALFORMED, value_parser = scrutineer_core::lines::parse_share)]
    pub max_malformed: f64,
}

/// Prints rows as an aligned plain-text table; control characters in cells are shown
/// escaped ([`terminal`]). A failed write ends the process: exit status 0 for a closed
/// pipe, 1 otherwise. Commands that write more afterwards use [`write_table`].
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    if let Err(e) = write_table(headers, rows) {
        // Callers print a table as their last output; a reader that closed the pipe has
        // what it wanted, and the table cannot be shown anywhere else.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// Writes rows as an aligned plain-text table to standard output, as [`print_table`]
/// does, and returns the write's error (a closed pipe is `BrokenPipe`, which `main`
/// ends quietly).
pub fn write_table(headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> =
        rows.iter().map(|r| r.iter().map(|c| terminal(c).into_owned()).collect()).collect();
    let rows = &rows;
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let mut line = |cells: Vec<&str>| -> std::io::Result<()> {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:<width$}", c, width = widths.get(i).copied().unwrap_or(0)))
            .collect();
        writeln!(out, "{}", parts.join("  ").trim_end())
    };
    line(headers.to_vec())?;
    line(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect())?;
    rows.iter().try_for_each(|row| line(row.iter().map(String::as_str).collect()))
}

/// Shortens text for a table cell.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Writes `value` as pretty JSON to `path`, naming the file in every error (the final
/// flush included, which a dropped `BufWriter` would swallow).
pub fn write_json<T: serde::Serialize>(path: &std::path::Path, value: &T) -> anyhow::Result<()> {
    use std::io::Write as _;
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    serde_json::to_writer_pretty(&mut w, value).with_context(|| format!("writing {}", path.display()))?;
    w.flush().with_context(|| format!("writing {}", path.display()))
}
