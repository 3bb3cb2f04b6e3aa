//! NetworkMap and StorageMap rules.
use super::Report;
use super::index::{self, Index};
use super::json::{self, Path};
use serde_json::Value;
use std::collections::BTreeMap;

/// Check `spec.provider.{source,destination}` and that they exist.
pub fn check_provider_pair(v: &Value, idx: &Index<'_>, r: &mut Report<'_>) {
    for side in ["source", "destination"] {
        let reference = json::require_ref(
            v,
            &["spec", "provider", side],
            &format!("{side} provider"),
            r,
        );
        // Forklift's operator creates `host` (and ferry's embedded mode
        // does too): manifests name it without defining it.
        if reference.name.as_deref() == Some(crate::api::provider::HOST_PROVIDER_NAME) {
            continue;
        }
        index::check_reference(
            idx,
            "Provider",
            &reference,
            &format!("spec.provider.{side}"),
            r,
        );
    }
}

/// `id` or `name` of a source ref, for duplicate detection.
fn source_key(src: Option<&Value>) -> Option<String> {
    let src = src?;
    json::str_at(src, &["id"])
        .map(|id| format!("id {id}"))
        .or_else(|| json::str_at(src, &["name"]).map(|n| format!("name {n}")))
}

fn check_sources(entries: &[Value], what: &str, r: &mut Report<'_>) {
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let path = Path::root().key("spec").key("map").index(i).key("source");
        match source_key(e.get("source")) {
            None => r.error(&path, format!("needs id or name of the source {what}")),
            Some(key) => {
                if let Some(prev) = first.get(&key) {
                    r.error(
                        &path,
                        format!("source {what} {key} is already mapped by spec.map[{prev}]"),
                    );
                } else {
                    first.insert(key, i);
                }
            }
        }
    }
}

/// Check a NetworkMap.
pub fn check_network_map(v: &Value, idx: &Index<'_>, r: &mut Report<'_>) {
    check_provider_pair(v, idx, r);
    let entries = json::list_at(v, &["spec", "map"]);
    check_sources(entries, "network", r);
    let mut pod_entries = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let base = Path::root().key("spec").key("map").index(i);
        if let Some(vlan) = json::at(e, &["source", "vlan"]) {
            let ok = match vlan {
                Value::String(s) => {
                    !s.starts_with('0') && s.parse::<u16>().is_ok_and(|n| (1..=4094).contains(&n))
                }
                _ => false,
            };
            if !ok {
                r.error(
                    base.key("source").key("vlan"),
                    format!("VLAN must be a quoted number from 1 to 4094, not {vlan}"),
                );
            }
        }
        let dest = e.get("destination");
        match dest.and_then(|d| json::str_at(d, &["type"])) {
            Some("pod") => pod_entries.push(i),
            Some("multus") => {
                if dest.and_then(|d| json::str_at(d, &["name"])).is_none() {
                    r.error(
                        base.key("destination").key("name"),
                        "a multus destination needs the NetworkAttachmentDefinition name",
                    );
                }
            }
            Some("ignored") => {}
            Some(other) => r.error(
                base.key("destination").key("type"),
                format!("{other:?} is not a destination network type; use pod, multus or ignored"),
            ),
            None => r.error(
                base.key("destination").key("type"),
                "missing destination type (pod, multus or ignored)",
            ),
        }
    }
    if pod_entries.len() > 1 {
        let list: Vec<String> = pod_entries
            .iter()
            .map(|i| format!("spec.map[{i}]"))
            .collect();
        r.warn(
            "spec.map",
            format!(
                "{} map to the pod network; a VM with NICs on more than one of them cannot be migrated (VMMultiplePodNetworkMappings)",
                list.join(", ")
            ),
        );
    }
}

const VENDORS: &[&str] = &[
    "flashsystem",
    "vantara",
    "ontap",
    "primera3par",
    "pureFlashArray",
    "powerflex",
    "powermax",
    "powerstore",
    "infinibox",
];

/// Check a StorageMap.
pub fn check_storage_map(v: &Value, idx: &Index<'_>, r: &mut Report<'_>) {
    check_provider_pair(v, idx, r);
    let entries = json::list_at(v, &["spec", "map"]);
    check_sources(entries, "storage", r);
    for (i, e) in entries.iter().enumerate() {
        let base = Path::root().key("spec").key("map").index(i);
        let dest = base.key("destination");
        if json::str_at(e, &["destination", "storageClass"]).is_none() {
            r.error(
                dest.key("storageClass"),
                "missing the destination StorageClass",
            );
        }
        if let Some(mode) = json::str_at(e, &["destination", "volumeMode"])
            && !matches!(mode, "Filesystem" | "Block")
        {
            r.error(
                dest.key("volumeMode"),
                format!("{mode:?} is not a volume mode; use Filesystem or Block"),
            );
        }
        if let Some(mode) = json::str_at(e, &["destination", "accessMode"])
            && !matches!(mode, "ReadWriteOnce" | "ReadWriteMany" | "ReadOnlyMany")
        {
            r.error(
                dest.key("accessMode"),
                format!("{mode:?} is not an access mode; use ReadWriteOnce, ReadWriteMany or ReadOnlyMany"),
            );
        }
        let Some(plugin) = e.get("offloadPlugin") else {
            continue;
        };
        let pbase = base.key("offloadPlugin");
        for (variant, allowed) in [
            ("vsphereXcopyConfig", VENDORS),
            ("csiVolumeImport", &["primera3par", "ontap"][..]),
        ] {
            let Some(cfg) = plugin.get(variant) else {
                continue;
            };
            let vpath = pbase.key(variant);
            if json::str_at(cfg, &["secretRef"]).is_none() {
                r.error(
                    vpath.key("secretRef"),
                    "needs the name of the Secret with the storage array credentials",
                );
            }
            match json::str_at(cfg, &["storageVendorProduct"]) {
                Some(p) if allowed.contains(&p) => {}
                Some(p) => r.error(
                    vpath.key("storageVendorProduct"),
                    format!(
                        "{p:?} is not supported here; use one of {}",
                        allowed.join(", ")
                    ),
                ),
                None => r.error(
                    vpath.key("storageVendorProduct"),
                    "missing the storage vendor product",
                ),
            }
        }
    }
}
