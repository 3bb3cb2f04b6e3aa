//! ferry's generated CRDs against Forklift's: every property path Forklift
//! declares exists in ferry's schema with the same type, enum values,
//! default and pattern; ferry requires nothing Forklift does not; ferry
//! declares nothing Forklift does not (except the listed exceptions); and
//! every schema is structural (no `$ref`, types everywhere).
//!
//! Reads the facts of Forklift's CRDs kept in ferry-testutil's fixtures
//! (`fixtures/upstream/forklift/`).

use std::collections::BTreeMap;

use serde_json::Value;

mod common;

fn ferry_crds() -> BTreeMap<String, Value> {
    ferry_core::crds::all()
        .into_iter()
        .map(|c| {
            (
                c.spec.names.kind.clone(),
                serde_json::to_value(&c).expect("serialise CRD"),
            )
        })
        .collect()
}

fn forklift_crd(kind: &str) -> Option<Value> {
    ferry_testutil::forklift_crd(kind)
}

fn schema_of(crd: &Value) -> &Value {
    &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
}

/// Paths where ferry deliberately differs from Forklift, with the reason.
/// A path here is not compared (and its subtree is skipped).
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        ".spec.extraVolumes",
        "Conversion: core/v1 Volume as k8s-openapi describes it (a newer Kubernetes than the k8s.io/api Forklift builds with: newer fields, no kubebuilder defaults or quantity patterns)",
    ),
    (
        ".spec.extraMounts",
        "Conversion: core/v1 VolumeMount as k8s-openapi describes it (a newer Kubernetes: bindMountOptions)",
    ),
];

/// ferry's kinds that Forklift serves without a CRD in its repository
/// (their CRDs are installed by the operator's bundle).
const NO_FORKLIFT_CRD: &[&str] = &["OVAProviderServer", "HyperVProviderServer"];

fn excepted(path: &str) -> bool {
    EXCEPTIONS
        .iter()
        .any(|(p, _)| path == *p || path.starts_with(&format!("{p}.")))
}

fn types(s: &Value) -> Option<String> {
    s.get("type").and_then(Value::as_str).map(str::to_owned)
}

/// The enum of a node, also when controller-gen put it in `allOf`
/// branches (a named string type with an enum on its field too).
fn enum_set(s: &Value) -> Option<Vec<String>> {
    let all_of = s
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|b| b.iter().find_map(|b| b.get("enum")));
    s.get("enum").or(all_of).and_then(Value::as_array).map(|a| {
        let mut v: Vec<String> = a.iter().map(Value::to_string).collect();
        v.sort();
        v
    })
}

fn required(s: &Value) -> Vec<String> {
    s.get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Children of a schema node: properties, `[]` for items, `{}` for additionalProperties.
fn children(s: &Value) -> BTreeMap<String, &Value> {
    let mut out = BTreeMap::new();
    if let Some(p) = s.get("properties").and_then(Value::as_object) {
        for (k, v) in p {
            out.insert(format!(".{k}"), v);
        }
    }
    if let Some(i) = s.get("items") {
        out.insert("[]".to_owned(), i);
    }
    if let Some(a @ Value::Object(_)) = s.get("additionalProperties") {
        out.insert("{}".to_owned(), a);
    }
    out
}

fn compare(path: &str, theirs: &Value, ours: &Value, problems: &mut Vec<String>) {
    if types(theirs) != types(ours) {
        problems.push(format!(
            "{path}: type {:?} in Forklift, {:?} in ferry",
            types(theirs),
            types(ours)
        ));
    }
    if enum_set(theirs) != enum_set(ours) {
        problems.push(format!(
            "{path}: enum {:?} in Forklift, {:?} in ferry",
            enum_set(theirs),
            enum_set(ours)
        ));
    }
    if theirs.get("default") != ours.get("default") {
        problems.push(format!(
            "{path}: default {:?} in Forklift, {:?} in ferry",
            theirs.get("default"),
            ours.get("default")
        ));
    }
    if let Some(p) = ours.get("pattern")
        && theirs.get("pattern") != Some(p)
    {
        problems.push(format!(
            "{path}: ferry has pattern {p} that Forklift lacks or differs"
        ));
    }
    if theirs.get("pattern").is_some() && ours.get("pattern").is_none() {
        problems.push(format!("{path}: Forklift's pattern is missing in ferry"));
    }
    if theirs.get("nullable") != ours.get("nullable") {
        problems.push(format!(
            "{path}: nullable {:?} in Forklift, {:?} in ferry",
            theirs.get("nullable"),
            ours.get("nullable")
        ));
    }
    // JSONSchemaProps stores minimum/maximum as float64: compare numerically.
    for (k, m) in [
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("minLength", "minLength"),
        ("maxLength", "maxLength"),
        ("minItems", "minItems"),
        ("maxItems", "maxItems"),
    ] {
        let num = |s: &Value| s.get(k).and_then(Value::as_f64);
        if num(theirs) != num(ours) {
            problems.push(format!(
                "{path}: {m} {:?} in Forklift, {:?} in ferry",
                theirs.get(k),
                ours.get(k)
            ));
        }
    }
    let preserve = |s: &Value| s.get("x-kubernetes-preserve-unknown-fields").cloned();
    if preserve(theirs) != preserve(ours) {
        problems.push(format!(
            "{path}: x-kubernetes-preserve-unknown-fields differs"
        ));
    }
    let theirs_req = required(theirs);
    for r in required(ours) {
        if !theirs_req.contains(&r) && !excepted(&format!("{path}.{r}")) {
            problems.push(format!("{path}: ferry requires {r}, Forklift does not"));
        }
    }
    let tc = children(theirs);
    let oc = children(ours);
    for (k, t) in &tc {
        let child = format!("{path}{k}");
        if excepted(&child) {
            continue;
        }
        match oc.get(k) {
            Some(o) => compare(&child, t, o, problems),
            None => problems.push(format!("{child}: declared by Forklift, missing in ferry")),
        }
    }
    for k in oc.keys() {
        let child = format!("{path}{k}");
        if !tc.contains_key(k) && !excepted(&child) {
            problems.push(format!("{child}: declared by ferry, not by Forklift"));
        }
    }
}

#[test]
fn every_forklift_field_exists_in_ferry_with_the_same_type_enum_and_default() {
    let ours = ferry_crds();
    let mut problems = Vec::new();
    let mut compared = 0;
    for kind in ferry_core::api::KINDS {
        let Some(theirs) = forklift_crd(kind) else {
            assert!(NO_FORKLIFT_CRD.contains(kind), "no Forklift CRD for {kind}");
            continue;
        };
        let ours = ours.get(*kind).expect("ferry CRD");
        compare("", schema_of(&theirs), schema_of(ours), &mut problems);
        compared += 1;
    }
    assert_eq!(
        compared,
        ferry_core::api::KINDS.len() - NO_FORKLIFT_CRD.len()
    );
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn names_scope_print_columns_and_status_subresource_match() {
    let ours = ferry_crds();
    for kind in ferry_core::api::KINDS {
        let Some(theirs) = forklift_crd(kind) else {
            continue;
        };
        let ours = ours.get(*kind).expect("ferry CRD");
        assert_eq!(
            ours["metadata"]["name"], theirs["metadata"]["name"],
            "{kind}"
        );
        assert_eq!(ours["spec"]["group"], theirs["spec"]["group"], "{kind}");
        assert_eq!(ours["spec"]["scope"], theirs["spec"]["scope"], "{kind}");
        for k in ["kind", "plural", "singular", "listKind", "shortNames"] {
            let t = &theirs["spec"]["names"][k];
            let o = &ours["spec"]["names"][k];
            assert_eq!(o, t, "{kind} names.{k}");
        }
        let tv = &theirs["spec"]["versions"][0];
        let ov = &ours["spec"]["versions"][0];
        assert_eq!(ov["name"], tv["name"], "{kind}");
        assert_eq!(ov["served"], tv["served"], "{kind}");
        assert_eq!(ov["storage"], tv["storage"], "{kind}");
        assert_eq!(
            ov["subresources"], tv["subresources"],
            "{kind} subresources"
        );
        let cols = |v: &Value| -> Value {
            match v.get("additionalPrinterColumns") {
                None | Some(Value::Null) => Value::Array(vec![]),
                Some(c) => c.clone(),
            }
        };
        assert_eq!(cols(ov), cols(tv), "{kind} print columns");
    }
}

/// Kubernetes structural schema rules that matter here: no `$ref`, no
/// `anyOf`/`oneOf`/`allOf` carrying types, every node typed unless it is
/// int-or-string or preserves unknown fields, and `items` for every array.
fn check_structural(path: &str, s: &Value, problems: &mut Vec<String>) {
    let obj = match s.as_object() {
        Some(o) => o,
        None => {
            problems.push(format!("{path}: schema is not an object"));
            return;
        }
    };
    for banned in ["$ref", "definitions", "$defs"] {
        if obj.contains_key(banned) {
            problems.push(format!("{path}: has {banned}"));
        }
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = obj.get(combinator) {
            for b in branches {
                if b.get("type").is_some() || b.get("default").is_some() || b.get("$ref").is_some()
                {
                    problems.push(format!(
                        "{path}: {combinator} branch carries type/default/$ref"
                    ));
                }
            }
        }
    }
    let int_or_string = obj.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    let preserve = obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    match obj.get("type").and_then(Value::as_str) {
        Some("array") if obj.get("items").is_none() => {
            problems.push(format!("{path}: array without items"))
        }
        Some(_) => {}
        None if int_or_string || preserve => {}
        None => problems.push(format!("{path}: no type")),
    }
    if let Some(t) = obj.get("type")
        && !t.is_string()
    {
        problems.push(format!("{path}: type must be a single string, got {t}"));
    }
    for (k, child) in children(s) {
        check_structural(&format!("{path}{k}"), child, problems);
    }
}

#[test]
fn generated_schemas_are_structural() {
    let mut problems = Vec::new();
    for (kind, crd) in ferry_crds() {
        check_structural(&kind, schema_of(&crd), &mut problems);
        let s = schema_of(&crd);
        assert_eq!(s["type"], "object", "{kind}");
        assert!(s["properties"]["spec"].is_object(), "{kind} has spec");
        assert!(s["properties"]["status"].is_object(), "{kind} has status");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn forklift_defaults_are_in_ferry_plan_schema() {
    let crd = ferry_core::crds::for_kind("Plan").expect("Plan CRD");
    let v = serde_json::to_value(&crd).expect("json");
    let spec = &schema_of(&v)["properties"]["spec"]["properties"];
    for (field, want) in [
        ("preserveStaticIPs", true),
        ("deleteVmOnFailMigration", true),
        ("migrateSharedDisks", true),
        ("useCompatibilityMode", true),
        ("runPreflightInspection", true),
        ("skipGuestConversion", false),
        ("xfsCompatibility", false),
    ] {
        assert_eq!(spec[field]["default"], Value::Bool(want), "{field}");
    }
}

#[test]
fn forklift_controller_defaults_agree_with_the_schema() {
    use ferry_core::api::ForkliftControllerSpec;
    let crd = ferry_core::crds::for_kind("ForkliftController").expect("CRD");
    let v = serde_json::to_value(&crd).expect("json");
    let props = schema_of(&v)["properties"]["spec"]["properties"]
        .as_object()
        .expect("spec properties")
        .clone();
    let filled =
        serde_json::to_value(ForkliftControllerSpec::default().with_defaults()).expect("json");
    let mut with_default = 0;
    for (k, s) in &props {
        match s.get("default") {
            Some(d) => {
                with_default += 1;
                assert_eq!(filled.get(k), Some(d), "{k}");
            }
            None => assert!(
                filled.get(k).is_none(),
                "{k} has no CRD default but was filled"
            ),
        }
    }
    assert!(with_default > 100, "only {with_default} defaults");
    let empty = ForkliftControllerSpec::default();
    assert_eq!(empty.controller_max_vm_inflight(), 20);
    assert_eq!(empty.controller_precopy_interval(), 60);
    assert_eq!(empty.controller_filesystem_overhead(), 10);
    assert_eq!(empty.controller_block_overhead(), 0);
    assert_eq!(empty.controller_snapshot_removal_timeout_minuts(), 120);
    assert!(empty.feature_copy_offload());
    assert!(!empty.feature_mcp_server());
    assert_eq!(empty.virt_v2v_container_limits_memory(), "8Gi");
    let set = ForkliftControllerSpec {
        controller_max_vm_inflight: Some(3),
        ..ForkliftControllerSpec::default()
    };
    assert_eq!(set.controller_max_vm_inflight(), 3);
}

#[test]
fn committed_deploy_crds_match_the_code() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds");
    for crd in ferry_core::crds::all() {
        let path = dir.join(ferry_core::crds::file_name(&crd));
        let committed = common::read_yaml(&path);
        assert_eq!(
            committed,
            serde_json::to_value(&crd).expect("json"),
            "{} is stale: rm -f deploy/crds/*.yaml && cargo run -p ferry -- crds --out-dir deploy/crds",
            path.display()
        );
    }
}
