//! A remote provider's assessment, the same for every type with a URL and
//! a Secret (vSphere, oVirt); the adapter gives only how to make its client
//! options, how to test a connection and its inventory collector.
//! Conditions: `SecretNotValid`, `UrlNotValid` or `Validated`;
//! `ConnectionInsecure` for `insecureSkipVerify`; `ConnectionTestSucceeded`
//! or the test's failure condition; then the inventory's. A successful test
//! is trusted for a minute unless the URL or the Secret changed.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_core::api::condition::types as cnd;
use ferry_core::api::{Category, Condition, Provider, ProviderStatus};
use ferry_inventory::collector::Collector;
use kube::ResourceExt;
use kube::runtime::controller::Action;

use crate::context::{ConnectionTest, Context};
use crate::provider::{ensure_registered, inventory_conditions, types};
use crate::providers::secret::read_secret;

/// Condition types of remote providers (vSphere, oVirt).
pub mod rtypes {
    #![allow(missing_docs)]
    pub const SECRET_NOT_VALID: &str = "SecretNotValid";
    pub const CONNECTION_INSECURE: &str = "ConnectionInsecure";
}

/// When a provider whose URL or Secret is wrong is looked at again.
const INVALID_RETRY: Duration = Duration::from_secs(10);
/// How long a successful connection test is trusted.
const RETEST_AFTER: Duration = Duration::from_secs(60);

/// A connection test's outcome: the server certificate's thumbprint (if
/// the type has one), or the condition type, the message and the
/// thumbprint observed.
pub type TestResult = Result<Option<String>, (String, String, Option<String>)>;

/// What the assessment needs of a type's client options.
pub trait RemoteOptions {
    /// The URL the client connects to.
    fn url(&self) -> &str;
    /// Whether TLS certificate verification is skipped.
    fn insecure(&self) -> bool;
}

/// Assess a remote provider; returns when to look again. `options` makes
/// the client options (naming `spec.url` at the start of a message about
/// the URL), `test` logs in and out, `collector` is the inventory collector
/// to register.
pub async fn assess<O: RemoteOptions>(
    provider: &Provider,
    ctx: &Arc<Context>,
    status: &mut ProviderStatus,
    options: impl FnOnce(&Provider, &BTreeMap<String, String>) -> Result<O, String>,
    test: impl AsyncFnOnce(&O) -> TestResult,
    collector: impl FnOnce(O) -> Arc<dyn Collector>,
) -> Action {
    let (opts, secret_rv) = match validate(&ctx.client, provider, status, options).await {
        Ok(v) => v,
        Err(retry) => return retry,
    };
    let uid = provider.uid().unwrap_or_default();
    let key = format!("{}#{secret_rv}", opts.url());
    let failed = |status: &mut ProviderStatus, t: &str, message: String| {
        status.conditions.set(
            Condition::new(t, Category::Critical)
                .reason("Tested")
                .message(message),
        );
        status.phase = Some("ConnectionFailed".to_owned());
    };
    match connection_test(ctx, &uid, &key, test(&opts)).await {
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
            failed(status, &kind, message);
            return Action::requeue(Duration::from_secs(15));
        }
    }
    let make = move |_: &ferry_inventory::model::ProviderInfo| Ok(collector(opts));
    if let Err(err) = ensure_registered(provider, ctx, &uid, &key, make) {
        failed(status, types::CONNECTION_TEST_FAILED, err);
        return Action::requeue(Duration::from_secs(30));
    }
    // The inventory's own connection errors say ConnectionTestFailed; the
    // test above already told the user which kind it is.
    inventory_conditions(ctx, &uid, status)
}

/// The last test's result when it succeeded recently with the same URL and
/// Secret (`key`), else `test`'s, remembered.
async fn connection_test(
    ctx: &Context,
    uid: &str,
    key: &str,
    test: impl Future<Output = TestResult>,
) -> TestResult {
    let cached = ctx
        .connection_tests
        .lock()
        .ok()
        .and_then(|m| m.get(uid).cloned())
        .filter(|t| t.key == key && t.result.is_ok() && t.at.elapsed() < RETEST_AFTER);
    if let Some(t) = cached {
        return t.result;
    }
    let result = test.await;
    if let Ok(mut m) = ctx.connection_tests.lock() {
        let test = ConnectionTest {
            key: key.to_owned(),
            at: Instant::now(),
            result: result.clone(),
        };
        m.insert(uid.to_owned(), test);
    }
    result
}

/// The client options `options` makes of the provider and its Secret, and
/// the Secret's resourceVersion; or, with the conditions set and the phase
/// `ValidationFailed`, when to look again. `options` names `spec.url` at the
/// start of a message about the URL.
async fn validate<O: RemoteOptions>(
    client: &kube::Client,
    provider: &Provider,
    status: &mut ProviderStatus,
    options: impl FnOnce(&Provider, &BTreeMap<String, String>) -> Result<O, String>,
) -> Result<(O, String), Action> {
    let refuse = |status: &mut ProviderStatus, t: &str, msg: String| {
        status.conditions.set(
            Condition::new(t, Category::Critical)
                .reason("NotValid")
                .message(msg),
        );
        status.phase = Some("ValidationFailed".to_owned());
        Action::requeue(INVALID_RETRY)
    };
    let (secret, secret_rv) = match read_secret(client, provider).await {
        Ok(s) => s,
        Err(msg) => return Err(refuse(status, rtypes::SECRET_NOT_VALID, msg)),
    };
    let opts = match options(provider, &secret) {
        Ok(o) => o,
        Err(msg) => {
            let t = if msg.starts_with("spec.url") {
                types::URL_NOT_VALID
            } else {
                rtypes::SECRET_NOT_VALID
            };
            return Err(refuse(status, t, msg));
        }
    };
    status.secret_resource_version = Some(secret_rv.clone()).filter(|s| !s.is_empty());
    status.conditions.set(
        Condition::new(cnd::VALIDATED, Category::Required)
            .reason("Completed")
            .message("Validation has been completed."),
    );
    if opts.insecure() {
        status.conditions.set(
            Condition::new(rtypes::CONNECTION_INSECURE, Category::Warn)
                .reason("SkipTLSVerification")
                .message("TLS is susceptible to machine-in-the-middle attacks when certificate verification is skipped (insecureSkipVerify)."),
        );
    }
    Ok((opts, secret_rv))
}
