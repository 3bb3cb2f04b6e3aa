use super::*;
use serde_json::json;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["vms"],
                "properties": {
                    "warm": {"type": "boolean", "default": false},
                    "mode": {"type": "string", "enum": ["a", "b"]},
                    "size": {"type": "integer", "minimum": 1},
                    "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
                    "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "vms": {"type": "array", "items": {
                        "type": "object", "required": ["id"],
                        "properties": {"id": {"type": "string"}, "hooks": {"type": "array", "items": {"type": "string"}}}
                    }}
                }
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
    })
}

#[test]
fn valid_object_gets_defaults_and_loses_unknown_fields() {
    let mut obj = json!({
        "apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"},
        "spec": {"vms": [{"id": "vm-1", "junk": 1}], "extra": true, "free": {"any": {"thing": 1}},
                 "labels": {"a": "b"}, "port": 8080},
        "toplevel": 1
    });
    let out = process(&schema(), &mut obj);
    assert!(out.causes.is_empty(), "{:?}", out.causes);
    assert_eq!(obj["spec"]["warm"], json!(false));
    assert!(obj["spec"].get("extra").is_none());
    assert!(obj.get("toplevel").is_none());
    assert!(obj["spec"]["vms"][0].get("junk").is_none());
    assert_eq!(obj["spec"]["free"]["any"]["thing"], json!(1));
    assert_eq!(obj["metadata"]["name"], json!("a"));
    let mut pruned = out.pruned.clone();
    pruned.sort();
    assert_eq!(pruned, vec!["spec.extra", "spec.vms[0].junk", "toplevel"]);
}

#[test]
fn invalid_fields_are_named() {
    let mut obj = json!({"spec": {
        "vms": [{"id": "ok"}, {"hooks": "not-a-list"}],
        "mode": "c", "size": 0, "name": "ABCDEFG", "labels": {"a": 1}, "port": true
    }});
    let out = process(&schema(), &mut obj);
    let fields: Vec<(&str, &str)> = out
        .causes
        .iter()
        .map(|c| (c.field.as_str(), c.reason))
        .collect();
    for want in [
        ("spec.vms[1].id", "FieldValueRequired"),
        ("spec.vms[1].hooks", "FieldValueInvalid"),
        ("spec.mode", "FieldValueNotSupported"),
        ("spec.size", "FieldValueInvalid"),
        ("spec.name", "FieldValueTooLong"),
        ("spec.name", "FieldValueInvalid"),
        ("spec.labels[a]", "FieldValueInvalid"),
        ("spec.port", "FieldValueInvalid"),
    ] {
        assert!(fields.contains(&want), "missing {want:?} in {fields:?}");
    }
}

#[test]
fn missing_required_list_is_reported() {
    let mut obj = json!({"spec": {}});
    let out = process(&schema(), &mut obj);
    assert_eq!(out.causes.len(), 1);
    assert_eq!(out.causes[0].field, "spec.vms");
    assert_eq!(out.causes[0].message, "Required value");
}
