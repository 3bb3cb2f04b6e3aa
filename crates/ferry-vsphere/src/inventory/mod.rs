//! The vSphere inventory collector: [`VsphereCollector`] implements
//! [`ferry_inventory::collector::Collector`] over this crate's SOAP client.
//!
//! It logs in, creates one PropertyCollector filter over a container view
//! of the whole inventory (every type and property of
//! [`ferry_inventory::vsphere::WATCHED`]) and reads it with
//! `WaitForUpdatesEx`: the first call returns every object, later calls only
//! what changed. The answers keep a [`ObjectSet`] current, from which each
//! [`Snapshot`] is built, so the inventory follows renames, power changes
//! and new disks without listing everything again. [`Collector::changed`]
//! long-polls `WaitForUpdatesEx` and resolves as soon as something changed.
//!
//! Property values arrive as XML [`Node`]s and are turned into JSON by
//! [`node_json`] (the form `ferry_inventory::vsphere::props` reads).
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ferry_inventory::collector::{BoxFuture, Collector};
use ferry_inventory::vsphere::{
    self as model, Applied, ObjectSet, PropertyChange as Change, PropertyOp, Props,
};
use ferry_inventory::{Error as InvError, ErrorKind as InvKind, Snapshot};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::{Client, ClientOptions, ErrorKind, FilterSpec, Node, UpdateKind, UpdateSet};

#[cfg(test)]
mod tests;

/// Collector settings.
#[derive(Debug, Clone)]
pub struct VsphereOptions {
    /// How to reach and log in to vCenter or ESXi.
    pub client: ClientOptions,
    /// Longest single `WaitForUpdatesEx` long poll of [`Collector::changed`].
    pub poll_wait: Duration,
    /// Pause after a failed long poll before `changed` resolves (so the
    /// inventory loop reconnects and reports the failure, without spinning).
    pub retry_after: Duration,
    /// Pause after a change before `changed` resolves, so that a burst of
    /// changes (a reconfiguration, a power-on) becomes one collection.
    pub settle: Duration,
}

impl VsphereOptions {
    /// Defaults: 60 s long polls, 10 s pause after a failure, 1 s to settle.
    pub fn new(client: ClientOptions) -> Self {
        Self {
            client,
            poll_wait: Duration::from_secs(60),
            retry_after: Duration::from_secs(10),
            settle: Duration::from_secs(1),
        }
    }
}

/// Most object updates asked for in one `WaitForUpdatesEx` answer.
const MAX_OBJECT_UPDATES: u32 = 1000;
/// Most `WaitForUpdatesEx` pages read by one collection (a bound, not a target).
const MAX_PAGES: usize = 100_000;

/// Collects one vSphere provider. Cheap to clone.
#[derive(Clone)]
pub struct VsphereCollector {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for VsphereCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VsphereCollector")
            .field("url", &self.inner.opts.client.url)
            .finish_non_exhaustive()
    }
}

struct Inner {
    opts: VsphereOptions,
    state: Mutex<State>,
    /// Sessions opened (each one lists the whole inventory once).
    sessions: AtomicUsize,
}

#[derive(Default)]
struct State {
    session: Option<Session>,
    set: ObjectSet,
}

struct Session {
    client: Client,
    version: String,
}

impl VsphereCollector {
    /// A collector; nothing is contacted until the first collection.
    pub fn new(opts: VsphereOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                opts,
                state: Mutex::new(State::default()),
                sessions: AtomicUsize::new(0),
            }),
        }
    }

    /// The SHA-1 thumbprint of the server certificate seen by the current
    /// session (for `Provider.status.fingerprint`), once connected.
    pub async fn thumbprint(&self) -> Option<String> {
        let st = self.inner.state.lock().await;
        st.session.as_ref().and_then(|s| s.client.thumbprint())
    }
}

impl Inner {
    async fn connect(&self) -> crate::Result<Session> {
        let client = Client::connect(&self.opts.client).await?;
        self.sessions.fetch_add(1, Ordering::Relaxed);
        let root = client.service_content().root_folder.clone();
        let kinds: Vec<&str> = model::WATCHED.iter().map(|(k, _)| *k).collect();
        let view = client.create_container_view(&root, &kinds, true).await?;
        // partialUpdates false: a change reports the whole property asked for.
        client
            .create_filter(&FilterSpec::container_view(&view, model::WATCHED), false)
            .await?;
        Ok(Session {
            client,
            version: String::new(),
        })
    }

    async fn collect(&self) -> Result<Snapshot, InvError> {
        let mut st = self.state.lock().await;
        if st.session.is_none() {
            let session = self
                .connect()
                .await
                .map_err(|e| inv_error(e, "connecting to"))?;
            st.set = ObjectSet::new();
            st.session = Some(session);
        }
        let State { session, set } = &mut *st;
        let Some(sess) = session.as_mut() else {
            return Err(InvError::new(InvKind::Connection, "no vSphere session"));
        };
        // Read every pending update without waiting.
        let mut pages = 0;
        let result = loop {
            pages += 1;
            match sess
                .client
                .wait_for_updates(
                    &sess.version,
                    Some(Duration::ZERO),
                    Some(MAX_OBJECT_UPDATES),
                )
                .await
            {
                Ok(None) => break Ok(()),
                Ok(Some(us)) => {
                    let truncated = us.truncated;
                    if let Err(e) = apply(&sess.client, set, &us).await {
                        break Err(e);
                    }
                    sess.version = us.version;
                    if !truncated || pages >= MAX_PAGES {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = result {
            st.session = None;
            return Err(inv_error(e, "reading the inventory of"));
        }
        st.set.snapshot()
    }

    /// Long-poll until something changed; `true` when it did.
    async fn wait_change(&self) -> bool {
        let mut st = self.state.lock().await;
        let State { session, set } = &mut *st;
        let Some(sess) = session.as_mut() else {
            drop(st);
            // Not connected: the inventory loop retries on its interval.
            std::future::pending::<()>().await;
            return false;
        };
        loop {
            match sess
                .client
                .wait_for_updates(
                    &sess.version,
                    Some(self.opts.poll_wait),
                    Some(MAX_OBJECT_UPDATES),
                )
                .await
            {
                Ok(None) => continue,
                Ok(Some(us)) => {
                    let any = us.filters.iter().any(|f| !f.objects.is_empty());
                    if let Err(e) = apply(&sess.client, set, &us).await {
                        tracing::warn!(error = %e, "vSphere update could not be applied; collecting again");
                        st.session = None;
                        return true;
                    }
                    sess.version = us.version;
                    if any {
                        drop(st);
                        // The next collection reads what arrives meanwhile.
                        tokio::time::sleep(self.opts.settle).await;
                        return true;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "waiting for vSphere updates failed");
                    st.session = None;
                    drop(st);
                    tokio::time::sleep(self.opts.retry_after).await;
                    return true;
                }
            }
        }
    }
}

/// Apply one `UpdateSet` to the object set, fetching again the objects an
/// update could not be applied to exactly.
async fn apply(client: &Client, set: &mut ObjectSet, us: &UpdateSet) -> crate::Result<()> {
    let mut refetch = Vec::new();
    for f in &us.filters {
        for o in &f.objects {
            let obj = model::MoRef::new(&o.obj.kind, &o.obj.value);
            let update = match o.kind {
                UpdateKind::Enter => model::ObjectUpdate::Enter {
                    obj: obj.clone(),
                    props: o
                        .changes
                        .iter()
                        .filter_map(|c| Some((c.name.clone(), node_json(c.value.as_ref()?))))
                        .collect::<Props>(),
                },
                UpdateKind::Leave => model::ObjectUpdate::Leave { obj: obj.clone() },
                UpdateKind::Modify => {
                    let mut changes = Vec::new();
                    let mut unknown = false;
                    for c in &o.changes {
                        match PropertyOp::parse(&c.op) {
                            Some(op) => changes.push(Change {
                                name: c.name.clone(),
                                op,
                                val: c.value.as_ref().map(node_json),
                            }),
                            None => unknown = true,
                        }
                    }
                    if unknown {
                        refetch.push(o.obj.clone());
                    }
                    model::ObjectUpdate::Modify {
                        obj: obj.clone(),
                        changes,
                    }
                }
            };
            if set.apply(update) == Applied::Refetch {
                refetch.push(o.obj.clone());
            }
        }
    }
    refetch.sort();
    refetch.dedup();
    for obj in refetch {
        let paths = model::properties_for(&obj.kind);
        let spec = FilterSpec::objects(std::slice::from_ref(&obj), paths);
        let key = model::MoRef::new(&obj.kind, &obj.value);
        match client.retrieve_properties(&spec).await {
            Ok(found) => match found.into_iter().find(|c| c.obj == obj) {
                Some(content) => set.insert(
                    key,
                    content
                        .props
                        .iter()
                        .map(|(p, v)| (p.clone(), node_json(v)))
                        .collect(),
                ),
                None => set.remove(&key),
            },
            Err(e) if e.kind() == ErrorKind::NotFound => set.remove(&key),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A property value as JSON: data objects become objects with `_type` and
/// one key per child (repeated children become arrays), managed object
/// references `{"type", "value"}`, primitives their text.
pub fn node_json(n: &Node) -> Value {
    if n.children.is_empty() {
        if let Some(t) = n.xsi_type.as_ref().filter(|t| t.starts_with("ArrayOf")) {
            // An empty list.
            let mut m = Map::new();
            m.insert("_type".into(), Value::String(t.clone()));
            return Value::Object(m);
        }
        if let Some(kind) = &n.type_attr {
            let mut m = Map::new();
            m.insert("type".into(), Value::String(kind.clone()));
            m.insert("value".into(), Value::String(n.text.trim().to_owned()));
            return Value::Object(m);
        }
        return Value::String(n.text.clone());
    }
    let mut m = Map::new();
    if let Some(t) = &n.xsi_type {
        m.insert("_type".into(), Value::String(t.clone()));
    }
    for c in &n.children {
        let v = node_json(c);
        match m.get_mut(&c.name) {
            None => {
                m.insert(c.name.clone(), v);
            }
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
        }
    }
    Value::Object(m)
}

/// This crate's error as an inventory error: unreachable server, TLS trust,
/// wrong credentials and timeouts are connection failures
/// (`ConnectionTestFailed`); the rest are collection errors.
fn inv_error(e: crate::Error, doing: &str) -> InvError {
    let kind = match e.kind() {
        ErrorKind::Connect
        | ErrorKind::TlsUntrusted
        | ErrorKind::ThumbprintMismatch
        | ErrorKind::Tls
        | ErrorKind::InvalidLogin
        | ErrorKind::NotAuthenticated
        | ErrorKind::Timeout => InvKind::Connection,
        _ => InvKind::Collect,
    };
    InvError::new(kind, format!("{doing} the vSphere server")).with_source(e)
}

impl Collector for VsphereCollector {
    fn provider_type(&self) -> &str {
        model::VSPHERE
    }

    fn collect(&self) -> BoxFuture<'_, ferry_inventory::Result<Snapshot>> {
        Box::pin(self.inner.collect())
    }

    /// Resolves when `WaitForUpdatesEx` reports a change (already applied to
    /// the object set) or the session failed.
    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.inner.wait_change().await;
        })
    }
}
