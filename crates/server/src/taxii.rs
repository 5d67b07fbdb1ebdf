//! A TAXII 2.1 server at `/taxii2/`: discovery, one API root, a read-only collection per
//! engine that shares (infra indicators and sightings, influence networks, hunt and
//! mail findings) and an `inbox` partners post bundles to.
//!
//! An engine collection's objects are the STIX 2.1 export of its findings
//! (`scrutineer_share::export_bundle`, one finding at a time, so that every object knows
//! the findings it came from): each object carries the TLP 2.0 marking of its finding
//! (set at triage, else the engine's default), an object shared by several findings the
//! least restrictive of theirs, and its `date_added` is when its earliest finding was
//! recorded (or, if later, when its marking was set at triage). A reader is served only objects at or below their clearance: a viewer
//! `TLP:GREEN`, an analyst `TLP:AMBER+STRICT`, an admin `TLP:RED`. Voter fields are
//! taken out of the findings first, as everywhere else.
//!
//! The inbox takes what `scrutineer infra import` takes: indicators with STIX patterns
//! whose observables it can read. Each is kept in the store (one row per object
//! version) and served back from the inbox collection; any other object is refused in
//! the status resource with the reason. `/api/imported-indicators` lists what came in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use scrutineer_core::{Engine, Finding};
use scrutineer_store::{FindingFilter, Store};
use serde_json::{Value, json};

use crate::triage::{TLP_LEVELS, default_tlp};
use crate::{ApiError, Caller, Role, Shared, read, redact_findings, write};

/// The TAXII 2.1 media type.
pub const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";
const STIX_MEDIA: &str = "application/stix+json;version=2.1";
/// The most a posted envelope may weigh.
pub const MAX_CONTENT: usize = 10 * 1024 * 1024;
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

/// The TLP 2.0 marking definitions OASIS published, by level.
const TLP_MARKINGS: [(&str, &str); 5] = [
    ("clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
    ("green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
    ("amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
    ("amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
    ("red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
];

/// TLP 1.0 markings partners may still send, read as their TLP 2.0 levels.
const TLP1_MARKINGS: [(&str, usize); 4] = [
    ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", 0),
    ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", 1),
    ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", 2),
    ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", 4),
];

/// The rank of a TLP level (`clear` 0 … `red` 4).
pub fn tlp_rank(level: &str) -> usize {
    TLP_LEVELS.iter().position(|l| *l == level).unwrap_or(TLP_LEVELS.len() - 1)
}

/// The highest TLP rank a role may read.
pub fn clearance(role: Role) -> usize {
    match role {
        Role::Viewer => tlp_rank("green"),
        Role::Analyst => tlp_rank("amber+strict"),
        Role::Admin => tlp_rank("red"),
    }
}

/// The rank of the most restrictive TLP marking on an object; `None` if it has none.
fn marking_rank(object: &Value) -> Option<usize> {
    let refs = object.get("object_marking_refs")?.as_array()?;
    refs.iter()
        .filter_map(Value::as_str)
        .filter_map(|r| {
            TLP_MARKINGS
                .iter()
                .position(|(_, id)| *id == r)
                .or_else(|| TLP1_MARKINGS.iter().find(|(id, _)| *id == r).map(|(_, rank)| *rank))
        })
        .max()
}

/// A collection this server offers.
struct CollectionDef {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    engine: Option<Engine>,
}

const COLLECTIONS: &[CollectionDef] = &[
    CollectionDef {
        name: "infra",
        title: "Election infrastructure: indicators and sightings",
        description: "Indicators of the sources that attacked or scanned election infrastructure, their sightings, campaigns and ATT&CK techniques.",
        engine: Some(Engine::Infra),
    },
    CollectionDef {
        name: "influence",
        title: "Influence operations: coordinated networks",
        description: "Coordinated account networks found in social-media data, with DISARM techniques.",
        engine: Some(Engine::Influence),
    },
    CollectionDef {
        name: "hunt",
        title: "Office computers: intrusion findings",
        description: "Findings from Windows event logs by Sigma rules and built-in detections.",
        engine: Some(Engine::Hunt),
    },
    CollectionDef {
        name: "mail",
        title: "Hack-and-leak mail: forged and verified messages",
        description: "Findings from mail dumps checked against a DKIM key archive.",
        engine: Some(Engine::Mail),
    },
    CollectionDef {
        name: "inbox",
        title: "Inbox: indicators shared by partners",
        description: "Indicators partners post; read as `scrutineer infra import` reads a bundle.",
        engine: None,
    },
];

/// A collection's id: a UUID derived from its name, the same on every server.
fn collection_id(name: &str) -> String {
    let id = scrutineer_share::stix_id("x-scrutineer-collection", name);
    id.split_once("--").map(|(_, u)| u.to_owned()).unwrap_or(id)
}

fn find_collection(id: &str) -> Result<&'static CollectionDef, ApiError> {
    COLLECTIONS
        .iter()
        .find(|c| collection_id(c.name) == id || c.name == id)
        .ok_or_else(|| ApiError::NotFound(format!("no collection '{id}'")))
}

fn can_write(c: &CollectionDef, caller: &Caller) -> bool {
    c.engine.is_none() && caller.role >= Role::Analyst
}

fn collection_json(c: &CollectionDef, caller: &Caller) -> Value {
    json!({
        "id": collection_id(c.name),
        "title": c.title,
        "description": c.description,
        "alias": c.name,
        "can_read": true,
        "can_write": can_write(c, caller),
        "media_types": [STIX_MEDIA],
    })
}

fn taxii(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA));
    resp
}

fn base_url(st: &Shared, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("{}://{host}", if st.sessions.tls { "https" } else { "http" })
}

/// `GET /taxii2/`: discovery.
pub(crate) async fn discovery(State(st): State<Shared>, req: Request) -> Response {
    let base = base_url(&st, req.headers());
    taxii(
        StatusCode::OK,
        &json!({
            "title": "Scrutineer",
            "description": "Findings of an election office's monitoring, shared over TAXII 2.1.",
            "default": format!("{base}/taxii2/api/"),
            "api_roots": [format!("{base}/taxii2/api/")],
        }),
    )
}

/// `GET /taxii2/api/`: the API root.
pub(crate) async fn api_root() -> Response {
    taxii(
        StatusCode::OK,
        &json!({
            "title": "Scrutineer findings",
            "versions": [TAXII_MEDIA],
            "max_content_length": MAX_CONTENT,
        }),
    )
}

/// `GET /taxii2/api/collections/`.
pub(crate) async fn collections(axum::Extension(caller): axum::Extension<Caller>) -> Response {
    let list: Vec<Value> = COLLECTIONS.iter().map(|c| collection_json(c, &caller)).collect();
    taxii(StatusCode::OK, &json!({ "collections": list }))
}

/// `GET /taxii2/api/collections/{id}/`.
pub(crate) async fn collection(
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    Ok(taxii(StatusCode::OK, &collection_json(find_collection(&id)?, &caller)))
}

/// One object of a collection as served.
#[derive(Debug, Clone)]
struct Entry {
    date_added: DateTime<Utc>,
    rank: usize,
    /// Shared, so that a page of entries is not a copy of their objects.
    object: Arc<Value>,
    /// The object encoded, once when the collection is built: a page is then these
    /// bytes joined, not an encoding of every object at every request.
    json: bytes::Bytes,
}

impl Entry {
    fn new(date_added: DateTime<Utc>, rank: usize, object: Value) -> Entry {
        Entry { date_added, rank, object: Arc::new(object), json: bytes::Bytes::new() }
    }

    /// Encodes the object as it now is into `json`.
    fn encoded(mut self) -> Entry {
        self.json = bytes::Bytes::from(self.object.to_string());
        self
    }
}

fn version_of(object: &Value) -> String {
    object.get("modified").or_else(|| object.get("created")).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn id_of(object: &Value) -> &str {
    object.get("id").and_then(Value::as_str).unwrap_or("")
}

/// The objects of an engine's findings, marked, dated and cut to `max_rank`.
fn engine_entries(
    store: &Store,
    engine: Engine,
    caller: &Caller,
    max_rank: usize,
) -> Result<Vec<Entry>, ApiError> {
    let filter = FindingFilter { engine: Some(engine), ..FindingFilter::default() };
    let mut findings: Vec<Finding> = store.findings(&filter)?;
    redact_findings(&mut findings, &caller.voter_engines);
    let times: HashMap<String, DateTime<Utc>> = store.finding_times(engine)?.into_iter().collect();
    let triage = store.triage_all()?;
    let tlp_times = store.triage_tlp_times()?;
    let mut merged: HashMap<String, Entry> = HashMap::new();
    for f in &findings {
        let level =
            triage.get(&f.id.0).and_then(|t| t.tlp.clone()).unwrap_or_else(|| default_tlp(engine).to_owned());
        let rank = tlp_rank(&level);
        if rank > max_rank {
            continue;
        }
        // A marking set at triage can open an object to readers who could not see it:
        // for them it is added then, so a client polling with added_after gets it.
        let recorded = times.get(&f.id.0).copied().unwrap_or_default();
        let recorded = to_millis(tlp_times.get(&f.id.0).map_or(recorded, |t| recorded.max(*t)));
        let mut opts = scrutineer_share::ExportOptions::new("Election office");
        // Stable object versions between requests: an object is as old as its finding.
        opts.created = recorded;
        let bundle = scrutineer_share::export_bundle(std::slice::from_ref(f), &opts);
        for object in bundle["objects"].as_array().cloned().unwrap_or_default() {
            // The collection is the container: a report per finding would only repeat it.
            if object.get("type").and_then(Value::as_str) == Some("report") {
                continue;
            }
            let id = id_of(&object).to_owned();
            match merged.get_mut(&id) {
                Some(e) => {
                    if recorded < e.date_added {
                        e.date_added = recorded;
                        e.object = Arc::new(object);
                    }
                    e.rank = e.rank.min(rank);
                }
                None => {
                    merged.insert(id, Entry::new(recorded, rank, object));
                }
            }
        }
    }
    let mut out: Vec<Entry> = merged
        .into_values()
        .map(|mut e| {
            Arc::make_mut(&mut e.object)["object_marking_refs"] = json!([TLP_MARKINGS[e.rank].1]);
            e.encoded()
        })
        .collect();
    sort(&mut out);
    Ok(out)
}

fn sort(entries: &mut [Entry]) {
    entries
        .sort_by(|a, b| a.date_added.cmp(&b.date_added).then_with(|| id_of(&a.object).cmp(id_of(&b.object))));
}

/// The objects partners posted, cut to `max_rank` (unmarked ones count as `TLP:AMBER`).
fn inbox_entries(store: &Store, max_rank: usize) -> Result<Vec<Entry>, ApiError> {
    let mut out: Vec<Entry> = store
        .shared_objects()?
        .into_iter()
        .map(|o| {
            let rank = marking_rank(&o.object).unwrap_or(tlp_rank("amber"));
            Entry::new(to_millis(o.date_added), rank, o.object)
        })
        .filter(|e| e.rank <= max_rank)
        .map(Entry::encoded)
        .collect();
    sort(&mut out);
    Ok(out)
}

/// What `objects` and `manifest` filter and page on.
#[derive(Debug, Default)]
struct Paging {
    added_after: Option<DateTime<Utc>>,
    limit: usize,
    next: usize,
    types: Vec<String>,
    ids: Vec<String>,
}

fn paging(query: Option<&str>) -> Result<Paging, ApiError> {
    let mut p = Paging { limit: DEFAULT_PAGE, ..Paging::default() };
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "added_after" => {
                let t = DateTime::parse_from_rfc3339(&v).map_err(|e| {
                    ApiError::BadRequest(format!("added_after '{v}' is not an RFC 3339 time: {e}"))
                })?;
                p.added_after = Some(t.with_timezone(&Utc));
            }
            "limit" => {
                let n: usize =
                    v.parse().map_err(|_| ApiError::BadRequest(format!("limit '{v}' is not a count")))?;
                p.limit = n.clamp(1, MAX_PAGE);
            }
            "next" => {
                p.next = v
                    .parse()
                    .map_err(|_| ApiError::BadRequest(format!("next '{v}' is not one this server gave")))?;
            }
            "match[type]" => p.types.extend(v.split(',').map(str::to_owned)),
            "match[id]" => p.ids.extend(v.split(',').map(str::to_owned)),
            // Other filters (match[version], match[spec_version]) select all versions
            // here, each object having one.
            _ => {}
        }
    }
    Ok(p)
}

/// A time at the millisecond precision TAXII timestamps are served with, so that
/// `added_after` set to a served `date_added` leaves that object out.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// What a collection's entries depend on beside the store: the collection, the
/// reader's clearance, and whether the reader sees the voter fields of its engine.
type EntriesKey = (&'static str, usize, bool);

/// A collection's entries as built for one [`EntriesKey`], with the store's
/// [`Store::sharing_version`] they were built from.
struct CachedEntries {
    version: (i64, i64),
    entries: Arc<Vec<Entry>>,
}

/// Collections' entries, built once per change of what they are made of (findings,
/// runs, triage, the inbox) and then served from memory: building an engine's
/// collection exports every finding of that engine, which at a million findings takes
/// seconds, and a TAXII client pages through the same collection many times.
#[derive(Default)]
pub(crate) struct EntriesCache {
    built: Mutex<HashMap<EntriesKey, CachedEntries>>,
    /// Held while a collection is built, so that readers arriving meanwhile wait for it
    /// instead of building it again.
    building: tokio::sync::Mutex<()>,
}

/// The entries of a collection the caller may read, from the cache if the store has
/// not changed since they were built.
async fn entries_of(
    st: &Shared,
    caller: &Caller,
    collection: &'static CollectionDef,
) -> Result<Arc<Vec<Entry>>, ApiError> {
    let max_rank = clearance(caller.role);
    let sees_voters = collection.engine.is_some_and(|e| caller.voter_engines.contains(&e));
    let key: EntriesKey = (collection.name, max_rank, sees_voters);
    let now = st.sharing_version()?;
    let cached = |now: (i64, i64)| -> Result<Option<Arc<Vec<Entry>>>, ApiError> {
        let built = st.taxii_entries.built.lock().map_err(|_| crate::poisoned())?;
        Ok(built.get(&key).filter(|c| c.version == now).map(|c| c.entries.clone()))
    };
    if let Some(entries) = cached(now)? {
        return Ok(entries);
    }
    // While another request builds the collection anew (seconds at a million findings),
    // readers are served the collection as last built rather than wait: every change
    // dates what it adds or opens at the change (a finding's recording, a marking set at
    // triage), later than anything built before, so a client polling with `added_after`
    // gets those objects from its next poll, after the build.
    let _building = match st.taxii_entries.building.try_lock() {
        Ok(building) => building,
        Err(_) => {
            let last = st
                .taxii_entries
                .built
                .lock()
                .map_err(|_| crate::poisoned())?
                .get(&key)
                .map(|c| c.entries.clone());
            match last {
                Some(entries) => return Ok(entries),
                None => st.taxii_entries.building.lock().await,
            }
        }
    };
    let now = st.sharing_version()?;
    if let Some(entries) = cached(now)? {
        return Ok(entries);
    }
    let caller = caller.clone();
    let (version, entries) = read(st, move |s| {
        // The version and the entries from one state of the store, so that a write
        // landing meanwhile makes the next request build again.
        let (version, entries) =
            s.snapshot(|s| Ok((s.sharing_version()?, build_entries(s, collection, &caller, max_rank))))?;
        Ok((version, entries?))
    })
    .await?;
    let entries = Arc::new(entries);
    st.taxii_entries
        .built
        .lock()
        .map_err(|_| crate::poisoned())?
        .insert(key, CachedEntries { version, entries: entries.clone() });
    Ok(entries)
}

fn build_entries(
    store: &Store,
    collection: &CollectionDef,
    caller: &Caller,
    max_rank: usize,
) -> Result<Vec<Entry>, ApiError> {
    match collection.engine {
        Some(engine) => engine_entries(store, engine, caller, max_rank),
        None => inbox_entries(store, max_rank),
    }
}

/// The entries of a collection the caller may read, filtered and cut to a page; whether
/// more follow, and the offset after the page. The entries are sorted by `date_added`,
/// so `added_after` is a binary search and a page without `match[…]` filters costs
/// only its own objects.
async fn page_of(
    st: &Shared,
    caller: &Caller,
    collection: &'static CollectionDef,
    p: Paging,
) -> Result<(Vec<Entry>, bool, usize), ApiError> {
    let all = entries_of(st, caller, collection).await?;
    let start = p.added_after.map_or(0, |t| all.partition_point(|e| e.date_added <= t));
    let later = &all[start..];
    let wanted = |e: &&Entry| {
        (p.types.is_empty()
            || p.types.iter().any(|t| Some(t.as_str()) == e.object.get("type").and_then(Value::as_str)))
            && (p.ids.is_empty() || p.ids.iter().any(|i| i == id_of(&e.object)))
    };
    if p.types.is_empty() && p.ids.is_empty() {
        let end = (p.next + p.limit).min(later.len());
        let page = later.get(p.next.min(later.len())..end).map(<[Entry]>::to_vec).unwrap_or_default();
        return Ok((page, end < later.len(), end));
    }
    let mut selected = later.iter().filter(wanted).skip(p.next);
    let page: Vec<Entry> = selected.by_ref().take(p.limit).cloned().collect();
    let more = selected.next().is_some();
    let end = p.next + page.len();
    Ok((page, more, end))
}

fn with_date_headers(mut resp: Response, page: &[Entry]) -> Response {
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&ts(first.date_added)) {
            h.insert("x-taxii-date-added-first", v);
        }
        if let Ok(v) = HeaderValue::from_str(&ts(last.date_added)) {
            h.insert("x-taxii-date-added-last", v);
        }
    }
    resp
}

/// `GET /taxii2/api/collections/{id}/objects/` (`added_after`, `limit`, `next`,
/// `match[type]`, `match[id]`).
pub(crate) async fn objects(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let c = find_collection(&id)?;
    let (page, more, end) = page_of(&st, &caller, c, paging(req.uri().query())?).await?;
    Ok(with_date_headers(envelope(&page, more.then_some(end)), &page))
}

/// A TAXII envelope of `page`'s objects, written from their encoded bytes, with `next`
/// when more follow.
fn envelope(page: &[Entry], next: Option<usize>) -> Response {
    let mut body = Vec::with_capacity(64 + page.iter().map(|e| e.json.len() + 1).sum::<usize>());
    body.extend_from_slice(format!("{{\"more\":{}", next.is_some()).as_bytes());
    if let Some(next) = next {
        body.extend_from_slice(format!(",\"next\":\"{next}\"").as_bytes());
    }
    body.extend_from_slice(b",\"objects\":[");
    for (i, e) in page.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&e.json);
    }
    body.extend_from_slice(b"]}");
    let mut resp = Response::new(axum::body::Body::from(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA));
    resp
}

/// `GET /taxii2/api/collections/{id}/objects/{object_id}/`.
pub(crate) async fn object(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath((id, object_id)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let c = find_collection(&id)?;
    let p = Paging { limit: MAX_PAGE, ids: vec![object_id.clone()], ..Paging::default() };
    let (page, _, _) = page_of(&st, &caller, c, p).await?;
    if page.is_empty() {
        return Err(ApiError::NotFound(format!("no object '{object_id}' in '{}' at this clearance", c.name)));
    }
    Ok(with_date_headers(envelope(&page, None), &page))
}

/// `GET /taxii2/api/collections/{id}/manifest/`.
pub(crate) async fn manifest(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let c = find_collection(&id)?;
    let (page, more, end) = page_of(&st, &caller, c, paging(req.uri().query())?).await?;
    let records: Vec<Value> = page
        .iter()
        .map(|e| {
            json!({
                "id": id_of(&e.object),
                "date_added": ts(e.date_added),
                "version": version_of(&e.object),
                "media_type": STIX_MEDIA,
            })
        })
        .collect();
    let mut body = json!({ "more": more, "objects": records });
    if more {
        body["next"] = json!(end.to_string());
    }
    Ok(with_date_headers(taxii(StatusCode::OK, &body), &page))
}

/// `POST /taxii2/api/collections/inbox/objects/`: an envelope (or a bundle) of objects.
pub(crate) async fn post_objects(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let c = find_collection(&id)?;
    if !can_write(c, &caller) {
        return Err(ApiError::Refused(format!(
            "'{}' may not write to the '{}' collection",
            caller.name, c.name
        )));
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_CONTENT)
        .await
        .map_err(|_| ApiError::BadRequest(format!("an envelope of more than {MAX_CONTENT} bytes")))?;
    let posted: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("the envelope is not JSON: {e}")))?;
    let objects = posted.get("objects").and_then(Value::as_array).cloned().ok_or_else(|| {
        ApiError::BadRequest("an envelope or bundle with an 'objects' list is expected".into())
    })?;
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut keep = Vec::new();
    for object in &objects {
        let id = id_of(object).to_owned();
        // `infra import` reads indicators with STIX patterns whose observables it knows.
        let read = scrutineer_share::import_bundle(&Value::Array(vec![object.clone()]).to_string());
        match read {
            Ok(found) if found.iter().any(|i| !i.observables.is_empty()) && !id.is_empty() => {
                successes.push(json!({"id": id, "version": version_of(object)}));
                keep.push((id, object.clone()));
            }
            Ok(found) if found.is_empty() => {
                failures.push(json!({"id": id, "message": "not an indicator with a STIX pattern"}))
            }
            Ok(_) => failures
                .push(json!({"id": id, "message": "the pattern holds no observable `infra import` reads"})),
            Err(e) => failures.push(json!({"id": id, "message": e.to_string()})),
        }
    }
    let poster = caller.name.clone();
    write(&st, move |s| Ok(s.put_shared_objects(&poster, &keep)?)).await?;
    let status_id = crate::accounts::random_hex().map_err(|e| ApiError::Internal(e.to_string()))?;
    let status_id = format!(
        "{}-{}-4{}-8{}-{}",
        &status_id[0..8],
        &status_id[8..12],
        &status_id[13..16],
        &status_id[17..20],
        &status_id[20..32]
    );
    let status = json!({
        "id": status_id,
        "status": "complete",
        "request_timestamp": ts(Utc::now()),
        "total_count": objects.len(),
        "success_count": successes.len(),
        "successes": successes,
        "failure_count": failures.len(),
        "failures": failures,
        "pending_count": 0,
    });
    st.taxii_status
        .lock()
        .map_err(|_| crate::poisoned())?
        .insert(status_id, (caller.name.clone(), status.clone()));
    Ok(taxii(StatusCode::ACCEPTED, &status))
}

/// `GET /taxii2/api/status/{id}/`: a post's status, for whoever posted it (or an admin).
pub(crate) async fn status(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let found = st.taxii_status.lock().map_err(|_| crate::poisoned())?.get(&id).cloned();
    match found {
        Some((poster, status)) if poster == caller.name || caller.role == Role::Admin => {
            Ok(taxii(StatusCode::OK, &status))
        }
        _ => Err(ApiError::NotFound(format!("no status '{id}'"))),
    }
}

/// `GET /api/imported-indicators`: the inbox read as `infra import` reads a bundle.
pub(crate) async fn imported_indicators(
    State(st): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<axum::Json<Vec<Value>>, ApiError> {
    let max_rank = clearance(caller.role);
    let entries = read(&st, move |s| inbox_entries(s, max_rank)).await?;
    let mut out = Vec::new();
    for e in entries {
        let text = Value::Array(vec![(*e.object).clone()]).to_string();
        for i in scrutineer_share::import_bundle(&text).map_err(|e| ApiError::Internal(e.to_string()))? {
            let mut v = serde_json::to_value(&i).map_err(|e| ApiError::Internal(e.to_string()))?;
            v["date_added"] = json!(ts(e.date_added));
            v["tlp"] = json!(TLP_LEVELS[e.rank]);
            out.push(v);
        }
    }
    Ok(axum::Json(out))
}
