//! Revalidation when what a workload expands changes. A vSphere VM is
//! validated on its workload (host and cluster expanded), so toggling DRS
//! on its cluster changes its concerns although the VM itself did not
//! change. [`Expanded`] remembers the revisions of the objects each VM's
//! workload expanded and names the VMs for which one of them moved.
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::error::Result;
use crate::model::{StoredResource, VMS};
use crate::store::Store;
use crate::web::spec::TypeSpec;

/// Bound on nested expansions (as the workload renderer's).
const MAX_DEPTH: usize = 32;

/// `(collection, id, revision)` of every object a workload expands.
type Fingerprint = Vec<(&'static str, String, i64)>;

/// The expanded objects' revisions per VM id, as of the last cycle.
#[derive(Debug, Default)]
pub(crate) struct Expanded {
    seen: HashMap<String, Fingerprint>,
}

impl Expanded {
    /// VMs of `uid` not in `skip` whose expanded objects changed since the
    /// previous call. The first call only records (nothing is known to have
    /// changed yet).
    pub(crate) fn changed(
        &mut self,
        spec: &TypeSpec,
        uid: &str,
        store: &Store,
        skip: &HashSet<String>,
    ) -> Result<Vec<StoredResource>> {
        let first = self.seen.is_empty();
        let mut cache: HashMap<(&'static str, String), Option<StoredResource>> = HashMap::new();
        let mut out = Vec::new();
        let mut present = HashSet::new();
        for vm in store.list(uid, VMS, &Default::default())? {
            let mut fp = Fingerprint::new();
            walk(
                spec,
                uid,
                store,
                &vm.resource.object,
                &mut cache,
                &mut fp,
                0,
            )?;
            let id = vm.resource.id.clone();
            present.insert(id.clone());
            let moved = matches!(self.seen.get(&id), Some(before) if *before != fp);
            if !first && moved && !skip.contains(&id) {
                out.push(vm);
            }
            self.seen.insert(id, fp);
        }
        self.seen.retain(|id, _| present.contains(id));
        Ok(out)
    }
}

fn walk(
    spec: &TypeSpec,
    uid: &str,
    store: &Store,
    object: &Value,
    cache: &mut HashMap<(&'static str, String), Option<StoredResource>>,
    fp: &mut Fingerprint,
    depth: usize,
) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    for e in spec.expand {
        let Some(id) = object.get(e.field).and_then(ref_id) else {
            continue;
        };
        let key = (e.collection, id.clone());
        let found = match cache.get(&key) {
            Some(f) => f.clone(),
            None => {
                let f = store.get(uid, e.collection, &id)?;
                cache.insert(key, f.clone());
                f
            }
        };
        if let Some(found) = found {
            fp.push((e.collection, id, found.revision));
            walk(
                spec,
                uid,
                store,
                &found.resource.object,
                cache,
                fp,
                depth + 1,
            )?;
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
