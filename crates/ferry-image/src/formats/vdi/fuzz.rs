//! Fuzz entry point for the VDI parser (header, block map), shared by
//! `fuzz/fuzz_targets/vdi.rs` and the corpus replay test.
use std::path::Path;
use std::sync::Arc;

use crate::open::OpenOptions;
use crate::wrap::BytesStorage;

/// Open `data` as a VDI and exercise it.
pub fn fuzz_one(data: &[u8]) {
    let storage = Arc::new(BytesStorage(data.to_vec()));
    if let Ok(img) = super::open(
        storage,
        Path::new("/fuzz/input.vdi"),
        &OpenOptions::default(),
        0,
    ) {
        crate::formats::vmdk::fuzz::exercise(img.as_ref());
    }
}
