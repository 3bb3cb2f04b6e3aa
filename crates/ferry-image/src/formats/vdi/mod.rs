//! VDI (VirtualBox): dynamic and static (fixed) images, version 1.1. A block
//! map of little-endian u32 entries gives, for each guest block, the index
//! of its data block (data at `offset_data + index * block_size`), or
//! "unallocated" / "zero". Differencing (snapshot) VDIs are refused.
//!
//! Layout facts: VirtualBox `VDICore.h` (`VDIHEADER1`), as qemu's `vdi`
//! driver reads them.
pub mod fuzz;
pub mod header;

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, ExtentKind, Image, ImageInfo};
use crate::open::OpenOptions;
use crate::storage::Storage;

use header::{HEADER_BYTES, TYPE_STATIC, VdiHeader};

/// Most block-map entries read (64 MiB of map: 16 TiB at 1 MiB blocks).
pub const MAX_BLOCKS: u64 = 16 << 20;
/// Block-map entry: never written (reads as zero).
const UNALLOCATED: u32 = u32::MAX;
/// Block-map entry: discarded, reads as zero.
const DISCARDED: u32 = u32::MAX - 1;

/// A VDI opened for reading.
pub struct VdiImage {
    storage: Arc<dyn Storage>,
    map: Vec<u32>,
    header: VdiHeader,
    info: ImageInfo,
}

/// Open the VDI in `storage` (read from `path`, named in errors).
pub fn open(
    storage: Arc<dyn Storage>,
    path: &Path,
    _opts: &OpenOptions,
    _depth: u32,
) -> Result<Arc<dyn Image>> {
    open_vdi(storage)
        .map(|i| Arc::new(i) as Arc<dyn Image>)
        .map_err(|e| e.within(path.display()))
}

fn open_vdi(storage: Arc<dyn Storage>) -> Result<VdiImage> {
    let file_size = storage.size();
    if file_size < HEADER_BYTES as u64 {
        return Err(Error::corrupt(format!(
            "the file is {file_size} bytes, too small for a VDI header; it is truncated"
        )));
    }
    let mut hb = vec![0u8; HEADER_BYTES];
    storage.read_at(&mut hb, 0)?;
    let h = VdiHeader::parse(&hb)?;
    let needed = h.disk_size.div_ceil(h.block_size);
    if needed > MAX_BLOCKS {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "the VDI block map needs {needed} entries, more than the limit of {MAX_BLOCKS}"
            ),
        ));
    }
    let map_bytes = needed * 4;
    if h.blocks_offset + map_bytes > file_size {
        return Err(Error::corrupt(format!(
            "the VDI block map at byte {} ({map_bytes} bytes) is past the end of the file ({file_size} bytes); the file is truncated",
            h.blocks_offset
        )));
    }
    let mut raw = vec![0u8; map_bytes as usize];
    storage.read_at(&mut raw, h.blocks_offset)?;
    let map: Vec<u32> = raw
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    for (b, &e) in map.iter().enumerate() {
        if e == UNALLOCATED || e == DISCARDED {
            continue;
        }
        let start = h.data_offset + u64::from(e) * h.block_size;
        let need = (h.disk_size - b as u64 * h.block_size).min(h.block_size);
        if u64::from(e) >= h.blocks || start + need > file_size {
            return Err(Error::corrupt(format!(
                "block {b} maps to data block {e} (byte {start}), past the end of the file ({file_size} bytes) or of the image's {} blocks; the file is truncated or damaged",
                h.blocks
            )));
        }
    }
    let info = ImageInfo {
        format: "vdi".into(),
        subformat: Some(
            if h.image_type == TYPE_STATIC {
                "static"
            } else {
                "dynamic"
            }
            .into(),
        ),
        virtual_size: h.disk_size,
        actual_size: Some(file_size),
        cluster_size: Some(h.block_size),
        ..ImageInfo::default()
    };
    Ok(VdiImage {
        storage,
        map,
        header: h,
        info,
    })
}

impl VdiImage {
    /// Host offset of guest block `b`, or `None` when it reads as zero.
    fn host(&self, b: u64) -> Option<u64> {
        match self.map[b as usize] {
            UNALLOCATED | DISCARDED => None,
            e => Some(self.header.data_offset + u64::from(e) * self.header.block_size),
        }
    }

    fn kind(&self, b: u64) -> ExtentKind {
        match self.map[b as usize] {
            UNALLOCATED => ExtentKind::Hole,
            DISCARDED => ExtentKind::Zero,
            _ => ExtentKind::Data,
        }
    }
}

impl Image for VdiImage {
    fn info(&self) -> ImageInfo {
        self.info.clone()
    }

    fn virtual_size(&self) -> u64 {
        self.header.disk_size
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let end = offset.saturating_add(len).min(self.header.disk_size);
        let block = self.header.block_size;
        let mut out: Vec<Extent> = Vec::new();
        let mut pos = offset;
        while pos < end {
            let n = (block - pos % block).min(end - pos);
            let kind = self.kind(pos / block);
            match out.last_mut() {
                Some(last) if last.kind == kind && last.offset + last.length == pos => {
                    last.length += n
                }
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

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let size = self.header.disk_size;
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > size)
        {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {} bytes at offset {offset} is past the end of the VDI ({size} bytes)",
                    buf.len()
                ),
            ));
        }
        let block = self.header.block_size;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let n = ((block - pos % block) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match self.host(pos / block) {
                Some(host) => self.storage.read_at(dst, host + pos % block)?,
                None => dst.fill(0),
            }
            done += n;
        }
        Ok(())
    }

    fn granularity(&self) -> u64 {
        self.header.block_size
    }
}
