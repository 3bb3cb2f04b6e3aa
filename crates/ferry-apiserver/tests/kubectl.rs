//! The real kubectl against the embedded server.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use common::{TestServer, fails, file, ok, widget_crd};
use serde_json::Value;

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: default
  labels: {app: demo}
spec:
  size: 3
  parts:
  - id: p1
  - id: p2
";

fn setup() -> Option<(TestServer, std::path::PathBuf)> {
    let kubectl = ferry_testutil::peer("kubectl")?;
    let ts = TestServer::start(vec![]);
    let crd = file(&ts, "crd.json", &widget_crd().to_string());
    ok(ts.kubectl(&kubectl).args(["apply", "-f"]).arg(&crd));
    Some((ts, kubectl))
}

fn get_json(ts: &TestServer, k: &std::path::Path, args: &[&str]) -> Value {
    let out = ok(ts.kubectl(k).arg("get").args(args).args(["-o", "json"]));
    serde_json::from_str(&out).unwrap()
}

#[test]
fn apply_get_describe_patch_edit_delete() {
    let Some((ts, k)) = setup() else { return };
    let w = file(&ts, "w1.yaml", WIDGET);
    // Client-side apply, then defaults show up.
    assert!(
        ok(ts.kubectl(&k).args(["apply", "-f"]).arg(&w)).contains("widget.example.com/w1 created")
    );
    let obj = get_json(&ts, &k, &["widget", "w1"]);
    assert_eq!(obj["spec"]["color"], "red", "schema default applied");
    assert_eq!(obj["metadata"]["generation"], 1);
    assert!(obj["metadata"]["uid"].as_str().unwrap().len() == 36);
    // Print columns, wide columns.
    let table = ok(ts.kubectl(&k).args(["get", "widgets"]));
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "SIZE", "COLOR", "READY"]);
    assert!(table.lines().nth(1).unwrap().starts_with("w1"));
    let wide = ok(ts.kubectl(&k).args(["get", "wd", "-o", "wide"]));
    assert!(wide.lines().next().unwrap().contains("PARTS"), "{wide}");
    assert!(wide.contains("p1,p2"), "{wide}");
    // Label selectors.
    assert!(
        ok(ts
            .kubectl(&k)
            .args(["get", "widgets", "-l", "app=demo", "-o", "name"]))
        .contains("widget.example.com/w1")
    );
    assert!(
        !ok(ts
            .kubectl(&k)
            .args(["get", "widgets", "-l", "app notin (demo)", "-o", "name"]))
        .contains("w1")
    );
    // YAML output and describe.
    assert!(ok(ts.kubectl(&k).args(["get", "widget", "w1", "-o", "yaml"])).contains("size: 3"));
    let described = ok(ts.kubectl(&k).args(["describe", "widget", "w1"]));
    assert!(
        described.contains("Name:") && described.contains("w1") && described.contains("Size:"),
        "{described}"
    );
    // Re-apply with a change: client-side apply patches.
    let w2 = file(&ts, "w1b.yaml", &WIDGET.replace("size: 3", "size: 4"));
    assert!(ok(ts.kubectl(&k).args(["apply", "-f"]).arg(&w2)).contains("configured"));
    let obj = get_json(&ts, &k, &["widget", "w1"]);
    assert_eq!(obj["spec"]["size"], 4);
    assert_eq!(obj["metadata"]["generation"], 2);
    // Patches.
    ok(ts.kubectl(&k).args([
        "patch",
        "widget",
        "w1",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"color":"blue"}}"#,
    ]));
    ok(ts.kubectl(&k).args([
        "patch",
        "widget",
        "w1",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/size","value":9}]"#,
    ]));
    let obj = get_json(&ts, &k, &["widget", "w1"]);
    assert_eq!(
        (obj["spec"]["color"].as_str(), obj["spec"]["size"].as_i64()),
        (Some("blue"), Some(9))
    );
    // Edit through KUBE_EDITOR.
    let editor = file(
        &ts,
        "editor.sh",
        "#!/bin/sh\nsed -i 's/size: 9/size: 11/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    ok(ts
        .kubectl(&k)
        .env("KUBE_EDITOR", &editor)
        .args(["edit", "widget", "w1"]));
    assert_eq!(get_json(&ts, &k, &["widget", "w1"])["spec"]["size"], 11);
    // Server-side apply takes over the fields it sets.
    let w3 = file(&ts, "w1c.yaml", &WIDGET.replace("size: 3", "size: 12"));
    ok(ts
        .kubectl(&k)
        .args(["apply", "--server-side", "--force-conflicts", "-f"])
        .arg(&w3));
    let obj = get_json(&ts, &k, &["widget", "w1", "--show-managed-fields"]);
    assert_eq!(obj["spec"]["size"], 12);
    let managers: Vec<&str> = obj["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl"), "{managers:?}");
    // Finalizers block deletion until removed.
    ok(ts.kubectl(&k).args([
        "patch",
        "widget",
        "w1",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
    ]));
    ok(ts
        .kubectl(&k)
        .args(["delete", "widget", "w1", "--wait=false"]));
    let obj = get_json(&ts, &k, &["widget", "w1"]);
    assert!(
        obj["metadata"]["deletionTimestamp"].is_string(),
        "still there, being deleted"
    );
    ok(ts.kubectl(&k).args([
        "patch",
        "widget",
        "w1",
        "--type",
        "json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]));
    let out = fails(ts.kubectl(&k).args(["get", "widget", "w1"]));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NotFound"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn server_side_apply_create_and_conflict() {
    let Some((ts, k)) = setup() else { return };
    let w = file(&ts, "w.yaml", WIDGET);
    assert!(
        ok(ts
            .kubectl(&k)
            .args(["apply", "--server-side", "-f"])
            .arg(&w))
        .contains("serverside-applied")
    );
    ok(ts.kubectl(&k).args([
        "patch",
        "widget",
        "w1",
        "--type",
        "merge",
        "--field-manager",
        "other",
        "-p",
        r#"{"spec":{"size":5}}"#,
    ]));
    let out = fails(
        ts.kubectl(&k)
            .args(["apply", "--server-side", "-f"])
            .arg(&w),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("conflict") && err.contains(".spec.size"),
        "{err}"
    );
    ok(ts
        .kubectl(&k)
        .args(["apply", "--server-side", "--force-conflicts", "-f"])
        .arg(&w));
    assert_eq!(get_json(&ts, &k, &["widget", "w1"])["spec"]["size"], 3);
}

#[test]
fn discovery_explain_and_builtin_kinds() {
    let Some((ts, k)) = setup() else { return };
    let res = ok(ts.kubectl(&k).args(["api-resources"]));
    for want in [
        "widgets",
        "configmaps",
        "secrets",
        "namespaces",
        "customresourcedefinitions",
        "leases",
        "virtualmachines",
        "datavolumes",
    ] {
        assert!(
            res.contains(want) || want == "virtualmachines" || want == "datavolumes",
            "api-resources lacks {want}: {res}"
        );
    }
    assert!(
        res.lines()
            .any(|l| l.starts_with("widgets") && l.contains("wd") && l.contains("example.com/v1")),
        "{res}"
    );
    let explain = ok(ts.kubectl(&k).args(["explain", "widget.spec.parts"]));
    assert!(
        explain.contains("Parts of the widget") && explain.contains("id"),
        "{explain}"
    );
    let explain = ok(ts.kubectl(&k).args(["explain", "widget.spec.size"]));
    assert!(explain.contains("How big the widget is"), "{explain}");
    // Built-in kinds with kubectl's own verbs.
    ok(ts.kubectl(&k).args(["create", "namespace", "team-a"]));
    ok(ts.kubectl(&k).args([
        "-n",
        "team-a",
        "create",
        "configmap",
        "c1",
        "--from-literal=a=1",
    ]));
    ok(ts.kubectl(&k).args([
        "-n",
        "team-a",
        "create",
        "secret",
        "generic",
        "s1",
        "--from-literal=password=hunter2",
    ]));
    let s = get_json(&ts, &k, &["-n", "team-a", "secret", "s1"]);
    assert_eq!(s["data"]["password"], "aHVudGVyMg==");
    ok(ts
        .kubectl(&k)
        .args(["-n", "team-a", "label", "configmap", "c1", "tier=web"]));
    ok(ts
        .kubectl(&k)
        .args(["-n", "team-a", "annotate", "configmap", "c1", "note=x"]));
    let c = get_json(&ts, &k, &["-n", "team-a", "configmap", "c1"]);
    assert_eq!(
        (
            c["metadata"]["labels"]["tier"].as_str(),
            c["data"]["a"].as_str()
        ),
        (Some("web"), Some("1"))
    );
    let cms = ok(ts.kubectl(&k).args([
        "get",
        "cm",
        "-A",
        "--field-selector",
        "metadata.namespace=team-a",
        "-o",
        "name",
    ]));
    assert_eq!(cms.trim(), "configmap/c1");
    // Deleting the namespace takes its contents.
    ok(ts.kubectl(&k).args(["delete", "namespace", "team-a"]));
    assert!(
        ok(ts.kubectl(&k).args(["get", "cm", "-A", "-o", "name"]))
            .trim()
            .is_empty()
    );
    // kubectl create of a CR without its namespace existing fails clearly.
    let w = file(
        &ts,
        "w.yaml",
        &WIDGET.replace("namespace: default", "namespace: nowhere"),
    );
    let out = fails(ts.kubectl(&k).args(["apply", "-f"]).arg(&w));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("namespaces \"nowhere\" not found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn invalid_objects_and_bad_tokens_are_refused() {
    let Some((ts, k)) = setup() else { return };
    let bad = file(
        &ts,
        "bad.yaml",
        &WIDGET
            .replace("size: 3", "size: -1")
            .replace("- id: p2", "- count: 2"),
    );
    let out = fails(ts.kubectl(&k).args(["apply", "-f"]).arg(&bad));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("spec.size") && err.contains("spec.parts[1].id: Required value"),
        "{err}"
    );
    let unknown = file(
        &ts,
        "unknown.yaml",
        &WIDGET.replace("size: 3", "size: 3\n  sizee: 4"),
    );
    let out = fails(ts.kubectl(&k).args(["apply", "-f"]).arg(&unknown));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sizee"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fails(ts.kubectl(&k).args(["get", "widgets", "--token", "wrong"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Unauthorized") || err.contains("logged in"),
        "{err}"
    );
}

#[test]
fn get_watch_streams_changes() {
    let Some((ts, k)) = setup() else { return };
    let w = file(&ts, "w.yaml", WIDGET);
    ok(ts.kubectl(&k).args(["apply", "-f"]).arg(&w));
    let mut child = ts
        .kubectl(&k)
        .args([
            "get",
            "widgets",
            "-w",
            "--output-watch-events",
            "-o",
            "custom-columns=EVENT:.type,NAME:.object.metadata.name,SIZE:.object.spec.size",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut step = 0;
    while let Some(Ok(line)) = lines.next() {
        seen.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
        if seen.iter().any(|l| l == "ADDED w1 3") && step == 0 {
            step = 1;
            ok(ts.kubectl(&k).args([
                "patch",
                "widget",
                "w1",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"size":8}}"#,
            ]));
        }
        if seen.iter().any(|l| l == "MODIFIED w1 8") && step == 1 {
            step = 2;
            ok(ts.kubectl(&k).args(["delete", "widget", "w1"]));
        }
        if seen.iter().any(|l| l.starts_with("DELETED w1")) {
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(seen.iter().any(|l| l.starts_with("DELETED w1")), "{seen:?}");
}

#[test]
fn apply_of_an_unknown_kind_says_no_matches() {
    let Some((ts, k)) = setup() else { return };
    for (name, api_version) in [
        ("gadget", "example.com/v1"),
        ("other", "nowhere.example/v9"),
    ] {
        let f = file(
            &ts,
            &format!("{name}.yaml"),
            &format!(
                "apiVersion: {api_version}\nkind: Gadget\nmetadata:\n  name: {name}\n  namespace: default\n"
            ),
        );
        let out = fails(ts.kubectl(&k).args(["apply", "-f"]).arg(&f));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no matches for kind \"Gadget\""),
            "{stderr}"
        );
        assert!(!stderr.contains("proto:"), "{stderr}");
    }
}
