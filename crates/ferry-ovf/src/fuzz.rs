//! Entry points for the cargo-fuzz targets in `fuzz/` (`ovf`, `ova`) and
//! for the corpus replay test (`tests/corpus.rs`). Each must return for any
//! input: no panic, bounded memory.
use std::path::Path;

use crate::href;
use crate::ovf::{self, ParseOptions, VmContext};
use crate::package::{Package, PackageOptions, manifest};

/// Parse `data` as an OVF descriptor and build its VMs.
pub fn ovf_one(data: &[u8]) {
    if let Ok(env) = ovf::parse(data, "fuzz.ovf", &ParseOptions::default()) {
        let vms = ovf::to_vms(&env, &VmContext::default());
        assert!(serde_json::to_vec(&vms).is_ok());
        for file in &env.files {
            if let Ok(path) = &file.path {
                assert!(!path.starts_with('/') && !path.split('/').any(|c| c == ".."));
            }
        }
    }
}

/// Index `data` as an OVA; parse its descriptor and manifest when found.
pub fn ova_one(data: &[u8]) {
    let Ok(pkg) = Package::index_ova_bytes(data, Path::new("fuzz.ova"), &PackageOptions::default())
    else {
        return;
    };
    for m in pkg.members() {
        assert!(
            href::check(&m.name).is_ok(),
            "an unsafe member name was indexed"
        );
        assert!(m.truncated || m.offset.saturating_add(m.size) <= data.len() as u64);
    }
    if let Ok(env) = pkg.envelope(&ParseOptions::default()) {
        let vms = pkg.vms(&env, "fuzz.ova", None);
        assert!(serde_json::to_vec(&vms).is_ok());
    }
    let _ = manifest::parse(&String::from_utf8_lossy(data));
}
