//! A loop-mounted XFS with reflink (`mkfs.xfs -m reflink=1`), for tests of
//! the zero-copy tier. Needs root, xfsprogs and a loop device.

use std::path::PathBuf;
use std::process::Command;

/// A loop-mounted reflink XFS in a temporary directory, unmounted on drop.
pub struct XfsMount {
    _dir: tempfile::TempDir,
    /// Where it is mounted.
    pub mnt: PathBuf,
}

impl std::fmt::Debug for XfsMount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XfsMount").field("mnt", &self.mnt).finish()
    }
}

impl XfsMount {
    /// Make and mount a 512 MiB filesystem. `None` (after saying why) when
    /// that is impossible here; with `FERRY_REQUIRE_PEERS=1` it panics.
    pub fn new() -> Option<Self> {
        let skip = |why: &str| {
            if crate::peers_required() {
                panic!("cannot run the reflink test: {why} (FERRY_REQUIRE_PEERS=1)");
            }
            eprintln!("skipping: {why}");
            None
        };
        crate::peer("mkfs.xfs")?;
        let dir = crate::tempdir();
        let img = dir.path().join("xfs.img");
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        std::fs::File::create(&img)
            .unwrap()
            .set_len(512 << 20)
            .unwrap();
        let ok = |c: &mut Command| c.output().is_ok_and(|o| o.status.success());
        if !ok(Command::new("mkfs.xfs")
            .args(["-q", "-m", "reflink=1"])
            .arg(&img))
        {
            return skip("mkfs.xfs -m reflink=1 failed");
        }
        if !ok(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&img)
            .arg(&mnt))
        {
            return skip("cannot loop-mount an XFS image here (needs root and loop devices)");
        }
        Some(Self { _dir: dir, mnt })
    }
}

impl Drop for XfsMount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.mnt)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
        }
    }
}
