//! Field sets as `managedFields` use them: sets of leaf paths, converted
//! from and to the `FieldsV1` JSON form (`{"f:spec": {"f:size": {}}}`).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A path of `FieldsV1` keys (`f:spec`, `f:size`; `k:`/`v:` keys are kept opaque).
pub type Path = Vec<String>;

/// A set of owned leaf paths.
pub type FieldSet = BTreeSet<Path>;

/// Metadata fields that field managers own; everything else in `metadata`
/// belongs to the server.
const OWNED_METADATA: &[&str] = &["labels", "annotations", "finalizers", "ownerReferences"];

/// Parse `FieldsV1` JSON.
pub fn from_v1(v: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    fn rec(v: &Value, path: &mut Path, out: &mut FieldSet) {
        let Some(m) = v.as_object() else { return };
        if m.is_empty() && !path.is_empty() {
            out.insert(path.clone());
        }
        for (k, child) in m {
            if k == "." {
                if !path.is_empty() {
                    out.insert(path.clone());
                }
                continue;
            }
            path.push(k.clone());
            rec(child, path, out);
            path.pop();
        }
    }
    rec(v, &mut Vec::new(), &mut out);
    out
}

/// Render as `FieldsV1` JSON.
pub fn to_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for (i, k) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            let entry = node
                .entry(k.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(m) = entry.as_object_mut() else {
                break;
            };
            if last
                && set
                    .iter()
                    .any(|p| p.len() > path.len() && p.starts_with(path))
            {
                m.insert(".".into(), Value::Object(Map::new()));
            }
            node = m;
        }
    }
    Value::Object(root)
}

/// Which part of an object a request may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The main resource; `status` excluded when the kind has a status subresource.
    Main {
        /// Whether `status` is excluded.
        status_is_separate: bool,
    },
    /// Only `status`.
    Status,
}

impl Scope {
    /// Does a top-level field belong to this scope?
    pub fn covers(self, top: &str) -> bool {
        match self {
            Scope::Status => top == "status",
            Scope::Main { status_is_separate } => {
                !(matches!(top, "apiVersion" | "kind") || (status_is_separate && top == "status"))
            }
        }
    }
}

/// The leaf fields set in `v` (maps recurse, lists and scalars are leaves),
/// limited to `scope` and to the manager-owned metadata fields.
pub fn of_value(v: &Value, scope: Scope) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(m) = v.as_object() else { return out };
    for (k, child) in m {
        if !scope.covers(k) {
            continue;
        }
        if k == "metadata" {
            if scope == Scope::Status {
                continue;
            }
            if let Some(meta) = child.as_object() {
                for (mk, mv) in meta
                    .iter()
                    .filter(|(mk, _)| OWNED_METADATA.contains(&mk.as_str()))
                {
                    leaves(
                        mv,
                        &mut vec!["f:metadata".into(), format!("f:{mk}")],
                        &mut out,
                    );
                }
            }
            continue;
        }
        leaves(child, &mut vec![format!("f:{k}")], &mut out);
    }
    out
}

fn leaves(v: &Value, path: &mut Path, out: &mut FieldSet) {
    match v.as_object() {
        Some(m) if !m.is_empty() => {
            for (k, child) in m {
                path.push(format!("f:{k}"));
                leaves(child, path, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

/// The value at a path (`None` when missing or the path uses opaque keys).
pub fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(obj, |v, k| v.get(k.strip_prefix("f:")?))
}

/// Remove the field at `path`; empty parent maps are removed too.
pub fn remove_at(obj: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(key) = first.strip_prefix("f:") else {
        return;
    };
    let Some(m) = obj.as_object_mut() else { return };
    if rest.is_empty() {
        m.remove(key);
        return;
    }
    if let Some(child) = m.get_mut(key) {
        remove_at(child, rest);
        if child.as_object().is_some_and(Map::is_empty) && key != "metadata" {
            m.remove(key);
        }
    }
}

/// Leaf paths whose value differs between `old` and `new` (added or changed;
/// removals drop out of every set on their own).
pub fn changed(old: Option<&Value>, new: &Value, scope: Scope) -> FieldSet {
    of_value(new, scope)
        .into_iter()
        .filter(|p| old.and_then(|o| value_at(o, p)) != value_at(new, p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_v1() {
        let v = json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {".": {}, "f:x": {}}});
        let set = from_v1(&v);
        assert_eq!(set.len(), 3);
        assert_eq!(to_v1(&set), v);
    }

    #[test]
    fn leaves_respect_scope() {
        let obj = json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "n", "labels": {"a": "b"}},
            "spec": {"x": 1, "l": [1, 2]}, "status": {"phase": "P"}});
        let main = of_value(
            &obj,
            Scope::Main {
                status_is_separate: true,
            },
        );
        let paths: Vec<String> = main.iter().map(|p| p.join(".")).collect();
        assert_eq!(
            paths,
            vec!["f:metadata.f:labels.f:a", "f:spec.f:l", "f:spec.f:x"]
        );
        let status = of_value(&obj, Scope::Status);
        assert_eq!(status.len(), 1);
    }

    #[test]
    fn remove_prunes_empty_parents() {
        let mut obj = json!({"spec": {"a": {"b": 1}}, "metadata": {"labels": {"x": "y"}}});
        remove_at(&mut obj, &["f:spec".into(), "f:a".into(), "f:b".into()]);
        assert_eq!(obj, json!({"metadata": {"labels": {"x": "y"}}}));
    }
}
