//! An inventory VM of an oVirt provider (`ferry_inventory::ovirt`'s VM
//! document) → [`SourceVm`]: CPU topology, memory, firmware from the BIOS
//! type (the cluster's when the VM says `cluster_default`), disks by id
//! (read through image transfers), NICs with their MACs and the network of
//! their vNIC profile.
use ferry_inventory::StoredResource;
use serde_json::Value;

use crate::context::Context;
use crate::migration::source::{DiskLocation, SourceDisk, SourceNic, SourceVm};

/// The migration's view of an inventory VM of provider `uid`.
pub fn source_vm(ctx: &Context, uid: &str, found: &StoredResource) -> Result<SourceVm, String> {
    let store = ctx.inventory.store();
    let get = |coll: &str, id: &str| {
        store
            .get(uid, coll, id)
            .ok()
            .flatten()
            .map(|r| r.resource.object)
    };
    let vm = &found.resource.object;
    let cluster_bios = get("clusters", s(vm, "cluster"))
        .map(|c| s(&c, "biosType").to_owned())
        .unwrap_or_default();
    let network_name = |id: &str| get("networks", id).map(|n| s(&n, "name").to_owned());
    SourceVm::from_ovirt(vm, &cluster_bios, &network_name)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn u(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(0)
}

/// `(firmware, secure boot)` of an oVirt BIOS type.
fn firmware(bios: &str) -> Result<(&'static str, bool), String> {
    Ok(match bios {
        "i440fx_sea_bios" | "q35_sea_bios" => ("bios", false),
        "q35_ovmf" => ("efi", false),
        "q35_secure_boot" => ("efi", true),
        other => return Err(format!("BIOS type {other:?} is not one oVirt defines")),
    })
}

impl SourceVm {
    /// `vm` with `cluster_bios` (the cluster's BIOS type, for
    /// `cluster_default`) and network names by id.
    pub fn from_ovirt(
        vm: &Value,
        cluster_bios: &str,
        network_name: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let name = s(vm, "name").to_owned();
        let bios = match s(vm, "bios") {
            "" | "cluster_default" => cluster_bios,
            b => b,
        };
        let (fw, secure_boot) =
            firmware(bios).map_err(|e| format!("VM {name}: {e} (the VM's or its cluster's)"))?;
        let mut disks = Vec::new();
        for a in vm
            .get("diskAttachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let d = a.get("disk").unwrap_or(&Value::Null);
            let id = s(d, "id");
            if id.is_empty() {
                return Err(format!("a disk attachment of VM {name} names no disk"));
            }
            match s(d, "storageType") {
                "" | "image" => {}
                other => {
                    return Err(format!(
                        "disk {id} of VM {name} is a {other} disk: only image disks can be read through image transfers"
                    ));
                }
            }
            let capacity = u(d, "provisionedSize");
            if capacity <= 0 {
                return Err(format!(
                    "disk {id} of VM {name} has no provisioned size in the inventory"
                ));
            }
            disks.push(SourceDisk {
                source: id.to_owned(),
                capacity,
                location: DiskLocation::Ovirt {
                    disk_id: id.to_owned(),
                },
            });
        }
        let nics = vm
            .get("nics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|n| {
                let net = s(n, "network").to_owned();
                SourceNic {
                    name: s(n, "name").to_owned(),
                    mac: s(n, "mac").to_owned(),
                    network_name: network_name(&net).unwrap_or_else(|| net.clone()),
                    network_id: net,
                }
            })
            .collect();
        let sockets = u(vm, "cpuSockets").max(1);
        let per_socket = u(vm, "cpuCores").max(1) * u(vm, "cpuThreads").max(1);
        Ok(SourceVm {
            id: s(vm, "id").to_owned(),
            name,
            uuid: s(vm, "id").to_owned(),
            firmware: fw.to_owned(),
            secure_boot,
            cpu_count: sockets * per_socket,
            cores_per_socket: per_socket,
            memory_mb: u(vm, "memory") / (1 << 20),
            os_type: s(vm, "osType").to_owned(),
            disks,
            nics,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn vm(bios: &str) -> Value {
        json!({
            "id": "v1", "name": "db", "bios": bios, "cpuSockets": 2, "cpuCores": 2,
            "cpuThreads": 1, "memory": 4294967296_u64, "osType": "rhel_9x64",
            "nics": [
                {"name": "nic1", "mac": "56:6f:00:00:00:01", "network": "net1"},
                {"name": "nic2", "mac": "56:6f:00:00:00:02", "network": "net2"}
            ],
            "diskAttachments": [
                {"disk": {"id": "d1", "provisionedSize": 1073741824, "storageType": "image"}},
                {"disk": {"id": "d2", "provisionedSize": 2147483648_u64}}
            ]
        })
    }

    #[test]
    fn hardware_disks_and_nics_are_carried() {
        let names = |id: &str| (id == "net1").then(|| "ovirtmgmt".to_owned());
        let s = SourceVm::from_ovirt(&vm("q35_secure_boot"), "", &names).unwrap();
        assert_eq!((s.cpu_count, s.cores_per_socket, s.memory_mb), (4, 2, 4096));
        assert_eq!((s.firmware.as_str(), s.secure_boot), ("efi", true));
        assert_eq!(s.os_type, "rhel_9x64");
        assert_eq!(s.disks.len(), 2);
        assert_eq!(
            s.disks[1].location,
            DiskLocation::Ovirt {
                disk_id: "d2".into()
            }
        );
        assert_eq!(s.disks[1].capacity, 2 << 30);
        assert_eq!(s.nics[0].network_name, "ovirtmgmt");
        assert_eq!(s.nics[1].network_name, "net2");
        assert_eq!(s.nics[1].mac, "56:6f:00:00:00:02");
    }

    #[test]
    fn firmware_follows_the_bios_type_and_the_cluster() {
        let none = |_: &str| None;
        for (bios, cluster, want) in [
            ("i440fx_sea_bios", "", ("bios", false)),
            ("q35_sea_bios", "", ("bios", false)),
            ("q35_ovmf", "", ("efi", false)),
            ("cluster_default", "q35_ovmf", ("efi", false)),
        ] {
            let s = SourceVm::from_ovirt(&vm(bios), cluster, &none).unwrap();
            assert_eq!((s.firmware.as_str(), s.secure_boot), want, "{bios}");
        }
        let err = SourceVm::from_ovirt(&vm("cluster_default"), "", &none).unwrap_err();
        assert!(err.contains("VM db"), "{err}");
    }

    #[test]
    fn lun_disks_and_sizeless_disks_are_refused_by_name() {
        let mut v = vm("q35_ovmf");
        v["diskAttachments"][0]["disk"]["storageType"] = json!("lun");
        let err = SourceVm::from_ovirt(&v, "", &|_| None).unwrap_err();
        assert!(err.contains("disk d1 of VM db is a lun disk"), "{err}");
        let mut v = vm("q35_ovmf");
        v["diskAttachments"][1]["disk"]["provisionedSize"] = json!(0);
        let err = SourceVm::from_ovirt(&v, "", &|_| None).unwrap_err();
        assert!(
            err.contains("disk d2 of VM db has no provisioned size"),
            "{err}"
        );
    }
}
