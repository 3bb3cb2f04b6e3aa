//! `OVAProviderServer` and `HyperVProviderServer`: the per-provider servers
//! Forklift creates for OVA and Hyper-V providers (a deployment that serves
//! the provider's files and inventory). ferry serves and validates them;
//! in ferry the inventory is collected in-process, so nothing creates them.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Conditions;

/// Status of a provider server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderServerStatus {
    /// The life-cycle phase of the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The Service in front of the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ObjectReference>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// The generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// OVAProviderServer spec.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "OVAProviderServer",
    doc = "The server of one OVA provider's appliances (created for the provider).",
    plural = "ovaproviderservers",
    namespaced,
    status = "ProviderServerStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct OVAProviderServerSpec {
    /// The Provider this server belongs to (immutable).
    pub provider: ObjectReference,
}

/// HyperVProviderServer spec.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "HyperVProviderServer",
    doc = "The server of one Hyper-V provider's disks (created for the provider).",
    plural = "hypervproviderservers",
    namespaced,
    status = "ProviderServerStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct HyperVProviderServerSpec {
    /// The Provider this server belongs to (immutable).
    pub provider: ObjectReference,
}
