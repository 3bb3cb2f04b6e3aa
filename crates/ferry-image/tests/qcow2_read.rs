//! qcow2 reader conformance: images made by qemu-img/qemu-io, read through
//! ferry and compared byte for byte (and extent for extent) with qemu.
#![allow(clippy::unwrap_used)]
mod qcow2_common;

use std::path::Path;

use ferry_image::{ExtentKind, OpenOptions, open_image};
use ferry_testutil::{peer, qemu_img, tempdir};
use qcow2_common::{check_against_qemu, qemu_io};

fn create(path: &Path, opts: &str, size: &str) {
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-o",
        opts,
        path.to_str().unwrap(),
        size,
    ]);
}

/// Data, zero writes and holes in a fresh image, at odd places.
fn scribble(path: &Path) {
    qemu_io(
        path,
        "qcow2",
        &[
            "write -P 0x11 0 64k",
            "write -P 0x22 100k 3k",
            "write -P 0x33 1M 2M",
            "write -z 1536k 256k",
            "write -P 0x44 5M 512",
            "write -z 7M 1M",
            "write -P 0x55 9M 100k",
        ],
    );
}

#[test]
fn qcow2_v3_and_v2_with_data_zeros_and_holes_match_qemu() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    for (name, opts) in [
        ("v3.qcow2", "compat=1.1"),
        ("v2.qcow2", "compat=0.10"),
        ("small.qcow2", "cluster_size=512"),
        ("large.qcow2", "cluster_size=2M"),
        ("ext.qcow2", "extended_l2=on,cluster_size=128k"),
    ] {
        let p = dir.path().join(name);
        // An odd virtual size: not a multiple of any cluster size.
        create(&p, opts, "10486272");
        scribble(&p);
        let img = check_against_qemu(&p, dir.path());
        assert!(
            img.extents(0, img.virtual_size())
                .unwrap()
                .iter()
                .any(|e| e.kind == ExtentKind::Data)
        );
    }
}

#[test]
fn qcow2_extended_l2_subclusters_match_qemu() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let base = dir.path().join("base.qcow2");
    create(&base, "cluster_size=64k", "4M");
    qemu_io(&base, "qcow2", &["write -P 0x66 0 4M"]);
    let top = dir.path().join("top.qcow2");
    create(
        &top,
        "extended_l2=on,cluster_size=64k,backing_file=base.qcow2,backing_fmt=qcow2",
        "4M",
    );
    // 2 KiB subclusters: partial writes leave the rest to the backing file.
    qemu_io(
        &top,
        "qcow2",
        &[
            "write -P 0x77 2k 2k",
            "write -z 8k 4k",
            "write -P 0x78 130k 1k",
            "write -z 1M 64k",
        ],
    );
    let img = check_against_qemu(&top, dir.path());
    assert_eq!(img.info().backing_chain.len(), 1);
}

#[test]
fn qcow2_compressed_deflate_and_zstd_match_qemu() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let raw = dir.path().join("src.raw");
    qemu_img(&["create", "-q", "-f", "raw", raw.to_str().unwrap(), "6M"]);
    qemu_io(
        &raw,
        "raw",
        &[
            "write -P 0x5a 0 1M",
            "write -P 0x01 2M 4k",
            "write -P 0x02 3M 1536k",
        ],
    );
    // Some incompressible data too.
    let mut bytes = std::fs::read(&raw).unwrap();
    let mut x: u32 = 12345;
    for b in &mut bytes[4 << 20..(4 << 20) + 300_000] {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 16) as u8;
    }
    std::fs::write(&raw, &bytes).unwrap();
    for (name, extra) in [
        ("deflate.qcow2", "cluster_size=64k"),
        ("zstd.qcow2", "compression_type=zstd"),
        ("zstd-small.qcow2", "compression_type=zstd,cluster_size=4k"),
    ] {
        let out = dir.path().join(name);
        qemu_img(&[
            "convert",
            "-c",
            "-f",
            "raw",
            "-O",
            "qcow2",
            "-o",
            extra,
            raw.to_str().unwrap(),
            out.to_str().unwrap(),
        ]);
        check_against_qemu(&out, dir.path());
    }
}

#[test]
fn qcow2_backing_chain_three_deep_matches_qemu() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let base = dir.path().join("base.qcow2");
    let mid = dir.path().join("mid.qcow2");
    let top = dir.path().join("top.qcow2");
    // The base is shorter than the overlays: past its end reads as zero.
    create(&base, "cluster_size=64k", "3M");
    qemu_io(&base, "qcow2", &["write -P 0x01 0 3M"]);
    create(
        &mid,
        "backing_file=base.qcow2,backing_fmt=qcow2,cluster_size=32k",
        "5M",
    );
    qemu_io(
        &mid,
        "qcow2",
        &["write -P 0x02 1M 512k", "write -P 0x03 4M 64k"],
    );
    // No backing_fmt: the backing format is probed.
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "mid.qcow2",
        "-F",
        "qcow2",
        top.to_str().unwrap(),
        "6M",
    ]);
    qemu_io(
        &top,
        "qcow2",
        &[
            "write -P 0x04 64k 64k",
            "write -z 1200k 100k",
            "write -P 0x05 5M 4k",
        ],
    );
    let img = check_against_qemu(&top, dir.path());
    let info = img.info();
    assert_eq!(info.backing_chain.len(), 2, "{info:?}");
    assert!(info.backing_chain[0].ends_with("mid.qcow2"));
    assert!(info.backing_chain[1].ends_with("base.qcow2"));
    // Hole only where the whole chain is unallocated.
    let holes: Vec<_> = img
        .extents(0, img.virtual_size())
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == ExtentKind::Hole)
        .collect();
    assert!(holes.iter().all(|h| h.offset >= 3 << 20), "{holes:?}");
}

#[test]
fn qcow2_open_with_explicit_format_and_info() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("a.qcow2");
    create(&p, "cluster_size=64k", "1G");
    let img = open_image(
        &p,
        &OpenOptions {
            format: Some(ferry_image::Format::Qcow2),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let info = img.info();
    assert_eq!(info.format, "qcow2");
    assert_eq!(info.subformat.as_deref(), Some("v3"));
    assert_eq!(info.virtual_size, 1 << 30);
    assert_eq!(info.cluster_size, Some(65536));
    let ext = img.extents(0, 1 << 30).unwrap();
    assert_eq!(ext.len(), 1);
    assert_eq!(ext[0].kind, ExtentKind::Hole);
}

#[test]
fn qcow2_with_internal_snapshot_reads_the_active_layer() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("snap.qcow2");
    create(&p, "cluster_size=64k", "4M");
    qemu_io(&p, "qcow2", &["write -P 0x01 0 1M"]);
    qemu_img(&["snapshot", "-c", "before", p.to_str().unwrap()]);
    qemu_io(&p, "qcow2", &["write -P 0x02 512k 1M", "write -z 0 64k"]);
    let img = check_against_qemu(&p, dir.path());
    let mut b = [0u8; 1];
    img.read_at(&mut b, 600 << 10).unwrap();
    assert_eq!(b[0], 0x02);
}
