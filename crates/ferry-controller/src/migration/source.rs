//! The source VM as the migration needs it, whatever the provider: identity,
//! firmware, CPU and memory, disks (with where their bytes are) and NICs.
//! Built from the inventory document of an OVA VM or a vSphere VM.
use serde_json::Value;

/// Where a disk's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskLocation {
    /// A member of an `.ova` archive, or a file of an extracted package
    /// (`package` is then the folder).
    Ova {
        /// The `.ova` file, or the package folder (ending in `/`).
        package: String,
        /// The file's href in the package.
        href: String,
    },
    /// A VMDK on a vSphere datastore.
    Datastore {
        /// The datacenter's name (`dcPath`).
        datacenter: String,
        /// The datastore path, `[datastore] folder/disk.vmdk`.
        path: String,
    },
}

/// One source disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDisk {
    /// What the `forklift.konveyor.io/disk-source` annotation says.
    pub source: String,
    /// Guest capacity in bytes (0 or less: unknown, refused).
    pub capacity: i64,
    /// Where the bytes are.
    pub location: DiskLocation,
}

/// One source NIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceNic {
    /// Device label, for messages.
    pub name: String,
    /// MAC address (empty: none).
    pub mac: String,
    /// The network's inventory id (vSphere MoRef) or, for OVA, its name.
    pub network_id: String,
    /// The network's name.
    pub network_name: String,
}

/// A source VM.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceVm {
    /// Inventory id.
    pub id: String,
    /// Name.
    pub name: String,
    /// BIOS UUID (empty: none).
    pub uuid: String,
    /// `bios` or `efi`.
    pub firmware: String,
    /// EFI secure boot.
    pub secure_boot: bool,
    /// vCPUs in all.
    pub cpu_count: i64,
    /// Cores per socket.
    pub cores_per_socket: i64,
    /// Memory in MiB.
    pub memory_mb: i64,
    /// Guest OS id (`vmw:osType` / `guestId`).
    pub os_type: String,
    /// Disks in device order.
    pub disks: Vec<SourceDisk>,
    /// NICs in device order.
    pub nics: Vec<SourceNic>,
}

impl SourceVm {
    /// From an OVA inventory VM.
    pub fn from_ova(vm: &ferry_ovf::Vm) -> Self {
        SourceVm {
            id: vm.id.clone(),
            name: vm.name.clone(),
            uuid: vm.uuid.clone(),
            firmware: vm.firmware.clone(),
            secure_boot: vm.secure_boot,
            cpu_count: i64::from(vm.cpu_count),
            cores_per_socket: i64::from(vm.cores_per_socket),
            memory_mb: vm.memory_mb,
            os_type: vm.os_type.clone(),
            disks: vm
                .disks
                .iter()
                .map(|d| {
                    let sep = if d.file_path.ends_with('/') { "" } else { "/" };
                    SourceDisk {
                        source: format!("{}{sep}{}", d.file_path, d.name),
                        capacity: d.capacity_bytes,
                        location: DiskLocation::Ova {
                            package: d.file_path.clone(),
                            href: d.name.clone(),
                        },
                    }
                })
                .collect(),
            nics: vm
                .nics
                .iter()
                .map(|n| SourceNic {
                    name: n.name.clone(),
                    mac: n.mac.clone(),
                    network_id: n.network.clone(),
                    network_name: n.network.clone(),
                })
                .collect(),
        }
    }

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
