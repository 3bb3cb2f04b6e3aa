//! `ferry crds [--out-dir DIR]`: print the CustomResourceDefinitions of every
//! forklift.konveyor.io kind ferry serves, or write one file per CRD.
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// Arguments of `ferry crds`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write one file per CRD (`forklift.konveyor.io_<plural>.yaml`) into
    /// this directory instead of printing a multi-document YAML stream.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Output format when printing.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Yaml)]
    pub output: Format,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Multi-document YAML.
    Yaml,
    /// A JSON `List`.
    Json,
}

fn to_yaml(crd: &CustomResourceDefinition) -> anyhow::Result<String> {
    serde_saphyr::to_string(crd)
        .with_context(|| format!("cannot serialise the CRD of {}", crd.spec.names.kind))
}

/// Print or write the CRDs.
pub fn run(args: Args) -> anyhow::Result<()> {
    let crds = ferry_core::crds::all();
    if let Some(dir) = args.out_dir {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
        for crd in &crds {
            let path = dir.join(ferry_core::crds::file_name(crd));
            std::fs::write(&path, to_yaml(crd)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match args.output {
        Format::Yaml => {
            for crd in &crds {
                writeln!(out, "---")?;
                out.write_all(to_yaml(crd)?.as_bytes())?;
            }
        }
        Format::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": crds});
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_dir_gets_one_parseable_file_per_kind() {
        let dir = std::env::temp_dir().join(format!("ferry-crds-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        run(Args {
            out_dir: Some(dir.clone()),
            output: Format::Yaml,
        })
        .unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "forklift.konveyor.io_conversions.yaml",
                "forklift.konveyor.io_forkliftcontrollers.yaml",
                "forklift.konveyor.io_hooks.yaml",
                "forklift.konveyor.io_hosts.yaml",
                "forklift.konveyor.io_hypervproviderservers.yaml",
                "forklift.konveyor.io_migrations.yaml",
                "forklift.konveyor.io_networkmaps.yaml",
                "forklift.konveyor.io_openstackvolumepopulators.yaml",
                "forklift.konveyor.io_ovaproviderservers.yaml",
                "forklift.konveyor.io_ovirtvolumepopulators.yaml",
                "forklift.konveyor.io_plans.yaml",
                "forklift.konveyor.io_providers.yaml",
                "forklift.konveyor.io_storagemaps.yaml",
                "forklift.konveyor.io_vspherexcopyvolumepopulators.yaml",
            ]
        );
        let text = std::fs::read_to_string(dir.join("forklift.konveyor.io_plans.yaml")).unwrap();
        let crd: CustomResourceDefinition = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("plans.forklift.konveyor.io")
        );
        assert_eq!(crd, ferry_core::crds::for_kind("Plan").unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
