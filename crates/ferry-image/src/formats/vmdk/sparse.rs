//! A sparse extent (`KDMV` hosted sparse, streamOptimized, or `COWD`): the
//! grain directory and grain tables are read once at open into an immutable
//! [`GrainMap`], so lookups during reads take no lock. Grain tables that are
//! absent or all zero cost no memory; the total is capped.
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::storage::Storage;

use super::header::{GD_AT_END, SECTOR, SparseHeader, le_u32};
use super::stream;

/// Most grain-table entries kept in memory for one extent (256 MiB).
pub const MAX_TABLE_ENTRIES: u64 = 64 << 20;

/// Where a grain lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Not allocated here: the parent's data, or zeros.
    Unallocated,
    /// Allocated as zeros.
    Zero,
    /// Uncompressed data at this byte offset of the extent file.
    Data(u64),
    /// A compressed grain whose marker starts at this byte offset.
    Compressed(u64),
}

/// Most grain-directory entries accepted (4 Mi: 128 TiB at the default
/// grain and table sizes).
pub const MAX_GD_ENTRIES: u64 = 4 << 20;
const ABSENT: u32 = u32::MAX;

/// Grain-table entries of one extent, indexed by grain number. Present
/// tables are stored back to back; absent (or all-zero) tables cost only
/// their 4-byte directory slot.
#[derive(Debug, Default)]
pub struct GrainMap {
    index: Vec<u32>,
    entries: Vec<u32>,
    gtes_per_gt: u64,
}

impl GrainMap {
    /// An empty map for `grains` grains.
    pub fn empty(grains: u64, gtes_per_gt: u32) -> Result<Self> {
        let n = grains.div_ceil(u64::from(gtes_per_gt));
        if n > MAX_GD_ENTRIES {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "the grain directory needs {n} entries, more than the limit of {MAX_GD_ENTRIES}"
                ),
            ));
        }
        Ok(Self {
            index: vec![ABSENT; n as usize],
            entries: Vec::new(),
            gtes_per_gt: u64::from(gtes_per_gt),
        })
    }

    fn table(&self, t: usize) -> Option<&[u32]> {
        match self.index.get(t) {
            Some(&i) if i != ABSENT => {
                let per = self.gtes_per_gt as usize;
                let start = i as usize * per;
                self.entries.get(start..start + per)
            }
            _ => None,
        }
    }

    /// The raw entry for `grain` (0 when its table is absent).
    pub fn entry(&self, grain: u64) -> u32 {
        self.table((grain / self.gtes_per_gt) as usize)
            .map_or(0, |gt| gt[(grain % self.gtes_per_gt) as usize])
    }

    /// True when the table covering `grain` is absent (all unallocated).
    pub fn table_absent(&self, grain: u64) -> bool {
        self.table((grain / self.gtes_per_gt) as usize).is_none()
    }

    /// Grains per table.
    pub fn gtes_per_gt(&self) -> u64 {
        self.gtes_per_gt
    }

    /// Number of directory slots.
    pub fn tables(&self) -> usize {
        self.index.len()
    }

    /// Entries of table `t`, when present.
    pub fn table_entries(&self, t: usize) -> Option<&[u32]> {
        self.table(t)
    }

    fn alloc(&mut self, t: usize) -> Result<usize> {
        let slot = *self
            .index
            .get(t)
            .ok_or_else(|| Error::corrupt(format!("grain table {t} is beyond the capacity")))?;
        if slot != ABSENT {
            return Ok(slot as usize);
        }
        let next = self.entries.len() as u64 + self.gtes_per_gt;
        if next > MAX_TABLE_ENTRIES {
            return Err(limit_error(next));
        }
        let i = self.entries.len() / self.gtes_per_gt as usize;
        self.entries.resize(next as usize, 0);
        self.index[t] = i as u32;
        Ok(i)
    }

    /// Set one entry, allocating its table on first use.
    pub fn set(&mut self, grain: u64, value: u32) -> Result<()> {
        let per = self.gtes_per_gt as usize;
        let i = self.alloc((grain / self.gtes_per_gt) as usize)?;
        self.entries[i * per + (grain % self.gtes_per_gt) as usize] = value;
        Ok(())
    }

    /// Install table `t` from little-endian bytes, unless it is all zero.
    fn install(&mut self, t: usize, raw: &[u8]) -> Result<()> {
        if raw.iter().all(|&b| b == 0) {
            return Ok(());
        }
        let per = self.gtes_per_gt as usize;
        let i = self.alloc(t)?;
        for (e, c) in self.entries[i * per..(i + 1) * per]
            .iter_mut()
            .zip(raw.chunks_exact(4))
        {
            *e = le_u32(c, 0);
        }
        Ok(())
    }
}

fn limit_error(entries: u64) -> Error {
    Error::new(
        ErrorKind::Limit,
        format!(
            "the grain tables need {entries} entries, more than the limit of {MAX_TABLE_ENTRIES}"
        ),
    )
}

/// An opened sparse extent.
pub struct SparseExtent {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) header: SparseHeader,
    pub(crate) map: GrainMap,
}

impl SparseExtent {
    /// Open a sparse extent whose header is already parsed.
    pub fn open(storage: Arc<dyn Storage>, mut header: SparseHeader) -> Result<Self> {
        let file_size = storage.size();
        let map = if header.compressed() && header.gd_offset == GD_AT_END {
            // The header puts the directory at the end: the footer is what
            // says the stream is complete.
            let Some(footer) = stream::footer(storage.as_ref())? else {
                return Err(stream::truncated(file_size, "footer"));
            };
            match footer {
                footer if footer.gd_offset != GD_AT_END => {
                    let mut h = header.clone();
                    h.gd_offset = footer.gd_offset;
                    // A footer whose directory is unusable: walk the markers.
                    match load_tables(storage.as_ref(), &h) {
                        Ok(m) => {
                            header.gd_offset = footer.gd_offset;
                            m
                        }
                        Err(_) => stream::scan(storage.as_ref(), &header)?,
                    }
                }
                _ => stream::scan(storage.as_ref(), &header)?,
            }
        } else {
            match load_tables(storage.as_ref(), &header) {
                Ok(m) => m,
                Err(e) if header.rgd_offset != 0 && !header.cowd => {
                    let mut alt = header.clone();
                    alt.gd_offset = header.rgd_offset;
                    load_tables(storage.as_ref(), &alt).map_err(|_| e)?
                }
                Err(e) => return Err(e),
            }
        };
        let ext = Self {
            storage,
            header,
            map,
        };
        ext.check_entries(file_size)?;
        Ok(ext)
    }

    /// Capacity in bytes.
    pub fn capacity_bytes(&self) -> u64 {
        self.header.capacity * SECTOR
    }

    /// Grain size in bytes.
    pub fn grain_bytes(&self) -> u64 {
        self.header.grain_bytes()
    }

    /// Where grain `g` lives.
    pub fn grain(&self, g: u64) -> Grain {
        match self.map.entry(g) {
            0 => Grain::Unallocated,
            1 if self.header.zero_grain_gte() => Grain::Zero,
            e if self.header.compressed() => Grain::Compressed(u64::from(e) * SECTOR),
            e => Grain::Data(u64::from(e) * SECTOR),
        }
    }

    /// Every allocated grain must lie inside the file.
    fn check_entries(&self, file_size: u64) -> Result<()> {
        let gb = self.grain_bytes();
        let cap = self.capacity_bytes();
        let per = self.map.gtes_per_gt();
        for t in 0..self.map.tables() {
            let Some(gt) = self.map.table_entries(t) else {
                continue;
            };
            for (i, &e) in gt.iter().enumerate() {
                let g = t as u64 * per + i as u64;
                if e == 0 || g >= self.header.grains() {
                    continue;
                }
                let need = match self.grain(g) {
                    Grain::Data(off) => off.checked_add(gb.min(cap - g * gb)),
                    Grain::Compressed(off) => off.checked_add(stream::GRAIN_MARKER_LEN),
                    _ => continue,
                };
                if need.is_none_or(|end| end > file_size) {
                    return Err(Error::corrupt(format!(
                        "grain {g} points past the end of the extent file ({file_size} bytes); the file is truncated or damaged"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Read the grain directory and the grain tables it names.
fn load_tables(storage: &dyn Storage, h: &SparseHeader) -> Result<GrainMap> {
    let file_size = storage.size();
    let mut map = GrainMap::empty(h.grains(), h.gtes_per_gt)?;
    let gd_bytes = h.gd_entries * 4;
    let gd_off = h
        .gd_offset
        .checked_mul(SECTOR)
        .filter(|o| o.checked_add(gd_bytes).is_some_and(|e| e <= file_size))
        .ok_or_else(|| {
            Error::corrupt(format!(
                "the grain directory at sector {} ({gd_bytes} bytes) is past the end of the file ({file_size} bytes)",
                h.gd_offset
            ))
        })?;
    let mut gd = vec![0u8; gd_bytes as usize];
    storage.read_at(&mut gd, gd_off)?;
    let gt_bytes = u64::from(h.gtes_per_gt) * 4;
    let mut seen: Vec<(u64, usize)> = Vec::new();
    for t in 0..h.gd_entries as usize {
        let sector = u64::from(le_u32(&gd, t * 4));
        if sector == 0 {
            continue;
        }
        let off = sector * SECTOR;
        if off.checked_add(gt_bytes).is_none_or(|e| e > file_size) {
            return Err(Error::corrupt(format!(
                "grain table {t} at sector {sector} is past the end of the file ({file_size} bytes)"
            )));
        }
        if off < gd_off + gd_bytes && gd_off < off + gt_bytes {
            return Err(Error::corrupt(format!(
                "grain table {t} at sector {sector} overlaps the grain directory"
            )));
        }
        seen.push((off, t));
    }
    seen.sort_unstable();
    for w in seen.windows(2) {
        if w[1].0 < w[0].0 + gt_bytes {
            return Err(Error::corrupt(format!(
                "grain tables {} and {} overlap at byte {}",
                w[0].1, w[1].1, w[1].0
            )));
        }
    }
    // Read runs of adjacent tables with one call each (up to 1 MiB). Tables
    // do not overlap and lie inside the file, so this reads the file at most
    // once; only tables with entries count against MAX_TABLE_ENTRIES.
    let mut buf = Vec::new();
    let mut i = 0;
    while i < seen.len() {
        let mut j = i + 1;
        while j < seen.len()
            && seen[j].0 == seen[j - 1].0 + gt_bytes
            && (j - i + 1) as u64 * gt_bytes <= 1 << 20
        {
            j += 1;
        }
        let len = (j - i) as u64 * gt_bytes;
        buf.resize(len as usize, 0);
        storage.read_at(&mut buf, seen[i].0)?;
        for (k, &(_, t)) in seen[i..j].iter().enumerate() {
            let base = k * gt_bytes as usize;
            map.install(t, &buf[base..base + gt_bytes as usize])?;
        }
        i = j;
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grain_map_set_and_get() {
        let mut m = GrainMap::empty(1000, 512).unwrap();
        assert_eq!(m.entry(600), 0);
        assert!(m.table_absent(600));
        m.set(600, 77).unwrap();
        assert_eq!(m.entry(600), 77);
        assert_eq!(m.entry(601), 0);
        assert!(m.table_absent(10));
        assert!(m.set(5000, 1).is_err());
        assert_eq!(
            GrainMap::empty(1 << 40, 512).unwrap_err().kind(),
            ErrorKind::Limit
        );
    }
}
