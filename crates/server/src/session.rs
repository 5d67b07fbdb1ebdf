//! Who is calling (an API token, or a signed-in browser's session), the sign-in form,
//! sign-out, and the checks every state-changing request passes.
//!
//! A browser signs in with a name and a password posted from the sign-in form; the
//! session cookie (`scrutineer_session`, `HttpOnly`, `SameSite=Strict`, `Secure` over
//! TLS) holds a random value the store keeps only as its SHA-256. A state-changing
//! request (any method but GET and HEAD) must come from this server's own origin (an
//! `Origin` header naming another is refused, and a browser's session request must
//! carry one), and a session's request must carry the session's anti-forgery token, in
//! the `X-CSRF-Token` header or a `csrf` form field. Tokens (`Authorization: Bearer`)
//! are not sent by browsers on their own, so they need no anti-forgery token. The
//! sign-in form itself is protected by a double-submit cookie.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use crate::accounts::{Account, random_hex, session_key};
use crate::{ApiError, Caller, Shared, pages, read, write};

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "scrutineer_session";
/// The sign-in form's double-submit cookie.
const SIGN_IN_COOKIE: &str = "scrutineer_signin";
/// The most of a form body the anti-forgery check reads.
const MAX_FORM: usize = 256 * 1024;

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Pages a browser opens get a redirect to the sign-in form; the API gets a 401.
fn unauthenticated(req: &Request) -> Response {
    let path = req.uri().path();
    let api = path.starts_with("/api/") || path.starts_with("/taxii2");
    if !api && req.method() == Method::GET {
        return Redirect::to("/login").into_response();
    }
    ApiError::Unauthorized.into_response()
}

/// The session a cookie names, if it is current and its user may still sign in.
async fn session_caller(st: &Shared, cookie: String) -> Result<Option<Caller>, ApiError> {
    let key = session_key(&cookie);
    let lookup = key.clone();
    let Some((session, user)) = read(st, move |s| Ok(s.session(&lookup)?)).await? else {
        return Ok(None);
    };
    if session.expires_at <= Utc::now() {
        write(st, move |s| Ok(s.end_session(&key)?)).await?;
        return Ok(None);
    }
    if user.disabled {
        return Ok(None);
    }
    let account = Account::from_record(&user).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut caller = Caller::new(&account.name, account.role, &account.voter_engines);
    caller.csrf = Some(session.csrf_token);
    caller.session_key = Some(key);
    Ok(Some(caller))
}

/// Paths anyone may open: the health check and the sign-in form.
pub(crate) fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/login")
}

/// Puts the [`Caller`] on the request (a token first, else a session), or refuses it;
/// public paths pass without one.
pub(crate) async fn require_caller(State(st): State<Shared>, mut req: Request, next: Next) -> Response {
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let found = if let Some(token) = bearer(req.headers()) {
        st.caller(&token)
    } else if let Some(c) = cookie(req.headers(), SESSION_COOKIE) {
        session_caller(&st, c).await
    } else {
        Ok(None)
    };
    let caller = match found {
        Ok(Some(caller)) => caller,
        Ok(None) => return unauthenticated(&req),
        Err(e) => return e.into_response(),
    };
    req.extensions_mut().insert(caller.clone());
    let mut resp = next.run(req).await;
    resp.extensions_mut().insert(caller);
    resp
}

/// The origin this server is reached at, from the request's `Host`.
fn own_origin(st: &Shared, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    Some(format!("{}://{host}", if st.sessions.tls { "https" } else { "http" }))
}

/// Refuses a state-changing request from another origin; `required` refuses one that
/// names no origin at all.
fn check_origin(st: &Shared, headers: &HeaderMap, required: bool) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("")) {
        Some(origin) => {
            if own_origin(st, headers).as_deref() == Some(origin) {
                Ok(())
            } else {
                Err(ApiError::Refused(format!("a state-changing request from another origin ({origin})")))
            }
        }
        None if required => {
            Err(ApiError::Refused("a state-changing request without an Origin header".into()))
        }
        None => Ok(()),
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Every state-changing request: from this origin, and for a session with its
/// anti-forgery token (a header, or the form's `csrf` field).
pub(crate) async fn check_state_change(State(st): State<Shared>, req: Request, next: Next) -> Response {
    // The sign-in form checks its own double-submit token.
    if matches!(*req.method(), Method::GET | Method::HEAD) || is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return ApiError::Unauthorized.into_response();
    };
    let Some(expected) = caller.csrf.clone() else {
        // A token: browsers do not send one by themselves.
        return match check_origin(&st, req.headers(), false) {
            Ok(()) => next.run(req).await,
            Err(e) => e.into_response(),
        };
    };
    if let Err(e) = check_origin(&st, req.headers(), true) {
        return e.into_response();
    }
    let header_token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(t) = header_token {
        return if same(&t, &expected) {
            next.run(req).await
        } else {
            ApiError::Refused("the anti-forgery token does not match this session".into()).into_response()
        };
    }
    if !is_form(req.headers()) {
        return ApiError::Refused("a state-changing request without the anti-forgery token".into())
            .into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::BadRequest(format!("a form of more than {MAX_FORM} bytes")).into_response();
        }
    };
    match form_field(&bytes, "csrf") {
        Some(t) if same(&t, &expected) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Some(_) => {
            ApiError::Refused("the anti-forgery token does not match this session".into()).into_response()
        }
        None => ApiError::Refused("a state-changing request without the anti-forgery token".into())
            .into_response(),
    }
}

fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(pages::PAGE_POLICY));
    resp
}

fn cookie_header(
    st: &Shared,
    name: &str,
    value: &str,
    max_age: Option<u64>,
) -> Result<HeaderValue, ApiError> {
    let secure = if st.sessions.tls { "; Secure" } else { "" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/{age}{secure}"))
        .map_err(|_| ApiError::Internal("a cookie value that is not a header".into()))
}

/// The sign-in form, with a fresh double-submit cookie. A token in the URL, the old way
/// in, is refused: URLs end up in browser histories and proxy logs.
pub(crate) async fn sign_in_page(State(st): State<Shared>, req: Request) -> Result<Response, ApiError> {
    let query = req.uri().query().unwrap_or("");
    if form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k.to_ascii_lowercase().contains("token")) {
        return Err(ApiError::BadRequest(
            "tokens are not taken in URLs: sign in with a name and password, or send Authorization: Bearer TOKEN"
                .into(),
        ));
    }
    sign_in_response(&st, StatusCode::OK, None)
}

fn sign_in_response(st: &Shared, status: StatusCode, message: Option<&str>) -> Result<Response, ApiError> {
    let csrf = random_hex().map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut resp = html(status, pages::sign_in_form(&csrf, message));
    resp.headers_mut().append(header::SET_COOKIE, cookie_header(st, SIGN_IN_COOKIE, &csrf, Some(3600))?);
    Ok(resp)
}

/// A posted sign-in: the double-submit check, then the name and password.
pub(crate) async fn sign_in_post(State(st): State<Shared>, req: Request) -> Result<Response, ApiError> {
    check_origin(&st, req.headers(), false)?;
    let expected = cookie(req.headers(), SIGN_IN_COOKIE);
    let (_, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| ApiError::BadRequest(format!("a form of more than {MAX_FORM} bytes")))?;
    let field = |n| form_field(&bytes, n).unwrap_or_default();
    let (csrf, name, password) = (field("csrf"), field("name"), field("password"));
    match expected {
        Some(e) if !csrf.is_empty() && same(&e, &csrf) => {}
        _ => {
            return Err(ApiError::Refused(
                "the sign-in form's anti-forgery token is missing or stale: open /login again".into(),
            ));
        }
    }
    let policy = st.sessions.policy;
    let attempted = name.clone();
    let _hashing = st.hashing.acquire().await.map_err(|_| ApiError::Internal("shutting down".into()))?;
    let outcome = write(&st, move |s| {
        crate::accounts::sign_in(s, &name, &password, &policy).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    match outcome {
        Ok((account, session)) => {
            let lifetime = policy.session_lifetime.as_secs();
            let mut resp = Redirect::to("/").into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(&st, SESSION_COOKIE, &session.cookie, Some(lifetime))?,
            );
            resp.headers_mut().append(header::SET_COOKIE, cookie_header(&st, SIGN_IN_COOKIE, "", Some(0))?);
            let mut caller = Caller::new(&account.name, account.role, &account.voter_engines);
            caller.csrf = Some(session.record.csrf_token);
            resp.extensions_mut().insert(caller);
            Ok(resp)
        }
        Err(refusal) => {
            // Only a known user's name is logged: a password typed into the name field
            // must not land in the log.
            if refusal != crate::Refusal::Unknown {
                let action = format!("sign-in refused ({})", refusal.as_str());
                let state = st.clone();
                tokio::task::spawn_blocking(move || state.write_log(&attempted, &action, ""))
                    .await
                    .map_err(|e| ApiError::Internal(format!("writing the access log: {e}")))??;
            }
            sign_in_response(
                &st,
                StatusCode::UNAUTHORIZED,
                Some("Sign-in refused: a wrong name or password, or an account that is locked or disabled."),
            )
        }
    }
}

/// Ends the session and clears its cookie.
pub(crate) async fn logout(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Response, ApiError> {
    if let Some(key) = caller.session_key.clone() {
        write(&st, move |s| Ok(s.end_session(&key)?)).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookie_header(&st, SESSION_COOKIE, "", Some(0))?);
    Ok(resp)
}
