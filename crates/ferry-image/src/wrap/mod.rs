//! Wrappers around image bytes: compressed streams (gzip, xz, zstd) and tar
//! archives (an OVA) whose members are read in place.
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::image::Image;
use crate::open::{OpenOptions, Wrapper};
use crate::storage::Storage;

/// Bounds on decompressed streams, against decompression bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Never produce more than this many bytes.
    pub max_output: u64,
    /// When the stream does not declare its size: never produce more than
    /// this many bytes per compressed byte.
    pub max_ratio: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            max_output: 64 << 40,
            max_ratio: 100_000,
        }
    }
}

/// Open the image inside a wrapper.
pub(crate) fn open_wrapped(
    wrapper: Wrapper,
    _storage: Arc<dyn Storage>,
    path: &Path,
    _opts: &OpenOptions,
    _depth: u32,
) -> Result<Arc<dyn Image>> {
    Err(Error::unsupported(format!(
        "{}: images inside {} are not supported yet",
        path.display(),
        wrapper.name()
    )))
}
