//! Fuzz the tar index (ustar, GNU long names, pax records).
//! Seed corpus: `crates/ferry-image/tests/corpus/tar/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_image::wrap::tar::fuzz_one(data);
});
