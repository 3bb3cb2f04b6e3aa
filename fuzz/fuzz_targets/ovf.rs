//! Fuzz the OVF descriptor parser and the VM model built from it.
//! Seed corpus: `crates/ferry-ovf/tests/corpus/ovf/` and `crates/ferry-ovf/tests/fixtures/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ferry_ovf::fuzz::ovf_one(data);
});
