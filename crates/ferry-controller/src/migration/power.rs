//! The source VM's power in a vSphere cold migration, in Forklift's phases:
//! StorePowerState (remember it as `restorePowerState`), PowerOffSource
//! (a guest shutdown through VMware Tools, a hard power off when the
//! guest cannot be asked), WaitForPowerOff (poll; a hard power off when the
//! guest does not stop in time). On failure or cancel the source is put
//! back as it was.
use std::time::Duration;

use ferry_core::api::plan_status::RestorePowerState;
use ferry_vsphere::{Client, MoRef, PowerState};

/// How long a guest shutdown may take before the VM is powered off hard.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(300);

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
