//! [`VmdkImage`]: the guest view over a list of extents (sparse, flat, zero)
//! and an optional parent. All tables are immutable after open, so reads
//! from many threads take no lock; compressed grains are inflated by the
//! calling thread.
use std::cell::RefCell;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, ExtentKind, Image, ImageInfo};
use crate::storage::Storage;

use super::sparse::{Grain, SparseExtent};
use super::stream;

/// How one extent's bytes are found.
pub enum Backend {
    /// Reads as zero (`ZERO` extent).
    Zero,
    /// Raw bytes at `offset` of `storage` (`FLAT`, `VMFS`).
    Flat {
        /// The extent file.
        storage: Arc<dyn Storage>,
        /// Byte offset of the extent's first byte in the file.
        offset: u64,
    },
    /// A sparse extent (hosted sparse, streamOptimized, COWD).
    Sparse(SparseExtent),
}

/// One extent placed in the guest address space.
pub struct Span {
    /// Guest byte offset.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// Where the bytes are.
    pub backend: Backend,
}

/// A VMDK opened for reading.
pub struct VmdkImage {
    spans: Vec<Span>,
    size: u64,
    parent: Option<Arc<dyn Image>>,
    info: ImageInfo,
}

thread_local! {
    static GRAIN_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl VmdkImage {
    /// Assemble an image; `spans` must be contiguous from 0.
    pub fn new(spans: Vec<Span>, parent: Option<Arc<dyn Image>>, mut info: ImageInfo) -> Self {
        let size = spans.last().map_or(0, |s| s.start + s.len);
        info.virtual_size = size;
        if let Some(p) = &parent {
            let pi = p.info();
            info.backing_chain.extend(pi.backing_chain);
        }
        Self {
            spans,
            size,
            parent,
            info,
        }
    }

    fn span_index(&self, offset: u64) -> usize {
        self.spans.partition_point(|s| s.start + s.len <= offset)
    }

    /// Read from the parent, zero-filling past its end (or everything when
    /// there is no parent).
    fn read_below(&self, buf: &mut [u8], guest: u64) -> Result<()> {
        let Some(p) = &self.parent else {
            buf.fill(0);
            return Ok(());
        };
        let psize = p.virtual_size();
        let n = psize.saturating_sub(guest).min(buf.len() as u64) as usize;
        if n > 0 {
            p.read_at(&mut buf[..n], guest)?;
        }
        buf[n..].fill(0);
        Ok(())
    }

    fn extents_below(&self, out: &mut Vec<Extent>, guest: u64, len: u64) -> Result<()> {
        let Some(p) = &self.parent else {
            push(out, guest, len, ExtentKind::Hole);
            return Ok(());
        };
        let n = p.virtual_size().saturating_sub(guest).min(len);
        if n > 0 {
            for e in p.extents(guest, n)? {
                push(out, e.offset, e.length, e.kind);
            }
        }
        if n < len {
            push(out, guest + n, len - n, ExtentKind::Hole);
        }
        Ok(())
    }

    fn read_sparse(&self, ext: &SparseExtent, buf: &mut [u8], off: u64, guest: u64) -> Result<()> {
        let gb = ext.grain_bytes();
        let storage = ext.storage.as_ref();
        let mut done = 0usize;
        // A run of uncompressed grains adjacent in the file: (host, start, len).
        let mut run: Option<(u64, usize, usize)> = None;
        let flush = |run: &mut Option<(u64, usize, usize)>, buf: &mut [u8]| -> Result<()> {
            if let Some((host, start, len)) = run.take() {
                storage.read_at(&mut buf[start..start + len], host)?;
            }
            Ok(())
        };
        while done < buf.len() {
            let pos = off + done as u64;
            let (g, in_g) = (pos / gb, pos % gb);
            let n = ((gb - in_g) as usize).min(buf.len() - done);
            match ext.grain(g) {
                Grain::Data(h) => {
                    let host = h + in_g;
                    match &mut run {
                        Some((rh, _, rl)) if *rh + *rl as u64 == host && *rl < 8 << 20 => *rl += n,
                        _ => {
                            flush(&mut run, buf)?;
                            run = Some((host, done, n));
                        }
                    }
                }
                other => {
                    flush(&mut run, buf)?;
                    let dst = &mut buf[done..done + n];
                    match other {
                        Grain::Unallocated => self.read_below(dst, guest + done as u64)?,
                        Grain::Compressed(m) if in_g == 0 && n as u64 == gb => {
                            stream::read_grain(storage, m, dst)?;
                        }
                        Grain::Compressed(m) => GRAIN_BUF.with(|cell| -> Result<()> {
                            let mut tmp = cell.borrow_mut();
                            tmp.resize(gb as usize, 0);
                            stream::read_grain(storage, m, &mut tmp)?;
                            dst.copy_from_slice(&tmp[in_g as usize..in_g as usize + n]);
                            Ok(())
                        })?,
                        Grain::Zero | Grain::Data(_) => dst.fill(0),
                    }
                }
            }
            done += n;
        }
        flush(&mut run, buf)
    }

    fn extents_sparse(
        &self,
        out: &mut Vec<Extent>,
        ext: &SparseExtent,
        off: u64,
        len: u64,
        guest: u64,
    ) -> Result<()> {
        let gb = ext.grain_bytes();
        let per = ext.map.gtes_per_gt();
        let end = off + len;
        let mut pos = off;
        let mut hole: Option<(u64, u64)> = None; // (guest start, len)
        while pos < end {
            let g = pos / gb;
            let (kind, next) = if ext.map.table_absent(g) {
                (None, ((g / per + 1) * per * gb).min(end))
            } else {
                let k = match ext.grain(g) {
                    Grain::Unallocated => None,
                    Grain::Zero => Some(ExtentKind::Zero),
                    Grain::Data(_) | Grain::Compressed(_) => Some(ExtentKind::Data),
                };
                (k, ((g + 1) * gb).min(end))
            };
            let n = next - pos;
            match kind {
                None => match &mut hole {
                    Some((_, l)) => *l += n,
                    None => hole = Some((guest + (pos - off), n)),
                },
                Some(k) => {
                    if let Some((s, l)) = hole.take() {
                        self.extents_below(out, s, l)?;
                    }
                    push(out, guest + (pos - off), n, k);
                }
            }
            pos = next;
        }
        if let Some((s, l)) = hole {
            self.extents_below(out, s, l)?;
        }
        Ok(())
    }

    fn check_range(&self, offset: u64, len: u64) -> Result<()> {
        if offset.checked_add(len).is_none_or(|e| e > self.size) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {len} bytes at offset {offset} is past the end of the VMDK ({} bytes)",
                    self.size
                ),
            ));
        }
        Ok(())
    }
}

/// Append an extent, merging with the previous one when they touch and
/// have the same kind.
fn push(out: &mut Vec<Extent>, offset: u64, length: u64, kind: ExtentKind) {
    if length == 0 {
        return;
    }
    if let Some(last) = out.last_mut()
        && last.kind == kind
        && last.offset + last.length == offset
    {
        last.length += length;
        return;
    }
    out.push(Extent {
        offset,
        length,
        kind,
    });
}

impl Image for VmdkImage {
    fn info(&self) -> ImageInfo {
        self.info.clone()
    }

    /// A VMDK that is one flat extent (monolithicFlat, vmfs, vmfsThin) with
    /// no parent: the guest bytes sit verbatim in the extent file, so the
    /// copy engine may clone them.
    fn flat_file(&self) -> Option<(&std::fs::File, u64)> {
        match self.spans.as_slice() {
            [
                Span {
                    start: 0,
                    backend: Backend::Flat { storage, offset },
                    ..
                },
            ] if self.parent.is_none() => {
                let (file, base) = storage.host_file()?;
                Some((file, base.checked_add(*offset)?))
            }
            _ => None,
        }
    }

    fn virtual_size(&self) -> u64 {
        self.size
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let end = offset.saturating_add(len).min(self.size);
        let mut out = Vec::new();
        let mut pos = offset;
        let mut i = self.span_index(offset);
        while pos < end {
            let Some(span) = self.spans.get(i) else { break };
            let in_span = pos - span.start;
            let n = (span.len - in_span).min(end - pos);
            match &span.backend {
                Backend::Zero => push(&mut out, pos, n, ExtentKind::Zero),
                Backend::Flat { storage, offset } => {
                    for e in storage.extents(offset + in_span, n)? {
                        let start = e.offset.saturating_sub(offset + in_span) + pos;
                        push(&mut out, start, e.length, e.kind);
                    }
                }
                Backend::Sparse(ext) => self.extents_sparse(&mut out, ext, in_span, n, pos)?,
            }
            pos += n;
            i += 1;
        }
        Ok(out)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.check_range(offset, buf.len() as u64)?;
        let mut done = 0usize;
        let mut i = self.span_index(offset);
        while done < buf.len() {
            let pos = offset + done as u64;
            let span = self
                .spans
                .get(i)
                .ok_or_else(|| Error::corrupt(format!("no extent covers guest offset {pos}")))?;
            let in_span = pos - span.start;
            let n = ((span.len - in_span) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match &span.backend {
                Backend::Zero => dst.fill(0),
                Backend::Flat { storage, offset } => storage.read_at(dst, offset + in_span)?,
                Backend::Sparse(ext) => self.read_sparse(ext, dst, in_span, pos)?,
            }
            done += n;
            i += 1;
        }
        Ok(())
    }

    fn granularity(&self) -> u64 {
        self.info.cluster_size.unwrap_or(64 * 1024)
    }
}
