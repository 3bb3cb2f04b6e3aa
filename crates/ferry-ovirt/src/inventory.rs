//! The oVirt inventory collector: logs in, reads every object the
//! inventory serves, and shapes them with `ferry_inventory::ovirt`. Each
//! collection is a fresh login and a full read (the engine has no change
//! feed ferry follows yet); the token is revoked afterwards.
use std::collections::BTreeMap;

use ferry_inventory::collector::{BoxFuture, Collector};
use ferry_inventory::ovirt::{Collected, OVIRT, snapshot};
use ferry_inventory::{Error as InvError, ErrorKind as InvKind, Snapshot};
use serde::Serialize;
use serde_json::Value;

use crate::{Client, ClientOptions, Error, ErrorKind};

/// Collects one engine's inventory.
#[derive(Debug)]
pub struct OvirtCollector {
    opts: ClientOptions,
}

impl OvirtCollector {
    pub fn new(opts: ClientOptions) -> Self {
        OvirtCollector { opts }
    }
}

fn inv_error(e: Error) -> InvError {
    let kind = match e.kind() {
        ErrorKind::Connect
        | ErrorKind::TlsUntrusted
        | ErrorKind::Tls
        | ErrorKind::Auth
        | ErrorKind::Timeout => InvKind::Connection,
        _ => InvKind::Collect,
    };
    InvError::new(kind, e.to_string())
}

fn docs<T: Serialize>(list: &[T]) -> Vec<Value> {
    list.iter()
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect()
}

/// Read everything from a logged-in engine.
pub async fn collect_all(client: &Client) -> Result<Collected, Error> {
    let vms = client.vms().await?;
    let mut nics = BTreeMap::new();
    let mut attachments = BTreeMap::new();
    for vm in &vms {
        // A VM removed between the list and these reads is left for the
        // next collection.
        match client.nics(&vm.id).await {
            Ok(n) => {
                nics.insert(vm.id.clone(), docs(&n));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
        match client.disk_attachments(&vm.id).await {
            Ok(a) => {
                attachments.insert(vm.id.clone(), docs(&a));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Collected {
        vms: docs(&vms),
        nics,
        attachments,
        disks: docs(&client.disks().await?),
        disk_profiles: docs(&client.disk_profiles().await?),
        vnic_profiles: docs(&client.vnic_profiles().await?),
        networks: docs(&client.networks().await?),
        storage_domains: docs(&client.storage_domains().await?),
        clusters: docs(&client.clusters().await?),
        hosts: docs(&client.hosts().await?),
        data_centers: docs(&client.data_centers().await?),
    })
}

impl Collector for OvirtCollector {
    fn provider_type(&self) -> &str {
        OVIRT
    }

    fn collect(&self) -> BoxFuture<'_, ferry_inventory::Result<Snapshot>> {
        Box::pin(async move {
            let client = Client::connect(&self.opts).await.map_err(inv_error)?;
            let collected = collect_all(&client).await;
            if let Err(e) = client.logout().await {
                tracing::debug!(error = %e, "revoking the inventory's SSO token failed");
            }
            Ok(snapshot(&collected.map_err(inv_error)?))
        })
    }
}
