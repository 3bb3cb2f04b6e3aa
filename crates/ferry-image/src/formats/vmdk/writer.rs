//! [`StreamVmdkWriter`]: writes a streamOptimized VMDK (the disk format
//! inside OVAs) sequentially: header and descriptor, then deflated grains
//! with grain markers in increasing guest order, a grain table after each
//! 32 MiB group that has data, and at the end the grain directory, the
//! footer (holding the directory's offset) and the end-of-stream marker.
//!
//! Compression is the expensive part, so it is split out: a copy engine can
//! run [`GrainCompressor::compress`] on many threads and hand the results to
//! [`StreamVmdkWriter::write_compressed_grain`] in order.
use std::io::Write;

use flate2::{Compress, Compression, FlushCompress, Status};

use crate::error::{Error, ErrorKind, Result};

use super::header::{
    COMPRESS_DEFLATE, FLAG_COMPRESSED, FLAG_MARKERS, FLAG_NL_DETECT, GD_AT_END,
    MAX_SPARSE_CAPACITY_SECTORS, SECTOR, SparseHeader,
};
use super::stream::{MARKER_EOS, MARKER_FOOTER, MARKER_GD, MARKER_GT};

/// Grain size written: 128 sectors (64 KiB), as VMware writes.
pub const GRAIN_SECTORS: u64 = 128;
/// Grain size in bytes.
pub const GRAIN_BYTES: u64 = GRAIN_SECTORS * SECTOR;
const GTES_PER_GT: u64 = 512;
/// Sectors before the first grain (header + descriptor, padded).
const OVERHEAD_SECTORS: u64 = 128;
const DESCRIPTOR_SECTORS: u64 = 20;

/// Options for [`StreamVmdkWriter`].
#[derive(Debug, Clone)]
pub struct StreamVmdkOptions {
    /// File name written in the descriptor's extent line.
    pub file_name: String,
    /// `ddb.adapterType` (`lsilogic`, `ide`, `buslogic`, `pvscsi`).
    pub adapter_type: String,
    /// `ddb.virtualHWVersion`.
    pub hw_version: u32,
    /// Deflate level 0-9 (1 is fast; qemu-img uses 6).
    pub level: u32,
    /// Content ID written as `CID`; `None` derives one from the clock.
    pub cid: Option<u32>,
}

impl Default for StreamVmdkOptions {
    fn default() -> Self {
        Self {
            file_name: "disk.vmdk".into(),
            adapter_type: "lsilogic".into(),
            hw_version: 4,
            level: 1,
            cid: None,
        }
    }
}

/// Deflates grains into ready-to-write records (marker + data, padded to a
/// sector). One per thread; reuses its buffers.
pub struct GrainCompressor {
    c: Compress,
    padded: Vec<u8>,
}

impl GrainCompressor {
    /// A compressor at deflate `level` (0-9).
    pub fn new(level: u32) -> Self {
        Self {
            c: Compress::new(Compression::new(level.min(9)), true),
            padded: Vec::new(),
        }
    }

    /// Compress grain `index` (`data` is one grain, or less for the last
    /// grain, zero-padded here) into `out` (cleared first).
    pub fn compress(&mut self, index: u64, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if data.len() as u64 > GRAIN_BYTES {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "grain {index} has {} bytes, more than a grain ({GRAIN_BYTES})",
                    data.len()
                ),
            ));
        }
        let input: &[u8] = if data.len() as u64 == GRAIN_BYTES {
            data
        } else {
            self.padded.clear();
            self.padded.extend_from_slice(data);
            self.padded.resize(GRAIN_BYTES as usize, 0);
            &self.padded
        };
        out.clear();
        out.extend_from_slice(&(index * GRAIN_SECTORS).to_le_bytes());
        out.extend_from_slice(&[0u8; 4]);
        out.reserve(input.len() + input.len() / 64 + 1024);
        self.c.reset();
        loop {
            let consumed = self.c.total_in() as usize;
            let status = self
                .c
                .compress_vec(&input[consumed..], out, FlushCompress::Finish)
                .map_err(|e| Error::new(ErrorKind::Io, "deflate failed").with_source(e))?;
            if status == Status::StreamEnd {
                break;
            }
            out.reserve(64 * 1024);
        }
        let len = (out.len() - 12) as u32;
        out[8..12].copy_from_slice(&len.to_le_bytes());
        out.resize(out.len().next_multiple_of(SECTOR as usize), 0);
        Ok(())
    }
}

/// Sequential streamOptimized writer over any [`Write`] sink.
pub struct StreamVmdkWriter<W: Write> {
    out: W,
    pos: u64,
    capacity: u64,
    grains: u64,
    next: u64,
    gd: Vec<u32>,
    gt: Vec<u32>,
    gt_index: u64,
    gt_dirty: bool,
    header: SparseHeader,
    compressor: GrainCompressor,
    record: Vec<u8>,
}

impl<W: Write> StreamVmdkWriter<W> {
    /// Start a stream for a disk of `virtual_size` bytes (rounded up to a
    /// sector) with default options.
    pub fn new(out: W, virtual_size: u64) -> Result<Self> {
        Self::with_options(out, virtual_size, &StreamVmdkOptions::default())
    }

    /// Start a stream with explicit options; writes header and descriptor.
    pub fn with_options(mut out: W, virtual_size: u64, opts: &StreamVmdkOptions) -> Result<Self> {
        let capacity = virtual_size.div_ceil(SECTOR);
        if capacity == 0 || capacity > MAX_SPARSE_CAPACITY_SECTORS {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "a streamOptimized VMDK of {virtual_size} bytes cannot be written (1 byte to 64 TiB)"
                ),
            ));
        }
        if opts.file_name.contains(['"', '\n', '\r']) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "the file name {:?} cannot be written into a descriptor",
                    opts.file_name
                ),
            ));
        }
        let grains = capacity.div_ceil(GRAIN_SECTORS);
        let gd_entries = grains.div_ceil(GTES_PER_GT);
        let header = SparseHeader {
            version: 3,
            flags: FLAG_NL_DETECT | FLAG_COMPRESSED | FLAG_MARKERS,
            capacity,
            grain_sectors: GRAIN_SECTORS,
            descriptor: (1, DESCRIPTOR_SECTORS),
            gtes_per_gt: GTES_PER_GT as u32,
            rgd_offset: 0,
            gd_offset: GD_AT_END,
            gd_entries,
            overhead: OVERHEAD_SECTORS,
            compress_algorithm: COMPRESS_DEFLATE,
            cowd: false,
        };
        let desc = descriptor_text(capacity, opts);
        let mut head = vec![0u8; (OVERHEAD_SECTORS * SECTOR) as usize];
        head[..512].copy_from_slice(&header.to_kdmv_bytes());
        if desc.len() as u64 > DESCRIPTOR_SECTORS * SECTOR {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "the descriptor is too long",
            ));
        }
        head[512..512 + desc.len()].copy_from_slice(desc.as_bytes());
        write_all(&mut out, &head)?;
        Ok(Self {
            out,
            pos: head.len() as u64,
            capacity,
            grains,
            next: 0,
            gd: vec![0; gd_entries as usize],
            gt: vec![0; GTES_PER_GT as usize],
            gt_index: 0,
            gt_dirty: false,
            header,
            compressor: GrainCompressor::new(opts.level),
            record: Vec::new(),
        })
    }

    /// Number of grains of the disk.
    pub fn grains(&self) -> u64 {
        self.grains
    }

    /// Bytes the last grain holds (a full grain unless the size is not a
    /// multiple of the grain size).
    pub fn grain_len(&self, index: u64) -> u64 {
        GRAIN_BYTES.min(self.capacity * SECTOR - index * GRAIN_BYTES)
    }

    /// Compress and write grain `index`; indexes must increase. All-zero
    /// grains are skipped (they read as zero).
    pub fn write_grain(&mut self, index: u64, data: &[u8]) -> Result<()> {
        self.check_index(index, data.len() as u64)?;
        if data.iter().all(|&b| b == 0) {
            self.next = index + 1;
            return Ok(());
        }
        let mut record = std::mem::take(&mut self.record);
        let r = self
            .compressor
            .compress(index, data, &mut record)
            .and_then(|()| self.write_compressed_grain(index, &record));
        self.record = record;
        r
    }

    /// Write a grain record made by [`GrainCompressor::compress`] for the
    /// same `index`; indexes must increase.
    pub fn write_compressed_grain(&mut self, index: u64, record: &[u8]) -> Result<()> {
        self.check_index(index, 0)?;
        if record.len() < 12 || !(record.len() as u64).is_multiple_of(SECTOR) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the record for grain {index} is not a sector-padded grain record"),
            ));
        }
        let t = index / GTES_PER_GT;
        if t != self.gt_index {
            self.flush_gt()?;
            self.gt_index = t;
        }
        let sector = u32::try_from(self.pos / SECTOR).map_err(|_| {
            Error::new(
                ErrorKind::Limit,
                "the stream is larger than the 2 TiB a grain table can address",
            )
        })?;
        self.gt[(index % GTES_PER_GT) as usize] = sector;
        self.gt_dirty = true;
        write_all(&mut self.out, record)?;
        self.pos += record.len() as u64;
        self.next = index + 1;
        Ok(())
    }

    fn check_index(&self, index: u64, len: u64) -> Result<()> {
        if index < self.next || index >= self.grains {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "grain {index} is out of order or out of range (next allowed {}, grains {})",
                    self.next, self.grains
                ),
            ));
        }
        if len != 0 && len != GRAIN_BYTES && len != self.grain_len(index) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "grain {index} has {len} bytes, expected {}",
                    self.grain_len(index)
                ),
            ));
        }
        Ok(())
    }

    fn marker(&mut self, sectors: u64, kind: u32) -> Result<()> {
        let mut m = [0u8; 512];
        m[0..8].copy_from_slice(&sectors.to_le_bytes());
        m[12..16].copy_from_slice(&kind.to_le_bytes());
        write_all(&mut self.out, &m)?;
        self.pos += SECTOR;
        Ok(())
    }

    fn flush_gt(&mut self) -> Result<()> {
        if !self.gt_dirty {
            return Ok(());
        }
        let bytes = GTES_PER_GT * 4;
        self.marker(bytes / SECTOR, MARKER_GT)?;
        self.gd[self.gt_index as usize] = (self.pos / SECTOR) as u32;
        let raw: Vec<u8> = self.gt.iter().flat_map(|e| e.to_le_bytes()).collect();
        write_all(&mut self.out, &raw)?;
        self.pos += bytes;
        self.gt.fill(0);
        self.gt_dirty = false;
        Ok(())
    }

    /// Write the last grain table, the grain directory, the footer and the
    /// end-of-stream marker; returns the sink (flushed).
    pub fn finish(mut self) -> Result<W> {
        self.flush_gt()?;
        let mut gd: Vec<u8> = self.gd.iter().flat_map(|e| e.to_le_bytes()).collect();
        gd.resize(gd.len().next_multiple_of(SECTOR as usize), 0);
        self.marker(gd.len() as u64 / SECTOR, MARKER_GD)?;
        let gd_sector = self.pos / SECTOR;
        write_all(&mut self.out, &gd)?;
        self.pos += gd.len() as u64;
        self.marker(1, MARKER_FOOTER)?;
        let mut footer = self.header.clone();
        footer.gd_offset = gd_sector;
        write_all(&mut self.out, &footer.to_kdmv_bytes())?;
        self.pos += SECTOR;
        self.marker(0, MARKER_EOS)?;
        self.out
            .flush()
            .map_err(|e| Error::io("cannot flush the streamOptimized VMDK", e))?;
        Ok(self.out)
    }
}

fn write_all<W: Write>(out: &mut W, b: &[u8]) -> Result<()> {
    out.write_all(b)
        .map_err(|e| Error::io("cannot write the streamOptimized VMDK", e))
}

fn descriptor_text(capacity: u64, o: &StreamVmdkOptions) -> String {
    let cid = o.cid.unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        (t as u32) ^ (capacity as u32).rotate_left(13)
    });
    let cylinders = (capacity / (255 * 63)).clamp(1, 65535);
    format!(
        "# Disk DescriptorFile\nversion=1\nCID={cid:08x}\nparentCID=ffffffff\ncreateType=\"streamOptimized\"\n\n\
         # Extent description\nRW {capacity} SPARSE \"{name}\"\n\n\
         # The Disk Data Base\n#DDB\n\n\
         ddb.adapterType = \"{adapter}\"\nddb.geometry.cylinders = \"{cylinders}\"\n\
         ddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n\
         ddb.virtualHWVersion = \"{hw}\"\n",
        name = o.file_name,
        adapter = o.adapter_type,
        hw = o.hw_version,
    )
}
