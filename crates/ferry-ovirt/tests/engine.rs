//! The oVirt client against the engine simulator and a real imageio
//! daemon (crates/ferry-testutil/ovirt): login, inventory reads, power,
//! snapshots, image transfers read through imageio, and the failures a
//! user can cause or meet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ferry_image::{ExtentKind, Storage};
use ferry_ovirt::{
    Client, ClientOptions, ErrorKind, HttpOptions, ImageioOptions, ImageioStorage, Password,
    TlsOptions,
};
use ferry_testutil::{
    OvirtSim, Scenario, SimDisk, SimNic, SimVm, images_identical, ovirt_sim, qemu_img,
    qemu_io_write, tempdir,
};

const WAIT: Duration = Duration::from_secs(30);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn options(sim: &OvirtSim) -> ClientOptions {
    ClientOptions {
        url: sim.info.url.clone(),
        username: sim.info.username.clone(),
        password: Password::new(sim.info.password.clone()),
        tls: TlsOptions {
            cacert_pem: Some(sim.info.ca_pem.clone()),
            insecure_skip_verify: false,
        },
        http: HttpOptions::default(),
    }
}

/// Two disks (qcow2 through NBD, raw through the file backend) with a few
/// MiB of data each, two NICs.
fn two_disk_vm(dir: &Path, edit: impl FnOnce(&mut SimVm)) -> Scenario {
    let d1 = dir.join("d1.qcow2");
    let d2 = dir.join("d2.raw");
    qemu_img(&["create", "-f", "qcow2", d1.to_str().unwrap(), "64M"]);
    qemu_io_write(&d1, "qcow2", 0x11, 1 << 20, 3 << 20);
    qemu_io_write(&d1, "qcow2", 0x22, 40 << 20, 1 << 20);
    qemu_img(&["create", "-f", "raw", d2.to_str().unwrap(), "32M"]);
    qemu_io_write(&d2, "raw", 0x33, 8 << 20, 2 << 20);
    // The raw disk goes through imageio's file backend, the qcow2 one
    // through qemu-nbd.
    let mut file = SimDisk::new(&d2, "data2");
    file.backend = "file".into();
    let mut vm = SimVm {
        name: "vm1".into(),
        sockets: 2,
        cores: 2,
        threads: 1,
        memory: 4 << 30,
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
        disks: vec![SimDisk::new(&d1, "data1"), file],
        ..SimVm::default()
    };
    edit(&mut vm);
    Scenario {
        vms: vec![vm],
        ..Scenario::default()
    }
}

/// Read every data extent of `s` into a sparse raw file.
fn read_all(s: &ImageioStorage, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    f.set_len(s.size()).unwrap();
    for e in s.extents(0, s.size()).unwrap() {
        if e.kind != ExtentKind::Data {
            continue;
        }
        let mut off = e.offset;
        while off < e.offset + e.length {
            let n = (e.offset + e.length - off).min(5 << 20) as usize;
            let mut buf = vec![0u8; n];
            s.read_at(&mut buf, off).unwrap();
            f.write_all_at(&buf, off).unwrap();
            off += n as u64;
        }
    }
}

#[test]
fn reads_inventory_and_downloads_disks_through_imageio() {
    let dir = tempdir();
    let Some(sim) = ovirt_sim(&two_disk_vm(dir.path(), |_| {})) else {
        return;
    };
    let rt = rt();
    let client = rt.block_on(Client::connect(&options(&sim))).unwrap();

    let vms = rt.block_on(client.vms()).unwrap();
    assert_eq!(vms.len(), 1);
    let vm = &vms[0];
    assert_eq!(vm.name, "vm1");
    assert_eq!(vm.status, "up");
    assert_eq!((vm.cpu_sockets, vm.cpu_cores, vm.cpu_threads), (2, 2, 1));
    assert_eq!(vm.memory, 4 << 30);
    assert_eq!(vm.bios, "q35_secure_boot");
    assert_eq!(vm.os_type, "rhel_9x64");
    assert!(!vm.cluster.is_empty() && !vm.host.is_empty());

    let nics = rt.block_on(client.nics(&vm.id)).unwrap();
    let macs: Vec<_> = nics.iter().map(|n| n.mac.as_str()).collect();
    assert_eq!(macs, ["56:6f:00:00:00:01", "56:6f:00:00:00:02"]);
    assert_eq!(nics[1].profile, sim.info.vnic_profiles["vmnet"]);
    let profiles = rt.block_on(client.vnic_profiles()).unwrap();
    let vmnet = profiles.iter().find(|p| p.name == "vmnet").unwrap();
    assert_eq!(vmnet.network, sim.info.networks["vmnet"]);
    assert_eq!(rt.block_on(client.storage_domains()).unwrap().len(), 2);
    assert_eq!(rt.block_on(client.networks()).unwrap().len(), 2);
    assert_eq!(rt.block_on(client.clusters()).unwrap()[0].name, "Default");
    assert_eq!(rt.block_on(client.hosts()).unwrap()[0].name, "host1");
    assert_eq!(
        rt.block_on(client.data_centers()).unwrap()[0].name,
        "Default"
    );

    // A running VM's disks cannot be downloaded.
    let atts = rt.block_on(client.disk_attachments(&vm.id)).unwrap();
    assert_eq!(atts.len(), 2);
    assert!(atts[0].bootable && !atts[1].bootable);
    let err = rt
        .block_on(client.create_download(&atts[0].disk, "raw", WAIT))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("running"), "{err}");

    rt.block_on(client.vm_action(&vm.id, "shutdown")).unwrap();
    let status = rt.block_on(async {
        for _ in 0..50 {
            let s = client.vm(&vm.id).await.unwrap().status;
            if s == "down" {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        "not down".to_owned()
    });
    assert_eq!(status, "down");

    let snap = rt
        .block_on(client.create_snapshot(&vm.id, "ferry"))
        .unwrap();
    assert_eq!(rt.block_on(client.snapshots(&vm.id)).unwrap().len(), 2);
    rt.block_on(client.remove_snapshot(&vm.id, &snap.id))
        .unwrap();
    assert_eq!(rt.block_on(client.snapshots(&vm.id)).unwrap().len(), 1);

    let sources = [dir.path().join("d1.qcow2"), dir.path().join("d2.raw")];
    // imageio's file backend reports the whole raw disk as data.
    let allocated = [4u64 << 20, 32 << 20];
    for (i, att) in atts.iter().enumerate() {
        let disk = rt.block_on(client.disk(&att.disk)).unwrap();
        let sd = if i == 0 { "data1" } else { "data2" };
        assert_eq!(disk.storage_domain, sim.info.storage_domains[sd]);
        let t = rt
            .block_on(client.create_download(&disk.id, "raw", WAIT))
            .unwrap();
        assert_eq!(t.phase, "initializing");
        let t = rt
            .block_on(client.wait_transfer_ready(&t.id, WAIT))
            .unwrap();
        assert_eq!(rt.block_on(client.disk(&disk.id)).unwrap().status, "locked");
        let storage = ImageioStorage::open(
            &t.transfer_url,
            client.tls(),
            ImageioOptions {
                connections: 3,
                ..ImageioOptions::default()
            },
        )
        .unwrap();
        assert_eq!(storage.size(), disk.provisioned_size);
        assert_eq!(storage.allocated_bytes(), allocated[i]);
        let out = dir.path().join(format!("out{i}.raw"));
        read_all(&storage, &out);
        let stats = storage.stats();
        assert_eq!(stats.bytes_read.load(Ordering::Relaxed), allocated[i]);
        drop(storage);
        assert!(images_identical(&out, &sources[i]), "disk {i} differs");
        let phase = rt.block_on(client.end_transfer(&t.id, true, WAIT)).unwrap();
        assert_eq!(phase, "finished_success");
        assert_eq!(rt.block_on(client.disk(&disk.id)).unwrap().status, "ok");
    }
    let state = sim.state();
    let served: Vec<u64> = state.transfers.iter().map(|t| t.transferred).collect();
    assert_eq!(served, allocated, "imageio served only the allocated bytes");
    rt.block_on(client.logout()).unwrap();
}

#[test]
fn wrong_password_wrong_ca_and_unreachable_engine_are_named() {
    let dir = tempdir();
    let Some(sim) = ovirt_sim(&two_disk_vm(dir.path(), |_| {})) else {
        return;
    };
    let rt = rt();

    let mut bad = options(&sim);
    bad.password = Password::new("not-the-password");
    let err = rt.block_on(Client::connect(&bad)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("admin@internal"), "{msg}");
    assert!(msg.contains("password"), "{msg}");
    assert!(!msg.contains("not-the-password"), "{msg}");

    // A CA that did not sign the engine's certificate.
    let other = tempdir();
    let ca = other.path().join("ca.pem");
    ferry_testutil::run(
        std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=another CA", "-keyout"])
            .arg(other.path().join("ca.key"))
            .arg("-out")
            .arg(&ca),
    );
    let mut wrong_ca = options(&sim);
    wrong_ca.tls.cacert_pem = Some(std::fs::read_to_string(&ca).unwrap());
    let err = rt.block_on(Client::connect(&wrong_ca)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TlsUntrusted, "{err}");
    assert!(err.to_string().contains("cacert"), "{err}");

    let mut insecure = wrong_ca.clone();
    insecure.tls.insecure_skip_verify = true;
    rt.block_on(Client::connect(&insecure)).unwrap();

    // Nothing listens on a port that was just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut gone = options(&sim);
    gone.url = format!("https://127.0.0.1:{port}/ovirt-engine/api");
    let err = rt.block_on(Client::connect(&gone)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn locked_disk_paused_transfer_and_deleted_vm_fail_clearly() {
    let dir = tempdir();
    let scenario = two_disk_vm(dir.path(), |vm| {
        vm.status = "down".into();
        vm.disks[0].locked = true;
        vm.disks[1].pause_transfers = true;
    });
    let Some(sim) = ovirt_sim(&scenario) else {
        return;
    };
    let rt = rt();
    let client = rt.block_on(Client::connect(&options(&sim))).unwrap();
    let vm = sim.info.vms["vm1"].clone();
    let atts = rt.block_on(client.disk_attachments(&vm)).unwrap();

    let err = rt
        .block_on(client.create_download(&atts[0].disk, "raw", WAIT))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("locked"), "{err}");

    let t = rt
        .block_on(client.create_download(&atts[1].disk, "raw", WAIT))
        .unwrap();
    let err = rt
        .block_on(client.wait_transfer_ready(&t.id, WAIT))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transfer, "{err}");
    assert!(err.to_string().contains("paused_system"), "{err}");
    let phase = rt
        .block_on(client.end_transfer(&t.id, false, WAIT))
        .unwrap();
    assert_eq!(phase, "finished_failure");
    let state = sim.state();
    assert!(
        state
            .actions
            .iter()
            .any(|a| a == &format!("cancel {}", t.id)),
        "{state:?}"
    );
    assert_eq!(state.disks[&atts[1].disk], "ok");

    // A VM deleted while its disk is being read.
    let dir2 = tempdir();
    let scenario = two_disk_vm(dir2.path(), |vm| {
        vm.status = "down".into();
        vm.delete_on_transfer = true;
    });
    let sim = ovirt_sim(&scenario).unwrap();
    let client = rt.block_on(Client::connect(&options(&sim))).unwrap();
    let vm = sim.info.vms["vm1"].clone();
    let atts = rt.block_on(client.disk_attachments(&vm)).unwrap();
    let t = rt
        .block_on(client.create_download(&atts[0].disk, "raw", WAIT))
        .unwrap();
    let err = rt
        .block_on(client.wait_transfer_ready(&t.id, WAIT))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transfer, "{err}");
    assert!(err.to_string().contains("cancelled_system"), "{err}");
    let err = rt.block_on(client.vm(&vm)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    // Cancelling what the engine already ended is not an error.
    rt.block_on(client.end_transfer(&t.id, false, WAIT))
        .unwrap();
}

#[test]
fn the_collector_shapes_the_engine_into_forklift_collections() {
    use ferry_inventory::collector::Collector;
    let dir = tempdir();
    let Some(sim) = ovirt_sim(&two_disk_vm(dir.path(), |_| {})) else {
        return;
    };
    let rt = rt();
    let collector = ferry_ovirt::inventory::OvirtCollector::new(options(&sim));
    let snap = rt.block_on(collector.collect()).unwrap();
    snap.check().unwrap();
    assert!(snap.warnings().is_empty(), "{:?}", snap.warnings());
    let colls: std::collections::BTreeMap<_, _> = snap.collections().collect();
    let counts: Vec<(&str, usize)> = colls.iter().map(|(k, v)| (*k, v.len())).collect();
    assert_eq!(
        counts,
        [
            ("clusters", 1),
            ("datacenters", 1),
            ("diskprofiles", 2),
            ("disks", 2),
            ("hosts", 1),
            ("networks", 2),
            ("nicprofiles", 2),
            ("storagedomains", 2),
            ("vms", 1)
        ]
    );
    let vm = &colls["vms"][0];
    assert_eq!(vm.path, "/Default/Default/vm1");
    let o = &vm.object;
    assert_eq!(o["cpuSockets"], 2);
    assert_eq!(o["bios"], "q35_secure_boot");
    assert_eq!(o["nics"][1]["mac"], "56:6f:00:00:00:02");
    assert_eq!(
        o["nics"][1]["profile"],
        sim.info.vnic_profiles["vmnet"].as_str()
    );
    assert_eq!(
        o["diskAttachments"][1]["disk"]["storageDomain"],
        sim.info.storage_domains["data2"].as_str()
    );
    assert_eq!(
        o["diskAttachments"][0]["disk"]["provisionedSize"],
        64u64 << 20
    );

    // A wrong password is a connection error (ConnectionTestFailed).
    let mut bad = options(&sim);
    bad.password = Password::new("nope");
    let err = rt
        .block_on(ferry_ovirt::inventory::OvirtCollector::new(bad).collect())
        .unwrap_err();
    assert_eq!(err.kind(), ferry_inventory::ErrorKind::Connection, "{err}");
}
