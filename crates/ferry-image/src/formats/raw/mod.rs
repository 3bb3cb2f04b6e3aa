//! Raw images (and ISO, which is raw): guest offset = storage offset. The
//! extents come from the storage itself (`SEEK_DATA`/`SEEK_HOLE` for files),
//! so a sparse raw file copies only its data, and a raw file on a
//! reflink-capable filesystem can be cloned ([`Image::flat_file`]).
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, Image, ImageInfo};
use crate::storage::{FileStorage, Storage};

/// A raw image over any [`Storage`].
pub struct RawImage {
    storage: Arc<dyn Storage>,
    format_name: &'static str,
}

impl std::fmt::Debug for RawImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawImage")
            .field("format", &self.format_name)
            .field("storage", &self.storage.describe())
            .finish()
    }
}

impl RawImage {
    /// A raw image whose guest bytes are `storage`'s bytes.
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self::named(storage, "raw")
    }

    /// The same, reported under another format name (`iso`).
    pub fn named(storage: Arc<dyn Storage>, format_name: &'static str) -> Self {
        Self {
            storage,
            format_name,
        }
    }

    /// Open the file or block device at `path` as a raw image.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self::new(Arc::new(FileStorage::open(path)?)))
    }

    /// The storage underneath.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }
}

/// Bytes a regular file occupies on disk.
fn allocated_bytes(file: &std::fs::File) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().ok()?;
    meta.is_file().then(|| meta.blocks().saturating_mul(512))
}

impl Image for RawImage {
    fn info(&self) -> ImageInfo {
        ImageInfo {
            format: self.format_name.to_string(),
            virtual_size: self.storage.size(),
            actual_size: self
                .storage
                .host_file()
                .and_then(|(f, off)| if off == 0 { allocated_bytes(f) } else { None }),
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
        let size = self.storage.size();
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > size)
        {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {} bytes at offset {offset} is past the end of the {} image on {} ({size} bytes)",
                    buf.len(),
                    self.format_name,
                    self.storage.describe(),
                ),
            ));
        }
        self.storage.read_at(buf, offset)
    }

    fn flat_file(&self) -> Option<(&std::fs::File, u64)> {
        self.storage.host_file()
    }

    fn granularity(&self) -> u64 {
        1 << 20
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ExtentKind;

    #[test]
    fn raw_image_reports_storage_extents_and_reads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.raw");
        let s = FileStorage::create(&p, 3 << 20).unwrap();
        s.write_at(&[5u8; 4096], 2 << 20).unwrap();
        drop(s);
        let img = RawImage::open(&p).unwrap();
        assert_eq!(img.virtual_size(), 3 << 20);
        let info = img.info();
        assert_eq!(info.format, "raw");
        assert!(info.actual_size.unwrap() < 3 << 20);
        let ext = img.extents(0, u64::MAX).unwrap();
        assert_eq!(ext.iter().map(|e| e.length).sum::<u64>(), 3 << 20);
        let data: u64 = ext
            .iter()
            .filter(|e| e.kind == ExtentKind::Data)
            .map(|e| e.length)
            .sum();
        assert!((4096..(3 << 20)).contains(&data), "{ext:?}");
        let mut buf = [0u8; 8];
        img.read_at(&mut buf, 2 << 20).unwrap();
        assert_eq!(buf, [5u8; 8]);
        assert_eq!(
            img.read_at(&mut buf, (3 << 20) - 4).unwrap_err().kind(),
            ErrorKind::OutOfBounds
        );
        assert!(img.flat_file().is_some());
    }
}
