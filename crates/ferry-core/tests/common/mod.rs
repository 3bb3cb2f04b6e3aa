//! Helpers shared by ferry-core's integration tests.
#![allow(dead_code)]

/// Reads a YAML file into JSON.
pub fn read_yaml(path: &std::path::Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}
