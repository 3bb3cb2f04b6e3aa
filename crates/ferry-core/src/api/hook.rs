//! `Hook`: a pre- or post-migration hook.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Conditions;

/// The default hook runner image.
pub const DEFAULT_HOOK_IMAGE: &str = "quay.io/konveyor/hook-runner";

/// Display-only annotation naming the AAP job template.
pub const AAP_JOB_TEMPLATE_NAME_ANNOTATION: &str = "forklift.konveyor.io/aap-job-template-name";

/// Run an Ansible Automation Platform job template instead of a local playbook.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AapConfig {
    /// The job template to launch.
    pub job_template_id: i64,
    /// The AAP URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A Secret with key `token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_secret: Option<ObjectReference>,
    /// Poll timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
}

/// Hook spec.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "Hook",
    doc = "A pre- or post-migration hook: a container image with an optional Ansible playbook, or an AAP job template.",
    plural = "hooks",
    namespaced,
    status = "HookStatus",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"Image","type":"string","jsonPath":".spec.image"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct HookSpec {
    /// The container image (required for a local hook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// An Ansible playbook, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook: Option<String>,
    /// The service account of the hook Job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Deadline in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<i64>,
    /// Run an AAP job template instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aap: Option<AapConfig>,
}

/// Hook status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookStatus {
    /// Conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// The generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Hook condition types.
pub mod conditions {
    #![allow(missing_docs)]
    pub const INVALID_IMAGE: &str = "InvalidImage";
    pub const INVALID_PLAYBOOK: &str = "InvalidPlaybook";
    pub const INVALID_HOOK_EXECUTE: &str = "InvalidHookExecute";
}
