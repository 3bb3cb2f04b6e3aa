//! Unit tests of the bundled vSphere pack (`policies/vmware`), one rule at a
//! time: it fires on the documented input, stays quiet on the example VM, and
//! handles missing fields, wrong types and edge values.
use serde_json::{Value, json};

use super::*;

fn example() -> Value {
    serde_json::from_str(include_str!("../../../policies/vmware/example-vm.json")).unwrap()
}

fn validator() -> Validator {
    Validator::bundled().unwrap()
}

/// Concerns of `vm` as `(id, category, label)`.
fn concerns(v: &Validator, vm: &Value) -> Vec<(String, String, String)> {
    let out = v.validate("vsphere", vm).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out.concerns
        .into_iter()
        .map(|c| (c.id, c.category, c.label))
        .collect()
}

fn ids(v: &Validator, vm: &Value) -> Vec<String> {
    concerns(v, vm).into_iter().map(|c| c.0).collect()
}

/// The example VM with `edit` applied.
fn vm_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut vm = example();
    edit(&mut vm);
    vm
}

#[test]
fn example_vm_is_clean_and_vsphere_maps_to_vmware() {
    let v = validator();
    let out = v.validate("vsphere", &example()).unwrap();
    assert_eq!(out.rules_version, 6);
    assert!(out.errors.is_empty());
    assert!(out.concerns.is_empty(), "{:?}", out.concerns);
    assert_eq!(v.rules_version("vsphere").unwrap(), 6);
    assert_eq!(v.rules_version("vmware").unwrap(), 6);
}

#[test]
fn missing_name_is_an_error() {
    let v = validator();
    for input in [json!({}), Value::Null, json!({"name": 3})] {
        let out = v.validate("vsphere", &input).unwrap();
        assert_eq!(out.errors.len(), 1, "{input}");
    }
}

/// One flag per case: `(what, edit, expected (id, category, label))`.
#[test]
fn each_vm_level_rule_fires_alone_with_its_label() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Edit, (&str, &str, &str))> = vec![
        (
            Box::new(|vm| vm["changeTrackingEnabled"] = json!(false)),
            (
                "vmware.changed_block_tracking.disabled",
                "Warning",
                "Changed Block Tracking (CBT) not enabled",
            ),
        ),
        (
            Box::new(|vm| vm["consolidationNeeded"] = json!(true)),
            (
                "vmware.consolidation_needed",
                "Warning",
                "Snapshot consolidation required",
            ),
        ),
        (
            Box::new(|vm| vm["cpuAffinity"] = json!([0, 1])),
            (
                "vmware.cpu_affinity.detected",
                "Warning",
                "CPU affinity detected",
            ),
        ),
        (
            Box::new(|vm| vm["cpuHotRemoveEnabled"] = json!(true)),
            (
                "vmware.cpu_memory.hotplug.enabled",
                "Warning",
                "CPU/Memory hotplug detected",
            ),
        ),
        (
            Box::new(|vm| vm["disks"][1]["datastore"]["id"] = json!("")),
            (
                "vmware.datastore.missing",
                "Critical",
                "Disk is not located on a datastore",
            ),
        ),
        (
            Box::new(|vm| vm["disks"][0]["mode"] = json!("independent_nonpersistent")),
            (
                "vmware.disk_mode.independent",
                "Warning",
                "Independent disk detected",
            ),
        ),
        (
            Box::new(|vm| vm["diskEnableUuid"] = json!(true)),
            (
                "vmware.disk_serial.truncated",
                "Information",
                "Disk serial numbers may be truncated",
            ),
        ),
        (
            Box::new(|vm| vm["host"]["cluster"]["dpmEnabled"] = json!(true)),
            ("vmware.dpm.enabled", "Information", "vSphere DPM detected"),
        ),
        (
            Box::new(|vm| vm["host"]["cluster"]["drsEnabled"] = json!(true)),
            (
                "vmware.drs.enabled",
                "Information",
                "VM running in a DRS-enabled cluster",
            ),
        ),
        (
            Box::new(|vm| vm["faultToleranceEnabled"] = json!(true)),
            (
                "vmware.fault_tolerance.enabled",
                "Information",
                "Fault tolerance",
            ),
        ),
        (
            Box::new(|vm| {
                vm["host"]["cluster"]["hostAffinityVms"] = json!([{"kind": "VM", "id": "vm-42"}])
            }),
            (
                "vmware.host_affinity.detected",
                "Warning",
                "VM-Host affinity detected",
            ),
        ),
        (
            Box::new(|vm| vm["hostName"] = json!("")),
            ("vmware.hostname.empty", "Warning", "Empty Host Name"),
        ),
        (
            Box::new(|vm| vm["hostName"] = json!("localhost.localdomain")),
            ("vmware.hostname.default", "Warning", "Default Host Name"),
        ),
        (
            Box::new(|vm| vm["guestNetworks"] = json!([])),
            (
                "vmware.vm_missing_ip.detected",
                "Warning",
                "VM is missing IP addresses",
            ),
        ),
        (
            Box::new(|vm| vm["name"] = json!("Web_01")),
            ("vmware.vm.name.invalid", "Warning", "Invalid VM Name"),
        ),
        (
            Box::new(|vm| vm["numaNodeAffinity"] = json!([1])),
            (
                "vmware.numa_affinity.detected",
                "Warning",
                "NUMA node affinity detected",
            ),
        ),
        (
            Box::new(|vm| vm["devices"][2]["kind"] = json!("VirtualPCIPassthrough")),
            (
                "vmware.passthrough_device.detected",
                "Critical",
                "Passthrough device detected",
            ),
        ),
        (
            Box::new(|vm| vm["disks"][1]["rdm"] = json!(true)),
            (
                "vmware.disk.rdm.detected",
                "Warning",
                "Raw Device Mapped disk detected",
            ),
        ),
        (
            Box::new(|vm| vm["disks"][1]["shared"] = json!(true)),
            (
                "vmware.disk.shared.detected",
                "Warning",
                "Shared disk detected",
            ),
        ),
        (
            Box::new(|vm| {
                vm["snapshot"] = json!({"kind": "VirtualMachineSnapshot", "id": "snapshot-3"})
            }),
            (
                "vmware.snapshot.detected",
                "Information",
                "VM snapshot detected",
            ),
        ),
        (
            Box::new(|vm| vm["devices"][1]["kind"] = json!("VirtualSriovEthernetCard")),
            (
                "vmware.device.sriov.detected",
                "Warning",
                "SR-IOV passthrough adapter configuration detected",
            ),
        ),
        (
            Box::new(|vm| vm["tpmEnabled"] = json!(true)),
            ("vmware.tpm.detected", "Warning", "TPM detected"),
        ),
        (
            Box::new(|vm| vm["devices"] = json!([{"kind": "VirtualTPM", "key": 11000}])),
            ("vmware.tpm.detected", "Warning", "TPM detected"),
        ),
        (
            Box::new(|vm| vm["devices"][0]["kind"] = json!("VirtualUSBController")),
            (
                "vmware.usb_controller.detected",
                "Warning",
                "USB controller detected",
            ),
        ),
        (
            Box::new(|vm| vm["devices"][0]["kind"] = json!("VirtualUSBXHCIController")),
            (
                "vmware.usb_controller.detected",
                "Warning",
                "USB controller detected",
            ),
        ),
        (
            Box::new(|vm| {
                vm["guestId"] = json!("rhel6_64Guest");
                vm["guestNameFromVmwareTools"] = json!("Red Hat Enterprise Linux 6 (64-bit)");
            }),
            (
                "vmware.os.unsupported",
                "Warning",
                "Unsupported operating system detected",
            ),
        ),
    ];
    let v = validator();
    for (edit, (id, category, label)) in cases {
        let vm = vm_with(|vm| edit(vm));
        let got = concerns(&v, &vm);
        assert_eq!(
            got,
            [(id.to_owned(), category.to_owned(), label.to_owned())],
            "{id}"
        );
    }
}

#[test]
fn vm_flags_fire_only_on_a_real_true_or_false() {
    let v = validator();
    // A string or number is not the boolean vSphere reports: no concern.
    for (key, value) in [
        ("changeTrackingEnabled", json!("false")),
        ("changeTrackingEnabled", json!(0)),
        ("changeTrackingEnabled", Value::Null),
        ("consolidationNeeded", json!("true")),
        ("faultToleranceEnabled", json!(1)),
        ("tpmEnabled", json!("true")),
        ("memoryHotAddEnabled", json!("true")),
        ("diskEnableUuid", json!("true")),
    ] {
        let vm = vm_with(|vm| vm[key] = value.clone());
        assert!(ids(&v, &vm).is_empty(), "{key} = {value}");
    }
    // A missing field is not judged.
    for key in [
        "changeTrackingEnabled",
        "hostName",
        "guestNetworks",
        "cpuAffinity",
        "numaNodeAffinity",
        "snapshot",
        "devices",
        "guestDisks",
        "guestId",
        "host",
        "disks",
    ] {
        let vm = vm_with(|vm| {
            vm.as_object_mut().unwrap().remove(key);
        });
        assert!(ids(&v, &vm).is_empty(), "{key} missing");
    }
}

#[test]
fn per_disk_cbt_names_each_disk_by_bus_controller_and_unit() {
    let v = validator();
    let vm = vm_with(|vm| {
        vm["disks"][1]["changeTrackingEnabled"] = json!(false);
        vm["disks"].as_array_mut().unwrap().extend([
            json!({"key": 3000, "bus": "ide", "controllerKey": 201, "unitNumber": 1, "changeTrackingEnabled": false,
                   "capacity": 1, "datastore": {"kind": "Datastore", "id": "datastore-11"}}),
            json!({"key": 16000, "bus": "sata", "controllerKey": 15000, "unitNumber": 0, "changeTrackingEnabled": false,
                   "capacity": 1, "datastore": {"kind": "Datastore", "id": "datastore-11"}}),
            json!({"key": 16001, "bus": "nvme", "controllerKey": 31001, "unitNumber": 3, "changeTrackingEnabled": false,
                   "capacity": 1, "datastore": {"kind": "Datastore", "id": "datastore-11"}}),
            json!({"key": 2009, "file": "[ds] x/x_2.vmdk", "changeTrackingEnabled": false,
                   "capacity": 1, "datastore": {"kind": "Datastore", "id": "datastore-11"}}),
            json!({"key": 2010, "changeTrackingEnabled": false,
                   "capacity": 1, "datastore": {"kind": "Datastore", "id": "datastore-11"}}),
            json!({"changeTrackingEnabled": false,
                   "capacity": 1, "datastore": {"kind": "Datastore", "id": "datastore-11"}}),
        ]);
    });
    let labels: Vec<String> = concerns(&v, &vm).into_iter().map(|c| c.2).collect();
    assert_eq!(
        labels,
        [
            "Disk - [ds] x/x_2.vmdk does not have CBT enabled",
            "Disk - ide1:1 does not have CBT enabled",
            "Disk - key 2010 does not have CBT enabled",
            "Disk - nvme1:3 does not have CBT enabled",
            "Disk - sata0:0 does not have CBT enabled",
            "Disk - scsi0:1 does not have CBT enabled",
            "Disk - unknown does not have CBT enabled",
        ]
    );
    // CBT on, or not a boolean: no per-disk concern.
    let vm = vm_with(|vm| vm["disks"][0]["changeTrackingEnabled"] = json!("false"));
    assert!(ids(&v, &vm).is_empty());
}

#[test]
fn disk_size_flags_zero_and_negative_capacity_per_disk() {
    let v = validator();
    for (cap, fires) in [
        (json!(0), true),
        (json!(-1), true),
        (json!(0.0), true),
        (json!(-0.5), true),
        (json!(1), false),
        (json!(0.5), false),
        (json!("0"), false),
        (Value::Null, false),
    ] {
        let vm = vm_with(|vm| vm["disks"][1]["capacity"] = cap.clone());
        let got = concerns(&v, &vm);
        if fires {
            assert_eq!(got.len(), 1, "capacity {cap}");
            assert_eq!(got[0].0, "vmware.disk.capacity.invalid");
            assert_eq!(got[0].1, "Critical");
        } else {
            assert!(got.is_empty(), "capacity {cap}: {got:?}");
        }
    }
    let vm = vm_with(|vm| {
        vm["disks"][0]["capacity"] = json!(0);
        vm["disks"][1]["capacity"] = json!(-1024);
        vm["disks"][1]["file"] = json!("");
    });
    let labels: Vec<String> = concerns(&v, &vm).into_iter().map(|c| c.2).collect();
    assert_eq!(
        labels,
        [
            "Disk '[datastore1] web-01/web-01.vmdk' has an invalid capacity of 0 bytes",
            "Disk 'scsi0:1' has an invalid capacity of -1024 bytes",
        ]
    );
    // A missing capacity is not judged.
    let vm = vm_with(|vm| {
        vm["disks"][0].as_object_mut().unwrap().remove("capacity");
    });
    assert!(ids(&v, &vm).is_empty());
}

#[test]
fn disk_count_limit_is_165() {
    let v = validator();
    let disk = example()["disks"][0].clone();
    for (n, fires) in [(165, false), (166, true)] {
        let vm = vm_with(|vm| vm["disks"] = Value::Array(vec![disk.clone(); n]));
        let got = concerns(&v, &vm);
        if fires {
            assert_eq!(
                got,
                [(
                    "vmware.disk.count.exceeds.limit".to_owned(),
                    "Warning".to_owned(),
                    "VM has 166 disks, which exceeds the limit of 165".to_owned()
                )]
            );
        } else {
            assert!(got.is_empty(), "{n} disks");
        }
    }
}

#[test]
fn datastore_missing_when_the_reference_id_is_empty() {
    let v = validator();
    // As Forklift: only an empty id counts; no reference or no id is not judged.
    for (value, fires) in [
        (Some(json!({"kind": "Datastore", "id": ""})), true),
        (Some(json!({"kind": "", "id": ""})), true),
        (Some(json!({"kind": "Datastore"})), false),
        (Some(Value::Null), false),
        (Some(json!({"id": 11})), false),
        (None, false),
        (
            Some(json!({"kind": "Datastore", "id": "datastore-12"})),
            false,
        ),
    ] {
        let vm = vm_with(|vm| match &value {
            Some(d) => vm["disks"][0]["datastore"] = d.clone(),
            None => {
                vm["disks"][0].as_object_mut().unwrap().remove("datastore");
            }
        });
        let got = ids(&v, &vm);
        assert_eq!(
            got == ["vmware.datastore.missing"],
            fires,
            "{value:?}: {got:?}"
        );
    }
    // Disks that are not objects are skipped, not judged.
    let vm = vm_with(|vm| vm["disks"] = json!([null, 1, "disk"]));
    assert!(ids(&v, &vm).is_empty());
}

#[test]
fn disk_serial_needs_a_scsi_disk() {
    let v = validator();
    let vm = vm_with(|vm| {
        vm["diskEnableUuid"] = json!(true);
        vm["disks"][0]["bus"] = json!("sata");
        vm["disks"][1]["bus"] = json!("nvme");
    });
    assert!(ids(&v, &vm).is_empty());
    let vm = vm_with(|vm| {
        vm["diskEnableUuid"] = json!(true);
        vm["disks"][0]["bus"] = json!("sata");
    });
    assert_eq!(ids(&v, &vm), ["vmware.disk_serial.truncated"]);
}

#[test]
fn cluster_rules_need_the_host_cluster_object() {
    let v = validator();
    // The VM's host as a bare reference (detail 1): nothing to judge.
    let vm = vm_with(|vm| vm["host"] = json!({"kind": "Host", "id": "host-21"}));
    assert!(ids(&v, &vm).is_empty());
    // Affinity to another VM, or a VM without an id: no concern.
    for (vm_id, affinity) in [
        (json!("vm-42"), json!([{"kind": "VM", "id": "vm-7"}])),
        (json!("vm-42"), json!(["vm-42"])),
        (Value::Null, json!([{"kind": "VM", "id": "vm-42"}])),
    ] {
        let vm = vm_with(|vm| {
            vm["id"] = vm_id.clone();
            vm["host"]["cluster"]["hostAffinityVms"] = affinity.clone();
        });
        assert!(ids(&v, &vm).is_empty(), "{vm_id} {affinity}");
    }
    let vm = vm_with(|vm| {
        vm["host"]["cluster"] = json!({"drsEnabled": true, "dpmEnabled": true,
            "hostAffinityVms": [{"kind": "VM", "id": "vm-1"}, {"kind": "VM", "id": "vm-42"}]});
    });
    assert_eq!(
        ids(&v, &vm),
        [
            "vmware.host_affinity.detected",
            "vmware.dpm.enabled",
            "vmware.drs.enabled"
        ]
    );
}

#[test]
fn guest_filesystem_free_space_thresholds() {
    let v = validator();
    let mib = 1_048_576_i64;
    for (path, free, fires) in [
        ("/", 100 * mib - 1, true),
        ("/", 100 * mib, false),
        ("/boot", 50 * mib - 1, true),
        ("/boot", 50 * mib, false),
        ("C:\\", 99 * mib, true),
        ("c:", 100 * mib, false),
        ("/var", 10 * mib - 1, true),
        ("/var", 10 * mib, false),
        ("D:\\", 9 * mib, true),
    ] {
        let vm = vm_with(|vm| {
            vm["guestDisks"] = json!([{"key": 2000, "diskPath": path, "freeSpace": free}])
        });
        let got = concerns(&v, &vm);
        if fires {
            assert_eq!(
                got,
                [(
                    "vmware.guestDisks.freespace".to_owned(),
                    "Critical".to_owned(),
                    format!("Insufficient free space for conversion on '{path}'")
                )],
                "{path} {free}"
            );
        } else {
            assert!(got.is_empty(), "{path} {free}: {got:?}");
        }
    }
    let vm = vm_with(|vm| vm["guestDisks"] = json!([{"diskPath": "/", "freeSpace": 5 * mib}]));
    let out = v.validate("vsphere", &vm).unwrap();
    assert!(
        out.concerns[0].assessment.contains("has 5 MiB free"),
        "{}",
        out.concerns[0].assessment
    );
    assert!(out.concerns[0].assessment.contains("at least 100 MiB"));
    // Unknown free space or path: not judged.
    for disk in [
        json!({"diskPath": "/"}),
        json!({"freeSpace": 0}),
        json!({"diskPath": "/", "freeSpace": "0"}),
    ] {
        let vm = vm_with(|vm| vm["guestDisks"] = json!([disk.clone()]));
        assert!(ids(&v, &vm).is_empty(), "{disk}");
    }
}

#[test]
fn windows_guest_disks_without_a_key() {
    let v = validator();
    let disks = json!([
        {"key": 2000, "diskPath": "C:\\", "freeSpace": 21474836480i64},
        {"key": 0, "diskPath": "D:\\", "freeSpace": 21474836480i64},
        {"diskPath": "E:\\", "freeSpace": 21474836480i64}
    ]);
    let vm = vm_with(|vm| {
        vm["guestId"] = json!("windows2019srv_64Guest");
        vm["guestDisks"] = disks.clone();
    });
    let got: Vec<(String, String)> = concerns(&v, &vm).into_iter().map(|c| (c.1, c.2)).collect();
    assert_eq!(
        got,
        [
            (
                "Information".to_owned(),
                "Missing disk key mapping for 'D:\\'".to_owned()
            ),
            (
                "Information".to_owned(),
                "Missing disk key mapping for 'E:\\'".to_owned()
            ),
        ]
    );
    // Linux guests do not need the mapping.
    let vm = vm_with(|vm| {
        vm["guestDisks"] = disks.clone();
    });
    assert!(ids(&v, &vm).is_empty());
}

#[test]
fn hostname_and_ip_edges() {
    let v = validator();
    for (name, want) in [
        ("", vec!["vmware.hostname.empty"]),
        ("localhost.localdomain", vec!["vmware.hostname.default"]),
        ("localhost", vec![]),
        ("LOCALHOST.LOCALDOMAIN", vec![]),
        ("db-01.example.com", vec![]),
    ] {
        let vm = vm_with(|vm| vm["hostName"] = json!(name));
        assert_eq!(ids(&v, &vm), want, "{name:?}");
    }
    for (nets, fires) in [
        (json!([]), true),
        (json!([{"device": "eth0", "ip": ""}]), false),
        (json!([{"device": "eth0"}]), false),
        (json!([{"ip": ""}, {"ip": "fe80::1"}]), false),
        (json!("10.0.0.1"), false),
        (json!(""), true),
        (json!({}), true),
        (Value::Null, false),
        (json!(4), false),
    ] {
        let vm = vm_with(|vm| vm["guestNetworks"] = nets.clone());
        assert_eq!(
            ids(&v, &vm) == ["vmware.vm_missing_ip.detected"],
            fires,
            "{nets}"
        );
    }
}

#[test]
fn device_kinds_are_matched_exactly() {
    let v = validator();
    for kind in [
        "virtualusbcontroller",
        "VirtualPCIPassthroughX",
        "VirtualE1000",
        "",
    ] {
        let vm = vm_with(|vm| vm["devices"] = json!([{"kind": kind}]));
        assert!(ids(&v, &vm).is_empty(), "{kind}");
    }
    let vm = vm_with(|vm| vm["devices"] = json!([{"kind": "VirtualSCSIPassthrough"}, null, 3]));
    assert_eq!(ids(&v, &vm), ["vmware.passthrough_device.detected"]);
    let vm = vm_with(|vm| vm["devices"] = json!({"kind": "VirtualTPM"}));
    assert!(ids(&v, &vm).is_empty());
}

#[test]
fn supported_os_matches_guest_id_case_insensitively() {
    let v = validator();
    for (id, fires) in [
        ("rhel6Guest", true),
        ("RHEL6_64GUEST", true),
        ("photon64Guest", true),
        ("ubuntu64Guest", true),
        ("rhel7_64Guest", false),
        ("RHEL9_64GUEST", false),
        ("windows2019srv_64Guest", false),
    ] {
        let vm = vm_with(|vm| {
            vm["guestId"] = json!(id);
            vm.as_object_mut()
                .unwrap()
                .remove("guestNameFromVmwareTools");
        });
        let out = v.validate("vsphere", &vm).unwrap();
        assert_eq!(out.concerns.len(), usize::from(fires), "{id}");
    }
}

#[test]
fn everything_at_once_sorts_critical_first() {
    let v = validator();
    let vm = vm_with(|vm| {
        vm["devices"] =
            json!([{"kind": "VirtualPCIPassthrough"}, {"kind": "VirtualUSBController"}]);
        vm["disks"][0]["capacity"] = json!(0);
        vm["disks"][1]["rdm"] = json!(true);
        vm["snapshot"] = json!({"kind": "VirtualMachineSnapshot", "id": "snapshot-1"});
    });
    let cats: Vec<String> = concerns(&v, &vm).into_iter().map(|c| c.1).collect();
    assert_eq!(
        cats,
        ["Critical", "Critical", "Warning", "Warning", "Information"]
    );
}
