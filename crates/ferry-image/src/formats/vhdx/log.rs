//! VHDX log replay. When the active header names a log (non-zero LogGuid),
//! metadata updates may sit in the log that never reached their place in
//! the file. The valid entries of the active sequence are replayed into an
//! in-memory [`Overlay`] over the (untrusted, never modified) file, and the
//! image is then read through the overlay.
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::storage::Storage;

use super::crc::crc32c_skip;
use super::header::{Header, le_u32, le_u64};

const SECTOR: u64 = 4096;
const ENTRY_SIG: u32 = u32::from_le_bytes(*b"loge");
const DESC_SIG: u32 = u32::from_le_bytes(*b"desc");
const ZERO_SIG: u32 = u32::from_le_bytes(*b"zero");
const DATA_SIG: u32 = u32::from_le_bytes(*b"data");
/// Largest log replayed (Hyper-V writes 1 MiB logs).
pub const MAX_LOG: u64 = 16 << 20;

/// One replayed write.
#[derive(Debug)]
enum Op {
    Data { offset: u64, data: Box<[u8]> },
    Zero { offset: u64, len: u64 },
}

/// The file with the log's writes applied in memory.
pub struct Overlay {
    base: Arc<dyn Storage>,
    size: u64,
    ops: Vec<Op>,
}

impl Storage for Overlay {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let len = buf.len() as u64;
        if offset.checked_add(len).is_none_or(|e| e > self.size) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {len} bytes at offset {offset} is past the end of the replayed VHDX"
                ),
            ));
        }
        let n = self.base.size().saturating_sub(offset).min(len) as usize;
        if n > 0 {
            self.base.read_at(&mut buf[..n], offset)?;
        }
        buf[n..].fill(0);
        for op in &self.ops {
            let (start, oplen) = match op {
                Op::Data { offset, data } => (*offset, data.len() as u64),
                Op::Zero { offset, len } => (*offset, *len),
            };
            let lo = start.max(offset);
            let hi = (start + oplen).min(offset + len);
            if lo >= hi {
                continue;
            }
            let dst = &mut buf[(lo - offset) as usize..(hi - offset) as usize];
            match op {
                Op::Data { data, .. } => {
                    dst.copy_from_slice(&data[(lo - start) as usize..(hi - start) as usize]);
                }
                Op::Zero { .. } => dst.fill(0),
            }
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("{} (with its log replayed)", self.base.describe())
    }
}

/// A parsed, valid log entry.
#[derive(Debug)]
struct Entry {
    seq: u64,
    len: u64,
    tail: u64,
    flushed: u64,
    last: u64,
    ops: Vec<Op>,
}

struct Log<'a> {
    bytes: &'a [u8],
    guid: [u8; 16],
}

impl Log<'_> {
    fn circ(&self, pos: u64, len: u64) -> Vec<u8> {
        let n = self.bytes.len() as u64;
        (0..len)
            .map(|i| self.bytes[((pos + i) % n) as usize])
            .collect()
    }

    fn entry(&self, pos: u64) -> Option<Entry> {
        let log_len = self.bytes.len() as u64;
        let head = self.circ(pos, 64);
        if le_u32(&head, 0) != ENTRY_SIG {
            return None;
        }
        let len = u64::from(le_u32(&head, 8));
        if len == 0 || !len.is_multiple_of(SECTOR) || len > log_len {
            return None;
        }
        let e = self.circ(pos, len);
        if crc32c_skip(&e, 4) != le_u32(&e, 4) || e[32..48] != self.guid {
            return None;
        }
        let seq = le_u64(&e, 16);
        let count = u64::from(le_u32(&e, 24));
        let desc_sectors = (64 + 32 * count).div_ceil(SECTOR);
        if seq == 0 || desc_sectors * SECTOR > len {
            return None;
        }
        let mut ops = Vec::new();
        let mut data_sector = desc_sectors;
        for i in 0..count as usize {
            let d = &e[64 + i * 32..96 + i * 32];
            if le_u64(d, 24) != seq {
                return None;
            }
            let file_offset = le_u64(d, 16);
            if !file_offset.is_multiple_of(SECTOR) {
                return None;
            }
            match le_u32(d, 0) {
                ZERO_SIG => {
                    let zlen = le_u64(d, 8);
                    if !zlen.is_multiple_of(SECTOR) || file_offset.checked_add(zlen).is_none() {
                        return None;
                    }
                    ops.push(Op::Zero {
                        offset: file_offset,
                        len: zlen,
                    });
                }
                DESC_SIG => {
                    let at = (data_sector * SECTOR) as usize;
                    let s = e.get(at..at + SECTOR as usize)?;
                    if le_u32(s, 0) != DATA_SIG
                        || u64::from(le_u32(s, 4)) != seq >> 32
                        || u64::from(le_u32(s, 4092)) != seq & 0xffff_ffff
                    {
                        return None;
                    }
                    let mut page = vec![0u8; SECTOR as usize].into_boxed_slice();
                    page[..8].copy_from_slice(&d[8..16]);
                    page[8..4092].copy_from_slice(&s[8..4092]);
                    page[4092..].copy_from_slice(&d[4..8]);
                    ops.push(Op::Data {
                        offset: file_offset,
                        data: page,
                    });
                    data_sector += 1;
                }
                _ => return None,
            }
        }
        if data_sector * SECTOR != len {
            return None;
        }
        Some(Entry {
            seq,
            len,
            tail: u64::from(le_u32(&e, 12)),
            flushed: le_u64(&e, 48),
            last: le_u64(&e, 56),
            ops,
        })
    }
}

/// The storage to read the image through: `base` itself when the log is
/// empty, else an [`Overlay`] with the active log sequence replayed.
pub fn replay(base: Arc<dyn Storage>, h: &Header) -> Result<Arc<dyn Storage>> {
    if h.log_guid == [0u8; 16] {
        return Ok(base);
    }
    let len = u64::from(h.log_length);
    if len == 0
        || !len.is_multiple_of(SECTOR)
        || h.log_offset
            .checked_add(len)
            .is_none_or(|e| e > base.size())
    {
        return Err(Error::corrupt(format!(
            "the log ({len} bytes at offset {}) is out of the file's bounds",
            h.log_offset
        )));
    }
    if len > MAX_LOG {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("the log is {len} bytes, more than the {MAX_LOG}-byte limit for replay"),
        ));
    }
    let mut bytes = vec![0u8; len as usize];
    base.read_at(&mut bytes, h.log_offset)?;
    let log = Log {
        bytes: &bytes,
        guid: h.log_guid,
    };
    let mut entries: Vec<Option<Entry>> =
        (0..len / SECTOR).map(|i| log.entry(i * SECTOR)).collect();
    // The active sequence: the chain of consecutive entries (each at the
    // end of the previous one, sequence number + 1) ending highest.
    let mut best: Option<Vec<u64>> = None;
    for start in 0..entries.len() {
        let Some(first) = &entries[start] else {
            continue;
        };
        let mut chain = vec![start as u64 * SECTOR];
        let (mut pos, mut seq, mut elen) = (start as u64 * SECTOR, first.seq, first.len);
        loop {
            let next = (pos + elen) % len;
            match &entries[(next / SECTOR) as usize] {
                Some(e) if e.seq == seq + 1 && !chain.contains(&next) => {
                    chain.push(next);
                    (pos, seq, elen) = (next, e.seq, e.len);
                }
                _ => break,
            }
        }
        let better = match &best {
            None => true,
            Some(b) => {
                let last = |c: &Vec<u64>| {
                    entries[(c[c.len() - 1] / SECTOR) as usize]
                        .as_ref()
                        .map_or(0, |e| e.seq)
                };
                last(&chain) > last(b)
            }
        };
        if better {
            best = Some(chain);
        }
    }
    let Some(chain) = best else {
        // A log GUID with no valid entry: nothing to replay.
        return Ok(base);
    };
    let head_pos = chain[chain.len() - 1];
    let (tail, flushed, last) = match &entries[(head_pos / SECTOR) as usize] {
        Some(h) => (h.tail, h.flushed, h.last),
        None => return Ok(base),
    };
    let from = chain.iter().position(|&p| p == tail).ok_or_else(|| {
        Error::corrupt(format!(
            "the log's newest entry names tail offset {tail}, which is not part of its sequence"
        ))
    })?;
    if flushed > base.size() {
        return Err(Error::corrupt(format!(
            "the log says the file was at least {flushed} bytes, but it is {} bytes: the file is truncated",
            base.size()
        )));
    }
    let mut ops = Vec::new();
    for &p in &chain[from..] {
        if let Some(e) = entries[(p / SECTOR) as usize].take() {
            ops.extend(e.ops);
        }
    }
    let size = base.size().max(last);
    Ok(Arc::new(Overlay { base, size, ops }))
}
