//! Copying one source disk onto its destination volume: open the disk
//! through the source's session (its provider's `session.rs` says how);
//! copy with the resume journal, verify, and mark the volume ready.
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_copy::{CopyOptions, Progress, ResumeOptions};
use ferry_destination::{Destination, Volume};
use ferry_image::{Error as ImageError, ErrorKind, Extent, Storage};

use super::source::SourceDisk;
use super::throttle::RateLimit;
use crate::error::chain;
use crate::providers::{OpenedDisk, SourceSession};

/// The outcome of one disk copy.
#[derive(Debug)]
pub enum Outcome {
    /// Copied (or found ready from an earlier run).
    Done(Done),
    /// Stopped because the VM or migration was canceled.
    Canceled,
}

/// What a finished disk copy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Done {
    /// The volume was complete from an earlier run: nothing was copied.
    pub already_ready: bool,
    /// Guest bytes an interrupted earlier run had copied (not copied again).
    pub resumed_bytes: u64,
    /// Bytes written as data by this run.
    pub written_bytes: u64,
}

/// How to run one disk copy.
#[derive(Debug, Clone)]
pub struct CopyJob {
    /// Copy progress, read by the status reporter.
    pub progress: Arc<Progress>,
    /// Set to stop the copy at its next write.
    pub cancel: Arc<AtomicBool>,
    /// Copy worker threads (0: cores).
    pub workers: usize,
    /// Compare source and target checksums.
    pub verify: bool,
    /// Bandwidth limit shared with other copies.
    pub limit: Option<Arc<RateLimit>>,
}

/// Copy one disk. Blocking: run it on a blocking thread.
pub fn copy_disk(
    dest: &dyn Destination,
    volume: &Volume,
    src: &SourceDisk,
    session: &dyn SourceSession,
    job: CopyJob,
) -> Result<Outcome, String> {
    if dest.is_ready(volume) {
        return Ok(Outcome::Done(Done {
            already_ready: true,
            ..Done::default()
        }));
    }
    let opened = session.open_disk(src)?;
    let result = copy_opened(dest, volume, opened, job);
    // Release the source's side (an oVirt image transfer) whatever happened.
    let copied = matches!(result, Ok(Outcome::Done(_)));
    let closed = session.close_disk(src, copied);
    let outcome = result?;
    closed?;
    Ok(outcome)
}

/// Copy an opened source disk into `volume`.
fn copy_opened(
    dest: &dyn Destination,
    volume: &Volume,
    opened: OpenedDisk,
    job: CopyJob,
) -> Result<Outcome, String> {
    let CopyJob {
        progress,
        cancel,
        workers,
        verify,
        limit,
    } = job;
    let OpenedDisk {
        image,
        identity,
        label,
    } = opened;
    if image.virtual_size() > volume.capacity {
        return Err(format!(
            "disk {} is {} bytes, larger than the volume {}/{} ({} bytes): the source's capacity is wrong",
            label,
            image.virtual_size(),
            volume.namespace,
            volume.name,
            volume.capacity
        ));
    }
    let target = dest.open_volume(volume).map_err(|e| chain(&e))?;
    let target = Guarded {
        inner: target,
        cancel: cancel.clone(),
        limit,
    };
    let journal = dest.journal_path(volume);
    let fresh = !journal.exists() && volume_is_empty(&volume.path);
    let opts = CopyOptions {
        workers,
        checksum: verify,
        target_is_zero: fresh,
        resume: Some(ResumeOptions {
            journal,
            source_identity: identity,
        }),
        progress: Some(progress),
        ..CopyOptions::default()
    };
    match ferry_copy::copy(image.as_ref(), &target, &opts) {
        Ok(report) => {
            if verify {
                let source_sum = report.checksum.clone().unwrap_or_default();
                // Compare the guest bytes only: the volume may be larger
                // than the source (PVC rounding, a capacity above the
                // image's size).
                let file = ferry_image::FileStorage::open(&volume.path).map_err(|e| chain(&e))?;
                let window = ferry_image::wrap::SliceStorage::new(
                    Arc::new(file),
                    0,
                    image.virtual_size(),
                    volume.path.display().to_string(),
                )
                .map_err(|e| chain(&e))?;
                let written = ferry_image::RawImage::new(Arc::new(window));
                let target_sum =
                    ferry_copy::checksum_image(&written, workers).map_err(|e| chain(&e))?;
                if source_sum != target_sum {
                    return Err(format!(
                        "verification failed for {}/{}: source checksum {source_sum}, target checksum {target_sum}",
                        volume.namespace, volume.name
                    ));
                }
            }
            dest.mark_ready(volume, report.checksum.as_deref())
                .map_err(|e| chain(&e))?;
            Ok(Outcome::Done(Done {
                already_ready: false,
                resumed_bytes: report.bytes_resumed,
                written_bytes: report.bytes_written,
            }))
        }
        Err(_) if cancel.load(Ordering::SeqCst) => Ok(Outcome::Canceled),
        Err(e) => Err(format!("copying {label}: {}", chain(&e))),
    }
}

/// True when the file has no allocated blocks (a fresh sparse volume).
fn volume_is_empty(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).is_ok_and(|m| m.blocks() == 0)
}

/// A target that refuses writes once `cancel` is set, so a running copy
/// stops at its next write, and that paces writes to the bandwidth limit.
struct Guarded {
    inner: Arc<dyn Storage>,
    cancel: Arc<AtomicBool>,
    limit: Option<Arc<RateLimit>>,
}

impl Guarded {
    fn check(&self) -> ferry_image::Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(ImageError::new(ErrorKind::Io, "the copy was canceled"))
        } else {
            Ok(())
        }
    }

    fn pace(&self, bytes: usize) -> ferry_image::Result<()> {
        if let Some(limit) = &self.limit {
            limit.wait(bytes as u64);
        }
        self.check()
    }
}

impl Storage for Guarded {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> ferry_image::Result<()> {
        self.inner.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> ferry_image::Result<()> {
        self.pace(buf.len())?;
        self.inner.write_at(buf, offset)
    }
    fn write_zeroes(&self, offset: u64, len: u64) -> ferry_image::Result<()> {
        self.check()?;
        self.inner.write_zeroes(offset, len)
    }
    fn discard(&self, offset: u64, len: u64) -> ferry_image::Result<()> {
        self.inner.discard(offset, len)
    }
    fn flush(&self) -> ferry_image::Result<()> {
        self.check()?;
        self.inner.flush()
    }
    fn extents(&self, offset: u64, len: u64) -> ferry_image::Result<Vec<Extent>> {
        self.inner.extents(offset, len)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn host_file(&self) -> Option<(&std::fs::File, u64)> {
        // Kernel-side copies (reflink, copy_file_range) would bypass the
        // pacing and the cancel check of `write_at`.
        if self.limit.is_some() {
            None
        } else {
            self.inner.host_file()
        }
    }
}
