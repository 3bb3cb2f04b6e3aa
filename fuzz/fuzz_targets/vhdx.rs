//! Fuzz the VHDX headers, region table, metadata, BAT and log replay.
//! Seed corpus: `crates/ferry-image/tests/corpus/vhdx/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_image::formats::vhdx::fuzz::fuzz_one(data);
});
