//! `ferry convert` onto a block device (a loop device over a file full of
//! garbage): written in place, no `.part`, zero runs cleared with
//! BLKZEROOUT. Needs root and losetup; skipped with a message otherwise,
//! unless FERRY_REQUIRE_PEERS=1.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_testutil::{peer, peers_required, qemu_img, tempdir};

struct Loop(PathBuf);

impl Loop {
    fn attach(file: &Path) -> Option<Self> {
        peer("losetup")?;
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(file)
            .output()
            .ok()
            .filter(|o| o.status.success());
        match out {
            Some(o) => Some(Self(PathBuf::from(
                String::from_utf8_lossy(&o.stdout).trim().to_string(),
            ))),
            None if peers_required() => {
                panic!("cannot attach a loop device (FERRY_REQUIRE_PEERS=1)")
            }
            None => {
                eprintln!("skipping: cannot attach a loop device here (needs root)");
                None
            }
        }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.0).status();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn convert_onto_a_block_device_zeroes_what_is_not_data() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = dir.path().join("src.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", s(&src), "16M"]);
    ferry_testutil::qemu_io_write(&src, "qcow2", 0x21, 1 << 20, 3 << 20);
    ferry_testutil::qemu_io_write(&src, "qcow2", 0x00, 8 << 20, 1 << 20);
    let backing = dir.path().join("dev.img");
    std::fs::write(&backing, vec![0xAAu8; 16 << 20]).unwrap();
    let Some(dev) = Loop::attach(&backing) else {
        return;
    };

    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["convert", "--verify", s(&src), s(&dev.0)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(verified)"));
    let cmp = Command::new("qemu-img")
        .args([
            "compare",
            "-q",
            "-f",
            "qcow2",
            "-F",
            "raw",
            s(&src),
            s(&dev.0),
        ])
        .status()
        .unwrap();
    assert!(cmp.success(), "the device does not match the source");
    assert!(!dir.path().join(format!("{}.part", s(&dev.0))).exists());

    let err = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["convert", "--resume", s(&src), s(&dev.0)])
        .output()
        .unwrap();
    assert!(!err.status.success());
    assert!(String::from_utf8_lossy(&err.stderr).contains("block device"));
}
