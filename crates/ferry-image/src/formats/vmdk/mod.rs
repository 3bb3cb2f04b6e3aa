//! VMDK: monolithicSparse, streamOptimized, monolithicFlat,
//! twoGbMaxExtentSparse/Flat, vmfs / vmfsThin (descriptor + `-flat`
//! extent), ZERO extents, vmfsSparse (`COWD`) deltas and parents named by
//! `parentFileNameHint`. seSparse is refused with a clear error. Every file a
//! descriptor names is resolved through the gate in [`OpenOptions`].
//!
//! Spec: VMware "Virtual Disk Format 5.0".
pub mod descriptor;
pub mod flat;
pub mod fuzz;
pub mod header;
pub mod image;
pub mod sparse;
pub mod stream;
pub mod writer;

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::formats::Format;
use crate::image::{Image, ImageInfo};
use crate::open::OpenOptions;
use crate::storage::Storage;

use descriptor::{Access, Descriptor, ExtentType};
use header::{COWD_MAGIC, SECTOR, SESPARSE_MAGIC, SPARSE_MAGIC, SparseHeader, le_u32, le_u64};
use image::{Backend, Span, VmdkImage};
use sparse::SparseExtent;

pub use writer::{StreamVmdkOptions, StreamVmdkWriter};

/// Largest virtual size accepted from a descriptor (1 PiB).
pub const MAX_VIRTUAL_SIZE: u64 = 1 << 50;

/// True when `head` (the first bytes of a file) is a VMDK: a sparse or
/// COWD header, a seSparse header, or a text descriptor.
pub fn probe(head: &[u8]) -> bool {
    if head.len() >= 8 {
        let m = le_u32(head, 0);
        if m == SPARSE_MAGIC || m == COWD_MAGIC || le_u64(head, 0) == SESPARSE_MAGIC {
            return true;
        }
    }
    descriptor::looks_like_descriptor(head)
}

/// Open the VMDK in `storage`, which was read from `path` (used to resolve
/// extent and parent names through the options' gate). `depth` is this image's depth
/// in a parent chain (0 for the image the user named).
pub fn open(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<Arc<dyn Image>> {
    open_image(storage, path, opts, depth)
        .map(|i| Arc::new(i) as Arc<dyn Image>)
        .map_err(|e| e.within(path.display()))
}

fn open_image(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<VmdkImage> {
    let mut head = [0u8; 512];
    let n = storage.size().min(512) as usize;
    storage.read_at(&mut head[..n], 0)?;
    if n >= 80 && le_u32(&head, 0) == SPARSE_MAGIC {
        if le_u64(&head, 12) == 0 && le_u64(&head, 28) != 0 {
            // A zero-capacity sparse header whose embedded descriptor lists
            // the real extents.
            let off = le_u64(&head, 28).saturating_mul(SECTOR);
            let len = storage
                .size()
                .saturating_sub(off)
                .min(descriptor::MAX_DESCRIPTOR as u64);
            let mut text = vec![0u8; len as usize];
            storage.read_at(&mut text, off)?;
            let desc = descriptor::parse(&text).map_err(|e| e.within("the embedded descriptor"))?;
            return open_descriptor(&desc, path, opts, depth, storage.size());
        }
        return open_sparse_file(storage, path, opts, depth);
    }
    if n >= 8 && le_u32(&head, 0) == COWD_MAGIC {
        let h = SparseHeader::parse_cowd(&head)?;
        let ext = SparseExtent::open(storage.clone(), h)?;
        let len = ext.capacity_bytes();
        let info = base_info("vmfsSparse", &ext, storage.size());
        return Ok(VmdkImage::new(
            vec![Span {
                start: 0,
                len,
                backend: Backend::Sparse(ext),
            }],
            None,
            info,
        ));
    }
    if n >= 8 && le_u64(&head, 0) == SESPARSE_MAGIC {
        return Err(sesparse_unsupported());
    }
    if !descriptor::looks_like_descriptor(&head[..n]) {
        return Err(Error::corrupt(
            "the file is neither a VMDK sparse extent nor a VMDK text descriptor",
        ));
    }
    let size = storage.size();
    if size > descriptor::MAX_DESCRIPTOR as u64 {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "the descriptor file is {size} bytes, more than the 1 MiB a descriptor may have"
            ),
        ));
    }
    let mut text = vec![0u8; size as usize];
    storage.read_at(&mut text, 0)?;
    let desc = descriptor::parse(&text)?;
    open_descriptor(&desc, path, opts, depth, size)
}

/// A monolithic sparse or streamOptimized file opened directly: one sparse
/// extent, plus the embedded descriptor for the create type and parent.
fn open_sparse_file(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<VmdkImage> {
    let mut b = [0u8; 512];
    storage.read_at(&mut b, 0)?;
    let h = SparseHeader::parse_kdmv(&b)?;
    let embedded = embedded_descriptor(storage.as_ref(), &h)?;
    let ext = SparseExtent::open(storage.clone(), h)?;
    let create_type = match &embedded {
        Some(d) if !d.create_type.is_empty() => d.create_type.clone(),
        _ if ext.header.compressed() => "streamOptimized".to_string(),
        _ => "monolithicSparse".to_string(),
    };
    let mut info = base_info(&create_type, &ext, storage.size());
    let parent = match &embedded {
        Some(d) if d.has_parent() => {
            info.backing_chain.extend(d.parent_hint.clone());
            Some(open_parent(d, path, opts, depth)?)
        }
        _ => None,
    };
    let len = ext.capacity_bytes();
    Ok(VmdkImage::new(
        vec![Span {
            start: 0,
            len,
            backend: Backend::Sparse(ext),
        }],
        parent,
        info,
    ))
}

fn embedded_descriptor(storage: &dyn Storage, h: &SparseHeader) -> Result<Option<Descriptor>> {
    let (off, len) = h.descriptor;
    if off == 0 || len == 0 {
        return Ok(None);
    }
    let bytes = len.saturating_mul(SECTOR);
    if bytes > descriptor::MAX_DESCRIPTOR as u64 {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("the embedded descriptor is {bytes} bytes, more than the 1 MiB limit"),
        ));
    }
    let start = off.saturating_mul(SECTOR);
    if start.checked_add(bytes).is_none_or(|e| e > storage.size()) {
        return Err(Error::corrupt(format!(
            "the embedded descriptor at sector {off} is past the end of the file"
        )));
    }
    let mut text = vec![0u8; bytes as usize];
    storage.read_at(&mut text, start)?;
    descriptor::parse(&text)
        .map(Some)
        .map_err(|e| e.within("the embedded descriptor"))
}

fn base_info(create_type: &str, ext: &SparseExtent, file_size: u64) -> ImageInfo {
    ImageInfo {
        format: "vmdk".into(),
        subformat: Some(create_type.to_string()),
        actual_size: Some(file_size),
        cluster_size: Some(ext.grain_bytes()),
        ..ImageInfo::default()
    }
}

fn sesparse_unsupported() -> Error {
    Error::unsupported(
        "seSparse (VMFS6 snapshot delta) extents are not supported; consolidate the VM's snapshots \
         (or clone the disk, e.g. with vmkfstools -i) and convert the consolidated disk",
    )
}

fn open_parent(
    d: &Descriptor,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<Arc<dyn Image>> {
    let hint = d.parent_hint.as_deref().unwrap_or_default();
    crate::open::open_named(path, hint, Some(Format::Vmdk), opts, depth + 1)
}

fn open_descriptor(
    d: &Descriptor,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
    size: u64,
) -> Result<VmdkImage> {
    let total = d.total_sectors()?;
    if total == 0 {
        return Err(Error::corrupt(
            "the descriptor's extents add up to zero sectors",
        ));
    }
    if total
        .checked_mul(SECTOR)
        .is_none_or(|b| b > MAX_VIRTUAL_SIZE)
    {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "the descriptor's extents add up to {total} sectors, more than the 1 PiB limit"
            ),
        ));
    }
    let mut spans = Vec::with_capacity(d.extents.len());
    let mut info = ImageInfo {
        format: "vmdk".into(),
        subformat: Some(d.create_type.clone()),
        ..ImageInfo::default()
    };
    let mut actual = size;
    let mut start = 0u64;
    for line in &d.extents {
        let len = line.sectors * SECTOR;
        let name = line.file.as_deref().unwrap_or_default();
        if line.access == Access::NoAccess {
            return Err(Error::unsupported(format!(
                "extent {name:?} is marked NOACCESS and cannot be read"
            )));
        }
        let backend = match line.kind {
            ExtentType::Zero => Backend::Zero,
            ExtentType::Flat | ExtentType::Vmfs => {
                let (b, file) = flat::open(&opts.gate, path, line, depth)?;
                if let Backend::Flat { storage, .. } = &b {
                    actual += storage.size();
                }
                info.extra_files.push(file);
                b
            }
            ExtentType::Sparse | ExtentType::VmfsSparse => {
                let (epath, storage) = opts.gate.open(path, name, depth)?;
                let mut b = [0u8; 512];
                let n = storage.size().min(512) as usize;
                storage.read_at(&mut b[..n], 0)?;
                let h = if line.kind == ExtentType::VmfsSparse {
                    SparseHeader::parse_cowd(&b[..n])
                } else {
                    SparseHeader::parse_kdmv(&b[..n])
                }
                .map_err(|e| e.within(epath.display()))?;
                if h.capacity < line.sectors {
                    return Err(Error::corrupt(format!(
                        "the sparse extent {} holds {} sectors, fewer than the {} its extent line says",
                        epath.display(),
                        h.capacity,
                        line.sectors
                    )));
                }
                let ext = SparseExtent::open(storage.clone(), h)
                    .map_err(|e| e.within(epath.display()))?;
                info.cluster_size.get_or_insert(ext.grain_bytes());
                actual += storage.size();
                info.extra_files.push(epath.display().to_string());
                Backend::Sparse(ext)
            }
            ExtentType::SeSparse => return Err(sesparse_unsupported()),
            ExtentType::VmfsRdm => {
                return Err(Error::unsupported(format!(
                    "extent {name:?} is a raw device mapping (RDM); copy the mapped LUN directly instead"
                )));
            }
        };
        spans.push(Span {
            start,
            len,
            backend,
        });
        start += len;
    }
    info.actual_size = Some(actual);
    let parent = if d.has_parent() {
        Some(open_parent(d, path, opts, depth)?)
    } else {
        None
    };
    if parent.is_some()
        && let Some(hint) = &d.parent_hint
    {
        info.backing_chain.push(hint.clone());
    }
    Ok(VmdkImage::new(spans, parent, info))
}
