//! The policy pack compiled into ferry (`policies/<provider>/*.rego`).
//! A test checks that this list matches the folder, so a new file cannot be
//! forgotten.

/// `(provider folder, file name, text)` for every bundled policy file.
pub const POLICIES: &[(&str, &str, &str)] = &[
    (
        "ova",
        "cpu_affinity.rego",
        include_str!("../../../policies/ova/cpu_affinity.rego"),
    ),
    (
        "ova",
        "cpu_memory_hotplug.rego",
        include_str!("../../../policies/ova/cpu_memory_hotplug.rego"),
    ),
    (
        "ova",
        "disk_count.rego",
        include_str!("../../../policies/ova/disk_count.rego"),
    ),
    (
        "ova",
        "disk_size.rego",
        include_str!("../../../policies/ova/disk_size.rego"),
    ),
    (
        "ova",
        "export_source.rego",
        include_str!("../../../policies/ova/export_source.rego"),
    ),
    (
        "ova",
        "file_reference.rego",
        include_str!("../../../policies/ova/file_reference.rego"),
    ),
    (
        "ova",
        "manifest.rego",
        include_str!("../../../policies/ova/manifest.rego"),
    ),
    (
        "ova",
        "name.rego",
        include_str!("../../../policies/ova/name.rego"),
    ),
    (
        "ova",
        "rules_version.rego",
        include_str!("../../../policies/ova/rules_version.rego"),
    ),
    (
        "ova",
        "validate.rego",
        include_str!("../../../policies/ova/validate.rego"),
    ),
    (
        "vmware",
        "changed_block_tracking.rego",
        include_str!("../../../policies/vmware/changed_block_tracking.rego"),
    ),
    (
        "vmware",
        "changed_block_tracking_per_disk.rego",
        include_str!("../../../policies/vmware/changed_block_tracking_per_disk.rego"),
    ),
    (
        "vmware",
        "consolidation_needed.rego",
        include_str!("../../../policies/vmware/consolidation_needed.rego"),
    ),
    (
        "vmware",
        "cpu_affinity.rego",
        include_str!("../../../policies/vmware/cpu_affinity.rego"),
    ),
    (
        "vmware",
        "cpu_memory_hotplug.rego",
        include_str!("../../../policies/vmware/cpu_memory_hotplug.rego"),
    ),
    (
        "vmware",
        "datastore.rego",
        include_str!("../../../policies/vmware/datastore.rego"),
    ),
    (
        "vmware",
        "disk_count.rego",
        include_str!("../../../policies/vmware/disk_count.rego"),
    ),
    (
        "vmware",
        "disk_mode.rego",
        include_str!("../../../policies/vmware/disk_mode.rego"),
    ),
    (
        "vmware",
        "disk_serial_numbers.rego",
        include_str!("../../../policies/vmware/disk_serial_numbers.rego"),
    ),
    (
        "vmware",
        "disk_size.rego",
        include_str!("../../../policies/vmware/disk_size.rego"),
    ),
    (
        "vmware",
        "dpm_enabled.rego",
        include_str!("../../../policies/vmware/dpm_enabled.rego"),
    ),
    (
        "vmware",
        "drs_enabled.rego",
        include_str!("../../../policies/vmware/drs_enabled.rego"),
    ),
    (
        "vmware",
        "fault_tolerance.rego",
        include_str!("../../../policies/vmware/fault_tolerance.rego"),
    ),
    (
        "vmware",
        "filesystem_size.rego",
        include_str!("../../../policies/vmware/filesystem_size.rego"),
    ),
    (
        "vmware",
        "guest_disk_mapping.rego",
        include_str!("../../../policies/vmware/guest_disk_mapping.rego"),
    ),
    (
        "vmware",
        "host_affinity.rego",
        include_str!("../../../policies/vmware/host_affinity.rego"),
    ),
    (
        "vmware",
        "hostname.rego",
        include_str!("../../../policies/vmware/hostname.rego"),
    ),
    (
        "vmware",
        "ip_state.rego",
        include_str!("../../../policies/vmware/ip_state.rego"),
    ),
    (
        "vmware",
        "name.rego",
        include_str!("../../../policies/vmware/name.rego"),
    ),
    (
        "vmware",
        "numa_affinity.rego",
        include_str!("../../../policies/vmware/numa_affinity.rego"),
    ),
    (
        "vmware",
        "passthrough_device.rego",
        include_str!("../../../policies/vmware/passthrough_device.rego"),
    ),
    (
        "vmware",
        "rdm_disk.rego",
        include_str!("../../../policies/vmware/rdm_disk.rego"),
    ),
    (
        "vmware",
        "rules_version.rego",
        include_str!("../../../policies/vmware/rules_version.rego"),
    ),
    (
        "vmware",
        "shared_disk.rego",
        include_str!("../../../policies/vmware/shared_disk.rego"),
    ),
    (
        "vmware",
        "snapshot.rego",
        include_str!("../../../policies/vmware/snapshot.rego"),
    ),
    (
        "vmware",
        "sriov_device.rego",
        include_str!("../../../policies/vmware/sriov_device.rego"),
    ),
    (
        "vmware",
        "tpm_enabled.rego",
        include_str!("../../../policies/vmware/tpm_enabled.rego"),
    ),
    (
        "vmware",
        "usb_controller.rego",
        include_str!("../../../policies/vmware/usb_controller.rego"),
    ),
    (
        "vmware",
        "validate.rego",
        include_str!("../../../policies/vmware/validate.rego"),
    ),
    (
        "vmware",
        "vm_os.rego",
        include_str!("../../../policies/vmware/vm_os.rego"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_list_matches_the_policies_folder() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
        let mut on_disk = Vec::new();
        for provider in std::fs::read_dir(&root).unwrap() {
            let provider = provider.unwrap();
            if !provider.file_type().unwrap().is_dir() {
                continue;
            }
            for f in std::fs::read_dir(provider.path()).unwrap() {
                let name = f.unwrap().file_name().into_string().unwrap();
                if name.ends_with(".rego") && !name.ends_with("_test.rego") {
                    on_disk.push((provider.file_name().into_string().unwrap(), name));
                }
            }
        }
        on_disk.sort();
        let mut bundled: Vec<(String, String)> = POLICIES
            .iter()
            .map(|(p, f, _)| (p.to_string(), f.to_string()))
            .collect();
        bundled.sort();
        assert_eq!(bundled, on_disk);
    }
}
