//! The `host` Provider is named without being defined, as in Forklift
//! (whose operator creates it): `ferry validate` accepts such manifests and
//! `ferry migrate` creates `host` in the namespace they use and migrates.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{compare_disks, ferry, kubectl, run_ferry, sample, start_serve, wait_for, yaml};
use serde_json::{Value, json};

/// The sample manifest in namespace `team-a` (not one of Forklift's), with
/// its `host` Provider removed.
fn without_host(text: &str) -> String {
    let docs: Vec<&str> = text
        .split("\n---\n")
        .filter(|d| !(d.contains("kind: Provider") && d.contains("name: host\n")))
        .collect();
    assert_eq!(docs.len(), text.split("\n---\n").count() - 1);
    docs.join("\n---\n").replace("openshift-mtv", "team-a")
}

#[test]
fn migrate_and_validate_accept_an_undefined_host_provider() {
    let Some(work) = sample("  vms:\n    - name: efi-vm\n      targetPowerState: \"on\"\n") else {
        return;
    };
    let work = work.path();
    let manifest = work.join("migration.yaml");
    let text = without_host(&std::fs::read_to_string(&manifest).unwrap());
    assert!(!text.contains("openshift-mtv"));
    assert!(text.contains("name: host"), "still named as destination");
    std::fs::write(&manifest, text).unwrap();

    // `ferry validate` wants an NFS URL for an OVA provider: check a copy
    // that has one (the migration below reads the local folder).
    let nfs = work.join("validate.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let url_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("url: \"/"))
        .unwrap()
        .to_owned();
    std::fs::write(
        &nfs,
        text.replace(&url_line, "  url: \"nfs.example.com:/ova\""),
    )
    .unwrap();
    let v = run_ferry(&["validate", "-f", nfs.to_str().unwrap()]);
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

/// `ferry serve` with no manifests: `host` exists in Forklift's namespaces
/// and its inventory (the local destination) answers on the REST API.
#[test]
fn the_host_provider_is_served_by_the_inventory_api() {
    let Some(curl) = ferry_testutil::peer("curl") else {
        return;
    };
    let tmp = ferry_testutil::tempdir();
    let log = tmp.path().join("serve.log");
    let (_server, kubeconfig) = start_serve(&[], &tmp.path().join("data"), &[], &log);
    let token = yaml(&kubeconfig)["users"][0]["user"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The inventory API is served over TLS with the API server's CA.
    let ca = tmp.path().join("data/api/ca.crt");
    let mut base = String::new();
    wait_for(
        "the inventory address in the log",
        Duration::from_secs(120),
        || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let found = text.lines().find_map(|l| {
                l.strip_prefix("inventory API on ")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|u| u.strip_suffix("/providers"))
            });
            if let Some(u) = found {
                base = u.to_owned();
            }
            found.is_some()
        },
    );
    let get = |path: &str| -> Option<Value> {
        let out = Command::new(&curl)
            .arg("--cacert")
            .arg(&ca)
            .args(["-sf", "-H"])
            .arg(format!("Authorization: Bearer {token}"))
            .arg(format!("{base}{path}"))
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).ok())
            .flatten()
    };
    let mut uids = Vec::new();
    wait_for(
        "host under /providers/openshift",
        Duration::from_secs(120),
        || {
            let list = get("/providers/openshift").unwrap_or_default();
            uids = list
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["name"] == "host")
                .map(|p| {
                    (
                        p["namespace"].as_str().unwrap_or_default().to_owned(),
                        p["uid"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect::<Vec<_>>();
            uids.len() == 2
        },
    );
    let namespaces: Vec<&str> = uids.iter().map(|(ns, _)| ns.as_str()).collect();
    assert!(namespaces.contains(&"openshift-mtv"), "{uids:?}");
    assert!(namespaces.contains(&"konveyor-forklift"), "{uids:?}");
    let uid = &uids[0].1;
    wait_for("the namespaces of host", Duration::from_secs(120), || {
        let names: Vec<String> = get(&format!("/providers/openshift/{uid}/namespaces"))
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n["name"].as_str().map(str::to_owned))
            .collect();
        names.iter().any(|n| n == "openshift-mtv") && names.iter().any(|n| n == "konveyor-forklift")
    });
    for empty in ["vms", "storageclasses", "networkattachmentdefinitions"] {
        assert_eq!(
            get(&format!("/providers/openshift/{uid}/{empty}")),
            Some(json!([])),
            "{empty}"
        );
    }
}

/// Every Forklift kind is served by the embedded API server, also those
/// without a controller in ferry yet.
#[test]
fn every_forklift_kind_is_served() {
    if ferry_testutil::peer("kubectl").is_none() {
        return;
    }
    let tmp = ferry_testutil::tempdir();
    let (_server, kubeconfig) = start_serve(
        &[],
        &tmp.path().join("data"),
        &[],
        &tmp.path().join("serve.log"),
    );
    let resources = kubectl(
        &kubeconfig,
        &[
            "api-resources",
            "--api-group=forklift.konveyor.io",
            "-o",
            "name",
        ],
        None,
    );
    for plural in [
        "conversions",
        "ovirtvolumepopulators",
        "openstackvolumepopulators",
        "vspherexcopyvolumepopulators",
        "ovaproviderservers",
        "hypervproviderservers",
        "plans",
        "providers",
    ] {
        assert!(
            resources
                .lines()
                .any(|l| l == format!("{plural}.forklift.konveyor.io")),
            "{plural} not served:\n{resources}"
        );
    }
    let manifests = r#"
apiVersion: forklift.konveyor.io/v1beta1
kind: Conversion
metadata: {name: inspect-web, namespace: openshift-mtv}
spec:
  type: Inspection
  vm: {id: vm-1}
  connection: {secret: {name: s, namespace: openshift-mtv}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: OvirtVolumePopulator
metadata: {name: disk-1, namespace: openshift-mtv}
spec: {engineUrl: "https://engine/ovirt-engine/api", engineSecretName: s, diskId: d-1}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: OVAProviderServer
metadata: {name: ova-server, namespace: openshift-mtv}
spec:
  provider: {name: ova, namespace: openshift-mtv}
"#;
    kubectl(&kubeconfig, &["apply", "-f", "-"], Some(manifests));
    let conv: Value = serde_json::from_str(&kubectl(
        &kubeconfig,
        &[
            "get",
            "conversion",
            "inspect-web",
            "-n",
            "openshift-mtv",
            "-o",
            "json",
        ],
        None,
    ))
    .unwrap();
    assert_eq!(conv["spec"]["type"], "Inspection");
    // Defaults from the CRD.
    assert_eq!(conv["spec"]["xfsCompatibility"], false);
    let hosts = kubectl(&kubeconfig, &["get", "providers", "-A", "-o", "name"], None);
    assert_eq!(
        hosts
            .lines()
            .filter(|l| *l == "provider.forklift.konveyor.io/host")
            .count(),
        2,
        "{hosts}"
    );
}
