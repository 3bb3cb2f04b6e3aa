//! Virtual machine operations: power, guest shutdown, snapshots, renames,
//! disk attach (`ReconfigVM_Task`), destroy and `QueryChangedDiskAreas`.
use crate::error::{Error, Result};
use crate::property::FilterSpec;
use crate::soap::Body;
use crate::{Client, MoRef};

/// `runtime.powerState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    PoweredOn,
    PoweredOff,
    Suspended,
}

impl PowerState {
    /// Parse the API value.
    pub fn parse(s: &str) -> Option<PowerState> {
        match s {
            "poweredOn" => Some(PowerState::PoweredOn),
            "poweredOff" => Some(PowerState::PoweredOff),
            "suspended" => Some(PowerState::Suspended),
            _ => None,
        }
    }
}

/// How [`Client::stop_vm`] stops a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopOptions {
    /// Ask the guest to shut down (VMware Tools) and wait this long for it
    /// before powering off; `None` powers off at once.
    pub guest_shutdown_timeout: Option<std::time::Duration>,
}

/// How the VM ended up powered off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// It was already off.
    AlreadyOff,
    /// The guest shut itself down.
    GuestShutdown,
    /// It was powered off (no guest shutdown asked, the guest could not be
    /// asked, or it did not finish in time).
    PoweredOff,
}

/// `CreateSnapshot_Task` arguments.
#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    pub name: String,
    pub description: String,
    /// Include the memory state.
    pub memory: bool,
    /// Quiesce the guest file systems (needs VMware Tools).
    pub quiesce: bool,
}

/// A disk to attach with `ReconfigVM_Task` (existing file, no file
/// operation).
#[derive(Debug, Clone)]
pub struct DiskAttach {
    /// `[datastore] dir/disk.vmdk`.
    pub file_name: String,
    pub datastore: Option<MoRef>,
    pub capacity_bytes: u64,
    pub controller_key: i32,
    pub unit_number: i32,
    /// `persistent`, `independent_persistent`, ...
    pub disk_mode: String,
}

/// One changed area of a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskArea {
    pub start: u64,
    pub length: u64,
}

/// `DiskChangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskChangeInfo {
    pub start_offset: u64,
    pub length: u64,
    pub areas: Vec<DiskArea>,
}

/// A virtual disk from `config.hardware.device` of a VM or a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualDiskInfo {
    pub key: i32,
    pub controller_key: i32,
    pub unit_number: Option<i32>,
    /// Backing file, `[datastore] dir/disk.vmdk`.
    pub file_name: String,
    pub capacity_bytes: u64,
    /// Changed block tracking id of this state of the disk, when tracked.
    pub change_id: Option<String>,
}

fn task_of(method: &str, resp: &crate::Node) -> Result<MoRef> {
    resp.child("returnval")
        .map(MoRef::from_node)
        .ok_or_else(|| Error::protocol(format!("{method}: no task in the answer")))
}

impl Client {
    async fn vm_task(&self, method: &'static str, vm: &MoRef) -> Result<MoRef> {
        let resp = self.call(&Body::new(method, vm)).await?;
        task_of(method, &resp)
    }

    /// `runtime.powerState` of a VM.
    pub async fn power_state(&self, vm: &MoRef) -> Result<PowerState> {
        let objs = self
            .retrieve_properties(&FilterSpec::objects(
                std::slice::from_ref(vm),
                &["runtime.powerState"],
            ))
            .await?;
        let text = objs
            .first()
            .and_then(|o| o.text("runtime.powerState"))
            .ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::NotFound,
                    format!("VM {vm} has no power state: does it exist?"),
                )
                .with_fault("ManagedObjectNotFound")
            })?;
        PowerState::parse(text.trim())
            .ok_or_else(|| Error::protocol(format!("VM {vm} has an unknown power state {text:?}")))
    }

    /// `PowerOnVM_Task`; returns the task.
    pub async fn power_on(&self, vm: &MoRef) -> Result<MoRef> {
        self.vm_task("PowerOnVM_Task", vm).await
    }

    /// `PowerOffVM_Task` (hard power off); returns the task.
    pub async fn power_off(&self, vm: &MoRef) -> Result<MoRef> {
        self.vm_task("PowerOffVM_Task", vm).await
    }

    /// `ShutdownGuest` (asks VMware Tools; returns at once, poll the power
    /// state for the end).
    pub async fn shutdown_guest(&self, vm: &MoRef) -> Result<()> {
        self.call(&Body::new("ShutdownGuest", vm)).await.map(|_| ())
    }

    /// Stop a VM as Forklift's PowerOffSource does: a guest shutdown with a
    /// timeout, then a hard power off; waits until it is off.
    pub async fn stop_vm(&self, vm: &MoRef, opts: &StopOptions) -> Result<StopOutcome> {
        let state = self.power_state(vm).await?;
        if state == PowerState::PoweredOff {
            return Ok(StopOutcome::AlreadyOff);
        }
        if let (PowerState::PoweredOn, Some(timeout)) = (state, opts.guest_shutdown_timeout) {
            match self.shutdown_guest(vm).await {
                Ok(()) => {
                    let deadline = tokio::time::Instant::now() + timeout;
                    let mut delay = std::time::Duration::from_millis(100);
                    loop {
                        if self.power_state(vm).await? == PowerState::PoweredOff {
                            return Ok(StopOutcome::GuestShutdown);
                        }
                        let now = tokio::time::Instant::now();
                        if now >= deadline {
                            tracing::info!(%vm, ?timeout, "guest shutdown did not finish in time, powering off");
                            break;
                        }
                        tokio::time::sleep(delay.min(deadline - now)).await;
                        delay = (delay * 2).min(std::time::Duration::from_secs(5));
                    }
                }
                Err(e) if e.kind() == crate::ErrorKind::NotFound => return Err(e),
                Err(e) => {
                    tracing::info!(%vm, error = %e, "guest shutdown not possible, powering off");
                }
            }
        }
        let task = self.power_off(vm).await?;
        match self.wait_task(&task, |_| {}).await {
            Ok(_) => Ok(StopOutcome::PoweredOff),
            // It went off by itself between the check and the power off.
            Err(e)
                if e.fault() == Some("InvalidPowerState")
                    && self.power_state(vm).await? == PowerState::PoweredOff =>
            {
                Ok(StopOutcome::GuestShutdown)
            }
            Err(e) => Err(e),
        }
    }

    /// `Destroy_Task` of any managed entity; returns the task.
    pub async fn destroy(&self, entity: &MoRef) -> Result<MoRef> {
        self.vm_task("Destroy_Task", entity).await
    }

    /// `Rename_Task` of any managed entity; returns the task.
    pub async fn rename(&self, entity: &MoRef, new_name: &str) -> Result<MoRef> {
        let mut b = Body::new("Rename_Task", entity);
        b.text("newName", new_name);
        let resp = self.call(&b).await?;
        task_of("Rename_Task", &resp)
    }

    /// `CreateSnapshot_Task`; returns the task (its result is the snapshot).
    pub async fn create_snapshot(&self, vm: &MoRef, opts: &SnapshotOptions) -> Result<MoRef> {
        let mut b = Body::new("CreateSnapshot_Task", vm);
        b.text("name", &opts.name)
            .text("description", &opts.description)
            .value("memory", opts.memory)
            .value("quiesce", opts.quiesce);
        let resp = self.call(&b).await?;
        task_of("CreateSnapshot_Task", &resp)
    }

    /// `RemoveSnapshot_Task`; returns the task.
    pub async fn remove_snapshot(
        &self,
        snapshot: &MoRef,
        remove_children: bool,
        consolidate: bool,
    ) -> Result<MoRef> {
        let mut b = Body::new("RemoveSnapshot_Task", snapshot);
        b.value("removeChildren", remove_children)
            .value("consolidate", consolidate);
        let resp = self.call(&b).await?;
        task_of("RemoveSnapshot_Task", &resp)
    }

    /// `ReconfigVM_Task` adding existing disk files; returns the task.
    pub async fn attach_disks(&self, vm: &MoRef, disks: &[DiskAttach]) -> Result<MoRef> {
        let mut b = Body::new("ReconfigVM_Task", vm);
        b.open("spec", None);
        for (i, d) in disks.iter().enumerate() {
            let key = -100 - i as i64;
            b.open("deviceChange", None)
                .text("operation", "add")
                .open("device", Some("VirtualDisk"))
                .value("key", key);
            b.open("backing", Some("VirtualDiskFlatVer2BackingInfo"))
                .text("fileName", &d.file_name);
            if let Some(ds) = &d.datastore {
                b.moref("datastore", ds);
            }
            b.text(
                "diskMode",
                if d.disk_mode.is_empty() {
                    "persistent"
                } else {
                    &d.disk_mode
                },
            )
            .close("backing");
            b.value("controllerKey", d.controller_key)
                .value("unitNumber", d.unit_number)
                .value("capacityInKB", d.capacity_bytes / 1024)
                .value("capacityInBytes", d.capacity_bytes)
                .close("device")
                .close("deviceChange");
        }
        b.close("spec");
        let resp = self.call(&b).await?;
        task_of("ReconfigVM_Task", &resp)
    }

    /// The virtual disks of a `VirtualMachine` or `VirtualMachineSnapshot`
    /// (from its `config.hardware.device`).
    pub async fn disks(&self, obj: &MoRef) -> Result<Vec<VirtualDiskInfo>> {
        let objs = self
            .retrieve_properties(&FilterSpec::objects(
                std::slice::from_ref(obj),
                &["config.hardware.device"],
            ))
            .await?;
        let o = objs.first().ok_or_else(|| {
            Error::new(crate::ErrorKind::NotFound, format!("{obj} does not exist"))
                .with_fault("ManagedObjectNotFound")
        })?;
        let Some(devices) = o.get("config.hardware.device") else {
            return Ok(Vec::new());
        };
        let num = |n: &crate::Node, name: &str| {
            n.text_of(name).and_then(|t| t.trim().parse::<i64>().ok())
        };
        let mut out = Vec::new();
        for d in devices
            .children
            .iter()
            .filter(|d| d.xsi_type.as_deref() == Some("VirtualDisk"))
        {
            let backing = d.child("backing");
            let capacity = num(d, "capacityInBytes")
                .filter(|c| *c > 0)
                .or_else(|| num(d, "capacityInKB").map(|k| k.saturating_mul(1024)))
                .unwrap_or(0);
            out.push(VirtualDiskInfo {
                key: num(d, "key")
                    .and_then(|k| i32::try_from(k).ok())
                    .ok_or_else(|| Error::protocol(format!("{obj}: a VirtualDisk has no key")))?,
                controller_key: num(d, "controllerKey")
                    .and_then(|k| i32::try_from(k).ok())
                    .unwrap_or(0),
                unit_number: num(d, "unitNumber").and_then(|k| i32::try_from(k).ok()),
                file_name: backing
                    .and_then(|b| b.text_of("fileName"))
                    .unwrap_or_default()
                    .to_string(),
                capacity_bytes: u64::try_from(capacity).unwrap_or(0),
                change_id: backing
                    .and_then(|b| b.text_of("changeId"))
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            });
        }
        Ok(out)
    }

    /// `QueryChangedDiskAreas` for the disk `device_key` of `vm` at
    /// `snapshot`, from `start_offset`, relative to `change_id` (`*` for all
    /// allocated areas).
    pub async fn query_changed_disk_areas(
        &self,
        vm: &MoRef,
        snapshot: Option<&MoRef>,
        device_key: i32,
        start_offset: u64,
        change_id: &str,
    ) -> Result<DiskChangeInfo> {
        let mut b = Body::new("QueryChangedDiskAreas", vm);
        if let Some(s) = snapshot {
            b.moref("snapshot", s);
        }
        b.value("deviceKey", device_key)
            .value("startOffset", start_offset)
            .text("changeId", change_id);
        let resp = self.call(&b).await?;
        let rv = resp
            .child("returnval")
            .ok_or_else(|| Error::protocol("QueryChangedDiskAreas: no returnval"))?;
        let num = |n: &crate::Node, name: &str| -> Result<u64> {
            n.text_of(name)
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| {
                    Error::protocol(format!("QueryChangedDiskAreas: missing or bad {name}"))
                })
        };
        let mut areas = Vec::new();
        for a in rv.children_named("changedArea") {
            areas.push(DiskArea {
                start: num(a, "start")?,
                length: num(a, "length")?,
            });
        }
        Ok(DiskChangeInfo {
            start_offset: num(rv, "startOffset")?,
            length: num(rv, "length")?,
            areas,
        })
    }
}
