//! Datastore files over HTTPS (`/folder/<path>?dcPath=<dc>&dsName=<ds>`) as
//! a [`Storage`]: sizes from a one-byte ranged GET, reads as ranged GETs of
//! `chunk_size` on a fixed grid, up to `connections` at once, read-ahead
//! when access is sequential, retries with backoff on transient failures.
//!
//! [`Storage`] is synchronous and called from many copy worker threads; a
//! [`DatastoreStorage`] therefore owns a small tokio runtime for its I/O and
//! the calling thread waits for it. Open and read it from plain or
//! `spawn_blocking` threads; from inside an async task the wait would block
//! that task's worker thread.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ferry_image::{Image, NamedOpener, OpenOptions, Storage};
use tokio::sync::OnceCell;

use crate::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Call, Limits, Transport};

/// A file on a datastore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreFile {
    /// Datacenter inventory path (`DC0`, `Folder/DC1`; see
    /// [`Client::datacenter_path`]). On a standalone ESXi host it is
    /// `ha-datacenter`. To read through an ESXi host instead of vCenter (a
    /// Forklift `Host`), open the storage with a [`Client`] connected to
    /// that host.
    pub datacenter: String,
    /// Datastore name (`LocalDS_0`).
    pub datastore: String,
    /// Path inside the datastore (`vm1/disk.vmdk`).
    pub path: String,
}

impl DatastoreFile {
    /// Parse a datastore path `[datastore] dir/file.vmdk`.
    pub fn parse(datacenter: &str, ds_path: &str) -> Result<DatastoreFile> {
        let s = ds_path.trim();
        let bad = || {
            Error::invalid(format!(
                "{ds_path:?} is not a datastore path like \"[datastore] dir/disk.vmdk\""
            ))
        };
        let rest = s.strip_prefix('[').ok_or_else(bad)?;
        let (ds, path) = rest.split_once(']').ok_or_else(bad)?;
        let path = path.trim_start().trim_start_matches('/');
        if ds.is_empty() || path.is_empty() {
            return Err(bad());
        }
        Ok(DatastoreFile {
            datacenter: datacenter.to_string(),
            datastore: ds.to_string(),
            path: path.to_string(),
        })
    }

    /// `[datastore] path`.
    pub fn ds_path(&self) -> String {
        format!("[{}] {}", self.datastore, self.path)
    }

    /// The request target `/folder/<path>?dcPath=..&dsName=..`.
    fn target(&self) -> String {
        format!(
            "/folder/{}?dcPath={}&dsName={}",
            encode(&self.path, true),
            encode(&self.datacenter, false),
            encode(&self.datastore, false)
        )
    }
}

/// Percent-encode all but unreserved characters (and `/` in paths).
fn encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (path && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Tuning of datastore reads.
#[derive(Debug, Clone)]
pub struct DatastoreOptions {
    /// Simultaneous HTTPS connections (ranged GETs in flight).
    pub connections: usize,
    /// Bytes per ranged GET (the cache grid).
    pub chunk_size: u64,
    /// Chunks fetched ahead of a sequential reader.
    pub read_ahead: usize,
    /// Attempts per GET beyond the first, on transient failures.
    pub retries: u32,
    /// First retry delay (doubled each time, capped at 5 s).
    pub retry_delay: Duration,
    /// Limit for one GET.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for DatastoreOptions {
    fn default() -> Self {
        DatastoreOptions {
            connections: 4,
            chunk_size: 4 << 20,
            read_ahead: 4,
            retries: 4,
            retry_delay: Duration::from_millis(200),
            request_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Owns the I/O runtime; shuts it down without blocking when dropped (so a
/// storage may be dropped anywhere).
struct Rt(Option<tokio::runtime::Runtime>);

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Rt {
    /// Run `f` on the I/O runtime and wait for it on this thread. Works from
    /// any thread (a plain thread, a `spawn_blocking` thread); from an async
    /// task it blocks that task's worker thread, so don't.
    fn block_on<F>(&self, f: F) -> Result<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let rt = self
            .0
            .as_ref()
            .ok_or_else(|| Error::invalid("the datastore reader is shut down"))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv().map_err(|_| {
            Error::new(
                ErrorKind::Connect,
                "the datastore I/O runtime stopped during a read",
            )
        })
    }
    fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.0.as_ref().map(|r| r.handle())
    }
}

/// What all files opened from one client share.
struct Shared {
    rt: Rt,
    transport: Arc<Transport>,
    client: Client,
    opts: DatastoreOptions,
    datacenter: String,
    /// Body bytes received by ranged GETs (all files of this session).
    fetched: Arc<AtomicU64>,
}

type Cell = Arc<OnceCell<Bytes>>;

struct Cache {
    cells: HashMap<u64, (Cell, u64)>,
    tick: u64,
}

/// A datastore file as a [`Storage`]. See the module docs.
pub struct DatastoreStorage {
    shared: Arc<Shared>,
    file: DatastoreFile,
    target: String,
    size: u64,
    cache: Arc<Mutex<Cache>>,
    last_end: AtomicU64,
}

impl std::fmt::Debug for DatastoreStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatastoreStorage")
            .field("file", &self.file.ds_path())
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl DatastoreStorage {
    /// Open `file` through the session of `client` (blocking; see the module
    /// docs). Fails with [`ErrorKind::NotFound`] when the file is missing.
    pub fn open(client: &Client, file: &DatastoreFile, opts: &DatastoreOptions) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ferry-datastore")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Connect, "cannot start the datastore I/O runtime")
                    .with_source(e)
            })?;
        let (endpoint, _) =
            crate::http::Endpoint::parse(&format!("https://{}", client.authority()))?;
        let transport = Arc::new(Transport::new(
            endpoint,
            client.tls_options(),
            Limits {
                max_connections: opts.connections.max(1),
                connect_timeout: opts.connect_timeout,
                request_timeout: opts.request_timeout,
            },
        )?);
        let shared = Arc::new(Shared {
            rt: Rt(Some(rt)),
            transport,
            client: client.clone(),
            opts: DatastoreOptions {
                chunk_size: opts.chunk_size.clamp(64 << 10, 64 << 20),
                connections: opts.connections.max(1),
                ..opts.clone()
            },
            datacenter: file.datacenter.clone(),
            fetched: Arc::new(AtomicU64::new(0)),
        });
        Self::open_shared(shared, file.clone())
    }

    fn open_shared(shared: Arc<Shared>, file: DatastoreFile) -> Result<Self> {
        let target = file.target();
        let size = {
            let s = shared.clone();
            let t = target.clone();
            let name = file.ds_path();
            shared
                .rt
                .block_on(async move { probe_size(&s, &t, &name).await })??
        };
        Ok(DatastoreStorage {
            shared,
            file,
            target,
            size,
            cache: Arc::new(Mutex::new(Cache {
                cells: HashMap::new(),
                tick: 0,
            })),
            last_end: AtomicU64::new(u64::MAX),
        })
    }

    /// Open another file of the same datastore session (same connections).
    pub fn sibling(&self, file: &DatastoreFile) -> Result<DatastoreStorage> {
        Self::open_shared(self.shared.clone(), file.clone())
    }

    /// Bytes received by ranged GETs so far, for this file and every
    /// sibling opened from it (read-ahead and retries included).
    pub fn bytes_fetched(&self) -> u64 {
        self.shared.fetched.load(Ordering::Relaxed)
    }

    /// A handle on the transfer counters that outlives the storage.
    pub fn stats(&self) -> DatastoreStats {
        DatastoreStats(self.shared.fetched.clone())
    }

    /// The file.
    pub fn file(&self) -> &DatastoreFile {
        &self.file
    }

    fn chunk_cell(&self, k: u64) -> Cell {
        let cap = self.shared.opts.connections * 2 + self.shared.opts.read_ahead + 2;
        let mut c = match self.cache.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        c.tick += 1;
        let tick = c.tick;
        if let Some((cell, t)) = c.cells.get_mut(&k) {
            *t = tick;
            return cell.clone();
        }
        if c.cells.len() >= cap {
            // Evict the least recently used chunk that has arrived.
            let victim = c
                .cells
                .iter()
                .filter(|(_, (cell, _))| cell.initialized())
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k);
            if let Some(v) = victim {
                c.cells.remove(&v);
            }
        }
        let cell: Cell = Arc::new(OnceCell::new());
        c.cells.insert(k, (cell.clone(), tick));
        cell
    }

    fn cached(&self, k: u64) -> bool {
        self.cache
            .lock()
            .map(|c| c.cells.contains_key(&k))
            .unwrap_or(false)
    }

    /// Start fetching chunk `k` in the background (read-ahead).
    fn prefetch(&self, k: u64) {
        let cs = self.shared.opts.chunk_size;
        if k.saturating_mul(cs) >= self.size || self.cached(k) {
            return;
        }
        let cell = self.chunk_cell(k);
        let shared = self.shared.clone();
        let target = self.target.clone();
        let name = self.file.ds_path();
        let size = self.size;
        if let Some(h) = self.shared.rt.handle() {
            h.spawn(async move {
                let _ = fill(&shared, &cell, &target, &name, k, size).await;
            });
        }
    }
}

/// Fetch chunk `k` into `cell` (once; concurrent callers wait for it).
async fn fill(
    shared: &Shared,
    cell: &Cell,
    target: &str,
    name: &str,
    k: u64,
    size: u64,
) -> Result<Bytes> {
    let cs = shared.opts.chunk_size;
    let start = k * cs;
    let end = (start + cs).min(size);
    cell.get_or_try_init(|| get_range(shared, target, name, start, end - start))
        .await
        .cloned()
}

fn cookie_header(shared: &Shared) -> Vec<(http::HeaderName, String)> {
    shared
        .client
        .cookie()
        .map(|c| vec![(http::header::COOKIE, c)])
        .unwrap_or_default()
}

/// Whether an error is worth retrying.
fn transient(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Protocol
    ) || matches!(e.http_status(), Some(500..=599))
}

async fn with_retries<T, F, Fut>(shared: &Shared, what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = shared.opts.retry_delay;
    let mut attempt = 0;
    let mut relogged = false;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            // HTTP 401: the session expired. Renew it once (the SOAP client
            // logs in again on NotAuthenticated) and retry with the new
            // cookie.
            Err(e) if e.http_status() == Some(401) && !relogged => {
                relogged = true;
                tracing::info!("{what}: session expired, logging in again");
                shared
                    .client
                    .keep_alive()
                    .await
                    .map_err(|k| k.context(what))?;
            }
            Err(e) if transient(&e) && attempt < shared.opts.retries => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "{what}: retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

fn status_error(name: &str, status: http::StatusCode, what: &str) -> Error {
    let (kind, message) = match status.as_u16() {
        404 => (
            ErrorKind::NotFound,
            format!("{name} does not exist on the datastore (HTTP 404 on {what})"),
        ),
        401 => (
            ErrorKind::NotAuthenticated,
            format!("{what} of {name} was refused (HTTP {status}): the session expired"),
        ),
        403 => (
            ErrorKind::NotAuthenticated,
            format!(
                "{what} of {name} was refused (HTTP {status}): the user lacks the Datastore.Browse privilege"
            ),
        ),
        500..=599 => (
            ErrorKind::Http,
            format!("{what} of {name} failed on the server (HTTP {status})"),
        ),
        _ => (
            ErrorKind::Http,
            format!("{what} of {name} got HTTP {status}"),
        ),
    };
    Error::new(kind, message).with_http_status(status.as_u16())
}

/// The size from `Content-Range: bytes 0-0/<size>` of a one-byte GET.
async fn probe_size(shared: &Shared, target: &str, name: &str) -> Result<u64> {
    with_retries(shared, name, || async {
        let mut headers = cookie_header(shared);
        headers.push((http::header::RANGE, "bytes=0-0".to_string()));
        let call = Call {
            method: http::Method::GET,
            target: target.to_string(),
            headers,
            body: Bytes::new(),
        };
        let a = shared
            .transport
            .send(&call, 1 << 16, None)
            .await
            .map_err(|e| e.context(format!("reading the size of {name}")))?;
        let total = a
            .headers
            .get(http::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once('/'))
            .and_then(|(_, t)| t.trim().parse::<u64>().ok());
        match a.status.as_u16() {
            206 | 416 => total.ok_or_else(|| {
                Error::protocol(format!(
                    "{name}: the ranged GET answer has no usable Content-Range"
                ))
            }),
            200 => Ok(a.body.len() as u64),
            _ => Err(status_error(name, a.status, "GET")),
        }
    })
    .await
}

async fn get_range(
    shared: &Shared,
    target: &str,
    name: &str,
    offset: u64,
    len: u64,
) -> Result<Bytes> {
    let what = format!("bytes {offset}-{} of {name}", offset + len - 1);
    with_retries(shared, &what, || async {
        let mut headers = cookie_header(shared);
        headers.push((
            http::header::RANGE,
            format!("bytes={offset}-{}", offset + len - 1),
        ));
        let call = Call {
            method: http::Method::GET,
            target: target.to_string(),
            headers,
            body: Bytes::new(),
        };
        let cap = usize::try_from(len).unwrap_or(usize::MAX).saturating_add(1);
        let a = shared
            .transport
            .send(&call, cap, None)
            .await
            .map_err(|e| e.context(format!("reading {what}")))?;
        match a.status.as_u16() {
            206 if a.body.len() as u64 == len => {
                shared.fetched.fetch_add(len, Ordering::Relaxed);
                Ok(a.body)
            }
            206 => Err(Error::protocol(format!(
                "reading {what}: got {} bytes instead of {len}",
                a.body.len()
            ))),
            200 => Err(Error::new(
                ErrorKind::Unsupported,
                format!("reading {what}: the server ignored the Range header"),
            )),
            _ => Err(status_error(name, a.status, "GET")),
        }
    })
    .await
}

impl Storage for DatastoreStorage {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> ferry_image::Result<()> {
        let len = buf.len() as u64;
        let end = offset
            .checked_add(len)
            .filter(|e| *e <= self.size)
            .ok_or_else(|| {
                ferry_image::Error::new(
                    ferry_image::ErrorKind::OutOfBounds,
                    format!(
                        "read of {len} bytes at {offset} is past the end of {} ({} bytes)",
                        self.file.ds_path(),
                        self.size
                    ),
                )
            })?;
        if len == 0 {
            return Ok(());
        }
        let cs = self.shared.opts.chunk_size;
        let first = offset / cs;
        let last = (end - 1) / cs;
        let sequential = self.last_end.swap(end, Ordering::Relaxed) == offset
            || (first > 0 && self.cached(first - 1));
        let cells: Vec<(u64, Cell)> = (first..=last).map(|k| (k, self.chunk_cell(k))).collect();
        if sequential || offset == 0 {
            for k in last + 1..=last + self.shared.opts.read_ahead as u64 {
                self.prefetch(k);
            }
        }
        let shared = self.shared.clone();
        let target = self.target.clone();
        let name = self.file.ds_path();
        let size = self.size;
        let chunks = self.shared.rt.block_on(async move {
            let mut tasks = Vec::with_capacity(cells.len());
            for (k, cell) in cells {
                let shared = shared.clone();
                let target = target.clone();
                let name = name.clone();
                tasks.push(tokio::spawn(async move {
                    fill(&shared, &cell, &target, &name, k, size).await
                }));
            }
            let mut out = Vec::with_capacity(tasks.len());
            for t in tasks {
                out.push(t.await.map_err(|e| {
                    Error::new(
                        ErrorKind::Connect,
                        format!("a datastore read task failed: {e}"),
                    )
                })??);
            }
            Ok::<_, Error>(out)
        })??;
        let mut done = 0usize;
        for (i, chunk) in chunks.iter().enumerate() {
            let chunk_start = (first + i as u64) * cs;
            let from = (offset + done as u64 - chunk_start) as usize;
            let n = (chunk.len() - from).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&chunk[from..from + n]);
            done += n;
        }
        if done != buf.len() {
            return Err(ferry_image::Error::new(
                ferry_image::ErrorKind::Io,
                format!(
                    "short read of {} at {offset}: {done} of {len} bytes",
                    self.file.ds_path()
                ),
            ));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("datastore file {}", self.file.ds_path())
    }
}

/// Transfer counters of a datastore session (see [`DatastoreStorage::stats`]).
#[derive(Debug, Clone)]
pub struct DatastoreStats(Arc<AtomicU64>);

impl DatastoreStats {
    /// Body bytes received by ranged GETs so far (read-ahead and retries
    /// included).
    pub fn bytes_fetched(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens extents named by a VMDK descriptor from the same datastore.
#[derive(Debug)]
struct Siblings {
    base: Arc<DatastoreStorageHandle>,
}

/// A `Debug`-able holder so the opener can be shared.
struct DatastoreStorageHandle(DatastoreStorage);

impl std::fmt::Debug for DatastoreStorageHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl NamedOpener for Siblings {
    fn open(&self, path: &Path) -> ferry_image::Result<Arc<dyn Storage>> {
        let text = path.to_string_lossy();
        let base = &self.base.0;
        let file = DatastoreFile::parse(&base.shared.datacenter, &text)?;
        if file.datastore != base.file.datastore {
            return Err(ferry_image::Error::new(
                ferry_image::ErrorKind::Refused,
                format!(
                    "{text} is on another datastore than {}",
                    base.file.ds_path()
                ),
            ));
        }
        Ok(Arc::new(base.sibling(&file)?))
    }
}

/// Open the disk image `file` on a datastore (a VMDK descriptor with its
/// extents, a sparse VMDK, or any format ferry-image reads), with extents
/// read from the same datastore folder, and the session's transfer
/// counters. Blocking; see the module docs.
pub fn open_datastore_image(
    client: &Client,
    file: &DatastoreFile,
    opts: &DatastoreOptions,
    image_opts: &OpenOptions,
) -> Result<(Arc<dyn Image>, DatastoreStats), ferry_image::Error> {
    let top = DatastoreStorage::open(client, file, opts)?;
    let stats = top.stats();
    let opener = Siblings {
        base: Arc::new(DatastoreStorageHandle(top.sibling(file)?)),
    };
    let mut o = image_opts.clone();
    o.gate = o.gate.clone().with_opener(Arc::new(opener));
    let path = PathBuf::from(file.ds_path());
    let image = ferry_image::open_storage(Arc::new(top), &path, &o, 0)?;
    Ok((image, stats))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn datastore_paths_parse_and_encode() {
        let f = DatastoreFile::parse("DC 0", "[Local DS] vm 1/disk.vmdk").unwrap();
        assert_eq!(f.datastore, "Local DS");
        assert_eq!(f.path, "vm 1/disk.vmdk");
        assert_eq!(f.ds_path(), "[Local DS] vm 1/disk.vmdk");
        assert_eq!(
            f.target(),
            "/folder/vm%201/disk.vmdk?dcPath=DC%200&dsName=Local%20DS"
        );
        for bad in ["disk.vmdk", "[ds]", "[] x", "[ds x"] {
            assert!(DatastoreFile::parse("dc", bad).is_err(), "{bad}");
        }
    }
}
