//! Reaching an OVA provider: `spec.url` is the package directory (a local
//! path, `nfs://server/path` or `server:/path`, parsed by `ferry-ovf`'s
//! `Location`), and a disk is read in place from its package: a member of
//! the `.ova` archive (never extracted) or a file beside the `.ovf`.
use std::path::Path;
use std::sync::Arc;

use ferry_image::{Gate, OpenOptions};

use crate::error::chain;

/// The provider's URL, or what to set when it is empty.
pub fn url(spec_url: Option<&str>) -> Result<&str, String> {
    spec_url.filter(|u| !u.is_empty()).ok_or_else(|| {
        "spec.url is empty: set it to the OVA directory (a local path, nfs://server/path or server:/path).".to_owned()
    })
}

/// Open the disk `href` of the package at `package` (an `.ova` file, or a
/// folder ending in `/`).
pub fn open_ova(package: &Path, href: &str) -> Result<Arc<dyn ferry_image::Image>, String> {
    let is_dir = package.is_dir() || package.as_os_str().to_string_lossy().ends_with('/');
    if is_dir {
        // The href was checked by the OVF parser; the gate makes sure the
        // resolved file is still inside the package folder.
        let anchor = package.join(".ovf-anchor");
        let path = Gate::default()
            .resolve(&anchor, href, 1)
            .map_err(|e| chain(&e))?;
        ferry_image::open::open_image(&path, &OpenOptions::default()).map_err(|e| chain(&e))
    } else {
        let opts = OpenOptions {
            tar_member: Some(href.to_owned()),
            ..OpenOptions::default()
        };
        ferry_image::open::open_image(package, &opts).map_err(|e| chain(&e))
    }
}
