//! HTTP front: authentication, path routing, content negotiation.

mod delete;
mod discovery;
mod openapi;
mod prepare;
mod proto;
mod read;
mod watch;
pub(crate) mod write;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use serde_json::Value;

use crate::error::ApiError;
use crate::registry::Resource;
use crate::state::State;

/// Largest request body accepted (CRDs with big schemas fit).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// Query parameters (last value wins).
#[derive(Debug, Default, Clone)]
pub struct Query(HashMap<String, String>);

impl Query {
    pub(crate) fn parse(q: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }
    /// A parameter.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }
    /// A boolean parameter (`1`, `true`).
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("1" | "true" | "True"))
    }
}

/// What a resource path names.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource.
    pub res: Arc<Resource>,
    /// Namespace from the path (None = all namespaces / cluster-scoped).
    pub namespace: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`status`).
    pub sub: Option<String>,
}

/// A JSON response.
pub fn json_response(code: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

fn error_response(e: &ApiError) -> Response<Body> {
    json_response(
        StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &e.to_status(),
    )
}

fn authorized(state: &State, headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` works too.
    let Some(tok) = v
        .trim_start()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, tok)| tok.trim())
    else {
        return false;
    };
    let want = state.token.as_bytes();
    let got = tok.as_bytes();
    // Constant-time comparison.
    !want.is_empty()
        && got.len() == want.len()
        && got.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Entry point for every request.
pub async fn handle(state: Arc<State>, req: Request<Body>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if matches!(path.as_str(), "/healthz" | "/livez" | "/readyz") {
        let mut r = Response::new(Body::from("ok"));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain"),
        );
        return r;
    }
    if !authorized(&state, req.headers()) {
        return error_response(&ApiError::unauthorized());
    }
    let result = route(state, req).await;
    match result {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(%method, %path, code = e.code, message = %e.message, "request failed");
            error_response(&e)
        }
    }
}

async fn route(state: Arc<State>, req: Request<Body>) -> Result<Response<Body>, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let query = Query::parse(req.uri().query());
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    match s.as_slice() {
        ["version"] => return Ok(json_response(StatusCode::OK, &discovery::version())),
        ["api"] => return Ok(discovery::core_versions(&state, &accept)),
        ["apis"] => return Ok(discovery::groups(&state, &accept)),
        ["api", v] => return discovery::resource_list(&state, "", v),
        ["apis", g] => return discovery::group(&state, g),
        ["apis", g, v] => return discovery::resource_list(&state, g, v),
        ["openapi", "v2"] => return openapi::v2(&state, &accept),
        ["openapi", "v3"] => return Ok(openapi::v3_index(&state)),
        ["openapi", "v3", "api", v] => return openapi::v3_group(&state, "", v),
        ["openapi", "v3", "apis", g, v] => return openapi::v3_group(&state, g, v),
        _ => {}
    }
    let (group, version, rest): (&str, &str, &[&str]) = match s.as_slice() {
        ["api", v, rest @ ..] => ("", v, rest),
        ["apis", g, v, rest @ ..] => (g, v, rest),
        _ => return Err(ApiError::no_route(&path)),
    };
    let registry = state.registry();
    let lookup = |plural: &str| {
        registry
            .get(group, version, plural)
            .ok_or_else(|| ApiError::no_route(&path))
    };
    let target = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if !matches!(*plural, "status" | "finalize") || !tail.is_empty() =>
        {
            let res = lookup(plural)?;
            if !res.namespaced {
                return Err(ApiError::no_route(&path));
            }
            match tail {
                [] => Target {
                    res,
                    namespace: Some(ns.to_string()),
                    name: None,
                    sub: None,
                },
                [name] => Target {
                    res,
                    namespace: Some(ns.to_string()),
                    name: Some(name.to_string()),
                    sub: None,
                },
                [name, sub] => Target {
                    res,
                    namespace: Some(ns.to_string()),
                    name: Some(name.to_string()),
                    sub: Some(sub.to_string()),
                },
                _ => return Err(ApiError::no_route(&path)),
            }
        }
        [plural] => Target {
            res: lookup(plural)?,
            namespace: None,
            name: None,
            sub: None,
        },
        [plural, name] => {
            let res = lookup(plural)?;
            if res.namespaced {
                return Err(ApiError::no_route(&path));
            }
            Target {
                res,
                namespace: None,
                name: Some(name.to_string()),
                sub: None,
            }
        }
        [plural, name, sub] => {
            let res = lookup(plural)?;
            if res.namespaced {
                return Err(ApiError::no_route(&path));
            }
            Target {
                res,
                namespace: None,
                name: Some(name.to_string()),
                sub: Some(sub.to_string()),
            }
        }
        _ => return Err(ApiError::no_route(&path)),
    };
    if let Some(sub) = &target.sub {
        let ok = match sub.as_str() {
            "status" => target.res.status_subresource,
            "finalize" => target.res.kind == "Namespace" && target.res.group.is_empty(),
            _ => false,
        };
        if !ok {
            return Err(ApiError::no_route(&path));
        }
    }
    let method = req.method().clone();
    let headers = req.headers().clone();
    let body = if matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::too_large(MAX_BODY))?
    } else {
        Bytes::new()
    };
    let ctx = RequestCtx {
        state,
        query,
        headers,
        accept,
    };
    match (method, target.name.is_some()) {
        (Method::GET, false) if ctx.query.flag("watch") => watch::watch(&ctx, &target),
        (Method::GET, true) if ctx.query.flag("watch") => Err(ApiError::bad_request(
            "watch a single object with a list watch and fieldSelector=metadata.name=NAME",
        )),
        (Method::GET, false) => read::list(&ctx, &target),
        (Method::GET, true) => read::get(&ctx, &target),
        (Method::POST, false) => write::create(&ctx, &target, &body),
        (Method::PUT, true) => write::update(&ctx, &target, &body),
        (Method::PATCH, true) => write::patch(&ctx, &target, &body),
        (Method::DELETE, true) => delete::delete(&ctx, &target, &body),
        (Method::DELETE, false) => delete::delete_collection(&ctx, &target, &body),
        (m, _) => Err(ApiError::method_not_allowed(m.as_str(), &target.res.kind)),
    }
}

/// Everything a handler needs about the request.
pub struct RequestCtx {
    /// Shared server state.
    pub state: Arc<State>,
    /// Query parameters.
    pub query: Query,
    /// Request headers.
    pub headers: HeaderMap,
    /// `Accept` header.
    pub accept: String,
}

impl RequestCtx {
    /// Does the client want a Table?
    pub fn wants_table(&self) -> bool {
        self.accept.contains("as=Table")
    }
    /// Does the client want PartialObjectMetadata?
    pub fn wants_metadata(&self) -> bool {
        self.accept.contains("as=PartialObjectMetadata")
    }
    /// `Content-Type`.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
    }
    /// Field manager: `fieldManager`, else the user agent's program name.
    pub fn field_manager(&self) -> String {
        if let Some(m) = self.query.get("fieldManager") {
            return m.chars().take(128).collect();
        }
        self.headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .and_then(|ua| ua.split('/').next())
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .chars()
            .take(128)
            .collect()
    }
    /// `dryRun=All`?
    pub fn dry_run(&self) -> bool {
        self.query.get("dryRun") == Some("All")
    }
}

/// Parse a request body as JSON (or YAML).
pub fn parse_body(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; send the object as JSON",
        ));
    }
    if content_type.starts_with("application/vnd.kubernetes.protobuf") {
        return proto::decode(body).map_err(|e| ApiError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: e,
            details: None,
        });
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Ok(v),
        Err(json_err) => {
            if content_type.contains("yaml") {
                let text = std::str::from_utf8(body)
                    .map_err(|_| ApiError::bad_request("the YAML body is not UTF-8"))?;
                serde_saphyr::from_str::<Value>(text).map_err(|e| {
                    ApiError::bad_request(format!("the YAML body cannot be parsed: {e}"))
                })
            } else {
                Err(ApiError::bad_request(format!(
                    "the JSON body cannot be parsed: {json_err}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::{Store, StoreOptions};

    fn state(dir: &std::path::Path) -> State {
        let store = Store::open(&dir.join("db"), StoreOptions::default()).unwrap();
        State::new(Arc::new(store), "s3cret-token".into())
    }

    fn with_auth(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path());
        for good in [
            "Bearer s3cret-token",
            "bearer s3cret-token",
            "BEARER  s3cret-token ",
        ] {
            assert!(authorized(&st, &with_auth(good)), "{good}");
        }
        for bad in [
            "Bearer wrong-token!",
            "Basic s3cret-token",
            "Bearers3cret-token",
            "s3cret-token",
            "Bearer ",
        ] {
            assert!(!authorized(&st, &with_auth(bad)), "{bad}");
        }
        assert!(!authorized(&st, &HeaderMap::new()));
    }
}
