//! qcow2 v2/v3: a reader ([`Qcow2Image`]) and a v3 writer ([`Qcow2Writer`]).
//! Split by concern: `header` (header and extensions), `l2` (entry decoding),
//! `cache` (generic LRU), `compressed` (deflate/zstd clusters), `reader`,
//! `writer` and `refcount` (the writer's metadata).
use std::path::Path;
use std::sync::Arc;

use crate::error::Result;
use crate::image::Image;
use crate::open::OpenOptions;
use crate::storage::Storage;

pub mod cache;
pub mod compressed;
pub mod fuzz;
pub mod header;
pub mod l2;
pub mod reader;
pub mod refcount;
pub mod writer;

pub use reader::Qcow2Image;
pub use writer::{Qcow2Writer, Qcow2WriterOptions};

/// Open a qcow2 image stored in `storage` (at `path`), `depth` deep in a chain.
pub fn open(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<Arc<dyn Image>> {
    Ok(Arc::new(Qcow2Image::open(storage, path, opts, depth)?))
}
