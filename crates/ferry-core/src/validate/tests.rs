use super::*;
use serde_json::json;

fn run(values: Vec<Value>) -> Vec<Finding> {
    let docs: Vec<Document> = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| Document {
            source: "t.yaml".into(),
            index: i + 1,
            value,
        })
        .collect();
    validate(&docs, &|_| None, &Options::default())
}

fn errors(f: &[Finding]) -> Vec<String> {
    f.iter()
        .filter(|x| x.severity == Severity::Error)
        .map(ToString::to_string)
        .collect()
}

fn plan(vms: Value) -> Value {
    json!({
        "apiVersion": "forklift.konveyor.io/v1beta1",
        "kind": "Plan",
        "metadata": {"name": "mig-plan", "namespace": "openshift-mtv"},
        "spec": {
            "targetNamespace": "vms",
            "provider": {
                "source": {"name": "vsphere", "namespace": "openshift-mtv"},
                "destination": {"name": "host", "namespace": "openshift-mtv"}
            },
            "map": {
                "network": {"name": "net", "namespace": "openshift-mtv"},
                "storage": {"name": "st", "namespace": "openshift-mtv"}
            },
            "vms": vms
        }
    })
}

#[test]
fn vm_without_id_or_name() {
    let f = run(vec![plan(
        json!([{"id": "vm-1"}, {"name": "web"}, {"targetName": "x"}]),
    )]);
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0],
        "t.yaml:1 Plan/mig-plan spec.vms[2]: needs id or name (VMRefNotValid)"
    );
}

#[test]
fn hooks_and_duplicates() {
    let hook =
        |step: &str| json!({"step": step, "hook": {"name": "h", "namespace": "openshift-mtv"}});
    let f = run(vec![plan(json!([
        {"id": "vm-1", "hooks": [hook("PreHook"), hook("PreHook"), hook("Before")]},
        {"id": "vm-1"}
    ]))]);
    let e = errors(&f).join("\n");
    assert!(
        e.contains("spec.vms[0].hooks[1].step: a VM can have only one PreHook hook"),
        "{e}"
    );
    assert!(
        e.contains("spec.vms[0].hooks[2].step: \"Before\" is not a hook step"),
        "{e}"
    );
    assert!(
        e.contains("spec.vms[1]: duplicate of spec.vms[0] (vm-1)"),
        "{e}"
    );
}

#[test]
fn cross_document_references() {
    let map = json!({
        "apiVersion": "forklift.konveyor.io/v1beta1",
        "kind": "NetworkMap",
        "metadata": {"name": "other", "namespace": "openshift-mtv"},
        "spec": {
            "provider": {
                "source": {"name": "vsphere", "namespace": "openshift-mtv"},
                "destination": {"name": "host", "namespace": "openshift-mtv"}
            },
            "map": [{"source": {"id": "n1", "vlan": "5000"}, "destination": {"type": "pod"}}]
        }
    });
    let f = run(vec![plan(json!([{"id": "vm-1"}])), map]);
    let e = errors(&f).join("\n");
    assert!(
        e.contains(
            "Plan/mig-plan spec.map.network: NetworkMap openshift-mtv/net is not in the input"
        ),
        "{e}"
    );
    assert!(
        e.contains("NetworkMap/other spec.map[0].source.vlan"),
        "{e}"
    );
    // Providers are not in the input: nothing is said about them.
    assert!(!e.contains("Provider openshift-mtv/vsphere"), "{e}");
}

#[test]
fn unknown_kinds() {
    let f = run(vec![
        json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Planz", "metadata": {"name": "a"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}),
        json!(["not", "a", "mapping"]),
        json!({"kind": "Plan"}),
    ]);
    let e = errors(&f).join("\n");
    assert!(
        e.contains("t.yaml:1 Planz/a kind: unknown kind \"Planz\""),
        "{e}"
    );
    assert!(
        e.contains("t.yaml:2 Deployment/a: unknown apiVersion/kind apps/v1/Deployment"),
        "{e}"
    );
    assert!(e.contains("t.yaml:3: a manifest must be a mapping"), "{e}");
    assert!(
        e.contains("t.yaml:4 Plan/<unnamed> apiVersion: missing apiVersion"),
        "{e}"
    );
}

#[test]
fn schema_walk() {
    let schema = json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["targetNamespace"],
                "properties": {
                    "targetNamespace": {"type": "string"},
                    "type": {"type": "string", "enum": ["cold", "warm"]},
                    "warm": {"type": "boolean"},
                    "cutover": {"type": "string", "format": "date-time"},
                    "n": {"type": "integer", "minimum": 1},
                    "vms": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            }
        }
    });
    let doc = json!({
        "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Hook", "metadata": {"name": "h"},
        "spec": {
            "type": "hot", "warm": "true", "cutover": "tomorrow", "n": 0,
            "vms": [{"id": 5, "idd": "x"}], "free": {"anything": 1}, "labels": {"a": 1},
            "spelling": 1
        }
    });
    let mut findings = Vec::new();
    let mut r = Report {
        source: "s",
        doc: 1,
        object: "Hook/h".into(),
        findings: &mut findings,
    };
    schema::check_schema(&doc, &schema, false, &mut r);
    let all: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}", f.severity, f))
        .collect();
    let text = all.join("\n");
    for needle in [
        "error s:1 Hook/h spec.type: \"hot\" is not allowed; use one of \"cold\", \"warm\"",
        "error s:1 Hook/h spec.warm: must be true or false, not a string (remove the quotes)",
        "error s:1 Hook/h spec.cutover: \"tomorrow\" is not an RFC 3339 date-time",
        "error s:1 Hook/h spec.n: 0 is below the minimum 1",
        "error s:1 Hook/h spec.vms[0].id: must be a string, not a integer (quote the value in YAML)",
        "warning s:1 Hook/h spec.vms[0].idd: unknown field",
        "error s:1 Hook/h spec.labels.a: must be a string",
        "warning s:1 Hook/h spec.spelling: unknown field",
        "error s:1 Hook/h spec.targetNamespace: required field is missing",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("anything"), "{text}");
}

#[test]
fn rfc3339() {
    for ok in [
        "2026-11-28T22:00:00Z",
        "2026-11-28T22:00:00.123+02:00",
        "2026-01-01t00:00:00z",
    ] {
        assert!(schema::is_rfc3339(ok), "{ok}");
    }
    for bad in [
        "2026-11-28",
        "2026-13-01T00:00:00Z",
        "2026-11-28T22:00:00",
        "2026-11-28T25:00:00Z",
        "x",
    ] {
        assert!(!schema::is_rfc3339(bad), "{bad}");
    }
}

/// Replace every value in `v` (one at a time) with values of other types
/// and validate: nothing may panic, whatever the input.
#[test]
fn mutated_documents_never_panic() {
    fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(prefix.clone());
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let mut p = prefix.clone();
                    p.push(k.clone());
                    paths(x, p, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let mut p = prefix.clone();
                    p.push(i.to_string());
                    paths(x, p, out);
                }
            }
            _ => {}
        }
    }
    fn set(v: &mut Value, path: &[String], new: Value) {
        let mut cur = v;
        for k in path {
            cur = match cur {
                Value::Object(m) => m.get_mut(k).unwrap(),
                Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
                _ => return,
            };
        }
        *cur = new;
    }
    let hook = json!({"step": "PreHook", "hook": {"name": "h", "namespace": "ns"}});
    let mut p = plan(
        json!([{"id": "vm-1", "name": "Web_1", "targetName": "web", "hooks": [hook],
        "pvcNameTemplate": "{{.VmName | lower}}", "luks": {"name": "k"}, "nbdeClevis": true}]),
    );
    p["spec"]["warm"] = json!(true);
    p["spec"]["pvcNameTemplate"] = json!("{{trunc 5 .PlanName}}-{{.DiskIndex}}");
    let provider = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider",
        "metadata": {"name": "vsphere", "namespace": "openshift-mtv"},
        "spec": {"type": "vsphere", "url": "https://vc/sdk", "settings": {"sdkEndpoint": "esxi"},
                 "secret": {"name": "s", "namespace": "openshift-mtv"}}});
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "openshift-mtv", "labels": {"createdForProviderType": "openstack"}},
        "data": {"user": "dXNlcg=="}, "stringData": {"authType": "token"}});
    let nmap = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "NetworkMap",
        "metadata": {"name": "net", "namespace": "openshift-mtv"},
        "spec": {"provider": {"source": {"name": "vsphere", "namespace": "openshift-mtv"}},
                 "map": [{"source": {"id": "n", "vlan": "7"}, "destination": {"type": "multus", "name": "x"}}]}});
    let smap = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "StorageMap",
        "metadata": {"name": "st", "namespace": "openshift-mtv"},
        "spec": {"map": [{"source": {"id": "d"}, "destination": {"storageClass": "c"},
                 "offloadPlugin": {"vsphereXcopyConfig": {"secretRef": "x", "storageVendorProduct": "ontap"}}}]}});
    let mig = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Migration",
        "metadata": {"name": "m", "namespace": "openshift-mtv"},
        "spec": {"plan": {"name": "mig-plan", "namespace": "openshift-mtv"}, "cutover": "2026-01-01T00:00:00Z",
                 "cancel": [{"id": "vm-1"}], "vmCutover": [{"id": "vm-1", "cutover": "x"}]}});
    let hookobj = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Hook",
        "metadata": {"name": "h", "namespace": "ns"},
        "spec": {"image": "i", "playbook": "LS0t", "aap": {"jobTemplateId": 3}, "deadline": 5}});
    let host = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Host",
        "metadata": {"name": "h", "namespace": "ns"},
        "spec": {"provider": {"name": "vsphere", "namespace": "openshift-mtv"}, "id": "x", "ipAddress": "1.2.3.4",
                 "secret": {"name": "s", "namespace": "openshift-mtv"}}});
    let ctl = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "ForkliftController",
        "metadata": {"name": "c", "namespace": "ns"},
        "spec": {"controller_filesystem_overhead": 10, "controller_pvc_name_template": "{{.VmName}}"}});
    let base = vec![p, provider, secret, nmap, smap, mig, hookobj, host, ctl];
    let replacements = [
        json!(null),
        json!(7),
        json!(-1.5),
        json!("x"),
        json!([]),
        json!({}),
        json!(true),
        json!([1, {"a": 2}]),
    ];
    for (i, doc) in base.iter().enumerate() {
        let mut all = Vec::new();
        paths(doc, Vec::new(), &mut all);
        for path in all {
            for rep in &replacements {
                let mut docs = base.clone();
                set(&mut docs[i], &path, rep.clone());
                let _ = run(docs);
            }
        }
    }
}

fn run_with_crds(values: Vec<Value>) -> Vec<Finding> {
    let docs: Vec<Document> = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| Document {
            source: "t.yaml".into(),
            index: i + 1,
            value,
        })
        .collect();
    validate(&docs, &crd_schema, &Options::default())
}

fn forklift(kind: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "forklift.konveyor.io/v1beta1",
        "kind": kind,
        "metadata": {"name": "x", "namespace": "openshift-mtv"},
        "spec": spec
    })
}

#[test]
fn every_forklift_kind_is_validated_against_its_schema() {
    let good = vec![
        forklift(
            "Conversion",
            json!({"type": "InPlace", "vm": {"id": "vm-1"},
                   "connection": {"secret": {"name": "s", "namespace": "openshift-mtv"}},
                   "disks": [{"name": "pvc-0", "volumeMode": "Block", "devicePath": "/dev/sda"}],
                   "diskEncryption": {"type": "LUKS", "secret": {"name": "luks"}},
                   "podSettings": {"requestKVM": false, "nodeSelector": {"a": "b"}},
                   "extraVolumes": [{"name": "v", "emptyDir": {}}],
                   "extraMounts": [{"name": "v", "mountPath": "/v"}]}),
        ),
        forklift(
            "OvirtVolumePopulator",
            json!({"engineUrl": "https://e/ovirt-engine/api", "engineSecretName": "s", "diskId": "d"}),
        ),
        forklift(
            "OpenstackVolumePopulator",
            json!({"identityUrl": "https://k:5000/v3", "secretName": "s", "imageId": "i"}),
        ),
        forklift(
            "VSphereXcopyVolumePopulator",
            json!({"vmId": "vm-1", "vmdkPath": "[ds] a/a.vmdk", "secretName": "s",
                   "storageVendorProduct": "ontap"}),
        ),
        forklift(
            "OVAProviderServer",
            json!({"provider": {"name": "ova", "namespace": "openshift-mtv"}}),
        ),
        forklift(
            "HyperVProviderServer",
            json!({"provider": {"name": "hv", "namespace": "openshift-mtv"}}),
        ),
    ];
    let f = run_with_crds(good);
    assert!(errors(&f).is_empty(), "{:?}", errors(&f));
    assert!(f.is_empty(), "{f:?}");

    let bad = vec![
        forklift(
            "Conversion",
            json!({"type": "Sideways", "vm": {"id": "vm-1"},
                   "connection": {"secret": {"name": "s"}}}),
        ),
        forklift("OvirtVolumePopulator", json!({"engineUrl": "https://e"})),
        forklift("OVAProviderServer", json!({})),
    ];
    let e = errors(&run_with_crds(bad)).join("\n");
    assert!(e.contains("t.yaml:1 Conversion/x spec.type"), "{e}");
    assert!(e.contains("t.yaml:2 OvirtVolumePopulator/x spec"), "{e}");
    assert!(e.contains("engineSecretName"), "{e}");
    assert!(e.contains("t.yaml:3 OVAProviderServer/x spec"), "{e}");
}

#[test]
fn the_host_provider_may_be_named_without_being_defined() {
    let provider = |name: &str| {
        json!({
            "apiVersion": "forklift.konveyor.io/v1beta1",
            "kind": "Provider",
            "metadata": {"name": name, "namespace": "openshift-mtv"},
            "spec": {"type": "ova", "url": "nfs.example.com:/ova"}
        })
    };
    // The plan names `host` as destination; other Providers are in the
    // input, so a missing `vsphere` source is still reported.
    let f = run(vec![plan(json!([{"id": "vm-1"}])), provider("ova")]);
    let e = errors(&f).join("\n");
    assert!(!e.contains("openshift-mtv/host"), "{e}");
    assert!(
        e.contains("spec.provider.source: Provider openshift-mtv/vsphere is not in the input"),
        "{e}"
    );
    // A destination other than `host` must still be defined.
    let mut other = plan(json!([{"id": "vm-1"}]));
    other["spec"]["provider"]["destination"]["name"] = json!("remote");
    let e = errors(&run(vec![other, provider("vsphere")])).join("\n");
    assert!(
        e.contains("spec.provider.destination: Provider openshift-mtv/remote is not in the input"),
        "{e}"
    );
}

#[test]
fn kinds_ferry_serves_beside_forklift_are_known() {
    let f = run(vec![
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p", "namespace": "n"}}),
        json!({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "vm", "namespace": "n"}}),
        json!({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "dv", "namespace": "n"}}),
    ]);
    assert!(errors(&f).is_empty(), "{:?}", errors(&f));
}
