//! Triage in the workspace: the finding page with its evidence, triage form and
//! history; the findings list with filters and search; and the same in the API.
//!
//! Analysts and admins triage; viewers read. A change is one transaction on the store's
//! writer, which waits for an engine's write rather than fail (the store's busy
//! timeout), so a user never sees `database is locked`.

use std::collections::HashMap;

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use scrutineer_core::{Engine, Finding};
use scrutineer_store::{FindingFilter, TriageChange, TriageEvent, TriageState, UNTRIAGED};
use serde::{Deserialize, Serialize};

use crate::pages::{self, esc};
use crate::{ApiError, ApiQuery, Caller, Role, Shared, read, redact_finding, write};

/// The statuses a finding moves through.
pub const STATUSES: &[&str] =
    &["new", "acknowledged", "investigating", "escalated", "false_positive", "resolved"];

/// The TLP 2.0 markings, from the most to the least shareable.
pub const TLP_LEVELS: &[&str] = &["clear", "green", "amber", "amber+strict", "red"];

/// The marking of an engine's findings until triage sets another: findings that name
/// voters stay within the office (`red`), attack and mail evidence goes to partners who
/// need it (`amber`), influence networks and audit outcomes may go to the community
/// (`green`).
pub fn default_tlp(engine: Engine) -> &'static str {
    match engine {
        Engine::Ballots => "red",
        Engine::Infra | Engine::Hunt | Engine::Mail => "amber",
        Engine::Influence | Engine::Audit => "green",
    }
}

/// A finding's triage as the API shows it.
#[derive(Debug, Serialize)]
pub struct TriageView {
    /// The finding's id.
    pub finding_id: String,
    /// The status (`new` until someone triages it).
    pub status: String,
    /// Who works on it.
    pub assignee: Option<String>,
    /// The TLP 2.0 marking in force (set at triage, or the engine's default).
    pub tlp: String,
    /// Whether the marking is the engine's default.
    pub tlp_is_default: bool,
    /// Every change, oldest first.
    pub history: Vec<TriageEvent>,
}

fn view(finding: &Finding, state: Option<TriageState>, history: Vec<TriageEvent>) -> TriageView {
    let tlp = state.as_ref().and_then(|s| s.tlp.clone());
    TriageView {
        finding_id: finding.id.0.clone(),
        status: state.as_ref().map(|s| s.status.clone()).unwrap_or_else(|| UNTRIAGED.to_owned()),
        assignee: state.and_then(|s| s.assignee),
        tlp_is_default: tlp.is_none(),
        tlp: tlp.unwrap_or_else(|| default_tlp(finding.engine).to_owned()),
        history,
    }
}

/// A finding (redacted for the caller) and its triage; notes are cleaned of the voter
/// values taken out of the finding.
async fn load(st: &Shared, caller: &Caller, id: String) -> Result<(Finding, TriageView), ApiError> {
    let (mut finding, state, mut history) = read(st, move |s| {
        let f = s.finding(&id)?.ok_or_else(|| ApiError::NotFound(format!("no finding '{id}'")))?;
        let state = s.triage(&f.id.0)?;
        let history = s.triage_history(&f.id.0)?;
        Ok((f, state, history))
    })
    .await?;
    let original = finding.clone();
    if redact_finding(&mut finding, &caller.voter_engines) {
        for e in &mut history {
            e.from = e.from.as_deref().map(|v| crate::redact::scrub_like(&original, v));
            e.to = e.to.as_deref().map(|v| crate::redact::scrub_like(&original, v));
        }
    }
    let v = view(&finding, state, history);
    Ok((finding, v))
}

/// A triage request, from the form or the API.
#[derive(Debug, Default, Deserialize)]
pub struct TriageRequest {
    /// A new status.
    pub status: Option<String>,
    /// A new assignee (a user's name); an empty string clears it.
    pub assignee: Option<String>,
    /// A new marking; an empty string or `default` goes back to the engine's default.
    pub tlp: Option<String>,
    /// A note to add.
    pub note: Option<String>,
}

const MAX_NOTE: usize = 8 * 1024;

fn to_change(req: TriageRequest, users: &[String]) -> Result<TriageChange, ApiError> {
    let status = req.status.filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::BadRequest(format!("unknown status '{}' (one of {})", s, STATUSES.join(", "))));
    }
    let assignee = match req.assignee {
        None => None,
        Some(a) if a.trim().is_empty() => Some(None),
        Some(a) if users.iter().any(|u| *u == a.trim()) => Some(Some(a.trim().to_owned())),
        Some(a) => return Err(ApiError::BadRequest(format!("no user named '{}' to assign", a.trim()))),
    };
    let tlp = match req.tlp.as_deref().map(|t| t.trim().to_ascii_lowercase()) {
        None => None,
        Some(t) if t.is_empty() || t == "default" => Some(None),
        Some(t) => {
            let t = t.strip_prefix("tlp:").unwrap_or(&t).to_owned();
            if !TLP_LEVELS.contains(&t.as_str()) {
                return Err(ApiError::BadRequest(format!(
                    "unknown TLP marking '{t}' (one of {})",
                    TLP_LEVELS.join(", ")
                )));
            }
            Some(Some(t))
        }
    };
    if let Some(n) = &req.note
        && n.len() > MAX_NOTE
    {
        return Err(ApiError::BadRequest(format!("a note of more than {MAX_NOTE} bytes")));
    }
    Ok(TriageChange { status, assignee, tlp, note: req.note })
}

async fn apply(st: &Shared, caller: &Caller, id: String, req: TriageRequest) -> Result<String, ApiError> {
    if caller.role < Role::Analyst {
        return Err(ApiError::Refused("a viewer may not triage".into()));
    }
    let actor = caller.name.clone();
    write(st, move |s| {
        let finding = s.finding(&id)?.ok_or_else(|| ApiError::NotFound(format!("no finding '{id}'")))?;
        let users: Vec<String> = s.users()?.into_iter().map(|u| u.name).collect();
        let change = to_change(req, &users)?;
        s.apply_triage(&finding.id.0, &actor, &change)?;
        Ok(finding.id.0)
    })
    .await
}

/// `GET /api/findings/{id}/triage`.
pub(crate) async fn api_triage(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> Result<axum::Json<TriageView>, ApiError> {
    Ok(axum::Json(load(&st, &caller, id).await?.1))
}

/// `POST /api/findings/{id}/triage` with a JSON [`TriageRequest`].
pub(crate) async fn api_triage_post(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    body: Result<axum::Json<TriageRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<TriageView>, ApiError> {
    let axum::Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let id = apply(&st, &caller, id, req).await?;
    Ok(axum::Json(load(&st, &caller, id).await?.1))
}

/// `POST /findings/{id}/triage` from the finding page's form; back to the page.
pub(crate) async fn form_triage_post(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let bytes = axum::body::to_bytes(req.into_body(), 64 * 1024)
        .await
        .map_err(|_| ApiError::BadRequest("a form of more than 64 KiB".into()))?;
    let field = |n: &str| form_urlencoded::parse(&bytes).find(|(k, _)| k == n).map(|(_, v)| v.into_owned());
    let request = TriageRequest {
        status: field("status"),
        assignee: field("assignee"),
        tlp: field("tlp"),
        note: field("note"),
    };
    let id = apply(&st, &caller, id, request).await?;
    Ok(Redirect::to(&format!("/findings/{id}")).into_response())
}

pub(crate) fn html(body: String) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(pages::PAGE_POLICY));
    resp
}

pub(crate) fn header_for(caller: &Caller) -> String {
    pages::nav(&caller.name, caller.role.as_str(), caller.csrf.as_deref())
}

fn options(values: &[&str], selected: &str) -> String {
    values
        .iter()
        .map(|v| {
            let sel = if *v == selected { " selected" } else { "" };
            format!("<option value=\"{}\"{sel}>{}</option>", esc(v), esc(v))
        })
        .collect()
}

/// `GET /findings/{id}`: the finding, its evidence, its triage and the history.
pub(crate) async fn finding_page(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let (f, t) = load(&st, &caller, id).await?;
    let users: Vec<String> = read(&st, |s| Ok(s.users()?)).await?.into_iter().map(|u| u.name).collect();
    let mut body = String::new();
    body.push_str(&format!(
        "<section id=\"finding-evidence\"><h2>{}</h2><p><b>{}</b> · {} · {} severity · confidence {:.2}{}</p><p>{}</p>",
        esc(&f.title),
        esc(f.engine.as_str()),
        esc(&f.kind),
        esc(f.severity.as_str()),
        f.confidence,
        f.scope.as_deref().map(|s| format!(" · {}", esc(s))).unwrap_or_default(),
        esc(&f.summary),
    ));
    if let Some(span) = f.time_span {
        body.push_str(&format!(
            "<p class=\"muted\">{} to {}</p>",
            span.start.to_rfc3339(),
            span.end.to_rfc3339()
        ));
    }
    if !f.techniques.is_empty() {
        let list: Vec<String> =
            f.techniques.iter().map(|t| format!("{} {}", esc(&t.id), esc(&t.name))).collect();
        body.push_str(&format!("<p>Techniques: {}</p>", list.join("; ")));
    }
    body.push_str("<h3>Evidence</h3>");
    for e in &f.evidence {
        let data = serde_json::to_string_pretty(&e.data).unwrap_or_default();
        body.push_str(&format!(
            "<p><b>{}</b>: {}</p><pre>{}</pre>",
            esc(&e.kind),
            esc(&e.description),
            esc(&data)
        ));
    }
    body.push_str("</section>");
    body.push_str(&format!(
        "<section><h2>Triage</h2><p id=\"triage-state\">Status <b id=\"status\">{}</b> · assignee <b id=\"assignee\">{}</b> · <b id=\"tlp\">TLP:{}</b>{}</p>",
        esc(&t.status),
        esc(t.assignee.as_deref().unwrap_or("nobody")),
        esc(&t.tlp.to_ascii_uppercase()),
        if t.tlp_is_default { " (the engine's default)" } else { "" }
    ));
    if caller.role >= Role::Analyst {
        let mut people = vec![""];
        people.extend(users.iter().map(String::as_str));
        let mut tlps = vec!["default"];
        tlps.extend_from_slice(TLP_LEVELS);
        body.push_str(&format!(
            "<form method=\"post\" action=\"/findings/{id}/triage\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"status-select\">Status</label><select id=\"status-select\" name=\"status\">{statuses}</select>\
<label for=\"assignee-select\">Assignee</label><select id=\"assignee-select\" name=\"assignee\">{people}</select>\
<label for=\"tlp-select\">TLP</label><select id=\"tlp-select\" name=\"tlp\">{tlps}</select>\
<label for=\"note\">Note</label><textarea id=\"note\" name=\"note\"></textarea><button type=\"submit\">Save</button></form>",
            id = esc(&f.id.0),
            csrf = esc(caller.csrf.as_deref().unwrap_or("")),
            statuses = options(STATUSES, &t.status),
            people = options(&people, t.assignee.as_deref().unwrap_or("")),
            tlps = options(&tlps, if t.tlp_is_default { "default" } else { &t.tlp }),
        ));
    }
    body.push_str(&crate::allow::add_form(&caller, &f, &t.status));
    body.push_str("<h3>History</h3><table id=\"history\"><tr><th>when</th><th>who</th><th>what</th><th>from</th><th>to</th></tr>");
    for e in &t.history {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.at.to_rfc3339(),
            esc(&e.actor),
            esc(&e.field),
            esc(e.from.as_deref().unwrap_or("")),
            esc(e.to.as_deref().unwrap_or(""))
        ));
    }
    body.push_str("</table></section>");
    Ok(html(pages::workspace_page(
        &format!("Finding {}", f.id.0),
        &header_for(&caller),
        &body,
        "finding",
        Some(&f.id.0),
    )))
}

/// What the findings list filters on.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    engine: Option<String>,
    status: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
}

/// `GET /findings`: findings with their triage status, filtered by engine, status and
/// text (in the title and summary, as the caller may see them).
pub(crate) async fn findings_page(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let engine = q
        .engine
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(|e| e.parse::<Engine>().map_err(|_| ApiError::BadRequest(format!("unknown engine '{e}'"))))
        .transpose()?;
    let status = q.status.clone().filter(|s| !s.is_empty());
    let filter = FindingFilter { engine, ..FindingFilter::default() };
    let (mut found, triage): (Vec<Finding>, HashMap<String, TriageState>) =
        read(&st, move |s| Ok((s.findings(&filter)?, s.triage_all()?))).await?;
    let needle = q.q.as_deref().map(str::to_lowercase).filter(|n| !n.is_empty());
    let limit = q.limit.unwrap_or(500);
    let mut rows = String::new();
    let mut shown = 0;
    for f in &mut found {
        let st_of = triage.get(&f.id.0).map(|t| t.status.as_str()).unwrap_or(UNTRIAGED);
        if status.as_deref().is_some_and(|s| s != st_of) {
            continue;
        }
        redact_finding(f, &caller.voter_engines);
        if let Some(n) = &needle
            && !f.title.to_lowercase().contains(n)
            && !f.summary.to_lowercase().contains(n)
        {
            continue;
        }
        shown += 1;
        if shown > limit {
            break;
        }
        rows.push_str(&format!(
            "<tr data-finding=\"{id}\"><td>{}</td><td>{}</td><td class=\"status\">{}</td><td><a href=\"/findings/{id}\">{}</a></td></tr>",
            esc(f.engine.as_str()),
            esc(f.severity.as_str()),
            esc(st_of),
            esc(&f.title),
            id = esc(&f.id.0),
        ));
    }
    let mut engines = vec![""];
    engines.extend(Engine::ALL.iter().map(|e| e.as_str()));
    let mut statuses = vec![""];
    statuses.extend_from_slice(STATUSES);
    let body = format!(
        "<section><form method=\"get\" action=\"/findings\">\
<label for=\"engine\">Engine</label><select id=\"engine\" name=\"engine\">{}</select>\
<label for=\"status\">Status</label><select id=\"status\" name=\"status\">{}</select>\
<label for=\"q\">Search</label><input id=\"q\" name=\"q\" value=\"{}\"> <button type=\"submit\">Filter</button></form></section>\
<section><p id=\"findings-count\">{shown_text}</p><table id=\"findings\"><tr><th>engine</th><th>severity</th><th>status</th><th>finding</th></tr>{rows}</table></section>",
        options(&engines, engine.map(|e| e.as_str()).unwrap_or("")),
        options(&statuses, status.as_deref().unwrap_or("")),
        esc(q.q.as_deref().unwrap_or("")),
        shown_text = if shown > limit {
            format!("the first {limit} findings that match")
        } else {
            format!("{shown} findings match")
        },
    );
    Ok(html(pages::workspace_page("Findings", &header_for(&caller), &body, "findings", None)))
}
