//! The oVirt provider adapter. The Provider's conditions: check the URL and
//! Secret (`SecretNotValid`, `UrlNotValid`), test the connection with an
//! SSO login (`ConnectionTestSucceeded`, or `ConnectionAuthFailed` /
//! `ConnectionTestFailed` naming what to fix), flag `insecureSkipVerify`
//! (`ConnectionInsecure`), and register the oVirt inventory collector.
//! Connection tests are repeated at most once a minute unless the URL or
//! the Secret changed.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ferry_core::api::{Provider, ProviderStatus};
use ferry_inventory::StoredResource;
use ferry_ovirt::{Client, ImageioOptions};
use futures::future::BoxFuture;
use kube::runtime::controller::Action;
use serde_json::Value;

use super::client::{client_options, failure_condition};
use super::{builder, checks, client, collector, session};
use crate::context::Context;
use crate::migration::source::SourceVm;
use crate::providers::access;
use crate::providers::{Finding, SourceProvider, SourceSession};

/// The `ovirt` adapter.
#[derive(Debug, Clone, Copy)]
pub struct Ovirt;

impl SourceProvider for Ovirt {
    fn provider_type(&self) -> &'static str {
        "ovirt"
    }

    fn assess<'a>(
        &'a self,
        provider: &'a Provider,
        ctx: &'a Arc<Context>,
        status: &'a mut ProviderStatus,
    ) -> BoxFuture<'a, Action> {
        Box::pin(assess(provider, ctx, status))
    }

    fn storage_collection(&self) -> &'static str {
        "storagedomains"
    }

    fn vm_storages(&self, _ctx: &Context, _uid: &str, vm: &Value) -> Vec<String> {
        checks::vm_storages(vm)
    }

    fn vm_findings(&self, vm: &Value) -> Vec<Finding> {
        checks::vm_findings(vm)
    }

    fn source_vm(
        &self,
        ctx: &Context,
        uid: &str,
        found: &StoredResource,
    ) -> Result<SourceVm, String> {
        builder::source_vm(ctx, uid, found)
    }

    fn schedule_group(&self, _vm: &Value) -> String {
        String::new()
    }

    fn open<'a>(
        &'a self,
        ctx: &'a Arc<Context>,
        provider: &'a Provider,
        found: &'a StoredResource,
        _vm: &'a mut SourceVm,
    ) -> BoxFuture<'a, Result<Arc<dyn SourceSession>, String>> {
        Box::pin(async move {
            let client = client::connect(ctx, provider).await?;
            Ok(Arc::new(session::Session {
                client,
                vm: found.resource.id.clone(),
                vm_name: found.resource.name.clone(),
                rt: tokio::runtime::Handle::current(),
                transfers: Mutex::new(BTreeMap::new()),
                imageio: ImageioOptions::default(),
            }) as Arc<dyn SourceSession>)
        })
    }
}

/// Assess the provider (see [`access::assess`]); the connection test is
/// an SSO login and logout.
async fn assess(provider: &Provider, ctx: &Arc<Context>, status: &mut ProviderStatus) -> Action {
    access::assess(
        provider,
        ctx,
        status,
        client_options,
        async |opts: &ferry_ovirt::ClientOptions| match Client::connect(opts).await {
            Ok(client) => {
                if let Err(e) = client.logout().await {
                    tracing::debug!(error = %crate::error::chain(&e), "logout after the connection test failed");
                }
                Ok(None)
            }
            Err(e) => Err((
                failure_condition(e.kind()).to_owned(),
                crate::error::chain(&e),
                None,
            )),
        },
        collector::collector,
    )
    .await
}
