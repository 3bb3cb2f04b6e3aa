//! [`VmValidator`] for `ferry-validation`'s regorus engine .
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::model::Concern;
use crate::validate::{Validated, VmValidator};

impl VmValidator for ferry_validation::Validator {
    fn rules_version(&self, provider_type: &str) -> Result<Option<i64>> {
        let package = ferry_validation::package_for(provider_type);
        if !self.packages().iter().any(|p| p == package) {
            return Ok(None);
        }
        ferry_validation::Validator::rules_version(self, provider_type)
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
        let v = ferry_validation::Validator::validate(self, provider_type, vm).map_err(|e| {
            Error::new(
                ErrorKind::Validation,
                format!("evaluating the {provider_type} policies"),
            )
            .with_source(e)
        })?;
        for problem in &v.errors {
            tracing::warn!(provider_type, "validation input problem: {problem}");
        }
        Ok(Validated {
            rules_version: v.rules_version,
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
