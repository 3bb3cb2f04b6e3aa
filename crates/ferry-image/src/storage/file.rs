//! [`FileStorage`]: a regular file or block device, with positional I/O.
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::storage::Storage;

/// A file opened for positional reads (and writes when opened writable).
#[derive(Debug)]
pub struct FileStorage {
    file: File,
    path: PathBuf,
    size: u64,
    writable: bool,
}

impl FileStorage {
    /// Open `path` read-only.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        Self::from_file(file, path, false)
    }

    /// Open `path` for reading and writing (it must exist).
    pub fn open_rw(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(format!("cannot open {} for writing", path.display()), e))?;
        Self::from_file(file, path, true)
    }

    fn from_file(file: File, path: &Path, writable: bool) -> Result<Self> {
        let size = file_size(&file)
            .map_err(|e| Error::io(format!("cannot read the size of {}", path.display()), e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            size,
            writable,
        })
    }

    /// The path this storage was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying file, for tiers that need the descriptor (reflink).
    pub fn file(&self) -> &File {
        &self.file
    }
}

/// Size of a regular file or a block device (seek to end for devices).
fn file_size(file: &File) -> std::io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    let meta = file.metadata()?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::End(0))
}

impl Storage for FileStorage {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|end| end > self.size) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {} bytes at offset {offset} is past the end of {} ({} bytes)",
                    buf.len(),
                    self.path.display(),
                    self.size
                ),
            ));
        }
        self.file.read_exact_at(buf, offset).map_err(|e| {
            Error::io(
                format!(
                    "read of {} bytes at offset {offset} from {} failed",
                    buf.len(),
                    self.path.display()
                ),
                e,
            )
        })
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        if !self.writable {
            return Err(Error::new(
                ErrorKind::ReadOnly,
                format!("{} was opened read-only", self.path.display()),
            ));
        }
        self.file.write_all_at(buf, offset).map_err(|e| {
            Error::io(
                format!(
                    "write of {} bytes at offset {offset} to {} failed",
                    buf.len(),
                    self.path.display()
                ),
                e,
            )
        })
    }

    fn flush(&self) -> Result<()> {
        if self.writable {
            self.file
                .sync_data()
                .map_err(|e| Error::io(format!("cannot flush {}", self.path.display()), e))?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}
