//! `ferry validate`: the checks Forklift applies to manifests before it
//! reconciles them, run offline over parsed YAML documents.
//!
//! Each document is identified by `apiVersion`/`kind`, checked against the
//! structural schema of its CRD (required fields, types, enums, patterns),
//! then against Forklift's semantic rules (one network map and one storage
//! map per plan, `id` or `name` on every VM, hook steps, VLAN range,
//! DNS-1123 names, name templates, Secret keys per provider type, URL shape
//! per provider type, duplicates, ...). When the objects a document refers
//! to are part of the same input, references are checked too.
//!
//! Pure: the caller reads and parses the files; this module never does I/O.
mod index;
mod json;
mod maps;
mod plan;
mod provider;
mod schema;

use serde_json::Value;
use std::fmt;

pub use json::Path;

/// The API version of every Forklift kind.
pub const FORKLIFT_API_VERSION: &str = "forklift.konveyor.io/v1beta1";
/// The Forklift kinds `ferry validate` understands: every kind ferry serves.
pub const FORKLIFT_KINDS: &[&str] = crate::api::KINDS;

/// One parsed YAML document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Where it came from (a file name or `-`).
    pub source: String,
    /// 1-based position in its file.
    pub index: usize,
    /// The document as JSON.
    pub value: Value,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Forklift would accept it, but it is probably a mistake.
    Warning,
    /// Forklift would reject it or the migration would fail.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The file (or `-`).
    pub source: String,
    /// 1-based document number in the file.
    pub doc: usize,
    /// `Kind/name`, when known.
    pub object: String,
    /// The field path, e.g. `spec.vms[2]`; empty for the whole document.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.doc)?;
        if !self.object.is_empty() {
            write!(f, " {}", self.object)?;
        }
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Where findings of one document go.
pub(crate) struct Report<'a> {
    source: &'a str,
    doc: usize,
    object: String,
    findings: &'a mut Vec<Finding>,
}

impl Report<'_> {
    fn push(&mut self, severity: Severity, path: &str, message: String) {
        self.findings.push(Finding {
            severity,
            source: self.source.to_string(),
            doc: self.doc,
            object: self.object.clone(),
            path: path.to_string(),
            message,
        });
    }

    /// Record an error at `path`.
    pub fn error(&mut self, path: impl AsRef<str>, message: impl Into<String>) {
        self.push(Severity::Error, path.as_ref(), message.into());
    }

    /// Errors recorded so far for this document.
    fn error_count(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| {
                f.severity == Severity::Error && f.source == self.source && f.doc == self.doc
            })
            .count()
    }

    /// Record a warning at `path`.
    pub fn warn(&mut self, path: impl AsRef<str>, message: impl Into<String>) {
        self.push(Severity::Warning, path.as_ref(), message.into());
    }
}

/// Options of [`validate`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Treat fields the schema does not know as errors instead of warnings.
    pub strict_unknown_fields: bool,
}

/// The structural schema (`openAPIV3Schema`) of a Forklift kind, as JSON.
pub type SchemaLookup<'a> = &'a dyn Fn(&str) -> Option<Value>;

/// Validate `docs` together. `schemas` returns the `openAPIV3Schema` of a
/// Forklift kind (ferry's generated CRDs); findings come back in input
/// order.
pub fn validate(docs: &[Document], schemas: SchemaLookup<'_>, options: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    let idx = index::Index::build(docs);
    for doc in docs {
        let object = index::object_label(&doc.value);
        let mut report = Report {
            source: &doc.source,
            doc: doc.index,
            object,
            findings: &mut findings,
        };
        check_document(doc, &idx, schemas, options, &mut report);
    }
    provider::check_secrets(docs, &idx, &mut findings);
    dedupe(findings)
}

/// Keep one error per field: the schema and a semantic rule may both flag
/// the same field (the schema's finding comes first and is kept).
fn dedupe(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::BTreeSet::new();
    findings
        .into_iter()
        .filter(|f| {
            f.severity != Severity::Error
                || f.path.is_empty()
                || seen.insert((f.source.clone(), f.doc, f.path.clone()))
        })
        .collect()
}

fn check_document(
    doc: &Document,
    idx: &index::Index<'_>,
    schemas: SchemaLookup<'_>,
    options: &Options,
    r: &mut Report<'_>,
) {
    let v = &doc.value;
    let Some(obj) = v.as_object() else {
        r.error(
            "",
            format!(
                "a manifest must be a mapping with apiVersion and kind, not a {}",
                json::type_name(v)
            ),
        );
        return;
    };
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version.is_empty() || kind.is_empty() {
        let missing = if api_version.is_empty() {
            "apiVersion"
        } else {
            "kind"
        };
        r.error(
            missing,
            format!("missing {missing}; every manifest needs apiVersion and kind"),
        );
        return;
    }
    json::check_metadata(v, kind, r);
    match (api_version, kind) {
        (FORKLIFT_API_VERSION, k) if FORKLIFT_KINDS.contains(&k) => {
            let before = r.error_count();
            match schemas(k) {
                Some(schema) => {
                    schema::check_schema(v, &schema, options.strict_unknown_fields, r);
                }
                None => r.warn("", format!("no schema for {k}; only semantic rules were checked")),
            }
            if r.error_count() == before
                && let Err(e) = check_typed(k, v)
            {
                r.error("", format!("does not fit ferry's {k} model: {e}"));
            }
            match k {
                "Provider" => provider::check_provider(v, r),
                "Host" => provider::check_host(v, idx, r),
                "NetworkMap" => maps::check_network_map(v, idx, r),
                "StorageMap" => maps::check_storage_map(v, idx, r),
                "Hook" => plan::check_hook(v, r),
                "Plan" => plan::check_plan(v, idx, r),
                "Migration" => plan::check_migration(v, idx, r),
                "ForkliftController" => plan::check_controller(v, r),
                // The schema and the typed model cover the other kinds.
                _ => {}
            }
        }
        (FORKLIFT_API_VERSION, other) => r.error(
            "kind",
            format!(
                "unknown kind {other:?} in {FORKLIFT_API_VERSION}; known kinds: {}",
                FORKLIFT_KINDS.join(", ")
            ),
        ),
        (api, _) if api.starts_with("forklift.konveyor.io/") => r.error(
            "apiVersion",
            format!("unsupported apiVersion {api:?}; use {FORKLIFT_API_VERSION}"),
        ),
        ("v1", "Secret") => provider::check_secret_shape(v, r),
        ("v1", "ConfigMap" | "Namespace" | "PersistentVolumeClaim")
        | ("kubevirt.io/v1", "VirtualMachine")
        | ("cdi.kubevirt.io/v1beta1", "DataVolume") => {}
        (api, k) => r.error(
            "",
            format!(
                "unknown apiVersion/kind {api}/{k}: ferry validates {FORKLIFT_API_VERSION} kinds ({}), v1 Secret, ConfigMap, Namespace and PersistentVolumeClaim, kubevirt.io/v1 VirtualMachine and cdi.kubevirt.io/v1beta1 DataVolume",
                FORKLIFT_KINDS.join(", ")
            ),
        ),
    }
}

/// Deserialise into the typed model of `kind`, as the controllers will.
fn check_typed(kind: &str, v: &Value) -> Result<(), serde_json::Error> {
    use crate::api;
    let v = v.clone();
    match kind {
        "Provider" => serde_json::from_value::<api::Provider>(v).map(drop),
        "Host" => serde_json::from_value::<api::Host>(v).map(drop),
        "NetworkMap" => serde_json::from_value::<api::NetworkMap>(v).map(drop),
        "StorageMap" => serde_json::from_value::<api::StorageMap>(v).map(drop),
        "Hook" => serde_json::from_value::<api::Hook>(v).map(drop),
        "Plan" => serde_json::from_value::<api::Plan>(v).map(drop),
        "Migration" => serde_json::from_value::<api::Migration>(v).map(drop),
        "ForkliftController" => serde_json::from_value::<api::ForkliftController>(v).map(drop),
        "Conversion" => serde_json::from_value::<api::Conversion>(v).map(drop),
        "OvirtVolumePopulator" => serde_json::from_value::<api::OvirtVolumePopulator>(v).map(drop),
        "OpenstackVolumePopulator" => {
            serde_json::from_value::<api::OpenstackVolumePopulator>(v).map(drop)
        }
        "VSphereXcopyVolumePopulator" => {
            serde_json::from_value::<api::VSphereXcopyVolumePopulator>(v).map(drop)
        }
        "OVAProviderServer" => serde_json::from_value::<api::OVAProviderServer>(v).map(drop),
        "HyperVProviderServer" => serde_json::from_value::<api::HyperVProviderServer>(v).map(drop),
        _ => Ok(()),
    }
}

/// The structural schema (`openAPIV3Schema`) of a Forklift kind from
/// ferry's generated CRDs; pass it to [`validate`].
pub fn crd_schema(kind: &str) -> Option<Value> {
    let crd = crate::crds::for_kind(kind)?;
    let version = crd.spec.versions.into_iter().next()?;
    let schema = version.schema?.open_api_v3_schema?;
    serde_json::to_value(schema).ok()
}

/// Count errors and warnings.
pub fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    (errors, findings.len() - errors)
}

#[cfg(test)]
mod tests;
