//! `Provider`: a source or destination endpoint.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Conditions;
use super::open_enum::open_enum;

open_enum! {
    /// The provider type (`spec.type`). A plain string in Forklift's CRD;
    /// unknown values are kept and rejected by validation.
    #[derive(Default)]
    pub enum ProviderType {
        /// OpenShift / KubeVirt (also the local `host` provider).
        #[default]
        OpenShift => "openshift",
        /// VMware vSphere / ESXi.
        VSphere => "vsphere",
        /// oVirt / RHV.
        OVirt => "ovirt",
        /// OpenStack.
        OpenStack => "openstack",
        /// OVA appliances on NFS.
        Ova => "ova",
        /// Amazon EC2.
        Ec2 => "ec2",
        /// Microsoft Hyper-V.
        HyperV => "hyperv",
        /// Nutanix AHV.
        Nutanix => "nutanix",
    }
}

/// Provider spec.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "Provider",
    doc = "A source or destination endpoint: vSphere, oVirt, OpenStack, OVA, OpenShift, EC2, Hyper-V or Nutanix.",
    plural = "providers",
    namespaced,
    status = "ProviderStatus",
    printcolumn = r#"{"name":"TYPE","type":"string","jsonPath":".spec.type"}"#,
    printcolumn = r#"{"name":"STATUS","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"CONNECTED","type":"string","jsonPath":".status.conditions[?(@.type=='ConnectionTestSucceeded')].status"}"#,
    printcolumn = r#"{"name":"INVENTORY","type":"string","jsonPath":".status.conditions[?(@.type=='InventoryCreated')].status"}"#,
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".spec.url"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// The provider type.
    #[serde(rename = "type")]
    pub type_: ProviderType,
    /// The endpoint URL; empty only for the local `host` provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The Secret with the credentials.
    pub secret: ObjectReference,
    /// Per-type settings (`vddkInitImage`, `sdkEndpoint`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
}

/// Well-known `spec.settings` keys.
pub mod settings {
    /// vSphere: the VDDK init image.
    pub const VDDK_INIT_IMAGE: &str = "vddkInitImage";
    /// vSphere: `vcenter` (default) or `esxi`.
    pub const SDK_ENDPOINT: &str = "sdkEndpoint";
    /// vSphere: "true"/"false", default false.
    pub const USE_VDDK_AIO_OPTIMIZATION: &str = "useVddkAioOptimization";
    /// vSphere: VDDK config-file text.
    pub const VDDK_CONFIG: &str = "vddkConfig";
    /// vSphere: `ssh` (default) or `vib`.
    pub const ESXI_CLONE_METHOD: &str = "esxiCloneMethod";
    /// EC2: the target availability zone (required).
    pub const TARGET_AZ: &str = "target-az";
    /// EC2: the target region.
    pub const TARGET_REGION: &str = "target-region";
    /// Hyper-V: WinRM port, default 5986.
    pub const WINRM_PORT: &str = "winrmPort";
    /// Hyper-V: `standalone` or `cluster`.
    pub const MANAGEMENT_TYPE: &str = "managementType";
    /// Nutanix: `central` or `element`.
    pub const PRISM_TYPE: &str = "prismType";
    /// Nutanix: the cluster UUID.
    pub const CLUSTER_UUID: &str = "clusterUuid";
}

/// The annotation on a destination Provider that sets a plan's default
/// transfer network.
pub const DEFAULT_TRANSFER_NETWORK_ANNOTATION: &str = "forklift.konveyor.io/defaultTransferNetwork";

/// Provider phases (`status.phase`).
pub mod phase {
    /// Being validated.
    pub const STAGING: &str = "Staging";
    /// The spec is not valid.
    pub const VALIDATION_FAILED: &str = "ValidationFailed";
    /// The connection test failed.
    pub const CONNECTION_FAILED: &str = "ConnectionFailed";
    /// Ready.
    pub const READY: &str = "Ready";
}

/// Provider condition types.
pub mod conditions {
    #![allow(missing_docs)]
    pub const URL_NOT_VALID: &str = "UrlNotValid";
    pub const PROVIDER_TYPE_NOT_SUPPORTED: &str = "ProviderTypeNotSupported";
    pub const SECRET_NOT_VALID: &str = "SecretNotValid";
    pub const SETTINGS_NOT_VALID: &str = "SettingsNotValid";
    pub const VALIDATED: &str = "Validated";
    pub const CONNECTION_AUTH_FAILED: &str = "ConnectionAuthFailed";
    pub const CONNECTION_AUTH_RETRY: &str = "ConnectionAuthRetry";
    pub const CONNECTION_TEST_SUCCEEDED: &str = "ConnectionTestSucceeded";
    pub const CONNECTION_TEST_FAILED: &str = "ConnectionTestFailed";
    pub const CONNECTION_INSECURE: &str = "ConnectionInsecure";
    pub const INVENTORY_CREATED: &str = "InventoryCreated";
    pub const LOAD_INVENTORY: &str = "LoadInventory";
    pub const INVENTORY_ERROR: &str = "InventoryError";
    pub const SSH_READY: &str = "SSHReady";
    pub const SSH_NOT_READY: &str = "SSHNotReady";
    pub const INSUFFICIENT_PRIVILEGES: &str = "InsufficientPrivileges";
    pub const SMB_CSI_DRIVER_NOT_READY: &str = "SMBCSIDriverNotReady";
    pub const SMB_MOUNT_FAILED: &str = "SMBMountFailed";
    pub const WAITING_FOR_SERVICE: &str = "WaitingForService";
}

/// Provider status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    /// Staging, ValidationFailed, ConnectionFailed or Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// The generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The TLS thumbprint of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The OVA or Hyper-V provider server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ObjectReference>,
    /// The Secret's resourceVersion at the last connection test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_resource_version: Option<String>,
}

/// The name of the local-cluster Provider that Forklift's operator creates
/// in its namespace and that manifests name without defining it.
pub const HOST_PROVIDER_NAME: &str = "host";

impl Provider {
    /// The local-cluster Provider `host` in `namespace`: type openshift with
    /// an empty URL, as Forklift's operator creates it.
    pub fn host(namespace: &str) -> Self {
        let mut p = Provider::new(
            HOST_PROVIDER_NAME,
            ProviderSpec {
                type_: ProviderType::OpenShift,
                ..ProviderSpec::default()
            },
        );
        p.metadata.namespace = Some(namespace.to_owned());
        p
    }

    /// True for the local-cluster provider (`openshift` with an empty URL).
    pub fn is_host(&self) -> bool {
        self.spec.type_ == ProviderType::OpenShift
            && self.spec.url.as_deref().unwrap_or_default().is_empty()
    }
}
