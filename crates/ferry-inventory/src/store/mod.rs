//! The SQLite inventory store: one database for every provider, resources
//! keyed by `(provider uid, collection, id)` and stored as JSON, with a
//! revision that moves only when the collected data really changes.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::{Error, ErrorKind, Result};
use crate::model::{
    ApplyReport, Concern, ProviderInfo, Ref, Resource, Snapshot, StoredProvider, StoredResource,
};

#[cfg(test)]
mod tests;

/// Schema version written to `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS providers (
    uid TEXT PRIMARY KEY NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    url TEXT NOT NULL,
    resource_version TEXT NOT NULL,
    object TEXT NOT NULL,
    phase TEXT NOT NULL,
    revision INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS resources (
    provider TEXT NOT NULL REFERENCES providers(uid) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    variant TEXT NOT NULL,
    parent_kind TEXT,
    parent_id TEXT,
    path TEXT NOT NULL,
    object TEXT NOT NULL,
    revision INTEGER NOT NULL,
    revision_validated INTEGER NOT NULL DEFAULT 0,
    rules_version INTEGER,
    concerns TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (provider, collection, id)
);
CREATE INDEX IF NOT EXISTS resources_by_name ON resources(provider, collection, name);
CREATE INDEX IF NOT EXISTS resources_by_kind ON resources(provider, kind, id);
";

const RESOURCE_COLUMNS: &str = "collection, id, name, kind, variant, parent_kind, parent_id, \
     path, object, revision, revision_validated, rules_version, concerns";

/// Phase of a provider whose first collection has not finished.
pub const PHASE_COLLECTING: &str = "Collecting";
/// Phase after a successful collection.
pub const PHASE_READY: &str = "Ready";
/// Phase after a failed collection.
pub const PHASE_FAILED: &str = "Failed";

/// List filters and paging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Forklift's `name=` filter: the last `/`-separated segment must equal the
    /// object's name; with more than one segment the path must match too.
    pub name: Option<String>,
    /// At most this many objects.
    pub limit: Option<usize>,
    /// Skip this many objects first.
    pub offset: usize,
}

/// The inventory database.
pub struct Store {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open (or create) the database file at `path`, in WAL mode.
    pub fn open(path: &Path) -> Result<Self> {
        let ctx = || format!("opening the inventory database {}", path.display());
        let conn = Connection::open(path).map_err(|e| Error::store(ctx(), e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| Error::store(ctx(), e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| Error::store(ctx(), e))?;
        Self::init(conn, Some(path.to_owned()))
    }

    /// Open a database that must already exist (readers such as the CLI must
    /// not create an empty one in a user's data directory).
    pub fn open_existing(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::new(
                ErrorKind::Store,
                format!(
                    "there is no inventory database at {}; start ferry (ferry serve or ferry migrate) with this data directory first",
                    path.display()
                ),
            ));
        }
        Self::open(path)
    }

    /// A private in-memory database (tests, one-shot runs).
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory()
            .map_err(|e| Error::store("opening an in-memory inventory database", e))?;
        Self::init(conn, None)
    }

    fn init(conn: Connection, path: Option<PathBuf>) -> Result<Self> {
        let ctx = "creating the inventory schema";
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| Error::store(ctx, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| Error::store(ctx, e))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| Error::store(ctx, e))?;
        if version > SCHEMA_VERSION {
            return Err(Error::new(
                ErrorKind::Store,
                format!(
                    "the inventory database has schema version {version}, newer than this \
                     ferry's {SCHEMA_VERSION}; use a newer ferry or delete the database file"
                ),
            ));
        }
        conn.execute_batch(SCHEMA)
            .map_err(|e| Error::store(ctx, e))?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(|e| Error::store(ctx, e))?;
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The database file, if not in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register a provider or update its identity fields; phase and revision are kept.
    pub fn upsert_provider(&self, info: &ProviderInfo) -> Result<()> {
        let object = serde_json::to_string(&info.object).map_err(|e| {
            Error::json(
                format!("serialising provider {}/{}", info.namespace, info.name),
                e,
            )
        })?;
        self.lock()
            .execute(
                "INSERT INTO providers (uid, namespace, name, type, url, resource_version, object, phase, revision)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)
                 ON CONFLICT(uid) DO UPDATE SET namespace = ?2, name = ?3, type = ?4, url = ?5,
                     resource_version = ?6, object = ?7",
                params![
                    info.uid,
                    info.namespace,
                    info.name,
                    info.provider_type,
                    info.url,
                    info.resource_version,
                    object,
                    PHASE_COLLECTING
                ],
            )
            .map_err(|e| Error::store(format!("saving provider {}/{}", info.namespace, info.name), e))?;
        Ok(())
    }

    /// Set the inventory phase of a provider.
    pub fn set_provider_phase(&self, uid: &str, phase: &str) -> Result<()> {
        let n = self
            .lock()
            .execute(
                "UPDATE providers SET phase = ?2 WHERE uid = ?1",
                params![uid, phase],
            )
            .map_err(|e| Error::store(format!("updating provider {uid}"), e))?;
        if n == 0 {
            return Err(not_found(uid));
        }
        Ok(())
    }

    /// Delete a provider and everything collected for it. Returns whether it existed.
    pub fn delete_provider(&self, uid: &str) -> Result<bool> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| Error::store(format!("deleting provider {uid}"), e))?;
        tx.execute("DELETE FROM resources WHERE provider = ?1", [uid])
            .map_err(|e| Error::store(format!("deleting the inventory of provider {uid}"), e))?;
        let n = tx
            .execute("DELETE FROM providers WHERE uid = ?1", [uid])
            .map_err(|e| Error::store(format!("deleting provider {uid}"), e))?;
        tx.commit()
            .map_err(|e| Error::store(format!("deleting provider {uid}"), e))?;
        Ok(n > 0)
    }

    /// One provider.
    pub fn provider(&self, uid: &str) -> Result<Option<StoredProvider>> {
        self.lock()
            .query_row(
                "SELECT uid, namespace, name, type, url, resource_version, object, phase, revision
                 FROM providers WHERE uid = ?1",
                [uid],
                provider_row,
            )
            .optional()
            .map_err(|e| Error::store(format!("reading provider {uid}"), e))?
            .transpose()
    }

    /// Every provider, ordered by type, namespace and name.
    pub fn providers(&self) -> Result<Vec<StoredProvider>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT uid, namespace, name, type, url, resource_version, object, phase, revision
                 FROM providers ORDER BY type, namespace, name, uid",
            )
            .map_err(|e| Error::store("listing providers", e))?;
        let rows = stmt
            .query_map([], provider_row)
            .map_err(|e| Error::store("listing providers", e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(|e| Error::store("listing providers", e))??);
        }
        Ok(out)
    }

    /// Make the stored inventory of `uid` equal to `snapshot`: insert new
    /// objects (revision 1), bump the revision of changed ones, delete the
    /// ones that are gone. Objects whose data did not change keep their
    /// revision and their validation results. One transaction.
    pub fn apply_snapshot(&self, uid: &str, snapshot: &Snapshot) -> Result<ApplyReport> {
        snapshot.check()?;
        let ctx = || format!("saving the inventory of provider {uid}");
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| Error::store(ctx(), e))?;
        let exists: bool = tx
            .query_row("SELECT 1 FROM providers WHERE uid = ?1", [uid], |_| Ok(()))
            .optional()
            .map_err(|e| Error::store(ctx(), e))?
            .is_some();
        if !exists {
            return Err(not_found(uid));
        }
        let mut report = ApplyReport::default();
        let mut stored_collections: Vec<String> = {
            let mut stmt = tx
                .prepare("SELECT DISTINCT collection FROM resources WHERE provider = ?1")
                .map_err(|e| Error::store(ctx(), e))?;
            let rows = stmt
                .query_map([uid], |r| r.get::<_, String>(0))
                .map_err(|e| Error::store(ctx(), e))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(|e| Error::store(ctx(), e))?
        };
        for (collection, resources) in snapshot.collections() {
            stored_collections.retain(|c| c != collection);
            apply_collection(&tx, uid, collection, resources, &mut report)?;
        }
        for gone in stored_collections {
            report.deleted += tx
                .execute(
                    "DELETE FROM resources WHERE provider = ?1 AND collection = ?2",
                    params![uid, gone],
                )
                .map_err(|e| Error::store(ctx(), e))?;
        }
        if report.changed() {
            tx.execute(
                "UPDATE providers SET revision = revision + 1 WHERE uid = ?1",
                [uid],
            )
            .map_err(|e| Error::store(ctx(), e))?;
        }
        tx.commit().map_err(|e| Error::store(ctx(), e))?;
        Ok(report)
    }

    /// One object.
    pub fn get(&self, uid: &str, collection: &str, id: &str) -> Result<Option<StoredResource>> {
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE provider = ?1 AND collection = ?2 AND id = ?3"
        );
        self.lock()
            .query_row(&sql, params![uid, collection, id], resource_row)
            .optional()
            .map_err(|e| Error::store(format!("reading {collection}/{id} of provider {uid}"), e))?
            .transpose()
    }

    /// The object of `kind` with `id`, whatever its collection (follows `parent` refs).
    pub fn get_by_ref(&self, uid: &str, r: &Ref) -> Result<Option<StoredResource>> {
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE provider = ?1 AND kind = ?2 AND id = ?3
             ORDER BY collection LIMIT 1"
        );
        self.lock()
            .query_row(&sql, params![uid, r.kind, r.id], resource_row)
            .optional()
            .map_err(|e| Error::store(format!("reading {} {} of provider {uid}", r.kind, r.id), e))?
            .transpose()
    }

    /// Objects of a collection, ordered by name then id, filtered and paged.
    pub fn list(
        &self,
        uid: &str,
        collection: &str,
        options: &ListOptions,
    ) -> Result<Vec<StoredResource>> {
        let ctx = || format!("listing {collection} of provider {uid}");
        let (name_filter, path_filter) = match options.name.as_deref() {
            Some(name) if !name.is_empty() => {
                let last = name.rsplit('/').next().unwrap_or(name);
                let path = name.contains('/').then(|| name.to_owned());
                (Some(last.to_owned()), path)
            }
            _ => (None, None),
        };
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE provider = ?1 AND collection = ?2
             AND (?3 IS NULL OR name = ?3) ORDER BY name, id"
        );
        let conn = self.lock();
        let mut stmt = conn.prepare(&sql).map_err(|e| Error::store(ctx(), e))?;
        let rows = stmt
            .query_map(params![uid, collection, name_filter], resource_row)
            .map_err(|e| Error::store(ctx(), e))?;
        let mut out = Vec::new();
        let mut skipped = 0usize;
        for row in rows {
            let r = row.map_err(|e| Error::store(ctx(), e))??;
            if let Some(path) = &path_filter
                && !path_matches(&r.resource.path, path)
            {
                continue;
            }
            if skipped < options.offset {
                skipped += 1;
                continue;
            }
            if options.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            out.push(r);
        }
        Ok(out)
    }

    /// Number of objects in a collection.
    pub fn count(&self, uid: &str, collection: &str) -> Result<i64> {
        self.lock()
            .query_row(
                "SELECT COUNT(*) FROM resources WHERE provider = ?1 AND collection = ?2",
                params![uid, collection],
                |r| r.get(0),
            )
            .map_err(|e| Error::store(format!("counting {collection} of provider {uid}"), e))
    }

    /// Objects of `collection` that need (re)validation: never validated,
    /// changed since, or validated with rules other than `rules_version`.
    pub fn needing_validation(
        &self,
        uid: &str,
        collection: &str,
        rules_version: i64,
    ) -> Result<Vec<StoredResource>> {
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE provider = ?1 AND collection = ?2
             AND (revision != revision_validated OR rules_version IS NULL OR rules_version != ?3)
             ORDER BY name, id"
        );
        let ctx = || format!("finding {collection} to validate for provider {uid}");
        let conn = self.lock();
        let mut stmt = conn.prepare(&sql).map_err(|e| Error::store(ctx(), e))?;
        let rows = stmt
            .query_map(params![uid, collection, rules_version], resource_row)
            .map_err(|e| Error::store(ctx(), e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(|e| Error::store(ctx(), e))??);
        }
        Ok(out)
    }

    /// Store validation results computed for `revision`. Returns false (and
    /// stores nothing) when the object changed or vanished in the meantime.
    pub fn set_validation(
        &self,
        uid: &str,
        collection: &str,
        id: &str,
        revision: i64,
        rules_version: i64,
        concerns: &[Concern],
    ) -> Result<bool> {
        let text = serde_json::to_string(concerns)
            .map_err(|e| Error::json(format!("serialising concerns of {collection}/{id}"), e))?;
        let n = self
            .lock()
            .execute(
                "UPDATE resources SET revision_validated = ?4, rules_version = ?5, concerns = ?6
                 WHERE provider = ?1 AND collection = ?2 AND id = ?3 AND revision = ?4",
                params![uid, collection, id, revision, rules_version, text],
            )
            .map_err(|e| {
                Error::store(
                    format!("saving concerns of {collection}/{id} of provider {uid}"),
                    e,
                )
            })?;
        Ok(n > 0)
    }
}

fn not_found(uid: &str) -> Error {
    Error::new(
        ErrorKind::ProviderNotFound,
        format!("no provider with uid {uid} is registered with the inventory"),
    )
}

/// Forklift's path match for `name=a/b/c`: an absolute name must equal the
/// path; a relative one must match its tail at a segment boundary.
fn path_matches(path: &str, name: &str) -> bool {
    if name.starts_with('/') {
        return path == name;
    }
    path == name
        || path
            .strip_suffix(name)
            .is_some_and(|head| head.ends_with('/'))
}

struct Existing {
    name: String,
    kind: String,
    variant: String,
    parent: Option<Ref>,
    path: String,
    object: String,
}

fn apply_collection(
    tx: &rusqlite::Transaction<'_>,
    uid: &str,
    collection: &str,
    resources: &[Resource],
    report: &mut ApplyReport,
) -> Result<()> {
    let ctx = || format!("saving {collection} of provider {uid}");
    let mut existing: HashMap<String, Existing> = HashMap::new();
    {
        let mut stmt = tx
            .prepare(
                "SELECT id, name, kind, variant, parent_kind, parent_id, path, object
                 FROM resources WHERE provider = ?1 AND collection = ?2",
            )
            .map_err(|e| Error::store(ctx(), e))?;
        let rows = stmt
            .query_map(params![uid, collection], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Existing {
                        name: r.get(1)?,
                        kind: r.get(2)?,
                        variant: r.get(3)?,
                        parent: parent_of(r.get(4)?, r.get(5)?),
                        path: r.get(6)?,
                        object: r.get(7)?,
                    },
                ))
            })
            .map_err(|e| Error::store(ctx(), e))?;
        for row in rows {
            let (id, e) = row.map_err(|e| Error::store(ctx(), e))?;
            existing.insert(id, e);
        }
    }
    for r in resources {
        let object = serde_json::to_string(&r.object)
            .map_err(|e| Error::json(format!("serialising {collection}/{}", r.id), e))?;
        let (pk, pid) = match &r.parent {
            Some(p) => (Some(p.kind.as_str()), Some(p.id.as_str())),
            None => (None, None),
        };
        match existing.remove(&r.id) {
            None => {
                tx.execute(
                    "INSERT INTO resources (provider, collection, id, name, kind, variant,
                         parent_kind, parent_id, path, object, revision)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1)",
                    params![
                        uid, collection, r.id, r.name, r.kind, r.variant, pk, pid, r.path, object
                    ],
                )
                .map_err(|e| Error::store(ctx(), e))?;
                report.added += 1;
            }
            Some(old) => {
                let same = old.name == r.name
                    && old.kind == r.kind
                    && old.variant == r.variant
                    && old.parent == r.parent
                    && old.path == r.path
                    && old.object == object;
                if same {
                    report.unchanged += 1;
                    continue;
                }
                tx.execute(
                    "UPDATE resources SET name = ?4, kind = ?5, variant = ?6, parent_kind = ?7,
                         parent_id = ?8, path = ?9, object = ?10, revision = revision + 1
                     WHERE provider = ?1 AND collection = ?2 AND id = ?3",
                    params![
                        uid, collection, r.id, r.name, r.kind, r.variant, pk, pid, r.path, object
                    ],
                )
                .map_err(|e| Error::store(ctx(), e))?;
                report.updated += 1;
            }
        }
    }
    for id in existing.keys() {
        tx.execute(
            "DELETE FROM resources WHERE provider = ?1 AND collection = ?2 AND id = ?3",
            params![uid, collection, id],
        )
        .map_err(|e| Error::store(ctx(), e))?;
        report.deleted += 1;
    }
    Ok(())
}

fn parent_of(kind: Option<String>, id: Option<String>) -> Option<Ref> {
    match (kind, id) {
        (Some(kind), Some(id)) => Some(Ref { kind, id }),
        _ => None,
    }
}

fn provider_row(r: &Row<'_>) -> rusqlite::Result<Result<StoredProvider>> {
    let uid: String = r.get(0)?;
    let object_text: String = r.get(6)?;
    let object = match serde_json::from_str(&object_text) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(Error::json(
                format!("reading stored provider {uid}"),
                e,
            )));
        }
    };
    Ok(Ok(StoredProvider {
        info: ProviderInfo {
            uid,
            namespace: r.get(1)?,
            name: r.get(2)?,
            provider_type: r.get(3)?,
            url: r.get(4)?,
            resource_version: r.get(5)?,
            object,
        },
        phase: r.get(7)?,
        revision: r.get(8)?,
    }))
}

fn resource_row(r: &Row<'_>) -> rusqlite::Result<Result<StoredResource>> {
    let collection: String = r.get(0)?;
    let id: String = r.get(1)?;
    let object_text: String = r.get(8)?;
    let concerns_text: String = r.get(12)?;
    let object = match serde_json::from_str(&object_text) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(Error::json(
                format!("reading stored {collection}/{id}"),
                e,
            )));
        }
    };
    let concerns = match serde_json::from_str(&concerns_text) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(Error::json(
                format!("reading stored concerns of {collection}/{id}"),
                e,
            )));
        }
    };
    Ok(Ok(StoredResource {
        resource: Resource {
            id,
            name: r.get(2)?,
            kind: r.get(3)?,
            variant: r.get(4)?,
            parent: parent_of(r.get(5)?, r.get(6)?),
            path: r.get(7)?,
            object,
        },
        collection,
        revision: r.get(9)?,
        revision_validated: r.get(10)?,
        rules_version: r.get(11)?,
        concerns,
    }))
}
