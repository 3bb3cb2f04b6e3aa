//! Turning a request body into the object to store: names, namespaces,
//! immutable metadata, the status subresource split, schema pruning,
//! defaulting and validation, generation and managedFields.

use serde_json::{Map, Value, json};

use super::{RequestCtx, Target};
use crate::error::ApiError;
use crate::meta;
use crate::patch::apply::{self, Manager};
use crate::registry::{Resource, resources_of_crd};

use super::write::{invalid, scope};

/// A finished object ready to store, plus warnings for the client.
pub(crate) struct Prepared {
    pub(crate) obj: Value,
    pub(crate) warnings: Vec<String>,
}

/// How managedFields are maintained for a write.
pub(crate) enum Fields<'a> {
    /// Record changed fields under this manager (operation Update).
    Update(Manager<'a>),
    /// Already computed by server-side apply.
    Applied,
}

/// Normalise, default, validate and version a new object state.
pub(crate) fn prepare(
    ctx: &RequestCtx,
    t: &Target,
    old: Option<&Value>,
    mut new: Value,
    fields: Fields<'_>,
) -> Result<Prepared, ApiError> {
    let res = &t.res;
    let path_name = t.name.clone();
    if !new.is_object() {
        return Err(ApiError::bad_request(format!(
            "the body must be a {} object",
            res.kind
        )));
    }
    if let Some(k) = new
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        && k != res.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the body ({k}) does not match the resource {}.{} ({})",
            res.plural, res.group, res.kind
        )));
    }
    if let Some(av) = new
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    {
        let group = av.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        if group != res.group {
            return Err(ApiError::bad_request(format!(
                "the apiVersion in the body ({av}) does not match the request ({})",
                res.api_version()
            )));
        }
    }
    if let Some(o) = new.as_object_mut() {
        o.insert("apiVersion".into(), json!(res.api_version()));
        o.insert("kind".into(), json!(res.kind));
    }
    let md = meta::metadata_mut(&mut new)
        .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
    // Name.
    let body_name = md
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let name = match (&path_name, body_name) {
        (Some(p), Some(b)) if *p != b => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({b}) does not match the name on the URL ({p})"
            )));
        }
        (Some(p), _) => p.clone(),
        (None, Some(b)) => b,
        (None, None) => match md
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(prefix) => format!("{prefix}{}", meta::random_suffix()),
            None => {
                return Err(invalid(
                    res,
                    "",
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required".into(),
                ));
            }
        },
    };
    md.insert("name".into(), json!(name));
    // Namespace.
    if res.namespaced {
        let ns = t.namespace.clone().unwrap_or_default();
        if ns.is_empty() {
            return Err(ApiError::bad_request(format!(
                "{} is namespaced: use a /namespaces/NAME/ path",
                res.kind
            )));
        }
        if let Some(b) = md
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            && b != ns
        {
            return Err(ApiError::bad_request(format!(
                "the namespace of the provided object ({b}) does not match the namespace sent on the request ({ns})"
            )));
        }
        md.insert("namespace".into(), json!(ns));
    } else {
        md.remove("namespace");
    }
    md.remove("selfLink");
    check_metadata(res, &name, md)?;
    let sub = t.sub.as_deref();
    match old {
        Some(old) => {
            if sub == Some("status") {
                // Only status changes through the status subresource (and managedFields).
                let status = new.get("status").cloned();
                let managed = new
                    .get("metadata")
                    .and_then(|m| m.get("managedFields"))
                    .cloned();
                let mut merged = old.clone();
                if let Some(o) = merged.as_object_mut() {
                    match status {
                        Some(s) => o.insert("status".into(), s),
                        None => o.remove("status"),
                    };
                }
                if let Some(m) = meta::metadata_mut(&mut merged) {
                    match managed {
                        Some(mf) => m.insert("managedFields".into(), mf),
                        None => m.remove("managedFields"),
                    };
                }
                new = merged;
            } else if res.status_subresource
                && let Some(o) = new.as_object_mut()
            {
                match old.get("status") {
                    Some(s) => o.insert("status".into(), s.clone()),
                    None => o.remove("status"),
                };
            }
            let om = old.get("metadata").cloned().unwrap_or_default();
            let md = meta::metadata_mut(&mut new)
                .ok_or_else(|| ApiError::internal("metadata vanished"))?;
            for k in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ] {
                match om.get(k) {
                    Some(v) => md.insert(k.into(), v.clone()),
                    None => md.remove(k),
                };
            }
            if om.get("deletionTimestamp").is_some() {
                let before = meta::finalizers(old);
                if let Some(added) = meta::finalizers(&new)
                    .into_iter()
                    .find(|f| !before.contains(f))
                {
                    return Err(invalid(
                        res,
                        &name,
                        "metadata.finalizers",
                        "FieldValueForbidden",
                        format!(
                            "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers [\"{added}\"]"
                        ),
                    ));
                }
            }
        }
        None => {
            if res.status_subresource
                && res.custom
                && let Some(o) = new.as_object_mut()
            {
                o.remove("status");
            }
            let md = meta::metadata_mut(&mut new)
                .ok_or_else(|| ApiError::internal("metadata vanished"))?;
            md.insert("uid".into(), json!(meta::new_uid()));
            md.insert("creationTimestamp".into(), json!(meta::now_rfc3339()));
            md.insert("generation".into(), json!(1));
            md.remove("deletionTimestamp");
            md.remove("deletionGracePeriodSeconds");
            md.remove("resourceVersion");
        }
    }
    // Custom resources: prune, default, validate.
    let mut warnings = Vec::new();
    if let Some(schema) = res.schema.clone() {
        let outcome = crate::schema::process(&schema, &mut new);
        if !outcome.pruned.is_empty() {
            let list = outcome
                .pruned
                .iter()
                .map(|p| format!("unknown field \"{p}\""))
                .collect::<Vec<_>>();
            match ctx.query.get("fieldValidation") {
                Some("Strict") => {
                    return Err(ApiError::bad_request(format!(
                        "strict decoding error: {}",
                        list.join(", ")
                    )));
                }
                Some("Ignore") => {}
                _ => warnings.extend(list),
            }
        }
        if !outcome.causes.is_empty() {
            return Err(ApiError::invalid(
                &res.group,
                &res.kind,
                &name,
                outcome.causes,
            ));
        }
    }
    builtin_rules(res, &name, old, &mut new)?;
    // Generation follows changes outside metadata and status.
    if let Some(old) = old {
        let strip = |v: &Value| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("metadata");
                o.remove("status");
                o.remove("apiVersion");
                o.remove("kind");
            }
            v
        };
        let old_gen = old
            .get("metadata")
            .and_then(|m| m.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let gen_ = if strip(old) != strip(&new) {
            old_gen + 1
        } else {
            old_gen
        };
        if let Some(md) = meta::metadata_mut(&mut new) {
            md.insert("generation".into(), json!(gen_));
        }
    }
    if let Fields::Update(m) = fields {
        apply::record_update(old, &mut new, &m, scope(res, sub));
    }
    Ok(Prepared { obj: new, warnings })
}

/// Kubernetes' limit on the total size of an object's annotations (keys
/// plus values).
pub(crate) const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

fn check_metadata(res: &Resource, name: &str, md: &Map<String, Value>) -> Result<(), ApiError> {
    let ok_name = if res.kind == "Namespace" && res.group.is_empty() {
        meta::is_dns_label(name)
    } else {
        meta::is_dns_subdomain(name)
    };
    if !ok_name {
        return Err(invalid(
            res,
            name,
            "metadata.name",
            "FieldValueInvalid",
            format!(
                "Invalid value: {name:?}: a lowercase RFC 1123 {} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                if res.kind == "Namespace" {
                    "label"
                } else {
                    "subdomain"
                }
            ),
        ));
    }
    for key in ["labels", "annotations"] {
        match md.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                    return Err(invalid(
                        res,
                        name,
                        &format!("metadata.{key}[{k}]"),
                        "FieldValueInvalid",
                        "Invalid value: must be a string".into(),
                    ));
                }
                let total: usize = m
                    .iter()
                    .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
                    .sum();
                if key == "annotations" && total > MAX_ANNOTATIONS_BYTES {
                    return Err(invalid(
                        res,
                        name,
                        "metadata.annotations",
                        "FieldValueTooLong",
                        format!(
                            "Too long: must have at most {MAX_ANNOTATIONS_BYTES} bytes (the annotations of {name} have {total}); keep large data in a ConfigMap or Secret"
                        ),
                    ));
                }
                if key == "labels"
                    && let Some((k, v)) = m
                        .iter()
                        .find(|(_, v)| v.as_str().is_some_and(|s| s.len() > 63))
                {
                    return Err(invalid(
                        res,
                        name,
                        &format!("metadata.labels[{k}]"),
                        "FieldValueInvalid",
                        format!("Invalid value: {v}: must be no more than 63 characters"),
                    ));
                }
            }
            Some(_) => {
                return Err(invalid(
                    res,
                    name,
                    &format!("metadata.{key}"),
                    "FieldValueInvalid",
                    "Invalid value: must be a map of strings".into(),
                ));
            }
        }
    }
    match md.get("finalizers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {}
        Some(_) => {
            return Err(invalid(
                res,
                name,
                "metadata.finalizers",
                "FieldValueInvalid",
                "Invalid value: must be a list of strings".into(),
            ));
        }
    }
    Ok(())
}

/// Rules of built-in kinds the server itself enforces or fills in.
fn builtin_rules(
    res: &Resource,
    name: &str,
    old: Option<&Value>,
    new: &mut Value,
) -> Result<(), ApiError> {
    if res.custom {
        return Ok(());
    }
    match (res.group.as_str(), res.kind.as_str()) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            let list = resources_of_crd(new)
                .map_err(|p| invalid(res, name, &p.field, "FieldValueInvalid", p.message))?;
            if let Some(o) = new.as_object_mut() {
                let names = o
                    .get("spec")
                    .and_then(|s| s.get("names"))
                    .cloned()
                    .unwrap_or_default();
                let stored: Vec<String> = list
                    .iter()
                    .map(|r| r.storage_version.clone())
                    .take(1)
                    .collect();
                let kept = old.and_then(|o| o.get("status")).filter(|s| {
                    s.get("acceptedNames") == Some(&names)
                        && s.get("storedVersions") == Some(&json!(stored))
                });
                if let Some(kept) = kept {
                    // Same names: the conditions keep their transition times.
                    o.insert("status".into(), kept.clone());
                    return Ok(());
                }
                let now = meta::now_rfc3339();
                o.insert("status".into(), json!({
                    "acceptedNames": names,
                    "storedVersions": stored,
                    "conditions": [
                        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
                        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now}
                    ]
                }));
            }
        }
        ("", "Namespace") => {
            let terminating = new
                .get("metadata")
                .and_then(|m| m.get("deletionTimestamp"))
                .is_some();
            if let Some(o) = new.as_object_mut() {
                let phase = if terminating { "Terminating" } else { "Active" };
                o.insert("status".into(), json!({"phase": phase}));
            }
        }
        ("", "Secret") | ("", "ConfigMap") => {
            if let Some(data) = new.get("data").filter(|d| !d.is_null()) {
                let Some(m) = data.as_object() else {
                    return Err(invalid(
                        res,
                        name,
                        "data",
                        "FieldValueInvalid",
                        "Invalid value: must be a map".into(),
                    ));
                };
                if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                    return Err(invalid(
                        res,
                        name,
                        &format!("data[{k}]"),
                        "FieldValueInvalid",
                        "Invalid value: must be a string".into(),
                    ));
                }
            }
            if res.kind == "Secret"
                && let Some(o) = new.as_object_mut()
            {
                // stringData is write-only: merged into data (base64) as the real server does.
                if let Some(Value::Object(sd)) = o.remove("stringData") {
                    use base64::Engine as _;
                    let data = o.entry("data").or_insert_with(|| json!({}));
                    if let Some(d) = data.as_object_mut() {
                        for (k, v) in sd {
                            let s = v.as_str().unwrap_or_default();
                            d.insert(
                                k,
                                json!(base64::engine::general_purpose::STANDARD.encode(s)),
                            );
                        }
                    }
                }
                o.entry("type").or_insert_with(|| json!("Opaque"));
            }
        }
        _ => {}
    }
    Ok(())
}
