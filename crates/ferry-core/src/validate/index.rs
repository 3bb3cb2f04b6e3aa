//! An index of the objects in one validation run, for reference checks.
use super::Document;
use super::json::{self, ObjRef};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Objects by kind, namespace and name.
pub struct Index<'a> {
    objects: BTreeMap<(String, String, String), &'a Value>,
    kinds: BTreeSet<String>,
}

/// What a reference check found.
pub enum Lookup<'a> {
    /// The object is in the input.
    Found(&'a Value),
    /// Objects of this kind are in the input, but not this one.
    Missing,
    /// No object of this kind is in the input: nothing can be said.
    Unknown,
}

impl<'a> Index<'a> {
    /// Index every document that has a kind and a name.
    pub fn build(docs: &'a [Document]) -> Self {
        let mut objects = BTreeMap::new();
        let mut kinds = BTreeSet::new();
        for d in docs {
            let kind = json::str_at(&d.value, &["kind"]).unwrap_or("");
            let name = json::name_of(&d.value);
            if kind.is_empty() || name.is_empty() {
                continue;
            }
            kinds.insert(kind.to_string());
            objects
                .entry((
                    kind.to_string(),
                    json::namespace_of(&d.value).to_string(),
                    name.to_string(),
                ))
                .or_insert(&d.value);
        }
        Self { objects, kinds }
    }

    /// Find `kind` `reference` among the input objects.
    pub fn lookup(&self, kind: &str, reference: &ObjRef) -> Lookup<'a> {
        let (Some(ns), Some(name)) = (&reference.namespace, &reference.name) else {
            return Lookup::Unknown;
        };
        if !self.kinds.contains(kind) {
            return Lookup::Unknown;
        }
        match self
            .objects
            .get(&(kind.to_string(), ns.clone(), name.clone()))
        {
            Some(v) => Lookup::Found(v),
            None => Lookup::Missing,
        }
    }

    /// Every object of `kind`.
    pub fn of_kind(&self, kind: &str) -> Vec<&'a Value> {
        self.objects
            .iter()
            .filter(|((k, _, _), _)| k == kind)
            .map(|(_, v)| *v)
            .collect()
    }
}

/// `Kind/name` of a document ("" when it has neither).
pub fn object_label(v: &Value) -> String {
    let kind = json::str_at(v, &["kind"]).unwrap_or("");
    let name = json::name_of(v);
    match (kind.is_empty(), name.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!("{kind}/<unnamed>"),
        (true, false) => format!("<no kind>/{name}"),
        (false, false) => format!("{kind}/{name}"),
    }
}

/// Check that `kind` `reference` (read at `path`) exists when objects of
/// that kind are in the input; returns the object when found.
pub fn check_reference<'a>(
    idx: &Index<'a>,
    kind: &str,
    reference: &ObjRef,
    path: &str,
    r: &mut super::Report<'_>,
) -> Option<&'a Value> {
    match idx.lookup(kind, reference) {
        Lookup::Found(v) => Some(v),
        Lookup::Missing => {
            r.error(
                path,
                format!(
                    "{kind} {} is not in the input (other {kind}s are); check the name and namespace",
                    reference.display()
                ),
            );
            None
        }
        Lookup::Unknown => None,
    }
}
