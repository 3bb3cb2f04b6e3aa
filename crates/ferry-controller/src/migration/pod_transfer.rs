//! What a transfer pod does (`ferry transfer`): copy every disk of one VM
//! from its source onto the PVCs mounted in the pod, with the resume
//! journal on each PVC, and report progress.
//!
//! The operator writes a [`TransferSpec`] into the pod (env
//! `FERRY_TRANSFER_SPEC`, JSON; it holds no secret). The pod reports back
//! through annotations on its own Pod object: [`PROGRESS_ANNOTATION`]
//! (JSON: a [`DiskReport`] per PVC) while it runs and at the end, and
//! [`ERROR_ANNOTATION`] when it fails. The operator reads them into the
//! Plan's per-disk tasks; pod phase `Succeeded` means every disk is
//! complete, flushed, verified and marked ready on its PVC.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ferry_copy::Progress;
use ferry_destination::{Destination, VolumeRequest};
use serde::{Deserialize, Serialize};

use super::disks::{CopyJob, Outcome, copy_disk};
use super::source::{DiskLocation, SourceDisk};
use crate::providers::SourceSession;

/// The env var holding the [`TransferSpec`].
pub const SPEC_ENV: &str = "FERRY_TRANSFER_SPEC";
/// Pod annotation with the per-disk progress (JSON map PVC → [`DiskReport`]).
pub const PROGRESS_ANNOTATION: &str = "ferry.konveyor.io/transfer-progress";
/// Pod annotation with the reason of a failed transfer.
pub const ERROR_ANNOTATION: &str = "ferry.konveyor.io/transfer-error";

/// One disk to copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferDisk {
    /// The PVC (mounted at `MOUNT_ROOT/<pvc>`).
    pub pvc: String,
    /// Guest capacity in bytes.
    pub capacity: u64,
    /// The `forklift.konveyor.io/disk-source` value.
    pub source: String,
    /// Where the bytes are.
    pub location: TransferLocation,
}

/// Where a disk's bytes are, as the pod reaches them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum TransferLocation {
    /// A member (`href`) of an OVA package (file or folder) mounted in the
    /// pod at the same path.
    Ova {
        /// The package path.
        package: String,
        /// The disk's href in it.
        href: String,
    },
}

/// What one transfer pod copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferSpec {
    /// Target namespace (of the PVCs).
    pub namespace: String,
    /// The disks.
    pub disks: Vec<TransferDisk>,
    /// Compare source and target checksums.
    pub verify: bool,
    /// Copy worker threads per disk (0: cores).
    pub workers: usize,
}

/// Progress of one disk as the pod reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskReport {
    /// Guest bytes done.
    pub done: u64,
    /// Guest bytes in all.
    pub total: u64,
    /// Complete, flushed (and verified) and marked ready on the PVC.
    pub ready: bool,
    /// Complete from an earlier pod: nothing was copied.
    #[serde(default)]
    pub already_copied: bool,
    /// Bytes an earlier, interrupted pod had copied (not copied again).
    #[serde(default)]
    pub resumed_bytes: u64,
    /// Bytes written by this pod.
    #[serde(default)]
    pub written_bytes: u64,
    /// Why this disk failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A running transfer's live state, read by the reporter.
#[derive(Debug, Default)]
pub struct Live {
    disks: Vec<(String, Arc<Progress>, u64)>,
    finished: std::sync::Mutex<BTreeMap<String, DiskReport>>,
}

impl Live {
    /// The report of every disk now.
    pub fn report(&self) -> BTreeMap<String, DiskReport> {
        let finished = self.finished.lock().map(|f| f.clone()).unwrap_or_default();
        self.disks
            .iter()
            .map(|(pvc, p, total)| {
                let r = finished.get(pvc).cloned().unwrap_or_else(|| DiskReport {
                    done: p.done().min(*total),
                    total: *total,
                    ..DiskReport::default()
                });
                (pvc.clone(), r)
            })
            .collect()
    }
}

/// Prepare a transfer: the live state the reporter reads.
pub fn live(spec: &TransferSpec) -> Arc<Live> {
    Arc::new(Live {
        disks: spec
            .disks
            .iter()
            .map(|d| {
                (
                    d.pvc.clone(),
                    Arc::new(Progress::with_total(d.capacity)),
                    d.capacity,
                )
            })
            .collect(),
        finished: std::sync::Mutex::new(BTreeMap::new()),
    })
}

/// Copy every disk of `spec` onto `dest`, one thread per disk, with `open`
/// giving each disk's source session. Blocking. Returns the failures
/// (`pvc: reason`), empty when every disk is ready.
pub fn run(
    spec: &TransferSpec,
    dest: &(dyn Destination + 'static),
    session: &dyn SourceSession,
    live: &Live,
) -> Vec<String> {
    let cancel = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| {
        let handles: Vec<_> = spec
            .disks
            .iter()
            .zip(&live.disks)
            .map(|(d, (_, progress, _))| {
                let cancel = cancel.clone();
                let progress = progress.clone();
                scope.spawn(move || {
                    let vol = dest
                        .create_volume(&VolumeRequest {
                            namespace: spec.namespace.clone(),
                            name: d.pvc.clone(),
                            capacity: d.capacity,
                        })
                        .map_err(|e| crate::error::chain(&e))?;
                    let TransferLocation::Ova { package, href } = &d.location;
                    let src = SourceDisk {
                        source: d.source.clone(),
                        capacity: i64::try_from(d.capacity).unwrap_or(i64::MAX),
                        location: DiskLocation::Ova {
                            package: package.clone(),
                            href: href.clone(),
                        },
                    };
                    let job = CopyJob {
                        progress,
                        cancel,
                        workers: spec.workers,
                        verify: spec.verify,
                        limit: None,
                    };
                    copy_disk(dest, &vol, &src, session, job)
                })
            })
            .collect();
        let mut errors = Vec::new();
        for (d, h) in spec.disks.iter().zip(handles) {
            let result = h
                .join()
                .unwrap_or_else(|_| Err("the copy thread panicked".to_owned()));
            let report = match result {
                Ok(Outcome::Done(done)) => DiskReport {
                    done: d.capacity,
                    total: d.capacity,
                    ready: true,
                    already_copied: done.already_ready,
                    resumed_bytes: done.resumed_bytes,
                    written_bytes: done.written_bytes,
                    error: None,
                },
                Ok(Outcome::Canceled) => DiskReport {
                    total: d.capacity,
                    error: Some("canceled".into()),
                    ..DiskReport::default()
                },
                Err(e) => {
                    errors.push(format!("{}: {e}", d.pvc));
                    DiskReport {
                        total: d.capacity,
                        error: Some(e),
                        ..DiskReport::default()
                    }
                }
            };
            if let Ok(mut f) = live.finished.lock() {
                f.insert(d.pvc.clone(), report);
            }
        }
        errors
    })
}
