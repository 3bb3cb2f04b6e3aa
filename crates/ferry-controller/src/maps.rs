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

/// Reconcile a NetworkMap.
pub async fn reconcile_network(map: Arc<NetworkMap>, ctx: Arc<Context>) -> Result<Action> {
    let ns = map.namespace().unwrap_or_default();
    let mut status: MapStatus = map.status.clone().unwrap_or_default();
    status.conditions.begin_staging();
    status.references.clear();
    if let Some(uid) = check_providers(&ctx, &ns, &map.spec.provider, &mut status.conditions).await
    {
        let mut bad_source = Vec::new();
        let mut bad_dest = Vec::new();
        for (i, pair) in map.spec.map.iter().enumerate() {
            let r = pair.source.as_ref();
            match lookup::find(&ctx, &uid, "networks", &r)? {
                Some(found) => status.references.push(Ref {
                    id: Some(found.resource.id.clone()),
                    ..Ref::default()
                }),
                None => bad_source.push(format!("spec.map[{i}].source {}", r.display())),
            }
            let d = &pair.destination;
            if d.type_ == NetworkDestinationType::Multus
                && d.name.as_deref().unwrap_or("").is_empty()
            {
                bad_dest.push(format!(
                    "spec.map[{i}].destination: multus needs a NetworkAttachmentDefinition name"
                ));
            }
        }
        let conds = &mut status.conditions;
        if !bad_source.is_empty() {
            conds.set(
                Condition::new(types::SOURCE_NETWORK_NOT_VALID, Category::Critical)
                    .reason("NotFound")
                    .message("Source network not found in the provider inventory.")
                    .items(bad_source),
            );
        }
        if !bad_dest.is_empty() {
            conds.set(
                Condition::new(types::DESTINATION_NETWORK_NOT_VALID, Category::Critical)
                    .reason("NotValid")
                    .message("Destination network not valid.")
                    .items(bad_dest),
            );
        }
    }
    // Drop conditions that no longer hold before deciding Ready.
    status.conditions.end_staging();
    finish(&mut status.conditions);
    status.observed_generation = map.metadata.generation;
    if map.status.as_ref() != Some(&status) {
        patch_status(
            &Api::<NetworkMap>::namespaced(ctx.client.clone(), &ns),
            &map.name_any(),
            &body(&status),
        )
        .await?;
    }
    Ok(requeue(&status.conditions))
}

/// Reconcile a StorageMap.
pub async fn reconcile_storage(map: Arc<StorageMap>, ctx: Arc<Context>) -> Result<Action> {
    let ns = map.namespace().unwrap_or_default();
    let mut status: MapStatus = map.status.clone().unwrap_or_default();
    status.conditions.begin_staging();
    status.references.clear();
    if let Some(uid) = check_providers(&ctx, &ns, &map.spec.provider, &mut status.conditions).await
    {
        let mut bad_source = Vec::new();
        let mut bad_dest = Vec::new();
        for (i, pair) in map.spec.map.iter().enumerate() {
            match lookup::find(&ctx, &uid, "storages", &pair.source)? {
                Some(found) => status.references.push(Ref {
                    id: Some(found.resource.id.clone()),
                    ..Ref::default()
                }),
                None => bad_source.push(format!("spec.map[{i}].source {}", pair.source.display())),
            }
            if pair.destination.storage_class.is_empty() {
                bad_dest.push(format!("spec.map[{i}].destination.storageClass is empty"));
            }
        }
        let conds = &mut status.conditions;
        if !bad_source.is_empty() {
            conds.set(
                Condition::new(types::SOURCE_STORAGE_NOT_VALID, Category::Critical)
                    .reason("NotFound")
                    .message("Source storage not found in the provider inventory.")
                    .items(bad_source),
            );
        }
        if !bad_dest.is_empty() {
            conds.set(
                Condition::new(types::DESTINATION_STORAGE_NOT_VALID, Category::Critical)
                    .reason("NotValid")
                    .message("Destination storage not valid.")
                    .items(bad_dest),
            );
        }
    }
    // Drop conditions that no longer hold before deciding Ready.
    status.conditions.end_staging();
    finish(&mut status.conditions);
    status.observed_generation = map.metadata.generation;
    if map.status.as_ref() != Some(&status) {
        patch_status(
            &Api::<StorageMap>::namespaced(ctx.client.clone(), &ns),
            &map.name_any(),
            &body(&status),
        )
        .await?;
    }
    Ok(requeue(&status.conditions))
}
