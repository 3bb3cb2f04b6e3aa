//! The planner turns the source's extents into work items on a fixed chunk
//! grid: a data item is one chunk (with the data sub-ranges to read), a zero
//! item is a run of whole chunks holding no data (capped so progress and the
//! journal stay fine-grained). The grid is aligned at guest offset 0, so the
//! checksum blocks and the journal's chunk indexes are the same on every run.
use std::collections::VecDeque;

use ferry_image::{Extent, ExtentKind, Image};

use crate::error::{Error, ErrorKind, Result};

/// How much of the source's extent map to ask for at once.
const EXTENT_WINDOW: u64 = 1 << 30;
/// Longest zero item.
const MAX_ZERO_RUN: u64 = 1 << 30;

/// One unit of work, numbered in guest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// One chunk holding some data. `ranges` are the absolute guest ranges
    /// `[start, end)` to read; the rest of the chunk reads as zero.
    Data {
        seq: u64,
        offset: u64,
        len: u64,
        ranges: Vec<(u64, u64)>,
    },
    /// Whole chunks that read as zero.
    Zero { seq: u64, offset: u64, len: u64 },
}

impl Item {
    /// Guest range `[offset, offset + len)`.
    pub fn range(&self) -> (u64, u64) {
        match self {
            Item::Data { offset, len, .. } | Item::Zero { offset, len, .. } => (*offset, *len),
        }
    }
}

/// A set of chunk indexes (done chunks, for resume).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkSet {
    words: Vec<u64>,
    bits: u64,
}

impl ChunkSet {
    /// An empty set able to hold `chunks` indexes.
    pub fn with_capacity(chunks: u64) -> Self {
        Self {
            words: vec![0; chunks.div_ceil(64) as usize],
            bits: chunks,
        }
    }

    /// Whether `idx` is in the set.
    pub fn contains(&self, idx: u64) -> bool {
        self.words
            .get((idx / 64) as usize)
            .is_some_and(|w| w & (1 << (idx % 64)) != 0)
    }

    /// Add the indexes `[first, end)`; indexes past the capacity are ignored.
    pub fn insert_range(&mut self, first: u64, end: u64) {
        for idx in first..end.min(self.bits) {
            if let Some(w) = self.words.get_mut((idx / 64) as usize) {
                *w |= 1 << (idx % 64);
            }
        }
    }

    /// The set as sorted `[start, end)` runs.
    pub fn runs(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let bits = self.bits;
        let mut idx = 0;
        while idx < bits {
            let w = self.words[(idx / 64) as usize];
            if w == 0 && idx % 64 == 0 {
                idx += 64;
                continue;
            }
            if w == u64::MAX && idx % 64 == 0 && idx + 64 <= bits {
                extend(&mut out, idx, idx + 64);
                idx += 64;
                continue;
            }
            if self.contains(idx) {
                extend(&mut out, idx, idx + 1);
            }
            idx += 1;
        }
        out
    }

    /// Number of indexes in the set.
    pub fn len(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }
}

fn extend(runs: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    if let Some(last) = runs.last_mut()
        && last.1 == start
    {
        last.1 = end;
        return;
    }
    runs.push((start, end));
}

/// Hands out [`Item`]s in guest order. Not thread-safe by itself; the
/// engine keeps it under a mutex (extent queries are metadata only).
pub struct Planner<'a> {
    image: &'a dyn Image,
    size: u64,
    chunk: u64,
    pos: u64,
    /// Extents from `pos` (or before) up to `mapped`.
    extents: VecDeque<Extent>,
    mapped: u64,
    seq: u64,
    skip: Option<ChunkSet>,
    skipped_bytes: u64,
}

impl<'a> Planner<'a> {
    /// Plan `image` in chunks of `chunk` bytes, skipping data chunks in
    /// `skip` (already copied by an earlier run).
    pub fn new(image: &'a dyn Image, chunk: u64, skip: Option<ChunkSet>) -> Result<Self> {
        if chunk == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "the chunk size must not be zero",
            ));
        }
        Ok(Self {
            image,
            size: image.virtual_size(),
            chunk,
            pos: 0,
            extents: VecDeque::new(),
            mapped: 0,
            seq: 0,
            skip,
            skipped_bytes: 0,
        })
    }

    /// Skipped bytes since the last call.
    pub fn take_skipped(&mut self) -> u64 {
        std::mem::take(&mut self.skipped_bytes)
    }

    /// Ask the source for more of its map, checking that the answer is
    /// contiguous and makes progress.
    fn map_more(&mut self) -> Result<()> {
        let start = self.mapped;
        let want = EXTENT_WINDOW.min(self.size - start);
        let got = self.image.extents(start, want).map_err(|e| {
            Error::new(
                ErrorKind::Read,
                format!("cannot map the source's extents at guest offset {start}"),
            )
            .with_source(e)
        })?;
        let mut at = start;
        for e in got {
            if e.offset != at || e.length == 0 || e.offset + e.length > self.size {
                return Err(Error::new(
                    ErrorKind::Corrupt,
                    format!(
                        "the source's extent map is inconsistent at guest offset {at}: got {} bytes of {:?} at {} (virtual size {})",
                        e.length, e.kind, e.offset, self.size
                    ),
                ));
            }
            at += e.length;
            self.extents.push_back(e);
        }
        if at == start {
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!("the source reported no extents at guest offset {start}"),
            ));
        }
        self.mapped = at;
        Ok(())
    }

    /// Ensure the map covers `[.., end)`.
    fn map_to(&mut self, end: u64) -> Result<()> {
        while self.mapped < end {
            self.map_more()?;
        }
        Ok(())
    }

    fn drop_before(&mut self, pos: u64) {
        while self
            .extents
            .front()
            .is_some_and(|e| e.offset + e.length <= pos)
        {
            self.extents.pop_front();
        }
    }

    /// First data byte at or after `pos`, looking no further than `limit`
    /// (returns `limit` when there is none before it).
    fn next_data(&mut self, pos: u64, limit: u64) -> Result<u64> {
        let mut idx = 0;
        loop {
            while let Some(e) = self.extents.get(idx) {
                let end = e.offset + e.length;
                if end > pos && e.kind == ExtentKind::Data {
                    return Ok(e.offset.max(pos).min(limit));
                }
                if end >= limit {
                    return Ok(limit);
                }
                idx += 1;
            }
            if self.mapped >= limit {
                return Ok(limit);
            }
            self.map_more()?;
        }
    }

    fn data_ranges(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for e in &self.extents {
            if e.offset >= end {
                break;
            }
            let (a, b) = (e.offset.max(start), (e.offset + e.length).min(end));
            if a < b && e.kind == ExtentKind::Data {
                extend(&mut out, a, b);
            }
        }
        out
    }

    /// The next item, or `None` when the whole image is planned.
    pub fn next_item(&mut self) -> Result<Option<Item>> {
        loop {
            if self.pos >= self.size {
                return Ok(None);
            }
            let pos = self.pos;
            self.drop_before(pos);
            let chunk_end = (pos + self.chunk).min(self.size);
            let limit = pos.saturating_add(MAX_ZERO_RUN).min(self.size);
            let data = self.next_data(pos, limit)?;
            if data >= chunk_end {
                // A zero run: whole chunks up to the chunk holding `data`.
                let end = if data >= self.size {
                    self.size
                } else {
                    (data / self.chunk * self.chunk).max(chunk_end)
                };
                self.pos = end;
                let seq = self.next_seq();
                return Ok(Some(Item::Zero {
                    seq,
                    offset: pos,
                    len: end - pos,
                }));
            }
            self.map_to(chunk_end)?;
            let ranges = self.data_ranges(pos, chunk_end);
            self.pos = chunk_end;
            let idx = pos / self.chunk;
            if self.skip.as_ref().is_some_and(|s| s.contains(idx)) {
                self.skipped_bytes += chunk_end - pos;
                continue;
            }
            let seq = self.next_seq();
            return Ok(Some(Item::Data {
                seq,
                offset: pos,
                len: chunk_end - pos,
                ranges,
            }));
        }
    }

    fn next_seq(&mut self) -> u64 {
        let s = self.seq;
        self.seq += 1;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_image::ImageInfo;

    /// An image described by a fixed extent list (reads return 0xAB).
    struct Fake {
        size: u64,
        extents: Vec<Extent>,
    }

    impl Image for Fake {
        fn info(&self) -> ImageInfo {
            ImageInfo::default()
        }
        fn virtual_size(&self) -> u64 {
            self.size
        }
        fn extents(&self, offset: u64, len: u64) -> ferry_image::Result<Vec<Extent>> {
            let end = offset + len;
            Ok(self
                .extents
                .iter()
                .filter(|e| e.offset < end && e.offset + e.length > offset)
                .map(|e| {
                    let a = e.offset.max(offset);
                    let b = (e.offset + e.length).min(end);
                    Extent {
                        offset: a,
                        length: b - a,
                        kind: e.kind,
                    }
                })
                .collect())
        }
        fn read_at(&self, buf: &mut [u8], _offset: u64) -> ferry_image::Result<()> {
            buf.fill(0xAB);
            Ok(())
        }
    }

    fn ext(offset: u64, length: u64, kind: ExtentKind) -> Extent {
        Extent {
            offset,
            length,
            kind,
        }
    }

    const M: u64 = 1 << 20;

    fn all(img: &Fake, chunk: u64, skip: Option<ChunkSet>) -> Vec<Item> {
        let mut p = Planner::new(img, chunk, skip).unwrap();
        let mut out = Vec::new();
        while let Some(i) = p.next_item().unwrap() {
            out.push(i);
        }
        out
    }

    #[test]
    fn holes_become_zero_runs_and_data_is_chunked() {
        let img = Fake {
            size: 10 * M + 5,
            extents: vec![
                ext(0, 5 * M, ExtentKind::Hole),
                ext(5 * M, M + 3, ExtentKind::Data),
                ext(6 * M + 3, 4 * M - 3, ExtentKind::Zero),
                ext(10 * M, 5, ExtentKind::Data),
            ],
        };
        let items = all(&img, 2 * M, None);
        assert_eq!(
            items,
            vec![
                Item::Zero {
                    seq: 0,
                    offset: 0,
                    len: 4 * M
                },
                Item::Data {
                    seq: 1,
                    offset: 4 * M,
                    len: 2 * M,
                    ranges: vec![(5 * M, 6 * M)]
                },
                Item::Data {
                    seq: 2,
                    offset: 6 * M,
                    len: 2 * M,
                    ranges: vec![(6 * M, 6 * M + 3)]
                },
                Item::Zero {
                    seq: 3,
                    offset: 8 * M,
                    len: 2 * M
                },
                Item::Data {
                    seq: 4,
                    offset: 10 * M,
                    len: 5,
                    ranges: vec![(10 * M, 10 * M + 5)]
                },
            ]
        );
    }

    #[test]
    fn skipped_chunks_are_left_out_and_counted() {
        let img = Fake {
            size: 4 * M,
            extents: vec![ext(0, 4 * M, ExtentKind::Data)],
        };
        let mut skip = ChunkSet::with_capacity(4);
        skip.insert_range(1, 3);
        let mut p = Planner::new(&img, M, Some(skip)).unwrap();
        let mut offs = Vec::new();
        while let Some(i) = p.next_item().unwrap() {
            offs.push(i.range().0);
        }
        assert_eq!(offs, vec![0, 3 * M]);
        assert_eq!(p.take_skipped(), 2 * M);
    }

    #[test]
    fn a_gap_in_the_extent_map_is_an_error_not_a_loop() {
        let img = Fake {
            size: 4 * M,
            extents: vec![
                ext(0, M, ExtentKind::Data),
                ext(2 * M, 2 * M, ExtentKind::Data),
            ],
        };
        let mut p = Planner::new(&img, M, None).unwrap();
        let mut err = None;
        for _ in 0..10 {
            match p.next_item() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Corrupt));
    }

    #[test]
    fn huge_holes_are_capped_runs() {
        let img = Fake {
            size: 3 * MAX_ZERO_RUN,
            extents: vec![ext(0, 3 * MAX_ZERO_RUN, ExtentKind::Hole)],
        };
        let items = all(&img, 4 * M, None);
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| matches!(i, Item::Zero { .. })));
    }

    #[test]
    fn chunk_set_runs_round_trip() {
        let mut s = ChunkSet::with_capacity(300);
        s.insert_range(3, 5);
        s.insert_range(64, 200);
        s.insert_range(299, 400);
        assert_eq!(s.runs(), vec![(3, 5), (64, 200), (299, 300)]);
        assert_eq!(s.len(), 2 + 136 + 1);
    }
}
