//! Forklift's rule semantics, written down from its rule text as a table:
//! for each input, whether Forklift's rule raises its concern (and with which
//! label). ferry's bundled packs must agree on every row. The rows cover the
//! cases where ferry once differed: the guest OS allow-list and its name
//! fields, datastore references, upper-case names, guest networks, default
//! host names and the OVA disk label.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_validation::Validator;
use serde_json::{Value, json};

fn vmware_example() -> Value {
    serde_json::from_str(include_str!("../../../policies/vmware/example-vm.json")).unwrap()
}

fn ova_clean() -> Value {
    json!({
        "name": "web-01",
        "ovaPath": "/nfs/web-01.ova",
        "ovaSource": "VMware",
        "cpuAffinity": [],
        "cpuHotAddEnabled": false,
        "cpuHotRemoveEnabled": false,
        "memoryHotAddEnabled": false,
        "disks": [{"name": "web-01-disk1.vmdk", "filePath": "/nfs/web-01.ova", "capacity": 16}],
        "integrity": {"manifestProblems": [], "fileProblems": []}
    })
}

/// Sets (or with `Value::Null` in `unset`, removes) top-level fields.
fn edit(mut vm: Value, set: &[(&str, Value)], unset: &[&str]) -> Value {
    let obj = vm.as_object_mut().unwrap();
    for k in unset {
        obj.remove(*k);
    }
    for (k, v) in set {
        obj.insert((*k).to_owned(), v.clone());
    }
    vm
}

/// One row: a description, the input, and the labels Forklift's rule gives
/// for the concern id (empty: it does not fire).
struct Row {
    what: &'static str,
    input: Value,
    labels: Vec<&'static str>,
}

fn check(provider: &str, id: &str, rows: Vec<Row>) {
    let v = Validator::bundled().unwrap();
    let mut wrong = Vec::new();
    for row in &rows {
        let out = v.validate(provider, &row.input).unwrap();
        let mut got: Vec<&str> = out
            .concerns
            .iter()
            .filter(|c| c.id == id)
            .map(|c| c.label.as_str())
            .collect();
        got.sort_unstable();
        let mut want = row.labels.clone();
        want.sort_unstable();
        if got != want {
            wrong.push(format!(
                "{id} / {}: ferry {got:?}, Forklift {want:?}",
                row.what
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

const OS: &str = "Unsupported operating system detected";

fn os_row(what: &'static str, set: &[(&str, Value)], fires: bool) -> Row {
    Row {
        what,
        input: edit(
            vmware_example(),
            set,
            &["guestId", "guestName", "guestNameFromVmwareTools"],
        ),
        labels: if fires { vec![OS] } else { vec![] },
    }
}

#[test]
fn guest_os_is_an_allow_list_over_id_and_names() {
    let s = |x: &str| json!(x);
    check(
        "vsphere",
        "vmware.os.unsupported",
        vec![
            os_row("RHEL 9 id", &[("guestId", s("rhel9_64Guest"))], false),
            os_row("RHEL 7 32-bit id", &[("guestId", s("rhel7Guest"))], false),
            os_row("RHEL 10 id", &[("guestId", s("rhel10_64Guest"))], false),
            os_row(
                "Windows 11 id",
                &[("guestId", s("windows11_64Guest"))],
                false,
            ),
            os_row(
                "Windows 2019 id",
                &[("guestId", s("windows2019srv_64Guest"))],
                false,
            ),
            os_row(
                "Windows 2025 id",
                &[("guestId", s("windows2022srvNext_64Guest"))],
                false,
            ),
            os_row("Ubuntu id", &[("guestId", s("ubuntu64Guest"))], true),
            os_row("CentOS id", &[("guestId", s("centos7_64Guest"))], true),
            os_row("SLES id", &[("guestId", s("sles15_64Guest"))], true),
            os_row(
                "Windows 2012 id",
                &[("guestId", s("windows8Server64Guest"))],
                true,
            ),
            os_row("RHEL 6 id", &[("guestId", s("rhel6_64Guest"))], true),
            os_row("Photon id", &[("guestId", s("vmwarePhoton64Guest"))], true),
            os_row("empty id", &[("guestId", s(""))], true),
            os_row("nothing known", &[], false),
            os_row(
                "supported Tools name, no id",
                &[(
                    "guestNameFromVmwareTools",
                    s("Red Hat Enterprise Linux 8 (64-bit)"),
                )],
                false,
            ),
            os_row(
                "unsupported Tools name, no id",
                &[("guestNameFromVmwareTools", s("Ubuntu Linux (64-bit)"))],
                true,
            ),
            os_row(
                "Windows Server 2012 Tools name",
                &[(
                    "guestNameFromVmwareTools",
                    s("Microsoft Windows Server 2012 (64-bit)"),
                )],
                true,
            ),
            os_row(
                "other id, supported Tools name",
                &[
                    ("guestId", s("otherGuest64")),
                    (
                        "guestNameFromVmwareTools",
                        s("Microsoft Windows Server 2019 (64-bit)"),
                    ),
                ],
                false,
            ),
            os_row(
                "unsupported id, empty Tools name, supported configured name",
                &[
                    ("guestId", s("otherLinux64Guest")),
                    ("guestNameFromVmwareTools", s("")),
                    ("guestName", s("Red Hat Enterprise Linux 9 (64-bit)")),
                ],
                false,
            ),
            os_row(
                "empty Tools name, unsupported configured name",
                &[
                    ("guestNameFromVmwareTools", s("")),
                    ("guestName", s("Ubuntu Linux (64-bit)")),
                ],
                true,
            ),
            os_row(
                "empty Tools name alone",
                &[("guestNameFromVmwareTools", s(""))],
                false,
            ),
            os_row(
                "non-string Tools name, supported configured name",
                &[
                    ("guestNameFromVmwareTools", Value::Null),
                    ("guestName", s("Microsoft Windows 11 (64-bit)")),
                ],
                false,
            ),
            os_row(
                "non-string Tools name, unsupported configured name",
                &[
                    ("guestNameFromVmwareTools", Value::Null),
                    ("guestName", s("CentOS 7 (64-bit)")),
                ],
                true,
            ),
            // Forklift's `not is_string(input.guestNameFromVmwareTools)` is
            // undefined in OPA when the field is absent: the configured
            // name is then not used at all.
            os_row(
                "no Tools name, unsupported configured name",
                &[("guestName", s("Ubuntu Linux (64-bit)"))],
                false,
            ),
            os_row(
                "unsupported Tools name beats a supported configured name",
                &[
                    (
                        "guestNameFromVmwareTools",
                        s("Debian GNU/Linux 12 (64-bit)"),
                    ),
                    ("guestName", s("Red Hat Enterprise Linux 9 (64-bit)")),
                ],
                true,
            ),
        ],
    );
}

fn disks_with(datastore: Option<Value>) -> Value {
    let mut vm = vmware_example();
    for d in vm["disks"].as_array_mut().unwrap() {
        let obj = d.as_object_mut().unwrap();
        match &datastore {
            Some(ds) => obj.insert("datastore".into(), ds.clone()),
            None => obj.remove("datastore"),
        };
    }
    vm
}

#[test]
fn datastore_missing_fires_on_an_empty_datastore_id_only() {
    const L: &str = "Disk is not located on a datastore";
    check(
        "vsphere",
        "vmware.datastore.missing",
        vec![
            Row {
                what: "empty reference (what the inventory writes)",
                input: disks_with(Some(json!({"kind": "", "id": ""}))),
                labels: vec![L],
            },
            Row {
                what: "no datastore key",
                input: disks_with(None),
                labels: vec![],
            },
            Row {
                what: "reference without id",
                input: disks_with(Some(json!({"kind": "Datastore"}))),
                labels: vec![],
            },
            Row {
                what: "a datastore",
                input: disks_with(Some(json!({"kind": "Datastore", "id": "datastore-1"}))),
                labels: vec![],
            },
        ],
    );
}

fn name_rows(base: fn() -> Value) -> Vec<Row> {
    let l = "Invalid VM Name";
    [
        ("web-01", false),
        ("Web-01", false),
        ("WEB.Example.com", false),
        ("", false),
        ("x", false),
        ("web_01", true),
        ("my/vm", true),
        ("web 01", true),
        ("-web", true),
        ("web-", true),
        (".web", true),
    ]
    .into_iter()
    .map(|(n, fires)| Row {
        what: n,
        input: edit(base(), &[("name", json!(n))], &[]),
        labels: if fires { vec![l] } else { vec![] },
    })
    .chain([
        Row {
            what: "63 characters",
            input: edit(base(), &[("name", json!("A".repeat(63)))], &[]),
            labels: vec![],
        },
        Row {
            what: "64 characters",
            input: edit(base(), &[("name", json!("a".repeat(64)))], &[]),
            labels: vec![l],
        },
    ])
    .collect()
}

#[test]
fn names_accept_upper_case_and_dots() {
    check(
        "vsphere",
        "vmware.vm.name.invalid",
        name_rows(vmware_example),
    );
    check("ova", "ova.name.invalid", name_rows(ova_clean));
}

#[test]
fn missing_ip_fires_on_an_empty_guest_network_list_only() {
    const L: &str = "VM is missing IP addresses";
    let row = |what, nets: Option<Value>, fires: bool| Row {
        what,
        input: match nets {
            Some(n) => edit(vmware_example(), &[("guestNetworks", n)], &[]),
            None => edit(vmware_example(), &[], &["guestNetworks"]),
        },
        labels: if fires { vec![L] } else { vec![] },
    };
    check(
        "vsphere",
        "vmware.vm_missing_ip.detected",
        vec![
            row("empty list", Some(json!([])), true),
            row(
                "network without ip",
                Some(json!([{"device": "ens192"}])),
                false,
            ),
            row("network with empty ip", Some(json!([{"ip": ""}])), false),
            row("network with ip", Some(json!([{"ip": "10.0.0.5"}])), false),
            row("no field", None, false),
        ],
    );
}

#[test]
fn default_host_name_is_localhost_localdomain_only() {
    let row = |name: &'static str, labels: Vec<&'static str>| Row {
        what: name,
        input: edit(vmware_example(), &[("hostName", json!(name))], &[]),
        labels,
    };
    check(
        "vsphere",
        "vmware.hostname.default",
        vec![
            row("localhost.localdomain", vec!["Default Host Name"]),
            row("localhost", vec![]),
            row("web-01", vec![]),
            row("", vec![]),
        ],
    );
    check(
        "vsphere",
        "vmware.hostname.empty",
        vec![row("", vec!["Empty Host Name"]), row("localhost", vec![])],
    );
}

#[test]
fn ova_disk_capacity_label_names_the_ova_path() {
    let disk = |d: Value| edit(ova_clean(), &[("disks", json!([d]))], &[]);
    check(
        "ova",
        "ova.disk.capacity.invalid",
        vec![
            Row {
                what: "zero",
                input: disk(
                    json!({"name": "d1.vmdk", "filePath": "/nfs/web-01.ova", "capacity": 0}),
                ),
                labels: vec!["Disk '/nfs/web-01.ova' has an invalid capacity of 0 bytes"],
            },
            Row {
                what: "negative",
                input: disk(
                    json!({"name": "d1.vmdk", "filePath": "/nfs/web-01.ova", "capacity": -2}),
                ),
                labels: vec!["Disk '/nfs/web-01.ova' has an invalid capacity of -2 bytes"],
            },
            Row {
                what: "null (ordered below numbers)",
                input: disk(
                    json!({"name": "d1.vmdk", "filePath": "/nfs/web-01.ova", "capacity": null}),
                ),
                labels: vec!["Disk '/nfs/web-01.ova' has an invalid capacity of null bytes"],
            },
            Row {
                what: "positive",
                input: disk(
                    json!({"name": "d1.vmdk", "filePath": "/nfs/web-01.ova", "capacity": 1}),
                ),
                labels: vec![],
            },
            Row {
                what: "a string",
                input: disk(
                    json!({"name": "d1.vmdk", "filePath": "/nfs/web-01.ova", "capacity": "0"}),
                ),
                labels: vec![],
            },
            Row {
                what: "no file path",
                input: disk(json!({"name": "d1.vmdk", "capacity": 0})),
                labels: vec![],
            },
        ],
    );
}
