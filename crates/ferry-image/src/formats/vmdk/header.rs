//! Binary headers of sparse VMDK extents: the hosted sparse header (`KDMV`,
//! used by monolithicSparse, twoGbMaxExtentSparse and streamOptimized) and
//! the ESX redo-log header (`COWD`, vmfsSparse).
use crate::error::{Error, ErrorKind, Result};

/// `KDMV` as a little-endian u32.
pub const SPARSE_MAGIC: u32 = 0x564d_444b;
/// `COWD` as a little-endian u32.
pub const COWD_MAGIC: u32 = 0x4457_4f43;
/// First 8 bytes of a seSparse constant header, little-endian.
pub const SESPARSE_MAGIC: u64 = 0xcafe_babe;
/// `gdOffset` value meaning "the grain directory is at the end of the
/// stream; read the footer".
pub const GD_AT_END: u64 = u64::MAX;
/// Sector size.
pub const SECTOR: u64 = 512;

/// Header flag: the newline-detection characters are valid.
pub const FLAG_NL_DETECT: u32 = 1;
/// Header flag: a redundant grain directory exists.
pub const FLAG_RGD: u32 = 1 << 1;
/// Header flag: grain table entry 1 means "zero grain".
pub const FLAG_ZERO_GRAIN: u32 = 1 << 2;
/// Header flag: grains are compressed.
pub const FLAG_COMPRESSED: u32 = 1 << 16;
/// Header flag: the stream has markers.
pub const FLAG_MARKERS: u32 = 1 << 17;
/// `compressAlgorithm` value for deflate.
pub const COMPRESS_DEFLATE: u16 = 1;

/// Largest sparse extent capacity accepted (64 TiB, above VMFS's 62 TiB).
pub const MAX_SPARSE_CAPACITY_SECTORS: u64 = (64u64 << 40) / SECTOR;
/// Largest grain accepted (1 MiB).
pub const MAX_GRAIN_SECTORS: u64 = 2048;
/// Most grain-table entries per table accepted.
pub const MAX_GTES_PER_GT: u32 = 4096;

pub(crate) fn le_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[at..at + 2]);
    u16::from_le_bytes(a)
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

/// The layout facts common to both sparse kinds, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparseHeader {
    /// Header version (1-3 for `KDMV`, 1 for `COWD`).
    pub version: u32,
    /// Header flags.
    pub flags: u32,
    /// Capacity in sectors.
    pub capacity: u64,
    /// Grain size in sectors.
    pub grain_sectors: u64,
    /// Embedded descriptor offset and size, in sectors.
    pub descriptor: (u64, u64),
    /// Entries per grain table.
    pub gtes_per_gt: u32,
    /// Redundant grain directory offset, in sectors (0: none).
    pub rgd_offset: u64,
    /// Grain directory offset in sectors, or [`GD_AT_END`].
    pub gd_offset: u64,
    /// Number of grain-directory entries.
    pub gd_entries: u64,
    /// Sectors of metadata before the first grain.
    pub overhead: u64,
    /// `compressAlgorithm`.
    pub compress_algorithm: u16,
    /// True for a `COWD` header (entry 1 is never "zero").
    pub cowd: bool,
}

impl SparseHeader {
    /// Grain size in bytes.
    pub fn grain_bytes(&self) -> u64 {
        self.grain_sectors * SECTOR
    }

    /// Number of grains covering the capacity.
    pub fn grains(&self) -> u64 {
        self.capacity.div_ceil(self.grain_sectors)
    }

    /// True when grains are deflate-compressed with a 12-byte grain marker.
    pub fn compressed(&self) -> bool {
        !self.cowd && self.flags & FLAG_COMPRESSED != 0
    }

    /// True when grain-table entry 1 means a zero grain.
    pub fn zero_grain_gte(&self) -> bool {
        !self.cowd && self.flags & FLAG_ZERO_GRAIN != 0
    }

    /// Parse a `KDMV` header from the first 512 bytes of an extent.
    pub fn parse_kdmv(b: &[u8]) -> Result<Self> {
        if b.len() < SECTOR as usize || le_u32(b, 0) != SPARSE_MAGIC {
            return Err(Error::corrupt("the sparse extent header has no KDMV magic"));
        }
        let h = Self {
            version: le_u32(b, 4),
            flags: le_u32(b, 8),
            capacity: le_u64(b, 12),
            grain_sectors: le_u64(b, 20),
            descriptor: (le_u64(b, 28), le_u64(b, 36)),
            gtes_per_gt: le_u32(b, 44),
            rgd_offset: le_u64(b, 48),
            gd_offset: le_u64(b, 56),
            overhead: le_u64(b, 64),
            compress_algorithm: le_u16(b, 77),
            gd_entries: 0,
            cowd: false,
        };
        if !(1..=3).contains(&h.version) {
            return Err(Error::unsupported(format!(
                "sparse extent header version {} is not supported (1 to 3 are)",
                h.version
            )));
        }
        if h.flags & FLAG_COMPRESSED != 0 && h.compress_algorithm != COMPRESS_DEFLATE {
            return Err(Error::unsupported(format!(
                "compression algorithm {} is not supported (only deflate, 1)",
                h.compress_algorithm
            )));
        }
        h.validated()
    }

    /// Parse a `COWD` (vmfsSparse redo log) header.
    pub fn parse_cowd(b: &[u8]) -> Result<Self> {
        if b.len() < SECTOR as usize || le_u32(b, 0) != COWD_MAGIC {
            return Err(Error::corrupt("the vmfsSparse header has no COWD magic"));
        }
        let h = Self {
            version: le_u32(b, 4),
            flags: le_u32(b, 8),
            capacity: u64::from(le_u32(b, 12)),
            grain_sectors: u64::from(le_u32(b, 16)),
            descriptor: (0, 0),
            gtes_per_gt: 4096,
            rgd_offset: 0,
            gd_offset: u64::from(le_u32(b, 20)),
            gd_entries: u64::from(le_u32(b, 24)),
            overhead: 0,
            compress_algorithm: 0,
            cowd: true,
        };
        if h.version != 1 {
            return Err(Error::unsupported(format!(
                "vmfsSparse (COWD) header version {} is not supported (only 1 is)",
                h.version
            )));
        }
        h.validated()
    }

    fn validated(mut self) -> Result<Self> {
        if self.capacity == 0 {
            return Err(Error::corrupt("the sparse extent's capacity is zero"));
        }
        if self.capacity > MAX_SPARSE_CAPACITY_SECTORS {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "the sparse extent's capacity of {} sectors is more than the 64 TiB limit",
                    self.capacity
                ),
            ));
        }
        if self.grain_sectors == 0
            || self.grain_sectors > MAX_GRAIN_SECTORS
            || !self.grain_sectors.is_power_of_two()
        {
            return Err(Error::corrupt(format!(
                "the grain size of {} sectors is invalid (a power of two up to {MAX_GRAIN_SECTORS})",
                self.grain_sectors
            )));
        }
        if self.gtes_per_gt == 0 || self.gtes_per_gt > MAX_GTES_PER_GT {
            return Err(Error::corrupt(format!(
                "{} entries per grain table is invalid (1 to {MAX_GTES_PER_GT})",
                self.gtes_per_gt
            )));
        }
        let needed = self.grains().div_ceil(u64::from(self.gtes_per_gt));
        if self.cowd && self.gd_entries < needed {
            return Err(Error::corrupt(format!(
                "the grain directory has {} entries, fewer than the {needed} the capacity needs",
                self.gd_entries
            )));
        }
        self.gd_entries = needed;
        Ok(self)
    }

    /// Serialize a `KDMV` header (for the stream writer and tests).
    pub fn to_kdmv_bytes(&self) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[0..4].copy_from_slice(&SPARSE_MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&self.version.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..20].copy_from_slice(&self.capacity.to_le_bytes());
        b[20..28].copy_from_slice(&self.grain_sectors.to_le_bytes());
        b[28..36].copy_from_slice(&self.descriptor.0.to_le_bytes());
        b[36..44].copy_from_slice(&self.descriptor.1.to_le_bytes());
        b[44..48].copy_from_slice(&self.gtes_per_gt.to_le_bytes());
        b[48..56].copy_from_slice(&self.rgd_offset.to_le_bytes());
        b[56..64].copy_from_slice(&self.gd_offset.to_le_bytes());
        b[64..72].copy_from_slice(&self.overhead.to_le_bytes());
        b[72] = 0; // uncleanShutdown
        b[73] = b'\n';
        b[74] = b' ';
        b[75] = b'\r';
        b[76] = b'\n';
        b[77..79].copy_from_slice(&self.compress_algorithm.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SparseHeader {
        SparseHeader {
            version: 3,
            flags: FLAG_NL_DETECT | FLAG_COMPRESSED | FLAG_MARKERS,
            capacity: 2048 * 100 + 7,
            grain_sectors: 128,
            descriptor: (1, 1),
            gtes_per_gt: 512,
            rgd_offset: 0,
            gd_offset: GD_AT_END,
            gd_entries: 0,
            overhead: 128,
            compress_algorithm: COMPRESS_DEFLATE,
            cowd: false,
        }
    }

    #[test]
    fn kdmv_round_trips() {
        let h = sample();
        let parsed = SparseHeader::parse_kdmv(&h.to_kdmv_bytes()).unwrap();
        assert_eq!(parsed.capacity, h.capacity);
        assert_eq!(parsed.grains(), h.capacity.div_ceil(128));
        assert_eq!(parsed.gd_entries, parsed.grains().div_ceil(512));
        assert!(parsed.compressed());
    }

    #[test]
    fn kdmv_bad_fields_are_rejected() {
        let cases: [(usize, &[u8]); 6] = [
            (0, b"XDMV"),
            (4, &9u32.to_le_bytes()),
            (12, &0u64.to_le_bytes()),
            (12, &(1u64 << 63).to_le_bytes()),
            (20, &100u64.to_le_bytes()),
            (44, &0u32.to_le_bytes()),
        ];
        for (at, bytes) in cases {
            let mut b = sample().to_kdmv_bytes();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            assert!(SparseHeader::parse_kdmv(&b).is_err(), "field at {at}");
        }
        let mut b = sample().to_kdmv_bytes();
        b[77] = 2;
        let err = SparseHeader::parse_kdmv(&b).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert!(SparseHeader::parse_kdmv(&b[..100]).is_err());
    }
}
