use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn clean_vm() -> serde_json::Value {
    json!({
        "name": "web-01",
        "ovaSource": "VMware",
        "cpuAffinity": [],
        "cpuHotAddEnabled": false,
        "cpuHotRemoveEnabled": false,
        "memoryHotAddEnabled": false,
        "disks": [{"name": "web-01-disk1.vmdk", "filePath": "/nfs/web-01.ova", "capacity": 16, "capacityAllocationUnits": "byte * 2^30"}],
        "integrity": {"manifest": "verified", "manifestProblems": [], "fileProblems": []}
    })
}

fn ids(v: &Validation) -> Vec<&str> {
    v.concerns.iter().map(|c| c.id.as_str()).collect()
}

#[test]
fn clean_vm_has_no_concerns() {
    let v = Validator::bundled().unwrap();
    let out = v.validate("ova", &clean_vm()).unwrap();
    assert_eq!(out.rules_version, 6);
    assert!(out.errors.is_empty());
    assert!(out.concerns.is_empty(), "{:?}", out.concerns);
}

#[test]
fn every_bundled_concern_fires() {
    let v = Validator::bundled().unwrap();
    let mut vm = clean_vm();
    vm["name"] = json!("Web 01");
    vm["ovaSource"] = json!("VirtualBox");
    vm["cpuAffinity"] = json!([0, 2]);
    vm["memoryHotAddEnabled"] = json!(true);
    vm["disks"] = json!(
        (0..166)
            .map(|i| json!({"name": format!("d{i}.vmdk"), "filePath": "/nfs/web-01.ova", "capacity": if i == 0 { 0 } else { 1 }}))
            .collect::<Vec<_>>()
    );
    vm["integrity"]["manifestProblems"] =
        json!([{"file": "d1.vmdk", "problem": "checksumMismatch"}]);
    vm["integrity"]["fileProblems"] = json!([{"href": "../x.vmdk", "problem": "parentTraversal"}]);
    let out = v.validate("ova", &vm).unwrap();
    assert_eq!(
        ids(&out),
        [
            "ferry.ova.file.reference.invalid",
            "ferry.ova.manifest.checksum.mismatch",
            "ova.disk.capacity.invalid",
            "ova.cpu_affinity.detected",
            "ova.cpu_memory.hotplug.enabled",
            "ova.disk.count.exceeds.limit",
            "ova.name.invalid",
            "ova.source.unsupported",
        ]
    );
    let by_id = |id: &str| out.concerns.iter().find(|c| c.id == id).unwrap();
    assert_eq!(
        by_id("ova.disk.capacity.invalid").label,
        "Disk '/nfs/web-01.ova' has an invalid capacity of 0 bytes"
    );
    assert_eq!(
        by_id("ova.disk.count.exceeds.limit").label,
        "VM has 166 disks, which exceeds the limit of 165"
    );
    assert_eq!(by_id("ova.name.invalid").label, "Invalid VM Name");
    assert_eq!(
        by_id("ova.cpu_memory.hotplug.enabled").label,
        "CPU/Memory hotplug detected"
    );
    assert_eq!(
        by_id("ova.cpu_affinity.detected").label,
        "CPU affinity detected"
    );
    assert_eq!(
        by_id("ova.source.unsupported").label,
        "Unsupported OVA source"
    );
    assert!(by_id("ferry.ova.manifest.checksum.mismatch").is_critical());
    assert!(
        by_id("ferry.ova.manifest.checksum.mismatch")
            .assessment
            .contains("checksum does not match")
    );
    assert!(
        by_id("ferry.ova.file.reference.invalid")
            .assessment
            .contains("leaves the package")
    );
}

#[test]
fn missing_name_is_an_error_not_a_concern() {
    let v = Validator::bundled().unwrap();
    let out = v.validate("ova", &json!({})).unwrap();
    assert_eq!(out.errors.len(), 1);
    assert!(out.concerns.is_empty());
    let out = v.validate("ova", &serde_json::Value::Null).unwrap();
    assert_eq!(out.errors.len(), 1);
}

#[test]
fn name_rule_table() {
    let v = Validator::bundled().unwrap();
    let cases = [
        ("web-01", true),
        ("a", true),
        ("web.example.com", true),
        ("0abc9", true),
        (&"a".repeat(63) as &str, true),
        (&"a".repeat(64) as &str, false),
        ("", true),
        ("Web", true),
        ("WEB.Example.com", true),
        ("-web", false),
        ("web-", false),
        ("web_01", false),
        ("web 01", false),
        ("wéb", false),
    ];
    for (name, valid) in cases {
        let mut vm = clean_vm();
        vm["name"] = json!(name);
        let out = v.validate("ova", &vm).unwrap();
        assert_eq!(
            out.concerns.is_empty(),
            valid,
            "name {name:?}: {:?}",
            out.concerns
        );
    }
}

#[test]
fn unsupported_provider_type() {
    let v = Validator::bundled().unwrap();
    let err = v.validate("openstack", &clean_vm()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().starts_with("unsupported:"), "{err}");
    assert_eq!(v.packages(), ["ova", "ovirt", "vmware"]);
    assert!(v.supports("ova"));
    assert!(v.supports("ovirt"));
    assert!(v.supports("vsphere"));
    assert!(!v.supports("openstack"));
}

#[test]
fn rules_version_and_revalidation() {
    let v = Validator::bundled().unwrap();
    assert_eq!(v.rules_version("ova").unwrap(), 6);
    assert!(!v.needs_revalidation("ova", 3, 3, 6).unwrap());
    assert!(v.needs_revalidation("ova", 4, 3, 6).unwrap());
    assert!(v.needs_revalidation("ova", 3, 3, 5).unwrap());
    assert!(!needs_revalidation(1, 1, 7, 7));
    assert!(needs_revalidation(1, 0, 7, 7));
}

/// Forklift's documented user-rule example, in Rego v0 syntax, for OVA.
const V0_RULE: &str = r#"package io.konveyor.forklift.ova

has_multiple_disks {
  count(input.disks) > 1
}

concerns[flag] {
  has_multiple_disks
  flag := {
    "category": "Information",
    "label": "Multiple disks detected",
    "assessment": "Multiple disks detected on this VM."
  }
}
"#;

#[test]
fn user_rules_from_a_folder_in_v0_syntax() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("multiple_disks.rego"), V0_RULE).unwrap();
    std::fs::write(
        tmp.path().join("multiple_disks_test.rego"),
        "this is not rego",
    )
    .unwrap();
    std::fs::write(tmp.path().join("README.md"), "not rego either").unwrap();
    let v = Validator::builder()
        .user_rules_dir(tmp.path())
        .build()
        .unwrap();
    let mut vm = clean_vm();
    let out = v.validate("ova", &vm).unwrap();
    assert!(out.concerns.is_empty());
    vm["disks"] = json!([{"name": "a", "capacity": 1}, {"name": "b", "capacity": 1}]);
    let out = v.validate("ova", &vm).unwrap();
    assert_eq!(out.concerns.len(), 1);
    assert_eq!(out.concerns[0].label, "Multiple disks detected");
    assert_eq!(out.concerns[0].id, "");
    assert_ne!(v.digest(), Validator::bundled().unwrap().digest());
}

#[test]
fn user_rules_from_a_config_map_in_v1_syntax() {
    let rule = r#"package io.konveyor.forklift.ova
import rego.v1
concerns contains {"id": "site.big_memory", "category": "Warning", "label": "Big VM", "assessment": "Over 64 GiB"} if input.memoryMB > 65536
"#;
    let data = BTreeMap::from([
        ("big_memory.rego".to_owned(), rule.to_owned()),
        ("notes.txt".to_owned(), "ignored".to_owned()),
    ]);
    let v = Validator::builder()
        .config_map("openshift-mtv/forklift-validation-config", &data)
        .unwrap()
        .build()
        .unwrap();
    let mut vm = clean_vm();
    vm["memoryMB"] = json!(131072);
    let out = v.validate("ova", &vm).unwrap();
    assert_eq!(ids(&out), ["site.big_memory"]);
}

#[test]
fn broken_user_rule_names_file_and_line() {
    let data = BTreeMap::from([(
        "broken.rego".to_owned(),
        "package io.konveyor.forklift.ova\n\nconcerns[flag] {\n  flag := {\"a\": \n}\n".to_owned(),
    )]);
    let err = Validator::builder()
        .config_map("ns/rules", &data)
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Policy);
    assert!(
        err.to_string().contains("configmap/ns/rules/broken.rego"),
        "{err}"
    );
    let full = err.full_message();
    // The engine's message carries file:line:column.
    let at = full.find("broken.rego:").expect("file named") + "broken.rego:".len();
    assert!(
        full[at..].starts_with(|c: char| c.is_ascii_digit()),
        "{full}"
    );
}

#[test]
fn conflicting_user_rule_fails_at_build() {
    let data = BTreeMap::from([(
        "conflict.rego".to_owned(),
        "package io.konveyor.forklift.ova\nimport rego.v1\nRULES_VERSION := 99\n".to_owned(),
    )]);
    let err = Validator::builder()
        .config_map("ns/x", &data)
        .unwrap()
        .build()
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Policy | ErrorKind::Evaluation),
        "{err:?}"
    );
}

#[test]
fn policy_dirs_and_missing_dirs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let v = Validator::new(&[&root]).unwrap();
    assert_eq!(v.validate("ova", &clean_vm()).unwrap().rules_version, 6);
    assert_eq!(
        v.sources().len(),
        Validator::bundled().unwrap().sources().len()
    );
    let err = Validator::new(&["/nonexistent/ferry/policies"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("/nonexistent/ferry/policies"));
    let empty: [&str; 0] = [];
    assert_eq!(
        Validator::new(&empty).unwrap_err().kind(),
        ErrorKind::Policy
    );
}

#[test]
fn runaway_user_rule_is_stopped() {
    let rule = r#"package io.konveyor.forklift.ova
import rego.v1
concerns contains {"id": "slow", "category": "Warning", "label": "x", "assessment": "x"} if {
  input.slow == true
  count([x | some x in numbers.range(1, 20000); some y in numbers.range(1, 20000); x == y + 0.5]) >= 0
}
"#;
    let data = BTreeMap::from([("slow.rego".to_owned(), rule.to_owned())]);
    let v = Validator::builder()
        .config_map("ns/slow", &data)
        .unwrap()
        .time_limit(Duration::from_millis(200))
        .build()
        .unwrap();
    let mut vm = clean_vm();
    vm["slow"] = json!(true);
    assert!(v.validate("ova", &vm).is_err());
}

#[test]
fn validator_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Validator>();
}

#[test]
fn revalidation_version_follows_user_rules() {
    let rule = |id: &str| PolicySource {
        origin: "configmap/ns/forklift-validation-config/a.rego".into(),
        text: format!(
            "package io.konveyor.forklift.ova\nimport rego.v1\nconcerns contains {{\"id\": \"{id}\", \"category\": \"Warning\", \"label\": \"x\"}} if input.name\n"
        ),
        user: true,
    };
    let shipped = Validator::bundled().unwrap();
    assert!(!shipped.has_user_rules());
    assert_eq!(shipped.revalidation_version("ova").unwrap(), 6);
    let a = Validator::builder().source(rule("user.a")).build().unwrap();
    let b = Validator::builder().source(rule("user.b")).build().unwrap();
    assert!(a.has_user_rules());
    let va = a.revalidation_version("ova").unwrap();
    let vb = b.revalidation_version("ova").unwrap();
    assert!(va >= USER_RULES_VERSION_BASE && vb >= USER_RULES_VERSION_BASE);
    assert_ne!(va, vb);
    // Stable for the same rules (a restart does not revalidate).
    let again = Validator::builder().source(rule("user.a")).build().unwrap();
    assert_eq!(again.revalidation_version("ova").unwrap(), va);
    // Other packages keep their RULES_VERSION; the policies' own number is unchanged.
    assert_eq!(a.revalidation_version("vsphere").unwrap(), 6);
    assert_eq!(a.rules_version("ova").unwrap(), 6);
}
