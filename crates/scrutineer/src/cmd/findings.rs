use anyhow::{Context as _, bail};
use clap::Subcommand;
use scrutineer_core::{Engine, Severity};
use scrutineer_store::FindingFilter;

use crate::ui::{Context, outln, print_table, terminal, terminal_multiline, truncate, write_json};

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List findings, most severe first.
    List {
        /// Only this engine's findings (influence, infra, ballots, audit, hunt, mail).
        #[arg(long)]
        engine: Option<Engine>,
        /// Only findings of this kind (e.g. coordinated_network).
        #[arg(long)]
        kind: Option<String>,
        /// Only findings at least this severe (info, low, medium, high, critical).
        #[arg(long)]
        min_severity: Option<Severity>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show one finding in full: evidence, techniques, time span.
    Show {
        /// The finding's id, or a unique prefix of it.
        id: String,
    },
}

pub fn run(ctx: &Context, cmd: FindingsCommand) -> anyhow::Result<()> {
    match cmd {
        FindingsCommand::List { engine, kind, min_severity, limit } => list(
            ctx,
            FindingFilter { engine, kind, min_severity, limit: Some(limit), ..FindingFilter::default() },
        ),
        FindingsCommand::Show { id } => show(ctx, &id),
    }
}

/// `findings list`: the findings `filter` selects, as a table or JSON.
fn list(ctx: &Context, filter: FindingFilter) -> anyhow::Result<()> {
    let store = ctx.open_store("read", "findings")?;
    let findings = store.findings(&filter).context("listing findings")?;
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&findings)?)?;
        return Ok(());
    }
    if findings.is_empty() {
        ctx.note(format!("no findings in {}", ctx.store_path.display()));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = findings
        .iter()
        .map(|f| {
            vec![
                f.id.0.clone(),
                f.severity.to_string(),
                format!("{:.2}", f.confidence),
                f.kind.clone(),
                truncate(&f.title, 70),
            ]
        })
        .collect();
    print_table(&["id", "severity", "conf", "kind", "title"], &rows);
    Ok(())
}

/// `findings show`: one finding in full.
fn show(ctx: &Context, id: &str) -> anyhow::Result<()> {
    let store = ctx.open_store("read", &format!("finding {id}"))?;
    let Some(f) = store.finding(id).context("reading the finding")? else {
        bail!("no finding with id or unique prefix '{}' in {}", terminal(id), ctx.store_path.display());
    };
    let links = store.links_of(&f.id.0).context("reading the finding's links")?;
    if ctx.json {
        let mut shown = serde_json::to_value(&f)?;
        shown["links"] = serde_json::to_value(&links)?;
        outln!("{}", serde_json::to_string_pretty(&shown)?)?;
        return Ok(());
    }
    // Every text below came from an input; a stored id or title can hold terminal
    // escape sequences, which are shown escaped, never sent to the terminal.
    outln!("{}  [{}]", terminal(&f.title), terminal(&f.id.0))?;
    outln!("engine:     {}  kind: {}", f.engine, terminal(&f.kind))?;
    outln!("severity:   {}  confidence: {:.2}", f.severity, f.confidence)?;
    if let Some(scope) = &f.scope {
        outln!("scope:      {}", terminal(scope))?;
    }
    if let Some(span) = f.time_span {
        outln!("time span:  {} .. {}", span.start.to_rfc3339(), span.end.to_rfc3339())?;
    }
    if !f.techniques.is_empty() {
        outln!("techniques:")?;
        for t in &f.techniques {
            outln!("  - {}", terminal(&t.to_string()))?;
        }
    }
    if !f.summary.is_empty() {
        outln!("\n{}\n", terminal_multiline(&f.summary))?;
    }
    outln!("evidence ({} items):", f.evidence.len())?;
    for e in &f.evidence {
        outln!("  - [{}] {}", terminal(&e.kind), terminal(&e.description))?;
        if !e.data.is_null() {
            outln!("      {}", terminal(&truncate(&e.data.to_string(), 300)))?;
        }
    }
    if !links.is_empty() {
        outln!("linked findings ({}):", links.len())?;
        for l in &links {
            let title = store.finding(&l.linked_id).context("reading a linked finding")?.map_or_else(
                || "(no longer in the store)".to_owned(),
                |linked| format!("{} {}: {}", linked.engine, linked.kind, linked.title),
            );
            outln!(
                "  - same {} {}: {}  [{}]",
                l.kind,
                terminal(&l.value),
                terminal(&title),
                terminal(&l.linked_id)
            )?;
        }
    }
    Ok(())
}

/// `ENGINE export --stix OUT`: the engine's findings in the store as one STIX 2.1 bundle;
/// `first` is the command that produces them, named when there are none.
pub fn export_stix(
    ctx: &Context,
    engine: Engine,
    first: &str,
    out: &std::path::Path,
    identity: &str,
) -> anyhow::Result<()> {
    let store = ctx.open_store(&format!("{engine} export"), &out.display().to_string())?;
    let filter = FindingFilter { engine: Some(engine), ..FindingFilter::default() };
    let findings = store.findings(&filter).with_context(|| format!("reading {engine} findings"))?;
    if findings.is_empty() {
        bail!("no {engine} findings in {}: run `scrutineer {first}` first", ctx.store_path.display());
    }
    let bundle = scrutineer_share::export_bundle(&findings, &scrutineer_share::ExportOptions::new(identity));
    write_json(out, &bundle)?;
    let n = bundle.get("objects").and_then(|o| o.as_array()).map_or(0, Vec::len);
    if ctx.json {
        outln!("{}", serde_json::json!({"findings": findings.len(), "objects": n, "bundle": out}))?;
    } else {
        outln!("{} findings -> {n} STIX 2.1 objects in {}", findings.len(), out.display())?;
    }
    Ok(())
}
