//! Reading vSphere property values in their JSON form.
//!
//! The PropertyCollector answers with SOAP XML; the client turns each
//! property value into JSON by one rule, and everything here reads that
//! JSON. The rule:
//!
//! - a data object is a JSON object: `_type` holds its `xsi:type`, every
//!   child element is a key; a child that occurs more than once is an array
//!   (so a list with one entry is a single value, not an array);
//! - a managed object reference is `{"type": "HostSystem", "value": "host-21"}`;
//! - a primitive is the element's text (`"2"`, `"true"`); JSON numbers and
//!   booleans are accepted too;
//! - an `ArrayOf...` value is `{"_type": "ArrayOfX", "X": ...}` or a plain array.
//!
//! Nothing here panics on unexpected shapes: a missing or malformed value
//! reads as `None` or an empty list.
use std::collections::BTreeMap;

use serde_json::Value;

/// A managed object reference (`type` and `value` of a vSphere MoRef).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MoRef {
    /// Managed object type (`VirtualMachine`, `HostSystem`, ...).
    pub kind: String,
    /// Its id (`vm-42`).
    pub id: String,
}

impl MoRef {
    /// A reference of `kind` to `id`.
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
        }
    }
}

/// The properties of one managed object, by property path (`name`,
/// `config.hardware`, `runtime.host`, ...).
pub type Props = BTreeMap<String, Value>;

/// The child `key` of a data object.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?.get(key).filter(|v| !v.is_null())
}

/// Follow `a/b/c` through data objects.
pub fn path<'a>(v: &'a Value, p: &str) -> Option<&'a Value> {
    p.split('/')
        .filter(|s| !s.is_empty())
        .try_fold(v, |cur, key| field(cur, key))
}

/// The property `name` of an object, then `sub` (`a/b`) inside it.
pub fn prop<'a>(props: &'a Props, name: &str, sub: &str) -> Option<&'a Value> {
    let v = props.get(name).filter(|v| !v.is_null())?;
    if sub.is_empty() {
        Some(v)
    } else {
        path(v, sub)
    }
}

/// The entries of a list value: an array, an `ArrayOf...` wrapper, or one
/// single value; nothing for `None` and null.
pub fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter(|x| !x.is_null()).collect(),
        Some(Value::Object(m))
            if m.get("_type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with("ArrayOf")) =>
        {
            m.iter()
                .filter(|(k, _)| k.as_str() != "_type")
                .flat_map(|(_, v)| list(Some(v)))
                .collect()
        }
        Some(other) => vec![other],
    }
}

/// A text value.
pub fn text(v: Option<&Value>) -> Option<&str> {
    v?.as_str()
}

/// A text value, or `""`.
pub fn text_or_empty(v: Option<&Value>) -> String {
    text(v).unwrap_or_default().to_owned()
}

/// An integer, from a JSON number or its text.
pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean, from a JSON boolean or `true`/`false` text (any case).
pub fn boolean(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A boolean, `false` when missing.
pub fn flag(v: Option<&Value>) -> bool {
    boolean(v).unwrap_or(false)
}

/// A managed object reference.
pub fn moref(v: Option<&Value>) -> Option<MoRef> {
    let v = v?;
    let kind = field(v, "type")?.as_str()?;
    let id = field(v, "value")?.as_str()?;
    (!kind.is_empty() && !id.is_empty()).then(|| MoRef::new(kind, id))
}

/// The `_type` of a data object.
pub fn type_of(v: &Value) -> &str {
    field(v, "_type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `extraConfig` (`OptionValue {key, value}` list) as a map; keys as given.
pub fn option_values(v: Option<&Value>) -> BTreeMap<String, String> {
    list(v)
        .into_iter()
        .filter_map(|o| {
            let key = text(field(o, "key"))?;
            let value = match field(o, "value")? {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((key.to_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_accept_arrays_wrappers_and_single_values() {
        let wrapped = json!({"_type": "ArrayOfManagedObjectReference",
            "ManagedObjectReference": [{"type": "Datastore", "value": "d1"}, {"type": "Datastore", "value": "d2"}]});
        assert_eq!(list(Some(&wrapped)).len(), 2);
        let single = json!({"_type": "ArrayOfInt", "int": "3"});
        assert_eq!(list(Some(&single)), [&json!("3")]);
        assert_eq!(list(Some(&json!({"key": 1}))).len(), 1);
        assert!(list(Some(&Value::Null)).is_empty());
        assert!(list(None).is_empty());
        assert!(list(Some(&json!(""))).is_empty());
        assert!(list(Some(&json!({"_type": "ArrayOfCustomFieldValue"}))).is_empty());
        assert_eq!(list(Some(&json!([1, null, 2]))).len(), 2);
    }

    #[test]
    fn primitives_from_text_or_json() {
        assert_eq!(int(Some(&json!("42"))), Some(42));
        assert_eq!(int(Some(&json!(42))), Some(42));
        assert_eq!(int(Some(&json!("4x"))), None);
        assert_eq!(int(Some(&json!(1.5))), None);
        assert_eq!(boolean(Some(&json!("TRUE"))), Some(true));
        assert_eq!(boolean(Some(&json!(false))), Some(false));
        assert_eq!(boolean(Some(&json!("yes"))), None);
        assert!(!flag(None));
        assert_eq!(
            moref(Some(&json!({"type": "HostSystem", "value": "host-1"}))),
            Some(MoRef::new("HostSystem", "host-1"))
        );
        assert_eq!(
            moref(Some(&json!({"type": "HostSystem", "value": ""}))),
            None
        );
        assert_eq!(moref(Some(&json!("host-1"))), None);
    }

    #[test]
    fn option_values_by_key() {
        let extra = json!({"_type": "ArrayOfOptionValue", "OptionValue": [
            {"_type": "OptionValue", "key": "disk.EnableUUID", "value": "TRUE"},
            {"_type": "OptionValue", "key": "n", "value": 3},
            {"_type": "OptionValue", "key": "bad"}
        ]});
        let m = option_values(Some(&extra));
        assert_eq!(m.get("disk.EnableUUID").map(String::as_str), Some("TRUE"));
        assert_eq!(m.get("n").map(String::as_str), Some("3"));
        assert!(!m.contains_key("bad"));
    }
}
