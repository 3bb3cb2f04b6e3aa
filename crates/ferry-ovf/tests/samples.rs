//! End to end over `examples/ova/build.sh`: build the sample appliances with
//! qemu-img, scan them as a provider would, and check the VM model, the
//! manifests, the corrupt variants, and that member offsets let qemu-img read
//! each disk in place inside the `.ova`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_ovf::model::{FileProblemKind, ManifestProblemKind, ManifestStatus, OvaSource};
use ferry_ovf::scan::{ScanOptions, ScanReport, scan};

fn build_samples() -> Option<(tempfile::TempDir, PathBuf)> {
    ferry_testutil::peer("qemu-img")?;
    ferry_testutil::peer("qemu-io")?;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("samples");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ova/build.sh");
    ferry_testutil::run(Command::new("bash").arg(script).arg(&out));
    Some((tmp, out))
}

fn verified_scan(root: &Path) -> ScanReport {
    scan(
        root,
        &ScanOptions {
            verify_manifests: true,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn sample_appliances() {
    let Some((_tmp, out)) = build_samples() else {
        return;
    };
    let report = verified_scan(&out.join("appliances"));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let mut names: Vec<&str> = report.vms().map(|v| v.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["Concern VM_01", "efi-vm", "extracted-vm", "two-disk-bios"]
    );
    for vm in report.vms() {
        assert_eq!(
            vm.integrity.manifest,
            ManifestStatus::Verified,
            "{}",
            vm.name
        );
        assert!(vm.integrity.file_problems.is_empty(), "{}", vm.name);
        assert_eq!(vm.ova_source, OvaSource::VMware);
    }
    let vm = |n: &str| report.vms().find(|v| v.name == n).unwrap();

    let a = vm("two-disk-bios");
    assert_eq!(a.firmware, "bios");
    assert_eq!((a.cpu_count, a.memory_mb), (2, 2048));
    assert_eq!(a.disks.len(), 2);
    assert_eq!(a.disks[0].capacity_bytes, 64 << 20);
    assert_eq!(a.disks[1].capacity_bytes, 32 << 20);
    assert_eq!(a.disks[0].bus, "scsi");
    assert_eq!(a.disks[1].bus, "sata");
    let macs: Vec<(&str, &str)> = a
        .nics
        .iter()
        .map(|n| (n.mac.as_str(), n.network.as_str()))
        .collect();
    assert_eq!(
        macs,
        [
            ("00:50:56:a1:00:01", "VM Network"),
            ("00:50:56:a1:00:02", "Storage Network")
        ]
    );
    assert_eq!(a.networks.len(), 2);

    let b = vm("efi-vm");
    assert_eq!(b.firmware, "efi");
    assert_eq!((b.cpu_count, b.cores_per_socket), (4, 2));

    let c = vm("Concern VM_01");
    assert!(c.cpu_hot_add_enabled && c.memory_hot_add_enabled);

    let d = vm("extracted-vm");
    assert!(d.ova_path.ends_with("extracted/extracted-vm.ovf"));
    assert!(d.disks[0].file_path.ends_with("extracted/"));

    // Each disk can be read in place: qemu-img opens the tar member window
    // (raw driver with offset/size) as a VMDK and compares it with its source.
    for app in report
        .appliances
        .iter()
        .filter(|a| a.path.extension().is_some_and(|e| e == "ova"))
    {
        for disk in &app.vms[0].disks {
            let m = app.members.iter().find(|m| m.name == disk.name).unwrap();
            let spec = serde_json::json!({
                "driver": "vmdk",
                "file": {"driver": "raw", "offset": m.offset, "size": m.size,
                         "file": {"driver": "file", "filename": app.path}}
            });
            let reference = out
                .join("reference")
                .join(disk.name.replace(".vmdk", ".raw"));
            let status = Command::new("qemu-img")
                .args(["compare", "-q", "-F", "raw"])
                .arg(format!("json:{spec}"))
                .arg(&reference)
                .status()
                .unwrap();
            assert!(
                status.success(),
                "{} differs from {}",
                disk.name,
                reference.display()
            );
        }
    }
}

#[test]
fn corrupt_samples() {
    let Some((_tmp, out)) = build_samples() else {
        return;
    };
    let report = verified_scan(&out.join("corrupt"));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let vm = |n: &str| {
        report
            .vms()
            .find(|v| v.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };

    let bad = vm("bad-checksum");
    assert_eq!(bad.integrity.manifest, ManifestStatus::Failed);
    assert_eq!(bad.integrity.manifest_problems.len(), 1);
    assert_eq!(
        bad.integrity.manifest_problems[0].problem,
        ManifestProblemKind::ChecksumMismatch
    );

    let trav = vm("traversal");
    assert_eq!(trav.integrity.file_problems.len(), 1);
    assert_eq!(trav.integrity.file_problems[0].href, "../../etc/passwd");
    assert_eq!(
        trav.integrity.file_problems[0].problem,
        FileProblemKind::ParentTraversal
    );

    let missing = vm("missing-file");
    assert_eq!(
        missing.integrity.file_problems[0].problem,
        FileProblemKind::Missing
    );
    assert_eq!(
        missing.integrity.manifest_problems[0].problem,
        ManifestProblemKind::Missing
    );

    let cut = vm("truncated");
    assert_eq!(
        cut.integrity.file_problems[0].problem,
        FileProblemKind::Truncated
    );
    assert_eq!(cut.integrity.manifest, ManifestStatus::Failed);
}
