//! A Plan follows the objects it names without polling (issue 18.2: the
//! Plan controller used to re-read its Providers and maps from the API
//! server on a 30-second requeue of every Plan, which made 10,000 Plans
//! cost a core). With ready Plans rechecked only once an hour here, a
//! deleted StorageMap or NetworkMap must still turn the Plan's conditions
//! at once, and a restored one make it ready again.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{condition, kubectl, sample, start_serve, wait_for};
use ferry_testutil::peer;
use serde_json::Value;

/// The sample's documents without its Migration (nothing is migrated).
fn without_migration(text: &str) -> String {
    text.split("\n---\n")
        .filter(|d| !d.contains("\nkind: Migration\n") && !d.starts_with("kind: Migration\n"))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn document(text: &str, kind: &str) -> String {
    text.split("\n---\n")
        .find(|d| d.contains(&format!("kind: {kind}\n")))
        .unwrap()
        .to_owned()
}

fn plan_has(kubeconfig: &std::path::Path, t: &str) -> bool {
    let plan: Value = serde_json::from_str(&kubectl(
        kubeconfig,
        &[
            "-n",
            "openshift-mtv",
            "get",
            "plan",
            "ova-demo",
            "-o",
            "json",
        ],
        None,
    ))
    .unwrap();
    condition(&plan, t).is_some()
}

#[test]
fn a_plan_follows_its_maps_without_polling() {
    if peer("kubectl").is_none() {
        return;
    }
    let Some(dir) = sample("") else { return };
    let work = dir.path();
    let text = without_migration(&std::fs::read_to_string(work.join("migration.yaml")).unwrap());
    assert!(text.contains("kind: Plan\n") && !text.contains("kind: Migration\n"));
    let (_server, kubeconfig) = start_serve(
        &[],
        &work.join("data"),
        &["--plan-recheck", "3600"],
        &work.join("serve.log"),
    );
    kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&text));
    // Generous limits: a machine under load; the recheck is an hour away.
    let limit = Duration::from_secs(300);
    wait_for("the plan Ready", limit, || plan_has(&kubeconfig, "Ready"));

    kubectl(
        &kubeconfig,
        &[
            "-n",
            "openshift-mtv",
            "delete",
            "storagemap",
            "ova-storage-map",
        ],
        None,
    );
    wait_for("StorageRefNotValid after the map's deletion", limit, || {
        plan_has(&kubeconfig, "StorageRefNotValid")
    });
    assert!(
        !plan_has(&kubeconfig, "Ready"),
        "a plan without its storage map is not ready"
    );

    kubectl(
        &kubeconfig,
        &["apply", "-f", "-"],
        Some(&document(&text, "StorageMap")),
    );
    wait_for("Ready again with the map back", limit, || {
        plan_has(&kubeconfig, "Ready") && !plan_has(&kubeconfig, "StorageRefNotValid")
    });

    kubectl(
        &kubeconfig,
        &[
            "-n",
            "openshift-mtv",
            "delete",
            "networkmap",
            "ova-network-map",
        ],
        None,
    );
    wait_for(
        "NetworkMapRefNotValid after the map's deletion",
        limit,
        || plan_has(&kubeconfig, "NetworkMapRefNotValid"),
    );
}
