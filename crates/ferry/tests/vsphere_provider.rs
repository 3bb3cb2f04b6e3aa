//! vSphere Provider conditions through `ferry serve` and kubectl, against
//! the govmomi simulator: a good Secret makes the provider Ready with the
//! server's thumbprint as `status.fingerprint`; a wrong password, a wrong
//! pinned thumbprint, an untrusted certificate, an unreachable URL and a
//! missing Secret each give their own condition with what to fix. The
//! password appears in no status and no log line.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{condition, kubectl, start_serve};
use ferry_testutil::peer;
use serde_json::Value;

fn provider(name: &str, url: &str, secret: Option<&str>) -> String {
    let secret = secret.map_or(String::new(), |s| {
        format!("  secret:\n    name: {s}\n    namespace: openshift-mtv\n")
    });
    format!(
        "apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\nmetadata:\n  name: {name}\n  namespace: openshift-mtv\nspec:\n  type: vsphere\n  url: \"{url}\"\n{secret}---\n"
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
fn provider_conditions_for_good_and_bad_connections() {
    if peer("kubectl").is_none() {
        return;
    }
    let Some(vc) = ferry_testutil::vcsim() else {
        return;
    };
    let work = ferry_testutil::tempdir();
    let log = work.path().join("serve.log");
    let (_server, kubeconfig) =
        start_serve(&["--log", "debug"], &work.path().join("data"), &[], &log);
    let kc = kubeconfig.as_path();

    let info = &vc.info;
    let wrong_thumb = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33";
    let mut docs =
        String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: openshift-mtv\n---\n");
    docs += &secret(
        "good",
        &[
            ("user", &info.username),
            ("password", &info.password),
            ("cacert", &info.cert_pem),
        ],
    );
    docs += &secret(
        "badpass",
        &[
            ("user", &info.username),
            ("password", "not-the-password"),
            ("cacert", &info.cert_pem),
        ],
    );
    docs += &secret(
        "badthumb",
        &[
            ("user", &info.username),
            ("password", &info.password),
            ("insecureSkipVerify", "true"),
            ("thumbprint", wrong_thumb),
        ],
    );
    docs += &secret(
        "untrusted",
        &[("user", &info.username), ("password", &info.password)],
    );
    docs += &secret(
        "insecure",
        &[
            ("user", &info.username),
            ("password", &info.password),
            ("insecureSkipVerify", "true"),
        ],
    );
    docs += &provider("vc-good", &info.url, Some("good"));
    docs += &provider("vc-badpass", &info.url, Some("badpass"));
    docs += &provider("vc-badthumb", &info.url, Some("badthumb"));
    docs += &provider("vc-untrusted", &info.url, Some("untrusted"));
    docs += &provider("vc-insecure", &info.url, Some("insecure"));
    docs += &provider("vc-unreachable", "https://127.0.0.1:1/sdk", Some("good"));
    docs += &provider("vc-nosecret", &info.url, Some("missing"));
    let port = info.host.rsplit(':').next().unwrap();
    for (name, host, ip) in [
        ("esxi-ok", "DC0_H0", "127.0.0.1"),
        ("esxi-badip", "DC0_H0", "esxi-01"),
        ("esxi-unknown", "NO_SUCH_HOST", "127.0.0.1"),
    ] {
        docs += &format!(
            "apiVersion: forklift.konveyor.io/v1beta1\nkind: Host\nmetadata:\n  name: {name}\n  namespace: openshift-mtv\n  annotations:\n    ferry.konveyor.io/sdk-port: \"{port}\"\nspec:\n  name: {host}\n  ipAddress: {ip}\n  provider: {{name: vc-good, namespace: openshift-mtv}}\n  secret: {{name: good, namespace: openshift-mtv}}\n---\n"
        );
    }
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
        }) && condition(&by_name(&items, "vc-good"), "InventoryCreated").is_some();
        if settled {
            break items;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "providers never settled: {items:#?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };

    let good = by_name(&items, "vc-good");
    assert_eq!(good["status"]["phase"], "Ready", "{good:#}");
    assert_eq!(
        good["status"]["fingerprint"].as_str().unwrap(),
        info.thumbprint
    );
    assert!(condition(&good, "ConnectionInsecure").is_none());

    let insecure = by_name(&items, "vc-insecure");
    assert_eq!(insecure["status"]["phase"], "Ready", "{insecure:#}");
    assert!(
        condition(&insecure, "ConnectionInsecure").is_some(),
        "{insecure:#}"
    );

    for (name, kind, hint) in [
        ("vc-badpass", "ConnectionAuthFailed", "user and password"),
        ("vc-badthumb", "ConnectionTestFailed", "thumbprint"),
        ("vc-untrusted", "ConnectionTestFailed", "ca.crt"),
        ("vc-unreachable", "ConnectionTestFailed", "reachable"),
    ] {
        let p = by_name(&items, name);
        assert_eq!(p["status"]["phase"], "ConnectionFailed", "{name}: {p:#}");
        let c = condition(&p, kind).unwrap_or_else(|| panic!("{name}: no {kind}: {p:#}"));
        let msg = c["message"].as_str().unwrap();
        assert!(msg.contains(hint), "{name}: {msg}");
    }
    // The pinned thumbprint did not match: the one seen is recorded.
    let badthumb = by_name(&items, "vc-badthumb");
    assert_eq!(
        badthumb["status"]["fingerprint"].as_str().unwrap(),
        info.thumbprint
    );
    let msg = condition(&badthumb, "ConnectionTestFailed").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains(wrong_thumb) && msg.contains(&info.thumbprint),
        "{msg}"
    );

    let nosecret = by_name(&items, "vc-nosecret");
    assert_eq!(nosecret["status"]["phase"], "ValidationFailed");
    assert!(
        condition(&nosecret, "SecretNotValid").unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );

    // Hosts: Ready, a bad IP, a host the inventory does not have.
    let start = std::time::Instant::now();
    let hosts = loop {
        let list: Value = serde_json::from_str(&kubectl(
            kc,
            &["get", "hosts", "-n", "openshift-mtv", "-o", "json"],
            None,
        ))
        .unwrap();
        let items = list["items"].as_array().unwrap().clone();
        let done = items.iter().all(|h| {
            ["Ready", "IpNotValid", "RefNotValid"]
                .iter()
                .any(|t| condition(h, t).is_some())
        });
        if done {
            break items;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "hosts never settled: {items:#?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let host = |n: &str| {
        hosts
            .iter()
            .find(|h| h["metadata"]["name"] == n)
            .unwrap()
            .clone()
    };
    assert!(
        condition(&host("esxi-ok"), "ConnectionTestSucceeded").is_some(),
        "{:#}",
        host("esxi-ok")
    );
    assert!(condition(&host("esxi-ok"), "Ready").is_some());
    assert!(
        condition(&host("esxi-badip"), "IpNotValid").unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("esxi-01")
    );
    assert!(
        condition(&host("esxi-unknown"), "RefNotValid").unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("NO_SUCH_HOST")
    );

    // No password anywhere but in the Secrets themselves.
    let all = kubectl(
        kc,
        &["get", "providers,plans,migrations", "-A", "-o", "yaml"],
        None,
    );
    assert!(!all.contains(&info.password));
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(!logs.contains(&info.password), "the log holds the password");
    assert!(!logs.contains("not-the-password"));
}
