//! `ferry validate` against the manifests in `examples/`: every valid
//! example passes, every invalid variant fails with the field paths its
//! `# expect:` comments name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn ferry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run ferry")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn all_examples_validate_together() {
    let dir = examples().join("manifests");
    let out = ferry(&["validate", "-f", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("error:"), "{stdout}");
    // The only warnings are the documented rename in plan-cold.yaml and the
    // guide's `olm_managed`, which Forklift's CRD does not declare.
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 2, "{stdout}");
    assert!(
        warnings[0]
            .contains("ForkliftController/forklift-controller spec.olm_managed: unknown field"),
        "{stdout}"
    );
    assert!(
        warnings[1].contains("spec.vms[1].name: \"Web Server_01\" is not a valid Kubernetes name; the target VM will be named \"web-server-01\""),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let files = yaml_files(&dir).len();
    assert!(stderr.contains(&format!("({files} files)")), "{stderr}");
}

#[test]
fn every_example_validates_alone() {
    let files = yaml_files(&examples().join("manifests"));
    assert!(
        files.len() >= 25,
        "expected the full set of examples, got {}",
        files.len()
    );
    let mut args = vec!["validate".to_string()];
    for f in &files {
        // One invocation per file would be slow; -f is repeatable, but files
        // must also pass without their neighbours, so check each alone.
        let out = ferry(&["validate", "-f", f.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", f.display(), text(&out));
        args.push("-f".into());
        args.push(f.to_str().unwrap().into());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ferry(&refs);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn every_invalid_variant_fails_with_its_field_paths() {
    let files = yaml_files(&examples().join("invalid"));
    assert!(files.len() >= 15, "got {}", files.len());
    for f in files {
        let source = std::fs::read_to_string(&f).unwrap();
        let expects: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expects.is_empty(),
            "{} has no `# expect:` line",
            f.display()
        );
        let out = ferry(&["validate", "-f", f.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            f.display(),
            text(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        for e in expects {
            assert!(
                stdout.contains(e),
                "{}: expected {e:?} in the output\n{}",
                f.display(),
                text(&out)
            );
        }
    }
}

#[test]
fn json_output_and_stdin() {
    let plan = std::fs::read_to_string(examples().join("invalid/plan-vm-without-id.yaml")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["validate", "-f", "-", "-o", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(plan.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["documents"], 1);
    assert!(report["errors"].as_u64().unwrap() >= 1);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["file"] == "-"
        && f["object"] == "Plan/mig-plan"
        && f["path"] == "spec.vms[2]"
        && f["severity"] == "error"));
}

#[test]
fn yaml_output_parses() {
    let f = examples().join("invalid/host-bad-ip.yaml");
    let out = ferry(&["validate", "-f", f.to_str().unwrap(), "-o", "yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_saphyr::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["path"] == "spec.ipAddress"
            && f["severity"] == "error"
            && f["object"] == "Host/esx-bad"),
        "{report}"
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    let out = ferry(&["validate", "-f", "/nonexistent/plan.yaml"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/plan.yaml"),
        "{stderr}"
    );
}

#[test]
fn multi_document_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bundle.yml");
    std::fs::write(
        &p,
        "---\n# empty documents are skipped\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: vm-migrations\n---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\nmetadata:\n  name: Bad_Name\n  namespace: openshift-mtv\nspec:\n  image: quay.io/konveyor/hook-runner\n",
    )
    .unwrap();
    let out = ferry(&["validate", "-f", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("bundle.yml:2 Hook/Bad_Name metadata.name"),
        "{stdout}"
    );
}

/// Every leaf of `input` must appear, equal, in `output` (paths in `skip`
/// excepted). Returns the paths that were lost or changed.
fn lost_leaves(
    input: &serde_json::Value,
    output: &serde_json::Value,
    path: &str,
    skip: &[&str],
    lost: &mut Vec<String>,
) {
    use serde_json::Value;
    if skip.contains(&path) {
        return;
    }
    match input {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match output.get(k) {
                    Some(o) => lost_leaves(v, o, &p, skip, lost),
                    None if skip.contains(&p.as_str()) => {}
                    None if v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) => {}
                    None => lost.push(p),
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                match output.get(i) {
                    Some(o) => lost_leaves(v, o, &p, skip, lost),
                    None => lost.push(p),
                }
            }
        }
        leaf => {
            if leaf != output {
                lost.push(format!("{path} ({leaf} became {output})"));
            }
        }
    }
}

/// YAML → typed model → JSON keeps every field the examples set (the
/// guide's `olm_managed`, which Forklift's CRD does not declare, excepted).
#[test]
fn examples_round_trip_through_the_typed_models() {
    use ferry_core::api;
    use serde_json::Value;
    fn round<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Value {
        let typed: T = serde_json::from_value(v.clone()).expect("typed model");
        serde_json::to_value(&typed).expect("serialise")
    }
    let mut checked = 0;
    for f in yaml_files(&examples().join("manifests")) {
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
            let kind = doc["kind"].as_str().unwrap_or("").to_string();
            let out = match kind.as_str() {
                "Provider" => round::<api::Provider>(&doc),
                "Host" => round::<api::Host>(&doc),
                "NetworkMap" => round::<api::NetworkMap>(&doc),
                "StorageMap" => round::<api::StorageMap>(&doc),
                "Hook" => round::<api::Hook>(&doc),
                "Plan" => round::<api::Plan>(&doc),
                "Migration" => round::<api::Migration>(&doc),
                "ForkliftController" => round::<api::ForkliftController>(&doc),
                _ => continue,
            };
            let mut lost = Vec::new();
            lost_leaves(&doc, &out, "", &["spec.olm_managed"], &mut lost);
            assert!(lost.is_empty(), "{}: {kind} lost {lost:?}", f.display());
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} forklift documents checked");
}

/// `kubectl get ... -o yaml | ferry validate -f -`: a `kind: List` is
/// unwrapped, and a stream of more than 1,024 documents is read.
#[test]
fn lists_from_stdin_and_long_streams_validate() {
    use std::io::Write as _;
    let plan = std::fs::read_to_string(examples().join("manifests/plans/plan-cold.yaml")).unwrap();
    let items: Vec<serde_json::Value> = serde_saphyr::from_multiple(&plan).unwrap();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["validate", "-o", "json", "-f", "-"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&list).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["documents"], items.len(), "{}", text(&out));
    assert!(
        !text(&out).contains("unknown apiVersion/kind v1/List"),
        "{}",
        text(&out)
    );

    let tmp = ferry_testutil::tempdir();
    let many = tmp.path().join("many.yaml");
    let stream: String = (0..1500)
        .map(|i| {
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: demo\n"
            )
        })
        .collect();
    std::fs::write(&many, stream).unwrap();
    let out = ferry(&["validate", "-f", many.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in 1500 documents"),
        "{}",
        text(&out)
    );
}
