//! Helpers of the cluster-mode tests (`operator_cluster.rs`,
//! `operator_migrate.rs`): the operator installed from its printed
//! manifests, replicas started with their logs, probes read over HTTP,
//! objects read with kubectl, and the checks both modes share.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ferry_testutil::KubeCluster;
use serde_json::Value;

use super::{Guard, condition, wait_for};

pub const NS: &str = "openshift-mtv";
pub const WAIT: Duration = Duration::from_secs(90);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on 127.0.0.1:port: (status code, body); `None` when nothing
/// listens yet.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((code, body))
}

pub fn start_operator(
    kubeconfig: &Path,
    identity: &str,
    port: u16,
    data: &Path,
    extra: &[&str],
) -> Guard {
    let child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["--log", "ferry=info,warn", "operator", "--kubeconfig"])
        .arg(kubeconfig)
        .args(["--operator-namespace", NS, "--identity", identity])
        .args([
            "--lease-duration",
            "3",
            "--probe-listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--data-dir")
        .arg(data.join(identity))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(data.join(format!("{identity}.log"))).unwrap())
        .spawn()
        .unwrap();
    Guard::new(child)
}

/// Like `wait_for`, with both replicas' logs in the failure message.
pub fn wait_logged(what: &str, data: &Path, cond: impl FnMut() -> bool) {
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wait_for(what, WAIT, cond)));
    if result.is_err() {
        let log = |n: &str| std::fs::read_to_string(data.join(n)).unwrap_or_default();
        panic!(
            "never saw: {what}\n--- replica-a ---\n{}\n--- replica-b ---\n{}",
            log("replica-a.log"),
            log("replica-b.log")
        );
    }
}

pub fn get_json(cluster: &KubeCluster, args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    let out = cluster.kubectl_output(&all);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

pub fn lease_holder(cluster: &KubeCluster) -> Option<String> {
    get_json(cluster, &["lease", "ferry-operator", "-n", NS])
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_owned))
}

/// Apply `ferry operator --print-manifests` as the admin; returns a
/// kubeconfig with the token of its ServiceAccount (bound only to the
/// printed ClusterRole and Role).
pub fn install_operator(cluster: &KubeCluster, work: &Path) -> std::path::PathBuf {
    let out = super::run_ferry(&[
        "operator",
        "--print-manifests",
        "--image",
        "ferry:test",
        "--operator-namespace",
        NS,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifests = work.join("operator.yaml");
    std::fs::write(&manifests, &out.stdout).unwrap();
    cluster.kubectl(&["apply", "--server-side", "-f", manifests.to_str().unwrap()]);
    let token = cluster.service_account_token(NS, "ferry-operator");
    cluster.kubeconfig_for("ferry-operator", &token)
}

/// The sample's manifests without the `host` Provider (the operator must
/// create it) and without the Migration.
pub fn sample_plan(work: &Path) -> String {
    let text = std::fs::read_to_string(work.join("migration.yaml")).unwrap();
    text.split("\n---\n")
        .filter(|d| {
            let host = d.contains("kind: Provider") && d.contains("name: host");
            !host && !d.contains("kind: Migration")
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// Everything `ferry operator` created for one migrated disk checks out:
/// the PVC's bytes are the source's, and the PVC carries Forklift's labels
/// and annotations.
pub fn check_pvc(pvc: &Value, root: &Path, reference: &Path) -> String {
    let name = pvc["metadata"]["name"].as_str().unwrap();
    let labels = &pvc["metadata"]["labels"];
    for l in ["plan", "migration", "vmID"] {
        assert!(
            labels[l].as_str().is_some_and(|v| !v.is_empty()),
            "PVC {name} lacks label {l}: {pvc}"
        );
    }
    let ann = &pvc["metadata"]["annotations"];
    let source = ann["forklift.konveyor.io/disk-source"].as_str().unwrap();
    assert!(
        ann["forklift.konveyor.io/disk-index"].as_str().is_some(),
        "{pvc}"
    );
    let image = root.join("demo-vms").join(name).join("disk.img");
    let stem = Path::new(source)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let reference = reference.join(format!("{stem}.raw"));
    assert!(
        ferry_testutil::images_identical(&reference, &image),
        "{} differs from {}",
        image.display(),
        reference.display()
    );
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&image).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (107, 107),
        "{} is not owned by qemu (107:107)",
        image.display()
    );
    name.to_owned()
}

/// Peak RSS (VmHWM) of a running process, KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// What must agree between modes: plan condition types that are true, and
/// per VM its phase, true conditions and pipeline steps with their phases.
pub fn outline(plan: &Value) -> Value {
    let conds = |v: &Value| -> Vec<String> {
        let mut c: Vec<String> = v["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["status"] == "True")
            .map(|c| c["type"].as_str().unwrap_or_default().to_owned())
            .collect();
        c.sort();
        c
    };
    let mut vms: Vec<Value> = plan["status"]["migration"]["vms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let steps: Vec<Value> = v["pipeline"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| serde_json::json!([s["name"], s["phase"], s["tasks"].as_array().map(|t| t.iter().map(|t| t["name"].clone()).collect::<Vec<_>>())]))
                .collect();
            serde_json::json!({"name": v["name"], "phase": v["phase"], "conditions": conds(v), "pipeline": steps})
        })
        .collect();
    vms.sort_by_key(|v| v["name"].as_str().unwrap_or_default().to_owned());
    serde_json::json!({"conditions": conds(&plan["status"]), "vms": vms})
}

/// Run `manifests` on `ferry serve` in a fresh data directory until the
/// plan ends; returns the Plan and the seconds from apply to the end.
pub fn embedded_plan(work: &Path, manifests: &str) -> (Value, f64) {
    let data = work.join("embedded");
    let (_server, kubeconfig) = super::start_serve(&[], &data, &[], &work.join("serve.log"));
    let started = std::time::Instant::now();
    super::kubectl(&kubeconfig, &["apply", "-f", "-"], Some(manifests));
    let mut plan = Value::Null;
    wait_for(
        "the embedded migration to end",
        Duration::from_secs(300),
        || {
            plan = serde_json::from_str(&super::kubectl(
                &kubeconfig,
                &["get", "plan", "ova-demo", "-n", NS, "-o", "json"],
                None,
            ))
            .unwrap();
            condition(&plan, "Succeeded").is_some() || condition(&plan, "Failed").is_some()
        },
    );
    (plan, started.elapsed().as_secs_f64())
}

pub fn vm_status<'a>(plan: &'a Value, name: &str) -> Option<&'a Value> {
    plan["status"]["migration"]["vms"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == name)
}
