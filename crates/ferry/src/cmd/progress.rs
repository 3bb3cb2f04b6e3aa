//! Progress lines and the final summary of `ferry migrate`.
use std::path::Path;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::phases::step;
use ferry_core::api::{Migration, Plan, VmStatus};
use kube::ResourceExt;
use serde::Serialize;

fn vm_label(s: &VmStatus) -> String {
    s.vm.name
        .clone()
        .or_else(|| s.vm.id.clone())
        .unwrap_or_default()
}

/// A VM's outcome so far: Succeeded, Failed, Canceled, Running or Pending.
pub fn result(s: &VmStatus) -> &'static str {
    if s.conditions.has(cnd::SUCCEEDED) {
        "Succeeded"
    } else if s.conditions.has(cnd::FAILED) {
        "Failed"
    } else if s.conditions.has(cnd::CANCELED) {
        "Canceled"
    } else if s.started.is_some() {
        "Running"
    } else {
        "Pending"
    }
}

/// One line per VM (phase, disk progress in MB), plus migration conditions
/// that block it.
pub fn lines(plan: &Plan, migration: &Migration) -> Vec<String> {
    let mut out = Vec::new();
    for c in migration.status.iter().flat_map(|s| s.conditions.iter()) {
        if c.category.as_str() == "Critical" && c.is_true() {
            out.push(format!(
                "{}: {} {}",
                migration.name_any(),
                c.type_,
                c.message.clone().unwrap_or_default()
            ));
        }
    }
    let Some(m) = plan.status.as_ref().and_then(|s| s.migration.as_ref()) else {
        out.push(format!("plan {}: waiting to start", plan.name_any()));
        return out;
    };
    for s in &m.vms {
        let disks = s
            .step(step::DISK_TRANSFER)
            .map(|st| {
                st.tasks
                    .iter()
                    .map(|t| {
                        format!(
                            "{} {}/{} MB",
                            t.name, t.progress.completed, t.progress.total
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let err = s
            .error
            .as_ref()
            .map(|e| format!(" error in {}: {}", e.phase, e.reasons.join("; ")))
            .unwrap_or_default();
        out.push(format!(
            "  vm {:<24} {:<10} {:<18} {disks}{err}",
            vm_label(s),
            result(s),
            s.phase
        ));
    }
    out
}

/// One VM in the summary.
#[derive(Debug, Serialize)]
pub struct VmSummary {
    plan: String,
    vm: String,
    target: String,
    result: String,
    phase: String,
    disks: usize,
    copied_mb: i64,
    /// Disks found complete from an earlier run (not copied again).
    disks_already_copied: usize,
    /// Bytes an interrupted earlier run had copied (not copied again).
    resumed_bytes: u64,
    /// The ESXi host the disks were read from (a Host CR), if not vCenter.
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_host: Option<String>,
    seconds: Option<f64>,
    manifests: String,
    /// The VM's volumes: DataVolume name, absolute image file, source disk.
    volumes: Vec<super::volumes::VolumeRow>,
    /// Why the VM failed.
    pub error: Option<String>,
}

/// The summary rows of a plan's migration.
pub fn summary(plan: &Plan, _migration: &Migration, data_dir: &Path) -> Vec<VmSummary> {
    let ns = plan.spec.target_namespace.clone();
    let vms = plan
        .status
        .as_ref()
        .and_then(|s| s.migration.as_ref())
        .map(|m| m.vms.clone())
        .unwrap_or_default();
    vms.iter()
        .map(|s| {
            let transfer = s.step(step::DISK_TRANSFER);
            let target = s.new_name.clone().unwrap_or_default();
            let seconds = match (&s.started, &s.completed) {
                (Some(a), Some(b)) => Some(b.0.duration_since(a.0).as_secs_f64()),
                _ => None,
            };
            let manifests = (!target.is_empty())
                .then(|| data_dir.join("local/manifests").join(&ns).join(&target));
            let mut error = s
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.phase, e.reasons.join("; ")));
            let volumes = match manifests
                .as_deref()
                .map(|d| super::volumes::of_vm(data_dir, d))
            {
                Some(Ok(v)) => v,
                None => Vec::new(),
                Some(Err(e)) => {
                    error.get_or_insert(e);
                    Vec::new()
                }
            };
            VmSummary {
                plan: plan.name_any(),
                vm: vm_label(s),
                target: target.clone(),
                result: result(s).to_owned(),
                phase: s.phase.clone(),
                disks: transfer.map_or(0, |t| t.tasks.len()),
                copied_mb: transfer.map_or(0, |t| t.progress.completed),
                disks_already_copied: transfer.map_or(0, |t| {
                    t.tasks
                        .iter()
                        .filter(|k| {
                            k.annotations
                                .get("alreadyCopied")
                                .is_some_and(|v| v == "true")
                        })
                        .count()
                }),
                resumed_bytes: transfer.map_or(0, |t| {
                    t.tasks
                        .iter()
                        .filter_map(|k| k.annotations.get("resumedBytes")?.parse::<u64>().ok())
                        .sum()
                }),
                transfer_host: transfer.and_then(|t| t.annotations.get("transferHost").cloned()),
                seconds,
                manifests: manifests
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
                volumes,
                error,
            }
        })
        .collect()
}

/// Print the summary as a table or JSON.
pub fn print_summary(rows: &[Vec<VmSummary>], output: &str) -> anyhow::Result<()> {
    let rows: Vec<&VmSummary> = rows.iter().flatten().collect();
    if output == "json" {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<16} {:<24} {:<24} {:<10} {:>5} {:>10} {:>8}  MANIFESTS",
        "PLAN", "VM", "TARGET", "RESULT", "DISKS", "COPIED_MB", "SECONDS"
    );
    for r in rows {
        println!(
            "{:<16} {:<24} {:<24} {:<10} {:>5} {:>10} {:>8}  {}",
            r.plan,
            r.vm,
            r.target,
            r.result,
            r.disks,
            r.copied_mb,
            r.seconds.map(|s| format!("{s:.1}")).unwrap_or_default(),
            r.manifests
        );
        if let Some(e) = &r.error {
            println!("  error: {e}");
        }
    }
    Ok(())
}
