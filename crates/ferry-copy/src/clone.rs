//! The zero-copy tier's system calls: `FICLONE`/`FICLONERANGE` (share the
//! source's blocks, O(1) in data size on XFS reflink, btrfs, ...) and
//! `copy_file_range` (the kernel copies, or reflinks when it can).
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// `struct file_clone_range` from `linux/fs.h`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct FileCloneRange {
    src_fd: i64,
    src_offset: u64,
    src_length: u64,
    dest_offset: u64,
}

const FICLONERANGE: rustix::ioctl::Opcode =
    rustix::ioctl::opcode::write::<FileCloneRange>(0x94, 13);

/// Errors that mean "this tier is not possible here", so the next tier
/// should be tried (cross-device, unsupported filesystem, misaligned).
pub fn is_unsupported(e: &io::Error) -> bool {
    use rustix::io::Errno;
    let raw = e.raw_os_error();
    [
        Errno::XDEV,
        Errno::OPNOTSUPP,
        Errno::INVAL,
        Errno::NOSYS,
        Errno::NOTTY,
        Errno::BADF,
        Errno::PERM,
        Errno::ISDIR,
        Errno::TXTBSY,
    ]
    .iter()
    .any(|e| raw == Some(e.raw_os_error()))
}

/// Share `len` bytes of `src` at `src_off` into `dst` at `dst_off`.
pub fn reflink(src: &File, src_off: u64, len: u64, dst: &File, dst_off: u64) -> io::Result<()> {
    let src_len = src.metadata()?.len();
    let dst_len = dst.metadata()?.len();
    if src_off == 0 && dst_off == 0 && src_len == len && dst_len == len {
        return rustix::fs::ioctl_ficlone(dst, src).map_err(Into::into);
    }
    let range = FileCloneRange {
        src_fd: i64::from(src.as_raw_fd()),
        src_offset: src_off,
        src_length: len,
        dest_offset: dst_off,
    };
    // SAFETY: FICLONERANGE is `_IOW(0x94, 13, struct file_clone_range)`; the
    // kernel reads exactly one `FileCloneRange` (repr(C), same layout as the
    // C struct) through the pointer `Setter` passes, valid for the call.
    unsafe {
        let ctl = rustix::ioctl::Setter::<FICLONERANGE, FileCloneRange>::new(range);
        rustix::ioctl::ioctl(dst, ctl)?;
    }
    Ok(())
}

/// Copy `len` bytes with `copy_file_range`, looping over short copies.
pub fn copy_range(src: &File, src_off: u64, dst: &File, dst_off: u64, len: u64) -> io::Result<()> {
    let mut done = 0u64;
    while done < len {
        let mut so = src_off + done;
        let mut d_o = dst_off + done;
        let want = usize::try_from(len - done)
            .unwrap_or(usize::MAX)
            .min(1 << 30);
        let n = rustix::fs::copy_file_range(src, Some(&mut so), dst, Some(&mut d_o), want)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "copy_file_range hit the end of the source at offset {}",
                    src_off + done
                ),
            ));
        }
        done += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    #[test]
    fn copy_range_copies_at_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, (0..=255u8).cycle().take(100_000).collect::<Vec<_>>()).unwrap();
        let src = File::open(&a).unwrap();
        let dst = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&b)
            .unwrap();
        dst.set_len(50_000).unwrap();
        copy_range(&src, 1000, &dst, 10, 40_000).unwrap();
        let mut got = vec![0u8; 40_000];
        dst.read_exact_at(&mut got, 10).unwrap();
        let want: Vec<u8> = (0..=255u8).cycle().skip(1000 % 256).take(40_000).collect();
        assert_eq!(got, want);
        let err = copy_range(&src, 99_000, &dst, 0, 5_000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
