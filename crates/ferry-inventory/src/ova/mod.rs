//! The OVA collector: scans the provider path with `ferry-ovf` and turns
//! what it finds into Forklift's OVA collections: `vms`, `disks`,
//! `networks`, and the one dummy storage Forklift's OVA provider reports
//! (id = the Provider UID, name = `Dummy storage for source provider <name>`).
//!
//! Rescans are cheap: the [`ferry_ovf::scan::Scanner`] keeps manifest
//! results of unchanged packages, and the store bumps revisions only for
//! VMs whose parsed JSON changed. Packages that cannot be read become
//! snapshot warnings; a provider path that cannot be reached is a
//! connection failure (`ConnectionTestFailed`).
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ferry_ovf::location::Location;
use ferry_ovf::scan::{ScanOptions, Scanner};
use serde::Serialize;
use serde_json::{Value, json};

use crate::collector::{BoxFuture, Collector};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{ProviderInfo, Resource, Snapshot, VMS};

mod forklift_json;

#[cfg(test)]
mod tests;

/// Provider type served.
pub const OVA: &str = "ova";
/// Kinds as Forklift's OVA inventory names them.
pub const VM_KIND: &str = "VM";
/// Disk kind.
pub const DISK_KIND: &str = "Disk";
/// Network kind.
pub const NETWORK_KIND: &str = "Network";
/// Storage kind.
pub const STORAGE_KIND: &str = "Storage";

/// Collector settings.
#[derive(Debug, Clone)]
pub struct OvaOptions {
    /// Verify `.mf` manifests (a mismatch becomes a Critical concern through the policies).
    pub verify_manifests: bool,
    /// Skip files modified more recently than this (still being copied);
    /// Forklift waits 30 s. `None` takes every file.
    pub min_age: Option<Duration>,
}

impl Default for OvaOptions {
    fn default() -> Self {
        Self {
            verify_manifests: true,
            min_age: Some(Duration::from_secs(30)),
        }
    }
}

/// Collects one OVA provider. Cheap to clone (shares its scan cache).
#[derive(Clone)]
pub struct OvaCollector {
    inner: Arc<Inner>,
}

struct Inner {
    location: Location,
    uid: String,
    provider_name: String,
    scanner: Mutex<Scanner>,
    min_age: Option<Duration>,
    /// When a package skipped as too young becomes old enough to scan.
    next_rescan: Mutex<Option<tokio::time::Instant>>,
}

impl std::fmt::Debug for OvaCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OvaCollector")
            .field("location", &self.inner.location)
            .field("uid", &self.inner.uid)
            .finish()
    }
}

impl OvaCollector {
    /// A collector for the Provider `info` (its `url` is a local path,
    /// `nfs://server/path` or `server:/path`).
    pub fn new(info: &ProviderInfo, options: OvaOptions) -> Result<Self> {
        let location = Location::parse(&info.url).map_err(|e| {
            Error::new(
                ErrorKind::Collect,
                format!(
                    "provider {}/{} has an unusable url",
                    info.namespace, info.name
                ),
            )
            .with_source(e)
        })?;
        let scan = ScanOptions {
            verify_manifests: options.verify_manifests,
            min_age: options.min_age,
            ..Default::default()
        };
        Ok(Self {
            inner: Arc::new(Inner {
                location,
                uid: info.uid.clone(),
                provider_name: info.name.clone(),
                scanner: Mutex::new(Scanner::new(scan)),
                min_age: options.min_age,
                next_rescan: Mutex::new(None),
            }),
        })
    }

    /// Scan now (blocking file I/O; call from a blocking thread).
    pub fn collect_blocking(&self) -> Result<Snapshot> {
        self.inner.collect()
    }
}

impl Inner {
    fn collect(&self) -> Result<Snapshot> {
        let root: PathBuf = self.location.resolve().map_err(|e| {
            Error::new(
                ErrorKind::Connection,
                "the OVA provider path is not reachable",
            )
            .with_source(e)
        })?;
        let report = {
            let mut scanner = self.scanner.lock().unwrap_or_else(|p| p.into_inner());
            scanner.scan(&root)
        }
        .map_err(|e| {
            let kind = if e.kind() == ferry_ovf::ErrorKind::Location {
                ErrorKind::Connection
            } else {
                ErrorKind::Collect
            };
            Error::new(kind, format!("scanning {}", root.display())).with_source(e)
        })?;

        let mut snap = Snapshot::new();
        for kind in [VMS, "disks", "networks", "storages"] {
            snap.collection(kind);
        }
        let mut vm_ids = HashSet::new();
        let mut disk_ids = HashSet::new();
        let mut net_ids = HashSet::new();
        for vm in report.vms() {
            if !vm_ids.insert(vm.id.clone()) {
                snap.warn(format!(
                    "VM '{}' of {} has the id {} of another VM and is skipped; give each appliance a unique VirtualSystem id",
                    vm.name, vm.ova_path, vm.id
                ));
                continue;
            }
            let mut object = to_json(vm)?;
            forklift_json::add_forklift_names(&mut object);
            snap.push(
                VMS,
                Resource::new(&vm.id, &vm.name, VM_KIND, object).with_path(&vm.uuid),
            );
            for disk in &vm.disks {
                if disk_ids.insert(disk.id.clone()) {
                    snap.push(
                        "disks",
                        Resource::new(&disk.id, &disk.name, DISK_KIND, to_json(disk)?)
                            .with_path(&disk.id),
                    );
                }
            }
            for net in &vm.networks {
                if net_ids.insert(net.id.clone()) {
                    snap.push(
                        "networks",
                        Resource::new(&net.id, &net.name, NETWORK_KIND, to_json(net)?)
                            .with_path(&net.id),
                    );
                }
            }
        }
        snap.push("storages", self.dummy_storage());
        let mut wait: Option<Duration> = None;
        for p in &report.problems {
            let message = format!("{}: {}", p.path.display(), p.message);
            if let Some(left) = self.time_until_old_enough(&p.path) {
                wait = Some(wait.map_or(left, |w| w.min(left)));
                snap.pending(message);
            } else {
                snap.warn(message);
            }
        }
        *self.next_rescan.lock().unwrap_or_else(|p| p.into_inner()) =
            wait.map(|w| tokio::time::Instant::now() + w + Duration::from_secs(1));
        Ok(snap)
    }

    /// For a file skipped because it changed too recently: how long until
    /// it is old enough to be scanned.
    fn time_until_old_enough(&self, path: &std::path::Path) -> Option<Duration> {
        let min_age = self.min_age?;
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
        let age = SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default();
        min_age.checked_sub(age).filter(|d| !d.is_zero())
    }

    /// The one storage Forklift's OVA provider reports.
    fn dummy_storage(&self) -> Resource {
        let name = format!("Dummy storage for source provider {}", self.provider_name);
        Resource::new(
            &self.uid,
            &name,
            STORAGE_KIND,
            json!({"id": self.uid, "name": name}),
        )
        .with_path(&self.uid)
    }
}

fn to_json(v: &impl Serialize) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::json("serialising an OVA inventory object", e))
}

impl Collector for OvaCollector {
    fn provider_type(&self) -> &str {
        OVA
    }

    fn collect(&self) -> BoxFuture<'_, Result<Snapshot>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || inner.collect())
                .await
                .map_err(|e| {
                    Error::new(ErrorKind::Task, "the OVA scan did not finish").with_source(e)
                })?
        })
    }

    /// Resolves when a package that was skipped as still being copied is
    /// old enough to scan, so it shows up without waiting for the interval.
    fn changed(&self) -> BoxFuture<'_, ()> {
        let deadline = *self
            .inner
            .next_rescan
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match deadline {
            Some(d) => Box::pin(tokio::time::sleep_until(d)),
            None => Box::pin(std::future::pending()),
        }
    }
}

/// The collector for a Provider, by its type. Types whose collector ferry
/// does not have yet are an [`ErrorKind::Unsupported`] error naming them.
pub fn collector_for(info: &ProviderInfo) -> Result<Arc<dyn Collector>> {
    match info.provider_type.as_str() {
        OVA => Ok(Arc::new(OvaCollector::new(info, OvaOptions::default())?)),
        other => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "ferry cannot collect the inventory of '{other}' providers yet (provider {}/{})",
                info.namespace, info.name
            ),
        )),
    }
}
