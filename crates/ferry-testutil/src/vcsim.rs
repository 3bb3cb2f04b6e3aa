//! The govmomi vSphere simulator as a test peer (`ferry-vcsim`, built from
//! `crates/ferry-testutil/vcsim/main.go` by `.ci/vcsim.sh`).
//!
//! [`vcsim`] starts it on a free loopback port with TLS and a fresh
//! self-signed certificate; the returned [`Vcsim`] knows the URL, the
//! credentials, the certificate (PEM and SHA-1 thumbprint) and stops the
//! simulator on drop. [`Vcsim::upload`] puts a local file into a datastore
//! over the real `PUT /folder/...` API and [`Vcsim::attach_disk`] attaches
//! an uploaded VMDK to a VM with a real `ReconfigVM_Task` (made by the
//! simulator's own Go client, see `main.go`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde::Deserialize;

/// What the simulator printed on start.
#[derive(Debug, Clone, Deserialize)]
pub struct VcsimInfo {
    /// SDK URL, e.g. `https://127.0.0.1:41234/sdk`.
    pub url: String,
    /// `host:port`.
    pub host: String,
    /// Login user.
    pub username: String,
    /// Login password (random per start).
    pub password: String,
    /// Path of the server certificate (PEM), usable as `cacert`.
    pub cert_path: PathBuf,
    /// The server certificate (PEM).
    pub cert_pem: String,
    /// SHA-1 thumbprint of the server certificate, colon hex upper case.
    pub thumbprint: String,
    /// Name of the first datacenter (`DC0`).
    pub datacenter: String,
    /// Name of the first datastore (`LocalDS_0`).
    pub datastore: String,
    /// Local directory backing that datastore.
    pub datastore_dir: PathBuf,
}

/// Inventory size of a simulator (per datacenter / cluster / pool).
#[derive(Debug, Clone)]
pub struct VcsimOptions {
    pub datacenters: u32,
    pub clusters: u32,
    pub hosts_per_cluster: u32,
    pub standalone_hosts: u32,
    pub vms_per_pool: u32,
    pub datastores: u32,
    /// `/folder` requires a live session cookie (as a real vCenter does);
    /// [`Vcsim::upload`] and [`Vcsim::attach_disk`] then log in first.
    pub folder_auth: bool,
}

impl Default for VcsimOptions {
    fn default() -> Self {
        VcsimOptions {
            datacenters: 1,
            clusters: 1,
            hosts_per_cluster: 2,
            standalone_hosts: 1,
            vms_per_pool: 2,
            datastores: 1,
            folder_auth: false,
        }
    }
}

/// Where the disk went after [`Vcsim::attach_disk`].
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AttachedDisk {
    pub key: i32,
    pub controller_key: i32,
    pub unit_number: i32,
}

/// A running simulator; killed on drop.
pub struct Vcsim {
    pub info: VcsimInfo,
    folder_auth: bool,
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Vcsim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vcsim")
            .field("url", &self.info.url)
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

/// Start a simulator with the default inventory (1 datacenter, 1 cluster of
/// 2 hosts, 1 standalone host, 2 VMs per pool, 1 datastore). `None` (after a
/// skip notice) when `ferry-vcsim` is not installed and peers are optional.
pub fn vcsim() -> Option<Vcsim> {
    vcsim_with(&VcsimOptions::default())
}

/// Start a simulator with the given inventory size. See [`vcsim`].
pub fn vcsim_with(opts: &VcsimOptions) -> Option<Vcsim> {
    let bin = crate::peer("ferry-vcsim")?;
    crate::peer("curl")?;
    let dir = crate::tempdir();
    let log = dir.path().join("vcsim.log");
    let logf = std::fs::File::create(&log).expect("create vcsim log");
    let mut child = Command::new(bin)
        .args([
            "-dc",
            &opts.datacenters.to_string(),
            "-cluster",
            &opts.clusters.to_string(),
            "-host",
            &opts.hosts_per_cluster.to_string(),
            "-standalone-host",
            &opts.standalone_hosts.to_string(),
            "-vm",
            &opts.vms_per_pool.to_string(),
            "-ds",
            &opts.datastores.to_string(),
        ])
        .args(opts.folder_auth.then_some("-folder-auth"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(logf))
        .spawn()
        .expect("start ferry-vcsim");
    let stdout = child.stdout.take().expect("vcsim stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read vcsim start line");
    let info: VcsimInfo = match serde_json::from_str(line.trim()) {
        Ok(i) => i,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ferry-vcsim did not start ({e}); log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    };
    let stdin = child.stdin.take();
    Some(Vcsim {
        info,
        folder_auth: opts.folder_auth,
        child,
        stdin,
        log,
        _dir: dir,
    })
}

impl Vcsim {
    /// `https://host:port/folder/<path>?dcPath=<dc>&dsName=<ds>` for a file
    /// in the first datastore.
    pub fn folder_url(&self, ds_path: &str) -> String {
        format!(
            "https://{}/folder/{}?dcPath={}&dsName={}",
            self.info.host,
            ds_path.trim_start_matches('/'),
            self.info.datacenter,
            self.info.datastore
        )
    }

    /// Upload `local` to `ds_path` (e.g. `vm1/disk.vmdk`) in the first
    /// datastore with `PUT /folder/...`. Panics on failure.
    pub fn upload(&self, local: &Path, ds_path: &str) {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--fail", "--cacert"])
            .arg(&self.info.cert_path);
        let jar = self.folder_auth.then(|| self.login_cookie_jar());
        if let Some(jar) = &jar {
            cmd.arg("-b").arg(jar.path());
        }
        let out = crate::run(cmd.arg("-T").arg(local).arg(self.folder_url(ds_path)));
        assert!(out.is_empty(), "unexpected upload answer: {out}");
    }

    /// Log in with SOAP (curl) and return the cookie jar holding the session.
    fn login_cookie_jar(&self) -> tempfile::NamedTempFile {
        let jar = tempfile::NamedTempFile::new().expect("cookie jar");
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><Login xmlns=\"urn:vim25\"><_this type=\"SessionManager\">SessionManager</_this><userName>{}</userName><password>{}</password></Login></soapenv:Body></soapenv:Envelope>",
            esc(&self.info.username),
            esc(&self.info.password)
        );
        crate::run(
            Command::new("curl")
                .args(["-sS", "--fail", "-o", "/dev/null", "--cacert"])
                .arg(&self.info.cert_path)
                .arg("-c")
                .arg(jar.path())
                .args([
                    "-H",
                    "Content-Type: text/xml",
                    "-H",
                    "SOAPAction: urn:vim25/6.5",
                ])
                .arg("--data-binary")
                .arg(body)
                .arg(&self.info.url),
        );
        jar
    }

    /// Attach the uploaded VMDK `ds_path` (descriptor or single-file VMDK in
    /// the first datastore) to the VM with managed object id `vm` (e.g.
    /// `vm-54`) as a new disk of `capacity` bytes on its SCSI controller.
    pub fn attach_disk(&self, vm: &str, ds_path: &str, capacity: u64) -> AttachedDisk {
        let file = format!("[{}] {}", self.info.datastore, ds_path);
        let url = format!("https://{}/ferry/attach", self.info.host);
        let out = crate::run(
            Command::new("curl")
                .args(["-sS", "--fail-with-body", "-X", "POST", "--cacert"])
                .arg(&self.info.cert_path)
                .arg("--get")
                .arg("--data-urlencode")
                .arg(format!("vm={vm}"))
                .arg("--data-urlencode")
                .arg(format!("file={file}"))
                .arg("--data-urlencode")
                .arg(format!("capacity={capacity}"))
                .arg(url),
        );
        serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("attach {file} to {vm}: bad answer {out:?}: {e}"))
    }

    /// Add an e1000e NIC on network `network` (a standard network or a
    /// distributed port group, by name) with MAC `mac` to VM `vm` (a
    /// managed object id), with a real `ReconfigVM_Task`.
    pub fn add_nic(&self, vm: &str, network: &str, mac: &str) {
        let url = format!("https://{}/ferry/add-nic", self.info.host);
        crate::run(
            Command::new("curl")
                .args(["-sS", "--fail-with-body", "-X", "POST", "--cacert"])
                .arg(&self.info.cert_path)
                .arg("--get")
                .arg("--data-urlencode")
                .arg(format!("vm={vm}"))
                .arg("--data-urlencode")
                .arg(format!("network={network}"))
                .arg("--data-urlencode")
                .arg(format!("mac={mac}"))
                .arg(url),
        );
    }

    /// All VMs as `(managed object id, name)`, sorted by name.
    pub fn vms(&self) -> Vec<(String, String)> {
        #[derive(Deserialize)]
        struct VmRef {
            moref: String,
            name: String,
        }
        let out = crate::run(
            Command::new("curl")
                .args(["-sS", "--fail", "--cacert"])
                .arg(&self.info.cert_path)
                .arg(format!("https://{}/ferry/vms", self.info.host)),
        );
        let vms: Vec<VmRef> = serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("bad /ferry/vms answer {out:?}: {e}"));
        vms.into_iter().map(|v| (v.moref, v.name)).collect()
    }

    /// The simulator's log (stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Vcsim {
    fn drop(&mut self) {
        // Closing stdin makes the simulator clean up its datastore
        // directories and exit; kill it if it does not.
        drop(self.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
