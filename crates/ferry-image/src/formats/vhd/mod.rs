//! VHD (qemu calls it `vpc`): fixed, dynamic and differencing disks.
//! Dynamic and differencing disks have a block allocation table (BAT) and a
//! sector bitmap in front of each block; sectors whose bit is clear are
//! unallocated (zeros, or the parent's data for a differencing disk). The
//! parent is found through the parent locators and opened through the gate.
//!
//! Spec: Microsoft "Virtual Hard Disk Image Format Specification" 1.0.
pub mod footer;
pub mod fuzz;

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::formats::Format;
use crate::image::{Extent, ExtentKind, Image, ImageInfo};
use crate::open::OpenOptions;
use crate::storage::Storage;

use footer::{DynHeader, Footer, Locator, TYPE_DIFFERENCING, TYPE_FIXED, be_u32};

/// Most BAT entries accepted (16 MiB of table).
pub const MAX_BAT_ENTRIES: u64 = 4 << 20;
const ABSENT: u32 = u32::MAX;
/// Largest parent locator read.
const MAX_LOCATOR: u32 = 64 * 1024;

enum Layout {
    Fixed,
    Sparse {
        bat: Vec<u32>,
        block: u64,
        bitmap: u64,
    },
}

/// A VHD opened for reading.
pub struct VhdImage {
    storage: Arc<dyn Storage>,
    layout: Layout,
    size: u64,
    parent: Option<Arc<dyn Image>>,
    info: ImageInfo,
}

/// Open the VHD in `storage` (read from `path`).
pub fn open(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<Arc<dyn Image>> {
    open_vhd(storage, path, opts, depth)
        .map(|i| Arc::new(i) as Arc<dyn Image>)
        .map_err(|e| e.within(path.display()))
}

fn read_footer(storage: &dyn Storage) -> Result<Footer> {
    let size = storage.size();
    if size < 512 {
        return Err(Error::corrupt(format!(
            "the file is {size} bytes, too small for a VHD footer"
        )));
    }
    let mut b = [0u8; 512];
    storage.read_at(&mut b, size - 512)?;
    match Footer::parse(&b) {
        Ok(f) => Ok(f),
        Err(end_err) => {
            // Dynamic disks keep a copy of the footer at offset 0.
            storage.read_at(&mut b, 0)?;
            match Footer::parse(&b) {
                Ok(f) if f.disk_type != TYPE_FIXED => Ok(f),
                _ => Err(end_err),
            }
        }
    }
}

fn open_vhd(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<VhdImage> {
    let file_size = storage.size();
    let footer = read_footer(storage.as_ref())?;
    let size = footer.virtual_size()?;
    let mut info = ImageInfo {
        format: "vpc".into(),
        virtual_size: size,
        actual_size: Some(file_size),
        ..ImageInfo::default()
    };
    if footer.disk_type == TYPE_FIXED {
        if file_size < size + 512 {
            return Err(Error::corrupt(format!(
                "the fixed VHD is {file_size} bytes, too small for its {size}-byte disk and footer; the file is truncated"
            )));
        }
        info.subformat = Some("fixed".into());
        return Ok(VhdImage {
            storage,
            layout: Layout::Fixed,
            size,
            parent: None,
            info,
        });
    }
    let hdr_end = footer.data_offset.checked_add(1024);
    if hdr_end.is_none_or(|e| e > file_size) {
        return Err(Error::corrupt(format!(
            "the dynamic header offset {} is past the end of the file",
            footer.data_offset
        )));
    }
    let mut hb = vec![0u8; 1024];
    storage.read_at(&mut hb, footer.data_offset)?;
    let hdr = DynHeader::parse(&hb)?;
    let block = u64::from(hdr.block_size);
    let needed = size.div_ceil(block);
    let entries = u64::from(hdr.max_table_entries);
    if entries < needed {
        return Err(Error::corrupt(format!(
            "the BAT has {entries} entries, fewer than the {needed} blocks of the disk"
        )));
    }
    if needed > MAX_BAT_ENTRIES {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("the BAT needs {needed} entries, more than the limit of {MAX_BAT_ENTRIES}"),
        ));
    }
    let bat_bytes = needed * 4;
    if hdr
        .table_offset
        .checked_add(bat_bytes)
        .is_none_or(|e| e > file_size)
    {
        return Err(Error::corrupt(format!(
            "the BAT at offset {} ({bat_bytes} bytes) is past the end of the file",
            hdr.table_offset
        )));
    }
    let mut raw = vec![0u8; bat_bytes as usize];
    storage.read_at(&mut raw, hdr.table_offset)?;
    let bat: Vec<u32> = raw.chunks_exact(4).map(|c| be_u32(c, 0)).collect();
    let bitmap = hdr.bitmap_bytes();
    for (b, &e) in bat.iter().enumerate() {
        if e == ABSENT {
            continue;
        }
        let data = (b as u64 * block).min(size);
        let need = (size - data).min(block);
        let end = u64::from(e) * 512 + bitmap + need;
        if end > file_size {
            return Err(Error::corrupt(format!(
                "block {b} (at sector {e}) runs past the end of the file ({file_size} bytes); the file is truncated"
            )));
        }
    }
    info.cluster_size = Some(block);
    let parent = if footer.disk_type == TYPE_DIFFERENCING {
        info.subformat = Some("differencing".into());
        let (p, name) = open_parent(storage.as_ref(), &hdr, path, opts, depth)?;
        info.backing_chain.push(name);
        info.backing_chain.extend(p.info().backing_chain);
        Some(p)
    } else {
        info.subformat = Some("dynamic".into());
        None
    };
    Ok(VhdImage {
        storage,
        layout: Layout::Sparse { bat, block, bitmap },
        size,
        parent,
        info,
    })
}

/// Candidate parent names, best first: the relative Windows locator, then
/// the file names of the absolute ones and of the header's parent name.
fn parent_candidates(storage: &dyn Storage, hdr: &DynHeader) -> Result<Vec<String>> {
    let mut rel = Vec::new();
    let mut other = Vec::new();
    for l in &hdr.locators {
        let Some(text) = read_locator(storage, l)? else {
            continue;
        };
        let text = text.trim_end_matches('\0').to_string();
        match &l.code {
            b"W2ru" => {
                let t = text.replace('\\', "/");
                rel.push(t.strip_prefix("./").unwrap_or(&t).to_string());
            }
            b"W2ku" | b"MacX" | b"Wi2r" | b"Wi2k" => other.push(basename(&text)),
            _ => {}
        }
    }
    if !hdr.parent_name.is_empty() {
        other.push(basename(&hdr.parent_name));
    }
    rel.extend(other.into_iter().filter(|n| !n.is_empty()));
    rel.dedup();
    Ok(rel)
}

fn basename(s: &str) -> String {
    s.rsplit(['\\', '/']).next().unwrap_or_default().to_string()
}

fn read_locator(storage: &dyn Storage, l: &Locator) -> Result<Option<String>> {
    if l.len > MAX_LOCATOR
        || l.offset
            .checked_add(u64::from(l.len))
            .is_none_or(|e| e > storage.size())
    {
        return Err(Error::corrupt(format!(
            "the parent locator {:?} ({} bytes at offset {}) is out of range",
            String::from_utf8_lossy(&l.code),
            l.len,
            l.offset
        )));
    }
    let mut b = vec![0u8; l.len as usize];
    storage.read_at(&mut b, l.offset)?;
    Ok(Some(match &l.code {
        b"W2ru" | b"W2ku" => {
            let units: Vec<u16> = b
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        b"MacX" => {
            let s = String::from_utf8_lossy(&b).into_owned();
            s.strip_prefix("file://").map(str::to_string).unwrap_or(s)
        }
        _ => String::from_utf8_lossy(&b).into_owned(),
    }))
}

fn open_parent(
    storage: &dyn Storage,
    hdr: &DynHeader,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<(Arc<dyn Image>, String)> {
    let candidates = parent_candidates(storage, hdr)?;
    let mut last = None;
    for name in &candidates {
        match opts.gate.resolve(path, name, depth + 1) {
            Ok(_) => {
                let p = crate::open::open_named(path, name, Some(Format::Vpc), opts, depth + 1)?;
                return Ok((p, name.clone()));
            }
            Err(e) if e.kind() == ErrorKind::Io => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::corrupt("the differencing VHD names no parent (no usable parent locator)")
    }))
}

/// Bit `i` of a VHD sector bitmap (most significant bit first).
fn bit(bitmap: &[u8], i: u64) -> bool {
    bitmap[(i / 8) as usize] & (0x80 >> (i % 8)) != 0
}

impl VhdImage {
    fn read_below(&self, buf: &mut [u8], guest: u64) -> Result<()> {
        let Some(p) = &self.parent else {
            buf.fill(0);
            return Ok(());
        };
        let n = p.virtual_size().saturating_sub(guest).min(buf.len() as u64) as usize;
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
        push(out, guest + n, len - n, ExtentKind::Hole);
        Ok(())
    }

    /// Runs of allocated / unallocated sectors in `[off, off+len)` of block
    /// `b` (offsets relative to the block), calling `f(start, len, allocated)`.
    fn runs(
        &self,
        entry: u32,
        bitmap_len: u64,
        off: u64,
        len: u64,
        mut f: impl FnMut(u64, u64, bool) -> Result<()>,
    ) -> Result<()> {
        let mut bm = vec![0u8; bitmap_len as usize];
        self.storage.read_at(&mut bm, u64::from(entry) * 512)?;
        let end = off + len;
        let mut pos = off;
        while pos < end {
            let set = bit(&bm, pos / 512);
            let mut next = (pos / 512 + 1) * 512;
            while next < end && bit(&bm, next / 512) == set {
                next += 512;
            }
            let next = next.min(end);
            f(pos, next - pos, set)?;
            pos = next;
        }
        Ok(())
    }
}

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

impl Image for VhdImage {
    fn info(&self) -> ImageInfo {
        self.info.clone()
    }

    fn virtual_size(&self) -> u64 {
        self.size
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let end = offset.saturating_add(len).min(self.size);
        let mut out = Vec::new();
        if offset >= end {
            return Ok(out);
        }
        match &self.layout {
            Layout::Fixed => {
                for e in self.storage.extents(offset, end - offset)? {
                    push(&mut out, e.offset, e.length, e.kind);
                }
            }
            Layout::Sparse { bat, block, bitmap } => {
                let mut pos = offset;
                while pos < end {
                    let b = pos / block;
                    let in_b = pos % block;
                    let n = (block - in_b).min(end - pos);
                    let base = b * block;
                    match bat[b as usize] {
                        ABSENT => self.extents_below(&mut out, pos, n)?,
                        e => self.runs(e, *bitmap, in_b, n, |s, l, set| {
                            if set {
                                push(&mut out, base + s, l, ExtentKind::Data);
                                Ok(())
                            } else {
                                self.extents_below(&mut out, base + s, l)
                            }
                        })?,
                    }
                    pos += n;
                }
            }
        }
        Ok(out)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > self.size)
        {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {} bytes at offset {offset} is past the end of the VHD ({} bytes)",
                    buf.len(),
                    self.size
                ),
            ));
        }
        let Layout::Sparse { bat, block, bitmap } = &self.layout else {
            return self.storage.read_at(buf, offset);
        };
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (b, in_b) = (pos / block, pos % block);
            let n = ((block - in_b) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match bat[b as usize] {
                ABSENT => self.read_below(dst, pos)?,
                e => {
                    let data = u64::from(e) * 512 + bitmap;
                    self.runs(e, *bitmap, in_b, n as u64, |s, l, set| {
                        let d = &mut dst[(s - in_b) as usize..(s - in_b + l) as usize];
                        if set {
                            self.storage.read_at(d, data + s)
                        } else {
                            self.read_below(d, b * block + s)
                        }
                    })?;
                }
            }
            done += n;
        }
        Ok(())
    }

    fn granularity(&self) -> u64 {
        match &self.layout {
            Layout::Fixed => 1 << 20,
            Layout::Sparse { block, .. } => *block,
        }
    }
}
