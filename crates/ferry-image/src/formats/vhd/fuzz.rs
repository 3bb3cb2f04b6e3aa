//! Fuzz entry point for the VHD parser (footer, dynamic header, BAT,
//! sector bitmaps, parent locators), shared by `fuzz/fuzz_targets/vhd.rs`
//! and the corpus replay test.
use std::path::Path;
use std::sync::Arc;

use crate::gate::Gate;
use crate::open::OpenOptions;
use crate::wrap::BytesStorage;

/// Open `data` as a VHD (parents refused by the gate) and exercise it.
pub fn fuzz_one(data: &[u8]) {
    let opts = OpenOptions {
        gate: Gate::deny_all(),
        ..OpenOptions::default()
    };
    let storage = Arc::new(BytesStorage(data.to_vec()));
    if let Ok(img) = super::open(storage, Path::new("/fuzz/input.vhd"), &opts, 0) {
        crate::formats::vmdk::fuzz::exercise(img.as_ref());
    }
}
