//! Plan validation: the conditions of reference §1 that apply to the
//! providers ferry supports. Each check reads the inventory, never the live
//! source.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use ferry_core::api::{Category, Condition, Hook, MigrationType, Plan, PlanVm};
use ferry_core::naming;
use kube::{Api, ResourceExt};
use serde_json::Value;

use crate::context::Context;
use crate::error::Result;
use crate::lookup;
use crate::providers::{Finding, registry};

/// Plan condition types (reference §1, "Plan condition types").
pub mod types {
    #![allow(missing_docs)]
    pub const MIGRATION_TYPE_NOT_VALID: &str = "MigrationTypeNotValid";
    pub const NAMESPACE_NOT_VALID: &str = "NamespaceNotValid";
    pub const SOURCE_PROVIDER_NOT_VALID: &str = "SourceProviderNotValid";
    pub const DESTINATION_PROVIDER_NOT_VALID: &str = "DestinationProviderNotValid";
    pub const PROVIDER_NOT_READY: &str = "ProviderNotReady";
    pub const NETWORK_MAP_REF_NOT_VALID: &str = "NetworkMapRefNotValid";
    pub const NETWORK_MAP_NOT_READY: &str = "NetworkMapNotReady";
    pub const STORAGE_REF_NOT_VALID: &str = "StorageRefNotValid";
    pub const STORAGE_MAP_NOT_READY: &str = "StorageMapNotReady";
    pub const VM_REF_NOT_VALID: &str = "VMRefNotValid";
    pub const VM_NOT_FOUND: &str = "VMNotFound";
    pub const DUPLICATE_VM: &str = "DuplicateVM";
    pub const VM_NETWORKS_NOT_MAPPED: &str = "VMNetworksNotMapped";
    pub const VM_STORAGE_NOT_MAPPED: &str = "VMStorageNotMapped";
    pub const VM_CRITICAL_CONCERNS: &str = "VMCriticalConcerns";
    pub const VM_ALREADY_EXISTS: &str = "VMAlreadyExists";
    pub const TARGET_NAME_NOT_VALID: &str = "TargetNameNotValid";
    pub const HOOK_NOT_VALID: &str = "HookNotValid";
    pub const HOOK_STEP_NOT_VALID: &str = "HookStepNotValid";
}

/// What validation learned about one VM of the plan.
#[derive(Debug, Clone)]
pub struct VmFacts {
    /// The inventory object (its JSON).
    pub object: Value,
}

fn cond(t: &str, category: Category, reason: &str, message: &str, items: Vec<String>) -> Condition {
    Condition::new(t, category)
        .reason(reason)
        .message(message)
        .items(items)
}

/// `MigrationTypeNotValid` for the migration types ferry cannot run yet:
/// warm and live, and conversion-only (which would otherwise run as a cold
/// copy of disks that are already on PVCs).
fn migration_type_refused(t: MigrationType) -> Option<Condition> {
    let message = match t {
        MigrationType::Cold => return None,
        MigrationType::Warm | MigrationType::Live => {
            format!("A {t:?} migration is not supported for this source provider; use cold.")
        }
        MigrationType::Conversion => "A conversion-only migration (spec.type: conversion) is not \
             supported yet: ferry would copy the disks instead of converting the PVCs in place; \
             use a cold migration from the source provider instead."
            .to_owned(),
    };
    Some(cond(
        types::MIGRATION_TYPE_NOT_VALID,
        Category::Critical,
        "NotSupported",
        &message,
        vec![],
    ))
}

/// Validate `plan`; returns the conditions that hold (without `Ready`).
pub async fn validate(plan: &Plan, ctx: &Context) -> Result<Vec<Condition>> {
    let mut out = Vec::new();
    let ns = plan.namespace().unwrap_or_default();
    let spec = &plan.spec;

    if let Err(e) = naming::check_dns1123_label(&spec.target_namespace) {
        out.push(cond(
            types::NAMESPACE_NOT_VALID,
            Category::Critical,
            "NotValid",
            &format!("Target namespace (spec.targetNamespace) is not valid: {e}"),
            vec![],
        ));
    }
    out.extend(migration_type_refused(spec.migration_type()));

    // Providers.
    let source = lookup::provider(ctx, &ns, &spec.provider.source).await;
    let refused = source.as_ref().and_then(registry::unsupported_source);
    if lookup::provider(ctx, &ns, &spec.provider.destination)
        .await
        .is_none()
    {
        out.push(cond(
            types::DESTINATION_PROVIDER_NOT_VALID,
            Category::Critical,
            "NotFound",
            "The destination provider (spec.provider.destination) is not found.",
            vec![],
        ));
    }
    let source_uid = match &source {
        None => {
            out.push(cond(
                types::SOURCE_PROVIDER_NOT_VALID,
                Category::Critical,
                "NotFound",
                "The source provider (spec.provider.source) is not found.",
                vec![],
            ));
            None
        }
        Some(_) if refused.is_some() => {
            out.push(cond(
                types::SOURCE_PROVIDER_NOT_VALID,
                Category::Critical,
                registry::NOT_SUPPORTED_REASON,
                refused.as_deref().unwrap_or_default(),
                vec![],
            ));
            None
        }
        Some(p) if !lookup::provider_ready(p) => {
            out.push(cond(
                types::PROVIDER_NOT_READY,
                Category::Critical,
                "NotReady",
                &format!("The source provider {} is not ready.", p.name_any()),
                vec![],
            ));
            None
        }
        Some(p) => registry::source(p.spec.type_.as_str())
            .ok()
            .map(|a| (lookup::uid(p), a)),
    };

    // Maps.
    let netmap = lookup::by_ref(ctx, &ns, &spec.map.network, |c| &c.network_maps).await;
    let stmap = lookup::by_ref(ctx, &ns, &spec.map.storage, |c| &c.storage_maps).await;
    match &netmap {
        None => out.push(cond(
            types::NETWORK_MAP_REF_NOT_VALID,
            Category::Critical,
            "NotFound",
            "The network map (spec.map.network) is not found.",
            vec![],
        )),
        Some(m) if !m.status.as_ref().is_some_and(|s| s.conditions.is_ready()) => out.push(cond(
            types::NETWORK_MAP_NOT_READY,
            Category::Critical,
            "NotReady",
            "The network map is not ready.",
            vec![],
        )),
        _ => {}
    }
    match &stmap {
        None => out.push(cond(
            types::STORAGE_REF_NOT_VALID,
            Category::Critical,
            "NotFound",
            "The storage map (spec.map.storage) is not found.",
            vec![],
        )),
        Some(m) if !m.status.as_ref().is_some_and(|s| s.conditions.is_ready()) => out.push(cond(
            types::STORAGE_MAP_NOT_READY,
            Category::Critical,
            "NotReady",
            "The storage map is not ready.",
            vec![],
        )),
        _ => {}
    }

    // Hooks.
    let mut bad_hooks = Vec::new();
    let mut bad_steps = Vec::new();
    for (i, vm) in spec.vms.iter().enumerate() {
        let mut steps = HashSet::new();
        for (j, h) in vm.hooks.iter().enumerate() {
            if !steps.insert(h.step.as_str().to_owned())
                || !matches!(h.step.as_str(), "PreHook" | "PostHook")
            {
                bad_steps.push(format!("spec.vms[{i}].hooks[{j}]"));
            }
            let found = lookup::by_ref::<Hook>(ctx, &ns, &h.hook, |c| &c.hooks)
                .await
                .is_some();
            if !found {
                bad_hooks.push(format!("spec.vms[{i}].hooks[{j}].hook"));
            }
        }
    }
    if !bad_hooks.is_empty() {
        out.push(cond(
            types::HOOK_NOT_VALID,
            Category::Critical,
            "NotFound",
            "Hook not found.",
            bad_hooks,
        ));
    }
    if !bad_steps.is_empty() {
        out.push(cond(
            types::HOOK_STEP_NOT_VALID,
            Category::Critical,
            "NotValid",
            "Hook step must be PreHook or PostHook, at most once per VM.",
            bad_steps,
        ));
    }

    // VMs, against the inventory.
    let Some((uid, adapter)) = source_uid else {
        return Ok(out);
    };
    let mut missing_ref = Vec::new();
    let mut not_found = Vec::new();
    let mut duplicates = Vec::new();
    let mut nets_unmapped = Vec::new();
    let mut storage_unmapped = Vec::new();
    let mut critical = Vec::new();
    let mut bad_names = Vec::new();
    let mut findings: BTreeMap<&str, (Finding, Vec<String>)> = BTreeMap::new();
    let mut exists = Vec::new();
    let vm_api: Api<ferry_core::api::kubevirt::vm::VirtualMachine> =
        Api::namespaced(ctx.client.clone(), &spec.target_namespace);
    let plan_uid = plan.uid().unwrap_or_default();
    let mut seen = HashSet::new();
    let mapped_nets: BTreeSet<String> = netmap
        .iter()
        .flat_map(|m| {
            m.status
                .iter()
                .flat_map(|s| s.references.iter().filter_map(|r| r.id.clone()))
        })
        .collect();
    let mapped_storage: BTreeSet<String> = stmap
        .iter()
        .flat_map(|m| {
            m.status
                .iter()
                .flat_map(|s| s.references.iter().filter_map(|r| r.id.clone()))
        })
        .collect();
    for (i, vm) in spec.vms.iter().enumerate() {
        let label = vm_label(vm, i);
        if vm.as_ref().is_not_set() {
            missing_ref.push(format!("spec.vms[{i}]"));
            continue;
        }
        let Some(found) = lookup::find(ctx, &uid, "vms", &vm.as_ref())? else {
            not_found.push(label);
            continue;
        };
        if !seen.insert(found.resource.id.clone()) {
            duplicates.push(label.clone());
        }
        let obj = &found.resource.object;
        for net in names(obj, "networks", "id") {
            if !mapped_nets.contains(&net) {
                nets_unmapped.push(label.clone());
                break;
            }
        }
        if !mapped_storage.is_empty() || stmap.is_some() {
            let storages = adapter.vm_storages(ctx, &uid, obj);
            if storages.iter().any(|s| !mapped_storage.contains(s)) {
                storage_unmapped.push(label.clone());
            }
        }
        if found.concerns.iter().any(|c| c.category == "Critical") {
            critical.push(label.clone());
        }
        for f in adapter.vm_findings(obj) {
            findings
                .entry(f.condition)
                .or_insert_with(|| (f, Vec::new()))
                .1
                .push(label.clone());
        }
        if let Some(t) = vm.target_name.as_deref() {
            if naming::check_dns1123_label(t).is_err() {
                bad_names.push(format!("{label}: targetName {t:?}"));
            } else if let Ok(Some(existing)) = vm_api.get_opt(t).await {
                // A VM this plan created earlier is fine (a rerun); any other is not.
                if existing.labels().get("plan") != Some(&plan_uid) {
                    exists.push(format!("{label}: {}/{t}", spec.target_namespace));
                }
            }
        }
    }
    let push = |out: &mut Vec<Condition>,
                t: &str,
                cat: Category,
                reason: &str,
                msg: &str,
                items: Vec<String>| {
        if !items.is_empty() {
            out.push(cond(t, cat, reason, msg, items));
        }
    };
    push(
        &mut out,
        types::VM_REF_NOT_VALID,
        Category::Critical,
        "NotValid",
        "VM reference needs an id or a name.",
        missing_ref,
    );
    push(
        &mut out,
        types::VM_NOT_FOUND,
        Category::Critical,
        "NotFound",
        "VM not found in the source provider's inventory.",
        not_found,
    );
    push(
        &mut out,
        types::DUPLICATE_VM,
        Category::Critical,
        "NotUnique",
        "Duplicate (source) VM.",
        duplicates,
    );
    push(
        &mut out,
        types::VM_NETWORKS_NOT_MAPPED,
        Category::Critical,
        "NotMapped",
        "VM has unmapped networks.",
        nets_unmapped,
    );
    push(
        &mut out,
        types::VM_STORAGE_NOT_MAPPED,
        Category::Critical,
        "NotMapped",
        "VM has unmapped storage.",
        storage_unmapped,
    );
    push(
        &mut out,
        types::VM_CRITICAL_CONCERNS,
        Category::Critical,
        "NotValid",
        "VM has critical concerns; see the inventory's concerns for each VM.",
        critical,
    );
    push(
        &mut out,
        types::VM_ALREADY_EXISTS,
        Category::Critical,
        "NotUnique",
        "A VirtualMachine with the target name already exists in the target namespace.",
        exists,
    );
    push(
        &mut out,
        types::TARGET_NAME_NOT_VALID,
        Category::Critical,
        "NotValid",
        "Target VM name is not a DNS-1123 label.",
        bad_names,
    );
    for (f, items) in findings.into_values() {
        push(
            &mut out,
            f.condition,
            f.category,
            f.reason,
            f.message,
            items,
        );
    }
    Ok(out)
}

fn vm_label(vm: &PlanVm, i: usize) -> String {
    match (vm.id.as_deref(), vm.name.as_deref()) {
        (Some(id), _) if !id.is_empty() => format!("id={id}"),
        (_, Some(n)) if !n.is_empty() => format!("name={n}"),
        _ => format!("spec.vms[{i}]"),
    }
}

/// `obj[list][*][field]` as strings.
fn names(obj: &Value, list: &str, field: &str) -> Vec<String> {
    obj.get(list)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|n| n.get(field).and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_and_warm_plans_are_refused_and_cold_is_not() {
        assert!(migration_type_refused(MigrationType::Cold).is_none());
        for t in [
            MigrationType::Warm,
            MigrationType::Live,
            MigrationType::Conversion,
        ] {
            let c = migration_type_refused(t).expect("refused");
            assert_eq!(c.type_, types::MIGRATION_TYPE_NOT_VALID, "{t:?}");
            assert_eq!(c.category, Category::Critical, "{t:?}");
            assert_eq!(c.reason.as_deref(), Some("NotSupported"), "{t:?}");
        }
        let c = migration_type_refused(MigrationType::Conversion).expect("refused");
        let msg = c.message.unwrap_or_default();
        assert!(msg.contains("spec.type: conversion"), "{msg}");
        assert!(msg.contains("not supported"), "{msg}");
    }
}
