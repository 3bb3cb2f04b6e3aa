//! Informer caches of the kinds the reconcilers look up by reference:
//! Providers, NetworkMaps, StorageMaps and Hooks. One shared reflector per
//! kind keeps every object in memory, so a Plan reconcile reads them
//! without a request to the API server, and the reconcilers that depend on
//! them are triggered when one changes or is deleted. A subscriber sees a
//! change only after the cache holds it, so a triggered reconcile never
//! reads an older object than the one that triggered it.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ferry_core::api::{Hook, NetworkMap, Provider, StorageMap};
use futures::SinkExt;
use futures::channel::mpsc;
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};

/// Changes buffered per subscriber before the cache waits for it.
const BUFFER: usize = 1024;

/// The caches.
#[derive(Clone)]
pub struct Caches {
    /// Every Provider.
    pub providers: Store<Provider>,
    /// Every NetworkMap.
    pub network_maps: Store<NetworkMap>,
    /// Every StorageMap.
    pub storage_maps: Store<StorageMap>,
    /// Every Hook.
    pub hooks: Store<Hook>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").finish_non_exhaustive()
    }
}

/// A future that keeps one reflector running.
pub type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A cache being filled: its store, its subscribers and the future that
/// keeps it filled.
pub struct Reflected<K: Resource<DynamicType = ()> + Clone + 'static> {
    /// The store.
    pub store: Store<K>,
    writer: Option<reflector::store::Writer<K>>,
    subscribers: Vec<mpsc::Sender<Arc<K>>>,
    client: Client,
}

impl<K: crate::Kind> Reflected<K> {
    fn new(client: &Client) -> Self {
        let (store, writer) = reflector::store();
        Self {
            store,
            writer: Some(writer),
            subscribers: Vec::new(),
            client: client.clone(),
        }
    }

    /// A stream of every object the cache sees created, changed or deleted,
    /// sent after the cache holds the change. Subscribe before [`Self::drive`].
    pub fn subscribe(&mut self) -> impl Stream<Item = Arc<K>> + Send + 'static + use<K> {
        let (tx, rx) = mpsc::channel(BUFFER);
        self.subscribers.push(tx);
        rx
    }

    /// The future that lists and watches the kind into the store and tells
    /// the subscribers; call once, after every subscription.
    pub fn drive(&mut self) -> Driver {
        let Some(writer) = self.writer.take() else {
            return Box::pin(futures::future::ready(()));
        };
        let subscribers = std::mem::take(&mut self.subscribers);
        let api: Api<K> = Api::all(self.client.clone());
        let stream = reflector::reflector(writer, watch(api))
            .default_backoff()
            .fold(subscribers, |mut subscribers, ev| async move {
                match ev {
                    // The initial list reconciles everything anyway.
                    Ok(watcher::Event::Apply(o) | watcher::Event::Delete(o)) => {
                        let o = Arc::new(o);
                        for tx in &mut subscribers {
                            // A closed subscriber (its controller stopped) is
                            // no reason to stop the cache.
                            let _ = tx.send(o.clone()).await;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(kind = %K::kind(&()), error = %e, "cache watch"),
                }
                subscribers
            });
        Box::pin(async move {
            stream.await;
        })
    }
}

/// A watch of every `K` for a cache, without `metadata.managedFields`: no
/// reconciler reads them, and they are the largest part of most objects.
pub fn watch<K: crate::Kind>(
    api: Api<K>,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static {
    watcher(api, watcher::Config::default()).modify(|o: &mut K| o.meta_mut().managed_fields = None)
}

/// The caches of every looked-up kind, not yet running.
pub struct Pending {
    /// Providers.
    pub providers: Reflected<Provider>,
    /// NetworkMaps.
    pub network_maps: Reflected<NetworkMap>,
    /// StorageMaps.
    pub storage_maps: Reflected<StorageMap>,
    /// Hooks.
    pub hooks: Reflected<Hook>,
}

impl Pending {
    /// Caches reading through `client`.
    pub fn new(client: &Client) -> Self {
        Self {
            providers: Reflected::new(client),
            network_maps: Reflected::new(client),
            storage_maps: Reflected::new(client),
            hooks: Reflected::new(client),
        }
    }

    /// The stores (readable once the drivers run).
    pub fn caches(&self) -> Caches {
        Caches {
            providers: self.providers.store.clone(),
            network_maps: self.network_maps.store.clone(),
            storage_maps: self.storage_maps.store.clone(),
            hooks: self.hooks.store.clone(),
        }
    }

    /// The futures that fill the stores; call after every subscription.
    pub fn drivers(&mut self) -> Vec<Driver> {
        vec![
            self.providers.drive(),
            self.network_maps.drive(),
            self.storage_maps.drive(),
            self.hooks.drive(),
        ]
    }
}

/// Namespace and name an ObjectReference points at; its namespace defaults
/// to `ns`. `None` when it names nothing.
pub fn target<'a>(ns: &'a str, r: &'a ObjectReference) -> Option<(&'a str, &'a str)> {
    let name = r.name.as_deref().filter(|n| !n.is_empty())?;
    let ns = r
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(ns);
    Some((ns, name))
}

/// The object `r` points at in `store` (namespace defaults to `ns`), once
/// the store has been filled.
pub async fn lookup<K>(store: &Store<K>, ns: &str, r: &ObjectReference) -> Option<K>
where
    K: Resource<DynamicType = ()> + Clone,
{
    let (ns, name) = target(ns, r)?;
    if store.wait_until_ready().await.is_err() {
        return None;
    }
    store
        .get(&ObjectRef::new(name).within(ns))
        .map(|o| (*o).clone())
}

/// The references of one kind of object to another.
pub type Refs<K> = fn(&K) -> Vec<&ObjectReference>;

/// The objects in `store` whose `refs` name `ns`/`name`: what to reconcile
/// when that object changes.
pub fn referrers<K>(store: &Store<K>, refs: Refs<K>, ns: &str, name: &str) -> Vec<ObjectRef<K>>
where
    K: Resource<DynamicType = ()> + Clone,
{
    store
        .state()
        .iter()
        .filter(|o| {
            let ons = o.meta().namespace.as_deref().unwrap_or_default();
            refs(o)
                .into_iter()
                .any(|r| target(ons, r) == Some((ns, name)))
        })
        .map(|o| ObjectRef::from_obj(o.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_defaults_to_the_namespace_given() {
        let r = ObjectReference {
            name: Some("p".into()),
            ..ObjectReference::default()
        };
        assert_eq!(target("ns1", &r), Some(("ns1", "p")));
        let r = ObjectReference {
            name: Some("p".into()),
            namespace: Some("other".into()),
            ..ObjectReference::default()
        };
        assert_eq!(target("ns1", &r), Some(("other", "p")));
        assert_eq!(target("ns1", &ObjectReference::default()), None);
    }
}
