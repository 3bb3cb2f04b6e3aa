//! Fuzz entry point for the VHDX parser (headers, region table, metadata,
//! BAT, log replay), shared by `fuzz/fuzz_targets/vhdx.rs` and the corpus
//! replay test.
use std::path::Path;
use std::sync::Arc;

use crate::open::OpenOptions;
use crate::wrap::BytesStorage;

/// Open `data` as a VHDX and exercise it.
pub fn fuzz_one(data: &[u8]) {
    let storage = Arc::new(BytesStorage(data.to_vec()));
    if let Ok(img) = super::open(
        storage,
        Path::new("/fuzz/input.vhdx"),
        &OpenOptions::default(),
        0,
    ) {
        crate::formats::vmdk::fuzz::exercise(img.as_ref());
    }
}
