//! The resource registry: every kind the server serves, built-in or defined
//! by a stored CustomResourceDefinition. Kind-agnostic: the HTTP layer asks
//! the registry what a path means and never names a kind itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

/// One printer column (`additionalPrinterColumns` or a built-in column).
#[derive(Debug, Clone)]
pub struct Column {
    /// Header.
    pub name: String,
    /// OpenAPI type: string, integer, number, boolean, date.
    pub type_: String,
    /// OpenAPI format (e.g. `name`).
    pub format: String,
    /// Help text.
    pub description: String,
    /// 0 = always shown, >0 = only with `-o wide`.
    pub priority: i64,
    /// JSONPath (subset) into the object.
    pub json_path: String,
}

/// Everything the server knows about one group/version/resource.
#[derive(Debug, Clone)]
pub struct Resource {
    /// API group ("" for core).
    pub group: String,
    /// Version served at this entry.
    pub version: String,
    /// Plural resource name (the URL segment).
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Kind.
    pub kind: String,
    /// List kind.
    pub list_kind: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names (`kubectl get pl`).
    pub short_names: Vec<String>,
    /// Categories (`kubectl get all`).
    pub categories: Vec<String>,
    /// Has a `status` subresource.
    pub status_subresource: bool,
    /// The structural schema (`openAPIV3Schema`) for validation, pruning and defaulting.
    pub schema: Option<Arc<Value>>,
    /// Printer columns (without the leading Name column).
    pub columns: Vec<Column>,
    /// The version objects are stored at (all served versions share storage).
    pub storage_version: String,
    /// Defined by a CRD (true) or built in.
    pub custom: bool,
}

impl Resource {
    /// Storage key shared by all versions: `group/plural`.
    pub fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    /// `apiVersion` of this entry (`v1`, `forklift.konveyor.io/v1beta1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `group/version` used for discovery (`v1` for core).
    pub fn group_version(&self) -> String {
        self.api_version()
    }

    /// The verbs every resource supports here.
    pub fn verbs(&self) -> Vec<&'static str> {
        vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }
}

/// The set of resources, keyed by (group, version, plural).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    by_gvr: BTreeMap<(String, String, String), Arc<Resource>>,
    /// Group order for discovery (first seen first), with preferred version.
    groups: Vec<(String, Vec<String>)>,
}

impl Registry {
    /// The built-in kinds plus the kinds of the given CRD objects.
    pub fn build(crds: &[Arc<Value>]) -> Self {
        let mut r = Registry::default();
        for res in builtins() {
            r.insert(res);
        }
        for crd in crds {
            if let Ok(list) = resources_of_crd(crd) {
                for res in list {
                    r.insert(res);
                }
            }
        }
        r
    }

    fn insert(&mut self, res: Resource) {
        let key = (res.group.clone(), res.version.clone(), res.plural.clone());
        match self.groups.iter_mut().find(|(g, _)| *g == res.group) {
            Some((_, versions)) => {
                if !versions.contains(&res.version) {
                    versions.push(res.version.clone());
                }
            }
            None => self
                .groups
                .push((res.group.clone(), vec![res.version.clone()])),
        }
        self.by_gvr.insert(key, Arc::new(res));
    }

    /// Look up a resource by group, version and plural (or singular/short name).
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.by_gvr
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .cloned()
    }

    /// Look up a resource by group, version and kind.
    pub fn by_kind(&self, group: &str, version: &str, kind: &str) -> Option<Arc<Resource>> {
        self.by_gvr
            .values()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .cloned()
    }

    /// All resources of one group/version.
    pub fn resources(&self, group: &str, version: &str) -> Vec<Arc<Resource>> {
        self.by_gvr
            .values()
            .filter(|r| r.group == group && r.version == version)
            .cloned()
            .collect()
    }

    /// Every resource.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Resource>> {
        self.by_gvr.values()
    }

    /// Groups with their versions; the first version is the preferred one.
    pub fn groups(&self) -> &[(String, Vec<String>)] {
        &self.groups
    }

    /// Is `group/version` served?
    pub fn has_group_version(&self, group: &str, version: &str) -> bool {
        self.groups
            .iter()
            .any(|(g, vs)| g == group && vs.iter().any(|v| v == version))
    }
}

fn col(name: &str, type_: &str, path: &str, priority: i64, description: &str) -> Column {
    Column {
        name: name.into(),
        type_: type_.into(),
        format: String::new(),
        description: description.into(),
        priority,
        json_path: path.into(),
    }
}

fn age() -> Column {
    col(
        "Age",
        "date",
        ".metadata.creationTimestamp",
        0,
        "Time since the object was created.",
    )
}

struct Builtin {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    status: bool,
    columns: Vec<Column>,
}

fn builtins() -> Vec<Resource> {
    let list = vec![
        Builtin {
            group: "",
            version: "v1",
            plural: "namespaces",
            singular: "namespace",
            kind: "Namespace",
            namespaced: false,
            short: &["ns"],
            status: true,
            columns: vec![
                col(
                    "Status",
                    "string",
                    ".status.phase",
                    0,
                    "Phase of the namespace.",
                ),
                age(),
            ],
        },
        Builtin {
            group: "",
            version: "v1",
            plural: "secrets",
            singular: "secret",
            kind: "Secret",
            namespaced: true,
            short: &[],
            status: false,
            columns: vec![col("Type", "string", ".type", 0, "Secret type."), age()],
        },
        Builtin {
            group: "",
            version: "v1",
            plural: "configmaps",
            singular: "configmap",
            kind: "ConfigMap",
            namespaced: true,
            short: &["cm"],
            status: false,
            columns: vec![age()],
        },
        Builtin {
            group: "",
            version: "v1",
            plural: "persistentvolumeclaims",
            singular: "persistentvolumeclaim",
            kind: "PersistentVolumeClaim",
            namespaced: true,
            short: &["pvc"],
            status: true,
            columns: vec![
                col(
                    "Status",
                    "string",
                    ".status.phase",
                    0,
                    "Phase of the claim.",
                ),
                col("Volume", "string", ".spec.volumeName", 0, "Bound volume."),
                col(
                    "Capacity",
                    "string",
                    ".status.capacity.storage",
                    0,
                    "Capacity.",
                ),
                col(
                    "StorageClass",
                    "string",
                    ".spec.storageClassName",
                    0,
                    "Storage class.",
                ),
                age(),
                col(
                    "VolumeMode",
                    "string",
                    ".spec.volumeMode",
                    1,
                    "Filesystem or Block.",
                ),
            ],
        },
        Builtin {
            group: "",
            version: "v1",
            plural: "pods",
            singular: "pod",
            kind: "Pod",
            namespaced: true,
            short: &["po"],
            status: true,
            columns: vec![
                col("Status", "string", ".status.phase", 0, "Phase of the pod."),
                age(),
                col(
                    "Node",
                    "string",
                    ".spec.nodeName",
                    1,
                    "Node the pod runs on.",
                ),
            ],
        },
        Builtin {
            group: "",
            version: "v1",
            plural: "events",
            singular: "event",
            kind: "Event",
            namespaced: true,
            short: &["ev"],
            status: false,
            columns: vec![
                col("Type", "string", ".type", 0, "Normal or Warning."),
                col("Reason", "string", ".reason", 0, "Short reason."),
                col(
                    "Object",
                    "string",
                    ".involvedObject.name",
                    0,
                    "Object the event is about.",
                ),
                col("Message", "string", ".message", 0, "What happened."),
            ],
        },
        Builtin {
            group: "events.k8s.io",
            version: "v1",
            plural: "events",
            singular: "event",
            kind: "Event",
            namespaced: true,
            short: &["ev"],
            status: false,
            columns: vec![
                col("Type", "string", ".type", 0, "Normal or Warning."),
                col("Reason", "string", ".reason", 0, "Short reason."),
                col(
                    "Object",
                    "string",
                    ".regarding.name",
                    0,
                    "Object the event is about.",
                ),
                col("Note", "string", ".note", 0, "What happened."),
            ],
        },
        Builtin {
            group: "coordination.k8s.io",
            version: "v1",
            plural: "leases",
            singular: "lease",
            kind: "Lease",
            namespaced: true,
            short: &[],
            status: false,
            columns: vec![
                col(
                    "Holder",
                    "string",
                    ".spec.holderIdentity",
                    0,
                    "Current holder.",
                ),
                age(),
            ],
        },
        Builtin {
            group: "apiextensions.k8s.io",
            version: "v1",
            plural: "customresourcedefinitions",
            singular: "customresourcedefinition",
            kind: "CustomResourceDefinition",
            namespaced: false,
            short: &["crd", "crds"],
            status: true,
            columns: vec![col(
                "Created At",
                "date",
                ".metadata.creationTimestamp",
                0,
                "Creation time.",
            )],
        },
    ];
    list.into_iter()
        .map(|b| Resource {
            group: b.group.into(),
            version: b.version.into(),
            plural: b.plural.into(),
            singular: b.singular.into(),
            kind: b.kind.into(),
            list_kind: format!("{}List", b.kind),
            namespaced: b.namespaced,
            short_names: b.short.iter().map(|s| s.to_string()).collect(),
            categories: Vec::new(),
            status_subresource: b.status,
            schema: None,
            columns: b.columns,
            storage_version: b.version.into(),
            custom: false,
        })
        .collect()
}

/// Why a CRD object cannot be served, naming the field.
#[derive(Debug, Clone, PartialEq)]
pub struct CrdProblem {
    /// Field path, e.g. `spec.names.plural`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The resources one CRD object defines (one per served version), or the
/// first problem that stops it from being served.
pub fn resources_of_crd(crd: &Value) -> Result<Vec<Resource>, CrdProblem> {
    let problem = |field: &str, message: &str| CrdProblem {
        field: field.into(),
        message: message.into(),
    };
    let group = s(crd, &["spec", "group"])
        .filter(|g| !g.is_empty())
        .ok_or_else(|| problem("spec.group", "Required value"))?;
    let plural = s(crd, &["spec", "names", "plural"])
        .filter(|p| crate::meta::is_dns_label(p))
        .ok_or_else(|| {
            problem(
                "spec.names.plural",
                "Required value: a lower-case DNS-1123 label",
            )
        })?;
    let kind = s(crd, &["spec", "names", "kind"])
        .filter(|k| !k.is_empty())
        .ok_or_else(|| problem("spec.names.kind", "Required value"))?;
    let expected = format!("{plural}.{group}");
    match crate::meta::meta_str(crd, "name") {
        Some(n) if n == expected => {}
        _ => {
            return Err(problem(
                "metadata.name",
                &format!("Invalid value: must be spec.names.plural+\".\"+spec.group ({expected})"),
            ));
        }
    }
    let scope = s(crd, &["spec", "scope"]).unwrap_or("Namespaced");
    let namespaced = match scope {
        "Namespaced" => true,
        "Cluster" => false,
        _ => {
            return Err(problem(
                "spec.scope",
                "Unsupported value: must be \"Namespaced\" or \"Cluster\"",
            ));
        }
    };
    let versions = crd
        .get("spec")
        .and_then(|s| s.get("versions"))
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| problem("spec.versions", "Required value: at least one version"))?;
    let storage = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|v| v.get("name").and_then(Value::as_str))
        .or_else(|| {
            versions
                .first()
                .and_then(|v| v.get("name").and_then(Value::as_str))
        })
        .unwrap_or_default()
        .to_string();
    let names = crd.get("spec").and_then(|s| s.get("names"));
    let singular = names
        .and_then(|n| n.get("singular"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_lowercase());
    let list_kind = names
        .and_then(|n| n.get("listKind"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{kind}List"));
    let mut out = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let Some(name) = v
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            return Err(problem(
                &format!("spec.versions[{i}].name"),
                "Required value",
            ));
        };
        if v.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let schema = v
            .get("schema")
            .and_then(|s| s.get("openAPIV3Schema"))
            .cloned()
            .map(Arc::new);
        let status_subresource = v
            .get("subresources")
            .and_then(|s| s.get("status"))
            .is_some();
        let mut columns: Vec<Column> = v
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .map(|cols| {
                cols.iter()
                    .filter_map(|c| {
                        Some(Column {
                            name: c.get("name")?.as_str()?.to_string(),
                            type_: c
                                .get("type")
                                .and_then(Value::as_str)
                                .unwrap_or("string")
                                .to_string(),
                            format: c
                                .get("format")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                            description: c
                                .get("description")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                            priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                            json_path: c.get("jsonPath")?.as_str()?.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if columns.is_empty() {
            columns.push(age());
        }
        out.push(Resource {
            group: group.to_string(),
            version: name.to_string(),
            plural: plural.to_string(),
            singular: singular.clone(),
            kind: kind.to_string(),
            list_kind: list_kind.clone(),
            namespaced,
            short_names: strings(names.and_then(|n| n.get("shortNames"))),
            categories: strings(names.and_then(|n| n.get("categories"))),
            status_subresource,
            schema,
            columns,
            storage_version: storage.clone(),
            custom: true,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                    "schema": {"openAPIV3Schema": {"type": "object"}}}]
            }
        })
    }

    #[test]
    fn crd_kinds_are_registered() {
        let r = Registry::build(&[Arc::new(crd())]);
        let w = r.get("example.com", "v1", "widgets").expect("registered");
        assert!(w.namespaced && w.status_subresource && w.custom);
        assert_eq!(w.columns[0].name, "Size");
        assert_eq!(w.storage_key(), "example.com/widgets");
        assert!(r.get("", "v1", "configmaps").is_some());
        assert!(r.has_group_version("example.com", "v1"));
    }

    #[test]
    fn crd_with_wrong_name_is_rejected_naming_the_field() {
        let mut c = crd();
        c["metadata"]["name"] = json!("wrong");
        assert_eq!(resources_of_crd(&c).unwrap_err().field, "metadata.name");
    }
}
