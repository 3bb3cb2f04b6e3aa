//! `ferry ova scan LOCATION`: find the appliances of an OVA provider path
//! (a folder, `nfs://server/path` or `server:/path` already mounted here)
//! with the OVA guide's depth rules, verify their manifests, validate every
//! VM with the bundled policies (plus user rules), and print a table or the
//! inventory VM documents as JSON.
//!
//! Exit status: 0 when every VM was read and none has a Critical concern;
//! 1 when a VM has a Critical concern (the output is printed first), or
//! when nothing could be read (no package, and at least one was skipped).
use std::path::PathBuf;

use anyhow::Context;
use ferry_ovf::location::Location;
use ferry_ovf::scan::{ScanOptions, Scanner};
use ferry_validation::{Concern, Validator};
use serde::Serialize;

/// `ferry ova ...`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: OvaCommand,
}

#[derive(Debug, clap::Subcommand)]
enum OvaCommand {
    /// Scan a provider path: list its VMs and their validation concerns.
    ///
    /// Exits 1 when a VM has a Critical concern (after printing the list)
    /// or when no package could be read.
    Scan(ScanArgs),
}

/// Output styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One line per VM.
    Table,
    /// The inventory VM documents with their concerns.
    Json,
}

/// `ferry ova scan`
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// A local folder, `nfs://server/path` or `server:/path` (NFS must be mounted here).
    location: String,
    /// Skip hashing the files listed in each package's manifest.
    #[arg(long)]
    no_verify: bool,
    /// A folder of user rules (`*.rego`) to add to the bundled policies.
    #[arg(long = "rules")]
    rules: Vec<PathBuf>,
    /// Output style.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    output: Output,
}

#[derive(Serialize)]
struct VmOut<'a> {
    #[serde(flatten)]
    vm: &'a ferry_ovf::Vm,
    #[serde(rename = "rulesVersion")]
    rules_version: i64,
    concerns: &'a [Concern],
}

/// Run `ferry ova`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        OvaCommand::Scan(a) => scan(a),
    }
}

fn scan(args: ScanArgs) -> anyhow::Result<()> {
    let root = Location::parse(&args.location)?.resolve()?;
    let mut builder = Validator::builder();
    for dir in &args.rules {
        builder = builder.user_rules_dir(dir);
    }
    let validator = builder.build().context("loading validation policies")?;
    let mut scanner = Scanner::new(ScanOptions {
        verify_manifests: !args.no_verify,
        ..Default::default()
    });
    let report = scanner
        .scan(&root)
        .with_context(|| format!("scanning {}", root.display()))?;
    for p in &report.problems {
        eprintln!("warning: {}", p.message);
    }
    if report.appliances.is_empty() && !report.problems.is_empty() {
        anyhow::bail!(
            "no package under {} could be read ({} skipped; see the warnings above)",
            root.display(),
            report.problems.len()
        );
    }
    let mut rows = Vec::new();
    for vm in report.vms() {
        let doc = serde_json::to_value(vm)?;
        let v = validator
            .validate("ova", &doc)
            .with_context(|| format!("validating VM {:?} ({})", vm.name, vm.ova_path))?;
        rows.push((vm, v));
    }
    match args.output {
        Output::Json => {
            let out: Vec<VmOut<'_>> = rows
                .iter()
                .map(|(vm, v)| VmOut {
                    vm,
                    rules_version: v.rules_version,
                    concerns: &v.concerns,
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Output::Table => {
            println!(
                "{:<24} {:<36} {:<5} {:>4} {:>8} {:>5} {:>4}  CONCERNS",
                "NAME", "ID", "FW", "CPUS", "MEMORY", "DISKS", "NICS"
            );
            for (vm, v) in &rows {
                let concerns = if v.concerns.is_empty() {
                    "-".to_owned()
                } else {
                    v.concerns
                        .iter()
                        .map(|c| format!("{}: {}", c.category, c.label))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                println!(
                    "{:<24} {:<36} {:<5} {:>4} {:>6}Mi {:>5} {:>4}  {}",
                    vm.name,
                    vm.id,
                    vm.firmware,
                    vm.cpu_count,
                    vm.memory_mb,
                    vm.disks.len(),
                    vm.nics.len(),
                    concerns
                );
            }
        }
    }
    let critical: Vec<&str> = rows
        .iter()
        .filter(|(_, v)| v.concerns.iter().any(|c| c.category == "Critical"))
        .map(|(vm, _)| vm.name.as_str())
        .collect();
    if !critical.is_empty() {
        anyhow::bail!(
            "{} of {} VMs have Critical concerns and cannot be migrated: {}",
            critical.len(),
            rows.len(),
            critical.join(", ")
        );
    }
    Ok(())
}
