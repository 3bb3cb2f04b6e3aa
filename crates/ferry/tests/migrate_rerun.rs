//! Rerunning `ferry migrate` after a failure: a new Migration of the same
//! plan retries the VMs that failed, the VMs that succeeded stay as they
//! are (their disks are not copied again), and the output says so.
#![allow(clippy::unwrap_used)]

mod common;

use common::{compare_disks, ferry, sample};
use serde_json::Value;

/// efi-vm migrates normally; two-disk-bios's first volume name is fixed by
/// a template so that the test can put a file of the wrong size in its way.
const PLAN_VMS: &str = "  vms:
    - name: efi-vm
    - name: two-disk-bios
      pvcNameTemplate: \"blocked-{{.DiskIndex}}\"
";

fn summary(out: &std::process::Output) -> Vec<Value> {
    serde_json::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap()
}

fn result_of<'a>(rows: &'a [Value], vm: &str) -> &'a str {
    rows.iter()
        .find(|r| r["vm"] == vm)
        .and_then(|r| r["result"].as_str())
        .unwrap_or_else(|| panic!("{vm} missing from {rows:?}"))
}

#[test]
fn rerun_retries_failed_vms_and_keeps_finished_ones() {
    let Some(dir) = sample(PLAN_VMS) else { return };
    let work = dir.path();
    let volumes = work.join("data/local/volumes/demo-vms");
    std::fs::create_dir_all(&volumes).unwrap();
    let blocker = volumes.join("blocked-0.img");
    std::fs::write(&blocker, b"x").unwrap();

    let first = ferry(work, &["-o", "json"]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(!first.status.success(), "{stderr}");
    let rows = summary(&first);
    assert_eq!(result_of(&rows, "efi-vm"), "Succeeded", "{rows:?}");
    assert_eq!(result_of(&rows, "two-disk-bios"), "Failed", "{rows:?}");
    assert!(stderr.contains("run the same command again"), "{stderr}");
    let efi_image = rows.iter().find(|r| r["vm"] == "efi-vm").unwrap()["volumes"][0]["image"]
        .as_str()
        .unwrap()
        .to_owned();
    let efi_written = std::fs::metadata(&efi_image).unwrap().modified().unwrap();

    // Fix the cause and run the same command again.
    std::fs::remove_file(&blocker).unwrap();
    let second = ferry(work, &["-o", "json"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "Migration/ova-demo-migration-2 created for Plan/ova-demo to migrate its 1 VM(s) that did not succeed in Migration/ova-demo-1; 1 VM(s) that succeeded are kept"
        ),
        "{stderr}"
    );
    let rows = summary(&second);
    assert_eq!(result_of(&rows, "efi-vm"), "Succeeded", "{rows:?}");
    assert_eq!(result_of(&rows, "two-disk-bios"), "Succeeded", "{rows:?}");
    assert_eq!(compare_disks(work, "two-disk-bios"), 2);
    assert_eq!(compare_disks(work, "efi-vm"), 1);
    assert_eq!(
        std::fs::metadata(&efi_image).unwrap().modified().unwrap(),
        efi_written,
        "efi-vm's disk was written again"
    );

    // Everything succeeded: a third run creates nothing and reports.
    let third = ferry(work, &["-o", "json"]);
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(third.status.success(), "{stderr}");
    assert!(!stderr.contains("created"), "{stderr}");
    let rows = summary(&third);
    assert!(rows.iter().all(|r| r["result"] == "Succeeded"), "{rows:?}");
}
