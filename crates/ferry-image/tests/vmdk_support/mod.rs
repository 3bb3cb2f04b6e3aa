//! Helpers shared by the VMDK, VHD and VHDX conformance tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use ferry_image::{Extent, ExtentKind, FileStorage, Image, Storage};

static ZEROS: [u8; 1 << 20] = [0; 1 << 20];

/// Open `path` as a Storage.
pub fn storage(path: &Path) -> Arc<dyn Storage> {
    Arc::new(FileStorage::open(path).unwrap())
}

/// Read the whole image with `read_at` in chunks of `chunk` bytes.
pub fn read_all(img: &dyn Image, chunk: usize) -> Vec<u8> {
    let size = img.virtual_size() as usize;
    let mut out = vec![0u8; size];
    for (i, c) in out.chunks_mut(chunk).enumerate() {
        img.read_at(c, (i * chunk) as u64).unwrap();
    }
    out
}

/// `qemu-img convert -O raw` of `image` (format `fmt`), read into memory.
pub fn qemu_raw(image: &Path, fmt: &str) -> Vec<u8> {
    let out = image.with_extension("qemu.raw");
    ferry_testutil::qemu_img(&[
        "convert",
        "-f",
        fmt,
        "-O",
        "raw",
        image.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let data = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    data
}

/// Write the image to a sparse raw file by its extents (data read with
/// `read_at`, everything else left as a hole), skipping all-zero chunks.
pub fn dump_raw(img: &dyn Image, out: &Path) {
    let f = File::create(out).unwrap();
    f.set_len(img.virtual_size()).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    for e in img.extents(0, img.virtual_size()).unwrap() {
        if e.kind != ExtentKind::Data {
            continue;
        }
        let mut pos = e.offset;
        while pos < e.offset + e.length {
            let n = (e.offset + e.length - pos).min(1 << 20) as usize;
            img.read_at(&mut buf[..n], pos).unwrap();
            if buf[..n] != ZEROS[..n] {
                f.write_all_at(&buf[..n], pos).unwrap();
            }
            pos += n as u64;
        }
    }
}

/// Merged data ranges that `qemu-img map --output=json` reports.
pub fn qemu_data_ranges(image: &Path, fmt: &str) -> Vec<(u64, u64)> {
    let out =
        ferry_testutil::qemu_img(&["map", "-f", fmt, "--output=json", image.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut r = Vec::new();
    for e in v.as_array().unwrap() {
        if e["data"].as_bool() == Some(true) {
            let (s, l) = (e["start"].as_u64().unwrap(), e["length"].as_u64().unwrap());
            merge(&mut r, s, l);
        }
    }
    r
}

/// Merged data ranges our `extents` reports.
pub fn our_data_ranges(img: &dyn Image) -> Vec<(u64, u64)> {
    let mut r = Vec::new();
    for Extent {
        offset,
        length,
        kind,
    } in img.extents(0, img.virtual_size()).unwrap()
    {
        if kind == ExtentKind::Data {
            merge(&mut r, offset, length);
        }
    }
    r
}

fn merge(r: &mut Vec<(u64, u64)>, s: u64, l: u64) {
    if let Some(last) = r.last_mut()
        && last.0 + last.1 == s
    {
        last.1 += l;
        return;
    }
    r.push((s, l));
}

/// The extents must cover the image exactly, in order, with no empty runs.
pub fn check_extents_cover(img: &dyn Image) {
    let ext = img.extents(0, img.virtual_size()).unwrap();
    let mut pos = 0;
    for e in &ext {
        assert_eq!(e.offset, pos, "{ext:?}");
        assert!(e.length > 0);
        pos += e.length;
    }
    assert_eq!(pos, img.virtual_size());
}

/// Pattern writes used by the conformance tests: (pattern, offset, length).
pub fn pattern_writes(size: u64) -> Vec<(u8, u64, u64)> {
    vec![
        (0x11, 0, 4096),
        (0x22, (1 << 20) + 512, 200 * 1024),
        (0x33, (33 << 20) - 4096, 8192),
        (0x44, size - 1536, 1536),
    ]
}

/// True when every range of `inner` lies inside one range of `outer`.
pub fn ranges_within(inner: &[(u64, u64)], outer: &[(u64, u64)]) -> bool {
    inner
        .iter()
        .all(|&(s, l)| outer.iter().any(|&(os, ol)| s >= os && s + l <= os + ol))
}
