use std::io::Read;
use std::path::{Path, PathBuf};

use super::manifest::{Algorithm, digest_hex};
use super::*;
use crate::model::{FileProblemKind, ManifestProblemKind, ManifestStatus};

const OVF: &str = r#"<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References>
    <File ovf:href="app-disk1.vmdk" ovf:id="file1"/>
    <File ovf:href="app-disk2.vmdk" ovf:id="file2"/>
  </References>
  <DiskSection><Info>d</Info>
    <Disk ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1" ovf:fileRef="file1"/>
    <Disk ovf:capacity="2" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk2" ovf:fileRef="file2"/>
  </DiskSection>
  <VirtualSystem ovf:id="app"><Name>app</Name></VirtualSystem>
</Envelope>"#;

/// A tar with raw member names (so hostile names can be written) and types.
fn tar_bytes(members: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, kind) in members {
        let mut h = tar::Header::new_ustar();
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        if *kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn sha256(data: &[u8]) -> String {
    digest_hex(Algorithm::Sha256, &mut &data[..]).unwrap()
}

fn disk(n: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(n).wrapping_add(n))
        .collect()
}

fn write_ova(dir: &Path, name: &str, members: &[(&str, &[u8], tar::EntryType)]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, tar_bytes(members)).unwrap();
    p
}

fn good_members(d1: &[u8], d2: &[u8]) -> String {
    format!(
        "SHA256(app.ovf)= {}\nSHA256(app-disk1.vmdk)= {}\nSHA1(app-disk2.vmdk)= {}\n",
        sha256(OVF.as_bytes()),
        sha256(d1),
        digest_hex(Algorithm::Sha1, &mut &d2[..]).unwrap()
    )
}

const F: tar::EntryType = tar::EntryType::Regular;

#[test]
fn ova_index_offsets_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let (d1, d2) = (disk(3, 5000), disk(7, 1536));
    let mf = good_members(&d1, &d2);
    let path = write_ova(
        tmp.path(),
        "app.ova",
        &[
            ("app.ovf", OVF.as_bytes(), F),
            ("app.mf", mf.as_bytes(), F),
            ("app-disk1.vmdk", &d1, F),
            ("app-disk2.vmdk", &d2, F),
        ],
    );
    let pkg = Package::open(&path, &PackageOptions::default()).unwrap();
    assert_eq!(pkg.kind(), PackageKind::Ova);
    assert_eq!(pkg.ovf_name(), "app.ovf");
    assert_eq!(pkg.manifest_name(), Some("app.mf"));
    assert_eq!(pkg.members().len(), 4);
    // Offsets point at the data inside the .ova file.
    let raw = std::fs::read(&path).unwrap();
    let m = pkg.member("app-disk1.vmdk").unwrap();
    assert_eq!(m.offset % 512, 0);
    assert_eq!(
        &raw[m.offset as usize..(m.offset + m.size) as usize],
        &d1[..]
    );
    let mut via_open = Vec::new();
    pkg.open_member("app-disk2.vmdk")
        .unwrap()
        .read_to_end(&mut via_open)
        .unwrap();
    assert_eq!(via_open, d2);

    let report = pkg.verify_manifest();
    assert_eq!(report.status, ManifestStatus::Verified, "{report:?}");
    assert_eq!(report.verified.len(), 3);
    let env = pkg.envelope(&Default::default()).unwrap();
    let vms = pkg.vms(&env, "app.ova", Some(&report));
    assert_eq!(vms[0].integrity.manifest, ManifestStatus::Verified);
    assert!(vms[0].integrity.file_problems.is_empty());
    assert_eq!(vms[0].disks[0].file_path, path.display().to_string());
}

#[test]
fn ova_bad_checksum_and_missing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (d1, d2) = (disk(3, 5000), disk(7, 1536));
    let mf = good_members(&d1, &d2);
    let mut d1_bad = d1.clone();
    d1_bad[4000] ^= 0x40;
    let path = write_ova(
        tmp.path(),
        "bad.ova",
        &[
            ("app.ovf", OVF.as_bytes(), F),
            ("app.mf", mf.as_bytes(), F),
            ("app-disk1.vmdk", &d1_bad, F),
        ],
    );
    let pkg = Package::open(&path, &PackageOptions::default()).unwrap();
    let report = pkg.verify_manifest();
    assert_eq!(report.status, ManifestStatus::Failed);
    let got: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.file.as_str(), p.problem))
        .collect();
    assert_eq!(
        got,
        vec![
            ("app-disk1.vmdk", ManifestProblemKind::ChecksumMismatch),
            ("app-disk2.vmdk", ManifestProblemKind::Missing),
        ]
    );
    let env = pkg.envelope(&Default::default()).unwrap();
    let problems = pkg.file_problems(&env);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].href, "app-disk2.vmdk");
    assert_eq!(problems[0].problem, FileProblemKind::Missing);
}

#[test]
fn ova_hostile_members_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_ova(
        tmp.path(),
        "evil.ova",
        &[
            ("app.ovf", OVF.as_bytes(), F),
            ("../app-disk1.vmdk", b"escape", F),
            ("/etc/app-disk2.vmdk", b"abs", F),
            ("app-disk2.vmdk", b"", tar::EntryType::Symlink),
        ],
    );
    let pkg = Package::open(&path, &PackageOptions::default()).unwrap();
    assert_eq!(pkg.members().len(), 1);
    let refused: Vec<&str> = pkg.refused().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        refused,
        ["../app-disk1.vmdk", "/etc/app-disk2.vmdk", "app-disk2.vmdk"]
    );
    assert!(pkg.open_member("../app-disk1.vmdk").is_err());
    assert!(pkg.open_member("app-disk2.vmdk").is_err());
    let env = pkg.envelope(&Default::default()).unwrap();
    assert!(
        pkg.file_problems(&env)
            .iter()
            .all(|p| p.problem == FileProblemKind::Missing)
    );
}

#[test]
fn ova_truncated_inside_a_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let (d1, d2) = (disk(3, 5000), disk(7, 20000));
    let mut bytes = tar_bytes(&[
        ("app.ovf", OVF.as_bytes(), F),
        ("app-disk1.vmdk", &d1, F),
        ("app-disk2.vmdk", &d2, F),
    ]);
    let cut = bytes.len() - 1024 - 10000;
    bytes.truncate(cut);
    let path = tmp.path().join("cut.ova");
    std::fs::write(&path, bytes).unwrap();
    let pkg = Package::open(&path, &PackageOptions::default()).unwrap();
    let m = pkg.member("app-disk2.vmdk").unwrap();
    assert!(m.truncated);
    let err = pkg.open_member("app-disk2.vmdk").err().unwrap();
    assert!(err.to_string().contains("truncated"), "{err}");
    let env = pkg.envelope(&Default::default()).unwrap();
    let problems = pkg.file_problems(&env);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].problem, FileProblemKind::Truncated);
}

#[test]
fn ova_without_descriptor_or_garbage() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_ova(tmp.path(), "nodesc.ova", &[("disk.vmdk", b"x", F)]);
    let err = Package::open(&path, &PackageOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no .ovf descriptor"), "{err}");
    let junk = tmp.path().join("junk.ova");
    std::fs::write(&junk, vec![0x5a; 3000]).unwrap();
    assert!(Package::open(&junk, &PackageOptions::default()).is_err());
    let empty = tmp.path().join("empty.ova");
    std::fs::write(&empty, b"").unwrap();
    assert!(Package::open(&empty, &PackageOptions::default()).is_err());
}

#[test]
fn ova_member_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_ova(
        tmp.path(),
        "many.ova",
        &[("a.ovf", OVF.as_bytes(), F), ("b", b"1", F), ("c", b"2", F)],
    );
    let opts = PackageOptions {
        max_members: 2,
        ..Default::default()
    };
    assert_eq!(
        Package::open(&path, &opts).unwrap_err().kind(),
        ErrorKind::Limit
    );
}

#[test]
fn folder_package() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    std::fs::create_dir(&dir).unwrap();
    let (d1, d2) = (disk(3, 5000), disk(7, 1536));
    std::fs::write(dir.join("app.ovf"), OVF).unwrap();
    std::fs::write(dir.join("app.mf"), good_members(&d1, &d2)).unwrap();
    std::fs::write(dir.join("app-disk1.vmdk"), &d1).unwrap();
    std::fs::write(tmp.path().join("outside.vmdk"), &d2).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("outside.vmdk"), dir.join("app-disk2.vmdk"))
        .unwrap();
    let pkg = Package::open(&dir.join("app.ovf"), &PackageOptions::default()).unwrap();
    assert_eq!(pkg.kind(), PackageKind::Folder);
    assert_eq!(pkg.root(), dir.as_path());
    assert!(
        pkg.member("app-disk2.vmdk").is_none(),
        "symlinks are not followed"
    );
    assert_eq!(pkg.refused()[0].name, "app-disk2.vmdk");
    let report = pkg.verify_manifest();
    let got: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.file.as_str(), p.problem))
        .collect();
    assert_eq!(got, vec![("app-disk2.vmdk", ManifestProblemKind::Missing)]);
    let env = pkg.envelope(&Default::default()).unwrap();
    let vms = pkg.vms(&env, "app/app.ovf", Some(&report));
    assert_eq!(vms[0].disks[0].file_path, format!("{}/", dir.display()));
    assert_eq!(vms[0].integrity.manifest, ManifestStatus::Failed);
    // Fix the package: the manifest verifies.
    std::fs::remove_file(dir.join("app-disk2.vmdk")).unwrap();
    std::fs::write(dir.join("app-disk2.vmdk"), &d2).unwrap();
    let pkg = Package::open(&dir.join("app.ovf"), &PackageOptions::default()).unwrap();
    assert_eq!(pkg.verify_manifest().status, ManifestStatus::Verified);
}

#[test]
fn no_manifest_is_absent() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_ova(tmp.path(), "plain.ova", &[("app.ovf", OVF.as_bytes(), F)]);
    let pkg = Package::open(&path, &PackageOptions::default()).unwrap();
    assert_eq!(pkg.verify_manifest().status, ManifestStatus::Absent);
    let env = pkg.envelope(&Default::default()).unwrap();
    assert_eq!(
        pkg.vms(&env, "plain.ova", None)[0].integrity.manifest,
        ManifestStatus::Absent
    );
}

#[test]
fn wrong_extension_unsupported() {
    let err = Package::open(Path::new("/x/disk.vmdk"), &PackageOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[test]
fn dangling_file_ref_and_blank_disks() {
    let desc = r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References><File ovf:href="a.vmdk" ovf:id="file1"/></References>
  <DiskSection><Info>d</Info>
    <Disk ovf:capacity="1" ovf:diskId="d1" ovf:fileRef="file1"/>
    <Disk ovf:capacity="1" ovf:diskId="d2" ovf:fileRef="file9"/>
    <Disk ovf:capacity="2" ovf:diskId="blank1"/>
    <Disk ovf:capacity="3" ovf:diskId="blank2"/>
  </DiskSection>
  <VirtualSystem ovf:id="v"><Name>v</Name></VirtualSystem>
</Envelope>"#;
    let tmp = tempfile::tempdir().unwrap();
    let path = write_ova(
        tmp.path(),
        "d.ova",
        &[("v.ovf", desc.as_bytes(), F), ("a.vmdk", b"x", F)],
    );
    let pkg = Package::open(&path, &PackageOptions::default()).unwrap();
    let env = pkg.envelope(&Default::default()).unwrap();
    let problems = pkg.file_problems(&env);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        (problems[0].href.as_str(), problems[0].problem),
        ("file9", FileProblemKind::Missing)
    );
    let vm = &pkg.vms(&env, "d.ova", None)[0];
    let mut ids: Vec<&str> = vm.disks.iter().map(|d| d.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "blank disks get distinct ids");
}
