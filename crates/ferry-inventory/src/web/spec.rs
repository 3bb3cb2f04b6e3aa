//! Which collections and trees each provider type serves: the table of
//! Forklift's inventory routes, as data. A provider type plugs in by having
//! its collector fill the stored collections named here.

/// Where a REST collection's objects come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The stored collection of this name.
    Stored(&'static str),
    /// Workloads: the stored VMs, served at full detail with references expanded.
    Workloads,
}

/// One REST collection under `/providers/<type>/<uid>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionSpec {
    /// Route segment (`vms`, `disks`, ...).
    pub name: &'static str,
    /// Where the objects come from.
    pub source: Source,
    /// Field of the provider resource that counts it (`vmCount`), if any.
    pub count_field: Option<&'static str>,
}

/// How a tree's leaves hang under their ancestors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Through each object's `parent` reference.
    Parent,
    /// Through a field of the leaf holding the id of an object of
    /// `collection` (vSphere's `tree/host`: a VM hangs under its `host`);
    /// from there on through `parent` references.
    Field {
        /// Field of the leaf object.
        field: &'static str,
        /// Stored collection the id belongs to.
        collection: &'static str,
    },
}

/// One tree route (`tree/<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeSpec {
    /// Route segment after `tree/`.
    pub name: &'static str,
    /// Stored collection of the leaves.
    pub leaves: &'static str,
    /// How leaves find their ancestors.
    pub link: Link,
}

/// A workload reference to expand: `field` holds the id of an object of `collection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expand {
    /// Field of the VM (or of an already expanded object).
    pub field: &'static str,
    /// Stored collection the id belongs to.
    pub collection: &'static str,
}

/// Everything the REST API serves for one provider type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeSpec {
    /// `spec.type` of the Provider.
    pub name: &'static str,
    /// REST collections.
    pub collections: &'static [CollectionSpec],
    /// Tree routes.
    pub trees: &'static [TreeSpec],
    /// References a workload expands, applied again on what they expand to.
    pub expand: &'static [Expand],
}

impl TypeSpec {
    /// The collection served at `name`.
    pub fn collection(&self, name: &str) -> Option<&'static CollectionSpec> {
        self.collections.iter().find(|c| c.name == name)
    }

    /// The tree served at `tree/<name>`.
    pub fn tree(&self, name: &str) -> Option<&'static TreeSpec> {
        self.trees.iter().find(|t| t.name == name)
    }
}

const fn stored(name: &'static str, count: Option<&'static str>) -> CollectionSpec {
    CollectionSpec {
        name,
        source: Source::Stored(name),
        count_field: count,
    }
}

const WORKLOADS: CollectionSpec = CollectionSpec {
    name: "workloads",
    source: Source::Workloads,
    count_field: None,
};

const fn tree(name: &'static str, leaves: &'static str) -> TreeSpec {
    TreeSpec {
        name,
        leaves,
        link: Link::Parent,
    }
}

/// Every provider type of Forklift's inventory with its routes.
pub const TYPES: &[TypeSpec] = &[
    TypeSpec {
        name: "ova",
        collections: &[
            stored("vms", Some("vmCount")),
            WORKLOADS,
            stored("disks", Some("diskCount")),
            stored("networks", Some("networkCount")),
            stored("storages", Some("storageCount")),
        ],
        trees: &[tree("vm", "vms")],
        expand: &[],
    },
    TypeSpec {
        name: "vsphere",
        collections: &[
            stored("vms", Some("vmCount")),
            WORKLOADS,
            stored("hosts", Some("hostCount")),
            stored("clusters", Some("clusterCount")),
            stored("datacenters", Some("datacenterCount")),
            stored("datastores", Some("datastoreCount")),
            stored("networks", Some("networkCount")),
            stored("folders", None),
        ],
        trees: &[
            TreeSpec {
                name: "host",
                leaves: "vms",
                link: Link::Field {
                    field: "host",
                    collection: "hosts",
                },
            },
            tree("vm", "vms"),
        ],
        expand: &[
            Expand {
                field: "host",
                collection: "hosts",
            },
            Expand {
                field: "cluster",
                collection: "clusters",
            },
            Expand {
                field: "datacenter",
                collection: "datacenters",
            },
        ],
    },
    TypeSpec {
        name: "ovirt",
        collections: &[
            stored("vms", Some("vmCount")),
            WORKLOADS,
            stored("hosts", Some("hostCount")),
            stored("clusters", Some("clusterCount")),
            stored("datacenters", Some("datacenterCount")),
            stored("disks", Some("diskCount")),
            stored("diskprofiles", None),
            stored("nicprofiles", None),
            stored("networks", Some("networkCount")),
            stored("storagedomains", Some("storageDomainCount")),
            stored("servercpus", None),
        ],
        trees: &[tree("cluster", "vms")],
        expand: &[
            Expand {
                field: "host",
                collection: "hosts",
            },
            Expand {
                field: "cluster",
                collection: "clusters",
            },
            Expand {
                field: "dataCenter",
                collection: "datacenters",
            },
        ],
    },
    TypeSpec {
        name: "openstack",
        collections: &[
            stored("vms", Some("vmCount")),
            WORKLOADS,
            stored("projects", Some("projectCount")),
            stored("regions", Some("regionCount")),
            stored("flavors", None),
            stored("images", Some("imageCount")),
            stored("volumes", Some("volumeCount")),
            stored("volumetypes", Some("volumeTypeCount")),
            stored("snapshots", None),
            stored("networks", Some("networkCount")),
            stored("subnets", None),
        ],
        trees: &[tree("project", "vms")],
        expand: &[],
    },
    TypeSpec {
        name: "openshift",
        collections: &[
            stored("vms", Some("vmCount")),
            stored("namespaces", None),
            stored("storageclasses", None),
            stored("networkattachmentdefinitions", None),
            stored("persistentvolumeclaims", None),
            stored("datavolumes", None),
            stored("instancetypes", None),
            stored("clusterinstancetypes", None),
            stored("kubevirts", None),
        ],
        trees: &[tree("namespace", "vms")],
        expand: &[],
    },
    TypeSpec {
        name: "hyperv",
        collections: &[
            stored("vms", Some("vmCount")),
            WORKLOADS,
            stored("hosts", Some("hostCount")),
            stored("clusters", Some("clusterCount")),
            stored("disks", Some("diskCount")),
            stored("networks", Some("networkCount")),
            stored("storages", Some("storageCount")),
        ],
        trees: &[tree("host", "vms")],
        expand: &[],
    },
    TypeSpec {
        name: "nutanix",
        collections: &[
            stored("vms", Some("vmCount")),
            WORKLOADS,
            stored("hosts", Some("hostCount")),
            stored("clusters", Some("clusterCount")),
            stored("images", None),
            stored("networks", Some("networkCount")),
            stored("storagecontainers", None),
        ],
        trees: &[],
        expand: &[],
    },
];

/// The spec of a provider type.
pub fn type_spec(name: &str) -> Option<&'static TypeSpec> {
    TYPES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tree_and_expansion_names_a_stored_collection_of_its_type() {
        for t in TYPES {
            let stored = |name: &str| {
                t.collections
                    .iter()
                    .any(|c| matches!(c.source, Source::Stored(n) if n == name))
            };
            for tree in t.trees {
                assert!(stored(tree.leaves), "{}: tree/{}", t.name, tree.name);
                if let Link::Field { collection, .. } = tree.link {
                    assert!(stored(collection), "{}: tree/{}", t.name, tree.name);
                }
            }
            for e in t.expand {
                assert!(stored(e.collection), "{}: expand {}", t.name, e.field);
            }
            let mut names: Vec<_> = t.collections.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                t.collections.len(),
                "{}: duplicate route",
                t.name
            );
        }
        let ova = type_spec("ova").unwrap();
        let routes: Vec<_> = ova.collections.iter().map(|c| c.name).collect();
        assert_eq!(
            routes,
            ["vms", "workloads", "disks", "networks", "storages"]
        );
        assert!(ova.tree("vm").is_some());
        assert!(type_spec("ec2").is_none());
    }
}
