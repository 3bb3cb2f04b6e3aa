//! End to end from the oVirt engine simulator and a real ovirt-imageio
//! daemon (crates/ferry-testutil/ovirt): `ferry migrate` cold-migrates a
//! two-disk, two-NIC VM (qcow2 disks with data and holes, read as raw
//! through qemu-nbd), a VM whose image transfer the engine pauses and one
//! deleted from the engine when its transfer starts. The
//! good VM's disks come out `qemu-img compare`-identical, imageio served
//! exactly the allocated bytes, its manifest carries the MACs, CPU
//! topology, memory and firmware (UEFI with secure boot), its transfers
//! are finalized and the source stays down; the paused transfer fails its
//! VM with the phase named, is cancelled, and that source is started
//! again; the deleted VM fails saying it was deleted. The password appears
//! nowhere.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{run_ferry, yaml};
use ferry_testutil::{OvirtSim, Scenario, SimDisk, SimNic, SimVm, peer, qemu_img, qemu_io_write};
use serde_json::Value;

const MIB: u64 = 1 << 20;

/// A qcow2 disk `dir/name.qcow2` of `size_mib` with `writes` (MiB offset,
/// MiB length, pattern); returns its allocated bytes.
fn make_disk(dir: &Path, name: &str, size_mib: u64, writes: &[(u64, u64, u8)]) -> u64 {
    let path = dir.join(format!("{name}.qcow2"));
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        path.to_str().unwrap(),
        &format!("{size_mib}M"),
    ]);
    for (off, len, pat) in writes {
        qemu_io_write(&path, "qcow2", *pat, off * MIB, len * MIB);
    }
    writes.iter().map(|(_, len, _)| len * MIB).sum()
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// Secret, Providers, maps and Plan for `vms` of the simulator.
fn manifests_for(sim: &OvirtSim, vms: &[&str]) -> String {
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: openshift-mtv
---
apiVersion: v1
kind: Secret
metadata:
  name: engine
  namespace: openshift-mtv
stringData:
  user: "{user}"
  password: "{password}"
  cacert: |
{cacert}---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata:
  name: rhv
  namespace: openshift-mtv
spec:
  type: ovirt
  url: "{url}"
  secret:
    name: engine
    namespace: openshift-mtv
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata:
  name: host
  namespace: openshift-mtv
spec:
  type: openshift
  url: ""
  secret: {{}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata:
  name: rhv-net
  namespace: openshift-mtv
spec:
  provider:
    source: {{name: rhv, namespace: openshift-mtv}}
    destination: {{name: host, namespace: openshift-mtv}}
  map:
    - source: {{name: ovirtmgmt}}
      destination: {{type: pod}}
    - source: {{name: vmnet}}
      destination: {{type: multus, namespace: vms, name: storage-net}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata:
  name: rhv-storage
  namespace: openshift-mtv
spec:
  provider:
    source: {{name: rhv, namespace: openshift-mtv}}
    destination: {{name: host, namespace: openshift-mtv}}
  map:
    - source: {{name: data1}}
      destination: {{storageClass: standard-csi}}
    - source: {{name: data2}}
      destination: {{storageClass: standard-csi}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata:
  name: from-rhv
  namespace: openshift-mtv
spec:
  targetNamespace: vms
  provider:
    source: {{name: rhv, namespace: openshift-mtv}}
    destination: {{name: host, namespace: openshift-mtv}}
  map:
    network: {{name: rhv-net, namespace: openshift-mtv}}
    storage: {{name: rhv-storage, namespace: openshift-mtv}}
  vms:
{vms}"#,
        user = sim.info.username,
        password = sim.info.password,
        cacert = indent(&sim.info.ca_pem, 4),
        url = sim.info.url,
        vms = vms
            .iter()
            .map(|v| format!("    - name: {v}\n"))
            .collect::<String>(),
    )
}

#[test]
fn migrate_a_two_disk_two_nic_vm_from_ovirt() {
    for tool in ["qemu-img", "qemu-io"] {
        if peer(tool).is_none() {
            return;
        }
    }
    let dir = ferry_testutil::tempdir();
    let work = dir.path();
    let sample = work.join("sample");
    std::fs::create_dir_all(&sample).unwrap();
    let os_alloc = make_disk(
        &sample,
        "web-os",
        64,
        &[(0, 2, 0x11), (30, 1, 0x22), (63, 1, 0x33)],
    );
    let data_alloc = make_disk(&sample, "web-data", 32, &[(1, 3, 0x44), (20, 1, 0x55)]);
    make_disk(&sample, "broken", 8, &[(0, 1, 0x66)]);
    make_disk(&sample, "gone", 8, &[(0, 1, 0x77)]);
    let disk = |name: &str, sd: &str| SimDisk::new(&sample.join(format!("{name}.qcow2")), sd);
    let mut paused = disk("broken", "data1");
    paused.pause_transfers = true;
    let scenario = Scenario {
        vms: vec![
            SimVm {
                name: "web".into(),
                sockets: 2,
                cores: 2,
                threads: 1,
                memory: 3 << 30,
                bios: "q35_secure_boot".into(),
                nics: vec![
                    SimNic {
                        mac: "56:6f:00:00:00:01".into(),
                        profile: "ovirtmgmt".into(),
                    },
                    SimNic {
                        mac: "56:6f:00:00:00:02".into(),
                        profile: "vmnet".into(),
                    },
                ],
                disks: vec![disk("web-os", "data1"), disk("web-data", "data2")],
                ..SimVm::default()
            },
            // Deleted from the engine when its disk's transfer starts.
            SimVm {
                name: "gone".into(),
                disks: vec![disk("gone", "data2")],
                delete_on_transfer: true,
                ..SimVm::default()
            },
            SimVm {
                name: "broken".into(),
                nics: vec![SimNic {
                    mac: "56:6f:00:00:00:09".into(),
                    profile: "ovirtmgmt".into(),
                }],
                disks: vec![paused],
                ..SimVm::default()
            },
        ],
        ..Scenario::default()
    };
    let Some(sim) = ferry_testutil::ovirt_sim(&scenario) else {
        return;
    };
    std::fs::write(
        work.join("migration.yaml"),
        manifests_for(&sim, &["web", "broken", "gone"]),
    )
    .unwrap();
    let out = common::ferry(work, &["-o", "json", "--timeout", "300"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "one VM must fail:\n{stdout}\n{stderr}\n{}",
        sim.log()
    );
    assert!(!stdout.contains(&sim.info.password) && !stderr.contains(&sim.info.password));
    let summary: Vec<Value> = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}\n{}", sim.log()));
    let row = |vm: &str| summary.iter().find(|r| r["vm"] == vm).unwrap().clone();
    assert_eq!(row("web")["result"], "Succeeded", "{stdout}\n{stderr}");
    assert_eq!(row("web")["copied_mb"], 96, "{stdout}");
    let failed = row("broken");
    assert_eq!(failed["result"], "Failed", "{stdout}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("paused_system"), "{failed}");
    let gone = row("gone");
    assert_eq!(gone["result"], "Failed", "{stdout}");
    let error = gone["error"].as_str().unwrap();
    assert!(error.contains("was deleted from the engine"), "{gone}");

    // Disks identical to their sources.
    let web = sim.info.vms["web"].clone();
    let target = row("web")["target"].as_str().unwrap().to_owned();
    let manifests = work.join("data/local/manifests/vms").join(&target);
    let mut compared = 0;
    for entry in std::fs::read_dir(&manifests).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("datavolume-") {
            continue;
        }
        let ann = yaml(&path)["metadata"]["annotations"].clone();
        let image = work
            .join("data")
            .join(ann["ferry.konveyor.io/image-file"].as_str().unwrap());
        let disk_id = ann["forklift.konveyor.io/disk-source"].as_str().unwrap();
        let disk_name = sim
            .info
            .disks
            .iter()
            .find(|(_, id)| *id == disk_id)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| panic!("disk-source {disk_id} is no disk of the engine"));
        let source = if disk_name == "web_Disk1" {
            "web-os"
        } else {
            "web-data"
        };
        let reference = sample.join(format!("{source}.qcow2"));
        assert!(
            ferry_testutil::images_identical(&reference, &image),
            "{} differs from {}",
            image.display(),
            reference.display()
        );
        compared += 1;
    }
    assert_eq!(compared, 2);

    // The VM carries the source's hardware and MACs; networks by map.
    let vm = yaml(&manifests.join("virtualmachine.yaml"));
    let domain = &vm["spec"]["template"]["spec"]["domain"];
    assert_eq!(domain["cpu"]["sockets"], 2, "{domain}");
    assert_eq!(domain["cpu"]["cores"], 2, "{domain}");
    assert_eq!(domain["memory"]["guest"], "3072Mi", "{domain}");
    assert!(
        domain["firmware"]["bootloader"]["efi"].is_object(),
        "{domain}"
    );
    assert_eq!(
        domain["firmware"]["bootloader"]["efi"]["secureBoot"], true,
        "{domain}"
    );
    let macs: Vec<&str> = domain["devices"]["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["macAddress"].as_str().unwrap())
        .collect();
    assert_eq!(macs, ["56:6f:00:00:00:01", "56:6f:00:00:00:02"]);
    let nets = vm["spec"]["template"]["spec"]["networks"]
        .as_array()
        .unwrap();
    assert!(nets.iter().any(|n| n["pod"].is_object()), "{nets:?}");
    assert!(
        nets.iter()
            .any(|n| n["multus"]["networkName"] == "vms/storage-net"),
        "{nets:?}"
    );
    assert_eq!(vm["spec"]["runStrategy"], "Always");

    // The engine's side: web's transfers finalized after reading exactly
    // the allocated bytes, web left down; broken's transfer cancelled and
    // broken running again; no disk left locked.
    let state = sim.state();
    let broken = sim.info.vms["broken"].clone();
    assert_eq!(state.vms[&web], "down", "{state:?}");
    assert_eq!(state.vms[&broken], "up", "{state:?}");
    assert!(state.disks.values().all(|s| s == "ok"), "{state:?}");
    let mut served: Vec<(String, u64)> = state
        .transfers
        .iter()
        .filter(|t| t.phase == "finished_success")
        .map(|t| (t.disk.clone(), t.transferred))
        .collect();
    served.sort();
    let mut want = vec![
        (sim.info.disks["web_Disk1"].clone(), os_alloc),
        (sim.info.disks["web_Disk2"].clone(), data_alloc),
    ];
    want.sort();
    assert_eq!(served, want, "{state:?}");
    let broken_disk = sim.info.disks["broken_Disk1"].clone();
    let gone_disk = sim.info.disks["gone_Disk1"].clone();
    for (disk, phase) in [
        (&broken_disk, "finished_failure"),
        (&gone_disk, "cancelled_system"),
    ] {
        let of_disk: Vec<_> = state.transfers.iter().filter(|t| &t.disk == disk).collect();
        assert!(!of_disk.is_empty(), "{state:?}");
        assert!(of_disk.iter().all(|t| t.phase == phase), "{state:?}");
    }
    assert!(!state.vms.contains_key(&sim.info.vms["gone"]), "{state:?}");
    assert!(
        state
            .actions
            .iter()
            .any(|a| a == &format!("start {broken}")),
        "{state:?}"
    );

    // The plan, with the oVirt pack's concerns, and no secret.
    let described = run_ferry(&[
        "plan",
        "describe",
        "from-rhv",
        "--data-dir",
        work.join("data").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&described.stdout).to_string();
    let web_line = text
        .lines()
        .find(|l| l.starts_with("web "))
        .unwrap_or_else(|| panic!("no row for web:\n{text}"));
    // q35_secure_boot and the engine's default `migratable` placement.
    assert!(
        web_line.contains("Warning: UEFI secure boot detected"),
        "{text}"
    );
    assert!(
        web_line.contains("Warning: Placement policy affinity"),
        "{text}"
    );
    assert!(!text.contains(&sim.info.password));
}
