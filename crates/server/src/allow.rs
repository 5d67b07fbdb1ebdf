//! The allow-list in the workspace: an infra source or an influence network marked
//! `false_positive` becomes an entry (with the reason) from its finding's page; the
//! `/allow-list` page shows every entry, the findings in the store it will leave out
//! of the next scan, what it left out of the last one, and its history, and lets
//! analysts change its reason or remove it (with a reason). Every change is also a row
//! in the access log. The scans honour the list through `Store::apply_allow_list`.

use axum::extract::{Path as UrlPath, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use scrutineer_core::Finding;
use scrutineer_store::{
    ALLOW_LIST_ENGINES, AllowEntry, AllowEvent, AllowHit, FindingFilter, Store, StoreError,
};
use serde::{Deserialize, Serialize};

use crate::pages::{self, esc};
use crate::{ApiError, Caller, Role, Shared, read, write};

const MAX_REASON: usize = 2048;

/// Findings listed per entry on the page (the API lists them all).
const SHOWN: usize = 10;

/// An entry as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct EntryView {
    #[serde(flatten)]
    entry: AllowEntry,
    active: bool,
    /// Findings in the store now that the next scan of the engine will leave out.
    next_run_leaves_out: Vec<Hidden>,
    /// What the entry left out of the latest scan that it left anything out of.
    last_run_left_out: Vec<AllowHit>,
    history: Vec<AllowEvent>,
}

#[derive(Debug, Serialize)]
struct Hidden {
    finding_id: String,
    title: String,
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::AllowList(m) => ApiError::BadRequest(m),
        e => ApiError::from(e),
    }
}

fn entries(s: &Store) -> Result<Vec<EntryView>, ApiError> {
    let all = s.allow_entries()?;
    let mut current: Vec<Finding> = Vec::new();
    for engine in ALLOW_LIST_ENGINES {
        if all.iter().any(|e| e.active() && e.engine == engine) {
            current.extend(s.findings(&FindingFilter { engine: Some(engine), ..FindingFilter::default() })?);
        }
    }
    let mut out = Vec::with_capacity(all.len());
    for entry in &all {
        let next_run_leaves_out = current
            .iter()
            .filter(|f| Store::allow_match(&all, f) == Some(entry.id))
            .map(|f| Hidden { finding_id: f.id.0.clone(), title: f.title.clone() })
            .collect();
        out.push(EntryView {
            active: entry.active(),
            next_run_leaves_out,
            last_run_left_out: s.allow_hits(entry.id)?,
            history: s.allow_events(entry.id)?,
            entry: entry.clone(),
        });
    }
    Ok(out)
}

fn check_reason(reason: Option<String>) -> Result<String, ApiError> {
    let reason = reason.unwrap_or_default();
    if reason.trim().is_empty() {
        return Err(ApiError::BadRequest("a reason is needed".into()));
    }
    if reason.len() > MAX_REASON {
        return Err(ApiError::BadRequest(format!("a reason of more than {MAX_REASON} bytes")));
    }
    Ok(reason)
}

fn may_change(caller: &Caller) -> Result<(), ApiError> {
    if caller.role < Role::Analyst {
        return Err(ApiError::Refused("a viewer may not change the allow-list".into()));
    }
    Ok(())
}

async fn add(st: &Shared, caller: &Caller, id: String, reason: Option<String>) -> Result<i64, ApiError> {
    may_change(caller)?;
    let reason = check_reason(reason)?;
    let actor = caller.name.clone();
    write(st, move |s| {
        let finding = s.finding(&id)?.ok_or_else(|| ApiError::NotFound(format!("no finding '{id}'")))?;
        let entry = s.add_allow_entry(&finding, &actor, &reason).map_err(store_error)?;
        s.log_access(&actor, &format!("allow-list: entry {entry} added"), &finding.id.0)?;
        Ok(entry)
    })
    .await
}

async fn change(
    st: &Shared,
    caller: &Caller,
    entry: String,
    reason: Option<String>,
    remove: bool,
) -> Result<i64, ApiError> {
    may_change(caller)?;
    let entry: i64 =
        entry.parse().map_err(|_| ApiError::NotFound(format!("no allow-list entry '{entry}'")))?;
    let reason = check_reason(reason)?;
    let actor = caller.name.clone();
    write(st, move |s| {
        if s.allow_entry(entry)?.is_none() {
            return Err(ApiError::NotFound(format!("no allow-list entry {entry}")));
        }
        s.change_allow_entry(entry, &actor, &reason, remove).map_err(store_error)?;
        let what = if remove { "removed" } else { "reason changed" };
        s.log_access(&actor, &format!("allow-list: entry {entry} {what}"), "")?;
        Ok(entry)
    })
    .await
}

/// A JSON body to add an entry.
#[derive(Debug, Deserialize)]
pub(crate) struct AddRequest {
    reason: Option<String>,
}

/// A JSON body to change an entry.
#[derive(Debug, Deserialize)]
pub(crate) struct ChangeRequest {
    reason: Option<String>,
    #[serde(default)]
    remove: bool,
}

/// `GET /api/allow-list`.
pub(crate) async fn api_list(State(st): State<Shared>) -> Result<axum::Json<Vec<EntryView>>, ApiError> {
    Ok(axum::Json(read(&st, entries).await?))
}

/// `POST /api/findings/{id}/allow` with `{"reason": ...}`: the new entry.
pub(crate) async fn api_add(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    body: Result<axum::Json<AddRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<EntryView>, ApiError> {
    let axum::Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let entry = add(&st, &caller, id, req.reason).await?;
    one(&st, entry).await
}

/// `POST /api/allow-list/{entry}` with `{"reason": ..., "remove": bool}`.
pub(crate) async fn api_change(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(entry): UrlPath<String>,
    body: Result<axum::Json<ChangeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<EntryView>, ApiError> {
    let axum::Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let entry = change(&st, &caller, entry, req.reason, req.remove).await?;
    one(&st, entry).await
}

async fn one(st: &Shared, entry: i64) -> Result<axum::Json<EntryView>, ApiError> {
    let all = read(st, entries).await?;
    all.into_iter()
        .find(|e| e.entry.id == entry)
        .map(axum::Json)
        .ok_or_else(|| ApiError::NotFound(format!("no allow-list entry {entry}")))
}

async fn form_fields(req: Request) -> Result<Vec<(String, String)>, ApiError> {
    let bytes = axum::body::to_bytes(req.into_body(), 64 * 1024)
        .await
        .map_err(|_| ApiError::BadRequest("a form of more than 64 KiB".into()))?;
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}

fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// `POST /findings/{id}/allow` from the finding page's form (`reason`, `csrf`).
pub(crate) async fn form_add(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let fields = form_fields(req).await?;
    let entry = add(&st, &caller, id, field(&fields, "reason")).await?;
    Ok(Redirect::to(&format!("/allow-list#entry-{entry}")).into_response())
}

/// `POST /allow-list/{entry}` from the list's forms (`reason`, `action` = `reason` or
/// `remove`, `csrf`).
pub(crate) async fn form_change(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(entry): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let fields = form_fields(req).await?;
    let remove = match field(&fields, "action").as_deref() {
        Some("remove") => true,
        Some("reason") | None => false,
        Some(other) => {
            return Err(ApiError::BadRequest(format!("unknown action '{other}' (reason or remove)")));
        }
    };
    let entry = change(&st, &caller, entry, field(&fields, "reason"), remove).await?;
    Ok(Redirect::to(&format!("/allow-list#entry-{entry}")).into_response())
}

/// The form on a false positive's page that makes it an entry, for analysts.
pub(crate) fn add_form(caller: &Caller, f: &Finding, status: &str) -> String {
    if caller.role < Role::Analyst || !ALLOW_LIST_ENGINES.contains(&f.engine) {
        return String::new();
    }
    let subjects = scrutineer_store::allow_subjects(f);
    if status != "false_positive" || subjects.is_empty() {
        return format!(
            "<p class=\"muted\">Marked <code>false_positive</code>, this finding's {} can go on the <a href=\"/allow-list\">allow-list</a>.</p>",
            if f.engine == scrutineer_core::Engine::Infra { "sources" } else { "accounts" }
        );
    }
    format!(
        "<h3>Allow-list</h3><form id=\"allow-form\" method=\"post\" action=\"/findings/{id}/allow\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<p>Later scans will leave out findings about only these {n} {what}: {list}</p>\
<label for=\"allow-reason\">Reason</label><textarea id=\"allow-reason\" name=\"reason\" required></textarea><button type=\"submit\">Add to the allow-list</button></form>",
        id = esc(&f.id.0),
        csrf = esc(caller.csrf.as_deref().unwrap_or("")),
        n = subjects.len(),
        what = if f.engine == scrutineer_core::Engine::Infra { "sources" } else { "accounts" },
        list = subjects.iter().map(|s| format!("<code>{}</code>", esc(s))).collect::<Vec<_>>().join(", "),
    )
}

/// `GET /allow-list`: every entry, what it hides, its history; forms for analysts.
pub(crate) async fn page(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Response, ApiError> {
    let all = read(&st, entries).await?;
    let mut body = String::from(
        "<div id=\"allow-list\"><section><p>Sources (infra) and accounts (influence) judged harmless, from findings marked \
<code>false_positive</code>. A scan of the engine leaves out every finding all of whose sources or accounts are listed \
(it stays in the scan's own output files); a network that gains an account, or a campaign a new address, comes back.</p>",
    );
    if all.is_empty() {
        body.push_str("<p id=\"allow-empty\">The allow-list is empty.</p>");
    }
    body.push_str("</section>");
    for e in &all {
        let subjects: Vec<String> =
            e.entry.subjects.iter().map(|s| format!("<code>{}</code>", esc(s))).collect();
        let listed = |items: Vec<(String, String)>, total: usize| -> String {
            if total == 0 {
                return "none".into();
            }
            let mut out: Vec<String> = items
                .into_iter()
                .take(SHOWN)
                .map(|(id, title)| format!("<a href=\"/findings/{}\">{}</a>", esc(&id), esc(&title)))
                .collect();
            if total > SHOWN {
                out.push(format!("and {} more", total - SHOWN));
            }
            format!("{total}: {}", out.join("; "))
        };
        let next = listed(
            e.next_run_leaves_out.iter().map(|h| (h.finding_id.clone(), h.title.clone())).collect(),
            e.next_run_leaves_out.len(),
        );
        let last = listed(
            e.last_run_left_out.iter().map(|h| (h.finding_id.clone(), h.title.clone())).collect(),
            e.last_run_left_out.len(),
        );
        body.push_str(&format!(
            "<section id=\"entry-{id}\" class=\"allow-entry\"><h2>Entry {id}: {engine} · {state}</h2>\
<p>{what}: {subjects}</p><p>Reason: <span class=\"reason\">{reason}</span></p>\
<p class=\"muted\">From the finding <a href=\"/findings/{fid}\">{fid_short}</a>, by {by} at {at}{removed}</p>\
<p>The next scan leaves out <span class=\"next-run\">{next}</span></p><p>The last scan left out <span class=\"last-run\">{last}</span></p>",
            id = e.entry.id,
            engine = esc(e.entry.engine.as_str()),
            state = if e.active { "active" } else { "removed" },
            what = if e.entry.engine == scrutineer_core::Engine::Infra { "Sources" } else { "Accounts" },
            subjects = subjects.join(", "),
            reason = esc(&e.entry.reason),
            fid = esc(&e.entry.finding_id),
            fid_short = esc(e.entry.finding_id.get(..12).unwrap_or(&e.entry.finding_id)),
            by = esc(&e.entry.created_by),
            at = e.entry.created_at.to_rfc3339(),
            removed = match (&e.entry.removed_at, &e.entry.removed_by) {
                (Some(at), Some(by)) => format!("; removed by {} at {}", esc(by), at.to_rfc3339()),
                _ => String::new(),
            },
        ));
        if e.active && caller.role >= Role::Analyst {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/allow-list/{id}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"reason-{id}\">Reason for the change</label><textarea id=\"reason-{id}\" name=\"reason\" required></textarea>\
<button type=\"submit\" name=\"action\" value=\"reason\">Change the reason</button> \
<button type=\"submit\" name=\"action\" value=\"remove\">Remove the entry</button></form>",
                id = e.entry.id,
                csrf = esc(caller.csrf.as_deref().unwrap_or("")),
            ));
        }
        body.push_str("<details><summary>History</summary><table><tr><th>when</th><th>who</th><th>what</th><th>reason</th></tr>");
        for h in &e.history {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                h.at.to_rfc3339(),
                esc(&h.actor),
                esc(&h.action),
                esc(&h.reason)
            ));
        }
        body.push_str("</table></details></section>");
    }
    body.push_str("</div>");
    Ok(crate::triage::html(pages::workspace_page(
        "Allow-list",
        &crate::triage::header_for(&caller),
        &body,
        "allow-list",
        None,
    )))
}
