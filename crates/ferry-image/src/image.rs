//! [`Image`]: the guest view of a disk image. A format implementation parses
//! its metadata from a [`crate::Storage`] and answers two questions: what are
//! the guest's bytes at an offset, and where is data versus zero. The copy
//! engine asks for extents and reads only data.
use serde::Serialize;

use crate::error::Result;

/// What a guest range holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtentKind {
    /// Allocated data: must be read and copied.
    Data,
    /// Reads as zero and is allocated as zero (qcow2 zero cluster, VMDK zero
    /// grain): a target may write zeroes or punch a hole.
    Zero,
    /// Unallocated in the whole chain: reads as zero.
    Hole,
}

/// A run of guest bytes of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Extent {
    /// Guest offset in bytes.
    pub offset: u64,
    /// Length in bytes (never zero).
    pub length: u64,
    /// What the run holds.
    pub kind: ExtentKind,
}

/// Facts about an opened image, for `ferry info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    /// Format name as qemu-img spells it: raw, qcow2, vmdk, vpc, vhdx.
    pub format: String,
    /// Sub-format (e.g. VMDK createType `streamOptimized`, qcow2 `v3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subformat: Option<String>,
    /// Guest-visible size in bytes.
    pub virtual_size: u64,
    /// Bytes the image occupies on its storage (all files), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_size: Option<u64>,
    /// Cluster/grain/block size in bytes, when the format has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_size: Option<u64>,
    /// Backing files, nearest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backing_chain: Vec<String>,
    /// Files that make up the image besides the one opened (VMDK extents).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_files: Vec<String>,
}

/// The guest view of a disk image, read-only. Implementations must be safe to
/// call from many threads at once and must not hold a lock during data I/O.
pub trait Image: Send + Sync {
    /// Facts for `ferry info`.
    fn info(&self) -> ImageInfo;

    /// Guest-visible size in bytes.
    fn virtual_size(&self) -> u64;

    /// Extents covering `[offset, offset+len)` in order, clipped to the
    /// virtual size; adjacent extents of the same kind may be merged.
    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>>;

    /// Fill `buf` with guest bytes from `offset`. Past the virtual size is an
    /// error.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()>;

    /// When the guest bytes are stored verbatim in one host file (raw, a
    /// flat VMDK extent), that file and the byte offset of guest offset 0.
    /// The copy engine uses it for its zero-copy tier (reflink,
    /// `copy_file_range`). Formats that map guest bytes elsewhere return
    /// `None`.
    fn flat_file(&self) -> Option<(&std::fs::File, u64)> {
        None
    }

    /// Preferred read granularity (cluster or grain size), a hint for the
    /// copy engine's request sizes.
    fn granularity(&self) -> u64 {
        64 * 1024
    }
}
