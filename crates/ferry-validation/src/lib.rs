//! ferry-validation: judge inventory VMs with Rego policies, as Forklift's
//! validation service does with OPA, using the regorus engine in-process.
//!
//! The bundled pack (`policies/<provider>/*.rego`, written for ferry) raises
//! Forklift's concern ids, categories and labels. For a provider type it is
//! evaluated at `data.io.konveyor.forklift.<provider>.validate`, which gives
//! `{rules_version, errors, concerns[] {id, category, label, assessment}}`.
//! User rules (from a folder or a ConfigMap's data) join the same packages
//! and add concerns, exactly as files mounted into OPA's policy folder do.
//!
//! Every shipped policy is differential-tested against real OPA
//! (`tests/opa_differential.rs`). Every module is rewritten before loading
//! so that negations give OPA's answer (`not f(input.missing)` is undefined
//! in OPA, true in plain regorus): see `negation.rs` and
//! `tests/opa_differential_negation.rs`.
#![forbid(unsafe_code)]

mod bundled;
pub mod error;
mod negation;
pub mod sources;

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regorus::Engine;
use regorus::utils::limits::ExecutionTimerConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use error::{Error, ErrorKind, Result};
pub use sources::PolicySource;

use error::engine_error;

/// One concern raised for a VM.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Concern {
    /// Stable id (e.g. `ova.disk.capacity.invalid`); empty for user rules that set none.
    #[serde(default)]
    pub id: String,
    /// `Critical`, `Warning` or `Information`.
    pub category: String,
    /// Short text.
    pub label: String,
    /// What it means and what to do.
    #[serde(default)]
    pub assessment: String,
}

impl Concern {
    /// True for `Critical` (blocks a plan: `VMCriticalConcerns`).
    pub fn is_critical(&self) -> bool {
        self.category == "Critical"
    }
}

/// The result of validating one VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// The policies' `RULES_VERSION`.
    pub rules_version: i64,
    /// Input problems reported by the policies (not concerns).
    pub errors: Vec<String>,
    /// Concerns, Critical first, then Warning, Information, others; then by id and label.
    pub concerns: Vec<Concern>,
}

/// A VM must be validated again when its revision moved past the validated
/// one, or when the rules changed since.
pub fn needs_revalidation(
    vm_revision: i64,
    revision_validated: i64,
    rules_version_then: i64,
    rules_version_now: i64,
) -> bool {
    vm_revision != revision_validated || rules_version_then != rules_version_now
}

/// The Rego package name used for a provider type (`vsphere` → `vmware`).
pub fn package_for(provider_type: &str) -> &str {
    match provider_type {
        "vsphere" => "vmware",
        other => other,
    }
}

/// Builds a [`Validator`] from the bundled pack, policy folders, user-rule
/// folders and ConfigMaps.
#[derive(Debug, Clone)]
pub struct ValidatorBuilder {
    bundled: bool,
    sources: Vec<PolicySource>,
    pending_dirs: Vec<(PathBuf, bool)>,
    time_limit: Duration,
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        Self {
            bundled: true,
            sources: Vec::new(),
            pending_dirs: Vec::new(),
            time_limit: Duration::from_secs(5),
        }
    }
}

impl ValidatorBuilder {
    /// Leave the bundled pack out (use only folders given here).
    pub fn without_bundled(mut self) -> Self {
        self.bundled = false;
        self
    }

    /// Add a policy pack folder (`<dir>/<provider>/*.rego`, searched recursively).
    pub fn policy_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.pending_dirs.push((dir.into(), false));
        self
    }

    /// Add a folder of user rules (as OPA's `policies/extra`).
    pub fn user_rules_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.pending_dirs.push((dir.into(), true));
        self
    }

    /// Add user rules from a ConfigMap's `data` (file name → Rego text);
    /// `name` appears in errors (`namespace/name` is a good choice).
    pub fn config_map(mut self, name: &str, data: &BTreeMap<String, String>) -> Result<Self> {
        self.sources.extend(sources::from_config_map(name, data)?);
        Ok(self)
    }

    /// Add one policy module (tests, embedding).
    pub fn source(mut self, source: PolicySource) -> Self {
        self.sources.push(source);
        self
    }

    /// Wall-clock limit for one evaluation (default 5 s), against runaway user rules.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// Load, parse and compile everything. A policy that does not parse or
    /// compile is an error naming its file (the source holds line and column).
    pub fn build(self) -> Result<Validator> {
        let mut all = if self.bundled {
            sources::bundled()
        } else {
            Vec::new()
        };
        for (dir, user) in &self.pending_dirs {
            all.extend(sources::from_dir(dir, *user)?);
        }
        all.extend(self.sources);
        Validator::from_sources(all, self.time_limit)
    }
}

/// A loaded policy set. Cheap to share: `validate` takes `&self` and works
/// on a clone of the prepared engine, so calls may run in parallel.
#[derive(Debug, Clone)]
pub struct Validator {
    engine: Engine,
    sources: Vec<PolicySource>,
    packages: Vec<String>,
    digest: String,
    /// [`Validator::revalidation_version`] of the packages with user rules.
    user_rule_versions: BTreeMap<String, i64>,
}

const PACKAGE_PREFIX: &str = "data.io.konveyor.forklift.";

/// Revalidation versions of packages with user rules start here.
pub const USER_RULES_VERSION_BASE: i64 = 1_000_000;

impl Validator {
    /// The bundled pack only.
    pub fn bundled() -> Result<Self> {
        ValidatorBuilder::default().build()
    }

    /// The packs in `policy_dirs` only (each `<dir>/<provider>/*.rego`).
    pub fn new<P: AsRef<Path>>(policy_dirs: &[P]) -> Result<Self> {
        let mut b = ValidatorBuilder::default().without_bundled();
        for d in policy_dirs {
            b = b.policy_dir(d.as_ref());
        }
        b.build()
    }

    /// A builder (bundled pack on by default).
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::default()
    }

    fn from_sources(sources: Vec<PolicySource>, time_limit: Duration) -> Result<Self> {
        if sources.is_empty() {
            return Err(Error::new(
                ErrorKind::Policy,
                "no policies were given; add the bundled pack or a policy folder",
            ));
        }
        let mut engine = Engine::new();
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: time_limit,
            check_interval: NonZeroU32::MIN.saturating_add(999),
        });
        // Per package: a digest of its modules and whether a user rule is among them.
        let mut by_package: BTreeMap<String, (Sha256, bool)> = BTreeMap::new();
        for src in &sources {
            let package = add_module(&mut engine, src)?;
            let name = package
                .strip_prefix(PACKAGE_PREFIX)
                .unwrap_or(&package)
                .to_owned();
            let entry = by_package
                .entry(name)
                .or_insert_with(|| (Sha256::new(), false));
            entry.0.update(src.origin.as_bytes());
            entry.0.update([0]);
            entry.0.update(src.text.as_bytes());
            entry.0.update([0]);
            entry.1 |= src.user;
        }
        let user_rule_versions = by_package
            .into_iter()
            .filter(|(_, (_, user))| *user)
            .map(|(name, (hasher, _))| {
                let d = hasher.finalize();
                let mut first = [0u8; 8];
                first.copy_from_slice(&d[..8]);
                // 47 bits (exact in JSON numbers everywhere), above any RULES_VERSION.
                let n = (u64::from_be_bytes(first) >> 17) as i64 + USER_RULES_VERSION_BASE;
                (name, n)
            })
            .collect();
        let mut packages: Vec<String> = engine
            .get_packages()
            .map_err(|e| {
                Error::new(ErrorKind::Policy, "cannot list policy packages")
                    .with_source(engine_error(e))
            })?
            .into_iter()
            .filter_map(|p| p.strip_prefix(PACKAGE_PREFIX).map(str::to_owned))
            .filter(|p| !p.contains('.'))
            .collect();
        packages.sort();
        packages.dedup();
        let digest = sources::digest(&sources);
        let validator = Self {
            engine,
            sources,
            packages,
            digest,
            user_rule_versions,
        };
        // Compile now, so a broken rule is reported at load time, not on the first VM.
        for p in &validator.packages {
            validator.eval(p, "validate", &serde_json::json!({}))?;
            validator.eval(p, "rules_version", &serde_json::json!({}))?;
        }
        Ok(validator)
    }

    /// Rego package names (`ova`, `vmware`, ...) that have policies.
    pub fn packages(&self) -> &[String] {
        &self.packages
    }

    /// True when policies are loaded for `provider_type` (else `validate`
    /// and `rules_version` return an [`ErrorKind::Unsupported`] error).
    pub fn supports(&self, provider_type: &str) -> bool {
        self.package(provider_type).is_ok()
    }

    /// Every loaded module.
    pub fn sources(&self) -> &[PolicySource] {
        &self.sources
    }

    /// SHA-256 over every module's origin and text: changes whenever a rule
    /// (user rules included) changes, even if `RULES_VERSION` does not.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Validate one VM document of `provider_type` (`ova`, `vsphere`, ...).
    pub fn validate(&self, provider_type: &str, vm: &serde_json::Value) -> Result<Validation> {
        let package = self.package(provider_type)?;
        let out = self.eval(package, "validate", vm)?;
        parse_validation(package, out)
    }

    /// The `validate` document exactly as the policies produce it (concerns
    /// in engine order), as OPA's `/v1/data/.../validate` would return it.
    pub fn validate_raw(
        &self,
        provider_type: &str,
        vm: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let package = self.package(provider_type)?;
        self.eval(package, "validate", vm)
    }

    /// The `RULES_VERSION` of `provider_type`'s policies.
    pub fn rules_version(&self, provider_type: &str) -> Result<i64> {
        let package = self.package(provider_type)?;
        let out = self.eval(package, "rules_version", &serde_json::json!({}))?;
        out.get("rules_version")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Output,
                    format!("{PACKAGE_PREFIX}{package}.rules_version is not {{\"rules_version\": <integer>}}"),
                )
            })
    }

    /// The version the inventory stores with a VM's concerns to know when to
    /// validate it again. Without user rules in `provider_type`'s package it
    /// is the policies' `RULES_VERSION`. With user rules it is derived from
    /// the SHA-256 of every module of the package (at least
    /// [`USER_RULES_VERSION_BASE`]), so adding, changing or removing a user
    /// rule revalidates every VM even when its author did not bump
    /// `RULES_VERSION`.
    pub fn revalidation_version(&self, provider_type: &str) -> Result<i64> {
        let package = self.package(provider_type)?;
        match self.user_rule_versions.get(package) {
            Some(v) => Ok(*v),
            None => self.rules_version(provider_type),
        }
    }

    /// True when user rules are loaded (from a folder or a ConfigMap).
    pub fn has_user_rules(&self) -> bool {
        self.sources.iter().any(|s| s.user)
    }

    /// [`needs_revalidation`] with the current rules version of `provider_type`.
    pub fn needs_revalidation(
        &self,
        provider_type: &str,
        vm_revision: i64,
        revision_validated: i64,
        rules_version_then: i64,
    ) -> Result<bool> {
        let now = self.rules_version(provider_type)?;
        Ok(needs_revalidation(
            vm_revision,
            revision_validated,
            rules_version_then,
            now,
        ))
    }

    fn package(&self, provider_type: &str) -> Result<&str> {
        let package = package_for(provider_type);
        self.packages
            .iter()
            .find(|p| *p == package)
            .map(String::as_str)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "unsupported: no validation policies are loaded for provider type {provider_type:?} (package io.konveyor.forklift.{package})"
                    ),
                )
            })
    }

    fn eval(
        &self,
        package: &str,
        rule: &str,
        input: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let path = format!("{PACKAGE_PREFIX}{package}.{rule}");
        let mut engine = self.engine.clone();
        let value: regorus::Value = serde_json::from_value(input.clone()).map_err(|e| {
            Error::new(
                ErrorKind::Evaluation,
                format!("cannot pass the input to {path}"),
            )
            .with_source(e)
        })?;
        engine.set_input(value);
        let out = engine.eval_rule(path.clone()).map_err(|e| {
            Error::new(ErrorKind::Evaluation, format!("evaluating {path} failed"))
                .with_source(engine_error(e))
        })?;
        if out == regorus::Value::Undefined {
            return Err(Error::new(
                ErrorKind::Output,
                format!(
                    "{path} is undefined; every policy package needs validate.rego and rules_version.rego"
                ),
            ));
        }
        serde_json::to_value(&out).map_err(|e| {
            Error::new(
                ErrorKind::Output,
                format!("the value of {path} is not JSON"),
            )
            .with_source(e)
        })
    }
}

/// Loads one module; returns its package (`data.io.konveyor.forklift.ova`).
fn add_module(engine: &mut Engine, src: &PolicySource) -> Result<String> {
    let what = if src.user { "user rule" } else { "policy" };
    // Forklift documents user rules in Rego v0 syntax; shipped policies and
    // newer rules use v1. Parse in the syntax the text looks like first.
    let looks_v1 = src.text.contains("import rego.v1")
        || src.text.contains(" contains ")
        || src.text.lines().any(|l| l.trim_end().ends_with(" if {"));
    let order = if looks_v1 {
        [false, true]
    } else {
        [true, false]
    };
    let mut first_err = None;
    for v0 in order {
        // Negations are rewritten so that regorus answers as OPA does.
        let text = match negation::rewrite(&src.origin, &src.text, !v0) {
            Ok(text) => text,
            Err(e) => {
                first_err.get_or_insert(e);
                continue;
            }
        };
        engine.set_rego_v0(v0);
        match engine.add_policy(src.origin.clone(), text) {
            Ok(package) => {
                engine.set_rego_v0(false);
                return Ok(package);
            }
            Err(e) => {
                first_err.get_or_insert(format!("{e:#}"));
            }
        }
    }
    engine.set_rego_v0(false);
    let mut err = Error::new(
        ErrorKind::Policy,
        format!("{what} {} is not valid Rego", src.origin),
    );
    if let Some(e) = first_err {
        err = err.with_source(engine_error(e));
    }
    Err(err)
}

fn parse_validation(package: &str, out: serde_json::Value) -> Result<Validation> {
    let shape = |what: &str| {
        Error::new(
            ErrorKind::Output,
            format!("{PACKAGE_PREFIX}{package}.validate {what}"),
        )
    };
    let rules_version = out
        .get("rules_version")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| shape("has no integer rules_version"))?;
    let errors = match out.get("errors") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .ok_or_else(|| shape("has errors that are not a list"))?
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect(),
    };
    let mut concerns = Vec::new();
    for c in out
        .get("concerns")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| shape("has no concerns list"))?
    {
        let obj = c
            .as_object()
            .ok_or_else(|| shape(&format!("has a concern that is not an object: {c}")))?;
        let text = |k: &str| match obj.get(k) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        concerns.push(Concern {
            id: text("id"),
            category: text("category"),
            label: text("label"),
            assessment: text("assessment"),
        });
    }
    concerns.sort_by(|a, b| {
        (category_rank(&a.category), &a.id, &a.label, &a.assessment).cmp(&(
            category_rank(&b.category),
            &b.id,
            &b.label,
            &b.assessment,
        ))
    });
    concerns.dedup();
    Ok(Validation {
        rules_version,
        errors,
        concerns,
    })
}

fn category_rank(c: &str) -> u8 {
    match c {
        "Critical" => 0,
        "Warning" => 1,
        "Information" => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_vmware;
