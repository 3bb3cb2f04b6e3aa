//! The embedded default's data directory: the README demo works from a deep
//! path, everything created is private whatever the umask, a moved data
//! directory still resolves its volumes, and a second process on the same
//! data directory is refused with the name of the first.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{compare_disks, ferry, repo, run_ferry, sample, start_serve};
use ferry_testutil::{images_identical, run_output};
use serde_json::Value;

const ONE_VM: &str = "  vms:\n  - name: efi-vm\n";

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let is_dir = std::fs::symlink_metadata(&path).unwrap().is_dir();
        out.push(path.clone());
        if is_dir {
            walk(&path, out);
        }
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// `ferry migrate` of the sample's `plan_vms` under umask 022, with
/// `data` as data directory and JSON output.
fn migrate_umask_022(work: &Path, data: &Path) -> std::process::Output {
    run_output(
        Command::new("sh")
            .arg("-c")
            .arg("umask 022 && exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_ferry"))
            .arg("migrate")
            .arg("-f")
            .arg(work.join("migration.yaml"))
            .arg("--data-dir")
            .arg(data)
            .args(["-o", "json"]),
    )
}

fn summary(out: &std::process::Output) -> Vec<Value> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ferry migrate failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn everything_created_is_private_under_umask_022() {
    let Some(dir) = sample(ONE_VM) else { return };
    let work = dir.path();
    let data = work.join("data");
    let rows = summary(&migrate_umask_022(work, &data));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["result"], "Succeeded", "{rows:?}");

    assert_eq!(mode(&data), 0o700, "{}", data.display());
    let mut all = Vec::new();
    walk(&data, &mut all);
    let images = all
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "img"))
        .count();
    assert_eq!(images, 1, "{all:?}");
    assert!(all.iter().any(|p| p.ends_with("inventory.db")), "{all:?}");
    for path in &all {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(path), want, "{} is {:o}", path.display(), mode(path));
    }
}

#[test]
fn a_moved_data_dir_still_resolves_its_volumes() {
    let Some(dir) = sample(ONE_VM) else { return };
    let work = dir.path();
    let first = summary(&ferry(work, &["-o", "json"]));
    assert_eq!(first[0]["result"], "Succeeded", "{first:?}");
    assert_eq!(compare_disks(work, "efi-vm"), 1);

    // Move the whole data directory and rerun from another directory.
    let moved = work.join("elsewhere/data");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(work.join("data"), &moved).unwrap();
    let again = run_output(
        Command::new(env!("CARGO_BIN_EXE_ferry"))
            .current_dir(moved.parent().unwrap())
            .arg("migrate")
            .arg("-f")
            .arg(work.join("migration.yaml"))
            .arg("--data-dir")
            .arg(&moved)
            .args(["-o", "json"])
            .env("FERRY_LOG", "info"),
    );
    // Logs to a file (not a terminal) carry no colour codes.
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(log.contains(" INFO "), "{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
    let rows = summary(&again);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["result"], "Succeeded", "{rows:?}");
    let volumes = rows[0]["volumes"].as_array().unwrap();
    assert_eq!(volumes.len(), 1, "{rows:?}");
    let image = PathBuf::from(volumes[0]["image"].as_str().unwrap());
    assert!(image.starts_with(&moved), "{}", image.display());
    assert!(
        images_identical(&work.join("sample/reference/efi-vm-disk1.raw"), &image),
        "{} differs from its source",
        image.display()
    );

    // plan describe on the moved directory still sees the VM as done.
    let described = run_ferry(&[
        "plan",
        "describe",
        "ova-demo",
        "-n",
        "openshift-mtv",
        "--data-dir",
        moved.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&described.stdout);
    assert!(described.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("efi-vm") && l.contains("Succeeded")),
        "{text}"
    );
}

#[test]
fn a_second_process_on_the_data_dir_is_refused() {
    let dir = ferry_testutil::tempdir();
    let data = dir.path().join("data");
    let (server, kubeconfig) = start_serve(&[], &data, &[], &dir.path().join("serve.log"));
    let before = std::fs::read_to_string(&kubeconfig).unwrap();

    let second = run_output(
        Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--inventory-listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data),
    );
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{err}");
    assert!(err.contains("is in use by ferry serve (pid "), "{err}");
    assert_eq!(std::fs::read_to_string(&kubeconfig).unwrap(), before);

    std::fs::write(dir.path().join("plan.yaml"), PLAN).unwrap();
    let migrate = run_ferry(&[
        "migrate",
        "-f",
        dir.path().join("plan.yaml").to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&migrate.stderr);
    assert!(!migrate.status.success(), "{err}");
    assert!(err.contains("is in use by ferry serve (pid "), "{err}");
    assert!(!err.contains("UNIQUE"), "{err}");
    assert_eq!(std::fs::read_to_string(&kubeconfig).unwrap(), before);

    // plan describe talks to the running server instead.
    let described = run_ferry(&[
        "plan",
        "describe",
        "nope",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&described.stderr);
    assert!(
        err.contains("Plan openshift-mtv/nope does not exist"),
        "{err}"
    );
    drop(server);

    // Once the server is gone, the data directory is free again.
    let described = run_ferry(&[
        "plan",
        "describe",
        "nope",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&described.stderr);
    assert!(
        err.contains("Plan openshift-mtv/nope does not exist"),
        "{err}"
    );
}

const PLAN: &str = "apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: p, namespace: openshift-mtv}
spec:
  provider:
    source: {name: s, namespace: openshift-mtv}
    destination: {name: d, namespace: openshift-mtv}
  map:
    network: {name: n, namespace: openshift-mtv}
    storage: {name: st, namespace: openshift-mtv}
  targetNamespace: t
  vms: [{name: a}]
";

#[test]
fn the_demo_checks_every_disk_from_a_deep_directory() {
    for tool in ["qemu-img", "qemu-io", "sha256sum", "tar", "python3"] {
        if ferry_testutil::peer(tool).is_none() {
            return;
        }
    }
    let dir = ferry_testutil::tempdir();
    let deep = dir
        .path()
        .join("a-rather-long-directory-name-for-the-demo-workspace")
        .join("and-another-level-that-makes-every-path-longer-than-eighty")
        .join("work");
    let out = run_output(
        Command::new("bash")
            .arg(repo().join("examples/ova/demo.sh"))
            .arg(&deep)
            .env("FERRY", env!("CARGO_BIN_EXE_ferry")),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    assert_eq!(stdout.matches(": identical to ").count(), 5, "{stdout}");

    // The manifests ferry writes keep long strings on one line.
    let mut all = Vec::new();
    walk(&deep.join("data/local/manifests"), &mut all);
    let manifests: Vec<&PathBuf> = all
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(!manifests.is_empty());
    for m in manifests {
        let text = std::fs::read_to_string(m).unwrap();
        assert!(
            !text.contains(": >") && !text.contains(": |"),
            "{} folds a string:\n{text}",
            m.display()
        );
    }
}

#[test]
fn the_inventory_api_is_served_over_tls_with_the_api_ca() {
    let dir = ferry_testutil::tempdir();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let (_server, _kubeconfig) = start_serve(&[], &data, &[], &log);
    let mut url = String::new();
    common::wait_for(
        "the inventory API's address",
        std::time::Duration::from_secs(60),
        || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            url = text
                .lines()
                .find_map(|l| l.strip_prefix("inventory API on "))
                .and_then(|rest| rest.split("/providers").next())
                .unwrap_or_default()
                .to_owned();
            !url.is_empty()
        },
    );
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let token = std::fs::read_to_string(data.join("api/token")).unwrap();
    let list = |url: &str, token: &str| {
        run_ferry(&[
            "inventory",
            "vms",
            "--provider",
            "nope",
            "--url",
            url,
            "--token",
            token.trim(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
    };
    // A full round trip over TLS with the API's CA and token: the answer
    // is that no such provider exists.
    let out = list(&url, &token);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the inventory has no provider named 'nope'"),
        "{err}"
    );
    // A wrong token is refused; plain http gets no answer.
    let out = list(&url, "wrong-token");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401"), "{err}");
    let plain = url.replacen("https://", "http://", 1);
    let out = list(&plain, &token);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(!err.contains("no provider named"), "{err}");
}
