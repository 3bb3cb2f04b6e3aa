//! Cluster mode end to end on a real kube-apiserver: `ferry operator`
//! (RBAC from its printed manifests) migrates the OVA sample into PVCs with
//! transfer pods (run by the tests' pod runner stand-in), the result agrees
//! with embedded mode; the leader dies mid-migration and one VM is
//! canceled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::cluster::*;
use common::{condition, sample, wait_for};
use ferry_testutil::kube_cluster;
use serde_json::Value;

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
    // The leader's metrics count the migration under Forklift's names.
    let (code, metrics) = http_get(port, "/metrics").unwrap();
    assert_eq!(code, 200);
    let labels = "provider=\"ova\",mode=\"Cold\",target=\"Local\"";
    for line in [
        format!("mtv_migrations_status_total{{status=\"Succeeded\",{labels}}} 1\n"),
        format!("mtv_plans_status{{status=\"Succeeded\",{labels}}} 1\n"),
    ] {
        assert!(metrics.contains(&line), "{line} missing:\n{metrics}");
    }
    // Per-disk throughput: only for copies that took a measurable time
    // (timestamps have one-second resolution), each naming its PVC.
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("ferry_disk_transfer_bytes_per_second{"))
    {
        assert!(
            names
                .iter()
                .any(|n| line.contains(&format!("disk=\"{n}\""))),
            "{line}"
        );
    }
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

/// Deleting the Plan mid-migration: its Migration is garbage-collected
/// (the Plan owns it), the Migration's finalizer cancels the unfinished
/// VMs, and their transfer pods and PVCs are deleted.
#[test]
fn deleting_the_plan_cancels_its_migration_and_removes_partial_objects() {
    let Some(cluster) = kube_cluster() else {
        return;
    };
    let Some(work) = sample("") else { return };
    let work = work.path();
    if ferry_testutil::peer("unshare").is_none() {
        return;
    }
    let kubeconfig = install_operator(&cluster, work);
    let runner = common::pod_runner::PodRunner::start(&cluster, &work.join("pv"));
    runner.only(Some(&[]));
    let data = work.join("operators");
    std::fs::create_dir_all(&data).unwrap();
    let _operator = start_operator(&kubeconfig, "replica-a", free_port(), &data, &[]);
    cluster.apply(&std::fs::read_to_string(work.join("migration.yaml")).unwrap());
    let count = |kind: &str| -> usize {
        get_json(&cluster, &[kind, "-n", "demo-vms"])
            .map_or(0, |p| p["items"].as_array().unwrap().len())
    };
    wait_logged("four transfer pods and five PVCs", &data, || {
        count("pods") == 4 && count("pvc") == 5
    });
    let m = get_json(&cluster, &["migrations", "ova-demo-1", "-n", NS]).unwrap();
    let owners = &m["metadata"]["ownerReferences"];
    assert_eq!(owners[0]["kind"], "Plan", "{m:#}");
    assert_eq!(owners[0]["name"], "ova-demo", "{m:#}");

    cluster.kubectl(&["delete", "plan", "ova-demo", "-n", NS, "--wait=false"]);
    wait_logged("the Migration collected", &data, || {
        get_json(&cluster, &["migrations", "ova-demo-1", "-n", NS]).is_none()
    });
    wait_logged("the transfer pods and PVCs deleted", &data, || {
        count("pods") == 0 && count("pvc") == 0
    });
    assert_eq!(count("virtualmachines"), 0, "no VM was created");
}
