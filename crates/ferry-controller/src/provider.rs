//! The Provider reconciler: validates the spec, registers source providers
//! with the inventory (which collects and validates their VMs), and reports
//! Forklift's conditions and phase (`Staging`, `ValidationFailed`,
//! `ConnectionFailed`, `Ready`).
use std::sync::Arc;
use std::time::Duration;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::{Category, Condition, Provider, ProviderStatus, ProviderType};
use ferry_inventory::collector::Collector;
use ferry_inventory::model::ProviderInfo;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use crate::context::Context;
use crate::error::{Result, chain};
use crate::providers::registry;
use crate::status::patch_status;

/// Condition types of the Provider (reference §1).
pub mod types {
    #![allow(missing_docs)]
    pub const URL_NOT_VALID: &str = "UrlNotValid";
    pub const TYPE_NOT_SUPPORTED: &str = "ProviderTypeNotSupported";
    pub const CONNECTION_TEST_SUCCEEDED: &str = "ConnectionTestSucceeded";
    pub const CONNECTION_TEST_FAILED: &str = "ConnectionTestFailed";
    pub const INVENTORY_CREATED: &str = "InventoryCreated";
    pub const LOAD_INVENTORY: &str = "LoadInventory";
    pub const INVENTORY_ERROR: &str = "InventoryError";
}

/// Reconcile one Provider.
pub async fn reconcile(provider: Arc<Provider>, ctx: Arc<Context>) -> Result<Action> {
    let ns = provider.namespace().unwrap_or_default();
    let name = provider.name_any();
    let api: Api<Provider> = Api::namespaced(ctx.client.clone(), &ns);
    let mut status = provider.status.clone().unwrap_or_default();
    status.conditions.begin_staging();
    let requeue = if is_local_cluster(&provider) {
        local_cluster(&mut status)
    } else {
        match registry::source(provider.spec.type_.as_str()) {
            Ok(adapter) => adapter.assess(&provider, &ctx, &mut status).await,
            Err(err) => not_supported(&mut status, &err),
        }
    };
    status.conditions.end_staging();
    status.observed_generation = provider.metadata.generation;
    if provider.status.as_ref() != Some(&status) {
        patch_status(&api, &name, &status).await?;
    }
    Ok(requeue)
}

/// The local cluster (an `openshift` provider without a URL, the `host`
/// provider): the destination, always reachable here.
fn is_local_cluster(provider: &Provider) -> bool {
    provider.spec.type_ == ProviderType::OpenShift
        && provider.spec.url.as_deref().unwrap_or_default().is_empty()
}

fn local_cluster(status: &mut ProviderStatus) -> Action {
    let conds = &mut status.conditions;
    conds.set(
        Condition::new(cnd::VALIDATED, Category::Required)
            .reason("Completed")
            .message("Validation has been completed."),
    );
    conds.set(
        Condition::new(types::CONNECTION_TEST_SUCCEEDED, Category::Required)
            .reason("Tested")
            .message("Connection test, succeeded."),
    );
    conds.set(
        Condition::new(types::INVENTORY_CREATED, Category::Required)
            .reason("Completed")
            .message("The inventory has been loaded."),
    );
    conds.set(
        Condition::new(cnd::READY, Category::Required)
            .reason("Completed")
            .message("The provider is ready."),
    );
    status.phase = Some("Ready".to_owned());
    Action::requeue(Duration::from_secs(300))
}

/// A type no adapter serves: `ProviderTypeNotSupported` and nothing else
/// (no URL check, no connection test, no inventory).
fn not_supported(status: &mut ProviderStatus, err: &registry::NotSupported) -> Action {
    status.conditions.set(
        Condition::new(types::TYPE_NOT_SUPPORTED, Category::Critical)
            .reason("NotSupported")
            .message(err.to_string()),
    );
    status.phase = Some("ValidationFailed".to_owned());
    Action::requeue(Duration::from_secs(300))
}

/// Conditions from the provider's inventory state (common to every source
/// type once it is registered); returns when to look again.
pub(crate) fn inventory_conditions(
    ctx: &Context,
    uid: &str,
    status: &mut ProviderStatus,
) -> Action {
    let settle = |status: &mut ProviderStatus, phase: &str| {
        status.phase = Some(phase.to_owned());
    };
    let Some(state) = ctx.inventory.provider_state(uid) else {
        settle(status, "Staging");
        return Action::requeue(Duration::from_secs(1));
    };
    if let Some(failure) = &state.failure {
        let kind = failure.reason.condition_type();
        status.conditions.set(
            Condition::new(kind, Category::Critical)
                .reason("Tested")
                .message(failure.message.clone()),
        );
        settle(status, "ConnectionFailed");
        return Action::requeue(Duration::from_secs(10));
    }
    if !state.inventory_created {
        status.conditions.set(
            Condition::new(types::LOAD_INVENTORY, Category::Advisory)
                .reason("Started")
                .message("Loading the inventory."),
        );
        settle(status, "Staging");
        return Action::requeue(Duration::from_millis(500));
    }
    status.conditions.set(
        Condition::new(types::CONNECTION_TEST_SUCCEEDED, Category::Required)
            .reason("Tested")
            .message("Connection test, succeeded."),
    );
    status.conditions.set(
        Condition::new(types::INVENTORY_CREATED, Category::Required)
            .reason("Completed")
            .message("The inventory has been loaded."),
    );
    if !state.pending.is_empty() {
        // Ready (what is collected can be used), but not settled: a plan
        // naming a VM from a package still being copied waits for it.
        status.conditions.set(
            Condition::new(types::LOAD_INVENTORY, Category::Advisory)
                .reason("Pending")
                .message(format!(
                    "Waiting for {} package(s) still being written: {}",
                    state.pending.len(),
                    state.pending.join("; ")
                )),
        );
    }
    if let Some(err) = &state.validation_error {
        status.conditions.set(
            Condition::new(types::INVENTORY_ERROR, Category::Warn)
                .reason("ValidationFailed")
                .message(err.clone()),
        );
    }
    status.conditions.set(
        Condition::new(cnd::READY, Category::Required)
            .reason("Completed")
            .message("The provider is ready."),
    );
    settle(status, "Ready");
    if state.pending.is_empty() {
        Action::requeue(Duration::from_secs(60))
    } else {
        Action::requeue(Duration::from_secs(2))
    }
}

/// Register the provider with the inventory (or re-register when `key`
/// changed: its URL, for a vSphere provider also its Secret). Errors are
/// user-facing messages.
pub(crate) fn ensure_registered(
    provider: &Provider,
    ctx: &Context,
    uid: &str,
    key: &str,
    collector: impl FnOnce(&ProviderInfo) -> std::result::Result<Arc<dyn Collector>, String>,
) -> std::result::Result<(), String> {
    let url = provider.spec.url.clone().unwrap_or_default();
    let registered = ctx
        .registrations
        .lock()
        .map_err(|_| "the registrations lock is poisoned".to_owned())?
        .get(uid)
        .cloned();
    if registered.as_deref() == Some(key) && ctx.inventory.provider_info(uid).is_some() {
        return Ok(());
    }
    let info = ProviderInfo {
        uid: uid.to_owned(),
        namespace: provider.namespace().unwrap_or_default(),
        name: provider.name_any(),
        provider_type: provider.spec.type_.as_str().to_owned(),
        url,
        resource_version: provider.resource_version().unwrap_or_default(),
        object: serde_json::to_value(provider).unwrap_or(serde_json::Value::Null),
    };
    let collector = collector(&info)?;
    ctx.inventory
        .add_provider(info, collector)
        .map_err(|e| chain(&e))?;
    ctx.registrations
        .lock()
        .map_err(|_| "the registrations lock is poisoned".to_owned())?
        .insert(uid.to_owned(), key.to_owned());
    Ok(())
}

/// Forget a deleted provider's inventory.
pub fn forget(ctx: &Context, provider: &Provider) {
    if let Some(uid) = provider.uid()
        && let Ok(mut r) = ctx.registrations.lock()
    {
        r.remove(&uid);
    }
    if let Some(uid) = provider.uid()
        && let Err(err) = ctx.inventory.remove_provider(&uid)
    {
        tracing::warn!(provider = %provider.name_any(), error = %chain(&err), "cannot remove the provider's inventory");
    }
}
