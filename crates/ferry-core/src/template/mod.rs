//! Forklift's name templates: `pvcNameTemplate`, `volumeNameTemplate` and
//! `networkNameTemplate`.
//!
//! They are Go `text/template` strings with the Sprig helpers Forklift
//! registers (`{{trunc 15 .PlanName}}-{{.DiskIndex}}`,
//! `{{if eq .DiskIndex .RootDiskIndex}}root{{else}}data{{end}}`,
//! `{{.VmName | lower | trunc 10}}`). This module parses that subset,
//! renders it against the documented variables, and checks a template the
//! way Forklift does before a migration: render it with sample data, trim
//! the output, and require a non-empty DNS-1123 label. Output longer than
//! 40 characters is allowed but warned about, because it is embedded in
//! longer derived names.
//!
//! Template lookup: the VM's template, then the Plan's, then the
//! ForkliftController's `controller_pvc_name_template` (or
//! `controller_ocp_pvc_name_template` for OpenShift sources; PVC names
//! only), then the built-in default.
mod exec;
mod funcs;
mod parse;
mod printf;

use crate::naming::{self, NameError};
use crate::secrets::ProviderKind;
use std::collections::BTreeMap;
use std::fmt;

pub use parse::{MAX_DEPTH, MAX_SOURCE_LEN};

/// Default `pvcNameTemplate` for every source but OpenShift.
pub const DEFAULT_PVC_NAME_TEMPLATE: &str =
    "{{trunc 15 .PlanName}}-{{trunc 15 .TargetVmName}}-disk-{{.DiskIndex}}";
/// Default `pvcNameTemplate` for OpenShift sources.
pub const DEFAULT_OCP_PVC_NAME_TEMPLATE: &str = "{{.SourcePVCName}}";
/// Default `volumeNameTemplate`.
pub const DEFAULT_VOLUME_NAME_TEMPLATE: &str = "vol-{{.VolumeIndex}}";
/// Default `networkNameTemplate`.
pub const DEFAULT_NETWORK_NAME_TEMPLATE: &str = "net-{{.NetworkIndex}}";
/// Output length above which a warning is given.
pub const ADVISED_MAX_OUTPUT: usize = 40;

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A floating-point number (from literals and math helpers).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// `nil`.
    Nil,
}

impl Value {
    /// Go's name for the type, used in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Str(_) => "string",
            Self::Int(_) => "int",
            Self::Float(_) => "float64",
            Self::Bool(_) => "bool",
            Self::Nil => "nil",
        }
    }

    /// Go template truth: false, 0, "" and nil are false.
    pub fn truthy(&self) -> bool {
        match self {
            Self::Str(s) => !s.is_empty(),
            Self::Int(i) => *i != 0,
            Self::Float(f) => *f != 0.0,
            Self::Bool(b) => *b,
            Self::Nil => false,
        }
    }

    /// The text Go's `{{.}}` prints for this value.
    pub fn to_go_string(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            Self::Int(i) => i.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Nil => "<no value>".to_string(),
            Self::Float(f) => {
                if f.is_nan() {
                    "NaN".into()
                } else if f.is_infinite() {
                    if *f > 0.0 {
                        "+Inf".into()
                    } else {
                        "-Inf".into()
                    }
                } else {
                    let exp = if *f == 0.0 {
                        0.0
                    } else {
                        f.abs().log10().floor()
                    };
                    if !(-4.0..21.0).contains(&exp) {
                        printf::go_exponent(&format!("{f:e}"))
                    } else {
                        format!("{f}")
                    }
                }
            }
        }
    }
}

/// A 1-based column in the template source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Column, counted in characters.
    pub column: usize,
}

/// What went wrong with a template.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateErrorKind {
    /// The text is not a valid template.
    Syntax(String),
    /// A Go template feature this subset does not implement.
    Unsupported(String),
    /// A function that templates may not call.
    UnknownFunction(String),
    /// A variable the template kind does not provide.
    UnknownVariable {
        /// The name used (without the dot).
        name: String,
        /// The names that exist.
        available: Vec<String>,
    },
    /// Evaluation failed (wrong argument type, division by zero, ...).
    Exec(String),
    /// The source is longer than [`MAX_SOURCE_LEN`].
    TooLong(usize),
    /// `if` blocks or parentheses nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The output is empty after trimming white space.
    EmptyOutput,
    /// The output is not a DNS-1123 label.
    InvalidOutput {
        /// What the template produced with the sample data.
        output: String,
        /// Why it is not a valid name.
        reason: NameError,
    },
}

/// A template error: what and where.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    /// What went wrong.
    pub kind: TemplateErrorKind,
    /// Where in the source, when known.
    pub position: Option<Position>,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.position {
            write!(f, "at column {}: ", p.column)?;
        }
        match &self.kind {
            TemplateErrorKind::Syntax(m) => write!(f, "syntax error: {m}"),
            TemplateErrorKind::Unsupported(m) => {
                write!(f, "{m} are not supported in name templates")
            }
            TemplateErrorKind::UnknownFunction(n) => write!(
                f,
                "function {n:?} is not defined (Forklift allows Go's comparisons, print/printf and Sprig's string and math helpers such as lower, trunc, replace, add)"
            ),
            TemplateErrorKind::UnknownVariable { name, available } => write!(
                f,
                "variable .{name} does not exist here; use one of {}",
                available
                    .iter()
                    .map(|a| format!(".{a}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TemplateErrorKind::Exec(m) => write!(f, "{m}"),
            TemplateErrorKind::TooLong(n) => write!(
                f,
                "template is {n} bytes long; the limit is {MAX_SOURCE_LEN}"
            ),
            TemplateErrorKind::TooDeep => {
                write!(f, "blocks and parentheses nest deeper than {MAX_DEPTH}")
            }
            TemplateErrorKind::EmptyOutput => f.write_str("template output is empty"),
            TemplateErrorKind::InvalidOutput { output, reason } => write!(
                f,
                "output {output:?} (with sample data) is not a valid DNS-1123 label: it {reason}"
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Which name a template produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateKind {
    /// `pvcNameTemplate`.
    PvcName,
    /// `volumeNameTemplate`.
    VolumeName,
    /// `networkNameTemplate`.
    NetworkName,
}

/// A variable's type, for sample data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
}

const PVC_COMMON: &[(&str, VarType)] = &[
    ("VmName", VarType::Str),
    ("TargetVmName", VarType::Str),
    ("PlanName", VarType::Str),
    ("DiskIndex", VarType::Int),
    ("VmId", VarType::Str),
];
const PVC_VSPHERE: &[(&str, VarType)] = &[
    ("WinDriveLetter", VarType::Str),
    ("RootDiskIndex", VarType::Int),
    ("Shared", VarType::Bool),
    ("FileName", VarType::Str),
];
const PVC_OPENSHIFT: &[(&str, VarType)] = &[
    ("SourcePVCName", VarType::Str),
    ("SourcePVCNamespace", VarType::Str),
];
const PVC_EC2: &[(&str, VarType)] = &[("VolumeID", VarType::Str), ("SnapshotID", VarType::Str)];
const PVC_DISK_ID: &[(&str, VarType)] = &[("DiskId", VarType::Str)];
const VOLUME_VARS: &[(&str, VarType)] = &[("PVCName", VarType::Str), ("VolumeIndex", VarType::Int)];
const NETWORK_VARS: &[(&str, VarType)] = &[
    ("NetworkName", VarType::Str),
    ("NetworkNamespace", VarType::Str),
    ("NetworkType", VarType::Str),
    ("NetworkIndex", VarType::Int),
];

impl TemplateKind {
    /// The Plan/VM field name.
    pub fn field(self) -> &'static str {
        match self {
            Self::PvcName => "pvcNameTemplate",
            Self::VolumeName => "volumeNameTemplate",
            Self::NetworkName => "networkNameTemplate",
        }
    }

    /// The built-in default for a source provider.
    pub fn default_template(self, source: Option<ProviderKind>) -> &'static str {
        match self {
            Self::PvcName if source == Some(ProviderKind::Openshift) => {
                DEFAULT_OCP_PVC_NAME_TEMPLATE
            }
            Self::PvcName => DEFAULT_PVC_NAME_TEMPLATE,
            Self::VolumeName => DEFAULT_VOLUME_NAME_TEMPLATE,
            Self::NetworkName => DEFAULT_NETWORK_NAME_TEMPLATE,
        }
    }

    /// The variables available for a source provider; `None` (unknown
    /// provider) gives every provider's variables.
    pub fn variables(self, source: Option<ProviderKind>) -> Vec<(&'static str, VarType)> {
        match self {
            Self::VolumeName => VOLUME_VARS.to_vec(),
            Self::NetworkName => NETWORK_VARS.to_vec(),
            Self::PvcName => {
                let mut v = PVC_COMMON.to_vec();
                let extra: &[&[(&str, VarType)]] = match source {
                    Some(ProviderKind::Vsphere) => &[PVC_VSPHERE],
                    Some(ProviderKind::Openshift) => &[PVC_OPENSHIFT],
                    Some(ProviderKind::Ec2) => &[PVC_EC2],
                    Some(ProviderKind::Hyperv | ProviderKind::Ovirt) => &[PVC_DISK_ID],
                    Some(_) => &[],
                    None => &[PVC_VSPHERE, PVC_OPENSHIFT, PVC_EC2, PVC_DISK_ID],
                };
                for set in extra {
                    v.extend_from_slice(set);
                }
                v
            }
        }
    }
}

/// The variables a template is rendered with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateData {
    values: BTreeMap<String, Value>,
}

impl TemplateData {
    /// Empty data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a variable (builder style).
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.values.insert(name.to_string(), value);
        self
    }

    /// Set a string variable.
    pub fn with_str(self, name: &str, value: &str) -> Self {
        self.with(name, Value::Str(value.to_string()))
    }

    /// Set an integer variable.
    pub fn with_int(self, name: &str, value: i64) -> Self {
        self.with(name, Value::Int(value))
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// All variable names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.values.keys().cloned().collect()
    }
}

/// Facts used to build sample data for a check.
#[derive(Debug, Clone, Default)]
pub struct SampleInputs<'a> {
    /// The Plan's name (default `test-plan`).
    pub plan_name: Option<&'a str>,
    /// The source VM name (default `test-vm`).
    pub vm_name: Option<&'a str>,
    /// The target VM name (default: the sanitised VM name).
    pub target_vm_name: Option<&'a str>,
    /// The VM ID (default `vm-1`).
    pub vm_id: Option<&'a str>,
}

/// Sample data with every variable of `kind` for `source`, like the data
/// Forklift validates templates with.
pub fn sample_data(
    kind: TemplateKind,
    source: Option<ProviderKind>,
    inputs: &SampleInputs<'_>,
) -> TemplateData {
    let vm_name = inputs.vm_name.unwrap_or("test-vm");
    let target = inputs.target_vm_name.map_or_else(
        || naming::change_vm_name(vm_name, &mut naming::FixedSuffix("0000".into())),
        str::to_string,
    );
    let mut data = TemplateData::new();
    for (name, ty) in kind.variables(source) {
        let value = match (name, ty) {
            ("VmName", _) => Value::Str(vm_name.to_string()),
            ("TargetVmName", _) => Value::Str(target.clone()),
            ("PlanName", _) => Value::Str(inputs.plan_name.unwrap_or("test-plan").to_string()),
            ("VmId", _) => Value::Str(inputs.vm_id.unwrap_or("vm-1").to_string()),
            ("WinDriveLetter", _) => Value::Str("c".into()),
            ("FileName", _) => Value::Str("[datastore1] test-vm/test-vm.vmdk".into()),
            ("SourcePVCName", _) => Value::Str("test-pvc".into()),
            ("SourcePVCNamespace", _) => Value::Str("test-namespace".into()),
            ("VolumeID", _) => Value::Str("vol-0123456789abcdef0".into()),
            ("SnapshotID", _) => Value::Str("snap-0123456789abcdef0".into()),
            ("DiskId", _) => Value::Str("0a1b2c3d-4e5f-6789-abcd-ef0123456789".into()),
            ("PVCName", _) => Value::Str("test-pvc".into()),
            ("NetworkName", _) => Value::Str("test-network".into()),
            ("NetworkNamespace", _) => Value::Str("test-namespace".into()),
            ("NetworkType", _) => Value::Str("Multus".into()),
            (_, VarType::Int) => Value::Int(0),
            (_, VarType::Bool) => Value::Bool(false),
            (_, VarType::Str) => Value::Str(String::new()),
        };
        data = data.with(name, value);
    }
    data
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    kind: TemplateKind,
    source: String,
    nodes: Vec<parse::Node>,
}

impl Template {
    /// Parse `source` as a template of `kind`.
    pub fn parse(kind: TemplateKind, source: &str) -> Result<Self, TemplateError> {
        Ok(Self {
            kind,
            source: source.to_string(),
            nodes: parse::parse(source)?,
        })
    }

    /// The kind given to [`Template::parse`].
    pub fn kind(&self) -> TemplateKind {
        self.kind
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Render with `data`, returning the raw output.
    pub fn render(&self, data: &TemplateData) -> Result<String, TemplateError> {
        let mut ex = exec::Exec {
            data,
            out: String::new(),
        };
        ex.run(&self.nodes)?;
        Ok(ex.out)
    }

    /// Render, trim white space and require a DNS-1123 label, as Forklift
    /// does before it uses the output as a name.
    pub fn render_name(&self, data: &TemplateData) -> Result<String, TemplateError> {
        let out = self.render(data)?;
        let out = out.trim();
        if out.is_empty() {
            return Err(TemplateError {
                kind: TemplateErrorKind::EmptyOutput,
                position: None,
            });
        }
        naming::check_dns1123_label(out).map_err(|reason| TemplateError {
            kind: TemplateErrorKind::InvalidOutput {
                output: out.to_string(),
                reason,
            },
            position: None,
        })?;
        Ok(out.to_string())
    }
}

/// The result of [`check_template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateCheck {
    /// The output with the sample data.
    pub sample_output: String,
    /// Advice that does not block a migration.
    pub warnings: Vec<String>,
}

/// Check a template as Forklift does before a migration: it must parse,
/// render with sample data and give a non-empty DNS-1123 label.
pub fn check_template(
    kind: TemplateKind,
    source: &str,
    provider: Option<ProviderKind>,
    inputs: &SampleInputs<'_>,
) -> Result<TemplateCheck, TemplateError> {
    let template = Template::parse(kind, source)?;
    let data = sample_data(kind, provider, inputs);
    let sample_output = template.render_name(&data)?;
    let mut warnings = Vec::new();
    if sample_output.len() > ADVISED_MAX_OUTPUT {
        warnings.push(format!(
            "output {sample_output:?} is {} characters long; keep it at or below {ADVISED_MAX_OUTPUT} because it is embedded in longer derived names",
            sample_output.len()
        ));
    }
    Ok(TemplateCheck {
        sample_output,
        warnings,
    })
}

/// Where a resolved template came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateOrigin {
    /// `spec.vms[].<field>`.
    Vm,
    /// `spec.<field>`.
    Plan,
    /// The ForkliftController setting.
    Controller,
    /// The built-in default.
    Default,
}

/// The candidate templates, most specific first.
#[derive(Debug, Clone, Copy, Default)]
pub struct TemplateSources<'a> {
    /// The VM's template.
    pub vm: Option<&'a str>,
    /// The Plan's template.
    pub plan: Option<&'a str>,
    /// `controller_pvc_name_template`.
    pub controller: Option<&'a str>,
    /// `controller_ocp_pvc_name_template`.
    pub controller_ocp: Option<&'a str>,
}

/// Pick the template to use (VM → Plan → ForkliftController → default).
/// Empty strings count as unset.
pub fn resolve_template<'a>(
    kind: TemplateKind,
    sources: TemplateSources<'a>,
    source_provider: Option<ProviderKind>,
) -> (&'a str, TemplateOrigin) {
    let set = |s: Option<&'a str>| s.filter(|t| !t.is_empty());
    if let Some(t) = set(sources.vm) {
        return (t, TemplateOrigin::Vm);
    }
    if let Some(t) = set(sources.plan) {
        return (t, TemplateOrigin::Plan);
    }
    if kind == TemplateKind::PvcName {
        let controller = if source_provider == Some(ProviderKind::Openshift) {
            sources.controller_ocp
        } else {
            sources.controller
        };
        if let Some(t) = set(controller) {
            return (t, TemplateOrigin::Controller);
        }
    }
    (
        kind.default_template(source_provider),
        TemplateOrigin::Default,
    )
}

#[cfg(test)]
mod tests;
