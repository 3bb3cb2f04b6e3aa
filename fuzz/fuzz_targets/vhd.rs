//! Fuzz the VHD footer, dynamic header, BAT, sector bitmaps and parent
//! locators.
//! Seed corpus: `crates/ferry-image/tests/corpus/vhd/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_image::formats::vhd::fuzz::fuzz_one(data);
});
