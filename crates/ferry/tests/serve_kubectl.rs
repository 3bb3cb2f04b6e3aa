//! The cluster-style flow: `ferry serve`, then `kubectl apply -f` of the
//! Provider, maps, Plan and Migration, `kubectl get migration -w` showing
//! progress, and `spec.cancel[]` stopping one VM while the others go on.
//! The cancelled VM's partial volumes and DataVolumes are removed; the
//! other VMs' disks are identical to their sources.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Guard, compare_disks, condition, kubectl, sample, start_serve, volumes, wait_for};
use ferry_testutil::peer;
use serde_json::Value;

/// The sample OVAs (plan VMs `plan_vms`, all when empty), `ferry serve`
/// with copies slowed to 1 MiB/s and `inflight` VMs at once, and the
/// sample's manifests applied with kubectl. `None` when a peer is missing.
fn serve_sample(
    plan_vms: &str,
    inflight: &str,
) -> Option<(tempfile::TempDir, Guard, std::path::PathBuf)> {
    peer("kubectl")?;
    let dir = sample(plan_vms)?;
    let work = dir.path();
    let (server, kubeconfig) = start_serve(
        &[],
        &work.join("data"),
        &["--max-rate", "1M", "--max-vm-inflight", inflight],
        &work.join("serve.log"),
    );
    kubectl(
        &kubeconfig,
        &["apply", "-f", work.join("migration.yaml").to_str().unwrap()],
        None,
    );
    Some((dir, server, kubeconfig))
}

fn migration(kubeconfig: &Path) -> Value {
    serde_json::from_str(&kubectl(
        kubeconfig,
        &[
            "get",
            "migration",
            "ova-demo-1",
            "-n",
            "openshift-mtv",
            "-o",
            "json",
        ],
        None,
    ))
    .unwrap()
}

#[test]
fn serve_apply_watch_and_cancel_one_vm() {
    let Some((dir, server, kubeconfig)) = serve_sample("", "2") else {
        return;
    };
    let work = dir.path();
    let kubeconfig = kubeconfig.as_path();
    let watch_log = work.join("watch.log");
    let watch = Guard::new(
        Command::new("kubectl")
            .env("KUBECONFIG", kubeconfig)
            .args(["get", "migration", "-n", "openshift-mtv", "-w"])
            .stdout(std::fs::File::create(&watch_log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // Cancel efi-vm while its disk is being copied.
    wait_for(
        "efi-vm's volume being written",
        Duration::from_secs(180),
        || {
            volumes(work)
                .iter()
                .any(|(n, ready)| n.contains("efi-vm") && !ready)
        },
    );
    kubectl(
        kubeconfig,
        &[
            "patch",
            "migration",
            "ova-demo-1",
            "-n",
            "openshift-mtv",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"cancel":[{"name":"efi-vm"}]}}"#,
        ],
        None,
    );
    wait_for("the migration to end", Duration::from_secs(300), || {
        let m = migration(kubeconfig);
        ["Succeeded", "Failed", "Canceled"]
            .iter()
            .any(|t| condition(&m, t).is_some())
    });
    let m = migration(kubeconfig);
    assert!(condition(&m, "Succeeded").is_some(), "{m:#}");
    let plan: Value = serde_json::from_str(&kubectl(
        kubeconfig,
        &[
            "get",
            "plan",
            "ova-demo",
            "-n",
            "openshift-mtv",
            "-o",
            "json",
        ],
        None,
    ))
    .unwrap();
    let vms = plan["status"]["migration"]["vms"].as_array().unwrap();
    assert_eq!(vms.len(), 4, "{plan:#}");
    for vm in vms {
        let name = vm["name"].as_str().unwrap();
        let want = if name == "efi-vm" {
            "Canceled"
        } else {
            "Succeeded"
        };
        assert!(
            condition(&serde_json::json!({"status": vm}), want).is_some(),
            "{name}: {vm:#}"
        );
    }
    // The cancelled VM left nothing behind; the others are complete.
    assert!(
        volumes(work).iter().all(|(n, _)| !n.contains("efi-vm")),
        "{:?}",
        volumes(work)
    );
    let dvs = kubectl(
        kubeconfig,
        &["get", "datavolumes", "-n", "demo-vms", "-o", "name"],
        None,
    );
    assert!(!dvs.contains("efi-vm"), "{dvs}");
    assert!(
        !work
            .join("data/local/manifests/demo-vms/efi-vm")
            .join("virtualmachine.yaml")
            .exists()
    );
    let mut compared = 0;
    for vm in ["two-disk-bios", "concern-vm-01", "extracted-vm"] {
        compared += compare_disks(work, vm);
    }
    assert_eq!(compared, 4);

    // The watch saw the migration change: from running to succeeded.
    drop(watch);
    drop(server);
    let log = std::fs::read_to_string(&watch_log).unwrap();
    let rows: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("ova-demo-1"))
        .collect();
    assert!(rows.len() >= 2, "{log}");
    assert!(log.lines().next().unwrap().contains("SUCCEEDED"), "{log}");
    let last: Vec<&str> = rows.last().unwrap().split_whitespace().collect();
    // NAME READY RUNNING SUCCEEDED FAILED AGE; empty columns are omitted by
    // split_whitespace, so look for the True of SUCCEEDED in the row.
    assert!(last.contains(&"True"), "{log}");
}

/// Deleting a running Migration cancels what it has not finished; a new
/// Migration of the same Plan migrates what is left and leaves finished VMs
/// alone.
#[test]
fn deleting_a_migration_cancels_the_rest_and_a_new_one_finishes() {
    let Some((dir, _server, kubeconfig)) = serve_sample(
        "  vms:\n    - name: efi-vm\n    - name: two-disk-bios\n",
        "1",
    ) else {
        return;
    };
    let work = dir.path();
    let kc = kubeconfig.as_path();
    let plan = |kc: &Path| -> Value {
        serde_json::from_str(&kubectl(
            kc,
            &[
                "get",
                "plan",
                "ova-demo",
                "-n",
                "openshift-mtv",
                "-o",
                "json",
            ],
            None,
        ))
        .unwrap()
    };
    let results = |p: &Value| -> Vec<(String, String)> {
        p["status"]["migration"]["vms"]
            .as_array()
            .map(|vms| {
                vms.iter()
                    .map(|vm| {
                        let r = ["Succeeded", "Failed", "Canceled"]
                            .into_iter()
                            .find(|t| condition(&serde_json::json!({"status": vm}), t).is_some())
                            .unwrap_or("Running");
                        (vm["name"].as_str().unwrap_or("").to_owned(), r.to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    // One VM done, the other being copied.
    wait_for(
        "one VM migrated and another being copied",
        Duration::from_secs(180),
        || {
            results(&plan(kc)).iter().any(|(_, r)| r == "Succeeded")
                && volumes(work).iter().any(|(_, r)| !*r)
        },
    );
    kubectl(
        kc,
        &[
            "delete",
            "migration",
            "ova-demo-1",
            "-n",
            "openshift-mtv",
            "--timeout=120s",
        ],
        None,
    );
    let after_delete = results(&plan(kc));
    let done: Vec<String> = after_delete
        .iter()
        .filter(|(_, r)| r == "Succeeded")
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(done.len(), 1, "{after_delete:?}");
    assert!(
        after_delete.iter().any(|(_, r)| r == "Canceled"),
        "{after_delete:?}"
    );
    let finished_volumes: Vec<(String, std::time::SystemTime)> = volumes(work)
        .into_iter()
        .filter(|(_, r)| *r)
        .map(|(n, _)| {
            let t = std::fs::metadata(work.join("data/local/volumes/demo-vms").join(&n))
                .unwrap()
                .modified()
                .unwrap();
            (n, t)
        })
        .collect();
    // The cancelled VM left no volume behind.
    assert!(volumes(work).iter().all(|(_, r)| *r), "{:?}", volumes(work));

    // A new Migration finishes the rest.
    kubectl(
        kc,
        &["apply", "-f", "-"],
        Some(
            "apiVersion: forklift.konveyor.io/v1beta1\nkind: Migration\nmetadata:\n  name: ova-demo-2\n  namespace: openshift-mtv\nspec:\n  plan:\n    name: ova-demo\n    namespace: openshift-mtv\n",
        ),
    );
    wait_for(
        "the second migration to end",
        Duration::from_secs(180),
        || {
            let m: Value = serde_json::from_str(&kubectl(
                kc,
                &[
                    "get",
                    "migration",
                    "ova-demo-2",
                    "-n",
                    "openshift-mtv",
                    "-o",
                    "json",
                ],
                None,
            ))
            .unwrap();
            ["Succeeded", "Failed", "Canceled"]
                .iter()
                .any(|t| condition(&m, t).is_some())
        },
    );
    let end = results(&plan(kc));
    assert!(end.iter().all(|(_, r)| r == "Succeeded"), "{end:?}");
    for (n, t) in finished_volumes {
        let now = std::fs::metadata(work.join("data/local/volumes/demo-vms").join(&n))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(now, t, "{n} was written again by the second migration");
    }
    assert_eq!(
        compare_disks(work, "efi-vm") + compare_disks(work, "two-disk-bios"),
        3
    );
}
