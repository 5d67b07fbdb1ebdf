use clap::Subcommand;

use crate::ui::Context;

#[derive(Debug, Subcommand)]
pub enum BallotsCommand {}

pub fn run(_ctx: &Context, cmd: BallotsCommand) -> anyhow::Result<()> {
    match cmd {}
}
