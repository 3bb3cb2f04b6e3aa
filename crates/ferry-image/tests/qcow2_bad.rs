//! Bad qcow2 input: each case gives a clear error of the right kind and
//! never a panic.
#![allow(clippy::unwrap_used)]
mod qcow2_common;

use std::os::unix::fs::FileExt;
use std::path::Path;

use ferry_image::formats::qcow2::header::Header;
use ferry_image::formats::qcow2::l2::{Geometry, OFFSET_MASK};
use ferry_image::{ErrorKind, OpenOptions, open_image};
use ferry_testutil::{peer, qemu_img, tempdir};
use qcow2_common::{check_against_qemu, qemu_io};

fn open_err(path: &Path) -> ferry_image::Error {
    match open_image(path, &OpenOptions::default()) {
        Ok(_) => panic!("{} opened but should not", path.display()),
        Err(e) => e,
    }
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

fn header(path: &Path) -> Header {
    let bytes = std::fs::read(path).unwrap();
    Header::parse(&bytes[..bytes.len().min(65536)], bytes.len() as u64).unwrap()
}

fn be64_at(path: &Path, offset: u64) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    u64::from_be_bytes(
        bytes[offset as usize..offset as usize + 8]
            .try_into()
            .unwrap(),
    )
}

/// A 4 MiB qcow2 with data in its first cluster.
fn small_image(dir: &Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    qemu_img(&["create", "-q", "-f", "qcow2", p.to_str().unwrap(), "4M"]);
    qemu_io(&p, "qcow2", &["write -P 0x42 0 64k"]);
    p
}

#[test]
fn qcow2_truncated_and_past_eof_tables_are_corrupt() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let p = small_image(dir.path(), "t.qcow2");
    let h = header(&p);

    let short = dir.path().join("short.qcow2");
    std::fs::copy(&p, &short).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&short)
        .unwrap()
        .set_len(50)
        .unwrap();
    let err = open_err(&short);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");

    // L1 entry 0 points far past the end of the file.
    let l1 = dir.path().join("l1.qcow2");
    std::fs::copy(&p, &l1).unwrap();
    patch(
        &l1,
        h.l1_table_offset,
        &((1u64 << 40) | (1 << 63)).to_be_bytes(),
    );
    let err = open_err(&l1);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("L1 entry 0"), "{err}");

    // L2 entry 0 points past the end of the file: a read fails cleanly.
    let l2 = dir.path().join("l2.qcow2");
    std::fs::copy(&p, &l2).unwrap();
    let l2_off = be64_at(&l2, h.l1_table_offset) & OFFSET_MASK;
    patch(&l2, l2_off, &((1u64 << 40) | (1 << 63)).to_be_bytes());
    let img = open_image(&l2, &OpenOptions::default()).unwrap();
    let mut buf = vec![0u8; 4096];
    let err = img.read_at(&mut buf, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("past the end"), "{err}");

    // The file cut in the middle of the L1 table.
    let cut = dir.path().join("cut.qcow2");
    std::fs::copy(&p, &cut).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&cut)
        .unwrap()
        .set_len(h.l1_table_offset + 4)
        .unwrap();
    let err = open_err(&cut);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn qcow2_huge_l1_and_huge_size_are_limits() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let p = small_image(dir.path(), "h.qcow2");
    let big_l1 = dir.path().join("l1size.qcow2");
    std::fs::copy(&p, &big_l1).unwrap();
    patch(&big_l1, 36, &u32::MAX.to_be_bytes());
    let err = open_err(&big_l1);
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    assert!(err.to_string().contains("L1 table"), "{err}");

    let huge = dir.path().join("huge.qcow2");
    std::fs::copy(&p, &huge).unwrap();
    patch(&huge, 24, &(1u64 << 63).to_be_bytes());
    let err = open_err(&huge);
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    assert!(err.to_string().contains("virtual size"), "{err}");
}

#[test]
fn qcow2_backing_outside_directory_is_refused_and_loops_are_limits() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let top = dir.path().join("passwd.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "/etc/passwd",
        "-F",
        "raw",
        top.to_str().unwrap(),
        "1M",
    ]);
    let err = open_err(&top);
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(err.to_string().contains("/etc/passwd"), "{err}");

    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(dir.path().join("x"), vec![0u8; 1 << 20]).unwrap();
    let up = sub.join("up.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "../x",
        "-F",
        "raw",
        up.to_str().unwrap(),
        "1M",
    ]);
    let err = open_err(&up);
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    // Allowed explicitly, the same image opens.
    let opts = OpenOptions {
        gate: ferry_image::Gate::default().allow_dir(dir.path()),
        ..OpenOptions::default()
    };
    assert!(open_image(&up, &opts).is_ok());

    let a = dir.path().join("a.qcow2");
    let b = dir.path().join("b.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "b.qcow2",
        "-F",
        "qcow2",
        a.to_str().unwrap(),
        "1M",
    ]);
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "a.qcow2",
        "-F",
        "qcow2",
        b.to_str().unwrap(),
        "1M",
    ]);
    let err = open_err(&a);
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    assert!(err.to_string().contains("loops"), "{err}");

    let self_loop = dir.path().join("self.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "self.qcow2",
        "-F",
        "qcow2",
        self_loop.to_str().unwrap(),
        "1M",
    ]);
    assert_eq!(open_err(&self_loop).kind(), ErrorKind::Limit);
}

#[test]
fn qcow2_data_file_refused_unless_allowed_and_encryption_unsupported() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let top = dir.path().join("ext.qcow2");
    let data_opt = format!("data_file={}", dir.path().join("ext.data").display());
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-o",
        &data_opt,
        top.to_str().unwrap(),
        "2M",
    ]);
    qemu_io(&top, "qcow2", &["write -P 0x61 64k 128k"]);
    let err = open_err(&top);
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(err.to_string().contains("ext.data"), "{err}");
    let opts = OpenOptions {
        allow_data_file: true,
        ..OpenOptions::default()
    };
    let img = open_image(&top, &opts).unwrap();
    let mut buf = vec![0u8; 2 << 20];
    img.read_at(&mut buf, 0).unwrap();
    assert!(buf[..65536].iter().all(|&b| b == 0));
    assert!(buf[65536..196608].iter().all(|&b| b == 0x61));

    // crypt_method 2 (LUKS), as qemu-img writes it for encrypt.format=luks
    // (creating a real one takes seconds of key stretching).
    let enc = small_image(dir.path(), "enc.qcow2");
    patch(&enc, 32, &2u32.to_be_bytes());
    let err = open_err(&enc);
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("encrypt"), "{err}");
}

/// Replace the first compressed cluster's bytes with a stream that inflates
/// to far more than one cluster.
fn plant_bomb(path: &Path, bomb: &[u8]) {
    let h = header(path);
    let geo = Geometry {
        cluster_bits: h.cluster_bits,
        extended: h.extended_l2(),
        version: h.version,
        data_file: false,
    };
    let l2_off = be64_at(path, h.l1_table_offset) & OFFSET_MASK;
    let entry = be64_at(path, l2_off);
    assert!(entry & (1 << 62) != 0, "cluster 0 is not compressed");
    let (host, len) = geo.compressed(entry);
    assert!(
        bomb.len() as u64 <= len,
        "bomb of {} bytes does not fit in {len}",
        bomb.len()
    );
    patch(path, host, bomb);
}

#[test]
fn qcow2_deflate_and_zstd_bombs_are_corrupt() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let raw = dir.path().join("src.raw");
    // Half-random data: compresses, but not to nothing.
    let mut x: u32 = 7;
    let data: Vec<u8> = (0..(1 << 20))
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((x >> 16) as u8) & 0x0f
        })
        .collect();
    std::fs::write(&raw, &data).unwrap();
    let zeros = vec![0u8; 4 << 20];
    for (name, opt) in [
        ("deflate.qcow2", "compression_type=zlib"),
        ("zstd.qcow2", "compression_type=zstd"),
    ] {
        let p = dir.path().join(name);
        qemu_img(&[
            "convert",
            "-c",
            "-f",
            "raw",
            "-O",
            "qcow2",
            "-o",
            opt,
            raw.to_str().unwrap(),
            p.to_str().unwrap(),
        ]);
        check_against_qemu(&p, dir.path());
        let bomb = if name.starts_with("zstd") {
            zstd::bulk::compress(&zeros, 3).unwrap()
        } else {
            let mut c = flate2::Compress::new(flate2::Compression::best(), false);
            let mut out = vec![0u8; 1 << 20];
            c.compress(&zeros, &mut out, flate2::FlushCompress::Finish)
                .unwrap();
            out.truncate(c.total_out() as usize);
            out
        };
        plant_bomb(&p, &bomb);
        let img = open_image(&p, &OpenOptions::default()).unwrap();
        let mut buf = vec![0u8; 65536];
        let err = img.read_at(&mut buf, 0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{name}: {err}");
        assert!(
            err.to_string().contains("more than the cluster size"),
            "{name}: {err}"
        );
    }
}
