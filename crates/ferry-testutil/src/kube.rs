//! A real Kubernetes control plane as a test peer: etcd and kube-apiserver
//! (`ferry-etcd`, `ferry-kube-apiserver`, built from the Go module proxy by
//! `.ci/kube.sh`).
//!
//! [`kube_cluster`] starts both on free loopback ports in a temporary
//! directory: the API server serves TLS with a fresh self-signed certificate,
//! authenticates static bearer tokens (an admin in `system:masters`) and
//! signed ServiceAccount tokens, and authorizes with RBAC only, so a client
//! with another identity gets exactly what its bindings allow. It then
//! installs ferry's CRDs (`deploy/crds`) and KubeVirt's/CDI's real CRDs
//! (`fixtures/crds`, see the NOTICE there), so the server itself validates
//! every VirtualMachine and DataVolume a test creates. A
//! kube-controller-manager (`ferry-kube-controller-manager`) runs the
//! controllers a control plane needs for what ferry does: garbage
//! collection by ownerReferences, namespace deletion, PVC protection,
//! ResourceQuota usage and ServiceAccounts. There is no scheduler or
//! kubelet: pods are stored, never run (see the tests' pod runner).
//!
//! The returned [`KubeCluster`] writes kubeconfigs, runs `kubectl` as the
//! admin and stops both processes on drop.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long the API server may take to become ready.
const READY_WAIT: Duration = Duration::from_secs(120);

/// A running etcd + kube-apiserver; both are killed on drop.
pub struct KubeCluster {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The CA that signed the API server's certificate (PEM), the CA of
    /// every kubeconfig.
    pub ca_path: PathBuf,
    /// A kubeconfig of the admin (static token, group `system:masters`).
    pub admin_kubeconfig: PathBuf,
    /// The admin's bearer token.
    pub admin_token: String,
    dir: tempfile::TempDir,
    etcd: Child,
    apiserver: Child,
    controller_manager: Option<Child>,
}

impl std::fmt::Debug for KubeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeCluster")
            .field("url", &self.url)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// Start a control plane with ferry's, KubeVirt's and CDI's CRDs installed.
/// `None` (after a skip notice) when the peers are not installed and not
/// required; panics when they are required and missing, or fail to start.
pub fn kube_cluster() -> Option<KubeCluster> {
    let etcd = crate::peer("ferry-etcd")?;
    let apiserver = crate::peer("ferry-kube-apiserver")?;
    let controller_manager = crate::peer("ferry-kube-controller-manager")?;
    crate::peer("kubectl")?;
    crate::peer("openssl")?;
    let mut cluster = KubeCluster::start(&etcd, &apiserver);
    cluster.start_controller_manager(&controller_manager);
    cluster.install_crds(&repo_root().join("deploy/crds"));
    cluster.install_crds(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crds"));
    Some(cluster)
}

/// The repository root (two levels above this crate).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crate lives in crates/NAME")
        .to_path_buf()
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// A random hex token of 32 bytes from the OS.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    let mut f = std::fs::File::open("/dev/urandom").expect("open /dev/urandom");
    std::io::Read::read_exact(&mut f, &mut bytes).expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KubeCluster {
    fn start(etcd_bin: &Path, apiserver_bin: &Path) -> KubeCluster {
        let dir = crate::tempdir();
        let d = dir.path();
        // A CA and a serving certificate for 127.0.0.1 signed by it (TLS
        // clients such as rustls refuse a CA certificate as the server's),
        // and the ServiceAccount signing key.
        let openssl = |args: &[&str]| crate::run(Command::new("openssl").current_dir(d).args(args));
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=ferry-test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "apiserver.key",
            "-out",
            "apiserver.csr",
        ]);
        std::fs::write(
            d.join("apiserver.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .expect("write certificate extensions");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "apiserver.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "apiserver.ext",
            "-out",
            "apiserver.crt",
        ]);
        crate::run(Command::new("openssl").current_dir(d).args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "sa.key",
        ]));
        let admin_token = random_token();
        std::fs::write(
            d.join("tokens.csv"),
            format!("{admin_token},ferry-test-admin,ferry-test-admin,\"system:masters\"\n"),
        )
        .expect("write token file");

        let (client_port, peer_port, secure_port) = (free_port(), free_port(), free_port());
        let etcd_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let etcd = Command::new(etcd_bin)
            .current_dir(d)
            .args(["--name", "default", "--data-dir"])
            .arg(d.join("etcd"))
            .args(["--listen-client-urls", &etcd_url])
            .args(["--advertise-client-urls", &etcd_url])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("default={peer_url}")])
            .args(["--log-outputs", "stderr", "--log-level", "warn"])
            .stdout(Stdio::null())
            .stderr(log_file(&d.join("etcd.log")))
            .spawn()
            .expect("start ferry-etcd");
        let apiserver = Command::new(apiserver_bin)
            .current_dir(d)
            .args(["--etcd-servers", &etcd_url])
            .args([
                "--bind-address",
                "127.0.0.1",
                "--advertise-address",
                "127.0.0.1",
            ])
            .args(["--secure-port", &secure_port.to_string()])
            .arg("--cert-dir")
            .arg(d.join("certs"))
            .arg("--tls-cert-file")
            .arg(d.join("apiserver.crt"))
            .arg("--tls-private-key-file")
            .arg(d.join("apiserver.key"))
            .arg("--token-auth-file")
            .arg(d.join("tokens.csv"))
            .args(["--authorization-mode", "RBAC"])
            .arg("--service-account-key-file")
            .arg(d.join("sa.key"))
            .arg("--service-account-signing-key-file")
            .arg(d.join("sa.key"))
            .args([
                "--service-account-issuer",
                "https://kubernetes.default.svc.cluster.local",
            ])
            .args(["--service-cluster-ip-range", "10.96.0.0/24"])
            .args(["--profiling=false", "--anonymous-auth=false"])
            .stdout(Stdio::null())
            .stderr(log_file(&d.join("apiserver.log")))
            .spawn()
            .expect("start ferry-kube-apiserver");
        let url = format!("https://127.0.0.1:{secure_port}");
        let ca_path = d.join("ca.crt");
        let admin_kubeconfig = d.join("admin.kubeconfig");
        write_kubeconfig(
            &admin_kubeconfig,
            &url,
            &ca_path,
            "ferry-test-admin",
            &admin_token,
        );
        let mut cluster = KubeCluster {
            url,
            ca_path,
            admin_kubeconfig,
            admin_token,
            dir,
            etcd,
            apiserver,
            controller_manager: None,
        };
        cluster.wait_ready();
        cluster
    }

    /// Poll `/readyz` until the server answers ok; panic (with the logs) if
    /// a process exits or the server is not ready in [`READY_WAIT`].
    fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            let out = self.kubectl_output(&["get", "--raw", "/readyz"]);
            if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok" {
                return;
            }
            let exited = [
                ("etcd", &mut self.etcd),
                ("kube-apiserver", &mut self.apiserver),
            ]
            .into_iter()
            .find_map(|(name, child)| Some((name, child.try_wait().ok()??)));
            if let Some((name, status)) = exited {
                panic!("{name} exited ({status}) during start:\n{}", self.logs());
            }
            assert!(
                start.elapsed() < READY_WAIT,
                "kube-apiserver at {} not ready after {READY_WAIT:?}: {}\n{}",
                self.url,
                String::from_utf8_lossy(&out.stderr),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Start kube-controller-manager with the admin's kubeconfig.
    fn start_controller_manager(&mut self, bin: &Path) {
        let d = self.dir.path();
        let child = Command::new(bin)
            .current_dir(d)
            .arg("--kubeconfig")
            .arg(&self.admin_kubeconfig)
            .args([
                "--controllers",
                "garbage-collector-controller,namespace-controller,persistentvolumeclaim-protection-controller,resourcequota-controller,serviceaccount-controller",
                "--leader-elect=false",
                "--secure-port=0",
                "--concurrent-gc-syncs=5",
            ])
            .stdout(Stdio::null())
            .stderr(log_file(&d.join("controller-manager.log")))
            .spawn()
            .expect("start ferry-kube-controller-manager");
        self.controller_manager = Some(child);
    }

    /// The tail of both processes' logs (for failure messages).
    pub fn logs(&self) -> String {
        let tail = |name: &str| {
            let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        format!(
            "--- etcd.log ---\n{}\n--- apiserver.log ---\n{}\n--- controller-manager.log ---\n{}",
            tail("etcd.log"),
            tail("apiserver.log"),
            tail("controller-manager.log")
        )
    }

    /// The temporary directory holding certificates, logs and kubeconfigs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Write a kubeconfig for `user` authenticating with `token`; returns
    /// its path (in the cluster's directory).
    pub fn kubeconfig_for(&self, user: &str, token: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{user}.kubeconfig"));
        write_kubeconfig(&path, &self.url, &self.ca_path, user, token);
        path
    }

    /// A `kubectl` command with `kubeconfig` and a discovery cache of its
    /// own (ports are reused across clusters, so a shared cache goes stale).
    pub fn kubectl_command(&self, kubeconfig: &Path) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("kubectl-cache"));
        cmd
    }

    /// `kubectl` with `kubeconfig`; returns the output whatever the status.
    pub fn kubectl_as(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        crate::run_output(self.kubectl_command(kubeconfig).args(args))
    }

    /// `kubectl` as the admin; returns the output whatever the status.
    pub fn kubectl_output(&self, args: &[&str]) -> Output {
        self.kubectl_as(&self.admin_kubeconfig, args)
    }

    /// `kubectl` as the admin; panics on failure, returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> String {
        crate::run(self.kubectl_command(&self.admin_kubeconfig).args(args))
    }

    /// `kubectl apply -f -` of `manifest` (YAML or JSON) as the admin;
    /// returns the output whatever the status.
    pub fn apply_output(&self, manifest: &str) -> Output {
        self.apply_output_as(&self.admin_kubeconfig, manifest)
    }

    /// `kubectl apply -f -` of `manifest` with the given kubeconfig.
    pub fn apply_output_as(&self, kubeconfig: &Path, manifest: &str) -> Output {
        let mut child = self
            .kubectl_command(kubeconfig)
            .args(["apply", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kubectl");
        child
            .stdin
            .take()
            .expect("kubectl stdin")
            .write_all(manifest.as_bytes())
            .expect("write manifest to kubectl");
        child.wait_with_output().expect("wait for kubectl")
    }

    /// `kubectl apply` of `manifest` as the admin; panics on failure.
    pub fn apply(&self, manifest: &str) {
        let out = self.apply_output(manifest);
        assert!(
            out.status.success(),
            "kubectl apply failed: {}\n{manifest}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A signed token of ServiceAccount `ns/name` (TokenRequest API, as
    /// `kubectl create token`); the ServiceAccount must exist.
    pub fn service_account_token(&self, ns: &str, name: &str) -> String {
        self.kubectl(&["create", "token", name, "-n", ns, "--duration", "2h"])
            .trim()
            .to_owned()
    }

    /// Apply every CRD in `dir` (`*.yaml`, `*.json`) and wait until each is
    /// Established.
    pub fn install_crds(&self, dir: &Path) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read CRD folder {}: {e}", dir.display()))
            .map(|e| e.expect("read CRD folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "json"))
            .collect();
        assert!(!files.is_empty(), "no CRDs in {}", dir.display());
        files.sort();
        let mut args = vec!["apply", "--server-side", "-o", "name"];
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        for n in &names {
            args.extend(["-f", n.as_str()]);
        }
        let applied = self.kubectl(&args);
        let crds: Vec<&str> = applied.lines().filter(|l| !l.is_empty()).collect();
        let mut wait = vec!["wait", "--for", "condition=Established", "--timeout", "60s"];
        wait.extend(crds);
        self.kubectl(&wait);
    }
}

impl Drop for KubeCluster {
    fn drop(&mut self) {
        if let Some(c) = self.controller_manager.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.apiserver.kill();
        let _ = self.apiserver.wait();
        let _ = self.etcd.kill();
        let _ = self.etcd.wait();
    }
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()))
}

/// A kubeconfig with one cluster, user and context (`ferry-test`).
fn write_kubeconfig(path: &Path, url: &str, ca: &Path, user: &str, token: &str) {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: ferry-test\n  cluster:\n    server: {url}\n    certificate-authority: {ca}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: ferry-test\n  context:\n    cluster: ferry-test\n    user: {user}\ncurrent-context: ferry-test\n",
        ca = ca.display()
    );
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
