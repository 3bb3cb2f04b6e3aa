//! End to end from the govmomi vSphere simulator: real VMDKs (qemu-img
//! made, with data and holes) are uploaded to a datastore and attached to
//! two VMs (one given a second NIC); `ferry migrate` cold-migrates both. The good VM's disks come
//! out `qemu-img compare`-identical, its manifest carries the source's
//! MACs, CPU topology, memory and firmware, and the source is left powered
//! off; the VM whose disk file vanished fails with a message naming the
//! file, and its source is powered back on. The password appears nowhere.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{run_ferry, yaml};
use ferry_testutil::{peer, qemu_img, qemu_io_write};
use ferry_vsphere::{Client, ClientOptions, MoRef, PowerState, Secret, TlsOptions};
use serde_json::Value;

const MIB: u64 = 1 << 20;

/// A raw reference with data at a few places, converted to `format`
/// (`-o` options in `opts`) as `dir/name.vmdk`.
fn make_disk(dir: &Path, name: &str, size_mib: u64, writes: &[(u64, u64, u8)], opts: &str) {
    let raw = dir.join(format!("reference/{name}.raw"));
    std::fs::create_dir_all(raw.parent().unwrap()).unwrap();
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "raw",
        raw.to_str().unwrap(),
        &format!("{size_mib}M"),
    ]);
    for (off, len, pat) in writes {
        qemu_io_write(&raw, "raw", *pat, off * MIB, len * MIB);
    }
    let out = dir.join(format!("upload/{name}.vmdk"));
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    qemu_img(&[
        "convert",
        "-q",
        "-f",
        "raw",
        "-O",
        "vmdk",
        "-o",
        opts,
        raw.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
}

/// A session to the simulator, trusting its certificate.
async fn connect(vc: &ferry_testutil::Vcsim) -> Client {
    let mut opts = ClientOptions::new(
        &vc.info.url,
        &vc.info.username,
        Secret::new(vc.info.password.clone()),
    );
    opts.tls = TlsOptions {
        cacert_pem: Some(vc.info.cert_pem.clone()),
        ..TlsOptions::default()
    };
    Client::connect(&opts).await.unwrap()
}

fn power(vc: &ferry_testutil::Vcsim, moref: &str) -> PowerState {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = connect(vc).await;
        c.power_state(&MoRef::new("VirtualMachine", moref))
            .await
            .unwrap()
    })
}

/// The simulator and a work directory, or `None` (the test skips) when a
/// peer is missing.
fn setup() -> Option<(ferry_testutil::Vcsim, tempfile::TempDir)> {
    for tool in ["qemu-img", "qemu-io"] {
        peer(tool)?;
    }
    let vc = ferry_testutil::vcsim()?;
    Some((vc, ferry_testutil::tempdir()))
}

/// Start `ferry migrate -o json EXTRA -f migration.yaml` in the background.
fn spawn_migrate(work: &Path, extra: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["migrate", "-o", "json"])
        .args(extra)
        .arg("-f")
        .arg(work.join("migration.yaml"))
        .arg("--data-dir")
        .arg(work.join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

#[test]
fn migrate_two_vms_from_the_simulator() {
    let Some((vc, dir)) = setup() else { return };
    let work = dir.path();
    let sample = work.join("sample");

    // web: a sparse disk and a flat (descriptor + extent) disk.
    make_disk(
        &sample,
        "web-os",
        64,
        &[(0, 2, 0x11), (30, 1, 0x22), (63, 1, 0x33)],
        "subformat=monolithicSparse",
    );
    make_disk(
        &sample,
        "web-data",
        32,
        &[(1, 3, 0x44), (20, 1, 0x55)],
        "subformat=monolithicFlat",
    );
    // broken: its disk file is removed after it was attached.
    make_disk(
        &sample,
        "broken",
        8,
        &[(0, 1, 0x66)],
        "subformat=monolithicSparse",
    );

    let vms = vc.vms();
    let web = vms
        .iter()
        .find(|(_, n)| n == "DC0_H0_VM0")
        .unwrap()
        .0
        .clone();
    let broken = vms
        .iter()
        .find(|(_, n)| n == "DC0_H0_VM1")
        .unwrap()
        .0
        .clone();
    let up = |name: &str| sample.join(format!("upload/{name}"));
    vc.upload(&up("web-os.vmdk"), "ferry/web-os.vmdk");
    vc.upload(&up("web-data.vmdk"), "ferry/web-data.vmdk");
    vc.upload(&up("web-data-flat.vmdk"), "ferry/web-data-flat.vmdk");
    vc.upload(&up("broken.vmdk"), "ferry/broken.vmdk");
    vc.attach_disk(&web, "ferry/web-os.vmdk", 64 * MIB);
    vc.attach_disk(&web, "ferry/web-data.vmdk", 32 * MIB);
    vc.attach_disk(&broken, "ferry/broken.vmdk", 8 * MIB);
    // A second NIC, on another network.
    vc.add_nic(&web, "VM Network", "00:50:56:aa:bb:01");
    std::fs::remove_file(vc.info.datastore_dir.join("ferry/broken.vmdk")).unwrap();
    assert_eq!(power(&vc, &web), PowerState::PoweredOn);
    assert_eq!(power(&vc, &broken), PowerState::PoweredOn);

    let port = vc.info.host.rsplit(':').next().unwrap().to_owned();
    // web's disks are read from its ESXi host (a Host CR) instead of vCenter.
    let host = format!(
        "---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Host\nmetadata:\n  name: esxi-h0\n  namespace: openshift-mtv\n  annotations:\n    ferry.konveyor.io/sdk-port: \"{port}\"\nspec:\n  name: DC0_H0\n  ipAddress: 127.0.0.1\n  provider: {{name: vcenter, namespace: openshift-mtv}}\n  secret: {{name: vcenter, namespace: openshift-mtv}}\n"
    );
    let manifest = manifests_for(&vc, &["DC0_H0_VM0", "DC0_H0_VM1"]) + &host;
    std::fs::write(work.join("migration.yaml"), manifest).unwrap();
    let out = run_output_of(work, &["-o", "json", "--timeout", "300"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "one VM must fail:\n{stdout}\n{stderr}"
    );
    assert!(!stdout.contains(&vc.info.password) && !stderr.contains(&vc.info.password));
    let summary: Vec<Value> =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let row = |vm: &str| summary.iter().find(|r| r["vm"] == vm).unwrap().clone();
    assert_eq!(
        row("DC0_H0_VM0")["result"],
        "Succeeded",
        "{stdout}\n{stderr}"
    );
    // Every disk's task ends at its full size in MB: the simulator's own
    // 1 MB disk, 64 and 32.
    assert_eq!(row("DC0_H0_VM0")["copied_mb"], 97, "{stdout}");
    let failed = row("DC0_H0_VM1");
    assert_eq!(failed["result"], "Failed", "{stdout}");
    assert!(
        failed["error"].as_str().unwrap().contains("broken.vmdk"),
        "{failed}"
    );

    assert_eq!(
        row("DC0_H0_VM0")["transfer_host"].as_str(),
        Some("Host/esxi-h0 (127.0.0.1)"),
        "{stdout}\n{stderr}"
    );
    // Disks identical; the VM carries the source's hardware.
    let target = row("DC0_H0_VM0")["target"].as_str().unwrap().to_owned();
    let mut dvs = 0;
    for entry in std::fs::read_dir(manifests_in(work, &target)).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        dvs += usize::from(name.starts_with("datavolume-"));
    }
    // The simulator's own disk1.vmdk plus the two attached here.
    assert_eq!(dvs, 3);
    assert_eq!(compare_disks_in(work, &target), 2);
    let store = ferry_inventory::store::Store::open_existing(
        &work
            .join("data/inventory")
            .join(ferry_inventory::DATABASE_FILE),
    )
    .unwrap();
    let p = store
        .providers()
        .unwrap()
        .into_iter()
        .find(|p| p.info.provider_type == "vsphere")
        .unwrap();
    let src = store
        .get(&p.info.uid, "vms", &web)
        .unwrap()
        .unwrap()
        .resource
        .object;
    let vm = yaml(&manifests_in(work, &target).join("virtualmachine.yaml"));
    let domain = &vm["spec"]["template"]["spec"]["domain"];
    let cpus = src["cpuCount"].as_i64().unwrap();
    let cores = src["coresPerSocket"].as_i64().unwrap().max(1);
    assert_eq!(domain["cpu"]["cores"].as_i64().unwrap(), cores);
    assert_eq!(
        domain["cpu"]["sockets"].as_i64().unwrap(),
        (cpus / cores).max(1)
    );
    assert_eq!(
        domain["memory"]["guest"].as_str().unwrap(),
        format!("{}Mi", src["memoryMB"].as_i64().unwrap())
    );
    let efi = src["firmware"] == "efi";
    assert_eq!(domain["firmware"]["bootloader"]["efi"].is_object(), efi);
    let src_macs: Vec<&str> = src["nics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["mac"].as_str().unwrap())
        .collect();
    let macs: Vec<&str> = domain["devices"]["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["macAddress"].as_str().unwrap())
        .collect();
    assert_eq!(macs.len(), 2, "two NICs: {macs:?}");
    assert_eq!(macs, src_macs);
    assert!(macs.contains(&"00:50:56:aa:bb:01"));
    // Through the NetworkMap: DC0_DVPG0 -> pod, VM Network -> multus.
    let nets = vm["spec"]["template"]["spec"]["networks"]
        .as_array()
        .unwrap();
    assert!(nets.iter().any(|n| n["pod"].is_object()), "{nets:?}");
    assert!(
        nets.iter()
            .any(|n| n["multus"]["networkName"] == "vms/storage-net"),
        "{nets:?}"
    );
    // The source was running: `auto` runs the target too.
    assert_eq!(vm["spec"]["runStrategy"], "Always");

    // The migrated source stays off; the failed one is back on.
    assert_eq!(power(&vc, &web), PowerState::PoweredOff);
    assert_eq!(power(&vc, &broken), PowerState::PoweredOn);

    // Nothing secret in the stored objects.
    let described = run_ferry(&[
        "plan",
        "describe",
        "from-vsphere",
        "--data-dir",
        work.join("data").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&described.stdout).to_string();
    assert!(text.contains("DC0_H0_VM0"), "{text}");
    assert!(!text.contains(&vc.info.password));
}

fn run_output_of(work: &Path, extra: &[&str]) -> std::process::Output {
    common::ferry(work, extra)
}

fn manifests_in(work: &Path, vm: &str) -> std::path::PathBuf {
    work.join("data/local/manifests/vms").join(vm)
}

/// `qemu-img compare` each migrated disk of `vm` that has a reference
/// named after its source file; returns how many were compared.
fn compare_disks_in(work: &Path, vm: &str) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(manifests_in(work, vm)).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("datavolume-")
        {
            continue;
        }
        let dv = yaml(&path);
        let ann = &dv["metadata"]["annotations"];
        // Relative to the data directory.
        let image = work
            .join("data")
            .join(ann["ferry.konveyor.io/image-file"].as_str().unwrap());
        let image = image.display().to_string();
        let source = ann["forklift.konveyor.io/disk-source"].as_str().unwrap();
        let stem = Path::new(source.rsplit('/').next().unwrap())
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let reference = work.join("sample/reference").join(format!("{stem}.raw"));
        if !reference.exists() {
            // The simulator's own (empty) disk: no reference was made.
            continue;
        }
        assert!(
            ferry_testutil::images_identical(&reference, Path::new(&image)),
            "{image} differs from {}",
            reference.display()
        );
        n += 1;
    }
    n
}

/// Secret, Providers, maps, Plan for `vms` of the simulator.
fn manifests_for(vc: &ferry_testutil::Vcsim, vms: &[&str]) -> String {
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: openshift-mtv
---
apiVersion: v1
kind: Secret
metadata:
  name: vcenter
  namespace: openshift-mtv
stringData:
  user: "{user}"
  password: "{password}"
  cacert: |
{cacert}---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata:
  name: vcenter
  namespace: openshift-mtv
spec:
  type: vsphere
  url: "{url}"
  secret:
    name: vcenter
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
  name: vsphere-net
  namespace: openshift-mtv
spec:
  provider:
    source: {{name: vcenter, namespace: openshift-mtv}}
    destination: {{name: host, namespace: openshift-mtv}}
  map:
    - source: {{name: DC0_DVPG0}}
      destination: {{type: pod}}
    - source: {{name: VM Network}}
      destination: {{type: multus, namespace: vms, name: storage-net}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata:
  name: vsphere-storage
  namespace: openshift-mtv
spec:
  provider:
    source: {{name: vcenter, namespace: openshift-mtv}}
    destination: {{name: host, namespace: openshift-mtv}}
  map:
    - source: {{name: {datastore}}}
      destination: {{storageClass: standard-csi}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata:
  name: from-vsphere
  namespace: openshift-mtv
spec:
  targetNamespace: vms
  provider:
    source: {{name: vcenter, namespace: openshift-mtv}}
    destination: {{name: host, namespace: openshift-mtv}}
  map:
    network: {{name: vsphere-net, namespace: openshift-mtv}}
    storage: {{name: vsphere-storage, namespace: openshift-mtv}}
  vms:
{vms}"#,
        user = vc.info.username,
        password = vc.info.password,
        cacert = indent(&vc.info.cert_pem, 4),
        url = vc.info.url,
        datastore = vc.info.datastore,
        vms = vms
            .iter()
            .map(|v| format!("    - name: {v}\n"))
            .collect::<String>(),
    )
}

/// A VM deleted while its disk is being copied fails with a message naming
/// the disk; nothing hangs.
#[test]
fn vm_deleted_mid_migration_fails_clearly() {
    let Some((vc, dir)) = setup() else { return };
    let work = dir.path();
    let sample = work.join("sample");
    make_disk(
        &sample,
        "big",
        64,
        &[(0, 48, 0x77)],
        "subformat=monolithicSparse",
    );
    let vms = vc.vms();
    let vm = vms
        .iter()
        .find(|(_, n)| n == "DC0_H0_VM0")
        .unwrap()
        .0
        .clone();
    vc.upload(&sample.join("upload/big.vmdk"), "ferry/big.vmdk");
    vc.attach_disk(&vm, "ferry/big.vmdk", 64 * MIB);
    std::fs::write(
        work.join("migration.yaml"),
        manifests_for(&vc, &["DC0_H0_VM0"]),
    )
    .unwrap();
    let child = spawn_migrate(work, &["--max-rate", "4M"]);
    // Wait until the big disk's volume has data, then delete the VM.
    let dir = work.join("data/local/volumes/vms");
    common::wait_for(
        "the big disk being copied",
        std::time::Duration::from_secs(120),
        || {
            std::fs::read_dir(&dir).is_ok_and(|d| {
                d.filter_map(|e| e.ok()).any(|e| {
                    let n = e.file_name().to_string_lossy().to_string();
                    n.ends_with("disk-1.img.journal")
                })
            })
        },
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = connect(&vc).await;
        let task = c.destroy(&MoRef::new("VirtualMachine", &vm)).await.unwrap();
        c.wait_task(&task, |_| {}).await.unwrap();
    });
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    let summary: Vec<Value> =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(summary[0]["result"], "Failed", "{stdout}");
    let error = summary[0]["error"].as_str().unwrap();
    assert!(
        error.contains("was deleted from vSphere during the migration"),
        "{error}"
    );
    // No VirtualMachine was made for it.
    let vm_yaml = work.join("data/local/manifests/vms/dc0-h0-vm0/virtualmachine.yaml");
    assert!(!vm_yaml.exists());
}

/// `--max-vm-inflight 1` limits VMs per ESXi host, as Forklift does: VMs on
/// two different hosts copy at the same time.
#[test]
fn vms_on_different_hosts_copy_in_parallel() {
    let Some((vc, dir)) = setup() else { return };
    let work = dir.path();
    let sample = work.join("sample");
    let vms = vc.vms();
    let names = ["DC0_H0_VM0", "DC0_C0_RP0_VM0"];
    for (i, name) in names.iter().enumerate() {
        let disk = format!("par{i}");
        make_disk(
            &sample,
            &disk,
            48,
            &[(0, 40, 0x10 + i as u8)],
            "subformat=monolithicSparse",
        );
        let moref = vms.iter().find(|(_, n)| n == name).unwrap().0.clone();
        vc.upload(
            &sample.join(format!("upload/{disk}.vmdk")),
            &format!("ferry/{disk}.vmdk"),
        );
        vc.attach_disk(&moref, &format!("ferry/{disk}.vmdk"), 48 * MIB);
    }
    std::fs::write(work.join("migration.yaml"), manifests_for(&vc, &names)).unwrap();
    let child = spawn_migrate(work, &["--max-rate", "6M", "--max-vm-inflight", "1"]);
    let child = common::Guard::new(child);
    // Both VMs have a big disk being copied at the same moment.
    let dir = work.join("data/local/volumes/vms");
    common::wait_for(
        "both VMs copying at once",
        std::time::Duration::from_secs(120),
        || {
            let partial: Vec<String> = std::fs::read_dir(&dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().to_string())
                        .filter(|n| n.ends_with(".img.journal"))
                        .collect()
                })
                .unwrap_or_default();
            partial.iter().any(|n| n.contains("dc0-h0-vm0"))
                && partial.iter().any(|n| n.contains("dc0-c0-rp0-vm0"))
        },
    );
    let out = child.wait_with_output();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert!(
        summary.iter().all(|r| r["result"] == "Succeeded"),
        "{stdout}"
    );
    for name in ["dc0-h0-vm0", "dc0-c0-rp0-vm0"] {
        assert_eq!(compare_disks_in(work, name), 1);
    }
}
