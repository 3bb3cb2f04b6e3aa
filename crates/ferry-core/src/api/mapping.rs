//! `NetworkMap` and `StorageMap`: source networks/storage to destination.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Conditions;
use super::refs::{ProviderPair, Ref};

/// A source network (`spec.map[].source`): a ref plus an optional VLAN.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkSource {
    /// The network's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The network's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The network's namespace (OpenShift sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The network's type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// A VLAN ID, a numeric string from 1 to 4094.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([1-9]|[1-9][0-9]{1,2}|[1-3][0-9]{3}|40[0-8][0-9]|409[0-4])$"))]
    pub vlan: Option<String>,
}

impl NetworkSource {
    /// The ref part (id, name, namespace, type).
    pub fn as_ref(&self) -> Ref {
        Ref {
            id: self.id.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            type_: self.type_.clone(),
        }
    }
}

/// Destination network type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkDestinationType {
    /// The pod network.
    #[default]
    Pod,
    /// A Multus NetworkAttachmentDefinition.
    Multus,
    /// The NIC is not migrated.
    Ignored,
}

/// A destination network.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DestinationNetwork {
    /// pod, multus or ignored.
    #[serde(rename = "type")]
    pub type_: NetworkDestinationType,
    /// The NAD namespace (multus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The NAD name (multus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One network mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkPair {
    /// The source network.
    pub source: NetworkSource,
    /// The destination network.
    pub destination: DestinationNetwork,
}

/// NetworkMap spec.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "NetworkMap",
    doc = "Maps source networks to destination networks.",
    plural = "networkmaps",
    namespaced,
    status = "MapStatus",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
pub struct NetworkMapSpec {
    /// The source and destination providers.
    pub provider: ProviderPair,
    /// The mappings.
    pub map: Vec<NetworkPair>,
}

/// NetworkMap condition types.
pub mod network_conditions {
    #![allow(missing_docs)]
    pub const SOURCE_NETWORK_NOT_VALID: &str = "SourceNetworkNotValid";
    pub const DESTINATION_NETWORK_NOT_VALID: &str = "DestinationNetworkNotValid";
}

/// Status of both map kinds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MapStatus {
    /// Conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// The generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The source objects the map refers to, resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Ref>,
}

/// PVC volume mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum VolumeMode {
    /// A filesystem volume.
    Filesystem,
    /// A raw block volume.
    Block,
}

/// PVC access mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AccessMode {
    /// RWO.
    ReadWriteOnce,
    /// RWX.
    ReadWriteMany,
    /// ROX.
    ReadOnlyMany,
}

/// A destination storage class.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationStorage {
    /// The StorageClass.
    pub storage_class: String,
    /// Filesystem or Block; unset lets the CDI StorageProfile decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mode: Option<VolumeMode>,
    /// The access mode; unset lets the CDI StorageProfile decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_mode: Option<AccessMode>,
}

/// Storage arrays supported by vSphere XCOPY offload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum XcopyVendorProduct {
    /// IBM FlashSystem.
    #[serde(rename = "flashsystem")]
    FlashSystem,
    /// Hitachi Vantara.
    #[serde(rename = "vantara")]
    Vantara,
    /// NetApp ONTAP.
    #[serde(rename = "ontap")]
    Ontap,
    /// HPE Primera / 3PAR.
    #[serde(rename = "primera3par")]
    Primera3Par,
    /// Pure FlashArray.
    #[serde(rename = "pureFlashArray")]
    PureFlashArray,
    /// Dell PowerFlex.
    #[serde(rename = "powerflex")]
    PowerFlex,
    /// Dell PowerMax.
    #[serde(rename = "powermax")]
    PowerMax,
    /// Dell PowerStore.
    #[serde(rename = "powerstore")]
    PowerStore,
    /// Infinidat InfiniBox.
    #[serde(rename = "infinibox")]
    InfiniBox,
}

/// Storage arrays supported by CSI volume import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum CsiVendorProduct {
    /// HPE Primera / 3PAR.
    #[serde(rename = "primera3par")]
    Primera3Par,
    /// NetApp ONTAP.
    #[serde(rename = "ontap")]
    Ontap,
}

/// vSphere XCOPY offload settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VSphereXcopyConfig {
    /// The Secret with the storage array credentials.
    pub secret_ref: String,
    /// The storage array product.
    pub storage_vendor_product: XcopyVendorProduct,
    /// ESXi hosts dedicated to offload clones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dedicated_migration_hosts: Vec<String>,
}

/// CSI volume import settings (VVol and RDM disks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsiVolumeImport {
    /// The Secret with the storage array credentials.
    pub secret_ref: String,
    /// The storage array product.
    pub storage_vendor_product: CsiVendorProduct,
}

/// Storage copy-offload plugin settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OffloadPlugin {
    /// vSphere XCOPY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vsphere_xcopy_config: Option<VSphereXcopyConfig>,
    /// CSI volume import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi_volume_import: Option<CsiVolumeImport>,
}

/// One storage mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoragePair {
    /// The source datastore / storage domain / volume type (`glance` for
    /// OpenStack images).
    pub source: Ref,
    /// The destination.
    pub destination: DestinationStorage,
    /// Optional copy offload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offload_plugin: Option<OffloadPlugin>,
}

/// StorageMap spec.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "StorageMap",
    doc = "Maps source storage to destination StorageClasses.",
    plural = "storagemaps",
    namespaced,
    status = "MapStatus",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
pub struct StorageMapSpec {
    /// The source and destination providers.
    pub provider: ProviderPair,
    /// The mappings.
    pub map: Vec<StoragePair>,
}

/// StorageMap condition types.
pub mod storage_conditions {
    #![allow(missing_docs)]
    pub const SOURCE_STORAGE_NOT_VALID: &str = "SourceStorageNotValid";
    pub const DESTINATION_STORAGE_NOT_VALID: &str = "DestinationStorageNotValid";
}
