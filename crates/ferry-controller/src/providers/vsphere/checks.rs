//! Plan-time checks of a vSphere VM. Beyond the common checks (VM found,
//! networks and storage mapped, critical concerns of the `vsphere` policy
//! pack) a vSphere VM raises no Plan condition of its own yet.
use serde_json::Value;

use crate::providers::Finding;

/// The datastores of the VM's disks: what a StorageMap must map.
pub fn vm_storages(vm: &Value) -> Vec<String> {
    vm.get("disks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("datastore")?.get("id")?.as_str())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Findings of a vSphere VM's own (none beyond the common checks).
pub fn vm_findings(_vm: &Value) -> Vec<Finding> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn storages_are_the_datastores_of_the_disks() {
        let vm = json!({"disks": [
            {"datastore": {"kind": "Datastore", "id": "datastore-1"}},
            {"datastore": {"kind": "Datastore", "id": ""}},
            {"file": "[x] y.vmdk"},
            {"datastore": {"kind": "Datastore", "id": "datastore-2"}}
        ]});
        assert_eq!(vm_storages(&vm), ["datastore-1", "datastore-2"]);
        assert!(vm_storages(&json!({})).is_empty());
    }
}
