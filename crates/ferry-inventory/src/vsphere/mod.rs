//! The vSphere inventory model: what the PropertyCollector returns (managed
//! objects with property values, as JSON, see [`props`]) → Forklift's
//! vSphere collections (`vms`, `hosts`, `clusters`, `datacenters`,
//! `datastores`, `networks`, `folders`) with parents and inventory paths
//! (`/DC0/vm/web-01`).
//!
//! [`ObjectSet`] holds the latest properties of every managed object and is
//! kept current by applying the updates `WaitForUpdatesEx` reports
//! ([`ObjectUpdate`]), so the inventory follows renames, power changes and
//! new disks without listing everything again; [`ObjectSet::snapshot`]
//! builds the collections from it. The SOAP transport lives in
//! `ferry-vsphere`; this module is pure and unit-tested on its own.
//!
//! The VM document is the one the `vmware` validation policies read
//! (`policies/vmware/README.md`): `host` holds the host's id, which the
//! inventory's workload expands to the host object whose `cluster` expands
//! to the cluster (with `drsEnabled`, `dpmEnabled`, `hostAffinityVms`).
use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Result;
use crate::model::{Ref, Resource, Snapshot, VMS};

pub mod objects;
pub mod props;
pub mod vm;

#[cfg(test)]
mod tests;

pub use props::{MoRef, Props};

/// Provider type served.
pub const VSPHERE: &str = "vsphere";

/// Deepest parent chain followed for paths (cycles must not loop).
const MAX_PARENT_DEPTH: usize = 64;

/// Forklift's kind for a vSphere managed object type; `None` for types the
/// inventory does not collect (resource pools, vApps, storage pods).
pub fn kind_of(vsphere_type: &str) -> Option<&'static str> {
    Some(match vsphere_type {
        "VirtualMachine" => "VM",
        "HostSystem" => "Host",
        "ClusterComputeResource" | "ComputeResource" => "Cluster",
        "Datacenter" => "Datacenter",
        "Datastore" => "Datastore",
        "Network"
        | "OpaqueNetwork"
        | "DistributedVirtualPortgroup"
        | "VmwareDistributedVirtualSwitch"
        | "DistributedVirtualSwitch" => "Network",
        "Folder" => "Folder",
        _ => return None,
    })
}

/// The collection of a Forklift kind.
fn collection_of(kind: &str) -> &'static str {
    match kind {
        "VM" => VMS,
        "Host" => "hosts",
        "Cluster" => "clusters",
        "Datacenter" => "datacenters",
        "Datastore" => "datastores",
        "Network" => "networks",
        _ => "folders",
    }
}

/// Collections a vSphere snapshot always declares.
pub const COLLECTIONS: &[&str] = &[
    VMS,
    "hosts",
    "clusters",
    "datacenters",
    "datastores",
    "networks",
    "folders",
];

/// The vSphere types the collector watches, each with the properties it
/// asks for (the PropertyFilter's `propSet`).
pub const WATCHED: &[(&str, &[&str])] = &[
    ("VirtualMachine", vm::VM_PROPERTIES),
    ("HostSystem", objects::HOST_PROPERTIES),
    ("ClusterComputeResource", objects::CLUSTER_PROPERTIES),
    ("ComputeResource", objects::CLUSTER_PROPERTIES),
    ("Datacenter", objects::DATACENTER_PROPERTIES),
    ("Datastore", objects::DATASTORE_PROPERTIES),
    ("Network", objects::NETWORK_PROPERTIES),
    ("OpaqueNetwork", objects::NETWORK_PROPERTIES),
    ("DistributedVirtualPortgroup", objects::PORTGROUP_PROPERTIES),
    ("VmwareDistributedVirtualSwitch", objects::SWITCH_PROPERTIES),
    ("DistributedVirtualSwitch", objects::SWITCH_PROPERTIES),
    ("Folder", objects::FOLDER_PROPERTIES),
];

/// The properties asked for objects of `vsphere_type` (empty when not watched).
pub fn properties_for(vsphere_type: &str) -> &'static [&'static str] {
    WATCHED
        .iter()
        .find(|(t, _)| *t == vsphere_type)
        .map_or(&[], |(_, p)| p)
}

/// How a property changed (`PropertyChangeOp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyOp {
    /// The property has a new value.
    Assign,
    /// An element was added to a list property.
    Add,
    /// The property or an element was removed.
    Remove,
    /// The property went away with the object it belonged to.
    IndirectRemove,
}

impl PropertyOp {
    /// Parse vSphere's `op` text.
    pub fn parse(op: &str) -> Option<Self> {
        Some(match op {
            "assign" => Self::Assign,
            "add" => Self::Add,
            "remove" => Self::Remove,
            "indirectRemove" => Self::IndirectRemove,
            _ => return None,
        })
    }
}

/// One `PropertyChange` of an update.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyChange {
    /// Property path as reported (`name`, `runtime.powerState`,
    /// `config.hardware.device[2000]`, ...).
    pub name: String,
    /// What happened to it.
    pub op: PropertyOp,
    /// The new value (JSON form), when there is one.
    pub val: Option<Value>,
}

/// One `ObjectUpdate` of `WaitForUpdatesEx`.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectUpdate {
    /// A new object (or the first report of an existing one) with all its properties.
    Enter {
        /// The object.
        obj: MoRef,
        /// Its properties.
        props: Props,
    },
    /// Some properties of a known object changed.
    Modify {
        /// The object.
        obj: MoRef,
        /// The changes.
        changes: Vec<PropertyChange>,
    },
    /// The object is gone.
    Leave {
        /// The object.
        obj: MoRef,
    },
}

/// What applying an update left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The set is current.
    Done,
    /// A change named a part of a property (`config.hardware.device[2000]`)
    /// or an object the set does not know; fetch the object's properties
    /// again and [`ObjectSet::insert`] them.
    Refetch,
}

/// The latest properties of every watched managed object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectSet {
    objects: BTreeMap<MoRef, Props>,
}

impl ObjectSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when no object is known.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Properties of one object.
    pub fn get(&self, obj: &MoRef) -> Option<&Props> {
        self.objects.get(obj)
    }

    /// Set (replace) the properties of an object.
    pub fn insert(&mut self, obj: MoRef, props: Props) {
        self.objects.insert(obj, props);
    }

    /// Forget an object.
    pub fn remove(&mut self, obj: &MoRef) {
        self.objects.remove(obj);
    }

    /// Apply one update.
    pub fn apply(&mut self, update: ObjectUpdate) -> Applied {
        match update {
            ObjectUpdate::Enter { obj, props } => {
                self.insert(obj, props);
                Applied::Done
            }
            ObjectUpdate::Leave { obj } => {
                self.remove(&obj);
                Applied::Done
            }
            ObjectUpdate::Modify { obj, changes } => {
                let asked = properties_for(&obj.kind);
                let Some(props) = self.objects.get_mut(&obj) else {
                    return Applied::Refetch;
                };
                let mut result = Applied::Done;
                for change in changes {
                    if !asked.contains(&change.name.as_str()) {
                        // A part of a property: its new whole value is unknown.
                        result = Applied::Refetch;
                        continue;
                    }
                    match (change.op, change.val) {
                        (PropertyOp::Assign, Some(v)) => {
                            props.insert(change.name, v);
                        }
                        (PropertyOp::Assign, None)
                        | (PropertyOp::Remove | PropertyOp::IndirectRemove, _) => {
                            props.remove(&change.name);
                        }
                        (PropertyOp::Add, _) => result = Applied::Refetch,
                    }
                }
                result
            }
        }
    }

    /// The parent reference of an object.
    fn parent(&self, obj: &MoRef) -> Option<MoRef> {
        props::moref(self.objects.get(obj)?.get("parent"))
    }

    fn name(&self, obj: &MoRef) -> String {
        self.objects
            .get(obj)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// `/DC0/vm/folder/name`: the names from below the root folder down to
    /// the object.
    pub fn path(&self, obj: &MoRef) -> String {
        let mut names = Vec::new();
        let mut cur = Some(obj.clone());
        while let Some(o) = cur {
            if names.len() > MAX_PARENT_DEPTH {
                break;
            }
            let parent = self.parent(&o);
            if parent.is_none() && o.kind == "Folder" {
                break; // the root folder has no name in paths
            }
            names.push(self.name(&o));
            cur = parent.filter(|p| self.objects.contains_key(p));
        }
        names.reverse();
        format!("/{}", names.join("/"))
    }

    /// The first ancestor of `obj` of vSphere type `kind`.
    fn ancestor(&self, obj: &MoRef, kinds: &[&str]) -> Option<MoRef> {
        let mut cur = self.parent(obj);
        for _ in 0..MAX_PARENT_DEPTH {
            let o = cur?;
            if kinds.contains(&o.kind.as_str()) {
                return Some(o);
            }
            cur = self.parent(&o);
        }
        None
    }

    /// Every collection, built from the current properties.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let mut snap = Snapshot::new();
        for c in COLLECTIONS {
            snap.collection(c);
        }
        for (obj, props) in &self.objects {
            let Some(kind) = kind_of(&obj.kind) else {
                continue;
            };
            if kind == "Folder" && self.parent(obj).is_none() {
                // The root folder: a container of datacenters, not served
                // (as with a container view on it, which leaves it out).
                continue;
            }
            let object = match kind {
                "VM" => vm::vm_json(obj, props),
                "Host" => {
                    let cluster = self
                        .parent(obj)
                        .filter(|p| kind_of(&p.kind) == Some("Cluster"))
                        .map(|p| p.id)
                        .unwrap_or_default();
                    objects::host_json(obj, props, &cluster)
                }
                "Cluster" => {
                    let dc = self
                        .ancestor(obj, &["Datacenter"])
                        .map(|d| d.id)
                        .unwrap_or_default();
                    objects::cluster_json(obj, props, &dc)
                }
                "Datacenter" => objects::datacenter_json(obj, props),
                "Datastore" => objects::datastore_json(obj, props),
                "Network" => objects::network_json(obj, props),
                _ => objects::folder_json(obj, props, &kind_of),
            };
            let mut r =
                Resource::new(&obj.id, self.name(obj), kind, object).with_path(self.path(obj));
            if kind == "Network" {
                r = r.with_variant(objects::network_variant(&obj.kind));
            }
            if let Some(parent) = self.parent(obj)
                && let Some(pk) = kind_of(&parent.kind)
            {
                r = r.with_parent(Ref {
                    kind: pk.to_owned(),
                    id: parent.id,
                });
            }
            snap.push(collection_of(kind), r);
        }
        snap.check()?;
        Ok(snap)
    }
}
