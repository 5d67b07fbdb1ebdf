use clap::Subcommand;

use crate::ui::Context;

#[derive(Debug, Subcommand)]
pub enum InfraCommand {}

pub fn run(_ctx: &Context, cmd: InfraCommand) -> anyhow::Result<()> {
    match cmd {}
}
