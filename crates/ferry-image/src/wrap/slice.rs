//! [`SliceStorage`]: a window `[offset, offset+len)` of another storage (a
//! tar member read in place), and [`BytesStorage`]: bytes in memory.
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::image::Extent;
use crate::storage::Storage;

/// A read-only window over another storage.
pub struct SliceStorage {
    inner: Arc<dyn Storage>,
    offset: u64,
    len: u64,
    name: String,
}

impl SliceStorage {
    /// The bytes `[offset, offset+len)` of `inner`, called `name` in
    /// messages. The window must lie inside `inner`.
    pub fn new(
        inner: Arc<dyn Storage>,
        offset: u64,
        len: u64,
        name: impl Into<String>,
    ) -> Result<Self> {
        let name = name.into();
        if offset.checked_add(len).is_none_or(|end| end > inner.size()) {
            return Err(Error::corrupt(format!(
                "{name} at offset {offset} with {len} bytes runs past the end of {} ({} bytes)",
                inner.describe(),
                inner.size()
            )));
        }
        Ok(Self {
            inner,
            offset,
            len,
            name,
        })
    }

    fn check(&self, offset: u64, len: u64) -> Result<()> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {len} bytes at offset {offset} is past the end of {} ({} bytes)",
                    self.describe(),
                    self.len
                ),
            ));
        }
        Ok(())
    }
}

impl Storage for SliceStorage {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.check(offset, buf.len() as u64)?;
        self.inner.read_at(buf, self.offset + offset)
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let len = len.min(self.len.saturating_sub(offset));
        if len == 0 {
            return Ok(Vec::new());
        }
        let mut out = self.inner.extents(self.offset + offset, len)?;
        for e in &mut out {
            e.offset -= self.offset;
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        format!("{} in {}", self.name, self.inner.describe())
    }
}

/// Bytes in memory, read-only (tests, fuzzing, small embedded images).
#[derive(Debug, Clone, Default)]
pub struct BytesStorage(pub Vec<u8>);

impl Storage for BytesStorage {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= self.0.len() as u64);
        let Some(end) = end else {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {} bytes at offset {offset} is past the end of the in-memory image ({} bytes)",
                    buf.len(),
                    self.0.len()
                ),
            ));
        };
        buf.copy_from_slice(&self.0[offset as usize..end as usize]);
        Ok(())
    }

    fn describe(&self) -> String {
        "in-memory image".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_reads_inside_its_window_only() {
        let inner: Arc<dyn Storage> = Arc::new(BytesStorage((0..100u8).collect()));
        let s = SliceStorage::new(inner.clone(), 10, 20, "member a").unwrap();
        let mut b = [0u8; 5];
        s.read_at(&mut b, 15).unwrap();
        assert_eq!(b, [25, 26, 27, 28, 29]);
        assert_eq!(
            s.read_at(&mut b, 16).unwrap_err().kind(),
            ErrorKind::OutOfBounds
        );
        assert!(SliceStorage::new(inner, 90, 20, "member b").is_err());
        let e = s.extents(0, 100).unwrap();
        assert_eq!((e[0].offset, e[0].length), (0, 20));
    }
}
