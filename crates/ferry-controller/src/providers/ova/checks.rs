//! Plan-time checks of an OVA VM: the provider's one storage must be
//! mapped, and a package not exported by VMware is flagged
//! (`UnsupportedOVFExportSource`).
use ferry_core::api::Category;
use serde_json::Value;

use crate::context::Context;
use crate::providers::Finding;

/// Forklift's Plan condition for a package another tool exported.
pub const UNSUPPORTED_OVF_EXPORT_SOURCE: &str = "UnsupportedOVFExportSource";

/// The provider's storages (Forklift's one dummy storage): what a
/// StorageMap must map for every VM.
pub fn vm_storages(ctx: &Context, uid: &str) -> Vec<String> {
    ctx.inventory
        .store()
        .list(uid, "storages", &Default::default())
        .map(|v| v.into_iter().map(|r| r.resource.id).collect::<Vec<_>>())
        .unwrap_or_default()
}

/// Findings of an OVA VM.
pub fn vm_findings(vm: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    if vm
        .get("ovaSource")
        .and_then(Value::as_str)
        .is_some_and(|s| s != "VMware")
    {
        out.push(Finding {
            condition: UNSUPPORTED_OVF_EXPORT_SOURCE,
            category: Category::Warn,
            reason: "NotSupported",
            message: "The OVA was not exported by VMware; the migration may not boot.",
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn packages_not_exported_by_vmware_are_flagged() {
        let found = vm_findings(&json!({"ovaSource": "VirtualBox"}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].condition, "UnsupportedOVFExportSource");
        assert_eq!(found[0].category, Category::Warn);
        assert!(vm_findings(&json!({"ovaSource": "VMware"})).is_empty());
        assert!(vm_findings(&json!({})).is_empty());
    }
}
