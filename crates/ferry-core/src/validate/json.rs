//! Small helpers over `serde_json::Value` for the rules.
use super::Report;
use crate::naming;
use serde_json::Value;
use std::fmt;

/// A field path such as `spec.vms[2].hooks[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    /// The root (empty) path.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// `self.key`.
    pub fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            Self(key.to_string())
        } else {
            Self(format!("{}.{key}", self.0))
        }
    }

    /// `self[i]`.
    pub fn index(&self, i: usize) -> Self {
        Self(format!("{}[{i}]", self.0))
    }

    /// The path text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Path {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Go/Kubernetes name of a JSON value's type.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

/// `v.a.b.c` following object keys.
pub fn at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |cur, k| cur.get(k))
}

/// A non-empty string at `v.a.b`.
pub fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    at(v, keys)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A list at `v.a.b` (empty when absent or not a list).
pub fn list_at<'a>(v: &'a Value, keys: &[&str]) -> &'a [Value] {
    at(v, keys)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `true` when a YAML boolean (or the string "true") is set at `v.a.b`.
pub fn bool_at(v: &Value, keys: &[&str]) -> bool {
    match at(v, keys) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// An ObjectReference's `namespace` and `name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjRef {
    /// `namespace`, if set.
    pub namespace: Option<String>,
    /// `name`, if set.
    pub name: Option<String>,
}

impl ObjRef {
    /// Read a reference at `v` (absent → both unset).
    pub fn read(v: Option<&Value>) -> Self {
        let s = |k: &str| {
            v.and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Self {
            namespace: s("namespace"),
            name: s("name"),
        }
    }

    /// Forklift's `RefSet`: both namespace and name are set.
    pub fn is_set(&self) -> bool {
        self.namespace.is_some() && self.name.is_some()
    }

    /// `namespace/name` for messages.
    pub fn display(&self) -> String {
        format!(
            "{}/{}",
            self.namespace.as_deref().unwrap_or("<no namespace>"),
            self.name.as_deref().unwrap_or("<no name>")
        )
    }
}

/// Require a reference with namespace and name at `path`.
pub fn require_ref(v: &Value, keys: &[&str], what: &str, r: &mut Report<'_>) -> ObjRef {
    let path = keys.join(".");
    let reference = ObjRef::read(at(v, keys));
    if !reference.is_set() {
        let missing = match (&reference.namespace, &reference.name) {
            (None, None) => "namespace and name",
            (None, Some(_)) => "namespace",
            _ => "name",
        };
        r.error(
            &path,
            format!("{what} reference needs {missing} (Forklift resolves references by namespace and name)"),
        );
    }
    reference
}

/// Check `metadata.name` (required, DNS-1123 subdomain) and
/// `metadata.namespace` (DNS-1123 label when set).
pub fn check_metadata(v: &Value, kind: &str, r: &mut Report<'_>) {
    match at(v, &["metadata", "name"]) {
        None => r.error(
            "metadata.name",
            format!("missing metadata.name; every {kind} needs a name"),
        ),
        Some(Value::String(name)) => {
            if let Err(e) = naming::check_dns1123_subdomain(name) {
                r.error(
                    "metadata.name",
                    format!("name {name:?} is not a valid Kubernetes name: it {e}"),
                );
            }
        }
        Some(other) => r.error(
            "metadata.name",
            format!("metadata.name must be a string, not a {}", type_name(other)),
        ),
    }
    if let Some(ns) = at(v, &["metadata", "namespace"]) {
        match ns.as_str() {
            Some(ns) => {
                if let Err(e) = naming::check_dns1123_label(ns) {
                    r.error(
                        "metadata.namespace",
                        format!("namespace {ns:?} is not valid: it {e}"),
                    );
                }
            }
            None => r.error("metadata.namespace", "metadata.namespace must be a string"),
        }
    }
}

/// The object's namespace (empty when unset).
pub fn namespace_of(v: &Value) -> &str {
    str_at(v, &["metadata", "namespace"]).unwrap_or("")
}

/// The object's name (empty when unset).
pub fn name_of(v: &Value) -> &str {
    str_at(v, &["metadata", "name"]).unwrap_or("")
}
