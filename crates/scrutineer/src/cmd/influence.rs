use clap::Subcommand;

use crate::ui::Context;

#[derive(Debug, Subcommand)]
pub enum InfluenceCommand {}

pub fn run(_ctx: &Context, cmd: InfluenceCommand) -> anyhow::Result<()> {
    match cmd {}
}
