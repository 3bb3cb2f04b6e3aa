//! CustomResourceDefinitions for the KubeVirt and CDI kinds ferry writes in
//! embedded mode (stored as objects; their specs are kept as given).

use serde_json::{Value, json};

fn preserving_crd(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    short: &[&str],
    columns: Value,
) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "plural": plural,
                "singular": kind.to_lowercase(),
                "kind": kind,
                "listKind": format!("{kind}List"),
                "shortNames": short,
                "categories": ["all"]
            },
            "versions": [{
                "name": version,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": format!("{kind} ({group}/{version}), stored as given by the embedded API server."),
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }}
            }]
        }
    })
}

/// `virtualmachines.kubevirt.io` (v1) and `datavolumes.cdi.kubevirt.io` (v1beta1).
pub fn kubevirt() -> Vec<Value> {
    vec![
        preserving_crd(
            "kubevirt.io",
            "v1",
            "VirtualMachine",
            "virtualmachines",
            &["vm", "vms"],
            json!([
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                {"name": "Status", "type": "string", "jsonPath": ".status.printableStatus"},
                {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"}
            ]),
        ),
        preserving_crd(
            "cdi.kubevirt.io",
            "v1beta1",
            "DataVolume",
            "datavolumes",
            &["dv", "dvs"],
            json!([
                {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                {"name": "Progress", "type": "string", "jsonPath": ".status.progress"},
                {"name": "Restarts", "type": "integer", "jsonPath": ".status.restartCount"},
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
            ]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_servable() {
        for crd in kubevirt() {
            let list = crate::registry::resources_of_crd(&crd).expect("valid CRD");
            assert_eq!(list.len(), 1);
            assert!(list[0].status_subresource);
        }
    }
}
