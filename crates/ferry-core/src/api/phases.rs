//! Per-VM phase names, pipeline step names and the built-in migrator's
//! itineraries (Forklift `plan/migrator/base/migrator.go`), so every
//! controller uses the same strings.

/// Per-VM phases (`vms[].phase`).
pub mod phase {
    #![allow(missing_docs)]
    pub const STARTED: &str = "Started";
    pub const PRE_HOOK: &str = "PreHook";
    pub const STORE_POWER_STATE: &str = "StorePowerState";
    pub const POWER_OFF_SOURCE: &str = "PowerOffSource";
    pub const WAIT_FOR_POWER_OFF: &str = "WaitForPowerOff";
    pub const CREATE_DATA_VOLUMES: &str = "CreateDataVolumes";
    pub const COPY_DISKS: &str = "CopyDisks";
    pub const ALLOCATE_DISKS: &str = "AllocateDisks";
    pub const CREATE_GUEST_CONVERSION_POD: &str = "CreateGuestConversionPod";
    pub const CONVERT_GUEST: &str = "ConvertGuest";
    pub const COPY_DISKS_VIRT_V2V: &str = "CopyDisksVirtV2V";
    pub const CONVERT_OPENSTACK_SNAPSHOT: &str = "ConvertOpenstackSnapshot";
    pub const CREATE_VM: &str = "CreateVM";
    pub const WAIT_FOR_GUEST_REBOOTS: &str = "WaitForGuestReboots";
    pub const POST_HOOK: &str = "PostHook";
    pub const COMPLETED: &str = "Completed";
    // Warm.
    pub const CREATE_INITIAL_SNAPSHOT: &str = "CreateInitialSnapshot";
    pub const WAIT_FOR_INITIAL_SNAPSHOT: &str = "WaitForInitialSnapshot";
    pub const STORE_INITIAL_SNAPSHOT_DELTAS: &str = "StoreInitialSnapshotDeltas";
    pub const PREFLIGHT_INSPECTION: &str = "PreflightInspection";
    pub const COPYING_PAUSED: &str = "CopyingPaused";
    pub const REMOVE_PREVIOUS_SNAPSHOT: &str = "RemovePreviousSnapshot";
    pub const WAIT_FOR_PREVIOUS_SNAPSHOT_REMOVAL: &str = "WaitForPreviousSnapshotRemoval";
    pub const CREATE_SNAPSHOT: &str = "CreateSnapshot";
    pub const WAIT_FOR_SNAPSHOT: &str = "WaitForSnapshot";
    pub const STORE_SNAPSHOT_DELTAS: &str = "StoreSnapshotDeltas";
    pub const ADD_CHECKPOINT: &str = "AddCheckpoint";
    pub const REMOVE_PENULTIMATE_SNAPSHOT: &str = "RemovePenultimateSnapshot";
    pub const WAIT_FOR_PENULTIMATE_SNAPSHOT_REMOVAL: &str = "WaitForPenultimateSnapshotRemoval";
    pub const CREATE_FINAL_SNAPSHOT: &str = "CreateFinalSnapshot";
    pub const WAIT_FOR_FINAL_SNAPSHOT: &str = "WaitForFinalSnapshot";
    pub const ADD_FINAL_CHECKPOINT: &str = "AddFinalCheckpoint";
    pub const FINALIZE: &str = "Finalize";
    pub const REMOVE_FINAL_SNAPSHOT: &str = "RemoveFinalSnapshot";
    pub const WAIT_FOR_FINAL_SNAPSHOT_REMOVAL: &str = "WaitForFinalSnapshotRemoval";
    // OpenShift live migration.
    pub const CREATE_SECRETS: &str = "CreateSecrets";
    pub const CREATE_CONFIG_MAPS: &str = "CreateConfigMaps";
    pub const ENSURE_PREFERENCE: &str = "EnsurePreference";
    pub const ENSURE_INSTANCE_TYPE: &str = "EnsureInstanceType";
    pub const ENSURE_DATA_VOLUMES: &str = "EnsureDataVolumes";
    pub const ENSURE_PERSISTENT_VOLUME_CLAIMS: &str = "EnsurePersistentVolumeClaims";
    pub const CREATE_TARGET: &str = "CreateTarget";
    pub const SET_OWNER_REFERENCES: &str = "SetOwnerReferences";
    pub const CREATE_SERVICE_EXPORTS: &str = "CreateServiceExports";
    pub const WAIT_FOR_TARGET_VMI: &str = "WaitForTargetVMI";
    pub const CREATE_VMI_MIGRATIONS: &str = "CreateVirtualMachineInstanceMigrations";
    pub const WAIT_FOR_STATE_TRANSFER: &str = "WaitForStateTransfer";
}

/// Pipeline step names (`vms[].pipeline[].name`).
pub mod step {
    #![allow(missing_docs)]
    pub const INITIALIZE: &str = "Initialize";
    pub const PRE_HOOK: &str = "PreHook";
    pub const PREFLIGHT_INSPECTION: &str = "PreflightInspection";
    pub const DISK_ALLOCATION: &str = "DiskAllocation";
    pub const DISK_TRANSFER: &str = "DiskTransfer";
    pub const CUTOVER: &str = "Cutover";
    pub const IMAGE_CONVERSION: &str = "ImageConversion";
    pub const DISK_TRANSFER_V2V: &str = "DiskTransferV2v";
    pub const VM_CREATION: &str = "VirtualMachineCreation";
    pub const WAIT_FOR_GUEST_REBOOTS: &str = "WaitForGuestReboots";
    pub const POST_HOOK: &str = "PostHook";
    pub const WAIT_FOR_FINAL_SNAPSHOT_CONSOLIDATION: &str = "WaitForFinalSnapshotConsolidation";
    // OpenShift live migration.
    pub const PREPARE_TARGET: &str = "PrepareTarget";
    pub const SYNCHRONIZATION: &str = "Synchronization";
}

/// Pipeline step / task phases.
pub mod step_phase {
    /// Not started.
    pub const PENDING: &str = "Pending";
    /// In progress.
    pub const RUNNING: &str = "Running";
    /// Done.
    pub const COMPLETED: &str = "Completed";
}

use phase as p;

/// The cold itinerary, every phase in order (phases whose predicate is
/// false are skipped by the migrator).
pub const COLD: &[&str] = &[
    p::STARTED,
    p::PRE_HOOK,
    p::STORE_POWER_STATE,
    p::POWER_OFF_SOURCE,
    p::WAIT_FOR_POWER_OFF,
    p::CREATE_DATA_VOLUMES,
    p::COPY_DISKS,
    p::ALLOCATE_DISKS,
    p::CREATE_GUEST_CONVERSION_POD,
    p::CONVERT_GUEST,
    p::COPY_DISKS_VIRT_V2V,
    p::CONVERT_OPENSTACK_SNAPSHOT,
    p::CREATE_VM,
    p::WAIT_FOR_GUEST_REBOOTS,
    p::POST_HOOK,
    p::COMPLETED,
];

/// The warm itinerary. From [`phase::ADD_CHECKPOINT`] the migrator loops
/// back to [`phase::COPY_DISKS`]; from [`phase::COPYING_PAUSED`] it jumps
/// to [`phase::STORE_POWER_STATE`] once the cutover time has passed.
pub const WARM: &[&str] = &[
    p::STARTED,
    p::PRE_HOOK,
    p::CREATE_INITIAL_SNAPSHOT,
    p::WAIT_FOR_INITIAL_SNAPSHOT,
    p::STORE_INITIAL_SNAPSHOT_DELTAS,
    p::PREFLIGHT_INSPECTION,
    p::CREATE_DATA_VOLUMES,
    p::COPY_DISKS,
    p::COPYING_PAUSED,
    p::REMOVE_PREVIOUS_SNAPSHOT,
    p::WAIT_FOR_PREVIOUS_SNAPSHOT_REMOVAL,
    p::CREATE_SNAPSHOT,
    p::WAIT_FOR_SNAPSHOT,
    p::STORE_SNAPSHOT_DELTAS,
    p::ADD_CHECKPOINT,
    p::STORE_POWER_STATE,
    p::POWER_OFF_SOURCE,
    p::WAIT_FOR_POWER_OFF,
    p::REMOVE_PENULTIMATE_SNAPSHOT,
    p::WAIT_FOR_PENULTIMATE_SNAPSHOT_REMOVAL,
    p::CREATE_FINAL_SNAPSHOT,
    p::WAIT_FOR_FINAL_SNAPSHOT,
    p::ADD_FINAL_CHECKPOINT,
    p::FINALIZE,
    p::REMOVE_FINAL_SNAPSHOT,
    p::CREATE_GUEST_CONVERSION_POD,
    p::CONVERT_GUEST,
    p::CREATE_VM,
    p::WAIT_FOR_GUEST_REBOOTS,
    p::POST_HOOK,
    p::WAIT_FOR_FINAL_SNAPSHOT_REMOVAL,
    p::COMPLETED,
];

/// The conversion-only itinerary (`type: conversion`).
pub const CONVERSION: &[&str] = &[
    p::STARTED,
    p::PRE_HOOK,
    p::STORE_POWER_STATE,
    p::POWER_OFF_SOURCE,
    p::WAIT_FOR_POWER_OFF,
    p::CREATE_GUEST_CONVERSION_POD,
    p::CONVERT_GUEST,
    p::CREATE_VM,
    p::WAIT_FOR_GUEST_REBOOTS,
    p::POST_HOOK,
    p::COMPLETED,
];

/// Resume conversion (`Migration.spec.resumeConversion`): conversion-only
/// without the power-off phases.
pub const RESUME_CONVERSION: &[&str] = &[
    p::STARTED,
    p::PRE_HOOK,
    p::CREATE_GUEST_CONVERSION_POD,
    p::CONVERT_GUEST,
    p::CREATE_VM,
    p::WAIT_FOR_GUEST_REBOOTS,
    p::POST_HOOK,
    p::COMPLETED,
];

/// The OpenShift live-migration itinerary.
pub const LIVE: &[&str] = &[
    p::STARTED,
    p::PRE_HOOK,
    p::CREATE_SECRETS,
    p::CREATE_CONFIG_MAPS,
    p::ENSURE_PREFERENCE,
    p::ENSURE_INSTANCE_TYPE,
    p::ENSURE_DATA_VOLUMES,
    p::ENSURE_PERSISTENT_VOLUME_CLAIMS,
    p::CREATE_TARGET,
    p::SET_OWNER_REFERENCES,
    p::CREATE_SERVICE_EXPORTS,
    p::WAIT_FOR_TARGET_VMI,
    p::CREATE_VMI_MIGRATIONS,
    p::WAIT_FOR_STATE_TRANSFER,
    p::POST_HOOK,
    p::COMPLETED,
];

/// The pipeline step a phase belongs to. `warm` selects the warm grouping
/// (power-off phases belong to Cutover instead of Initialize). Returns
/// `None` for Completed.
pub fn step_of(phase_name: &str, warm: bool) -> Option<&'static str> {
    use step as s;
    Some(match phase_name {
        p::STARTED
        | p::CREATE_INITIAL_SNAPSHOT
        | p::WAIT_FOR_INITIAL_SNAPSHOT
        | p::STORE_INITIAL_SNAPSHOT_DELTAS => s::INITIALIZE,
        p::STORE_POWER_STATE | p::POWER_OFF_SOURCE | p::WAIT_FOR_POWER_OFF if warm => s::CUTOVER,
        p::STORE_POWER_STATE | p::POWER_OFF_SOURCE | p::WAIT_FOR_POWER_OFF => s::INITIALIZE,
        p::CREATE_DATA_VOLUMES if warm => s::DISK_TRANSFER,
        p::CREATE_DATA_VOLUMES => s::INITIALIZE,
        p::PRE_HOOK => s::PRE_HOOK,
        p::PREFLIGHT_INSPECTION => s::PREFLIGHT_INSPECTION,
        p::ALLOCATE_DISKS => s::DISK_ALLOCATION,
        p::COPY_DISKS
        | p::COPYING_PAUSED
        | p::REMOVE_PREVIOUS_SNAPSHOT
        | p::WAIT_FOR_PREVIOUS_SNAPSHOT_REMOVAL
        | p::CREATE_SNAPSHOT
        | p::WAIT_FOR_SNAPSHOT
        | p::STORE_SNAPSHOT_DELTAS
        | p::ADD_CHECKPOINT
        | p::CONVERT_OPENSTACK_SNAPSHOT => s::DISK_TRANSFER,
        p::REMOVE_PENULTIMATE_SNAPSHOT
        | p::WAIT_FOR_PENULTIMATE_SNAPSHOT_REMOVAL
        | p::CREATE_FINAL_SNAPSHOT
        | p::WAIT_FOR_FINAL_SNAPSHOT
        | p::ADD_FINAL_CHECKPOINT
        | p::FINALIZE
        | p::REMOVE_FINAL_SNAPSHOT => s::CUTOVER,
        p::CREATE_GUEST_CONVERSION_POD | p::CONVERT_GUEST => s::IMAGE_CONVERSION,
        p::COPY_DISKS_VIRT_V2V => s::DISK_TRANSFER_V2V,
        p::CREATE_VM => s::VM_CREATION,
        p::WAIT_FOR_GUEST_REBOOTS => s::WAIT_FOR_GUEST_REBOOTS,
        p::POST_HOOK => s::POST_HOOK,
        p::WAIT_FOR_FINAL_SNAPSHOT_REMOVAL => s::WAIT_FOR_FINAL_SNAPSHOT_CONSOLIDATION,
        p::CREATE_SECRETS
        | p::CREATE_CONFIG_MAPS
        | p::ENSURE_PREFERENCE
        | p::ENSURE_INSTANCE_TYPE
        | p::ENSURE_DATA_VOLUMES
        | p::ENSURE_PERSISTENT_VOLUME_CLAIMS
        | p::CREATE_TARGET
        | p::SET_OWNER_REFERENCES
        | p::CREATE_SERVICE_EXPORTS => s::PREPARE_TARGET,
        p::WAIT_FOR_TARGET_VMI | p::CREATE_VMI_MIGRATIONS | p::WAIT_FOR_STATE_TRANSFER => {
            s::SYNCHRONIZATION
        }
        _ => return None,
    })
}

/// The phase after `current` in `itinerary`, if any.
pub fn next_phase(itinerary: &[&'static str], current: &str) -> Option<&'static str> {
    let i = itinerary.iter().position(|x| *x == current)?;
    itinerary.get(i + 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phase_but_completed_has_a_step() {
        for list in [COLD, WARM, CONVERSION, RESUME_CONVERSION, LIVE] {
            for ph in list.iter() {
                let got = step_of(ph, list == WARM);
                assert_eq!(got.is_none(), *ph == phase::COMPLETED, "phase {ph}");
            }
        }
    }

    #[test]
    fn itineraries_start_and_end() {
        for list in [COLD, WARM, CONVERSION, RESUME_CONVERSION, LIVE] {
            assert_eq!(list.first(), Some(&phase::STARTED));
            assert_eq!(list.last(), Some(&phase::COMPLETED));
        }
        assert_eq!(
            next_phase(COLD, phase::CREATE_VM),
            Some(phase::WAIT_FOR_GUEST_REBOOTS)
        );
        assert_eq!(next_phase(COLD, phase::COMPLETED), None);
        assert_eq!(step_of(phase::POWER_OFF_SOURCE, true), Some(step::CUTOVER));
        assert_eq!(
            step_of(phase::POWER_OFF_SOURCE, false),
            Some(step::INITIALIZE)
        );
    }
}
