//! Helpers shared by the qcow2 conformance tests: run qemu-img/qemu-io, read
//! an image fully through ferry, compare with qemu's view.
#![allow(dead_code, clippy::unwrap_used)]
use std::path::Path;
use std::process::Command;

use ferry_image::{ExtentKind, Image, OpenOptions, open_image};
use ferry_testutil::{qemu_img, run};

/// Run qemu-io with several `-c` commands on `image` of `format`.
pub fn qemu_io(image: &Path, format: &str, cmds: &[&str]) {
    let mut c = Command::new("qemu-io");
    c.arg("-f").arg(format);
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    run(c.arg(image));
}

/// qemu's raw rendering of `image`.
pub fn qemu_raw(image: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join(format!(
        "{}.expected.raw",
        image.file_name().unwrap().to_string_lossy()
    ));
    qemu_img(&[
        "convert",
        "-O",
        "raw",
        image.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

/// Read the whole guest through ferry, in `chunk`-sized reads.
pub fn ferry_read_all(img: &dyn Image, chunk: usize) -> Vec<u8> {
    let size = img.virtual_size() as usize;
    let mut out = vec![0u8; size];
    let mut pos = 0;
    while pos < size {
        let n = chunk.min(size - pos);
        img.read_at(&mut out[pos..pos + n], pos as u64).unwrap();
        pos += n;
    }
    out
}

/// Runs of (start, length, kind) from `qemu-img map --output=json`,
/// classified like ferry: data, else not present = hole, else zero.
pub fn qemu_map(image: &Path) -> Vec<(u64, u64, ExtentKind)> {
    let json = qemu_img(&["map", "--output=json", image.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut out: Vec<(u64, u64, ExtentKind)> = Vec::new();
    for e in v.as_array().unwrap() {
        let start = e["start"].as_u64().unwrap();
        let length = e["length"].as_u64().unwrap();
        let kind = if e["data"].as_bool().unwrap() {
            ExtentKind::Data
        } else if !e["present"].as_bool().unwrap() {
            ExtentKind::Hole
        } else {
            ExtentKind::Zero
        };
        push(&mut out, start, length, kind);
    }
    out
}

fn push(out: &mut Vec<(u64, u64, ExtentKind)>, start: u64, length: u64, kind: ExtentKind) {
    if let Some(last) = out.last_mut()
        && last.2 == kind
        && last.0 + last.1 == start
    {
        last.1 += length;
        return;
    }
    out.push((start, length, kind));
}

/// ferry's extents of the whole image, merged.
pub fn ferry_map(img: &dyn Image) -> Vec<(u64, u64, ExtentKind)> {
    let mut out = Vec::new();
    for e in img.extents(0, img.virtual_size()).unwrap() {
        push(&mut out, e.offset, e.length, e.kind);
    }
    out
}

/// Open `image` through ferry, compare every byte with qemu's raw output
/// and the extents with `qemu-img map`. Returns the ferry image.
pub fn check_against_qemu(image: &Path, dir: &Path) -> std::sync::Arc<dyn Image> {
    let img = open_image(image, &OpenOptions::default()).unwrap();
    let expected = qemu_raw(image, dir);
    assert_eq!(
        img.virtual_size(),
        expected.len() as u64,
        "virtual size of {}",
        image.display()
    );
    for chunk in [1 << 20, 4096 + 512] {
        let got = ferry_read_all(img.as_ref(), chunk);
        assert!(
            got == expected,
            "contents of {} differ (chunk {chunk})",
            image.display()
        );
    }
    assert_eq!(
        ferry_map(img.as_ref()),
        qemu_map(image),
        "map of {}",
        image.display()
    );
    img
}
