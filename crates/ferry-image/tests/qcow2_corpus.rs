//! Replays the committed fuzz corpus (`tests/corpus/{qcow2,tar}`) through
//! the same entry points as the cargo-fuzz targets, plus deterministic
//! mutations of every seed (bit flips, byte stores, truncations), so CI
//! exercises the parsers on stable without a fuzzing toolchain.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_image::formats::qcow2::Qcow2Image;
use ferry_image::wrap::{BytesStorage, TarIndex};
use ferry_image::{ErrorKind, Gate, Image, OpenOptions};

fn seeds(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 5,
        "corpus {} has only {} seeds",
        dir.display(),
        v.len()
    );
    v
}

/// Deterministic mutations of `seed`.
fn mutations(seed: &[u8], count: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ seed.len() as u64;
    (0..count).map(move |i| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut m = seed.to_vec();
        if m.is_empty() {
            return m;
        }
        // Focus on the header and first tables, where the parser looks.
        let span = m.len().min(if i % 2 == 0 { 4096 } else { usize::MAX });
        let at = (x as usize) % span;
        match i % 4 {
            0 => m[at] ^= 1 << (x >> 61),
            1 => m[at] = (x >> 32) as u8,
            2 => {
                let end = (at + 8).min(m.len());
                m[at..end].fill(0xff);
            }
            _ => m.truncate(at),
        }
        m
    })
}

fn open(bytes: &[u8]) -> ferry_image::Result<Qcow2Image> {
    let opts = OpenOptions {
        gate: Gate::deny_all(),
        ..OpenOptions::default()
    };
    Qcow2Image::open(
        Arc::new(BytesStorage(bytes.to_vec())),
        Path::new("/corpus/x.qcow2"),
        &opts,
        0,
    )
}

#[test]
fn qcow2_corpus_seeds_parse_as_expected() {
    for (path, bytes) in seeds("qcow2") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result = open(&bytes);
        match name.as_str() {
            "huge-size.qcow2" => {
                assert_eq!(result.err().unwrap().kind(), ErrorKind::Limit, "{name}")
            }
            "l1-past-eof.qcow2" | "truncated.qcow2" => {
                assert_eq!(result.err().unwrap().kind(), ErrorKind::Corrupt, "{name}")
            }
            "backing-512.qcow2" => {
                assert_eq!(result.err().unwrap().kind(), ErrorKind::Refused, "{name}")
            }
            _ => {
                let img = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                let mut buf = vec![0u8; img.virtual_size() as usize];
                img.read_at(&mut buf, 0).unwrap();
                assert!(buf.iter().any(|&b| b != 0), "{name} has no data");
                let ext = img.extents(0, img.virtual_size()).unwrap();
                assert_eq!(
                    ext.iter().map(|e| e.length).sum::<u64>(),
                    img.virtual_size(),
                    "{name}"
                );
            }
        }
        ferry_image::formats::qcow2::fuzz::fuzz_one(&bytes);
    }
}

#[test]
fn qcow2_corpus_mutations_never_panic() {
    for (_, bytes) in seeds("qcow2") {
        for m in mutations(&bytes, 300) {
            ferry_image::formats::qcow2::fuzz::fuzz_one(&m);
        }
    }
}

#[test]
fn tar_corpus_seeds_and_mutations() {
    for (path, bytes) in seeds("tar") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let index = TarIndex::read(&BytesStorage(bytes.clone()));
        if name == "truncated.tar" {
            assert_eq!(index.err().unwrap().kind(), ErrorKind::Corrupt);
        } else {
            let index = index.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                index.members.iter().any(|m| m.name.ends_with(".txt")),
                "{name}: {index:?}"
            );
            if name.contains("longname") {
                assert!(index.members.iter().any(|m| m.name.len() > 100), "{name}");
            }
        }
        for m in mutations(&bytes, 300) {
            ferry_image::wrap::tar::fuzz_one(&m);
        }
    }
}
