//! An inventory VM of an OVA provider (`ferry-ovf`'s VM model) →
//! [`SourceVm`]: hardware, disks inside their package, NICs by network name.
use ferry_inventory::StoredResource;

use crate::migration::source::{DiskLocation, SourceDisk, SourceNic, SourceVm};

/// The migration's view of an inventory VM of an OVA provider.
pub fn source_vm(found: &StoredResource) -> Result<SourceVm, String> {
    let ova: ferry_ovf::Vm =
        serde_json::from_value(found.resource.object.clone()).map_err(|e| {
            format!(
                "the inventory VM {} is not an OVA VM: {e}",
                found.resource.name
            )
        })?;
    Ok(SourceVm::from_ova(&ova))
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
}
