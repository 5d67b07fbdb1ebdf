//! The server in process, through its `Router` (`tower::ServiceExt::oneshot`): tokens
//! read at each request, what reaches the access log, how much of it a stranger can
//! write, the dashboard's cache, a store deleted while serving, response headers and
//! JSON errors. (`crates/scrutineer/tests/cli/server_api.rs` runs the real binary on a port.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use scrutineer_core::{Engine, Finding, Severity, StoredSummary};
use scrutineer_server::{AppState, RefusedLogLimit, Shared, router};
use scrutineer_server::{Role, TokenFile};
use scrutineer_store::Store;
use sha2::Digest as _;
use tower::ServiceExt as _;

struct Fixture {
    _dir: tempfile::TempDir,
    store_path: PathBuf,
    tokens_path: PathBuf,
    analyst: String,
    admin: String,
    state: Shared,
}

fn finding(key: &str) -> Finding {
    Finding::new(Engine::Infra, "scanning", key, format!("scan from {key}")).severity(Severity::High)
}

/// The stored summary of an infra scan of `records` records.
fn infra_summary(records: u64) -> StoredSummary {
    let totals = scrutineer_infra::ScanTotals {
        records,
        malformed: 0,
        normal: records,
        anomaly: 0,
        attack: 0,
        findings: 2,
        seconds: 0.1,
        records_per_second: records as f64 * 10.0,
        events_csv: PathBuf::from("out/events.csv"),
    };
    StoredSummary::new(&scrutineer_infra::RunSummary::new(totals, &[], &[])).expect("serialize")
}

fn fixture(limit: RefusedLogLimit) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_path = dir.path().join("store.db");
    let tokens_path = dir.path().join("store.db.tokens");
    let mut store = Store::open(&store_path).expect("store");
    let run = store.begin_run(Engine::Infra, "infra scan access.log").expect("run");
    store.put_findings(Some(run), &[finding("10.0.0.1"), finding("10.0.0.2")]).expect("put");
    store.finish_run(run, &infra_summary(10)).expect("finish");
    let mut tokens = TokenFile::default();
    let analyst = tokens.add("ana", Role::Analyst).expect("add");
    let admin = tokens.add("root", Role::Admin).expect("add");
    tokens.save(&tokens_path).expect("save");
    let state = AppState::new(store, tokens_path.clone(), limit);
    Fixture { _dir: dir, store_path, tokens_path, analyst, admin, state }
}

async fn get(state: &Shared, uri: &str, token: Option<&str>) -> Response {
    let mut req = Request::builder().uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    router(state.clone()).oneshot(req.body(Body::empty()).expect("request")).await.expect("infallible")
}

async fn body(resp: Response) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf8")
}

/// Every row of the access log, read through a connection of its own.
fn access_rows(store_path: &Path) -> Vec<(String, String, String)> {
    let store = Store::open(store_path).expect("reader");
    let rows = store.access_log(100_000).expect("log");
    rows.into_iter().map(|r| (r.actor, r.action, r.target)).collect()
}

/// Issue 16, item 6: a revoked token is refused at once, a token added while serving
/// works at once (before, the file was read once at start).
#[tokio::test]
async fn tokens_are_checked_against_the_file_as_it_is_now() {
    let fx = fixture(RefusedLogLimit::default());
    assert_eq!(get(&fx.state, "/api/summary", Some(&fx.analyst)).await.status(), StatusCode::OK);
    let mut tokens = TokenFile::load(&fx.tokens_path).expect("load");
    let bob = tokens.add("bob", Role::Analyst).expect("add");
    tokens.revoke("ana").expect("revoke");
    tokens.save(&fx.tokens_path).expect("save");
    assert_eq!(get(&fx.state, "/api/summary", Some(&fx.analyst)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(get(&fx.state, "/api/summary", Some(&bob)).await.status(), StatusCode::OK);
    let login = get(&fx.state, &format!("/login?token={bob}"), None).await;
    assert_eq!(login.status(), StatusCode::BAD_REQUEST, "a token in a URL is refused, valid or not");
    // A token file that cannot be read refuses everyone rather than letting anyone in.
    std::fs::write(&fx.tokens_path, "not,a,valid,line\n").expect("write");
    let resp = get(&fx.state, "/api/summary", Some(&bob)).await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// Issue 16, item 7: no token reaches the access log, whatever the path, the case of
/// the parameter's name or its encoding; headers are never logged.
#[tokio::test]
async fn no_credential_reaches_the_access_log() {
    let fx = fixture(RefusedLogLimit::default());
    let t = fx.analyst.clone();
    let encoded: String = t.bytes().map(|b| format!("%{b:02x}")).collect();
    let uris = [
        format!("/login?token={t}"),
        format!("/login/?token={t}"),
        format!("/Login?token={t}"),
        format!("/api/summary?token={t}"),
        format!("/api/summary?TOKEN={t}"),
        format!("/api/findings?engine=infra&%74oken={t}"),
        format!("/login?token={encoded}"),
        format!("/{t}"),
        format!("/api/findings/{encoded}"),
        format!("/api/findings?kind={t}"),
    ];
    for uri in &uris {
        get(&fx.state, uri, None).await;
        get(&fx.state, uri, Some(&t)).await;
    }
    get(&fx.state, "/api/summary", Some("scr_0123456789abcdef0123456789abcdef")).await;
    let rows = access_rows(&fx.store_path);
    assert!(rows.len() >= uris.len() * 2, "{} rows", rows.len());
    let secret = &t["scr_".len()..];
    for (actor, action, target) in &rows {
        let row = format!("{actor} {action} {target}").to_lowercase();
        assert!(!row.contains(secret), "a token reached the log: {row}");
        assert!(
            !row.contains("0123456789abcdef0123456789abcdef"),
            "a presented token reached the log: {row}"
        );
    }
    assert!(
        rows.iter().any(|(_, a, q)| a == "http 200 GET /api/summary" && q == "token=[redacted]"),
        "{rows:?}"
    );
}

/// Issue 16, item 8: requests without a token cannot grow the store without bound:
/// each row is bounded, and past a rate they are counted in one row.
#[tokio::test]
async fn strangers_cannot_grow_the_store_without_bound() {
    let fx = fixture(RefusedLogLimit { rows: 10, window: Duration::from_secs(3600) });
    let size = |p: &Path| {
        let wal = PathBuf::from(format!("{}-wal", p.display()));
        std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    };
    let before = size(&fx.store_path);
    let query = "a".repeat(60_000);
    for i in 0..300 {
        let path = if i % 2 == 0 { "/api/findings" } else { "/no/such/route" };
        let resp = get(&fx.state, &format!("{path}?x={query}"), None).await;
        assert!(resp.status().is_client_error() || resp.status() == StatusCode::SEE_OTHER);
    }
    let grown = size(&fx.store_path).saturating_sub(before);
    assert!(grown < 256 * 1024, "300 refused requests grew the store by {grown} bytes");
    let rows = access_rows(&fx.store_path);
    let anonymous: Vec<_> = rows.iter().filter(|(a, _, _)| a == "anonymous").collect();
    assert_eq!(anonymous.len(), 10, "{anonymous:?}");
    for (_, action, target) in &anonymous {
        assert!(action.len() + target.len() < 1024, "a row of {} bytes", action.len() + target.len());
        assert!(target.contains("bytes)"), "a truncated query says it was cut: {target}");
    }
    // A caller with a token is always logged.
    assert_eq!(get(&fx.state, "/api/summary", Some(&fx.admin)).await.status(), StatusCode::OK);
    assert!(access_rows(&fx.store_path).iter().any(|(a, _, _)| a == "root"));
}

/// Issue 16, item 8: the refused requests left out are counted in one row when their
/// window ends.
#[tokio::test]
async fn refused_requests_past_the_rate_are_counted_in_one_row() {
    let fx = fixture(RefusedLogLimit { rows: 2, window: Duration::from_millis(300) });
    for _ in 0..7 {
        get(&fx.state, "/api/summary", None).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    get(&fx.state, "/api/summary", Some(&fx.analyst)).await;
    let rows = access_rows(&fx.store_path);
    let refused: Vec<_> = rows.iter().filter(|(a, _, _)| a == "anonymous").collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(
        refused.iter().any(|(_, action, _)| action.starts_with("http refused: 5 more requests")),
        "{refused:?}"
    );
}

/// Issue 16, item 10: the dashboard is rendered once per change of the store, however
/// many ask for it at once, and a change shows at the next request.
#[tokio::test]
async fn the_dashboard_is_rendered_once_per_store_change() {
    let fx = fixture(RefusedLogLimit::default());
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (state, token) = (fx.state.clone(), fx.analyst.clone());
        clients.spawn(async move {
            let resp = get(&state, "/", Some(&token)).await;
            (resp.status(), body(resp).await)
        });
    }
    let pages = clients.join_all().await;
    assert!(
        pages.iter().all(|(status, page)| *status == StatusCode::OK && page.contains("signed in as ana"))
    );
    assert_eq!(fx.state.dashboard_renders(), 1);
    let page = body(get(&fx.state, "/", Some(&fx.analyst)).await).await;
    assert!(page.contains("signed in as ana (analyst)"));
    assert_eq!(fx.state.dashboard_renders(), 1, "access-log rows alone must not re-render");
    // An admin sees voter fields the analyst (granted none) does not: a page of its own.
    let page = body(get(&fx.state, "/", Some(&fx.admin)).await).await;
    assert!(page.contains("signed in as root (admin)"), "the banner is per caller");
    assert!(!page.contains("scan from 10.9.9.9"));
    assert_eq!(fx.state.dashboard_renders(), 2);
    body(get(&fx.state, "/", Some(&fx.admin)).await).await;
    assert_eq!(fx.state.dashboard_renders(), 2);

    let mut other = Store::open(&fx.store_path).expect("another writer");
    other.put_findings(None, &[finding("10.9.9.9")]).expect("put");
    let page = body(get(&fx.state, "/", Some(&fx.analyst)).await).await;
    assert!(page.contains("scan from 10.9.9.9"), "a new finding is not on the page");
    assert_eq!(fx.state.dashboard_renders(), 3);
}

/// Issue 17: the dashboard reads run summaries through the report's one reader; a
/// summary of a version this build does not know fails the page with a message naming
/// the version (not a page of zeros), and an unversioned one of the current layout is
/// read.
#[tokio::test]
async fn the_dashboard_refuses_an_unknown_summary_version_by_name() {
    let fx = fixture(RefusedLogLimit::default());
    let page = body(get(&fx.state, "/", Some(&fx.analyst)).await).await;
    assert!(page.contains("10 log records"), "the stored summary is on the page");

    let other = Store::open(&fx.store_path).expect("another writer");
    let run = other.begin_run(Engine::Infra, "infra scan later.log").expect("run");
    let mut unversioned = infra_summary(37);
    unversioned.version = None;
    other.finish_run(run, &unversioned).expect("finish");
    let page = body(get(&fx.state, "/", Some(&fx.analyst)).await).await;
    assert!(page.contains("37 log records"), "an unversioned summary of the same layout migrates");

    let run = other.begin_run(Engine::Infra, "infra scan future.log").expect("run");
    let mut future = infra_summary(99);
    future.version = Some(9);
    other.finish_run(run, &future).expect("finish");
    let resp = get(&fx.state, "/", Some(&fx.analyst)).await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = body(resp).await;
    assert!(text.contains("version 9"), "{text}");
    assert!(text.contains("infra scan future.log"), "{text}");
}

/// Issue 16, item 12: a store deleted while serving fails every request with 503 (and
/// `/healthz` says so) instead of writing to an unlinked file.
#[tokio::test]
async fn a_store_deleted_while_serving_fails_requests() {
    let fx = fixture(RefusedLogLimit::default());
    assert_eq!(get(&fx.state, "/api/summary", Some(&fx.analyst)).await.status(), StatusCode::OK);
    std::fs::remove_file(&fx.store_path).expect("delete");
    for uri in ["/api/summary", "/", "/healthz", "/api/access-log"] {
        let token = if uri == "/api/access-log" { &fx.admin } else { &fx.analyst };
        let resp = get(&fx.state, uri, Some(token)).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        let text = body(resp).await;
        let json: serde_json::Value = serde_json::from_str(&text).expect("json error");
        assert!(json["error"].as_str().is_some_and(|e| e.contains("deleted or replaced")), "{text}");
    }
    assert!(!fx.store_path.exists(), "the server recreated the store");
}

/// Issue 16, item 12: every response forbids caching, framing and sniffing and carries
/// a content security policy; the dashboard's names its own script's hash.
#[tokio::test]
async fn responses_carry_the_security_headers() {
    let fx = fixture(RefusedLogLimit::default());
    for (uri, token) in [
        ("/", Some(fx.analyst.as_str())),
        ("/api/summary", Some(fx.analyst.as_str())),
        ("/api/summary", None),
        ("/nope", None),
        ("/healthz", None),
    ] {
        let resp = get(&fx.state, uri, token).await;
        let h = resp.headers();
        let value =
            |name: header::HeaderName| h.get(&name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(value(header::CACHE_CONTROL), "no-store", "{uri}");
        assert_eq!(value(header::X_FRAME_OPTIONS), "DENY", "{uri}");
        assert_eq!(value(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{uri}");
        let csp = value(header::CONTENT_SECURITY_POLICY);
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        if uri == "/" {
            let page = body(resp).await;
            let script =
                page.split("<script>").nth(1).and_then(|s| s.split("</script>").next()).expect("a script");
            let hash = base64_of(&sha2::Sha256::digest(script.as_bytes()));
            assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
            assert!(!csp.contains("script-src 'unsafe-inline'"), "{csp}");
        }
    }
}

fn base64_of(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Issue 16, item 12: bad requests get the JSON error body the README promises.
#[tokio::test]
async fn bad_requests_get_json_errors() {
    let fx = fixture(RefusedLogLimit::default());
    for (uri, token, status) in [
        ("/api/findings?limit=lots", Some(fx.analyst.as_str()), StatusCode::BAD_REQUEST),
        ("/api/access-log?limit=-1", Some(fx.admin.as_str()), StatusCode::BAD_REQUEST),
        ("/api/findings?engine=bogus", Some(fx.analyst.as_str()), StatusCode::BAD_REQUEST),
        ("/login?token=scr_00", None, StatusCode::BAD_REQUEST),
        ("/no/such/route", Some(fx.analyst.as_str()), StatusCode::NOT_FOUND),
        ("/api/no/such/route", None, StatusCode::UNAUTHORIZED),
        ("/api/summary", None, StatusCode::UNAUTHORIZED),
    ] {
        let resp = get(&fx.state, uri, token).await;
        assert_eq!(resp.status(), status, "{uri}");
        let ct =
            resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(ct.starts_with("application/json"), "{uri}: {ct}");
        let json: serde_json::Value = serde_json::from_str(&body(resp).await).expect("json");
        assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()), "{uri}: {json}");
    }
    let post = Request::builder().method("POST").uri("/api/summary").body(Body::empty()).expect("request");
    let resp = router(fx.state.clone()).oneshot(post).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "who asks is checked before what is asked");
    let post = Request::builder()
        .method("POST")
        .uri("/api/summary")
        .header(header::AUTHORIZATION, format!("Bearer {}", fx.analyst))
        .body(Body::empty())
        .expect("request");
    let resp = router(fx.state.clone()).oneshot(post).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(serde_json::from_str::<serde_json::Value>(&body(resp).await).is_ok());
}

/// Issue 20: a browser signs in with a name and password from the form (double-submit
/// cookie), is logged under its name, and a refused sign-in never logs the password.
#[tokio::test]
async fn a_sign_in_from_the_form_is_logged_under_its_name() {
    let fx = fixture(RefusedLogLimit::default());
    {
        let store = Store::open(&fx.store_path).expect("store");
        scrutineer_server::add_user(&store, "ana", Role::Analyst, "a long pass phrase", &[]).expect("user");
    }
    let form = get(&fx.state, "/login", None).await;
    assert_eq!(form.status(), StatusCode::OK);
    let set_cookie = form.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).expect("cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let signin = set_cookie.split(';').next().expect("pair").to_owned();
    let csrf = signin.split_once('=').expect("value").1.to_owned();
    assert!(body(form).await.contains(&format!("value=\"{csrf}\"")));
    let post = |fields: String, cookie: String| {
        let state = fx.state.clone();
        async move {
            let req = Request::builder()
                .method("POST")
                .uri("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie)
                .body(Body::from(fields))
                .expect("request");
            router(state).oneshot(req).await.expect("infallible")
        }
    };
    let wrong = post(format!("csrf={csrf}&name=ana&password=hunter2-typed-wrong"), signin.clone()).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let no_csrf = post("name=ana&password=a+long+pass+phrase".into(), signin.clone()).await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN, "a sign-in without the form's token");
    let ok = post(format!("csrf={csrf}&name=ana&password=a+long+pass+phrase"), signin.clone()).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cookies: Vec<&str> =
        ok.headers().get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
    let session = cookies.iter().find(|c| c.starts_with("scrutineer_session=")).expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict") && !session.contains("Secure")
    );
    let rows = access_rows(&fx.store_path);
    assert!(rows.iter().any(|(a, act, _)| a == "ana" && act == "http 303 POST /login"), "{rows:?}");
    assert!(
        rows.iter().any(|(a, act, _)| a == "ana" && act == "sign-in refused (wrong password)"),
        "{rows:?}"
    );
    assert!(!format!("{rows:?}").contains("hunter2"), "a password reached the log");
}

/// `/api/runs` gives each run's summary with the layout version it was written in, so
/// that a script reading the API can tell layouts apart as the dashboard does.
#[tokio::test]
async fn runs_carry_their_summary_version() {
    let fx = fixture(RefusedLogLimit::default());
    let other = Store::open(&fx.store_path).expect("another writer");
    let run = other.begin_run(Engine::Infra, "infra scan old.log").expect("run");
    let mut unversioned = infra_summary(3);
    unversioned.version = None;
    other.finish_run(run, &unversioned).expect("finish");
    let resp = get(&fx.state, "/api/runs?engine=infra", Some(&fx.analyst)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let runs: serde_json::Value = serde_json::from_str(&body(resp).await).expect("json");
    let runs = runs.as_array().expect("an array of runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["engine"], "infra");
    assert_eq!(runs[0]["summary_version"], infra_summary(1).version.expect("current version"));
    assert_eq!(runs[0]["summary"]["records"], 10);
    assert_eq!(runs[1]["command"], "infra scan old.log");
    assert!(runs[1]["summary_version"].is_null(), "{}", runs[1]);
}

/// Issue 20: a TAXII collection never serves an object above the reader's clearance:
/// the infra engine's findings default to TLP:AMBER, which an analyst reads and a viewer
/// does not; marked TLP:GREEN at triage, the viewer reads them, marked so.
#[tokio::test]
async fn taxii_collections_honour_the_readers_clearance() {
    let fx = fixture(RefusedLogLimit::default());
    let observed = |ip: &str| {
        finding(ip).evidence(scrutineer_core::Evidence::new(
            "observable",
            format!("scans from {ip}"),
            serde_json::json!({"type": "ipv4-addr", "value": ip, "sighting_count": 3}),
        ))
    };
    Store::open(&fx.store_path)
        .expect("store")
        .put_findings(None, &[observed("10.0.0.1"), observed("10.0.0.2")])
        .expect("put");
    let mut tokens = TokenFile::load(&fx.tokens_path).expect("load");
    let viewer = tokens.add("vic", Role::Viewer).expect("add");
    tokens.save(&fx.tokens_path).expect("save");
    let objects = |token: String| {
        let state = fx.state.clone();
        async move {
            let resp = get(&state, "/taxii2/api/collections/infra/objects/?limit=1000", Some(&token)).await;
            assert_eq!(resp.status(), StatusCode::OK);
            let ct = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            assert_eq!(ct, scrutineer_server::TAXII_MEDIA);
            let v: serde_json::Value = serde_json::from_str(&body(resp).await).expect("json");
            v["objects"].as_array().cloned().unwrap_or_default()
        }
    };
    let amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    let green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    let seen = objects(fx.analyst.clone()).await;
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|o| o["object_marking_refs"] == serde_json::json!([amber])), "{seen:?}");
    assert!(objects(viewer.clone()).await.is_empty(), "a viewer read TLP:AMBER objects");
    let id = Finding::new(Engine::Infra, "scanning", "10.0.0.1", "").id.0;
    let req = Request::builder()
        .method("POST")
        .uri(format!("/api/findings/{id}/triage"))
        .header(header::AUTHORIZATION, format!("Bearer {}", fx.analyst))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"tlp": "TLP:GREEN"}"#))
        .expect("request");
    let resp = router(fx.state.clone()).oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let seen = objects(viewer).await;
    assert!(!seen.is_empty(), "the finding marked TLP:GREEN is not served to a viewer");
    assert!(seen.iter().all(|o| o["object_marking_refs"] == serde_json::json!([green])), "{seen:?}");
    assert!(seen.len() < objects(fx.analyst.clone()).await.len(), "the other finding's objects were served");
}

/// A finding's JSON carries the findings it is linked to, read from the store's links.
#[tokio::test]
async fn a_finding_shows_its_links() {
    let fx = fixture(RefusedLogLimit::default());
    let (a, b) = (finding("10.0.0.1").id.0, finding("10.0.0.2").id.0);
    let mut store = Store::open(&fx.store_path).expect("writer");
    let link = scrutineer_store::NewLink {
        finding_id: a.clone(),
        linked_id: b.clone(),
        kind: scrutineer_store::LinkKeyKind::Address,
        value: "10.0.0.9".into(),
    };
    store.sync_links("test", &[link]).expect("links");
    let shown: serde_json::Value = serde_json::from_str(
        &body(get(&fx.state, &format!("/api/findings/{b}"), Some(&fx.analyst)).await).await,
    )
    .expect("json");
    assert_eq!(shown["id"], b.as_str());
    let links = shown["links"].as_array().expect("links");
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(
        (links[0]["linked_id"].as_str(), links[0]["kind"].as_str()),
        (Some(a.as_str()), Some("address"))
    );
}

/// Ids of a `/api/findings` answer, and its next-page cursor.
async fn finding_ids(state: &Shared, uri: &str, token: &str) -> (Vec<String>, Option<String>) {
    let resp = get(state, uri, Some(token)).await;
    assert_eq!(resp.status(), StatusCode::OK, "{uri}");
    let next = resp.headers().get("x-next-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let v: serde_json::Value = serde_json::from_str(&body(resp).await).expect("json");
    let ids =
        v.as_array().expect("a list").iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect();
    (ids, next)
}

#[tokio::test]
async fn findings_filter_by_status_and_text_and_page_by_cursor() {
    let fx = fixture(RefusedLogLimit::default());
    // Ties in severity and confidence, so that the cursor must order by id too.
    let many: Vec<Finding> = (0..23)
        .map(|i| {
            let severity = [Severity::Low, Severity::Medium, Severity::High][i % 3];
            let title =
                if i % 4 == 0 { format!("Beacon to host {i}") } else { format!("scan from 10.1.0.{i}") };
            Finding::new(Engine::Infra, "scanning", &format!("10.1.0.{i}"), title)
                .severity(severity)
                .confidence([0.5, 0.9][i % 2])
        })
        .collect();
    Store::open(&fx.store_path).expect("store").put_findings(None, &many).expect("put");
    let (everything, none_after) = finding_ids(&fx.state, "/api/findings?engine=infra", &fx.analyst).await;
    assert_eq!(everything.len(), 25);
    assert_eq!(none_after, None, "a page that is not full has no next page");

    // Pages of 4 by the cursor are the whole list, in order, once each.
    let mut paged = Vec::new();
    let mut uri = "/api/findings?engine=infra&limit=4".to_owned();
    loop {
        let (ids, next) = finding_ids(&fx.state, &uri, &fx.analyst).await;
        assert!(ids.len() <= 4);
        paged.extend(ids);
        match next {
            Some(after) => uri = format!("/api/findings?engine=infra&limit=4&after={after}"),
            None => break,
        }
    }
    assert_eq!(paged, everything);

    // Status: triaged findings by their status, the rest as `new`.
    let triage = |id: &str, status: &str| {
        let req = Request::builder()
            .method("POST")
            .uri(format!("/api/findings/{id}/triage"))
            .header(header::AUTHORIZATION, format!("Bearer {}", fx.analyst))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!(r#"{{"status": "{status}"}}"#)))
            .expect("request");
        router(fx.state.clone()).oneshot(req)
    };
    for id in &everything[3..6] {
        assert_eq!(triage(id, "escalated").await.expect("infallible").status(), StatusCode::OK);
    }
    assert_eq!(triage(&everything[7], "resolved").await.expect("infallible").status(), StatusCode::OK);
    let (escalated, _) = finding_ids(&fx.state, "/api/findings?status=escalated", &fx.analyst).await;
    assert_eq!(escalated, everything[3..6].to_vec());
    let (new, _) = finding_ids(&fx.state, "/api/findings?engine=infra&status=new", &fx.analyst).await;
    let expected: Vec<String> = everything
        .iter()
        .enumerate()
        .filter(|(i, _)| !(3..6).contains(i) && *i != 7)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(new, expected);
    let (escalated_pages, next) =
        finding_ids(&fx.state, "/api/findings?status=escalated&limit=2", &fx.analyst).await;
    let after = next.expect("a full page has a cursor");
    let (rest, _) =
        finding_ids(&fx.state, &format!("/api/findings?status=escalated&limit=2&after={after}"), &fx.analyst)
            .await;
    assert_eq!([escalated_pages, rest].concat(), everything[3..6].to_vec());

    // Text: in the title or summary, letters without case, `%` and `_` as themselves.
    let (beacons, _) = finding_ids(&fx.state, "/api/findings?q=bEaCoN", &fx.analyst).await;
    let expected: Vec<String> = many
        .iter()
        .filter(|f| f.title.starts_with("Beacon"))
        .map(|f| f.id.0.clone())
        .filter(|id| everything.contains(id))
        .collect();
    assert_eq!(beacons.len(), 6);
    assert_eq!(beacons.iter().collect::<std::collections::BTreeSet<_>>(), expected.iter().collect());
    let (wild, _) = finding_ids(&fx.state, "/api/findings?q=%25", &fx.analyst).await;
    assert!(wild.is_empty(), "'%' matched as a wildcard: {wild:?}");

    for bad in ["/api/findings?status=closed", "/api/findings?after=no-such-finding", "/api/findings?limit=0"]
    {
        let resp = get(&fx.state, bad, Some(&fx.analyst)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        let v: serde_json::Value = serde_json::from_str(&body(resp).await).expect("json");
        assert!(v["error"].is_string(), "{bad}: {v}");
    }
}

#[tokio::test]
async fn taxii_objects_follow_findings_written_by_another_process() {
    let fx = fixture(RefusedLogLimit::default());
    let observed = |ip: &str| {
        finding(ip).evidence(scrutineer_core::Evidence::new(
            "observable",
            format!("scans from {ip}"),
            serde_json::json!({"type": "ipv4-addr", "value": ip, "sighting_count": 3}),
        ))
    };
    let count = || async {
        let resp = get(&fx.state, "/taxii2/api/collections/infra/objects/?limit=1000", Some(&fx.admin)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&body(resp).await).expect("json");
        v["objects"].as_array().map_or(0, Vec::len)
    };
    let mut engine = Store::open(&fx.store_path).expect("store");
    engine.put_findings(None, &[observed("10.0.0.9")]).expect("put");
    let before = count().await;
    assert_eq!(count().await, before, "the same store serves the same objects");
    engine.put_findings(None, &[observed("10.0.0.10")]).expect("put");
    assert!(count().await > before, "a finding written after the collection was read is not served");
}

/// A search and a page served from the stored evidence text still redact voter fields
/// for a caller who may not see them, after an admin's unredacted answer of the same
/// page was kept: answers are kept per visibility, and the text is matched again after
/// redaction, so that a viewer cannot find a finding by a voter id it hides.
#[tokio::test]
async fn kept_and_searched_answers_redact_voter_fields_per_caller() {
    let fx = fixture(RefusedLogLimit::default());
    let mut tokens = TokenFile::load(&fx.tokens_path).expect("load");
    let viewer = tokens.add("vic", Role::Viewer).expect("add");
    tokens.save(&fx.tokens_path).expect("save");
    let voter = Finding::new(Engine::Ballots, "duplicate_return", "v1", "Duplicate return: voter 7654321")
        .summary("voter 7654321 returned two envelopes")
        .evidence(scrutineer_core::Evidence::new(
            "envelope",
            "envelope E9 of voter 7654321",
            serde_json::json!({"envelope_id": "E9", "voter_id": "7654321"}),
        ));
    let plain = Finding::new(Engine::Ballots, "late_return", "e2", "Late returns in precinct 12")
        .evidence(scrutineer_core::Evidence::new("count", "3 late", serde_json::json!({"late": 3})));
    Store::open(&fx.store_path)
        .expect("store")
        .put_findings(None, &[voter.clone(), plain.clone()])
        .expect("put");
    let page = |token: String, uri: &'static str| {
        let state = fx.state.clone();
        async move {
            let resp = get(&state, uri, Some(&token)).await;
            assert_eq!(resp.status(), StatusCode::OK, "{uri}");
            body(resp).await
        }
    };
    for _ in 0..2 {
        let by_admin = page(fx.admin.clone(), "/api/findings?engine=ballots").await;
        assert!(by_admin.contains("7654321"), "{by_admin}");
        let by_viewer = page(viewer.clone(), "/api/findings?engine=ballots").await;
        assert!(!by_viewer.contains("7654321"), "{by_viewer}");
        let listed: Vec<Finding> = serde_json::from_str(&by_viewer).expect("findings");
        let shown = listed.iter().find(|f| f.id == voter.id).expect("the voter finding, redacted");
        assert_eq!(shown.evidence[0].data["voter_id"], scrutineer_server::REDACTED);
        assert_eq!(
            listed.iter().find(|f| f.id == plain.id),
            Some(&plain),
            "a finding without voter fields as stored"
        );
        let found: Vec<Finding> =
            serde_json::from_str(&page(fx.admin.clone(), "/api/findings?q=7654321").await).expect("findings");
        assert_eq!(found.iter().map(|f| &f.id).collect::<Vec<_>>(), [&voter.id]);
        let found = page(viewer.clone(), "/api/findings?q=7654321").await;
        assert_eq!(found, "[]", "a viewer found a finding by the voter id it hides");
    }
}
