//! The inventory of the local destination: the `host` Provider (openshift,
//! no URL) is listed under `/providers` and answers
//! `/providers/openshift/<uid>/namespaces` with the namespaces of the
//! embedded API server. Its other collections (`vms`, `storageclasses`,
//! `networkattachmentdefinitions`, ...) exist and are empty: the local
//! destination has no KubeVirt VMs, storage classes or networks to list.
use ferry_core::api::Provider;
use ferry_inventory::collector::{BoxFuture, Collector};
use ferry_inventory::{ErrorKind, Inventory, ProviderInfo, Resource, Snapshot};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::{Resource as _, ResourceExt};

/// The collections Forklift's openshift inventory serves.
const COLLECTIONS: &[&str] = &[
    "vms",
    "namespaces",
    "storageclasses",
    "networkattachmentdefinitions",
    "persistentvolumeclaims",
    "datavolumes",
    "instancetypes",
    "clusterinstancetypes",
    "kubevirts",
];

/// Collects the local destination's namespaces from the API server.
pub struct HostCollector {
    client: kube::Client,
}

impl HostCollector {
    async fn snapshot(&self) -> ferry_inventory::Result<Snapshot> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let list = api.list(&ListParams::default()).await.map_err(|e| {
            ferry_inventory::Error::new(
                ErrorKind::Connection,
                "cannot list the namespaces of the local cluster",
            )
            .with_source(e)
        })?;
        let mut snap = Snapshot::new();
        for c in COLLECTIONS {
            snap.collection(c);
        }
        for ns in list.items {
            let name = ns.name_any();
            let uid = ns.uid().unwrap_or_else(|| name.clone());
            let object = serde_json::to_value(&ns).map_err(|e| {
                ferry_inventory::Error::new(
                    ErrorKind::Collect,
                    format!("cannot serialise namespace {name}"),
                )
                .with_source(e)
            })?;
            snap.push(
                "namespaces",
                Resource::new(uid, &name, "Namespace", object).with_path(&name),
            );
        }
        Ok(snap)
    }
}

impl Collector for HostCollector {
    fn provider_type(&self) -> &str {
        "openshift"
    }

    fn collect(&self) -> BoxFuture<'_, ferry_inventory::Result<Snapshot>> {
        Box::pin(self.snapshot())
    }
}

/// Register `provider` (a `host` Provider) with the inventory unless it is
/// registered already.
pub fn register(
    inventory: &Inventory,
    client: &kube::Client,
    provider: &Provider,
) -> anyhow::Result<()> {
    let Some(uid) = provider.meta().uid.clone() else {
        return Ok(());
    };
    if !provider.is_host() || inventory.provider_info(&uid).is_some() {
        return Ok(());
    }
    let info = ProviderInfo {
        uid,
        namespace: provider.namespace().unwrap_or_default(),
        name: provider.name_any(),
        provider_type: "openshift".to_owned(),
        url: String::new(),
        resource_version: provider.resource_version().unwrap_or_default(),
        object: serde_json::to_value(provider)?,
    };
    let collector = HostCollector {
        client: client.clone(),
    };
    inventory.add_provider(info, std::sync::Arc::new(collector))?;
    Ok(())
}
