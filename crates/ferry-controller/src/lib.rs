//! ferry-controller: the reconcilers of every kind ferry serves and the
//! migration runner, written against `kube::Client` so the same code runs on
//! the embedded API server (`ferry serve`, `ferry migrate`) and a cluster
//! (`ferry operator`).
//!
//! Provider → inventory registration and conditions; NetworkMap/StorageMap →
//! source references resolved against the inventory; Plan → Forklift's
//! validation conditions; Migration → one runner per Migration that walks
//! each VM through Forklift's phases and writes `Plan.status.migration`.
//!
//! Everything provider-specific is behind [`providers::SourceProvider`]:
//! one folder per source type (`providers/ova/`, `providers/vsphere/`,
//! each with `adapter`, `client`, `session`, `collector`, `builder` and
//! `checks`) and [`providers::registry`], which maps `spec.type` to its
//! adapter. The reconcilers and the migration runner never branch on a
//! provider type.
#![forbid(unsafe_code)]

pub mod cache;
pub mod context;
pub mod error;
pub mod host;
mod lookup;
pub mod maps;
pub mod migration;
pub mod plan;
pub mod provider;
pub mod providers;
pub mod status;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ferry_core::api::{Host, Migration, NetworkMap, Plan, Provider, StorageMap};
use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;

pub use context::{Context, Settings};
pub use error::{Error, Result};

fn error_policy<K>(obj: Arc<K>, err: &Error, _ctx: Arc<Context>) -> Action
where
    K: Resource<DynamicType = ()>,
{
    let name = obj.meta().name.clone().unwrap_or_default();
    tracing::warn!(kind = %K::kind(&()), %name, label = err.metric_label(), error = %error::chain(err), "reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

/// What a controller or a cache can watch.
pub trait Kind:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static
{
}
impl<K> Kind for K where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}

/// Wires a controller to the objects it depends on (see [`cache`]).
type Wire<K> = Box<dyn FnOnce(Controller<K>) -> Controller<K> + Send>;

async fn drive<K, F, Fut>(ctx: Arc<Context>, reconcile: F, wire: Wire<K>)
where
    K: Kind,
    F: FnMut(Arc<K>, Arc<Context>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Action>> + Send + 'static,
{
    let api: Api<K> = Api::all(ctx.client.clone());
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, cache::watch(api)).applied_objects();
    wire(Controller::for_stream(stream, reader))
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "controller event");
            }
        })
        .await;
}

/// No dependencies: the controller reacts to its own kind only.
fn alone<K: Kind>() -> Wire<K> {
    Box::new(|c| c)
}

/// Reconcile the `K`s whose `refs` name an object `trigger` delivers.
fn on_change<K: Kind, O: Kind>(
    c: Controller<K>,
    trigger: impl futures::Stream<Item = Arc<O>> + Send + 'static,
    refs: cache::Refs<K>,
) -> Controller<K> {
    let store = c.store();
    c.watches_shared_stream(trigger, move |o: Arc<O>| {
        let ns = o.meta().namespace.clone().unwrap_or_default();
        let name = o.meta().name.clone().unwrap_or_default();
        cache::referrers(&store, refs, &ns, &name)
    })
}

/// Run every controller until the returned future is dropped.
pub async fn run(ctx: Arc<Context>) {
    let mut pending = cache::Pending::new(&ctx.client);
    *ctx.caches.write().unwrap_or_else(|p| p.into_inner()) = Some(pending.caches());
    let plan_wire: Wire<Plan> = {
        let providers = pending.providers.subscribe();
        let network_maps = pending.network_maps.subscribe();
        let storage_maps = pending.storage_maps.subscribe();
        let hooks = pending.hooks.subscribe();
        Box::new(move |c| {
            let c = on_change(c, providers, plan::triggers::providers);
            let c = on_change(c, network_maps, plan::triggers::network_map);
            let c = on_change(c, storage_maps, plan::triggers::storage_map);
            on_change(c, hooks, plan::triggers::hooks)
        })
    };
    let network_wire: Wire<NetworkMap> = {
        let providers = pending.providers.subscribe();
        Box::new(move |c| on_change(c, providers, |m: &NetworkMap| m.spec.provider.refs()))
    };
    let storage_wire: Wire<StorageMap> = {
        let providers = pending.providers.subscribe();
        Box::new(move |c| on_change(c, providers, |m: &StorageMap| m.spec.provider.refs()))
    };
    let drivers = futures::future::join_all(pending.drivers());
    tokio::join!(
        drivers,
        drive::<Provider, _, _>(ctx.clone(), provider::reconcile, alone()),
        drive::<NetworkMap, _, _>(ctx.clone(), maps::reconcile_network, network_wire),
        drive::<StorageMap, _, _>(ctx.clone(), maps::reconcile_storage, storage_wire),
        drive::<Plan, _, _>(ctx.clone(), plan::reconcile, plan_wire),
        drive::<Migration, _, _>(ctx.clone(), migration::reconcile, alone()),
        drive::<Host, _, _>(ctx.clone(), host::reconcile, alone()),
    );
    *ctx.caches.write().unwrap_or_else(|p| p.into_inner()) = None;
}
