//! VHD (vpc) reader conformance against qemu-img, a hand-made differencing
//! disk, and damaged files.
#![allow(clippy::unwrap_used)]

#[path = "vmdk_support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;

use ferry_image::formats::vhd::footer::checksum;
use ferry_image::{ErrorKind, Image, OpenOptions, open_image};
use ferry_testutil::{peer, qemu_img, qemu_io_write, tempdir};
use support::*;

fn open(path: &Path) -> Arc<dyn Image> {
    open_image(path, &OpenOptions::default()).unwrap()
}

fn qemu_size(path: &Path) -> u64 {
    let out = qemu_img(&["info", "-f", "vpc", "--output=json", path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["virtual-size"].as_u64().unwrap()
}

fn create(path: &Path, sub: &str, size: &str) -> u64 {
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vpc",
        "-o",
        &format!("subformat={sub}"),
        path.to_str().unwrap(),
        size,
    ]);
    qemu_size(path)
}

#[test]
fn dynamic_and_fixed_match_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    for sub in ["dynamic", "fixed"] {
        let dir = tempdir();
        let p = dir.path().join("d.vhd");
        let size = create(&p, sub, "70M");
        for (pat, off, len) in pattern_writes(size) {
            qemu_io_write(&p, "vpc", pat, off, len);
        }
        let img = open(&p);
        assert_eq!(img.info().format, "vpc");
        assert_eq!(img.info().subformat.as_deref(), Some(sub));
        assert_eq!(img.virtual_size(), size, "{sub}");
        check_extents_cover(img.as_ref());
        let expected = qemu_raw(&p, "vpc");
        for chunk in [1 << 20, 777 * 512 + 3] {
            assert!(
                read_all(img.as_ref(), chunk) == expected,
                "{sub}: contents differ (chunk {chunk})"
            );
        }
        let (ours, theirs) = (our_data_ranges(img.as_ref()), qemu_data_ranges(&p, "vpc"));
        if sub == "dynamic" {
            assert_eq!(ours, theirs);
        } else {
            assert!(
                ranges_within(&ours, &theirs),
                "{ours:?} not within {theirs:?}"
            );
        }
        let dumped = dir.path().join("out.raw");
        dump_raw(img.as_ref(), &dumped);
        let out = std::process::Command::new("qemu-img")
            .args(["compare", "-q", "-f", "raw", "-F", "vpc"])
            .arg(&dumped)
            .arg(&p)
            .status()
            .unwrap();
        assert!(out.success(), "{sub}: extent-driven copy differs");
    }
}

fn put_be32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn refresh_footer(b: &mut [u8], at: usize) {
    let c = checksum(&b[at..at + 512], 64);
    put_be32(b, at + 64, c);
}

/// Turn the dynamic VHD bytes `b` into a differencing disk whose W2ru
/// locator names `parent`.
fn make_differencing(b: &mut [u8], parent: &str) {
    let end = b.len() - 512;
    for at in [0, end] {
        put_be32(b, at + 60, 4);
        refresh_footer(b, at);
    }
    let hdr = 512;
    let name: Vec<u8> = parent
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let data_at = hdr + 768;
    b[data_at..data_at + name.len()].copy_from_slice(&name);
    let loc = hdr + 576;
    b[loc..loc + 4].copy_from_slice(b"W2ru");
    put_be32(b, loc + 4, 1);
    put_be32(b, loc + 8, name.len() as u32);
    b[loc + 16..loc + 24].copy_from_slice(&(data_at as u64).to_be_bytes());
    let c = checksum(&b[hdr..hdr + 1024], 36);
    put_be32(b, hdr + 36, c);
}

#[test]
fn differencing_reads_through_parent_by_sector_bitmap() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let base = dir.path().join("base.vhd");
    let size = create(&base, "dynamic", "8M");
    qemu_io_write(&base, "vpc", 0x11, 0, size);
    let child = dir.path().join("child.vhd");
    create(&child, "dynamic", "8M");
    qemu_io_write(&child, "vpc", 0x22, 2 << 20, 4096);
    qemu_io_write(&child, "vpc", 0x33, (6 << 20) + 1536, 1024);
    let child_raw = qemu_raw(&child, "vpc");
    let mut b = std::fs::read(&child).unwrap();
    // Clear the bitmap bits of the first three sectors of block 3.
    let bat = 1536;
    let e3 = u32::from_be_bytes(b[bat + 12..bat + 16].try_into().unwrap()) as usize;
    b[e3 * 512] &= 0x1f;
    make_differencing(&mut b, ".\\base.vhd");
    std::fs::write(&child, &b).unwrap();

    let mut expected = vec![0x11u8; size as usize];
    let blk = 2 << 20;
    expected[blk..2 * blk].copy_from_slice(&child_raw[blk..2 * blk]);
    expected[3 * blk + 1536..4 * blk].copy_from_slice(&child_raw[3 * blk + 1536..4 * blk]);
    let img = open(&child);
    assert_eq!(img.info().subformat.as_deref(), Some("differencing"));
    assert_eq!(img.info().backing_chain, vec!["base.vhd".to_string()]);
    assert!(read_all(img.as_ref(), 300_000) == expected);
    // The parent's data under the cleared bits and the child's data merge.
    let ext = img.extents(3 * blk as u64, blk as u64).unwrap();
    assert_eq!(ext.len(), 1, "{ext:?}");
    assert_eq!(
        (ext[0].length, ext[0].kind),
        (blk as u64, ferry_image::ExtentKind::Data)
    );

    // A locator naming a host file is refused by the gate.
    let evil = dir.path().join("evil.vhd");
    let mut b = std::fs::read(dir.path().join("base.vhd")).unwrap();
    make_differencing(&mut b, "..\\..\\..\\..\\..\\etc\\passwd");
    std::fs::write(&evil, &b).unwrap();
    let err = open_image(&evil, &OpenOptions::default()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
}

#[test]
fn damaged_vhds_give_clear_errors() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("f.vhd");
    create(&p, "fixed", "4M");
    let mut b = std::fs::read(&p).unwrap();
    let n = b.len();
    b[n - 512 + 100] ^= 0xff;
    std::fs::write(&p, &b).unwrap();
    let err = open_image(
        &p,
        &OpenOptions {
            format: Some(ferry_image::Format::Vpc),
            ..OpenOptions::default()
        },
    )
    .err()
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.to_string().contains("checksum"), "{err}");

    let d = dir.path().join("d.vhd");
    let dsize = create(&d, "dynamic", "8M");
    qemu_io_write(&d, "vpc", 0x55, 0, dsize);
    let good = std::fs::read(&d).unwrap();
    // The end footer damaged: the copy at offset 0 is used.
    let mut b = good.clone();
    let n = b.len();
    b[n - 512 + 100] ^= 0xff;
    std::fs::write(&d, &b).unwrap();
    assert!(
        read_all(open(&d).as_ref(), 1 << 20)
            .iter()
            .all(|&x| x == 0x55)
    );
    // Both copies damaged.
    b[100] ^= 0xff;
    std::fs::write(&d, &b).unwrap();
    assert_eq!(
        open_image(&d, &OpenOptions::default())
            .err()
            .unwrap()
            .kind(),
        ErrorKind::Corrupt
    );
    // Truncated: blocks past the end.
    std::fs::write(&d, &good[..good.len() / 2]).unwrap();
    let err = open_image(
        &d,
        &OpenOptions {
            format: Some(ferry_image::Format::Vpc),
            ..OpenOptions::default()
        },
    )
    .err()
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    // BAT offset past the end.
    let mut b = good.clone();
    b[512 + 16..512 + 24].copy_from_slice(&(1u64 << 40).to_be_bytes());
    let c = checksum(&b[512..1536], 36);
    put_be32(&mut b, 512 + 36, c);
    std::fs::write(&d, &b).unwrap();
    let err = open_image(&d, &OpenOptions::default()).err().unwrap();
    assert!(err.to_string().contains("BAT"), "{err}");
    // A huge virtual size.
    let mut b = good.clone();
    let n = b.len();
    for at in [0, n - 512] {
        b[at + 28..at + 32].copy_from_slice(b"win ");
        b[at + 48..at + 56].copy_from_slice(&(1u64 << 63).to_be_bytes());
        refresh_footer(&mut b, at);
    }
    std::fs::write(&d, &b).unwrap();
    assert_eq!(
        open_image(&d, &OpenOptions::default())
            .err()
            .unwrap()
            .kind(),
        ErrorKind::Limit
    );
}
