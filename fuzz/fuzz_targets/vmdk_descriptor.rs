//! Fuzz the VMDK text descriptor parser.
//! Seed corpus: `crates/ferry-image/tests/corpus/vmdk_descriptor/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_image::formats::vmdk::fuzz::fuzz_descriptor(data);
});
