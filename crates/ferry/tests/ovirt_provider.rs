//! oVirt Provider conditions through `ferry serve` and kubectl, against the
//! engine simulator: a good Secret makes the provider Ready and fills the
//! inventory (VMs with their concerns); a wrong password, a CA that did
//! not sign the engine's certificate, an unreachable URL and a Secret
//! without `cacert` each give their own condition with what to fix;
//! `insecureSkipVerify` connects and is flagged. The password appears in
//! no status and no log line.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{condition, kubectl, start_serve};
use ferry_testutil::{Scenario, SimVm, peer};
use serde_json::Value;

fn provider(name: &str, url: &str, secret: &str) -> String {
    format!(
        "apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\nmetadata:\n  name: {name}\n  namespace: openshift-mtv\nspec:\n  type: ovirt\n  url: \"{url}\"\n  secret:\n    name: {secret}\n    namespace: openshift-mtv\n---\n"
    )
}

fn secret(name: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: openshift-mtv\nstringData:\n"
    );
    for (k, v) in pairs {
        if v.contains('\n') {
            s.push_str(&format!("  {k}: |\n"));
            for l in v.lines() {
                s.push_str(&format!("    {l}\n"));
            }
        } else {
            s.push_str(&format!("  {k}: \"{v}\"\n"));
        }
    }
    s.push_str("---\n");
    s
}

#[test]
fn ovirt_provider_conditions_for_good_and_bad_connections() {
    if peer("kubectl").is_none() || peer("openssl").is_none() {
        return;
    }
    let scenario = Scenario {
        vms: vec![SimVm {
            name: "web".into(),
            bios: "q35_secure_boot".into(),
            ..SimVm::default()
        }],
        ..Scenario::default()
    };
    let Some(sim) = ferry_testutil::ovirt_sim(&scenario) else {
        return;
    };
    let work = ferry_testutil::tempdir();
    // A CA that did not sign the engine's certificate.
    let other_ca = work.path().join("other-ca.pem");
    ferry_testutil::run(
        std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=another CA", "-keyout"])
            .arg(work.path().join("other-ca.key"))
            .arg("-out")
            .arg(&other_ca),
    );
    let other_ca = std::fs::read_to_string(&other_ca).unwrap();
    let log = work.path().join("serve.log");
    let (_server, kubeconfig) =
        start_serve(&["--log", "debug"], &work.path().join("data"), &[], &log);
    let kc = kubeconfig.as_path();

    let info = &sim.info;
    let user = info.username.as_str();
    let pass = info.password.as_str();
    let mut docs =
        String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: openshift-mtv\n---\n");
    docs += &secret(
        "good",
        &[("user", user), ("password", pass), ("cacert", &info.ca_pem)],
    );
    docs += &secret(
        "badpass",
        &[
            ("user", user),
            ("password", "not-the-password"),
            ("cacert", &info.ca_pem),
        ],
    );
    docs += &secret(
        "wrongca",
        &[("user", user), ("password", pass), ("cacert", &other_ca)],
    );
    docs += &secret(
        "insecure",
        &[
            ("user", user),
            ("password", pass),
            ("insecureSkipVerify", "true"),
        ],
    );
    docs += &secret("nocacert", &[("user", user), ("password", pass)]);
    docs += &provider("rhv-good", &info.url, "good");
    docs += &provider("rhv-badpass", &info.url, "badpass");
    docs += &provider("rhv-wrongca", &info.url, "wrongca");
    docs += &provider("rhv-insecure", &info.url, "insecure");
    docs += &provider("rhv-nocacert", &info.url, "nocacert");
    docs += &provider(
        "rhv-unreachable",
        "https://127.0.0.1:1/ovirt-engine/api",
        "good",
    );
    kubectl(kc, &["apply", "-f", "-"], Some(&docs));

    let get = || -> Vec<Value> {
        let list: Value = serde_json::from_str(&kubectl(
            kc,
            &["get", "providers", "-n", "openshift-mtv", "-o", "json"],
            None,
        ))
        .unwrap();
        list["items"].as_array().unwrap().clone()
    };
    let by_name = |items: &[Value], n: &str| {
        items
            .iter()
            .find(|p| p["metadata"]["name"] == n)
            .unwrap()
            .clone()
    };
    let start = std::time::Instant::now();
    let items = loop {
        let items = get();
        let settled = items.iter().all(|p| {
            let phase = p["status"]["phase"].as_str().unwrap_or("");
            matches!(phase, "Ready" | "ConnectionFailed" | "ValidationFailed")
        }) && condition(&by_name(&items, "rhv-good"), "InventoryCreated").is_some();
        if settled {
            break items;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "providers never settled: {items:#?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };

    let good = by_name(&items, "rhv-good");
    assert_eq!(good["status"]["phase"], "Ready", "{good:#}");
    assert!(condition(&good, "ConnectionInsecure").is_none());
    let insecure = by_name(&items, "rhv-insecure");
    assert_eq!(insecure["status"]["phase"], "Ready", "{insecure:#}");
    assert!(condition(&insecure, "ConnectionInsecure").is_some());

    for (name, kind, hint) in [
        ("rhv-badpass", "ConnectionAuthFailed", "user and password"),
        ("rhv-wrongca", "ConnectionTestFailed", "cacert"),
        ("rhv-unreachable", "ConnectionTestFailed", "reachable"),
    ] {
        let p = by_name(&items, name);
        assert_eq!(p["status"]["phase"], "ConnectionFailed", "{name}: {p:#}");
        let c = condition(&p, kind).unwrap_or_else(|| panic!("{name}: no {kind}: {p:#}"));
        let msg = c["message"].as_str().unwrap();
        assert!(msg.contains(hint), "{name}: {msg}");
    }
    let nocacert = by_name(&items, "rhv-nocacert");
    assert_eq!(nocacert["status"]["phase"], "ValidationFailed");
    let msg = condition(&nocacert, "SecretNotValid").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.contains("cacert"), "{msg}");

    // The inventory holds the engine's VM with the oVirt pack's concerns.
    let start = std::time::Instant::now();
    let vms = loop {
        let out = common::run_ferry(&[
            "inventory",
            "vms",
            "--provider",
            "openshift-mtv/rhv-good",
            "--data-dir",
            work.path().join("data").to_str().unwrap(),
            "-o",
            "json",
        ]);
        if out.status.success()
            && let Ok(v) = serde_json::from_slice::<Value>(&out.stdout)
            && v.as_array().is_some_and(|a| {
                a.iter()
                    .any(|vm| vm["concerns"].as_array().is_some_and(|c| !c.is_empty()))
            })
        {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no validated VM in the inventory: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let web = &vms[0];
    assert_eq!(web["name"], "web");
    let ids: Vec<&str> = web["concerns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"ovirt.secure_boot.detected"), "{web:#}");

    let text = serde_json::to_string(&get()).unwrap() + &std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(pass), "the password leaked");
    assert!(!text.contains("not-the-password"), "the password leaked");
}
