//! Changed block tracking against the simulator harness: changeIds on
//! snapshot disks and `QueryChangedDiskAreas` computed from the real disk
//! contents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ferry_testutil::{peer, qemu_img, qemu_io_write, tempdir, vcsim};
use ferry_vsphere::{
    Client, ClientOptions, DiskArea, ErrorKind, MoRef, Secret, SnapshotOptions, TlsOptions,
};

const MIB: u64 = 1 << 20;
const BLOCK: u64 = 64 << 10;

async fn snapshot(client: &Client, vm: &MoRef, name: &str) -> MoRef {
    let t = client
        .create_snapshot(
            vm,
            &SnapshotOptions {
                name: name.into(),
                ..SnapshotOptions::default()
            },
        )
        .await
        .unwrap();
    MoRef::from_node(&client.wait_task(&t, |_| {}).await.unwrap().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_areas_follow_real_disk_changes() {
    if peer("qemu-img").is_none() {
        return;
    }
    let Some(sim) = vcsim() else { return };
    let dir = tempdir();
    let disk = dir.path().join("disk.vmdk");
    let flat = dir.path().join("disk-flat.vmdk");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-o",
        "subformat=monolithicFlat",
        disk.to_str().unwrap(),
        "8M",
    ]);
    qemu_io_write(&disk, "vmdk", 0x61, MIB, 100 << 10); // 1 MiB .. 1 MiB + 100 KiB
    qemu_io_write(&disk, "vmdk", 0x62, 6 * MIB, MIB);
    sim.upload(&disk, "cbt/disk.vmdk");
    sim.upload(&flat, "cbt/disk-flat.vmdk");
    let (vm_id, _) = sim.vms().remove(0);
    let attached = sim.attach_disk(&vm_id, "cbt/disk.vmdk", 8 * MIB);

    let mut o = ClientOptions::new(
        sim.info.url.clone(),
        sim.info.username.clone(),
        Secret::new(sim.info.password.clone()),
    );
    o.tls = TlsOptions {
        cacert_pem: Some(sim.info.cert_pem.clone()),
        ..TlsOptions::default()
    };
    let client = Client::connect(&o).await.unwrap();
    let vm = MoRef::new("VirtualMachine", vm_id.clone());

    let s1 = snapshot(&client, &vm, "precopy-1").await;
    let disks = client.disks(&s1).await.unwrap();
    let d1 = disks
        .iter()
        .find(|d| d.key == attached.key)
        .expect("attached disk in snapshot");
    assert_eq!(
        d1.file_name,
        format!("[{}] cbt/disk.vmdk", sim.info.datastore)
    );
    assert_eq!(d1.capacity_bytes, 8 * MIB);
    let c1 = d1
        .change_id
        .clone()
        .expect("a changeId after the first snapshot");

    // All allocated (non-zero) areas at the first snapshot.
    let all = client
        .query_changed_disk_areas(&vm, Some(&s1), attached.key, 0, "*")
        .await
        .unwrap();
    assert_eq!(all.start_offset, 0);
    assert_eq!(all.length, 8 * MIB);
    assert_eq!(
        all.areas,
        vec![
            DiskArea {
                start: MIB,
                length: 2 * BLOCK
            },
            DiskArea {
                start: 6 * MIB,
                length: MIB
            },
        ]
    );

    // The guest writes: one new region, one overwritten region.
    qemu_io_write(&disk, "vmdk", 0x71, 3 * MIB, 3 * BLOCK);
    qemu_io_write(&disk, "vmdk", 0x72, 6 * MIB + 2 * BLOCK, BLOCK);
    sim.upload(&flat, "cbt/disk-flat.vmdk");
    let s2 = snapshot(&client, &vm, "precopy-2").await;
    let c2 = client
        .disks(&s2)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.key == attached.key)
        .unwrap()
        .change_id
        .unwrap();
    assert_ne!(c1, c2);
    // The first snapshot keeps its own changeId.
    let again = client.disks(&s1).await.unwrap();
    assert_eq!(
        again
            .iter()
            .find(|d| d.key == attached.key)
            .unwrap()
            .change_id
            .as_deref(),
        Some(c1.as_str())
    );

    let delta = client
        .query_changed_disk_areas(&vm, Some(&s2), attached.key, 0, &c1)
        .await
        .unwrap();
    assert_eq!(
        delta.areas,
        vec![
            DiskArea {
                start: 3 * MIB,
                length: 3 * BLOCK
            },
            DiskArea {
                start: 6 * MIB + 2 * BLOCK,
                length: BLOCK
            },
        ]
    );
    // From an offset past the first change.
    let tail = client
        .query_changed_disk_areas(&vm, Some(&s2), attached.key, 4 * MIB, &c1)
        .await
        .unwrap();
    assert_eq!(tail.start_offset, 4 * MIB);
    assert_eq!(
        tail.areas,
        vec![DiskArea {
            start: 6 * MIB + 2 * BLOCK,
            length: BLOCK
        }]
    );

    let e = client
        .query_changed_disk_areas(&vm, Some(&s2), attached.key, 0, "52 00/99")
        .await
        .unwrap_err();
    assert_eq!(e.fault(), Some("InvalidArgument"), "{e}");
    let e = client
        .query_changed_disk_areas(
            &MoRef::new("VirtualMachine", "vm-0"),
            Some(&s2),
            attached.key,
            0,
            "*",
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
