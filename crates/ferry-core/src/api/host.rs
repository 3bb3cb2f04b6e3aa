//! `Host`: an ESXi host used as a direct transfer endpoint.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Conditions;

/// Host spec: the inline ref fields plus provider, IP and secret.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "Host",
    doc = "An ESXi host used as a direct disk-transfer endpoint.",
    plural = "hosts",
    namespaced,
    status = "HostStatus",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"CONNECTED","type":"string","jsonPath":".status.conditions[?(@.type=='ConnectionTestSucceeded')].status"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct HostSpec {
    /// The host's ID in the source inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The host's name in the source inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace (ref field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Type (ref field).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The source provider.
    pub provider: ObjectReference,
    /// The IP address used for disk transfer.
    pub ip_address: String,
    /// The Secret with the host's credentials.
    pub secret: ObjectReference,
}

/// Host condition types.
pub mod conditions {
    #![allow(missing_docs)]
    pub const VALIDATED: &str = "Validated";
    pub const REF_NOT_VALID: &str = "RefNotValid";
    pub const SECRET_NOT_VALID: &str = "SecretNotValid";
    pub const TYPE_NOT_VALID: &str = "TypeNotValid";
    pub const IP_NOT_VALID: &str = "IpNotValid";
    pub const CONNECTION_TEST_SUCCEEDED: &str = "ConnectionTestSucceeded";
    pub const CONNECTION_TEST_FAILED: &str = "ConnectionTestFailed";
    pub const IN_MAINTENANCE: &str = "InMaintenance";
    pub const NOT_HEALTHY: &str = "NotHealthy";
    pub const HOST_STATUS_NOT_GREEN: &str = "HostStatusNotGreen";
}

/// Host status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostStatus {
    /// Conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// The generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
