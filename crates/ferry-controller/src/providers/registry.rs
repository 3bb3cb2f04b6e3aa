//! `spec.type` → source provider adapter. A type missing here is
//! `ProviderTypeNotSupported`: there is no fallback to another provider.
use ferry_core::api::Provider;
use kube::ResourceExt;

use super::SourceProvider;

/// Every source provider ferry is built with: one line per provider.
static SOURCES: &[&dyn SourceProvider] = &[
    &super::ova::adapter::Ova,
    &super::ovirt::adapter::Ovirt,
    &super::vsphere::adapter::Vsphere,
];

/// A `spec.type` no adapter serves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "ferry does not migrate from `{type_}` providers: no adapter for this type is built in (supported source types: {})",
    supported().join(", ")
)]
pub struct NotSupported {
    /// The type asked for.
    pub type_: String,
}

/// The adapter of source provider type `type_`.
pub fn source(type_: &str) -> Result<&'static dyn SourceProvider, NotSupported> {
    SOURCES
        .iter()
        .copied()
        .find(|a| a.provider_type() == type_)
        .ok_or_else(|| NotSupported {
            type_: type_.to_owned(),
        })
}

/// The reason of the Plan's and the maps' `SourceProviderNotValid` when
/// the source provider's type has no adapter.
pub const NOT_SUPPORTED_REASON: &str = "ProviderTypeNotSupported";

/// When `provider` is of a type no adapter serves: what a Plan or a map
/// that uses it as its source says.
pub fn unsupported_source(provider: &Provider) -> Option<String> {
    source(provider.spec.type_.as_str()).err().map(|e| {
        format!(
            "The source provider {} cannot be migrated from: {e}",
            provider.name_any()
        )
    })
}

/// The source types served, in registry order.
pub fn supported() -> Vec<&'static str> {
    SOURCES.iter().map(|a| a.provider_type()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn known_types_have_their_adapter() {
        for t in ["ova", "ovirt", "vsphere"] {
            assert_eq!(source(t).map(|a| a.provider_type()), Ok(t));
        }
    }

    #[test]
    fn unknown_and_unbuilt_types_are_refused_without_fallback() {
        for t in ["openstack", "openshift", "made-up", "", "OVA"] {
            let err = source(t).map(|a| a.provider_type()).unwrap_err();
            assert_eq!(err.type_, t);
            let msg = err.to_string();
            assert!(msg.contains(&format!("`{t}`")), "{msg}");
            assert!(msg.contains("ova, ovirt, vsphere"), "{msg}");
        }
    }
}
