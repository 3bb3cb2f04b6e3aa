//! Reaching a vSphere provider: its Secret (`user`, `password`, optional
//! `thumbprint`, `cacert`/`ca.crt`, `insecureSkipVerify`) and URL become
//! [`ClientOptions`]; client errors become Forklift's provider conditions.
//! No secret value is ever put in a message. The SOAP client itself is
//! `ferry-vsphere`'s [`Client`].
use std::collections::BTreeMap;

use ferry_core::api::Provider;
use ferry_inventory::StoredResource;
use ferry_vsphere::{Client, ClientOptions, ErrorKind, Secret as Password, TlsOptions};
use kube::ResourceExt;

use crate::context::Context;
use crate::migration::source::{DiskLocation, SourceVm};
use crate::providers::secret::read_secret;

/// Log in to the provider's vCenter or ESXi with its Secret.
pub async fn connect(ctx: &Context, provider: &Provider) -> Result<Client, String> {
    let (secret, _) = read_secret(&ctx.client, provider).await?;
    let opts = client_options(provider, &secret)?;
    Client::connect(&opts).await.map_err(|e| connect_error(&e))
}

/// Where the disks of `vm` are read from: the ESXi host itself when a Ready
/// Host CR names the VM's host (then `vm`'s datastore paths switch to the
/// host's `ha-datacenter` if the host answers as ESXi), else vCenter.
/// Returns the client and, for a host, its label.
pub async fn transfer_client(
    ctx: &Context,
    provider: &Provider,
    found: &StoredResource,
    vcenter: Client,
    vm: &mut SourceVm,
) -> Result<(Client, Option<String>), String> {
    let host_id = vm_host_id(&found.resource.object).unwrap_or_default();
    let ns = provider.namespace().unwrap_or_default();
    let uid = provider.uid().unwrap_or_default();
    let Some(host) =
        crate::host::for_vm_host(ctx, &ns, &provider.name_any(), &uid, host_id).await?
    else {
        return Ok((vcenter, None));
    };
    let label = format!("Host/{} ({})", host.name_any(), host.spec.ip_address);
    let opts = crate::host::host_options(ctx, &host)
        .await
        .map_err(|(_, e)| format!("{label}: {e}"))?;
    let client = Client::connect(&opts)
        .await
        .map_err(|e| format!("{label}: {}", connect_error(&e)))?;
    if client.service_content().api_type == "HostAgent" {
        for d in &mut vm.disks {
            if let DiskLocation::Datastore { datacenter, .. } = &mut d.location {
                *datacenter = "ha-datacenter".to_owned();
            }
        }
    }
    Ok((client, Some(label)))
}

/// Client options from the provider's URL and Secret values.
pub fn client_options(
    provider: &Provider,
    secret: &BTreeMap<String, String>,
) -> Result<ClientOptions, String> {
    client_options_for(&provider.spec.url.clone().unwrap_or_default(), secret)
}

/// Client options for `url` from Secret values.
pub fn client_options_for(
    url: &str,
    secret: &BTreeMap<String, String>,
) -> Result<ClientOptions, String> {
    let url = url.to_owned();
    if !url.starts_with("https://") {
        return Err(format!(
            "spec.url {url:?} is not a vSphere SDK URL: use https://<vcenter or esxi host>/sdk"
        ));
    }
    let get = |k: &str| secret.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let user = get("user").ok_or("the Secret has no `user` key: add the vSphere user name")?;
    let password = secret
        .get("password")
        .filter(|s| !s.is_empty())
        .ok_or("the Secret has no `password` key: add the vSphere password")?;
    let insecure = match get("insecureSkipVerify") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err("the Secret's insecureSkipVerify must be \"true\" or \"false\"".into());
        }
    };
    let mut opts = ClientOptions::new(url, user, Password::new(password.clone()));
    opts.tls = TlsOptions {
        cacert_pem: get("ca.crt").or_else(|| get("cacert")).map(str::to_owned),
        insecure_skip_verify: insecure,
        thumbprint: get("thumbprint").map(str::to_owned),
    };
    if let Some(t) = &opts.tls.thumbprint {
        ferry_vsphere::parse_thumbprint(t).map_err(|e| {
            format!("the Secret's thumbprint is not a SHA-1 fingerprint (20 colon-separated hex bytes): {e}")
        })?;
    }
    Ok(opts)
}

/// The provider condition a connection error maps to: `ConnectionAuthFailed`
/// for credentials, `ConnectionTestFailed` for the rest.
pub fn failure_condition(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidLogin | ErrorKind::NotAuthenticated => "ConnectionAuthFailed",
        _ => "ConnectionTestFailed",
    }
}

/// The id of the ESXi host of an inventory VM: Forklift serves it as the
/// id (`"host": "host-21"`); the workload view expands it to an object.
pub fn vm_host_id(vm: &serde_json::Value) -> Option<&str> {
    let h = vm.get("host")?;
    h.as_str().or_else(|| h.get("id")?.as_str())
}

/// A connection error as one line with what to do about it.
pub fn connect_error(e: &ferry_vsphere::Error) -> String {
    format!("{} ({})", crate::error::chain(e), advice(e.kind()))
}

/// A sentence saying what to do about a connection error.
pub fn advice(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidLogin => "check the user and password in the provider's Secret",
        ErrorKind::NotAuthenticated => {
            "check that the user in the provider's Secret may log in and read the inventory"
        }
        ErrorKind::TlsUntrusted => {
            "add the server's CA certificate to the Secret as ca.crt, or set insecureSkipVerify: \"true\""
        }
        ErrorKind::ThumbprintMismatch => {
            "the server's certificate changed or the Secret's thumbprint is wrong; update the thumbprint"
        }
        ErrorKind::Connect | ErrorKind::Timeout => {
            "check spec.url and that the server is reachable from ferry"
        }
        _ => "check spec.url and the server",
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
    use ferry_core::api::{ProviderSpec, ProviderType};

    fn provider(url: &str) -> Provider {
        let mut p = Provider::new(
            "vc",
            ProviderSpec {
                type_: ProviderType::VSphere,
                url: Some(url.into()),
                ..ProviderSpec::default()
            },
        );
        p.metadata.namespace = Some("openshift-mtv".into());
        p
    }

    fn secret(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn options_from_secret() {
        let o = client_options(
            &provider("https://vc.example/sdk"),
            &secret(&[
                ("user", "admin"),
                ("password", "s3cret"),
                ("insecureSkipVerify", "true"),
                (
                    "thumbprint",
                    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(o.username, "admin");
        assert!(o.tls.insecure_skip_verify);
        assert!(o.tls.thumbprint.is_some());
        assert!(!format!("{o:?}").contains("s3cret"));
    }

    #[test]
    fn bad_secrets_say_what_to_fix_without_the_password() {
        let p = provider("https://vc.example/sdk");
        for (pairs, want) in [
            (vec![("password", "pw")], "no `user` key"),
            (vec![("user", "u")], "no `password` key"),
            (
                vec![
                    ("user", "u"),
                    ("password", "pw"),
                    ("insecureSkipVerify", "yes"),
                ],
                "insecureSkipVerify",
            ),
            (
                vec![("user", "u"), ("password", "pw"), ("thumbprint", "zz")],
                "thumbprint",
            ),
        ] {
            let err = client_options(&p, &secret(&pairs)).unwrap_err();
            assert!(err.contains(want), "{err}");
            assert!(!err.contains("pw"), "{err}");
        }
        let err = client_options(
            &provider("vc.example"),
            &secret(&[("user", "u"), ("password", "pw")]),
        )
        .unwrap_err();
        assert!(err.contains("https://"), "{err}");
    }
}
