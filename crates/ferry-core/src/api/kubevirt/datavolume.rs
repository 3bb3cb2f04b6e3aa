//! `cdi.kubevirt.io/v1beta1` DataVolume: the sources ferry imports from.

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaimSpec, TypedLocalObjectReference, TypedObjectReference,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// DataVolume spec. Set exactly one of `storage` (CDI fills in what the
/// StorageProfile knows) or `pvc`.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "cdi.kubevirt.io",
    version = "v1beta1",
    kind = "DataVolume",
    doc = "A CDI DataVolume (the subset ferry writes).",
    plural = "datavolumes",
    namespaced,
    status = "DataVolumeStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct DataVolumeSpec {
    /// Where the data comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DataVolumeSource>,
    /// Storage request, completed from the StorageProfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageSpec>,
    /// A full PVC spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<PersistentVolumeClaimSpec>,
    /// `kubevirt` (a disk image) or `archive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Warm import checkpoints, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<DataVolumeCheckpoint>,
    /// True once the last checkpoint was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_checkpoint: Option<bool>,
    /// Preallocate the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preallocation: Option<bool>,
    /// Importer pod priority class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
}

/// One warm-import checkpoint (`previous` → `current`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DataVolumeCheckpoint {
    /// The snapshot to copy up to (vSphere snapshot MoRef / oVirt snapshot ID).
    pub current: String,
    /// The previous change ID (empty for the first).
    pub previous: String,
}

/// The data source. Exactly one field is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DataVolumeSource {
    /// HTTP(S) download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<SourceHttp>,
    /// An empty disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blank: Option<SourceBlank>,
    /// A container image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<SourceRegistry>,
    /// Upload through the upload proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<SourceUpload>,
    /// oVirt imageio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imageio: Option<SourceImageIo>,
    /// VMware VDDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vddk: Option<SourceVddk>,
    /// Clone another PVC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<SourcePvc>,
}

/// HTTP source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceHttp {
    /// The URL.
    pub url: String,
    /// Secret with `accessKeyId` / `secretKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
    /// ConfigMap with a CA bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_config_map: Option<String>,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_headers: Vec<String>,
    /// Secrets holding extra headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_extra_headers: Vec<String>,
}

/// Blank source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceBlank {}

/// Upload source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceUpload {}

/// Registry source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceRegistry {
    /// `docker://...` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Pull secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
    /// ConfigMap with a CA bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_config_map: Option<String>,
    /// `pod` or `node`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_method: Option<String>,
}

/// oVirt imageio source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceImageIo {
    /// The engine API URL.
    pub url: String,
    /// The disk ID.
    pub disk_id: String,
    /// Credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
    /// ConfigMap with the engine CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_config_map: Option<String>,
    /// Skip TLS verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

/// VMware VDDK source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceVddk {
    /// `[datastore] dir/disk.vmdk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backing_file: Option<String>,
    /// The VM's UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The vCenter or ESXi SDK URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Credentials (`accessKeyId`, `secretKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
    /// The server's SHA-1 thumbprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    /// The VDDK init image.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "initImageURL"
    )]
    pub init_image_url: Option<String>,
    /// ConfigMap with extra VDDK arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<String>,
    /// ConfigMap with a CA bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_config_map: Option<String>,
}

/// PVC clone source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourcePvc {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// Storage request (`spec.storage`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageSpec {
    /// Access modes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_modes: Vec<String>,
    /// `Filesystem` or `Block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mode: Option<String>,
    /// The StorageClass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// Requests (`storage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<VolumeResourceRequirements>,
    /// Bind to this PV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_name: Option<String>,
    /// PV selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Data source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<TypedLocalObjectReference>,
    /// Data source reference (populators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_ref: Option<TypedObjectReference>,
}

/// DataVolume status fields ferry reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataVolumeStatus {
    /// Pending, ImportScheduled, ImportInProgress, Paused, Succeeded, Failed, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Progress, e.g. `45.12%`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// The PVC name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_name: Option<String>,
    /// Importer pod restarts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_count: Option<i32>,
    /// Conditions (`Bound`, `Ready`, `Running`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<DataVolumeCondition>,
}

/// A DataVolume condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataVolumeCondition {
    /// Bound, Ready, Running.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False, Unknown.
    pub status: String,
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Well-known DataVolume / PVC annotations.
pub mod annotations {
    /// Names a ConfigMap with extra VDDK arguments.
    pub const VDDK_EXTRA_ARGS: &str = "cdi.kubevirt.io/storage.pod.vddk.extraargs";
    /// Bind immediately, ignoring WaitForFirstConsumer.
    pub const BIND_IMMEDIATE: &str = "cdi.kubevirt.io/storage.bind.immediate.requested";
    /// Keep the importer pod after completion.
    pub const RETAIN_AFTER_COMPLETION: &str = "cdi.kubevirt.io/storage.pod.retainAfterCompletion";
    /// Forklift: the backing file or disk ID a volume came from.
    pub const DISK_SOURCE: &str = "forklift.konveyor.io/disk-source";
    /// Forklift: the disk's index in the VM.
    pub const DISK_INDEX: &str = "forklift.konveyor.io/disk-index";
    /// Forklift: the PVC needs qcow2 → raw conversion (OpenStack).
    pub const REQUIRES_CONVERSION: &str = "forklift.konveyor.io/requires-conversion";
}
