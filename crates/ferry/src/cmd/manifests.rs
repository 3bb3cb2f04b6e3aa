//! Reading manifests: files, folders (recursively, `*.yaml`/`*.yml`, sorted)
//! and `-` for stdin; multi-document YAML; empty documents skipped.
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

/// Every document, with where it came from (`file#N`).
pub fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<(String, Value)>> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let mut out = Vec::new();
    for f in files {
        let text = if f.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read standard input")?;
            s
        } else {
            std::fs::read_to_string(&f).with_context(|| format!("cannot read {}", f.display()))?
        };
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| anyhow::anyhow!("{}: not valid YAML: {e}", f.display()))?;
        for (i, d) in docs.into_iter().enumerate() {
            if d.is_null() {
                continue;
            }
            out.push((format!("{}#{}", f.display(), i + 1), d));
        }
    }
    Ok(out)
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if p.as_os_str() == "-" || p.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    if !p.is_dir() {
        anyhow::bail!("{} does not exist", p.display());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .with_context(|| format!("cannot list {}", p.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(e);
        }
    }
    Ok(())
}
