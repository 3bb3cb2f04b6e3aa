//! The CustomResourceDefinitions of every forklift.konveyor.io kind ferry
//! serves, generated from the typed models (`ferry crds` prints them; the
//! files in `deploy/crds/` are checked against them in CI).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::api;

/// Every CRD, in [`api::KINDS`] order.
pub fn all() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![
        api::Provider::crd(),
        api::Host::crd(),
        api::NetworkMap::crd(),
        api::StorageMap::crd(),
        api::Hook::crd(),
        api::Plan::crd(),
        api::Migration::crd(),
        api::ForkliftController::crd(),
    ];
    for crd in &mut crds {
        accept_missing_spec(crd);
    }
    crds
}

/// kube-derive marks `spec` required at the root; Forklift's CRDs do not, so
/// an object without `spec` (e.g. a bare ForkliftController) is accepted by
/// the API server and reported by `ferry validate` instead.
fn accept_missing_spec(crd: &mut CustomResourceDefinition) {
    for version in &mut crd.spec.versions {
        let root = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut());
        if let Some(root) = root
            && let Some(req) = root.required.as_mut()
        {
            req.retain(|r| r != "spec");
            if req.is_empty() {
                root.required = None;
            }
        }
    }
}

/// The CRD of `kind` (e.g. `Plan`), if ferry serves it.
pub fn for_kind(kind: &str) -> Option<CustomResourceDefinition> {
    all().into_iter().find(|c| c.spec.names.kind == kind)
}

/// The file name Forklift uses for a CRD: `<group>_<plural>.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}
