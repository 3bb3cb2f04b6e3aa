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
        let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(&text, yaml_options())
            .map_err(|e| anyhow::anyhow!("{}: not valid YAML: {e}", f.display()))?;
        let mut n = 0;
        for d in docs.into_iter().flat_map(unwrap_list) {
            if d.is_null() {
                continue;
            }
            n += 1;
            out.push((format!("{}#{n}", f.display()), d));
        }
    }
    Ok(out)
}

/// YAML limits for manifests: the default budget allows 1,024 documents,
/// fewer than a `kubectl get -o yaml` of a large namespace; the other
/// limits grow with it (the input is in memory already).
pub fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 8_000_000,
            max_events: 16_000_000,
        },
    }
}

/// The items of a `kind: List` document (what `kubectl get -o yaml`
/// prints), else the document itself.
pub fn unwrap_list(doc: Value) -> Vec<Value> {
    let is_list = doc.get("kind").and_then(Value::as_str) == Some("List")
        && doc.get("apiVersion").and_then(Value::as_str) == Some("v1");
    match doc {
        Value::Object(mut m) if is_list => match m.remove("items") {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(other) => {
                m.insert("items".to_owned(), other);
                vec![Value::Object(m)]
            }
        },
        other => vec![other],
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_are_unwrapped_and_other_documents_kept() {
        let list = json!({"apiVersion": "v1", "kind": "List",
                          "items": [{"kind": "Plan"}, {"kind": "Provider"}]});
        assert_eq!(unwrap_list(list).len(), 2);
        let plan = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan"});
        assert_eq!(unwrap_list(plan.clone()), [plan]);
        let empty = json!({"apiVersion": "v1", "kind": "List", "items": null});
        assert!(unwrap_list(empty).is_empty());
    }

    #[test]
    fn more_than_1024_documents_parse() {
        let text: String = (0..3000)
            .map(|i| format!("---\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"))
            .collect();
        let docs: Vec<Value> =
            serde_saphyr::from_multiple_with_options(&text, yaml_options()).expect("parses");
        assert_eq!(docs.len(), 3000);
    }
}
