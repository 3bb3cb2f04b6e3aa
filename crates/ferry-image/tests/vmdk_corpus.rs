//! Replays the committed VMDK, VHD and VHDX fuzz corpora
//! (`tests/corpus/{vmdk_descriptor,vmdk_sparse,vmdk_stream,vhd,vhdx}`)
//! through the cargo-fuzz entry points, plus deterministic mutations of
//! every seed, so CI exercises the parsers without a fuzzing toolchain.
#![allow(clippy::unwrap_used)]

mod corpus_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_image::formats::{vhd, vhdx, vmdk};
use ferry_image::wrap::BytesStorage;
use ferry_image::{Gate, Image, OpenOptions};

fn seeds(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    corpus_support::seeds(kind, 2)
}

/// Deterministic mutations of `seed`, mostly where the headers live.
fn mutations(seed: &[u8], count: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    corpus_support::mutations(seed, count, 0x2545_f491_4f6c_dd1d, |i| {
        if i % 3 == 0 { usize::MAX } else { 65536 }
    })
}

fn replay(kind: &str, run: fn(&[u8])) {
    for (path, bytes) in seeds(kind) {
        run(&bytes);
        let n = if bytes.len() > 1 << 20 { 40 } else { 300 };
        for m in mutations(&bytes, n) {
            run(&m);
        }
        eprintln!("replayed {} and {n} mutations", path.display());
    }
}

fn open_as(bytes: &[u8], name: &str) -> ferry_image::Result<Arc<dyn Image>> {
    let opts = OpenOptions {
        gate: Gate::deny_all(),
        ..OpenOptions::default()
    };
    let path = Path::new("/corpus").join(name);
    let storage = Arc::new(BytesStorage(bytes.to_vec()));
    match name.rsplit('.').next() {
        Some("vhd") => vhd::open(storage, &path, &opts, 0),
        Some("vhdx") => vhdx::open(storage, &path, &opts, 0),
        _ => vmdk::open(storage, &path, &opts, 0),
    }
}

#[test]
fn corpus_seeds_open_as_expected() {
    for kind in ["vmdk_sparse", "vhd", "vhdx"] {
        for (path, bytes) in seeds(kind) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let r = open_as(&bytes, &name);
            let should_open = !(name.ends_with(".txt") || name.contains("truncated"));
            assert_eq!(r.is_ok(), should_open, "{name}: {:?}", r.err());
        }
    }
    // The compact VHDX with a pending log: the log makes block 1 a zero block.
    let (_, plain) = &seeds("vhdx")[1];
    let (_, logged) = &seeds("vhdx")[0];
    let a = open_as(plain, "compact.vhdx").unwrap();
    let b = open_as(logged, "compact-log.vhdx").unwrap();
    let kinds = |i: &Arc<dyn Image>| {
        i.extents(0, i.virtual_size())
            .unwrap()
            .iter()
            .map(|e| e.kind)
            .collect::<Vec<_>>()
    };
    assert_ne!(kinds(&a), kinds(&b));
    let mut x = vec![0u8; 65536];
    b.read_at(&mut x, 0).unwrap();
    assert!(x.iter().all(|&v| v == 0x42));
}

#[test]
fn vmdk_descriptor_corpus_replays() {
    replay("vmdk_descriptor", vmdk::fuzz::fuzz_descriptor);
}

#[test]
fn vmdk_sparse_corpus_replays() {
    replay("vmdk_sparse", vmdk::fuzz::fuzz_sparse);
}

#[test]
fn vmdk_stream_corpus_replays() {
    replay("vmdk_stream", vmdk::fuzz::fuzz_stream);
}

#[test]
fn vhd_corpus_replays() {
    replay("vhd", vhd::fuzz::fuzz_one);
}

#[test]
fn vhdx_corpus_replays() {
    replay("vhdx", vhdx::fuzz::fuzz_one);
}
