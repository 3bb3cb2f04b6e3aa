//! A Provider whose `spec.type` has no adapter in this build (OpenStack is
//! not built yet, an OpenShift cluster as a source neither,
//! a made-up type never will be) is refused with `ProviderTypeNotSupported`
//! and nothing else: no URL or Secret check, no connection test, no
//! inventory, and no fallback to the OVA collector even when its URL is a
//! readable folder holding a package. The maps and the Plan that use it as
//! their source say `SourceProviderNotValid` with reason
//! `ProviderTypeNotSupported`, not "not ready", and the Plan never looks
//! for its VMs.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{condition, kubectl, start_serve, wait_for};
use ferry_testutil::peer;
use serde_json::Value;

/// The unsupported providers: name, type, URL (`{ova}`: a folder holding
/// an OVA package, which the OVA collector would serve).
const UNSUPPORTED: &[(&str, &str, &str)] = &[
    ("cloud", "openstack", "{ova}"),
    ("remote-ocp", "openshift", "https://api.remote.example:6443"),
    ("mystery", "xen-classic", "{ova}"),
];

fn manifests(ova_dir: &str) -> String {
    let mut docs = String::from(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: openshift-mtv\n---\n\
         apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\nmetadata:\n  name: host\n  namespace: openshift-mtv\nspec:\n  type: openshift\n  url: \"\"\n  secret: {}\n---\n",
    );
    for (name, type_, url) in UNSUPPORTED {
        let url = url.replace("{ova}", ova_dir);
        docs += &format!(
            "apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\nmetadata:\n  name: {name}\n  namespace: openshift-mtv\nspec:\n  type: {type_}\n  url: \"{url}\"\n  secret: {{name: no-such-secret, namespace: openshift-mtv}}\n---\n"
        );
    }
    let pair = "  provider:\n    source: {name: mystery, namespace: openshift-mtv}\n    destination: {name: host, namespace: openshift-mtv}\n";
    docs += &format!(
        "apiVersion: forklift.konveyor.io/v1beta1\nkind: NetworkMap\nmetadata:\n  name: mystery-net\n  namespace: openshift-mtv\nspec:\n{pair}  map:\n    - source: {{name: VM Network}}\n      destination: {{type: pod}}\n---\n"
    );
    docs += &format!(
        "apiVersion: forklift.konveyor.io/v1beta1\nkind: StorageMap\nmetadata:\n  name: mystery-storage\n  namespace: openshift-mtv\nspec:\n{pair}  map:\n    - source: {{name: any}}\n      destination: {{storageClass: standard}}\n---\n"
    );
    docs += &format!(
        "apiVersion: forklift.konveyor.io/v1beta1\nkind: Plan\nmetadata:\n  name: from-mystery\n  namespace: openshift-mtv\nspec:\n  targetNamespace: vms\n{pair}  map:\n    network: {{name: mystery-net, namespace: openshift-mtv}}\n    storage: {{name: mystery-storage, namespace: openshift-mtv}}\n  vms:\n    - name: no-such-vm\n---\n"
    );
    docs
}

fn get(kc: &std::path::Path, kind: &str, name: &str) -> Value {
    serde_json::from_str(&kubectl(
        kc,
        &["get", kind, name, "-n", "openshift-mtv", "-o", "json"],
        None,
    ))
    .unwrap()
}

/// The types of the True conditions of `obj`.
fn true_conditions(obj: &Value) -> Vec<String> {
    obj["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "True")
        .map(|c| c["type"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn unknown_and_unbuilt_provider_types_are_refused_and_nothing_else() {
    if peer("kubectl").is_none() {
        return;
    }
    let Some(sample) = common::sample("") else {
        return;
    };
    // The sample's OVA folder: a provider of type `ova` would be Ready here.
    let ova_dir = sample.path().join("sample/appliances");
    assert!(
        std::fs::read_dir(&ova_dir).unwrap().any(|e| e
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "ova")),
        "the sample has no OVA package in {}",
        ova_dir.display()
    );
    let work = ferry_testutil::tempdir();
    let (_server, kubeconfig) = start_serve(
        &[],
        &work.path().join("data"),
        &[],
        &work.path().join("serve.log"),
    );
    let kc = kubeconfig.as_path();
    kubectl(
        kc,
        &["apply", "-f", "-"],
        Some(&manifests(ova_dir.to_str().unwrap())),
    );

    wait_for(
        "every provider, map and the plan assessed",
        Duration::from_secs(60),
        || {
            UNSUPPORTED
                .iter()
                .all(|(n, _, _)| get(kc, "provider", n)["status"]["phase"].is_string())
                && condition(&get(kc, "plan", "from-mystery"), "SourceProviderNotValid").is_some()
                && condition(
                    &get(kc, "networkmap", "mystery-net"),
                    "SourceProviderNotValid",
                )
                .is_some()
                && condition(
                    &get(kc, "storagemap", "mystery-storage"),
                    "SourceProviderNotValid",
                )
                .is_some()
        },
    );

    for (name, type_, _) in UNSUPPORTED {
        let p = get(kc, "provider", name);
        assert_eq!(p["status"]["phase"], "ValidationFailed", "{name}: {p:#}");
        assert_eq!(
            true_conditions(&p),
            ["ProviderTypeNotSupported"],
            "{name}: {p:#}"
        );
        let c = condition(&p, "ProviderTypeNotSupported").unwrap();
        assert_eq!(c["category"], "Critical", "{name}: {c:#}");
        let msg = c["message"].as_str().unwrap();
        assert!(msg.contains(&format!("`{type_}`")), "{name}: {msg}");
        assert!(msg.contains("ova, ovirt, vsphere"), "{name}: {msg}");
    }

    for (kind, name) in [
        ("networkmap", "mystery-net"),
        ("storagemap", "mystery-storage"),
        ("plan", "from-mystery"),
    ] {
        let obj = get(kc, kind, name);
        let c = condition(&obj, "SourceProviderNotValid").unwrap();
        assert_eq!(c["reason"], "ProviderTypeNotSupported", "{kind}: {obj:#}");
        assert_eq!(c["category"], "Critical", "{kind}: {obj:#}");
        let msg = c["message"].as_str().unwrap();
        assert!(
            msg.contains("mystery") && msg.contains("`xen-classic`"),
            "{kind}: {msg}"
        );
        let conds = true_conditions(&obj);
        for other in ["ProviderNotReady", "Ready", "VMNotFound"] {
            assert!(
                !conds.iter().any(|t| t == other),
                "{kind} {name} also says {other}: {obj:#}"
            );
        }
    }
}
