//! Live updates (`/api/events`), the allow-list and the overview, through the router:
//! a stream read as a browser's EventSource reads it while another connection writes
//! the store, as an engine in another process would.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt as _;
use scrutineer_core::{Engine, Evidence, Finding, Severity};
use scrutineer_server::{AppState, RefusedLogLimit, Shared, router};
use scrutineer_server::{Role, TokenFile};
use scrutineer_store::Store;
use tower::ServiceExt as _;

struct Fixture {
    dir: tempfile::TempDir,
    analyst: String,
    viewer: String,
    state: Shared,
    scan: Finding,
}

fn scan(ip: &str) -> Finding {
    let mut f =
        Finding::new(Engine::Infra, "scanning", ip, format!("scan from {ip}")).severity(Severity::High);
    f.evidence = vec![Evidence::new(
        "observable",
        format!("source address {ip}"),
        serde_json::json!({"type": "ipv4-addr", "value": ip}),
    )];
    f
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_path = dir.path().join("store.db");
    let tokens_path = dir.path().join("store.db.tokens");
    let mut store = Store::open(&store_path).expect("store");
    let f = scan("192.0.2.10");
    store.put_findings(None, &[f.clone(), scan("198.51.100.7")]).expect("put");
    let mut tokens = TokenFile::default();
    let analyst = tokens.add("ana", Role::Analyst).expect("add");
    let viewer = tokens.add("vic", Role::Viewer).expect("add");
    tokens.save(&tokens_path).expect("save");
    let state = AppState::new(store, tokens_path, RefusedLogLimit::default());
    Fixture { dir, analyst, viewer, state, scan: f }
}

async fn send(
    state: &Shared,
    method: &str,
    uri: &str,
    token: &str,
    json: Option<serde_json::Value>,
) -> Response {
    let mut req =
        Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if json.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let body = json.map(|j| Body::from(j.to_string())).unwrap_or_else(Body::empty);
    router(state.clone()).oneshot(req.body(body).expect("request")).await.expect("infallible")
}

async fn json(resp: Response) -> serde_json::Value {
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
}

/// Reads server-sent events from a response body.
struct Events {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Events {
    fn new(resp: Response) -> Events {
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers().get(header::CONTENT_TYPE).expect("type"), "text/event-stream");
        Events { body: resp.into_body().into_data_stream(), buffer: String::new() }
    }

    /// The next event with a name (keep-alive comments skipped): (name, id, data).
    async fn next(&mut self) -> (String, Option<String>, serde_json::Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut id, mut data) = (None, None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ").or_else(|| line.strip_prefix("event:")) {
                        name = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("id: ").or_else(|| line.strip_prefix("id:")) {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:"))
                    {
                        data.push_str(v);
                    }
                }
                if let Some(name) = name {
                    let data = serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data));
                    return (name, id, data);
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.body.next())
                .await
                .expect("an event within 20 s")
                .expect("the stream goes on")
                .expect("a chunk");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event named `name`, skipping others.
    async fn next_named(&mut self, name: &str) -> (Option<String>, serde_json::Value) {
        loop {
            let (n, id, data) = self.next().await;
            if n == name {
                return (id, data);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_hear_of_triage_and_of_findings_an_engine_writes() {
    let fx = fixture();
    let mut stream = Events::new(send(&fx.state, "GET", "/api/events", &fx.viewer, None).await);
    let (_, hello) = stream.next_named("hello").await;
    assert_eq!(hello["triage"], 0);

    // An analyst triages, with a note naming a voter: the stream says who changed what,
    // never the note's text.
    let id = fx.scan.id.0.clone();
    let note = "called voter V000123 at home";
    let change = serde_json::json!({"status": "investigating", "note": note});
    let resp =
        send(&fx.state, "POST", &format!("/api/findings/{id}/triage"), &fx.analyst, Some(change)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let (event_id, data) = stream.next_named("triage").await;
        assert_eq!(data["finding_id"], id.as_str());
        assert_eq!(data["actor"], "ana");
        assert!(!data.to_string().contains("V000123"), "a note's text reached the stream: {data}");
        seen.push((
            event_id.expect("an id"),
            data["field"].as_str().expect("field").to_owned(),
            data["value"].clone(),
        ));
    }
    assert_eq!(seen[0].1, "status");
    assert_eq!(seen[0].2, "investigating");
    assert_eq!((seen[1].1.as_str(), &seen[1].2), ("note", &serde_json::Value::Null));

    // An engine in another process writes findings: the stream lists them.
    let mut engine = Store::open(fx.dir.path().join("store.db")).expect("a second connection");
    let fresh = scan("203.0.113.66");
    engine.put_findings(None, std::slice::from_ref(&fresh)).expect("put");
    let (_, written) = stream.next_named("findings").await;
    assert_eq!(written["written"], 1, "{written}");
    assert_eq!(written["ids"][0], fresh.id.0.as_str());
    assert_eq!(written["total"], 3);
    assert_eq!(written["engines"]["infra"], 3);

    // A stream that reconnects with the last id it saw gets what it missed.
    let first: i64 = seen[0].0.parse().expect("numeric id");
    let req = Request::builder()
        .uri("/api/events")
        .header(header::AUTHORIZATION, format!("Bearer {}", fx.viewer))
        .header("Last-Event-ID", first.to_string())
        .body(Body::empty())
        .expect("request");
    let mut again = Events::new(router(fx.state.clone()).oneshot(req).await.expect("infallible"));
    let (replayed_id, replayed) = again.next_named("triage").await;
    assert_eq!(replayed_id.as_deref(), Some(seen[1].0.as_str()));
    assert_eq!(replayed["field"], "note");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_false_positive_becomes_an_allow_list_entry_that_scans_honour() {
    let fx = fixture();
    let id = fx.scan.id.0.clone();
    let reason = serde_json::json!({"reason": "the county's own vulnerability scanner"});
    let early =
        send(&fx.state, "POST", &format!("/api/findings/{id}/allow"), &fx.analyst, Some(reason.clone()))
            .await;
    assert_eq!(early.status(), StatusCode::BAD_REQUEST, "not a false positive yet");
    let fp = serde_json::json!({"status": "false_positive"});
    let resp = send(&fx.state, "POST", &format!("/api/findings/{id}/triage"), &fx.analyst, Some(fp)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let by_viewer =
        send(&fx.state, "POST", &format!("/api/findings/{id}/allow"), &fx.viewer, Some(reason.clone())).await;
    assert_eq!(by_viewer.status(), StatusCode::FORBIDDEN);
    let get = send(&fx.state, "GET", &format!("/findings/{id}/allow"), &fx.analyst, None).await;
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let entry =
        json(send(&fx.state, "POST", &format!("/api/findings/{id}/allow"), &fx.analyst, Some(reason)).await)
            .await;
    assert_eq!(entry["subjects"], serde_json::json!(["192.0.2.10"]));
    assert_eq!(entry["next_run_leaves_out"][0]["finding_id"], id.as_str());
    assert_eq!(entry["next_run_leaves_out"].as_array().map(Vec::len), Some(1), "not the other source");
    let entry_id = entry["id"].as_i64().expect("id");

    // The next scan leaves the finding out, and the list says so.
    let mut engine = Store::open(fx.dir.path().join("store.db")).expect("a second connection");
    let run = engine.begin_run(Engine::Infra, "infra scan").expect("run");
    let (kept, hidden) =
        engine.apply_allow_list(run, vec![scan("192.0.2.10"), scan("203.0.113.9")]).expect("apply");
    assert_eq!((kept.len(), hidden.len()), (1, 1));
    let list = json(send(&fx.state, "GET", "/api/allow-list", &fx.viewer, None).await).await;
    assert_eq!(list[0]["last_run_left_out"][0]["finding_id"], id.as_str());

    let remove = serde_json::json!({"reason": "the contract ended", "remove": true});
    let resp =
        send(&fx.state, "POST", &format!("/api/allow-list/{entry_id}"), &fx.analyst, Some(remove)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let list = json(send(&fx.state, "GET", "/api/allow-list", &fx.viewer, None).await).await;
    assert_eq!(list[0]["active"], false);
    assert_eq!(list[0]["next_run_leaves_out"], serde_json::json!([]));
    let actions: Vec<&str> =
        list[0]["history"].as_array().expect("history").iter().filter_map(|h| h["action"].as_str()).collect();
    assert_eq!(actions, ["added", "removed"]);
    let page = send(&fx.state, "GET", "/allow-list", &fx.viewer, None).await;
    assert_eq!(page.status(), StatusCode::OK);

    let log = engine.access_log(1000).expect("log");
    assert!(
        log.iter().any(|r| r.actor == "ana" && r.action == format!("allow-list: entry {entry_id} added"))
    );
    assert!(
        log.iter().any(|r| r.actor == "ana" && r.action == format!("allow-list: entry {entry_id} removed"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_every_finding_and_what_is_new_since_the_last_visit() {
    let fx = fixture();
    let o = json(send(&fx.state, "GET", "/api/overview", &fx.viewer, None).await).await;
    let counted = |key: &str| -> u64 {
        o[key].as_array().expect("counts").iter().filter_map(|d| d["findings"].as_u64()).sum()
    };
    assert_eq!((counted("per_day"), counted("undated")), (0, 2), "the scans have no time span: {o}");
    let new: u64 = o["new_since_last_visit"]
        .as_array()
        .expect("new")
        .iter()
        .filter_map(|d| d["findings"].as_u64())
        .sum();
    assert_eq!(new, 2, "everything is new before a first visit");
    let page = send(&fx.state, "GET", "/overview", &fx.viewer, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let o = json(send(&fx.state, "GET", "/api/overview", &fx.viewer, None).await).await;
    assert!(o["last_visit"].is_string(), "{o}");
    assert_eq!(o["new_since_last_visit"], serde_json::json!([]));
    let mut engine = Store::open(fx.dir.path().join("store.db")).expect("a second connection");
    engine.put_findings(None, &[scan("203.0.113.66")]).expect("put");
    let o = json(send(&fx.state, "GET", "/api/overview", &fx.viewer, None).await).await;
    assert_eq!(o["new_since_last_visit"][0]["findings"], 1, "{o}");
}
