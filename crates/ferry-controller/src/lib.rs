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

/// A stream of changed objects that triggers reconciles.
type Trigger<O> = futures::stream::BoxStream<'static, Arc<O>>;

/// Run `reconcile` for the objects of each `Api`, each with its wiring.
async fn drive<K, F, Fut>(ctx: Arc<Context>, reconcile: F, apis: Vec<(Api<K>, Wire<K>)>)
where
    K: Kind,
    F: FnMut(Arc<K>, Arc<Context>) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = Result<Action>> + Send + 'static,
{
    let controllers = apis.into_iter().map(|(api, wire)| {
        let (reader, writer) = reflector::store();
        let stream = reflector::reflector(writer, cache::watch(api)).applied_objects();
        wire(Controller::for_stream(stream, reader))
            .run(reconcile.clone(), error_policy, ctx.clone())
            .for_each(|res| async move {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "controller event");
                }
            })
    });
    futures::future::join_all(controllers).await;
}

/// No dependencies: the controller reacts to its own kind only.
fn alone<K: Kind>() -> Wire<K> {
    Box::new(|c| c)
}

/// Reconcile the `K`s whose `refs` name an object `trigger` delivers.
fn on_change<K: Kind, O: Kind>(
    c: Controller<K>,
    trigger: Trigger<O>,
    refs: cache::Refs<K>,
) -> Controller<K> {
    let store = c.store();
    c.watches_shared_stream(trigger, move |o: Arc<O>| {
        let ns = o.meta().namespace.clone().unwrap_or_default();
        let name = o.meta().name.clone().unwrap_or_default();
        cache::referrers(&store, refs, &ns, &name)
    })
}

/// Which namespaces the controllers watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace.
    All,
    /// Only these (an empty list watches nothing).
    Namespaces(Vec<String>),
}

/// Where the triggers of one controller come from: the shared caches (every
/// namespace), or a watch of one namespace.
enum Triggers<'a> {
    Shared(&'a mut cache::Pending),
    Namespace(&'a kube::Client, &'a str),
}

impl Triggers<'_> {
    fn of<O>(&mut self, shared: fn(&mut cache::Pending) -> &mut cache::Reflected<O>) -> Trigger<O>
    where
        O: Kind + Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    {
        match self {
            Triggers::Shared(p) => shared(p).subscribe().boxed(),
            Triggers::Namespace(client, ns) => {
                cache::watch(Api::<O>::namespaced((*client).clone(), ns))
                    .touched_objects()
                    .filter_map(|r| futures::future::ready(r.ok().map(Arc::new)))
                    .boxed()
            }
        }
    }

    fn plans(&mut self) -> Wire<Plan> {
        let providers = self.of(|p| &mut p.providers);
        let network_maps = self.of(|p| &mut p.network_maps);
        let storage_maps = self.of(|p| &mut p.storage_maps);
        let hooks = self.of(|p| &mut p.hooks);
        Box::new(move |c| {
            let c = on_change(c, providers, plan::triggers::providers);
            let c = on_change(c, network_maps, plan::triggers::network_map);
            let c = on_change(c, storage_maps, plan::triggers::storage_map);
            on_change(c, hooks, plan::triggers::hooks)
        })
    }

    fn network_maps(&mut self) -> Wire<NetworkMap> {
        let providers = self.of(|p| &mut p.providers);
        Box::new(move |c| on_change(c, providers, |m: &NetworkMap| m.spec.provider.refs()))
    }

    fn storage_maps(&mut self) -> Wire<StorageMap> {
        let providers = self.of(|p| &mut p.providers);
        Box::new(move |c| on_change(c, providers, |m: &StorageMap| m.spec.provider.refs()))
    }
}

/// Run every controller on every namespace until the returned future is
/// dropped.
pub async fn run(ctx: Arc<Context>) {
    run_in(ctx, &Scope::All).await;
}

/// Run every controller on the namespaces of `scope` until the returned
/// future is dropped. With every namespace, lookups read informer caches;
/// with a list, they ask the API server (a cache per namespace would hold
/// the same objects as the API server's answers, for no gain here).
pub async fn run_in(ctx: Arc<Context>, scope: &Scope) {
    let client = ctx.client.clone();
    let mut pending = None;
    type Apis<K> = Vec<(Api<K>, Wire<K>)>;
    let mut providers: Apis<Provider> = Vec::new();
    let mut network_maps: Apis<NetworkMap> = Vec::new();
    let mut storage_maps: Apis<StorageMap> = Vec::new();
    let mut plans: Apis<Plan> = Vec::new();
    let mut migrations: Apis<Migration> = Vec::new();
    let mut hosts: Apis<Host> = Vec::new();
    match scope {
        Scope::All => {
            let mut p = cache::Pending::new(&client);
            *ctx.caches.write().unwrap_or_else(|e| e.into_inner()) = Some(p.caches());
            let mut t = Triggers::Shared(&mut p);
            providers.push((Api::all(client.clone()), alone()));
            network_maps.push((Api::all(client.clone()), t.network_maps()));
            storage_maps.push((Api::all(client.clone()), t.storage_maps()));
            plans.push((Api::all(client.clone()), t.plans()));
            migrations.push((Api::all(client.clone()), alone()));
            hosts.push((Api::all(client.clone()), alone()));
            pending = Some(p);
        }
        Scope::Namespaces(list) => {
            for ns in list {
                let mut t = Triggers::Namespace(&client, ns);
                providers.push((Api::namespaced(client.clone(), ns), alone()));
                network_maps.push((Api::namespaced(client.clone(), ns), t.network_maps()));
                storage_maps.push((Api::namespaced(client.clone(), ns), t.storage_maps()));
                plans.push((Api::namespaced(client.clone(), ns), t.plans()));
                migrations.push((Api::namespaced(client.clone(), ns), alone()));
                hosts.push((Api::namespaced(client.clone(), ns), alone()));
            }
        }
    }
    let drivers =
        futures::future::join_all(pending.as_mut().map(|p| p.drivers()).unwrap_or_default());
    tokio::join!(
        drivers,
        drive(ctx.clone(), provider::reconcile, providers),
        drive(ctx.clone(), maps::reconcile_network, network_maps),
        drive(ctx.clone(), maps::reconcile_storage, storage_maps),
        drive(ctx.clone(), plan::reconcile, plans),
        drive(ctx.clone(), migration::reconcile, migrations),
        drive(ctx.clone(), host::reconcile, hosts),
    );
    *ctx.caches.write().unwrap_or_else(|e| e.into_inner()) = None;
}
