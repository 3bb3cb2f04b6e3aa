//! The validation hook: the inventory asks a [`VmValidator`] for the concerns
//! of every VM whose revision or rules version is stale, exactly when
//! Forklift's inventory would POST it to the OPA service.
use serde_json::Value;

use crate::error::Result;
use crate::model::Concern;

/// What validating one VM produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// Version of the rules that ran.
    pub rules_version: i64,
    /// Findings.
    pub concerns: Vec<Concern>,
}

/// A validation engine (the regorus policies of `ferry-validation`, or a test fake).
///
/// Both methods may be CPU-heavy; the inventory calls them on a blocking thread.
pub trait VmValidator: Send + Sync + 'static {
    /// The current rules version for a provider type (`ova`, `vsphere`, ...),
    /// or `None` when the engine has no policies for it (its VMs are then
    /// not validated and keep no concerns).
    fn rules_version(&self, provider_type: &str) -> Result<Option<i64>>;

    /// Validate one VM document (the collected JSON, as served at full detail).
    fn validate(&self, provider_type: &str, vm: &Value) -> Result<Validated>;
}
