//! YAML -> typed -> YAML keeps every field a user set: the example
//! manifests (`examples/manifests/`) and the fixtures here, which set every
//! spec and status field ferry models. Each document is also checked
//! against ferry's CRD schema (no errors, no unknown fields) and, when the
//! shared reference is present, against Forklift's CRD schema.

mod common;

use std::path::{Path, PathBuf};

use ferry_core::api;
use ferry_core::openapi::Schemas;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn docs_in(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    out.sort();
}

fn through<K: DeserializeOwned + Serialize>(doc: &Value) -> Result<Value, String> {
    let typed: K = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    let yaml = serde_saphyr::to_string(&typed).map_err(|e| e.to_string())?;
    serde_saphyr::from_str(&yaml).map_err(|e| e.to_string())
}

/// Round-trips a forklift document; `None` for other kinds (Secret, ...).
fn round_trip(doc: &Value) -> Option<Result<Value, String>> {
    if doc["apiVersion"] != api::API_VERSION {
        return None;
    }
    Some(match doc["kind"].as_str()? {
        "Provider" => through::<api::Provider>(doc),
        "Host" => through::<api::Host>(doc),
        "NetworkMap" => through::<api::NetworkMap>(doc),
        "StorageMap" => through::<api::StorageMap>(doc),
        "Hook" => through::<api::Hook>(doc),
        "Plan" => through::<api::Plan>(doc),
        "Migration" => through::<api::Migration>(doc),
        "ForkliftController" => through::<api::ForkliftController>(doc),
        other => Err(format!("kind {other} has no typed model")),
    })
}

/// Every leaf of `input` must appear unchanged in `output`.
fn lost(input: &Value, output: &Value, path: &str, out: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => lost(v, w, &p, out),
                    None => out.push(format!("{p}: dropped")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!("{path}: {} items became {}", a.len(), b.len()));
            }
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                lost(v, w, &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a == b => {}
        // Integers may come back as floats only if numerically equal.
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) => out.push(format!("{path}: {a} became {b}")),
    }
}

fn ferry_schema(kind: &str) -> Value {
    let crd = ferry_core::crds::for_kind(kind).expect("CRD");
    serde_json::to_value(&crd).expect("json")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        .clone()
}

fn forklift_schema(kind: &str) -> Option<Value> {
    let crd = ferry_testutil::forklift_crd(kind)?;
    Some(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone())
}

/// Red Hat's MTV docs (the seeds) set `spec.olm_managed: true` on the
/// ForkliftController, a field neither Forklift's current CRD nor ferry
/// declares: the API server prunes it and `ferry validate` warns about it.
const DOCUMENTED_UNKNOWN: &str = "spec.olm_managed";
const DOCUMENTED_UNKNOWN_LOST: &str = ".spec.olm_managed: dropped";

fn check_files(files: &[PathBuf]) -> usize {
    let mut problems = Vec::new();
    let mut checked = 0;
    for f in files {
        for (i, doc) in docs_in(f).iter().enumerate() {
            let name = format!("{} doc {i} ({})", f.display(), doc["kind"]);
            let Some(result) = round_trip(doc) else {
                continue;
            };
            checked += 1;
            match result {
                Err(e) => problems.push(format!("{name}: does not parse: {e}")),
                Ok(back) => {
                    let mut l = Vec::new();
                    lost(doc, &back, "", &mut l);
                    l.retain(|x| !x.starts_with(DOCUMENTED_UNKNOWN_LOST));
                    problems.extend(l.into_iter().map(|x| format!("{name}: {x}")));
                }
            }
            let kind = doc["kind"].as_str().unwrap_or_default();
            let ours = Schemas::structural().validate(&ferry_schema(kind), doc);
            for e in &ours.errors {
                problems.push(format!("{name}: ferry schema: {e}"));
            }
            for u in ours.unknown.iter().filter(|u| *u != DOCUMENTED_UNKNOWN) {
                problems.push(format!("{name}: unknown to ferry's schema: {u}"));
            }
            if let Some(theirs) = forklift_schema(kind) {
                let mut r = Schemas::structural().validate(&theirs, doc);
                r.unknown.retain(|u| u != DOCUMENTED_UNKNOWN);
                for e in r.strict_errors() {
                    problems.push(format!("{name}: Forklift schema: {e}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    checked
}

#[test]
fn fixtures_with_every_field_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    let n = check_files(&files);
    assert!(n >= 9, "only {n} forklift documents in the fixtures");
}

#[test]
fn example_manifests_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests");
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    assert!(
        !files.is_empty(),
        "no example manifests in {}",
        dir.display()
    );
    let n = check_files(&files);
    assert!(n >= 10, "only {n} forklift documents in the examples");
}

#[test]
fn the_loss_check_catches_dropped_fields() {
    let doc: Value = serde_json::json!({
        "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Hook",
        "metadata": {"name": "h"},
        "spec": {"image": "x", "notAField": true}
    });
    let back = round_trip(&doc).expect("forklift kind").expect("parses");
    let mut problems = Vec::new();
    lost(&doc, &back, "", &mut problems);
    assert_eq!(problems, [".spec.notAField: dropped"]);
    let r = Schemas::structural().validate(&ferry_schema("Hook"), &doc);
    assert_eq!(r.unknown, ["spec.notAField"]);
}

#[test]
fn defaults_are_filled_on_the_way_through() {
    let doc: Value = serde_json::json!({
        "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
        "metadata": {"name": "p"},
        "spec": {"targetNamespace": "t", "vms": [{"id": "vm-1"}],
                 "provider": {"source": {"name": "s"}, "destination": {"name": "d"}},
                 "map": {"network": {"name": "n"}, "storage": {"name": "s"}}}
    });
    let back = round_trip(&doc).expect("forklift kind").expect("parses");
    for f in [
        "preserveStaticIPs",
        "deleteVmOnFailMigration",
        "migrateSharedDisks",
        "useCompatibilityMode",
        "runPreflightInspection",
    ] {
        assert_eq!(back["spec"][f], Value::Bool(true), "{f}");
    }
    assert_eq!(back["spec"]["skipGuestConversion"], Value::Bool(false));
    assert!(
        back["spec"].get("warm").is_none(),
        "unset optional fields stay unset"
    );
    // The schema defaults agree with the typed defaults.
    let mut via_schema = doc.clone();
    ferry_core::openapi::apply_defaults(&ferry_schema("Plan"), &mut via_schema);
    assert_eq!(via_schema["spec"], back["spec"]);
}
