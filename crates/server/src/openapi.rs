//! The OpenAPI 3.1 description of every route, served at `/api/openapi.json`. The
//! router's tests keep it equal to the routes (`tests/openapi.rs`): every route of
//! [`crate::router`] is described with its methods, and every described operation is
//! answered.

use serde_json::{Map, Value, json};

/// One operation the server answers.
struct Operation {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    /// Query parameters (all optional).
    query: &'static [&'static str],
    /// The request body's media type, if it takes one.
    body: Option<&'static str>,
    /// The success response's media type.
    produces: &'static str,
    /// Needs no caller.
    public: bool,
}

const JSON: &str = "application/json";
const HTML: &str = "text/html";
const FORM: &str = "application/x-www-form-urlencoded";
const TAXII: &str = "application/taxii+json;version=2.1";

const fn op(method: &'static str, path: &'static str, summary: &'static str) -> Operation {
    Operation { method, path, summary, query: &[], body: None, produces: JSON, public: false }
}

const OPERATIONS: &[Operation] = &[
    Operation {
        public: true,
        produces: "text/plain",
        ..op("get", "/healthz", "ok while the store is in place")
    },
    Operation { public: true, produces: HTML, ..op("get", "/login", "the sign-in form") },
    Operation {
        public: true,
        body: Some(FORM),
        produces: HTML,
        ..op("post", "/login", "sign in (name, password, csrf); 303 to /")
    },
    Operation {
        body: Some(FORM),
        produces: HTML,
        ..op("post", "/logout", "end the session (csrf); 303 to /login")
    },
    Operation { query: &["refresh"], produces: HTML, ..op("get", "/", "the dashboard") },
    op("get", "/api/openapi.json", "this document"),
    Operation {
        produces: "text/javascript",
        ..op("get", "/static/workspace.js", "the live-updates script of the workspace's pages")
    },
    Operation {
        produces: "text/event-stream",
        ..op(
            "get",
            "/api/events",
            "live updates (server-sent events: hello, findings, triage, resync, gone); Last-Event-ID replays missed triage events",
        )
    },
    op("get", "/api/summary", "findings per engine and severity, the latest runs"),
    Operation {
        query: &["engine", "kind", "min_severity", "status", "q", "after", "limit"],
        ..op(
            "get",
            "/api/findings",
            "findings, most severe first, voter fields by role; filtered by engine, kind, min_severity, triage status and text q (title or summary); a full page names its last finding in the x-next-after header, the after= of the next page",
        )
    },
    op("get", "/api/findings/{id}", "one finding by id or unique prefix"),
    op("get", "/api/findings/{id}/triage", "a finding's triage and history"),
    Operation {
        body: Some(JSON),
        ..op("post", "/api/findings/{id}/triage", "change a finding's triage (analyst, admin)")
    },
    Operation { query: &["engine"], ..op("get", "/api/runs", "engine runs with their summaries") },
    op("get", "/api/stix/infra", "the infra findings as a STIX 2.1 bundle"),
    Operation { query: &["limit"], ..op("get", "/api/access-log", "the access log (admin)") },
    op("get", "/api/imported-indicators", "indicators partners posted to the TAXII inbox"),
    Operation {
        query: &["refresh"],
        produces: HTML,
        ..op(
            "get",
            "/overview",
            "findings per engine and day, severity, status, jurisdiction; new since the last visit",
        )
    },
    op("get", "/api/overview", "the overview's figures"),
    Operation {
        query: &["refresh"],
        produces: HTML,
        ..op("get", "/allow-list", "the allow-list: entries, what they leave out of scans, their history")
    },
    Operation {
        body: Some(FORM),
        produces: HTML,
        ..op(
            "post",
            "/allow-list/{id}",
            "change an entry's reason or remove it (reason, action, csrf; analyst, admin); 303 back",
        )
    },
    op("get", "/api/allow-list", "the allow-list with what each entry leaves out and its history"),
    Operation {
        body: Some(JSON),
        ..op("post", "/api/allow-list/{id}", "change an entry: {\"reason\", \"remove\"} (analyst, admin)")
    },
    Operation {
        body: Some(FORM),
        produces: HTML,
        ..op(
            "post",
            "/findings/{id}/allow",
            "allow-list a false positive's sources or accounts (reason, csrf; analyst, admin); 303 to /allow-list",
        )
    },
    Operation {
        body: Some(JSON),
        ..op("post", "/api/findings/{id}/allow", "allow-list a false positive: {\"reason\"} (analyst, admin)")
    },
    Operation {
        query: &["engine", "status", "q", "limit", "refresh"],
        produces: HTML,
        ..op("get", "/findings", "the findings list with filters and search")
    },
    Operation {
        query: &["refresh"],
        produces: HTML,
        ..op("get", "/findings/{id}", "a finding, its evidence, triage and history")
    },
    Operation {
        body: Some(FORM),
        produces: HTML,
        ..op("post", "/findings/{id}/triage", "the triage form (analyst, admin); 303 back")
    },
    Operation { produces: TAXII, ..op("get", "/taxii2/", "TAXII 2.1 discovery") },
    Operation { produces: TAXII, ..op("get", "/taxii2/api/", "the TAXII API root") },
    Operation { produces: TAXII, ..op("get", "/taxii2/api/collections/", "the collections") },
    Operation { produces: TAXII, ..op("get", "/taxii2/api/collections/{id}/", "one collection") },
    Operation {
        produces: TAXII,
        query: &["added_after", "limit", "next", "match[type]", "match[id]"],
        ..op(
            "get",
            "/taxii2/api/collections/{id}/objects/",
            "a collection's objects at the reader's clearance",
        )
    },
    Operation {
        body: Some(TAXII),
        produces: TAXII,
        ..op("post", "/taxii2/api/collections/{id}/objects/", "post an envelope to the inbox")
    },
    Operation {
        produces: TAXII,
        ..op("get", "/taxii2/api/collections/{id}/objects/{object_id}/", "one object")
    },
    Operation {
        produces: TAXII,
        query: &["added_after", "limit", "next", "match[type]", "match[id]"],
        ..op("get", "/taxii2/api/collections/{id}/manifest/", "a collection's manifest")
    },
    Operation { produces: TAXII, ..op("get", "/taxii2/api/status/{id}/", "a post's status") },
];

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

fn operation_json(o: &Operation) -> Value {
    let mut parameters = path_parameters(o.path);
    parameters.extend(
        o.query
            .iter()
            .map(|q| json!({"name": q, "in": "query", "required": false, "schema": {"type": "string"}})),
    );
    let mut responses = Map::new();
    let ok = match (o.method, o.path) {
        ("post", "/login")
        | ("post", "/logout")
        | ("post", "/findings/{id}/triage")
        | ("post", "/findings/{id}/allow")
        | ("post", "/allow-list/{id}") => "303",
        ("post", "/taxii2/api/collections/{id}/objects/") => "202",
        _ => "200",
    };
    responses.insert(ok.into(), json!({"description": "success", "content": {o.produces: {}}}));
    let error = json!({"description": "an error", "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}});
    for code in ["400", "401", "403", "404", "405", "500", "503"] {
        responses.insert(code.into(), error.clone());
    }
    let mut op = json!({
        "summary": o.summary,
        "operationId": format!("{} {}", o.method, o.path),
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(media) = o.body {
        op["requestBody"] = json!({"required": true, "content": {media: {}}});
    }
    if o.public {
        op["security"] = json!([]);
    }
    op
}

/// The OpenAPI 3.1 document of every route.
pub fn openapi_document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        entry[o.method] = operation_json(o);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Scrutineer",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The analyst workspace and API of scrutineer serve: findings, triage, and TAXII 2.1 sharing.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token from `scrutineer tokens add`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "scrutineer_session", "description": "a browser's session from /login; state changes also need the X-CSRF-Token header"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    })
}
