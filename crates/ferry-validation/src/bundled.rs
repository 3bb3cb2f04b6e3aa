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
