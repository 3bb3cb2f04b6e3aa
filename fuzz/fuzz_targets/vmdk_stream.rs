//! Fuzz the streamOptimized marker walk and grain inflation.
//! Seed corpus: `crates/ferry-image/tests/corpus/vmdk_stream/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_image::formats::vmdk::fuzz::fuzz_stream(data);
});
