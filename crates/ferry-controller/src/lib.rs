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
use kube::runtime::watcher;
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

/// Run `reconcile` for every object of kind `K` in `scope`.
async fn drive<K, F, Fut>(ctx: Arc<Context>, scope: &Scope, reconcile: F)
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    F: FnMut(Arc<K>, Arc<Context>) -> Fut + Send + 'static,
    F: Clone,
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    Fut: Future<Output = Result<Action>> + Send + 'static,
{
    let apis: Vec<Api<K>> = match scope {
        Scope::All => vec![Api::all(ctx.client.clone())],
        Scope::Namespaces(list) => list
            .iter()
            .map(|ns| Api::namespaced(ctx.client.clone(), ns))
            .collect(),
    };
    let controllers = apis.into_iter().map(|api| {
        Controller::new(api, watcher::Config::default())
            .run(reconcile.clone(), error_policy, ctx.clone())
            .for_each(|res| async move {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "controller event");
                }
            })
    });
    futures::future::join_all(controllers).await;
}

/// Which namespaces the controllers watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace.
    All,
    /// Only these (an empty list watches nothing).
    Namespaces(Vec<String>),
}

/// Run every controller on every namespace until the returned future is
/// dropped.
pub async fn run(ctx: Arc<Context>) {
    run_in(ctx, &Scope::All).await;
}

/// Run every controller on the namespaces of `scope` until the returned
/// future is dropped.
pub async fn run_in(ctx: Arc<Context>, scope: &Scope) {
    tokio::join!(
        drive::<Provider, _, _>(ctx.clone(), scope, provider::reconcile),
        drive::<NetworkMap, _, _>(ctx.clone(), scope, maps::reconcile_network),
        drive::<StorageMap, _, _>(ctx.clone(), scope, maps::reconcile_storage),
        drive::<Plan, _, _>(ctx.clone(), scope, plan::reconcile),
        drive::<Migration, _, _>(ctx.clone(), scope, migration::reconcile),
        drive::<Host, _, _>(ctx.clone(), scope, host::reconcile),
    );
}
