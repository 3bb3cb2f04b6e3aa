//! `ferry operator` against a real kube-apiserver (etcd, RBAC on, KubeVirt
//! and CDI CRDs installed), authenticated with the token of the
//! ServiceAccount from `ferry operator --print-manifests`, bound only to
//! the ClusterRole and Role printed there: leader election with two
//! replicas, probes, metrics, the ForkliftController (its settings and its
//! `host` Provider), namespace filtering, the controllers validating the
//! OVA sample plan, and a PVC over quota.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::cluster::*;
use common::{condition, sample};
use ferry_testutil::kube_cluster;
use serde_json::Value;

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
