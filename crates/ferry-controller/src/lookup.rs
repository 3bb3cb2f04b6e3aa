//! Looking things up for validation: providers by reference, and inventory
//! objects by Forklift ref (`id`, falling back to `name`).
use ferry_core::api::{Provider, Ref};
use ferry_inventory::StoredResource;
use ferry_inventory::store::ListOptions;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::{Api, ResourceExt};

use crate::context::Context;
use crate::error::{Result, inventory};

/// Fetch the Provider `r` points at (namespace defaults to `ns`).
pub async fn provider(ctx: &Context, ns: &str, r: &ObjectReference) -> Option<Provider> {
    if let Some(c) = ctx.caches() {
        return crate::cache::lookup(&c.providers, ns, r).await;
    }
    let name = r.name.as_deref().filter(|n| !n.is_empty())?;
    let ns = r
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(ns);
    Api::<Provider>::namespaced(ctx.client.clone(), ns)
        .get_opt(name)
        .await
        .ok()
        .flatten()
}

/// True when the Provider's `Ready` condition is set.
pub fn provider_ready(p: &Provider) -> bool {
    p.status.as_ref().is_some_and(|s| s.conditions.is_ready())
}

/// The inventory UID of a provider.
pub fn uid(p: &Provider) -> String {
    p.uid().unwrap_or_default()
}

/// Find `r` in `collection` of provider `uid`: by id, else by name.
pub fn find(ctx: &Context, uid: &str, collection: &str, r: &Ref) -> Result<Option<StoredResource>> {
    let store = ctx.inventory.store();
    if let Some(id) = r.id.as_deref().filter(|s| !s.is_empty()) {
        return store
            .get(uid, collection, id)
            .map_err(inventory(format!("looking up {collection}/{id}")));
    }
    if let Some(name) = r.name.as_deref().filter(|s| !s.is_empty()) {
        let opts = ListOptions {
            name: Some(name.to_owned()),
            ..ListOptions::default()
        };
        let mut found = store
            .list(uid, collection, &opts)
            .map_err(inventory(format!("looking up {collection} named {name}")))?;
        return Ok(if found.is_empty() {
            None
        } else {
            Some(found.swap_remove(0))
        });
    }
    Ok(None)
}

/// The inventory collection holding a provider's storage, as its adapter
/// says: `datastores` for vSphere, `storages` for the rest (OVA's dummy
/// storage, ...). A provider of a type ferry does not serve has no inventory.
pub fn storage_collection(ctx: &Context, uid: &str) -> &'static str {
    match ctx.inventory.store().provider(uid) {
        Ok(Some(p)) => crate::providers::registry::source(&p.info.provider_type)
            .map_or("storages", |a| a.storage_collection()),
        _ => "storages",
    }
}
