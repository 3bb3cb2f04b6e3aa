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

/// A VMware-layout stream (`gdOffset = -1` in the header, directory and
/// footer at the end) of 8 MiB holding data in every grain.
fn vmware_stream(dir: &Path) -> (PathBuf, Vec<u8>) {
    let p = dir.join("stream.vmdk");
    let size = 8u64 << 20;
    let mut w = StreamVmdkWriter::new(std::fs::File::create(&p).unwrap(), size).unwrap();
    let mut x = 99u32;
    let data: Vec<u8> = (0..size)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 27) as u8
        })
        .collect();
    for (i, g) in data.chunks(GRAIN_BYTES as usize).enumerate() {
        w.write_grain(i as u64, g).unwrap();
    }
    w.finish().unwrap();
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(
        u64_at(&bytes, 56),
        u64::MAX,
        "the header defers the directory"
    );
    (p, bytes)
}

#[test]
fn truncated_stream_with_directory_at_end_is_refused() {
    let dir = tempdir();
    let (p, bytes) = vmware_stream(dir.path());
    assert!(open_image(&p, &OpenOptions::default()).is_ok());
    // Cut inside a grain, after a whole grain, before the footer, and
    // before the end-of-stream marker only.
    let first_grain_end = {
        let len = u32::from_le_bytes(bytes[128 * 512 + 8..128 * 512 + 12].try_into().unwrap());
        (128 * 512 + 12 + len as usize).next_multiple_of(512)
    };
    for len in [
        bytes.len() / 2 + 7,
        first_grain_end,
        bytes.len() - 1536,
        bytes.len() - 512,
    ] {
        std::fs::write(&p, &bytes[..len]).unwrap();
        let err = open_err(&p);
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{len}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("truncated"), "{len}: {msg}");
        assert_eq!(msg.matches("stream.vmdk").count(), 1, "{len}: {msg}");
    }
}

#[test]
fn truncated_stream_inside_a_tar_is_refused() {
    let dir = tempdir();
    let (_, bytes) = vmware_stream(dir.path());
    let mut tar = Vec::new();
    let mut header = [0u8; 512];
    header[..9].copy_from_slice(b"disk.vmdk");
    header[100..108].copy_from_slice(b"0000644\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", bytes.len()).as_bytes());
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    tar.extend_from_slice(&header);
    tar.extend_from_slice(&bytes);
    tar.resize(tar.len().next_multiple_of(512) + 1024, 0);
    let ova = dir.path().join("vm.ova");
    let opts = OpenOptions {
        tar_member: Some("disk.vmdk".into()),
        ..OpenOptions::default()
    };
    std::fs::write(&ova, &tar).unwrap();
    assert!(open_image(&ova, &opts).is_ok());
    // The download stopped inside the disk: the member is shorter than its
    // header says.
    std::fs::write(&ova, &tar[..512 + bytes.len() / 2]).unwrap();
    let err = open_image(&ova, &opts).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("past the end of the archive"), "{msg}");
    assert_eq!(msg.matches("vm.ova").count(), 1, "{msg}");
}
