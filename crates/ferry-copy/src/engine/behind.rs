//! Write-behind for plain targets written in any order: each worker owns
//! two aligned chunk buffers and one writer thread, so it reads, decodes
//! and scans the next chunk while the previous one is being written (with
//! `O_DIRECT` targets a write waits for the device). An item counts as done
//! (progress, checksum, journal) only once its write returned.
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use ferry_image::Storage;
use ferry_image::storage::DIRECT_ALIGN;

use super::{Engine, fill, record_failure};
use crate::checksum::Sum;
use crate::error::Error;
use crate::plan::Item;
use crate::zero::for_each_run;

/// Buffers per worker: one being filled, one being written.
pub(super) const BUFFERS: usize = 2;

/// A chunk buffer whose start is aligned for direct I/O.
pub(super) struct AlignedBuf {
    raw: Vec<u8>,
    at: usize,
    len: usize,
}

impl AlignedBuf {
    pub(super) fn new(len: usize) -> Self {
        let raw = vec![0u8; len + DIRECT_ALIGN];
        let at = raw.as_ptr().align_offset(DIRECT_ALIGN).min(DIRECT_ALIGN);
        Self { raw, at, len }
    }

    pub(super) fn get(&self) -> &[u8] {
        &self.raw[self.at..self.at + self.len]
    }

    pub(super) fn get_mut(&mut self) -> &mut [u8] {
        &mut self.raw[self.at..self.at + self.len]
    }
}

/// A filled chunk waiting for its write.
struct Job {
    item: Item,
    sum: Sum,
    runs: Vec<(usize, usize, bool)>,
    buf: AlignedBuf,
}

impl Engine<'_> {
    /// The worker loop with write-behind (see the module docs).
    pub(super) fn worker_behind(&self, target: &dyn Storage) {
        let want_sum = self.opts.checksum || self.journal.is_some();
        let (job_tx, job_rx) = sync_channel::<Job>(1);
        let (free_tx, free_rx) = sync_channel::<AlignedBuf>(BUFFERS);
        for _ in 0..BUFFERS {
            // Cannot fail: the channel holds BUFFERS and its receiver lives.
            let _ = free_tx.send(AlignedBuf::new(self.chunk as usize));
        }
        std::thread::scope(|s| {
            let writer = s.spawn(move || self.write_jobs(target, job_rx, free_tx));
            let mut local = Sum::default();
            let mut spare: Option<AlignedBuf> = None;
            let mut prep = Vec::new();
            while !self.stop.load(Ordering::Relaxed) {
                let mut buf = match spare.take() {
                    Some(b) => b,
                    None => match free_rx.recv() {
                        Ok(b) => b,
                        // The writer is gone (it panicked).
                        Err(_) => break,
                    },
                };
                let (item, filled) = match self.next(buf.get_mut()) {
                    Ok(Some(x)) => x,
                    Ok(None) => break,
                    Err(e) => {
                        record_failure(&self.failed, &self.stop, e);
                        break;
                    }
                };
                match self.prepare_job(item, filled, buf, want_sum, &mut prep) {
                    Ok(Prepared::Job(job)) => {
                        if job_tx.send(job).is_err() {
                            break;
                        }
                    }
                    Ok(Prepared::Done(item, buf)) => {
                        self.complete(&item, Sum::default(), &mut local);
                        if self.count_done() {
                            break;
                        }
                        spare = Some(buf);
                    }
                    Err(e) => {
                        record_failure(&self.failed, &self.stop, e);
                        break;
                    }
                }
            }
            drop(job_tx);
            match writer.join() {
                Ok(sum) => local.merge(sum),
                Err(_) => record_failure(
                    &self.failed,
                    &self.stop,
                    Error::new(crate::ErrorKind::Write, "a copy writer panicked"),
                ),
            }
            super::lock(&self.sum).merge(local);
        });
    }

    /// Fill and scan a data item into a job; zero items are done here.
    fn prepare_job(
        &self,
        item: Item,
        filled: bool,
        mut buf: AlignedBuf,
        want_sum: bool,
        prep: &mut Vec<Vec<u8>>,
    ) -> crate::Result<Prepared> {
        let Item::Data {
            offset,
            len,
            ref ranges,
            ..
        } = item
        else {
            self.process(&item, buf.get_mut(), prep, filled, None)?;
            return Ok(Prepared::Done(item, buf));
        };
        let data = &mut buf.get_mut()[..len as usize];
        if !filled {
            fill(self.source, data, offset, ranges)?;
        }
        let read: u64 = ranges.iter().map(|(a, b)| b - a).sum();
        self.bytes_read.fetch_add(read, Ordering::Relaxed);
        let mut sum = Sum::default();
        if want_sum {
            sum.add_buffer(data, offset);
        }
        let mut runs = Vec::new();
        for_each_run(data, self.zero_block, |a, b, z| runs.push((a, b, z)));
        Ok(Prepared::Job(Job {
            item,
            sum,
            runs,
            buf,
        }))
    }

    /// The writer thread of one worker: write each job, mark it done, hand
    /// the buffer back. After a failure anywhere, jobs are dropped unwritten.
    fn write_jobs(
        &self,
        target: &dyn Storage,
        jobs: Receiver<Job>,
        free: SyncSender<AlignedBuf>,
    ) -> Sum {
        let mut local = Sum::default();
        for job in jobs {
            if !self.stop.load(Ordering::Relaxed) {
                let (offset, len) = job.item.range();
                let data = &job.buf.get()[..len as usize];
                match self.write_runs(target, data, offset, &job.runs) {
                    Ok(()) => {
                        self.complete(&job.item, job.sum, &mut local);
                        self.count_done();
                    }
                    Err(e) => record_failure(&self.failed, &self.stop, e),
                }
            }
            // The worker may have stopped and dropped its end: fine.
            let _ = free.send(job.buf);
        }
        local
    }
}

enum Prepared {
    Job(Job),
    Done(Item, AlignedBuf),
}
