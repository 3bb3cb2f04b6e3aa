//! An inventory VM of a vSphere provider (Forklift's full-detail JSON) →
//! [`SourceVm`]: hardware, disks on datastores, NICs with network names.
use ferry_inventory::StoredResource;
use serde_json::Value;

use crate::context::Context;
use crate::migration::source::{DiskLocation, SourceDisk, SourceNic, SourceVm};

/// The migration's view of an inventory VM of a vSphere provider: its
/// datacenter comes from the VM's inventory path (`/DC0/vm/...`), network
/// names from the provider's `networks` collection.
pub fn source_vm(ctx: &Context, uid: &str, found: &StoredResource) -> Result<SourceVm, String> {
    let path = &found.resource.path;
    let datacenter = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            format!(
                "VM {} has no datacenter in its inventory path {path:?}",
                found.resource.name
            )
        })?
        .to_owned();
    let store = ctx.inventory.store();
    let name_of = |id: &str| {
        store
            .get(uid, "networks", id)
            .ok()
            .flatten()
            .map(|r| r.resource.name)
    };
    SourceVm::from_vsphere(&found.resource.object, &datacenter, &name_of)
}

impl SourceVm {
    /// From a vSphere inventory VM (Forklift's full-detail JSON).
    /// `network_name` names a network by id; `datacenter` is the VM's
    /// datacenter name.
    pub fn from_vsphere(
        vm: &Value,
        datacenter: &str,
        network_name: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let i = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
        let name = s(vm, "name");
        let mut disks = Vec::new();
        for d in vm
            .get("disks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let file = s(d, "file");
            if file.is_empty() {
                return Err(format!(
                    "disk {} of VM {name} has no backing file",
                    i(d, "key")
                ));
            }
            if d.get("rdm").and_then(Value::as_bool) == Some(true) {
                return Err(format!(
                    "disk {file} of VM {name} is a raw device mapping: its LUN cannot be read through the datastore; migrate it separately"
                ));
            }
            disks.push(SourceDisk {
                source: file.clone(),
                capacity: i(d, "capacity"),
                location: DiskLocation::Datastore {
                    datacenter: datacenter.to_owned(),
                    path: file,
                },
            });
        }
        let nics = vm
            .get("nics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|n| {
                let id = n.get("network").map(|r| s(r, "id")).unwrap_or_default();
                SourceNic {
                    name: format!("NIC {}", i(n, "deviceKey")),
                    mac: s(n, "mac"),
                    network_name: network_name(&id).unwrap_or_else(|| id.clone()),
                    network_id: id,
                }
            })
            .collect();
        Ok(SourceVm {
            id: s(vm, "id"),
            name,
            uuid: s(vm, "uuid"),
            firmware: s(vm, "firmware"),
            secure_boot: vm.get("secureBoot").and_then(Value::as_bool) == Some(true),
            cpu_count: i(vm, "cpuCount"),
            cores_per_socket: i(vm, "coresPerSocket"),
            memory_mb: i(vm, "memoryMB"),
            os_type: s(vm, "guestId"),
            disks,
            nics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vsphere_vm_maps_disks_nics_and_hardware() {
        let vm = json!({
            "id": "vm-42", "name": "web", "uuid": "4207-aa", "firmware": "efi",
            "secureBoot": true, "cpuCount": 4, "coresPerSocket": 2, "memoryMB": 4096,
            "guestId": "rhel9_64Guest",
            "disks": [
                {"key": 2000, "file": "[LocalDS_0] web/web.vmdk", "capacity": 1073741824, "rdm": false},
                {"key": 2001, "file": "[LocalDS_0] web/web_1.vmdk", "capacity": 2_147_483_648_i64}
            ],
            "nics": [
                {"network": {"kind": "Network", "id": "network-7"}, "mac": "00:50:56:01:02:03", "deviceKey": 4000},
                {"network": {"kind": "Network", "id": "dvportgroup-9"}, "mac": "00:50:56:01:02:04", "deviceKey": 4001}
            ]
        });
        let names = |id: &str| (id == "network-7").then(|| "VM Network".to_owned());
        let s = SourceVm::from_vsphere(&vm, "DC0", &names).unwrap();
        assert_eq!((s.cpu_count, s.cores_per_socket, s.memory_mb), (4, 2, 4096));
        assert_eq!(s.firmware, "efi");
        assert!(s.secure_boot);
        assert_eq!(s.disks.len(), 2);
        assert_eq!(
            s.disks[1].location,
            DiskLocation::Datastore {
                datacenter: "DC0".into(),
                path: "[LocalDS_0] web/web_1.vmdk".into()
            }
        );
        assert_eq!(s.disks[1].capacity, 2_147_483_648);
        assert_eq!(s.nics[0].network_name, "VM Network");
        assert_eq!(s.nics[1].network_name, "dvportgroup-9");
        assert_eq!(s.nics[1].mac, "00:50:56:01:02:04");
    }

    #[test]
    fn rdm_and_fileless_disks_are_refused_with_the_reason() {
        let rdm =
            json!({"name": "db", "disks": [{"key": 1, "file": "[ds] db/lun.vmdk", "rdm": true}]});
        let err = SourceVm::from_vsphere(&rdm, "DC0", &|_| None).unwrap_err();
        assert!(err.contains("raw device mapping"), "{err}");
        let none = json!({"name": "db", "disks": [{"key": 7}]});
        let err = SourceVm::from_vsphere(&none, "DC0", &|_| None).unwrap_err();
        assert!(err.contains("disk 7 of VM db has no backing file"), "{err}");
    }
}
