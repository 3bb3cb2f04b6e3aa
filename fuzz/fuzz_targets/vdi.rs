//! Fuzz the VDI header and block map.
//! Seed corpus: `crates/ferry-image/tests/corpus/vdi/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_image::formats::vdi::fuzz::fuzz_one(data);
});
