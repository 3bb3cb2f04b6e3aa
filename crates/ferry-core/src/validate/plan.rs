//! Plan, Migration, Hook and ForkliftController rules.
use super::Report;
use super::index::{self, Index};
use super::json::{self, ObjRef, Path};
use super::provider::provider_kind;
use crate::naming::{self, FixedSuffix, NameOrigin, TargetNameInputs};
use crate::secrets::ProviderKind;
use crate::sizing;
use crate::template::{self, SampleInputs, TemplateKind};
use base64::Engine as _;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the Plan's source provider is, when the Provider is in the input.
fn source_kind(v: &Value, idx: &Index<'_>) -> Option<ProviderKind> {
    let reference = ObjRef::read(json::at(v, &["spec", "provider", "source"]));
    match idx.lookup("Provider", &reference) {
        index::Lookup::Found(p) => provider_kind(p),
        _ => None,
    }
}

/// The effective migration type: `type`, else `warm: true` → warm, else cold.
pub fn plan_type(v: &Value) -> &str {
    match json::str_at(v, &["spec", "type"]) {
        Some(t) => t,
        None if json::bool_at(v, &["spec", "warm"]) => "warm",
        None => "cold",
    }
}

fn check_template_field(
    v: &Value,
    keys: &[&str],
    kind: TemplateKind,
    provider: Option<ProviderKind>,
    inputs: &SampleInputs<'_>,
    r: &mut Report<'_>,
) {
    let Some(src) = json::str_at(v, keys) else {
        return;
    };
    let path = keys.join(".");
    match template::check_template(kind, src, provider, inputs) {
        Ok(check) => {
            for w in check.warnings {
                r.warn(&path, w);
            }
        }
        Err(e) => r.error(&path, format!("invalid {}: {e}", kind.field())),
    }
}

fn check_vm_templates(
    vm: &Value,
    base: &Path,
    provider: Option<ProviderKind>,
    inputs: &SampleInputs<'_>,
    r: &mut Report<'_>,
) {
    for kind in [
        TemplateKind::PvcName,
        TemplateKind::VolumeName,
        TemplateKind::NetworkName,
    ] {
        let Some(src) = json::str_at(vm, &[kind.field()]) else {
            continue;
        };
        let path = base.key(kind.field());
        match template::check_template(kind, src, provider, inputs) {
            Ok(check) => {
                for w in check.warnings {
                    r.warn(&path, w);
                }
            }
            Err(e) => r.error(&path, format!("invalid {}: {e}", kind.field())),
        }
    }
}

fn check_hooks(vm: &Value, base: &Path, idx: &Index<'_>, r: &mut Report<'_>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (j, h) in json::list_at(vm, &["hooks"]).iter().enumerate() {
        let hp = base.key("hooks").index(j);
        match json::str_at(h, &["step"]) {
            Some(step @ ("PreHook" | "PostHook")) => {
                if let Some(prev) = seen.get(step) {
                    r.error(
                        hp.key("step"),
                        format!(
                            "a VM can have only one {step} hook; {} already is one",
                            base.key("hooks").index(*prev)
                        ),
                    );
                } else {
                    seen.insert(step, j);
                }
            }
            Some(other) => r.error(
                hp.key("step"),
                format!("{other:?} is not a hook step; use PreHook or PostHook (HookStepNotValid)"),
            ),
            None => r.error(hp.key("step"), "missing hook step (PreHook or PostHook)"),
        }
        let reference = ObjRef::read(h.get("hook"));
        if !reference.is_set() {
            r.error(
                hp.key("hook"),
                "hook reference needs namespace and name (HookNotValid)",
            );
        } else {
            index::check_reference(idx, "Hook", &reference, hp.key("hook").as_str(), r);
        }
    }
}

/// Check a Plan.
pub fn check_plan(v: &Value, idx: &Index<'_>, r: &mut Report<'_>) {
    let plan_name = json::name_of(v);
    let ty = plan_type(v);
    if !matches!(ty, "cold" | "warm" | "live" | "conversion") {
        r.error(
            "spec.type",
            format!(
                "{ty:?} is not allowed; use one of \"cold\", \"warm\", \"live\", \"conversion\""
            ),
        );
    }
    match json::str_at(v, &["spec", "targetNamespace"]) {
        Some(ns) => {
            if let Err(e) = naming::check_dns1123_label(ns) {
                r.error(
                    "spec.targetNamespace",
                    format!("{ns:?} is not a valid namespace: it {e} (NamespaceNotValid)"),
                );
            }
        }
        None => r.error(
            "spec.targetNamespace",
            "missing target namespace (NamespaceNotValid)",
        ),
    }
    if let (Some(t), true) = (
        json::str_at(v, &["spec", "type"]),
        json::bool_at(v, &["spec", "warm"]),
    ) && t != "warm"
    {
        r.error(
            "spec.warm",
            format!("warm: true contradicts type: {t}; drop the deprecated warm field"),
        );
    }
    super::maps::check_provider_pair(v, idx, r);
    let source = source_kind(v, idx);

    let net = json::require_ref(v, &["spec", "map", "network"], "network map", r);
    if let Some(m) = index::check_reference(idx, "NetworkMap", &net, "spec.map.network", r) {
        same_providers(v, m, "spec.map.network", "NetworkMap", r);
    }
    let storage = ObjRef::read(json::at(v, &["spec", "map", "storage"]));
    if !storage.is_set() && ty == "conversion" {
        // Conversion-only plans use PVCs that already exist.
    } else {
        let storage = json::require_ref(v, &["spec", "map", "storage"], "storage map", r);
        if let Some(m) = index::check_reference(idx, "StorageMap", &storage, "spec.map.storage", r)
        {
            same_providers(v, m, "spec.map.storage", "StorageMap", r);
        }
    }

    match (ty, source) {
        ("warm", Some(k)) if !matches!(k, ProviderKind::Vsphere | ProviderKind::Ovirt) => r.error(
            "spec.type",
            format!("warm migration is supported from vsphere and ovirt sources, not {k} (WarmMigrationNotReady)"),
        ),
        ("live", Some(k)) if k != ProviderKind::Openshift => r.error(
            "spec.type",
            format!("live migration needs an openshift source, not {k}"),
        ),
        _ => {}
    }

    if let Some(sa) = json::str_at(v, &["spec", "serviceAccount"])
        && let Err(e) = naming::check_dns1123_subdomain(sa)
    {
        r.error(
            "spec.serviceAccount",
            format!("{sa:?} is not a valid service account name: it {e}"),
        );
    }
    if let Some(size) = json::str_at(v, &["spec", "conversionTempStorageSize"])
        && let Err(e) = sizing::parse_quantity(size)
    {
        r.error("spec.conversionTempStorageSize", e.to_string());
    }
    if json::at(v, &["spec", "transferNetwork"]).is_some() {
        json::require_ref(v, &["spec", "transferNetwork"], "transfer network", r);
    }

    let plan_inputs = SampleInputs {
        plan_name: Some(plan_name).filter(|n| !n.is_empty()),
        ..SampleInputs::default()
    };
    check_template_field(
        v,
        &["spec", "pvcNameTemplate"],
        TemplateKind::PvcName,
        source,
        &plan_inputs,
        r,
    );
    check_template_field(
        v,
        &["spec", "volumeNameTemplate"],
        TemplateKind::VolumeName,
        source,
        &plan_inputs,
        r,
    );
    check_template_field(
        v,
        &["spec", "networkNameTemplate"],
        TemplateKind::NetworkName,
        source,
        &plan_inputs,
        r,
    );

    let vms = json::list_at(v, &["spec", "vms"]);
    if vms.is_empty() && json::at(v, &["spec", "vms"]).is_some() {
        r.warn("spec.vms", "the plan lists no VMs");
    }
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut targets: BTreeMap<String, usize> = BTreeMap::new();
    for (i, vm) in vms.iter().enumerate() {
        let base = Path::root().key("spec").key("vms").index(i);
        let id = json::str_at(vm, &["id"]);
        let name = json::str_at(vm, &["name"]);
        if id.is_none() && name.is_none() {
            r.error(&base, "needs id or name (VMRefNotValid)");
        }
        if source == Some(ProviderKind::Openshift) && name.is_none() {
            r.error(
                &base,
                "OpenShift source VMs are referenced by name and namespace, not id",
            );
        }
        let (key, map) = match (id, name) {
            (Some(id), _) => (Some(id), &mut ids),
            (None, Some(n)) => (Some(n), &mut names),
            (None, None) => (None, &mut ids),
        };
        if let Some(key) = key {
            if let Some(prev) = map.get(key) {
                r.error(
                    &base,
                    format!("duplicate of spec.vms[{prev}] ({key}) (DuplicateVM)"),
                );
            } else {
                map.insert(key.to_string(), i);
            }
        }
        let target = json::str_at(vm, &["targetName"]);
        if let Some(t) = target {
            if let Err(e) = naming::check_dns1123_subdomain(t) {
                r.error(
                    base.key("targetName"),
                    format!("{t:?} is not a valid VM name: it {e}"),
                );
            } else if !naming::is_dns1123_label(t) {
                r.warn(
                    base.key("targetName"),
                    format!("{t:?} is a DNS-1123 subdomain but not a label; names with dots or over 63 characters break derived names"),
                );
            }
            if let Some(prev) = targets.get(t) {
                r.error(
                    base.key("targetName"),
                    format!("spec.vms[{prev}] already uses target name {t:?}"),
                );
            } else {
                targets.insert(t.to_string(), i);
            }
        } else if let Some(n) = name
            && !naming::is_dns1123_label(n)
        {
            let (new_name, origin) = naming::resolve_target_vm_name(
                TargetNameInputs {
                    target_name: None,
                    status_new_name: None,
                    source_name: n,
                    vm_id: id.unwrap_or(""),
                },
                &mut FixedSuffix("xxxx".into()),
            );
            let note = if matches!(origin, NameOrigin::FromVmId | NameOrigin::LastResort) {
                " (derived from the VM ID)"
            } else {
                ""
            };
            r.warn(
                base.key("name"),
                format!("{n:?} is not a valid Kubernetes name; the target VM will be named {new_name:?}{note}; set targetName to choose (TargetNameNotValid)"),
            );
        }
        if json::bool_at(vm, &["nbdeClevis"]) && json::at(vm, &["luks"]).is_some() {
            r.warn(base.key("luks"), "nbdeClevis wins over luks; the LUKS keys are ignored (LuksAndClevisIncompatibility)");
        }
        check_hooks(vm, &base, idx, r);
        let vm_inputs = SampleInputs {
            plan_name: plan_inputs.plan_name,
            vm_name: name,
            target_vm_name: target,
            vm_id: id,
        };
        check_vm_templates(vm, &base, source, &vm_inputs, r);
    }
}

/// Warn when a map's provider pair differs from the plan's.
fn same_providers(plan: &Value, map: &Value, path: &str, kind: &str, r: &mut Report<'_>) {
    for side in ["source", "destination"] {
        let a = ObjRef::read(json::at(plan, &["spec", "provider", side]));
        let b = ObjRef::read(json::at(map, &["spec", "provider", side]));
        if a.is_set() && b.is_set() && a != b {
            r.error(
                path,
                format!(
                    "{kind} {} maps {side} provider {} but the plan uses {}",
                    json::name_of(map),
                    b.display(),
                    a.display()
                ),
            );
        }
    }
}

/// Check a Migration.
pub fn check_migration(v: &Value, idx: &Index<'_>, r: &mut Report<'_>) {
    let plan_ref = json::require_ref(v, &["spec", "plan"], "plan", r);
    let plan = index::check_reference(idx, "Plan", &plan_ref, "spec.plan", r);
    let has_cutover = json::at(v, &["spec", "cutover"]).is_some_and(|c| !c.is_null());
    if let Some(c) = json::at(v, &["spec", "cutover"]).and_then(Value::as_str)
        && !super::schema::is_rfc3339(c)
    {
        r.error(
            "spec.cutover",
            format!("{c:?} is not an RFC 3339 date-time; write it like \"2026-11-28T22:00:00Z\""),
        );
    }
    if let Some(p) = plan
        && has_cutover
        && plan_type(p) != "warm"
    {
        r.warn(
            "spec.cutover",
            format!(
                "cutover only applies to warm migrations; plan {} is {}",
                json::name_of(p),
                plan_type(p)
            ),
        );
    }
    let plan_vms: Vec<(Option<&str>, Option<&str>)> = plan
        .map(|p| {
            json::list_at(p, &["spec", "vms"])
                .iter()
                .map(|vm| (json::str_at(vm, &["id"]), json::str_at(vm, &["name"])))
                .collect()
        })
        .unwrap_or_default();
    for (i, c) in json::list_at(v, &["spec", "cancel"]).iter().enumerate() {
        let path = Path::root().key("spec").key("cancel").index(i);
        let id = json::str_at(c, &["id"]);
        let name = json::str_at(c, &["name"]);
        if id.is_none() && name.is_none() {
            r.error(&path, "needs id or name of the VM to cancel");
            continue;
        }
        if plan.is_some()
            && !plan_vms.iter().any(|(pid, pname)| {
                (id.is_some() && *pid == id) || (name.is_some() && *pname == name)
            })
        {
            r.warn(&path, "this VM is not listed in the plan's spec.vms (it may be matched by the other key at run time)");
        }
    }
    for (i, c) in json::list_at(v, &["spec", "vmCutover"]).iter().enumerate() {
        let path = Path::root().key("spec").key("vmCutover").index(i);
        if json::str_at(c, &["id"]).is_none() {
            r.error(path.key("id"), "needs the id of the VM");
        }
        if json::at(c, &["cutover"]).is_none() {
            r.error(path.key("cutover"), "needs the cutover time");
        }
    }
}

/// Check a Hook.
pub fn check_hook(v: &Value, r: &mut Report<'_>) {
    let aap = json::at(v, &["spec", "aap"]);
    if aap.is_none() && json::str_at(v, &["spec", "image"]).is_none() {
        r.error(
            "spec.image",
            "a local hook needs an image, e.g. quay.io/konveyor/hook-runner (InvalidImage)",
        );
    }
    if let Some(aap) = aap {
        if json::at(aap, &["jobTemplateId"])
            .and_then(Value::as_i64)
            .is_none_or(|id| id <= 0)
        {
            r.error(
                "spec.aap.jobTemplateId",
                "needs the positive ID of the AAP job template",
            );
        }
        if json::str_at(v, &["spec", "playbook"]).is_some() {
            r.warn("spec.playbook", "the playbook is ignored when aap is set");
        }
    }
    if let Some(pb) = json::str_at(v, &["spec", "playbook"]) {
        let cleaned: String = pb.chars().filter(|c| !c.is_whitespace()).collect();
        match base64::engine::general_purpose::STANDARD.decode(cleaned) {
            Err(_) => r.error("spec.playbook", "the playbook must be base64-encoded (InvalidPlaybook); encode it with `base64 -w0 playbook.yml`"),
            Ok(bytes) if std::str::from_utf8(&bytes).is_err() => {
                r.error("spec.playbook", "the decoded playbook is not UTF-8 text (InvalidPlaybook)");
            }
            Ok(_) => {}
        }
    }
    if let Some(sa) = json::str_at(v, &["spec", "serviceAccount"])
        && let Err(e) = naming::check_dns1123_subdomain(sa)
    {
        r.error(
            "spec.serviceAccount",
            format!("{sa:?} is not a valid service account name: it {e}"),
        );
    }
    if let Some(d) = json::at(v, &["spec", "deadline"]).and_then(Value::as_i64)
        && d < 0
    {
        r.error(
            "spec.deadline",
            "the deadline (seconds) must not be negative",
        );
    }
}

/// Check a ForkliftController's settings that ferry itself uses.
pub fn check_controller(v: &Value, r: &mut Report<'_>) {
    let num = |key: &str| -> Option<(i64, String)> {
        let val = json::at(v, &["spec", key])?;
        let n = match val {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        Some((n.unwrap_or(-1), format!("spec.{key}")))
    };
    if let Some((n, path)) = num("controller_filesystem_overhead")
        && !(0..100).contains(&n)
    {
        r.error(path, "the filesystem overhead is a percentage from 0 to 99");
    }
    if let Some((n, path)) = num("controller_block_overhead")
        && n < 0
    {
        r.error(path, "the block overhead is a number of bytes (0 or more)");
    }
    for key in [
        "controller_max_vm_inflight",
        "controller_max_populator_inflight",
        "controller_precopy_interval",
    ] {
        if let Some((n, path)) = num(key)
            && n < 1
        {
            r.error(path, format!("{key} must be a positive number"));
        }
    }
    // The operator's Ansible templating needs braces escaped (`\{\{.X\}\}`);
    // the controller unescapes them before parsing the Go template.
    let inputs = SampleInputs::default();
    for (key, provider) in [
        ("controller_pvc_name_template", None),
        (
            "controller_ocp_pvc_name_template",
            Some(ProviderKind::Openshift),
        ),
    ] {
        let Some(raw) = json::str_at(v, &["spec", key]) else {
            continue;
        };
        let path = format!("spec.{key}");
        let unescaped = unescape_braces(raw);
        match template::check_template(TemplateKind::PvcName, &unescaped, provider, &inputs) {
            Ok(check) => {
                for w in check.warnings {
                    r.warn(&path, w);
                }
            }
            Err(e) => r.error(
                &path,
                format!("invalid pvcNameTemplate (after unescaping braces): {e}"),
            ),
        }
    }
}

/// Drop the backslash of every `\x` escape (the operator's brace escaping).
fn unescape_braces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}
