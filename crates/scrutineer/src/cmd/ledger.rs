use clap::Subcommand;

use crate::ui::Context;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {}

pub fn run(_ctx: &Context, cmd: LedgerCommand) -> anyhow::Result<()> {
    match cmd {}
}
