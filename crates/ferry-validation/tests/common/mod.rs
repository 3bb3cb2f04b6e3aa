//! Helpers shared by the differential tests: run real OPA (the
//! `ferry-opa-python` peer from `.ci/opa.sh`) over a list of inputs and
//! compare its `validate` documents with regorus's.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ferry_validation::Validator;
use serde_json::Value;

pub fn policies_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

/// Sort concerns and errors so documents compare as sets.
pub fn canonical(v: &Value) -> Value {
    let mut v = v.clone();
    for key in ["concerns", "errors"] {
        if let Some(arr) = v.get_mut(key).and_then(Value::as_array_mut) {
            arr.sort_by_key(|x| x.to_string());
        }
    }
    v
}

/// Evaluates `data.<path>` with real OPA for every input, loading every
/// policy under `policies/`. One entry per input: `{"result": v}`,
/// `{"undefined": true}` or `{"error": "..."}`.
pub fn opa_results(path: &str, inputs: &[Value]) -> Vec<Value> {
    opa_results_in(&policies_root(), path, inputs)
}

/// [`opa_results`] with the policies under `root`.
pub fn opa_results_in(root: &Path, path: &str, inputs: &[Value]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/opa_eval.py");
    let mut child = Command::new("ferry-opa-python")
        .arg(script)
        .args(["--path", path])
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ferry-opa-python");
    let payload = serde_json::to_vec(inputs).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "OPA helper failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("OPA helper output is JSON")
}

/// Validates every case with regorus (the `policies/` folder) and with OPA
/// and fails listing every case where the documents differ. Returns the
/// concern ids OPA raised over all cases.
pub fn assert_agree(package: &str, cases: &[(String, Value)]) -> BTreeSet<String> {
    assert_agree_in(&policies_root(), package, cases)
}

/// [`assert_agree`] with the policies under `root`.
pub fn assert_agree_in(root: &Path, package: &str, cases: &[(String, Value)]) -> BTreeSet<String> {
    let inputs: Vec<Value> = cases.iter().map(|(_, v)| v.clone()).collect();
    let opa = opa_results_in(
        root,
        &format!("io.konveyor.forklift.{package}.validate"),
        &inputs,
    );
    assert_eq!(opa.len(), cases.len());
    let validator = Validator::new(&[root]).unwrap();
    let mut mismatches = Vec::new();
    let mut concern_ids = BTreeSet::new();
    for ((name, input), opa) in cases.iter().zip(&opa) {
        let ours = validator.validate_raw(package, input);
        match (ours, opa.get("result")) {
            (Ok(ours), Some(theirs)) => {
                if canonical(&ours) != canonical(theirs) {
                    mismatches.push(format!(
                        "{name}:\n  regorus: {}\n  opa:     {}",
                        canonical(&ours),
                        canonical(theirs)
                    ));
                }
                for c in theirs["concerns"].as_array().unwrap() {
                    concern_ids.insert(c["id"].as_str().unwrap_or_default().to_owned());
                }
                // The typed API agrees with the raw document.
                let typed = validator.validate(package, input).unwrap();
                assert_eq!(
                    typed.concerns.len(),
                    theirs["concerns"].as_array().unwrap().len(),
                    "{name}"
                );
                assert_eq!(
                    typed.rules_version,
                    theirs["rules_version"].as_i64().unwrap(),
                    "{name}"
                );
            }
            (ours, _) => mismatches.push(format!("{name}: regorus {ours:?}, opa {opa}")),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
    eprintln!(
        "{} {package} cases agree between regorus and OPA",
        cases.len()
    );
    concern_ids
}

/// `{"rules_version": N}` from OPA equals the validator's rules version.
pub fn assert_rules_version_agrees(package: &str) {
    let opa = opa_results(
        &format!("io.konveyor.forklift.{package}.rules_version"),
        &[serde_json::json!({})],
    );
    let validator = Validator::new(&[policies_root()]).unwrap();
    assert_eq!(
        opa[0]["result"]["rules_version"].as_i64(),
        Some(validator.rules_version(package).unwrap())
    );
}

/// A deterministic xorshift generator for the random cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// A number in `0..m`.
    pub fn below(&mut self, m: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % m as u64) as usize
    }

    pub fn pick(&mut self, pool: &[Value]) -> Value {
        pool[self.below(pool.len())].clone()
    }
}
