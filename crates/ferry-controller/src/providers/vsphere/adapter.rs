//! The vSphere provider adapter. The Provider's conditions: check the URL and
//! Secret (`SecretNotValid`, `UrlNotValid`), test the connection
//! (`ConnectionTestSucceeded`, or `ConnectionAuthFailed` /
//! `ConnectionTestFailed` naming what to fix), record the server's
//! certificate thumbprint in `status.fingerprint`, flag
//! `insecureSkipVerify` (`ConnectionInsecure`), and register the vSphere
//! inventory collector. Connection tests are repeated at most once a minute
//! unless the URL or the Secret changed.
use std::sync::Arc;

use ferry_core::api::{Provider, ProviderStatus};
use ferry_inventory::StoredResource;
use ferry_vsphere::Client;
use futures::future::BoxFuture;
use kube::runtime::controller::Action;
use serde_json::Value;

use super::client::{client_options, connect_error, failure_condition};
use super::{builder, checks, client, collector, session};
use crate::context::Context;
use crate::migration::source::SourceVm;
use crate::providers::access;
use crate::providers::{Finding, SourceProvider, SourceSession};

/// The `vsphere` adapter.
#[derive(Debug, Clone, Copy)]
pub struct Vsphere;

impl SourceProvider for Vsphere {
    fn provider_type(&self) -> &'static str {
        "vsphere"
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
        "datastores"
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

    fn schedule_group(&self, vm: &Value) -> String {
        client::vm_host_id(vm).unwrap_or_default().to_owned()
    }

    fn open<'a>(
        &'a self,
        ctx: &'a Arc<Context>,
        provider: &'a Provider,
        found: &'a StoredResource,
        vm: &'a mut SourceVm,
    ) -> BoxFuture<'a, Result<Arc<dyn SourceSession>, String>> {
        Box::pin(async move {
            let vcenter = client::connect(ctx, provider).await?;
            let power = session::Vsphere {
                client: vcenter.clone(),
                vm: ferry_vsphere::MoRef::new("VirtualMachine", &found.resource.id),
            };
            // A transfer host that does not answer still leaves the power
            // control in the session (see `disks_readable`).
            let (transfer, host) =
                match client::transfer_client(ctx, provider, found, vcenter, vm).await {
                    Ok((client, host)) => (Ok(client), host),
                    Err(e) => (Err(e), None),
                };
            Ok(Arc::new(session::Session {
                power,
                transfer,
                host,
            }) as Arc<dyn SourceSession>)
        })
    }
}

/// Assess the provider (see [`access::assess`]); the connection test is
/// a login and logout.
async fn assess(provider: &Provider, ctx: &Arc<Context>, status: &mut ProviderStatus) -> Action {
    access::assess(
        provider,
        ctx,
        status,
        client_options,
        async |opts: &ferry_vsphere::ClientOptions| match Client::connect(opts).await {
            Ok(client) => {
                let thumbprint = client.thumbprint();
                if let Err(e) = client.logout().await {
                    tracing::debug!(error = %crate::error::chain(&e), "logout after the connection test failed");
                }
                Ok(thumbprint)
            }
            Err(e) => Err((
                failure_condition(e.kind()).to_owned(),
                connect_error(&e),
                e.observed_thumbprint().map(str::to_owned),
            )),
        },
        collector::collector,
    )
    .await
}
