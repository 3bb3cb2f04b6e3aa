//! A small validator for OpenAPI schemas over `serde_json::Value`: the
//! Swagger 2.0 documents of KubeVirt and CDI (`#/definitions/...` refs) and
//! Kubernetes structural schemas (a CRD's `openAPIV3Schema`).
//!
//! It checks `type` (also type lists such as `["string", "null"]`),
//! `nullable`, `required`, `properties` / `additionalProperties`, `items`,
//! `enum`, `pattern`, `minimum` / `maximum`, `minLength` / `maxLength`,
//! `minItems` / `maxItems`, `format: int32`, `x-kubernetes-int-or-string`
//! and `x-kubernetes-preserve-unknown-fields`. Fields a schema does not know
//! are reported separately ([`Report::unknown`]): Swagger validation treats
//! them as errors, an API server prunes them (see [`prune`]).
//!
//! [`apply_defaults`] fills `default` values the way the Kubernetes API
//! server does for structural schemas.

use serde_json::{Map, Value};

/// Nesting depth beyond which validation stops with an error (guards
/// against hostile documents and recursive schemas).
pub const MAX_DEPTH: usize = 128;

/// One problem found in a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where, e.g. `spec.template.spec.domain.devices.disks[0].bus`.
    pub path: String,
    /// What is wrong, in sentence case.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The result of a validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Values that break the schema.
    pub errors: Vec<Violation>,
    /// Paths of fields the schema does not declare.
    pub unknown: Vec<String>,
}

impl Report {
    /// No errors and no unknown fields.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.unknown.is_empty()
    }

    /// Errors plus one error per unknown field (Swagger-style strictness).
    pub fn strict_errors(&self) -> Vec<Violation> {
        let mut all = self.errors.clone();
        all.extend(self.unknown.iter().map(|p| Violation {
            path: p.clone(),
            message: "unknown field".to_owned(),
        }));
        all
    }
}

/// Resolves `$ref`s against a document's `definitions`.
#[derive(Clone, Copy, Debug)]
pub struct Schemas<'a> {
    definitions: Option<&'a Map<String, Value>>,
    /// Skip `apiVersion`, `kind` and `metadata` at the root (the API server
    /// handles them itself; CRD schemas may not declare them).
    pub skip_root_meta: bool,
}

impl<'a> Schemas<'a> {
    /// For a Swagger 2.0 document (`{"definitions": {...}}`).
    pub fn swagger(doc: &'a Value) -> Self {
        Self {
            definitions: doc.get("definitions").and_then(Value::as_object),
            skip_root_meta: false,
        }
    }

    /// For a self-contained structural schema (a CRD's `openAPIV3Schema`).
    pub fn structural() -> Self {
        Self {
            definitions: None,
            skip_root_meta: true,
        }
    }

    /// The definition named `name` (e.g. `v1.VirtualMachine`).
    pub fn definition(&self, name: &str) -> Option<&'a Value> {
        self.definitions?.get(name)
    }

    fn resolve(&self, mut schema: &'a Value, path: &str, report: &mut Report) -> Option<&'a Value> {
        for _ in 0..32 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                return Some(schema);
            };
            let name = r.strip_prefix("#/definitions/");
            match name.and_then(|n| self.definition(n)) {
                Some(s) => schema = s,
                None => {
                    report.errors.push(Violation {
                        path: path.to_owned(),
                        message: format!("schema reference {r} cannot be resolved"),
                    });
                    return None;
                }
            }
        }
        report.errors.push(Violation {
            path: path.to_owned(),
            message: "schema references loop".to_owned(),
        });
        None
    }

    /// Validates `value` against `schema`.
    pub fn validate(&self, schema: &Value, value: &Value) -> Report {
        let mut report = Report::default();
        self.walk(schema, value, "", 0, &mut report);
        report
    }

    /// Validates `value` against the definition `name`; an unknown name is
    /// an error in the report.
    pub fn validate_definition(&self, name: &str, value: &Value) -> Report {
        match self.definition(name) {
            Some(s) => self.validate(s, value),
            None => Report {
                errors: vec![Violation {
                    path: String::new(),
                    message: format!("schema definition {name} not found"),
                }],
                unknown: Vec::new(),
            },
        }
    }

    fn walk(&self, schema: &Value, value: &Value, path: &str, depth: usize, report: &mut Report) {
        if depth > MAX_DEPTH {
            report.errors.push(Violation {
                path: path.to_owned(),
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
            return;
        }
        let Some(schema) = self.resolve(schema, path, report) else {
            return;
        };
        let err = |report: &mut Report, message: String| {
            report.errors.push(Violation {
                path: path.to_owned(),
                message,
            })
        };

        if value.is_null() {
            let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true)
                || type_names(schema).contains(&"null");
            if !nullable && !type_names(schema).is_empty() {
                err(report, "must not be null".to_owned());
            }
            return;
        }

        let int_or_string = schema
            .get("x-kubernetes-int-or-string")
            .and_then(Value::as_bool)
            == Some(true);
        let types = type_names(schema);
        if int_or_string {
            if !(value.is_string() || is_integer(value)) {
                err(
                    report,
                    format!("must be an integer or a string, not {}", kind_of(value)),
                );
                return;
            }
        } else if !types.is_empty() && !types.iter().any(|t| matches_type(t, value)) {
            err(
                report,
                format!("must be {}, not {}", types.join(" or "), kind_of(value)),
            );
            return;
        }

        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.contains(value)
        {
            let list: Vec<String> = options.iter().map(Value::to_string).collect();
            err(report, format!("{value} is not one of {}", list.join(", ")));
        }

        match value {
            Value::String(s) => self.check_string(schema, s, path, report),
            Value::Number(_) => check_number(schema, value, path, report),
            Value::Array(items) => {
                check_len(
                    schema,
                    "minItems",
                    "maxItems",
                    items.len(),
                    "items",
                    path,
                    report,
                );
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(
                            item_schema,
                            item,
                            &format!("{path}[{i}]"),
                            depth + 1,
                            report,
                        );
                    }
                }
            }
            Value::Object(map) => self.check_object(schema, map, path, depth, report),
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn check_string(&self, schema: &Value, s: &str, path: &str, report: &mut Report) {
        check_len(
            schema,
            "minLength",
            "maxLength",
            s.chars().count(),
            "characters",
            path,
            report,
        );
        if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
            match regex::Regex::new(p) {
                Ok(re) if !re.is_match(s) => report.errors.push(Violation {
                    path: path.to_owned(),
                    message: format!("{s:?} does not match the pattern {p}"),
                }),
                Ok(_) => {}
                Err(e) => report.errors.push(Violation {
                    path: path.to_owned(),
                    message: format!(
                        "the schema pattern {p} is not a valid regular expression ({e})"
                    ),
                }),
            }
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        map: &Map<String, Value>,
        path: &str,
        depth: usize,
        report: &mut Report,
    ) {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(r) {
                    report.errors.push(Violation {
                        path: join(path, r),
                        message: "required field is missing".to_owned(),
                    });
                }
            }
        }
        let preserve = schema
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true);
        let additional = schema.get("additionalProperties");
        for (k, v) in map {
            let child = join(path, k);
            if depth == 0
                && self.skip_root_meta
                && matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
            {
                continue;
            }
            if let Some(s) = props.and_then(|p| p.get(k)) {
                self.walk(s, v, &child, depth + 1, report);
                continue;
            }
            match additional {
                Some(Value::Bool(true)) => {}
                Some(s @ Value::Object(_)) => self.walk(s, v, &child, depth + 1, report),
                Some(Value::Bool(false)) => report.unknown.push(child),
                _ if preserve => {}
                // An object schema without properties (e.g. RawExtension `{}`) accepts anything.
                _ if props.is_none() && type_names(schema).is_empty() => {}
                _ if props.is_none() && !self.skip_root_meta => {}
                _ => report.unknown.push(child),
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn type_names(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_integer(v: &Value) -> bool {
    v.as_i64().is_some() || v.as_u64().is_some()
}

fn matches_type(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => is_integer(v),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_number(schema: &Value, v: &Value, path: &str, report: &mut Report) {
    let Some(x) = v.as_f64() else { return };
    let mut err = |message: String| {
        report.errors.push(Violation {
            path: path.to_owned(),
            message,
        })
    };
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && x < min
    {
        err(format!("{v} is less than the minimum {min}"));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && x > max
    {
        err(format!("{v} is greater than the maximum {max}"));
    }
    if schema.get("format").and_then(Value::as_str) == Some("int32")
        && v.as_i64().is_none_or(|i| i32::try_from(i).is_err())
    {
        err(format!("{v} does not fit in 32 bits"));
    }
}

fn check_len(
    schema: &Value,
    min_key: &str,
    max_key: &str,
    len: usize,
    unit: &str,
    path: &str,
    report: &mut Report,
) {
    let len = len as u64;
    if let Some(min) = schema.get(min_key).and_then(Value::as_u64)
        && len < min
    {
        report.errors.push(Violation {
            path: path.to_owned(),
            message: format!("has {len} {unit}, fewer than the minimum {min}"),
        });
    }
    if let Some(max) = schema.get(max_key).and_then(Value::as_u64)
        && len > max
    {
        report.errors.push(Violation {
            path: path.to_owned(),
            message: format!("has {len} {unit}, more than the maximum {max}"),
        });
    }
}

/// Removes the fields a structural schema does not declare (what the
/// Kubernetes API server does), returning their paths. `apiVersion`,
/// `kind` and `metadata` at the root are kept.
pub fn prune(schema: &Value, value: &mut Value) -> Vec<String> {
    let mut removed = Vec::new();
    prune_at(schema, value, "", 0, &mut removed);
    removed
}

fn prune_at(
    schema: &Value,
    value: &mut Value,
    path: &str,
    depth: usize,
    removed: &mut Vec<String>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            if schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true)
                && schema.get("properties").is_none()
            {
                return;
            }
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve = schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true);
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let child = join(path, &k);
                if depth == 0 && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let sub = props.and_then(|p| p.get(&k)).or(match additional {
                    Some(s @ Value::Object(_)) => Some(s),
                    _ => None,
                });
                match (sub, map.get_mut(&k)) {
                    (Some(s), Some(v)) => prune_at(s, v, &child, depth + 1, removed),
                    (None, _) if preserve || matches!(additional, Some(Value::Bool(true))) => {}
                    (None, _) => {
                        map.remove(&k);
                        removed.push(child);
                    }
                    (Some(_), None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_at(s, item, &format!("{path}[{i}]"), depth + 1, removed);
                }
            }
        }
        _ => {}
    }
}

/// Fills `default`s from a structural schema into `value`, the way the
/// Kubernetes API server does: for every object, a missing property whose
/// schema has a `default` is set to it (then defaulted itself).
pub fn apply_defaults(schema: &Value, value: &mut Value) {
    defaults_at(schema, value, 0);
}

fn defaults_at(schema: &Value, value: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    if !map.contains_key(k)
                        && let Some(d) = s.get("default")
                    {
                        map.insert(k.clone(), d.clone());
                    }
                    if let Some(v) = map.get_mut(k) {
                        defaults_at(s, v, depth + 1);
                    }
                }
            }
            if let Some(s @ Value::Object(_)) = schema.get("additionalProperties") {
                for v in map.values_mut() {
                    defaults_at(s, v, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for item in items {
                    defaults_at(s, item, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"definitions": {
            "A": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "pattern": "^[a-z]+$"},
                "b": {"$ref": "#/definitions/B"},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                "q": {"type": ["string", "integer", "number"]},
                "n": {"type": "integer", "format": "int32", "minimum": 1}
            }},
            "B": {"type": "object", "properties": {
                "mode": {"type": "string", "enum": ["x", "y"]},
                "list": {"type": "array", "items": {"$ref": "#/definitions/B"}}
            }},
            "Loop": {"$ref": "#/definitions/Loop"}
        }})
    }

    #[test]
    fn accepts_a_valid_value() {
        let d = doc();
        let r = Schemas::swagger(&d).validate_definition(
            "A",
            &json!({"name": "ok", "b": {"mode": "x", "list": [{"mode": "y"}]},
                    "tags": {"k": "v"}, "q": "1Gi", "n": 3}),
        );
        assert!(r.is_clean(), "{r:?}");
    }

    #[test]
    fn reports_each_kind_of_problem_with_its_path() {
        let d = doc();
        let r = Schemas::swagger(&d).validate_definition(
            "A",
            &json!({"b": {"mode": "z", "list": [{"extra": 1}]}, "tags": {"k": 1},
                    "n": 0, "q": true}),
        );
        let got: Vec<String> = r.errors.iter().map(ToString::to_string).collect();
        assert!(
            got.contains(&"name: required field is missing".to_owned()),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|e| e.starts_with("b.mode: \"z\" is not one of")),
            "{got:?}"
        );
        assert!(
            got.contains(&"tags.k: must be string, not an integer".to_owned()),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|e| e.starts_with("n: 0 is less than the minimum")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|e| e.starts_with("q: must be string or integer or number")),
            "{got:?}"
        );
        assert_eq!(r.unknown, ["b.list[0].extra"]);
    }

    #[test]
    fn pattern_and_int32_range() {
        let d = doc();
        let r = Schemas::swagger(&d)
            .validate_definition("A", &json!({"name": "UPPER", "n": 5_000_000_000i64}));
        assert_eq!(r.errors.len(), 2, "{r:?}");
    }

    #[test]
    fn ref_loops_and_missing_refs_are_errors_not_hangs() {
        let d = doc();
        let s = Schemas::swagger(&d);
        assert!(!s.validate_definition("Loop", &json!({})).errors.is_empty());
        assert!(
            !s.validate_definition("Missing", &json!({}))
                .errors
                .is_empty()
        );
        assert!(
            !s.validate(&json!({"$ref": "#/definitions/Nope"}), &json!(1))
                .errors
                .is_empty()
        );
    }

    #[test]
    fn deep_values_stop_at_the_limit() {
        let schema = json!({"$ref": "#/definitions/B"});
        let mut v = json!({});
        for _ in 0..(MAX_DEPTH + 10) {
            v = json!({"list": [v]});
        }
        let d = doc();
        let r = Schemas::swagger(&d).validate(&schema, &v);
        assert!(
            r.errors
                .iter()
                .any(|e| e.message.contains("nesting deeper"))
        );
    }

    #[test]
    fn structural_prune_and_defaults() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "a": {"type": "boolean", "default": true},
                "m": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }}
        }});
        let mut v = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n"},
            "spec": {"m": {"k": "v"}, "free": {"any": {"thing": 1}}, "junk": 1}, "other": 2});
        let r = Schemas::structural().validate(&schema, &v);
        assert_eq!(r.unknown, ["other", "spec.junk"]);
        assert!(r.errors.is_empty(), "{r:?}");
        let removed = prune(&schema, &mut v);
        assert_eq!(removed, ["other", "spec.junk"]);
        apply_defaults(&schema, &mut v);
        assert_eq!(v["spec"]["a"], json!(true));
        assert_eq!(v["spec"]["free"]["any"]["thing"], json!(1));
        assert_eq!(v["metadata"]["name"], json!("n"));
    }

    #[test]
    fn null_handling() {
        let s = Schemas::structural();
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "string", "nullable": true}, "b": {"type": "string"}}});
        let r = s.validate(&schema, &json!({"a": null, "b": null}));
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].path, "b");
    }
}
