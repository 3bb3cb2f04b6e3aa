//! Source providers as plug-ins. Everything a controller needs to know
//! about one provider type goes through [`SourceProvider`]; the controllers
//! never branch on `spec.type`. [`registry::source`] maps a type to its
//! adapter; a type without one is `ProviderTypeNotSupported`, never a
//! fallback to another provider.
//!
//! One folder per provider, each with the same files:
//!
//! | file | what it holds |
//! |---|---|
//! | `adapter.rs` | the [`SourceProvider`] implementation and the Provider's conditions (spec checks, connection test, collector registration) |
//! | `client.rs` | reaching the provider: URL, credentials, connection, its errors as advice |
//! | `session.rs` | one VM during a migration ([`SourceSession`]): power state, disks opened as images, warm capabilities |
//! | `collector.rs` | the inventory collector registered with `ferry-inventory` |
//! | `builder.rs` | an inventory VM → [`SourceVm`] (CPU, memory, firmware, disks, NICs, OS) |
//! | `checks.rs` | plan-time checks of one VM over the inventory |
//!
//! plus the provider's policy pack (`policies/<pack>/*.rego` at the
//! repository root, listed in `ferry-validation`'s `bundled.rs`).
//! Code that lives in its own crate (the vSphere SOAP client and inventory
//! model in `ferry-vsphere`, the OVF parser and package scanner in
//! `ferry-ovf` and `ferry-inventory`) is reached through the folder's
//! thin module, whose doc says where. Adding a provider: a new folder, its
//! `pub mod` line below, one line in [`registry`], and its policy pack.
use std::sync::Arc;
use std::time::Duration;

use ferry_core::api::plan_status::RestorePowerState;
use ferry_core::api::{Category, Provider, ProviderStatus};
use ferry_inventory::StoredResource;
use futures::future::BoxFuture;
use kube::runtime::controller::Action;
use serde_json::Value;

use crate::context::Context;
use crate::migration::source::{SourceDisk, SourceVm};

pub mod access;
pub mod ova;
pub mod ovirt;
pub mod registry;
pub mod secret;
pub mod vsphere;

/// How long a guest shutdown may take before the VM is powered off hard.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(300);

/// A capability a provider does not have, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// A sentence saying why, for logs, conditions and errors.
    pub reason: String,
}

impl Unsupported {
    /// A capability lacking for `reason`.
    pub fn because(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// A plan-time finding about one VM: the Plan condition it raises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Plan condition type (Forklift's name).
    pub condition: &'static str,
    /// Its category.
    pub category: Category,
    /// Its reason.
    pub reason: &'static str,
    /// Its message (the same for every VM it names).
    pub message: &'static str,
}

/// A disk of the source opened for reading.
pub struct OpenedDisk {
    /// The disk's guest image.
    pub image: Arc<dyn ferry_image::Image>,
    /// Identity for the resume journal: it changes when the source may
    /// have changed.
    pub identity: String,
    /// Where the disk is, for messages.
    pub label: String,
}

/// One provider type. Implementations are stateless; per-provider state
/// (sessions, connection tests) lives in the [`Context`].
pub trait SourceProvider: Send + Sync {
    /// The `spec.type` served (`ova`, `ovirt`, `vsphere`).
    fn provider_type(&self) -> &'static str;

    /// Check the Provider's spec (and Secret), test the connection,
    /// register the inventory collector and set the Provider's conditions
    /// and phase. Returns when to look again.
    fn assess<'a>(
        &'a self,
        provider: &'a Provider,
        ctx: &'a Arc<Context>,
        status: &'a mut ProviderStatus,
    ) -> BoxFuture<'a, Action>;

    /// The inventory collection holding the provider's storage (what a
    /// StorageMap's sources are resolved against).
    fn storage_collection(&self) -> &'static str;

    /// The inventory ids of the storage an inventory VM uses (what a
    /// StorageMap must map).
    fn vm_storages(&self, ctx: &Context, uid: &str, vm: &Value) -> Vec<String>;

    /// Plan-time findings about an inventory VM beyond the common checks.
    fn vm_findings(&self, vm: &Value) -> Vec<Finding>;

    /// The migration's view of an inventory VM.
    fn source_vm(
        &self,
        ctx: &Context,
        uid: &str,
        found: &StoredResource,
    ) -> Result<SourceVm, String>;

    /// The scheduling group of an inventory VM: VMs of one group share the
    /// in-flight limit (vSphere: the ESXi host). Empty: one group for all.
    fn schedule_group(&self, vm: &Value) -> String;

    /// Open the source of one VM for its migration. May adjust `vm` (for
    /// instance where its disks are read from).
    fn open<'a>(
        &'a self,
        ctx: &'a Arc<Context>,
        provider: &'a Provider,
        found: &'a StoredResource,
        vm: &'a mut SourceVm,
    ) -> BoxFuture<'a, Result<Arc<dyn SourceSession>, String>>;
}

/// The source of one VM during its migration.
pub trait SourceSession: Send + Sync {
    /// Control of the source VM's power, or why there is none.
    fn power(&self) -> Result<&dyn PowerControl, Unsupported>;

    /// Snapshots and changed-block queries (warm migration), or why not.
    fn warm(&self) -> Result<&dyn WarmSource, Unsupported>;

    /// Where the disks are read from when it is not the provider itself
    /// (a vSphere ESXi host), for the DiskTransfer step.
    fn transfer_host(&self) -> Option<String>;

    /// Open one disk for reading. Blocking (remote readers block): call it
    /// from a plain thread.
    fn open_disk(&self, disk: &SourceDisk) -> Result<OpenedDisk, String>;

    /// Release what [`SourceSession::open_disk`] set up on the source once
    /// the copy of `disk` ended (`copied`: it succeeded), e.g. finalize or
    /// cancel an oVirt image transfer. Sources whose disks are plain reads
    /// have nothing to release. Blocking, like `open_disk`.
    fn close_disk(&self, disk: &SourceDisk, copied: bool) -> Result<(), String> {
        let _ = (disk, copied);
        Ok(())
    }

    /// Whether the disks can be read at all (for example, the ESXi host
    /// that serves them answered). A session whose power control works but
    /// whose disks cannot be read is still returned by
    /// [`SourceProvider::open`], so that a failed (re)start can put the
    /// source's power back as it was.
    fn disks_readable(&self) -> Result<(), String>;
}

/// The source VM's power in a cold migration, in Forklift's phases.
pub trait PowerControl: Send + Sync {
    /// StorePowerState: the power state to restore.
    fn store_power_state(&self) -> BoxFuture<'_, Result<RestorePowerState, String>>;
    /// PowerOffSource: ask the guest to shut down (or power off).
    fn power_off_source(&self) -> BoxFuture<'_, Result<(), String>>;
    /// WaitForPowerOff: until off, powering off hard after `timeout`.
    fn wait_for_power_off(&self, timeout: Duration) -> BoxFuture<'_, Result<(), String>>;
    /// Fail when the VM was deleted since the migration started.
    fn check_still_there(&self) -> BoxFuture<'_, Result<(), String>>;
    /// Put the source back as it was after a failure or cancel.
    fn restore(&self, was: Option<RestorePowerState>) -> BoxFuture<'_, ()>;
}

/// Snapshots and changed extents of a source VM (warm migration).
pub trait WarmSource: Send + Sync {
    /// Take a snapshot; returns its id.
    fn create_snapshot(&self) -> BoxFuture<'_, Result<String, String>>;
    /// Remove a snapshot taken by [`WarmSource::create_snapshot`].
    fn remove_snapshot<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), String>>;
    /// The byte ranges of `disk` changed between snapshot `since` and
    /// snapshot `now`.
    fn changed_extents<'a>(
        &'a self,
        disk: &'a SourceDisk,
        since: &'a str,
        now: &'a str,
    ) -> BoxFuture<'a, Result<Vec<std::ops::Range<u64>>, String>>;
}
