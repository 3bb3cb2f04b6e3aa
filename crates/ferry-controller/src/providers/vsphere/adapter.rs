//! The vSphere provider adapter. The Provider's conditions: check the URL and
//! Secret (`SecretNotValid`, `UrlNotValid`), test the connection
//! (`ConnectionTestSucceeded`, or `ConnectionAuthFailed` /
//! `ConnectionTestFailed` naming what to fix), record the server's
//! certificate thumbprint in `status.fingerprint`, flag
//! `insecureSkipVerify` (`ConnectionInsecure`), and register the vSphere
//! inventory collector. Connection tests are repeated at most once a minute
//! unless the URL or the Secret changed.
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_core::api::{Category, Condition, Provider, ProviderStatus};
use ferry_inventory::StoredResource;
use ferry_vsphere::Client;
use futures::future::BoxFuture;
use kube::ResourceExt;
use kube::runtime::controller::Action;
use serde_json::Value;

use super::client::{client_options, connect_error, failure_condition};
use super::{builder, checks, client, collector, session};
use crate::context::{ConnectionTest, Context};
use crate::migration::source::SourceVm;
use crate::provider::{ensure_registered, inventory_conditions, types};
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

/// How long a successful connection test is trusted.
const RETEST_AFTER: Duration = Duration::from_secs(60);

fn phase(status: &mut ProviderStatus, p: &str) {
    status.phase = Some(p.to_owned());
}

/// Assess a vSphere provider; returns when to look again.
async fn assess(provider: &Provider, ctx: &Arc<Context>, status: &mut ProviderStatus) -> Action {
    let (opts, secret_rv) =
        match access::validate(&ctx.client, provider, status, client_options, |o| {
            o.tls.insecure_skip_verify
        })
        .await
        {
            Ok(v) => v,
            Err(retry) => return retry,
        };

    let uid = provider.uid().unwrap_or_default();
    let key = format!("{}#{secret_rv}", opts.url);
    let test = connection_test(ctx, &uid, &key, &opts).await;
    match test.result {
        Ok(thumbprint) => {
            status.fingerprint = thumbprint;
            status.conditions.set(
                Condition::new(types::CONNECTION_TEST_SUCCEEDED, Category::Required)
                    .reason("Tested")
                    .message("Connection test, succeeded."),
            );
        }
        Err((kind, message, observed)) => {
            if observed.is_some() {
                status.fingerprint = observed;
            }
            status.conditions.set(
                Condition::new(kind, Category::Critical)
                    .reason("Tested")
                    .message(message),
            );
            phase(status, "ConnectionFailed");
            return Action::requeue(Duration::from_secs(15));
        }
    }

    let vsphere = move |_: &ferry_inventory::model::ProviderInfo| Ok(collector::collector(opts));
    if let Err(err) = ensure_registered(provider, ctx, &uid, &key, vsphere) {
        status.conditions.set(
            Condition::new(types::CONNECTION_TEST_FAILED, Category::Critical)
                .reason("Tested")
                .message(err),
        );
        phase(status, "ConnectionFailed");
        return Action::requeue(Duration::from_secs(30));
    }
    // The inventory's own connection errors say ConnectionTestFailed; the
    // test above already told the user which kind it is.
    inventory_conditions(ctx, &uid, status)
}

/// The last test when it is recent and for the same URL and Secret, else
/// a new one (a login and logout).
async fn connection_test(
    ctx: &Context,
    uid: &str,
    key: &str,
    opts: &ferry_vsphere::ClientOptions,
) -> ConnectionTest {
    let cached = ctx
        .connection_tests
        .lock()
        .ok()
        .and_then(|m| m.get(uid).cloned())
        .filter(|t| t.key == key && t.result.is_ok() && t.at.elapsed() < RETEST_AFTER);
    if let Some(t) = cached {
        return t;
    }
    let result = match Client::connect(opts).await {
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
    };
    let test = ConnectionTest {
        key: key.to_owned(),
        at: Instant::now(),
        result,
    };
    if let Ok(mut m) = ctx.connection_tests.lock() {
        m.insert(uid.to_owned(), test.clone());
    }
    test
}
