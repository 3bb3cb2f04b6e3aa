//! Helpers shared by the end-to-end tests: build the sample OVAs, write a
//! migration manifest for them, run ferry.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_testutil::{images_identical, peer, run_output};

use serde_json::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn shared(rel: &str) -> Option<PathBuf> {
    // `../shared` beside the checkout (CI), or one level higher (worktrees).
    let p = repo().join("../shared").join(rel);
    if p.is_file() {
        return Some(p);
    }
    let higher = repo().join("../../shared").join(rel);
    if higher.is_file() {
        return Some(higher);
    }
    assert!(
        !ferry_testutil::peers_required(),
        "{} is missing (../shared beside the checkout)",
        p.display()
    );
    eprintln!("skipping schema checks: {} is missing", p.display());
    None
}

/// Build the sample and write a migration manifest for it; returns the work dir.
pub fn sample(plan_vms: &str) -> Option<tempfile::TempDir> {
    for tool in ["qemu-img", "qemu-io", "sha256sum", "tar"] {
        peer(tool)?;
    }
    let work = ferry_testutil::tempdir();
    let out = run_output(
        Command::new("bash")
            .arg(repo().join("examples/ova/build.sh"))
            .arg(work.path().join("sample")),
    );
    assert!(
        out.status.success(),
        "build.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let template = std::fs::read_to_string(repo().join("examples/ova/migration.yaml.in")).unwrap();
    let appliances = work.path().join("sample/appliances");
    let mut text = template.replace("@APPLIANCES@", &appliances.display().to_string());
    if !plan_vms.is_empty() {
        let start = text.find("  vms:\n").unwrap();
        let end = text[start..].find("---").unwrap() + start;
        text.replace_range(start..end, plan_vms);
    }
    std::fs::write(work.path().join("migration.yaml"), text).unwrap();
    Some(work)
}

pub fn ferry(work: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.arg("migrate")
        .arg("-f")
        .arg(work.join("migration.yaml"))
        .arg("--data-dir")
        .arg(work.join("data"))
        .args(extra);
    run_output(&mut cmd)
}

/// Run the ferry binary with `args`.
pub fn run_ferry(args: &[&str]) -> std::process::Output {
    run_output(Command::new(env!("CARGO_BIN_EXE_ferry")).args(args))
}

pub fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn manifests(work: &Path, vm: &str) -> PathBuf {
    work.join("data/local/manifests/demo-vms").join(vm)
}

/// `qemu-img compare` every disk of a migrated VM (found through its
/// DataVolume manifests) with the raw reference the sample kept; returns
/// how many disks were compared.
pub fn compare_disks(work: &Path, vm: &str) -> usize {
    let mut compared = 0;
    for entry in std::fs::read_dir(manifests(work, vm)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("datavolume-") {
            continue;
        }
        let dv = yaml(&path);
        let ann = &dv["metadata"]["annotations"];
        let image = PathBuf::from(ann["ferry.konveyor.io/image-file"].as_str().unwrap());
        let source = ann["forklift.konveyor.io/disk-source"].as_str().unwrap();
        let disk = Path::new(source)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let reference = work.join("sample/reference").join(format!("{disk}.raw"));
        assert!(
            images_identical(&reference, &image),
            "{} differs from {}",
            image.display(),
            reference.display()
        );
        compared += 1;
    }
    compared
}

/// The volume files of the target namespace: `(file name, is ready)`.
pub fn volumes(work: &Path) -> Vec<(String, bool)> {
    let dir = work.join("data/local/volumes/demo-vms");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
        .iter()
        .filter(|n| n.ends_with(".img"))
        .map(|n| (n.clone(), names.contains(&format!("{n}.ready"))))
        .collect()
}

/// Poll `cond` every 100 ms until it holds; panic with `what` after
/// `limit` (a deadline for a state to appear, not a speed check).
pub fn wait_for(what: &str, limit: std::time::Duration, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "never saw: {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
