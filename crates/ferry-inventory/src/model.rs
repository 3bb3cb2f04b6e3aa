//! The provider-neutral inventory model: what a collector hands in
//! ([`Snapshot`] of [`Resource`]s) and what the store hands out
//! ([`StoredResource`], [`StoredProvider`]).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// The collection whose resources are validated.
pub const VMS: &str = "vms";

/// A reference to another inventory object (`parent {kind, id}` in Forklift's JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ref {
    /// Object kind as Forklift names it (`Folder`, `Datacenter`, `VM`, ...).
    pub kind: String,
    /// Object id within its provider.
    pub id: String,
}

/// One collected object.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Provider-unique id within its collection (MoRef, UUID, ...).
    pub id: String,
    /// Display name; the `name=` filter matches it.
    pub name: String,
    /// Kind as Forklift names it in trees and refs (`VM`, `Disk`, `Network`, ...).
    pub kind: String,
    /// Optional sub-type (`variant` in Forklift's JSON).
    pub variant: String,
    /// The containing object, if any.
    pub parent: Option<Ref>,
    /// Inventory path (`/Datacenter/vm/folder/name`); empty when the provider has none.
    pub path: String,
    /// The provider-specific JSON document, as served at full detail.
    pub object: Value,
}

impl Resource {
    /// A resource with no parent, path or variant.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        kind: impl Into<String>,
        object: Value,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            kind: kind.into(),
            variant: String::new(),
            parent: None,
            path: String::new(),
            object,
        }
    }

    /// Set the parent reference.
    pub fn with_parent(mut self, parent: Ref) -> Self {
        self.parent = Some(parent);
        self
    }

    /// Set the inventory path.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Set the variant.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Self {
        self.variant = variant.into();
        self
    }
}

/// A complete inventory of one provider at one point in time: every
/// collection it has, each with every object in it. A collection that the
/// store holds but the snapshot lacks is emptied when the snapshot is applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    collections: BTreeMap<String, Vec<Resource>>,
    warnings: Vec<String>,
    pending: Vec<String>,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declare a collection (so that an empty one still counts as collected).
    pub fn collection(&mut self, name: &str) -> &mut Vec<Resource> {
        self.collections.entry(name.to_owned()).or_default()
    }

    /// Add a resource to a collection.
    pub fn push(&mut self, collection: &str, resource: Resource) {
        self.collection(collection).push(resource);
    }

    /// Record something the collector skipped (an unreadable package, ...),
    /// in a sentence that says what to do. Shown in the provider state.
    pub fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }

    /// What the collector skipped.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Record something the collector will pick up by itself soon (a
    /// package still being copied), so that callers know the inventory has
    /// not settled yet. Also counted as a warning.
    pub fn pending(&mut self, message: impl Into<String>) {
        let message = message.into();
        self.warnings.push(message.clone());
        self.pending.push(message);
    }

    /// What the collector will pick up by itself soon.
    pub fn pending_items(&self) -> &[String] {
        &self.pending
    }

    /// Collections in name order.
    pub fn collections(&self) -> impl Iterator<Item = (&str, &[Resource])> {
        self.collections
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Check that ids are non-empty and unique within each collection.
    pub fn check(&self) -> Result<()> {
        for (name, list) in &self.collections {
            if name.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidSnapshot,
                    "a collection has an empty name",
                ));
            }
            let mut seen = std::collections::HashSet::new();
            for r in list {
                if r.id.is_empty() {
                    return Err(Error::new(
                        ErrorKind::InvalidSnapshot,
                        format!(
                            "collection '{name}' has an object with an empty id (name '{}')",
                            r.name
                        ),
                    ));
                }
                if !seen.insert(r.id.as_str()) {
                    return Err(Error::new(
                        ErrorKind::InvalidSnapshot,
                        format!("collection '{name}' has id '{}' twice", r.id),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A validation finding on a VM, exactly as Forklift serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    /// Concern id (`ova.disk.capacity.invalid`, ...).
    pub id: String,
    /// `Critical`, `Warning` or `Information`.
    pub category: String,
    /// Short human label.
    pub label: String,
    /// Longer explanation.
    #[serde(default)]
    pub assessment: String,
}

/// A provider as the inventory knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// Kubernetes UID of the Provider object.
    pub uid: String,
    /// Namespace of the Provider.
    pub namespace: String,
    /// Name of the Provider.
    pub name: String,
    /// `spec.type` (`ova`, `vsphere`, ...).
    #[serde(rename = "type")]
    pub provider_type: String,
    /// `spec.url`.
    pub url: String,
    /// `metadata.resourceVersion` (served as `version`).
    #[serde(default)]
    pub resource_version: String,
    /// The Provider object itself (served as `object`); `null` when unknown.
    #[serde(default)]
    pub object: Value,
}

/// A provider row of the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProvider {
    /// What the caller registered.
    pub info: ProviderInfo,
    /// Inventory phase (`Collecting`, `Ready`, `Failed`).
    pub phase: String,
    /// Bumped each time an applied snapshot changed something.
    pub revision: i64,
}

/// A resource row of the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    /// Collection it belongs to.
    pub collection: String,
    /// The collected resource.
    pub resource: Resource,
    /// Starts at 1, bumped each time the collected data changes.
    pub revision: i64,
    /// The revision the current concerns were computed for (0: never validated).
    pub revision_validated: i64,
    /// Rules version of the policies that produced the concerns.
    pub rules_version: Option<i64>,
    /// Validation findings.
    pub concerns: Vec<Concern>,
}

/// What applying a snapshot changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Objects that were new.
    pub added: usize,
    /// Objects whose data changed (revision bumped).
    pub updated: usize,
    /// Objects that disappeared.
    pub deleted: usize,
    /// Objects that stayed the same.
    pub unchanged: usize,
}

impl ApplyReport {
    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.deleted > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn check_rejects_duplicate_and_empty_ids() {
        let mut s = Snapshot::new();
        s.push("vms", Resource::new("a", "a", "VM", json!({})));
        s.push("vms", Resource::new("a", "b", "VM", json!({})));
        let err = s.check().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSnapshot);
        assert!(err.to_string().contains("id 'a' twice"), "{err}");

        let mut s = Snapshot::new();
        s.push("disks", Resource::new("", "d", "Disk", json!({})));
        assert!(s.check().unwrap_err().to_string().contains("empty id"));

        let mut s = Snapshot::new();
        s.push("vms", Resource::new("a", "a", "VM", json!({})));
        s.push("disks", Resource::new("a", "a", "Disk", json!({})));
        s.check().unwrap();
    }
}
