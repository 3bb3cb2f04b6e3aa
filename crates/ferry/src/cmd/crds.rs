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
