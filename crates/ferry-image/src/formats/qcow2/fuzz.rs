//! The fuzz entry point for the qcow2 parser, shared by the cargo-fuzz
//! target (`fuzz/fuzz_targets/qcow2.rs`) and the corpus replay test, so CI
//! exercises the same code without a nightly toolchain.
use std::path::Path;
use std::sync::Arc;

use super::reader::Qcow2Image;
use crate::gate::Gate;
use crate::image::Image;
use crate::open::OpenOptions;
use crate::wrap::BytesStorage;

/// Parse `data` as a qcow2 image (header, extensions, L1), then map and
/// read a few ranges. Errors are expected; panics, hangs and huge
/// allocations are bugs.
pub fn fuzz_one(data: &[u8]) {
    let opts = OpenOptions {
        gate: Gate::deny_all(),
        ..OpenOptions::default()
    };
    let storage = Arc::new(BytesStorage(data.to_vec()));
    let Ok(img) = Qcow2Image::open(storage, Path::new("/fuzz/input.qcow2"), &opts, 0) else {
        return;
    };
    let size = img.virtual_size();
    let _ = img.info();
    let _ = img.extents(0, size);
    let mut buf = vec![0u8; 65536];
    for offset in [0, size / 2, size.saturating_sub(65536)] {
        let len = (size - offset.min(size)).min(65536) as usize;
        let _ = img.read_at(&mut buf[..len], offset);
    }
}
