//! Targets written in guest order, with the expensive part of each write
//! split out so the engine can run it on every worker: [`OrderedTarget`],
//! and [`StreamVmdkTarget`] (streamOptimized VMDK: deflate in parallel,
//! grains appended in order).
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use ferry_image::formats::vmdk::writer::{GRAIN_BYTES, GRAIN_SECTORS, GrainCompressor};
use ferry_image::formats::vmdk::{StreamVmdkOptions, StreamVmdkWriter};

/// A target that takes data in increasing guest offsets.
pub trait OrderedTarget: Send + Sync {
    /// Guest size in bytes.
    fn size(&self) -> u64;
    /// Writes start at multiples of this and cover whole units (but the
    /// last unit of the guest, which may be short).
    fn unit(&self) -> u64;
    /// Turn `data` (guest bytes at `offset`, no all-zero units) into what
    /// [`OrderedTarget::commit`] appends. Called on any worker, in any order.
    fn prepare(&self, offset: u64, data: &[u8], out: &mut Vec<u8>) -> ferry_image::Result<()>;
    /// Append what `prepare` made for `offset`. Called in increasing
    /// offsets, one call at a time.
    fn commit(&self, offset: u64, prepared: &[u8]) -> ferry_image::Result<()>;
    /// A short name for messages.
    fn describe(&self) -> String;
}

/// A new streamOptimized VMDK file as an [`OrderedTarget`]. Call
/// [`StreamVmdkTarget::finish`] after the copy to write the grain directory
/// and footer; until then the file is incomplete.
pub struct StreamVmdkTarget {
    path: PathBuf,
    size: u64,
    level: u32,
    writer: Mutex<Option<StreamVmdkWriter<BufWriter<File>>>>,
    compressors: Mutex<Vec<GrainCompressor>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl StreamVmdkTarget {
    /// Create (truncate) `path` and write the header and descriptor.
    pub fn create(
        path: &Path,
        virtual_size: u64,
        opts: &StreamVmdkOptions,
    ) -> ferry_image::Result<Self> {
        let file = File::create(path)
            .map_err(|e| ferry_image::Error::io(format!("cannot create {}", path.display()), e))?;
        let writer = StreamVmdkWriter::with_options(
            BufWriter::with_capacity(1 << 20, file),
            virtual_size,
            opts,
        )?;
        Ok(Self {
            path: path.to_path_buf(),
            size: virtual_size,
            level: opts.level,
            writer: Mutex::new(Some(writer)),
            compressors: Mutex::new(Vec::new()),
        })
    }

    /// Write the trailing metadata, and make the file durable when
    /// `durable` is set.
    pub fn finish(self, durable: bool) -> ferry_image::Result<()> {
        let writer = lock(&self.writer).take().ok_or_else(|| {
            ferry_image::Error::new(
                ferry_image::ErrorKind::InvalidArgument,
                format!("{} was already finished", self.path.display()),
            )
        })?;
        let out = writer.finish()?;
        let file = out.into_inner().map_err(|e| {
            ferry_image::Error::io(
                format!("cannot write {}", self.path.display()),
                e.into_error(),
            )
        })?;
        if !durable {
            return Ok(());
        }
        file.sync_all()
            .map_err(|e| ferry_image::Error::io(format!("cannot flush {}", self.path.display()), e))
    }
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl OrderedTarget for StreamVmdkTarget {
    fn size(&self) -> u64 {
        self.size
    }

    fn unit(&self) -> u64 {
        GRAIN_BYTES
    }

    fn prepare(&self, offset: u64, data: &[u8], out: &mut Vec<u8>) -> ferry_image::Result<()> {
        if !offset.is_multiple_of(GRAIN_BYTES) {
            return Err(ferry_image::Error::new(
                ferry_image::ErrorKind::InvalidArgument,
                format!("write at offset {offset} is not grain-aligned"),
            ));
        }
        let mut c = lock(&self.compressors)
            .pop()
            .unwrap_or_else(|| GrainCompressor::new(self.level));
        out.clear();
        let mut record = Vec::new();
        let mut result = Ok(());
        for (i, grain) in data.chunks(GRAIN_BYTES as usize).enumerate() {
            let index = offset / GRAIN_BYTES + i as u64;
            if let Err(e) = c.compress(index, grain, &mut record) {
                result = Err(e);
                break;
            }
            out.extend_from_slice(&record);
        }
        lock(&self.compressors).push(c);
        result
    }

    fn commit(&self, offset: u64, prepared: &[u8]) -> ferry_image::Result<()> {
        let mut guard = lock(&self.writer);
        let writer = guard.as_mut().ok_or_else(|| {
            ferry_image::Error::new(
                ferry_image::ErrorKind::InvalidArgument,
                format!("{} was already finished", self.path.display()),
            )
        })?;
        let mut pos = 0usize;
        while pos < prepared.len() {
            let bad = || {
                ferry_image::Error::new(
                    ferry_image::ErrorKind::InvalidArgument,
                    format!(
                        "malformed grain record at byte {pos} of the data prepared for offset {offset}"
                    ),
                )
            };
            let lba = le_u64(prepared, pos).ok_or_else(bad)?;
            let len = le_u32(prepared, pos + 8).ok_or_else(bad)? as usize;
            let rec_len = (12 + len).next_multiple_of(512);
            let rec = prepared.get(pos..pos + rec_len).ok_or_else(bad)?;
            writer.write_compressed_grain(lba / GRAIN_SECTORS, rec)?;
            pos += rec_len;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("streamOptimized VMDK {}", self.path.display())
    }
}
