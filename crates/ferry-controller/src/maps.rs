//! NetworkMap and StorageMap reconcilers: every source reference must name a
//! network / storage of the source provider's inventory; destinations must
//! be well formed. Conditions: `SourceNetworkNotValid`,
//! `DestinationNetworkNotValid`, `SourceStorageNotValid`,
//! `DestinationStorageNotValid`, `Ready`.
use std::sync::Arc;
use std::time::Duration;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::mapping::NetworkDestinationType;
use ferry_core::api::{
    Category, Condition, Conditions, MapStatus, NetworkMap, ProviderPair, Ref, StorageMap,
};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use crate::context::Context;
use crate::error::Result;
use crate::lookup;
use crate::providers::registry;
use crate::status::patch_status;

/// Condition types of the maps.
pub mod types {
    #![allow(missing_docs)]
    pub const SOURCE_NETWORK_NOT_VALID: &str = "SourceNetworkNotValid";
    pub const DESTINATION_NETWORK_NOT_VALID: &str = "DestinationNetworkNotValid";
    pub const SOURCE_STORAGE_NOT_VALID: &str = "SourceStorageNotValid";
    pub const DESTINATION_STORAGE_NOT_VALID: &str = "DestinationStorageNotValid";
    pub const SOURCE_PROVIDER_NOT_VALID: &str = "SourceProviderNotValid";
    pub const DESTINATION_PROVIDER_NOT_VALID: &str = "DestinationProviderNotValid";
    pub const PROVIDER_NOT_READY: &str = "ProviderNotReady";
}

/// Check the provider pair; returns the source provider's inventory UID when
/// it is ready.
async fn check_providers(
    ctx: &Context,
    ns: &str,
    pair: &ProviderPair,
    conds: &mut Conditions,
) -> Option<String> {
    let source = lookup::provider(ctx, ns, &pair.source).await;
    let destination = lookup::provider(ctx, ns, &pair.destination).await;
    if destination.is_none() {
        conds.set(
            Condition::new(types::DESTINATION_PROVIDER_NOT_VALID, Category::Critical)
                .reason("NotFound")
                .message("The destination provider (spec.provider.destination) is not found."),
        );
    }
    match source {
        None => {
            conds.set(
                Condition::new(types::SOURCE_PROVIDER_NOT_VALID, Category::Critical)
                    .reason("NotFound")
                    .message("The source provider (spec.provider.source) is not found."),
            );
            None
        }
        Some(p) if registry::unsupported_source(&p).is_some() => {
            conds.set(
                Condition::new(types::SOURCE_PROVIDER_NOT_VALID, Category::Critical)
                    .reason(registry::NOT_SUPPORTED_REASON)
                    .message(registry::unsupported_source(&p).unwrap_or_default()),
            );
            None
        }
        Some(p) if !lookup::provider_ready(&p) => {
            conds.set(
                Condition::new(types::PROVIDER_NOT_READY, Category::Critical)
                    .reason("NotReady")
                    .message(format!(
                        "The source provider {} is not ready.",
                        p.name_any()
                    )),
            );
            None
        }
        Some(p) => Some(lookup::uid(&p)),
    }
}

fn finish(conds: &mut Conditions) {
    if !conds.has_blocker() {
        conds.set(
            Condition::new(cnd::READY, Category::Required)
                .reason("Completed")
                .message("The map is ready."),
        );
    }
}

/// The status as a merge patch: every field present, so a list that became
/// empty replaces the old one instead of being left out.
fn body(status: &MapStatus) -> serde_json::Value {
    serde_json::json!({
        "conditions": status.conditions,
        "references": status.references,
        "observedGeneration": status.observed_generation,
    })
}

fn requeue(conds: &Conditions) -> Action {
    Action::requeue(Duration::from_secs(if conds.is_ready() { 60 } else { 2 }))
}

/// What differs between the two kinds of map.
struct MapKind {
    /// Inventory collection the sources live in.
    collection: &'static str,
    source_invalid: (&'static str, &'static str),
    destination_invalid: (&'static str, &'static str),
}

const NETWORK: MapKind = MapKind {
    collection: "networks",
    source_invalid: (
        types::SOURCE_NETWORK_NOT_VALID,
        "Source network not found in the provider inventory.",
    ),
    destination_invalid: (
        types::DESTINATION_NETWORK_NOT_VALID,
        "Destination network not valid.",
    ),
};

const STORAGE: MapKind = MapKind {
    collection: "storages",
    source_invalid: (
        types::SOURCE_STORAGE_NOT_VALID,
        "Source storage not found in the provider inventory.",
    ),
    destination_invalid: (
        types::DESTINATION_STORAGE_NOT_VALID,
        "Destination storage not valid.",
    ),
};

/// One map entry: its source reference and, when the destination is not
/// usable, why.
type Entry = (Ref, Option<String>);

/// Validate a map's entries and write its status when it changed.
async fn reconcile_map<K>(
    map: &K,
    current: Option<&MapStatus>,
    spec_provider: &ProviderPair,
    entries: Vec<Entry>,
    kind: &MapKind,
    ctx: &Context,
) -> Result<Action>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let ns = map.namespace().unwrap_or_default();
    let mut status = current.cloned().unwrap_or_default();
    status.conditions.begin_staging();
    status.references.clear();
    if let Some(uid) = check_providers(ctx, &ns, spec_provider, &mut status.conditions).await {
        let mut bad_source = Vec::new();
        let mut bad_dest = Vec::new();
        for (i, (source, dest_problem)) in entries.iter().enumerate() {
            let collection = if kind.collection == "storages" {
                lookup::storage_collection(ctx, &uid)
            } else {
                kind.collection
            };
            match lookup::find(ctx, &uid, collection, source)? {
                Some(found) => status.references.push(Ref {
                    id: Some(found.resource.id.clone()),
                    ..Ref::default()
                }),
                None => bad_source.push(format!("spec.map[{i}].source {}", source.display())),
            }
            if let Some(problem) = dest_problem {
                bad_dest.push(format!("spec.map[{i}].destination: {problem}"));
            }
        }
        for ((type_, message), items, reason) in [
            (kind.source_invalid, bad_source, "NotFound"),
            (kind.destination_invalid, bad_dest, "NotValid"),
        ] {
            if !items.is_empty() {
                status.conditions.set(
                    Condition::new(type_, Category::Critical)
                        .reason(reason)
                        .message(message)
                        .items(items),
                );
            }
        }
    }
    // Drop conditions that no longer hold before deciding Ready.
    status.conditions.end_staging();
    finish(&mut status.conditions);
    crate::status::keep_transition_times(current.map(|s| &s.conditions), &mut status.conditions);
    status.observed_generation = map.meta().generation;
    if current != Some(&status) {
        patch_status(
            &Api::<K>::namespaced(ctx.client.clone(), &ns),
            &map.name_any(),
            &body(&status),
        )
        .await?;
    }
    Ok(requeue(&status.conditions))
}

/// Reconcile a NetworkMap.
pub async fn reconcile_network(map: Arc<NetworkMap>, ctx: Arc<Context>) -> Result<Action> {
    let entries = map
        .spec
        .map
        .iter()
        .map(|pair| {
            let d = &pair.destination;
            let problem = (d.type_ == NetworkDestinationType::Multus
                && d.name.as_deref().unwrap_or("").is_empty())
            .then(|| "multus needs a NetworkAttachmentDefinition name".to_owned());
            (pair.source.as_ref(), problem)
        })
        .collect();
    reconcile_map(
        map.as_ref(),
        map.status.as_ref(),
        &map.spec.provider,
        entries,
        &NETWORK,
        &ctx,
    )
    .await
}

/// Reconcile a StorageMap.
pub async fn reconcile_storage(map: Arc<StorageMap>, ctx: Arc<Context>) -> Result<Action> {
    let entries = map
        .spec
        .map
        .iter()
        .map(|pair| {
            let problem = pair
                .destination
                .storage_class
                .is_empty()
                .then(|| "storageClass is empty".to_owned());
            (pair.source.clone(), problem)
        })
        .collect();
    reconcile_map(
        map.as_ref(),
        map.status.as_ref(),
        &map.spec.provider,
        entries,
        &STORAGE,
        &ctx,
    )
    .await
}
