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

async fn drive<K, F, Fut>(ctx: Arc<Context>, reconcile: F)
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    F: FnMut(Arc<K>, Arc<Context>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Action>> + Send + 'static,
{
    let api: Api<K> = Api::all(ctx.client.clone());
    Controller::new(api, watcher::Config::default())
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "controller event");
            }
        })
        .await;
}

/// Run every controller until the returned future is dropped.
pub async fn run(ctx: Arc<Context>) {
    tokio::join!(
        drive::<Provider, _, _>(ctx.clone(), provider::reconcile),
        drive::<NetworkMap, _, _>(ctx.clone(), maps::reconcile_network),
        drive::<StorageMap, _, _>(ctx.clone(), maps::reconcile_storage),
        drive::<Plan, _, _>(ctx.clone(), plan::reconcile),
        drive::<Migration, _, _>(ctx.clone(), migration::reconcile),
        drive::<Host, _, _>(ctx.clone(), host::reconcile),
    );
}
