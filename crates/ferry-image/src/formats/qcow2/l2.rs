//! L1/L2 entry decoding: where a guest range of one cluster lives.
use crate::error::{Error, Result};

/// Host offset bits of L1 and standard L2 entries.
pub const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
/// Refcount is exactly one (may be written in place).
pub const OFLAG_COPIED: u64 = 1 << 63;
/// The cluster is compressed.
pub const OFLAG_COMPRESSED: u64 = 1 << 62;
/// The cluster reads as zero (v3, standard L2 entries).
pub const OFLAG_ZERO: u64 = 1;

/// Where a guest run lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// At this host offset in the data file.
    Data(u64),
    /// A compressed cluster: `len` bytes at `host` decompress to one cluster.
    Compressed {
        /// Host offset of the compressed bytes.
        host: u64,
        /// Number of compressed bytes (rounded up to whole sectors).
        len: u64,
    },
    /// Reads as zero.
    Zero,
    /// Not allocated here: read the backing file (or zero).
    Unallocated,
}

/// The facts needed to decode entries.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// log2 of the cluster size.
    pub cluster_bits: u32,
    /// 128-bit L2 entries with 32 subclusters.
    pub extended: bool,
    /// qcow2 version (zero flags need v3).
    pub version: u32,
    /// An external raw data file: offset 0 with COPIED is a real mapping.
    pub data_file: bool,
}

impl Geometry {
    /// Cluster size in bytes.
    pub fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }

    /// u64 words per L2 entry.
    pub fn words_per_entry(&self) -> usize {
        if self.extended { 2 } else { 1 }
    }

    /// L2 entries (clusters) per L2 table.
    pub fn l2_entries(&self) -> u64 {
        self.cluster_size() / 8 / self.words_per_entry() as u64
    }

    /// Host offset and byte length of a compressed cluster entry.
    pub fn compressed(&self, entry: u64) -> (u64, u64) {
        let shift = 62 - (self.cluster_bits - 8);
        let host = entry & ((1u64 << shift) - 1);
        let sectors_mask = (1u64 << (self.cluster_bits - 8)) - 1;
        let sectors = ((entry >> shift) & sectors_mask) + 1;
        (host, sectors * 512 - (host & 511))
    }

    /// Decode the mapping of bytes `[from, to)` inside one cluster whose L2
    /// entry is `entry` (and `bitmap` for extended entries). Calls `emit`
    /// with (start within the cluster, length, mapping) in order.
    pub fn decode(
        &self,
        entry: u64,
        bitmap: u64,
        from: u64,
        to: u64,
        emit: &mut dyn FnMut(u64, u64, Mapping) -> Result<()>,
    ) -> Result<()> {
        if entry & OFLAG_COMPRESSED != 0 {
            if self.data_file {
                return Err(Error::corrupt(
                    "qcow2 L2 entry is compressed, which an image with an external data file cannot have",
                ));
            }
            let (host, len) = self.compressed(entry);
            return emit(from, to - from, Mapping::Compressed { host, len });
        }
        let host = entry & OFFSET_MASK;
        if host & (self.cluster_size() - 1) != 0 {
            return Err(Error::corrupt(format!(
                "qcow2 L2 entry points to host offset {host:#x}, not aligned to the cluster size {}",
                self.cluster_size()
            )));
        }
        let allocated = host != 0 || (self.data_file && entry & OFLAG_COPIED != 0);
        if !self.extended {
            let m = if entry & OFLAG_ZERO != 0 {
                if self.version < 3 {
                    return Err(Error::corrupt(
                        "qcow2 v2 image has an L2 entry with the zero flag, which needs v3",
                    ));
                }
                Mapping::Zero
            } else if allocated {
                Mapping::Data(host + from)
            } else {
                Mapping::Unallocated
            };
            return emit(from, to - from, m);
        }
        let sc_bits = self.cluster_bits - 5;
        let mut pos = from;
        while pos < to {
            let sc = (pos >> sc_bits) as u32;
            let sc_end = ((u64::from(sc) + 1) << sc_bits).min(to);
            let alloc = (bitmap >> sc) & 1 != 0;
            let zero = (bitmap >> (32 + sc)) & 1 != 0;
            let m = match (alloc, zero) {
                (true, true) => {
                    return Err(Error::corrupt(format!(
                        "qcow2 extended L2 entry marks subcluster {sc} both allocated and zero"
                    )));
                }
                (true, false) if !allocated => {
                    return Err(Error::corrupt(format!(
                        "qcow2 extended L2 entry marks subcluster {sc} allocated but has no host cluster"
                    )));
                }
                (true, false) => Mapping::Data(host + pos),
                (false, true) => Mapping::Zero,
                (false, false) => Mapping::Unallocated,
            };
            emit(pos, sc_end - pos, m)?;
            pos = sc_end;
        }
        Ok(())
    }
}

/// Joins adjacent runs of the same mapping (contiguous host data included)
/// before handing them on, so one read covers many clusters.
pub struct Merger<'a> {
    pending: Option<(u64, u64, Mapping)>,
    out: &'a mut dyn FnMut(u64, u64, Mapping) -> Result<()>,
}

impl<'a> Merger<'a> {
    /// Merge into `out`.
    pub fn new(out: &'a mut dyn FnMut(u64, u64, Mapping) -> Result<()>) -> Self {
        Self { pending: None, out }
    }

    /// Add the run `[guest, guest+len)` mapped by `m`.
    pub fn push(&mut self, guest: u64, len: u64, m: Mapping) -> Result<()> {
        if let Some((pg, pl, pm)) = &mut self.pending {
            let joins = *pg + *pl == guest
                && match (*pm, m) {
                    (Mapping::Data(a), Mapping::Data(b)) => a + *pl == b,
                    (Mapping::Zero, Mapping::Zero) => true,
                    (Mapping::Unallocated, Mapping::Unallocated) => true,
                    _ => false,
                };
            if joins {
                *pl += len;
                return Ok(());
            }
        }
        self.flush()?;
        self.pending = Some((guest, len, m));
        Ok(())
    }

    /// Emit the last pending run.
    pub fn flush(&mut self) -> Result<()> {
        if let Some((g, l, m)) = self.pending.take() {
            (self.out)(g, l, m)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(
        g: &Geometry,
        entry: u64,
        bitmap: u64,
        from: u64,
        to: u64,
    ) -> Vec<(u64, u64, Mapping)> {
        let mut v = Vec::new();
        g.decode(entry, bitmap, from, to, &mut |a, b, m| {
            v.push((a, b, m));
            Ok(())
        })
        .unwrap();
        v
    }

    const G: Geometry = Geometry {
        cluster_bits: 16,
        extended: false,
        version: 3,
        data_file: false,
    };

    #[test]
    fn decode_standard_entries() {
        assert_eq!(
            collect(&G, 0, 0, 0, 65536),
            vec![(0, 65536, Mapping::Unallocated)]
        );
        assert_eq!(
            collect(&G, OFLAG_COPIED | 0x30000, 0, 512, 1024),
            vec![(512, 512, Mapping::Data(0x30200))]
        );
        assert_eq!(
            collect(&G, 0x30000 | OFLAG_ZERO, 0, 0, 10),
            vec![(0, 10, Mapping::Zero)]
        );
        assert!(G.decode(0x38000, 0, 0, 1, &mut |_, _, _| Ok(())).is_err());
    }

    #[test]
    fn decode_compressed_entry_geometry() {
        // 64 KiB clusters: shift 54; 3 extra sectors at host 0x10200.
        let entry = OFLAG_COMPRESSED | (3u64 << 54) | 0x10200;
        assert_eq!(G.compressed(entry), (0x10200, 4 * 512));
        let unaligned = OFLAG_COMPRESSED | 0x10010;
        assert_eq!(G.compressed(unaligned), (0x10010, 512 - 16));
    }

    #[test]
    fn decode_subclusters() {
        let g = Geometry {
            extended: true,
            ..G
        };
        // Subcluster 0 allocated, 1 zero, rest unallocated (2 KiB each).
        let bitmap = 1 | (1u64 << 33);
        let v = collect(&g, 0x40000, bitmap, 0, 8192);
        assert_eq!(
            v,
            vec![
                (0, 2048, Mapping::Data(0x40000)),
                (2048, 2048, Mapping::Zero),
                (4096, 2048, Mapping::Unallocated),
                (6144, 2048, Mapping::Unallocated),
            ]
        );
        assert!(g.decode(0, 1, 0, 10, &mut |_, _, _| Ok(())).is_err());
        assert!(
            g.decode(0x40000, 1 | (1 << 32), 0, 10, &mut |_, _, _| Ok(()))
                .is_err()
        );
    }

    #[test]
    fn merger_joins_contiguous_data() {
        let mut out = Vec::new();
        let mut sink = |a, b, m| {
            out.push((a, b, m));
            Ok(())
        };
        let mut m = Merger::new(&mut sink);
        m.push(0, 10, Mapping::Data(100)).unwrap();
        m.push(10, 10, Mapping::Data(110)).unwrap();
        m.push(20, 10, Mapping::Data(500)).unwrap();
        m.push(30, 5, Mapping::Zero).unwrap();
        m.push(35, 5, Mapping::Zero).unwrap();
        m.flush().unwrap();
        assert_eq!(
            out,
            vec![
                (0, 20, Mapping::Data(100)),
                (20, 10, Mapping::Data(500)),
                (30, 10, Mapping::Zero)
            ]
        );
    }
}
