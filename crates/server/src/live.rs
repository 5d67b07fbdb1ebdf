//! Live updates by server-sent events (`GET /api/events`): open pages learn at once
//! that an engine run wrote findings or that someone changed a finding's triage, and
//! bring themselves up to date without a reload (`/static/workspace.js`).
//!
//! Engines write the store from other processes, so the server follows the store, not
//! its own handlers: one task per server polls the store's change counter (bumped by
//! triggers at every write of findings or runs, whoever makes it) and the position of
//! the latest triage event, every [`POLL`], and broadcasts what changed to every open
//! stream. An event carries ids, counts, who and when, and the new status, assignee or
//! marking; never a note's text or anything from a finding's evidence, so there is
//! nothing in it to redact: a page that wants the content asks the routes that redact
//! it for its caller. A stream that reconnects with `Last-Event-ID` (the browser does
//! it by itself) gets the triage events it missed, from the store.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::stream::Stream;
use scrutineer_store::NumberedTriageEvent;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::{ApiError, AppState, Shared, read};

/// How often the store is looked at.
pub(crate) const POLL: Duration = Duration::from_millis(500);

/// Ids of written findings listed in one event (the count covers the rest).
const IDS_PER_EVENT: usize = 200;

/// Triage events replayed to a stream that reconnects.
const REPLAY: usize = 1000;

/// What the followers of the store are told.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LiveEvent {
    /// Findings or runs were written.
    Findings(FindingsWritten),
    /// A finding's triage changed.
    Triage(TriageChanged),
    /// The store is gone from under the server: the stream ends.
    Gone,
}

/// Findings or runs written (or findings deleted) since the last event.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FindingsWritten {
    /// The store's change counter now.
    pub change: i64,
    /// How many findings were written (new or replaced by a re-run).
    pub written: usize,
    /// The first of their ids, oldest first.
    pub ids: Vec<String>,
    /// Findings per engine in the store now.
    pub engines: BTreeMap<String, usize>,
    /// Findings in the store now.
    pub total: usize,
}

/// One triage change, without a note's text.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TriageChanged {
    /// The event's position in the whole triage history (the SSE event id).
    pub seq: i64,
    /// The finding changed.
    pub finding_id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a user's or token's name).
    pub actor: String,
    /// `status`, `assignee`, `tlp` or `note`.
    pub field: String,
    /// The new status, assignee or marking; `None` for a note (its text may name
    /// voters, and is read from the redacting triage route) or a cleared field.
    pub value: Option<String>,
}

impl From<NumberedTriageEvent> for TriageChanged {
    fn from(n: NumberedTriageEvent) -> TriageChanged {
        let value = if n.event.field == "note" { None } else { n.event.to };
        TriageChanged {
            seq: n.seq,
            finding_id: n.finding_id,
            at: n.event.at,
            actor: n.event.actor,
            field: n.event.field,
            value,
        }
    }
}

/// The broadcaster, and whether its poller runs.
pub(crate) struct Live {
    tx: broadcast::Sender<LiveEvent>,
    started: std::sync::Once,
}

impl Live {
    pub(crate) fn new() -> Live {
        Live { tx: broadcast::channel(1024).0, started: std::sync::Once::new() }
    }
}

/// Starts the poller once per server, on the first stream opened (so that a server
/// nobody watches does no work for it). It holds the state weakly and stops with it.
fn ensure_poller(st: &Shared) {
    st.live.started.call_once(|| {
        let weak = Arc::downgrade(st);
        tokio::spawn(poll(weak));
    });
}

struct Seen {
    change: i64,
    triage: i64,
    /// Findings written after this were not reported yet.
    since: DateTime<Utc>,
    /// Findings reported (or there when the poller started) with when they were
    /// written, within the margin: a write seen late (an engine's clock read before our
    /// previous look, its commit after) is looked for again without being reported
    /// twice, and a finding written again (a re-run) is reported again.
    known: HashMap<String, DateTime<Utc>>,
}

/// How far back each look reaches before the previous one: an engine stamps its
/// findings before its transaction commits.
const MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

async fn poll(weak: Weak<AppState>) {
    let Some(st) = weak.upgrade() else { return };
    let since = Utc::now();
    let start = read(&st, move |s| {
        let (recent, _) = s.findings_recorded_after(since - MARGIN, IDS_PER_EVENT * 4)?;
        Ok((s.change_counter()?, s.last_triage_event()?, recent))
    })
    .await;
    let Ok((change, triage, recent)) = start else {
        let _ = st.live.tx.send(LiveEvent::Gone);
        return;
    };
    drop(st);
    let known = recent.into_iter().map(|r| (r.id, r.recorded_at)).collect();
    let mut seen = Seen { change, triage, since, known };
    loop {
        tokio::time::sleep(POLL).await;
        let Some(st) = weak.upgrade() else { return };
        match look(&st, &mut seen).await {
            Ok(events) => {
                for e in events {
                    // No stream open: nobody to tell, and that is fine.
                    let _ = st.live.tx.send(e);
                }
            }
            Err(ApiError::Unavailable(_)) => {
                let _ = st.live.tx.send(LiveEvent::Gone);
                return;
            }
            Err(e) => eprintln!("scrutineer serve: live updates: {e:?}"),
        }
    }
}

/// What changed in the store since `seen`, as events; `seen` moves on.
async fn look(st: &Shared, seen: &mut Seen) -> Result<Vec<LiveEvent>, ApiError> {
    let (change, last_triage) = read(st, |s| Ok((s.change_counter()?, s.last_triage_event()?))).await?;
    let mut out = Vec::new();
    if change != seen.change {
        let looked_at = Utc::now();
        let since = seen.since - MARGIN;
        let ((rows, total_written), counts) =
            read(st, move |s| Ok((s.findings_recorded_after(since, IDS_PER_EVENT * 4)?, s.counts()?)))
                .await?;
        let listed = rows.len();
        let fresh: Vec<(String, DateTime<Utc>)> = rows
            .into_iter()
            .filter(|r| seen.known.get(&r.id) != Some(&r.recorded_at))
            .map(|r| (r.id, r.recorded_at))
            .collect();
        // Those looked for again in the margin and already reported are not counted twice.
        let written = total_written - (listed - fresh.len());
        let mut engines = BTreeMap::new();
        let mut total = 0;
        for (e, _, n) in counts {
            *engines.entry(e.as_str().to_owned()).or_insert(0) += n;
            total += n;
        }
        seen.known.retain(|_, at| *at > looked_at - MARGIN - MARGIN);
        seen.known.extend(fresh.iter().cloned());
        seen.change = change;
        seen.since = looked_at;
        // Also when nothing was written: findings deleted, or a run recorded.
        out.push(LiveEvent::Findings(FindingsWritten {
            change,
            written,
            ids: fresh.into_iter().map(|(id, _)| id).take(IDS_PER_EVENT).collect(),
            engines,
            total,
        }));
    }
    while last_triage > seen.triage {
        let after = seen.triage;
        let batch = read(st, move |s| Ok(s.triage_events_after(after, REPLAY)?)).await?;
        let Some(last) = batch.last() else { break };
        seen.triage = last.seq;
        out.extend(batch.into_iter().map(|e| LiveEvent::Triage(e.into())));
    }
    Ok(out)
}

fn to_sse(e: &LiveEvent) -> Event {
    let (name, data) = match e {
        LiveEvent::Findings(f) => ("findings", serde_json::to_string(f)),
        LiveEvent::Triage(t) => ("triage", serde_json::to_string(t)),
        LiveEvent::Gone => ("gone", Ok("{}".to_owned())),
    };
    let event = Event::default().event(name).data(data.unwrap_or_else(|_| "{}".into()));
    match e {
        LiveEvent::Triage(t) => event.id(t.seq.to_string()),
        _ => event,
    }
}

struct StreamState {
    rx: broadcast::Receiver<LiveEvent>,
    /// Triage events to send first (missed before a reconnection).
    replay: std::collections::VecDeque<LiveEvent>,
    /// The last triage event sent: the broadcast may repeat what the replay sent.
    sent_triage: i64,
    hello: Option<Event>,
    done: bool,
}

/// `GET /api/events`: the live stream (`text/event-stream`). Events `hello` (the
/// store's change counter and triage position now), `findings`, `triage` (with the
/// event's position as its SSE id), `resync` (this stream fell behind: refetch), and
/// `gone`.
pub(crate) async fn events(
    State(st): State<Shared>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    ensure_poller(&st);
    // Subscribed before the store is read: nothing written in between is lost.
    let rx = st.live.tx.subscribe();
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0);
    let (change, triage, missed) = read(&st, move |s| {
        let missed = match last_id {
            Some(after) => s.triage_events_after(after, REPLAY)?,
            None => Vec::new(),
        };
        Ok((s.change_counter()?, s.last_triage_event()?, missed))
    })
    .await?;
    let hello = Event::default()
        .event("hello")
        .retry(Duration::from_secs(3))
        .data(serde_json::json!({"change": change, "triage": triage}).to_string());
    let sent_triage = missed.last().map(|e| e.seq).unwrap_or(last_id.unwrap_or(0));
    let state = StreamState {
        rx,
        replay: missed.into_iter().map(|e| LiveEvent::Triage(e.into())).collect(),
        sent_triage,
        hello: Some(hello),
        done: false,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        if let Some(h) = s.hello.take() {
            return Some((Ok(h), s));
        }
        if let Some(e) = s.replay.pop_front() {
            return Some((Ok(to_sse(&e)), s));
        }
        loop {
            match s.rx.recv().await {
                Ok(LiveEvent::Triage(t)) if t.seq <= s.sent_triage => continue,
                Ok(e) => {
                    if let LiveEvent::Triage(t) = &e {
                        s.sent_triage = t.seq;
                    }
                    if matches!(e, LiveEvent::Gone) {
                        s.done = true;
                    }
                    return Some((Ok(to_sse(&e)), s));
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    let e = Event::default().event("resync").data(format!("{{\"missed\":{n}}}"));
                    return Some((Ok(e), s));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
