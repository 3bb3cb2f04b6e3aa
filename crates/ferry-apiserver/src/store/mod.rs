//! Object storage: SQLite (WAL, one transaction per write) behind an
//! in-memory index, a global monotonic resourceVersion, a persisted event
//! history for resuming watches, and a bounded broadcast for live watchers.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::error::Error;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed (including a deletionTimestamp being set).
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The watch event `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }

    fn code(self) -> i64 {
        match self {
            EventType::Added => 0,
            EventType::Modified => 1,
            EventType::Deleted => 2,
        }
    }

    fn from_code(c: i64) -> Self {
        match c {
            0 => EventType::Added,
            1 => EventType::Modified,
            _ => EventType::Deleted,
        }
    }
}

/// One change, as stored in the history and sent to watchers.
#[derive(Debug, Clone)]
pub struct Event {
    /// resourceVersion of the change.
    pub rv: u64,
    /// Added, Modified or Deleted.
    pub kind: EventType,
    /// Storage key (`group/plural`).
    pub key: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Object name.
    pub name: String,
    /// The object after the change (before it, for Deleted, with the new rv).
    pub object: Arc<Value>,
}

/// A write the store refused.
#[derive(Debug)]
pub enum WriteError {
    /// Create of an existing name.
    AlreadyExists,
    /// Update/delete of a missing object.
    NotFound,
    /// The expected resourceVersion or uid did not match.
    Conflict,
    /// SQLite failed.
    Db(rusqlite::Error),
}

/// One write.
#[derive(Debug)]
pub enum Write {
    /// Insert a new object (fails if the name exists).
    Create,
    /// Replace an object; `expect_rv` guards against lost updates.
    Update {
        /// Required current resourceVersion (None = unconditional).
        expect_rv: Option<u64>,
    },
    /// Remove an object.
    Delete {
        /// Required current resourceVersion (None = unconditional).
        expect_rv: Option<u64>,
    },
}

/// Store tuning.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Events kept for resuming watches (older ones answer 410 Gone).
    pub history: u64,
    /// Live events buffered for watchers; one that falls further behind
    /// catches up from the history (and re-lists only if that was pruned).
    pub watch_buffer: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            history: 20_000,
            watch_buffer: 1_024,
        }
    }
}

/// An object as kept in memory: its JSON text (a parsed `Value` of a
/// typical object takes about seven times the space, and the server keeps
/// every object) and its resourceVersion.
#[derive(Debug, Clone)]
pub struct Stored {
    rv: u64,
    json: Arc<str>,
}

impl Stored {
    /// The object's resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// The object. `None` (and a warning) when the text does not parse,
    /// which only a damaged database can cause: the server wrote it.
    pub fn value(&self) -> Option<Value> {
        match serde_json::from_str(&self.json) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(rv = self.rv, error = %e, "skipping an unreadable stored object");
                None
            }
        }
    }
}

type Objects = BTreeMap<(String, String), Stored>;
type ObjectIter<'a> = Box<dyn Iterator<Item = (&'a (String, String), &'a Stored)> + 'a>;

struct Inner {
    db: Connection,
    objects: HashMap<String, Objects>,
    rv: u64,
    compacted: u64,
    writes_since_prune: u64,
}

/// The store. Cheap to share behind an `Arc`.
pub struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
    opts: StoreOptions,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

fn db_err(action: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
    move |source| Error::Store {
        action: action.to_string(),
        source,
    }
}

impl Store {
    /// Open (or create) the database at `path` and load every object.
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Self, Error> {
        let db = Connection::open(path).map_err(db_err("opening the database"))?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS objects (key TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
                 rv INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (key, ns, name)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS events (rv INTEGER PRIMARY KEY, type INTEGER NOT NULL, key TEXT NOT NULL,
                 ns TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS events_key ON events (key, rv);
             CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);",
        )
        .map_err(db_err("creating the schema"))?;
        let meta = |k: &str| -> Result<u64, Error> {
            let v: Option<i64> = db
                .query_row("SELECT v FROM meta WHERE k = ?1", [k], |r| r.get(0))
                .optional()
                .map_err(db_err("reading metadata"))?;
            Ok(v.unwrap_or(0).max(0) as u64)
        };
        let mut rv = meta("rv")?;
        let compacted = meta("compacted")?;
        let mut objects: HashMap<String, Objects> = HashMap::new();
        {
            let mut stmt = db
                .prepare("SELECT key, ns, name, rv, data FROM objects")
                .map_err(db_err("loading objects"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .map_err(db_err("loading objects"))?;
            for row in rows {
                let (key, ns, name, orv, data) = row.map_err(db_err("loading objects"))?;
                let orv = orv.max(0) as u64;
                rv = rv.max(orv);
                let stored = Stored {
                    rv: orv,
                    json: Arc::from(data),
                };
                if stored.value().is_some() {
                    objects.entry(key).or_default().insert((ns, name), stored);
                } else {
                    tracing::warn!(%key, %ns, %name, "skipping an unreadable stored object");
                }
            }
        }
        let (tx, _) = broadcast::channel(opts.watch_buffer.max(16));
        Ok(Self {
            inner: Mutex::new(Inner {
                db,
                objects,
                rv,
                compacted,
                writes_since_prune: 0,
            }),
            tx,
            opts,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The latest resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// One object.
    pub fn get(&self, key: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let stored = {
            let inner = self.lock();
            inner
                .objects
                .get(key)?
                .get(&(ns.to_string(), name.to_string()))
                .cloned()?
        };
        stored.value().map(Arc::new)
    }

    /// Objects of a storage key, optionally in one namespace, ordered by
    /// (namespace, name), starting after `after`; with the current rv.
    pub fn list(
        &self,
        key: &str,
        ns: Option<&str>,
        after: Option<&(String, String)>,
    ) -> (Vec<Stored>, u64) {
        let inner = self.lock();
        let items = match inner.objects.get(key) {
            None => Vec::new(),
            Some(map) => {
                let iter: ObjectIter<'_> = match after {
                    Some(a) => Box::new(map.range((
                        std::ops::Bound::Excluded(a.clone()),
                        std::ops::Bound::Unbounded,
                    ))),
                    None => Box::new(map.iter()),
                };
                iter.filter(|((n, _), _)| ns.is_none_or(|want| want == n))
                    .map(|(_, v)| v.clone())
                    .collect()
            }
        };
        (items, inner.rv)
    }

    /// [`Store::list`], every object parsed.
    pub fn list_values(&self, key: &str, ns: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let (stored, rv) = self.list(key, ns, None);
        let values = stored
            .iter()
            .filter_map(Stored::value)
            .map(Arc::new)
            .collect();
        (values, rv)
    }

    /// Does any object live in namespace `ns` (any kind)?
    pub fn namespace_is_empty(&self, ns: &str) -> bool {
        let inner = self.lock();
        !inner
            .objects
            .values()
            .any(|m| m.keys().any(|(n, _)| n == ns))
    }

    /// Names of the objects in namespace `ns`, per storage key.
    pub fn in_namespace(&self, ns: &str) -> Vec<(String, String)> {
        let inner = self.lock();
        inner
            .objects
            .iter()
            .flat_map(|(k, m)| {
                m.keys()
                    .filter(|(n, _)| n == ns)
                    .map(move |(_, name)| (k.clone(), name.clone()))
            })
            .collect()
    }

    /// Apply one write. `object` must carry `metadata.name` (and
    /// `metadata.namespace` for namespaced kinds); its resourceVersion is set
    /// here. Returns the stored object.
    pub fn write(
        &self,
        key: &str,
        ns: &str,
        name: &str,
        op: Write,
        object: Value,
    ) -> Result<Arc<Value>, WriteError> {
        let mut inner = self.lock();
        let id = (ns.to_string(), name.to_string());
        let current = inner.objects.get(key).and_then(|m| m.get(&id)).cloned();
        let current_rv = current.as_ref().map(Stored::rv);
        let check = |expect: Option<u64>| match (expect, current_rv) {
            (Some(e), Some(c)) if e != c => Err(WriteError::Conflict),
            _ => Ok(()),
        };
        let kind = match (&op, &current) {
            (Write::Create, Some(_)) => return Err(WriteError::AlreadyExists),
            (Write::Create, None) => EventType::Added,
            (Write::Update { .. } | Write::Delete { .. }, None) => {
                return Err(WriteError::NotFound);
            }
            (Write::Update { expect_rv }, Some(_)) => {
                check(*expect_rv)?;
                EventType::Modified
            }
            (Write::Delete { expect_rv }, Some(_)) => {
                check(*expect_rv)?;
                EventType::Deleted
            }
        };
        let rv = inner.rv + 1;
        let mut object = object;
        if let Some(m) = crate::meta::metadata_mut(&mut object) {
            m.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let data = object.to_string();
        let prune_to = if inner.writes_since_prune >= 256 && rv > self.opts.history {
            Some(rv - self.opts.history)
        } else {
            None
        };
        let tx_result = (|| -> rusqlite::Result<()> {
            let tx = inner.db.transaction()?;
            match kind {
                EventType::Deleted => {
                    tx.execute(
                        "DELETE FROM objects WHERE key = ?1 AND ns = ?2 AND name = ?3",
                        params![key, ns, name],
                    )?;
                }
                _ => {
                    tx.execute(
                        "INSERT OR REPLACE INTO objects (key, ns, name, rv, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![key, ns, name, rv as i64, data],
                    )?;
                }
            }
            tx.execute(
                "INSERT INTO events (rv, type, key, ns, name, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![rv as i64, kind.code(), key, ns, name, data],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO meta (k, v) VALUES ('rv', ?1)",
                [rv as i64],
            )?;
            if let Some(cut) = prune_to {
                tx.execute("DELETE FROM events WHERE rv <= ?1", [cut as i64])?;
                tx.execute(
                    "INSERT OR REPLACE INTO meta (k, v) VALUES ('compacted', ?1)",
                    [cut as i64],
                )?;
            }
            tx.commit()
        })();
        tx_result.map_err(WriteError::Db)?;
        inner.rv = rv;
        inner.writes_since_prune += 1;
        if let Some(cut) = prune_to {
            inner.compacted = cut;
            inner.writes_since_prune = 0;
        }
        let object = Arc::new(object);
        match kind {
            EventType::Deleted => {
                if let Some(m) = inner.objects.get_mut(key) {
                    m.remove(&id);
                }
            }
            _ => {
                let stored = Stored {
                    rv,
                    json: Arc::from(data),
                };
                inner
                    .objects
                    .entry(key.to_string())
                    .or_default()
                    .insert(id, stored);
            }
        }
        // Sent under the lock so that watchers see events in rv order.
        let _ = self.tx.send(Arc::new(Event {
            rv,
            kind,
            key: key.to_string(),
            namespace: ns.to_string(),
            name: name.to_string(),
            object: object.clone(),
        }));
        Ok(object)
    }

    /// Start watching `key` from the state now: the current objects (for
    /// synthetic ADDED events), the rv they are at, and the live receiver.
    pub fn subscribe_now(
        &self,
        key: &str,
        ns: Option<&str>,
    ) -> (Vec<Stored>, u64, broadcast::Receiver<Arc<Event>>) {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        let items = inner
            .objects
            .get(key)
            .map(|m| {
                m.iter()
                    .filter(|((n, _), _)| ns.is_none_or(|w| w == n))
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default();
        (items, inner.rv, rx)
    }

    /// Start watching `key` after resourceVersion `from`: the recorded events
    /// since then and the live receiver. `Err(oldest)` when `from` is older
    /// than the history kept.
    #[allow(clippy::type_complexity)]
    pub fn subscribe_from(
        &self,
        key: &str,
        from: u64,
    ) -> Result<(Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>), u64> {
        let inner = self.lock();
        if from < inner.compacted {
            return Err(inner.compacted);
        }
        let rx = self.tx.subscribe();
        let mut out = Vec::new();
        if from < inner.rv {
            let loaded = (|| -> rusqlite::Result<Vec<Arc<Event>>> {
                let mut stmt = inner
                    .db
                    .prepare_cached("SELECT rv, type, ns, name, data FROM events WHERE key = ?1 AND rv > ?2 ORDER BY rv")?;
                let rows = stmt.query_map(params![key, from as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?;
                let mut v = Vec::new();
                for row in rows {
                    let (rv, t, ns, name, data) = row?;
                    if let Ok(obj) = serde_json::from_str::<Value>(&data) {
                        v.push(Arc::new(Event {
                            rv: rv.max(0) as u64,
                            kind: EventType::from_code(t),
                            key: key.to_string(),
                            namespace: ns,
                            name,
                            object: Arc::new(obj),
                        }));
                    }
                }
                Ok(v)
            })();
            match loaded {
                Ok(v) => out = v,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the watch history; the watcher must re-list");
                    return Err(inner.rv);
                }
            }
        }
        Ok((out, rx))
    }

    /// The oldest resourceVersion a watch may resume from.
    pub fn compacted_rv(&self) -> u64 {
        self.lock().compacted
    }
}

/// `metadata.resourceVersion` as a number.
pub fn object_rv(obj: &Value) -> Option<u64> {
    crate::meta::meta_str(obj, "resourceVersion")?.parse().ok()
}

#[cfg(test)]
mod tests;
