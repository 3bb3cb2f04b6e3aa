//! Which Plans to reconcile when an object they name changes: a Provider
//! (`spec.provider.source`/`destination`), a map (`spec.map.network`/
//! `storage`) or a Hook (`spec.vms[].hooks[].hook`).
use ferry_core::api::Plan;
use k8s_openapi::api::core::v1::ObjectReference;

/// The Plan's providers.
pub fn providers(p: &Plan) -> Vec<&ObjectReference> {
    p.spec.provider.refs()
}

/// The Plan's network map.
pub fn network_map(p: &Plan) -> Vec<&ObjectReference> {
    vec![&p.spec.map.network]
}

/// The Plan's storage map.
pub fn storage_map(p: &Plan) -> Vec<&ObjectReference> {
    vec![&p.spec.map.storage]
}

/// The Plan's hooks.
pub fn hooks(p: &Plan) -> Vec<&ObjectReference> {
    p.spec
        .vms
        .iter()
        .flat_map(|vm| vm.hooks.iter().map(|h| &h.hook))
        .collect()
}
