use clap::Subcommand;

use crate::ui::Context;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {}

pub fn run(_ctx: &Context, cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {}
}
