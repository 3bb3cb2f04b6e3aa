//! Patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902),
//! strategic merge patch (the subset kubectl sends), and server-side apply
//! with field managers (see [`apply`]).

pub mod apply;
pub mod fields;

use serde_json::{Map, Value};

/// The patch types the server accepts, by `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml`
    Apply,
}

impl PatchType {
    /// From a `Content-Type` header value.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct.split(';').next().unwrap_or_default().trim();
        match base {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// RFC 7386 merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 JSON patch; the error says which operation failed. As in
/// Kubernetes, `test` of a missing path against `null` succeeds (kube-rs'
/// finalizer helper relies on it).
pub fn json(target: &mut Value, patch: &Value) -> Result<(), String> {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| format!("the JSON patch is malformed: {e}"))?;
    let mut work = target.clone();
    for (i, op) in ops.0.iter().enumerate() {
        if let json_patch::PatchOperation::Test(t) = op
            && t.value.is_null()
            && work.pointer(t.path.as_str()).is_none_or(Value::is_null)
        {
            continue;
        }
        json_patch::patch(&mut work, std::slice::from_ref(op))
            .map_err(|e| format!("the JSON patch cannot be applied (operation {i}): {e}"))?;
    }
    *target = work;
    Ok(())
}

/// The merge key of a list field under strategic merge, for the lists of
/// the built-in kinds kubectl patches.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "ports" => Some("containerPort"),
        "ownerReferences" => Some("uid"),
        "conditions" => Some("type"),
        _ => None,
    }
}

/// Lists of scalars merged as sets under strategic merge.
fn set_list(field: &str) -> bool {
    field == "finalizers"
}

/// Strategic merge patch: a merge patch whose known lists merge by key,
/// with the `$patch`, `$retainKeys`, `$setElementOrder/` and
/// `$deleteFromPrimitiveList/` directives kubectl sends.
pub fn strategic(target: &mut Value, patch: &Value) -> Result<(), String> {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => strategic_map(t, p),
        _ => {
            *target = strip_directives(patch);
            Ok(())
        }
    }
}

fn strategic_map(t: &mut Map<String, Value>, p: &Map<String, Value>) -> Result<(), String> {
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            *t = strip_directives(&Value::Object(p.clone()))
                .as_object()
                .cloned()
                .unwrap_or_default();
            return Ok(());
        }
        Some("delete") => {
            t.clear();
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown $patch directive {other:?}")),
    }
    if let Some(keep) = p.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        t.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, pv) in p {
        if k.starts_with("$setElementOrder/") || k == "$patch" || k == "$retainKeys" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(del)) = (t.get_mut(field), pv.as_array()) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if pv.is_null() {
            t.remove(k);
            continue;
        }
        match (t.get_mut(k), pv) {
            (Some(Value::Object(tm)), Value::Object(pm)) => {
                if pm.get("$patch").and_then(Value::as_str) == Some("delete") {
                    t.remove(k);
                } else {
                    strategic_map(tm, pm)?;
                }
            }
            (Some(Value::Array(tl)), Value::Array(pl)) if merge_key(k).is_some() => {
                merge_keyed_list(tl, pl, merge_key(k).unwrap_or("name"))?;
            }
            (Some(Value::Array(tl)), Value::Array(pl)) if set_list(k) => {
                for x in pl {
                    if !tl.contains(x) {
                        tl.push(x.clone());
                    }
                }
            }
            _ => {
                t.insert(k.clone(), strip_directives(pv));
            }
        }
    }
    Ok(())
}

fn merge_keyed_list(tl: &mut Vec<Value>, pl: &[Value], key: &str) -> Result<(), String> {
    for item in pl {
        let Some(im) = item.as_object() else {
            tl.push(item.clone());
            continue;
        };
        if im.get("$patch").and_then(Value::as_str) == Some("replace") {
            *tl = pl.iter().map(strip_directives).collect();
            return Ok(());
        }
        let k = im.get(key);
        let pos = k.and_then(|k| tl.iter().position(|x| x.get(key) == Some(k)));
        let delete = im.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                tl.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => {
                if let Some(tm) = tl[i].as_object_mut() {
                    strategic_map(tm, im)?;
                }
            }
            (None, false) => tl.push(strip_directives(item)),
        }
    }
    Ok(())
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_keyed_lists_and_finalizers() {
        let mut t = json!({"metadata": {"finalizers": ["a"], "labels": {"x": "1", "y": "2"}},
            "spec": {"containers": [{"name": "c1", "image": "old"}, {"name": "c2", "image": "keep"}]}});
        let p = json!({"metadata": {"finalizers": ["b"], "labels": {"y": null}},
            "spec": {"$setElementOrder/containers": [{"name": "c1"}],
                     "containers": [{"name": "c1", "image": "new"}, {"name": "c2", "$patch": "delete"}]}});
        strategic(&mut t, &p).unwrap();
        assert_eq!(t["metadata"]["finalizers"], json!(["a", "b"]));
        assert_eq!(t["metadata"]["labels"], json!({"x": "1"}));
        assert_eq!(
            t["spec"]["containers"],
            json!([{"name": "c1", "image": "new"}])
        );
    }

    #[test]
    fn strategic_directives() {
        let mut t = json!({"data": {"a": "1", "b": "2"}, "list": ["x", "y"]});
        strategic(&mut t, &json!({"data": {"$patch": "replace", "c": "3"}, "$deleteFromPrimitiveList/list": ["x"]})).unwrap();
        assert_eq!(t, json!({"data": {"c": "3"}, "list": ["y"]}));
        assert!(strategic(&mut t, &json!({"$patch": "bogus"})).is_err());
    }

    #[test]
    fn json_patch_errors_name_the_problem() {
        let mut t = json!({"a": 1});
        json(
            &mut t,
            &json!([{"op": "replace", "path": "/a", "value": 2}]),
        )
        .unwrap();
        assert_eq!(t, json!({"a": 2}));
        assert!(json(&mut t, &json!([{"op": "test", "path": "/a", "value": 3}])).is_err());
        assert!(json(&mut t, &json!({"not": "a list"})).is_err());
        // Kubernetes semantics: a missing path tests equal to null.
        json(&mut t, &json!([{"op": "test", "path": "/f", "value": null}, {"op": "add", "path": "/f", "value": ["x"]}])).unwrap();
        assert_eq!(t["f"], json!(["x"]));
        assert!(
            json(
                &mut t,
                &json!([{"op": "test", "path": "/f", "value": null}])
            )
            .is_err()
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            Some(PatchType::Apply)
        );
        assert_eq!(PatchType::from_content_type("text/plain"), None);
    }
}
