//! The OpenAPI document at `/api/openapi.json` is kept equal to the routes: the routes
//! the router declares (read from its source, the one list of them) are exactly the
//! document's paths with the same methods, and the router answers every documented
//! operation and refuses (405) every method the document leaves out.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use scrutineer_server::{AppState, RefusedLogLimit, Role, TokenFile, openapi_document, router};
use scrutineer_store::Store;
use tower::ServiceExt as _;

/// `.route("PATH", get(..).post(..))` lines of the router, as path -> methods.
fn declared_routes() -> BTreeMap<String, BTreeSet<String>> {
    let source = include_str!("../src/lib.rs");
    let body = &source[source.find("pub fn router(").expect("the router")..];
    let body = &body[..body.find("\n}\n").expect("its end")];
    let mut out = BTreeMap::new();
    for line in body.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
        let path = line[8..].split('"').next().expect("path").to_owned();
        let rest = &line[8 + path.len()..];
        let mut methods = BTreeSet::new();
        for m in ["get", "post", "put", "patch", "delete"] {
            if rest.contains(&format!("{m}(")) {
                methods.insert(m.to_owned());
            }
        }
        assert!(!methods.is_empty(), "no method read from {line}");
        out.insert(path, methods);
    }
    out
}

fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let doc = openapi_document();
    assert_eq!(doc["openapi"], "3.1.0");
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(p, ops)| (p.clone(), ops.as_object().expect("operations").keys().cloned().collect()))
        .collect()
}

#[test]
fn the_document_lists_exactly_the_routes_the_router_declares() {
    let declared = declared_routes();
    assert!(declared.len() >= 20, "only {} routes read from the router", declared.len());
    assert_eq!(documented(), declared);
}

#[tokio::test]
async fn every_documented_operation_is_answered_and_no_other_method() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_path = dir.path().join("s.db");
    let tokens_path = dir.path().join("s.db.tokens");
    let store = Store::open(&store_path).expect("store");
    let mut tokens = TokenFile::default();
    let admin = tokens.add("root", Role::Admin).expect("add");
    tokens.save(&tokens_path).expect("save");
    let state = AppState::new(store, tokens_path, RefusedLogLimit::default());
    let served: serde_json::Value = {
        let req = Request::builder()
            .uri("/api/openapi.json")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .body(Body::empty())
            .expect("request");
        let resp = router(state.clone()).oneshot(req).await.expect("infallible");
        assert_eq!(resp.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
        serde_json::from_slice(&bytes).expect("json")
    };
    assert_eq!(served, openapi_document());
    for (path, methods) in documented() {
        let uri = path.replace("{id}", "x").replace("{object_id}", "y");
        for method in ["get", "post"] {
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .expect("request");
            let resp = router(state.clone()).oneshot(req).await.expect("infallible");
            let status = resp.status();
            if resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "text/event-stream") {
                // The live stream does not end: answered, with its media type, is enough.
                assert!(methods.contains(method), "{method} {uri} streams but is not documented");
                continue;
            }
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
            let text = String::from_utf8_lossy(&bytes);
            if methods.contains(method) {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri} is documented");
                assert!(!text.contains("no such route"), "{method} {uri} is documented but not routed");
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {uri} is answered but not documented"
                );
            }
        }
    }
}
