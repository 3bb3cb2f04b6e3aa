//! `Conversion`: one unit of guest-conversion or inspection work (a
//! virt-v2v pod over disks that are already on PVCs). ferry serves and
//! validates it; its controller comes later.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, ObjectReference, Volume, VolumeMount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Conditions;
use super::refs::Ref;

/// What a Conversion does (`spec.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConversionType {
    /// Inspection that also mounts the filesystems.
    DeepInspection,
    /// virt-v2v-inspector over the disks.
    Inspection,
    /// virt-v2v-in-place on the PVCs.
    InPlace,
    /// virt-v2v reading the source remotely.
    Remote,
}

/// How the guest disks are encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DiskEncryptionType {
    /// LUKS passphrases from a Secret.
    #[serde(rename = "LUKS")]
    Luks,
    /// Clevis (network-bound disk encryption).
    Clevis,
}

/// One disk the conversion pod sees.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionDisk {
    /// The PVC name.
    pub name: String,
    /// The PVC namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `Filesystem` or `Block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mode: Option<String>,
    /// Where a filesystem volume is mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
    /// Where a block volume appears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_path: Option<String>,
}

/// The source connection of a Conversion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConversionConnection {
    /// A Secret passed to the pod as `V2V_*` environment variables.
    pub secret: ObjectReference,
}

/// Disk encryption keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiskEncryption {
    /// LUKS or Clevis.
    #[serde(rename = "type")]
    pub type_: DiskEncryptionType,
    /// The Secret with the keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<ObjectReference>,
}

/// Settings of the conversion pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionPodSettings {
    /// Node selector.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Affinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// The service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// The pod's generateName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    /// Request /dev/kvm (default true).
    #[serde(default = "yes", rename = "requestKVM")]
    pub request_kvm: bool,
    /// Annotations that attach the pod to the transfer network.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub transfer_network_annotations: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

/// Conversion spec.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "Conversion",
    doc = "One unit of guest conversion or inspection over disks already on PVCs.",
    plural = "conversions",
    namespaced,
    status = "ConversionStatus",
    printcolumn = r#"{"name":"TYPE","type":"string","jsonPath":".spec.type"}"#,
    printcolumn = r#"{"name":"PHASE","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"STAGE","type":"string","jsonPath":".status.stage"}"#,
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ConversionSpec {
    /// What to do.
    #[serde(rename = "type")]
    pub type_: ConversionType,
    /// The destination Provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<ObjectReference>,
    /// The source VM.
    pub vm: Ref,
    /// The disks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disks: Vec<ConversionDisk>,
    /// The source connection.
    pub connection: ConversionConnection,
    /// Disk encryption keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_encryption: Option<DiskEncryption>,
    /// The conversion image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Where the pod runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_namespace: Option<String>,
    /// Keep XFS filesystems mountable by older kernels.
    #[serde(default)]
    pub xfs_compatibility: bool,
    /// Passed to the pod as environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    /// The VDDK image (vSphere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vddk_image: Option<String>,
    /// The destination is the local cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_migration: Option<bool>,
    /// Pod settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_settings: Option<ConversionPodSettings>,
    /// Extra volumes of the pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_volumes: Vec<Volume>,
    /// Extra mounts of the conversion container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_mounts: Vec<VolumeMount>,
}

/// Conversion phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub enum ConversionPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

/// Conversion stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub enum ConversionStage {
    CreatingPod,
    PodRunning,
    CreatingSnapshot,
    WaitingForSnapshot,
    RemovingSnapshot,
    WaitingForSnapshotRemoval,
    FetchingResults,
    Finished,
}

/// A snapshot the conversion took (vSphere).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionSnapshot {
    /// The snapshot's managed object reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moref: Option<String>,
    /// The task that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_task_id: Option<String>,
    /// The task that removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_task_id: Option<String>,
    /// Created by this conversion (so it removes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned: Option<bool>,
}

/// One concern the inspection found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InspectionConcern {
    /// The concern id.
    pub id: String,
    /// Its category.
    pub category: String,
    /// A short label.
    pub label: String,
    /// The message.
    pub message: String,
}

/// One filesystem the inspection found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InspectedFilesystem {
    /// The device.
    pub device: String,
    /// The filesystem type.
    #[serde(rename = "type")]
    pub type_: String,
    /// The filesystem UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

/// One mount point the inspection found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectedMountpoint {
    /// The device.
    pub device: String,
    /// Where it is mounted in the guest.
    pub mount_point: String,
}

/// The guest operating system the inspection found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InspectedOs {
    /// The OS name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<String>,
    /// The version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
}

/// What an inspection found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectionResult {
    /// No check failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_checks_passed: Option<bool>,
    /// Concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concerns: Vec<InspectionConcern>,
    /// Filesystems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filesystems: Vec<InspectedFilesystem>,
    /// Mount points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mountpoints: Vec<InspectedMountpoint>,
    /// The guest OS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_info: Option<InspectedOs>,
}

/// Conversion status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionStatus {
    /// The phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ConversionPhase>,
    /// The stage within the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<ConversionStage>,
    /// A human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The conversion pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<ObjectReference>,
    /// The snapshot taken for the conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<ConversionSnapshot>,
    /// What the inspection found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection_result: Option<InspectionResult>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// The generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
