//! `scrutineer report`: the store's findings and the latest run of each engine as one
//! self-contained HTML file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use scrutineer_report::{ReportInput, StoreContents, read_store, render};
use scrutineer_simulate::score::ExerciseScore;

use crate::ui::{Context, outln};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The HTML file to write.
    #[arg(long)]
    out: PathBuf,
    /// Title at the top of the report.
    #[arg(long, default_value = "Scrutineer report")]
    title: String,
}

pub fn run(ctx: &Context, a: ReportArgs) -> anyhow::Result<()> {
    let n = write(ctx, &a.out, &a.title, None)?;
    if !ctx.quiet {
        outln!("{} ({n} findings)", a.out.display())?;
    }
    Ok(())
}

/// Writes the report after a demo, with the exercise's score from `DIR/summary.json` when
/// it is there.
pub fn write_report(ctx: &Context, out: &Path, demo_dir: Option<&Path>) -> anyhow::Result<usize> {
    write(ctx, out, "Scrutineer: election-season exercise", demo_dir)
}

fn write(ctx: &Context, out: &Path, title: &str, demo_dir: Option<&Path>) -> anyhow::Result<usize> {
    let store = ctx.open_store("report", &out.display().to_string())?;
    let contents = store.snapshot(|s| Ok(read_store(s))).context("reading the store")?;
    let StoreContents { findings, runs } =
        contents.with_context(|| format!("reading {} for the report", ctx.store_path.display()))?;
    let exercise = demo_dir
        .map(|d| d.join("score.json"))
        .filter(|p| p.exists())
        .map(|p| -> anyhow::Result<ExerciseScore> {
            let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            ExerciseScore::from_json(&text).with_context(|| format!("reading {}", p.display()))
        })
        .transpose()?;
    let input = ReportInput {
        title: title.to_owned(),
        generated_at: chrono::Utc::now(),
        store: ctx.store_path.display().to_string(),
        findings,
        runs,
        exercise,
    };
    let html = render(&input);
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(out, html).with_context(|| format!("writing {}", out.display()))?;
    Ok(input.findings.len())
}
