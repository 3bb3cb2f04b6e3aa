//! Wrappers: gzip/xz/zstd streams and tar members, opened through the
//! factory; a qcow2 read in place from inside a tar (an OVA-like archive).
#![allow(clippy::unwrap_used)]
mod qcow2_common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use ferry_image::wrap::{Source, StreamLimits, TarIndex, open_source};
use ferry_image::{ErrorKind, FileStorage, OpenOptions, open_image};
use ferry_testutil::{peer, qemu_img, run, tempdir};
use qcow2_common::{ferry_read_all, qemu_io};

fn sample() -> Vec<u8> {
    let mut x: u32 = 99;
    (0..(3 << 20) + 4096)
        .map(|i| {
            if (i >> 16) % 3 == 0 {
                0
            } else {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((x >> 20) as u8) & 0x3f
            }
        })
        .collect()
}

fn compressed_files(dir: &Path, data: &[u8]) -> Vec<std::path::PathBuf> {
    let gz = dir.join("disk.img.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    let xz = dir.join("disk.img.xz");
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).unwrap();
    std::fs::write(&xz, e.finish().unwrap()).unwrap();
    let zst = dir.join("disk.img.zst");
    std::fs::write(&zst, zstd::bulk::compress(data, 3).unwrap()).unwrap();
    vec![gz, xz, zst]
}

#[test]
fn compressed_raw_streams_open_as_images_and_sources() {
    let dir = tempdir();
    let data = sample();
    for path in compressed_files(dir.path(), &data) {
        let img = open_image(&path, &OpenOptions::default()).unwrap();
        assert_eq!(img.virtual_size(), data.len() as u64, "{}", path.display());
        assert!(
            ferry_read_all(img.as_ref(), 1 << 20) == data,
            "{}",
            path.display()
        );
        // Out of order: a later read, then an earlier one (restart).
        let mut a = vec![0u8; 5000];
        img.read_at(&mut a, 2 << 20).unwrap();
        assert_eq!(a, data[2 << 20..(2 << 20) + 5000]);
        img.read_at(&mut a, 100).unwrap();
        assert_eq!(a, data[100..5100]);
        assert!(img.info().subformat.unwrap().contains("stream"));
        let Source::Stream(mut s) = open_source(&path, &OpenOptions::default()).unwrap() else {
            panic!("{} is not a stream source", path.display());
        };
        let mut got = Vec::new();
        let mut buf = vec![0u8; 100_000];
        loop {
            let n = s.read_chunk(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got == data, "{}", path.display());
    }
}

#[test]
fn stream_bomb_is_a_limit_error_through_the_factory() {
    let dir = tempdir();
    let zeros = vec![0u8; 16 << 20];
    let opts = OpenOptions {
        stream_limits: StreamLimits {
            max_output: 4 << 20,
            ..StreamLimits::default()
        },
        ..OpenOptions::default()
    };
    for path in compressed_files(dir.path(), &zeros) {
        let err = open_image(&path, &opts).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Limit, "{}: {err}", path.display());
    }
}

#[test]
fn tar_members_are_read_in_place() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() || peer("tar").is_none() {
        return;
    }
    let dir = tempdir();
    let q = dir.path().join("disk.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", q.to_str().unwrap(), "2M"]);
    qemu_io(&q, "qcow2", &["write -P 0x31 4k 60k"]);
    let data = sample();
    compressed_files(dir.path(), &data);
    std::fs::write(dir.path().join("vm.ovf"), b"<Envelope/>").unwrap();
    let ova = dir.path().join("vm.ova");
    run(Command::new("tar")
        .arg("-C")
        .arg(dir.path())
        .arg("--format=ustar")
        .arg("-cf")
        .arg(&ova)
        .args(["vm.ovf", "disk.qcow2", "disk.img.gz"]));
    let index = TarIndex::read(&FileStorage::open(&ova).unwrap()).unwrap();
    let names: Vec<&str> = index.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["vm.ovf", "disk.qcow2", "disk.img.gz"]);
    assert!(
        index
            .members
            .iter()
            .all(|m| m.offset % 512 == 0 && !m.unsafe_path)
    );

    let err = open_image(&ova, &OpenOptions::default()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("disk.qcow2"), "{err}");

    let member = |name: &str| OpenOptions {
        tar_member: Some(name.to_string()),
        ..OpenOptions::default()
    };
    let img = open_image(&ova, &member("disk.qcow2")).unwrap();
    assert_eq!(img.info().format, "qcow2");
    let bytes = ferry_read_all(img.as_ref(), 65536);
    assert!(bytes[4096..65536].iter().all(|&b| b == 0x31));
    assert!(bytes[..4096].iter().chain(&bytes[65536..]).all(|&b| b == 0));

    let img = open_image(&ova, &member("disk.img.gz")).unwrap();
    assert!(ferry_read_all(img.as_ref(), 1 << 20) == data);
    assert!(matches!(
        open_source(&ova, &member("disk.img.gz")).unwrap(),
        Source::Stream(_)
    ));
    assert!(matches!(
        open_source(&ova, &member("disk.qcow2")).unwrap(),
        Source::Image(_)
    ));
}

#[test]
fn qcow2_inside_gzip_is_unsupported_with_advice() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let q = dir.path().join("disk.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", q.to_str().unwrap(), "2M"]);
    let gz = dir.path().join("disk.qcow2.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&std::fs::read(&q).unwrap()).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    let err = open_image(&gz, &OpenOptions::default()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(
        err.to_string().contains("decompress it to a file first"),
        "{err}"
    );
}
