//! Raw images (and ISO, which is raw): the guest bytes are the storage bytes.
//! Extents come from the storage (SEEK_DATA/SEEK_HOLE for files).
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, Image, ImageInfo};
use crate::storage::Storage;

/// A raw image over a storage.
pub struct RawImage {
    storage: Arc<dyn Storage>,
    format_name: &'static str,
}

impl RawImage {
    /// A raw image whose guest bytes are `storage`'s bytes.
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self {
            storage,
            format_name: "raw",
        }
    }

    /// The same, reported under another format name (`iso`).
    pub fn named(storage: Arc<dyn Storage>, format_name: &'static str) -> Self {
        Self {
            storage,
            format_name,
        }
    }
}

impl Image for RawImage {
    fn info(&self) -> ImageInfo {
        ImageInfo {
            format: self.format_name.to_string(),
            virtual_size: self.storage.size(),
            ..ImageInfo::default()
        }
    }

    fn virtual_size(&self) -> u64 {
        self.storage.size()
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let size = self.storage.size();
        let end = offset.saturating_add(len).min(size);
        if offset >= end {
            return Ok(Vec::new());
        }
        self.storage.extents(offset, end - offset)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|e| e > self.storage.size()) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {} bytes at offset {offset} is past the end of the {} image on {} ({} bytes)",
                    buf.len(),
                    self.format_name,
                    self.storage.describe(),
                    self.storage.size()
                ),
            ));
        }
        self.storage.read_at(buf, offset)
    }

    fn granularity(&self) -> u64 {
        1 << 20
    }
}
