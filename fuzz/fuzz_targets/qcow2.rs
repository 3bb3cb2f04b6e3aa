//! Fuzz the qcow2 header, extension and table parser plus mapping and reads.
//! Seed corpus: `crates/ferry-image/tests/corpus/qcow2/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_image::formats::qcow2::fuzz::fuzz_one(data);
});
