//! [`FileStorage`]: a regular file or block device, with positional I/O.
//!
//! Allocation comes from `lseek(SEEK_DATA/SEEK_HOLE)` on regular files.
//! Zeroing never writes buffers of zeros when the kernel can do better: a
//! regular file gets `fallocate(PUNCH_HOLE|KEEP_SIZE)` (then `ZERO_RANGE`),
//! a block device gets `BLKZEROOUT`; plain zero writes are the last resort.
use std::fs::{File, OpenOptions};
use std::io::ErrorKind as IoKind;
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rustix::fs::{FallocateFlags, SeekFrom};

use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, ExtentKind};
use crate::storage::Storage;

/// A file opened for positional reads (and writes when opened writable).
#[derive(Debug)]
pub struct FileStorage {
    file: File,
    path: PathBuf,
    /// Grows when a write extends a regular file (format writers append).
    size: AtomicU64,
    writable: bool,
    block_device: bool,
    /// Cleared after the first `EOPNOTSUPP` from `SEEK_DATA`, so the file is
    /// then reported as all data without asking again.
    seek_data: AtomicBool,
    /// Cleared after the filesystem refused `PUNCH_HOLE`.
    punch_hole: AtomicBool,
    /// Cleared after the filesystem refused `ZERO_RANGE`.
    zero_range: AtomicBool,
    /// `flush` calls `fdatasync` (the default).
    durable: AtomicBool,
    /// Large writes start their writeback at once.
    early_writeback: AtomicBool,
    /// A second descriptor of the same file opened with `O_DIRECT`, for
    /// large aligned writes while early writeback is on (`None` once the
    /// file could not be reopened that way).
    direct: OnceLock<Option<File>>,
    /// Cleared after the filesystem refused a direct write.
    direct_ok: AtomicBool,
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

    /// Create (or truncate) the regular file `path` as a sparse file of
    /// `size` bytes that reads as zero everywhere and allocates nothing.
    pub fn create(path: &Path, size: u64) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        // O_TRUNC left it empty. A truncate to 0 on top would make ext4 treat
        // the file as "replaced by truncate" and write it all back at close
        // (auto_da_alloc), which costs an unsynced copy its head start.
        if size != 0 {
            file.set_len(size).map_err(|e| {
                Error::io(
                    format!("cannot set the size of {} to {size} bytes", path.display()),
                    e,
                )
            })?;
        }
        Self::from_file(file, path, true)
    }

    fn from_file(file: File, path: &Path, writable: bool) -> Result<Self> {
        let meta = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?;
        let block_device = meta.file_type().is_block_device();
        let size = file_size(&file, &meta)
            .map_err(|e| Error::io(format!("cannot read the size of {}", path.display()), e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            size: AtomicU64::new(size),
            writable,
            block_device,
            seek_data: AtomicBool::new(!block_device),
            punch_hole: AtomicBool::new(true),
            zero_range: AtomicBool::new(true),
            durable: AtomicBool::new(true),
            early_writeback: AtomicBool::new(false),
            direct: OnceLock::new(),
            direct_ok: AtomicBool::new(writable),
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

    /// Whether [`Storage::flush`] makes writes durable with `fdatasync`
    /// (the default). Off, flush does nothing and the kernel writes the
    /// data back later, as `qemu-img convert`'s default `cache=unsafe` does.
    pub fn set_durable(&self, durable: bool) {
        self.durable.store(durable, Ordering::Relaxed);
    }

    /// Start the writeback of every write of 1 MiB or more as soon as it is
    /// made, so a final flush finds little left to do and dirty pages do
    /// not pile up. Off by default. Such writes go around the page cache
    /// (`O_DIRECT`, through a second descriptor) when the buffer, offset
    /// and length are 4 KiB-aligned and the filesystem allows it; other
    /// writes are buffered and get `sync_file_range`.
    pub fn set_early_writeback(&self, on: bool) {
        self.early_writeback.store(on, Ordering::Relaxed);
    }

    /// True when this is a block device rather than a regular file.
    pub fn is_block_device(&self) -> bool {
        self.block_device
    }

    fn check_writable(&self) -> Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::ReadOnly,
                format!("{} was opened read-only", self.path.display()),
            ))
        }
    }

    fn check_range(&self, what: &str, offset: u64, len: u64) -> Result<()> {
        let size = self.size();
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "{what} of {len} bytes at offset {offset} is past the end of {} ({size} bytes)",
                    self.path.display(),
                ),
            ));
        }
        Ok(())
    }

    /// Next data offset at or after `pos`, or `None` when only a hole
    /// remains. `Err` with `Unsupported` when the filesystem cannot tell.
    fn seek(&self, pos: u64, data: bool) -> std::io::Result<Option<u64>> {
        let whence = if data {
            SeekFrom::Data(pos)
        } else {
            SeekFrom::Hole(pos)
        };
        match rustix::fs::seek(&self.file, whence) {
            Ok(off) => Ok(Some(off)),
            Err(rustix::io::Errno::NXIO) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn seek_extents(&self, offset: u64, end: u64) -> std::io::Result<Vec<Extent>> {
        let mut out: Vec<Extent> = Vec::new();
        let mut push = |offset: u64, end: u64, kind: ExtentKind| {
            if end <= offset {
                return;
            }
            if let Some(last) = out.last_mut()
                && last.kind == kind
                && last.offset + last.length == offset
            {
                last.length += end - offset;
                return;
            }
            out.push(Extent {
                offset,
                length: end - offset,
                kind,
            });
        };
        let mut pos = offset;
        while pos < end {
            let data = self.seek(pos, true)?.unwrap_or(end).min(end);
            push(pos, data, ExtentKind::Hole);
            if data >= end {
                break;
            }
            // SEEK_HOLE always finds the implicit hole at end of file.
            let hole = self.seek(data, false)?.unwrap_or(end).min(end);
            push(data, hole.max(data + 1).min(end), ExtentKind::Data);
            pos = hole.max(data + 1);
        }
        Ok(out)
    }

    fn fallocate(&self, flags: FallocateFlags, offset: u64, len: u64) -> std::io::Result<()> {
        rustix::fs::fallocate(&self.file, flags, offset, len).map_err(Into::into)
    }

    fn zero_file_range(&self, offset: u64, len: u64, may_unmap: bool) -> Result<()> {
        let ctx = || {
            format!(
                "zeroing {len} bytes at offset {offset} of {} failed",
                self.path.display()
            )
        };
        if may_unmap && self.punch_hole.load(Ordering::Relaxed) {
            match self.fallocate(
                FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
                offset,
                len,
            ) {
                Ok(()) => return Ok(()),
                Err(e) if unsupported(&e) => self.punch_hole.store(false, Ordering::Relaxed),
                Err(e) => return Err(Error::io(ctx(), e)),
            }
        }
        if self.zero_range.load(Ordering::Relaxed) {
            match self.fallocate(
                FallocateFlags::ZERO_RANGE | FallocateFlags::KEEP_SIZE,
                offset,
                len,
            ) {
                Ok(()) => return Ok(()),
                Err(e) if unsupported(&e) => self.zero_range.store(false, Ordering::Relaxed),
                Err(e) => return Err(Error::io(ctx(), e)),
            }
        }
        write_zero_buffers(self, offset, len)
    }

    fn zero_block_device(&self, offset: u64, len: u64, discard: bool) -> Result<()> {
        let range = [offset, len];
        let res = if discard {
            // SAFETY: BLKDISCARD is `_IO(0x12, 119)` and reads a `u64[2]`
            // {start, length} through the pointer, which `Setter` passes to a
            // value that lives for the call.
            unsafe {
                let ctl = rustix::ioctl::Setter::<BLKDISCARD, [u64; 2]>::new(range);
                rustix::ioctl::ioctl(&self.file, ctl)
            }
        } else {
            // SAFETY: BLKZEROOUT is `_IO(0x12, 127)` and reads a `u64[2]`
            // {start, length} through the pointer, as above.
            unsafe {
                let ctl = rustix::ioctl::Setter::<BLKZEROOUT, [u64; 2]>::new(range);
                rustix::ioctl::ioctl(&self.file, ctl)
            }
        };
        match res {
            Ok(()) => Ok(()),
            Err(e) if discard => Err(Error::io(
                format!(
                    "discarding {len} bytes at offset {offset} of {} failed",
                    self.path.display()
                ),
                e.into(),
            )),
            Err(e) if unsupported(&e.into()) => write_zero_buffers(self, offset, len),
            Err(e) => Err(Error::io(
                format!(
                    "zeroing {len} bytes at offset {offset} of {} failed",
                    self.path.display()
                ),
                e.into(),
            )),
        }
    }
}

/// Writes at least this large start their writeback at once, so the final
/// flush finds little left to do and the page cache stays small.
const EARLY_WRITEBACK: usize = 1 << 20;
/// Alignment of buffer address, offset and length for `O_DIRECT` writes
/// (the largest logical block size of common devices).
pub const DIRECT_ALIGN: usize = 4096;

impl FileStorage {
    /// The `O_DIRECT` descriptor, opened on first use through
    /// `/proc/self/fd` so it is the same file even if the path changed.
    fn direct_file(&self) -> Option<&File> {
        self.direct
            .get_or_init(|| {
                use std::os::fd::AsRawFd;
                use std::os::unix::fs::OpenOptionsExt;
                OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_DIRECT)
                    .open(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
                    .ok()
            })
            .as_ref()
    }

    /// Write `buf` at `offset` with `O_DIRECT` when early writeback is on
    /// and everything is aligned. `Ok(false)` means "write it buffered".
    fn try_direct_write(&self, buf: &[u8], offset: u64) -> std::io::Result<bool> {
        let aligned = buf.len() >= EARLY_WRITEBACK
            && buf.len().is_multiple_of(DIRECT_ALIGN)
            && offset.is_multiple_of(DIRECT_ALIGN as u64)
            && buf.as_ptr().align_offset(DIRECT_ALIGN) == 0;
        if !aligned
            || !self.early_writeback.load(Ordering::Relaxed)
            || !self.direct_ok.load(Ordering::Relaxed)
        {
            return Ok(false);
        }
        let Some(file) = self.direct_file() else {
            self.direct_ok.store(false, Ordering::Relaxed);
            return Ok(false);
        };
        match file.write_all_at(buf, offset) {
            Ok(()) => Ok(true),
            // The filesystem wants another alignment or no direct I/O at
            // all: nothing was written, so buffered writes take over.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                self.direct_ok.store(false, Ordering::Relaxed);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Ask the kernel to start writing `[offset, offset+len)` back now,
    /// without waiting. Purely a hint: failures are ignored.
    fn start_writeback(&self, offset: u64, len: u64) {
        use std::os::fd::AsRawFd;
        let (Ok(off), Ok(n)) = (i64::try_from(offset), i64::try_from(len)) else {
            return;
        };
        // SAFETY: sync_file_range only reads its integer arguments; the
        // descriptor is owned by `self.file` and open for the whole call.
        unsafe {
            libc::sync_file_range(self.file.as_raw_fd(), off, n, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
}

const BLKDISCARD: rustix::ioctl::Opcode = rustix::ioctl::opcode::none(0x12, 119);
const BLKZEROOUT: rustix::ioctl::Opcode = rustix::ioctl::opcode::none(0x12, 127);

fn unsupported(e: &std::io::Error) -> bool {
    matches!(e.kind(), IoKind::Unsupported | IoKind::InvalidInput)
        || e.raw_os_error() == Some(rustix::io::Errno::OPNOTSUPP.raw_os_error())
        || e.raw_os_error() == Some(rustix::io::Errno::NOTTY.raw_os_error())
}

/// The last resort: write zeros from a small reused buffer.
fn write_zero_buffers(storage: &FileStorage, offset: u64, len: u64) -> Result<()> {
    const CHUNK: u64 = 1 << 20;
    let zeros = vec![0u8; CHUNK.min(len) as usize];
    let mut done = 0;
    while done < len {
        let n = CHUNK.min(len - done);
        storage.write_at(&zeros[..n as usize], offset + done)?;
        done += n;
    }
    Ok(())
}

/// Size of a regular file or a block device (seek to end for devices).
fn file_size(file: &File, meta: &std::fs::Metadata) -> std::io::Result<u64> {
    if meta.is_file() {
        return Ok(meta.len());
    }
    Ok(rustix::fs::seek(file, SeekFrom::End(0))?)
}

impl Storage for FileStorage {
    fn size(&self) -> u64 {
        self.size.load(Ordering::Acquire)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.check_range("read", offset, buf.len() as u64)?;
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
        self.check_writable()?;
        let end = offset.checked_add(buf.len() as u64).ok_or_else(|| {
            Error::new(
                ErrorKind::OutOfBounds,
                format!("write at offset {offset} overflows"),
            )
        })?;
        if self.block_device && end > self.size() {
            self.check_range("write", offset, buf.len() as u64)?;
        }
        let ctx = |e| {
            Error::io(
                format!(
                    "write of {} bytes at offset {offset} to {} failed",
                    buf.len(),
                    self.path.display()
                ),
                e,
            )
        };
        if self.try_direct_write(buf, offset).map_err(ctx)? {
            self.size.fetch_max(end, Ordering::AcqRel);
            return Ok(());
        }
        self.file.write_all_at(buf, offset).map_err(ctx)?;
        self.size.fetch_max(end, Ordering::AcqRel);
        if buf.len() >= EARLY_WRITEBACK && self.early_writeback.load(Ordering::Relaxed) {
            self.start_writeback(offset, buf.len() as u64);
        }
        Ok(())
    }

    fn write_zeroes(&self, offset: u64, len: u64) -> Result<()> {
        self.check_writable()?;
        self.check_range("zeroing", offset, len)?;
        if len == 0 {
            return Ok(());
        }
        if self.block_device {
            self.zero_block_device(offset, len, false)
        } else {
            self.zero_file_range(offset, len, true)
        }
    }

    fn discard(&self, offset: u64, len: u64) -> Result<()> {
        self.check_writable()?;
        self.check_range("discard", offset, len)?;
        if len == 0 {
            return Ok(());
        }
        if self.block_device {
            // A device that cannot discard keeps its data, which is allowed.
            match self.zero_block_device(offset, len, true) {
                Err(e) if e.kind() == ErrorKind::Io => Ok(()),
                other => other,
            }
        } else {
            self.zero_file_range(offset, len, true)
        }
    }

    fn flush(&self) -> Result<()> {
        if self.writable && self.durable.load(Ordering::Relaxed) {
            self.file
                .sync_data()
                .map_err(|e| Error::io(format!("cannot flush {}", self.path.display()), e))?;
        }
        Ok(())
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let end = offset.saturating_add(len).min(self.size());
        if offset >= end {
            return Ok(Vec::new());
        }
        let all_data = || {
            vec![Extent {
                offset,
                length: end - offset,
                kind: ExtentKind::Data,
            }]
        };
        if !self.seek_data.load(Ordering::Relaxed) {
            return Ok(all_data());
        }
        match self.seek_extents(offset, end) {
            Ok(v) => Ok(v),
            Err(e) if unsupported(&e) => {
                self.seek_data.store(false, Ordering::Relaxed);
                Ok(all_data())
            }
            Err(e) => Err(Error::io(
                format!(
                    "cannot map the allocation of {} (SEEK_DATA)",
                    self.path.display()
                ),
                e,
            )),
        }
    }

    fn host_file(&self) -> Option<(&File, u64)> {
        Some((&self.file, 0))
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allocated_bytes(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).unwrap().blocks() * 512
    }

    #[test]
    fn create_is_sparse_and_reads_zero() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.raw");
        let s = FileStorage::create(&p, 8 << 20).unwrap();
        assert_eq!(s.size(), 8 << 20);
        assert_eq!(allocated_bytes(&p), 0);
        let mut buf = vec![1u8; 4096];
        s.read_at(&mut buf, 4 << 20).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        assert_eq!(
            s.extents(0, 8 << 20).unwrap(),
            vec![Extent {
                offset: 0,
                length: 8 << 20,
                kind: ExtentKind::Hole
            }]
        );
    }

    #[test]
    fn extents_follow_seek_data_and_clip_to_the_range() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.raw");
        let s = FileStorage::create(&p, 4 << 20).unwrap();
        s.write_at(&[7u8; 65536], 1 << 20).unwrap();
        let ext = s.extents(0, 4 << 20).unwrap();
        let data: Vec<_> = ext
            .iter()
            .filter(|e| e.kind == ExtentKind::Data)
            .copied()
            .collect();
        assert_eq!(data.len(), 1, "{ext:?}");
        assert!(data[0].offset <= 1 << 20);
        assert!(data[0].offset + data[0].length >= (1 << 20) + 65536);
        let covered: u64 = ext.iter().map(|e| e.length).sum();
        assert_eq!(covered, 4 << 20);
        let clipped = s.extents(1 << 20, 4096).unwrap();
        assert_eq!(
            clipped,
            vec![Extent {
                offset: 1 << 20,
                length: 4096,
                kind: ExtentKind::Data
            }]
        );
    }

    #[test]
    fn write_zeroes_punches_a_hole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.raw");
        let s = FileStorage::create(&p, 2 << 20).unwrap();
        s.write_at(&vec![9u8; 2 << 20], 0).unwrap();
        s.flush().unwrap();
        s.write_zeroes(1 << 20, 1 << 20).unwrap();
        let mut buf = vec![1u8; 1 << 20];
        s.read_at(&mut buf, 1 << 20).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        s.read_at(&mut buf, 0).unwrap();
        assert!(buf.iter().all(|&b| b == 9));
        assert!(allocated_bytes(&p) < 2 << 20, "no hole was punched");
    }

    #[test]
    fn appending_writes_grow_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.qcow2");
        let s = FileStorage::create(&p, 0).unwrap();
        s.write_at(&[1u8; 100], 4096).unwrap();
        assert_eq!(s.size(), 4196);
        let mut b = [0u8; 100];
        s.read_at(&mut b, 4096).unwrap();
        assert_eq!(b, [1u8; 100]);
    }

    #[test]
    fn writes_past_the_end_and_read_only_writes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.raw");
        let s = FileStorage::create(&p, 4096).unwrap();
        let err = s.write_zeroes(4000, 200).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutOfBounds);
        drop(s);
        let ro = FileStorage::open(&p).unwrap();
        assert_eq!(
            ro.write_zeroes(0, 512).unwrap_err().kind(),
            ErrorKind::ReadOnly
        );
    }
    #[test]
    fn early_writeback_writes_read_back_aligned_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.raw");
        let s = FileStorage::create(&p, 8 << 20).unwrap();
        s.set_early_writeback(true);
        // An aligned 2 MiB buffer (direct when the filesystem allows it),
        // an unaligned one, and a write that grows the file.
        let mut backing = vec![0u8; (2 << 20) + DIRECT_ALIGN];
        let at = backing.as_ptr().align_offset(DIRECT_ALIGN);
        let aligned = &mut backing[at..at + (2 << 20)];
        for (i, b) in aligned.iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        s.write_at(aligned, 1 << 20).unwrap();
        let odd: Vec<u8> = (0..(1 << 20) + 3).map(|i| (i % 7) as u8 + 1).collect();
        s.write_at(&odd, (4 << 20) + 1).unwrap();
        s.write_at(aligned, 8 << 20).unwrap();
        assert_eq!(s.size(), 10 << 20);
        s.flush().unwrap();
        let mut back = vec![0u8; 2 << 20];
        s.read_at(&mut back, 1 << 20).unwrap();
        assert!(back == *aligned);
        s.read_at(&mut back, 8 << 20).unwrap();
        assert!(back == *aligned);
        let mut back = vec![0u8; odd.len()];
        s.read_at(&mut back, (4 << 20) + 1).unwrap();
        assert_eq!(back, odd);
        let mut head = vec![1u8; 1 << 20];
        s.read_at(&mut head, 0).unwrap();
        assert!(head.iter().all(|&b| b == 0));
    }
}
