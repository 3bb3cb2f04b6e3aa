//! Reaching an oVirt provider: its Secret (`user`, `password`, `cacert`,
//! `insecureSkipVerify`) and URL become [`ClientOptions`]; client errors
//! become Forklift's provider conditions. No secret value is ever put in
//! a message.
use std::collections::BTreeMap;

use ferry_core::api::Provider;
use ferry_ovirt::{Client, ClientOptions, ErrorKind, HttpOptions, Password, TlsOptions};

use crate::context::Context;
use crate::providers::secret::read_secret;

/// Log in to the provider's engine with its Secret.
pub async fn connect(ctx: &Context, provider: &Provider) -> Result<Client, String> {
    let (secret, _) = read_secret(&ctx.client, provider).await?;
    let opts = client_options(provider, &secret)?;
    Client::connect(&opts)
        .await
        .map_err(|e| crate::error::chain(&e))
}

/// Client options from the provider's URL and Secret values.
pub fn client_options(
    provider: &Provider,
    secret: &BTreeMap<String, String>,
) -> Result<ClientOptions, String> {
    let url = provider.spec.url.clone().unwrap_or_default();
    ferry_ovirt::engine_base(&url).map_err(|e| format!("spec.url: {e}"))?;
    let get = |k: &str| secret.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let user = get("user")
        .ok_or("the Secret has no `user` key: add the engine user, e.g. admin@internal")?;
    let password = secret
        .get("password")
        .filter(|s| !s.is_empty())
        .ok_or("the Secret has no `password` key: add the engine user's password")?;
    let insecure = match get("insecureSkipVerify") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err("the Secret's insecureSkipVerify must be \"true\" or \"false\"".into());
        }
    };
    let cacert = get("cacert").or_else(|| get("ca.crt")).map(str::to_owned);
    if cacert.is_none() && !insecure {
        return Err("the Secret has no `cacert` key: add the engine's CA certificate (PEM, from /ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA), or set insecureSkipVerify to \"true\"".into());
    }
    Ok(ClientOptions {
        url,
        username: user.to_owned(),
        password: Password::new(password.clone()),
        tls: TlsOptions {
            cacert_pem: cacert,
            insecure_skip_verify: insecure,
        },
        http: HttpOptions::default(),
    })
}

/// The provider condition a connection error maps to: `ConnectionAuthFailed`
/// for credentials, `ConnectionTestFailed` for the rest.
pub fn failure_condition(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Auth => "ConnectionAuthFailed",
        _ => "ConnectionTestFailed",
    }
}

impl crate::providers::access::RemoteOptions for ClientOptions {
    fn url(&self) -> &str {
        &self.url
    }

    fn insecure(&self) -> bool {
        self.tls.insecure_skip_verify
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn provider(url: &str) -> Provider {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider",
            "metadata": {"name": "rhv", "namespace": "ns"},
            "spec": {"type": "ovirt", "url": url, "secret": {"name": "s"}}
        }))
        .unwrap()
    }

    fn secret(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn secret_keys_become_options() {
        let p = provider("https://engine/ovirt-engine/api");
        let o = client_options(
            &p,
            &secret(&[
                ("user", "admin@internal"),
                ("password", "pw"),
                ("cacert", "PEM"),
            ]),
        )
        .unwrap();
        assert_eq!(o.username, "admin@internal");
        assert_eq!(o.tls.cacert_pem.as_deref(), Some("PEM"));
        assert!(!o.tls.insecure_skip_verify);
        let o = client_options(
            &p,
            &secret(&[
                ("user", "u"),
                ("password", "pw"),
                ("insecureSkipVerify", "true"),
            ]),
        )
        .unwrap();
        assert!(o.tls.insecure_skip_verify);
    }

    #[test]
    fn missing_keys_and_bad_urls_say_what_to_add() {
        let p = provider("https://engine/ovirt-engine/api");
        let err = client_options(&p, &secret(&[("password", "pw")])).unwrap_err();
        assert!(err.contains("`user`"), "{err}");
        let err = client_options(&p, &secret(&[("user", "u")])).unwrap_err();
        assert!(err.contains("`password`"), "{err}");
        let err =
            client_options(&p, &secret(&[("user", "u"), ("password", "secret-pw")])).unwrap_err();
        assert!(
            err.contains("cacert") && !err.contains("secret-pw"),
            "{err}"
        );
        let err = client_options(
            &p,
            &secret(&[
                ("user", "u"),
                ("password", "pw"),
                ("insecureSkipVerify", "yes"),
            ]),
        )
        .unwrap_err();
        assert!(err.contains("insecureSkipVerify"), "{err}");
        let err = client_options(
            &provider("http://engine/ovirt-engine/api"),
            &secret(&[("user", "u"), ("password", "pw"), ("cacert", "PEM")]),
        )
        .unwrap_err();
        assert!(err.starts_with("spec.url"), "{err}");
    }
}
