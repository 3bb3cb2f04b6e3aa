//! Progress bars of `ferry migrate` on a terminal: one bar per VM (its
//! phase and all its disks in MB) and one per disk below it, fed from the
//! Plan's migration status. Off a terminal the plain progress lines of
//! [`super::progress::lines`] are printed instead.
use std::collections::HashMap;
use std::io::IsTerminal;

use ferry_core::api::phases::step;
use ferry_core::api::{Plan, VmStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one `ferry migrate` run.
pub struct Bars {
    multi: MultiProgress,
    vms: HashMap<String, ProgressBar>,
    disks: HashMap<(String, String), ProgressBar>,
}

impl std::fmt::Debug for Bars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bars")
            .field("vms", &self.vms.len())
            .finish()
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn label(s: &VmStatus) -> String {
    s.vm.name
        .clone()
        .or_else(|| s.vm.id.clone())
        .unwrap_or_default()
}

impl Bars {
    /// Bars on stderr when it is a terminal.
    pub fn for_terminal() -> Option<Self> {
        std::io::stderr()
            .is_terminal()
            .then(|| Self::new(ProgressDrawTarget::stderr()))
    }

    /// Bars drawn to `target`.
    pub fn new(target: ProgressDrawTarget) -> Self {
        Self {
            multi: MultiProgress::with_draw_target(target),
            vms: HashMap::new(),
            disks: HashMap::new(),
        }
    }

    /// Print a line above the bars.
    pub fn println(&self, line: &str) {
        if self.multi.println(line).is_err() {
            eprintln!("{line}");
        }
    }

    /// Bring the bars up to date with the plan's migration status.
    pub fn update(&mut self, plan: &Plan) {
        let Some(m) = plan.status.as_ref().and_then(|s| s.migration.as_ref()) else {
            return;
        };
        for s in &m.vms {
            let name = label(s);
            let transfer = s.step(step::DISK_TRANSFER);
            let (done, total) =
                transfer.map_or((0, 0), |t| (t.progress.completed, t.progress.total));
            let vm_bar = self
                .vms
                .entry(name.clone())
                .or_insert_with(|| {
                    let b = self.multi.add(ProgressBar::new(0));
                    b.set_style(style(
                        "{prefix:24} {bar:30.cyan/blue} {pos:>6}/{len:6} MB  {msg}",
                    ));
                    b.set_prefix(name.clone());
                    b
                })
                .clone();
            vm_bar.set_length(u64::try_from(total).unwrap_or(0));
            vm_bar.set_position(u64::try_from(done).unwrap_or(0));
            let outcome = super::progress::result(s);
            vm_bar.set_message(format!("{} {}", s.phase, outcome));
            for task in transfer.map(|t| t.tasks.as_slice()).unwrap_or_default() {
                let key = (name.clone(), task.name.clone());
                // Below the VM's last bar, so disks keep their order.
                let after = transfer
                    .into_iter()
                    .flat_map(|t| t.tasks.iter())
                    .take_while(|t| t.name != task.name)
                    .filter_map(|t| self.disks.get(&(name.clone(), t.name.clone())))
                    .last()
                    .cloned()
                    .unwrap_or_else(|| vm_bar.clone());
                let bar = self
                    .disks
                    .entry(key)
                    .or_insert_with(|| {
                        let b = self.multi.insert_after(&after, ProgressBar::new(0));
                        b.set_style(style(
                            "  {prefix:22} {bar:30.green/white} {pos:>6}/{len:6} MB",
                        ));
                        b.set_prefix(task.name.clone());
                        b
                    })
                    .clone();
                bar.set_length(u64::try_from(task.progress.total).unwrap_or(0));
                bar.set_position(u64::try_from(task.progress.completed).unwrap_or(0));
                if task.completed.is_some() && !bar.is_finished() {
                    bar.finish();
                }
            }
            if matches!(outcome, "Succeeded" | "Failed" | "Canceled") && !vm_bar.is_finished() {
                vm_bar.finish();
            }
        }
    }

    /// The position and length of a VM's bar, or of one of its disks.
    #[cfg(test)]
    pub fn position(&self, vm: &str, disk: Option<&str>) -> Option<(u64, u64)> {
        let bar = match disk {
            None => self.vms.get(vm)?,
            Some(d) => self.disks.get(&(vm.to_owned(), d.to_owned()))?,
        };
        Some((bar.position(), bar.length().unwrap_or(0)))
    }

    /// Stop drawing.
    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bars_follow_the_migration_status() {
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "apiVersion": "forklift.konveyor.io/v1beta1",
            "kind": "Plan",
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {
                "targetNamespace": "t",
                "provider": {"source": {"name": "s"}, "destination": {"name": "d"}},
                "map": {"network": {"name": "n"}, "storage": {"name": "s"}},
                "vms": [{"name": "web"}]
            },
            "status": {"migration": {"vms": [{
                "name": "web", "phase": "CopyDisks",
                "pipeline": [{"name": "DiskTransfer", "phase": "Running",
                    "progress": {"completed": 40, "total": 96},
                    "tasks": [
                        {"name": "web-disk-0", "phase": "Running", "progress": {"completed": 30, "total": 64}},
                        {"name": "web-disk-1", "phase": "Running", "progress": {"completed": 10, "total": 32}}
                    ]}]
            }]}}
        }))
        .unwrap();
        let mut bars = Bars::new(ProgressDrawTarget::hidden());
        bars.update(&plan);
        assert_eq!(bars.position("web", None), Some((40, 96)));
        assert_eq!(bars.position("web", Some("web-disk-0")), Some((30, 64)));
        assert_eq!(bars.position("web", Some("web-disk-1")), Some((10, 32)));
        assert_eq!(bars.position("db", None), None);
    }
}
