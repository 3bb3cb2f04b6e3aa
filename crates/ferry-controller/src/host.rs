//! The Host reconciler: an ESXi host of a vSphere provider that disks are
//! read from directly (its `ipAddress`) instead of through vCenter.
//! Conditions as Forklift's: `RefNotValid` (provider or host not found),
//! `TypeNotValid` (not a vSphere provider), `IpNotValid`, `SecretNotValid`,
//! `ConnectionTestSucceeded` / `ConnectionTestFailed`, `InMaintenance`,
//! then `Ready`.
//!
//! ferry extension: the annotation `ferry.konveyor.io/sdk-port` sets the
//! HTTPS port of the host's SDK (default 443), for hosts behind port
//! forwarding and for tests against a simulator.
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::host::conditions as hc;
use ferry_core::api::{Category, Condition, Host, HostStatus, ProviderType, Ref};
use ferry_vsphere::{Client, ClientOptions};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use crate::context::Context;
use crate::error::{Result, chain};
use crate::lookup;
use crate::providers::secret::read_secret_ref;
use crate::providers::vsphere::client::{client_options_for, connect_error};
use crate::status::patch_status;

/// Annotation giving a non-standard SDK port.
pub const ANN_SDK_PORT: &str = "ferry.konveyor.io/sdk-port";

/// The SDK URL of a host: `https://<ip>[:port]/sdk`.
pub fn sdk_url(host: &Host) -> std::result::Result<String, String> {
    let ip: IpAddr = host.spec.ip_address.trim().parse().map_err(|_| {
        format!(
            "spec.ipAddress {:?} is not an IP address: give the ESXi host's management IP",
            host.spec.ip_address
        )
    })?;
    let ip = match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    match host.annotations().get(ANN_SDK_PORT) {
        None => Ok(format!("https://{ip}/sdk")),
        Some(p) => {
            let port: u16 = p
                .parse()
                .map_err(|_| format!("annotation {ANN_SDK_PORT} {p:?} is not a TCP port"))?;
            Ok(format!("https://{ip}:{port}/sdk"))
        }
    }
}

/// Client options of a host from its Secret.
pub async fn host_options(
    ctx: &Context,
    host: &Host,
) -> std::result::Result<ClientOptions, (&'static str, String)> {
    let url = sdk_url(host).map_err(|e| (hc::IP_NOT_VALID, e))?;
    let ns = host.namespace().unwrap_or_default();
    let (secret, _) = read_secret_ref(&ctx.client, &host.spec.secret, &ns)
        .await
        .map_err(|e| (hc::SECRET_NOT_VALID, e))?;
    client_options_for(&url, &secret).map_err(|e| (hc::SECRET_NOT_VALID, e))
}

/// Reconcile one Host.
pub async fn reconcile(host: Arc<Host>, ctx: Arc<Context>) -> Result<Action> {
    let ns = host.namespace().unwrap_or_default();
    let mut status = host.status.clone().unwrap_or_default();
    status.conditions.begin_staging();
    let action = assess(&host, &ctx, &mut status).await;
    status.conditions.end_staging();
    status.observed_generation = host.metadata.generation;
    if host.status.as_ref() != Some(&status) {
        patch_status(
            &Api::<Host>::namespaced(ctx.client.clone(), &ns),
            &host.name_any(),
            &status,
        )
        .await?;
    }
    Ok(action)
}

fn critical(status: &mut HostStatus, t: &str, msg: String) -> Action {
    status.conditions.set(
        Condition::new(t, Category::Critical)
            .reason("NotValid")
            .message(msg),
    );
    Action::requeue(Duration::from_secs(15))
}

async fn assess(host: &Host, ctx: &Context, status: &mut HostStatus) -> Action {
    let ns = host.namespace().unwrap_or_default();
    let Some(provider) = lookup::provider(ctx, &ns, &host.spec.provider).await else {
        return critical(
            status,
            hc::REF_NOT_VALID,
            "The provider (spec.provider) is not found.".into(),
        );
    };
    if provider.spec.type_ != ProviderType::VSphere {
        return critical(
            status,
            hc::TYPE_NOT_VALID,
            format!(
                "Provider {} is of type {}; hosts belong to vsphere providers.",
                provider.name_any(),
                provider.spec.type_.as_str()
            ),
        );
    }
    if !lookup::provider_ready(&provider) {
        // Transient: assessed again as soon as the provider is ready.
        status.conditions.set(
            Condition::new("ProviderNotReady", Category::Advisory)
                .reason("NotReady")
                .message(format!(
                    "The provider {} is not ready yet.",
                    provider.name_any()
                )),
        );
        return Action::requeue(Duration::from_secs(2));
    }
    let r = Ref {
        id: host.spec.id.clone(),
        name: host.spec.name.clone(),
        ..Ref::default()
    };
    let uid = lookup::uid(&provider);
    let found = match lookup::find(ctx, &uid, "hosts", &r) {
        Ok(Some(f)) => f,
        Ok(None) => {
            return critical(
                status,
                hc::REF_NOT_VALID,
                format!(
                    "Host {} is not in the inventory of provider {}.",
                    r.display(),
                    provider.name_any()
                ),
            );
        }
        Err(e) => return critical(status, hc::REF_NOT_VALID, chain(&e)),
    };
    let opts = match host_options(ctx, host).await {
        Ok(o) => o,
        Err((t, msg)) => return critical(status, t, msg),
    };
    status.conditions.set(
        Condition::new(cnd::VALIDATED, Category::Required)
            .reason("Completed")
            .message("Validation has been completed."),
    );
    if found
        .resource
        .object
        .get("inMaintenance")
        .and_then(|v| v.as_bool())
        == Some(true)
    {
        status.conditions.set(
            Condition::new(hc::IN_MAINTENANCE, Category::Warn)
                .reason("InMaintenance")
                .message("The host is in maintenance mode."),
        );
    }
    match Client::connect(&opts).await {
        Ok(c) => {
            let _ = c.logout().await;
            status.conditions.set(
                Condition::new(hc::CONNECTION_TEST_SUCCEEDED, Category::Required)
                    .reason("Tested")
                    .message("Connection test, succeeded."),
            );
        }
        Err(e) => {
            status.conditions.set(
                Condition::new(hc::CONNECTION_TEST_FAILED, Category::Critical)
                    .reason("Tested")
                    .message(connect_error(&e)),
            );
            return Action::requeue(Duration::from_secs(30));
        }
    }
    status.conditions.set(
        Condition::new(cnd::READY, Category::Required)
            .reason("Completed")
            .message("The host is ready."),
    );
    Action::requeue(Duration::from_secs(300))
}

/// The Host CR of provider `provider` (in `ns`) for the inventory host
/// `host_id`, if any. A Host that has not been assessed yet is waited for
/// (up to a minute); one that is not Ready is an error naming its
/// conditions, so disks are never read from an unintended endpoint.
pub async fn for_vm_host(
    ctx: &Context,
    ns: &str,
    provider: &str,
    uid: &str,
    host_id: &str,
) -> std::result::Result<Option<Host>, String> {
    let api = Api::<Host>::namespaced(ctx.client.clone(), ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let hosts = api
            .list(&Default::default())
            .await
            .map_err(|e| format!("listing Hosts in {ns}: {}", chain(&e)))?;
        let mine = hosts.items.into_iter().find(|h| {
            let r = Ref {
                id: h.spec.id.clone(),
                name: h.spec.name.clone(),
                ..Ref::default()
            };
            h.spec.provider.name.as_deref() == Some(provider)
                && lookup::find(ctx, uid, "hosts", &r)
                    .ok()
                    .flatten()
                    .is_some_and(|f| f.resource.id == host_id)
        });
        let Some(h) = mine else { return Ok(None) };
        let conds = h.status.as_ref().map(|s| &s.conditions);
        if conds.is_some_and(|c| c.is_ready()) {
            return Ok(Some(h));
        }
        let blocking: Vec<String> = conds
            .into_iter()
            .flat_map(|c| c.iter())
            .filter(|c| c.is_true() && c.category.as_str() == "Critical")
            .map(|c| format!("{}: {}", c.type_, c.message.clone().unwrap_or_default()))
            .collect();
        if !blocking.is_empty() || tokio::time::Instant::now() > deadline {
            return Err(format!(
                "Host {} for this VM's ESXi host is not ready ({}); fix or delete it",
                h.name_any(),
                if blocking.is_empty() {
                    "not assessed yet".to_owned()
                } else {
                    blocking.join("; ")
                }
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ferry_core::api::HostSpec;

    fn host(ip: &str, port: Option<&str>) -> Host {
        let mut h = Host::new(
            "esxi",
            HostSpec {
                ip_address: ip.into(),
                ..HostSpec::default()
            },
        );
        if let Some(p) = port {
            h.metadata.annotations = Some([(ANN_SDK_PORT.to_owned(), p.to_owned())].into());
        }
        h
    }

    #[test]
    fn sdk_urls() {
        assert_eq!(
            sdk_url(&host("10.0.0.5", None)).unwrap(),
            "https://10.0.0.5/sdk"
        );
        assert_eq!(
            sdk_url(&host("fe80::1", Some("8443"))).unwrap(),
            "https://[fe80::1]:8443/sdk"
        );
        assert!(
            sdk_url(&host("esxi-01", None))
                .unwrap_err()
                .contains("not an IP address")
        );
        assert!(
            sdk_url(&host("10.0.0.5", Some("http")))
                .unwrap_err()
                .contains("not a TCP port")
        );
    }
}
