//! VMDK reader conformance against qemu-img: every subformat qemu-img can
//! write, read fully and compared with `qemu-img convert -O raw`, data
//! ranges compared with `qemu-img map`.
#![allow(clippy::unwrap_used)]

#[path = "vmdk_support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;

use ferry_image::formats::vmdk;
use ferry_image::{ExtentKind, Gate, Image};
use ferry_testutil::{images_identical, peer, qemu_img, qemu_io_write, tempdir};
use support::*;

/// 70 MiB + 3 sectors: not a multiple of the grain, three grain tables.
const SIZE: u64 = (70 << 20) + 1536;

fn open(path: &Path) -> Arc<dyn Image> {
    vmdk::open(storage(path), path, &Gate::default(), 0).unwrap()
}

fn create_patterned(path: &Path, opts: &str, size: u64) {
    qemu_img(&["create", "-q", "-f", "vmdk", "-o", opts, path.to_str().unwrap(), &size.to_string()]);
    for (p, off, len) in pattern_writes(size) {
        qemu_io_write(path, "vmdk", p, off, len);
    }
}

fn check_against_qemu(path: &Path, subformat: &str) {
    let img = open(path);
    assert_eq!(img.info().subformat.as_deref(), Some(subformat));
    assert_eq!(img.virtual_size(), SIZE);
    check_extents_cover(img.as_ref());
    let expected = qemu_raw(path, "vmdk");
    assert_eq!(expected.len() as u64, SIZE);
    // Odd chunk sizes exercise reads that start and end inside grains.
    for chunk in [1 << 20, 12_345 * 512 + 7] {
        let ours = read_all(img.as_ref(), chunk);
        assert!(ours == expected, "{subformat}: contents differ (chunk {chunk})");
    }
    assert_eq!(our_data_ranges(img.as_ref()), qemu_data_ranges(path, "vmdk"), "{subformat}: data ranges");
    let dumped = path.with_extension("ferry.raw");
    dump_raw(img.as_ref(), &dumped);
    assert!(images_identical(&dumped, path), "{subformat}: extent-driven copy differs");
}

#[test]
fn monolithic_sparse_matches_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("ms.vmdk");
    create_patterned(&p, "subformat=monolithicSparse", SIZE);
    check_against_qemu(&p, "monolithicSparse");
}

#[test]
fn monolithic_sparse_zero_grains_are_zero_extents() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("zg.vmdk");
    create_patterned(&p, "subformat=monolithicSparse,zeroed_grain=on", SIZE);
    // Zero a grain that held data: its entry becomes the zero-grain entry.
    ferry_testutil::run(std::process::Command::new("qemu-io").args(["-f", "vmdk", "-c", "write -z 1048576 65536"]).arg(&p));
    check_against_qemu(&p, "monolithicSparse");
    let img = open(&p);
    let ext = img.extents(1 << 20, 65536).unwrap();
    assert_eq!(ext.len(), 1);
    assert_eq!(ext[0].kind, ExtentKind::Zero);
}

#[test]
fn monolithic_flat_matches_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("mf.vmdk");
    create_patterned(&p, "subformat=monolithicFlat", SIZE);
    check_against_qemu(&p, "monolithicFlat");
    assert_eq!(open(&p).info().extra_files.len(), 1);
}

#[test]
fn stream_optimized_matches_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let raw = dir.path().join("src.raw");
    std::fs::File::create(&raw).unwrap().set_len(SIZE).unwrap();
    for (p, off, len) in pattern_writes(SIZE) {
        qemu_io_write(&raw, "raw", p, off, len);
    }
    let p = dir.path().join("so.vmdk");
    qemu_img(&["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.to_str().unwrap(), p.to_str().unwrap()]);
    check_against_qemu(&p, "streamOptimized");
    // Reads from many threads at once agree with one-thread reads.
    let img = open(&p);
    let expected = read_all(img.as_ref(), 1 << 20);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let img = img.clone();
            let expected = &expected;
            s.spawn(move || {
                let mut buf = vec![0u8; 256 * 1024];
                let mut off = t * 65536;
                while off + buf.len() as u64 <= SIZE {
                    img.read_at(&mut buf, off).unwrap();
                    assert!(buf[..] == expected[off as usize..off as usize + buf.len()]);
                    off += 4 * 256 * 1024;
                }
            });
        }
    });
}

#[test]
fn two_gb_max_extent_sparse_and_flat_match_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    // 2.5 GiB: two extent files; writes straddle the extent boundary.
    let size: u64 = (5 << 30) / 2 + 1536;
    let writes = [(0x55u8, 0u64, 65536u64), (0x66, (2 << 30) - 70_000, 140_000), (0x77, size - 1536, 1536)];
    for sub in ["twoGbMaxExtentSparse", "twoGbMaxExtentFlat"] {
        let dir = tempdir();
        let p = dir.path().join("t.vmdk");
        qemu_img(&["create", "-q", "-f", "vmdk", "-o", &format!("subformat={sub}"), p.to_str().unwrap(), &size.to_string()]);
        for (pat, off, len) in writes {
            qemu_io_write(&p, "vmdk", pat, off, len);
        }
        let img = open(&p);
        assert_eq!(img.info().subformat.as_deref(), Some(sub));
        assert_eq!(img.virtual_size(), size);
        assert!(img.info().extra_files.len() >= 2, "{:?}", img.info());
        check_extents_cover(img.as_ref());
        let mut buf = vec![0u8; 140_000];
        img.read_at(&mut buf, (2 << 30) - 70_000).unwrap();
        assert!(buf.iter().all(|&b| b == 0x66), "{sub}: straddling read");
        let dumped = dir.path().join("out.raw");
        dump_raw(img.as_ref(), &dumped);
        assert!(images_identical(&dumped, &p), "{sub}: contents differ from qemu-img's view");
        if sub.ends_with("Sparse") {
            assert_eq!(our_data_ranges(img.as_ref()), qemu_data_ranges(&p, "vmdk"));
        }
    }
}

#[test]
fn snapshot_delta_reads_through_parent() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let base = dir.path().join("base.vmdk");
    create_patterned(&base, "subformat=monolithicSparse", SIZE);
    let top = dir.path().join("top.vmdk");
    qemu_img(&["create", "-q", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", top.to_str().unwrap()]);
    qemu_io_write(&top, "vmdk", 0x99, 2048, 4096);
    let img = open(&top);
    assert_eq!(img.info().backing_chain, vec!["base.vmdk".to_string()]);
    let ours = read_all(img.as_ref(), 1 << 20);
    assert!(ours == qemu_raw(&top, "vmdk"), "delta over base differs");
    assert_eq!(our_data_ranges(img.as_ref()), qemu_data_ranges(&top, "vmdk"));
    // With every implicit open refused, the parent is not opened.
    let err = vmdk::open(storage(&top), &top, &Gate::deny_all(), 0).err().unwrap();
    assert_eq!(err.kind(), ferry_image::ErrorKind::Refused);
}
