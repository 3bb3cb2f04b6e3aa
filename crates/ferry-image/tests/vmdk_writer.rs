//! The streamOptimized writer: qemu-img reads what it writes, so does our
//! reader (through the footer, and by walking markers when the footer is
//! cut off).
#![allow(clippy::unwrap_used)]

#[path = "vmdk_support/mod.rs"]
mod support;

use std::fs::File;
use std::io::BufWriter;

use ferry_image::formats::vmdk::writer::{GRAIN_BYTES, GrainCompressor};
use ferry_image::formats::vmdk::{StreamVmdkOptions, StreamVmdkWriter};
use ferry_image::{ErrorKind, OpenOptions, open_image};
use ferry_testutil::{peer, qemu_img, tempdir};
use support::*;

const SIZE: u64 = (70 << 20) + 1536;

fn source() -> Vec<u8> {
    let mut data = vec![0u8; SIZE as usize];
    let mut x = 7u32;
    for (p, off, len) in pattern_writes(SIZE) {
        for b in &mut data[off as usize..(off + len) as usize] {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = p ^ ((x >> 28) as u8);
        }
    }
    data
}

fn write_stream(path: &std::path::Path, data: &[u8]) {
    let out = BufWriter::new(File::create(path).unwrap());
    let opts = StreamVmdkOptions {
        file_name: "disk1.vmdk".into(),
        cid: Some(0x1234_5678),
        ..StreamVmdkOptions::default()
    };
    let mut w = StreamVmdkWriter::with_options(out, SIZE, &opts).unwrap();
    for (i, g) in data.chunks(GRAIN_BYTES as usize).enumerate() {
        w.write_grain(i as u64, g).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn stream_writer_output_is_read_by_qemu_and_by_us() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let data = source();
    let p = dir.path().join("out.vmdk");
    write_stream(&p, &data);
    let info = qemu_img(&["info", "--output=json", p.to_str().unwrap()]);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["format"], "vmdk");
    assert_eq!(info["virtual-size"], SIZE);
    assert_eq!(
        info["format-specific"]["data"]["create-type"],
        "streamOptimized"
    );
    assert!(
        qemu_raw(&p, "vmdk") == data,
        "qemu-img reads different contents"
    );
    qemu_img(&["check", "-f", "vmdk", p.to_str().unwrap()]);

    let img = open_image(&p, &OpenOptions::default()).unwrap();
    assert_eq!(img.info().subformat.as_deref(), Some("streamOptimized"));
    assert!(read_all(img.as_ref(), 1 << 20) == data);
    assert_eq!(our_data_ranges(img.as_ref()), qemu_data_ranges(&p, "vmdk"));

    // Without the footer (a cut-off stream) the stream is incomplete.
    let cut = dir.path().join("cut.vmdk");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 1536]).unwrap();
    let err = open_image(&cut, &OpenOptions::default()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");

    // A footer whose directory offset is past the end: the markers are walked.
    let mut bad = bytes.clone();
    let at = bad.len() - 1024 + 56;
    bad[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    std::fs::write(&cut, &bad).unwrap();
    let img = open_image(&cut, &OpenOptions::default()).unwrap();
    assert!(
        read_all(img.as_ref(), 1 << 20) == data,
        "marker walk after a bad footer differs"
    );
}

#[test]
fn stream_writer_rejects_out_of_order_and_bad_sizes() {
    let mut w = StreamVmdkWriter::new(Vec::new(), 1 << 20).unwrap();
    let grain = vec![1u8; GRAIN_BYTES as usize];
    w.write_grain(3, &grain).unwrap();
    assert_eq!(
        w.write_grain(3, &grain).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        w.write_grain(2, &grain).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        w.write_grain(16, &grain).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        w.write_grain(5, &grain[..100]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let mut rec = Vec::new();
    GrainCompressor::new(1)
        .compress(9, &grain, &mut rec)
        .unwrap();
    w.write_compressed_grain(9, &rec).unwrap();
    assert!(w.finish().unwrap().len() > 64 * 1024);
    assert!(StreamVmdkWriter::new(Vec::new(), 0).is_err());
    assert!(StreamVmdkWriter::new(Vec::new(), 1 << 63).is_err());
}
