//! The CustomResourceDefinitions of every forklift.konveyor.io kind ferry
//! serves, generated from the typed models (`ferry crds` prints them; the
//! files in `deploy/crds/` are checked against them in CI).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::api;

/// Every CRD, in [`api::KINDS`] order.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![
        api::Provider::crd(),
        api::Host::crd(),
        api::NetworkMap::crd(),
        api::StorageMap::crd(),
        api::Hook::crd(),
        api::Plan::crd(),
        api::Migration::crd(),
        api::ForkliftController::crd(),
    ]
}

/// The CRD of `kind` (e.g. `Plan`), if ferry serves it.
pub fn for_kind(kind: &str) -> Option<CustomResourceDefinition> {
    all().into_iter().find(|c| c.spec.names.kind == kind)
}

/// The file name Forklift uses for a CRD: `<group>_<plural>.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}
