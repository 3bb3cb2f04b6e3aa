//! `ferry convert` on a reflink filesystem: a raw file and a flat VMDK
//! extent are cloned (tier "reflink"), not copied. Needs root, xfsprogs and
//! a loop device; skipped with a message otherwise, unless
//! FERRY_REQUIRE_PEERS=1.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use ferry_testutil::{XfsMount, images_identical, peer, qemu_img};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn convert_json(src: &Path, dst: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["convert", "--progress", "json", s(src), s(dst)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[test]
fn raw_and_flat_vmdk_are_cloned_on_xfs() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let Some(fs) = XfsMount::new() else { return };
    let raw = fs.mnt.join("src.raw");
    qemu_img(&["create", "-q", "-f", "raw", s(&raw), "48M"]);
    ferry_testutil::qemu_io_write(&raw, "raw", 0x42, 1 << 20, 8 << 20);
    ferry_testutil::qemu_io_write(&raw, "raw", 0x43, 40 << 20, 64 << 10);

    let out = fs.mnt.join("out.raw");
    let report = convert_json(&raw, &out);
    assert_eq!(report["tier"], "reflink", "{report}");
    assert_eq!(report["bytes_written"], 0);
    assert!(images_identical(&raw, &out));

    let flat = fs.mnt.join("flat.vmdk");
    qemu_img(&[
        "convert",
        "-q",
        "-O",
        "vmdk",
        "-o",
        "subformat=monolithicFlat",
        s(&raw),
        s(&flat),
    ]);
    let out2 = fs.mnt.join("out2.raw");
    let report = convert_json(&flat, &out2);
    assert_eq!(report["tier"], "reflink", "{report}");
    assert!(images_identical(&flat, &out2));
}
