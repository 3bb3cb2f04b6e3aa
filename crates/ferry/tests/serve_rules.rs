//! User validation rules in `ferry serve`, loaded as Forklift loads them: a
//! `--rules` folder and the `forklift-validation-config` ConfigMap. A VM of
//! the sample OVA provider shows the custom concerns; changing the ConfigMap
//! or the folder changes them (the rules version moves, every VM is
//! validated again); a rule that does not load keeps the previous rules and
//! is reported naming its ConfigMap key; deleting the ConfigMap removes its
//! concern.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{kubectl, sample, start_serve, wait_for};
use ferry_testutil::peer;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(120);

fn folder_rule(id: &str) -> String {
    // Rego v0, as Forklift documents user rules.
    format!(
        r#"package io.konveyor.forklift.ova

concerns[flag] {{
    input.name == "efi-vm"
    flag := {{"id": "{id}", "category": "Information", "label": "Folder rule {id}", "assessment": "From the rules folder."}}
}}
"#
    )
}

fn config_map(key: &str, rule: &str) -> String {
    let body: String = rule.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: forklift-validation-config\n  namespace: openshift-mtv\ndata:\n  {key}: |\n{body}"
    )
}

fn cm_rule(id: &str) -> String {
    // A negated call on a field the VMs lack: OPA leaves it undefined, so it
    // must raise nothing; the named VM gets the concern.
    format!(
        r#"package io.konveyor.forklift.ova
import rego.v1

tagged(t) if t == "keep"

concerns contains {{"id": "{id}", "category": "Warning", "label": "ConfigMap rule {id}", "assessment": "From the ConfigMap."}} if {{
    input.name == "two-disk-bios"
    not tagged(input.name)
}}

concerns contains {{"id": "user.never", "category": "Warning", "label": "never", "assessment": "never"}} if {{
    not tagged(input.noSuchField)
}}
"#
    )
}

/// `name → concern ids` of every VM of the sample provider, read from the
/// inventory database in the data directory.
fn concerns(data: &Path) -> Vec<(String, Vec<String>)> {
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args([
            "inventory",
            "vms",
            "--provider",
            "openshift-mtv/ova-appliances",
            "-o",
            "json",
        ])
        .arg("--data-dir")
        .arg(data)
        .env_remove("FERRY_INVENTORY_URL")
        .output()
        .unwrap();
    if !out.status.success() {
        return Vec::new();
    }
    let vms: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    vms.iter()
        .map(|vm| {
            let ids = vm["concerns"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
                .collect();
            (vm["name"].as_str().unwrap_or_default().to_owned(), ids)
        })
        .collect()
}

fn ids_of(data: &Path, vm: &str) -> Vec<String> {
    concerns(data)
        .into_iter()
        .find(|(n, _)| n == vm)
        .map(|(_, ids)| ids)
        .unwrap_or_default()
}

fn user_ids(data: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = concerns(data)
        .into_iter()
        .flat_map(|(n, ids)| {
            ids.into_iter()
                .filter(|i| i.starts_with("user."))
                .map(move |i| (n.clone(), i))
        })
        .collect();
    out.sort();
    out
}

fn pair(vm: &str, id: &str) -> (String, String) {
    (vm.to_owned(), id.to_owned())
}

#[test]
fn serve_loads_user_rules_from_a_folder_and_the_config_map() {
    if peer("kubectl").is_none() {
        return;
    }
    let Some(dir) = sample("") else {
        return;
    };
    let work = dir.path();
    let data = work.join("data");
    let rules = work.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("folder.rego"), folder_rule("user.folder.v1")).unwrap();
    let log = work.join("serve.log");
    let (_server, kubeconfig) =
        start_serve(&[], &data, &["--rules", rules.to_str().unwrap()], &log);
    let appliances = work.join("sample/appliances");
    let provider = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: openshift-mtv\n---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\nmetadata:\n  name: ova-appliances\n  namespace: openshift-mtv\nspec:\n  type: ova\n  url: \"{}\"\n  secret: {{}}\n",
        appliances.display()
    );
    kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&provider));

    // The folder rule applies from the start.
    wait_for("the folder rule's concern", LIMIT, || {
        user_ids(&data) == [pair("efi-vm", "user.folder.v1")]
    });
    // The bundled concerns are still there.
    assert!(
        ids_of(&data, "Concern VM_01").contains(&"ova.name.invalid".to_owned()),
        "{:?}",
        concerns(&data)
    );

    // A ConfigMap of a custom rule: the VM shows its concern (and the
    // negated call on a missing field raises nothing, as in OPA).
    let cm = config_map("custom.rego", &cm_rule("user.cm.v1"));
    kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&cm));
    wait_for("the ConfigMap rule's concern", LIMIT, || {
        user_ids(&data)
            == [
                pair("efi-vm", "user.folder.v1"),
                pair("two-disk-bios", "user.cm.v1"),
            ]
    });

    // Updating the ConfigMap changes the concern.
    let cm = config_map("custom.rego", &cm_rule("user.cm.v2"));
    kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&cm));
    wait_for("the updated ConfigMap rule's concern", LIMIT, || {
        user_ids(&data)
            == [
                pair("efi-vm", "user.folder.v1"),
                pair("two-disk-bios", "user.cm.v2"),
            ]
    });

    // Changing the folder's rule changes its concern.
    std::fs::write(rules.join("folder.rego"), folder_rule("user.folder.v2")).unwrap();
    wait_for("the changed folder rule's concern", LIMIT, || {
        user_ids(&data)
            == [
                pair("efi-vm", "user.folder.v2"),
                pair("two-disk-bios", "user.cm.v2"),
            ]
    });

    // A rule that does not parse: the previous rules stay, the log names it.
    let bad = format!(
        "{}  broken.rego: |\n    package io.konveyor.forklift.ova\n    concerns contains x if {{\n",
        config_map("custom.rego", &cm_rule("user.cm.v3"))
    );
    kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&bad));
    wait_for("the broken rule reported", LIMIT, || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("configmap/openshift-mtv/forklift-validation-config/broken.rego")
    });
    assert_eq!(
        user_ids(&data),
        [
            pair("efi-vm", "user.folder.v2"),
            pair("two-disk-bios", "user.cm.v2"),
        ]
    );

    // Deleting the ConfigMap removes its concern.
    kubectl(
        &kubeconfig,
        &[
            "delete",
            "configmap",
            "forklift-validation-config",
            "-n",
            "openshift-mtv",
        ],
        None,
    );
    wait_for("the ConfigMap rule's concern gone", LIMIT, || {
        user_ids(&data) == [pair("efi-vm", "user.folder.v2")]
    });
}
