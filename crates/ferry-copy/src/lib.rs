//! ferry-copy: the copy engine. It asks the source [`Image`] where data
//! lives and moves only data: holes and zero extents become nothing (on a
//! target known to read as zero) or `write_zeroes` (never buffers of zeros),
//! and all-zero blocks found inside data are skipped the same way.
//!
//! Work is cut into chunks on a fixed grid and spread over N worker
//! threads, each owning one buffer (two with write-behind: plain targets in
//! any order get one writer thread per worker, which writes a chunk while
//! the worker fills the next), so memory is bounded by a fixed budget
//! whatever the image size. Writes land out of order unless the target needs guest
//! order ([`Order::Sequential`], e.g. a streamOptimized VMDK writer); reads
//! can be serialised the same way for stream sources (gz/xz/zstd).
//!
//! Extras: a checksum of the guest contents computed while copying
//! ([`checksum_image`] recomputes it from any image for `--verify`), a
//! resume journal ([`ResumeOptions`]), and a zero-copy tier that clones
//! (`FICLONE`/`FICLONERANGE`) or `copy_file_range`s when the source is a
//! flat file and the target a plain file ([`Tier`]).
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use ferry_image::Image;

mod checksum;
mod clone;
mod durable;
mod engine;
mod error;
mod journal;
mod ordered;
mod plan;
mod zero;

pub use checksum::{BLOCK as CHECKSUM_BLOCK, checksum_image};
pub use durable::{parent_dir, sync_parent_dir};
pub use engine::{copy, copy_ordered};
pub use error::{Error, ErrorKind, Result};
pub use journal::{JournalState, ResumeOptions, load as load_journal, source_identity};
pub use ordered::{OrderedTarget, StreamVmdkTarget};
pub use zero::is_zero;

/// In what order an endpoint must see its I/O.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Any order: workers run independently.
    #[default]
    Any,
    /// Guest order: reads (or writes) happen one chunk after the other in
    /// increasing offsets, while the rest of the work still runs in
    /// parallel.
    Sequential,
}

/// How the copy was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The target shares the source's blocks (`FICLONE`/`FICLONERANGE`).
    Reflink,
    /// The kernel copied the data extents (`copy_file_range`).
    CopyFileRange,
    /// Read into buffers and written, skipping zero blocks.
    ReadWrite,
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tier::Reflink => "reflink",
            Tier::CopyFileRange => "copy_file_range",
            Tier::ReadWrite => "read_write",
        })
    }
}

/// Live progress, readable from another thread while a copy runs.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// Progress of a copy of `total` bytes that has not started.
    pub fn with_total(total: u64) -> Self {
        Self {
            done: AtomicU64::new(0),
            total: AtomicU64::new(total),
        }
    }

    /// Guest bytes finished (copied, zeroed, cloned or resumed).
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Guest bytes in all.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn start(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }
}

/// Options for [`copy`]. `Default` gives: workers = cores, 2 MiB chunks,
/// 4 KiB zero detection, any order, no checksum, zero-copy tier allowed.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Worker threads; 0 means the number of available cores.
    pub workers: usize,
    /// Bytes per request; 0 picks 2 MiB. Rounded up to a multiple of the
    /// checksum block and of the source's granularity.
    pub chunk_size: u64,
    /// Granularity of zero detection inside data and of the target writes
    /// (set it to the target's cluster size for qcow2/VMDK targets); 0
    /// means 4 KiB.
    pub zero_block: u64,
    /// The target already reads as zero everywhere (a freshly created
    /// sparse file or image): zero runs are then skipped, not written.
    pub target_is_zero: bool,
    /// Order the source must be read in.
    pub read_order: Order,
    /// Order the target must be written in.
    pub write_order: Order,
    /// Compute the checksum of the guest contents while copying.
    pub checksum: bool,
    /// Try the zero-copy tiers (reflink, then `copy_file_range`) first.
    pub zero_copy: bool,
    /// Keep a resume journal.
    pub resume: Option<ResumeOptions>,
    /// Where to publish progress.
    pub progress: Option<std::sync::Arc<Progress>>,
    /// Test hook: fail with [`ErrorKind::Interrupted`] after this many
    /// items completed (after the journal was written), to test resume.
    #[doc(hidden)]
    pub fail_after_items: Option<u64>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self {
            workers: 0,
            chunk_size: 0,
            zero_block: 0,
            target_is_zero: false,
            read_order: Order::Any,
            write_order: Order::Any,
            checksum: false,
            zero_copy: true,
            resume: None,
            progress: None,
            fail_after_items: None,
        }
    }
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopyReport {
    /// Guest bytes in all.
    pub virtual_size: u64,
    /// Bytes read from the source (data extents only).
    pub bytes_read: u64,
    /// Bytes written to the target as data.
    pub bytes_written: u64,
    /// Bytes shared with the source by reflink instead of copied.
    pub bytes_cloned: u64,
    /// Guest bytes that were zero (holes, zero extents, zero blocks found
    /// in data) and so were skipped or zeroed, not written.
    pub zero_bytes_skipped: u64,
    /// Guest bytes an earlier run had already copied (resume).
    pub bytes_resumed: u64,
    /// Which tier ran.
    pub tier: Tier,
    /// Wall time.
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// Checksum of the guest contents, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Worker count: `requested`, or the available cores when 0 (at most 64).
pub fn effective_workers(requested: usize) -> usize {
    let n = if requested == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        requested
    };
    n.clamp(1, 64)
}
