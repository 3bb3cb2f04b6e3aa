//! The oVirt test peers: the engine REST API simulator
//! (`crates/ferry-testutil/ovirt/engine_sim.py`, built on the official
//! Python SDK's types and XML writer/reader) in front of a real
//! `ovirt-imageio` daemon, all run by `ferry-ovirt-python` (the venv that
//! `.ci/ovirt.sh` installs).
//!
//! [`ovirt_sim`] starts the simulator with a [`Scenario`] on free loopback
//! ports with TLS (a fresh CA); the returned [`OvirtSim`] knows the URLs,
//! the credentials and the CA, reads the simulator's state for assertions
//! ([`OvirtSim::state`]) and stops everything on drop.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde::{Deserialize, Serialize};

/// The simulated engine's content.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// The API user (`admin@internal`).
    pub username: String,
    /// Its password.
    pub password: String,
    /// Storage domain names (disks name theirs).
    pub storage_domains: Vec<String>,
    /// Network names; each has a vNIC profile of the same name.
    pub networks: Vec<String>,
    /// The VMs.
    pub vms: Vec<SimVm>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            username: "admin@internal".into(),
            password: "ferry-test-password".into(),
            storage_domains: vec!["data1".into(), "data2".into()],
            networks: vec!["ovirtmgmt".into(), "vmnet".into()],
            vms: Vec::new(),
        }
    }
}

/// One VM of a [`Scenario`].
#[derive(Debug, Clone, Serialize)]
pub struct SimVm {
    pub name: String,
    /// `up` or `down`.
    pub status: String,
    /// Bytes.
    pub memory: u64,
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
    /// The engine's BIOS type: `i440fx_sea_bios`, `q35_sea_bios`,
    /// `q35_ovmf`, `q35_secure_boot`.
    pub bios: String,
    /// Guest OS type (`rhel_9x64`, `windows_2022`, ...).
    pub os: String,
    pub nics: Vec<SimNic>,
    pub disks: Vec<SimDisk>,
    /// Fault: the VM is deleted when a transfer of one of its disks starts.
    pub delete_on_transfer: bool,
}

impl Default for SimVm {
    fn default() -> Self {
        SimVm {
            name: "vm1".into(),
            status: "up".into(),
            memory: 2 << 30,
            sockets: 1,
            cores: 2,
            threads: 1,
            bios: "q35_ovmf".into(),
            os: "rhel_9x64".into(),
            nics: Vec::new(),
            disks: Vec::new(),
            delete_on_transfer: false,
        }
    }
}

/// One NIC of a [`SimVm`].
#[derive(Debug, Clone, Serialize)]
pub struct SimNic {
    pub mac: String,
    /// vNIC profile name (one of the scenario's networks).
    pub profile: String,
}

/// One disk of a [`SimVm`]: a local image served through imageio.
#[derive(Debug, Clone, Serialize)]
pub struct SimDisk {
    /// qcow2 or raw image file.
    pub path: PathBuf,
    /// Storage domain name.
    pub storage_domain: String,
    /// How imageio reads it: `nbd` (qemu-nbd, as vdsm serves raw-format
    /// transfers; `/extents` reports the real allocation) or `file`
    /// (imageio's file backend, which reports the whole disk as data; a
    /// qcow2 disk read as raw always goes through NBD).
    pub backend: String,
    /// Fault: the disk is locked (transfers are refused with 409).
    pub locked: bool,
    /// Fault: the engine pauses every transfer of this disk.
    pub pause_transfers: bool,
}

impl SimDisk {
    /// A disk of `path` in storage domain `sd`, NBD backend, no fault.
    pub fn new(path: &Path, sd: &str) -> Self {
        SimDisk {
            path: path.to_owned(),
            storage_domain: sd.into(),
            backend: "nbd".into(),
            locked: false,
            pause_transfers: false,
        }
    }
}

/// What the simulator printed on start.
#[derive(Debug, Clone, Deserialize)]
pub struct OvirtSimInfo {
    /// API URL, `https://127.0.0.1:PORT/ovirt-engine/api`.
    pub url: String,
    /// Engine base URL, `https://127.0.0.1:PORT`.
    pub engine: String,
    pub username: String,
    pub password: String,
    /// The CA that signed the engine's and imageio's certificate.
    pub ca_file: PathBuf,
    pub ca_pem: String,
    /// The imageio daemon, `https://127.0.0.1:PORT`.
    pub imageio_url: String,
    /// imageio's log file.
    pub imageio_log: PathBuf,
    /// VM name → id.
    pub vms: BTreeMap<String, String>,
    /// Disk name → id.
    pub disks: BTreeMap<String, String>,
    /// Storage domain name → id.
    pub storage_domains: BTreeMap<String, String>,
    /// vNIC profile name → id.
    pub vnic_profiles: BTreeMap<String, String>,
    /// Network name → id.
    pub networks: BTreeMap<String, String>,
}

/// The simulator's state (`GET /ferry/state`).
#[derive(Debug, Clone, Deserialize)]
pub struct OvirtSimState {
    pub transfers: Vec<SimTransfer>,
    /// VM id → status.
    pub vms: BTreeMap<String, String>,
    /// Disk id → status (`ok`, `locked`).
    pub disks: BTreeMap<String, String>,
    /// What the engine was asked to do, in order.
    pub actions: Vec<String>,
}

/// One image transfer in [`OvirtSimState`].
#[derive(Debug, Clone, Deserialize)]
pub struct SimTransfer {
    pub id: String,
    pub disk: String,
    pub phase: String,
    pub format: String,
    /// Bytes imageio served for the ticket (a union of ranges).
    pub transferred: u64,
}

/// A running simulator and imageio daemon; stopped on drop.
pub struct OvirtSim {
    pub info: OvirtSimInfo,
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for OvirtSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OvirtSim")
            .field("url", &self.info.url)
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

/// A script of `crates/ferry-testutil/ovirt/`.
pub fn ovirt_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ovirt")
        .join(name)
}

/// Start the engine simulator and imageio with `scenario`. `None` (after a
/// skip notice) when the peers are not installed and not required.
pub fn ovirt_sim(scenario: &Scenario) -> Option<OvirtSim> {
    let python = crate::peer("ferry-ovirt-python")?;
    crate::peer("qemu-nbd")?;
    crate::peer("openssl")?;
    crate::peer("curl")?;
    let dir = crate::tempdir();
    let scen = dir.path().join("scenario.json");
    std::fs::write(&scen, serde_json::to_vec(scenario).expect("scenario json"))
        .expect("write scenario");
    let work = dir.path().join("sim");
    std::fs::create_dir(&work).expect("sim dir");
    let log = dir.path().join("engine-sim.log");
    let logf = std::fs::File::create(&log).expect("create sim log");
    let mut child = Command::new(python)
        .arg(ovirt_script("engine_sim.py"))
        .arg(&scen)
        .arg(&work)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(logf))
        .spawn()
        .expect("start engine simulator");
    let stdout = child.stdout.take().expect("sim stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read sim start line");
    let info: OvirtSimInfo = match serde_json::from_str(line.trim()) {
        Ok(i) => i,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the oVirt engine simulator did not start ({e}); log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    };
    let stdin = child.stdin.take();
    Some(OvirtSim {
        info,
        child,
        stdin,
        log,
        dir,
    })
}

impl OvirtSim {
    /// The simulator's state now.
    pub fn state(&self) -> OvirtSimState {
        let out = crate::run(
            Command::new("curl")
                .args(["-sS", "--fail", "--cacert"])
                .arg(&self.info.ca_file)
                .arg(format!("{}/ferry/state", self.info.engine)),
        );
        serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("bad /ferry/state answer {out:?}: {e}"))
    }

    /// A scratch directory that lives as long as the simulator.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// The JSON document the simulator printed on start, as a file (for
    /// the Python clients in `ovirt/`).
    pub fn info_file(&self) -> PathBuf {
        self.dir.path().join("sim/info.json")
    }

    /// The simulator's log (stderr), with imageio's.
    pub fn log(&self) -> String {
        format!(
            "{}\n--- imageio ---\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default(),
            std::fs::read_to_string(&self.info.imageio_log).unwrap_or_default()
        )
    }
}

impl Drop for OvirtSim {
    fn drop(&mut self) {
        // Closing stdin stops the engine, imageio and qemu-nbd.
        drop(self.stdin.take());
        for _ in 0..250 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
