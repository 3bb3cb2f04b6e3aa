//! Fuzz a whole file opened as a VMDK (sparse or COWD header, grain
//! directory and tables, embedded descriptor, text descriptor).
//! Seed corpus: `crates/ferry-image/tests/corpus/vmdk_sparse/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_image::formats::vmdk::fuzz::fuzz_sparse(data);
});
