//! VHDX reader conformance against qemu-img, log replay checked against
//! qemu-img's own replay, and damaged files.
#![allow(clippy::unwrap_used)]

#[path = "vmdk_support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;

use ferry_image::formats::vhdx::crc::crc32c_skip;
use ferry_image::{ErrorKind, ExtentKind, Image, OpenOptions, open_image};
use ferry_testutil::{peer, qemu_img, qemu_io_write, tempdir};
use support::*;

const MIB: usize = 1 << 20;

fn open(path: &Path) -> Arc<dyn Image> {
    open_image(path, &OpenOptions::default()).unwrap()
}

#[test]
fn dynamic_and_fixed_match_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    let size: u64 = (70 << 20) + 1536;
    for (sub, opts) in [
        ("dynamic", "subformat=dynamic,block_size=1M"),
        ("dynamic", "subformat=dynamic"),
        ("fixed", "subformat=fixed,block_size=8M"),
    ] {
        let dir = tempdir();
        let p = dir.path().join("d.vhdx");
        qemu_img(&[
            "create",
            "-q",
            "-f",
            "vhdx",
            "-o",
            opts,
            p.to_str().unwrap(),
            &size.to_string(),
        ]);
        for (pat, off, len) in pattern_writes(size) {
            qemu_io_write(&p, "vhdx", pat, off, len);
        }
        let img = open(&p);
        assert_eq!(img.info().format, "vhdx");
        assert_eq!(img.info().subformat.as_deref(), Some(sub), "{opts}");
        assert_eq!(img.virtual_size(), size);
        check_extents_cover(img.as_ref());
        let expected = qemu_raw(&p, "vhdx");
        for chunk in [MIB, 999 * 512 + 5] {
            assert!(
                read_all(img.as_ref(), chunk) == expected,
                "{opts}: contents differ (chunk {chunk})"
            );
        }
        // qemu-img reports every VHDX block as data; ours must lie inside.
        let ours = our_data_ranges(img.as_ref());
        assert!(
            ranges_within(&ours, &qemu_data_ranges(&p, "vhdx")),
            "{opts}"
        );
        if opts.ends_with("block_size=1M") {
            let mib = MIB as u64;
            assert_eq!(
                ours,
                vec![(0, 2 * mib), (32 * mib, 2 * mib), (70 * mib, 1536)]
            );
        }
    }
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Put a one-entry log at the start of the log region that rewrites the
/// first BAT page with `page`, and point both headers at it.
fn add_log_entry(b: &mut [u8], page: &[u8], seq: u64) {
    let guid = [7u8; 16];
    let log = MIB; // qemu-img puts the log at 1 MiB
    let bat = 2 * MIB; // and the BAT at 2 MiB
    let size = b.len() as u64;
    let mut e = vec![0u8; 8192];
    e[0..4].copy_from_slice(b"loge");
    put32(&mut e, 8, 8192);
    put32(&mut e, 12, 0);
    put64(&mut e, 16, seq);
    put32(&mut e, 24, 1);
    e[32..48].copy_from_slice(&guid);
    put64(&mut e, 48, size);
    put64(&mut e, 56, size);
    e[64..68].copy_from_slice(b"desc");
    e[68..72].copy_from_slice(&page[4092..4096]);
    e[72..80].copy_from_slice(&page[0..8]);
    put64(&mut e, 80, bat as u64);
    put64(&mut e, 88, seq);
    e[4096..4100].copy_from_slice(b"data");
    put32(&mut e, 4100, (seq >> 32) as u32);
    e[4104..8188].copy_from_slice(&page[8..4092]);
    put32(&mut e, 8188, seq as u32);
    let c = crc32c_skip(&e, 4);
    put32(&mut e, 4, c);
    b[log..log + 8192].copy_from_slice(&e);
    for h in [64 * 1024, 128 * 1024] {
        b[h + 48..h + 64].copy_from_slice(&guid);
        let c = crc32c_skip(&b[h..h + 4096], 4);
        put32(b, h + 4, c);
    }
}

#[test]
fn pending_log_is_replayed_in_memory_like_qemu_does() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("log.vhdx");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vhdx",
        "-o",
        "subformat=dynamic,block_size=1M",
        p.to_str().unwrap(),
        "8M",
    ]);
    qemu_io_write(&p, "vhdx", 0x11, 0, MIB as u64);
    qemu_io_write(&p, "vhdx", 0x22, 3 * MIB as u64, MIB as u64);
    qemu_io_write(&p, "vhdx", 0x33, 5 * MIB as u64, MIB as u64);
    let mut b = std::fs::read(&p).unwrap();
    let bat = 2 * MIB;
    let mut page = b[bat..bat + 4096].to_vec();
    // Swap blocks 0 and 3, and make block 5 a zero block.
    let (e0, e3) = (page[0..8].to_vec(), page[24..32].to_vec());
    page[0..8].copy_from_slice(&e3);
    page[24..32].copy_from_slice(&e0);
    put64(&mut page, 40, 2);
    add_log_entry(&mut b, &page, 5);
    std::fs::write(&p, &b).unwrap();

    let img = open(&p);
    let data = read_all(img.as_ref(), MIB);
    assert!(
        data[..MIB].iter().all(|&x| x == 0x22),
        "block 0 shows block 3's data"
    );
    assert!(data[3 * MIB..4 * MIB].iter().all(|&x| x == 0x11));
    assert!(data[5 * MIB..6 * MIB].iter().all(|&x| x == 0));
    let ext = img.extents(5 * MIB as u64, MIB as u64).unwrap();
    assert_eq!(ext[0].kind, ExtentKind::Zero);
    assert_eq!(
        std::fs::read(&p).unwrap(),
        b,
        "the file must not be modified"
    );

    // qemu-img replays the log when it opens the file writable.
    let copy = dir.path().join("copy.vhdx");
    std::fs::write(&copy, &b).unwrap();
    qemu_img(&[
        "check",
        "-q",
        "-r",
        "all",
        "-f",
        "vhdx",
        copy.to_str().unwrap(),
    ]);
    assert!(
        qemu_raw(&copy, "vhdx") == data,
        "our replay differs from qemu-img's"
    );

    // An entry with a bad checksum is not replayed.
    b[MIB + 5000] ^= 1;
    std::fs::write(&p, &b).unwrap();
    let data = read_all(open(&p).as_ref(), MIB);
    assert!(data[..MIB].iter().all(|&x| x == 0x11));
}

#[test]
fn damaged_vhdx_give_clear_errors() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let p = dir.path().join("bad.vhdx");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vhdx",
        "-o",
        "subformat=dynamic,block_size=1M",
        p.to_str().unwrap(),
        "8M",
    ]);
    qemu_io_write(&p, "vhdx", 0x44, 0, 2 * MIB as u64);
    let good = std::fs::read(&p).unwrap();
    let err_of = |b: &[u8]| {
        std::fs::write(&p, b).unwrap();
        match open_image(&p, &OpenOptions::default()) {
            Ok(_) => panic!("opened a damaged file"),
            Err(e) => e,
        }
    };
    // One damaged header: the other is used.
    let mut b = good.clone();
    b[64 * 1024 + 100] ^= 1;
    std::fs::write(&p, &b).unwrap();
    assert!(
        read_all(open(&p).as_ref(), MIB)[..2 * MIB]
            .iter()
            .all(|&x| x == 0x44)
    );
    // Both damaged.
    b[128 * 1024 + 100] ^= 1;
    let err = err_of(&b);
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.to_string().contains("no valid VHDX header"), "{err}");
    // Both region tables damaged.
    let mut b = good.clone();
    b[192 * 1024 + 20] ^= 1;
    b[256 * 1024 + 20] ^= 1;
    assert!(err_of(&b).to_string().contains("region table"));
    // A payload block past the end of the file.
    let mut b = good.clone();
    put64(&mut b, 2 * MIB, (1u64 << 40) | 6);
    let err = err_of(&b);
    assert!(err.to_string().contains("payload block 0"), "{err}");
    // Truncated.
    let err = err_of(&good[..good.len() - MIB]);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    // Metadata: a 2^63 virtual size, and the has-parent flag.
    let meta = 3 * MIB;
    let item = |b: &[u8], id0: u8| {
        (0..8)
            .map(|i| meta + 32 + i * 32)
            .find(|&at| b[at] == id0)
            .map(|at| meta + u32::from_le_bytes(b[at + 16..at + 20].try_into().unwrap()) as usize)
            .unwrap()
    };
    let mut b = good.clone();
    let size_at = item(&b, 0x24);
    put64(&mut b, size_at, 1 << 63);
    assert_eq!(err_of(&b).kind(), ErrorKind::Limit);
    let mut b = good.clone();
    let params_at = item(&b, 0x37);
    put32(&mut b, params_at + 4, 2);
    let err = err_of(&b);
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("differencing"), "{err}");
}
