//! [`VmValidator`] for `ferry-validation`'s regorus engine, and
//! [`SharedValidator`], whose policies can be replaced while the inventory
//! runs (user rules from a folder or a ConfigMap that changed).
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::model::Concern;
use crate::validate::{Validated, VmValidator};

/// The version stored with a VM's concerns is the validator's revalidation
/// version: `RULES_VERSION`, or a digest-derived number when user rules are
/// loaded, so that a changed user rule revalidates every VM.
impl VmValidator for ferry_validation::Validator {
    fn rules_version(&self, provider_type: &str) -> Result<Option<i64>> {
        if !self.supports(provider_type) {
            return Ok(None);
        }
        self.revalidation_version(provider_type)
            .map(Some)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Validation,
                    format!("reading the rules version of the {provider_type} policies"),
                )
                .with_source(e)
            })
    }

    fn validate(&self, provider_type: &str, vm: &Value) -> Result<Validated> {
        let failed = |e| {
            Error::new(
                ErrorKind::Validation,
                format!("evaluating the {provider_type} policies"),
            )
            .with_source(e)
        };
        let v = ferry_validation::Validator::validate(self, provider_type, vm).map_err(failed)?;
        let rules_version = self.revalidation_version(provider_type).map_err(failed)?;
        for problem in &v.errors {
            tracing::warn!(provider_type, "validation input problem: {problem}");
        }
        Ok(Validated {
            rules_version,
            concerns: v
                .concerns
                .into_iter()
                .map(|c| Concern {
                    id: c.id,
                    category: c.category,
                    label: c.label,
                    assessment: c.assessment,
                })
                .collect(),
        })
    }
}

/// A validator whose policies can be swapped at run time. Every call works
/// on the policies current when it starts; after [`SharedValidator::replace`]
/// the rules version changes with the policies, and the inventory validates
/// every VM again on its next cycle.
#[derive(Debug)]
pub struct SharedValidator {
    current: RwLock<Arc<ferry_validation::Validator>>,
}

impl SharedValidator {
    /// Starts with `validator`.
    pub fn new(validator: ferry_validation::Validator) -> Self {
        Self {
            current: RwLock::new(Arc::new(validator)),
        }
    }

    /// The policies in use now.
    pub fn current(&self) -> Arc<ferry_validation::Validator> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Use `validator` from now on.
    pub fn replace(&self, validator: ferry_validation::Validator) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(validator);
    }
}

impl VmValidator for SharedValidator {
    fn rules_version(&self, provider_type: &str) -> Result<Option<i64>> {
        VmValidator::rules_version(self.current().as_ref(), provider_type)
    }

    fn validate(&self, provider_type: &str, vm: &Value) -> Result<Validated> {
        VmValidator::validate(self.current().as_ref(), provider_type, vm)
    }
}
