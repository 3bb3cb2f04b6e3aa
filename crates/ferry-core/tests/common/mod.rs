//! Helpers shared by ferry-core's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The project's shared reference directory (`../shared` beside the
/// checkout; `FERRY_SHARED_DIR` overrides it, and a git worktree one level
/// deeper also finds it). Returns `None` (after printing why) when it is
/// missing, and panics instead when FERRY_REQUIRE_PEERS=1.
pub fn shared_dir(sub: &str) -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut candidates = Vec::new();
    if let Some(d) = std::env::var_os("FERRY_SHARED_DIR") {
        candidates.push(PathBuf::from(d));
    }
    candidates.push(manifest.join("../../../shared"));
    candidates.push(manifest.join("../../../../shared"));
    for c in &candidates {
        let dir = c.join(sub);
        if dir.is_dir() {
            return Some(dir);
        }
    }
    assert!(
        !ferry_testutil::peers_required(),
        "shared/{sub} is missing (looked in {candidates:?}) and FERRY_REQUIRE_PEERS=1"
    );
    eprintln!("skipping: shared/{sub} is missing (looked in {candidates:?})");
    None
}

/// Reads a YAML file into JSON.
pub fn read_yaml(path: &std::path::Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}
