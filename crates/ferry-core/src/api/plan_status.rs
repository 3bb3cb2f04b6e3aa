//! Plan and Migration status: the per-VM migration record (phase,
//! pipeline steps with per-disk tasks, progress, warm precopies, errors).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::Conditions;
use super::open_enum::open_enum;
use super::phases::step_phase;
use super::plan::PlanVm;

/// Plan status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanStatus {
    /// Conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// The generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The current (or last) execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationStatus>,
    /// True when the destination is a NetApp Shift conversion target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_app_shift_destination: Option<bool>,
}

/// `status.migration` of a Plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationStatus {
    /// When the execution started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Time>,
    /// When it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Time>,
    /// One snapshot per execution.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Snapshot>,
    /// Per-VM status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vms: Vec<VmStatus>,
}

impl MigrationStatus {
    /// The status of the VM matching `vm` (by id, else by name).
    pub fn find_vm(&self, vm: &PlanVm) -> Option<&VmStatus> {
        self.vms.iter().find(|s| s.vm.matches(vm))
    }

    /// Mutable access to the status of the VM matching `vm`.
    pub fn find_vm_mut(&mut self, vm: &PlanVm) -> Option<&mut VmStatus> {
        self.vms.iter_mut().find(|s| s.vm.matches(vm))
    }
}

impl PlanVm {
    /// Forklift's ref matching: by `id` when set on both, else by `name`.
    pub fn matches(&self, other: &PlanVm) -> bool {
        let nonempty =
            |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        match (nonempty(&self.id), nonempty(&other.id)) {
            (Some(a), Some(b)) => a == b,
            _ => match (nonempty(&self.name), nonempty(&other.name)) {
                (Some(a), Some(b)) => a == b && self.namespace == other.namespace,
                _ => false,
            },
        }
    }
}

/// A `{namespace, name, uid, generation}` snapshot of one object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Generation.
    pub generation: i64,
}

/// Snapshot of the provider pair.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotProviderPair {
    /// Source provider.
    pub source: SnapshotRef,
    /// Destination provider.
    pub destination: SnapshotRef,
}

/// Snapshot of the maps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotMapPair {
    /// NetworkMap.
    pub network: SnapshotRef,
    /// StorageMap.
    pub storage: SnapshotRef,
}

/// One entry of `status.migration.history[]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Snapshot {
    /// Conditions at the time.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// Providers.
    pub provider: SnapshotProviderPair,
    /// The plan.
    pub plan: SnapshotRef,
    /// The maps.
    pub map: SnapshotMapPair,
    /// The migration.
    pub migration: SnapshotRef,
}

open_enum! {
    /// The source VM's power state before migration (`restorePowerState`).
    pub enum RestorePowerState {
        /// Powered on.
        On => "On",
        /// Powered off.
        Off => "Off",
        /// Unknown.
        Unknown => "Unknown",
    }
}

/// One VM's migration status (`status.migration.vms[]`, Migration `status.vms[]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VmStatus {
    /// The VM as in the plan spec.
    #[serde(flatten)]
    pub vm: PlanVm,
    /// When this VM started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Time>,
    /// When this VM completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Time>,
    /// The current phase (see [`super::phases::phase`]).
    pub phase: String,
    /// The steps.
    pub pipeline: Vec<Step>,
    /// The error that failed the VM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
    /// Warm migration state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<Warm>,
    /// The source VM's power state, restored on failure or used for `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_power_state: Option<RestorePowerState>,
    /// Source firmware (bios/efi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// Detected guest OS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    /// Boot disk index detected during conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_boot_disk: Option<i64>,
    /// The name after DNS-1123 sanitisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// True once all disks are copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disks_copied: Option<bool>,
    /// Per-VM conditions.
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
}

impl VmStatus {
    /// The step named `name`.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.pipeline.iter().find(|s| s.name == name)
    }

    /// Mutable access to the step named `name`.
    pub fn step_mut(&mut self, name: &str) -> Option<&mut Step> {
        self.pipeline.iter_mut().find(|s| s.name == name)
    }

    /// True when the VM reached a final phase (Completed).
    pub fn is_completed(&self) -> bool {
        self.completed.is_some()
    }

    /// Marks the VM failed in `phase` with `reasons`.
    pub fn fail(&mut self, phase: &str, reasons: Vec<String>) {
        self.error = Some(StepError {
            phase: phase.to_owned(),
            reasons,
        });
    }
}

/// An error (or warning) recorded in a phase.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepError {
    /// The phase it happened in.
    pub phase: String,
    /// Why.
    pub reasons: Vec<String>,
}

/// Progress of a step or task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    /// Units done.
    pub completed: i64,
    /// Units in total.
    pub total: i64,
}

/// Step/task annotation keys.
pub mod annotations {
    /// The unit of `progress` (`MB` for disk steps).
    pub const UNIT: &str = "unit";
    /// Megabytes.
    pub const UNIT_MB: &str = "MB";
}

/// A per-disk (or per-hook) task within a step. Same shape as a step, without tasks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    /// The task name (e.g. the disk's backing file).
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Pending, Running or Completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Reason for the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Progress.
    pub progress: Progress,
    /// Annotations, e.g. `unit: MB`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Time>,
    /// When it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Time>,
    /// Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
    /// Warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<StepError>,
}

impl Task {
    /// A pending task with progress `0 / total`.
    pub fn pending(name: impl Into<String>, total: i64) -> Self {
        Self {
            name: name.into(),
            phase: Some(step_phase::PENDING.to_owned()),
            progress: Progress {
                completed: 0,
                total,
            },
            ..Self::default()
        }
    }

    /// True when marked started.
    pub fn marked_started(&self) -> bool {
        self.started.is_some()
    }

    /// True when marked completed.
    pub fn marked_completed(&self) -> bool {
        self.completed.is_some()
    }

    /// Marks the task started now (once) and Running.
    pub fn mark_started(&mut self, now: Time) {
        if self.started.is_none() {
            self.started = Some(now);
        }
        self.phase = Some(step_phase::RUNNING.to_owned());
    }

    /// Marks the task completed now (once) and Completed.
    pub fn mark_completed(&mut self, now: Time) {
        if self.started.is_none() {
            self.started = Some(now.clone());
        }
        if self.completed.is_none() {
            self.completed = Some(now);
        }
        self.phase = Some(step_phase::COMPLETED.to_owned());
    }

    /// Records an error; keeps reasons already recorded.
    pub fn add_error(&mut self, phase: &str, reason: impl Into<String>) {
        let e = self.error.get_or_insert_with(|| StepError {
            phase: phase.to_owned(),
            reasons: Vec::new(),
        });
        e.phase = phase.to_owned();
        e.reasons.push(reason.into());
    }
}

/// One pipeline step (`vms[].pipeline[]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// The step name (see [`super::phases::step`]).
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Pending, Running or Completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Reason for the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Progress (summed over tasks for disk steps).
    pub progress: Progress,
    /// Annotations, e.g. `unit: MB`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Time>,
    /// When it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Time>,
    /// Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
    /// Warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<StepError>,
    /// One task per disk (or hook job).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
}

impl Step {
    /// A pending step.
    pub fn pending(name: impl Into<String>, description: impl Into<String>, total: i64) -> Self {
        Self {
            name: name.into(),
            description: Some(description.into()),
            phase: Some(step_phase::PENDING.to_owned()),
            progress: Progress {
                completed: 0,
                total,
            },
            ..Self::default()
        }
    }

    /// The task named `name`.
    pub fn task_mut(&mut self, name: &str) -> Option<&mut Task> {
        self.tasks.iter_mut().find(|t| t.name == name)
    }

    /// Sets `progress.completed`/`total` to the sums over the tasks
    /// (Forklift's `ReflectTasks`), and marks the step completed when every
    /// task is.
    pub fn reflect_tasks(&mut self, now: Time) {
        if self.tasks.is_empty() {
            return;
        }
        self.progress.completed = self.tasks.iter().map(|t| t.progress.completed).sum();
        self.progress.total = self.tasks.iter().map(|t| t.progress.total).sum();
        if self.tasks.iter().any(Task::marked_started) && self.started.is_none() {
            self.started = Some(now.clone());
            self.phase = Some(step_phase::RUNNING.to_owned());
        }
        if self.tasks.iter().all(Task::marked_completed) {
            if self.completed.is_none() {
                self.completed = Some(now);
            }
            self.phase = Some(step_phase::COMPLETED.to_owned());
        }
        for t in &self.tasks {
            if let Some(e) = &t.error {
                let mine = self.error.get_or_insert_with(|| StepError {
                    phase: e.phase.clone(),
                    reasons: Vec::new(),
                });
                for r in &e.reasons {
                    if !mine.reasons.contains(r) {
                        mine.reasons.push(r.clone());
                    }
                }
            }
        }
    }

    /// Marks the step started now (once) and Running.
    pub fn mark_started(&mut self, now: Time) {
        if self.started.is_none() {
            self.started = Some(now);
        }
        self.phase = Some(step_phase::RUNNING.to_owned());
    }

    /// Marks the step completed now (once) and Completed.
    pub fn mark_completed(&mut self, now: Time) {
        if self.started.is_none() {
            self.started = Some(now.clone());
        }
        if self.completed.is_none() {
            self.completed = Some(now);
        }
        self.phase = Some(step_phase::COMPLETED.to_owned());
    }
}

/// Warm migration state of one VM.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Warm {
    /// Successful precopies.
    pub successes: i64,
    /// Failed precopies.
    pub failures: i64,
    /// Failures in a row.
    pub consecutive_failures: i64,
    /// When the next precopy is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_precopy_at: Option<Time>,
    /// The precopies so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub precopies: Vec<Precopy>,
}

/// One precopy (snapshot + delta copy).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Precopy {
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Time>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Time>,
    /// The source snapshot (vSphere MoRef).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The snapshot creation task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_task_id: Option<String>,
    /// The snapshot removal task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_task_id: Option<String>,
    /// Per-disk change IDs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deltas: Vec<DiskDelta>,
}

/// A disk's change ID (vSphere CBT `changeId`) at a precopy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiskDelta {
    /// The disk (backing file).
    pub disk: String,
    /// The change ID.
    pub delta_id: String,
}
