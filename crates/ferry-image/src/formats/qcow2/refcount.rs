//! The writer's refcounts. Clusters are only ever appended, so without
//! compression every cluster below the end has refcount 1 except the few
//! freed ones; with compression, host clusters shared by several compressed
//! clusters need real counts, kept as one `u16` per host cluster.
use std::collections::BTreeSet;

use crate::error::{Error, Result};

/// Refcounts of host clusters `[0, end)`.
#[derive(Debug)]
pub enum Refcounts {
    /// Every allocated cluster has refcount 1 except those in `freed`.
    Implicit {
        /// Clusters allocated so far.
        end: u64,
        /// Clusters no longer referenced.
        freed: BTreeSet<u64>,
    },
    /// One count per host cluster.
    Explicit(Vec<u16>),
}

impl Refcounts {
    /// Implicit counts (no compression) or explicit ones.
    pub fn new(explicit: bool) -> Self {
        if explicit {
            Refcounts::Explicit(Vec::new())
        } else {
            Refcounts::Implicit {
                end: 0,
                freed: BTreeSet::new(),
            }
        }
    }

    /// Clusters `[first, first+count)` were appended with refcount `initial`
    /// (0 or 1; implicit counts only support 1).
    pub fn append(&mut self, first: u64, count: u64, initial: u16) {
        match self {
            Refcounts::Implicit { end, .. } => *end = first + count,
            Refcounts::Explicit(v) => {
                let to = (first + count) as usize;
                if v.len() < to {
                    v.resize(to, 0);
                }
                v[first as usize..to].fill(initial);
            }
        }
    }

    /// One more reference to `cluster` (explicit counts only).
    pub fn incref(&mut self, cluster: u64) -> Result<()> {
        match self {
            Refcounts::Explicit(v) => {
                let slot = v
                    .get_mut(cluster as usize)
                    .ok_or_else(|| out_of_range(cluster))?;
                *slot = slot.checked_add(1).ok_or_else(|| {
                    Error::new(
                        crate::error::ErrorKind::Limit,
                        format!(
                            "qcow2 writer: refcount of host cluster {cluster} overflows 16 bits"
                        ),
                    )
                })?;
                Ok(())
            }
            Refcounts::Implicit { .. } => Err(Error::new(
                crate::error::ErrorKind::InvalidArgument,
                "qcow2 writer: shared clusters need explicit refcounts (internal misuse)",
            )),
        }
    }

    /// One reference to `cluster` fewer.
    pub fn decref(&mut self, cluster: u64) -> Result<()> {
        match self {
            Refcounts::Implicit { end, freed } => {
                if cluster >= *end || !freed.insert(cluster) {
                    return Err(out_of_range(cluster));
                }
                Ok(())
            }
            Refcounts::Explicit(v) => {
                let slot = v
                    .get_mut(cluster as usize)
                    .ok_or_else(|| out_of_range(cluster))?;
                *slot = slot.checked_sub(1).ok_or_else(|| out_of_range(cluster))?;
                Ok(())
            }
        }
    }

    /// The refcount of `cluster`.
    pub fn get(&self, cluster: u64) -> u16 {
        match self {
            Refcounts::Implicit { end, freed } => {
                u16::from(cluster < *end && !freed.contains(&cluster))
            }
            Refcounts::Explicit(v) => v.get(cluster as usize).copied().unwrap_or(0),
        }
    }
}

fn out_of_range(cluster: u64) -> Error {
    Error::new(
        crate::error::ErrorKind::InvalidArgument,
        format!(
            "qcow2 writer: refcount of host cluster {cluster} would go below zero (internal misuse)"
        ),
    )
}

/// Size of the refcount structures for `clusters` host clusters when they are
/// appended right after them: (table clusters, block count).
pub fn layout(clusters: u64, cluster_bits: u32) -> (u64, u64) {
    let per_block = (1u64 << cluster_bits) / 2;
    let per_table_cluster = (1u64 << cluster_bits) / 8;
    let (mut rt, mut rb) = (0u64, 0u64);
    loop {
        let nrb = (clusters + rt + rb).div_ceil(per_block);
        let nrt = nrb.div_ceil(per_table_cluster).max(1);
        if (nrt, nrb) == (rt, rb) {
            return (rt, rb);
        }
        (rt, rb) = (nrt, nrb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_counts() {
        let mut r = Refcounts::new(false);
        r.append(0, 10, 1);
        assert_eq!(r.get(3), 1);
        r.decref(3).unwrap();
        assert_eq!(r.get(3), 0);
        assert!(r.decref(3).is_err());
        assert_eq!(r.get(10), 0);
    }

    #[test]
    fn explicit_counts() {
        let mut r = Refcounts::new(true);
        r.append(0, 4, 1);
        r.append(4, 2, 0);
        r.incref(4).unwrap();
        r.incref(4).unwrap();
        assert_eq!(r.get(4), 2);
        r.decref(4).unwrap();
        assert_eq!(r.get(4), 1);
        assert_eq!(r.get(5), 0);
        assert!(r.decref(5).is_err());
    }

    #[test]
    fn layout_covers_itself() {
        // 64 KiB clusters: a block covers 32768 clusters.
        assert_eq!(layout(10, 16), (1, 1));
        assert_eq!(layout(32766, 16), (1, 1));
        assert_eq!(layout(32767, 16), (1, 2));
        let (rt, rb) = layout(1 << 24, 9);
        assert!(rb * 256 >= (1 << 24) + rt + rb);
        assert!(rt * 64 >= rb);
    }
}
