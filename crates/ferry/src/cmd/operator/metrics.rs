//! `/metrics` in the Prometheus text format, recomputed from the Plans,
//! Migrations and Providers on every scrape (as Forklift's controller
//! recomputes its gauges from the objects).
//!
//! Forklift's names and labels (`provider` = the source provider's type,
//! `mode` = `Cold`/`Warm`, `target` = `Local` for a destination provider
//! without URL, else `Remote`, `plan` = the Plan's UID):
//! - `mtv_plans_status{status,provider,mode,target}` (gauge): Plans with a
//!   true condition of each status.
//! - `mtv_migrations_status_total{status,provider,mode,target}` (counter):
//!   Migrations that reached Succeeded, Failed or Canceled, each UID counted
//!   once per status by this process.
//! - `mtv_migration_data_transferred_bytes{provider,mode,target,plan}`
//!   (gauge): disk bytes copied so far by the Plan's current migration.
//! - `mtv_migration_duration_seconds{provider,mode,target,plan}` (gauge):
//!   duration of the Plan's last finished migration.
//!
//! ferry's own:
//! - `ferry_disk_transfer_bytes_per_second{namespace,plan_name,vm,disk}`:
//!   average throughput of each disk copy that has started.
//! - `ferry_operator_leader` (gauge): 1 on the replica that holds the Lease.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use ferry_core::api::plan_status::{MigrationStatus, annotations};
use ferry_core::api::{Migration, Plan, Provider};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

/// Plan statuses Forklift counts in `mtv_plans_status`.
const PLAN_STATUSES: &[&str] = &[
    "Succeeded",
    "Failed",
    "Executing",
    "Running",
    "Pending",
    "Canceled",
    "Blocked",
    "Deleted",
];
/// Terminal Migration statuses counted in `mtv_migrations_status_total`.
const MIGRATION_STATUSES: &[&str] = &["Succeeded", "Failed", "Canceled"];
const MIB: f64 = 1024.0 * 1024.0;

/// The labels Forklift puts on every plan metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PlanLabels {
    provider: String,
    mode: &'static str,
    target: &'static str,
}

/// What survives between scrapes: the Migrations already counted.
#[derive(Debug, Default)]
pub struct Counters {
    counted: BTreeSet<(String, &'static str)>,
    totals: BTreeMap<(&'static str, PlanLabels), u64>,
}

/// Everything a scrape reads.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every Plan in the watched namespaces.
    pub plans: Vec<Plan>,
    /// Every Migration.
    pub migrations: Vec<Migration>,
    /// Every Provider.
    pub providers: Vec<Provider>,
    /// True on the replica holding the Lease.
    pub leader: bool,
}

fn labels(plan: &Plan, providers: &HashMap<(String, String), &Provider>) -> PlanLabels {
    let ns = plan.namespace().unwrap_or_default();
    let key = |r: &k8s_openapi::api::core::v1::ObjectReference| {
        (
            r.namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| ns.clone()),
            r.name.clone().unwrap_or_default(),
        )
    };
    let provider = providers.get(&key(&plan.spec.provider.source)).map_or_else(
        || "unknown".to_owned(),
        |p| p.spec.type_.as_str().to_owned(),
    );
    let target = match providers.get(&key(&plan.spec.provider.destination)) {
        Some(p) if !p.spec.url.as_deref().unwrap_or_default().is_empty() => "Remote",
        _ => "Local",
    };
    let mode = if plan.spec.is_warm() { "Warm" } else { "Cold" };
    PlanLabels {
        provider,
        mode,
        target,
    }
}

fn seconds_between(a: &Time, b: &Time) -> f64 {
    (b.0.as_millisecond() - a.0.as_millisecond()) as f64 / 1000.0
}

fn transferred_mib(status: &MigrationStatus) -> i64 {
    status
        .vms
        .iter()
        .flat_map(|vm| &vm.pipeline)
        .filter(|s| {
            s.annotations.get(annotations::UNIT).map(String::as_str) == Some(annotations::UNIT_MB)
        })
        .map(|s| s.progress.completed.max(0))
        .sum()
}

/// Label values are quoted; escape `\`, `"` and newlines.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn plan_labels(l: &PlanLabels) -> String {
    format!(
        "provider=\"{}\",mode=\"{}\",target=\"{}\"",
        esc(&l.provider),
        l.mode,
        l.target
    )
}

impl Counters {
    /// The metrics text for `snap` at time `now`; updates the counters.
    pub fn render(&mut self, snap: &Snapshot, now: &Time) -> String {
        let providers: HashMap<(String, String), &Provider> = snap
            .providers
            .iter()
            .map(|p| ((p.namespace().unwrap_or_default(), p.name_any()), p))
            .collect();
        let plan_by_key: HashMap<(String, String), &Plan> = snap
            .plans
            .iter()
            .map(|p| ((p.namespace().unwrap_or_default(), p.name_any()), p))
            .collect();
        let mut out = String::new();

        let mut plan_status: BTreeMap<(&str, PlanLabels), u64> = BTreeMap::new();
        for plan in &snap.plans {
            let l = labels(plan, &providers);
            let conds = plan.status.as_ref().map(|s| &s.conditions);
            for status in PLAN_STATUSES {
                if conds.is_some_and(|c| c.has(status)) {
                    *plan_status.entry((status, l.clone())).or_default() += 1;
                }
            }
        }
        head(
            &mut out,
            "mtv_plans_status",
            "gauge",
            "VM migration Plans sorted by status, provider, mode and target",
        );
        for ((status, l), n) in &plan_status {
            let _ = writeln!(
                out,
                "mtv_plans_status{{status=\"{status}\",{}}} {n}",
                plan_labels(l)
            );
        }

        for m in &snap.migrations {
            let ns = m.namespace().unwrap_or_default();
            let plan_ns = m
                .spec
                .plan
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or(ns);
            let plan_name = m.spec.plan.name.clone().unwrap_or_default();
            let Some(plan) = plan_by_key.get(&(plan_ns, plan_name)) else {
                continue;
            };
            let conds = m.status.as_ref().map(|s| &s.conditions);
            for status in MIGRATION_STATUSES {
                if conds.is_some_and(|c| c.has(status))
                    && self.counted.insert((m.uid().unwrap_or_default(), status))
                {
                    *self
                        .totals
                        .entry((status, labels(plan, &providers)))
                        .or_default() += 1;
                }
            }
        }
        head(
            &mut out,
            "mtv_migrations_status_total",
            "counter",
            "VM Migrations sorted by status, provider, mode and target",
        );
        for ((status, l), n) in &self.totals {
            let _ = writeln!(
                out,
                "mtv_migrations_status_total{{status=\"{status}\",{}}} {n}",
                plan_labels(l)
            );
        }

        head(
            &mut out,
            "mtv_migration_data_transferred_bytes",
            "gauge",
            "Total data transferred during VM migrations in bytes",
        );
        let mut durations = String::new();
        let mut throughput = String::new();
        for plan in &snap.plans {
            let Some(status) = plan.status.as_ref().and_then(|s| s.migration.as_ref()) else {
                continue;
            };
            let l = format!(
                "{},plan=\"{}\"",
                plan_labels(&labels(plan, &providers)),
                esc(&plan.uid().unwrap_or_default())
            );
            let bytes = transferred_mib(status) as f64 * MIB;
            let _ = writeln!(out, "mtv_migration_data_transferred_bytes{{{l}}} {bytes}");
            if let (Some(start), Some(end)) = (&status.started, &status.completed) {
                let _ = writeln!(
                    durations,
                    "mtv_migration_duration_seconds{{{l}}} {}",
                    seconds_between(start, end)
                );
            }
            for vm in &status.vms {
                let vm_name = vm
                    .vm
                    .name
                    .clone()
                    .or_else(|| vm.vm.id.clone())
                    .unwrap_or_default();
                for step in vm.pipeline.iter().filter(|s| {
                    s.annotations.get(annotations::UNIT).map(String::as_str)
                        == Some(annotations::UNIT_MB)
                }) {
                    for task in &step.tasks {
                        let Some(started) = &task.started else {
                            continue;
                        };
                        let secs = seconds_between(started, task.completed.as_ref().unwrap_or(now));
                        if secs <= 0.0 {
                            continue;
                        }
                        let rate = task.progress.completed.max(0) as f64 * MIB / secs;
                        let _ = writeln!(
                            throughput,
                            "ferry_disk_transfer_bytes_per_second{{namespace=\"{}\",plan_name=\"{}\",vm=\"{}\",disk=\"{}\"}} {rate}",
                            esc(&plan.namespace().unwrap_or_default()),
                            esc(&plan.name_any()),
                            esc(&vm_name),
                            esc(&task.name)
                        );
                    }
                }
            }
        }
        head(
            &mut out,
            "mtv_migration_duration_seconds",
            "gauge",
            "Duration of VM migrations in seconds",
        );
        out.push_str(&durations);
        head(
            &mut out,
            "ferry_disk_transfer_bytes_per_second",
            "gauge",
            "Average throughput of each disk copy since it started",
        );
        out.push_str(&throughput);
        head(
            &mut out,
            "ferry_operator_leader",
            "gauge",
            "1 on the replica that holds the leader Lease",
        );
        let _ = writeln!(out, "ferry_operator_leader {}", u8::from(snap.leader));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("valid object")
    }

    fn t(s: &str) -> Time {
        Time(s.parse().expect("timestamp"))
    }

    #[test]
    fn metrics_use_forklift_names_and_count_each_migration_once() {
        let providers = vec![
            obj::<Provider>(
                serde_json::json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider", "metadata": {"name": "ova", "namespace": "mtv"}, "spec": {"type": "ova", "url": "nfs:/x", "secret": {}}}),
            ),
            obj::<Provider>(
                serde_json::json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider", "metadata": {"name": "host", "namespace": "mtv"}, "spec": {"type": "openshift", "secret": {}}}),
            ),
        ];
        let plan = obj::<Plan>(serde_json::json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
            "metadata": {"name": "p1", "namespace": "mtv", "uid": "u-1"},
            "spec": {"targetNamespace": "vms", "provider": {"source": {"name": "ova"}, "destination": {"name": "host"}},
                     "map": {"network": {"name": "n"}, "storage": {"name": "s"}}, "vms": [{"name": "vm1"}]},
            "status": {"conditions": [
                {"type": "Succeeded", "status": "True", "category": "Advisory", "lastTransitionTime": "2026-01-01T00:00:00Z"},
                {"type": "Ready", "status": "True", "category": "Required", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
              "migration": {"started": "2026-01-01T00:00:00Z", "completed": "2026-01-01T00:01:40Z", "vms": [{
                "name": "vm1", "phase": "Completed",
                "pipeline": [{"name": "DiskTransfer", "phase": "Completed", "annotations": {"unit": "MB"},
                  "progress": {"completed": 300, "total": 300},
                  "tasks": [{"name": "disk1.vmdk", "progress": {"completed": 200, "total": 200},
                             "started": "2026-01-01T00:00:10Z", "completed": "2026-01-01T00:00:30Z"}]}]}]}}
        }));
        let migration = obj::<Migration>(serde_json::json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Migration",
            "metadata": {"name": "m1", "namespace": "mtv", "uid": "m-1"},
            "spec": {"plan": {"name": "p1", "namespace": "mtv"}},
            "status": {"conditions": [{"type": "Succeeded", "status": "True", "category": "Advisory", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
        }));
        let snap = Snapshot {
            plans: vec![plan],
            migrations: vec![migration],
            providers,
            leader: true,
        };
        let mut counters = Counters::default();
        let now = t("2026-01-01T00:05:00Z");
        let first = counters.render(&snap, &now);
        let second = counters.render(&snap, &now);
        let l = "provider=\"ova\",mode=\"Cold\",target=\"Local\"";
        for text in [&first, &second] {
            assert!(
                text.contains(&format!("mtv_plans_status{{status=\"Succeeded\",{l}}} 1\n")),
                "{text}"
            );
            assert!(
                !text.contains("status=\"Ready\""),
                "Ready is not a Forklift plan status:\n{text}"
            );
            // Counted once although scraped twice.
            assert!(
                text.contains(&format!(
                    "mtv_migrations_status_total{{status=\"Succeeded\",{l}}} 1\n"
                )),
                "{text}"
            );
            assert!(
                text.contains(&format!(
                    "mtv_migration_data_transferred_bytes{{{l},plan=\"u-1\"}} 314572800\n"
                )),
                "{text}"
            );
            assert!(
                text.contains(&format!(
                    "mtv_migration_duration_seconds{{{l},plan=\"u-1\"}} 100\n"
                )),
                "{text}"
            );
            // 200 MiB in 20 s.
            assert!(text.contains("ferry_disk_transfer_bytes_per_second{namespace=\"mtv\",plan_name=\"p1\",vm=\"vm1\",disk=\"disk1.vmdk\"} 10485760\n"), "{text}");
            assert!(text.contains("ferry_operator_leader 1\n"));
            assert!(text.contains("# TYPE mtv_migrations_status_total counter\n"));
        }
    }
}
