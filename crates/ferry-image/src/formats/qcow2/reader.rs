//! The qcow2 reader: tables parsed once, L2 tables read whole through a
//! bounded LRU, data read without holding any lock.
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::cache::Lru;
use super::compressed;
use super::header::{Header, check_table};
use super::l2::{Geometry, Mapping, Merger, OFFSET_MASK};
use crate::error::{Error, ErrorKind, Result};
use crate::formats::Format;
use crate::image::{Extent, ExtentKind, Image, ImageInfo};
use crate::open::{OpenOptions, open_named};
use crate::storage::{FileStorage, Storage};

/// Memory for cached L2 tables per open image.
const L2_CACHE_BYTES: u64 = 32 << 20;

type L2Table = Arc<[u64]>;

thread_local! {
    /// Compressed input and one decompressed cluster, reused per thread.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    input: Vec<u8>,
    output: Vec<u8>,
    /// (image id, host offset) of the cluster in `output`.
    cached: Option<(u64, u64)>,
}

/// Distinguishes open images in the per-thread decompressed-cluster cache.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// An open qcow2 image.
pub struct Qcow2Image {
    id: u64,
    path: PathBuf,
    file: Arc<dyn Storage>,
    data: Arc<dyn Storage>,
    header: Header,
    geo: Geometry,
    l1: Vec<u64>,
    l2_cache: Mutex<Lru<u64, L2Table>>,
    backing: Option<Arc<dyn Image>>,
    backing_path: Option<PathBuf>,
}

fn read_header(file: &dyn Storage) -> Result<Header> {
    let size = file.size();
    let mut first = vec![0u8; size.min(4096) as usize];
    file.read_at(&mut first, 0)?;
    let need = (Header::bytes_needed(&first) as u64).min(size);
    if need > first.len() as u64 {
        first.resize(need as usize, 0);
        file.read_at(&mut first, 0)?;
    }
    Header::parse(&first, size)
}

impl Qcow2Image {
    /// Parse the header and L1 table of `file` (found at `path`) and open
    /// its backing chain and data file through the gate.
    pub fn open(
        file: Arc<dyn Storage>,
        path: &Path,
        opts: &OpenOptions,
        depth: u32,
    ) -> Result<Self> {
        let ctx = |e: Error| e.within(path.display());
        let header = read_header(file.as_ref()).map_err(ctx)?;
        let data = match &header.data_file {
            None => file.clone(),
            Some(name) if !opts.allow_data_file => {
                return Err(Error::new(
                    ErrorKind::Refused,
                    format!(
                        "{}: the qcow2 image keeps its data in the external file {name:?}; external data files are refused unless explicitly allowed (--allow-data-file)",
                        path.display()
                    ),
                ));
            }
            Some(name) => {
                let resolved = opts.gate.resolve(path, name, depth + 1)?;
                Arc::new(FileStorage::open(&resolved)?) as Arc<dyn Storage>
            }
        };
        let geo = Geometry {
            cluster_bits: header.cluster_bits,
            extended: header.extended_l2(),
            version: header.version,
            data_file: header.data_file.is_some(),
        };
        let l1 = read_l1(file.as_ref(), &header).map_err(ctx)?;
        let (backing, backing_path) = match &header.backing_file {
            None => (None, None),
            Some(name) => {
                let format = match &header.backing_format {
                    Some(f) => Some(f.parse::<Format>().map_err(|_| {
                        Error::unsupported(format!(
                            "{}: backing file {name:?} has format {f:?}, which ferry cannot read",
                            path.display()
                        ))
                    })?),
                    None => None,
                };
                let img = open_named(path, name, format, opts, depth + 1)?;
                let resolved = opts.gate.resolve(path, name, depth + 1)?;
                (Some(img), Some(resolved))
            }
        };
        let tables = (L2_CACHE_BYTES >> header.cluster_bits).max(16) as usize;
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            path: path.to_path_buf(),
            file,
            data,
            header,
            geo,
            l1,
            l2_cache: Mutex::new(Lru::new(tables)),
            backing,
            backing_path,
        })
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    fn l2_table(&self, l1_index: usize) -> Result<Option<L2Table>> {
        let offset = self.l1.get(l1_index).copied().unwrap_or(0) & OFFSET_MASK;
        if offset == 0 {
            return Ok(None);
        }
        {
            let mut cache = self.l2_cache.lock().map_err(|_| poisoned())?;
            if let Some(t) = cache.get(&offset) {
                return Ok(Some(t));
            }
        }
        let mut raw = vec![0u8; self.geo.cluster_size() as usize];
        self.file
            .read_at(&mut raw, offset)
            .map_err(|e| e.within(format!("{}: L2 table {l1_index}", self.path.display())))?;
        let table: L2Table = raw
            .chunks_exact(8)
            .map(|c| u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        let mut cache = self.l2_cache.lock().map_err(|_| poisoned())?;
        cache.insert(offset, table.clone());
        Ok(Some(table))
    }

    /// Call `emit` with merged (guest offset, length, mapping) runs covering
    /// `[offset, offset+len)` (clipped to the virtual size).
    fn walk(
        &self,
        offset: u64,
        len: u64,
        emit: &mut dyn FnMut(u64, u64, Mapping) -> Result<()>,
    ) -> Result<()> {
        let end = offset.saturating_add(len).min(self.header.size);
        let coverage = self.header.l2_coverage();
        let cs = self.geo.cluster_size();
        let words = self.geo.words_per_entry();
        let mut merger = Merger::new(emit);
        let mut pos = offset;
        while pos < end {
            let l1_index = (pos / coverage) as usize;
            let table_end = ((l1_index as u64 + 1) * coverage).min(end);
            let Some(table) = self.l2_table(l1_index)? else {
                merger.push(pos, table_end - pos, Mapping::Unallocated)?;
                pos = table_end;
                continue;
            };
            while pos < table_end {
                let cluster_base = pos & !(cs - 1);
                let index = ((pos % coverage) >> self.geo.cluster_bits) as usize * words;
                let entry = table[index];
                let bitmap = if words == 2 { table[index + 1] } else { 0 };
                let to = (cluster_base + cs).min(table_end) - cluster_base;
                let mut sink =
                    |start: u64, l: u64, m: Mapping| merger.push(cluster_base + start, l, m);
                self.geo
                    .decode(entry, bitmap, pos - cluster_base, to, &mut sink)
                    .map_err(|e| {
                        e.within(format!(
                            "{}: guest offset {cluster_base:#x}",
                            self.path.display()
                        ))
                    })?;
                pos = cluster_base + to;
            }
        }
        merger.flush()
    }

    fn read_data(&self, buf: &mut [u8], host: u64, guest: u64) -> Result<()> {
        let size = self.data.size();
        if host >= size {
            return Err(Error::corrupt(format!(
                "{}: guest offset {guest:#x} maps to host offset {host:#x}, past the end of {} ({size} bytes)",
                self.path.display(),
                self.data.describe()
            )));
        }
        let avail = (size - host).min(buf.len() as u64) as usize;
        self.data.read_at(&mut buf[..avail], host)?;
        buf[avail..].fill(0);
        Ok(())
    }

    fn read_compressed(
        &self,
        buf: &mut [u8],
        host: u64,
        len: u64,
        in_cluster: usize,
    ) -> Result<()> {
        let cs = self.geo.cluster_size() as usize;
        let file_size = self.file.size();
        if host >= file_size {
            return Err(Error::corrupt(format!(
                "{}: compressed cluster at host offset {host:#x} is past the end of the file ({file_size} bytes)",
                self.path.display()
            )));
        }
        let len = len.min(file_size - host) as usize;
        let id = self.id;
        SCRATCH.with(|cell| {
            let mut s = cell.borrow_mut();
            let s = &mut *s;
            if s.cached != Some((id, host)) {
                s.cached = None;
                s.input.resize(len, 0);
                self.file.read_at(&mut s.input, host)?;
                if in_cluster == 0 && buf.len() == cs {
                    return compressed::decompress(self.header.compression, &s.input, buf, host)
                        .map_err(|e| e.within(self.path.display()));
                }
                s.output.resize(cs, 0);
                compressed::decompress(self.header.compression, &s.input, &mut s.output, host)
                    .map_err(|e| e.within(self.path.display()))?;
                s.cached = Some((id, host));
            }
            buf.copy_from_slice(&s.output[in_cluster..in_cluster + buf.len()]);
            Ok(())
        })
    }

    fn read_backing(&self, buf: &mut [u8], guest: u64) -> Result<()> {
        match &self.backing {
            None => buf.fill(0),
            Some(b) => {
                let bsize = b.virtual_size();
                let avail = bsize.saturating_sub(guest).min(buf.len() as u64) as usize;
                if avail > 0 {
                    b.read_at(&mut buf[..avail], guest)?;
                }
                buf[avail..].fill(0);
            }
        }
        Ok(())
    }
}

fn poisoned() -> Error {
    Error::new(
        ErrorKind::Io,
        "qcow2 L2 cache lock was poisoned by a panic in another thread",
    )
}

fn read_l1(file: &dyn Storage, h: &Header) -> Result<Vec<u64>> {
    let mut raw = vec![0u8; (h.l1_size * 8) as usize];
    file.read_at(&mut raw, h.l1_table_offset)?;
    let cs = h.cluster_size();
    let size = file.size();
    raw.chunks_exact(8)
        .enumerate()
        .map(|(i, c)| {
            let e = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            let off = e & OFFSET_MASK;
            if off != 0 {
                check_table(&format!("L1 entry {i}"), off, cs, cs, size).map_err(|err| {
                    Error::corrupt(format!(
                        "qcow2 {}",
                        err.context().trim_start_matches("qcow2 header field ")
                    ))
                })?;
            }
            Ok(e)
        })
        .collect()
}

impl Image for Qcow2Image {
    fn info(&self) -> ImageInfo {
        let mut chain = Vec::new();
        if let (Some(p), Some(b)) = (&self.backing_path, &self.backing) {
            chain.push(p.display().to_string());
            chain.extend(b.info().backing_chain);
        }
        ImageInfo {
            format: "qcow2".to_string(),
            subformat: Some(format!("v{}", self.header.version)),
            virtual_size: self.header.size,
            actual_size: Some(self.file.size()),
            cluster_size: Some(self.geo.cluster_size()),
            backing_chain: chain,
            extra_files: self.header.data_file.iter().cloned().collect(),
        }
    }

    fn virtual_size(&self) -> u64 {
        self.header.size
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let mut out: Vec<Extent> = Vec::new();
        let mut add = |offset: u64, length: u64, kind: ExtentKind| {
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
        };
        let mut emit = |g: u64, l: u64, m: Mapping| -> Result<()> {
            match m {
                Mapping::Data(_) | Mapping::Compressed { .. } => add(g, l, ExtentKind::Data),
                Mapping::Zero => add(g, l, ExtentKind::Zero),
                Mapping::Unallocated => match &self.backing {
                    None => add(g, l, ExtentKind::Hole),
                    Some(b) => {
                        let bend = (g + l).min(b.virtual_size());
                        if g < bend {
                            for e in b.extents(g, bend - g)? {
                                add(e.offset, e.length, e.kind);
                            }
                        }
                        if bend.max(g) < g + l {
                            add(bend.max(g), g + l - bend.max(g), ExtentKind::Hole);
                        }
                    }
                },
            }
            Ok(())
        };
        self.walk(offset, len, &mut emit)?;
        Ok(out)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|e| e > self.header.size) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "{}: read of {} bytes at offset {offset} is past the virtual size ({} bytes)",
                    self.path.display(),
                    buf.len(),
                    self.header.size
                ),
            ));
        }
        let cs = self.geo.cluster_size();
        let total = buf.len() as u64;
        let mut emit = |g: u64, l: u64, m: Mapping| -> Result<()> {
            let start = (g - offset) as usize;
            let part = &mut buf[start..start + l as usize];
            match m {
                Mapping::Data(host) => self.read_data(part, host, g),
                Mapping::Zero => {
                    part.fill(0);
                    Ok(())
                }
                Mapping::Unallocated => self.read_backing(part, g),
                Mapping::Compressed { host, len } => {
                    self.read_compressed(part, host, len, (g & (cs - 1)) as usize)
                }
            }
        };
        self.walk(offset, total, &mut emit)
    }

    fn granularity(&self) -> u64 {
        self.geo.cluster_size()
    }
}
