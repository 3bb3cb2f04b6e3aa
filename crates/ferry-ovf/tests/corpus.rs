//! Replays the fuzz corpus (`tests/corpus/{ovf,ova}`, plus the OVF fixtures)
//! through the same entry points as the cargo-fuzz targets, on stable, and
//! checks what the seed archives index to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ferry_ovf::fuzz::{ova_one, ovf_one};
use ferry_ovf::package::{Package, PackageOptions};

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "{} is empty", dir.display());
    v
}

#[test]
fn replay_ovf_corpus() {
    for path in files("tests/corpus/ovf")
        .into_iter()
        .chain(files("tests/fixtures"))
    {
        ovf_one(&std::fs::read(&path).unwrap());
    }
}

#[test]
fn replay_ova_corpus() {
    for path in files("tests/corpus/ova") {
        let data = std::fs::read(&path).unwrap();
        ova_one(&data);
        // Every byte-prefix of the small seeds as well (truncation anywhere).
        if data.len() <= 20480 {
            for cut in (0..data.len()).step_by(97) {
                ova_one(&data[..cut]);
            }
        }
    }
}

fn index(name: &str) -> Package {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/ova")
        .join(name);
    Package::open(&path, &PackageOptions::default()).unwrap()
}

#[test]
fn seed_archives_index_as_expected() {
    let good = index("ovftool-layout.ova");
    let names: Vec<&str> = good.members().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["rhel9-web.ovf", "rhel9-web.mf", "rhel9-web-disk1.vmdk"]
    );
    assert_eq!(
        good.verify_manifest().status,
        ferry_ovf::model::ManifestStatus::Verified
    );

    let long = index("gnu-long-names.ova");
    assert!(long.member(&format!("{}.vmdk", "x".repeat(150))).is_some());
    let pax = index("pax-headers.ova");
    assert!(pax.members().iter().any(|m| m.name.starts_with("déjà-")));

    let evil = index("links-and-traversal.ova");
    let names: Vec<&str> = evil.members().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["rhel9-web.ovf"]);
    assert_eq!(evil.refused().len(), 4);

    let cut = index("truncated-in-disk.ova");
    let env = cut.envelope(&Default::default()).unwrap();
    let problems = cut.file_problems(&env);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().any(|p| p.href == "rhel9-web-disk1.vmdk"));
    assert!(
        Package::open(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/ova/header-only.ova"),
            &PackageOptions::default()
        )
        .is_err()
    );
}
