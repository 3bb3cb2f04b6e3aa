//! Replays the committed fuzz corpus (`tests/corpus/{qcow2,tar}`) through
//! the same entry points as the cargo-fuzz targets, plus deterministic
//! mutations of every seed (bit flips, byte stores, truncations), so CI
//! exercises the parsers on stable without a fuzzing toolchain.
#![allow(clippy::unwrap_used)]

mod corpus_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_image::formats::qcow2::Qcow2Image;
use ferry_image::wrap::{BytesStorage, TarIndex};
use ferry_image::{ErrorKind, Gate, Image, OpenOptions};

fn seeds(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    corpus_support::seeds(kind, 5)
}

/// Deterministic mutations of `seed`, mostly where the headers live.
fn mutations(seed: &[u8], count: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    corpus_support::mutations(seed, count, 0x9e37_79b9_7f4a_7c15, |i| {
        if i % 2 == 0 { 4096 } else { usize::MAX }
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
