//! `meta.k8s.io/v1` Table output for `kubectl get`, with printer columns
//! evaluated by a JSONPath subset: `.a.b`, `[n]`, `[*]`, `['key']` and
//! filters `[?(@.path=='value')]` (also `!=`).

use serde_json::{Value, json};

use crate::registry::{Column, Resource};

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    All,
    Filter {
        path: Vec<String>,
        equal: bool,
        value: String,
    },
}

fn parse(expr: &str) -> Result<Vec<Step>, String> {
    let e = expr.trim();
    let e = e
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(e)
        .trim();
    let e = e.strip_prefix('$').unwrap_or(e);
    let bytes = e.as_bytes();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != b'.' && bytes[j] != b'[' {
                    j += 1;
                }
                if j > start {
                    steps.push(Step::Key(e[start..j].to_string()));
                }
                i = j;
            }
            b'[' => {
                let close =
                    find_close(e, i).ok_or_else(|| format!("unclosed '[' in JSONPath {expr:?}"))?;
                let inner = e[i + 1..close].trim();
                steps.push(bracket(inner).ok_or_else(|| {
                    format!("unsupported JSONPath segment [{inner}] in {expr:?}")
                })?);
                i = close + 1;
            }
            _ => {
                let start = i;
                let mut j = i;
                while j < bytes.len() && bytes[j] != b'.' && bytes[j] != b'[' {
                    j += 1;
                }
                steps.push(Step::Key(e[start..j].to_string()));
                i = j;
            }
        }
    }
    Ok(steps)
}

fn find_close(e: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in e[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    for q in ['\'', '"'] {
        if let Some(x) = s.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return Some(x.to_string());
        }
    }
    None
}

fn bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::All);
    }
    if let Ok(n) = inner.parse::<usize>() {
        return Some(Step::Index(n));
    }
    if let Some(k) = unquote(inner) {
        return Some(Step::Key(k));
    }
    let f = inner.strip_prefix("?(")?.strip_suffix(')')?.trim();
    let (lhs, equal, rhs) = if let Some((l, r)) = f.split_once("==") {
        (l, true, r)
    } else {
        let (l, r) = f.split_once("!=")?;
        (l, false, r)
    };
    let path = lhs
        .trim()
        .strip_prefix("@.")?
        .split('.')
        .map(str::to_string)
        .collect();
    let value = unquote(rhs).unwrap_or_else(|| rhs.trim().to_string());
    Some(Step::Filter { path, equal, value })
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Evaluate a JSONPath (subset) against `obj`.
pub fn eval<'a>(expr: &str, obj: &'a Value) -> Result<Vec<&'a Value>, String> {
    let steps = parse(expr)?;
    let mut cur = vec![obj];
    for step in &steps {
        let mut next = Vec::new();
        for v in cur {
            match step {
                Step::Key(k) => next.extend(v.get(k.as_str())),
                Step::Index(n) => next.extend(v.get(*n)),
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(m) => next.extend(m.values()),
                    _ => {}
                },
                Step::Filter { path, equal, value } => {
                    if let Some(a) = v.as_array() {
                        next.extend(a.iter().filter(|item| {
                            let got = path.iter().try_fold(*item, |x, k| x.get(k.as_str()));
                            (got.map(scalar_string).as_deref() == Some(value.as_str())) == *equal
                        }));
                    }
                }
            }
        }
        cur = next;
    }
    Ok(cur)
}

fn cell(col: &Column, obj: &Value) -> Value {
    let found = eval(&col.json_path, obj).unwrap_or_default();
    if found.is_empty() {
        return Value::Null;
    }
    if found.len() > 1 {
        return json!(
            found
                .iter()
                .map(|v| scalar_string(v))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    let v = found[0];
    match col.type_.as_str() {
        "integer" | "number" if v.is_number() => v.clone(),
        "boolean" if v.is_boolean() => v.clone(),
        "date" => match v.as_str().filter(|s| s.parse::<jiff::Timestamp>().is_ok()) {
            Some(s) => json!(crate::meta::human_age(crate::meta::age_seconds(s))),
            None => json!(scalar_string(v)),
        },
        _ => json!(scalar_string(v)),
    }
}

/// Which object each row carries (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl Include {
    /// From the `includeObject` query parameter.
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
}

/// The column definitions of a resource (Name first).
pub fn column_definitions(res: &Resource) -> Vec<Value> {
    let mut cols = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    cols.extend(res.columns.iter().map(|c| {
        // Dates are printed as ages by the server, so kubectl shows them as strings.
        let t = if c.type_ == "date" { "string" } else { c.type_.as_str() };
        json!({"name": c.name, "type": t, "format": c.format, "description": c.description, "priority": c.priority})
    }));
    cols
}

/// One row.
pub fn row(res: &Resource, obj: &Value, include: Include) -> Value {
    let mut cells = vec![json!(
        crate::meta::meta_str(obj, "name").unwrap_or_default()
    )];
    cells.extend(res.columns.iter().map(|c| cell(c, obj)));
    let mut r = json!({"cells": cells});
    match include {
        Include::None => {}
        Include::Object => r["object"] = obj.clone(),
        Include::Metadata => {
            let mut md = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
            if let Some(m) = md.as_object_mut() {
                m.remove("managedFields");
            }
            r["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": md});
        }
    }
    r
}

/// A Table of `objs`.
pub fn table(res: &Resource, objs: &[&Value], include: Include, list_meta: Value) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": column_definitions(res),
        "rows": objs.iter().map(|o| row(res, o, include)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonpath_subset() {
        let obj = json!({"status": {"conditions": [
            {"type": "Ready", "status": "True"}, {"type": "Failed", "status": "False"}]},
            "spec": {"vms": [{"id": "a"}, {"id": "b"}], "m": {"k.x": 3}}});
        let one = |p: &str| {
            eval(p, &obj)
                .unwrap()
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            one(".status.conditions[?(@.type=='Ready')].status"),
            vec![json!("True")]
        );
        assert_eq!(
            one(".status.conditions[?(@.type!='Ready')].type"),
            vec![json!("Failed")]
        );
        assert_eq!(one(".spec.vms[*].id"), vec![json!("a"), json!("b")]);
        assert_eq!(one(".spec.vms[1].id"), vec![json!("b")]);
        assert_eq!(one("{.spec.m['k.x']}"), vec![json!(3)]);
        assert!(one(".nope.x").is_empty());
        assert!(eval(".a[?(@.x > 1)]", &obj).is_err());
    }
}
