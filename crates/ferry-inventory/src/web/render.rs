//! JSON shapes of the inventory API, by detail level, as Forklift serves them.
//!
//! - detail 0: the Resource fields `id, variant, parent, path, revision, name, selfLink`.
//! - detail 1: VMs add `revisionValidated`, `concerns` and, when the
//!   provider collects them, `isTemplate, powerState, host, networks, disks`;
//!   other objects are served in full.
//! - detail 2 and more (`all`): the full collected JSON plus the Resource
//!   fields; VMs add `revisionValidated`, `policyVersion` (the rules version
//!   of the concerns) and `concerns`.
use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::model::{Ref, StoredProvider, StoredResource, VMS};
use crate::store::Store;
use crate::web::spec::{Expand, Link, TreeSpec, TypeSpec};

/// Detail level of list responses; single objects are served at [`MAX_DETAIL`].
pub type Detail = u32;
/// Forklift's `MaxDetail`: everything.
pub const MAX_DETAIL: Detail = 10;

/// Fields a VM shows at detail 1 when its provider collects them.
const VM_DETAIL_ONE: &[&str] = &["isTemplate", "powerState", "host", "networks", "disks"];

/// Bound on parent chains and expansions (cycles or corrupt data must not loop).
const MAX_DEPTH: usize = 32;

/// The link of a collection object.
pub fn self_link(provider_type: &str, uid: &str, collection: &str, id: &str) -> String {
    format!("providers/{provider_type}/{uid}/{collection}/{id}")
}

/// A stored object as served under `route` (`vms`, `workloads`, ...).
pub fn resource(
    provider_type: &str,
    uid: &str,
    route: &str,
    r: &StoredResource,
    detail: Detail,
) -> Value {
    let res = &r.resource;
    let mut base = Map::new();
    base.insert("id".into(), json!(res.id));
    if !res.variant.is_empty() {
        base.insert("variant".into(), json!(res.variant));
    }
    if let Some(parent) = &res.parent {
        base.insert(
            "parent".into(),
            json!({"kind": parent.kind, "id": parent.id}),
        );
    }
    if !res.path.is_empty() {
        base.insert("path".into(), json!(res.path));
    }
    base.insert("revision".into(), json!(r.revision));
    base.insert("name".into(), json!(res.name));
    base.insert(
        "selfLink".into(),
        json!(self_link(provider_type, uid, route, &res.id)),
    );
    if detail == 0 {
        return Value::Object(base);
    }
    let is_vm = r.collection == VMS;
    if is_vm && detail == 1 {
        base.insert("revisionValidated".into(), json!(r.revision_validated));
        for key in VM_DETAIL_ONE {
            if let Some(v) = res.object.get(*key) {
                base.insert((*key).into(), v.clone());
            }
        }
        base.insert("concerns".into(), json!(r.concerns));
        return Value::Object(base);
    }
    let mut full = match &res.object {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        other => {
            let mut m = Map::new();
            m.insert("object".into(), other.clone());
            m
        }
    };
    full.extend(base);
    if is_vm {
        full.insert("revisionValidated".into(), json!(r.revision_validated));
        full.insert("policyVersion".into(), json!(r.rules_version.unwrap_or(0)));
        full.insert("concerns".into(), json!(r.concerns));
    }
    Value::Object(full)
}

/// A provider as served by `/providers[/<type>[/<uid>]]`.
pub fn provider(
    spec: &TypeSpec,
    p: &StoredProvider,
    store: &Store,
    detail: Detail,
) -> Result<Value> {
    let info = &p.info;
    let mut m = Map::new();
    m.insert("uid".into(), json!(info.uid));
    m.insert("version".into(), json!(info.resource_version));
    m.insert("namespace".into(), json!(info.namespace));
    m.insert("name".into(), json!(info.name));
    m.insert(
        "selfLink".into(),
        json!(format!("providers/{}/{}", spec.name, info.uid)),
    );
    m.insert("id".into(), json!(info.uid));
    if detail == 0 {
        return Ok(Value::Object(m));
    }
    m.insert("type".into(), json!(info.provider_type));
    m.insert("object".into(), info.object.clone());
    m.insert("apiVersion".into(), json!(""));
    m.insert("product".into(), json!(""));
    for c in spec.collections {
        if let (Some(field), crate::web::spec::Source::Stored(name)) = (c.count_field, c.source) {
            m.insert(field.into(), json!(store.count(&info.uid, name)?));
        }
    }
    Ok(Value::Object(m))
}

/// A workload: the full VM with the references of `spec.expand` replaced by
/// the objects they name (recursively, e.g. host → cluster → datacenter).
pub fn workload(spec: &TypeSpec, uid: &str, vm: &StoredResource, store: &Store) -> Result<Value> {
    let mut out = resource(spec.name, uid, "workloads", vm, MAX_DETAIL);
    expand(spec, uid, store, &mut out, 0)?;
    Ok(out)
}

fn expand(spec: &TypeSpec, uid: &str, store: &Store, v: &mut Value, depth: usize) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let Value::Object(map) = v else {
        return Ok(());
    };
    for Expand { field, collection } in spec.expand {
        let Some(id) = map.get(*field).and_then(ref_id) else {
            continue;
        };
        if let Some(found) = store.get(uid, collection, &id)? {
            let mut obj = resource(spec.name, uid, collection, &found, MAX_DETAIL);
            expand(spec, uid, store, &mut obj, depth + 1)?;
            map.insert((*field).into(), obj);
        }
    }
    Ok(())
}

/// The id a reference field holds: a plain id or a `{kind, id}` ref.
fn ref_id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(m) => m.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Forklift's tree: a root node with no kind and no object whose children
/// are the top ancestors; leaves are shown at `detail`, ancestors at 0.
pub fn tree(
    spec: &TypeSpec,
    t: &TreeSpec,
    uid: &str,
    store: &Store,
    detail: Detail,
) -> Result<Value> {
    let leaves = store.list(uid, t.leaves, &Default::default())?;
    let mut b = TreeBuilder {
        spec,
        uid,
        store,
        nodes: Vec::new(),
        index: HashMap::new(),
        roots: Vec::new(),
    };
    for leaf in &leaves {
        let leaf_node = b.push(leaf, detail);
        let first = match t.link {
            Link::Parent => leaf
                .resource
                .parent
                .as_ref()
                .map(|p| Anchor::Ref(p.clone())),
            Link::Field { field, collection } => leaf
                .resource
                .object
                .get(field)
                .and_then(ref_id)
                .map(|id| Anchor::InCollection(collection, id)),
        };
        b.attach(leaf_node, first)?;
    }
    let children: Vec<Value> = b.roots.iter().map(|&i| b.render(i, 0)).collect();
    Ok(json!({"kind": "", "object": null, "children": nullable(children)}))
}

enum Anchor {
    Ref(Ref),
    InCollection(&'static str, String),
}

struct Node {
    kind: String,
    object: Value,
    children: Vec<usize>,
}

struct TreeBuilder<'a> {
    spec: &'a TypeSpec,
    uid: &'a str,
    store: &'a Store,
    nodes: Vec<Node>,
    /// (kind, id) → node, for ancestors shared by several leaves.
    index: HashMap<(String, String), usize>,
    roots: Vec<usize>,
}

impl TreeBuilder<'_> {
    fn push(&mut self, r: &StoredResource, detail: Detail) -> usize {
        let route = r.collection.clone();
        self.nodes.push(Node {
            kind: r.resource.kind.clone(),
            object: resource(self.spec.name, self.uid, &route, r, detail),
            children: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// Hang `node` under its ancestors, creating the missing ones.
    fn attach(&mut self, mut node: usize, mut anchor: Option<Anchor>) -> Result<()> {
        for _ in 0..MAX_DEPTH {
            let Some(a) = anchor.take() else {
                break;
            };
            let found = match &a {
                Anchor::Ref(r) => self.store.get_by_ref(self.uid, r)?,
                Anchor::InCollection(c, id) => self.store.get(self.uid, c, id)?,
            };
            let Some(parent) = found else {
                break;
            };
            let key = (parent.resource.kind.clone(), parent.resource.id.clone());
            if let Some(&existing) = self.index.get(&key) {
                if existing != node && !self.nodes[existing].children.contains(&node) {
                    self.nodes[existing].children.push(node);
                }
                return Ok(());
            }
            let p = self.push(&parent, 0);
            self.index.insert(key, p);
            self.nodes[p].children.push(node);
            node = p;
            anchor = parent.resource.parent.clone().map(Anchor::Ref);
        }
        self.roots.push(node);
        Ok(())
    }

    fn render(&self, i: usize, depth: usize) -> Value {
        let n = &self.nodes[i];
        let children: Vec<Value> = if depth >= MAX_DEPTH {
            Vec::new()
        } else {
            n.children
                .iter()
                .map(|&c| self.render(c, depth + 1))
                .collect()
        };
        json!({"kind": n.kind, "object": n.object, "children": nullable(children)})
    }
}

/// Go serialises an empty child list as `null`; so do we.
fn nullable(children: Vec<Value>) -> Value {
    if children.is_empty() {
        Value::Null
    } else {
        Value::Array(children)
    }
}
