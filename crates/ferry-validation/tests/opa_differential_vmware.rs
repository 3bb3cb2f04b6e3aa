//! Differential test for the vSphere pack (`policies/vmware`): every input
//! gives the same `validate` document in regorus (ferry) and in real OPA.
//! Inputs: the documented example VM, each field of every rule set to good,
//! bad, edge, missing and wrongly typed values, whole-VM combinations, and
//! generated VMs.
//!
//! OPA comes from `.ci/opa.sh` (the `ferry-opa-python` peer); without it the
//! test is skipped locally and fails under FERRY_REQUIRE_PEERS=1.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use serde_json::{Value, json};

fn clean_vm() -> Value {
    serde_json::from_str(include_str!("../../../policies/vmware/example-vm.json")).unwrap()
}

/// Sets `value` at `path` (object keys, or array indexes as numbers) in a
/// copy of the clean VM; `None` removes the last key.
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

/// Values every field is also tried with: wrong types and null.
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

fn disk(i: usize) -> Value {
    json!({
        "key": 2000 + i, "unitNumber": i % 16, "controllerKey": 1000 + i / 16,
        "file": format!("[datastore1] big/big_{i}.vmdk"),
        "datastore": {"kind": "Datastore", "id": "datastore-11"},
        "capacity": 1073741824, "shared": false, "rdm": false, "bus": "scsi",
        "mode": "persistent", "changeTrackingEnabled": true
    })
}

fn cases() -> Vec<(String, Value)> {
    let mut c: Vec<(String, Value)> = vec![("example".into(), clean_vm())];
    // VM-level flags.
    for key in [
        "changeTrackingEnabled",
        "consolidationNeeded",
        "faultToleranceEnabled",
        "cpuHotAddEnabled",
        "cpuHotRemoveEnabled",
        "memoryHotAddEnabled",
        "tpmEnabled",
        "diskEnableUuid",
    ] {
        field_cases(&mut c, &[key], vec![json!("true"), json!("false")]);
    }
    field_cases(
        &mut c,
        &["cpuAffinity"],
        vec![json!([0]), json!([0, 2, 4]), json!([null])],
    );
    field_cases(
        &mut c,
        &["numaNodeAffinity"],
        vec![json!([0]), json!([1, 3])],
    );
    field_cases(
        &mut c,
        &["name"],
        vec![
            json!("Web 01"),
            json!("WEB"),
            json!("web_01"),
            json!("-web"),
            json!("web-"),
            json!("a".repeat(63)),
            json!("a".repeat(64)),
            json!("web.example.com"),
            json!("wéb"),
        ],
    );
    field_cases(
        &mut c,
        &["hostName"],
        vec![
            json!("localhost.localdomain"),
            json!("localhost"),
            json!("LOCALHOST"),
            json!("web-01"),
        ],
    );
    for key in ["guestNameFromVmwareTools", "guestName"] {
        field_cases(
            &mut c,
            &[key],
            vec![
                json!("Ubuntu Linux (64-bit)"),
                json!("Microsoft Windows Server 2012 (64-bit)"),
                json!("Microsoft Windows Server 2022 (64-bit)"),
                json!("Red Hat Enterprise Linux 7 (64-bit)"),
                json!(""),
            ],
        );
    }
    // The OS allow-list: every combination of id, Tools name and configured name.
    for id in [
        json!("ubuntu64Guest"),
        json!("rhel8_64Guest"),
        json!(""),
        Value::Null,
    ] {
        for tools in [
            json!("CentOS 7 (64-bit)"),
            json!("Microsoft Windows 11 (64-bit)"),
            json!(""),
            json!(3),
            Value::Null,
        ] {
            for name in [
                json!("SUSE Linux Enterprise 15 (64-bit)"),
                json!("Red Hat Enterprise Linux 9 (64-bit)"),
                Value::Null,
            ] {
                let mut vm = clean_vm();
                let obj = vm.as_object_mut().unwrap();
                for (k, v) in [
                    ("guestId", &id),
                    ("guestNameFromVmwareTools", &tools),
                    ("guestName", &name),
                ] {
                    if v.is_null() {
                        obj.remove(k);
                    } else {
                        obj.insert(k.to_owned(), v.clone());
                    }
                }
                c.push((format!("guest os id={id} tools={tools} name={name}"), vm));
            }
        }
    }
    field_cases(
        &mut c,
        &["guestId"],
        vec![
            json!("rhel6Guest"),
            json!("rhel6_64Guest"),
            json!("photon64Guest"),
            json!("photonGuest"),
            json!("RHEL6_64GUEST"),
            json!("rhel7_64Guest"),
            json!("windows2019srv_64Guest"),
            json!("otherGuest"),
        ],
    );
    field_cases(
        &mut c,
        &["snapshot"],
        vec![
            json!({"kind": "VirtualMachineSnapshot", "id": "snapshot-5"}),
            json!({"kind": "", "id": ""}),
            json!({"kind": "Snapshot"}),
        ],
    );
    field_cases(
        &mut c,
        &["snapshot", "kind"],
        vec![json!("VirtualMachineSnapshot")],
    );
    field_cases(
        &mut c,
        &["guestNetworks"],
        vec![
            json!([{"device": "eth0", "ip": ""}]),
            json!([{"device": "eth0"}]),
            json!([{"ip": "fe80::1"}, {"ip": ""}]),
            json!([null, 3]),
        ],
    );
    // Devices.
    for kind in [
        "VirtualPCIPassthrough",
        "VirtualSCSIPassthrough",
        "VirtualSriovEthernetCard",
        "VirtualTPM",
        "VirtualUSBController",
        "VirtualUSBXHCIController",
        "VirtualE1000",
        "virtualusbcontroller",
    ] {
        field_cases(&mut c, &["devices", "0", "kind"], vec![json!(kind)]);
        c.push((
            format!("devices only {kind}"),
            edit(&["devices"], Some(json!([{"kind": kind}]))),
        ));
    }
    field_cases(&mut c, &["devices"], vec![json!([null, "VirtualTPM", 7])]);
    // Disks, through the first disk's fields.
    field_cases(
        &mut c,
        &["disks", "0", "capacity"],
        vec![
            json!(-1073741824),
            json!(0.0),
            json!(-0.5),
            json!(0.5),
            json!("0"),
            json!(-9223372036854775807i64),
            json!(1e300),
        ],
    );
    field_cases(
        &mut c,
        &["disks", "0", "mode"],
        vec![
            json!("independent_persistent"),
            json!("independent_nonpersistent"),
            json!("nonpersistent"),
            json!("undoable"),
            json!("Independent_Persistent"),
        ],
    );
    field_cases(&mut c, &["disks", "0", "rdm"], vec![json!("true")]);
    field_cases(&mut c, &["disks", "0", "shared"], vec![json!("true")]);
    field_cases(&mut c, &["disks", "0", "changeTrackingEnabled"], vec![]);
    field_cases(
        &mut c,
        &["disks", "0", "bus"],
        vec![json!("sata"), json!("ide"), json!("nvme"), json!("SCSI")],
    );
    field_cases(
        &mut c,
        &["disks", "0", "datastore"],
        vec![
            json!({"kind": "Datastore", "id": ""}),
            json!({"kind": "Datastore"}),
            json!({"id": 11}),
            json!({"id": "datastore-12"}),
        ],
    );
    field_cases(
        &mut c,
        &["disks", "0", "datastore", "id"],
        vec![json!("ds")],
    );
    field_cases(
        &mut c,
        &["disks", "0", "file"],
        vec![json!("[ds] a/b.vmdk")],
    );
    // The per-disk CBT label: how the device name is built from its fields.
    for (what, fields) in [
        (
            "ide",
            json!({"bus": "ide", "controllerKey": 201, "unitNumber": 1}),
        ),
        (
            "sata",
            json!({"bus": "sata", "controllerKey": 15000, "unitNumber": 3}),
        ),
        (
            "nvme",
            json!({"bus": "nvme", "controllerKey": 31002, "unitNumber": 14}),
        ),
        (
            "scsi3",
            json!({"bus": "scsi", "controllerKey": 1003, "unitNumber": 15}),
        ),
        (
            "float keys",
            json!({"bus": "scsi", "controllerKey": 1001.0, "unitNumber": 2.0}),
        ),
        (
            "fraction key",
            json!({"bus": "scsi", "controllerKey": 1000.5, "unitNumber": 2}),
        ),
        (
            "negative unit",
            json!({"bus": "scsi", "controllerKey": 1000, "unitNumber": -1}),
        ),
        (
            "no bus",
            json!({"bus": null, "controllerKey": 1000, "unitNumber": 2}),
        ),
        (
            "empty bus",
            json!({"bus": "", "controllerKey": 1000, "unitNumber": 2}),
        ),
        (
            "no bus no file",
            json!({"bus": null, "file": null, "key": 2007}),
        ),
        (
            "nothing",
            json!({"bus": null, "file": null, "key": null, "controllerKey": null}),
        ),
        (
            "string key",
            json!({"bus": null, "file": "", "key": "2000"}),
        ),
    ] {
        let mut vm = edit(&["disks", "0", "changeTrackingEnabled"], Some(json!(false)));
        let d = &mut vm["disks"][0];
        for (k, v) in fields.as_object().unwrap() {
            d[k] = v.clone();
        }
        c.push((format!("disk name {what} without cbt"), vm.clone()));
        vm["disks"][0]["capacity"] = json!(0);
        c.push((format!("disk name {what} zero capacity"), vm));
    }
    field_cases(
        &mut c,
        &["disks"],
        vec![
            json!([null, 1, "d"]),
            json!({"a": {"capacity": 0}}),
            Value::Array((0..165).map(disk).collect()),
            Value::Array((0..166).map(disk).collect()),
        ],
    );
    let mut all_bad: Vec<Value> = (0..170).map(disk).collect();
    for d in &mut all_bad {
        d["capacity"] = json!(0);
        d["changeTrackingEnabled"] = json!(false);
    }
    c.push((
        "170 bad disks".into(),
        edit(&["disks"], Some(Value::Array(all_bad))),
    ));
    // Two disks raising the same per-disk concern label.
    let mut twins = clean_vm();
    for i in 0..2 {
        twins["disks"][i]["changeTrackingEnabled"] = json!(false);
        twins["disks"][i]["unitNumber"] = json!(0);
    }
    c.push(("two disks with one device name".into(), twins));
    // Cluster flags and host affinity, through `host.cluster`.
    for key in ["drsEnabled", "dpmEnabled"] {
        field_cases(&mut c, &["host", "cluster", key], vec![json!("true")]);
    }
    field_cases(
        &mut c,
        &["host", "cluster", "hostAffinityVms"],
        vec![
            json!([{"kind": "VM", "id": "vm-42"}]),
            json!([{"kind": "VM", "id": "vm-7"}, {"kind": "VM", "id": "vm-42"}]),
            json!([{"kind": "VM", "id": "vm-7"}]),
            json!(["vm-42"]),
            json!([{"id": 42}]),
        ],
    );
    field_cases(
        &mut c,
        &["host", "cluster"],
        vec![json!({"drsEnabled": true, "dpmEnabled": true})],
    );
    field_cases(
        &mut c,
        &["host"],
        vec![json!({"kind": "Host", "id": "host-21"})],
    );
    let mut affinity = edit(
        &["host", "cluster", "hostAffinityVms"],
        Some(json!([{"id": "vm-42"}])),
    );
    affinity["id"] = json!(null);
    c.push(("host affinity without vm id".into(), affinity));
    // Guest disks: free space thresholds per mount point.
    for (path, free) in [
        ("/", 104857599),
        ("/", 104857600),
        ("/boot", 52428799),
        ("/boot", 52428800),
        ("/var", 10485759),
        ("/var", 10485760),
        ("C:\\", 1048576),
        ("c:", 104857600),
        ("C:/", 0),
        ("D:\\", 5242880),
        ("", 0),
    ] {
        c.push((
            format!("guest disk {path} free {free}"),
            edit(
                &["guestDisks", "0"],
                Some(json!({"key": 2000, "diskPath": path, "freeSpace": free})),
            ),
        ));
    }
    for v in [json!(-1), json!(1.5), json!("1"), json!(null), json!(1e20)] {
        c.push((
            format!("guest disk free {v}"),
            edit(&["guestDisks", "0", "freeSpace"], Some(v)),
        ));
    }
    field_cases(
        &mut c,
        &["guestDisks"],
        vec![json!([null, 3, "x"]), json!([{"diskPath": "/"}])],
    );
    field_cases(&mut c, &["guestDisks", "0", "diskPath"], vec![]);
    // Windows guests: disk key mapping.
    let mut windows = edit(&["guestId"], Some(json!("windows2019srv_64Guest")));
    windows["guestDisks"] = json!([
        {"key": 2000, "diskPath": "C:\\", "freeSpace": 21474836480i64},
        {"key": 0, "diskPath": "D:\\", "freeSpace": 21474836480i64},
        {"diskPath": "E:\\", "freeSpace": 21474836480i64},
        {"key": "2001", "diskPath": "F:\\", "freeSpace": 21474836480i64},
        {"key": 0, "freeSpace": 21474836480i64}
    ]);
    c.push(("windows guest disks".into(), windows.clone()));
    for id in ["WINDOWS9_64Guest", "windows7Guest", "winNetStandardGuest"] {
        let mut w = windows.clone();
        w["guestId"] = json!(id);
        c.push((format!("guestId {id} with unmapped disks"), w));
    }
    // Everything at once.
    let mut worst = clean_vm();
    for (k, v) in [
        ("name", json!("Bad Name!")),
        ("changeTrackingEnabled", json!(false)),
        ("consolidationNeeded", json!(true)),
        ("cpuAffinity", json!([1])),
        ("numaNodeAffinity", json!([0])),
        ("memoryHotAddEnabled", json!(true)),
        ("faultToleranceEnabled", json!(true)),
        ("tpmEnabled", json!(true)),
        ("diskEnableUuid", json!(true)),
        ("hostName", json!("")),
        ("guestId", json!("windows9Guest")),
        ("guestNetworks", json!([])),
        (
            "snapshot",
            json!({"kind": "VirtualMachineSnapshot", "id": "snapshot-1"}),
        ),
        (
            "devices",
            json!([{"kind": "VirtualPCIPassthrough"}, {"kind": "VirtualSriovEthernetCard"}, {"kind": "VirtualUSBXHCIController"}]),
        ),
        ("guestDisks", json!([{"diskPath": "C:\\", "freeSpace": 1}])),
    ] {
        worst[k] = v;
    }
    worst["host"]["cluster"] = json!({"drsEnabled": true, "dpmEnabled": true, "hostAffinityVms": [{"kind": "VM", "id": "vm-42"}]});
    let mut disks: Vec<Value> = (0..166).map(disk).collect();
    disks[0] = json!({"key": 2000, "file": "", "bus": "scsi", "controllerKey": 1000, "unitNumber": 0,
        "capacity": 0, "mode": "independent_persistent", "rdm": true, "shared": true,
        "changeTrackingEnabled": false, "datastore": {"kind": "Datastore", "id": ""}});
    worst["disks"] = Value::Array(disks);
    c.push(("everything".into(), worst));
    // Not VMs at all.
    for v in [
        json!({}),
        json!(null),
        json!([]),
        json!("vm"),
        json!(7),
        json!({"name": {}}),
        json!({"name": "x", "host": "host-1", "disks": "none", "devices": {"kind": "VirtualTPM"}}),
    ] {
        c.push((format!("input {v}"), v));
    }
    c
}

/// Deterministic random VM documents: each field of the example VM either
/// kept, removed, or drawn from a pool of values that trigger, miss or break
/// the rules.
fn random_cases(n: usize) -> Vec<(String, Value)> {
    let mut rng = common::Rng::new(0x5eed_0ff3_7721);
    let bools = [
        json!(true),
        json!(false),
        json!(null),
        json!("true"),
        json!(1),
    ];
    let lists = [json!([]), json!([0, 1]), json!(null), json!("0"), json!({})];
    let names = [
        json!("web-01"),
        json!("Web 01"),
        json!(""),
        json!("x".repeat(64)),
        json!(3),
    ];
    let host_names = [
        json!("web-01"),
        json!(""),
        json!("localhost.localdomain"),
        json!(null),
    ];
    let guest_ids = [
        json!("rhel9_64Guest"),
        json!("rhel6_64Guest"),
        json!("windows2019srv_64Guest"),
        json!("ubuntu64Guest"),
        json!(null),
    ];
    let guest_names = [
        json!("Red Hat Enterprise Linux 9 (64-bit)"),
        json!("Ubuntu Linux (64-bit)"),
        json!("Microsoft Windows Server 2016 (64-bit)"),
        json!(""),
        json!(null),
    ];
    let kinds = [
        json!("VirtualPCIPassthrough"),
        json!("VirtualSriovEthernetCard"),
        json!("VirtualTPM"),
        json!("VirtualUSBController"),
        json!("VirtualVmxnet3"),
        json!(null),
    ];
    let caps = [
        json!(1073741824),
        json!(0),
        json!(-5),
        json!(0.5),
        json!("1"),
        json!(null),
    ];
    let modes = [
        json!("persistent"),
        json!("independent_persistent"),
        json!(null),
        json!(1),
    ];
    let buses = [json!("scsi"), json!("sata"), json!(null)];
    let datastores = [
        json!({"kind": "Datastore", "id": "datastore-11"}),
        json!({"kind": "Datastore", "id": ""}),
        json!(null),
    ];
    let paths = [
        json!("/"),
        json!("/boot"),
        json!("C:\\"),
        json!("/home"),
        json!(null),
    ];
    let frees = [
        json!(0),
        json!(20971520),
        json!(209715200),
        json!(null),
        json!(-3),
    ];
    let affinity = [
        json!([]),
        json!([{"id": "vm-42"}]),
        json!([{"id": "vm-1"}]),
        json!(null),
    ];
    let mut out = Vec::new();
    for i in 0..n {
        let mut vm = clean_vm();
        let scalars: [(&str, &[Value]); 16] = [
            ("name", &names),
            ("hostName", &host_names),
            ("guestId", &guest_ids),
            ("guestNameFromVmwareTools", &guest_names),
            ("guestName", &guest_names),
            ("changeTrackingEnabled", &bools),
            ("consolidationNeeded", &bools),
            ("faultToleranceEnabled", &bools),
            ("cpuHotAddEnabled", &bools),
            ("memoryHotAddEnabled", &bools),
            ("tpmEnabled", &bools),
            ("diskEnableUuid", &bools),
            ("cpuAffinity", &lists),
            ("numaNodeAffinity", &lists),
            ("guestNetworks", &lists),
            ("snapshot", &lists),
        ];
        for (key, pool) in scalars {
            match rng.below(4) {
                0 => {
                    vm.as_object_mut().unwrap().remove(key);
                }
                1 => vm[key] = rng.pick(pool),
                _ => {}
            }
        }
        let disk_count = [0, 1, 3, 166][rng.below(4)];
        let disks: Vec<Value> = (0..disk_count)
            .map(|d| {
                let mut disk = disk(d);
                for (key, pool) in [
                    ("capacity", &caps[..]),
                    ("mode", &modes[..]),
                    ("bus", &buses[..]),
                    ("rdm", &bools[..]),
                    ("shared", &bools[..]),
                    ("changeTrackingEnabled", &bools[..]),
                    ("datastore", &datastores[..]),
                ] {
                    if rng.below(5) == 0 {
                        disk[key] = rng.pick(pool);
                    }
                }
                disk
            })
            .collect();
        vm["disks"] = Value::Array(disks);
        let devices: Vec<Value> = (0..rng.below(4))
            .map(|_| json!({"kind": rng.pick(&kinds)}))
            .collect();
        vm["devices"] = Value::Array(devices);
        let guest_disks: Vec<Value> = (0..rng.below(3))
            .map(|_| {
                let key = rng.pick(&[json!(0), json!(2000), json!(null)]);
                json!({"key": key, "diskPath": rng.pick(&paths), "freeSpace": rng.pick(&frees)})
            })
            .collect();
        vm["guestDisks"] = Value::Array(guest_disks);
        match rng.below(4) {
            0 => vm["host"] = json!(null),
            1 => {
                vm["host"]["cluster"] = json!({
                    "drsEnabled": rng.pick(&bools),
                    "dpmEnabled": rng.pick(&bools),
                    "hostAffinityVms": rng.pick(&affinity),
                })
            }
            _ => {}
        }
        out.push((format!("random #{i}"), vm));
    }
    out
}

#[test]
fn regorus_agrees_with_opa_on_every_vmware_case() {
    if ferry_testutil::peer("ferry-opa-python").is_none() {
        return;
    }
    let mut cases = cases();
    cases.extend(random_cases(500));
    let concern_ids = common::assert_agree("vmware", &cases);
    // The table exercises every shipped concern.
    let want = [
        "vmware.changed_block_tracking.disabled",
        "vmware.changed_block_tracking.disk.disabled",
        "vmware.consolidation_needed",
        "vmware.cpu_affinity.detected",
        "vmware.cpu_memory.hotplug.enabled",
        "vmware.datastore.missing",
        "vmware.device.sriov.detected",
        "vmware.disk.capacity.invalid",
        "vmware.disk.count.exceeds.limit",
        "vmware.disk.rdm.detected",
        "vmware.disk.shared.detected",
        "vmware.disk_mode.independent",
        "vmware.disk_serial.truncated",
        "vmware.dpm.enabled",
        "vmware.drs.enabled",
        "vmware.fault_tolerance.enabled",
        "vmware.guestDisks.freespace",
        "vmware.guestDisks.key.not_found",
        "vmware.host_affinity.detected",
        "vmware.hostname.default",
        "vmware.hostname.empty",
        "vmware.numa_affinity.detected",
        "vmware.os.unsupported",
        "vmware.passthrough_device.detected",
        "vmware.snapshot.detected",
        "vmware.tpm.detected",
        "vmware.usb_controller.detected",
        "vmware.vm.name.invalid",
        "vmware.vm_missing_ip.detected",
    ];
    assert_eq!(
        concern_ids.iter().map(String::as_str).collect::<Vec<_>>(),
        want
    );
}

#[test]
fn vmware_rules_version_agrees_with_opa() {
    if ferry_testutil::peer("ferry-opa-python").is_none() {
        return;
    }
    common::assert_rules_version_agrees("vmware");
}
