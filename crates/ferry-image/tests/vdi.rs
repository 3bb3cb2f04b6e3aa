//! VDI (VirtualBox) against qemu-img: dynamic and static images read the
//! same bytes and map the same data; damaged images give clear errors.
#![allow(clippy::unwrap_used)]

#[path = "vmdk_support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use ferry_image::{ErrorKind, OpenOptions, open_image};
use ferry_testutil::{images_identical, peer, qemu_img, tempdir};
use support::*;

/// 70 MiB + 1 MiB: the tail write lands in the last block.
const SIZE: u64 = 71 << 20;

/// A VDI made by qemu-img (`opts` e.g. `static=on`) with the pattern
/// writes, converted from a raw reference so both have the same bytes.
fn made(dir: &Path, name: &str, opts: &[&str]) -> (PathBuf, Vec<u8>) {
    let raw = dir.join(format!("{name}.raw"));
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "raw",
        raw.to_str().unwrap(),
        &SIZE.to_string(),
    ]);
    for (p, off, len) in pattern_writes(SIZE) {
        ferry_testutil::qemu_io_write(&raw, "raw", p, off, len);
    }
    let vdi = dir.join(format!("{name}.vdi"));
    let mut args = vec!["convert", "-q", "-f", "raw", "-O", "vdi"];
    args.extend_from_slice(opts);
    args.extend_from_slice(&[raw.to_str().unwrap(), vdi.to_str().unwrap()]);
    qemu_img(&args);
    let data = std::fs::read(&raw).unwrap();
    (vdi, data)
}

fn check_against_qemu(p: &Path, data: &[u8], subformat: &str) {
    let img = open_image(p, &OpenOptions::default()).unwrap();
    let info = img.info();
    assert_eq!(info.format, "vdi");
    assert_eq!(info.subformat.as_deref(), Some(subformat));
    assert_eq!(img.virtual_size(), SIZE);
    assert!(read_all(img.as_ref(), 3 << 20) == data, "contents differ");
    assert!(qemu_raw(p, "vdi") == data, "qemu-img reads other bytes");
    check_extents_cover(img.as_ref());
    let ours = our_data_ranges(img.as_ref());
    let theirs = qemu_data_ranges(p, "vdi");
    assert!(ranges_within(&theirs, &ours), "{ours:?} misses {theirs:?}");
    if subformat == "dynamic" {
        assert_eq!(ours, theirs);
    }
    let out = p.with_extension("out.raw");
    dump_raw(img.as_ref(), &out);
    assert!(images_identical(p, &out));
}

#[test]
fn dynamic_vdi_matches_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let (p, data) = made(dir.path(), "dyn", &[]);
    check_against_qemu(&p, &data, "dynamic");
}

#[test]
fn static_vdi_matches_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let (p, data) = made(dir.path(), "fixed", &["-o", "static=on"]);
    check_against_qemu(&p, &data, "static");
}

#[test]
fn empty_dynamic_vdi_is_all_hole() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("empty.vdi");
    qemu_img(&["create", "-q", "-f", "vdi", p.to_str().unwrap(), "8M"]);
    let img = open_image(&p, &OpenOptions::default()).unwrap();
    let ext = img.extents(0, img.virtual_size()).unwrap();
    assert_eq!(ext.len(), 1);
    assert_eq!(ext[0].kind, ferry_image::ExtentKind::Hole);
    assert!(read_all(img.as_ref(), 1 << 20).iter().all(|&b| b == 0));
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn open_err(p: &Path) -> ferry_image::Error {
    match open_image(p, &OpenOptions::default()) {
        Ok(_) => panic!("{} opened but should not", p.display()),
        Err(e) => e,
    }
}

#[test]
fn damaged_vdis_are_refused() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let (p, _) = made(dir.path(), "bad", &[]);
    let bytes = std::fs::read(&p).unwrap();
    let map = u32_at(&bytes, 0x154) as usize;
    let first_data = (0..SIZE >> 20)
        .map(|b| u32_at(&bytes, map + b as usize * 4))
        .find(|&e| e != u32::MAX)
        .unwrap();
    let put = |b: &mut Vec<u8>, at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    let cases: Vec<(&str, Vec<u8>, ErrorKind, &str)> = vec![
        // The file ends inside the data of an allocated block.
        (
            "truncated",
            bytes[..bytes.len() - 4096].to_vec(),
            ErrorKind::Corrupt,
            "truncated",
        ),
        // The file ends inside the block map.
        (
            "map cut",
            bytes[..map + 8].to_vec(),
            ErrorKind::Corrupt,
            "block map",
        ),
        // A map entry far past the end of the file.
        (
            "entry past eof",
            {
                let mut b = bytes.clone();
                put(&mut b, map, &1_000_000u32.to_le_bytes());
                b
            },
            ErrorKind::Corrupt,
            "block 0",
        ),
        // A disk size beyond the limit.
        (
            "huge",
            {
                let mut b = bytes.clone();
                put(&mut b, 0x170, &(1u64 << 62).to_le_bytes());
                b
            },
            ErrorKind::Limit,
            "1 PiB",
        ),
        // A disk larger than its block count covers.
        (
            "size vs blocks",
            {
                let mut b = bytes.clone();
                put(&mut b, 0x180, &3u32.to_le_bytes());
                b
            },
            ErrorKind::Corrupt,
            "blocks",
        ),
        // A map that needs more entries than the limit.
        (
            "map too big",
            {
                let mut b = bytes.clone();
                put(&mut b, 0x170, &(1u64 << 49).to_le_bytes());
                put(&mut b, 0x180, &(1u32 << 29).to_le_bytes());
                put(&mut b, 0x158, &u32::MAX.to_le_bytes());
                b
            },
            ErrorKind::Limit,
            "limit",
        ),
        // A differencing disk.
        (
            "diff",
            {
                let mut b = bytes.clone();
                put(&mut b, 0x4c, &4u32.to_le_bytes());
                b
            },
            ErrorKind::Unsupported,
            "differencing",
        ),
    ];
    assert_ne!(first_data, u32::MAX);
    for (what, b, kind, text) in cases {
        std::fs::write(&p, &b).unwrap();
        let err = open_err(&p);
        assert_eq!(err.kind(), kind, "{what}: {err}");
        assert!(err.to_string().contains(text), "{what}: {err}");
        assert_eq!(
            err.to_string().matches("bad.vdi").count(),
            1,
            "{what}: {err}"
        );
    }
}

#[test]
fn discarded_block_reads_as_zero() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let (p, _) = made(dir.path(), "disc", &[]);
    let mut bytes = std::fs::read(&p).unwrap();
    let map = u32_at(&bytes, 0x154) as usize;
    assert_ne!(u32_at(&bytes, map), u32::MAX, "block 0 holds data");
    bytes[map..map + 4].copy_from_slice(&(u32::MAX - 1).to_le_bytes());
    std::fs::write(&p, &bytes).unwrap();
    let img = open_image(&p, &OpenOptions::default()).unwrap();
    let ext = img.extents(0, 1 << 20).unwrap();
    assert_eq!(ext[0].kind, ferry_image::ExtentKind::Zero);
    let mut buf = vec![1u8; 4096];
    img.read_at(&mut buf, 0).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn vdi_corpus_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/vdi");
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        ferry_image::formats::vdi::fuzz::fuzz_one(&bytes);
        for cut in [0x40, 0x200, bytes.len() / 2] {
            ferry_image::formats::vdi::fuzz::fuzz_one(&bytes[..cut.min(bytes.len())]);
        }
        seen += 1;
    }
    assert!(seen >= 2);
}
