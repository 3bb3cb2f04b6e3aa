//! The qcow2 header and its extensions, parsed from the first cluster and
//! validated against the file size before anything else is read.
use crate::error::{Error, ErrorKind, Result};

/// `QFI\xfb`.
pub const MAGIC: u32 = 0x5146_49fb;
/// Smallest and largest cluster size (2^9 .. 2^21 bytes).
pub const MIN_CLUSTER_BITS: u32 = 9;
/// See [`MIN_CLUSTER_BITS`].
pub const MAX_CLUSTER_BITS: u32 = 21;
/// The largest L1 table ferry accepts (as qemu: 32 MiB of entries).
pub const MAX_L1_ENTRIES: u64 = (32 << 20) / 8;
/// The largest virtual size ferry accepts (2^61 bytes).
pub const MAX_VIRTUAL_SIZE: u64 = 1 << 61;
/// Most internal snapshots (as qemu).
pub const MAX_SNAPSHOTS: u32 = 65536;
/// Longest backing file name (as qemu).
pub const MAX_BACKING_NAME: u32 = 1023;

/// Incompatible feature bits.
pub mod incompat {
    /// Refcounts may be inconsistent (harmless for reading).
    pub const DIRTY: u64 = 1 << 0;
    /// The image was marked corrupt by its writer.
    pub const CORRUPT: u64 = 1 << 1;
    /// Guest data lives in an external data file.
    pub const DATA_FILE: u64 = 1 << 2;
    /// The compression type field is not deflate.
    pub const COMPRESSION: u64 = 1 << 3;
    /// L2 entries are 128 bits with subcluster bitmaps.
    pub const EXTENDED_L2: u64 = 1 << 4;
    /// Every bit ferry understands.
    pub const KNOWN: u64 = DIRTY | CORRUPT | DATA_FILE | COMPRESSION | EXTENDED_L2;
}

/// Autoclear bit: the external data file is raw (guest offset = host offset).
pub const AUTOCLEAR_RAW_DATA: u64 = 1 << 1;

const EXT_END: u32 = 0;
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;
const EXT_DATA_FILE: u32 = 0x4441_5441;
const EXT_ENCRYPTION: u32 = 0x0537_be77;
/// Bounds the extension loop whatever the cluster size.
const MAX_EXTENSIONS: usize = 1024;

/// Compression used for compressed clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Raw deflate (no zlib header).
    Deflate,
    /// zstd frames.
    Zstd,
}

/// A parsed, validated qcow2 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// 2 or 3.
    pub version: u32,
    /// log2 of the cluster size.
    pub cluster_bits: u32,
    /// Guest size in bytes.
    pub size: u64,
    /// Entries in the L1 table.
    pub l1_size: u64,
    /// Host offset of the L1 table.
    pub l1_table_offset: u64,
    /// Host offset of the refcount table.
    pub refcount_table_offset: u64,
    /// Clusters in the refcount table.
    pub refcount_table_clusters: u32,
    /// Number of internal snapshots (not read; the active layer is).
    pub nb_snapshots: u32,
    /// Incompatible feature bits.
    pub incompatible: u64,
    /// Compatible feature bits.
    pub compatible: u64,
    /// Autoclear feature bits.
    pub autoclear: u64,
    /// log2 of the refcount width in bits.
    pub refcount_order: u32,
    /// Header length in bytes (72 for v2).
    pub header_length: u32,
    /// Compression type for compressed clusters.
    pub compression: Compression,
    /// Backing file name, from the header.
    pub backing_file: Option<String>,
    /// Backing file format, from the header extension.
    pub backing_format: Option<String>,
    /// External data file name, from the header extension.
    pub data_file: Option<String>,
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(a)
}

fn be64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

fn corrupt(field: &str, why: String) -> Error {
    Error::corrupt(format!("qcow2 header field {field} {why}"))
}

impl Header {
    /// Cluster size in bytes.
    pub fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }

    /// True when L2 entries carry subcluster bitmaps.
    pub fn extended_l2(&self) -> bool {
        self.incompatible & incompat::EXTENDED_L2 != 0
    }

    /// Guest bytes covered by one L2 table.
    pub fn l2_coverage(&self) -> u64 {
        let entries = self.cluster_size() / if self.extended_l2() { 16 } else { 8 };
        entries << self.cluster_bits
    }

    /// Bytes needed to parse the header: read this much of the file (clamped
    /// to its size) and pass it to [`Header::parse`].
    pub fn bytes_needed(first: &[u8]) -> usize {
        if first.len() < 24 {
            return 0;
        }
        let bits = be32(first, 20).clamp(MIN_CLUSTER_BITS, MAX_CLUSTER_BITS);
        1 << bits
    }

    /// Parse and validate the header from the start of the file. `bytes` is
    /// the first cluster (or the whole file if shorter); `file_size` is the
    /// size of the file, against which every offset is checked.
    pub fn parse(bytes: &[u8], file_size: u64) -> Result<Header> {
        if bytes.len() < 72 {
            return Err(Error::corrupt(format!(
                "qcow2 header is truncated: the file has {} bytes, a header needs 72",
                bytes.len()
            )));
        }
        if be32(bytes, 0) != MAGIC {
            return Err(Error::corrupt(
                "not a qcow2 image: the magic is not QFI\\xfb",
            ));
        }
        let version = be32(bytes, 4);
        if version != 2 && version != 3 {
            return Err(Error::unsupported(format!(
                "qcow2 version {version} is not supported (only 2 and 3)"
            )));
        }
        let backing_file_offset = be64(bytes, 8);
        let backing_file_size = be32(bytes, 16);
        let cluster_bits = be32(bytes, 20);
        if !(MIN_CLUSTER_BITS..=MAX_CLUSTER_BITS).contains(&cluster_bits) {
            return Err(corrupt(
                "cluster_bits",
                format!("is {cluster_bits}, outside {MIN_CLUSTER_BITS}..={MAX_CLUSTER_BITS}"),
            ));
        }
        let cluster_size = 1u64 << cluster_bits;
        let size = be64(bytes, 24);
        let crypt_method = be32(bytes, 32);
        let l1_size = u64::from(be32(bytes, 36));
        let l1_table_offset = be64(bytes, 40);
        let refcount_table_offset = be64(bytes, 48);
        let refcount_table_clusters = be32(bytes, 56);
        let nb_snapshots = be32(bytes, 60);
        let snapshots_offset = be64(bytes, 64);
        if nb_snapshots > MAX_SNAPSHOTS {
            return Err(corrupt(
                "nb_snapshots",
                format!("is {nb_snapshots}, more than {MAX_SNAPSHOTS}"),
            ));
        }
        if nb_snapshots > 0 {
            // Each snapshot header is at least 40 bytes.
            check_table(
                "snapshots_offset",
                snapshots_offset,
                u64::from(nb_snapshots) * 40,
                cluster_size,
                file_size,
            )?;
        }
        let mut h = Header {
            version,
            cluster_bits,
            size,
            l1_size,
            l1_table_offset,
            refcount_table_offset,
            refcount_table_clusters,
            nb_snapshots,
            incompatible: 0,
            compatible: 0,
            autoclear: 0,
            refcount_order: 4,
            header_length: 72,
            compression: Compression::Deflate,
            backing_file: None,
            backing_format: None,
            data_file: None,
        };
        if version >= 3 {
            if bytes.len() < 104 {
                return Err(Error::corrupt(
                    "qcow2 v3 header is truncated: it needs 104 bytes",
                ));
            }
            h.incompatible = be64(bytes, 72);
            h.compatible = be64(bytes, 80);
            h.autoclear = be64(bytes, 88);
            h.refcount_order = be32(bytes, 96);
            h.header_length = be32(bytes, 100);
            if h.header_length < 104 || u64::from(h.header_length) > cluster_size {
                return Err(corrupt(
                    "header_length",
                    format!(
                        "is {}, outside 104..={cluster_size} (the cluster size)",
                        h.header_length
                    ),
                ));
            }
            if h.header_length as usize > bytes.len() {
                return Err(Error::corrupt(format!(
                    "qcow2 header is truncated: header_length is {} but the file has {} bytes",
                    h.header_length,
                    bytes.len()
                )));
            }
            if h.refcount_order > 6 {
                return Err(corrupt(
                    "refcount_order",
                    format!("is {}, more than 6", h.refcount_order),
                ));
            }
            let unknown = h.incompatible & !incompat::KNOWN;
            if unknown != 0 {
                return Err(Error::unsupported(format!(
                    "qcow2 image uses unknown incompatible features (bits {unknown:#x})"
                )));
            }
            if h.header_length > 104 {
                h.compression = match bytes[104] {
                    0 => Compression::Deflate,
                    1 => Compression::Zstd,
                    t => {
                        return Err(Error::unsupported(format!(
                            "qcow2 compression type {t} is not supported (0 deflate, 1 zstd)"
                        )));
                    }
                };
            }
            let flagged = h.incompatible & incompat::COMPRESSION != 0;
            if flagged != (h.compression != Compression::Deflate) {
                return Err(corrupt(
                    "compression_type",
                    "disagrees with the compression incompatible feature bit".to_string(),
                ));
            }
            if h.extended_l2() && cluster_bits < 14 {
                return Err(Error::corrupt(format!(
                    "qcow2 image has extended L2 entries with {cluster_size}-byte clusters; they need at least 16384"
                )));
            }
        }
        if crypt_method != 0 {
            return Err(Error::unsupported(format!(
                "encrypted qcow2 images are not supported (crypt_method {crypt_method}); decrypt it with qemu-img convert first"
            )));
        }
        if size > MAX_VIRTUAL_SIZE {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "qcow2 virtual size {size} bytes is larger than the supported maximum of {MAX_VIRTUAL_SIZE} bytes"
                ),
            ));
        }
        h.validate_tables(file_size)?;
        h.parse_backing_name(bytes, backing_file_offset, backing_file_size)?;
        h.parse_extensions(bytes)?;
        if h.incompatible & incompat::DATA_FILE != 0 && h.data_file.is_none() {
            return Err(Error::corrupt(
                "qcow2 image needs an external data file but its header does not name one",
            ));
        }
        Ok(h)
    }

    fn validate_tables(&self, file_size: u64) -> Result<()> {
        let cs = self.cluster_size();
        let needed = self.size.div_ceil(self.l2_coverage());
        if self.l1_size > MAX_L1_ENTRIES || needed > MAX_L1_ENTRIES {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "qcow2 L1 table of {} entries (virtual size {} bytes) is larger than the supported maximum of {MAX_L1_ENTRIES}",
                    self.l1_size.max(needed),
                    self.size
                ),
            ));
        }
        if self.l1_size < needed {
            return Err(corrupt(
                "l1_size",
                format!(
                    "is {}, too small for the virtual size {} (needs {needed})",
                    self.l1_size, self.size
                ),
            ));
        }
        check_table(
            "l1_table_offset",
            self.l1_table_offset,
            self.l1_size * 8,
            cs,
            file_size,
        )?;
        check_table(
            "refcount_table_offset",
            self.refcount_table_offset,
            u64::from(self.refcount_table_clusters) * cs,
            cs,
            file_size,
        )?;
        Ok(())
    }

    fn parse_backing_name(&mut self, bytes: &[u8], offset: u64, len: u32) -> Result<()> {
        if offset == 0 {
            return Ok(());
        }
        if len > MAX_BACKING_NAME {
            return Err(corrupt(
                "backing_file_size",
                format!("is {len}, longer than {MAX_BACKING_NAME}"),
            ));
        }
        let end = offset.checked_add(u64::from(len));
        let Some(end) = end.filter(|&e| e <= bytes.len() as u64) else {
            return Err(corrupt(
                "backing_file_offset",
                format!(
                    "{offset} (+{len}) is outside the first cluster ({} bytes read)",
                    bytes.len()
                ),
            ));
        };
        let name = &bytes[offset as usize..end as usize];
        let name = std::str::from_utf8(name).map_err(|_| {
            Error::corrupt("qcow2 backing file name is not valid UTF-8".to_string())
        })?;
        if !name.is_empty() {
            self.backing_file = Some(name.to_string());
        }
        Ok(())
    }

    fn parse_extensions(&mut self, bytes: &[u8]) -> Result<()> {
        let mut at = self.header_length as usize;
        for _ in 0..MAX_EXTENSIONS {
            if at + 8 > bytes.len() {
                if self.version >= 3 {
                    return Err(Error::corrupt(format!(
                        "qcow2 header extensions run past the first cluster at offset {at}"
                    )));
                }
                return Ok(());
            }
            let kind = be32(bytes, at);
            let len = be32(bytes, at + 4) as usize;
            let data_start = at + 8;
            let data_end = data_start.checked_add(len).filter(|&e| e <= bytes.len());
            let Some(data_end) = data_end else {
                return Err(Error::corrupt(format!(
                    "qcow2 header extension {kind:#x} at offset {at} with length {len} runs past the first cluster"
                )));
            };
            let data = &bytes[data_start..data_end];
            match kind {
                EXT_END => return Ok(()),
                EXT_BACKING_FORMAT => {
                    self.backing_format = Some(ext_string(data, "backing format")?)
                }
                EXT_DATA_FILE => self.data_file = Some(ext_string(data, "data file name")?),
                EXT_ENCRYPTION => {
                    return Err(Error::unsupported(
                        "encrypted qcow2 images are not supported (LUKS header extension present)",
                    ));
                }
                _ => {}
            }
            at = data_start + len.div_ceil(8) * 8;
        }
        Err(Error::new(
            ErrorKind::Limit,
            format!("qcow2 header has more than {MAX_EXTENSIONS} extensions"),
        ))
    }
}

fn ext_string(data: &[u8], what: &str) -> Result<String> {
    let s = std::str::from_utf8(data)
        .map_err(|_| Error::corrupt(format!("qcow2 {what} is not valid UTF-8")))?;
    Ok(s.trim_end_matches('\0').to_string())
}

/// A table at `offset` of `len` bytes must be cluster aligned and inside the file.
pub fn check_table(field: &str, offset: u64, len: u64, cluster: u64, file_size: u64) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    if !offset.is_multiple_of(cluster) {
        return Err(corrupt(
            field,
            format!("{offset} is not aligned to the cluster size {cluster}"),
        ));
    }
    match offset.checked_add(len) {
        Some(end) if end <= file_size => Ok(()),
        _ => Err(corrupt(
            field,
            format!(
                "points to {offset} (+{len} bytes), past the end of the file ({file_size} bytes)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid v3 header for 1 MiB with 64 KiB clusters.
    pub(crate) fn v3_header() -> Vec<u8> {
        let mut b = vec![0u8; 65536 * 3];
        b[0..4].copy_from_slice(&MAGIC.to_be_bytes());
        b[4..8].copy_from_slice(&3u32.to_be_bytes());
        b[20..24].copy_from_slice(&16u32.to_be_bytes());
        b[24..32].copy_from_slice(&(1u64 << 20).to_be_bytes());
        b[36..40].copy_from_slice(&1u32.to_be_bytes());
        b[40..48].copy_from_slice(&65536u64.to_be_bytes());
        b[48..56].copy_from_slice(&131072u64.to_be_bytes());
        b[56..60].copy_from_slice(&1u32.to_be_bytes());
        b[96..100].copy_from_slice(&4u32.to_be_bytes());
        b[100..104].copy_from_slice(&104u32.to_be_bytes());
        b
    }

    #[test]
    fn parse_minimal_v3() {
        let b = v3_header();
        let h = Header::parse(&b[..65536], b.len() as u64).unwrap();
        assert_eq!(h.version, 3);
        assert_eq!(h.cluster_size(), 65536);
        assert_eq!(h.size, 1 << 20);
        assert_eq!(h.compression, Compression::Deflate);
        assert_eq!(h.backing_file, None);
    }

    #[test]
    fn parse_huge_size_is_a_limit() {
        let mut b = v3_header();
        b[24..32].copy_from_slice(&(1u64 << 63).to_be_bytes());
        let err = Header::parse(&b[..65536], b.len() as u64).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit);
        assert!(err.to_string().contains("virtual size"), "{err}");
    }

    #[test]
    fn parse_l1_past_eof_is_corrupt() {
        let mut b = v3_header();
        b[40..48].copy_from_slice(&(1u64 << 40).to_be_bytes());
        let err = Header::parse(&b[..65536], b.len() as u64).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(err.to_string().contains("l1_table_offset"), "{err}");
    }

    #[test]
    fn parse_encrypted_is_unsupported() {
        let mut b = v3_header();
        b[32..36].copy_from_slice(&1u32.to_be_bytes());
        let err = Header::parse(&b[..65536], b.len() as u64).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    }

    #[test]
    fn parse_truncated_is_corrupt() {
        let b = v3_header();
        let err = Header::parse(&b[..50], 50).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
    }
}
