//! The OVA provider adapter: the Provider needs a `spec.url`
//! (`UrlNotValid`); registering its collector is the connection test (an
//! unusable path is `ConnectionTestFailed`); the rest of its conditions
//! come from the inventory.
use std::sync::Arc;
use std::time::Duration;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::{Category, Condition, Provider, ProviderStatus};
use ferry_inventory::StoredResource;
use futures::future::BoxFuture;
use kube::ResourceExt;
use kube::runtime::controller::Action;
use serde_json::Value;

use super::{builder, checks, client, collector, session};
use crate::context::Context;
use crate::migration::source::SourceVm;
use crate::provider::{ensure_registered, inventory_conditions, types};
use crate::providers::{Finding, SourceProvider, SourceSession};

/// The `ova` adapter.
#[derive(Debug, Clone, Copy)]
pub struct Ova;

impl SourceProvider for Ova {
    fn provider_type(&self) -> &'static str {
        "ova"
    }

    fn assess<'a>(
        &'a self,
        provider: &'a Provider,
        ctx: &'a Arc<Context>,
        status: &'a mut ProviderStatus,
    ) -> BoxFuture<'a, Action> {
        Box::pin(async move { assess(provider, ctx, status) })
    }

    fn storage_collection(&self) -> &'static str {
        "storages"
    }

    fn vm_storages(&self, ctx: &Context, uid: &str, _vm: &Value) -> Vec<String> {
        checks::vm_storages(ctx, uid)
    }

    fn vm_findings(&self, vm: &Value) -> Vec<Finding> {
        checks::vm_findings(vm)
    }

    fn source_vm(
        &self,
        _ctx: &Context,
        _uid: &str,
        found: &StoredResource,
    ) -> Result<SourceVm, String> {
        builder::source_vm(found)
    }

    fn schedule_group(&self, _vm: &Value) -> String {
        String::new()
    }

    fn open<'a>(
        &'a self,
        _ctx: &'a Arc<Context>,
        _provider: &'a Provider,
        _found: &'a StoredResource,
        _vm: &'a mut SourceVm,
    ) -> BoxFuture<'a, Result<Arc<dyn SourceSession>, String>> {
        Box::pin(async { Ok(Arc::new(session::Session) as Arc<dyn SourceSession>) })
    }
}

/// Compute conditions and phase; returns when to look again.
fn assess(provider: &Provider, ctx: &Context, status: &mut ProviderStatus) -> Action {
    let url = match client::url(provider.spec.url.as_deref()) {
        Ok(url) => url.to_owned(),
        Err(msg) => {
            status.conditions.set(
                Condition::new(types::URL_NOT_VALID, Category::Critical)
                    .reason("NotSet")
                    .message(msg),
            );
            status.phase = Some("ValidationFailed".to_owned());
            return Action::requeue(Duration::from_secs(300));
        }
    };
    status.conditions.set(
        Condition::new(cnd::VALIDATED, Category::Required)
            .reason("Completed")
            .message("Validation has been completed."),
    );

    let uid = provider.uid().unwrap_or_default();
    if let Err(err) = ensure_registered(provider, ctx, &uid, &url, collector::collector) {
        status.conditions.set(
            Condition::new(types::CONNECTION_TEST_FAILED, Category::Critical)
                .reason("Tested")
                .message(err),
        );
        status.phase = Some("ConnectionFailed".to_owned());
        return Action::requeue(Duration::from_secs(30));
    }
    inventory_conditions(ctx, &uid, status)
}
