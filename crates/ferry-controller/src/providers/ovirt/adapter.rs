//! The oVirt provider adapter. The Provider's conditions: check the URL and
//! Secret (`SecretNotValid`, `UrlNotValid`), test the connection with an
//! SSO login (`ConnectionTestSucceeded`, or `ConnectionAuthFailed` /
//! `ConnectionTestFailed` naming what to fix), flag `insecureSkipVerify`
//! (`ConnectionInsecure`), and register the oVirt inventory collector.
//! Connection tests are repeated at most once a minute unless the URL or
//! the Secret changed.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_core::api::{Category, Condition, Provider, ProviderStatus};
use ferry_inventory::StoredResource;
use ferry_ovirt::{Client, ImageioOptions};
use futures::future::BoxFuture;
use kube::ResourceExt;
use kube::runtime::controller::Action;
use serde_json::Value;

use super::client::{client_options, failure_condition};
use super::{builder, checks, client, collector, session};
use crate::context::{ConnectionTest, Context};
use crate::migration::source::SourceVm;
use crate::provider::{ensure_registered, inventory_conditions, types};
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

/// How long a successful connection test is trusted.
const RETEST_AFTER: Duration = Duration::from_secs(60);

fn phase(status: &mut ProviderStatus, p: &str) {
    status.phase = Some(p.to_owned());
}

/// Assess an oVirt provider; returns when to look again.
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
        Ok(_) => {
            status.conditions.set(
                Condition::new(types::CONNECTION_TEST_SUCCEEDED, Category::Required)
                    .reason("Tested")
                    .message("Connection test, succeeded."),
            );
        }
        Err((kind, message, _)) => {
            status.conditions.set(
                Condition::new(kind, Category::Critical)
                    .reason("Tested")
                    .message(message),
            );
            phase(status, "ConnectionFailed");
            return Action::requeue(Duration::from_secs(15));
        }
    }

    let ovirt = move |_: &ferry_inventory::model::ProviderInfo| Ok(collector::collector(opts));
    if let Err(err) = ensure_registered(provider, ctx, &uid, &key, ovirt) {
        status.conditions.set(
            Condition::new(types::CONNECTION_TEST_FAILED, Category::Critical)
                .reason("Tested")
                .message(err),
        );
        phase(status, "ConnectionFailed");
        return Action::requeue(Duration::from_secs(30));
    }
    inventory_conditions(ctx, &uid, status)
}

/// The last test when it is recent and for the same URL and Secret, else
/// a new one (an SSO login and logout).
async fn connection_test(
    ctx: &Context,
    uid: &str,
    key: &str,
    opts: &ferry_ovirt::ClientOptions,
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
