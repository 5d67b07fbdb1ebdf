//! HTTP API and live dashboard over the store.
//!
//! Every route but `/healthz` and the sign-in form `/login` needs a caller: a token
//! (`Authorization: Bearer TOKEN`) for scripts, or a browser's session, begun by signing
//! in with a name and a password (users kept in the store with Argon2id hashes; see
//! `session` for the cookie and the anti-forgery checks on every state-changing
//! request). Roles are `viewer`, `analyst` and `admin`; voter-identifying fields are
//! taken out of findings, in pages, API answers and exports alike, for every caller but
//! an admin and an analyst granted the finding's engine. The token file is checked at
//! each request (read again whenever its metadata changed), so `scrutineer tokens
//! revoke` and `tokens add` take effect at once. Every
//! request, refused ones included, is written to the store's access log with the token's
//! name, without any credential and with bounded fields; requests
//! without a valid token are logged one by one up to a rate, then counted in one row per
//! window, so that nobody without a token can grow the store without bound. Findings
//! about voters are as sensitive as the voter file itself, so the server binds to
//! loopback unless told otherwise and the access log is readable by admins only.
//!
//! The store is read through a small pool of read-only connections on blocking threads
//! (the store is in WAL mode, so readers never wait for the writer), and the dashboard
//! page is rendered once per change of the store's findings or runs and then served
//! from memory: a dashboard open in several browsers does not hold up `/healthz` or the
//! API. TAXII collections are likewise built once per change of findings, triage or
//! the inbox, their objects encoded once per build, and `/api/findings` answers are
//! kept per store state (the store's state is read at every request, so a kept answer
//! is never older than the store). Access-log rows are written by one thread in batches, one transaction
//! for all the requests waiting, and each request is answered once its row is
//! committed. A store file deleted or replaced while serving is noticed at the next request,
//! which fails with 503, as does every request after it.
//!
//! Routes: `/` (the dashboard), `/api/summary`,
//! `/api/findings?engine=&kind=&min_severity=&status=&q=&after=&limit=` (a keyset page:
//! a full page names its last finding in `x-next-after`, the `after` of the next),
//! `/api/findings/{id}`,
//! `/api/runs?engine=`, `/api/stix/infra`, `/api/access-log` (admin), `/login` (GET the
//! form, POST it), `/logout` (POST), `/healthz`; the workspace's `/findings`, `/overview`
//! and `/allow-list` pages with their APIs, and `/api/events`, the live updates every
//! page follows (server-sent events; see `live`).
//!
//! Brief overview: [`serve`] binds and serves with a [`ServerConfig`]; [`router`] over an
//! [`AppState`] is the same application in process (the tests call it through
//! `tower::ServiceExt::oneshot`); [`TokenFile`] and [`Role`] are the tokens that may use
//! it. The dashboard's page comes from `scrutineer_report::render_page`, its data from
//! `scrutineer_report::read_store`, the function `scrutineer report` uses too.

#![deny(missing_docs)]

mod accounts;
mod allow;
mod answers;
mod auth;
mod bulletin;
mod hygiene;
mod live;
mod openapi;
mod overview;
mod pages;
mod redact;
mod session;
mod taxii;
mod triage;

pub use crate::accounts::{
    Account, AccountError, Refusal, SignInPolicy, add_user, hash_password, set_password, sign_in,
};
pub use crate::auth::{Role, TokenEntry, TokenError, TokenFile, parse_engines};
pub use crate::bulletin::{Bulletin, BulletinFormat, confidence_in_words, parse_tlp};
pub use crate::openapi::openapi_document;
pub use crate::redact::{REDACTED, redact_finding, redact_findings};
pub use crate::taxii::{TAXII_MEDIA, clearance, tlp_rank};
pub use crate::triage::{STATUSES, TLP_LEVELS, TriageRequest, TriageView, default_tlp};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{FromRequestParts, Path as UrlPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use scrutineer_core::{Engine, Severity};
use scrutineer_store::{FindingFilter, OnDisk, RunRecord, Store};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The error binding it.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(std::io::Error),
    /// The async runtime could not start.
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    /// The TLS certificate or key could not be read or used.
    #[error("TLS: {0}")]
    Tls(String),
}

/// Errors as the API reports them: one status code per kind, a JSON body.
#[derive(Debug)]
pub enum ApiError {
    /// No valid token (401).
    Unauthorized,
    /// The token's role may not read this (403).
    Forbidden,
    /// No such route or record (404).
    NotFound(String),
    /// Not a GET (405).
    MethodNotAllowed,
    /// A bad query or path (400).
    BadRequest(String),
    /// The server failed (500).
    Internal(String),
    /// The store is gone from under the server (deleted or replaced).
    Unavailable(String),
    /// A state-changing request without its anti-forgery token or from another origin,
    /// or a role that may not change this (403).
    Refused(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "sign in at /login, or send a token: Authorization: Bearer TOKEN".to_owned(),
            ),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "this token's role may not read this".to_owned()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method".to_owned())
            }
            ApiError::Refused(m) => (StatusCode::FORBIDDEN, m),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
        };
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}

impl From<scrutineer_report::InputError> for ApiError {
    fn from(e: scrutineer_report::InputError) -> ApiError {
        match e {
            scrutineer_report::InputError::Store(e) => ApiError::from(e),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<scrutineer_store::StoreError> for ApiError {
    fn from(e: scrutineer_store::StoreError) -> ApiError {
        match e {
            scrutineer_store::StoreError::Gone { .. } => ApiError::Unavailable(e.to_string()),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

/// A query string parsed into `T`, or a JSON 400 naming what was wrong (axum's own
/// rejection is plain text).
struct ApiQuery<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// Who made a request. Put on the request by the token or session check, and on the
/// response too, where the access log reads it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's or user's name.
    pub name: String,
    /// The token's or user's role.
    pub role: Role,
    /// Engines whose voter-identifying fields this caller sees (every engine for an
    /// admin, none for a viewer, an analyst's grant otherwise).
    pub voter_engines: Vec<Engine>,
    /// The session's anti-forgery token, for a signed-in browser (`None` for a token).
    pub csrf: Option<String>,
    /// The SHA-256 of the session cookie, for a signed-in browser.
    pub session_key: Option<String>,
}

impl Caller {
    /// A caller with `role` and a grant of voter fields, the role applied to the grant.
    pub fn new(name: &str, role: Role, granted: &[Engine]) -> Caller {
        let voter_engines = match role {
            Role::Admin => Engine::ALL.to_vec(),
            Role::Viewer => Vec::new(),
            Role::Analyst => granted.to_vec(),
        };
        Caller { name: name.to_owned(), role, voter_engines, csrf: None, session_key: None }
    }
}

/// How many rows requests without a valid token may add to the access log: `rows` per
/// `window` one by one, the rest counted in one row at the end of the window.
#[derive(Debug, Clone, Copy)]
pub struct RefusedLogLimit {
    /// Rows written one by one per window.
    pub rows: u32,
    /// The window's length.
    pub window: Duration,
}

impl Default for RefusedLogLimit {
    fn default() -> Self {
        RefusedLogLimit { rows: 60, window: Duration::from_secs(60) }
    }
}

/// How [`serve`] serves.
pub struct ServerConfig {
    /// The address to listen on (`127.0.0.1:8080`).
    pub listen: String,
    /// Checked at each request (read again whenever it changed): adding or revoking a
    /// token takes effect at once.
    pub tokens_path: PathBuf,
    /// How long a client may take to send a request's headers (against slowloris).
    pub header_read_timeout: Duration,
    /// How much requests without a valid token may write to the access log.
    pub refused_log: RefusedLogLimit,
    /// Lock-out and session lifetime; `sessions.tls` must agree with `tls`.
    pub sessions: SessionOptions,
    /// Serve HTTPS with this certificate chain and key (PEM files), instead of HTTP.
    pub tls: Option<TlsFiles>,
}

/// The PEM files HTTPS is served with.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Reads the certificate and key into a rustls acceptor (HTTP/1.1 only, TLS 1.2 and 1.3,
/// the `ring` provider).
fn tls_acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, ServerError> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| ServerError::Tls(format!("reading the certificate {}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!("{} holds no certificate", files.cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ServerError::Tls(format!("reading the private key {}: {e}", files.key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            ServerError::Tls(format!("{} and {}: {e}", files.cert.display(), files.key.display()))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// How signed-in browsers are treated.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionOptions {
    /// Lock-out and session lifetime.
    pub policy: SignInPolicy,
    /// Whether the server is reached over TLS: cookies are then `Secure` and the
    /// expected origin is `https://`.
    pub tls: bool,
}

/// Read connections kept open; also how many reads run at once.
const READERS: usize = 4;

struct RefusedWindow {
    started: Instant,
    started_at: DateTime<Utc>,
    written: u32,
    suppressed: u64,
}

/// The dashboard page as last rendered, and the store change it was rendered at.
struct CachedPage {
    change: i64,
    /// The page split where the per-caller banner goes (shared, not copied, by every
    /// response).
    before_banner: bytes::Bytes,
    after_banner: bytes::Bytes,
    content_security_policy: HeaderValue,
}

/// The server's state: the store's connections, the token file's path, the dashboard's
/// cache and the access log's limits.
pub struct AppState {
    /// The writing connection (triage, the inbox, the access log). Only ever locked on
    /// blocking threads.
    writer: Arc<Mutex<Store>>,
    /// Requests' access-log rows, to the thread that writes them in batches.
    access_rows: std::sync::mpsc::Sender<PendingRow>,
    readers: Mutex<Vec<Store>>,
    read_permits: tokio::sync::Semaphore,
    on_disk: OnDisk,
    store_gone_reported: AtomicBool,
    store_path: PathBuf,
    tokens_path: PathBuf,
    /// One page per set of engines whose voter fields its readers see.
    dashboard: Mutex<std::collections::HashMap<Vec<Engine>, Arc<CachedPage>>>,
    /// Held while the dashboard renders, so that clients arriving meanwhile wait for that
    /// page instead of rendering it again.
    rendering: tokio::sync::Mutex<()>,
    renders: AtomicU64,
    refused_limit: RefusedLogLimit,
    refused: Mutex<RefusedWindow>,
    sessions: SessionOptions,
    /// Password hashes computed at once: each takes 19 MiB and a core for tens of
    /// milliseconds, so a flood of sign-ins queues here instead of exhausting memory.
    hashing: tokio::sync::Semaphore,
    /// Live updates: what the store's poller tells the open event streams.
    live: live::Live,
    /// TAXII status resources of posts since the server started, with who posted.
    taxii_status: Mutex<std::collections::HashMap<String, (String, serde_json::Value)>>,
    /// TAXII collections' objects, built once per change of the store.
    taxii_entries: taxii::EntriesCache,
    /// `/api/findings` answers, kept per store state.
    answers: answers::AnswerCache,
    /// The token file as last read, with what its metadata was then.
    tokens: Mutex<Option<(TokenStamp, Arc<TokenFile>)>>,
    /// A read connection for [`AppState::sharing_version`] alone.
    version_reader: Mutex<Option<Store>>,
}

/// What identifies a version of the token file without reading it: `tokens add` and
/// `revoke` write a new file and rename it into place (a new inode), an edit in place
/// changes the size or the modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TokenStamp {
    present: bool,
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    dev_ino_ctime: (u64, u64, i64, i64),
}

impl TokenStamp {
    fn of(path: &std::path::Path) -> std::io::Result<TokenStamp> {
        let m = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(TokenStamp {
                    present: false,
                    len: 0,
                    modified: None,
                    #[cfg(unix)]
                    dev_ino_ctime: (0, 0, 0, 0),
                });
            }
            Err(e) => return Err(e),
        };
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        Ok(TokenStamp {
            present: true,
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            dev_ino_ctime: (m.dev(), m.ino(), m.ctime(), m.ctime_nsec()),
        })
    }

    /// Whether a file with this stamp may have been written again since without the
    /// stamp changing: file times move in clock ticks, so a write within the same tick
    /// as the one read leaves them equal. Such a file is read again at every request
    /// until it is older than that.
    fn recent(&self) -> bool {
        self.modified
            .and_then(|m| std::time::SystemTime::now().duration_since(m).ok())
            .is_none_or(|age| age < Duration::from_secs(2))
    }
}

/// The state as the handlers share it.
pub type Shared = Arc<AppState>;

impl AppState {
    /// The server's state over `store` (which writes the access log; readers are opened
    /// beside it from the same path).
    pub fn new(store: Store, tokens_path: PathBuf, refused_limit: RefusedLogLimit) -> Shared {
        AppState::with_sessions(store, tokens_path, refused_limit, SessionOptions::default())
    }

    /// [`AppState::new`] with how signed-in browsers are treated.
    pub fn with_sessions(
        store: Store,
        tokens_path: PathBuf,
        refused_limit: RefusedLogLimit,
        sessions: SessionOptions,
    ) -> Shared {
        let on_disk = store.on_disk();
        let store_path = store.path().to_path_buf();
        let writer = Arc::new(Mutex::new(store));
        let (access_rows, pending) = std::sync::mpsc::channel();
        {
            let (writer, on_disk) = (writer.clone(), on_disk.clone());
            // Ends when the state is dropped (and with it the sender).
            std::thread::Builder::new()
                .name("access-log".into())
                .spawn(move || write_access_rows(&writer, &on_disk, &pending))
                .map(drop)
                .unwrap_or_else(|e| eprintln!("scrutineer serve: starting the access-log writer: {e}"));
        }
        Arc::new(AppState {
            sessions,
            access_rows,
            live: live::Live::new(),
            taxii_status: Mutex::new(std::collections::HashMap::new()),
            taxii_entries: taxii::EntriesCache::default(),
            answers: answers::AnswerCache::default(),
            tokens: Mutex::new(None),
            version_reader: Mutex::new(None),
            hashing: tokio::sync::Semaphore::new(2),
            store_path,
            on_disk,
            writer,
            readers: Mutex::new(Vec::new()),
            read_permits: tokio::sync::Semaphore::new(READERS),
            store_gone_reported: AtomicBool::new(false),
            tokens_path,
            dashboard: Mutex::new(std::collections::HashMap::new()),
            rendering: tokio::sync::Mutex::new(()),
            renders: AtomicU64::new(0),
            refused_limit,
            refused: Mutex::new(RefusedWindow {
                started: Instant::now(),
                started_at: Utc::now(),
                written: 0,
                suppressed: 0,
            }),
        })
    }

    /// The store's [`Store::sharing_version`] now, read on the calling thread: one row
    /// read, a few microseconds, less than handing the read to a blocking thread and
    /// back, which is what a request answered from a cache would otherwise cost most.
    /// (The store is in WAL mode: a reader never waits for a writer.)
    fn sharing_version(&self) -> Result<(i64, i64), ApiError> {
        self.check_store()?;
        let mut reader = self.version_reader.lock().map_err(|_| poisoned())?;
        let store = match reader.as_ref() {
            Some(s) => s,
            None => reader.insert(Store::open_read_only(&self.store_path)?),
        };
        Ok(store.sharing_version()?)
    }

    /// How many times the dashboard page has been rendered since the server started.
    pub fn dashboard_renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// The caller a presented token belongs to, from the token file as it is now: read
    /// again whenever its metadata changed (or it was written too recently to tell),
    /// else kept from the last read.
    fn caller(&self, token: &str) -> Result<Option<Caller>, ApiError> {
        let refuse = |e: &dyn std::fmt::Display| {
            eprintln!("scrutineer serve: refusing requests: {e}");
            ApiError::Internal(format!("reading the token file: {e}"))
        };
        let stamp = TokenStamp::of(&self.tokens_path).map_err(|e| refuse(&e))?;
        let kept = self
            .tokens
            .lock()
            .map_err(|_| poisoned())?
            .as_ref()
            .filter(|(s, _)| *s == stamp && !s.recent())
            .map(|(_, t)| t.clone());
        let tokens = match kept {
            Some(t) => t,
            None => {
                let t = Arc::new(TokenFile::load(&self.tokens_path).map_err(|e| refuse(&e))?);
                *self.tokens.lock().map_err(|_| poisoned())? = Some((stamp, t.clone()));
                t
            }
        };
        Ok(tokens.check(token).map(|e| Caller::new(&e.name, e.role, &e.voter_engines)))
    }

    /// Writes the row counting the refused requests not logged one by one, if the window
    /// is over (or `force`, at shutdown) and any were left out.
    pub fn flush_refused(&self, force: bool) -> Result<(), ApiError> {
        let pending = {
            let mut w = self.refused.lock().map_err(|_| poisoned())?;
            if !force && w.started.elapsed() < self.refused_limit.window {
                return Ok(());
            }
            let pending = (w.suppressed > 0).then(|| (w.suppressed, w.started_at));
            *w = RefusedWindow { started: Instant::now(), started_at: Utc::now(), written: 0, suppressed: 0 };
            pending
        };
        if let Some((count, since)) = pending {
            let action =
                format!("http refused: {count} more requests without a valid token, not logged one by one");
            let target = format!("from {} to {}", since.to_rfc3339(), Utc::now().to_rfc3339());
            self.write_log("anonymous", &action, &target)?;
        }
        Ok(())
    }

    /// Whether a row for a request without a valid token may be written now.
    fn admit_refused_row(&self) -> Result<bool, ApiError> {
        let mut w = self.refused.lock().map_err(|_| poisoned())?;
        if w.written < self.refused_limit.rows {
            w.written += 1;
            Ok(true)
        } else {
            w.suppressed += 1;
            Ok(false)
        }
    }

    fn write_log(&self, who: &str, action: &str, target: &str) -> Result<(), ApiError> {
        self.on_disk.check()?;
        let writer = self.writer.lock().map_err(|_| poisoned())?;
        writer
            .log_access(who, action, target)
            .map_err(|e| ApiError::Internal(format!("writing the access log: {e}")))
    }

    /// Has the access-log writer thread write a row with the next batch, and waits for
    /// the batch's commit: a request is answered only once it is logged.
    async fn log_request(&self, who: &str, action: &str, target: &str) -> Result<(), ApiError> {
        let (done, committed) = tokio::sync::oneshot::channel();
        let row = scrutineer_store::AccessRecord {
            at: Utc::now(),
            actor: who.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
        };
        let stopped = || ApiError::Internal("writing the access log: the writer has stopped".into());
        self.access_rows.send(PendingRow { row, done }).map_err(|_| stopped())?;
        match committed.await.map_err(|_| stopped())? {
            Ok(()) => Ok(()),
            Err(LogFailure::Gone(m)) => Err(ApiError::Unavailable(m)),
            Err(LogFailure::Failed(m)) => Err(ApiError::Internal(format!("writing the access log: {m}"))),
        }
    }

    /// Whether the window of refused requests is over, so that [`AppState::flush_refused`]
    /// has a row to write.
    fn refused_window_over(&self) -> bool {
        self.refused.lock().map(|w| w.started.elapsed() >= self.refused_limit.window).unwrap_or(true)
    }

    fn check_store(&self) -> Result<(), ApiError> {
        self.on_disk.check().map_err(|e| {
            if !self.store_gone_reported.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "scrutineer serve: {e}; every request now fails with 503 until the store is back and the server restarted"
                );
            }
            ApiError::from(e)
        })
    }
}

/// A request's access-log row, and where to say whether its batch was committed.
struct PendingRow {
    row: scrutineer_store::AccessRecord,
    done: tokio::sync::oneshot::Sender<Result<(), LogFailure>>,
}

/// Why a batch of access-log rows was not written, told to each of its requests.
#[derive(Debug, Clone)]
enum LogFailure {
    /// The store file is gone (503).
    Gone(String),
    /// Anything else (500).
    Failed(String),
}

/// Rows written in one transaction at most.
const ACCESS_BATCH: usize = 1024;

/// The access-log writer: takes every row waiting, writes them in one transaction
/// (one commit, and one emptying of the readers' page caches, per batch instead of per
/// request), and tells each request the outcome.
fn write_access_rows(
    writer: &Mutex<Store>,
    on_disk: &OnDisk,
    pending: &std::sync::mpsc::Receiver<PendingRow>,
) {
    while let Ok(first) = pending.recv() {
        let mut batch = vec![first];
        while batch.len() < ACCESS_BATCH {
            match pending.try_recv() {
                Ok(row) => batch.push(row),
                Err(_) => break,
            }
        }
        let rows: Vec<scrutineer_store::AccessRecord> = batch.iter().map(|p| p.row.clone()).collect();
        let outcome = match on_disk.check() {
            Err(e) => Err(LogFailure::Gone(e.to_string())),
            Ok(()) => match writer.lock() {
                Err(_) => Err(LogFailure::Failed("a lock was poisoned by a failed request".into())),
                Ok(mut store) => store.log_access_batch(&rows).map_err(|e| LogFailure::Failed(e.to_string())),
            },
        };
        for p in batch {
            // A request that went away meanwhile has nobody to tell.
            let _ = p.done.send(outcome.clone());
        }
    }
}

fn poisoned() -> ApiError {
    ApiError::Internal("a lock was poisoned by a failed request".into())
}

/// Runs `read` on a read-only connection from the pool, on a blocking thread.
async fn read<T: Send + 'static>(
    st: &Shared,
    read: impl FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit = st.read_permits.acquire().await.map_err(|_| ApiError::Internal("shutting down".into()))?;
    let state = st.clone();
    let out = tokio::task::spawn_blocking(move || {
        state.check_store()?;
        let idle = state.readers.lock().map_err(|_| poisoned())?.pop();
        let store = match idle {
            Some(s) => s,
            None => Store::open_read_only(&state.store_path)?,
        };
        let out = read(&store);
        state.readers.lock().map_err(|_| poisoned())?.push(store);
        out
    })
    .await
    .map_err(|e| ApiError::Internal(format!("a read failed: {e}")))?;
    drop(permit);
    out
}

/// Runs `write` on the store's writing connection, on a blocking thread.
async fn write<T: Send + 'static>(
    st: &Shared,
    write: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = st.clone();
    tokio::task::spawn_blocking(move || {
        state.check_store()?;
        let mut writer = state.writer.lock().map_err(|_| poisoned())?;
        write(&mut writer)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("a write failed: {e}")))?
}

/// Builds the router (used by [`serve`] and, in process, by tests).
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/login", get(session::sign_in_page).post(session::sign_in_post))
        .route("/", get(dashboard))
        .route("/logout", axum::routing::post(session::logout))
        .route("/api/openapi.json", get(|| async { axum::Json(openapi_document()) }))
        .route("/static/workspace.js", get(workspace_js))
        .route("/api/events", get(live::events))
        .route("/api/summary", get(summary))
        .route("/api/findings", get(findings))
        .route("/api/findings/{id}", get(finding))
        .route("/api/runs", get(runs))
        .route("/api/stix/infra", get(stix_infra))
        .route("/api/access-log", get(access_log))
        .route("/findings", get(triage::findings_page))
        .route("/findings/{id}", get(triage::finding_page))
        .route("/findings/{id}/triage", axum::routing::post(triage::form_triage_post))
        .route("/api/findings/{id}/triage", get(triage::api_triage).post(triage::api_triage_post))
        .route("/findings/{id}/allow", axum::routing::post(allow::form_add))
        .route("/api/findings/{id}/allow", axum::routing::post(allow::api_add))
        .route("/allow-list", get(allow::page))
        .route("/allow-list/{id}", axum::routing::post(allow::form_change))
        .route("/api/allow-list", get(allow::api_list))
        .route("/api/allow-list/{id}", axum::routing::post(allow::api_change))
        .route("/overview", get(overview::page))
        .route("/api/overview", get(overview::api))
        .route("/api/imported-indicators", get(taxii::imported_indicators))
        .route("/taxii2/", get(taxii::discovery))
        .route("/taxii2/api/", get(taxii::api_root))
        .route("/taxii2/api/collections/", get(taxii::collections))
        .route("/taxii2/api/collections/{id}/", get(taxii::collection))
        .route("/taxii2/api/collections/{id}/objects/", get(taxii::objects).post(taxii::post_objects))
        .route("/taxii2/api/collections/{id}/objects/{object_id}/", get(taxii::object))
        .route("/taxii2/api/collections/{id}/manifest/", get(taxii::manifest))
        .route("/taxii2/api/status/{id}/", get(taxii::status))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        // Around the fallbacks too: every path but the public ones needs a caller, so
        // that a stranger learns nothing from a 404 or a 405.
        .layer(middleware::from_fn_with_state(state.clone(), session::check_state_change))
        .layer(middleware::from_fn_with_state(state.clone(), session::require_caller))
        .layer(middleware::from_fn_with_state(state.clone(), log_access))
        .layer(middleware::from_fn_with_state(state.clone(), store_present))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Binds, calls `on_listen` with the address, and serves until Ctrl-C.
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
    let acceptor = config.tls.as_ref().map(tls_acceptor).transpose()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|source| ServerError::Bind { addr: config.listen.clone(), source })?;
        let addr = listener.local_addr().map_err(ServerError::Serve)?;
        on_listen(addr);
        let state = AppState::with_sessions(store, config.tokens_path, config.refused_log, config.sessions);
        let app = router(state.clone());
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
        let mut tick = tokio::time::interval(config.refused_log.window.min(Duration::from_secs(60)));
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let stream = match accepted {
                        Ok((stream, _)) => stream,
                        Err(e) => {
                            // Out of file descriptors, say: wait rather than spin.
                            eprintln!("scrutineer serve: accepting a connection: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app.clone());
                    let mut http = hyper::server::conn::http1::Builder::new();
                    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(config.header_read_timeout);
                    if let Some(acceptor) = &acceptor {
                        let (acceptor, watcher) = (acceptor.clone(), graceful.watcher());
                        let handshake_timeout = config.header_read_timeout;
                        tokio::spawn(async move {
                            // The handshake has the header timeout too, so a client that
                            // stalls in it holds nothing for long.
                            let Ok(Ok(tls)) = tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await
                            else {
                                return;
                            };
                            let conn = http.serve_connection(hyper_util::rt::TokioIo::new(tls), service);
                            let _ = watcher.watch(conn).await;
                        });
                        continue;
                    }
                    let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        // A client that hangs up or times out ends only its own connection.
                        let _ = conn.await;
                    });
                }
                _ = tick.tick() => {
                    let st = state.clone();
                    let _ = tokio::task::spawn_blocking(move || st.flush_refused(false)).await;
                }
                _ = &mut ctrl_c => break,
            }
        }
        drop(listener);
        let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
        let st = state.clone();
        let _ = tokio::task::spawn_blocking(move || st.flush_refused(true)).await;
        Ok(())
    })
}

/// Headers on every response: nothing cached (findings about voters must not linger in
/// a shared browser's cache), nothing framed or sniffed, and no script or style but the
/// page's own (the dashboard sets its own policy, naming its script's hash).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null`
    // on a form's POST, and the origin check of state changes needs the real one. No
    // address leaves for another site either way.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        );
    }
    resp
}

/// Fails every request with 503 once the store file is gone (nothing is logged: the log
/// would go to an unlinked file).
async fn store_present(State(st): State<Shared>, req: Request, next: Next) -> Response {
    match st.check_store() {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

/// Writes every request but `/healthz` to the access log: who (the token's name, or
/// `anonymous`), the status, the method and path, and the query, cleaned by [`hygiene`].
async fn log_access(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let method = hygiene::truncate(req.method().as_str(), hygiene::MAX_METHOD);
    let raw_path = req.uri().path().to_owned();
    let path = hygiene::loggable_path(&raw_path);
    let query = hygiene::loggable_query(req.uri().query().unwrap_or(""));
    let resp = next.run(req).await;
    if raw_path == "/healthz" {
        return resp;
    }
    let who = resp.extensions().get::<Caller>().map(|c| c.name.clone());
    let action = format!("http {} {method} {path}", resp.status().as_u16());
    let logged = async {
        if st.refused_window_over() {
            let state = st.clone();
            tokio::task::spawn_blocking(move || state.flush_refused(false))
                .await
                .map_err(|e| ApiError::Internal(format!("writing the access log: {e}")))??;
        }
        match who {
            Some(who) => st.log_request(&who, &action, &query).await,
            None if st.admit_refused_row()? => st.log_request("anonymous", &action, &query).await,
            None => Ok(()),
        }
    }
    .await;
    // A failed log write must not pass silently: the request fails instead.
    match logged {
        Ok(()) => resp,
        Err(e) => e.into_response(),
    }
}

/// The dashboard page for the store as it is now: rendered at most once per change of
/// its findings or runs, by one request while the others wait for it.
async fn dashboard_page(st: &Shared, voter_engines: &[Engine]) -> Result<Arc<CachedPage>, ApiError> {
    let now = read(st, |s| Ok(s.change_counter()?)).await?;
    let cached = || -> Result<Option<Arc<CachedPage>>, ApiError> {
        Ok(st
            .dashboard
            .lock()
            .map_err(|_| poisoned())?
            .get(voter_engines)
            .filter(|p| p.change == now)
            .cloned())
    };
    if let Some(page) = cached()? {
        return Ok(page);
    }
    let _rendering = st.rendering.lock().await;
    if let Some(page) = cached()? {
        return Ok(page);
    }
    let store_name = st.store_path.display().to_string();
    let state = st.clone();
    let may_see = voter_engines.to_vec();
    let page = read(st, move |s| {
        let (change, contents) =
            s.snapshot(|s| Ok((s.change_counter()?, scrutineer_report::read_store(s))))?;
        let scrutineer_report::StoreContents { mut findings, runs } = contents?;
        redact_findings(&mut findings, &may_see);
        let input = scrutineer_report::ReportInput {
            title: "Scrutineer dashboard".into(),
            generated_at: Utc::now(),
            store: store_name,
            findings,
            runs,
            exercise: None,
        };
        // No reload: the page's live-updates script brings it up to date (see `live`).
        let options = scrutineer_report::RenderOptions { refresh_seconds: None };
        let page = cached_page(change, &scrutineer_report::render_page(&input, &options));
        state.renders.fetch_add(1, Ordering::Relaxed);
        Ok(page)
    })
    .await?;
    let page = Arc::new(page);
    st.dashboard.lock().map_err(|_| poisoned())?.insert(voter_engines.to_vec(), page.clone());
    Ok(page)
}

/// Keeps a rendered dashboard for serving: its two halves around the per-caller banner,
/// and a content security policy naming the page's own scripts.
fn cached_page(change: i64, page: &scrutineer_report::Page) -> CachedPage {
    let hashes: String = page
        .inline_scripts()
        .iter()
        .map(|body| {
            format!(" 'sha256-{}'", base64ct::Base64::encode_string(&Sha256::digest(body.as_bytes())))
        })
        .collect();
    let policy = format!(
        "default-src 'none'; script-src 'self'{}; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        hashes
    );
    CachedPage {
        change,
        before_banner: bytes::Bytes::copy_from_slice(page.before_banner().as_bytes()),
        after_banner: bytes::Bytes::copy_from_slice(page.after_banner().as_bytes()),
        content_security_policy: HeaderValue::from_str(&policy)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
    }
}

use base64ct::Encoding as _;

async fn dashboard(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Response, ApiError> {
    let page = dashboard_page(&st, &caller.voter_engines).await?;
    // The live page says who is signed in, links the workspace's pages, gives a
    // signed-in browser a way out, and loads the live-updates script (the banner is
    // right after the header, so the script is deferred until the page is read).
    let banner = format!(
        "<div style=\"padding:4px 32px;background:#2e3b5e;color:#fff;font-size:13px\" data-view=\"dashboard\">{}\
<style>header+div a{{color:#cde}}header+div p{{margin:0}}</style></div><script src=\"/static/workspace.js\" defer></script>",
        pages::nav(&caller.name, caller.role.as_str(), caller.csrf.as_deref())
    );
    let length = page.before_banner.len() + banner.len() + page.after_banner.len();
    let parts = [page.before_banner.clone(), bytes::Bytes::from(banner), page.after_banner.clone()];
    let body = axum::body::Body::from_stream(futures_util::stream::iter(
        parts.map(Ok::<_, std::convert::Infallible>),
    ));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::CONTENT_SECURITY_POLICY, page.content_security_policy.clone());
    Ok(resp)
}

/// `GET /static/workspace.js`: the live-updates script of every workspace page.
async fn workspace_js() -> Response {
    let mut resp = pages::WORKSPACE_JS.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    resp
}

#[derive(Serialize)]
struct SummaryRow {
    engine: String,
    severity: String,
    findings: usize,
}

async fn summary(State(st): State<Shared>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    read(&st, summary_of).await.map(axum::Json)
}

fn summary_of(store: &Store) -> Result<serde_json::Value, ApiError> {
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
    Ok(serde_json::json!({"counts": counts, "latest_runs": latest}))
}

#[derive(Deserialize)]
struct FindingsQuery {
    engine: Option<String>,
    kind: Option<String>,
    min_severity: Option<String>,
    status: Option<String>,
    q: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

/// The response header naming the cursor of the next page (`after=` it), sent when the
/// page is full: the id of the last finding the page looked at.
const NEXT_AFTER_HEADER: &str = "x-next-after";

/// `GET /api/findings`: findings in the listing order (most severe, most confident, then
/// id), filtered by engine, kind, severity floor, triage status and text, a page of
/// `limit` (default 1000) after the `after` cursor.
async fn findings(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    uri: axum::http::Uri,
    ApiQuery(q): ApiQuery<FindingsQuery>,
) -> Result<Response, ApiError> {
    let query = uri.query().map(str::to_owned);
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
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::BadRequest(format!("unknown status '{s}' (one of {})", STATUSES.join(", "))));
    }
    let limit = q.limit.unwrap_or(1000);
    if limit == 0 {
        return Err(ApiError::BadRequest("limit must be at least 1".into()));
    }
    let needle = q.q.filter(|n| !n.is_empty());
    let filter = FindingFilter {
        engine,
        kind: q.kind,
        min_severity,
        status,
        text: needle.clone(),
        after: q.after.filter(|a| !a.is_empty()),
        limit: Some(limit),
        ..FindingFilter::default()
    };
    let may_see = caller.voter_engines.clone();
    let key = (query.unwrap_or_default(), may_see.clone());
    let state = st.clone();
    let kept = st.answers.get(&key, st.sharing_version()?);
    let answer = match kept {
        Some(answer) => answer,
        None => {
            read(&st, move |s| {
                // The page and the state it is kept under from one read transaction, so that
                // a write landing meanwhile is not hidden behind an answer kept as newer.
                let (version, answer) = s
                    .snapshot(|s| {
                        Ok((s.sharing_version()?, findings_page(s, filter, needle.as_deref(), &may_see)))
                    })
                    .map_err(|e| match e {
                        scrutineer_store::StoreError::UnknownCursor(_) => ApiError::BadRequest(e.to_string()),
                        e => ApiError::from(e),
                    })?;
                let answer = answer?;
                state.answers.put(key, version, answer.clone());
                Ok(answer)
            })
            .await?
        }
    };
    let mut resp = Response::new(axum::body::Body::from(answer.body));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(next) = answer.next {
        let value = HeaderValue::from_str(&next)
            .map_err(|_| ApiError::Internal(format!("finding id '{next}' cannot be a header")))?;
        resp.headers_mut().insert(NEXT_AFTER_HEADER, value);
    }
    Ok(resp)
}

/// A page of findings as the caller may see them (a JSON list), and the cursor after it
/// if the page is full. The text is matched in SQL, then again on the redacted title
/// and summary, so that a search cannot tell a caller what a redacted field held; a
/// finding that fails the second match is skipped and the page filled from further on.
fn findings_page(
    store: &Store,
    mut filter: FindingFilter,
    needle: Option<&str>,
    may_see: &[Engine],
) -> Result<answers::Answer, ApiError> {
    let limit = filter.limit.unwrap_or(usize::MAX);
    let needle = needle.map(str::to_lowercase);
    let mut body = Vec::with_capacity(64 * 1024);
    body.push(b'[');
    let mut written = 0;
    let next = loop {
        filter.limit = Some(limit - written);
        let batch = store.stored_findings(&filter).map_err(|e| match e {
            scrutineer_store::StoreError::UnknownCursor(_) => ApiError::BadRequest(e.to_string()),
            e => ApiError::from(e),
        })?;
        let full = batch.len() == limit - written;
        let last = batch.last().map(|f| f.id.0.clone());
        for f in batch {
            if answers::push_visible(&mut body, f, may_see, needle.as_deref())? {
                written += 1;
            }
        }
        if !full {
            break None;
        }
        if written == limit {
            break last;
        }
        filter.after = last;
    };
    body.push(b']');
    Ok(answers::Answer { body: bytes::Bytes::from(body), next })
}

/// One finding as `/api/findings/{id}` gives it: the finding's own fields and the
/// findings of other engines it is linked to by a shared address or account.
#[derive(Serialize)]
struct FindingWithLinks {
    #[serde(flatten)]
    finding: scrutineer_core::Finding,
    links: Vec<scrutineer_store::FindingLink>,
}

async fn finding(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    id: Result<UrlPath<String>, axum::extract::rejection::PathRejection>,
) -> Result<axum::Json<FindingWithLinks>, ApiError> {
    let UrlPath(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let (mut found, links) = read(&st, move |s| {
        let f = s.finding(&id)?.ok_or_else(|| ApiError::NotFound(format!("no finding '{id}'")))?;
        let links = s.links_of(&f.id.0)?;
        Ok((f, links))
    })
    .await?;
    redact_finding(&mut found, &caller.voter_engines);
    Ok(axum::Json(FindingWithLinks { finding: found, links }))
}

#[derive(Deserialize)]
struct RunsQuery {
    engine: Option<String>,
}

async fn runs(
    State(st): State<Shared>,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> Result<axum::Json<Vec<RunRecord>>, ApiError> {
    let engine = q
        .engine
        .as_deref()
        .map(|e| e.parse::<Engine>().map_err(|_| ApiError::BadRequest(format!("unknown engine '{e}'"))))
        .transpose()?;
    Ok(axum::Json(read(&st, move |s| Ok(s.runs(engine)?)).await?))
}

async fn stix_infra(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let filter = FindingFilter { engine: Some(Engine::Infra), ..FindingFilter::default() };
    let mut findings = read(&st, move |s| Ok(s.findings(&filter)?)).await?;
    redact_findings(&mut findings, &caller.voter_engines);
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
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if caller.role < Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let limit = q.limit.unwrap_or(200);
    let rows = read(&st, move |s| Ok(s.access_log(limit)?)).await?;
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| serde_json::json!({"at": r.at, "actor": r.actor, "action": r.action, "target": r.target}))
        .collect();
    Ok(axum::Json(serde_json::Value::Array(rows)))
}
