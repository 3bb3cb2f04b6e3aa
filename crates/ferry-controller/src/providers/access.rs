//! The first part of a remote provider's assessment, the same for every
//! type with a URL and a Secret (vSphere, oVirt): read the Secret, make the
//! client options from it and `spec.url`, and set the conditions that say
//! what is wrong (`SecretNotValid`, `UrlNotValid`), or `Validated` and, for
//! `insecureSkipVerify`, `ConnectionInsecure`.
use std::collections::BTreeMap;
use std::time::Duration;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::{Category, Condition, Provider, ProviderStatus};
use kube::runtime::controller::Action;

use crate::provider::types;
use crate::providers::secret::read_secret;

/// Condition types of remote providers (vSphere, oVirt).
pub mod rtypes {
    #![allow(missing_docs)]
    pub const SECRET_NOT_VALID: &str = "SecretNotValid";
    pub const CONNECTION_INSECURE: &str = "ConnectionInsecure";
}

/// When a provider whose URL or Secret is wrong is looked at again.
const INVALID_RETRY: Duration = Duration::from_secs(10);

/// The client options `options` makes of the provider and its Secret, and
/// the Secret's resourceVersion; or, with the conditions set and the phase
/// `ValidationFailed`, when to look again. `options` names `spec.url` at the
/// start of a message about the URL.
pub async fn validate<O>(
    client: &kube::Client,
    provider: &Provider,
    status: &mut ProviderStatus,
    options: impl FnOnce(&Provider, &BTreeMap<String, String>) -> Result<O, String>,
    insecure: impl FnOnce(&O) -> bool,
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
    if insecure(&opts) {
        status.conditions.set(
            Condition::new(rtypes::CONNECTION_INSECURE, Category::Warn)
                .reason("SkipTLSVerification")
                .message("TLS is susceptible to machine-in-the-middle attacks when certificate verification is skipped (insecureSkipVerify)."),
        );
    }
    Ok((opts, secret_rv))
}
