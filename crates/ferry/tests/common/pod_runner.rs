//! TEST-ONLY stand-in for a kubelet (never part of the product): there is
//! no kubelet or container runtime on the test machines, so this runs the
//! transfer pods `ferry operator` creates.
//!
//! It watches pods labelled `ferry.konveyor.io/transfer=true` and runs each
//! one's container command on this machine (`ferry` is the binary under
//! test), in a private mount namespace (`unshare`) where every PVC volume is
//! a folder `ROOT/<namespace>/<claim>` bind-mounted at the container's
//! mountPath and hostPath volumes are the same paths. The process gets the
//! container's env (values and `metadata.name`/`metadata.namespace` field
//! references) and a kubeconfig with a token of the pod's ServiceAccount
//! (TokenRequest, as a kubelet mounts one). Pod status goes Running, then
//! Succeeded or Failed by exit code; a pod deleted while running has its
//! process killed.
//!
//! Limits (also in the README): needs root (mount namespaces); no image is
//! pulled (the command runs from this machine's build); securityContext
//! (runAsUser 107) is not applied; only PVC (Filesystem), hostPath, env and
//! fieldRef are honoured; no resource limits, probes or restarts; volumes are
//! folders on the host filesystem, not provisioned storage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferry_testutil::KubeCluster;
use serde_json::Value;

/// A running stand-in; stops (and kills its pods' processes) on drop.
pub struct PodRunner {
    stop: Arc<AtomicBool>,
    hold: Arc<std::sync::Mutex<Option<Vec<String>>>>,
    starts: Arc<std::sync::Mutex<HashMap<String, usize>>>,
    max_running: Arc<std::sync::atomic::AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// `ROOT/<namespace>/<claim>` holds each PVC's files.
    pub root: PathBuf,
}

struct Running {
    child: Child,
    ns: String,
    name: String,
}

struct Ctx {
    kubeconfig: PathBuf,
    url: String,
    ca: PathBuf,
    cache: PathBuf,
    root: PathBuf,
}

impl Ctx {
    fn kubectl(&self, args: &[&str]) -> std::process::Output {
        ferry_testutil::run_output(
            Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .arg("--cache-dir")
                .arg(&self.cache)
                .args(args),
        )
    }

    fn set_phase(&self, ns: &str, name: &str, phase: &str, exit: Option<i32>) {
        let mut status = serde_json::json!({"phase": phase});
        if let Some(code) = exit {
            status["containerStatuses"] = serde_json::json!([{
                "name": "transfer", "ready": false, "restartCount": 0, "image": "ferry", "imageID": "",
                "state": {"terminated": {"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" }}}
            }]);
        }
        let patch = serde_json::json!({ "status": status }).to_string();
        let _ = self.kubectl(&[
            "patch",
            "pod",
            name,
            "-n",
            ns,
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch,
        ]);
    }

    /// Start `pod`'s container; `None` when it cannot run (status Failed).
    fn start(&self, pod: &Value) -> Option<Child> {
        let ns = pod["metadata"]["namespace"].as_str().unwrap();
        let name = pod["metadata"]["name"].as_str().unwrap();
        let spec = &pod["spec"];
        let container = &spec["containers"][0];
        let sa = spec["serviceAccountName"].as_str().unwrap_or("default");
        let token = self.kubectl(&["create", "token", sa, "-n", ns, "--duration", "1h"]);
        assert!(
            token.status.success(),
            "token for {ns}/{sa}: {}",
            String::from_utf8_lossy(&token.stderr)
        );
        let dir = self.root.join(".pods").join(format!("{ns}_{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{}\", certificate-authority: \"{}\"}}\nusers:\n- name: u\n  user: {{token: \"{}\"}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n",
                self.url,
                self.ca.display(),
                String::from_utf8_lossy(&token.stdout).trim()
            ),
        )
        .unwrap();

        // Volumes: PVC → a folder per claim; hostPath → the same path.
        let mut sources: HashMap<String, PathBuf> = HashMap::new();
        for v in spec["volumes"].as_array().into_iter().flatten() {
            let vname = v["name"].as_str().unwrap().to_owned();
            if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
                let d = self.root.join(ns).join(claim);
                std::fs::create_dir_all(&d).unwrap();
                sources.insert(vname, d);
            } else if let Some(p) = v["hostPath"]["path"].as_str() {
                sources.insert(vname, PathBuf::from(p));
            }
        }
        let mut script = String::from("set -e\n");
        let mut parents: Vec<String> = Vec::new();
        for m in container["volumeMounts"].as_array().into_iter().flatten() {
            let (vname, path) = (
                m["name"].as_str().unwrap(),
                m["mountPath"].as_str().unwrap(),
            );
            let Some(src) = sources.get(vname) else {
                continue;
            };
            if src == Path::new(path) {
                continue;
            }
            let parent = Path::new(path).parent().unwrap().display().to_string();
            if !parents.contains(&parent) {
                // An empty tmpfs over the parent, private to this pod.
                std::fs::create_dir_all(&parent).unwrap();
                script.push_str(&format!("mount -t tmpfs ferry-pod '{parent}'\n"));
                parents.push(parent);
            }
            script.push_str(&format!(
                "mkdir -p '{path}'\nmount --bind '{}' '{path}'\n",
                src.display()
            ));
        }
        script.push_str("exec \"$@\"\n");

        let mut cmd = Command::new("unshare");
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
        ]);
        let command: Vec<String> = container["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(container["args"].as_array().into_iter().flatten())
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        for (i, arg) in command.iter().enumerate() {
            if i == 0 && arg == "ferry" {
                cmd.arg(env!("CARGO_BIN_EXE_ferry"));
            } else {
                cmd.arg(arg);
            }
        }
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        cmd.env("KUBECONFIG", &kubeconfig);
        for e in container["env"].as_array().into_iter().flatten() {
            let key = e["name"].as_str().unwrap();
            let value = match (
                e["value"].as_str(),
                e["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
            ) {
                (Some(v), _) => v.to_owned(),
                (None, Some("metadata.name")) => name.to_owned(),
                (None, Some("metadata.namespace")) => ns.to_owned(),
                _ => continue,
            };
            cmd.env(key, value);
        }
        let log = std::fs::File::create(dir.join("log")).unwrap();
        cmd.stdout(log.try_clone().unwrap()).stderr(log);
        cmd.spawn().ok()
    }
}

impl PodRunner {
    /// Start running the transfer pods of `cluster`, PVC folders under `root`.
    pub fn start(cluster: &KubeCluster, root: &Path) -> PodRunner {
        std::fs::create_dir_all(root).unwrap();
        let ctx = Ctx {
            kubeconfig: cluster.admin_kubeconfig.clone(),
            url: cluster.url.clone(),
            ca: cluster.ca_path.clone(),
            cache: root.join(".kubectl-cache"),
            root: root.to_path_buf(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let hold = Arc::new(std::sync::Mutex::new(None));
        let starts = Arc::new(std::sync::Mutex::new(HashMap::new()));
        let max_running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (flag, h, st, mr) = (
            stop.clone(),
            hold.clone(),
            starts.clone(),
            max_running.clone(),
        );
        let thread = std::thread::spawn(move || run(&ctx, &flag, &h, &st, &mr));
        PodRunner {
            stop,
            hold,
            starts,
            max_running,
            thread: Some(thread),
            root: root.to_path_buf(),
        }
    }

    /// Start only pods whose name is in `names` (others stay Pending, as on
    /// a node that has no room yet); `None` starts every pod.
    pub fn only(&self, names: Option<&[&str]>) {
        *self.hold.lock().unwrap() = names.map(|n| n.iter().map(|s| (*s).to_owned()).collect());
    }

    /// The most pod processes that ran at the same time.
    pub fn max_running(&self) -> usize {
        self.max_running.load(Ordering::SeqCst)
    }

    /// How many times a pod named `name` was started.
    pub fn starts(&self, name: &str) -> usize {
        self.starts.lock().unwrap().get(name).copied().unwrap_or(0)
    }

    /// The log of pod `ns/name` (empty when it never ran).
    pub fn log(&self, ns: &str, name: &str) -> String {
        std::fs::read_to_string(
            self.root
                .join(".pods")
                .join(format!("{ns}_{name}"))
                .join("log"),
        )
        .unwrap_or_default()
    }
}

type Hold = std::sync::Mutex<Option<Vec<String>>>;

fn run(
    ctx: &Ctx,
    stop: &AtomicBool,
    hold: &Hold,
    starts: &std::sync::Mutex<HashMap<String, usize>>,
    max_running: &std::sync::atomic::AtomicUsize,
) {
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    while !stop.load(Ordering::SeqCst) {
        let out = ctx.kubectl(&[
            "get",
            "pods",
            "-A",
            "-l",
            "ferry.konveyor.io/transfer=true",
            "-o",
            "json",
        ]);
        if out.status.success() {
            let list: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            let items = list["items"].as_array().cloned().unwrap_or_default();
            let live: std::collections::HashSet<String> = items
                .iter()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .map(|p| p["metadata"]["uid"].as_str().unwrap_or_default().to_owned())
                .collect();
            // Deleted pods: kill their processes, as a kubelet does.
            running.retain(|uid, r| {
                if live.contains(uid) {
                    return true;
                }
                let _ = r.child.kill();
                let _ = r.child.wait();
                false
            });
            for pod in &items {
                let uid = pod["metadata"]["uid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if !live.contains(&uid) || seen.contains(&uid) {
                    continue;
                }
                let ns = pod["metadata"]["namespace"].as_str().unwrap().to_owned();
                let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
                if hold
                    .lock()
                    .unwrap()
                    .as_ref()
                    .is_some_and(|allowed| !allowed.contains(&name))
                {
                    continue;
                }
                seen.insert(uid.clone());
                *starts.lock().unwrap().entry(name.clone()).or_default() += 1;
                match ctx.start(pod) {
                    Some(child) => {
                        ctx.set_phase(&ns, &name, "Running", None);
                        running.insert(uid, Running { child, ns, name });
                    }
                    None => ctx.set_phase(&ns, &name, "Failed", Some(127)),
                }
            }
        }
        max_running.fetch_max(running.len(), Ordering::SeqCst);
        // Finished processes.
        running.retain(|_, r| match r.child.try_wait() {
            Ok(Some(status)) => {
                let code = status.code().unwrap_or(137);
                ctx.set_phase(
                    &r.ns,
                    &r.name,
                    if code == 0 { "Succeeded" } else { "Failed" },
                    Some(code),
                );
                false
            }
            _ => true,
        });
        std::thread::sleep(Duration::from_millis(300));
    }
    for (_, mut r) in running {
        let _ = r.child.kill();
        let _ = r.child.wait();
    }
}

impl Drop for PodRunner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
