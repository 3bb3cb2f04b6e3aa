//! The `host` Provider of embedded mode. Forklift's operator creates the
//! local-cluster Provider `host` (type openshift, no URL) in its namespace,
//! and users' manifests name it without defining it. Embedded mode does the
//! same: at startup in Forklift's namespaces, and in any other namespace as
//! soon as a Plan, NetworkMap or StorageMap there names `host`.
use std::collections::BTreeSet;
use std::fmt::Debug;

use anyhow::Context as _;
use ferry_core::api::provider::HOST_PROVIDER_NAME;
use ferry_core::api::refs::ProviderPair;
use ferry_core::api::{NetworkMap, Plan, Provider, StorageMap};
use ferry_inventory::Inventory;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Forklift's operator namespaces (downstream MTV and upstream Forklift):
/// embedded mode creates `host` in both at startup.
pub const HOST_NAMESPACES: &[&str] = &["openshift-mtv", "konveyor-forklift"];

/// Create the `host` Provider in `ns` (and the namespace) unless it exists.
pub async fn ensure(client: &kube::Client, ns: &str) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if namespaces
        .get_opt(ns)
        .await
        .with_context(|| format!("cannot read namespace {ns}"))?
        .is_none()
    {
        let mut obj = Namespace::default();
        obj.metadata.name = Some(ns.to_owned());
        ignore_conflict(namespaces.create(&PostParams::default(), &obj).await)
            .with_context(|| format!("cannot create namespace {ns}"))?;
    }
    let providers: Api<Provider> = Api::namespaced(client.clone(), ns);
    if providers
        .get_opt(HOST_PROVIDER_NAME)
        .await
        .with_context(|| format!("cannot read Provider {ns}/{HOST_PROVIDER_NAME}"))?
        .is_some()
    {
        return Ok(());
    }
    ignore_conflict(
        providers
            .create(&PostParams::default(), &Provider::host(ns))
            .await,
    )
    .with_context(|| format!("cannot create the host Provider {ns}/{HOST_PROVIDER_NAME}"))
}

/// Someone else created it first: that is fine.
fn ignore_conflict<T>(r: kube::Result<T>) -> kube::Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// The namespaces of `host` references in `pair`, for an object in `ns`.
fn host_refs(ns: &str, pair: &ProviderPair) -> BTreeSet<String> {
    [&pair.source, &pair.destination]
        .into_iter()
        .filter(|r| r.name.as_deref() == Some(HOST_PROVIDER_NAME))
        .map(|r| {
            r.namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| ns.to_owned())
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// The namespaces where the manifests `docs` name `host` as a provider
/// (`spec.provider.source`/`destination` of a Plan, NetworkMap or
/// StorageMap), so `ferry migrate` can create it before it applies them.
pub fn namespaces_in(docs: &[(String, Value)]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, d) in docs {
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or_default();
        if !matches!(kind, "Plan" | "NetworkMap" | "StorageMap") {
            continue;
        }
        let ns = d
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        if let Some(pair) = d
            .pointer("/spec/provider")
            .and_then(|p| serde_json::from_value::<ProviderPair>(p.clone()).ok())
        {
            out.extend(host_refs(ns, &pair));
        }
    }
    out
}

/// Create `host` in Forklift's namespaces ([`HOST_NAMESPACES`]).
pub async fn run_startup(client: &kube::Client) {
    for ns in HOST_NAMESPACES {
        if let Err(e) = ensure(client, ns).await {
            tracing::warn!(error = %format!("{e:#}"), "cannot create the host Provider");
        }
    }
}

/// Watch Plans and maps and create `host` wherever one names it, and
/// register every `host` Provider's inventory (the local destination's
/// namespaces). Runs until dropped.
pub async fn run(client: kube::Client, inventory: Inventory) {
    tokio::join!(
        watch::<Plan>(client.clone(), |p| &p.spec.provider),
        watch::<NetworkMap>(client.clone(), |m| &m.spec.provider),
        watch::<StorageMap>(client.clone(), |m| &m.spec.provider),
        register_inventories(client.clone(), inventory),
    );
}

async fn register_inventories(client: kube::Client, inventory: Inventory) {
    let api: Api<Provider> = Api::all(client.clone());
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .boxed();
    while let Some(event) = events.next().await {
        match event {
            Ok(p) if p.is_host() => {
                if let Err(e) = super::host_inventory::register(&inventory, &client, &p) {
                    tracing::warn!(provider = %p.name_any(), error = %format!("{e:#}"), "cannot register the host Provider's inventory");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "host Provider inventory watch"),
        }
    }
}

async fn watch<K>(client: kube::Client, pair: fn(&K) -> &ProviderPair)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let api: Api<K> = Api::all(client.clone());
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .boxed();
    while let Some(event) = events.next().await {
        let obj = match event {
            Ok(obj) => obj,
            Err(e) => {
                tracing::debug!(error = %e, "host Provider watch");
                continue;
            }
        };
        let ns = obj.namespace().unwrap_or_default();
        for target in host_refs(&ns, pair(&obj)) {
            if let Err(e) = ensure(&client, &target).await {
                tracing::warn!(error = %format!("{e:#}"), "cannot create the host Provider");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_namespaces_come_from_plans_and_maps_naming_host() {
        let docs = vec![
            (
                "a".to_owned(),
                json!({"kind": "Plan", "metadata": {"name": "p", "namespace": "team-a"},
                       "spec": {"provider": {"source": {"name": "ova"},
                                             "destination": {"name": "host"}}}}),
            ),
            (
                "b".to_owned(),
                json!({"kind": "NetworkMap", "metadata": {"name": "n", "namespace": "team-a"},
                       "spec": {"provider": {"source": {"name": "ova"},
                                             "destination": {"name": "host", "namespace": "team-b"}}}}),
            ),
            (
                "c".to_owned(),
                json!({"kind": "Plan", "metadata": {"name": "q", "namespace": "team-c"},
                       "spec": {"provider": {"source": {"name": "ova"},
                                             "destination": {"name": "remote"}}}}),
            ),
            (
                "d".to_owned(),
                json!({"kind": "Provider", "metadata": {"name": "host", "namespace": "team-d"},
                       "spec": {"type": "openshift"}}),
            ),
        ];
        let got: Vec<String> = namespaces_in(&docs).into_iter().collect();
        assert_eq!(got, ["team-a", "team-b"]);
    }
}
