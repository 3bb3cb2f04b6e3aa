//! `Migration`: one execution of a Plan.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Conditions;
use super::plan_status::VmStatus;
use super::refs::Ref;

/// A per-VM cutover time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VmCutover {
    /// The VM's ID.
    #[schemars(length(min = 1))]
    pub id: String,
    /// When to cut over.
    pub cutover: Time,
}

/// Migration spec.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "Migration",
    doc = "One execution of a Plan.",
    plural = "migrations",
    namespaced,
    status = "MigrationObjStatus",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"RUNNING","type":"string","jsonPath":".status.conditions[?(@.type=='Running')].status"}"#,
    printcolumn = r#"{"name":"SUCCEEDED","type":"string","jsonPath":".status.conditions[?(@.type=='Succeeded')].status"}"#,
    printcolumn = r#"{"name":"FAILED","type":"string","jsonPath":".status.conditions[?(@.type=='Failed')].status"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MigrationSpec {
    /// The Plan to execute.
    pub plan: ObjectReference,
    /// VMs to cancel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancel: Vec<Ref>,
    /// When warm migrations are finalized; setting it starts the cutover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutover: Option<Time>,
    /// Per-VM cutover times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vm_cutover: Vec<VmCutover>,
    /// Reuse the PVCs of a failed run and rerun only the conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_conversion: Option<bool>,
}

impl MigrationSpec {
    /// True when the VM `vm` is in `cancel` (matched by id, else name).
    pub fn is_canceled(&self, vm: &Ref) -> bool {
        self.cancel
            .iter()
            .any(|c| match (c.id.as_deref(), vm.id.as_deref()) {
                (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => a == b,
                _ => c.name.is_some() && c.name == vm.name,
            })
    }

    /// The cutover time for the VM with `id`: its own, else the global one.
    pub fn cutover_for(&self, id: &str) -> Option<&Time> {
        self.vm_cutover
            .iter()
            .find(|c| c.id == id)
            .map(|c| &c.cutover)
            .or(self.cutover.as_ref())
    }
}

/// Migration status. (Named `MigrationObjStatus` because
/// [`super::MigrationStatus`] is the Plan's `status.migration`.)
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationObjStatus {
    /// Conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// The generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Time>,
    /// When it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Time>,
    /// Per-VM status (the same as in the Plan).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vms: Vec<VmStatus>,
}

/// Migration condition types.
pub mod conditions {
    #![allow(missing_docs)]
    pub const READY: &str = "Ready";
    pub const RUNNING: &str = "Running";
    pub const SUCCEEDED: &str = "Succeeded";
    pub const FAILED: &str = "Failed";
    pub const CANCELED: &str = "Canceled";
    pub const PLAN_NOT_VALID: &str = "PlanNotValid";
    pub const PLAN_NOT_READY: &str = "PlanNotReady";
    pub const VM_NOT_FOUND: &str = "VMNotFound";
    pub const VM_NOT_UNIQUE: &str = "VMNotUnique";
}
