//! An idle `ferry serve` writes nothing: after the sample migration has
//! finished, no object's resourceVersion moves and watchers receive no
//! events (issue 18.1: controllers writing unchanged status, and the API
//! server answering every such write with a new version and a MODIFIED
//! event, fed each other in a busy loop).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Guard, condition, kubectl, sample, start_serve, wait_for};
use ferry_testutil::peer;
use serde_json::Value;

/// Kinds the controllers write (status) or create.
const KINDS: &str =
    "providers,networkmaps,storagemaps,plans,migrations,virtualmachines,datavolumes";

/// name → resourceVersion of every object of `KINDS`, and the server's
/// current resourceVersion (a list's resourceVersion).
fn versions(kubeconfig: &Path) -> (BTreeMap<String, String>, String) {
    let list: Value = serde_json::from_str(&kubectl(
        kubeconfig,
        &["get", KINDS, "-A", "-o", "json"],
        None,
    ))
    .unwrap();
    let objects = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["namespace"].as_str().unwrap_or_default(),
                    o["metadata"]["name"].as_str().unwrap()
                ),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let server_rv = kubectl(
        kubeconfig,
        &[
            "get",
            "namespaces",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ],
        None,
    );
    (objects, server_rv)
}

#[test]
fn idle_server_writes_nothing_after_a_migration() {
    if peer("kubectl").is_none() {
        return;
    }
    let Some(dir) = sample("") else { return };
    let work = dir.path();
    let (_server, kubeconfig) = start_serve(&[], &work.join("data"), &[], &work.join("serve.log"));
    kubectl(
        &kubeconfig,
        &["apply", "-f", work.join("migration.yaml").to_str().unwrap()],
        None,
    );
    wait_for("the migration to end", Duration::from_secs(600), || {
        let m: Value = serde_json::from_str(&kubectl(
            &kubeconfig,
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
        .unwrap();
        ["Succeeded", "Failed", "Canceled"]
            .iter()
            .any(|t| condition(&m, t).is_some())
    });
    // Let the controllers' last reactions to the end settle: wait until a
    // full second passes without a new resourceVersion.
    let mut last = versions(&kubeconfig).1;
    let mut quiet = 0;
    wait_for("the server to settle", Duration::from_secs(120), || {
        std::thread::sleep(Duration::from_millis(250));
        let now = versions(&kubeconfig).1;
        quiet = if now == last { quiet + 1 } else { 0 };
        last = now;
        quiet >= 4
    });

    let before = versions(&kubeconfig);
    // One watcher per kind (kubectl watches one resource type at a time).
    let watchers: Vec<(std::path::PathBuf, Guard)> = KINDS
        .split(',')
        .map(|kind| {
            let log = work.join(format!("idle-watch-{kind}.log"));
            let guard = Guard::new(
                Command::new("kubectl")
                    .env("KUBECONFIG", &kubeconfig)
                    .args([
                        "get",
                        kind,
                        "-A",
                        "--watch-only",
                        "--output-watch-events",
                        "-o",
                        "name",
                    ])
                    .stdout(std::fs::File::create(&log).unwrap())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            (log, guard)
        })
        .collect();
    // A few seconds of idle (periodic requeues of Ready objects included).
    std::thread::sleep(Duration::from_secs(6));
    let after = versions(&kubeconfig);
    let mut events = String::new();
    for (log, guard) in watchers {
        drop(guard);
        events.push_str(&std::fs::read_to_string(log).unwrap());
    }

    assert_eq!(after.0, before.0, "objects changed while idle");
    assert_eq!(
        after.1, before.1,
        "the server's resourceVersion moved while idle"
    );
    assert!(
        events.trim().is_empty(),
        "watch events while idle:\n{events}"
    );
}
