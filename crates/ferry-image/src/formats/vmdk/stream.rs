//! streamOptimized specifics: the footer that holds the real grain-directory
//! offset, the marker walk used when there is no usable footer, and grain
//! inflation. Inflation uses one per-thread scratch buffer and inflater, so
//! reads from many threads decompress in parallel without allocating per
//! grain.
use std::cell::RefCell;

use flate2::{Decompress, FlushDecompress, Status};

use crate::error::{Error, ErrorKind, Result};
use crate::storage::Storage;

use super::header::{SECTOR, SPARSE_MAGIC, SparseHeader, le_u32, le_u64};
use super::sparse::GrainMap;

/// Bytes before a compressed grain's data: `{u64 lba, u32 size}`.
pub const GRAIN_MARKER_LEN: u64 = 12;
/// Marker type: end of stream.
pub const MARKER_EOS: u32 = 0;
/// Marker type: a grain table follows.
pub const MARKER_GT: u32 = 1;
/// Marker type: the grain directory follows.
pub const MARKER_GD: u32 = 2;
/// Marker type: the footer follows.
pub const MARKER_FOOTER: u32 = 3;
/// Slack allowed above the grain size for a compressed grain (deflate's
/// worst-case expansion is a few bytes per 16 KiB block).
const COMPRESSED_SLACK: u64 = 4096;

/// The footer header of a stream (`footer marker, header, EOS marker` in the
/// last three sectors), or `None` when the file has no valid footer.
pub fn footer(storage: &dyn Storage) -> Result<Option<SparseHeader>> {
    let size = storage.size();
    if size < 4 * SECTOR {
        return Ok(None);
    }
    let mut b = [0u8; 1536];
    storage.read_at(&mut b, size - 1536)?;
    let marker_ok = le_u32(&b, 8) == 0 && le_u32(&b, 12) == MARKER_FOOTER;
    let eos_ok = le_u64(&b, 1024) == 0 && le_u32(&b, 1032) == 0 && le_u32(&b, 1036) == MARKER_EOS;
    if !marker_ok || !eos_ok || le_u32(&b, 512) != SPARSE_MAGIC {
        return Ok(None);
    }
    SparseHeader::parse_kdmv(&b[512..1024])
        .map(Some)
        .map_err(|e| e.within("the stream footer"))
}

/// The error for a stream that ends before its `missing` part (the footer
/// or the end-of-stream marker): the file was cut short, and reading what
/// is there would silently lose the rest of the disk.
pub fn truncated(size: u64, missing: &str) -> Error {
    Error::corrupt(format!(
        "the streamOptimized VMDK ends at byte {size} without its {missing}: the file is \
         truncated (an interrupted download, export or copy); fetch or export it again"
    ))
}

/// Build the grain map by walking the markers from the first grain to the
/// end-of-stream marker (for streams without a usable footer or directory).
/// A walk that reaches the end of the file without that marker is an error.
pub fn scan(storage: &dyn Storage, h: &SparseHeader) -> Result<GrainMap> {
    let size = storage.size();
    let mut map = GrainMap::empty(h.grains(), h.gtes_per_gt)?;
    let mut pos = h
        .overhead
        .checked_mul(SECTOR)
        .ok_or_else(|| Error::corrupt("the stream's overhead is out of range"))?;
    let mut m = [0u8; 16];
    let mut ended = false;
    while pos.checked_add(16).is_some_and(|e| e <= size) {
        storage.read_at(&mut m, pos)?;
        let val = le_u64(&m, 0);
        let len = u64::from(le_u32(&m, 8));
        if len != 0 {
            if !val.is_multiple_of(h.grain_sectors) || val / h.grain_sectors >= h.grains() {
                return Err(Error::corrupt(format!(
                    "the grain marker at byte {pos} names sector {val}, which is not a grain inside the capacity"
                )));
            }
            let sector = u32::try_from(pos / SECTOR).map_err(|_| {
                Error::new(
                    ErrorKind::Limit,
                    format!(
                        "the grain at byte {pos} is beyond the 2 TiB a grain table can address"
                    ),
                )
            })?;
            map.set(val / h.grain_sectors, sector)?;
            pos = (pos + GRAIN_MARKER_LEN + len).next_multiple_of(SECTOR);
            continue;
        }
        match le_u32(&m, 12) {
            MARKER_EOS => {
                ended = true;
                break;
            }
            MARKER_GT | MARKER_GD | MARKER_FOOTER => {
                pos = val
                    .checked_mul(SECTOR)
                    .and_then(|v| v.checked_add(pos + SECTOR))
                    .ok_or_else(|| {
                        Error::corrupt(format!("the marker at byte {pos} has a bad length {val}"))
                    })?;
            }
            t => {
                return Err(Error::corrupt(format!(
                    "the marker at byte {pos} has the unknown type {t}"
                )));
            }
        }
    }
    if !ended {
        return Err(truncated(size, "end-of-stream marker"));
    }
    Ok(map)
}

struct Scratch {
    compressed: Vec<u8>,
    inflater: Decompress,
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Read the compressed grain whose marker is at `marker_off` and inflate it
/// into `out` (exactly one grain long). One read call in the common case.
pub fn read_grain(storage: &dyn Storage, marker_off: u64, out: &mut [u8]) -> Result<()> {
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let scratch = guard.get_or_insert_with(|| Scratch {
            compressed: Vec::new(),
            inflater: Decompress::new(true),
        });
        read_grain_with(storage, marker_off, out, scratch)
    })
}

fn read_grain_with(
    storage: &dyn Storage,
    marker_off: u64,
    out: &mut [u8],
    s: &mut Scratch,
) -> Result<()> {
    let size = storage.size();
    let grain = out.len() as u64;
    let max_len = grain + COMPRESSED_SLACK;
    let first = (GRAIN_MARKER_LEN + grain + SECTOR).min(size.saturating_sub(marker_off));
    if first < GRAIN_MARKER_LEN {
        return Err(Error::corrupt(format!(
            "the grain marker at byte {marker_off} is past the end of the file"
        )));
    }
    s.compressed.resize(first as usize, 0);
    storage.read_at(&mut s.compressed, marker_off)?;
    let lba = le_u64(&s.compressed, 0);
    let len = u64::from(le_u32(&s.compressed, 8));
    if len == 0 || len > max_len {
        return Err(Error::corrupt(format!(
            "the compressed grain at byte {marker_off} (sector {lba}) claims {len} bytes; a grain needs 1 to {max_len}"
        )));
    }
    let end = GRAIN_MARKER_LEN + len;
    if end > first {
        if marker_off + end > size {
            return Err(Error::corrupt(format!(
                "the compressed grain at byte {marker_off} runs past the end of the file"
            )));
        }
        s.compressed.resize(end as usize, 0);
        storage.read_at(&mut s.compressed[first as usize..], marker_off + first)?;
    }
    let input = &s.compressed[GRAIN_MARKER_LEN as usize..end as usize];
    inflate(&mut s.inflater, input, out)
        .map_err(|e| e.within(format!("the grain at byte {marker_off} (sector {lba})")))
}

/// Inflate one zlib stream into `out`. More output than `out` holds is a
/// [`ErrorKind::Limit`] error (a decompression bomb); less is zero-filled.
pub fn inflate(d: &mut Decompress, input: &[u8], out: &mut [u8]) -> Result<()> {
    d.reset(true);
    let status = d
        .decompress(input, out, FlushDecompress::Finish)
        .map_err(|e| {
            Error::corrupt("the compressed data is not a valid zlib stream").with_source(e)
        })?;
    let produced = d.total_out() as usize;
    match status {
        Status::StreamEnd => {
            out[produced..].fill(0);
            Ok(())
        }
        _ if produced == out.len() => Err(Error::new(
            ErrorKind::Limit,
            format!(
                "the compressed data inflates to more than the grain size of {} bytes",
                out.len()
            ),
        )),
        _ => Err(Error::corrupt(
            "the compressed data ends before its zlib stream does",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut c = Compress::new(Compression::fast(), true);
        let mut out = Vec::with_capacity(data.len() + 1024);
        c.compress_vec(data, &mut out, FlushCompress::Finish)
            .unwrap();
        out
    }

    #[test]
    fn inflate_exact_grain() {
        let data: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
        let mut out = vec![0u8; 65536];
        inflate(&mut Decompress::new(true), &deflate(&data), &mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn inflate_bomb_is_a_limit_error() {
        let data = vec![0u8; 1 << 20];
        let mut out = vec![0u8; 65536];
        let err = inflate(&mut Decompress::new(true), &deflate(&data), &mut out).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit);
    }

    #[test]
    fn inflate_truncated_and_garbage_are_corrupt() {
        let mut x = 1u32;
        let data: Vec<u8> = (0..65536)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 24) as u8
            })
            .collect();
        let z = deflate(&data);
        let mut out = vec![0u8; 65536];
        let mut d = Decompress::new(true);
        assert_eq!(
            inflate(&mut d, &z[..z.len() / 2], &mut out)
                .unwrap_err()
                .kind(),
            ErrorKind::Corrupt
        );
        assert_eq!(
            inflate(&mut d, b"garbage!", &mut out).unwrap_err().kind(),
            ErrorKind::Corrupt
        );
    }
}
