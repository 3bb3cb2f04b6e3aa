//! The DiskTransfer step of one VM: every disk copied on its own thread
//! (readers of remote sources block), progress written into the per-disk
//! tasks in MB, and what each copy did (already copied, resumed) recorded.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferry_copy::Progress;
use ferry_core::api::phases::{phase, step};
use ferry_destination::Volume;

use super::builder::Built;
use super::disks::{self, CopyJob, Done, Outcome};
use super::runner::Shared;
use super::source::SourceVm;
use super::vm::{Stop, mb};
use crate::context::{Context, now};
use crate::providers::SourceSession;

/// The source VM and how to reach its disks.
pub(super) struct From<'a> {
    pub vm: &'a SourceVm,
    pub session: &'a Arc<dyn SourceSession>,
}

pub(super) async fn copy_disks(
    ctx: &Arc<Context>,
    shared: &Shared,
    i: usize,
    from: &From<'_>,
    built: &Built,
    volumes: &[Volume],
    cancel: &Arc<AtomicBool>,
) -> Result<(), Stop> {
    let (vm, session) = (from.vm, from.session);
    let settings = ctx.settings();
    let (workers, verify) = (settings.copy_workers, settings.verify);
    let mut jobs = Vec::new();
    let mut progresses = Vec::new();
    for (d, vol) in built.disks.iter().zip(volumes) {
        let disk = vm.disks.get(d.index).ok_or_else(|| {
            Stop::Failed(
                phase::COPY_DISKS.into(),
                format!("disk {} vanished from the inventory", d.index),
            )
        })?;
        let src = disk.clone();
        let session = session.clone();
        let progress = Arc::new(Progress::with_total(d.capacity));
        progresses.push((d.pvc.clone(), progress.clone(), d.capacity));
        let (dest, vol, cancel) = (ctx.destination.clone(), vol.clone(), cancel.clone());
        let t = now();
        shared.update(i, |s| {
            if let Some(task) = s
                .step_mut(step::DISK_TRANSFER)
                .and_then(|st| st.task_mut(&d.pvc))
            {
                task.mark_started(t);
            }
        });
        let job = CopyJob {
            progress,
            cancel: cancel.clone(),
            workers,
            verify,
            limit: ctx.rate_limit.clone(),
        };
        // A plain thread, outside the async runtime: readers of remote
        // sources (vSphere datastores) run their own I/O runtime and block.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let name = format!("ferry-copy-{}", d.pvc);
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let _ = tx.send(disks::copy_disk(&*dest, &vol, &src, &*session, job));
        });
        if let Err(e) = spawned {
            return Err(Stop::Failed(
                phase::COPY_DISKS.into(),
                format!("cannot start a copy thread: {e}"),
            ));
        }
        jobs.push(rx);
    }
    let all = futures::future::join_all(jobs);
    tokio::pin!(all);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let results = loop {
        tokio::select! {
            r = &mut all => break r,
            _ = tick.tick() => report(shared, i, &progresses, None),
        }
    };
    let mut canceled = false;
    let mut errors = Vec::new();
    for ((pvc, _, _), r) in progresses.iter().zip(results) {
        match r {
            Ok(Ok(Outcome::Done(done))) => {
                report(shared, i, &progresses, Some(pvc));
                note_done(shared, i, pvc, done);
            }
            Ok(Ok(Outcome::Canceled)) => canceled = true,
            Ok(Err(e)) => {
                let t = now();
                shared.update(i, |s| {
                    if let Some(task) = s
                        .step_mut(step::DISK_TRANSFER)
                        .and_then(|st| st.task_mut(pvc))
                    {
                        task.add_error(phase::COPY_DISKS, e.clone());
                        task.completed = Some(t);
                    }
                });
                errors.push(format!("{pvc}: {e}"));
            }
            Err(_) => errors.push(format!("{pvc}: the copy task stopped unexpectedly")),
        }
    }
    if canceled || cancel.load(Ordering::SeqCst) {
        return Err(Stop::Canceled);
    }
    if !errors.is_empty() {
        return Err(Stop::Failed(phase::COPY_DISKS.into(), errors.join("; ")));
    }
    Ok(())
}

/// Record on the disk's task what the copy did: nothing (already copied by
/// an earlier run) or how much an interrupted run had copied already.
fn note_done(shared: &Shared, i: usize, pvc: &str, done: Done) {
    shared.update(i, |s| {
        let Some(task) = s
            .step_mut(step::DISK_TRANSFER)
            .and_then(|st| st.task_mut(pvc))
        else {
            return;
        };
        if done.already_ready {
            task.annotations
                .insert("alreadyCopied".into(), "true".into());
        } else {
            task.annotations
                .insert("resumedBytes".into(), done.resumed_bytes.to_string());
            task.annotations
                .insert("writtenBytes".into(), done.written_bytes.to_string());
        }
    });
}

/// Copy progress into the tasks (MB); `finished` marks one task completed.
fn report(
    shared: &Shared,
    i: usize,
    progresses: &[(String, Arc<Progress>, u64)],
    finished: Option<&String>,
) {
    let t = now();
    shared.update(i, |s| {
        let Some(st) = s.step_mut(step::DISK_TRANSFER) else {
            return;
        };
        for (pvc, p, capacity) in progresses {
            if let Some(task) = st.task_mut(pvc) {
                // A finished task keeps its final numbers.
                if task.completed.is_some() && finished != Some(pvc) {
                    continue;
                }
                let done = if finished == Some(pvc) {
                    *capacity
                } else {
                    p.done().min(*capacity)
                };
                task.progress.completed = mb(done).min(task.progress.total);
                if finished == Some(pvc) {
                    task.mark_completed(t.clone());
                }
            }
        }
        st.reflect_tasks(t.clone());
    });
}
