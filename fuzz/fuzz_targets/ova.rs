//! Fuzz the OVA package index (tar members, descriptor, manifest).
//! Seed corpus: `crates/ferry-ovf/tests/corpus/ova/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_ovf::fuzz::ova_one(data);
});
