//! `scrutineer`: the command-line front of the engines. Argument parsing and wiring
//! only; the work happens in the engine crates.

// The doc comments of the argument structs are clap's `--help` text, written for a
// terminal: `[,winners,...]` and `<behaviour>` there are usage notation, not intra-doc
// links or HTML, and escaping them for rustdoc would print the escapes in `--help`.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

mod cmd;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Ingest allocates many small strings per post; mimalloc measurably beats the system
// allocator on it (see scripts/bench-influence.sh). Its 2.x line (the `v2` feature) is
// used: posts are allocated on the mapping threads and freed on the committing one, and
// on that pattern 2.x spent about a tenth less CPU than 3.x on the IRA benchmark input.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Watch elections for interference: coordinated influence operations, attacks on
/// election infrastructure, and manufactured or altered mail ballots.
#[derive(Debug, Parser)]
#[command(name = "scrutineer", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The embedded store (an SQLite file) that findings are written to and read from.
    #[arg(long, global = true, env = "SCRUTINEER_STORE", default_value = "scrutineer.db")]
    pub store: PathBuf,
    /// Print no progress bars or notes; only results and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print results as JSON instead of tables, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// Who is running the command, for the store's access log (defaults to $USER).
    #[arg(long, global = true, env = "SCRUTINEER_ACTOR")]
    pub actor: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an election-season exercise: simulate a state's season, run every engine on it,
    /// score what was found against the ground truth, and write the HTML report.
    Demo(cmd::demo::DemoArgs),
    /// Write a self-contained HTML report of the findings in the store.
    Report(cmd::report::ReportArgs),
    /// Serve the HTTP API and a live dashboard over the store (token access, every request logged).
    Serve(cmd::serve::ServeArgs),
    /// Manage the tokens that may use `serve`.
    #[command(subcommand)]
    Tokens(cmd::serve::TokensCommand),
    /// Manage the users who sign in to `serve` (Argon2id password hashes, roles).
    #[command(subcommand)]
    Users(cmd::users::UsersCommand),
    /// Write the public bulletin: the findings cleared for an audience (TLP), in words.
    Bulletin(cmd::bulletin::BulletinArgs),
    /// Information operations: find coordinated networks of accounts in social-media data.
    #[command(subcommand)]
    Influence(cmd::influence::InfluenceCommand),
    /// Election infrastructure: detect attacks in web, IDS and auth logs, link campaigns, measure the trend.
    #[command(subcommand)]
    Infra(cmd::infra::InfraCommand),
    /// Mail ballots: reconcile returned envelopes against issued ballots, the roll and check-ins.
    #[command(subcommand)]
    Ballots(cmd::ballots::BallotsCommand),
    /// The tamper-evident ledger: verify it, prove inclusion and consistency.
    #[command(subcommand)]
    Ledger(cmd::ledger::LedgerCommand),
    /// Risk-limiting audits: sample sizes, the ballots to pull, the measured risk.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Generate seeded scenarios with ground truth.
    #[command(subcommand)]
    Simulate(cmd::simulate::SimulateCommand),
    /// Hack-and-leak dumps: DKIM verdicts against a key archive, dating evidence, forged variants.
    #[command(subcommand)]
    Mail(cmd::mail::MailCommand),
    /// Read the findings in the store.
    #[command(subcommand)]
    Findings(cmd::findings::FindingsCommand),
    /// Office computers: hunt for intrusions in Windows event logs with Sigma rules and built-in detections.
    #[command(subcommand)]
    Hunt(cmd::hunt::HuntCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = ui::Context::new(&cli);
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(&ctx, a),
        Command::Report(a) => cmd::report::run(&ctx, a),
        Command::Serve(a) => cmd::serve::run(&ctx, a),
        Command::Tokens(c) => cmd::serve::tokens(&ctx, c),
        Command::Users(c) => cmd::users::run(&ctx, c),
        Command::Bulletin(a) => cmd::bulletin::run(&ctx, a),
        Command::Influence(c) => cmd::influence::run(&ctx, c),
        Command::Infra(c) => cmd::infra::run(&ctx, c),
        Command::Ballots(c) => cmd::ballots::run(&ctx, c),
        Command::Ledger(c) => cmd::ledger::run(&ctx, c),
        Command::Audit(c) => cmd::audit::run(&ctx, c),
        Command::Simulate(c) => cmd::simulate::run(&ctx, c),
        Command::Findings(c) => cmd::findings::run(&ctx, c),
        Command::Hunt(c) => cmd::hunt::run(&ctx, c),
        Command::Mail(c) => cmd::mail::run(&ctx, c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `scrutineer findings list | head` closes stdout early: the reader has had
        // enough, which is no error worth a message.
        Err(err) if ui::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Errors quote inputs (file names, bad values): show control characters escaped.
            eprintln!("error: {}", ui::terminal_multiline(&err.to_string()));
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {}", ui::terminal_multiline(&cause.to_string()));
            }
            ExitCode::FAILURE
        }
    }
}
