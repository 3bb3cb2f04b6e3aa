//! Server-side apply and `managedFields` bookkeeping.
//!
//! Pragmatic model: a field set is the set of leaf paths (lists are atomic
//! leaves). Applying a configuration sets its fields, removes the fields the
//! same manager applied before but no longer does (unless someone else owns
//! them), and reports a conflict when another manager owns a field the
//! configuration sets to a different value (unless forced, which moves the
//! ownership).

use serde_json::{Map, Value, json};

use super::fields::{self, FieldSet, Scope};

/// Who writes, and how.
#[derive(Debug, Clone)]
pub struct Manager<'a> {
    /// `fieldManager`.
    pub name: &'a str,
    /// `Apply` for server-side apply, `Update` for everything else.
    pub operation: &'static str,
    /// "" or "status".
    pub subresource: &'a str,
    /// apiVersion the request used.
    pub api_version: &'a str,
    /// Timestamp to record.
    pub time: &'a str,
}

/// One field owned by another manager with a different value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// Field path like `.spec.size`.
    pub field: String,
}

#[derive(Debug, Clone)]
struct Entry {
    raw: Map<String, Value>,
    set: FieldSet,
}

impl Entry {
    fn manager(&self) -> &str {
        self.raw
            .get("manager")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    fn operation(&self) -> &str {
        self.raw
            .get("operation")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    fn subresource(&self) -> &str {
        self.raw
            .get("subresource")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    fn is(&self, m: &Manager<'_>) -> bool {
        self.manager() == m.name
            && self.operation() == m.operation
            && self.subresource() == m.subresource
    }
}

fn entries(obj: &Value) -> Vec<Entry> {
    obj.get("metadata")
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let raw = e.as_object()?.clone();
                    let set = raw.get("fieldsV1").map(fields::from_v1).unwrap_or_default();
                    Some(Entry { raw, set })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn store_entries(obj: &mut Value, list: Vec<Entry>) {
    let arr: Vec<Value> = list
        .into_iter()
        .filter(|e| !e.set.is_empty())
        .map(|mut e| {
            e.raw.insert("fieldsType".into(), json!("FieldsV1"));
            e.raw.insert("fieldsV1".into(), fields::to_v1(&e.set));
            Value::Object(e.raw)
        })
        .collect();
    if let Some(m) = crate::meta::metadata_mut(obj) {
        if arr.is_empty() {
            m.remove("managedFields");
        } else {
            m.insert("managedFields".into(), Value::Array(arr));
        }
    }
}

fn new_entry(m: &Manager<'_>, set: FieldSet) -> Entry {
    let mut raw = Map::new();
    raw.insert("manager".into(), json!(m.name));
    raw.insert("operation".into(), json!(m.operation));
    raw.insert("apiVersion".into(), json!(m.api_version));
    raw.insert("time".into(), json!(m.time));
    if !m.subresource.is_empty() {
        raw.insert("subresource".into(), json!(m.subresource));
    }
    Entry { raw, set }
}

fn upsert(list: &mut Vec<Entry>, m: &Manager<'_>, set: FieldSet, replace: bool) {
    match list.iter_mut().find(|e| e.is(m)) {
        Some(e) => {
            if replace {
                e.set = set;
            } else {
                e.set.extend(set);
            }
            e.raw.insert("time".into(), json!(m.time));
            e.raw.insert("apiVersion".into(), json!(m.api_version));
        }
        None => list.push(new_entry(m, set)),
    }
}

/// Keep only paths that still exist in `obj`.
fn prune_missing(list: &mut [Entry], obj: &Value) {
    for e in list.iter_mut() {
        e.set.retain(|p| {
            fields::value_at(obj, p).is_some() || p.iter().any(|k| !k.starts_with("f:"))
        });
    }
}

fn dotted(p: &[String]) -> String {
    p.iter()
        .map(|k| format!(".{}", k.strip_prefix("f:").unwrap_or(k)))
        .collect()
}

/// Record a non-apply write (`Update`) by `m` from `old` to `new`.
/// When the request carried its own `managedFields` that differ from the
/// stored ones, they are taken as given (`[{}]` clears them), as kubectl's
/// client-side-apply upgrade relies on.
pub fn record_update(old: Option<&Value>, new: &mut Value, m: &Manager<'_>, scope: Scope) {
    let requested = new
        .get("metadata")
        .and_then(|x| x.get("managedFields"))
        .cloned();
    let stored = old
        .and_then(|o| o.get("metadata"))
        .and_then(|x| x.get("managedFields"))
        .cloned();
    if let Some(req) = requested.as_ref().filter(|r| Some(*r) != stored.as_ref()) {
        let clear = req
            .as_array()
            .is_some_and(|a| a.iter().all(|e| e.as_object().is_some_and(Map::is_empty)));
        if clear && let Some(md) = crate::meta::metadata_mut(new) {
            md.remove("managedFields");
        }
        return;
    }
    let mut list = old.map(entries).unwrap_or_default();
    let changed = fields::changed(old, new, scope);
    for e in list.iter_mut().filter(|e| !e.is(m)) {
        e.set.retain(|p| !changed.contains(p));
    }
    if !changed.is_empty() {
        upsert(&mut list, m, changed, false);
    }
    prune_missing(&mut list, new);
    store_entries(new, list);
}

/// Server-side apply of `config` by `m` onto `live` (None = create).
/// Returns the new object (managedFields updated) or the conflicts.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    m: &Manager<'_>,
    force: bool,
    scope: Scope,
) -> Result<Value, Vec<Conflict>> {
    let applied = fields::of_value(config, scope);
    let mut obj = live.cloned().unwrap_or_else(|| json!({}));
    let mut list = live.map(entries).unwrap_or_default();
    let mut conflicts = Vec::new();
    for e in list.iter().filter(|e| !e.is(m)) {
        for p in e.set.intersection(&applied) {
            if fields::value_at(&obj, p) != fields::value_at(config, p) {
                conflicts.push(Conflict {
                    manager: e.manager().to_string(),
                    field: dotted(p),
                });
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    // Fields this manager applied before and dropped now: remove them unless
    // another manager still owns them.
    let previous: FieldSet = list
        .iter()
        .find(|e| e.is(m))
        .map(|e| e.set.clone())
        .unwrap_or_default();
    for p in previous.difference(&applied) {
        let shared = list.iter().any(|e| !e.is(m) && e.set.contains(p));
        if !shared {
            fields::remove_at(&mut obj, p);
        }
    }
    // Merge the configuration in.
    if let (Some(o), Some(c)) = (obj.as_object_mut(), config.as_object()) {
        for (k, v) in c {
            if k == "metadata" {
                if scope == Scope::Status {
                    continue;
                }
                let md = o.entry("metadata").or_insert_with(|| json!({}));
                if let (Some(md), Some(cm)) = (md.as_object_mut(), v.as_object()) {
                    for (mk, mv) in cm {
                        match mk.as_str() {
                            "labels" | "annotations" | "finalizers" | "ownerReferences" => {
                                deep_merge(md.entry(mk.clone()).or_insert(Value::Null), mv)
                            }
                            "name" | "namespace" | "generateName" => {
                                md.entry(mk.clone()).or_insert_with(|| mv.clone());
                            }
                            _ => {}
                        }
                    }
                }
            } else if matches!(k.as_str(), "apiVersion" | "kind") {
                o.insert(k.clone(), v.clone());
            } else if scope.covers(k) {
                deep_merge(o.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
    if force {
        for e in list.iter_mut().filter(|e| !e.is(m)) {
            let owner = e.manager().to_string();
            e.set.retain(|p| {
                !conflicts
                    .iter()
                    .any(|c| c.field == dotted(p) && c.manager == owner)
            });
        }
    }
    upsert(&mut list, m, applied, true);
    prune_missing(&mut list, &obj);
    store_entries(&mut obj, list);
    Ok(obj)
}

fn deep_merge(target: &mut Value, v: &Value) {
    match (target.as_object_mut(), v.as_object()) {
        (Some(t), Some(vm)) => {
            for (k, child) in vm {
                deep_merge(t.entry(k.clone()).or_insert(Value::Null), child);
            }
        }
        _ => *target = v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mgr(name: &'static str, op: &'static str) -> Manager<'static> {
        Manager {
            name,
            operation: op,
            subresource: "",
            api_version: "x/v1",
            time: "2026-01-01T00:00:00Z",
        }
    }
    const MAIN: Scope = Scope::Main {
        status_is_separate: true,
    };

    #[test]
    fn apply_sets_owns_and_removes_dropped_fields() {
        let cfg1 = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a", "labels": {"l": "1"}}, "spec": {"a": 1, "b": 2}});
        let o1 = apply(None, &cfg1, &mgr("m1", "Apply"), false, MAIN).unwrap();
        assert_eq!(o1["spec"], json!({"a": 1, "b": 2}));
        let mf = &o1["metadata"]["managedFields"][0];
        assert_eq!(mf["manager"], json!("m1"));
        assert_eq!(mf["fieldsV1"]["f:spec"]["f:a"], json!({}));
        let cfg2 =
            json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": {"a": 5}});
        let o2 = apply(Some(&o1), &cfg2, &mgr("m1", "Apply"), false, MAIN).unwrap();
        assert_eq!(o2["spec"], json!({"a": 5}));
        assert!(o2["metadata"].get("labels").is_none());
    }

    #[test]
    fn conflicting_managers_need_force() {
        let cfg =
            json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": {"a": 1}});
        let o1 = apply(None, &cfg, &mgr("m1", "Apply"), false, MAIN).unwrap();
        let other =
            json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": {"a": 2}});
        let err = apply(Some(&o1), &other, &mgr("m2", "Apply"), false, MAIN).unwrap_err();
        assert_eq!(
            err,
            vec![Conflict {
                manager: "m1".into(),
                field: ".spec.a".into()
            }]
        );
        // Same value: shared ownership, no conflict.
        apply(Some(&o1), &cfg, &mgr("m2", "Apply"), false, MAIN).unwrap();
        let forced = apply(Some(&o1), &other, &mgr("m2", "Apply"), true, MAIN).unwrap();
        assert_eq!(forced["spec"]["a"], json!(2));
        let managers: Vec<&str> = forced["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, vec!["m2"]);
    }

    #[test]
    fn update_takes_changed_fields() {
        let cfg = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": {"a": 1, "b": 1}});
        let old = apply(None, &cfg, &mgr("m1", "Apply"), false, MAIN).unwrap();
        let mut new = old.clone();
        new["spec"]["a"] = json!(9);
        record_update(Some(&old), &mut new, &mgr("kubectl-edit", "Update"), MAIN);
        let mf = new["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(mf.len(), 2);
        assert_eq!(mf[0]["fieldsV1"], json!({"f:spec": {"f:b": {}}}));
        assert_eq!(mf[1]["fieldsV1"], json!({"f:spec": {"f:a": {}}}));
    }
}
