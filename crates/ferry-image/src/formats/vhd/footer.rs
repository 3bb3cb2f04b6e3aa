//! VHD on-disk structures (big-endian): the 512-byte footer (`conectix`)
//! and the 1024-byte dynamic disk header (`cxsparse`) with its parent
//! locators. Both carry a one's-complement checksum that is verified.
use crate::error::{Error, Result};

/// Footer cookie.
pub const COOKIE: &[u8; 8] = b"conectix";
/// Dynamic header cookie.
pub const DYN_COOKIE: &[u8; 8] = b"cxsparse";
/// Disk type: fixed.
pub const TYPE_FIXED: u32 = 2;
/// Disk type: dynamic.
pub const TYPE_DYNAMIC: u32 = 3;
/// Disk type: differencing.
pub const TYPE_DIFFERENCING: u32 = 4;
/// Largest CHS geometry; a footer with it means "use current_size".
const MAX_CHS_SECTORS: u64 = 65535 * 16 * 255;
/// Largest virtual size accepted (2040 GiB is the format's limit; allow up
/// to 64 TiB for tools that ignore it).
pub const MAX_VIRTUAL_SIZE: u64 = 64 << 40;

pub(crate) fn be_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(a)
}

pub(crate) fn be_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

/// One's complement of the byte sum, with the checksum field (4 bytes at
/// `field`) counted as zero.
pub fn checksum(b: &[u8], field: usize) -> u32 {
    let sum = b
        .iter()
        .enumerate()
        .filter(|(i, _)| !(field..field + 4).contains(i))
        .fold(0u32, |acc, (_, &x)| acc.wrapping_add(u32::from(x)));
    !sum
}

/// The parsed footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    /// Offset of the dynamic header (dynamic and differencing disks).
    pub data_offset: u64,
    /// Creator application, 4 characters.
    pub creator_app: [u8; 4],
    /// `current_size` in bytes.
    pub current_size: u64,
    /// Cylinders, heads, sectors per track.
    pub geometry: (u16, u8, u8),
    /// Disk type.
    pub disk_type: u32,
    /// Unique id.
    pub unique_id: [u8; 16],
}

impl Footer {
    /// Parse and verify a footer.
    pub fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < 512 || &b[0..8] != COOKIE {
            return Err(Error::corrupt("the VHD footer has no conectix cookie"));
        }
        let stored = be_u32(b, 64);
        let computed = checksum(&b[..512], 64);
        if stored != computed {
            return Err(Error::corrupt(format!(
                "the VHD footer checksum is {stored:#010x} but the footer sums to {computed:#010x}; the file is damaged"
            )));
        }
        let mut creator_app = [0u8; 4];
        creator_app.copy_from_slice(&b[28..32]);
        let mut unique_id = [0u8; 16];
        unique_id.copy_from_slice(&b[68..84]);
        let f = Self {
            data_offset: be_u64(b, 16),
            creator_app,
            current_size: be_u64(b, 48),
            geometry: (u16::from_be_bytes([b[56], b[57]]), b[58], b[59]),
            disk_type: be_u32(b, 60),
            unique_id,
        };
        if !matches!(f.disk_type, TYPE_FIXED | TYPE_DYNAMIC | TYPE_DIFFERENCING) {
            return Err(Error::unsupported(format!(
                "VHD disk type {} is not supported (2 fixed, 3 dynamic, 4 differencing are)",
                f.disk_type
            )));
        }
        Ok(f)
    }

    /// The guest size, as qemu computes it: from the CHS geometry for
    /// creators that size disks by geometry (Virtual PC, old qemu), else
    /// `current_size`.
    pub fn virtual_size(&self) -> Result<u64> {
        let by_size = [b"win ", b"qem2", b"d2v ", b"CTXS", b"tap\0"]
            .iter()
            .any(|c| **c == self.creator_app);
        let (c, h, s) = self.geometry;
        let chs = u64::from(c) * u64::from(h) * u64::from(s);
        let size = if by_size || chs == MAX_CHS_SECTORS || chs == 0 {
            self.current_size
        } else {
            chs * 512
        };
        if size == 0 || size > MAX_VIRTUAL_SIZE {
            return Err(Error::new(
                crate::ErrorKind::Limit,
                format!(
                    "the VHD's virtual size of {size} bytes is out of range (1 byte to 64 TiB)"
                ),
            ));
        }
        Ok(size)
    }
}

/// A parent locator entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locator {
    /// Platform code (`W2ru`, `W2ku`, `MacX`, ...).
    pub code: [u8; 4],
    /// Bytes of locator data.
    pub len: u32,
    /// File offset of the data.
    pub offset: u64,
}

/// The parsed dynamic disk header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynHeader {
    /// BAT file offset.
    pub table_offset: u64,
    /// BAT entries.
    pub max_table_entries: u32,
    /// Block size in bytes.
    pub block_size: u32,
    /// Parent's unique id (differencing).
    pub parent_id: [u8; 16],
    /// Parent's name (UTF-16BE in the header).
    pub parent_name: String,
    /// Parent locators with data.
    pub locators: Vec<Locator>,
}

impl DynHeader {
    /// Parse and verify a dynamic disk header.
    pub fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < 1024 || &b[0..8] != DYN_COOKIE {
            return Err(Error::corrupt(
                "the VHD dynamic header has no cxsparse cookie",
            ));
        }
        let stored = be_u32(b, 36);
        let computed = checksum(&b[..1024], 36);
        if stored != computed {
            return Err(Error::corrupt(format!(
                "the VHD dynamic header checksum is {stored:#010x} but the header sums to {computed:#010x}; the file is damaged"
            )));
        }
        let block_size = be_u32(b, 32);
        if !block_size.is_power_of_two() || !(512..=(256 << 20)).contains(&block_size) {
            return Err(Error::corrupt(format!(
                "the VHD block size of {block_size} bytes is invalid (a power of two, 512 B to 256 MiB)"
            )));
        }
        let mut parent_id = [0u8; 16];
        parent_id.copy_from_slice(&b[40..56]);
        let units: Vec<u16> = b[64..576]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        let parent_name = String::from_utf16_lossy(&units);
        let locators = (0..8)
            .map(|i| 576 + i * 24)
            .filter_map(|at| {
                let mut code = [0u8; 4];
                code.copy_from_slice(&b[at..at + 4]);
                let len = be_u32(b, at + 8);
                (code != [0; 4] && len > 0).then(|| Locator {
                    code,
                    len,
                    offset: be_u64(b, at + 16),
                })
            })
            .collect();
        Ok(Self {
            table_offset: be_u64(b, 16),
            max_table_entries: be_u32(b, 28),
            block_size,
            parent_id,
            parent_name,
            locators,
        })
    }

    /// Bytes of the sector bitmap in front of each block.
    pub fn bitmap_bytes(&self) -> u64 {
        (u64::from(self.block_size) / 512)
            .div_ceil(8)
            .next_multiple_of(512)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer(disk_type: u32, creator: &[u8; 4]) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[0..8].copy_from_slice(COOKIE);
        b[28..32].copy_from_slice(creator);
        b[48..56].copy_from_slice(&(10u64 << 20).to_be_bytes());
        b[56..60].copy_from_slice(&[0x01, 0x40, 0x04, 0x11]); // 320*4*17
        b[60..64].copy_from_slice(&disk_type.to_be_bytes());
        let c = checksum(&b, 64);
        b[64..68].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn footer_size_follows_the_creator() {
        let f = Footer::parse(&footer(TYPE_FIXED, b"qemu")).unwrap();
        assert_eq!(f.virtual_size().unwrap(), 320 * 4 * 17 * 512);
        let f = Footer::parse(&footer(TYPE_FIXED, b"win ")).unwrap();
        assert_eq!(f.virtual_size().unwrap(), 10 << 20);
    }

    #[test]
    fn footer_bad_checksum_and_type_are_rejected() {
        let mut b = footer(TYPE_DYNAMIC, b"win ");
        b[100] ^= 1;
        let err = Footer::parse(&b).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        let err = Footer::parse(&footer(7, b"win ")).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unsupported);
        assert!(Footer::parse(&b[..100]).is_err());
    }
}
