//! PropertyCollector: container views, `RetrievePropertiesEx` +
//! `ContinueRetrievePropertiesEx`, `CreateFilter` + `WaitForUpdatesEx`.
use std::time::Duration;

use crate::error::{Error, Result};
use crate::soap::{Body, Node};
use crate::{Client, MoRef};

/// Which properties of which type to collect.
#[derive(Debug, Clone)]
pub struct PropertySpec {
    /// Managed object type, e.g. `VirtualMachine`.
    pub kind: String,
    /// Property paths, e.g. `name`, `runtime.powerState`. Empty with
    /// `all == false` collects only the references.
    pub paths: Vec<String>,
    /// Collect every property (expensive).
    pub all: bool,
}

/// A traversal step: from objects of `kind`, follow property `path`.
#[derive(Debug, Clone)]
pub struct TraversalSpec {
    /// Name other specs refer to in `select`.
    pub name: String,
    pub kind: String,
    pub path: String,
    /// Skip the objects reached (collect only through them).
    pub skip: bool,
    /// Names of traversal specs to apply to the objects reached.
    pub select: Vec<String>,
}

/// A starting object and the traversals from it.
#[derive(Debug, Clone)]
pub struct ObjectSpec {
    pub obj: MoRef,
    /// Do not collect properties of `obj` itself.
    pub skip: bool,
    pub select: Vec<TraversalSpec>,
}

/// What to collect.
#[derive(Debug, Clone)]
pub struct FilterSpec {
    pub props: Vec<PropertySpec>,
    pub objects: Vec<ObjectSpec>,
}

impl FilterSpec {
    /// Every object of a container view, with `props` per type.
    pub fn container_view(view: &MoRef, props: &[(&str, &[&str])]) -> FilterSpec {
        FilterSpec {
            props: props
                .iter()
                .map(|(kind, paths)| PropertySpec {
                    kind: kind.to_string(),
                    paths: paths.iter().map(|p| p.to_string()).collect(),
                    all: false,
                })
                .collect(),
            objects: vec![ObjectSpec {
                obj: view.clone(),
                skip: true,
                select: vec![TraversalSpec {
                    name: "traverseView".into(),
                    kind: "ContainerView".into(),
                    path: "view".into(),
                    skip: false,
                    select: Vec::new(),
                }],
            }],
        }
    }

    /// Properties of the given objects themselves.
    pub fn objects(objs: &[MoRef], paths: &[&str]) -> FilterSpec {
        let mut kinds: Vec<String> = objs.iter().map(|o| o.kind.clone()).collect();
        kinds.sort();
        kinds.dedup();
        FilterSpec {
            props: kinds
                .into_iter()
                .map(|kind| PropertySpec {
                    kind,
                    paths: paths.iter().map(|p| p.to_string()).collect(),
                    all: false,
                })
                .collect(),
            objects: objs
                .iter()
                .map(|o| ObjectSpec {
                    obj: o.clone(),
                    skip: false,
                    select: Vec::new(),
                })
                .collect(),
        }
    }

    fn write(&self, b: &mut Body, tag: &str) {
        b.open(tag, None);
        for p in &self.props {
            b.open("propSet", None).text("type", &p.kind);
            if p.all {
                b.value("all", true);
            }
            for path in &p.paths {
                b.text("pathSet", path);
            }
            b.close("propSet");
        }
        for o in &self.objects {
            b.open("objectSet", None)
                .moref("obj", &o.obj)
                .value("skip", o.skip);
            for t in &o.select {
                b.open("selectSet", Some("TraversalSpec"))
                    .text("name", &t.name)
                    .text("type", &t.kind)
                    .text("path", &t.path)
                    .value("skip", t.skip);
                for s in &t.select {
                    b.open("selectSet", None).text("name", s).close("selectSet");
                }
                b.close("selectSet");
            }
            b.close("objectSet");
        }
        b.close(tag);
    }
}

/// A property that could not be read.
#[derive(Debug, Clone)]
pub struct MissingProperty {
    pub path: String,
    /// The fault type.
    pub fault: String,
    pub message: String,
}

/// The properties of one object.
#[derive(Debug, Clone)]
pub struct ObjectContent {
    pub obj: MoRef,
    /// `(path, value)` in the server's order.
    pub props: Vec<(String, Node)>,
    pub missing: Vec<MissingProperty>,
}

impl ObjectContent {
    fn from_node(n: &Node) -> ObjectContent {
        ObjectContent {
            obj: n
                .child("obj")
                .map(MoRef::from_node)
                .unwrap_or_else(|| MoRef::new("", "")),
            props: n
                .children_named("propSet")
                .filter_map(|p| Some((p.text_of("name")?.to_string(), p.child("val")?.clone())))
                .collect(),
            missing: n.children_named("missingSet").map(missing).collect(),
        }
    }

    /// The value of `path`.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.props.iter().find(|(p, _)| p == path).map(|(_, v)| v)
    }

    /// The text of a simple property (`name`, `runtime.powerState`).
    pub fn text(&self, path: &str) -> Option<&str> {
        self.get(path).map(|v| v.text.as_str())
    }
}

fn missing(m: &Node) -> MissingProperty {
    let (fault, message) = m
        .child("fault")
        .map(crate::soap::localized_fault)
        .unwrap_or_default();
    MissingProperty {
        path: m.text_of("path").unwrap_or_default().to_string(),
        fault,
        message,
    }
}

/// How an object changed in an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    Enter,
    Modify,
    Leave,
}

/// One property change; `value` is `None` for `remove`/`indirectRemove`.
#[derive(Debug, Clone)]
pub struct PropertyChange {
    pub name: String,
    /// `add`, `remove`, `assign`, `indirectRemove`.
    pub op: String,
    pub value: Option<Node>,
}

/// One object's changes.
#[derive(Debug, Clone)]
pub struct ObjectUpdate {
    pub kind: UpdateKind,
    pub obj: MoRef,
    pub changes: Vec<PropertyChange>,
    pub missing: Vec<MissingProperty>,
}

/// The changes of one filter.
#[derive(Debug, Clone)]
pub struct PropertyFilterUpdate {
    pub filter: MoRef,
    pub objects: Vec<ObjectUpdate>,
}

/// The answer of `WaitForUpdatesEx`.
#[derive(Debug, Clone)]
pub struct UpdateSet {
    /// Pass this version to the next call.
    pub version: String,
    /// More updates are pending: call again right away.
    pub truncated: bool,
    pub filters: Vec<PropertyFilterUpdate>,
}

impl UpdateSet {
    fn from_node(n: &Node) -> Result<UpdateSet> {
        let version = n
            .text_of("version")
            .ok_or_else(|| Error::protocol("WaitForUpdatesEx: the UpdateSet has no version"))?
            .to_string();
        let filters = n
            .children_named("filterSet")
            .map(|f| PropertyFilterUpdate {
                filter: f
                    .child("filter")
                    .map(MoRef::from_node)
                    .unwrap_or_else(|| MoRef::new("", "")),
                objects: f
                    .children_named("objectSet")
                    .map(|o| ObjectUpdate {
                        kind: match o.text_of("kind") {
                            Some("enter") => UpdateKind::Enter,
                            Some("leave") => UpdateKind::Leave,
                            _ => UpdateKind::Modify,
                        },
                        obj: o
                            .child("obj")
                            .map(MoRef::from_node)
                            .unwrap_or_else(|| MoRef::new("", "")),
                        changes: o
                            .children_named("changeSet")
                            .map(|c| PropertyChange {
                                name: c.text_of("name").unwrap_or_default().to_string(),
                                op: c.text_of("op").unwrap_or_default().to_string(),
                                value: c.child("val").cloned(),
                            })
                            .collect(),
                        missing: o.children_named("missingSet").map(missing).collect(),
                    })
                    .collect(),
            })
            .collect();
        Ok(UpdateSet {
            version,
            truncated: n.text_of("truncated") == Some("true"),
            filters,
        })
    }
}

impl Client {
    /// `CreateContainerView` on the view manager: every object of `kinds`
    /// (all types when empty) under `container`.
    pub async fn create_container_view(
        &self,
        container: &MoRef,
        kinds: &[&str],
        recursive: bool,
    ) -> Result<MoRef> {
        let vm = self.service_content().view_manager.clone().ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Unsupported,
                "this server has no ViewManager",
            )
        })?;
        let mut b = Body::new("CreateContainerView", &vm);
        b.moref("container", container);
        for k in kinds {
            b.text("type", k);
        }
        b.value("recursive", recursive);
        let resp = self.call(&b).await?;
        resp.child("returnval")
            .map(MoRef::from_node)
            .ok_or_else(|| Error::protocol("CreateContainerView: no returnval"))
    }

    /// `DestroyView`.
    pub async fn destroy_view(&self, view: &MoRef) -> Result<()> {
        self.call(&Body::new("DestroyView", view)).await.map(|_| ())
    }

    /// `RetrievePropertiesEx`, then `ContinueRetrievePropertiesEx` until the
    /// result has no token.
    pub async fn retrieve_properties(&self, spec: &FilterSpec) -> Result<Vec<ObjectContent>> {
        let pc = self.service_content().property_collector.clone();
        let mut b = Body::new("RetrievePropertiesEx", &pc);
        spec.write(&mut b, "specSet");
        b.open("options", None)
            .value("maxObjects", self.inner.page_size)
            .close("options");
        let mut out = Vec::new();
        let mut resp = self.call(&b).await?;
        while let Some(rv) = resp.child("returnval") {
            out.extend(rv.children_named("objects").map(ObjectContent::from_node));
            let Some(token) = rv.text_of("token").map(str::to_string) else {
                break;
            };
            let mut c = Body::new("ContinueRetrievePropertiesEx", &pc);
            c.text("token", &token);
            resp = self.call(&c).await?;
        }
        Ok(out)
    }

    /// Every object of `kinds` in the inventory with the given properties
    /// (a container view on the root folder, retrieved, then destroyed).
    pub async fn retrieve_all(&self, props: &[(&str, &[&str])]) -> Result<Vec<ObjectContent>> {
        let kinds: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
        let root = self.service_content().root_folder.clone();
        let view = self.create_container_view(&root, &kinds, true).await?;
        let r = self
            .retrieve_properties(&FilterSpec::container_view(&view, props))
            .await;
        let d = self.destroy_view(&view).await;
        let r = r?;
        d?;
        Ok(r)
    }

    /// The inventory path of the datacenter that holds `entity` (what
    /// datastore URLs take as `dcPath`), e.g. `DC0` or `Folder1/DC1`.
    pub async fn datacenter_path(&self, entity: &MoRef) -> Result<String> {
        let root = self.service_content().root_folder.clone();
        let mut names = Vec::new();
        let mut cur = entity.clone();
        let mut found = false;
        // Deep enough for any real inventory, and a guard against loops.
        for _ in 0..64 {
            if cur == root {
                break;
            }
            let objs = self
                .retrieve_properties(&FilterSpec::objects(
                    std::slice::from_ref(&cur),
                    &["name", "parent"],
                ))
                .await?;
            let o = objs.first().ok_or_else(|| {
                Error::new(crate::ErrorKind::NotFound, format!("{cur} does not exist"))
                    .with_fault("ManagedObjectNotFound")
            })?;
            if cur.kind == "Datacenter" {
                found = true;
            }
            if found {
                names.push(o.text("name").unwrap_or_default().to_string());
            }
            match o.get("parent") {
                Some(p) => cur = MoRef::from_node(p),
                None => break,
            }
        }
        if !found {
            return Err(Error::new(
                crate::ErrorKind::NotFound,
                format!("{entity} is not inside a datacenter"),
            ));
        }
        names.reverse();
        Ok(names.join("/"))
    }

    /// `CreateFilter` on the session's property collector.
    pub async fn create_filter(&self, spec: &FilterSpec, partial_updates: bool) -> Result<MoRef> {
        let pc = self.service_content().property_collector.clone();
        let mut b = Body::new("CreateFilter", &pc);
        spec.write(&mut b, "spec");
        b.value("partialUpdates", partial_updates);
        let resp = self.call(&b).await?;
        resp.child("returnval")
            .map(MoRef::from_node)
            .ok_or_else(|| Error::protocol("CreateFilter: no returnval"))
    }

    /// `DestroyPropertyFilter`.
    pub async fn destroy_filter(&self, filter: &MoRef) -> Result<()> {
        self.call(&Body::new("DestroyPropertyFilter", filter))
            .await
            .map(|_| ())
    }

    /// `WaitForUpdatesEx` from `version` (empty for the initial full set).
    /// Waits at most `max_wait` (rounded to seconds; `None` waits until
    /// something changes). `Ok(None)` when the wait ended without changes.
    ///
    /// Filters belong to the session: if the session expired and the call
    /// logged in again, the filters are gone and the next answer has none
    /// of their updates; recreate them when [`Client::session_generation`]
    /// changes.
    pub async fn wait_for_updates(
        &self,
        version: &str,
        max_wait: Option<Duration>,
        max_objects: Option<u32>,
    ) -> Result<Option<UpdateSet>> {
        let pc = self.service_content().property_collector.clone();
        let mut b = Body::new("WaitForUpdatesEx", &pc);
        b.text("version", version);
        b.open("options", None);
        if let Some(w) = max_wait {
            b.value("maxWaitSeconds", w.as_secs());
        }
        if let Some(m) = max_objects {
            b.value("maxObjectUpdates", m);
        }
        b.close("options");
        // The HTTP call may take as long as the wait itself.
        let timeout = max_wait.map(|w| w + Duration::from_secs(60));
        let resp = match timeout {
            Some(t) => self.call_with_timeout(&b, Some(t)).await?,
            None => {
                self.call_with_timeout(&b, Some(Duration::from_secs(24 * 3600)))
                    .await?
            }
        };
        resp.child("returnval")
            .map(UpdateSet::from_node)
            .transpose()
    }
}
