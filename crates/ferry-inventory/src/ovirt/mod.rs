//! The oVirt inventory model: the engine's objects (as JSON documents from
//! `ferry-ovirt`'s typed client) → Forklift's oVirt collections (`vms`,
//! `hosts`, `clusters`, `datacenters`, `disks`, `diskprofiles`,
//! `nicprofiles`, `networks`, `storagedomains`) with parents (VM → cluster
//! → data center, host → cluster) and paths (`/Default/Default/vm1`:
//! data center, cluster, name).
//!
//! A VM document carries its `nics` (each with its vNIC profile's
//! `network`), the `networks` it uses, and its `diskAttachments`, each
//! attachment with the attached `disk` document embedded, so that the
//! `ovirt` validation policies and the migration read one object; the
//! `host` and `cluster` fields hold ids, which the workload expands (and
//! the cluster's `dataCenter`). This module is pure.
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::model::{Ref, Resource, Snapshot, VMS};

/// Provider type served.
pub const OVIRT: &str = "ovirt";

/// Collections an oVirt snapshot always declares.
pub const COLLECTIONS: &[&str] = &[
    VMS,
    "hosts",
    "clusters",
    "datacenters",
    "disks",
    "diskprofiles",
    "nicprofiles",
    "networks",
    "storagedomains",
];

/// Everything read from one engine, each object a JSON document with at
/// least `id` and `name`.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub vms: Vec<Value>,
    /// VM id → its NICs.
    pub nics: BTreeMap<String, Vec<Value>>,
    /// VM id → its disk attachments (`disk` holds the disk id).
    pub attachments: BTreeMap<String, Vec<Value>>,
    pub disks: Vec<Value>,
    pub disk_profiles: Vec<Value>,
    pub vnic_profiles: Vec<Value>,
    pub networks: Vec<Value>,
    pub storage_domains: Vec<Value>,
    pub clusters: Vec<Value>,
    pub hosts: Vec<Value>,
    pub data_centers: Vec<Value>,
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn index(list: &[Value]) -> BTreeMap<&str, &Value> {
    list.iter().map(|v| (text(v, "id"), v)).collect()
}

fn resource(kind: &str, v: &Value) -> Resource {
    Resource::new(text(v, "id"), text(v, "name"), kind, v.clone())
}

/// The snapshot of `c`: every collection, with parents and paths.
pub fn snapshot(c: &Collected) -> Snapshot {
    let mut snap = Snapshot::new();
    for name in COLLECTIONS {
        snap.collection(name);
    }
    let dcs = index(&c.data_centers);
    let clusters = index(&c.clusters);
    let disks = index(&c.disks);
    let profiles = index(&c.vnic_profiles);
    let dc_name = |id: &str| dcs.get(id).map(|d| text(d, "name")).unwrap_or_default();
    let cluster_path = |id: &str| {
        clusters
            .get(id)
            .map(|cl| format!("/{}/{}", dc_name(text(cl, "dataCenter")), text(cl, "name")))
            .unwrap_or_default()
    };

    for dc in &c.data_centers {
        let name = text(dc, "name");
        snap.push(
            "datacenters",
            resource("DataCenter", dc).with_path(format!("/{name}")),
        );
    }
    for cl in &c.clusters {
        let mut r = resource("Cluster", cl).with_path(cluster_path(text(cl, "id")));
        let dc = text(cl, "dataCenter");
        if !dc.is_empty() {
            r = r.with_parent(Ref {
                kind: "DataCenter".into(),
                id: dc.into(),
            });
        }
        snap.push("clusters", r);
    }
    for h in &c.hosts {
        let cl = text(h, "cluster");
        let mut r =
            resource("Host", h).with_path(format!("{}/{}", cluster_path(cl), text(h, "name")));
        if !cl.is_empty() {
            r = r.with_parent(Ref {
                kind: "Cluster".into(),
                id: cl.into(),
            });
        }
        snap.push("hosts", r);
    }
    for vm in &c.vms {
        let id = text(vm, "id");
        let mut doc = vm.clone();
        // Each NIC names its vNIC profile; the profile's network is what a
        // NetworkMap maps (`networks`, as other providers' VMs list them).
        let mut networks: Vec<Value> = Vec::new();
        let nics: Vec<Value> = c
            .nics
            .get(id)
            .into_iter()
            .flatten()
            .map(|n| {
                let mut n = n.clone();
                let net = profiles
                    .get(text(&n, "profile"))
                    .map(|p| text(p, "network"))
                    .unwrap_or_default()
                    .to_owned();
                if !net.is_empty() {
                    let r = json!({"kind": "Network", "id": net});
                    if !networks.contains(&r) {
                        networks.push(r);
                    }
                }
                n["network"] = Value::String(net);
                n
            })
            .collect();
        let attachments: Vec<Value> = c
            .attachments
            .get(id)
            .into_iter()
            .flatten()
            .map(|a| {
                let disk_id = text(a, "disk");
                let mut a = a.clone();
                match disks.get(disk_id) {
                    Some(d) => a["disk"] = (*d).clone(),
                    None => {
                        snap.warn(format!(
                            "VM {} ({id}) has disk {disk_id} attached, which the engine did not list: its disk details are missing until the next collection",
                            text(vm, "name")
                        ));
                        a["disk"] = json!({ "id": disk_id });
                    }
                }
                a
            })
            .collect();
        doc["nics"] = Value::Array(nics);
        doc["networks"] = Value::Array(networks);
        doc["diskAttachments"] = Value::Array(attachments);
        let cl = text(vm, "cluster");
        let mut r =
            resource("VM", &doc).with_path(format!("{}/{}", cluster_path(cl), text(vm, "name")));
        if !cl.is_empty() {
            r = r.with_parent(Ref {
                kind: "Cluster".into(),
                id: cl.into(),
            });
        }
        snap.push(VMS, r);
    }
    for (list, coll, kind) in [
        (&c.disks, "disks", "Disk"),
        (&c.disk_profiles, "diskprofiles", "DiskProfile"),
        (&c.vnic_profiles, "nicprofiles", "NICProfile"),
        (&c.networks, "networks", "Network"),
        (&c.storage_domains, "storagedomains", "StorageDomain"),
    ] {
        for v in list {
            snap.push(coll, resource(kind, v));
        }
    }
    snap
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn vms_carry_nics_and_attached_disks_under_their_cluster() {
        let c = Collected {
            vms: vec![json!({"id": "v1", "name": "vm1", "cluster": "c1", "host": "h1"})],
            nics: [(
                "v1".to_owned(),
                vec![json!({"id": "n1", "mac": "56:6f:00:00:00:01", "profile": "p1"})],
            )]
            .into(),
            attachments: [(
                "v1".to_owned(),
                vec![
                    json!({"id": "d1", "disk": "d1", "interface": "virtio_scsi", "bootable": true}),
                    json!({"id": "d9", "disk": "d9", "interface": "virtio", "bootable": false}),
                ],
            )]
            .into(),
            disks: vec![
                json!({"id": "d1", "name": "vm1_Disk1", "storageDomain": "s1", "status": "ok"}),
            ],
            vnic_profiles: vec![json!({"id": "p1", "name": "prof", "network": "net1"})],
            clusters: vec![json!({"id": "c1", "name": "Default", "dataCenter": "dc1"})],
            data_centers: vec![json!({"id": "dc1", "name": "DC"})],
            hosts: vec![json!({"id": "h1", "name": "host1", "cluster": "c1"})],
            ..Collected::default()
        };
        let snap = snapshot(&c);
        let colls: BTreeMap<&str, &[Resource]> = snap.collections().collect();
        for name in COLLECTIONS {
            assert!(colls.contains_key(name), "{name}");
        }
        let vm = &colls["vms"][0];
        assert_eq!(vm.path, "/DC/Default/vm1");
        assert_eq!(vm.parent.as_ref().unwrap().id, "c1");
        assert_eq!(vm.object["nics"][0]["mac"], "56:6f:00:00:00:01");
        assert_eq!(vm.object["nics"][0]["network"], "net1");
        assert_eq!(
            vm.object["networks"],
            json!([{"kind": "Network", "id": "net1"}])
        );
        assert_eq!(
            vm.object["diskAttachments"][0]["disk"]["storageDomain"],
            "s1"
        );
        assert_eq!(vm.object["diskAttachments"][1]["disk"], json!({"id": "d9"}));
        assert_eq!(snap.warnings().len(), 1);
        assert!(
            snap.warnings()[0].contains("disk d9"),
            "{:?}",
            snap.warnings()
        );
        assert_eq!(colls["hosts"][0].path, "/DC/Default/host1");
        assert_eq!(
            colls["clusters"][0].parent.as_ref().unwrap().kind,
            "DataCenter"
        );
        snap.check().unwrap();
    }
}
