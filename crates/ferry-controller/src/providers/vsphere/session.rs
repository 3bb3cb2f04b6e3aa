//! The source VM's power in a vSphere cold migration, in Forklift's phases:
//! StorePowerState (remember it as `restorePowerState`), PowerOffSource
//! (a guest shutdown through VMware Tools, a hard power off when the
//! guest cannot be asked), WaitForPowerOff (poll; a hard power off when the
//! guest does not stop in time). On failure or cancel the source is put
//! back as it was. The VM's disks are read from its datastores over
//! HTTPS, through vCenter or the ESXi host a Ready Host CR names.
use std::time::Duration;

use ferry_core::api::plan_status::RestorePowerState;
use ferry_image::OpenOptions;
use ferry_vsphere::{Client, MoRef, PowerState};
use futures::future::BoxFuture;

use crate::error::chain;
use crate::migration::source::{DiskLocation, SourceDisk};
use crate::providers::{OpenedDisk, PowerControl, SourceSession, Unsupported, WarmSource};

/// The source VM and a session to its vCenter/ESXi.
#[derive(Clone)]
pub struct Vsphere {
    /// The session.
    pub client: Client,
    /// The VM.
    pub vm: MoRef,
}

impl std::fmt::Debug for Vsphere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vsphere").field("vm", &self.vm).finish()
    }
}

fn describe(e: &ferry_vsphere::Error) -> String {
    crate::error::chain(e)
}

impl Vsphere {
    /// StorePowerState: the power state to restore.
    pub async fn store_power_state(&self) -> Result<RestorePowerState, String> {
        let state = self
            .client
            .power_state(&self.vm)
            .await
            .map_err(|e| format!("reading the power state of {}: {}", self.vm, describe(&e)))?;
        Ok(match state {
            PowerState::PoweredOn => RestorePowerState::On,
            PowerState::PoweredOff | PowerState::Suspended => RestorePowerState::Off,
        })
    }

    /// PowerOffSource: ask the guest to shut down; power off hard when
    /// VMware Tools cannot take the request. Nothing to do when off.
    pub async fn power_off_source(&self) -> Result<(), String> {
        match self.client.power_state(&self.vm).await {
            Ok(PowerState::PoweredOff) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "reading the power state of {}: {}",
                    self.vm,
                    describe(&e)
                ));
            }
        }
        if let Err(e) = self.client.shutdown_guest(&self.vm).await {
            tracing::info!(vm = %self.vm, error = %describe(&e), "guest shutdown refused; powering off");
            self.hard_power_off().await?;
        }
        Ok(())
    }

    /// WaitForPowerOff: poll until off; power off hard after `timeout`.
    pub async fn wait_for_power_off(&self, timeout: Duration) -> Result<(), String> {
        let start = tokio::time::Instant::now();
        let mut hard = false;
        loop {
            let state =
                self.client.power_state(&self.vm).await.map_err(|e| {
                    format!("reading the power state of {}: {}", self.vm, describe(&e))
                })?;
            if state == PowerState::PoweredOff {
                return Ok(());
            }
            if !hard && start.elapsed() > timeout {
                tracing::warn!(vm = %self.vm, "the guest did not shut down in time; powering off");
                self.hard_power_off().await?;
                hard = true;
            }
            if hard && start.elapsed() > timeout * 2 {
                return Err(format!(
                    "{} is still not powered off {} s after the shutdown request",
                    self.vm,
                    (timeout * 2).as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn hard_power_off(&self) -> Result<(), String> {
        let task = self
            .client
            .power_off(&self.vm)
            .await
            .map_err(|e| format!("powering off {}: {}", self.vm, describe(&e)))?;
        self.client
            .wait_task(&task, |_| {})
            .await
            .map(|_| ())
            .map_err(|e| format!("powering off {}: {}", self.vm, describe(&e)))
    }

    /// Fail when the VM was deleted (or can no longer be read) since the
    /// migration started.
    pub async fn check_still_there(&self) -> Result<(), String> {
        match self.client.power_state(&self.vm).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ferry_vsphere::ErrorKind::NotFound => Err(format!(
                "the source VM {} was deleted from vSphere during the migration; its disks cannot be trusted to be complete",
                self.vm
            )),
            Err(e) => Err(format!("reading {}: {}", self.vm, describe(&e))),
        }
    }

    /// Put the source back as it was (after a failure or cancel): power it
    /// on when it was on. Errors are logged, not raised: the migration's
    /// own outcome is what gets reported.
    pub async fn restore(&self, was: Option<RestorePowerState>) {
        if was != Some(RestorePowerState::On) {
            return;
        }
        match self.client.power_state(&self.vm).await {
            Ok(PowerState::PoweredOn) => return,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(vm = %self.vm, error = %describe(&e), "cannot read the source power state to restore it");
                return;
            }
        }
        let result = match self.client.power_on(&self.vm).await {
            Ok(task) => self.client.wait_task(&task, |_| {}).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(vm = %self.vm, error = %describe(&e), "cannot power the source VM back on");
        }
    }
}

impl PowerControl for Vsphere {
    fn store_power_state(&self) -> BoxFuture<'_, Result<RestorePowerState, String>> {
        Box::pin(Vsphere::store_power_state(self))
    }
    fn power_off_source(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(Vsphere::power_off_source(self))
    }
    fn wait_for_power_off(&self, timeout: Duration) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(Vsphere::wait_for_power_off(self, timeout))
    }
    fn check_still_there(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(Vsphere::check_still_there(self))
    }
    fn restore(&self, was: Option<RestorePowerState>) -> BoxFuture<'_, ()> {
        Box::pin(Vsphere::restore(self, was))
    }
}

/// One vSphere VM during its migration: power through vCenter (or the
/// host the provider names), disks through `transfer`.
pub struct Session {
    /// The VM and the provider's session.
    pub power: Vsphere,
    /// The session the disks are read through, or why it could not be
    /// opened.
    pub transfer: Result<Client, String>,
    /// The ESXi host the disks are read from, when not vCenter.
    pub host: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("power", &self.power)
            .field("host", &self.host)
            .finish()
    }
}

impl SourceSession for Session {
    fn power(&self) -> Result<&dyn PowerControl, Unsupported> {
        Ok(&self.power)
    }

    fn warm(&self) -> Result<&dyn WarmSource, Unsupported> {
        Err(Unsupported::because(
            "ferry does not take vSphere snapshots or query changed disk areas (changed block tracking) yet: migrate this VM cold",
        ))
    }

    fn transfer_host(&self) -> Option<String> {
        self.host.clone()
    }

    fn disks_readable(&self) -> Result<(), String> {
        self.transfer.as_ref().map(|_| ()).map_err(Clone::clone)
    }

    fn open_disk(&self, disk: &SourceDisk) -> Result<OpenedDisk, String> {
        let DiskLocation::Datastore { datacenter, path } = &disk.location else {
            return Err(format!(
                "disk {} is not on a vSphere datastore",
                disk.source
            ));
        };
        let file = ferry_vsphere::DatastoreFile::parse(datacenter, path).map_err(|e| chain(&e))?;
        let transfer = self.transfer.as_ref().map_err(Clone::clone)?;
        let image = ferry_vsphere::open_datastore_image(
            transfer,
            &file,
            &ferry_vsphere::DatastoreOptions::default(),
            &OpenOptions::default(),
        )
        .map(|(image, _stats)| image)
        .map_err(|e| format!("opening {path}: {}", chain(&e)))?;
        // The VM is powered off for the whole copy; a restart powers it off
        // again before copying.
        let identity = format!("vsphere:{datacenter}:{path} size={}", image.virtual_size());
        Ok(OpenedDisk {
            image,
            identity,
            label: path.clone(),
        })
    }
}
