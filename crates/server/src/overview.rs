//! The overview over time: findings per engine and day (a stacked column chart drawn
//! here as inline SVG, as the report draws its charts), per engine and severity, per
//! status, per jurisdiction, and what was written since the caller's last visit (read
//! from the access log, where every visit is). `GET /overview` is the page, and
//! `GET /api/overview` the same figures as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use scrutineer_core::Engine;
use serde::Serialize;

use crate::pages::{self, esc};
use crate::{ApiError, Caller, Shared, read};

/// The access-log action of a visit to the page.
const VISIT: &str = "http 200 GET /overview";

/// The overview's figures.
#[derive(Debug, Serialize)]
pub(crate) struct Overview {
    /// Findings per engine and UTC day of the activity they describe.
    per_day: Vec<DayCount>,
    /// Findings per engine without a time span (not in `per_day`).
    undated: Vec<Count>,
    /// Findings per engine and severity.
    per_severity: Vec<Count>,
    /// Findings per engine and triage status.
    per_status: Vec<Count>,
    /// Findings per jurisdiction (infra and audit, whose scope is one).
    per_jurisdiction: Vec<Count>,
    /// The caller's last visit to `/overview`, if any.
    last_visit: Option<DateTime<Utc>>,
    /// Findings per engine written since then (all of them before a first visit).
    new_since_last_visit: Vec<Count>,
}

#[derive(Debug, Serialize)]
struct DayCount {
    engine: String,
    day: String,
    findings: usize,
}

#[derive(Debug, Serialize)]
struct Count {
    engine: String,
    /// The severity, status or jurisdiction counted (absent for per-engine counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    findings: usize,
}

async fn figures(st: &Shared, caller: &Caller) -> Result<Overview, ApiError> {
    let who = caller.name.clone();
    read(st, move |s| {
        s.snapshot(|s| {
            let mut per_day = Vec::new();
            let mut undated = Vec::new();
            for (e, day, n) in s.findings_per_day()? {
                match day {
                    Some(day) => per_day.push(DayCount { engine: e.as_str().into(), day, findings: n }),
                    None => undated.push(Count { engine: e.as_str().into(), value: None, findings: n }),
                }
            }
            let per_severity = s
                .counts()?
                .into_iter()
                .map(|(e, sev, n)| Count {
                    engine: e.as_str().into(),
                    value: Some(sev.as_str().into()),
                    findings: n,
                })
                .collect();
            let per_status = s
                .findings_per_status()?
                .into_iter()
                .map(|(e, status, n)| Count { engine: e.as_str().into(), value: Some(status), findings: n })
                .collect();
            let per_jurisdiction = s
                .findings_per_scope()?
                .into_iter()
                .filter(|(e, scope, _)| matches!(e, Engine::Infra | Engine::Audit) && scope.is_some())
                .map(|(e, scope, n)| Count { engine: e.as_str().into(), value: scope, findings: n })
                .collect();
            let last_visit = s.last_access(&who, VISIT)?;
            let since = last_visit.unwrap_or(DateTime::<Utc>::MIN_UTC);
            let new_since_last_visit = s
                .findings_per_engine_after(since)?
                .into_iter()
                .map(|(e, n)| Count { engine: e.as_str().into(), value: None, findings: n })
                .collect();
            Ok(Overview {
                per_day,
                undated,
                per_severity,
                per_status,
                per_jurisdiction,
                last_visit,
                new_since_last_visit,
            })
        })
        .map_err(ApiError::from)
    })
    .await
}

/// `GET /api/overview`.
pub(crate) async fn api(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<axum::Json<Overview>, ApiError> {
    Ok(axum::Json(figures(&st, &caller).await?))
}

const COLOURS: [(&str, &str); 6] = [
    ("influence", "#e15759"),
    ("infra", "#4e79a7"),
    ("ballots", "#f28e2b"),
    ("audit", "#59a14f"),
    ("hunt", "#b07aa1"),
    ("mail", "#76b7b2"),
];

fn colour(engine: &str) -> &'static str {
    COLOURS.iter().find(|(e, _)| *e == engine).map(|(_, c)| *c).unwrap_or("#888")
}

/// Findings per day as stacked columns, one colour per engine, with a legend; every
/// label escaped.
fn per_day_chart(per_day: &[DayCount]) -> String {
    let mut days: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for d in per_day {
        *days.entry(&d.day).or_default().entry(&d.engine).or_default() += d.findings;
    }
    let (Some(first), Some(last)) = (days.keys().next().copied(), days.keys().next_back().copied()) else {
        return "<p class=\"muted\">No dated findings yet.</p>".into();
    };
    // Every day from the first to the last, empty ones too, so that the axis is time.
    let parse = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    let all_days: Vec<String> = match (parse(first), parse(last)) {
        (Some(a), Some(b)) if (b - a).num_days() <= 3660 => {
            a.iter_days().take_while(|d| *d <= b).map(|d| d.format("%Y-%m-%d").to_string()).collect()
        }
        _ => days.keys().map(|d| (*d).to_owned()).collect(),
    };
    let empty = BTreeMap::new();
    let (width, height, left, bottom, top) = (900.0_f64, 260.0_f64, 40.0_f64, 40.0_f64, 10.0_f64);
    let max = days.values().map(|m| m.values().sum::<usize>()).max().unwrap_or(1).max(1) as f64;
    let step = (width - left) / all_days.len() as f64;
    let bar = (step * 0.8).max(1.0);
    let scale = (height - bottom - top) / max;
    let mut svg = format!(
        "<svg id=\"per-day-chart\" class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"findings per engine and day\">"
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{width}\" y2=\"{y}\" stroke=\"#999\"/><text x=\"{x}\" y=\"{ty}\" text-anchor=\"end\">{max}</text><text x=\"{x}\" y=\"{y}\" text-anchor=\"end\">0</text>",
        y = height - bottom,
        x = left - 4.0,
        ty = top + 10.0,
        max = max as usize
    );
    let label_every = (all_days.len() / 12).max(1);
    for (i, day) in all_days.iter().enumerate() {
        let engines = days.get(day.as_str()).unwrap_or(&empty);
        let x = left + i as f64 * step;
        let mut y = height - bottom;
        for (engine, n) in engines {
            let h = *n as f64 * scale;
            y -= h;
            let _ = write!(
                svg,
                "<rect class=\"day\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} · {}: {n}</title></rect>",
                colour(engine),
                esc(day),
                esc(engine)
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar / 2.0,
                height - bottom + 14.0,
                esc(day.get(5..).unwrap_or(day))
            );
        }
    }
    svg.push_str("</svg><p class=\"legend\">");
    let mut engines: Vec<&str> = per_day.iter().map(|d| d.engine.as_str()).collect();
    engines.sort_unstable();
    engines.dedup();
    for e in engines {
        let _ = write!(
            svg,
            "<span style=\"margin-right:14px\"><i style=\"display:inline-block;width:11px;height:11px;background:{}\"></i> {}</span>",
            colour(e),
            esc(e)
        );
    }
    svg.push_str("</p>");
    svg
}

fn table(id: &str, head: &str, rows: &[Count]) -> String {
    let mut out =
        format!("<table id=\"{id}\"><tr><th>engine</th><th>{}</th><th>findings</th></tr>", esc(head));
    for r in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.engine),
            esc(r.value.as_deref().unwrap_or("")),
            r.findings
        );
    }
    out.push_str("</table>");
    out
}

/// `GET /overview`.
pub(crate) async fn page(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Response, ApiError> {
    let o = figures(&st, &caller).await?;
    let new_total: usize = o.new_since_last_visit.iter().map(|c| c.findings).sum();
    let since = match o.last_visit {
        Some(at) => format!("since your last visit ({})", at.format("%Y-%m-%d %H:%M UTC")),
        None => "since you first opened this page (this is the first time)".into(),
    };
    let new_list: Vec<String> =
        o.new_since_last_visit.iter().map(|c| format!("{} {}", c.findings, esc(&c.engine))).collect();
    let mut body = format!(
        "<div id=\"overview-body\"><section><h2>New {since}</h2><p id=\"new-since\"><b>{new_total}</b> findings written{}</p></section>",
        if new_list.is_empty() { String::new() } else { format!(": {}", new_list.join(", ")) }
    );
    let _ = write!(
        body,
        "<section><h2>Findings per day</h2><p class=\"muted\">By the day the activity began (the finding's time span), in UTC.{}</p>{}</section>",
        if o.undated.is_empty() {
            String::new()
        } else {
            let list: Vec<String> =
                o.undated.iter().map(|c| format!("{} {}", c.findings, esc(&c.engine))).collect();
            format!(" Not charted, without a time span: {}.", list.join(", "))
        },
        per_day_chart(&o.per_day)
    );
    let _ = write!(
        body,
        "<section><h2>By severity</h2>{}</section><section><h2>By status</h2>{}</section><section><h2>By jurisdiction</h2>{}</section></div>",
        table("per-severity", "severity", &o.per_severity),
        table("per-status", "status", &o.per_status),
        table("per-jurisdiction", "jurisdiction", &o.per_jurisdiction),
    );
    Ok(crate::triage::html(pages::workspace_page(
        "Overview",
        &crate::triage::header_for(&caller),
        &body,
        "overview",
        None,
    )))
}
