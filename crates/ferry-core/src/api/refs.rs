//! References used across the forklift.konveyor.io kinds.

use k8s_openapi::api::core::v1::ObjectReference;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reference to a source-side object (VM, network, datastore, ...):
/// Forklift's `ref.Ref`. Matched by `id`, falling back to `name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ref {
    /// The object's ID in the source inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The object's name (or path) in the source inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The namespace (OpenShift sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's type, for providers that need it.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

impl Ref {
    /// True when neither `id` nor `name` is set (Forklift: `NotSet()`).
    pub fn is_not_set(&self) -> bool {
        self.id.as_deref().unwrap_or_default().is_empty()
            && self.name.as_deref().unwrap_or_default().is_empty()
    }

    /// A short display form: the id, else the name, else `<unset>`.
    pub fn display(&self) -> &str {
        match (self.id.as_deref(), self.name.as_deref()) {
            (Some(id), _) if !id.is_empty() => id,
            (_, Some(name)) if !name.is_empty() => name,
            _ => "<unset>",
        }
    }
}

/// A source/destination pair of Provider references.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderPair {
    /// The source provider.
    pub source: ObjectReference,
    /// The destination provider.
    pub destination: ObjectReference,
}

impl ProviderPair {
    /// Both references, source first.
    pub fn refs(&self) -> Vec<&ObjectReference> {
        vec![&self.source, &self.destination]
    }
}

/// Builds an `ObjectReference` to `namespace/name`.
pub fn object_ref(namespace: &str, name: &str) -> ObjectReference {
    ObjectReference {
        namespace: Some(namespace.to_owned()),
        name: Some(name.to_owned()),
        ..ObjectReference::default()
    }
}
