//! Plan-time checks of an oVirt VM. Beyond the common checks (VM found,
//! networks and storage mapped, critical concerns of the `ovirt` policy
//! pack) an oVirt VM raises no Plan condition of its own yet.
use serde_json::Value;

use crate::providers::Finding;

/// The storage domains of the VM's disks: what a StorageMap must map.
pub fn vm_storages(vm: &Value) -> Vec<String> {
    let mut out: Vec<String> = vm
        .get("diskAttachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("disk")?.get("storageDomain")?.as_str())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    out.dedup();
    out
}

/// Findings of an oVirt VM's own (none beyond the common checks).
pub fn vm_findings(_vm: &Value) -> Vec<Finding> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn storages_are_the_storage_domains_of_the_disks() {
        let vm = json!({"diskAttachments": [
            {"disk": {"id": "d1", "storageDomain": "sd1"}},
            {"disk": {"id": "d2", "storageDomain": ""}},
            {"disk": {"id": "d3"}},
            {"disk": {"id": "d4", "storageDomain": "sd2"}}
        ]});
        assert_eq!(vm_storages(&vm), ["sd1", "sd2"]);
        assert!(vm_storages(&json!({})).is_empty());
    }
}
