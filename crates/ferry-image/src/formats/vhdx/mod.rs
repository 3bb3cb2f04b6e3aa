//! VHDX: fixed and dynamic disks, with log replay. The active header (two
//! copies, CRC-32C verified, highest sequence number wins) names the log;
//! pending log entries are replayed into an in-memory overlay before the
//! region table, metadata and BAT are read. Differencing VHDX disks are
//! refused with a clear error.
//!
//! Spec: Microsoft [MS-VHDX].
pub mod crc;
pub mod fuzz;
pub mod header;
pub mod log;

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, ExtentKind, Image, ImageInfo};
use crate::open::OpenOptions;
use crate::storage::Storage;

use header::le_u64;

/// Most payload blocks accepted (8 Mi entries, 64 MiB of table).
pub const MAX_BLOCKS: u64 = 8 << 20;

const NOT_PRESENT: u8 = 0;
const UNDEFINED: u8 = 1;
const ZERO: u8 = 2;
const UNMAPPED: u8 = 3;
const UNMAPPED_QEMU: u8 = 5;
const FULLY_PRESENT: u8 = 6;
const PARTIALLY_PRESENT: u8 = 7;

/// A VHDX opened for reading.
pub struct VhdxImage {
    storage: Arc<dyn Storage>,
    /// Per payload block: the BAT entry (state in the low 3 bits).
    bat: Vec<u64>,
    block: u64,
    size: u64,
    info: ImageInfo,
}

/// True when `head` starts with the VHDX file signature.
pub fn probe(head: &[u8]) -> bool {
    head.starts_with(header::FILE_SIGNATURE)
}

/// Open the VHDX in `storage` (read from `path`).
pub fn open(
    storage: Arc<dyn Storage>,
    path: &Path,
    _opts: &OpenOptions,
    _depth: u32,
) -> Result<Arc<dyn Image>> {
    open_vhdx(storage)
        .map(|i| Arc::new(i) as Arc<dyn Image>)
        .map_err(|e| e.within(path.display()))
}

fn open_vhdx(file: Arc<dyn Storage>) -> Result<VhdxImage> {
    let file_size = file.size();
    if file_size < 1 << 20 {
        return Err(Error::corrupt(format!(
            "the file is {file_size} bytes, too small for a VHDX"
        )));
    }
    let hdr = header::read_header(file.as_ref())?;
    let replayed = hdr.log_guid != [0u8; 16];
    let storage = log::replay(file, &hdr)?;
    let (bat_region, meta_region) = header::read_regions(storage.as_ref())?;
    let meta = header::read_metadata(storage.as_ref(), meta_region)?;
    if meta.has_parent {
        return Err(Error::unsupported(
            "differencing VHDX disks are not supported; merge the disk into its parent first \
             (Hyper-V: Edit Disk > Merge, or Merge-VHD) and convert the merged disk",
        ));
    }
    let block = u64::from(meta.block_size);
    let size = meta.virtual_size;
    let blocks = size.div_ceil(block);
    if blocks > MAX_BLOCKS {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("the disk has {blocks} blocks, more than the limit of {MAX_BLOCKS}"),
        ));
    }
    let chunk_ratio = (1u64 << 23) * u64::from(meta.logical_sector) / block;
    let entries = blocks + (blocks - 1) / chunk_ratio;
    let bat_bytes = entries * 8;
    if u64::from(bat_region.length) < bat_bytes
        || bat_region
            .offset
            .checked_add(bat_bytes)
            .is_none_or(|e| e > storage.size())
    {
        return Err(Error::corrupt(format!(
            "the BAT region ({} bytes at offset {}) cannot hold the {entries} entries the disk needs",
            bat_region.length, bat_region.offset
        )));
    }
    let mut raw = vec![0u8; bat_bytes as usize];
    storage.read_at(&mut raw, bat_region.offset)?;
    let mut bat = Vec::with_capacity(blocks as usize);
    let ssize = storage.size();
    for i in 0..blocks {
        let e = le_u64(&raw, ((i + i / chunk_ratio) * 8) as usize);
        match (e & 7) as u8 {
            NOT_PRESENT | UNDEFINED | ZERO | UNMAPPED | UNMAPPED_QEMU => {}
            FULLY_PRESENT => {
                let off = (e >> 20) << 20;
                let need = block.min(size - i * block);
                if off < 1 << 20 || off.checked_add(need).is_none_or(|end| end > ssize) {
                    return Err(Error::corrupt(format!(
                        "payload block {i} at offset {off} is outside the file ({ssize} bytes)"
                    )));
                }
            }
            PARTIALLY_PRESENT => {
                return Err(Error::corrupt(format!(
                    "payload block {i} is partially present, which only a differencing disk may have"
                )));
            }
            s => {
                return Err(Error::corrupt(format!(
                    "payload block {i} has the invalid state {s}"
                )));
            }
        }
        bat.push(e);
    }
    let info = ImageInfo {
        format: "vhdx".into(),
        subformat: Some(
            if meta.leave_allocated {
                "fixed"
            } else {
                "dynamic"
            }
            .into(),
        ),
        virtual_size: size,
        actual_size: Some(file_size),
        cluster_size: Some(block),
        backing_chain: Vec::new(),
        extra_files: if replayed {
            vec!["(log replayed in memory)".into()]
        } else {
            Vec::new()
        },
    };
    Ok(VhdxImage {
        storage,
        bat,
        block,
        size,
        info,
    })
}

impl VhdxImage {
    fn kind(&self, b: u64) -> ExtentKind {
        match (self.bat[b as usize] & 7) as u8 {
            FULLY_PRESENT => ExtentKind::Data,
            ZERO => ExtentKind::Zero,
            _ => ExtentKind::Hole,
        }
    }
}

impl Image for VhdxImage {
    fn info(&self) -> ImageInfo {
        self.info.clone()
    }

    fn virtual_size(&self) -> u64 {
        self.size
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let end = offset.saturating_add(len).min(self.size);
        let mut out: Vec<Extent> = Vec::new();
        let mut pos = offset;
        while pos < end {
            let b = pos / self.block;
            let next = ((b + 1) * self.block).min(end);
            let kind = self.kind(b);
            match out.last_mut() {
                Some(l) if l.kind == kind && l.offset + l.length == pos => l.length += next - pos,
                _ => out.push(Extent {
                    offset: pos,
                    length: next - pos,
                    kind,
                }),
            }
            pos = next;
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
                    "read of {} bytes at offset {offset} is past the end of the VHDX ({} bytes)",
                    buf.len(),
                    self.size
                ),
            ));
        }
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (b, in_b) = (pos / self.block, pos % self.block);
            let n = ((self.block - in_b) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            let e = self.bat[b as usize];
            if (e & 7) as u8 == FULLY_PRESENT {
                self.storage.read_at(dst, ((e >> 20) << 20) + in_b)?;
            } else {
                dst.fill(0);
            }
            done += n;
        }
        Ok(())
    }

    fn granularity(&self) -> u64 {
        self.block.min(4 << 20)
    }
}
