//! The `host` Provider is named without being defined, as in Forklift
//! (whose operator creates it): `ferry validate` accepts such manifests and
//! `ferry migrate` creates `host` in the namespace they use and migrates.
#![allow(clippy::unwrap_used)]

mod common;

use common::{compare_disks, ferry, run_ferry, sample};
use serde_json::Value;

/// The sample manifest in namespace `team-a` (not one of Forklift's), with
/// its `host` Provider removed.
fn without_host(text: &str) -> String {
    let docs: Vec<&str> = text
        .split("\n---\n")
        .filter(|d| !(d.contains("kind: Provider") && d.contains("name: host\n")))
        .collect();
    assert_eq!(docs.len(), text.split("\n---\n").count() - 1);
    docs.join("\n---\n")
        .replace("openshift-mtv", "team-a")
}

#[test]
fn migrate_and_validate_accept_an_undefined_host_provider() {
    let Some(work) = sample("  vms:\n    - name: efi-vm\n      targetPowerState: \"on\"\n")
    else {
        return;
    };
    let work = work.path();
    let manifest = work.join("migration.yaml");
    let text = without_host(&std::fs::read_to_string(&manifest).unwrap());
    assert!(!text.contains("openshift-mtv"));
    assert!(text.contains("name: host"), "still named as destination");
    std::fs::write(&manifest, text).unwrap();

    let v = run_ferry(&["validate", "-f", manifest.to_str().unwrap()]);
    assert!(
        v.status.success(),
        "ferry validate rejected it:\n{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );

    let out = ferry(work, &["-o", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ferry migrate failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary.len(), 1, "{stdout}");
    assert_eq!(summary[0]["result"], "Succeeded", "{stdout}");
    assert!(compare_disks(work, "efi-vm") >= 1);
}
