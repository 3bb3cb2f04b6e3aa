//! The simulator harness itself: start, upload real VMDKs, attach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ferry_testutil::{peer, qemu_img, qemu_io_write, tempdir, vcsim};

#[test]
fn upload_and_attach_sparse_and_flat_vmdk() {
    if peer("qemu-img").is_none() {
        return;
    }
    let Some(sim) = vcsim() else { return };
    assert!(sim.info.url.starts_with("https://127.0.0.1:"));
    assert_eq!(sim.info.thumbprint.len(), 59, "{}", sim.info.thumbprint);
    assert!(sim.info.cert_pem.contains("BEGIN CERTIFICATE"));

    let dir = tempdir();
    let sparse = dir.path().join("sparse.vmdk");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-o",
        "subformat=monolithicSparse",
        sparse.to_str().unwrap(),
        "8M",
    ]);
    qemu_io_write(&sparse, "vmdk", 0x5a, 1 << 20, 1 << 20);
    let flat = dir.path().join("flat.vmdk");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-o",
        "subformat=monolithicFlat",
        flat.to_str().unwrap(),
        "4M",
    ]);
    qemu_io_write(&flat, "vmdk", 0x33, 0, 65536);

    sim.upload(&sparse, "disks/sparse.vmdk");
    sim.upload(&flat, "disks/flat.vmdk");
    sim.upload(&dir.path().join("flat-flat.vmdk"), "disks/flat-flat.vmdk");
    let on_ds = sim.info.datastore_dir.join("disks");
    assert_eq!(
        std::fs::read(on_ds.join("sparse.vmdk")).unwrap(),
        std::fs::read(&sparse).unwrap()
    );
    assert_eq!(
        std::fs::read(on_ds.join("flat-flat.vmdk")).unwrap(),
        std::fs::read(dir.path().join("flat-flat.vmdk")).unwrap()
    );

    let vms = sim.vms();
    assert!(vms.len() >= 2, "{vms:?}");
    let vm = &vms[0].0;
    assert!(vm.starts_with("vm-"), "{vms:?}");
    let a = sim.attach_disk(vm, "disks/sparse.vmdk", 8 << 20);
    let b = sim.attach_disk(vm, "disks/flat.vmdk", 4 << 20);
    assert_eq!(a.controller_key, b.controller_key);
    assert_ne!(a.unit_number, b.unit_number);
    assert_ne!(a.key, b.key);
    // No placeholder is left behind for the single-file VMDK.
    assert!(!on_ds.join("sparse-flat.vmdk").exists());
}
