//! The volume populator kinds: `OvirtVolumePopulator`,
//! `OpenstackVolumePopulator` and `VSphereXcopyVolumePopulator`. Each one
//! is the data source of a PVC that a populator pod fills; ferry serves and
//! validates them (their controllers come later). Forklift's CRDs give them
//! no status subresource.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Status of the oVirt and OpenStack populators.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PopulatorStatus {
    /// Progress of the copy, in percent (a string, as Forklift writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
}

/// OvirtVolumePopulator spec: one oVirt disk copied into a PVC.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "OvirtVolumePopulator",
    doc = "Fills a PVC with one oVirt disk through ovirt-imageio.",
    plural = "ovirtvolumepopulators",
    shortname = "ovvp",
    shortname = "ovvps",
    namespaced,
    status = "PopulatorStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct OvirtVolumePopulatorSpec {
    /// The oVirt engine URL.
    pub engine_url: String,
    /// The Secret with the engine credentials.
    pub engine_secret_name: String,
    /// The oVirt disk ID.
    pub disk_id: String,
    /// The network the populator pod uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_network: Option<ObjectReference>,
}

/// OpenstackVolumePopulator spec: one OpenStack image copied into a PVC.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "OpenstackVolumePopulator",
    doc = "Fills a PVC with one OpenStack image.",
    plural = "openstackvolumepopulators",
    shortname = "osvp",
    shortname = "osvps",
    namespaced,
    status = "PopulatorStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct OpenstackVolumePopulatorSpec {
    /// The Keystone URL.
    pub identity_url: String,
    /// The Secret with the OpenStack credentials.
    pub secret_name: String,
    /// The image ID.
    pub image_id: String,
    /// The network the populator pod uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_network: Option<ObjectReference>,
}

/// VSphereXcopyVolumePopulator spec: one VMDK cloned by the storage array
/// (copy offload).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "VSphereXcopyVolumePopulator",
    doc = "Fills a PVC by cloning one VMDK on the storage array (storage copy offload).",
    plural = "vspherexcopyvolumepopulators",
    shortname = "vxvp",
    shortname = "vxvps",
    namespaced,
    status = "XcopyPopulatorStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct VSphereXcopyVolumePopulatorSpec {
    /// The vSphere VM ID.
    pub vm_id: String,
    /// The disk, as `[datastore] dir/disk.vmdk`.
    pub vmdk_path: String,
    /// The Secret with the vSphere and storage credentials.
    pub secret_name: String,
    /// The storage vendor product.
    pub storage_vendor_product: String,
    /// The ESXi host that runs the clone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_host: Option<String>,
}

/// VSphereXcopyVolumePopulator status (strings, as Forklift writes them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct XcopyPopulatorStatus {
    /// Progress, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Whether XCOPY was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xcopy_used: Option<String>,
    /// The version of the VIB on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vib_version: Option<String>,
    /// How long the copy took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_duration_seconds: Option<String>,
    /// The result of the copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The storage vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_vendor: Option<String>,
    /// How the clone was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_method: Option<String>,
    /// The storage protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_protocol: Option<String>,
    /// Provisioned bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_bytes: Option<String>,
    /// Allocated bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_bytes: Option<String>,
}
