//! `ferry operator` against a real kube-apiserver (etcd, RBAC on, KubeVirt
//! and CDI CRDs installed), authenticated with the token of the
//! ServiceAccount from `ferry operator --print-manifests`, bound only to
//! the ClusterRole and Role printed there: leader election with two
//! replicas, probes, metrics, the ForkliftController and its `host`
//! Provider, namespace filtering, and the controllers validating the OVA
//! sample plan.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Guard, condition, sample, wait_for};
use ferry_testutil::{KubeCluster, kube_cluster};
use serde_json::Value;

const NS: &str = "openshift-mtv";
const WAIT: Duration = Duration::from_secs(90);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on 127.0.0.1:port: (status code, body); `None` when nothing
/// listens yet.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
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

fn start_operator(
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
fn wait_logged(what: &str, data: &Path, cond: impl FnMut() -> bool) {
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

fn get_json(cluster: &KubeCluster, args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    let out = cluster.kubectl_output(&all);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

fn lease_holder(cluster: &KubeCluster) -> Option<String> {
    get_json(cluster, &["lease", "ferry-operator", "-n", NS])
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_owned))
}

/// Apply `ferry operator --print-manifests` as the admin; returns a
/// kubeconfig with the token of its ServiceAccount (bound only to the
/// printed ClusterRole and Role).
fn install_operator(cluster: &KubeCluster, work: &Path) -> std::path::PathBuf {
    let out = common::run_ferry(&[
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
fn sample_plan(work: &Path) -> String {
    let text = std::fs::read_to_string(work.join("migration.yaml")).unwrap();
    text.split("\n---\n")
        .filter(|d| {
            let host = d.contains("kind: Provider") && d.contains("name: host");
            !host && !d.contains("kind: Migration")
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[test]
fn operator_leads_with_rbac_from_deploy_and_fails_over() {
    let Some(cluster) = kube_cluster() else {
        return;
    };
    let Some(work) = sample("") else { return };
    let work = work.path();

    // Arrange: the printed manifests (ServiceAccount, ClusterRole, Role,
    // bindings, Deployment, CRDs) applied as the admin.
    let kubeconfig = install_operator(&cluster, work);
    // A Provider in a namespace the operators do not watch.
    cluster.kubectl(&["create", "namespace", "elsewhere"]);
    cluster.apply("apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\nmetadata: {name: ignored, namespace: elsewhere}\nspec: {type: ova, url: /nonexistent, secret: {}}\n");

    // Act: replica a starts first and leads.
    let data = work.join("operators");
    std::fs::create_dir_all(&data).unwrap();
    let (pa, pb) = (free_port(), free_port());
    let only = ["--namespace", NS];
    let a = start_operator(&kubeconfig, "replica-a", pa, &data, &only);
    wait_logged("replica-a holds the Lease", &data, || {
        lease_holder(&cluster).as_deref() == Some("replica-a")
    });
    let mut b = start_operator(&kubeconfig, "replica-b", pb, &data, &only);
    wait_logged("replica-b ready", &data, || {
        http_get(pb, "/readyz").is_some_and(|(c, _)| c == 200)
    });
    assert_eq!(http_get(pb, "/healthz").unwrap().0, 200);
    let (code, text) = http_get(pb, "/metrics").unwrap();
    assert_eq!(code, 200);
    assert!(text.contains("ferry_operator_leader 0\n"), "{text}");
    assert_eq!(
        lease_holder(&cluster).as_deref(),
        Some("replica-a"),
        "the standby must not take a live Lease"
    );

    // The ForkliftController's settings are applied and `host` created.
    cluster.apply(&format!("apiVersion: forklift.konveyor.io/v1beta1\nkind: ForkliftController\nmetadata: {{name: forklift-controller, namespace: {NS}}}\nspec: {{controller_max_vm_inflight: 3, controller_filesystem_overhead: 12}}\n"));
    wait_logged("the host Provider", &data, || {
        get_json(
            &cluster,
            &["providers.forklift.konveyor.io", "host", "-n", NS],
        )
        .is_some()
    });
    let host = get_json(
        &cluster,
        &["providers.forklift.konveyor.io", "host", "-n", NS],
    )
    .unwrap();
    assert_eq!(host["spec"]["type"], "openshift");
    assert!(
        host["spec"]["url"].as_str().unwrap_or_default().is_empty(),
        "{host}"
    );
    wait_logged("the ForkliftController status", &data, || {
        get_json(
            &cluster,
            &["forkliftcontrollers", "forklift-controller", "-n", NS],
        )
        .is_some_and(|fc| {
            condition(&fc, "Successful").is_some_and(|c| {
                let m = c["message"].as_str().unwrap_or_default();
                m.contains("controller_max_vm_inflight=3")
                    && m.contains("controller_filesystem_overhead=12")
            })
        })
    });

    // The sample plan (without its `host` Provider) becomes Ready: the
    // controllers read the OVAs, validated the maps and the plan, and
    // wrote status with nothing but the printed RBAC.
    cluster.apply(&sample_plan(work));
    wait_logged("Plan ova-demo Ready", &data, || {
        get_json(&cluster, &["plans", "ova-demo", "-n", NS])
            .is_some_and(|p| condition(&p, "Ready").is_some())
    });
    let provider = get_json(
        &cluster,
        &["providers.forklift.konveyor.io", "ova-appliances", "-n", NS],
    )
    .unwrap();
    assert!(condition(&provider, "Ready").is_some(), "{provider}");
    // Only the watched namespace is reconciled.
    let ignored = get_json(
        &cluster,
        &[
            "providers.forklift.konveyor.io",
            "ignored",
            "-n",
            "elsewhere",
        ],
    )
    .unwrap();
    assert!(
        ignored["status"].is_null(),
        "a Provider outside --namespace was reconciled: {ignored}"
    );

    // Metrics on the leader use Forklift's names.
    let (_, text) = http_get(pa, "/metrics").unwrap();
    assert!(text.contains("ferry_operator_leader 1\n"), "{text}");
    assert!(text.contains("# TYPE mtv_plans_status gauge"), "{text}");
    assert!(
        text.contains("# TYPE mtv_migrations_status_total counter"),
        "{text}"
    );

    // Failover: the leader dies without releasing its Lease; the standby
    // takes over once it expires and leads.
    drop(a);
    wait_logged("replica-b takes over", &data, || {
        lease_holder(&cluster).as_deref() == Some("replica-b")
    });
    wait_logged("replica-b reports leading", &data, || {
        http_get(pb, "/metrics").is_some_and(|(_, t)| t.contains("ferry_operator_leader 1\n"))
    });
    let lease = get_json(&cluster, &["lease", "ferry-operator", "-n", NS]).unwrap();
    assert_eq!(lease["spec"]["leaseTransitions"], 1, "{lease}");
    assert!(!b.exited(), "replica-b exited");

    for name in ["replica-a.log", "replica-b.log"] {
        let log = std::fs::read_to_string(data.join(name)).unwrap();
        assert!(
            !log.contains("forbidden"),
            "{name} shows an RBAC denial:\n{log}"
        );
    }

    // A graceful stop (SIGTERM, as on pod deletion) releases the Lease.
    ferry_testutil::run(Command::new("kill").args(["-TERM", &b.pid().to_string()]));
    wait_logged("replica-b exits", &data, || b.exited());
    let lease = get_json(&cluster, &["lease", "ferry-operator", "-n", NS]).unwrap();
    assert!(
        lease["spec"]["holderIdentity"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{lease}"
    );
}

/// Everything `ferry operator` created for one migrated disk checks out:
/// the PVC's bytes are the source's, and the PVC carries Forklift's labels
/// and annotations.
fn check_pvc(pvc: &Value, root: &Path, reference: &Path) -> String {
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

#[test]
fn operator_migrates_the_ova_sample_into_pvcs_with_transfer_pods() {
    let Some(cluster) = kube_cluster() else {
        return;
    };
    let Some(work) = sample("") else { return };
    let work = work.path();
    if ferry_testutil::peer("unshare").is_none() {
        return;
    }
    let kubeconfig = install_operator(&cluster, work);
    let pv = work.join("pv");
    let runner = common::pod_runner::PodRunner::start(&cluster, &pv);
    let data = work.join("operators");
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let operator = start_operator(
        &kubeconfig,
        "replica-a",
        port,
        &data,
        &["--transfer-image", "ferry:test"],
    );

    // Act: the unchanged sample manifests, applied as a user would.
    let text = std::fs::read_to_string(work.join("migration.yaml")).unwrap();
    let started = std::time::Instant::now();
    cluster.apply(&text);
    let mut last = Value::Null;
    let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for(
            "the Plan's migration to finish",
            Duration::from_secs(300),
            || {
                last = get_json(&cluster, &["plans", "ova-demo", "-n", NS]).unwrap_or_default();
                condition(&last, "Succeeded").is_some() || condition(&last, "Failed").is_some()
            },
        )
    }));
    let dump = || {
        let pods: Vec<String> = ["two-disk-bios", "efi-vm", "concern-vm-01", "extracted-vm"]
            .iter()
            .map(|vm| {
                format!(
                    "--- pod {vm} ---\n{}",
                    runner.log("demo-vms", &format!("ferry-transfer-{vm}"))
                )
            })
            .collect();
        format!(
            "plan status: {}\n--- operator ---\n{}\n{}",
            serde_json::to_string_pretty(&last["status"]).unwrap(),
            std::fs::read_to_string(data.join("replica-a.log")).unwrap_or_default(),
            pods.join("\n")
        )
    };
    let cluster_done = started.elapsed();
    assert!(
        finished.is_ok(),
        "the migration did not finish:\n{}",
        dump()
    );
    assert!(
        condition(&last, "Succeeded").is_some(),
        "the migration failed:\n{}",
        dump()
    );

    // Assert: every VM completed with per-disk progress in MB.
    let vms = last["status"]["migration"]["vms"].as_array().unwrap();
    assert_eq!(vms.len(), 4, "{}", dump());
    for vm in vms {
        assert_eq!(vm["phase"], "Completed", "{vm}");
        let transfer = vm["pipeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "DiskTransfer")
            .unwrap();
        assert_eq!(transfer["phase"], "Completed", "{transfer}");
        for task in transfer["tasks"].as_array().unwrap() {
            assert_eq!(
                task["progress"]["completed"], task["progress"]["total"],
                "{task}"
            );
            assert!(task["progress"]["total"].as_i64().unwrap() > 0, "{task}");
        }
    }
    // Each PVC holds exactly the source disk.
    let pvcs = get_json(&cluster, &["pvc", "-n", "demo-vms"]).unwrap();
    let reference = work.join("sample/reference");
    let names: Vec<String> = pvcs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| check_pvc(p, &pv, &reference))
        .collect();
    assert_eq!(
        names.len(),
        5,
        "two-disk-bios has 2 disks, the other three 1 each: {names:?}"
    );
    // The VirtualMachines exist (the server validated them against
    // KubeVirt's CRD) and use the PVCs.
    let vm = get_json(
        &cluster,
        &["virtualmachines", "two-disk-bios", "-n", "demo-vms"],
    )
    .unwrap();
    let claims: Vec<&str> = vm["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["persistentVolumeClaim"]["claimName"].as_str().unwrap())
        .collect();
    assert_eq!(claims.len(), 2, "{vm}");
    assert!(
        claims.iter().all(|c| names.iter().any(|n| n == c)),
        "{claims:?} vs {names:?}"
    );
    let macs: Vec<&str> = vm["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["macAddress"].as_str().unwrap())
        .collect();
    assert_eq!(macs, ["00:50:56:a1:00:01", "00:50:56:a1:00:02"]);
    let all = get_json(&cluster, &["virtualmachines", "-n", "demo-vms"]).unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    // Finished transfer pods are removed.
    wait_logged("transfer pods removed", &data, || {
        get_json(&cluster, &["pods", "-n", "demo-vms"])
            .is_some_and(|p| p["items"].as_array().unwrap().is_empty())
    });
    let log = std::fs::read_to_string(data.join("replica-a.log")).unwrap();
    assert!(
        !log.contains("forbidden"),
        "the operator shows an RBAC denial:\n{log}"
    );
    let cluster_secs = cluster_done.as_secs_f64();
    let rss = peak_rss_kib(operator.pid());

    // The same manifests on the embedded default: the same per-VM outcome
    // and pipeline, and the same plan conditions.
    let embedded = embedded_plan(work, &text);
    let (embedded_plan, embedded_secs) = embedded;
    assert_eq!(
        outline(&last),
        outline(&embedded_plan),
        "cluster mode and embedded mode differ"
    );
    eprintln!(
        "OVA sample, apply to Succeeded: cluster mode {cluster_secs:.1}s, embedded mode {embedded_secs:.1}s, ratio {:.2}; operator peak RSS {} KiB",
        cluster_secs / embedded_secs,
        rss.map_or_else(|| "?".to_owned(), |r| r.to_string())
    );
}

/// Peak RSS (VmHWM) of a running process, KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// What must agree between modes: plan condition types that are true, and
/// per VM its phase, true conditions and pipeline steps with their phases.
fn outline(plan: &Value) -> Value {
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
fn embedded_plan(work: &Path, manifests: &str) -> (Value, f64) {
    let data = work.join("embedded");
    let (_server, kubeconfig) = common::start_serve(&[], &data, &[], &work.join("serve.log"));
    let started = std::time::Instant::now();
    common::kubectl(&kubeconfig, &["apply", "-f", "-"], Some(manifests));
    let mut plan = Value::Null;
    wait_for(
        "the embedded migration to end",
        Duration::from_secs(300),
        || {
            plan = serde_json::from_str(&common::kubectl(
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

fn vm_status<'a>(plan: &'a Value, name: &str) -> Option<&'a Value> {
    plan["status"]["migration"]["vms"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == name)
}

/// The leader dies in the middle of a migration (one VM done, the others'
/// transfer pods not started yet) and one VM is canceled: the standby
/// takes over and finishes without copying the finished VM again; the
/// canceled VM's pod and PVCs are removed.
#[test]
fn operator_failover_mid_migration_and_cancel_one_vm() {
    let Some(cluster) = kube_cluster() else {
        return;
    };
    let Some(work) = sample("") else { return };
    let work = work.path();
    if ferry_testutil::peer("unshare").is_none() {
        return;
    }
    let kubeconfig = install_operator(&cluster, work);
    let pv = work.join("pv");
    let runner = common::pod_runner::PodRunner::start(&cluster, &pv);
    runner.only(Some(&["ferry-transfer-two-disk-bios"]));
    let data = work.join("operators");
    std::fs::create_dir_all(&data).unwrap();
    let (pa, pb) = (free_port(), free_port());
    let a = start_operator(&kubeconfig, "replica-a", pa, &data, &[]);
    wait_logged("replica-a leads", &data, || {
        lease_holder(&cluster).as_deref() == Some("replica-a")
    });
    let mut b = start_operator(&kubeconfig, "replica-b", pb, &data, &[]);
    cluster.apply(&std::fs::read_to_string(work.join("migration.yaml")).unwrap());

    // One VM finishes; the others wait for their transfer pods.
    let plan = || get_json(&cluster, &["plans", "ova-demo", "-n", NS]).unwrap_or_default();
    wait_logged("two-disk-bios completed", &data, || {
        vm_status(&plan(), "two-disk-bios").is_some_and(|v| v["phase"] == "Completed")
    });
    let pods = |ns: &str| -> Vec<String> {
        get_json(&cluster, &["pods", "-n", ns])
            .map(|p| {
                p["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    wait_logged("the efi-vm and concern VM pods pending", &data, || {
        let p = pods("demo-vms");
        p.contains(&"ferry-transfer-efi-vm".to_owned())
            && p.contains(&"ferry-transfer-concern-vm-01".to_owned())
    });

    // Cancel one VM: its pod and PVCs go away.
    cluster.kubectl(&[
        "patch",
        "migration",
        "ova-demo-1",
        "-n",
        NS,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"cancel":[{"name":"Concern VM_01"}]}}"#,
    ]);
    // Every PVC there (kube-controller-manager removes the pvc-protection
    // finalizer of a deleted one).
    let pvcs = || -> Vec<String> {
        get_json(&cluster, &["pvc", "-n", "demo-vms"])
            .map(|p| {
                p["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for("the canceled VM's pod and PVCs removed", WAIT, || {
            !pods("demo-vms").iter().any(|p| p.contains("concern"))
                && !pvcs().iter().any(|p| p.contains("concern"))
        })
    }));
    assert!(
        result.is_ok(),
        "pods {:?} pvcs {:?}\nmigration {:#}\nplan {:#}\n{}",
        pods("demo-vms"),
        pvcs(),
        get_json(&cluster, &["migrations", "ova-demo-1", "-n", NS]).unwrap_or_default()["status"],
        plan()["status"]["migration"],
        std::fs::read_to_string(data.join("replica-a.log")).unwrap_or_default()
    );

    // The leader dies mid-migration; the standby takes over and finishes.
    drop(a);
    wait_logged("replica-b takes over", &data, || {
        lease_holder(&cluster).as_deref() == Some("replica-b")
    });
    // A transfer pod that disappears (deleted, node drained) is created
    // again by the new leader.
    let uid = |name: &str| {
        get_json(&cluster, &["pod", name, "-n", "demo-vms"])
            .and_then(|p| p["metadata"]["uid"].as_str().map(str::to_owned))
    };
    let old = uid("ferry-transfer-efi-vm").unwrap();
    cluster.kubectl(&[
        "delete",
        "pod",
        "ferry-transfer-efi-vm",
        "-n",
        "demo-vms",
        "--wait=false",
    ]);
    wait_logged("the efi-vm pod recreated", &data, || {
        uid("ferry-transfer-efi-vm").is_some_and(|u| u != old)
    });
    runner.only(None);
    wait_logged("the migration to end", &data, || {
        let m = get_json(&cluster, &["migrations", "ova-demo-1", "-n", NS]).unwrap_or_default();
        ["Succeeded", "Failed", "Canceled"]
            .iter()
            .any(|t| condition(&m, t).is_some())
    });
    let m = get_json(&cluster, &["migrations", "ova-demo-1", "-n", NS]).unwrap();
    let p = plan();
    assert!(
        condition(&m, "Succeeded").is_some(),
        "{m:#}\n{p:#}\n{}",
        runner.log("demo-vms", "ferry-transfer-efi-vm")
    );
    for (vm, want) in [
        ("two-disk-bios", "Succeeded"),
        ("efi-vm", "Succeeded"),
        ("extracted-vm", "Succeeded"),
        ("Concern VM_01", "Canceled"),
    ] {
        let v = vm_status(&p, vm).unwrap();
        assert!(
            condition(&serde_json::json!({"status": v}), want).is_some(),
            "{vm}: {v:#}"
        );
    }
    // The finished VM was not copied again: its pod ran once, and its
    // disks are still the source's.
    assert_eq!(runner.starts("ferry-transfer-two-disk-bios"), 1);
    let reference = work.join("sample/reference");
    let all = get_json(&cluster, &["pvc", "-n", "demo-vms"]).unwrap();
    let names: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| check_pvc(p, &pv, &reference))
        .collect();
    assert_eq!(names.len(), 4, "3 VMs with 4 disks remain: {names:?}");
    assert!(!b.exited());
    for name in ["replica-a.log", "replica-b.log"] {
        let log = std::fs::read_to_string(data.join(name)).unwrap();
        assert!(
            !log.contains("forbidden"),
            "{name} shows an RBAC denial:\n{log}"
        );
    }
}

/// A PVC that the namespace's ResourceQuota does not allow fails the VM in
/// CreateDataVolumes with a message that names the quota and what to do.
#[test]
fn operator_reports_a_pvc_over_quota_clearly() {
    let Some(cluster) = kube_cluster() else {
        return;
    };
    let Some(work) = sample("  vms:\n    - name: efi-vm\n") else {
        return;
    };
    let work = work.path();
    let kubeconfig = install_operator(&cluster, work);
    cluster.kubectl(&["create", "namespace", "demo-vms"]);
    cluster.apply("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: small, namespace: demo-vms}\nspec: {hard: {requests.storage: 1Mi}}\n");
    let data = work.join("operators");
    std::fs::create_dir_all(&data).unwrap();
    wait_logged("the quota counted", &data, || {
        get_json(&cluster, &["resourcequota", "small", "-n", "demo-vms"])
            .is_some_and(|q| !q["status"]["hard"].is_null())
    });
    let _operator = start_operator(&kubeconfig, "replica-a", free_port(), &data, &[]);
    cluster.apply(&std::fs::read_to_string(work.join("migration.yaml")).unwrap());
    let mut plan = Value::Null;
    wait_logged("the migration to end", &data, || {
        plan = get_json(&cluster, &["plans", "ova-demo", "-n", NS]).unwrap_or_default();
        condition(&plan, "Failed").is_some() || condition(&plan, "Succeeded").is_some()
    });
    assert!(condition(&plan, "Failed").is_some(), "{plan:#}");
    let vm = vm_status(&plan, "efi-vm").unwrap();
    assert_eq!(vm["error"]["phase"], "CreateDataVolumes", "{vm:#}");
    let reasons = vm["error"]["reasons"].to_string();
    assert!(
        reasons.contains("ResourceQuota")
            && reasons.contains("demo-vms")
            && reasons.contains("raise the quota"),
        "{reasons}"
    );
}

/// `controller_max_vm_inflight` of the ForkliftController bounds the
/// transfer pods that exist at once.
#[test]
fn forklift_controller_max_vm_inflight_bounds_transfer_pods() {
    let Some(cluster) = kube_cluster() else {
        return;
    };
    let Some(work) = sample("") else { return };
    let work = work.path();
    if ferry_testutil::peer("unshare").is_none() {
        return;
    }
    let kubeconfig = install_operator(&cluster, work);
    let pv = work.join("pv");
    let runner = common::pod_runner::PodRunner::start(&cluster, &pv);
    runner.only(Some(&[]));
    let data = work.join("operators");
    std::fs::create_dir_all(&data).unwrap();
    let _operator = start_operator(&kubeconfig, "replica-a", free_port(), &data, &[]);
    cluster.apply(&format!("apiVersion: forklift.konveyor.io/v1beta1\nkind: ForkliftController\nmetadata: {{name: forklift-controller, namespace: {NS}}}\nspec: {{controller_max_vm_inflight: 1}}\n"));
    wait_logged("the setting applied", &data, || {
        get_json(
            &cluster,
            &["forkliftcontrollers", "forklift-controller", "-n", NS],
        )
        .is_some_and(|fc| {
            condition(&fc, "Successful").is_some_and(|c| {
                c["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("controller_max_vm_inflight=1,")
            })
        })
    });
    cluster.apply(&std::fs::read_to_string(work.join("migration.yaml")).unwrap());
    let pods = || -> usize {
        get_json(&cluster, &["pods", "-n", "demo-vms"])
            .map_or(0, |p| p["items"].as_array().unwrap().len())
    };
    wait_logged("the first transfer pod", &data, || pods() == 1);
    // While it is held Pending the next VM waits for its turn: the other
    // VMs have not started (no phase yet) and have no pod.
    let waiting = || -> usize {
        get_json(&cluster, &["plans", "ova-demo", "-n", NS]).map_or(0, |plan| {
            plan["status"]["migration"]["vms"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| matches!(v["phase"].as_str().unwrap_or_default(), "" | "Pending"))
                .count()
        })
    };
    wait_logged("three VMs waiting while one pod exists", &data, || {
        waiting() == 3 && pods() == 1
    });
    runner.only(None);
    wait_logged("the migration to end", &data, || {
        get_json(&cluster, &["plans", "ova-demo", "-n", NS]).is_some_and(|p| {
            condition(&p, "Succeeded").is_some() || condition(&p, "Failed").is_some()
        })
    });
    let plan = get_json(&cluster, &["plans", "ova-demo", "-n", NS]).unwrap();
    assert!(condition(&plan, "Succeeded").is_some(), "{plan:#}");
    assert_eq!(
        runner.max_running(),
        1,
        "more than one transfer pod ran at once"
    );
}
