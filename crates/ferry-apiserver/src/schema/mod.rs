//! Structural-schema handling for custom resources, in the order the real
//! API server runs it: pruning of unknown fields, defaulting, validation.
//! Errors are `Status` causes that name the field path (`spec.vms[0].id`).

use serde_json::{Map, Value};

use crate::error::Cause;

/// What checking one object against its schema found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Validation failures (empty = valid).
    pub causes: Vec<Cause>,
    /// Paths of unknown fields that were dropped.
    pub pruned: Vec<String>,
}

/// Prune, default and validate `obj` (a whole custom resource) against
/// `schema` (its `openAPIV3Schema`). `apiVersion`, `kind` and `metadata` at
/// the root are kept and checked elsewhere.
pub fn process(schema: &Value, obj: &mut Value) -> Outcome {
    let mut out = Outcome::default();
    let Some(map) = obj.as_object_mut() else {
        out.causes.push(invalid("", "must be an object"));
        return out;
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match props.and_then(|p| p.get(&k)) {
            Some(sub) => {
                if let Some(v) = map.get_mut(&k) {
                    walk(sub, v, &k, &mut out);
                }
            }
            None if preserves(schema) => {}
            None => {
                map.remove(&k);
                out.pruned.push(k);
            }
        }
    }
    apply_defaults(schema, map, "", &mut out);
    check_required(schema, map, "", &mut out);
    out
}

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 64 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(60).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

fn invalid(path: &str, why: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field: path.to_string(),
        message: format!("Invalid value: {why}"),
    }
}

fn invalid_value(path: &str, v: &Value, why: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field: path.to_string(),
        message: format!("Invalid value: {}: {why}", short(v)),
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn value_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Prune, default and validate one value at `path`.
fn walk(schema: &Value, v: &mut Value, path: &str, out: &mut Outcome) {
    let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    if v.is_null() {
        if !nullable && schema.get("type").is_some() {
            // Kubernetes drops nulls of non-nullable fields during pruning;
            // the parent's defaulting/required check then decides.
            out.causes.push(invalid_value(
                path,
                v,
                &format!("{path} in body must be of type {}", type_name(schema)),
            ));
        }
        return;
    }
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    if int_or_string {
        if !(v.is_string() || v.is_i64() || v.is_u64()) {
            out.causes.push(invalid_value(
                path,
                v,
                &format!(
                    "{path} in body must be of type integer or string: {:?}",
                    value_type(v)
                ),
            ));
            return;
        }
    } else if let Some(t) = schema.get("type").and_then(Value::as_str)
        && !type_ok(t, v)
    {
        out.causes.push(invalid_value(
            path,
            v,
            &format!("{path} in body must be of type {t}: {:?}", value_type(v)),
        ));
        return;
    }
    check_scalars(schema, v, path, out);
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            check_combinator(key, list, v, path, out);
        }
    }
    match v {
        Value::Object(map) => {
            let embedded = schema
                .get("x-kubernetes-embedded-resource")
                .and_then(Value::as_bool)
                == Some(true);
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let sub_path = join(path, &k);
                if let Some(sub) = props.and_then(|p| p.get(&k)) {
                    if let Some(child) = map.get_mut(&k) {
                        walk(sub, child, &sub_path, out);
                    }
                } else if let Some(add) = additional.filter(|a| a.is_object()) {
                    if let Some(child) = map.get_mut(&k) {
                        walk(add, child, &format!("{path}[{k}]"), out);
                    }
                } else if additional.and_then(Value::as_bool) == Some(true)
                    || preserves(schema)
                    || (embedded && matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
                {
                } else {
                    map.remove(&k);
                    out.pruned.push(sub_path);
                }
            }
            apply_defaults(schema, map, path, out);
            check_required(schema, map, path, out);
            let n = map.len() as u64;
            if let Some(min) = schema
                .get("minProperties")
                .and_then(Value::as_u64)
                .filter(|m| n < *m)
            {
                out.causes.push(invalid(
                    path,
                    &format!("{path} in body should have at least {min} properties"),
                ));
            }
            if let Some(max) = schema
                .get("maxProperties")
                .and_then(Value::as_u64)
                .filter(|m| n > *m)
            {
                out.causes.push(invalid(
                    path,
                    &format!("{path} in body should have at most {max} properties"),
                ));
            }
        }
        Value::Array(items) => {
            let n = items.len() as u64;
            if let Some(min) = schema
                .get("minItems")
                .and_then(Value::as_u64)
                .filter(|m| n < *m)
            {
                out.causes.push(invalid(
                    path,
                    &format!("{path} in body should have at least {min} items"),
                ));
            }
            if let Some(max) = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .filter(|m| n > *m)
            {
                out.causes.push(Cause {
                    reason: "FieldValueTooMany",
                    field: path.to_string(),
                    message: format!("Too many: {n}: must have at most {max} items"),
                });
            }
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
            if schema.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
                for i in 0..items.len() {
                    if items[..i].contains(&items[i]) {
                        out.causes.push(Cause {
                            reason: "FieldValueDuplicate",
                            field: format!("{path}[{i}]"),
                            message: format!("Duplicate value: {}", short(&items[i])),
                        });
                    }
                }
            }
            let keys = list_map_keys(schema);
            if !keys.is_empty() {
                for i in 0..items.len() {
                    let key_of =
                        |x: &Value| keys.iter().map(|k| x.get(k).cloned()).collect::<Vec<_>>();
                    let ki = key_of(&items[i]);
                    if items[..i].iter().any(|prev| key_of(prev) == ki) {
                        out.causes.push(Cause {
                            reason: "FieldValueDuplicate",
                            field: format!("{path}[{i}]"),
                            message: format!(
                                "Duplicate value: {}",
                                short(&Value::Array(
                                    ki.into_iter().map(|k| k.unwrap_or(Value::Null)).collect()
                                ))
                            ),
                        });
                    }
                }
            }
        }
        _ => {}
    }
}

/// `x-kubernetes-list-map-keys` of a `map` list.
pub fn list_map_keys(schema: &Value) -> Vec<String> {
    if schema.get("x-kubernetes-list-type").and_then(Value::as_str) != Some("map") {
        return Vec::new();
    }
    schema
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn type_name(schema: &Value) -> String {
    schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object")
        .to_string()
}

fn check_combinator(key: &str, list: &[Value], v: &Value, path: &str, out: &mut Outcome) {
    // Only validation here: pruning and defaulting follow the main schema,
    // as for structural schemas.
    let errs: Vec<Vec<Cause>> = list
        .iter()
        .map(|s| {
            let mut probe = Outcome::default();
            let mut copy = v.clone();
            walk(s, &mut copy, path, &mut probe);
            probe.causes
        })
        .collect();
    match key {
        "allOf" => {
            for e in errs {
                out.causes.extend(e);
            }
        }
        "anyOf" => {
            if !errs.iter().any(Vec::is_empty) {
                out.causes.push(invalid_value(
                    path,
                    v,
                    &format!("{path} in body must match at least one schema (anyOf)"),
                ));
            }
        }
        _ => {
            if errs.iter().filter(|e| e.is_empty()).count() != 1 {
                out.causes.push(invalid_value(
                    path,
                    v,
                    &format!("{path} in body must match exactly one schema (oneOf)"),
                ));
            }
        }
    }
}

fn check_scalars(schema: &Value, v: &Value, path: &str, out: &mut Outcome) {
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(v)
    {
        let list = options
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        out.causes.push(Cause {
            reason: "FieldValueNotSupported",
            field: path.to_string(),
            message: format!("Unsupported value: {}: supported values: {list}", short(v)),
        });
    }
    if let Some(n) = v.as_f64().filter(|_| v.is_number()) {
        let excl_min = schema.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
        let excl_max = schema.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && (n < min || (excl_min && n == min))
        {
            out.causes.push(invalid_value(
                path,
                v,
                &format!("{path} in body should be greater than or equal to {min}"),
            ));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && (n > max || (excl_max && n == max))
        {
            out.causes.push(invalid_value(
                path,
                v,
                &format!("{path} in body should be less than or equal to {max}"),
            ));
        }
        if let Some(m) = schema
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|m| *m > 0.0)
            && (n / m).fract().abs() > 1e-9
        {
            out.causes.push(invalid_value(
                path,
                v,
                &format!("{path} in body should be a multiple of {m}"),
            ));
        }
    }
    if let Some(s) = v.as_str() {
        let len = s.chars().count() as u64;
        if let Some(min) = schema
            .get("minLength")
            .and_then(Value::as_u64)
            .filter(|m| len < *m)
        {
            out.causes.push(invalid_value(
                path,
                v,
                &format!("{path} in body should be at least {min} chars long"),
            ));
        }
        if let Some(max) = schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .filter(|m| len > *m)
        {
            out.causes.push(Cause {
                reason: "FieldValueTooLong",
                field: path.to_string(),
                message: format!("Too long: may not be more than {max} bytes"),
            });
        }
        if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
            match compiled(p) {
                Some(re) if !re.is_match(s) => out.causes.push(invalid_value(
                    path,
                    v,
                    &format!("{path} in body should match '{p}'"),
                )),
                Some(_) => {}
                None => {
                    tracing::debug!(pattern = p, "schema pattern is not supported; not checked")
                }
            }
        }
    }
}

/// A schema `pattern`, compiled once per process (None: not supported).
/// Schemas come from the registered CRDs, so the set is small; the cache is
/// cleared if it ever grows past a bound.
fn compiled(pattern: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(re) = map.get(pattern) {
        return re.clone();
    }
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .ok();
    if map.len() >= 4096 {
        map.clear();
    }
    map.insert(pattern.to_string(), re.clone());
    re
}

fn apply_defaults(schema: &Value, map: &mut Map<String, Value>, path: &str, out: &mut Outcome) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (k, sub) in props {
        let Some(default) = sub.get("default") else {
            continue;
        };
        let missing = match map.get(k) {
            None => true,
            Some(Value::Null) => sub.get("nullable").and_then(Value::as_bool) != Some(true),
            Some(_) => false,
        };
        if missing {
            let mut d = default.clone();
            let mut nested = Outcome::default();
            walk(sub, &mut d, &join(path, k), &mut nested);
            out.causes.extend(nested.causes);
            map.insert(k.clone(), d);
        }
    }
}

fn check_required(schema: &Value, map: &Map<String, Value>, path: &str, out: &mut Outcome) {
    let Some(req) = schema.get("required").and_then(Value::as_array) else {
        return;
    };
    for r in req.iter().filter_map(Value::as_str) {
        if map.get(r).is_none_or(Value::is_null) {
            out.causes.push(Cause {
                reason: "FieldValueRequired",
                field: join(path, r),
                message: "Required value".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests;
