//! VHDX metadata structures (little-endian): the two headers (the valid one
//! with the higher sequence number wins), the region table (BAT and
//! metadata regions) and the metadata items. Every checksum is verified.
use crate::error::{Error, ErrorKind, Result};
use crate::storage::Storage;

use super::crc::crc32c_skip;

/// File type identifier signature.
pub const FILE_SIGNATURE: &[u8; 8] = b"vhdxfile";
const HEADER_SIG: u32 = u32::from_le_bytes(*b"head");
const REGION_SIG: u32 = u32::from_le_bytes(*b"regi");
const KIB: u64 = 1024;
/// Largest virtual disk (the format's limit).
pub const MAX_VIRTUAL_SIZE: u64 = 64 << 40;

pub(crate) fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

pub(crate) fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// A GUID in its on-disk byte order (first three fields little-endian).
pub type Guid = [u8; 16];

/// Build the on-disk bytes of GUID `d1-d2-d3-d4`.
pub const fn guid(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Guid {
    let a = d1.to_le_bytes();
    let b = d2.to_le_bytes();
    let c = d3.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4], d4[5],
        d4[6], d4[7],
    ]
}

/// Region: block allocation table.
pub const REGION_BAT: Guid = guid(
    0x2DC2_7766,
    0xF623,
    0x4200,
    [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08],
);
/// Region: metadata.
pub const REGION_METADATA: Guid = guid(
    0x8B7C_A206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);
/// Metadata: file parameters.
pub const META_FILE_PARAMS: Guid = guid(
    0xCAA1_6737,
    0xFA36,
    0x4D43,
    [0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B],
);
/// Metadata: virtual disk size.
pub const META_DISK_SIZE: Guid = guid(
    0x2FA5_4224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);
/// Metadata: page 83 data.
pub const META_PAGE83: Guid = guid(
    0xBECA_12AB,
    0xB2E6,
    0x4523,
    [0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46],
);
/// Metadata: logical sector size.
pub const META_LOGICAL_SECTOR: Guid = guid(
    0x8141_BF1D,
    0xA96F,
    0x4709,
    [0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F],
);
/// Metadata: physical sector size.
pub const META_PHYSICAL_SECTOR: Guid = guid(
    0xCDA3_48C7,
    0x445D,
    0x4471,
    [0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56],
);
/// Metadata: parent locator.
pub const META_PARENT_LOCATOR: Guid = guid(
    0xA8D3_5F2D,
    0xB30B,
    0x454D,
    [0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C],
);

/// The active header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Sequence number.
    pub sequence: u64,
    /// Log GUID; all zero when there is no log to replay.
    pub log_guid: Guid,
    /// Log length in bytes.
    pub log_length: u32,
    /// Log offset in bytes.
    pub log_offset: u64,
}

fn parse_header(b: &[u8]) -> Result<Header> {
    if le_u32(b, 0) != HEADER_SIG {
        return Err(Error::corrupt("the header has no 'head' signature"));
    }
    let stored = le_u32(b, 4);
    let computed = crc32c_skip(&b[..4096], 4);
    if stored != computed {
        return Err(Error::corrupt(format!(
            "the header checksum is {stored:#010x} but its CRC-32C is {computed:#010x}"
        )));
    }
    let version = le_u16(b, 66);
    if version != 1 {
        return Err(Error::unsupported(format!(
            "VHDX version {version} is not supported (only 1 is)"
        )));
    }
    let mut log_guid = [0u8; 16];
    log_guid.copy_from_slice(&b[48..64]);
    Ok(Header {
        sequence: le_u64(b, 8),
        log_guid,
        log_length: le_u32(b, 68),
        log_offset: le_u64(b, 72),
    })
}

/// Read both headers and return the valid one with the higher sequence
/// number.
pub fn read_header(storage: &dyn Storage) -> Result<Header> {
    let mut id = [0u8; 8];
    storage.read_at(&mut id, 0)?;
    if &id != FILE_SIGNATURE {
        return Err(Error::corrupt("the file has no 'vhdxfile' signature"));
    }
    let mut b = vec![0u8; 4096];
    let mut found: Vec<Header> = Vec::new();
    let mut errors = Vec::new();
    for (n, off) in [(1, 64 * KIB), (2, 128 * KIB)] {
        storage.read_at(&mut b, off)?;
        match parse_header(&b) {
            Ok(h) => found.push(h),
            Err(e) => errors.push(format!("header {n}: {e}")),
        }
    }
    found
        .into_iter()
        .max_by_key(|h| h.sequence)
        .ok_or_else(|| Error::corrupt(format!("no valid VHDX header ({})", errors.join("; "))))
}

/// A region's place in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Byte offset.
    pub offset: u64,
    /// Length in bytes.
    pub length: u32,
}

/// Read the region table (either copy) and return the BAT and metadata
/// regions.
pub fn read_regions(storage: &dyn Storage) -> Result<(Region, Region)> {
    let mut b = vec![0u8; 64 * 1024];
    let mut last = None;
    for off in [192 * KIB, 256 * KIB] {
        storage.read_at(&mut b, off)?;
        match parse_regions(&b) {
            Ok(r) => return Ok(r),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| Error::corrupt("no region table"))
        .within("both region tables are invalid"))
}

fn parse_regions(b: &[u8]) -> Result<(Region, Region)> {
    if le_u32(b, 0) != REGION_SIG {
        return Err(Error::corrupt("no 'regi' signature"));
    }
    let stored = le_u32(b, 4);
    let computed = crc32c_skip(b, 4);
    if stored != computed {
        return Err(Error::corrupt(format!(
            "the region table checksum is {stored:#010x} but its CRC-32C is {computed:#010x}"
        )));
    }
    let count = le_u32(b, 8);
    if count > 2047 {
        return Err(Error::corrupt(format!(
            "the region table has {count} entries (at most 2047)"
        )));
    }
    let (mut bat, mut meta) = (None, None);
    for i in 0..count as usize {
        let at = 16 + i * 32;
        let id = &b[at..at + 16];
        let r = Region {
            offset: le_u64(b, at + 16),
            length: le_u32(b, at + 24),
        };
        let required = le_u32(b, at + 28) & 1 != 0;
        if id == REGION_BAT {
            bat = Some(r);
        } else if id == REGION_METADATA {
            meta = Some(r);
        } else if required {
            return Err(Error::unsupported(
                "the region table has a required region ferry does not know",
            ));
        }
    }
    match (bat, meta) {
        (Some(b), Some(m)) => Ok((b, m)),
        _ => Err(Error::corrupt(
            "the region table lacks the BAT or the metadata region",
        )),
    }
}

/// The virtual disk's parameters from the metadata region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Payload block size in bytes.
    pub block_size: u32,
    /// Blocks stay allocated (a fixed VHDX).
    pub leave_allocated: bool,
    /// The disk is a differencing disk.
    pub has_parent: bool,
    /// Virtual size in bytes.
    pub virtual_size: u64,
    /// Logical sector size (512 or 4096).
    pub logical_sector: u32,
}

/// Parse the metadata region.
pub fn read_metadata(storage: &dyn Storage, region: Region) -> Result<Metadata> {
    let len = u64::from(region.length).min(64 * KIB);
    if len < 32
        || region
            .offset
            .checked_add(u64::from(region.length))
            .is_none_or(|e| e > storage.size())
    {
        return Err(Error::corrupt(
            "the metadata region is out of the file's bounds",
        ));
    }
    let mut t = vec![0u8; len as usize];
    storage.read_at(&mut t, region.offset)?;
    if &t[0..8] != b"metadata" {
        return Err(Error::corrupt(
            "the metadata table has no 'metadata' signature",
        ));
    }
    let count = usize::from(le_u16(&t, 10));
    if count > 2047 || 32 + count * 32 > t.len() {
        return Err(Error::corrupt(format!(
            "the metadata table has {count} entries, too many"
        )));
    }
    let item = |id: &Guid, want: usize| -> Result<Option<Vec<u8>>> {
        for i in 0..count {
            let at = 32 + i * 32;
            if &t[at..at + 16] != id {
                continue;
            }
            let (off, l) = (le_u32(&t, at + 16), le_u32(&t, at + 20));
            if (l as usize) < want
                || l > 1 << 20
                || off.checked_add(l).is_none_or(|e| e > region.length)
            {
                return Err(Error::corrupt(format!(
                    "metadata item {i} has a bad offset or length"
                )));
            }
            let mut v = vec![0u8; want];
            storage.read_at(&mut v, region.offset + u64::from(off))?;
            return Ok(Some(v));
        }
        Ok(None)
    };
    let need = |v: Option<Vec<u8>>, what: &str| {
        v.ok_or_else(|| Error::corrupt(format!("the metadata has no {what} item")))
    };
    let params = need(item(&META_FILE_PARAMS, 8)?, "file parameters")?;
    let size = need(item(&META_DISK_SIZE, 8)?, "virtual disk size")?;
    let sector = need(item(&META_LOGICAL_SECTOR, 4)?, "logical sector size")?;
    // Unknown required items make the file unreadable for us.
    let known = [
        META_FILE_PARAMS,
        META_DISK_SIZE,
        META_PAGE83,
        META_LOGICAL_SECTOR,
        META_PHYSICAL_SECTOR,
        META_PARENT_LOCATOR,
    ];
    for i in 0..count {
        let at = 32 + i * 32;
        let required = le_u32(&t, at + 24) & 4 != 0;
        if required && !known.iter().any(|k| t[at..at + 16] == *k) {
            return Err(Error::unsupported(format!(
                "metadata item {i} is required but unknown to ferry"
            )));
        }
    }
    let flags = le_u32(&params, 4);
    let m = Metadata {
        block_size: le_u32(&params, 0),
        leave_allocated: flags & 1 != 0,
        has_parent: flags & 2 != 0,
        virtual_size: le_u64(&size, 0),
        logical_sector: le_u32(&sector, 0),
    };
    if !m.block_size.is_power_of_two() || !(1 << 20..=256 << 20).contains(&m.block_size) {
        return Err(Error::corrupt(format!(
            "the block size of {} bytes is invalid (a power of two, 1 MiB to 256 MiB)",
            m.block_size
        )));
    }
    if m.logical_sector != 512 && m.logical_sector != 4096 {
        return Err(Error::corrupt(format!(
            "the logical sector size of {} bytes is invalid (512 or 4096)",
            m.logical_sector
        )));
    }
    if m.virtual_size == 0 || m.virtual_size > MAX_VIRTUAL_SIZE {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "the virtual size of {} bytes is out of range (1 byte to 64 TiB)",
                m.virtual_size
            ),
        ));
    }
    Ok(m)
}
