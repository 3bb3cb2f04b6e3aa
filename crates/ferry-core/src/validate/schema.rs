//! A check of a document against a CRD's structural schema
//! (`openAPIV3Schema`): types, required fields, enums, patterns, formats,
//! bounds and unknown fields, as the Kubernetes API server applies them.
use super::Report;
use super::json::{Path, type_name};
use serde_json::{Map, Value};

/// Deepest schema nesting followed (guards hostile input).
const MAX_DEPTH: usize = 64;

/// Check `doc` against `schema` (the `openAPIV3Schema` of its CRD). The
/// `metadata` field is checked elsewhere. Unknown fields are warnings (the
/// API server drops them) or, with `strict`, errors.
pub(crate) fn check_schema(doc: &Value, schema: &Value, strict: bool, r: &mut Report<'_>) {
    let Some(obj) = doc.as_object() else { return };
    let props = schema.get("properties").and_then(Value::as_object);
    for (key, value) in obj {
        if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match props.and_then(|p| p.get(key)) {
            Some(sub) => walk(value, sub, &Path::root().key(key), strict, 0, r),
            None => unknown_field(&Path::root().key(key), strict, r),
        }
    }
    check_required(obj, schema, &Path::root(), r);
}

fn unknown_field(path: &Path, strict: bool, r: &mut Report<'_>) {
    let msg = "unknown field; Kubernetes drops it, so it has no effect (check the spelling)";
    if strict {
        r.error(path, msg);
    } else {
        r.warn(path, msg);
    }
}

fn check_required(obj: &Map<String, Value>, schema: &Value, path: &Path, r: &mut Report<'_>) {
    for req in schema
        .get("required")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let Some(req) = req.as_str() else { continue };
        if !obj.contains_key(req) {
            r.error(path.key(req), "required field is missing");
        }
    }
}

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// True when `value` matches `schema` (used for anyOf/oneOf branches).
fn matches_silently(value: &Value, schema: &Value, depth: usize) -> bool {
    let mut findings = Vec::new();
    let mut r = Report {
        source: "",
        doc: 0,
        object: String::new(),
        findings: &mut findings,
    };
    walk(value, schema, &Path::root(), true, depth, &mut r);
    findings.is_empty()
}

fn walk(
    value: &Value,
    schema: &Value,
    path: &Path,
    strict: bool,
    depth: usize,
    r: &mut Report<'_>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    if value.is_null() {
        if !flag(schema, "nullable") && schema.get("type").is_some() {
            // The API server drops a null it cannot store (as Kubernetes
            // prunes nulls of fields that are not nullable).
            r.warn(
                path,
                "is null and the API server drops it; remove the field or give it a value",
            );
        }
        return;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array)
            && !branches.is_empty()
            && !branches
                .iter()
                .any(|b| matches_silently(value, b, depth + 1))
        {
            r.error(
                path,
                format!("does not match any allowed form ({key} in the schema)"),
            );
            return;
        }
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        if !(value.is_string() || value.is_i64() || value.is_u64()) {
            r.error(
                path,
                format!("must be an integer or a string, not a {}", type_name(value)),
            );
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    match ty {
        "object" => walk_object(value, schema, path, strict, depth, r),
        "array" => {
            let Some(items) = value.as_array() else {
                return type_error(value, "a list", path, r);
            };
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item, item_schema, &path.index(i), strict, depth + 1, r);
                }
            }
        }
        "string" => {
            let Some(s) = value.as_str() else {
                let hint = if value.is_number() || value.is_boolean() {
                    " (quote the value in YAML)"
                } else {
                    ""
                };
                r.error(
                    path,
                    format!("must be a string, not a {}{hint}", type_name(value)),
                );
                return;
            };
            check_string(s, schema, path, r);
        }
        "integer" => {
            if !(value.is_i64() || value.is_u64()) {
                return type_error(value, "an integer", path, r);
            }
            check_bounds(value, schema, path, r);
            check_enum(value, schema, path, r);
        }
        "number" => {
            if !value.is_number() {
                return type_error(value, "a number", path, r);
            }
            check_bounds(value, schema, path, r);
        }
        "boolean" => {
            if !value.is_boolean() {
                let hint = if matches!(value.as_str(), Some("true" | "false")) {
                    " (remove the quotes)"
                } else {
                    ""
                };
                r.error(
                    path,
                    format!("must be true or false, not a {}{hint}", type_name(value)),
                );
            }
        }
        _ => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object)
                && let Some(obj) = value.as_object()
            {
                for (k, v) in obj {
                    if let Some(sub) = props.get(k) {
                        walk(v, sub, &path.key(k), strict, depth + 1, r);
                    }
                }
            }
        }
    }
}

fn type_error(value: &Value, want: &str, path: &Path, r: &mut Report<'_>) {
    r.error(path, format!("must be {want}, not a {}", type_name(value)));
}

fn walk_object(
    value: &Value,
    schema: &Value,
    path: &Path,
    strict: bool,
    depth: usize,
    r: &mut Report<'_>,
) {
    let Some(obj) = value.as_object() else {
        return type_error(value, "a mapping", path, r);
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
    for (k, v) in obj {
        let sub_path = path.key(k);
        if let Some(sub) = props.and_then(|p| p.get(k)) {
            walk(v, sub, &sub_path, strict, depth + 1, r);
        } else if let Some(add) = additional.filter(|a| a.is_object()) {
            walk(v, add, &sub_path, strict, depth + 1, r);
        } else if additional.and_then(Value::as_bool) == Some(true) || preserve {
            // Free-form: anything goes.
        } else if props.is_some() || additional.and_then(Value::as_bool) == Some(false) {
            unknown_field(&sub_path, strict, r);
        }
    }
    check_required(obj, schema, path, r);
}

fn check_enum(value: &Value, schema: &Value, path: &Path, r: &mut Report<'_>) {
    let Some(allowed) = schema.get("enum").and_then(Value::as_array) else {
        return;
    };
    if !allowed.iter().any(|a| a == value) {
        let list: Vec<String> = allowed
            .iter()
            .map(|a| match a.as_str() {
                Some(s) => format!("{s:?}"),
                None => a.to_string(),
            })
            .collect();
        r.error(
            path,
            format!("{value} is not allowed; use one of {}", list.join(", ")),
        );
    }
}

fn check_string(s: &str, schema: &Value, path: &Path, r: &mut Report<'_>) {
    check_enum(&Value::String(s.to_string()), schema, path, r);
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && let Ok(re) = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
        && !re.is_match(s)
    {
        r.error(path, format!("{s:?} does not match the pattern {pattern}"));
    }
    let len = s.chars().count();
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && u64::try_from(len).unwrap_or(u64::MAX) > max
    {
        r.error(
            path,
            format!("is {len} characters long; at most {max} are allowed"),
        );
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && u64::try_from(len).unwrap_or(0) < min
    {
        r.error(
            path,
            format!("is {len} characters long; at least {min} are required"),
        );
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time") && !is_rfc3339(s) {
        r.error(
            path,
            format!("{s:?} is not an RFC 3339 date-time; write it like \"2026-11-28T22:00:00Z\""),
        );
    }
}

fn check_bounds(value: &Value, schema: &Value, path: &Path, r: &mut Report<'_>) {
    let Some(x) = value.as_f64() else { return };
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && x < min
    {
        r.error(path, format!("{value} is below the minimum {min}"));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && x > max
    {
        r.error(path, format!("{value} is above the maximum {max}"));
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let num =
        |r: std::ops::Range<usize>| -> u32 { s.get(r).and_then(|t| t.parse().ok()).unwrap_or(99) };
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return false;
    }
    if !(1..=12).contains(&num(5..7))
        || !(1..=31).contains(&num(8..10))
        || num(11..13) > 23
        || num(14..16) > 59
        || num(17..19) > 60
    {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && digits(i + 1..i + 3)
                && b.get(i + 3) == Some(&b':')
                && digits(i + 4..i + 6)
                && num(i + 1..i + 3) <= 23
                && num(i + 4..i + 6) <= 59
        }
        _ => false,
    }
}
