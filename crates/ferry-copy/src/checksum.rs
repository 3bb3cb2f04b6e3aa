//! An order-independent checksum of guest contents. The guest is cut into
//! fixed [`BLOCK`]-sized blocks; each block that is not all zero contributes
//! `xxh3_128(block, seed = block index)`, and contributions are added
//! (wrapping). All-zero blocks contribute nothing, so holes cost nothing and
//! the result depends only on the bytes, not on how they are allocated. The
//! final value also binds the virtual size.
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_image::Image;
use xxhash_rust::xxh3::{xxh3_128, xxh3_128_with_seed};

use crate::error::{Error, ErrorKind, Result};
use crate::plan::{Item, Planner};
use crate::zero::is_zero;

/// Checksum block size in bytes. Copy chunks are multiples of it.
pub const BLOCK: u64 = 64 * 1024;

/// The running sum of per-block hashes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sum(pub u128);

impl Sum {
    /// Add the blocks of `buf`, which holds guest bytes from `offset` (a
    /// multiple of [`BLOCK`]).
    pub fn add_buffer(&mut self, buf: &[u8], offset: u64) {
        let first = offset / BLOCK;
        for (i, block) in buf.chunks(BLOCK as usize).enumerate() {
            if !is_zero(block) {
                self.0 = self
                    .0
                    .wrapping_add(xxh3_128_with_seed(block, first + i as u64));
            }
        }
    }

    /// Combine with another partial sum.
    pub fn merge(&mut self, other: Sum) {
        self.0 = self.0.wrapping_add(other.0);
    }

    /// The printable checksum of a guest of `virtual_size` bytes.
    pub fn finish(self, virtual_size: u64) -> String {
        let mut bytes = [0u8; 24];
        bytes[..16].copy_from_slice(&self.0.to_le_bytes());
        bytes[16..].copy_from_slice(&virtual_size.to_le_bytes());
        format!("xxh3-blocks:{:032x}", xxh3_128(&bytes))
    }
}

/// Read every data extent of `image` with `workers` threads and return its
/// checksum (the same value a copy with `checksum: true` reports).
pub fn checksum_image(image: &dyn Image, workers: usize) -> Result<String> {
    let size = image.virtual_size();
    let (chunk, workers) = crate::engine::resolve_budget(
        4 << 20,
        image.granularity(),
        crate::effective_workers(workers),
    );
    let planner = Mutex::new(Planner::new(image, chunk, None)?);
    let total = Mutex::new(Sum::default());
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut buf = vec![0u8; chunk as usize];
                let mut local = Sum::default();
                while !stop.load(Ordering::Relaxed) {
                    let item = match planner.lock().map(|mut p| p.next_item()) {
                        Ok(Ok(Some(item))) => item,
                        Ok(Ok(None)) | Err(_) => break,
                        Ok(Err(e)) => {
                            crate::engine::record_failure(&failed, &stop, e);
                            break;
                        }
                    };
                    let Item::Data {
                        offset,
                        len,
                        ranges,
                        ..
                    } = item
                    else {
                        continue;
                    };
                    let buf = &mut buf[..len as usize];
                    if let Err(e) = crate::engine::fill(image, buf, offset, &ranges) {
                        crate::engine::record_failure(&failed, &stop, e);
                        break;
                    }
                    local.add_buffer(buf, offset);
                }
                if let Ok(mut t) = total.lock() {
                    t.merge(local);
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    let sum = total
        .into_inner()
        .map_err(|_| Error::new(ErrorKind::Read, "a checksum worker panicked"))?;
    Ok(sum.finish(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_blocks_do_not_count_and_position_matters() {
        let mut a = Sum::default();
        a.add_buffer(&vec![0u8; 3 * BLOCK as usize], 0);
        assert_eq!(a, Sum::default());
        let mut data = vec![0u8; 2 * BLOCK as usize];
        data[5] = 1;
        let mut b = Sum::default();
        b.add_buffer(&data, 0);
        let mut c = Sum::default();
        c.add_buffer(&data, BLOCK);
        assert_ne!(b, c);
        assert_ne!(b.finish(10), b.finish(11));
    }

    #[test]
    fn order_of_adding_blocks_does_not_matter() {
        let data: Vec<u8> = (0..4 * BLOCK).map(|i| (i % 251) as u8).collect();
        let mut whole = Sum::default();
        whole.add_buffer(&data, 0);
        let half = 2 * BLOCK as usize;
        let mut parts = Sum::default();
        parts.add_buffer(&data[half..], 2 * BLOCK);
        parts.add_buffer(&data[..half], 0);
        assert_eq!(whole, parts);
    }
}
