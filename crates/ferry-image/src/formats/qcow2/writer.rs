//! The qcow2 v3 writer: a [`Storage`] the copy engine writes guest bytes
//! into. Clusters are appended; the metadata lock is held only to look up or
//! allocate a cluster, and data is written after releasing it. L1 and L2
//! tables stay in memory (8 bytes per guest cluster of touched 512 MiB
//! regions with 64 KiB clusters) and are written, with freshly computed
//! refcounts and the header, by [`Qcow2Writer::flush`].
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::compressed;
use super::header::{
    Compression, MAGIC, MAX_CLUSTER_BITS, MAX_L1_ENTRIES, MAX_VIRTUAL_SIZE, MIN_CLUSTER_BITS,
};
use super::l2::{Geometry, Mapping, OFFSET_MASK, OFLAG_COMPRESSED, OFLAG_COPIED};
use super::refcount::{Refcounts, layout};
use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, ExtentKind};
use crate::storage::Storage;

/// How to create a qcow2 image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qcow2WriterOptions {
    /// Guest size in bytes (rounded up to 512 bytes as qemu does).
    pub virtual_size: u64,
    /// Cluster size: a power of two from 512 bytes to 2 MiB.
    pub cluster_size: u64,
    /// Deflate-compress clusters that are written whole.
    pub compress: bool,
}

impl Qcow2WriterOptions {
    /// 64 KiB clusters, no compression.
    pub fn new(virtual_size: u64) -> Self {
        Self {
            virtual_size,
            cluster_size: 64 * 1024,
            compress: false,
        }
    }
}

thread_local! {
    static COMPRESS_BUF: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

struct Meta {
    l1: Vec<u64>,
    l2: HashMap<usize, Box<[u64]>>,
    dirty_l2: std::collections::HashSet<usize>,
    next_cluster: u64,
    /// Packing region for compressed data: (next byte, end of its clusters).
    cursor: Option<(u64, u64)>,
    refs: Refcounts,
    /// Refcount table and blocks written by the last flush.
    refmeta: Option<(u64, u64)>,
    dirty: bool,
}

/// A qcow2 v3 image being written. Implements [`Storage`] with the guest's
/// bytes; call [`Qcow2Writer::flush`] when done, or the file has no
/// refcounts and qemu will not open it.
#[must_use = "a Qcow2Writer must be flushed before it is dropped, or the image is incomplete"]
pub struct Qcow2Writer {
    target: Arc<dyn Storage>,
    geo: Geometry,
    size: u64,
    l1_offset: u64,
    compress: bool,
    meta: Mutex<Meta>,
}

fn poisoned() -> Error {
    Error::new(
        ErrorKind::Io,
        "qcow2 writer metadata lock was poisoned by a panic in another thread",
    )
}

/// A guest cluster's L2 entry, classified for writing.
enum Slot {
    Unallocated,
    Normal(u64),
    Compressed(u64, u64),
}

impl Qcow2Writer {
    /// Start a new image on `target`, which must be empty (a new file).
    pub fn create(target: Arc<dyn Storage>, opts: &Qcow2WriterOptions) -> Result<Self> {
        let cs = opts.cluster_size;
        if !cs.is_power_of_two()
            || !(MIN_CLUSTER_BITS..=MAX_CLUSTER_BITS).contains(&cs.trailing_zeros())
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("qcow2 cluster size {cs} must be a power of two from 512 bytes to 2 MiB"),
            ));
        }
        if target.size() != 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{} is not empty ({} bytes); a qcow2 image is written into a new, empty file",
                    target.describe(),
                    target.size()
                ),
            ));
        }
        let size = opts.virtual_size.div_ceil(512) * 512;
        if size > MAX_VIRTUAL_SIZE {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("qcow2 virtual size {size} is larger than {MAX_VIRTUAL_SIZE}"),
            ));
        }
        let bits = cs.trailing_zeros();
        let geo = Geometry {
            cluster_bits: bits,
            extended: false,
            version: 3,
            data_file: false,
        };
        let l1_size = size.div_ceil(geo.l2_entries() << bits);
        if l1_size > MAX_L1_ENTRIES {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "a {size}-byte qcow2 image with {cs}-byte clusters needs an L1 table of {l1_size} entries, more than {MAX_L1_ENTRIES}; use larger clusters"
                ),
            ));
        }
        let l1_clusters = (l1_size * 8).div_ceil(cs).max(1);
        let mut refs = Refcounts::new(opts.compress);
        refs.append(0, 1 + l1_clusters, 1);
        let w = Self {
            target,
            geo,
            size,
            l1_offset: cs,
            compress: opts.compress,
            meta: Mutex::new(Meta {
                l1: vec![0; l1_size as usize],
                l2: HashMap::new(),
                dirty_l2: Default::default(),
                next_cluster: 1 + l1_clusters,
                cursor: None,
                refs,
                refmeta: None,
                dirty: true,
            }),
        };
        // Claim the header and L1 clusters on the target right away.
        let mut meta = w.lock()?;
        w.write_metadata(&mut meta)?;
        drop(meta);
        Ok(w)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Meta>> {
        self.meta.lock().map_err(|_| poisoned())
    }

    fn cs(&self) -> u64 {
        self.geo.cluster_size()
    }

    fn split(&self, guest_cluster: u64) -> (usize, usize) {
        let per = self.geo.l2_entries();
        (
            (guest_cluster / per) as usize,
            (guest_cluster % per) as usize,
        )
    }

    fn entry(&self, meta: &Meta, gc: u64) -> u64 {
        let (t, i) = self.split(gc);
        meta.l2.get(&t).map_or(0, |tab| tab[i])
    }

    fn classify(&self, entry: u64) -> Slot {
        if entry & OFLAG_COMPRESSED != 0 {
            let (h, l) = self.geo.compressed(entry);
            Slot::Compressed(h, l)
        } else if entry & OFFSET_MASK != 0 {
            Slot::Normal(entry & OFFSET_MASK)
        } else {
            Slot::Unallocated
        }
    }

    fn set_entry(&self, meta: &mut Meta, gc: u64, value: u64) -> Result<()> {
        let (t, i) = self.split(gc);
        if !meta.l2.contains_key(&t) {
            let host = Self::alloc(meta, 1) << self.geo.cluster_bits;
            meta.l1[t] = host | OFLAG_COPIED;
            meta.l2.insert(
                t,
                vec![0u64; self.geo.l2_entries() as usize].into_boxed_slice(),
            );
        }
        if let Some(tab) = meta.l2.get_mut(&t) {
            tab[i] = value;
        }
        meta.dirty_l2.insert(t);
        meta.dirty = true;
        Ok(())
    }

    /// Append `n` clusters with refcount 1; returns the first cluster index.
    fn alloc(meta: &mut Meta, n: u64) -> u64 {
        let first = meta.next_cluster;
        meta.next_cluster += n;
        meta.refs.append(first, n, 1);
        first
    }

    /// Reserve whole sectors for `len` compressed bytes, packed after the
    /// previous compressed cluster when they fit.
    fn alloc_compressed(&self, meta: &mut Meta, len: u64) -> Result<u64> {
        let bytes = len.div_ceil(512) * 512;
        let cs = self.cs();
        let end_of_file = meta.next_cluster * cs;
        let (pos, limit) = match meta.cursor {
            Some((pos, limit)) if pos + bytes <= limit => (pos, limit),
            Some((pos, limit)) if limit == end_of_file && pos < limit => {
                let extra = (pos + bytes - limit).div_ceil(cs);
                let first = meta.next_cluster;
                meta.next_cluster += extra;
                meta.refs.append(first, extra, 0);
                (pos, meta.next_cluster * cs)
            }
            _ => {
                let n = bytes.div_ceil(cs);
                let first = meta.next_cluster;
                meta.next_cluster += n;
                meta.refs.append(first, n, 0);
                (first * cs, meta.next_cluster * cs)
            }
        };
        meta.cursor = Some((pos + bytes, limit));
        for c in (pos / cs)..(pos + bytes).div_ceil(cs) {
            meta.refs.incref(c)?;
        }
        Ok(pos)
    }

    fn compressed_entry(&self, host: u64, len: u64) -> u64 {
        let shift = 62 - (self.geo.cluster_bits - 8);
        let sectors = len.div_ceil(512);
        OFLAG_COMPRESSED | ((sectors - 1) << shift) | host
    }

    fn release(&self, meta: &mut Meta, slot: &Slot) -> Result<()> {
        let cs = self.cs();
        match *slot {
            Slot::Unallocated => Ok(()),
            Slot::Normal(h) => meta.refs.decref(h / cs),
            Slot::Compressed(h, l) => {
                let start = h & !511;
                for c in (start / cs)..(start + l.div_ceil(512) * 512).div_ceil(cs) {
                    meta.refs.decref(c)?;
                }
                Ok(())
            }
        }
    }

    fn read_compressed(&self, host: u64, len: u64, out: &mut [u8]) -> Result<()> {
        let mut input = vec![0u8; len as usize];
        self.target.read_at(&mut input, host)?;
        compressed::decompress(Compression::Deflate, &input, out, host)
    }

    /// Guest bytes of cluster `gc` after applying `data` at `off` (zeros when
    /// `data` is `None`) to its current compressed contents.
    fn merge_compressed(
        &self,
        host: u64,
        len: u64,
        off: usize,
        data: Option<&[u8]>,
        n: usize,
    ) -> Result<Vec<u8>> {
        let mut full = vec![0u8; self.cs() as usize];
        self.read_compressed(host, len, &mut full)?;
        match data {
            Some(d) => full[off..off + n].copy_from_slice(d),
            None => full[off..off + n].fill(0),
        }
        Ok(full)
    }

    /// Bytes of guest cluster starting at `base` that exist (the last
    /// cluster may be cut by the virtual size).
    fn cluster_len(&self, base: u64) -> u64 {
        self.cs().min(self.size - base)
    }

    fn write_piece(&self, base: u64, off: usize, data: &[u8]) -> Result<()> {
        let cs = self.cs();
        let gc = base / cs;
        let whole = off == 0 && data.len() as u64 == self.cluster_len(base);
        if self.compress && whole {
            if data.iter().all(|&b| b == 0) {
                return self.zero_piece(base, 0, data.len());
            }
            return COMPRESS_BUF.with(|cell| {
                let mut bufs = cell.borrow_mut();
                let (padded, out) = &mut *bufs;
                padded.clear();
                padded.extend_from_slice(data);
                padded.resize(cs as usize, 0);
                // Room for incompressible input: deflate never needs more.
                out.resize(cs as usize + cs as usize / 8 + 1024, 0);
                match compressed::deflate(padded, out)? {
                    Some(n) if (n as u64) < cs - 512 => {
                        self.place(gc, base, off, data, Some(&out[..n]))
                    }
                    _ => self.place(gc, base, off, data, None),
                }
            });
        }
        self.place(gc, base, off, data, None)
    }

    fn place(
        &self,
        gc: u64,
        base: u64,
        off: usize,
        data: &[u8],
        comp: Option<&[u8]>,
    ) -> Result<()> {
        let cs = self.cs();
        let mut meta = self.lock()?;
        let slot = self.classify(self.entry(&meta, gc));
        let whole = off == 0 && data.len() as u64 == self.cluster_len(base);
        let (host, bytes): (u64, &[u8]) = match (&slot, comp) {
            (Slot::Normal(h), _) => (*h + off as u64, data),
            (Slot::Unallocated | Slot::Compressed(..), Some(c)) => {
                self.release(&mut meta, &slot)?;
                let h = self.alloc_compressed(&mut meta, c.len() as u64)?;
                let e = self.compressed_entry(h, c.len() as u64);
                self.set_entry(&mut meta, gc, e)?;
                (h, c)
            }
            (Slot::Compressed(h, l), None) if !whole => {
                // Read-modify-write, under the lock: rare, and keeps
                // concurrent partial writes to this cluster ordered.
                let full = self.merge_compressed(*h, *l, off, Some(data), data.len())?;
                self.release(&mut meta, &slot)?;
                let new = Self::alloc(&mut meta, 1) * cs;
                self.target.write_at(&full, new)?;
                self.set_entry(&mut meta, gc, new | OFLAG_COPIED)?;
                return Ok(());
            }
            (Slot::Unallocated | Slot::Compressed(..), None) => {
                self.release(&mut meta, &slot)?;
                let new = Self::alloc(&mut meta, 1) * cs;
                self.set_entry(&mut meta, gc, new | OFLAG_COPIED)?;
                (new + off as u64, data)
            }
        };
        drop(meta);
        self.target.write_at(bytes, host)
    }

    fn zero_piece(&self, base: u64, off: usize, n: usize) -> Result<()> {
        let cs = self.cs();
        let gc = base / cs;
        let whole = off == 0 && n as u64 == self.cluster_len(base);
        let mut meta = self.lock()?;
        let slot = self.classify(self.entry(&meta, gc));
        match slot {
            Slot::Unallocated => Ok(()),
            _ if whole => {
                self.release(&mut meta, &slot)?;
                self.set_entry(&mut meta, gc, 0)?;
                drop(meta);
                if let Slot::Normal(h) = slot {
                    self.target.discard(h, cs)?;
                }
                Ok(())
            }
            Slot::Normal(h) => {
                drop(meta);
                self.target.write_at(&vec![0u8; n], h + off as u64)
            }
            Slot::Compressed(h, l) => {
                let full = self.merge_compressed(h, l, off, None, n)?;
                self.release(&mut meta, &slot)?;
                let new = Self::alloc(&mut meta, 1) * cs;
                self.target.write_at(&full, new)?;
                self.set_entry(&mut meta, gc, new | OFLAG_COPIED)
            }
        }
    }

    /// An uncompressed write: map (or allocate) every cluster it touches
    /// under one lock, then write each run of host-contiguous pieces with
    /// one call. Fresh clusters of one call are allocated back to back, so
    /// a whole chunk usually lands with a single large write.
    fn write_plain(&self, buf: &[u8], offset: u64) -> Result<()> {
        let cs = self.cs();
        // (host offset, start in buf, length): merged when contiguous.
        let mut runs: Vec<(u64, usize, usize)> = Vec::new();
        // Pieces over compressed clusters need a read-modify-write.
        let mut rmw: Vec<(u64, usize, usize, usize)> = Vec::new();
        {
            let mut meta = self.lock()?;
            let mut done = 0usize;
            self.for_each_piece(offset, buf.len() as u64, |base, off, n| {
                let gc = base / cs;
                let host = match self.classify(self.entry(&meta, gc)) {
                    Slot::Normal(h) => Some(h + off as u64),
                    Slot::Unallocated => {
                        let new = Self::alloc(&mut meta, 1) * cs;
                        self.set_entry(&mut meta, gc, new | OFLAG_COPIED)?;
                        Some(new + off as u64)
                    }
                    Slot::Compressed(..) => None,
                };
                match host {
                    Some(h) => match runs.last_mut() {
                        Some((rh, rs, rl)) if *rh + *rl as u64 == h && *rs + *rl == done => {
                            *rl += n;
                        }
                        _ => runs.push((h, done, n)),
                    },
                    None => rmw.push((base, off, done, n)),
                }
                done += n;
                Ok(())
            })?;
        }
        for (host, start, len) in runs {
            self.target.write_at(&buf[start..start + len], host)?;
        }
        for (base, off, start, n) in rmw {
            self.place(base / cs, base, off, &buf[start..start + n], None)?;
        }
        Ok(())
    }

    fn check_range(&self, what: &str, offset: u64, len: u64) -> Result<()> {
        if offset.checked_add(len).is_none_or(|e| e > self.size) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "qcow2 {what} of {len} bytes at offset {offset} is past the virtual size ({} bytes)",
                    self.size
                ),
            ));
        }
        Ok(())
    }

    /// Calls `f(cluster base, offset in cluster, length)` for each cluster
    /// piece of `[offset, offset+len)`.
    fn for_each_piece(
        &self,
        offset: u64,
        len: u64,
        mut f: impl FnMut(u64, usize, usize) -> Result<()>,
    ) -> Result<()> {
        let cs = self.cs();
        let end = offset + len;
        let mut pos = offset;
        while pos < end {
            let base = pos & !(cs - 1);
            let n = (base + cs).min(end) - pos;
            f(base, (pos - base) as usize, n as usize)?;
            pos += n;
        }
        Ok(())
    }

    /// Write the L2 tables, the L1 table, refcounts for every cluster and
    /// the header (metadata I/O under the lock: flushes are rare).
    fn write_metadata(&self, meta: &mut Meta) -> Result<()> {
        let cs = self.cs();
        let bits = self.geo.cluster_bits;
        let mut dirty: Vec<usize> = meta.dirty_l2.drain().collect();
        dirty.sort_unstable();
        for t in dirty {
            if let Some(tab) = meta.l2.get(&t) {
                let host = meta.l1[t] & OFFSET_MASK;
                self.target.write_at(&be_words(tab), host)?;
            }
        }
        let mut l1 = be_words(&meta.l1);
        l1.resize(
            ((meta.l1.len() as u64 * 8).div_ceil(cs).max(1) * cs) as usize,
            0,
        );
        self.target.write_at(&l1, self.l1_offset)?;
        if let Some((first, count)) = meta.refmeta.take() {
            for c in first..first + count {
                meta.refs.decref(c)?;
            }
        }
        let (rt, rb) = layout(meta.next_cluster, bits);
        let first = Self::alloc(meta, rt + rb);
        meta.refmeta = Some((first, rt + rb));
        // Past this point nothing is allocated, so the counts are final.
        meta.cursor = None;
        let per_block = cs / 2;
        let mut table = vec![0u8; (rt * cs) as usize];
        let mut block = vec![0u8; cs as usize];
        for b in 0..rb {
            for (i, slot) in block.chunks_exact_mut(2).enumerate() {
                let c = b * per_block + i as u64;
                slot.copy_from_slice(&meta.refs.get(c).to_be_bytes());
            }
            let host = (first + rt + b) * cs;
            self.target.write_at(&block, host)?;
            table[(b * 8) as usize..(b * 8 + 8) as usize].copy_from_slice(&host.to_be_bytes());
        }
        self.target.write_at(&table, first * cs)?;
        self.target
            .write_at(&self.header_bytes(meta.l1.len() as u64, first * cs, rt), 0)?;
        meta.dirty = false;
        Ok(())
    }

    fn header_bytes(&self, l1_size: u64, rt_offset: u64, rt_clusters: u64) -> Vec<u8> {
        let mut h = vec![0u8; 112];
        h[0..4].copy_from_slice(&MAGIC.to_be_bytes());
        h[4..8].copy_from_slice(&3u32.to_be_bytes());
        h[20..24].copy_from_slice(&self.geo.cluster_bits.to_be_bytes());
        h[24..32].copy_from_slice(&self.size.to_be_bytes());
        h[36..40].copy_from_slice(&(l1_size as u32).to_be_bytes());
        h[40..48].copy_from_slice(&self.l1_offset.to_be_bytes());
        h[48..56].copy_from_slice(&rt_offset.to_be_bytes());
        h[56..60].copy_from_slice(&(rt_clusters as u32).to_be_bytes());
        h[96..100].copy_from_slice(&4u32.to_be_bytes());
        h[100..104].copy_from_slice(&104u32.to_be_bytes());
        // Bytes 104..112: the end-of-extensions marker (all zero).
        h
    }
}

fn be_words(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

impl Storage for Qcow2Writer {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.check_range("read", offset, buf.len() as u64)?;
        let mut done = 0usize;
        self.for_each_piece(offset, buf.len() as u64, |base, off, n| {
            let part = &mut buf[done..done + n];
            done += n;
            let entry = self.entry(&*self.lock()?, base / self.cs());
            let mut result = Ok(());
            self.geo
                .decode(entry, 0, off as u64, (off + n) as u64, &mut |_, _, m| {
                    result = match m {
                        Mapping::Data(h) => self.target.read_at(part, h),
                        Mapping::Compressed { host, len } => {
                            let mut full = vec![0u8; self.cs() as usize];
                            self.read_compressed(host, len, &mut full)
                                .map(|()| part.copy_from_slice(&full[off..off + n]))
                        }
                        Mapping::Zero | Mapping::Unallocated => {
                            part.fill(0);
                            Ok(())
                        }
                    };
                    Ok(())
                })?;
            result
        })
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.check_range("write", offset, buf.len() as u64)?;
        if !self.compress {
            return self.write_plain(buf, offset);
        }
        let mut done = 0usize;
        self.for_each_piece(offset, buf.len() as u64, |base, off, n| {
            let part = &buf[done..done + n];
            done += n;
            self.write_piece(base, off, part)
        })
    }

    fn write_zeroes(&self, offset: u64, len: u64) -> Result<()> {
        self.check_range("zero write", offset, len)?;
        let coverage = self.geo.l2_entries() * self.cs();
        let end = offset + len;
        let mut pos = offset;
        while pos < end {
            let table_end = ((pos / coverage + 1) * coverage).min(end);
            let has_table = self.lock()?.l2.contains_key(&((pos / coverage) as usize));
            if has_table {
                self.for_each_piece(pos, table_end - pos, |base, off, n| {
                    self.zero_piece(base, off, n)
                })?;
            }
            pos = table_end;
        }
        Ok(())
    }

    fn discard(&self, offset: u64, len: u64) -> Result<()> {
        self.write_zeroes(offset, len)
    }

    fn flush(&self) -> Result<()> {
        let mut meta = self.lock()?;
        if meta.dirty {
            self.write_metadata(&mut meta)?;
        }
        drop(meta);
        self.target.flush()
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let end = offset.saturating_add(len).min(self.size);
        let mut out: Vec<Extent> = Vec::new();
        let meta = self.lock()?;
        let mut pos = offset;
        let cs = self.cs();
        while pos < end {
            let base = pos & !(cs - 1);
            let n = (base + cs).min(end) - pos;
            let kind = match self.classify(self.entry(&meta, base / cs)) {
                Slot::Unallocated => ExtentKind::Hole,
                _ => ExtentKind::Data,
            };
            match out.last_mut() {
                Some(last) if last.kind == kind => last.length += n,
                _ => out.push(Extent {
                    offset: pos,
                    length: n,
                    kind,
                }),
            }
            pos += n;
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        format!("qcow2 image on {}", self.target.describe())
    }
}
