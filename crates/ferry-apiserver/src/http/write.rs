//! create, update, patch, delete, deletecollection.

use std::sync::Arc;

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode};
use serde_json::Value;

use super::delete::after_final_delete;
use super::prepare::{Fields, Prepared, prepare};
use super::read::{ns_key, present};
use super::{RequestCtx, Target, json_response, parse_body};
use crate::error::{ApiError, Cause};
use crate::meta;
use crate::patch::apply::{self, Manager};
use crate::patch::fields::Scope;
use crate::patch::{self, PatchType};
use crate::registry::Resource;
use crate::state::{CRD_KEY, State};
use crate::store::{Write, WriteError, object_rv};

pub(crate) const NAMESPACE_KEY: &str = "/namespaces";

pub(crate) fn store_err(e: WriteError, res: &Resource, name: &str) -> ApiError {
    match e {
        WriteError::AlreadyExists => ApiError::already_exists(&res.group, &res.plural, name),
        WriteError::NotFound => ApiError::not_found(&res.group, &res.plural, name),
        WriteError::Conflict => ApiError::conflict(
            &res.group,
            &res.plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ),
        WriteError::Db(e) => ApiError::internal(format!("storage failed: {e}")),
    }
}

pub(crate) fn invalid(
    res: &Resource,
    name: &str,
    field: &str,
    reason: &'static str,
    message: String,
) -> ApiError {
    ApiError::invalid(
        &res.group,
        &res.kind,
        name,
        vec![Cause {
            reason,
            field: field.into(),
            message,
        }],
    )
}

pub(crate) fn scope(res: &Resource, sub: Option<&str>) -> Scope {
    if sub == Some("status") {
        Scope::Status
    } else {
        Scope::Main {
            status_is_separate: res.status_subresource,
        }
    }
}

pub(crate) fn respond(
    code: StatusCode,
    res: &Resource,
    obj: &Value,
    warnings: &[String],
) -> Response<Body> {
    let mut r = json_response(code, &present(res, obj));
    for w in warnings.iter().take(20) {
        let text = format!("299 - \"{}\"", w.replace('"', "'"));
        if let Ok(v) = HeaderValue::from_str(&text) {
            r.headers_mut().append("Warning", v);
        }
    }
    r
}

fn ensure_namespace(state: &State, t: &Target) -> Result<(), ApiError> {
    if !t.res.namespaced {
        return Ok(());
    }
    let ns = t.namespace.as_deref().unwrap_or_default();
    match state.store.get(NAMESPACE_KEY, "", ns) {
        None => Err(ApiError::not_found("", "namespaces", ns)),
        Some(n)
            if n.get("metadata")
                .and_then(|m| m.get("deletionTimestamp"))
                .is_some() =>
        {
            Err(ApiError {
                code: 403,
                reason: "Forbidden",
                message: format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
                details: None,
            })
        }
        Some(_) => Ok(()),
    }
}

/// Store a prepared object (create or update), deleting it instead when an
/// update removed the last finalizer of an object being deleted. An update
/// that changes nothing stores nothing: the old object comes back with its
/// resourceVersion, and watchers see no event (as Kubernetes does).
fn commit(
    state: &State,
    t: &Target,
    prepared: Prepared,
    old: Option<&Arc<Value>>,
    dry_run: bool,
) -> Result<(Arc<Value>, bool), WriteError> {
    if let Some(old) = old
        && meta::same_object(old, &prepared.obj)
    {
        return Ok((old.clone(), false));
    }
    let old_rv = old.map(|o| object_rv(o).unwrap_or(0));
    let res = &t.res;
    let key = res.storage_key();
    let ns = ns_key(t);
    let name = meta::meta_str(&prepared.obj, "name")
        .unwrap_or_default()
        .to_string();
    if dry_run {
        let exists = state.store.get(&key, &ns, &name).is_some();
        return match (old_rv, exists) {
            (None, true) => Err(WriteError::AlreadyExists),
            (Some(_), false) => Err(WriteError::NotFound),
            _ => Ok((Arc::new(prepared.obj), old_rv.is_none())),
        };
    }
    let deleting = prepared
        .obj
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some();
    let out = match old_rv {
        None => (
            state
                .store
                .write(&key, &ns, &name, Write::Create, prepared.obj)?,
            true,
        ),
        Some(rv) if deleting && meta::finalizers(&prepared.obj).is_empty() => {
            let o = state.store.write(
                &key,
                &ns,
                &name,
                Write::Delete {
                    expect_rv: Some(rv),
                },
                prepared.obj,
            )?;
            after_final_delete(state, res, &ns, &name);
            (o, false)
        }
        Some(rv) => (
            state.store.write(
                &key,
                &ns,
                &name,
                Write::Update {
                    expect_rv: Some(rv),
                },
                prepared.obj,
            )?,
            false,
        ),
    };
    if key == CRD_KEY {
        state.rebuild_registry();
    }
    Ok(out)
}

pub fn create(ctx: &RequestCtx, t: &Target, body: &[u8]) -> Result<Response<Body>, ApiError> {
    if t.sub.is_some() {
        return Err(ApiError::method_not_allowed("create", &t.res.kind));
    }
    let obj = parse_body(body, ctx.content_type())?;
    ensure_namespace(&ctx.state, t)?;
    let manager = ctx.field_manager();
    let now = meta::now_rfc3339();
    let api_version = t.res.api_version();
    let m = Manager {
        name: &manager,
        operation: "Update",
        subresource: "",
        api_version: &api_version,
        time: &now,
    };
    let prepared = prepare(ctx, t, None, obj, Fields::Update(m))?;
    let name = meta::meta_str(&prepared.obj, "name")
        .unwrap_or_default()
        .to_string();
    let warnings = prepared.warnings.clone();
    let (stored, _) = commit(&ctx.state, t, prepared, None, ctx.dry_run())
        .map_err(|e| store_err(e, &t.res, &name))?;
    Ok(respond(StatusCode::CREATED, &t.res, &stored, &warnings))
}

pub fn update(ctx: &RequestCtx, t: &Target, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let obj = parse_body(body, ctx.content_type())?;
    let name = t.name.clone().unwrap_or_default();
    let key = t.res.storage_key();
    let old = ctx
        .state
        .store
        .get(&key, &ns_key(t), &name)
        .ok_or_else(|| ApiError::not_found(&t.res.group, &t.res.plural, &name))?;
    let current = object_rv(&old);
    let wanted = match meta::meta_str(&obj, "resourceVersion") {
        Some(s) => Some(s.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("metadata.resourceVersion {s:?} is not valid"))
        })?),
        None => None,
    };
    if wanted.is_some() && wanted != current {
        return Err(store_err(WriteError::Conflict, &t.res, &name));
    }
    let manager = ctx.field_manager();
    let now = meta::now_rfc3339();
    let api_version = t.res.api_version();
    let sub = t.sub.clone().unwrap_or_default();
    let m = Manager {
        name: &manager,
        operation: "Update",
        subresource: &sub,
        api_version: &api_version,
        time: &now,
    };
    let prepared = prepare(ctx, t, Some(&old), obj, Fields::Update(m))?;
    let warnings = prepared.warnings.clone();
    let (stored, _) = commit(&ctx.state, t, prepared, Some(&old), ctx.dry_run())
        .map_err(|e| store_err(e, &t.res, &name))?;
    Ok(respond(StatusCode::OK, &t.res, &stored, &warnings))
}

pub fn patch(ctx: &RequestCtx, t: &Target, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let ct = ctx.content_type().to_string();
    let pt = PatchType::from_content_type(&ct).ok_or_else(|| ApiError::unsupported_media(&ct))?;
    if pt == PatchType::Strategic && t.res.custom {
        return Err(ApiError::unsupported_media(
            "application/strategic-merge-patch+json (strategic merge patch is not supported for custom resources; use a merge patch)",
        ));
    }
    let patch_body = parse_body(body, &ct)?;
    let name = t.name.clone().unwrap_or_default();
    let key = t.res.storage_key();
    let ns = ns_key(t);
    let manager = match (pt, ctx.query.get("fieldManager")) {
        (PatchType::Apply, None) => {
            return Err(ApiError::bad_request(
                "fieldManager is required for apply requests",
            ));
        }
        _ => ctx.field_manager(),
    };
    let force = ctx.query.flag("force");
    let api_version = t.res.api_version();
    let sub = t.sub.clone().unwrap_or_default();
    for _attempt in 0..16 {
        let old = ctx.state.store.get(&key, &ns, &name);
        let now = meta::now_rfc3339();
        let (new, fields) = match (pt, old.as_deref()) {
            (PatchType::Apply, None) if t.sub.is_some() => {
                return Err(ApiError::not_found(&t.res.group, &t.res.plural, &name));
            }
            (PatchType::Apply, old) => {
                if patch_body.get("apiVersion").is_none() || patch_body.get("kind").is_none() {
                    return Err(ApiError::bad_request(
                        "an apply configuration must set apiVersion and kind",
                    ));
                }
                let m = Manager {
                    name: &manager,
                    operation: "Apply",
                    subresource: &sub,
                    api_version: &api_version,
                    time: &now,
                };
                let sc = scope(&t.res, t.sub.as_deref());
                let applied =
                    apply::apply(old, &patch_body, &m, force, sc).map_err(|conflicts| {
                        let causes: Vec<Cause> = conflicts
                            .iter()
                            .map(|c| Cause {
                                reason: "FieldManagerConflict",
                                field: c.field.clone(),
                                message: format!("conflict with \"{}\"", c.manager),
                            })
                            .collect();
                        let list = conflicts
                            .iter()
                            .map(|c| format!("- conflict with \"{}\": {}", c.manager, c.field))
                            .collect::<Vec<_>>();
                        ApiError::apply_conflict(
                            &causes,
                            format!(
                                "Apply failed with {} conflict{}: {}",
                                conflicts.len(),
                                if conflicts.len() == 1 { "" } else { "s" },
                                list.join("\n")
                            ),
                        )
                    })?;
                (applied, Fields::Applied)
            }
            (_, None) => return Err(ApiError::not_found(&t.res.group, &t.res.plural, &name)),
            (_, Some(old)) => {
                let mut v = old.clone();
                match pt {
                    PatchType::Merge => patch::merge(&mut v, &patch_body),
                    PatchType::Json => patch::json(&mut v, &patch_body).map_err(|e| {
                        let mut err = ApiError::invalid(&t.res.group, &t.res.kind, &name, vec![]);
                        err.message = e;
                        err
                    })?,
                    _ => patch::strategic(&mut v, &patch_body).map_err(ApiError::bad_request)?,
                }
                if meta::meta_str(&v, "resourceVersion") != meta::meta_str(old, "resourceVersion") {
                    return Err(store_err(WriteError::Conflict, &t.res, &name));
                }
                let m = Manager {
                    name: &manager,
                    operation: "Update",
                    subresource: &sub,
                    api_version: &api_version,
                    time: &now,
                };
                (v, Fields::Update(m))
            }
        };
        if old.is_none() {
            ensure_namespace(&ctx.state, t)?;
        }
        let prepared = prepare(ctx, t, old.as_deref(), new, fields)?;
        let warnings = prepared.warnings.clone();
        match commit(&ctx.state, t, prepared, old.as_ref(), ctx.dry_run()) {
            Ok((stored, created)) => {
                let code = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                return Ok(respond(code, &t.res, &stored, &warnings));
            }
            Err(WriteError::Conflict | WriteError::AlreadyExists | WriteError::NotFound) => {
                continue;
            }
            Err(e) => return Err(store_err(e, &t.res, &name)),
        }
    }
    Err(ApiError::conflict(
        &t.res.group,
        &t.res.plural,
        &name,
        "the object keeps changing; try again",
    ))
}

/// Server-side apply an object as `manager` (forced), from inside the
/// process: how `ferry serve` installs its CRDs and namespaces.
pub fn apply_internal(state: &Arc<State>, obj: &Value, manager: &str) -> Result<Value, ApiError> {
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let reg = state.registry();
    let res = reg.by_kind(group, version, kind).ok_or_else(|| {
        ApiError::bad_request(format!("no resource serves {kind} in {api_version}"))
    })?;
    let name = meta::meta_str(obj, "name").unwrap_or_default().to_string();
    let namespace = if res.namespaced {
        Some(
            meta::meta_str(obj, "namespace")
                .unwrap_or("default")
                .to_string(),
        )
    } else {
        None
    };
    let t = Target {
        res,
        namespace,
        name: Some(name),
        sub: None,
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/apply-patch+yaml"),
    );
    let query = super::Query::parse(Some(&format!("fieldManager={manager}&force=true")));
    let ctx = RequestCtx {
        state: state.clone(),
        query,
        headers,
        accept: String::new(),
    };
    let body = serde_json::to_vec(obj).map_err(|e| ApiError::internal(e.to_string()))?;
    patch(&ctx, &t, &body)?;
    let key = t.res.storage_key();
    let ns = ns_key(&t);
    let stored = state
        .store
        .get(&key, &ns, t.name.as_deref().unwrap_or_default());
    stored
        .map(|o| (*o).clone())
        .ok_or_else(|| ApiError::internal("the applied object vanished"))
}
