use clap::Subcommand;

use crate::ui::Context;

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {}

pub fn run(_ctx: &Context, cmd: SimulateCommand) -> anyhow::Result<()> {
    match cmd {}
}
