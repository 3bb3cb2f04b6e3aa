//! qcow2 v2/v3 reader and v3 writer.
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::image::Image;
use crate::open::OpenOptions;
use crate::storage::Storage;

/// Open a qcow2 image stored in `storage` (at `path`), `depth` deep in a chain.
pub fn open(
    _storage: Arc<dyn Storage>,
    path: &Path,
    _opts: &OpenOptions,
    _depth: u32,
) -> Result<Arc<dyn Image>> {
    Err(Error::unsupported(format!(
        "{}: qcow2 is not supported yet",
        path.display()
    )))
}
