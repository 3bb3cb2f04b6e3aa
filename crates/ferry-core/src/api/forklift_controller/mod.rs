//! `ForkliftController`: operator configuration. The spec is flat snake_case
//! with Forklift's CRD defaults (booleans are the strings "true"/"false");
//! the status is free-form (the Ansible operator owns it).
//!
//! Every field is optional so that what a user wrote survives a round trip
//! unchanged; the CRD schema carries the defaults (the API server fills them
//! in), and [`ForkliftControllerSpec::with_defaults`] / the getters in
//! `defaults.rs` give controllers the effective values.

mod defaults;
mod getters;
mod spec;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use spec::{ForkliftController, ForkliftControllerSpec};

/// Resource quantity pattern used by the `*_cpu` / `*_memory` settings.
pub const QUANTITY: &str = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";
/// Duration pattern (`10s`, `5m`, `1h`).
pub const DURATION: &str = r"^[0-9]+(s|m|h)$";
/// PVC name templates in the controller settings must not contain raw `{`/`}`.
pub const NO_TEMPLATE: &str = r"^([^{}\\]|\\.)*$";

/// A boolean carried as the string `"true"` or `"false"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum BoolString {
    /// "true"
    #[serde(rename = "true")]
    True,
    /// "false"
    #[serde(rename = "false")]
    False,
}

impl BoolString {
    /// As a bool.
    pub fn as_bool(self) -> bool {
        self == Self::True
    }
}

impl From<bool> for BoolString {
    fn from(b: bool) -> Self {
        if b { Self::True } else { Self::False }
    }
}

/// Container image pull policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum PullPolicy {
    /// Always pull.
    Always,
    /// Pull when missing.
    IfNotPresent,
    /// Never pull.
    Never,
}

/// MCP server output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum McpOutputFormat {
    /// Markdown.
    Markdown,
    /// Plain text.
    Text,
    /// JSON.
    Json,
}

/// ForkliftController's free-form status (`x-kubernetes-preserve-unknown-fields`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ForkliftControllerStatus(pub serde_json::Map<String, serde_json::Value>);

impl JsonSchema for ForkliftControllerStatus {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ForkliftControllerStatus".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Free-form status written by the operator.",
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true
        })
    }
}
