//! `Plan`: what to migrate, and how.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, ObjectReference};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;
use super::plan_status::PlanStatus;
use super::refs::{ProviderPair, Ref};

fn yes() -> bool {
    true
}

fn no() -> bool {
    false
}

/// The migration type (`spec.type`); unset means cold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MigrationType {
    /// Power off, then copy.
    #[default]
    Cold,
    /// Precopy while running, then cut over.
    Warm,
    /// Live migration (OpenShift sources).
    Live,
    /// Conversion only: the disks are already on PVCs.
    Conversion,
}

/// Target power state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetPowerState {
    /// Start the VM.
    On,
    /// Leave it stopped.
    Off,
    /// Match the source VM's power state.
    Auto,
}

/// The source and destination maps of a plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanMaps {
    /// The NetworkMap.
    pub network: ObjectReference,
    /// The StorageMap.
    pub storage: ObjectReference,
}

open_enum! {
    /// The step a hook runs at (`vms[].hooks[].step`).
    pub enum HookStep {
        /// Before the VM is migrated.
        PreHook => "PreHook",
        /// After the VM is created.
        PostHook => "PostHook",
    }
}

/// A hook attached to a VM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HookRef {
    /// PreHook or PostHook.
    pub step: HookStep,
    /// The Hook.
    pub hook: ObjectReference,
}

/// One VM of a plan (`spec.vms[]`). Matched by `id`, falling back to `name`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanVm {
    /// The VM's ID in the source inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The VM's name (or path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The VM's namespace (OpenShift sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The VM's type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Hooks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRef>,
    /// A Secret with LUKS passphrases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub luks: Option<ObjectReference>,
    /// Unlock disks with Clevis (wins over `luks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbde_clevis: Option<bool>,
    /// The root disk for conversion, e.g. `/dev/sda`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_disk: Option<String>,
    /// A KubeVirt instance type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// The target VM name; must be a DNS-1123 label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// Per-VM target power state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_power_state: Option<TargetPowerState>,
    /// Per-VM PVC name template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc_name_template: Option<String>,
    /// Per-VM volume name template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_name_template: Option<String>,
    /// Per-VM network name template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_name_template: Option<String>,
    /// Per-VM override of the plan's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_vm_on_fail_migration: Option<bool>,
    /// Per-VM override of the plan's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_shared_disks: Option<bool>,
    /// Per-VM override of the plan's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_nested_virtualization: Option<bool>,
    /// Per-VM override of the plan's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdm_as_lun: Option<bool>,
    /// Per-VM override of the plan's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scsi_reservation: Option<bool>,
}

impl PlanVm {
    /// The ref part (id, name, namespace, type).
    pub fn as_ref(&self) -> Ref {
        Ref {
            id: self.id.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            type_: self.type_.clone(),
        }
    }

    /// The hook for `step`, if any.
    pub fn hook(&self, step: &HookStep) -> Option<&HookRef> {
        self.hooks.iter().find(|h| &h.step == step)
    }
}

/// vSphere tag mapping.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TagMapping {
    /// Turn tag mapping off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Tags that become labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_tags: Vec<String>,
}

/// Plan spec: what to migrate (providers, maps, VMs) and how.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "Plan",
    doc = "What to migrate (providers, maps, VMs) and how.",
    plural = "plans",
    namespaced,
    status = "PlanStatus",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"EXECUTING","type":"string","jsonPath":".status.conditions[?(@.type=='Executing')].status"}"#,
    printcolumn = r#"{"name":"SUCCEEDED","type":"string","jsonPath":".status.conditions[?(@.type=='Succeeded')].status"}"#,
    printcolumn = r#"{"name":"FAILED","type":"string","jsonPath":".status.conditions[?(@.type=='Failed')].status"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct PlanSpec {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The namespace the VMs are created in.
    pub target_namespace: String,
    /// The source and destination providers.
    pub provider: ProviderPair,
    /// The network and storage maps.
    pub map: PlanMaps,
    /// The VMs.
    pub vms: Vec<PlanVm>,
    /// cold, warm, live or conversion; unset means cold.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<MigrationType>,
    /// Deprecated: use `type: warm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<bool>,
    /// Archiving cleans up temporary resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// A NetworkAttachmentDefinition used for disk transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_network: Option<ObjectReference>,
    /// The service account of migration pods (DNS label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), length(max = 253))]
    pub service_account: Option<String>,

    /// Labels added to target VMs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_labels: BTreeMap<String, String>,
    /// Node selector for target VMs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_node_selector: BTreeMap<String, String>,
    /// Affinity for target VMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_affinity: Option<Affinity>,
    /// Power state of target VMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_power_state: Option<TargetPowerState>,
    /// Keep static IPs (vSphere, Hyper-V).
    #[serde(default = "yes", rename = "preserveStaticIPs")]
    pub preserve_static_ips: bool,
    /// Keep the oVirt cluster CPU model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_cluster_cpu_model: Option<bool>,
    /// Nested virtualization; unset means detect from the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_nested_virtualization: Option<bool>,
    /// vSphere tags to labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_mapping: Option<TagMapping>,
    /// EC2: skip the zone node selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_zone_node_selector: Option<bool>,

    /// Labels of the conversion pod.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub convertor_labels: BTreeMap<String, String>,
    /// Node selector of the conversion pod (also CDI VDDK importers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub convertor_node_selector: BTreeMap<String, String>,
    /// Affinity of the conversion pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convertor_affinity: Option<Affinity>,
    /// Storage class of the conversion scratch volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion_temp_storage_class: Option<String>,
    /// Size of the conversion scratch volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion_temp_storage_size: Option<String>,
    /// Raw copy mode: no guest conversion.
    #[serde(default = "no")]
    pub skip_guest_conversion: bool,
    /// With raw copy, use SATA and E1000E instead of virtio.
    #[serde(default = "yes")]
    pub use_compatibility_mode: bool,
    /// Install legacy Windows drivers; unset means detect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_legacy_drivers: Option<bool>,
    /// Delete the conversion pod when done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_guest_conversion_pod: Option<bool>,
    /// A ConfigMap of customisation scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customization_scripts: Option<ObjectReference>,
    /// Per-plan virt-v2v image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_image: Option<String>,
    /// Use the XFSv4-compatible conversion image.
    #[serde(default = "no")]
    pub xfs_compatibility: bool,
    /// Run the preflight inspection (warm vSphere).
    #[serde(default = "yes")]
    pub run_preflight_inspection: bool,

    /// Migrate shared disks.
    #[serde(default = "yes")]
    pub migrate_shared_disks: bool,
    /// RDM disks become `lun:{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdm_as_lun: Option<bool>,
    /// SCSI persistent reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scsi_reservation: Option<bool>,
    /// Delete the target VM when its migration fails.
    #[serde(default = "yes")]
    pub delete_vm_on_fail_migration: bool,
    /// Deprecated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_bus: Option<String>,
    /// PVC name template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc_name_template: Option<String>,
    /// Use `generateName` for PVCs; unset means true except for OpenShift sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc_name_template_use_generate_name: Option<bool>,
    /// Volume name template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_name_template: Option<String>,
    /// Network name template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_name_template: Option<String>,
}

impl Default for PlanSpec {
    fn default() -> Self {
        Self {
            description: None,
            target_namespace: String::new(),
            provider: ProviderPair::default(),
            map: PlanMaps::default(),
            vms: Vec::new(),
            type_: None,
            warm: None,
            archived: None,
            transfer_network: None,
            service_account: None,
            target_labels: BTreeMap::new(),
            target_node_selector: BTreeMap::new(),
            target_affinity: None,
            target_power_state: None,
            preserve_static_ips: true,
            preserve_cluster_cpu_model: None,
            enable_nested_virtualization: None,
            tag_mapping: None,
            skip_zone_node_selector: None,
            convertor_labels: BTreeMap::new(),
            convertor_node_selector: BTreeMap::new(),
            convertor_affinity: None,
            conversion_temp_storage_class: None,
            conversion_temp_storage_size: None,
            skip_guest_conversion: false,
            use_compatibility_mode: true,
            install_legacy_drivers: None,
            delete_guest_conversion_pod: None,
            customization_scripts: None,
            virt_v2v_image: None,
            xfs_compatibility: false,
            run_preflight_inspection: true,
            migrate_shared_disks: true,
            rdm_as_lun: None,
            scsi_reservation: None,
            delete_vm_on_fail_migration: true,
            disk_bus: None,
            pvc_name_template: None,
            pvc_name_template_use_generate_name: None,
            volume_name_template: None,
            network_name_template: None,
        }
    }
}

impl PlanSpec {
    /// The effective migration type: `type`, else warm when the deprecated
    /// `warm` is set, else cold.
    pub fn migration_type(&self) -> MigrationType {
        match self.type_ {
            Some(t) => t,
            None if self.warm == Some(true) => MigrationType::Warm,
            None => MigrationType::Cold,
        }
    }

    /// Forklift's `IsWarm()`: `warm` or `type == warm`.
    pub fn is_warm(&self) -> bool {
        self.warm == Some(true) || self.type_ == Some(MigrationType::Warm)
    }
}

/// Plan condition types (see `forklift-api.md`, "Plan condition types").
pub mod conditions {
    #![allow(missing_docs)]
    // Critical: plan setup.
    pub const MIGRATION_TYPE_NOT_VALID: &str = "MigrationTypeNotValid";
    pub const NAMESPACE_NOT_VALID: &str = "NamespaceNotValid";
    pub const TRANSFER_NETWORK_NOT_VALID: &str = "TransferNetworkNotValid";
    pub const NETWORK_MAP_REF_NOT_VALID: &str = "NetworkMapRefNotValid";
    pub const NETWORK_MAP_NOT_READY: &str = "NetworkMapNotReady";
    pub const NET_MAP_DESTINATION_NAD_NOT_VALID: &str = "NetMapDestinationNADNotValid";
    pub const STORAGE_REF_NOT_VALID: &str = "StorageRefNotValid";
    pub const STORAGE_MAP_NOT_READY: &str = "StorageMapNotReady";
    pub const WARM_MIGRATION_NOT_READY: &str = "WarmMigrationNotReady";
    pub const UNSUPPORTED_USER_DEFINED_NETWORK: &str = "UnsupportedUserDefinedNetwork";
    pub const UNSUPPORTED_VERSION: &str = "UnsupportedVersion";
    pub const SERVICE_ACCOUNT_NOT_VALID: &str = "ServiceAccountNotValid";
    // Critical: VM selection.
    pub const VM_REF_NOT_VALID: &str = "VMRefNotValid";
    pub const VM_NOT_FOUND: &str = "VMNotFound";
    pub const DUPLICATE_VM: &str = "DuplicateVM";
    pub const VM_ALREADY_EXISTS: &str = "VMAlreadyExists";
    pub const VM_NETWORKS_NOT_MAPPED: &str = "VMNetworksNotMapped";
    pub const VM_STORAGE_NOT_MAPPED: &str = "VMStorageNotMapped";
    pub const VM_STORAGE_NOT_SUPPORTED: &str = "VMStorageNotSupported";
    pub const VM_MULTIPLE_POD_NETWORK_MAPPINGS: &str = "VMMultiplePodNetworkMappings";
    pub const VM_POWER_STATE_UNSUPPORTED: &str = "VMPowerStateUnsupported";
    pub const VM_MIGRATION_TYPE_UNSUPPORTED: &str = "VMMigrationTypeUnsupported";
    pub const VM_CRITICAL_CONCERNS: &str = "VMCriticalConcerns";
    // Critical: VM readiness.
    pub const VM_MISSING_CHANGED_BLOCK_TRACKING: &str = "VMMissingChangedBlockTracking";
    pub const VM_HAS_SNAPSHOTS: &str = "VMHasSnapshots";
    pub const GUEST_TOOLS_ISSUE: &str = "GuestToolsIssue";
    pub const INVALID_DISK_SIZES: &str = "InvalidDiskSizes";
    pub const MAC_CONFLICTS: &str = "MacConflicts";
    pub const MISSING_PVC_FOR_ONLY_CONVERSION: &str = "MissingPvcForOnlyConversion";
    // Critical: hooks.
    pub const HOOK_NOT_VALID: &str = "HookNotValid";
    pub const HOOK_NOT_READY: &str = "HookNotReady";
    pub const HOOK_STEP_NOT_VALID: &str = "HookStepNotValid";
    pub const HOOK_SERVICE_ACCOUNT_NOT_VALID: &str = "HookServiceAccountNotValid";
    // Critical: VDDK and storage.
    pub const VDDK_INVALID: &str = "VDDKInvalid";
    pub const VDDK_INIT_IMAGE_UNAVAILABLE: &str = "VDDKInitImageUnavailable";
    pub const VDDK_AND_OFFLOAD_MIXED_USAGE: &str = "VDDKAndOffloadMixedUsage";
    pub const NETAPP_SHIFT_WARM_NOT_SUPPORTED: &str = "NetAppShiftWarmNotSupported";
    pub const NETAPP_SHIFT_DATASTORE_NAS_MISSING: &str = "NetAppShiftDatastoreNASMissing";
    // Warn.
    pub const NET_MAP_PRESERVING_IPS_ON_POD_NETWORK: &str = "NetMapPreservingIPsOnPodNetwork";
    pub const TARGET_NAME_NOT_VALID: &str = "TargetNameNotValid";
    pub const HOST_NOT_READY: &str = "HostNotReady";
    pub const VM_MISSING_GUEST_IPS: &str = "VMMissingGuestIPs";
    pub const VM_IP_NOT_MATCHING_UDN_SUBNET: &str = "VMIpNotMatchingUdnSubnet";
    pub const UNSUPPORTED_OVF_EXPORT_SOURCE: &str = "UnsupportedOVFExportSource";
    pub const LUKS_AND_CLEVIS_INCOMPATIBILITY: &str = "LuksAndClevisIncompatibility";
    pub const VM_CONSOLIDATION_NEEDED: &str = "VMConsolidationNeeded";
    pub const RDM_DISK_WARNING: &str = "RDMDiskWarning";
    pub const INDEPENDENT_DISK_WARNING: &str = "IndependentDiskWarning";
    pub const TRANSFER_NETWORK_MISSING_DEFAULT_ROUTE: &str = "TransferNetworkMissingDefaultRoute";
    pub const RESTRICTED_POD_SECURITY: &str = "RestrictedPodSecurity";
    // Advisory.
    pub const VALIDATING_VDDK: &str = "ValidatingVDDK";
    pub const VDDK_INIT_IMAGE_NOT_READY: &str = "VDDKInitImageNotReady";
    pub const NETAPP_SHIFT: &str = "NetAppShift";
    // Execution.
    pub const EXECUTING: &str = "Executing";
    pub const SUCCEEDED: &str = "Succeeded";
    pub const FAILED: &str = "Failed";
    pub const CANCELED: &str = "Canceled";
    pub const ARCHIVED: &str = "Archived";
    pub const DELETED: &str = "Deleted";
    pub const PAUSED: &str = "Paused";
    pub const CONVERSION_HAS_WARNINGS: &str = "ConversionHasWarnings";
    pub const INSPECTION_HAS_CONCERNS: &str = "InspectionHasConcerns";
    pub const CONVERSION_RESUMABLE: &str = "ConversionResumable";
}
