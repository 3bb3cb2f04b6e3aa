//! get and list.

use axum::body::Body;
use base64::Engine as _;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{RequestCtx, Target, json_response};
use crate::error::ApiError;
use crate::registry::Resource;
use crate::selector::{FieldSelector, LabelSelector};
use crate::table::{self, Include};

/// The object as served at the requested version.
pub fn present(res: &Resource, obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), json!(res.api_version()));
        m.insert("kind".into(), json!(res.kind));
    }
    v
}

/// `PartialObjectMetadata` of an object.
pub fn partial(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({}))})
}

/// Namespace key for storage: "" for cluster-scoped kinds.
pub fn ns_key(t: &Target) -> String {
    if t.res.namespaced {
        t.namespace.clone().unwrap_or_default()
    } else {
        String::new()
    }
}

pub fn get(ctx: &RequestCtx, t: &Target) -> Result<Response<Body>, ApiError> {
    let name = t.name.as_deref().unwrap_or_default();
    let obj = ctx
        .state
        .store
        .get(&t.res.storage_key(), &ns_key(t), name)
        .ok_or_else(|| ApiError::not_found(&t.res.group, &t.res.plural, name))?;
    let out = if ctx.wants_table() {
        let o = present(&t.res, &obj);
        table::table(
            &t.res,
            &[&o],
            Include::parse(ctx.query.get("includeObject")),
            json!({"resourceVersion": crate::meta::meta_str(&obj, "resourceVersion")}),
        )
    } else if ctx.wants_metadata() {
        partial(&obj)
    } else {
        present(&t.res, &obj)
    };
    Ok(json_response(StatusCode::OK, &out))
}

/// Parsed selectors of a list or watch.
pub struct Filter {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    pub fn from_ctx(ctx: &RequestCtx) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(ctx.query.get("labelSelector").unwrap_or_default())
            .map_err(|e| ApiError::bad_request(format!("labelSelector: {e}")))?;
        let fields = FieldSelector::parse(ctx.query.get("fieldSelector").unwrap_or_default())
            .map_err(|e| ApiError::bad_request(format!("fieldSelector: {e}")))?;
        Ok(Self { labels, fields })
    }
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }
}

fn decode_continue(token: &str) -> Result<(u64, (String, String)), ApiError> {
    let bad =
        || ApiError::bad_request("the continue token is invalid; start the list again without it");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let ns = v
        .get("ns")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_string();
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_string();
    Ok((rv, (ns, name)))
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"rv": rv, "ns": ns, "name": name}).to_string())
}

pub fn list(ctx: &RequestCtx, t: &Target) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_ctx(ctx)?;
    let limit = match ctx.query.get("limit") {
        Some(l) => Some(
            l.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("limit {l:?} is not a number")))?,
        ),
        None => None,
    }
    .filter(|l| *l > 0);
    let (start_rv, after) = match ctx.query.get("continue") {
        Some(tok) => {
            let (rv, after) = decode_continue(tok)?;
            if rv < ctx.state.store.compacted_rv() {
                return Err(ApiError::gone(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                ));
            }
            (Some(rv), Some(after))
        }
        None => (None, None),
    };
    let ns = if t.res.namespaced {
        t.namespace.as_deref()
    } else {
        None
    };
    let (all, rv) = ctx
        .state
        .store
        .list(&t.res.storage_key(), ns, after.as_ref());
    let list_rv = start_rv.unwrap_or(rv);
    let mut items = Vec::new();
    let mut next = None;
    for obj in all.iter().filter_map(crate::store::Stored::value) {
        if !filter.matches(&obj) {
            continue;
        }
        if limit.is_some_and(|l| items.len() >= l) {
            if let Some(last) = items.last() {
                let last: &Value = last;
                next = Some(encode_continue(
                    list_rv,
                    crate::meta::meta_str(last, "namespace").unwrap_or_default(),
                    crate::meta::meta_str(last, "name").unwrap_or_default(),
                ));
            }
            break;
        }
        items.push(present(&t.res, &obj));
    }
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if let Some(n) = next {
        meta["continue"] = json!(n);
    }
    let out = if ctx.wants_table() {
        let refs: Vec<&Value> = items.iter().collect();
        table::table(
            &t.res,
            &refs,
            Include::parse(ctx.query.get("includeObject")),
            meta,
        )
    } else if ctx.wants_metadata() {
        json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "items": items.iter().map(partial).collect::<Vec<_>>()})
    } else {
        json!({"kind": t.res.list_kind, "apiVersion": t.res.api_version(), "metadata": meta, "items": items})
    };
    Ok(json_response(StatusCode::OK, &out))
}
