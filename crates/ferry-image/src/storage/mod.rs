//! [`Storage`] moves bytes at offsets: a file, a block device, an HTTP range
//! source, an NBD export, a tar member, a decompressed stream. It knows
//! nothing of image formats. Calls are positional and take `&self`, so one
//! storage can serve many copy workers at once.
use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, ExtentKind};

/// Bytes at offsets. Optional operations have defaults: writes fail with
/// [`ErrorKind::ReadOnly`], `write_zeroes` writes zero buffers, `discard`
/// and `flush` do nothing, and `extents` reports everything as data.
pub trait Storage: Send + Sync {
    /// Size in bytes.
    fn size(&self) -> u64;

    /// Fill `buf` from `offset`. Reading past the end is an error
    /// ([`ErrorKind::OutOfBounds`]), never a short read.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()>;

    /// Write all of `buf` at `offset`.
    fn write_at(&self, _buf: &[u8], _offset: u64) -> Result<()> {
        Err(Error::new(
            ErrorKind::ReadOnly,
            format!("{} is read-only", self.describe()),
        ))
    }

    /// Make `len` bytes at `offset` read as zero; may deallocate.
    fn write_zeroes(&self, offset: u64, len: u64) -> Result<()> {
        const CHUNK: u64 = 1 << 20;
        let zeros = vec![0u8; CHUNK.min(len) as usize];
        let mut done = 0;
        while done < len {
            let n = CHUNK.min(len - done);
            self.write_at(&zeros[..n as usize], offset + done)?;
            done += n;
        }
        Ok(())
    }

    /// Hint that `len` bytes at `offset` are no longer needed. The contents
    /// afterwards are unspecified unless the storage says otherwise.
    fn discard(&self, _offset: u64, _len: u64) -> Result<()> {
        Ok(())
    }

    /// Make written data durable.
    fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// Allocation of `[offset, offset+len)`, in order and covering the range.
    /// Storages that cannot tell report one data extent.
    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        Ok(vec![Extent {
            offset,
            length: len,
            kind: ExtentKind::Data,
        }])
    }

    /// The host file whose bytes this storage is, from the given byte
    /// offset on (a plain file: offset 0; a tar member: its data offset).
    /// Lets the copy engine clone or `copy_file_range` instead of reading.
    fn host_file(&self) -> Option<(&std::fs::File, u64)> {
        None
    }

    /// A short human name for messages ("file /x/disk.vmdk").
    fn describe(&self) -> String {
        "storage".to_string()
    }
}

mod file;
pub use file::{DIRECT_ALIGN, FileStorage};
