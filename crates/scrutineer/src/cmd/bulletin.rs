//! `scrutineer bulletin`: the public summary of the findings cleared for an audience.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;
use scrutineer_server::{Bulletin, BulletinFormat};

use crate::ui::{Context, outln};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Markdown,
    Html,
}

#[derive(Debug, clap::Args)]
pub struct BulletinArgs {
    /// The audience's TLP 2.0 level: only findings marked at or below it (at triage, or
    /// by their engine's default) are described; `clear` is for the public and the press.
    #[arg(long, default_value = "clear")]
    tlp: String,
    #[arg(long, value_enum, default_value = "markdown")]
    format: FormatArg,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(ctx: &Context, a: BulletinArgs) -> anyhow::Result<()> {
    let tlp = scrutineer_server::parse_tlp(&a.tlp).with_context(|| {
        format!("--tlp must be clear, green, amber, amber+strict or red (got '{}')", a.tlp)
    })?;
    let store = ctx.open_store("bulletin", &format!("tlp {tlp}"))?;
    let bulletin = Bulletin::read(&store, tlp).context("reading the store for the bulletin")?;
    let format = match a.format {
        FormatArg::Markdown => BulletinFormat::Markdown,
        FormatArg::Html => BulletinFormat::Html,
    };
    let text = bulletin.render(format);
    match a.out {
        Some(path) => {
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            ctx.note(format!("wrote the TLP:{} bulletin to {}", tlp.to_ascii_uppercase(), path.display()));
        }
        None => outln!("{text}")?,
    }
    Ok(())
}
