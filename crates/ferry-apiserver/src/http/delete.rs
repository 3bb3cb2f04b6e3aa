//! delete and deletecollection, with finalizers, preconditions and the
//! namespace and CRD cascades.

use std::sync::Arc;

use axum::body::Body;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::read::{Filter, ns_key, present};
use super::write::{NAMESPACE_KEY, respond, store_err};
use super::{RequestCtx, Target, json_response};
use crate::error::ApiError;
use crate::meta;
use crate::registry::Resource;
use crate::state::{CRD_KEY, State};
use crate::store::{Write, WriteError, object_rv};

/// `DeleteOptions` preconditions.
#[derive(Default)]
struct Preconditions {
    uid: Option<String>,
    rv: Option<u64>,
}

fn preconditions(body: &[u8]) -> Result<Preconditions, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Preconditions::default());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("the DeleteOptions body cannot be parsed: {e}"))
    })?;
    let p = v.get("preconditions");
    Ok(Preconditions {
        uid: p
            .and_then(|p| p.get("uid"))
            .and_then(Value::as_str)
            .map(str::to_string),
        rv: p
            .and_then(|p| p.get("resourceVersion"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok()),
    })
}

/// Delete one object: with finalizers, mark it (deletionTimestamp); without,
/// remove it. Returns the object and whether it is gone.
fn delete_one(
    state: &State,
    res: &Resource,
    ns: &str,
    name: &str,
    pre: &Preconditions,
    dry_run: bool,
) -> Result<(Arc<Value>, bool), ApiError> {
    let key = res.storage_key();
    for _ in 0..16 {
        let old = state
            .store
            .get(&key, ns, name)
            .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
        if let Some(uid) = &pre.uid
            && meta::meta_str(&old, "uid") != Some(uid.as_str())
        {
            return Err(ApiError::conflict(
                &res.group,
                &res.plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta::meta_str(&old, "uid").unwrap_or_default()
                ),
            ));
        }
        let rv = object_rv(&old);
        if pre.rv.is_some() && pre.rv != rv {
            return Err(store_err(WriteError::Conflict, res, name));
        }
        if dry_run {
            return Ok((old.clone(), meta::finalizers(&old).is_empty()));
        }
        let has_finalizers = !meta::finalizers(&old).is_empty();
        let result = if has_finalizers {
            if old
                .get("metadata")
                .and_then(|m| m.get("deletionTimestamp"))
                .is_some()
            {
                return Ok((old, false));
            }
            let mut marked = (*old).clone();
            if let Some(md) = meta::metadata_mut(&mut marked) {
                md.insert("deletionTimestamp".into(), json!(meta::now_rfc3339()));
                md.insert("deletionGracePeriodSeconds".into(), json!(0));
            }
            if res.kind == "Namespace" && res.group.is_empty() {
                marked["status"] = json!({"phase": "Terminating"});
            }
            state
                .store
                .write(&key, ns, name, Write::Update { expect_rv: rv }, marked)
                .map(|o| (o, false))
        } else {
            state
                .store
                .write(
                    &key,
                    ns,
                    name,
                    Write::Delete { expect_rv: rv },
                    (*old).clone(),
                )
                .map(|o| (o, true))
        };
        match result {
            Ok((o, gone)) => {
                if gone {
                    after_final_delete(state, res, ns, name);
                }
                return Ok((o, gone));
            }
            Err(WriteError::Conflict) if pre.rv.is_none() => continue,
            Err(e) => return Err(store_err(e, res, name)),
        }
    }
    Err(ApiError::conflict(
        &res.group,
        &res.plural,
        name,
        "the object keeps changing; try again",
    ))
}

/// Cascades after an object is gone: a CRD takes its objects with it, a
/// namespace its contents; a terminating namespace goes once it is empty.
pub(crate) fn after_final_delete(state: &State, res: &Resource, ns: &str, name: &str) {
    let key = res.storage_key();
    if key == CRD_KEY {
        let reg = state.registry();
        if let Some(r) = reg
            .all()
            .find(|r| format!("{}.{}", r.plural, r.group) == name)
        {
            let ikey = r.storage_key();
            let (objs, _) = state.store.list_values(&ikey, None);
            for o in objs {
                let ons = meta::meta_str(&o, "namespace")
                    .unwrap_or_default()
                    .to_string();
                let oname = meta::meta_str(&o, "name").unwrap_or_default().to_string();
                let _ = state.store.write(
                    &ikey,
                    &ons,
                    &oname,
                    Write::Delete { expect_rv: None },
                    (*o).clone(),
                );
            }
        }
        state.rebuild_registry();
        return;
    }
    if !ns.is_empty()
        && let Some(nsobj) = state.store.get(NAMESPACE_KEY, "", ns)
        && nsobj
            .get("metadata")
            .and_then(|m| m.get("deletionTimestamp"))
            .is_some()
        && state.store.namespace_is_empty(ns)
    {
        let _ = state.store.write(
            NAMESPACE_KEY,
            "",
            ns,
            Write::Delete { expect_rv: None },
            (*nsobj).clone(),
        );
    }
}

/// Delete everything in a namespace (finalizers honoured), then the namespace
/// itself when nothing is left.
fn delete_namespace(
    state: &State,
    res: &Resource,
    name: &str,
    pre: &Preconditions,
    dry_run: bool,
) -> Result<(Arc<Value>, bool), ApiError> {
    let old = state
        .store
        .get(NAMESPACE_KEY, "", name)
        .ok_or_else(|| ApiError::not_found("", "namespaces", name))?;
    if dry_run {
        return Ok((old, false));
    }
    let reg = state.registry();
    let mut marked = (*old).clone();
    if marked
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_none()
    {
        if let Some(md) = meta::metadata_mut(&mut marked) {
            md.insert("deletionTimestamp".into(), json!(meta::now_rfc3339()));
        }
        marked["status"] = json!({"phase": "Terminating"});
        let rv = pre.rv.or_else(|| object_rv(&old));
        marked = (*state
            .store
            .write(
                NAMESPACE_KEY,
                "",
                name,
                Write::Update { expect_rv: rv },
                marked,
            )
            .map_err(|e| store_err(e, res, name))?)
        .clone();
    }
    for (key, oname) in state.store.in_namespace(name) {
        if let Some(r) = reg.all().find(|r| r.storage_key() == key) {
            let _ = delete_one(state, r, name, &oname, &Preconditions::default(), false);
        }
    }
    match state.store.get(NAMESPACE_KEY, "", name) {
        Some(n) if state.store.namespace_is_empty(name) => {
            let o = state
                .store
                .write(
                    NAMESPACE_KEY,
                    "",
                    name,
                    Write::Delete { expect_rv: None },
                    (*n).clone(),
                )
                .map_err(|e| store_err(e, res, name))?;
            Ok((o, true))
        }
        Some(n) => Ok((n, false)),
        None => Ok((Arc::new(marked), true)),
    }
}

pub fn delete(ctx: &RequestCtx, t: &Target, body: &[u8]) -> Result<Response<Body>, ApiError> {
    if t.sub.is_some() {
        return Err(ApiError::method_not_allowed("delete", &t.res.kind));
    }
    let pre = preconditions(body)?;
    let name = t.name.clone().unwrap_or_default();
    let (obj, _gone) = if t.res.kind == "Namespace" && t.res.group.is_empty() {
        delete_namespace(&ctx.state, &t.res, &name, &pre, ctx.dry_run())?
    } else {
        delete_one(&ctx.state, &t.res, &ns_key(t), &name, &pre, ctx.dry_run())?
    };
    Ok(respond(StatusCode::OK, &t.res, &obj, &[]))
}

pub fn delete_collection(
    ctx: &RequestCtx,
    t: &Target,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let pre = preconditions(body)?;
    let filter = Filter::from_ctx(ctx)?;
    let ns = if t.res.namespaced {
        t.namespace.as_deref()
    } else {
        None
    };
    let (all, _) = ctx.state.store.list_values(&t.res.storage_key(), ns);
    let mut items = Vec::new();
    for obj in all.iter().filter(|o| filter.matches(o)) {
        let ons = meta::meta_str(obj, "namespace")
            .unwrap_or_default()
            .to_string();
        let oname = meta::meta_str(obj, "name").unwrap_or_default().to_string();
        let r = if t.res.kind == "Namespace" && t.res.group.is_empty() {
            delete_namespace(&ctx.state, &t.res, &oname, &pre, ctx.dry_run())
        } else {
            delete_one(&ctx.state, &t.res, &ons, &oname, &pre, ctx.dry_run())
        };
        match r {
            Ok((o, _)) => items.push(present(&t.res, &o)),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let rv = ctx.state.store.current_rv();
    Ok(json_response(
        StatusCode::OK,
        &json!({"kind": t.res.list_kind, "apiVersion": t.res.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
    ))
}
