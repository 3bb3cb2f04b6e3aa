//! Where policy text comes from: the bundled pack, folders, ConfigMap data.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// Largest policy file accepted, in bytes.
pub const MAX_POLICY_BYTES: u64 = 1 << 20;
/// Largest number of policy files per folder tree.
pub const MAX_POLICY_FILES: usize = 1000;
/// Folder depth searched below a policy folder.
const MAX_DEPTH: usize = 4;

/// One policy module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    /// Where it came from, as shown in errors (`policies/ova/name.rego`,
    /// `/etc/ferry/rules/x.rego`, `configmap/ns/name/x.rego`).
    pub origin: String,
    /// The Rego text.
    pub text: String,
    /// A user rule (not part of a shipped pack).
    pub user: bool,
}

/// SHA-256 (hex) over the origins and texts of `sources`, in order: equal
/// exactly when the same modules come from the same places.
pub fn digest(sources: &[PolicySource]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for s in sources {
        hasher.update(s.origin.as_bytes());
        hasher.update([0]);
        hasher.update(s.text.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bundled pack.
pub fn bundled() -> Vec<PolicySource> {
    crate::bundled::POLICIES
        .iter()
        .map(|(provider, file, text)| PolicySource {
            origin: format!("policies/{provider}/{file}"),
            text: (*text).to_owned(),
            user: false,
        })
        .collect()
}

/// Every `*.rego` below `dir` (not `*_test.rego`), sorted by path.
pub fn from_dir(dir: &Path, user: bool) -> Result<Vec<PolicySource>> {
    let meta = std::fs::metadata(dir).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("policy folder {} cannot be read", dir.display()),
        )
        .with_source(e)
    })?;
    if !meta.is_dir() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("policy folder {} is not a folder", dir.display()),
        ));
    }
    let mut files = Vec::new();
    collect(dir, 0, &mut files)?;
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = read_policy(&path)?;
            Ok(PolicySource {
                origin: path.display().to_string(),
                text,
                user,
            })
        })
        .collect()
}

/// The `*.rego` keys of a ConfigMap's `data` (other keys are ignored, as a
/// mounted ConfigMap only contributes its `.rego` files to OPA).
pub fn from_config_map(name: &str, data: &BTreeMap<String, String>) -> Result<Vec<PolicySource>> {
    let mut out = Vec::new();
    for (key, text) in data {
        if !key.ends_with(".rego") || key.ends_with("_test.rego") {
            continue;
        }
        if text.len() as u64 > MAX_POLICY_BYTES {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("user rule configmap/{name}/{key} is larger than {MAX_POLICY_BYTES} bytes"),
            ));
        }
        out.push(PolicySource {
            origin: format!("configmap/{name}/{key}"),
            text: text.clone(),
            user: true,
        });
    }
    Ok(out)
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("policy folder {} cannot be listed", dir.display()),
        )
        .with_source(e)
    })?;
    for entry in rd {
        let entry = entry.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("policy folder {} cannot be listed", dir.display()),
            )
            .with_source(e)
        })?;
        let path = entry.path();
        // Follow symlinks: a mounted ConfigMap is a tree of symlinks (`..data/`).
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if meta.is_dir() {
            if depth < MAX_DEPTH && !name.starts_with("..") {
                collect(&path, depth + 1, out)?;
            }
        } else if name.ends_with(".rego") && !name.ends_with("_test.rego") && !name.starts_with('.')
        {
            if out.len() >= MAX_POLICY_FILES {
                return Err(Error::new(
                    ErrorKind::Limit,
                    format!(
                        "policy folder {} holds more than {MAX_POLICY_FILES} .rego files",
                        dir.display()
                    ),
                ));
            }
            out.push(path);
        }
    }
    Ok(())
}

fn read_policy(path: &Path) -> Result<String> {
    let io = |e| {
        Error::new(
            ErrorKind::Io,
            format!("policy file {} cannot be read", path.display()),
        )
        .with_source(e)
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_POLICY_BYTES {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "policy file {} is larger than {MAX_POLICY_BYTES} bytes",
                path.display()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::Policy,
            format!("policy file {} is not UTF-8 text", path.display()),
        )
        .with_source(e)
    })
}
