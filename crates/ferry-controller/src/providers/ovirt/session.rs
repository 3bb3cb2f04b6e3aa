//! One oVirt VM during a cold migration, in Forklift's phases:
//! StorePowerState (`up` is on), PowerOffSource (a guest `shutdown`, a
//! `stop` when the engine refuses it), WaitForPowerOff (poll; `stop` when
//! the guest does not go down in time). Each disk is read through a
//! download image transfer (`format=raw`) from the host's imageio daemon;
//! the transfer is finalized after a good copy and cancelled otherwise.
//! On failure or cancel every transfer still open is cancelled (which
//! unlocks the disks) before the power state is put back.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_core::api::plan_status::RestorePowerState;
use ferry_image::RawImage;
use ferry_ovirt::{Client, ErrorKind, ImageioOptions, ImageioStorage};
use futures::future::BoxFuture;

use crate::error::chain;
use crate::migration::source::{DiskLocation, SourceDisk};
use crate::providers::{OpenedDisk, PowerControl, SourceSession, Unsupported, WarmSource};

/// How long the engine may take to prepare or end a transfer.
const TRANSFER_WAIT: Duration = Duration::from_secs(300);
/// imageio drops a ticket idle this long (the copy pauses between disks).
const INACTIVITY: Duration = Duration::from_secs(600);

/// An oVirt VM's source.
pub struct Session {
    pub client: Client,
    pub vm: String,
    pub vm_name: String,
    /// The controller's runtime: disks are opened and closed from plain
    /// copy threads, which wait on it.
    pub rt: tokio::runtime::Handle,
    /// Disk id → open transfer id.
    pub transfers: Mutex<BTreeMap<String, String>>,
    pub imageio: ImageioOptions,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("vm", &self.vm)
            .field("engine", &self.client.base())
            .finish_non_exhaustive()
    }
}

impl Session {
    fn label(&self) -> String {
        format!("oVirt VM {} ({})", self.vm_name, self.vm)
    }

    async fn status(&self) -> Result<String, String> {
        self.client
            .vm(&self.vm)
            .await
            .map(|v| v.status)
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => format!(
                    "{} was deleted from the engine during the migration; its disks cannot be trusted to be complete",
                    self.label()
                ),
                _ => format!("reading {}: {}", self.label(), chain(&e)),
            })
    }

    async fn store(&self) -> Result<RestorePowerState, String> {
        Ok(match self.status().await?.as_str() {
            "down" => RestorePowerState::Off,
            _ => RestorePowerState::On,
        })
    }

    async fn power_off(&self) -> Result<(), String> {
        if self.status().await? == "down" {
            return Ok(());
        }
        if let Err(e) = self.client.vm_action(&self.vm, "shutdown").await {
            tracing::info!(vm = %self.vm, error = %chain(&e), "guest shutdown refused; stopping");
            self.stop().await?;
        }
        Ok(())
    }

    async fn stop(&self) -> Result<(), String> {
        self.client
            .vm_action(&self.vm, "stop")
            .await
            .map_err(|e| format!("stopping {}: {}", self.label(), chain(&e)))
    }

    async fn wait_off(&self, timeout: Duration) -> Result<(), String> {
        let start = tokio::time::Instant::now();
        let mut hard = false;
        loop {
            if self.status().await? == "down" {
                return Ok(());
            }
            if !hard && start.elapsed() > timeout {
                tracing::warn!(vm = %self.vm, "the guest did not shut down in time; stopping");
                self.stop().await?;
                hard = true;
            }
            if hard && start.elapsed() > timeout * 2 {
                return Err(format!(
                    "{} is still not down {} s after the shutdown request",
                    self.label(),
                    (timeout * 2).as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Cancel every transfer still open (failure or cancel).
    async fn cancel_open_transfers(&self) {
        let open: Vec<(String, String)> = self
            .transfers
            .lock()
            .map(|mut m| std::mem::take(&mut *m).into_iter().collect())
            .unwrap_or_default();
        for (disk, t) in open {
            if let Err(e) = self.client.end_transfer(&t, false, TRANSFER_WAIT).await {
                tracing::warn!(disk, transfer = t, error = %chain(&e), "cannot cancel the image transfer");
            }
        }
    }

    async fn restore_power(&self, was: Option<RestorePowerState>) {
        self.cancel_open_transfers().await;
        if was != Some(RestorePowerState::On) {
            return;
        }
        match self.status().await {
            Ok(s) if s == "down" => {}
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(vm = %self.vm, error = %e, "cannot read the source power state to restore it");
                return;
            }
        }
        if let Err(e) = self.client.vm_action(&self.vm, "start").await {
            tracing::warn!(vm = %self.vm, error = %chain(&e), "cannot start the source VM again");
        }
    }

    /// Create a download transfer of `disk`, wait until it is ready and
    /// open it through imageio; a transfer that cannot be read is
    /// cancelled.
    fn open_transfer(&self, disk: &str) -> Result<(ImageioStorage, String), String> {
        let label = format!("disk {disk} of {}", self.label());
        let t = self
            .rt
            .block_on(self.client.create_download(disk, "raw", INACTIVITY))
            .map_err(|e| format!("starting the image transfer of {label}: {}", chain(&e)))?;
        let opened = self
            .rt
            .block_on(self.client.wait_transfer_ready(&t.id, TRANSFER_WAIT))
            .map_err(|e| chain(&e))
            .and_then(|ready| {
                let url = if ready.transfer_url.is_empty() {
                    ready.proxy_url
                } else {
                    ready.transfer_url
                };
                ImageioStorage::open(&url, self.client.tls(), self.imageio).map_err(|e| chain(&e))
            });
        match opened {
            Ok(storage) => Ok((storage, t.id)),
            Err(e) => {
                if let Err(c) =
                    self.rt
                        .block_on(self.client.end_transfer(&t.id, false, TRANSFER_WAIT))
                {
                    tracing::warn!(transfer = t.id, error = %chain(&c), "cannot cancel the image transfer");
                }
                // A VM deleted meanwhile is the reason to report.
                if let Err(gone) = self.rt.block_on(self.status())
                    && gone.contains("was deleted")
                {
                    return Err(format!("{gone} ({label}: {e})"));
                }
                Err(format!("reading {label}: {e}"))
            }
        }
    }
}

impl PowerControl for Session {
    fn store_power_state(&self) -> BoxFuture<'_, Result<RestorePowerState, String>> {
        Box::pin(self.store())
    }
    fn power_off_source(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.power_off())
    }
    fn wait_for_power_off(&self, timeout: Duration) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.wait_off(timeout))
    }
    fn check_still_there(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.status().await.map(|_| ()) })
    }
    fn restore(&self, was: Option<RestorePowerState>) -> BoxFuture<'_, ()> {
        Box::pin(self.restore_power(was))
    }
}

impl SourceSession for Session {
    fn power(&self) -> Result<&dyn PowerControl, Unsupported> {
        Ok(self)
    }

    fn warm(&self) -> Result<&dyn WarmSource, Unsupported> {
        Err(Unsupported::because(
            "ferry does not run oVirt incremental backups yet: migrate this VM cold",
        ))
    }

    fn transfer_host(&self) -> Option<String> {
        None
    }

    fn disks_readable(&self) -> Result<(), String> {
        // The engine answered when the session was opened; each disk's
        // transfer is checked when it is opened.
        Ok(())
    }

    fn open_disk(&self, disk: &SourceDisk) -> Result<OpenedDisk, String> {
        let DiskLocation::Ovirt { disk_id } = &disk.location else {
            return Err(format!("disk {} is not an oVirt disk", disk.source));
        };
        let (storage, transfer) = self.open_transfer(disk_id)?;
        if let Ok(mut m) = self.transfers.lock() {
            m.insert(disk_id.clone(), transfer.clone());
        }
        let image = Arc::new(RawImage::new(Arc::new(storage)));
        Ok(OpenedDisk {
            image,
            // The VM is down for the whole copy and the disk locked by the
            // transfer; a restart powers it off again before copying.
            identity: format!(
                "ovirt:{}:disk/{disk_id} size={}",
                self.client.base(),
                disk.capacity
            ),
            label: format!("disk {disk_id} (image transfer {transfer})"),
        })
    }

    fn close_disk(&self, disk: &SourceDisk, copied: bool) -> Result<(), String> {
        let DiskLocation::Ovirt { disk_id } = &disk.location else {
            return Ok(());
        };
        let Some(t) = self
            .transfers
            .lock()
            .ok()
            .and_then(|mut m| m.remove(disk_id))
        else {
            return Ok(());
        };
        self.rt
            .block_on(self.client.end_transfer(&t, copied, TRANSFER_WAIT))
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "{} the image transfer {t} of disk {disk_id}: {}",
                    if copied { "finalizing" } else { "cancelling" },
                    chain(&e)
                )
            })
    }
}
