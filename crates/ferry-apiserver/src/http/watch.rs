//! Watch streams: newline-delimited JSON events, resumable by
//! resourceVersion, with bookmarks, `sendInitialEvents`, Table output and a
//! 410 `ERROR` event when the watcher falls behind or asks for history that
//! was compacted away.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream;
use http::{Response, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use super::read::{Filter, present};
use super::{RequestCtx, Target};
use crate::error::ApiError;
use crate::registry::Resource;
use crate::store::Event;
use crate::table::{self, Include};

/// How often bookmarks are sent to watchers that allow them.
const BOOKMARK_EVERY: Duration = Duration::from_secs(20);
/// Default and maximum watch duration.
const MAX_WATCH: Duration = Duration::from_secs(30 * 60);

enum Output {
    Object,
    Table(Include),
    Metadata,
}

struct WatchState {
    res: Arc<Resource>,
    key: String,
    namespace: Option<String>,
    filter: Filter,
    output: Output,
    bookmarks: bool,
    /// Events to send before reading the live channel, encoded only when
    /// sent (an initial list of many objects is not held twice).
    queued: std::collections::VecDeque<Queued>,
    /// Where a watcher that fell behind the live channel catches up.
    store: Arc<crate::store::Store>,
    rx: broadcast::Receiver<Arc<Event>>,
    last_rv: u64,
    deadline: Instant,
    next_bookmark: Instant,
    done: bool,
}

impl WatchState {
    fn matches(&self, ev: &Event) -> bool {
        ev.key == self.key
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| ns == ev.namespace)
            && self.filter.matches(&ev.object)
    }

    fn encode(&self, kind: &str, obj: &Value) -> Bytes {
        let object = match &self.output {
            Output::Object => present(&self.res, obj),
            Output::Metadata => super::read::partial(obj),
            Output::Table(inc) => {
                let o = present(&self.res, obj);
                let rv = crate::meta::meta_str(obj, "resourceVersion")
                    .unwrap_or_default()
                    .to_string();
                table::table(&self.res, &[&o], *inc, json!({"resourceVersion": rv}))
            }
        };
        line(&json!({"type": kind, "object": object}))
    }

    /// The next queued event, encoded.
    fn next_queued(&mut self) -> Option<Bytes> {
        loop {
            return Some(match self.queued.pop_front()? {
                Queued::Object(kind, obj) => self.encode(kind, &obj),
                Queued::Initial(stored) => match stored.value() {
                    Some(obj) if self.filter.matches(&obj) => self.encode("ADDED", &obj),
                    _ => continue,
                },
                Queued::Encoded(b) => b,
            });
        }
    }

    fn bookmark(&self, initial_end: bool) -> Bytes {
        let mut md = json!({"resourceVersion": self.last_rv.to_string()});
        if initial_end {
            md["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            &json!({"type": "BOOKMARK", "object": {"kind": self.res.kind, "apiVersion": self.res.api_version(), "metadata": md}}),
        )
    }
}

fn line(v: &Value) -> Bytes {
    let mut s = v.to_string();
    s.push('\n');
    Bytes::from(s)
}

fn error_event(e: &ApiError) -> Bytes {
    line(&json!({"type": "ERROR", "object": e.to_status()}))
}

pub fn watch(ctx: &RequestCtx, t: &Target) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_ctx(ctx)?;
    let q = &ctx.query;
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(MAX_WATCH)
        .min(MAX_WATCH);
    let output = if ctx.wants_table() {
        Output::Table(Include::parse(q.get("includeObject")))
    } else if ctx.wants_metadata() {
        Output::Metadata
    } else {
        Output::Object
    };
    let key = t.res.storage_key();
    let namespace = if t.res.namespaced {
        t.namespace.clone()
    } else {
        None
    };
    let rv_param = q.get("resourceVersion");
    let initial_events = q.flag("sendInitialEvents");
    if initial_events && q.get("resourceVersionMatch") != Some("NotOlderThan") {
        return Err(ApiError::bad_request(
            "sendInitialEvents requires resourceVersionMatch=NotOlderThan",
        ));
    }
    let store = &ctx.state.store;
    let now = Instant::now();
    let mut queued = std::collections::VecDeque::new();
    let (rx, last_rv, initial) = match rv_param {
        Some(rv) if rv != "0" && !initial_events => {
            let from: u64 = rv.parse().map_err(|_| {
                ApiError::bad_request(format!("resourceVersion {rv:?} is not valid"))
            })?;
            match store.subscribe_from(&key, from) {
                Ok((events, rx)) => (rx, from, Initial::Events(events)),
                Err(oldest) => {
                    // As the real server does: a 200 stream with one ERROR event.
                    let e = ApiError::gone(format!("too old resource version: {from} ({oldest})"));
                    let mut r = Response::new(Body::from(error_event(&e)));
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        header::HeaderValue::from_static("application/json"),
                    );
                    return Ok(r);
                }
            }
        }
        _ => {
            let (objs, rv, rx) = store.subscribe_now(&key, namespace.as_deref());
            (rx, rv, Initial::Objects(objs))
        }
    };
    let mut st = WatchState {
        res: t.res.clone(),
        key,
        namespace,
        filter,
        output,
        bookmarks: q.flag("allowWatchBookmarks"),
        queued: std::collections::VecDeque::new(),
        store: store.clone(),
        rx,
        last_rv,
        deadline: now + timeout,
        next_bookmark: now + BOOKMARK_EVERY,
        done: false,
    };
    match initial {
        Initial::Objects(objs) => {
            queued.extend(objs.into_iter().map(Queued::Initial));
            if initial_events {
                queued.push_back(Queued::Encoded(st.bookmark(true)));
            }
        }
        Initial::Events(events) => {
            for ev in events.iter().filter(|e| st.matches(e)) {
                queued.push_back(Queued::Object(ev.kind.as_str(), ev.object.clone()));
            }
            if let Some(last) = events.last() {
                st.last_rv = last.rv;
            }
        }
    }
    st.queued = queued;
    let body = Body::from_stream(stream::unfold(st, next_chunk));
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// An event waiting to be sent.
enum Queued {
    /// An object event (`ADDED`, ...).
    Object(&'static str, Arc<Value>),
    /// A stored object for the initial `ADDED` events, sent if it matches
    /// the selectors.
    Initial(crate::store::Stored),
    /// Already encoded (a bookmark).
    Encoded(Bytes),
}

enum Initial {
    Objects(Vec<crate::store::Stored>),
    Events(Vec<Arc<Event>>),
}

async fn next_chunk(
    mut st: WatchState,
) -> Option<(Result<Bytes, std::convert::Infallible>, WatchState)> {
    if let Some(b) = st.next_queued() {
        return Some((Ok(b), st));
    }
    loop {
        if st.done {
            return None;
        }
        let wake = if st.bookmarks {
            st.next_bookmark.min(st.deadline)
        } else {
            st.deadline
        };
        tokio::select! {
            r = st.rx.recv() => match r {
                Ok(ev) => {
                    if ev.rv <= st.last_rv {
                        continue;
                    }
                    st.last_rv = ev.rv;
                    if st.matches(&ev) {
                        let b = st.encode(ev.kind.as_str(), &ev.object);
                        return Some((Ok(b), st));
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    // Catch up from the persisted history, then follow the
                    // live channel again; only history compacted away
                    // makes the watcher re-list.
                    match st.store.subscribe_from(&st.key, st.last_rv) {
                        Ok((events, rx)) => {
                            st.rx = rx;
                            for ev in events {
                                st.last_rv = ev.rv;
                                if st.matches(&ev) {
                                    st.queued
                                        .push_back(Queued::Object(ev.kind.as_str(), ev.object.clone()));
                                }
                            }
                            if let Some(b) = st.next_queued() {
                                return Some((Ok(b), st));
                            }
                        }
                        Err(_) => {
                            st.done = true;
                            let e = ApiError::gone(format!(
                                "the watch fell {n} events behind and was closed; re-list from resourceVersion {} or later",
                                st.last_rv
                            ));
                            return Some((Ok(error_event(&e)), st));
                        }
                    }
                }
                Err(RecvError::Closed) => return None,
            },
            _ = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                if now >= st.deadline {
                    return None;
                }
                st.next_bookmark = now + BOOKMARK_EVERY;
                let b = st.bookmark(false);
                return Some((Ok(b), st));
            }
        }
    }
}
