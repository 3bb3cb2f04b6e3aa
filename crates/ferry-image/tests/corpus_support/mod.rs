//! Shared by the corpus replay tests: reading the committed seeds of a
//! fuzz corpus and deterministic mutations of them.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};

/// The seeds of `tests/corpus/<kind>`, sorted; at least `min` of them.
pub fn seeds(kind: &str, min: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= min,
        "corpus {} has only {} seeds",
        dir.display(),
        v.len()
    );
    v
}

/// Deterministic mutations of `seed` (bit flips, byte stores, runs of 0xff
/// and truncations) from the xorshift state `salt`; mutation `i` lands in
/// the first `span(i)` bytes, so a test can focus on headers.
pub fn mutations(
    seed: &[u8],
    count: usize,
    salt: u64,
    span: fn(usize) -> usize,
) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut x: u64 = salt ^ seed.len() as u64;
    (0..count).map(move |i| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut m = seed.to_vec();
        if m.is_empty() {
            return m;
        }
        let span = m.len().min(span(i));
        let at = (x as usize) % span;
        match i % 4 {
            0 => m[at] ^= 1 << (x >> 61),
            1 => m[at] = (x >> 32) as u8,
            2 => {
                let end = (at + 8).min(m.len());
                m[at..end].fill(0xff);
            }
            _ => m.truncate(at),
        }
        m
    })
}
