//! Killing `ferry migrate` in the middle of a copy and starting it again
//! finishes the migration without copying finished disks again, and the
//! interrupted disk resumes from its journal instead of starting over.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{compare_disks, ferry, sample, volumes, wait_for};
use serde_json::Value;

#[test]
fn killed_migration_resumes_without_recopying() {
    let Some(work) = sample("  vms:\n    - name: two-disk-bios\n    - name: efi-vm\n") else {
        return;
    };
    let work = work.path();
    // Slow the copy down (512 KiB/s for all disks) so that it can be killed
    // half-way, with seconds to spare even on a loaded machine:
    // two-disk-bios has 4 MiB and 2 MiB of data on its disks.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args([
            "migrate",
            "--max-rate",
            "512K",
            "--max-vm-inflight",
            "1",
            "-f",
        ])
        .arg(work.join("migration.yaml"))
        .arg("--data-dir")
        .arg(work.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = work.join("data/local/volumes/demo-vms");
    // Wait for one finished disk and one whose journal names copied chunks.
    wait_for(
        "one disk ready and another with copied data",
        Duration::from_secs(180),
        || {
            let vols = volumes(work);
            let ready = vols.iter().any(|(_, r)| *r);
            let partial = vols.iter().any(|(name, r)| {
                !r && std::fs::read_to_string(dir.join(format!("{name}.journal")))
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    // A data chunk is done when the partial checksum over
                    // the copied data is no longer zero (zero chunks alone
                    // are not counted as resumed bytes).
                    .is_some_and(|j| {
                        j["checksum"]
                            .as_str()
                            .is_some_and(|c| c.chars().any(|ch| ch != '0'))
                    })
            });
            ready && partial
        },
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // The kill landed mid-copy: a volume is still partial, with a journal.
    let partial = volumes(work)
        .into_iter()
        .filter(|(name, ready)| !ready && dir.join(format!("{name}.journal")).exists())
        .count();
    assert!(
        partial > 0,
        "the copy finished before the kill: {:?}",
        volumes(work)
    );

    // What the killed run had finished: the ready volumes, with their inode
    // change times (rewriting a file changes them).
    let finished: BTreeMap<String, (i64, i64)> = volumes(work)
        .into_iter()
        .filter(|(_, ready)| *ready)
        .map(|(name, _)| {
            let m = std::fs::metadata(dir.join(&name)).unwrap();
            (name, (m.mtime(), m.mtime_nsec()))
        })
        .collect();
    assert!(!finished.is_empty());

    let out = ferry(work, &["-o", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the restarted migration failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert!(
        summary.iter().all(|r| r["result"] == "Succeeded"),
        "{stdout}"
    );
    // The restart resumed the interrupted disk from its journal (a VM that
    // had finished is not touched at all; a finished disk of an unfinished
    // VM is reported as already copied).
    let resumed: u64 = summary
        .iter()
        .map(|r| r["resumed_bytes"].as_u64().unwrap())
        .sum();
    assert!(resumed > 0, "{stdout}");
    for (name, stamp) in &finished {
        let m = std::fs::metadata(dir.join(name)).unwrap();
        assert_eq!(
            (m.mtime(), m.mtime_nsec()),
            *stamp,
            "{name} was finished before the kill but written again"
        );
    }
    // The plan says so too, with no stale Executing left behind.
    let described = common::run_ferry(&[
        "plan",
        "describe",
        "ova-demo",
        "--data-dir",
        work.join("data").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&described.stdout).to_string();
    assert!(described.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Succeeded ") && l.contains("True")),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with("Executing ")), "{text}");
    for vm in ["two-disk-bios", "efi-vm"] {
        let line = text.lines().find(|l| l.starts_with(vm)).unwrap();
        assert!(
            line.contains("Completed") && line.contains("Succeeded"),
            "{line}"
        );
    }
    assert_eq!(compare_disks(work, "two-disk-bios"), 2);
    assert_eq!(compare_disks(work, "efi-vm"), 1);
}
