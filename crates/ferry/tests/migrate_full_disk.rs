//! A data directory on a filesystem that fills up during the copy: `ferry
//! migrate` stops with an error naming what is full and what to free,
//! marks no incomplete disk ready, and a rerun after space was freed
//! finishes the migration with identical disks.
//!
//! Needs root (a size-limited tmpfs); skipped otherwise unless
//! FERRY_REQUIRE_PEERS is set.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Guard, sample, wait_for};
use ferry_testutil::{images_identical, run_output};
use serde_json::Value;

/// A 40 MiB tmpfs, unmounted on drop.
struct Tmpfs {
    _dir: tempfile::TempDir,
    mnt: PathBuf,
}

impl Tmpfs {
    fn new() -> Option<Self> {
        let dir = ferry_testutil::tempdir();
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=40M", "tmpfs"])
            .arg(&mnt)
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            let why = "cannot mount a tmpfs here (needs root)";
            assert!(
                !ferry_testutil::peers_required(),
                "{why} (FERRY_REQUIRE_PEERS=1)"
            );
            eprintln!("skipping: {why}");
            return None;
        }
        Some(Self { _dir: dir, mnt })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mnt).status();
    }
}

fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default()
}

/// Write 1 MiB blocks to `path` until the filesystem refuses.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0x5au8; 1 << 20];
    loop {
        if let Err(e) = f.write_all(&block).and_then(|()| f.sync_data()) {
            assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
            return;
        }
    }
}

#[test]
fn a_full_disk_stops_migrate_clearly_and_a_rerun_resumes() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Some(tmpfs) = Tmpfs::new() else { return };
    let Some(dir) = sample("  vms:\n    - name: efi-vm\n") else {
        return;
    };
    let work = dir.path();
    let data = tmpfs.mnt.join("data");
    let migrate = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
        cmd.arg("migrate")
            .arg("-f")
            .arg(work.join("migration.yaml"))
            .arg("--data-dir")
            .arg(&data)
            .args(["-o", "json"])
            .args(extra);
        cmd
    };

    // Slow copies, so that the disk fills up while efi-vm is copied.
    let mut child = Guard::new(
        migrate(&["--max-rate", "128K"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(work.join("first.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let volumes = data.join("local/volumes/demo-vms");
    wait_for("efi-vm's volume", Duration::from_secs(300), || {
        !files_ending(&volumes, ".img").is_empty()
    });
    let filler = tmpfs.mnt.join("filler");
    fill(&filler);
    wait_for("ferry migrate to stop", Duration::from_secs(600), || {
        child.exited()
    });
    let out = child.wait_with_output();
    let stderr = std::fs::read_to_string(work.join("first.log")).unwrap();
    assert!(!out.status.success(), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{stderr}");
    assert!(
        last.contains(&format!(
            "the filesystem holding the data directory {} is full",
            data.display()
        )),
        "{last}"
    );
    assert!(last.contains("Free space on that filesystem"), "{last}");
    assert!(last.contains("run the same command again"), "{last}");
    assert!(
        files_ending(&volumes, ".ready").is_empty(),
        "an incomplete disk was marked ready"
    );

    // Free the space and run the same command again.
    std::fs::remove_file(&filler).unwrap();
    let out = run_output(&mut migrate(&[]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["result"], "Succeeded", "{rows:?}");
    let image = rows[0]["volumes"][0]["image"].as_str().unwrap();
    assert!(
        images_identical(
            &work.join("sample/reference/efi-vm-disk1.raw"),
            Path::new(image)
        ),
        "{image} differs from its source"
    );
    assert_eq!(files_ending(&volumes, ".ready").len(), 1);
}
