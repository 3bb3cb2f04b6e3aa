//! Looking things up for validation: Providers, maps and Hooks by
//! reference (from the informer caches while the controllers run), and
//! inventory objects by Forklift ref (`id`, falling back to `name`).
use ferry_core::api::{Provider, Ref};
use ferry_inventory::StoredResource;
use ferry_inventory::store::ListOptions;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::reflector::Store;
use kube::{Api, ResourceExt};

use crate::cache::Caches;
use crate::context::Context;
use crate::error::{Result, inventory};

/// Fetch the Provider `r` points at (namespace defaults to `ns`).
pub async fn provider(ctx: &Context, ns: &str, r: &ObjectReference) -> Option<Provider> {
    by_ref(ctx, ns, r, |c| &c.providers).await
}

/// The object `r` names (namespace defaults to `ns`): from the informer
/// cache `cached` picks while the controllers run, else from the API server.
pub async fn by_ref<K>(
    ctx: &Context,
    ns: &str,
    r: &ObjectReference,
    cached: fn(&Caches) -> &Store<K>,
) -> Option<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    if let Some(c) = ctx.caches() {
        return crate::cache::lookup(cached(&c), ns, r).await;
    }
    let (ns, name) = crate::cache::target(ns, r)?;
    Api::<K>::namespaced(ctx.client.clone(), ns)
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
