//! The worker pool. See the crate docs for the model.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ferry_image::{Image, Storage};

use crate::checksum::{BLOCK, Sum, checksum_image};
use crate::clone;
use crate::error::{Error, ErrorKind, Result};
use crate::journal::{self, JournalState, ResumeOptions};
use crate::plan::{ChunkSet, Item, Planner};
use crate::zero::for_each_run;
use crate::{CopyOptions, CopyReport, Order, OrderedTarget, Progress, Tier, effective_workers};

mod behind;

const DEFAULT_CHUNK: u64 = 2 << 20;
const MAX_CHUNK: u64 = 16 << 20;
/// Bytes of chunk buffers all workers may hold together; an ordered target
/// can hold as much again in prepared (compressed) data. Keeps peak RSS
/// well under 64 MiB whatever the image size or worker count.
const BUFFER_BUDGET: u64 = 24 << 20;
const JOURNAL_INTERVAL: Duration = Duration::from_secs(1);

/// Copy the guest contents of `source` onto `target` (offset for offset).
/// The target must be at least as large as the source's virtual size. On
/// success the target has been flushed.
pub fn copy(source: &dyn Image, target: &dyn Storage, opts: &CopyOptions) -> Result<CopyReport> {
    let started = Instant::now();
    let size = source.virtual_size();
    if target.size() < size {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "the target {} holds {} bytes, less than the source's virtual size of {size} bytes",
                target.describe(),
                target.size()
            ),
        ));
    }
    let progress = opts.progress.clone().unwrap_or_default();
    progress.start(size);
    let workers = effective_workers(opts.workers);
    let any_order = opts.read_order == Order::Any && opts.write_order == Order::Any;

    if opts.zero_copy
        && any_order
        && let (Some((sf, so)), Some((df, doff))) = (source.flat_file(), target.host_file())
    {
        match clone::reflink(sf, so, size, df, doff) {
            Ok(()) => {
                flush(target)?;
                progress.add(size);
                let checksum = if opts.checksum {
                    Some(checksum_image(source, workers)?)
                } else {
                    None
                };
                return Ok(CopyReport {
                    virtual_size: size,
                    bytes_read: 0,
                    bytes_written: 0,
                    bytes_cloned: size,
                    zero_bytes_skipped: 0,
                    bytes_resumed: 0,
                    tier: Tier::Reflink,
                    duration: started.elapsed(),
                    checksum,
                });
            }
            Err(e) if clone::is_unsupported(&e) => {}
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Write,
                    format!("cloning the source into {} failed", target.describe()),
                )
                .with_source(e));
            }
        }
    }
    let cfr = opts.zero_copy && any_order && !opts.checksum && opts.resume.is_none();
    let flat = if cfr {
        source.flat_file().zip(target.host_file())
    } else {
        None
    };
    let engine = Engine::new(source, Dest::Plain(target), opts, progress, workers, flat)?;
    engine.run(started)
}

/// Copy the guest contents of `source` into a target that takes data in
/// guest order ([`OrderedTarget`], e.g. a streamOptimized VMDK). Workers
/// read, scan for zeros and run [`OrderedTarget::prepare`] (compression) in
/// parallel; commits happen one after the other in increasing offsets.
/// Zero runs are never handed to the target: it must read as zero where it
/// was not written. Resume and the zero-copy tiers do not apply.
pub fn copy_ordered(
    source: &dyn Image,
    target: &dyn OrderedTarget,
    opts: &CopyOptions,
) -> Result<CopyReport> {
    let started = Instant::now();
    let size = source.virtual_size();
    if target.size() < size {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "the target {} holds {} bytes, less than the source's virtual size of {size} bytes",
                target.describe(),
                target.size()
            ),
        ));
    }
    if opts.resume.is_some() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "resuming is not possible for {}, which is written in order",
                target.describe()
            ),
        ));
    }
    let unit = target.unit().max(1);
    let opts = CopyOptions {
        write_order: Order::Sequential,
        target_is_zero: true,
        zero_copy: false,
        zero_block: unit,
        chunk_size: opts.chunk_size.max(unit).div_ceil(unit) * unit,
        ..opts.clone()
    };
    let progress = opts.progress.clone().unwrap_or_default();
    progress.start(size);
    let workers = effective_workers(opts.workers);
    let engine = Engine::new(
        source,
        Dest::Ordered(target),
        &opts,
        progress,
        workers,
        None,
    )?;
    engine.run(started)
}

/// Where the engine writes.
#[derive(Clone, Copy)]
enum Dest<'a> {
    Plain(&'a dyn Storage),
    Ordered(&'a dyn OrderedTarget),
}

type FlatPair<'a> = ((&'a std::fs::File, u64), (&'a std::fs::File, u64));

struct JournalCtl {
    path: std::path::PathBuf,
    state: Mutex<(ChunkSet, Sum)>,
    base: JournalState,
}

struct Engine<'a> {
    source: &'a dyn Image,
    target: Dest<'a>,
    opts: &'a CopyOptions,
    size: u64,
    chunk: u64,
    zero_block: usize,
    target_is_zero: bool,
    workers: usize,
    planner: Mutex<Planner<'a>>,
    turn: Mutex<u64>,
    turn_cv: Condvar,
    stop: AtomicBool,
    finished: Mutex<bool>,
    finished_cv: Condvar,
    failed: Mutex<Option<Error>>,
    progress: Arc<Progress>,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
    zero_skipped: AtomicU64,
    resumed: AtomicU64,
    items_done: AtomicU64,
    sum: Mutex<Sum>,
    journal: Option<JournalCtl>,
    flat: Option<FlatPair<'a>>,
    cfr_ok: AtomicBool,
    cfr_fell_back: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn flush(target: &dyn Storage) -> Result<()> {
    target
        .flush()
        .map_err(|e| Error::write(format!("cannot flush the target {}", target.describe()), e))
}

pub(crate) fn record_failure(failed: &Mutex<Option<Error>>, stop: &AtomicBool, e: Error) {
    let mut f = lock(failed);
    if f.is_none() {
        *f = Some(e);
    }
    stop.store(true, Ordering::SeqCst);
}

/// Fill `buf` with the guest bytes at `offset`: read the data `ranges`,
/// zero the rest.
pub(crate) fn fill(
    image: &dyn Image,
    buf: &mut [u8],
    offset: u64,
    ranges: &[(u64, u64)],
) -> Result<()> {
    let mut cur = 0usize;
    for &(a, b) in ranges {
        let (ra, rb) = ((a - offset) as usize, (b - offset) as usize);
        buf[cur..ra].fill(0);
        image.read_at(&mut buf[ra..rb], a).map_err(|e| {
            Error::read(
                format!(
                    "reading {} bytes at guest offset {a} from the source failed",
                    b - a
                ),
                e,
            )
        })?;
        cur = rb;
    }
    buf[cur..].fill(0);
    Ok(())
}

/// Chunk size and worker count within [`BUFFER_BUDGET`].
pub(crate) fn resolve_budget(requested: u64, granularity: u64, workers: usize) -> (u64, usize) {
    let chunk = resolve_chunk(requested, granularity);
    let align = alignment(granularity);
    let workers_u = workers.max(1) as u64;
    let chunk = if chunk.saturating_mul(workers_u) > BUFFER_BUDGET {
        (BUFFER_BUDGET / workers_u / align * align).max(align)
    } else {
        chunk
    };
    let max_workers = usize::try_from((BUFFER_BUDGET / chunk).max(1)).unwrap_or(1);
    (chunk, workers.clamp(1, max_workers))
}

fn alignment(granularity: u64) -> u64 {
    if granularity.is_power_of_two() && granularity <= (4 << 20) {
        granularity.max(BLOCK)
    } else {
        BLOCK
    }
}

fn resolve_chunk(requested: u64, granularity: u64) -> u64 {
    let base = if requested == 0 {
        DEFAULT_CHUNK
    } else {
        requested
    };
    let align = alignment(granularity);
    base.div_ceil(align)
        .saturating_mul(align)
        .clamp(align, MAX_CHUNK.max(align))
}

impl<'a> Engine<'a> {
    fn new(
        source: &'a dyn Image,
        target: Dest<'a>,
        opts: &'a CopyOptions,
        progress: Arc<Progress>,
        workers: usize,
        flat: Option<FlatPair<'a>>,
    ) -> Result<Self> {
        let size = source.virtual_size();
        // With write-behind (plain targets in any order) every worker holds
        // two buffers, which the budget must cover.
        let behind =
            matches!(target, Dest::Plain(_)) && opts.write_order == Order::Any && flat.is_none();
        let (chunk, workers) = if behind {
            let (chunk, slots) = resolve_budget(
                opts.chunk_size,
                source.granularity(),
                workers.saturating_mul(behind::BUFFERS),
            );
            (chunk, (slots / behind::BUFFERS).max(1))
        } else {
            resolve_budget(opts.chunk_size, source.granularity(), workers)
        };
        let zero_block = if opts.zero_block == 0 {
            4096
        } else {
            opts.zero_block.min(chunk)
        };
        let mut target_is_zero = opts.target_is_zero;
        let (journal, skip) = match &opts.resume {
            None => (None, None),
            Some(r) => {
                let (ctl, skip) = open_journal(r, size, chunk)?;
                if !skip.is_empty() {
                    // Parts of the target were written by the earlier run.
                    target_is_zero = false;
                }
                (Some(ctl), Some(skip))
            }
        };
        Ok(Self {
            source,
            target,
            opts,
            size,
            chunk,
            zero_block: usize::try_from(zero_block).unwrap_or(4096),
            target_is_zero,
            workers,
            planner: Mutex::new(Planner::new(source, chunk, skip)?),
            turn: Mutex::new(0),
            turn_cv: Condvar::new(),
            stop: AtomicBool::new(false),
            finished: Mutex::new(false),
            finished_cv: Condvar::new(),
            failed: Mutex::new(None),
            progress,
            bytes_read: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            zero_skipped: AtomicU64::new(0),
            resumed: AtomicU64::new(0),
            items_done: AtomicU64::new(0),
            sum: Mutex::new(Sum::default()),
            journal,
            flat,
            cfr_ok: AtomicBool::new(flat.is_some()),
            cfr_fell_back: AtomicBool::new(false),
        })
    }

    fn run(&self, started: Instant) -> Result<CopyReport> {
        let this = &self;
        std::thread::scope(|s| {
            let journal_thread = this
                .journal
                .as_ref()
                .map(|j| s.spawn(move || this.journal_loop(j)));
            let handles: Vec<_> = (0..self.workers)
                .map(|_| s.spawn(|| self.worker()))
                .collect();
            for h in handles {
                if h.join().is_err() {
                    record_failure(
                        &self.failed,
                        &self.stop,
                        Error::new(ErrorKind::Write, "a copy worker panicked"),
                    );
                }
            }
            *lock(&self.finished) = true;
            self.finished_cv.notify_all();
            if let Some(h) = journal_thread
                && h.join().is_err()
            {
                record_failure(
                    &self.failed,
                    &self.stop,
                    Error::new(ErrorKind::Journal, "the journal thread panicked"),
                );
            }
        });
        if let Some(e) = lock(&self.failed).take() {
            return Err(e);
        }
        if let Dest::Plain(t) = self.target {
            flush(t)?;
        }
        let sum = match &self.journal {
            Some(j) => lock(&j.state).1,
            None => *lock(&self.sum),
        };
        let checksum =
            (self.opts.checksum || self.journal.is_some()).then(|| sum.finish(self.size));
        let tier = if self.flat.is_some() && !self.cfr_fell_back.load(Ordering::Relaxed) {
            Tier::CopyFileRange
        } else {
            Tier::ReadWrite
        };
        Ok(CopyReport {
            virtual_size: self.size,
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            bytes_cloned: 0,
            zero_bytes_skipped: self.zero_skipped.load(Ordering::Relaxed),
            bytes_resumed: self.resumed.load(Ordering::Relaxed),
            tier,
            duration: started.elapsed(),
            checksum: if self.opts.checksum { checksum } else { None },
        })
    }

    /// Whether workers hand their writes to a writer thread each.
    fn write_behind(&self) -> Option<&'a dyn Storage> {
        match self.target {
            Dest::Plain(t) if self.opts.write_order == Order::Any && self.flat.is_none() => Some(t),
            _ => None,
        }
    }

    /// Count one finished item for the `fail_after_items` test hook; true
    /// when the copy must stop now.
    fn count_done(&self) -> bool {
        let Some(n) = self.opts.fail_after_items else {
            return false;
        };
        if self.items_done.fetch_add(1, Ordering::SeqCst) + 1 >= n {
            record_failure(
                &self.failed,
                &self.stop,
                Error::new(
                    ErrorKind::Interrupted,
                    format!("the copy was stopped after {n} items (test hook)"),
                ),
            );
            return true;
        }
        false
    }

    fn worker(&self) {
        if let Some(t) = self.write_behind() {
            self.worker_behind(t);
            return;
        }
        // Aligned so that file targets can write it with O_DIRECT.
        let mut backing = behind::AlignedBuf::new(self.chunk as usize);
        let buf = backing.get_mut();
        let mut prep: Vec<Vec<u8>> = Vec::new();
        let mut local = Sum::default();
        let want_sum = self.opts.checksum || self.journal.is_some();
        while !self.stop.load(Ordering::Relaxed) {
            let (item, filled) = match self.next(buf) {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    record_failure(&self.failed, &self.stop, e);
                    break;
                }
            };
            let mut item_sum = Sum::default();
            if let Err(e) = self.process(
                &item,
                buf,
                &mut prep,
                filled,
                want_sum.then_some(&mut item_sum),
            ) {
                record_failure(&self.failed, &self.stop, e);
                break;
            }
            self.complete(&item, item_sum, &mut local);
            if self.count_done() {
                break;
            }
        }
        lock(&self.sum).merge(local);
        // Wake writers waiting for a turn this worker will never take.
        self.turn_cv.notify_all();
    }

    /// Take the next item; with sequential reads, read it under the lock.
    fn next(&self, buf: &mut [u8]) -> Result<Option<(Item, bool)>> {
        let mut planner = lock(&self.planner);
        let item = planner.next_item()?;
        let skipped = planner.take_skipped();
        if skipped > 0 {
            self.resumed.fetch_add(skipped, Ordering::Relaxed);
            self.progress.add(skipped);
        }
        let Some(item) = item else { return Ok(None) };
        let mut filled = false;
        if self.opts.read_order == Order::Sequential
            && let Item::Data {
                offset,
                len,
                ranges,
                ..
            } = &item
        {
            fill(self.source, &mut buf[..*len as usize], *offset, ranges)?;
            filled = true;
        }
        Ok(Some((item, filled)))
    }

    fn process(
        &self,
        item: &Item,
        buf: &mut [u8],
        prep: &mut Vec<Vec<u8>>,
        filled: bool,
        sum: Option<&mut Sum>,
    ) -> Result<()> {
        match item {
            Item::Zero { seq, offset, len } => {
                self.wait_turn(*seq)?;
                let res = match self.target {
                    Dest::Plain(t) if !self.target_is_zero => {
                        t.write_zeroes(*offset, *len).map_err(|e| {
                            Error::write(
                                format!(
                                    "zeroing {len} bytes at offset {offset} of the target failed"
                                ),
                                e,
                            )
                        })
                    }
                    _ => Ok(()),
                };
                self.advance_turn();
                self.zero_skipped.fetch_add(*len, Ordering::Relaxed);
                res
            }
            Item::Data {
                seq,
                offset,
                len,
                ranges,
            } => {
                let data: u64 = ranges.iter().map(|(a, b)| b - a).sum();
                if !filled && self.try_copy_file_range(ranges)? {
                    self.bytes_read.fetch_add(data, Ordering::Relaxed);
                    self.bytes_written.fetch_add(data, Ordering::Relaxed);
                    self.zero_skipped.fetch_add(len - data, Ordering::Relaxed);
                    return Ok(());
                }
                let buf = &mut buf[..*len as usize];
                if !filled {
                    fill(self.source, buf, *offset, ranges)?;
                }
                self.bytes_read.fetch_add(data, Ordering::Relaxed);
                if let Some(sum) = sum {
                    sum.add_buffer(buf, *offset);
                }
                let mut runs: Vec<(usize, usize, bool)> = Vec::new();
                for_each_run(buf, self.zero_block, |a, b, z| runs.push((a, b, z)));
                match self.target {
                    Dest::Plain(t) => {
                        self.wait_turn(*seq)?;
                        let res = self.write_runs(t, buf, *offset, &runs);
                        self.advance_turn();
                        res
                    }
                    Dest::Ordered(t) => self.prepare_and_commit(t, *seq, buf, *offset, &runs, prep),
                }
            }
        }
    }

    /// Prepare every data run (in parallel with other workers), then
    /// commit them in this item's turn.
    fn prepare_and_commit(
        &self,
        t: &dyn OrderedTarget,
        seq: u64,
        buf: &[u8],
        offset: u64,
        runs: &[(usize, usize, bool)],
        prep: &mut Vec<Vec<u8>>,
    ) -> Result<()> {
        let mut used = 0;
        for &(a, b, zero) in runs {
            if zero {
                self.zero_skipped
                    .fetch_add((b - a) as u64, Ordering::Relaxed);
                continue;
            }
            if prep.len() <= used {
                prep.push(Vec::new());
            }
            let at = offset + a as u64;
            t.prepare(at, &buf[a..b], &mut prep[used]).map_err(|e| {
                Error::write(
                    format!(
                        "preparing {} bytes at offset {at} for the target failed",
                        b - a
                    ),
                    e,
                )
            })?;
            used += 1;
        }
        self.wait_turn(seq)?;
        let mut res = Ok(());
        let data_runs = runs.iter().filter(|r| !r.2);
        for ((a, b, _), p) in data_runs.zip(prep.iter()) {
            let at = offset + *a as u64;
            if let Err(e) = t.commit(at, p) {
                res = Err(Error::write(
                    format!(
                        "writing {} bytes at offset {at} to {} failed",
                        b - a,
                        t.describe()
                    ),
                    e,
                ));
                break;
            }
            self.bytes_written
                .fetch_add(p.len() as u64, Ordering::Relaxed);
        }
        self.advance_turn();
        res
    }

    fn write_runs(
        &self,
        target: &dyn Storage,
        buf: &[u8],
        offset: u64,
        runs: &[(usize, usize, bool)],
    ) -> Result<()> {
        for &(a, b, zero) in runs {
            let at = offset + a as u64;
            let n = (b - a) as u64;
            if zero {
                self.zero_skipped.fetch_add(n, Ordering::Relaxed);
                if !self.target_is_zero {
                    target.write_zeroes(at, n).map_err(|e| {
                        Error::write(
                            format!("zeroing {n} bytes at offset {at} of the target failed"),
                            e,
                        )
                    })?;
                }
            } else {
                target.write_at(&buf[a..b], at).map_err(|e| {
                    Error::write(
                        format!("writing {n} bytes at offset {at} of the target failed"),
                        e,
                    )
                })?;
                self.bytes_written.fetch_add(n, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// The `copy_file_range` tier for one chunk. `Ok(false)` means "do it
    /// with read/write instead".
    fn try_copy_file_range(&self, ranges: &[(u64, u64)]) -> Result<bool> {
        let Some(((sf, so), (df, doff))) = self.flat else {
            return Ok(false);
        };
        if !self.cfr_ok.load(Ordering::Relaxed) {
            return Ok(false);
        }
        for &(a, b) in ranges {
            match clone::copy_range(sf, so + a, df, doff + a, b - a) {
                Ok(()) => {}
                Err(e) if clone::is_unsupported(&e) => {
                    self.cfr_ok.store(false, Ordering::Relaxed);
                    self.cfr_fell_back.store(true, Ordering::Relaxed);
                    return Ok(false);
                }
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Write,
                        format!("copy_file_range of {} bytes at offset {a} failed", b - a),
                    )
                    .with_source(e));
                }
            }
        }
        Ok(true)
    }

    fn wait_turn(&self, seq: u64) -> Result<()> {
        if self.opts.write_order != Order::Sequential {
            return Ok(());
        }
        let mut turn = lock(&self.turn);
        while *turn != seq {
            if self.stop.load(Ordering::SeqCst) {
                return Err(Error::new(ErrorKind::Interrupted, "the copy was stopped"));
            }
            turn = self
                .turn_cv
                .wait_timeout(turn, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        Ok(())
    }

    fn advance_turn(&self) {
        if self.opts.write_order != Order::Sequential {
            return;
        }
        *lock(&self.turn) += 1;
        self.turn_cv.notify_all();
    }

    fn complete(&self, item: &Item, item_sum: Sum, local: &mut Sum) {
        let (offset, len) = item.range();
        match &self.journal {
            Some(j) => {
                let first = offset / self.chunk;
                let end = (offset + len).div_ceil(self.chunk);
                let mut st = lock(&j.state);
                st.0.insert_range(first, end);
                st.1.merge(item_sum);
            }
            None => local.merge(item_sum),
        }
        self.progress.add(len);
    }

    fn journal_loop(&self, j: &JournalCtl) {
        loop {
            let done = {
                let fin = lock(&self.finished);
                let (fin, _) = self
                    .finished_cv
                    .wait_timeout(fin, JOURNAL_INTERVAL)
                    .unwrap_or_else(|p| p.into_inner());
                *fin
            };
            if let Err(e) = self.write_journal(j) {
                record_failure(&self.failed, &self.stop, e);
                return;
            }
            if done {
                return;
            }
        }
    }

    /// Snapshot, flush the target, then store: every chunk named is durable.
    fn write_journal(&self, j: &JournalCtl) -> Result<()> {
        let (set, sum) = {
            let st = lock(&j.state);
            (st.0.clone(), st.1)
        };
        if let Dest::Plain(t) = self.target {
            flush(t)?;
        }
        let mut state = j.base.clone();
        state.done = set.runs();
        state.checksum = Some(format!("{:032x}", sum.0));
        journal::store(&j.path, &state)
    }
}

fn open_journal(r: &ResumeOptions, size: u64, chunk: u64) -> Result<(JournalCtl, ChunkSet)> {
    let base = JournalState::new(&r.source_identity, size, chunk);
    let (set, sum) = match journal::load(&r.journal)? {
        None => (
            ChunkSet::with_capacity(size.div_ceil(chunk)),
            Sum::default(),
        ),
        Some(old) => {
            old.check_matches(&r.journal, &base)?;
            let sum = old
                .checksum
                .as_deref()
                .and_then(|h| u128::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Journal,
                        format!(
                            "the resume journal {} has no valid checksum; delete it and the partial target to start over",
                            r.journal.display()
                        ),
                    )
                })?;
            (old.done_set(), Sum(sum))
        }
    };
    Ok((
        JournalCtl {
            path: r.journal.clone(),
            state: Mutex::new((set.clone(), sum)),
            base,
        },
        set,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_are_aligned_and_bounded() {
        assert_eq!(resolve_chunk(0, 65536), DEFAULT_CHUNK);
        assert_eq!(resolve_chunk(100, 512), BLOCK);
        assert_eq!(resolve_chunk(3 << 20, 2 << 20), 4 << 20);
        assert_eq!(resolve_chunk(1 << 40, 4096), MAX_CHUNK);
        assert_eq!(resolve_chunk(0, 32 << 20), DEFAULT_CHUNK);
        assert_eq!(resolve_chunk(0, 3000), DEFAULT_CHUNK);
    }

    #[test]
    fn many_workers_share_a_fixed_buffer_budget() {
        assert_eq!(resolve_budget(0, 65536, 2), (DEFAULT_CHUNK, 2));
        let (chunk, workers) = resolve_budget(0, 65536, 64);
        assert_eq!(workers, 64);
        assert!(chunk * 64 <= BUFFER_BUDGET && chunk >= BLOCK);
        let (chunk, workers) = resolve_budget(0, 2 << 20, 64);
        assert_eq!(chunk, 2 << 20);
        assert!(chunk * workers as u64 <= BUFFER_BUDGET);
        let (chunk, workers) = resolve_budget(64 << 20, 4096, 1);
        assert_eq!((chunk, workers), (MAX_CHUNK, 1));
    }
}
