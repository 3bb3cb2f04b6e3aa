//! VMDK reader conformance against qemu-img: every subformat qemu-img can
//! write, read fully and compared with `qemu-img convert -O raw`, data
//! ranges compared with `qemu-img map`.
#![allow(clippy::unwrap_used)]

#[path = "vmdk_support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;

use ferry_image::{ExtentKind, Gate, Image, OpenOptions, open_image};
use ferry_testutil::{images_identical, peer, qemu_img, qemu_io_write, tempdir};
use support::*;

/// 70 MiB + 3 sectors: not a multiple of the grain, three grain tables.
const SIZE: u64 = (70 << 20) + 1536;

fn open(path: &Path) -> Arc<dyn Image> {
    open_image(path, &OpenOptions::default()).unwrap()
}

fn create_patterned(path: &Path, opts: &str, size: u64) {
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-o",
        opts,
        path.to_str().unwrap(),
        &size.to_string(),
    ]);
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
        assert!(
            ours == expected,
            "{subformat}: contents differ (chunk {chunk})"
        );
    }
    let (ours, theirs) = (
        our_data_ranges(img.as_ref()),
        qemu_data_ranges(path, "vmdk"),
    );
    if subformat.ends_with("Flat") {
        // qemu-img reports a whole flat extent as data; we report the flat
        // file's holes (SEEK_DATA) as holes, so ours must lie inside theirs.
        assert!(
            ranges_within(&ours, &theirs),
            "{subformat}: {ours:?} not within {theirs:?}"
        );
    } else {
        assert_eq!(ours, theirs, "{subformat}: data ranges");
    }
    let dumped = path.with_extension("ferry.raw");
    dump_raw(img.as_ref(), &dumped);
    assert!(
        images_identical(&dumped, path),
        "{subformat}: extent-driven copy differs"
    );
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
    ferry_testutil::run(
        std::process::Command::new("qemu-io")
            .args(["-f", "vmdk", "-c", "write -z 1048576 65536"])
            .arg(&p),
    );
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
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "vmdk",
        "-o",
        "subformat=streamOptimized",
        raw.to_str().unwrap(),
        p.to_str().unwrap(),
    ]);
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
    let writes = [
        (0x55u8, 0u64, 65536u64),
        (0x66, (2 << 30) - 70_000, 140_000),
        (0x77, size - 1536, 1536),
    ];
    for sub in ["twoGbMaxExtentSparse", "twoGbMaxExtentFlat"] {
        let dir = tempdir();
        let p = dir.path().join("t.vmdk");
        qemu_img(&[
            "create",
            "-q",
            "-f",
            "vmdk",
            "-o",
            &format!("subformat={sub}"),
            p.to_str().unwrap(),
            &size.to_string(),
        ]);
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
        assert!(
            images_identical(&dumped, &p),
            "{sub}: contents differ from qemu-img's view"
        );
        if sub.ends_with("Sparse") {
            assert_eq!(our_data_ranges(img.as_ref()), qemu_data_ranges(&p, "vmdk"));
        }
    }
}

#[test]
#[allow(clippy::field_reassign_with_default)] // OpenOptions has a private field
fn snapshot_delta_reads_through_parent() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let base = dir.path().join("base.vmdk");
    create_patterned(&base, "subformat=monolithicSparse", SIZE);
    let top = dir.path().join("top.vmdk");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-b",
        "base.vmdk",
        "-F",
        "vmdk",
        top.to_str().unwrap(),
    ]);
    qemu_io_write(&top, "vmdk", 0x99, 2048, 4096);
    let img = open(&top);
    assert_eq!(img.info().backing_chain, vec!["base.vmdk".to_string()]);
    let ours = read_all(img.as_ref(), 1 << 20);
    assert!(ours == qemu_raw(&top, "vmdk"), "delta over base differs");
    assert_eq!(
        our_data_ranges(img.as_ref()),
        qemu_data_ranges(&top, "vmdk")
    );
    // With every implicit open refused, the parent is not opened.
    let mut opts = OpenOptions::default();
    opts.gate = Gate::deny_all();
    let err = open_image(&top, &opts).err().unwrap();
    assert_eq!(err.kind(), ferry_image::ErrorKind::Refused);
}

fn patterned(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn vmfs_descriptor_with_flat_extent_and_zero_extent_match_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let flat = patterned(4 << 20, 0x5a);
    std::fs::write(dir.path().join("v-flat.vmdk"), &flat).unwrap();
    for ct in ["vmfs", "vmfsThin"] {
        let p = dir.path().join(format!("{ct}.vmdk"));
        let desc = format!(
            "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"{ct}\"\n\n# Extent description\nRW 8192 VMFS \"v-flat.vmdk\"\n\n# The Disk Data Base\n#DDB\nddb.adapterType = \"lsilogic\"\nddb.thinProvisioned = \"1\"\n"
        );
        std::fs::write(&p, desc).unwrap();
        let img = open(&p);
        assert_eq!(img.info().subformat.as_deref(), Some(ct));
        assert!(read_all(img.as_ref(), 1 << 20) == flat, "{ct}");
        if ct == "vmfs" {
            assert!(qemu_raw(&p, "vmdk") == flat);
        }
    }
    // FLAT, ZERO, FLAT-at-an-offset.
    let p = dir.path().join("z.vmdk");
    std::fs::write(
        &p,
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"v-flat.vmdk\" 0\nRW 4096 ZERO\nRW 2048 FLAT \"v-flat.vmdk\" 2048\n",
    )
    .unwrap();
    let img = open(&p);
    let mut expected = flat[..1 << 20].to_vec();
    expected.extend(std::iter::repeat_n(0u8, 2 << 20));
    expected.extend_from_slice(&flat[1 << 20..2 << 20]);
    let ours = read_all(img.as_ref(), 300_000);
    // qemu-img skips ZERO extent lines, so the expectation is built here.
    assert!(ours == expected);
    let ext = img.extents(0, img.virtual_size()).unwrap();
    assert_eq!(ext.len(), 3, "{ext:?}");
    assert_eq!(
        (ext[1].offset, ext[1].length, ext[1].kind),
        (1 << 20, 2 << 20, ExtentKind::Zero)
    );
}

/// A vmfsSparse (COWD) redo log: 4 MiB capacity, 4 KiB grains, one grain
/// directory entry, one 4096-entry grain table, two allocated grains.
fn cowd_image() -> (Vec<u8>, Vec<u8>) {
    let mut f = vec![0u8; 56 * 512];
    f[0..4].copy_from_slice(b"COWD");
    let fields: [u32; 6] = [1, 3, 8192, 8, 4, 1];
    for (i, v) in fields.iter().enumerate() {
        f[4 + i * 4..8 + i * 4].copy_from_slice(&v.to_le_bytes());
    }
    f[4 * 512..4 * 512 + 4].copy_from_slice(&8u32.to_le_bytes()); // GD[0] -> GT at sector 8
    let gt = 8 * 512;
    f[gt..gt + 4].copy_from_slice(&40u32.to_le_bytes()); // grain 0 at sector 40
    f[gt + 5 * 4..gt + 6 * 4].copy_from_slice(&48u32.to_le_bytes()); // grain 5 at sector 48
    let g0 = patterned(4096, 1);
    let g5 = patterned(4096, 2);
    f[40 * 512..48 * 512].copy_from_slice(&g0);
    f[48 * 512..56 * 512].copy_from_slice(&g5);
    let mut expected = vec![0u8; 4 << 20];
    expected[..4096].copy_from_slice(&g0);
    expected[5 * 4096..6 * 4096].copy_from_slice(&g5);
    (f, expected)
}

#[test]
fn vmfs_sparse_cowd_matches_qemu() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let (file, expected) = cowd_image();
    let p = dir.path().join("d-delta.vmdk");
    std::fs::write(&p, &file).unwrap();
    let img = open(&p);
    assert_eq!(img.info().subformat.as_deref(), Some("vmfsSparse"));
    assert!(read_all(img.as_ref(), 3000 * 512) == expected);
    assert_eq!(
        our_data_ranges(img.as_ref()),
        vec![(0, 4096), (5 * 4096, 4096)]
    );
    // qemu-img reads a COWD extent only through a descriptor.
    let solo = dir.path().join("solo.vmdk");
    std::fs::write(
        &solo,
        "# Disk DescriptorFile\nversion=1\nCID=00000003\nparentCID=ffffffff\ncreateType=\"vmfsSparse\"\nRW 8192 VMFSSPARSE \"d-delta.vmdk\"\n",
    )
    .unwrap();
    assert!(qemu_raw(&solo, "vmdk") == expected);
    assert!(read_all(open(&solo).as_ref(), 1 << 20) == expected);
    // The same delta named by a vmfsSparse descriptor over a flat parent.
    std::fs::write(dir.path().join("base-flat.vmdk"), patterned(4 << 20, 9)).unwrap();
    std::fs::write(
        dir.path().join("base.vmdk"),
        "# Disk DescriptorFile\nversion=1\nCID=00000001\nparentCID=ffffffff\ncreateType=\"vmfs\"\nRW 8192 VMFS \"base-flat.vmdk\"\n",
    )
    .unwrap();
    let top = dir.path().join("d.vmdk");
    std::fs::write(
        &top,
        "# Disk DescriptorFile\nversion=1\nCID=00000002\nparentCID=00000001\ncreateType=\"vmfsSparse\"\nparentFileNameHint=\"base.vmdk\"\nRW 8192 VMFSSPARSE \"d-delta.vmdk\"\n",
    )
    .unwrap();
    let img = open(&top);
    let mut want = patterned(4 << 20, 9);
    want[..4096].copy_from_slice(&expected[..4096]);
    want[5 * 4096..6 * 4096].copy_from_slice(&expected[5 * 4096..6 * 4096]);
    assert!(read_all(img.as_ref(), 1 << 20) == want);
    assert!(qemu_raw(&top, "vmdk") == want);
}
