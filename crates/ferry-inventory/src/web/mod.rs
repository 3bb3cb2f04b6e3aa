//! Forklift's inventory REST API over the [`Store`], as an axum router that
//! `ferry serve` mounts.
//!
//! Routes: `GET /providers` (grouped by type), `/providers/<type>`,
//! `/providers/<type>/<uid>`, `/providers/<type>/<uid>/<collection>`,
//! `/providers/<type>/<uid>/<collection>/<id>` and
//! `/providers/<type>/<uid>/tree/<name>`, with the collections of
//! [`spec::TYPES`]. Query: `detail=0..N|all`, `name=`, `limit=`, `offset=`,
//! and `namespace=` on provider lists. Errors carry an `X-Reason` header and
//! a JSON body `{"error": ...}`.
//!
//! Not supported: watches. A request with `X-Watch` gets `501` and an
//! `X-Reason` saying to poll instead.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::collector::BoxFuture;
use crate::error::Error;
use crate::model::VMS;
use crate::store::{ListOptions, Store};

pub mod render;
pub mod spec;
#[cfg(test)]
mod tests;
mod tls;

pub use tls::serve_tls;

use render::{Detail, MAX_DETAIL};
use spec::{Source, TYPES, TypeSpec, type_spec};

/// Header naming why a request failed.
pub const REASON_HEADER: &str = "x-reason";
/// Header asking for a watch.
pub const WATCH_HEADER: &str = "x-watch";

/// Checks a bearer token (a static token, a TokenReview, ...).
pub trait TokenCheck: Send + Sync + 'static {
    /// Whether `token` may read the inventory.
    fn check<'a>(&'a self, token: &'a str) -> BoxFuture<'a, bool>;
}

/// A single accepted token, compared in constant time.
#[derive(Clone)]
pub struct StaticToken(String);

impl StaticToken {
    /// Accept exactly `token`.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

impl TokenCheck for StaticToken {
    fn check<'a>(&'a self, token: &'a str) -> BoxFuture<'a, bool> {
        let a = self.0.as_bytes();
        let b = token.as_bytes();
        let mut diff = a.len() ^ b.len();
        for (i, x) in a.iter().enumerate() {
            diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
        }
        let ok = diff == 0 && !a.is_empty();
        Box::pin(async move { ok })
    }
}

/// How requests are authenticated.
#[derive(Clone)]
pub enum Auth {
    /// Every request is served (only for loopback listeners).
    Disabled,
    /// `Authorization: Bearer <token>` is required and checked.
    Bearer(Arc<dyn TokenCheck>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Disabled => f.write_str("Auth::Disabled"),
            Self::Bearer(_) => f.write_str("Auth::Bearer"),
        }
    }
}

/// What the router serves.
#[derive(Clone, Debug)]
pub struct ApiState {
    /// The inventory database.
    pub store: Arc<Store>,
    /// Request authentication.
    pub auth: Auth,
}

/// The inventory API. Mount it at the root of its own listener or nest it
/// under a prefix (`Router::nest("/inventory", router(state))`).
pub fn router(state: ApiState) -> Router {
    let auth = state.auth.clone();
    Router::new()
        .route("/providers", get(list_all))
        .route("/providers/", get(list_all))
        .route("/providers/{ptype}", get(list_type))
        .route("/providers/{ptype}/", get(list_type))
        .route("/providers/{ptype}/{uid}", get(get_provider))
        .route("/providers/{ptype}/{uid}/", get(get_provider))
        .route("/providers/{ptype}/{uid}/{*rest}", get(provider_path))
        .layer(middleware::from_fn_with_state(auth, authenticate))
        .with_state(state)
}

async fn authenticate(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    let Auth::Bearer(check) = &auth else {
        return next.run(req).await;
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty());
    let allowed = match token {
        Some(t) => check.check(t).await,
        None => false,
    };
    if allowed {
        return next.run(req).await;
    }
    let msg = if token.is_some() {
        "the bearer token was not accepted"
    } else {
        "an 'Authorization: Bearer <token>' header is required"
    };
    let mut resp = fail(StatusCode::UNAUTHORIZED, msg).into_response();
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}

/// An error answer: status, `X-Reason`, and `{"error": reason}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    reason: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(json!({"error": self.reason}))).into_response();
        let header_text: String = self
            .reason
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(512)
            .collect();
        if let Ok(v) = HeaderValue::from_str(&header_text) {
            resp.headers_mut().insert(REASON_HEADER, v);
        }
        resp
    }
}

fn fail(status: StatusCode, reason: &str) -> ApiError {
    ApiError {
        status,
        reason: reason.to_owned(),
    }
}

fn internal(err: &Error) -> ApiError {
    tracing::error!("inventory API: {}", crate::chain(err));
    fail(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string())
}

/// Run store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(internal(&e)),
        Err(e) => Err(internal(
            &Error::new(
                crate::ErrorKind::Task,
                "an inventory API task did not finish",
            )
            .with_source(e),
        )),
    }
}

/// Parsed query parameters.
struct Params {
    detail: Detail,
    list: ListOptions,
    namespace: Option<String>,
}

fn params(q: &HashMap<String, String>, headers: &HeaderMap) -> Result<Params, ApiError> {
    if headers.contains_key(WATCH_HEADER) {
        return Err(fail(
            StatusCode::NOT_IMPLEMENTED,
            "watches are not supported by this inventory; poll the list instead",
        ));
    }
    let detail = match q.get("detail").map(String::as_str) {
        None | Some("") => 0,
        Some("all") => MAX_DETAIL,
        Some(s) => s.parse::<Detail>().map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                &format!("query parameter detail='{s}' must be a number or 'all'"),
            )
        })?,
    };
    let number = |key: &str| -> Result<Option<usize>, ApiError> {
        match q.get(key).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(s) => s.parse::<usize>().map(Some).map_err(|_| {
                fail(
                    StatusCode::BAD_REQUEST,
                    &format!("query parameter {key}='{s}' must be a non-negative number"),
                )
            }),
        }
    };
    Ok(Params {
        detail,
        list: ListOptions {
            name: q.get("name").filter(|s| !s.is_empty()).cloned(),
            limit: number("limit")?,
            offset: number("offset")?.unwrap_or(0),
        },
        namespace: q.get("namespace").filter(|s| !s.is_empty()).cloned(),
    })
}

fn known_type(ptype: &str) -> Result<&'static TypeSpec, ApiError> {
    type_spec(ptype).ok_or_else(|| {
        fail(
            StatusCode::NOT_FOUND,
            &format!("unknown provider type '{ptype}'"),
        )
    })
}

type QueryMap = Query<HashMap<String, String>>;

async fn list_all(State(st): State<ApiState>, Query(q): QueryMap, headers: HeaderMap) -> Response {
    let p = match params(&q, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let store = st.store.clone();
    let result = blocking(move || {
        let mut out: BTreeMap<&str, Vec<Value>> =
            TYPES.iter().map(|t| (t.name, Vec::new())).collect();
        for sp in store.providers()? {
            let Some(spec) = type_spec(&sp.info.provider_type) else {
                continue;
            };
            if p.namespace
                .as_ref()
                .is_some_and(|ns| *ns != sp.info.namespace)
            {
                continue;
            }
            let v = render::provider(spec, &sp, &store, p.detail)?;
            out.entry(spec.name).or_default().push(v);
        }
        Ok(out)
    })
    .await;
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn list_type(
    State(st): State<ApiState>,
    Path(ptype): Path<String>,
    Query(q): QueryMap,
    headers: HeaderMap,
) -> Response {
    let (spec, p) = match known_type(&ptype).and_then(|s| Ok((s, params(&q, &headers)?))) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let store = st.store.clone();
    let result = blocking(move || {
        let mut out = Vec::new();
        for sp in store.providers()? {
            if sp.info.provider_type != spec.name
                || p.namespace
                    .as_ref()
                    .is_some_and(|ns| *ns != sp.info.namespace)
            {
                continue;
            }
            out.push(render::provider(spec, &sp, &store, p.detail)?);
        }
        Ok(out)
    })
    .await;
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn get_provider(
    State(st): State<ApiState>,
    Path((ptype, uid)): Path<(String, String)>,
    Query(q): QueryMap,
    headers: HeaderMap,
) -> Response {
    provider_route(st, ptype, uid, String::new(), q, headers).await
}

async fn provider_path(
    State(st): State<ApiState>,
    Path((ptype, uid, rest)): Path<(String, String, String)>,
    Query(q): QueryMap,
    headers: HeaderMap,
) -> Response {
    provider_route(st, ptype, uid, rest, q, headers).await
}

/// What a path below `/providers/<type>/<uid>/` asks for.
enum Target {
    Provider,
    List(&'static spec::CollectionSpec),
    One(&'static spec::CollectionSpec, String),
    Tree(&'static spec::TreeSpec),
}

fn target(spec: &'static TypeSpec, rest: &str) -> Result<Target, ApiError> {
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        return Ok(Target::Provider);
    }
    let (first, tail) = match rest.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    if first == "tree" {
        let name = tail.unwrap_or("");
        return spec.tree(name).map(Target::Tree).ok_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                &format!("provider type '{}' has no tree '{name}'", spec.name),
            )
        });
    }
    let c = spec.collection(first).ok_or_else(|| {
        fail(
            StatusCode::NOT_FOUND,
            &format!("provider type '{}' has no collection '{first}'", spec.name),
        )
    })?;
    Ok(match tail {
        None => Target::List(c),
        Some(id) => Target::One(c, id.to_owned()),
    })
}

async fn provider_route(
    st: ApiState,
    ptype: String,
    uid: String,
    rest: String,
    q: HashMap<String, String>,
    headers: HeaderMap,
) -> Response {
    let prepared = known_type(&ptype).and_then(|spec| {
        let p = params(&q, &headers)?;
        Ok((spec, p, target(spec, &rest)?))
    });
    let (spec, p, target) = match prepared {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let store = st.store.clone();
    let result = blocking(move || {
        let Some(sp) = store
            .provider(&uid)?
            .filter(|sp| sp.info.provider_type == spec.name)
        else {
            return Ok(Err(fail(
                StatusCode::NOT_FOUND,
                &format!("no {} provider with uid '{uid}'", spec.name),
            )));
        };
        Ok(serve(spec, &uid, &sp, &store, &p, target))
    })
    .await;
    match result {
        Ok(Ok(v)) => axum::Json(v).into_response(),
        Ok(Err(r)) | Err(r) => r.into_response(),
    }
}

/// Answer one request for a registered provider (runs on a blocking thread).
fn serve(
    spec: &'static TypeSpec,
    uid: &str,
    sp: &crate::model::StoredProvider,
    store: &Store,
    p: &Params,
    target: Target,
) -> Result<Value, ApiError> {
    let err = |e: Error| internal(&e);
    match target {
        Target::Provider => render::provider(spec, sp, store, MAX_DETAIL).map_err(err),
        Target::Tree(t) => render::tree(spec, t, uid, store, p.detail).map_err(err),
        Target::List(c) => {
            let stored = match c.source {
                Source::Stored(name) => name,
                Source::Workloads => VMS,
            };
            let list = store.list(uid, stored, &p.list).map_err(err)?;
            let mut out = Vec::with_capacity(list.len());
            for r in &list {
                out.push(match c.source {
                    Source::Stored(_) => render::resource(spec.name, uid, c.name, r, p.detail),
                    Source::Workloads => render::workload(spec, uid, r, store).map_err(err)?,
                });
            }
            Ok(Value::Array(out))
        }
        Target::One(c, id) => {
            let stored = match c.source {
                Source::Stored(name) => name,
                Source::Workloads => VMS,
            };
            let Some(r) = store.get(uid, stored, &id).map_err(err)? else {
                return Err(fail(
                    StatusCode::NOT_FOUND,
                    &format!("{} '{id}' not found in provider {uid}", c.name),
                ));
            };
            match c.source {
                Source::Stored(_) => Ok(render::resource(spec.name, uid, c.name, &r, MAX_DETAIL)),
                Source::Workloads => render::workload(spec, uid, &r, store).map_err(err),
            }
        }
    }
}
