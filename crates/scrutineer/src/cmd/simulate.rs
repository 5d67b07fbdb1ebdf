use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use scrutineer_simulate::ballots::{BallotScenario, OutputLayout, generate};

use crate::ui::Context;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SimLayout {
    Generic,
    Nc,
}

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// A mail-ballot scenario: roll, issued, returns, check-ins, and the ground truth of
    /// every injected irregularity (truth.csv) and legitimate look-alike (lookalikes.csv).
    Ballots {
        /// Seed: the same seed and flags always write the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Registered voters on the roll.
        #[arg(long, default_value_t = 100_000)]
        voters: u64,
        /// `generic` (roll/issued/returns/checkins.csv) or `nc` (ncvoter.txt and absentee.csv
        /// in the NC State Board of Elections layouts; no injected items).
        #[arg(long, value_enum, default_value = "generic")]
        layout: SimLayout,
        /// Share of active voters mailed a ballot (default 0.9 generic, all-mail like
        /// California; 0.2 for nc, like North Carolina 2020).
        #[arg(long)]
        mail_share: Option<f64>,
        /// Share of active voters without a mail ballot who vote in person (nc: 0.49, NC 2020 one-stop).
        #[arg(long)]
        in_person_share: Option<f64>,
        /// Injected items per rule kind (generic layout).
        #[arg(long, default_value_t = 10)]
        inject: u64,
        /// Extra legitimate look-alikes per kind (generic layout).
        #[arg(long, default_value_t = 10)]
        lookalikes: u64,
        /// Directory to write into (created if needed).
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(ctx: &Context, cmd: SimulateCommand) -> anyhow::Result<()> {
    match cmd {
        SimulateCommand::Ballots {
            seed,
            voters,
            layout,
            mail_share,
            in_person_share,
            inject,
            lookalikes,
            out,
        } => {
            let layout = match layout {
                SimLayout::Generic => OutputLayout::Generic,
                SimLayout::Nc => OutputLayout::Nc,
            };
            let nc = layout == OutputLayout::Nc;
            let s = BallotScenario {
                seed,
                voters,
                layout,
                mail_share: mail_share.unwrap_or(if nc { 0.2 } else { 0.9 }),
                in_person_share: in_person_share.unwrap_or(if nc { 0.49 } else { 0.5 }),
                inject: if nc { 0 } else { inject },
                lookalikes: if nc { 0 } else { lookalikes },
            };
            let bar = ctx.stage(&format!("generating {voters} voters"));
            let started = std::time::Instant::now();
            let written =
                generate(&s, &out, &|n| bar.set_message(format!("generated {n} of {voters} voters")))
                    .with_context(|| format!("writing the scenario into {}", out.display()))?;
            bar.finish_and_clear();
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&written)?);
            } else {
                println!(
                    "{} voters, {} envelopes, {} receipts, {} check-ins, {} injected items in {:.1} s",
                    written.voters,
                    written.envelopes,
                    written.receipts,
                    written.checkins,
                    written.injected,
                    started.elapsed().as_secs_f64()
                );
                println!("deadline {} (election day {})", written.deadline, written.election_day);
                for f in &written.files {
                    println!("  {}", f.display());
                }
            }
            Ok(())
        }
    }
}
