//! Differential test for the oVirt pack (`policies/ovirt`): every input
//! gives the same `validate` document in regorus (ferry) and in real OPA.
//! Inputs: the example VM, each field every rule reads set to good, bad,
//! missing and wrongly typed values, and generated VMs.
//!
//! OPA comes from `.ci/opa.sh` (the `ferry-opa-python` peer); without it the
//! test is skipped locally and fails under FERRY_REQUIRE_PEERS=1.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use serde_json::{Value, json};

fn clean_vm() -> Value {
    serde_json::from_str(include_str!("../../../policies/ovirt/example-vm.json")).unwrap()
}

/// A copy of the clean VM with `value` at `path` (keys, or array indexes
/// as numbers); `None` removes the last key.
fn edit(path: &[&str], value: Option<Value>) -> Value {
    let mut vm = clean_vm();
    let (last, parents) = path.split_last().unwrap();
    let mut cur = &mut vm;
    for key in parents {
        cur = match key.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*key],
        };
    }
    match value {
        Some(v) => match last.parse::<usize>() {
            Ok(i) => cur[i] = v,
            Err(_) => cur[*last] = v,
        },
        None => {
            if let Some(obj) = cur.as_object_mut() {
                obj.remove(*last);
            }
        }
    }
    vm
}

fn odd_values() -> Vec<Value> {
    vec![
        json!(null),
        json!("x"),
        json!(""),
        json!(0),
        json!(1),
        json!(-1),
        json!(1.5),
        json!(true),
        json!(false),
        json!([]),
        json!({}),
    ]
}

fn field_cases(c: &mut Vec<(String, Value)>, path: &[&str], specific: Vec<Value>) {
    let mut values = specific;
    values.extend(odd_values());
    for v in values {
        c.push((format!("{} = {v}", path.join(".")), edit(path, Some(v))));
    }
    c.push((format!("{} missing", path.join(".")), edit(path, None)));
}

fn cases() -> Vec<(String, Value)> {
    let mut c = vec![("example".to_owned(), clean_vm())];
    let s = |v: &[&str]| v.iter().map(|x| json!(x)).collect::<Vec<_>>();
    field_cases(
        &mut c,
        &["name"],
        s(&["Web_01", "web-", &"a".repeat(64), "db1"]),
    );
    field_cases(
        &mut c,
        &["status"],
        s(&["down", "migrating", "powering_down", "Up"]),
    );
    field_cases(
        &mut c,
        &["bios"],
        s(&["q35_secure_boot", "i440fx_sea_bios"]),
    );
    field_cases(&mut c, &["haEnabled"], vec![]);
    field_cases(&mut c, &["usbEnabled"], vec![]);
    field_cases(&mut c, &["customCpuModel"], s(&["Haswell-noTSX"]));
    field_cases(
        &mut c,
        &["customProperties"],
        vec![json!([{"name": "sap_agent", "value": "true"}])],
    );
    field_cases(
        &mut c,
        &["placementPolicyAffinity"],
        s(&["migratable", "pinned"]),
    );
    field_cases(
        &mut c,
        &["osType"],
        s(&["rhel_6", "rhel_6x64", "rhel_7x64", "windows_2022"]),
    );
    field_cases(
        &mut c,
        &["storageErrorResumeBehaviour"],
        s(&["kill", "leave_paused"]),
    );
    field_cases(&mut c, &["nics"], vec![json!([json!(null), json!(7)])]);
    field_cases(
        &mut c,
        &["nics", "0", "interface"],
        s(&["pci_passthrough", "e1000e", "rtl8139"]),
    );
    field_cases(&mut c, &["nics", "1", "plugged"], vec![]);
    field_cases(
        &mut c,
        &["diskAttachments"],
        vec![json!([json!(null), json!("d")])],
    );
    field_cases(
        &mut c,
        &["diskAttachments", "0", "interface"],
        s(&["ide", "sata", "spapr_vscsi"]),
    );
    field_cases(&mut c, &["diskAttachments", "0", "disk"], vec![]);
    for field in ["status", "storageType", "provisionedSize", "shared"] {
        let specific = match field {
            "status" => s(&["locked", "illegal", "ok"]),
            "storageType" => s(&["lun", "cinder", "managed_block_storage", "image"]),
            "provisionedSize" => vec![json!(0), json!(-5), json!(1073741824)],
            _ => vec![],
        };
        field_cases(&mut c, &["diskAttachments", "1", "disk", field], specific);
    }
    c
}

fn random_cases(n: usize) -> Vec<(String, Value)> {
    let mut rng = common::Rng::new(11);
    let mut out = Vec::new();
    let strings = [
        json!("up"),
        json!("down"),
        json!("migrating"),
        json!("q35_secure_boot"),
        json!("q35_ovmf"),
        json!(""),
        json!(null),
        json!(3),
    ];
    let bools = [json!(true), json!(false), json!(null), json!("true")];
    let nic_ifaces = [
        json!("virtio"),
        json!("e1000"),
        json!("pci_passthrough"),
        json!(null),
    ];
    let disk_ifaces = [json!("virtio_scsi"), json!("ide"), json!("sata"), json!(1)];
    let statuses = [json!("ok"), json!("locked"), json!("illegal"), json!(null)];
    let types = [json!("image"), json!("lun"), json!("cinder"), json!(false)];
    let sizes = [json!(0), json!(1073741824), json!(-1), json!("10")];
    for i in 0..n {
        let mut vm = clean_vm();
        for key in [
            "status",
            "bios",
            "customCpuModel",
            "osType",
            "placementPolicyAffinity",
            "storageErrorResumeBehaviour",
        ] {
            if rng.below(3) == 0 {
                vm[key] = rng.pick(&strings);
            }
        }
        for key in ["haEnabled", "usbEnabled"] {
            if rng.below(3) == 0 {
                vm[key] = rng.pick(&bools);
            }
        }
        let nics: Vec<Value> = (0..rng.below(4))
            .map(|k| {
                json!({"id": format!("n{k}"), "interface": rng.pick(&nic_ifaces), "plugged": rng.pick(&bools)})
            })
            .collect();
        vm["nics"] = Value::Array(nics);
        let atts: Vec<Value> = (0..rng.below(4))
            .map(|k| {
                json!({"id": format!("d{k}"), "interface": rng.pick(&disk_ifaces), "disk": {
                    "id": format!("d{k}"), "status": rng.pick(&statuses), "storageType": rng.pick(&types),
                    "provisionedSize": rng.pick(&sizes), "shared": rng.pick(&bools)
                }})
            })
            .collect();
        vm["diskAttachments"] = Value::Array(atts);
        out.push((format!("random #{i}"), vm));
    }
    out
}

#[test]
fn regorus_agrees_with_opa_on_every_ovirt_case() {
    if ferry_testutil::peer("ferry-opa-python").is_none() {
        return;
    }
    let mut cases = cases();
    cases.extend(random_cases(300));
    let concern_ids = common::assert_agree("ovirt", &cases);
    // The table exercises every shipped concern.
    let want = [
        "ovirt.cpu.custom_model.detected",
        "ovirt.disk.capacity.invalid",
        "ovirt.disk.illegal_or_locked_status",
        "ovirt.disk.interface_type.unsupported",
        "ovirt.disk.shared.detected",
        "ovirt.disk.storage_type.unsupported",
        "ovirt.ha.enabled",
        "ovirt.name.invalid",
        "ovirt.nic.interface_type.unsupported",
        "ovirt.nic.unplugged.detected",
        "ovirt.os.unsupported",
        "ovirt.placement_policy.affinity_set",
        "ovirt.secure_boot.detected",
        "ovirt.storage.resume_behavior.unsupported",
        "ovirt.usb.enabled",
        "ovirt.vm.custom_properties.detected",
        "ovirt.vm.status_invalid",
    ];
    assert_eq!(
        concern_ids.iter().map(String::as_str).collect::<Vec<_>>(),
        want
    );
}

#[test]
fn the_example_vm_raises_no_concern() {
    let v = ferry_validation::Validator::bundled().unwrap();
    let out = v.validate("ovirt", &clean_vm()).unwrap();
    assert!(out.concerns.is_empty(), "{:?}", out.concerns);
}

#[test]
fn ovirt_rules_version_agrees_with_opa() {
    if ferry_testutil::peer("ferry-opa-python").is_none() {
        return;
    }
    common::assert_rules_version_agrees("ovirt");
}
