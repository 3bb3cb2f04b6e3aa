//! Malformed and hostile VMDKs: each gives a clear error of the right kind,
//! never a panic.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

use ferry_image::formats::vmdk::{StreamVmdkWriter, writer::GRAIN_BYTES};
use ferry_image::{Error, ErrorKind, OpenOptions, open_image};
use ferry_testutil::{peer, qemu_img, qemu_io_write, tempdir};

fn open_err(path: &Path) -> Error {
    match open_image(path, &OpenOptions::default()) {
        Ok(_) => panic!("{} opened but should not", path.display()),
        Err(e) => e,
    }
}

fn sparse_with_data(dir: &Path) -> (PathBuf, Vec<u8>) {
    let p = dir.join("s.vmdk");
    qemu_img(&["create", "-q", "-f", "vmdk", p.to_str().unwrap(), "70M"]);
    qemu_io_write(&p, "vmdk", 0x42, 0, 1 << 20);
    qemu_io_write(&p, "vmdk", 0x43, 40 << 20, 65536);
    let bytes = std::fs::read(&p).unwrap();
    (p, bytes)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn truncated_sparse_files_are_corrupt() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let (p, bytes) = sparse_with_data(dir.path());
    for len in [300usize, 64 * 1024, bytes.len() - 4096] {
        std::fs::write(&p, &bytes[..len]).unwrap();
        let err = open_err(&p);
        assert!(
            matches!(err.kind(), ErrorKind::Corrupt | ErrorKind::OutOfBounds),
            "{len}: {err}"
        );
        assert!(err.to_string().contains("s.vmdk"), "{err}");
    }
}

#[test]
fn tables_past_eof_or_overlapping_are_corrupt() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let (p, bytes) = sparse_with_data(dir.path());
    let (rgd, gd) = (
        u64_at(&bytes, 48) as usize * 512,
        u64_at(&bytes, 56) as usize * 512,
    );

    // Both directories past the end of the file.
    let mut b = bytes.clone();
    put_u64(&mut b, 48, 0x7fff_ffff);
    put_u64(&mut b, 56, 0x7fff_ffff);
    std::fs::write(&p, &b).unwrap();
    let err = open_err(&p);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("grain directory"), "{err}");

    // A grain table past the end (in both copies of the directory).
    let mut b = bytes.clone();
    put_u32(&mut b, gd, 0x7fff_fff0);
    put_u32(&mut b, rgd, 0x7fff_fff0);
    std::fs::write(&p, &b).unwrap();
    let err = open_err(&p);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("grain table 0"), "{err}");

    // Two directory entries naming the same grain table.
    let mut b = bytes.clone();
    for base in [gd, rgd] {
        let first = u32::from_le_bytes(b[base..base + 4].try_into().unwrap());
        put_u32(&mut b, base + 4, first);
    }
    std::fs::write(&p, &b).unwrap();
    let err = open_err(&p);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("overlap"), "{err}");

    // A grain pointing past the end of the file.
    let mut b = bytes.clone();
    for base in [gd, rgd] {
        let gt = u32::from_le_bytes(b[base..base + 4].try_into().unwrap()) as usize * 512;
        put_u32(&mut b, gt, 0x7000_0000);
    }
    std::fs::write(&p, &b).unwrap();
    let err = open_err(&p);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(
        err.to_string().contains("grain 0 points past the end"),
        "{err}"
    );
}

#[test]
fn zero_and_huge_capacities_are_refused() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let (p, bytes) = sparse_with_data(dir.path());
    let mut b = bytes.clone();
    put_u64(&mut b, 12, 1 << 54); // 2^63 bytes
    std::fs::write(&p, &b).unwrap();
    assert_eq!(open_err(&p).kind(), ErrorKind::Limit);
    let mut b = bytes.clone();
    put_u64(&mut b, 12, 0);
    put_u64(&mut b, 28, 0);
    std::fs::write(&p, &b).unwrap();
    assert_eq!(open_err(&p).kind(), ErrorKind::Corrupt);

    let d = dir.path().join("d.vmdk");
    std::fs::write(
        &d,
        "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\nRW 18014398509481984 ZERO\n",
    )
    .unwrap();
    assert_eq!(open_err(&d).kind(), ErrorKind::Limit);
    std::fs::write(
        &d,
        "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\nRW 0 ZERO\n",
    )
    .unwrap();
    assert_eq!(open_err(&d).kind(), ErrorKind::Corrupt);
}

#[test]
fn descriptor_naming_host_files_is_refused() {
    let dir = tempdir();
    let d = dir.path().join("evil.vmdk");
    for name in ["/etc/passwd", "../../../../../../etc/passwd"] {
        std::fs::write(
            &d,
            format!("# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\nRW 1 FLAT \"{name}\" 0\n"),
        )
        .unwrap();
        let err = open_err(&d);
        assert_eq!(err.kind(), ErrorKind::Refused, "{name}: {err}");
        assert!(
            err.to_string().contains("outside the image's directory"),
            "{err}"
        );
    }
    std::fs::write(
        &d,
        "# Disk DescriptorFile\ncreateType=\"vmfsSparse\"\nparentCID=12345678\nparentFileNameHint=\"/etc/passwd\"\nRW 8 ZERO\n",
    )
    .unwrap();
    assert_eq!(open_err(&d).kind(), ErrorKind::Refused);
}

#[test]
fn sesparse_and_rdm_are_unsupported_with_advice() {
    let dir = tempdir();
    std::fs::write(dir.path().join("x-sesparse.vmdk"), [0u8; 512]).unwrap();
    let d = dir.path().join("x.vmdk");
    std::fs::write(
        &d,
        "# Disk DescriptorFile\ncreateType=\"seSparse\"\nRW 8 SESPARSE \"x-sesparse.vmdk\"\n",
    )
    .unwrap();
    let err = open_err(&d);
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("consolidate"), "{err}");
    std::fs::write(
        &d,
        "# Disk DescriptorFile\ncreateType=\"vmfsRDM\"\nRW 8 VMFSRDM \"x-rdm.vmdk\"\n",
    )
    .unwrap();
    assert_eq!(open_err(&d).kind(), ErrorKind::Unsupported);
}

#[test]
fn decompression_bomb_grain_is_a_limit_error() {
    let dir = tempdir();
    let p = dir.path().join("bomb.vmdk");
    let mut w = StreamVmdkWriter::new(std::fs::File::create(&p).unwrap(), 1 << 20).unwrap();
    // A grain record whose zlib stream inflates to 1 MiB (16 grains).
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 1 << 20]).unwrap();
    let z = z.finish().unwrap();
    let mut rec = Vec::new();
    rec.extend_from_slice(&0u64.to_le_bytes());
    rec.extend_from_slice(&(z.len() as u32).to_le_bytes());
    rec.extend_from_slice(&z);
    rec.resize(rec.len().next_multiple_of(512), 0);
    w.write_compressed_grain(0, &rec).unwrap();
    w.finish().unwrap();
    let img = open_image(&p, &OpenOptions::default()).unwrap();
    let mut buf = vec![0u8; GRAIN_BYTES as usize];
    let err = img.read_at(&mut buf, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    // A grain whose length field claims more than a grain can need.
    let mut b = std::fs::read(&p).unwrap();
    put_u32(&mut b, 128 * 512 + 8, 10 << 20);
    std::fs::write(&p, &b).unwrap();
    let img = open_image(&p, &OpenOptions::default()).unwrap();
    assert_eq!(
        img.read_at(&mut buf, 0).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
}
