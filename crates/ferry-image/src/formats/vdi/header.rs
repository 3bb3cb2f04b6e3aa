//! The VDI header (version 1.1, the only one VirtualBox has written since
//! 2008): image type, block map and data offsets, disk and block sizes.
//! Every field is validated before use.
use crate::error::{Error, ErrorKind, Result};

/// The signature at offset 0x40, little-endian.
pub const SIGNATURE: u32 = 0xbeda_107f;
/// Header version 1.1 (major in the high half).
pub const VERSION_1_1: u32 = 0x0001_0001;
/// `u32Type`: dynamically allocated ("normal").
pub const TYPE_DYNAMIC: u32 = 1;
/// `u32Type`: preallocated ("fixed", qemu's `static=on`).
pub const TYPE_STATIC: u32 = 2;
/// `u32Type`: undo disk.
pub const TYPE_UNDO: u32 = 3;
/// `u32Type`: differencing disk (a snapshot delta).
pub const TYPE_DIFF: u32 = 4;
/// Bytes of the fixed header read at open.
pub const HEADER_BYTES: usize = 0x200;
/// Largest virtual size accepted (1 PiB).
pub const MAX_DISK_SIZE: u64 = 1 << 50;
/// Smallest and largest block sizes accepted (VirtualBox uses 1 MiB).
pub const MIN_BLOCK: u32 = 4096;
/// See [`MIN_BLOCK`].
pub const MAX_BLOCK: u32 = 64 << 20;

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from(le_u32(b, at)) | (u64::from(le_u32(b, at + 4)) << 32)
}

/// The validated layout facts of a VDI header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VdiHeader {
    /// [`TYPE_DYNAMIC`] or [`TYPE_STATIC`].
    pub image_type: u32,
    /// Byte offset of the block map.
    pub blocks_offset: u64,
    /// Byte offset of the first data block.
    pub data_offset: u64,
    /// Guest size in bytes.
    pub disk_size: u64,
    /// Block size in bytes.
    pub block_size: u64,
    /// Entries in the block map.
    pub blocks: u64,
    /// Blocks the header says are allocated.
    pub blocks_allocated: u64,
}

impl VdiHeader {
    /// Parse and check the first [`HEADER_BYTES`] of a file.
    pub fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < HEADER_BYTES || le_u32(b, 0x40) != SIGNATURE {
            return Err(Error::corrupt("the file has no VDI signature"));
        }
        let version = le_u32(b, 0x44);
        if version != VERSION_1_1 {
            return Err(Error::unsupported(format!(
                "VDI header version {}.{} is not supported (only 1.1); convert the disk with \
                 `VBoxManage clonemedium` or `qemu-img convert -f vdi` first",
                version >> 16,
                version & 0xffff
            )));
        }
        let image_type = le_u32(b, 0x4c);
        match image_type {
            TYPE_DYNAMIC | TYPE_STATIC => {}
            TYPE_UNDO | TYPE_DIFF => {
                return Err(Error::unsupported(
                    "the VDI is a differencing (snapshot) disk; merge the snapshots in VirtualBox \
                     (or clone the current state with `VBoxManage clonemedium`) and convert the result",
                ));
            }
            t => {
                return Err(Error::corrupt(format!("the VDI image type {t} is unknown")));
            }
        }
        let sector_size = le_u32(b, 0x168);
        if sector_size != 512 {
            return Err(Error::unsupported(format!(
                "the VDI sector size is {sector_size}; only 512 is supported"
            )));
        }
        let block_size = le_u32(b, 0x178);
        if !block_size.is_power_of_two() || !(MIN_BLOCK..=MAX_BLOCK).contains(&block_size) {
            return Err(Error::corrupt(format!(
                "the VDI block size {block_size} is not a power of two between {MIN_BLOCK} and {MAX_BLOCK}"
            )));
        }
        let block_extra = le_u32(b, 0x17c);
        if block_extra != 0 {
            return Err(Error::unsupported(format!(
                "the VDI has {block_extra} extra bytes per block, which ferry does not read"
            )));
        }
        let h = Self {
            image_type,
            blocks_offset: u64::from(le_u32(b, 0x154)),
            data_offset: u64::from(le_u32(b, 0x158)),
            disk_size: le_u64(b, 0x170),
            block_size: u64::from(block_size),
            blocks: u64::from(le_u32(b, 0x180)),
            blocks_allocated: u64::from(le_u32(b, 0x184)),
        };
        if h.disk_size > MAX_DISK_SIZE {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "the VDI disk size {} is more than the 1 PiB limit",
                    h.disk_size
                ),
            ));
        }
        if h.disk_size > h.blocks * h.block_size {
            return Err(Error::corrupt(format!(
                "the VDI disk size {} is larger than its {} blocks of {} bytes",
                h.disk_size, h.blocks, h.block_size
            )));
        }
        if h.blocks_allocated > h.blocks {
            return Err(Error::corrupt(format!(
                "the VDI header says {} blocks are allocated, more than its {} blocks",
                h.blocks_allocated, h.blocks
            )));
        }
        if h.blocks_offset < 0x180 || h.data_offset < h.blocks_offset + h.blocks * 4 {
            return Err(Error::corrupt(format!(
                "the VDI block map ({} entries at byte {}) overlaps the header or the data at byte {}",
                h.blocks, h.blocks_offset, h.data_offset
            )));
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid dynamic header for an 8 MiB disk.
    pub fn sample() -> Vec<u8> {
        let mut b = vec![0u8; HEADER_BYTES];
        let put =
            |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(&mut b, 0x40, SIGNATURE);
        put(&mut b, 0x44, VERSION_1_1);
        put(&mut b, 0x48, 0x190);
        put(&mut b, 0x4c, TYPE_DYNAMIC);
        put(&mut b, 0x154, 0x200);
        put(&mut b, 0x158, 0x400);
        put(&mut b, 0x168, 512);
        put(&mut b, 0x170, 8 << 20);
        put(&mut b, 0x178, 1 << 20);
        put(&mut b, 0x180, 8);
        b
    }

    #[test]
    fn sample_parses() {
        let h = VdiHeader::parse(&sample()).unwrap();
        assert_eq!(h.disk_size, 8 << 20);
        assert_eq!(h.blocks, 8);
        assert_eq!(h.data_offset, 0x400);
    }

    #[test]
    fn bad_fields_are_refused() {
        let cases: [(usize, u32, ErrorKind); 8] = [
            (0x44, 0x0001_0000, ErrorKind::Unsupported),
            (0x4c, TYPE_DIFF, ErrorKind::Unsupported),
            (0x4c, 9, ErrorKind::Corrupt),
            (0x178, 3000, ErrorKind::Corrupt),
            (0x17c, 512, ErrorKind::Unsupported),
            (0x180, 7, ErrorKind::Corrupt),
            (0x184, 9, ErrorKind::Corrupt),
            (0x158, 0x201, ErrorKind::Corrupt),
        ];
        for (at, v, kind) in cases {
            let mut b = sample();
            b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            let err = VdiHeader::parse(&b).unwrap_err();
            assert_eq!(err.kind(), kind, "{at:#x}: {err}");
        }
        let mut huge = sample();
        huge[0x170..0x178].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert_eq!(
            VdiHeader::parse(&huge).unwrap_err().kind(),
            ErrorKind::Limit
        );
    }
}
