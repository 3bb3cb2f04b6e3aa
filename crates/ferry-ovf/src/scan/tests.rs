use std::fs;
use std::path::Path;

use super::*;
use crate::model::ManifestStatus;
use crate::package::manifest::{Algorithm, digest_hex};

fn ovf(name: &str) -> String {
    format!(
        r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="{name}-disk1.vmdk" ovf:id="file1"/></References>
  <DiskSection><Info>d</Info><Disk ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1" ovf:fileRef="file1"/></DiskSection>
  <VirtualSystem ovf:id="{name}"><Name>{name}</Name></VirtualSystem>
</Envelope>"#
    )
}

fn write_ova(path: &Path, name: &str, disk: &[u8]) {
    let desc = ovf(name);
    let mf = format!(
        "SHA256({name}-disk1.vmdk)= {}\n",
        digest_hex(Algorithm::Sha256, &mut &disk[..]).unwrap()
    );
    let mut b = tar::Builder::new(Vec::new());
    for (member, data) in [
        (format!("{name}.ovf"), desc.as_bytes()),
        (format!("{name}.mf"), mf.as_bytes()),
        (format!("{name}-disk1.vmdk"), disk),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, member, data).unwrap();
    }
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, b.into_inner().unwrap()).unwrap();
}

fn write_ovf(dir: &Path, name: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(format!("{name}.ovf")), ovf(name)).unwrap();
    fs::write(dir.join(format!("{name}-disk1.vmdk")), b"disk").unwrap();
}

fn names(report: &ScanReport) -> Vec<String> {
    report.vms().map(|v| v.name.clone()).collect()
}

/// The layout of the guide's examples, plus the cases it forbids.
fn build_tree(root: &Path) {
    write_ova(&root.join("root-a.ova"), "root-a", b"a");
    write_ova(&root.join("ROOT-B.OVA"), "root-b", b"b");
    write_ova(&root.join("sub1/sub1-a.ova"), "sub1-a", b"c");
    write_ova(&root.join("sub1/sub2/too-deep.ova"), "too-deep", b"d");
    write_ovf(root, "ovf-root");
    write_ovf(&root.join("sub1/pkg"), "ovf-level2");
    write_ovf(&root.join("x1"), "ovf-level1");
    write_ovf(&root.join("sub1/sub2/sub3"), "ovf-too-deep");
    write_ovf(&root.join("two"), "first");
    write_ovf(&root.join("two"), "second");
    fs::write(root.join("notes.txt"), b"not a package").unwrap();
}

#[test]
fn depth_rules_of_the_guide() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("nfs");
    build_tree(&root);
    let report = scan(&root, &ScanOptions::default()).unwrap();
    let mut got = names(&report);
    got.sort();
    assert_eq!(
        got,
        [
            "ovf-level1",
            "ovf-level2",
            "ovf-root",
            "root-a",
            "root-b",
            "sub1-a"
        ]
    );
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].message.contains("holds 2 .ovf files"));
    assert!(report.problems[0].path.ends_with("two"));
    let rels: Vec<&str> = report
        .appliances
        .iter()
        .map(|a| a.relative.as_str())
        .collect();
    assert!(rels.contains(&"sub1/sub1-a.ova"), "{rels:?}");
    assert!(rels.contains(&"sub1/pkg/ovf-level2.ovf"), "{rels:?}");
}

#[test]
fn ids_are_stable_across_rescans_and_mount_points() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("nfs");
    build_tree(&root);
    let ids = |root: &Path| {
        let r = scan(root, &ScanOptions::default()).unwrap();
        let mut v: Vec<(String, String, Vec<String>)> = r
            .vms()
            .map(|vm| {
                (
                    vm.name.clone(),
                    vm.id.clone(),
                    vm.disks.iter().map(|d| d.id.clone()).collect(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let first = ids(&root);
    assert_eq!(first, ids(&root));
    let moved = tmp.path().join("mnt-elsewhere");
    fs::rename(&root, &moved).unwrap();
    let after = ids(&moved);
    assert_eq!(
        first, after,
        "ids derive from the path relative to the root"
    );
    let mut all: Vec<&String> = first.iter().map(|(_, id, _)| id).collect();
    all.dedup();
    assert_eq!(all.len(), first.len(), "ids are distinct");
    // Moving a package changes its id (it is a different file as far as the inventory knows).
    fs::rename(moved.join("root-a.ova"), moved.join("sub1/root-a.ova")).unwrap();
    let moved_ids = ids(&moved);
    let a_before = first.iter().find(|v| v.0 == "root-a").unwrap();
    let a_after = moved_ids.iter().find(|v| v.0 == "root-a").unwrap();
    assert_ne!(a_before.1, a_after.1);
}

#[test]
fn symlinks_are_not_followed_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("nfs");
    let outside = tmp.path().join("outside");
    write_ova(&outside.join("secret.ova"), "secret", b"s");
    write_ova(&root.join("inside.ova"), "inside", b"i");
    std::os::unix::fs::symlink(outside.join("secret.ova"), root.join("link.ova")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("linkdir")).unwrap();
    std::os::unix::fs::symlink(root.join("inside.ova"), root.join("alias.ova")).unwrap();
    let report = scan(&root, &ScanOptions::default()).unwrap();
    let mut got = names(&report);
    got.sort();
    assert_eq!(
        got,
        ["inside", "inside"],
        "the in-root alias counts, the rest does not"
    );
    assert_eq!(report.problems.len(), 1);
    assert!(report.problems[0].path.ends_with("link.ova"));
}

#[test]
fn broken_packages_are_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_ova(&root.join("good.ova"), "good", b"g");
    fs::write(root.join("junk.ova"), vec![7u8; 2048]).unwrap();
    fs::write(root.join("bad.ovf"), b"<Envelope><oops").unwrap();
    let report = scan(root, &ScanOptions::default()).unwrap();
    assert_eq!(names(&report), ["good"]);
    assert_eq!(report.problems.len(), 2);
    assert!(report.problems.iter().any(|p| p.path.ends_with("junk.ova")));
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("bad.ovf"))
    );
}

#[test]
fn manifest_results_are_cached_until_the_file_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_ova(&root.join("vm.ova"), "vm", b"original");
    let mut scanner = Scanner::new(ScanOptions {
        verify_manifests: true,
        ..Default::default()
    });
    let r = scanner.scan(root).unwrap();
    assert_eq!(
        r.appliances[0].vms[0].integrity.manifest,
        ManifestStatus::Verified
    );
    // Rewrite with a disk that no longer matches its manifest (different size, so a new fingerprint).
    let desc = ovf("vm");
    let mf = format!(
        "SHA256(vm-disk1.vmdk)= {}\n",
        digest_hex(Algorithm::Sha256, &mut &b"original"[..]).unwrap()
    );
    let mut b = tar::Builder::new(Vec::new());
    for (member, data) in [
        ("vm.ovf", desc.as_bytes()),
        ("vm.mf", mf.as_bytes()),
        ("vm-disk1.vmdk", &b"tampered!"[..]),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, member, data).unwrap();
    }
    fs::write(root.join("vm.ova"), b.into_inner().unwrap()).unwrap();
    let r = scanner.scan(root).unwrap();
    let vm = &r.appliances[0].vms[0];
    assert_eq!(vm.integrity.manifest, ManifestStatus::Failed);
    assert_eq!(vm.integrity.manifest_problems[0].file, "vm-disk1.vmdk");
}

#[test]
fn files_still_being_copied_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    write_ova(&tmp.path().join("fresh.ova"), "fresh", b"f");
    let opts = ScanOptions {
        min_age: Some(Duration::from_secs(3600)),
        ..Default::default()
    };
    let report = scan(tmp.path(), &opts).unwrap();
    assert!(report.appliances.is_empty());
    assert!(report.problems[0].message.contains("still being copied"));
}

#[test]
fn missing_root_is_a_location_error() {
    let err = scan(Path::new("/nonexistent/ferry/ova"), &ScanOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Location);
    assert!(err.to_string().contains("not reachable"));
}

#[test]
fn copied_packages_with_the_same_uuid_get_distinct_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let desc = ovf("copy").replace(
        r#"ovf:id="copy""#,
        r#"ovf:id="8f0e4a3c-1b2d-4c5e-9f60-718293a4b5c6""#,
    );
    for dir in ["a", "b"] {
        let d = tmp.path().join(dir);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("copy.ovf"), &desc).unwrap();
    }
    let report = scan(tmp.path(), &ScanOptions::default()).unwrap();
    let ids: Vec<&str> = report.vms().map(|v| v.id.as_str()).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        ids[0], "8f0e4a3c-1b2d-4c5e-9f60-718293a4b5c6",
        "the first in path order keeps the UUID"
    );
    assert_ne!(ids[0], ids[1]);
    assert_eq!(report.problems.len(), 1);
    assert!(report.problems[0].message.contains("like the VM in"));
    let again = scan(tmp.path(), &ScanOptions::default()).unwrap();
    assert_eq!(
        again.vms().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        ids,
        "stable"
    );
}
