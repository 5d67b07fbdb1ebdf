//! HTTP API and live dashboard over the store.
//!
//! Every route but `/healthz` needs a token (`Authorization: Bearer TOKEN`, or the cookie
//! `/login?token=TOKEN` sets for a browser); every request, refused ones included, is
//! written to the store's access log with the token's name. Findings about voters are as
//! sensitive as the voter file itself, so the server binds to loopback unless told
//! otherwise and the access log is readable by admins only.
//!
//! Routes: `/` (the dashboard: the HTML report rendered from the store at each request),
//! `/api/summary`, `/api/findings?engine=&kind=&min_severity=&limit=`,
//! `/api/findings/{id}`, `/api/runs?engine=`, `/api/stix/infra`, `/api/access-log`
//! (admin), `/login?token=`, `/healthz`.

pub mod auth;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use scrutineer_core::{Engine, Severity};
use scrutineer_store::{FindingFilter, Store};
use serde::{Deserialize, Serialize};

use crate::auth::{Role, TokenFile};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("binding {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("serving: {0}")]
    Serve(std::io::Error),
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Errors as the API reports them: one status code per kind, a JSON body.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    Forbidden,
    NotFound(String),
    BadRequest(String),
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "a token is needed: Authorization: Bearer TOKEN, or open /login?token=TOKEN".to_owned(),
            ),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "this token's role may not read this".to_owned()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
        };
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}

impl From<scrutineer_store::StoreError> for ApiError {
    fn from(e: scrutineer_store::StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

/// Who made a request, put on the request by the access layer.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

pub struct AppState {
    store: Mutex<Store>,
    store_path: PathBuf,
    tokens: TokenFile,
}

type Shared = Arc<AppState>;

pub struct ServerConfig {
    pub listen: String,
    pub store_path: PathBuf,
    pub tokens: TokenFile,
}

const COOKIE: &str = "scrutineer_token";

/// Builds the router (used by [`serve`] and by tests).
pub fn router(store: Store, store_path: PathBuf, tokens: TokenFile) -> Router {
    let state: Shared = Arc::new(AppState { store: Mutex::new(store), store_path, tokens });
    let api = Router::new()
        .route("/", get(dashboard))
        .route("/api/summary", get(summary))
        .route("/api/findings", get(findings))
        .route("/api/findings/{id}", get(finding))
        .route("/api/runs", get(runs))
        .route("/api/stix/infra", get(stix_infra))
        .route("/api/access-log", get(access_log))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/login", get(login))
        .merge(api)
        .layer(middleware::from_fn_with_state(state.clone(), log_access))
        .with_state(state)
}

/// Binds, prints `listening on http://ADDR` on stdout, and serves until Ctrl-C.
pub fn serve(
    config: ServerConfig,
    store: Store,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|source| ServerError::Bind { addr: config.listen.clone(), source })?;
        let addr = listener.local_addr().map_err(ServerError::Serve)?;
        on_listen(addr);
        let app = router(store, config.store_path, config.tokens);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(ServerError::Serve)
    })
}

fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

async fn require_token(State(st): State<Shared>, mut req: Request, next: Next) -> Response {
    let Some(entry) = presented_token(req.headers()).and_then(|t| st.tokens.check(&t).cloned()) else {
        return ApiError::Unauthorized.into_response();
    };
    req.extensions_mut().insert(Caller { name: entry.name, role: entry.role });
    next.run(req).await
}

/// Writes every request to the access log: who (token name, or `anonymous`), the status,
/// the method and path, and the query.
async fn log_access(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    // The login query carries the token itself: never log it.
    let query = if path == "/login" { String::new() } else { req.uri().query().unwrap_or("").to_owned() };
    let who = presented_token(req.headers())
        .and_then(|t| st.tokens.check(&t).map(|e| e.name.clone()))
        .unwrap_or_else(|| "anonymous".to_owned());
    let resp = next.run(req).await;
    if path != "/healthz" {
        let action = format!("http {} {method} {path}", resp.status().as_u16());
        // A failed log write must not pass silently: the request fails instead.
        let logged = lock(&st).and_then(|store| {
            store
                .log_access(&who, &action, &query)
                .map_err(|e| ApiError::Internal(format!("writing the access log: {e}")))
        });
        if let Err(e) = logged {
            return e.into_response();
        }
    }
    resp
}

#[derive(Deserialize)]
struct LoginQuery {
    token: String,
}

async fn login(State(st): State<Shared>, Query(q): Query<LoginQuery>) -> Response {
    if st.tokens.check(&q.token).is_none() {
        return ApiError::Unauthorized.into_response();
    }
    let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", q.token.trim());
    let mut resp = Redirect::to("/").into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(v) => {
            resp.headers_mut().insert(header::SET_COOKIE, v);
            resp
        }
        Err(_) => ApiError::BadRequest("the token holds characters a cookie cannot".into()).into_response(),
    }
}

fn lock(st: &AppState) -> Result<std::sync::MutexGuard<'_, Store>, ApiError> {
    st.store.lock().map_err(|_| ApiError::Internal("the store lock was poisoned".into()))
}

async fn dashboard(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Html<String>, ApiError> {
    let store = lock(&st)?;
    let findings = store.findings(&FindingFilter::default())?;
    let mut runs = Vec::new();
    for e in Engine::ALL {
        if let Some(r) = store.latest_finished_run(e)? {
            runs.push(scrutineer_report::RunView {
                engine: r.engine,
                command: r.command,
                started_at: r.started_at,
                summary: r.summary,
            });
        }
    }
    let input = scrutineer_report::ReportInput {
        title: "Scrutineer dashboard".into(),
        generated_at: chrono::Utc::now(),
        store: st.store_path.display().to_string(),
        findings,
        runs,
        exercise: None,
    };
    let html = scrutineer_report::render(&input);
    // The live page says who is signed in and reloads itself every minute.
    let banner = format!(
        r#"<p style="margin:0;padding:4px 32px;background:#2e3b5e;color:#fff;font-size:13px">Live from the store · signed in as {} ({}) · reloads every minute · JSON: <a style="color:#cde" href="/api/findings">/api/findings</a></p>"#,
        scrutineer_report::svg::esc(&caller.name),
        caller.role.as_str()
    );
    let html = html.replacen("<head>", r#"<head><meta http-equiv="refresh" content="60">"#, 1).replacen(
        "</header>",
        &format!("</header>{banner}"),
        1,
    );
    Ok(Html(html))
}

#[derive(Serialize)]
struct SummaryRow {
    engine: String,
    severity: String,
    findings: usize,
}

async fn summary(State(st): State<Shared>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let store = lock(&st)?;
    let counts: Vec<SummaryRow> = store
        .counts()?
        .into_iter()
        .map(|(e, s, n)| SummaryRow { engine: e.as_str().into(), severity: s.as_str().into(), findings: n })
        .collect();
    let mut latest = Vec::new();
    for e in Engine::ALL {
        if let Some(r) = store.runs(Some(e))?.into_iter().max_by_key(|r| (r.started_at, r.id)) {
            latest.push(serde_json::json!({"engine": e.as_str(), "command": r.command, "started_at": r.started_at, "finished_at": r.finished_at}));
        }
    }
    Ok(axum::Json(serde_json::json!({"counts": counts, "latest_runs": latest})))
}

#[derive(Deserialize)]
struct FindingsQuery {
    engine: Option<String>,
    kind: Option<String>,
    min_severity: Option<String>,
    limit: Option<usize>,
}

async fn findings(
    State(st): State<Shared>,
    Query(q): Query<FindingsQuery>,
) -> Result<axum::Json<Vec<scrutineer_core::Finding>>, ApiError> {
    let engine = q
        .engine
        .as_deref()
        .map(|e| e.parse::<Engine>().map_err(|_| ApiError::BadRequest(format!("unknown engine '{e}'"))))
        .transpose()?;
    let min_severity = q
        .min_severity
        .as_deref()
        .map(|s| s.parse::<Severity>().map_err(|_| ApiError::BadRequest(format!("unknown severity '{s}'"))))
        .transpose()?;
    let filter = FindingFilter {
        engine,
        kind: q.kind,
        min_severity,
        run_id: None,
        limit: Some(q.limit.unwrap_or(1000)),
    };
    Ok(axum::Json(lock(&st)?.findings(&filter)?))
}

async fn finding(
    State(st): State<Shared>,
    UrlPath(id): UrlPath<String>,
) -> Result<axum::Json<scrutineer_core::Finding>, ApiError> {
    lock(&st)?.finding(&id)?.map(axum::Json).ok_or_else(|| ApiError::NotFound(format!("no finding '{id}'")))
}

#[derive(Deserialize)]
struct RunsQuery {
    engine: Option<String>,
}

async fn runs(
    State(st): State<Shared>,
    Query(q): Query<RunsQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let engine = q
        .engine
        .as_deref()
        .map(|e| e.parse::<Engine>().map_err(|_| ApiError::BadRequest(format!("unknown engine '{e}'"))))
        .transpose()?;
    let runs: Vec<serde_json::Value> = lock(&st)?
        .runs(engine)?
        .into_iter()
        .map(|r| {
            serde_json::json!({"id": r.id, "engine": r.engine.as_str(), "command": r.command,
                "started_at": r.started_at, "finished_at": r.finished_at, "summary": r.summary})
        })
        .collect();
    Ok(axum::Json(serde_json::Value::Array(runs)))
}

async fn stix_infra(State(st): State<Shared>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let filter = FindingFilter { engine: Some(Engine::Infra), ..FindingFilter::default() };
    let findings = lock(&st)?.findings(&filter)?;
    let opts = scrutineer_share::ExportOptions::new("Election office");
    Ok(axum::Json(scrutineer_share::export_bundle(&findings, &opts)))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

async fn access_log(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(q): Query<LimitQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if caller.role < Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let rows: Vec<serde_json::Value> = lock(&st)?
        .access_log(q.limit.unwrap_or(200))?
        .into_iter()
        .map(|r| serde_json::json!({"at": r.at, "actor": r.actor, "action": r.action, "target": r.target}))
        .collect();
    Ok(axum::Json(serde_json::Value::Array(rows)))
}
