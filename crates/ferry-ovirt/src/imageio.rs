//! A disk of an image transfer read through ovirt-imageio as a
//! [`Storage`]: the size and the allocation come from
//! `GET <transfer_url>/extents` (data, zero and hole runs), reads are
//! ranged GETs over a pool of keep-alive connections, so a copy that
//! follows [`Storage::extents`] reads only allocated bytes.
//!
//! [`Storage`] is synchronous and called from the copy engine's worker
//! threads; an [`ImageioStorage`] owns a small tokio runtime for its I/O
//! and the calling thread waits for it. Use it from plain or
//! `spawn_blocking` threads, never from inside an async task.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use ferry_image::{Extent, ExtentKind, Storage};
use http::{Method, StatusCode};
use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Http, HttpOptions};
use crate::tls::TlsOptions;

/// Tuning of imageio reads.
#[derive(Debug, Clone, Copy)]
pub struct ImageioOptions {
    /// Simultaneous connections (ranged GETs in flight).
    pub connections: usize,
    /// Attempts per GET beyond the first on transient failures.
    pub retries: u32,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for ImageioOptions {
    fn default() -> Self {
        ImageioOptions {
            connections: 4,
            retries: 3,
            request_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// What was read, for progress and tests.
#[derive(Debug, Default)]
pub struct ImageioStats {
    /// Bytes received in GET bodies.
    pub bytes_read: AtomicU64,
    /// Ranged GETs sent.
    pub requests: AtomicU64,
}

/// One run of imageio's `/extents` answer.
#[derive(Debug, Clone, Copy, Deserialize)]
struct WireExtent {
    start: u64,
    length: u64,
    zero: bool,
    #[serde(default)]
    hole: bool,
}

/// A transfer's disk, read-only.
pub struct ImageioStorage {
    url: String,
    size: u64,
    extents: Vec<Extent>,
    http: Arc<Http>,
    rt: tokio::runtime::Runtime,
    slots: Arc<tokio::sync::Semaphore>,
    stats: Arc<ImageioStats>,
    retries: u32,
}

impl std::fmt::Debug for ImageioStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageioStorage")
            .field("url", &self.url)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Drop for ImageioStorage {
    fn drop(&mut self) {
        // Never block where the storage is dropped.
        let rt = std::mem::replace(
            &mut self.rt,
            match tokio::runtime::Builder::new_current_thread().build() {
                Ok(rt) => rt,
                Err(_) => return,
            },
        );
        rt.shutdown_background();
    }
}

impl ImageioStorage {
    /// Open the disk behind `transfer_url` (`https://host:54322/images/<ticket>`).
    /// Blocking.
    pub fn open(transfer_url: &str, tls: &TlsOptions, opts: ImageioOptions) -> Result<Self> {
        let url = transfer_url.trim_end_matches('/').to_owned();
        if !url.starts_with("https://") {
            return Err(Error::invalid(format!(
                "image transfer URL {url:?} is not https"
            )));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ferry-imageio")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Protocol, "cannot start the imageio I/O runtime")
                    .with_source(e)
            })?;
        let http_opts = HttpOptions {
            connect_timeout: opts.connect_timeout,
            request_timeout: opts.request_timeout,
            max_idle: opts.connections.max(1),
            max_body: 256 << 20,
        };
        let http = Arc::new(rt.block_on(async { Http::new(tls, http_opts) })?);
        let ext_url = format!("{url}/extents");
        let ans = rt.block_on(http.send(Method::GET, &ext_url, &[], Bytes::new()))?;
        if ans.status != StatusCode::OK {
            return Err(status_error(
                &format!("GET {ext_url}"),
                ans.status,
                &ans.body,
            ));
        }
        let wire: Vec<WireExtent> = serde_json::from_slice(&ans.body).map_err(|e| {
            Error::protocol(format!("GET {ext_url}: not imageio's extents list: {e}"))
        })?;
        let mut extents = Vec::with_capacity(wire.len());
        let mut end = 0u64;
        for w in wire {
            if w.start != end || w.length == 0 {
                return Err(Error::protocol(format!(
                    "GET {ext_url}: extents are not contiguous at byte {end} (next starts at {}, length {})",
                    w.start, w.length
                )));
            }
            end = w.start.checked_add(w.length).ok_or_else(|| {
                Error::protocol(format!("GET {ext_url}: extent at {} overflows", w.start))
            })?;
            let kind = match (w.zero, w.hole) {
                (false, _) => ExtentKind::Data,
                (true, true) => ExtentKind::Hole,
                (true, false) => ExtentKind::Zero,
            };
            match extents.last_mut() {
                Some(Extent {
                    length, kind: k, ..
                }) if *k == kind => *length += w.length,
                _ => extents.push(Extent {
                    offset: w.start,
                    length: w.length,
                    kind,
                }),
            }
        }
        Ok(ImageioStorage {
            url,
            size: end,
            extents,
            http,
            rt,
            slots: Arc::new(tokio::sync::Semaphore::new(opts.connections.max(1))),
            stats: Arc::new(ImageioStats::default()),
            retries: opts.retries,
        })
    }

    /// Counters of what was read.
    pub fn stats(&self) -> Arc<ImageioStats> {
        self.stats.clone()
    }

    /// Bytes the extents list as data.
    pub fn allocated_bytes(&self) -> u64 {
        self.extents
            .iter()
            .filter(|e| e.kind == ExtentKind::Data)
            .map(|e| e.length)
            .sum()
    }

    async fn get_range(&self, offset: u64, len: usize) -> Result<Bytes> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| Error::protocol("imageio reader closed"))?;
        let range = format!("bytes={}-{}", offset, offset + len as u64 - 1);
        let what = format!("GET {} ({range})", self.url);
        let mut attempt = 0;
        loop {
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let res = self
                .http
                .send(
                    Method::GET,
                    &self.url,
                    &[("Range", range.as_str())],
                    Bytes::new(),
                )
                .await;
            let err = match res {
                Ok(ans)
                    if ans.status == StatusCode::PARTIAL_CONTENT
                        || ans.status == StatusCode::OK =>
                {
                    if ans.body.len() != len {
                        Error::protocol(format!(
                            "{what}: got {} bytes, wanted {len}",
                            ans.body.len()
                        ))
                    } else {
                        self.stats
                            .bytes_read
                            .fetch_add(len as u64, Ordering::Relaxed);
                        return Ok(ans.body);
                    }
                }
                Ok(ans) => {
                    // 403/404: the ticket is gone (transfer paused,
                    // cancelled or the disk removed): retrying cannot help.
                    let e = status_error(&what, ans.status, &ans.body);
                    if ans.status.is_client_error() {
                        return Err(e);
                    }
                    e
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::TlsUntrusted | ErrorKind::InvalidArgument
                    ) =>
                {
                    return Err(e);
                }
                Err(e) => e,
            };
            if attempt >= self.retries {
                return Err(err);
            }
            attempt += 1;
            tracing::debug!(error = %err, attempt, "imageio read failed, retrying");
            tokio::time::sleep(Duration::from_millis(200 << attempt.min(4))).await;
        }
    }
}

fn status_error(what: &str, status: StatusCode, body: &[u8]) -> Error {
    let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
    let hint = match status.as_u16() {
        403 | 404 => {
            ": the transfer's ticket is gone (the engine paused or ended the transfer, or the disk was removed)"
        }
        _ => "",
    };
    Error::new(
        ErrorKind::Transfer,
        format!("{what}: HTTP {}{hint}: {}", status.as_u16(), text.trim()),
    )
    .with_status(status.as_u16())
}

fn image_error(e: Error) -> ferry_image::Error {
    ferry_image::Error::new(ferry_image::ErrorKind::Io, e.to_string())
}

impl Storage for ImageioStorage {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> ferry_image::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|e| *e <= self.size)
            .ok_or_else(|| {
                ferry_image::Error::new(
                    ferry_image::ErrorKind::OutOfBounds,
                    format!(
                        "{}: read of {} bytes at {offset} is past the end ({})",
                        self.url,
                        buf.len(),
                        self.size
                    ),
                )
            })?;
        // Split big reads so that several connections share them.
        const PIECE: usize = 8 << 20;
        let pieces: Vec<(u64, usize)> = (offset..end)
            .step_by(PIECE)
            .map(|o| (o, ((end - o) as usize).min(PIECE)))
            .collect();
        let got = self
            .rt
            .block_on(async {
                // The semaphore bounds how many run at once.
                futures::future::try_join_all(pieces.iter().map(|&(o, n)| self.get_range(o, n)))
                    .await
            })
            .map_err(image_error)?;
        let mut at = 0;
        for b in got {
            buf[at..at + b.len()].copy_from_slice(&b);
            at += b.len();
        }
        Ok(())
    }

    fn extents(&self, offset: u64, len: u64) -> ferry_image::Result<Vec<Extent>> {
        let end = offset.saturating_add(len).min(self.size);
        Ok(self
            .extents
            .iter()
            .filter(|e| e.offset < end && e.offset + e.length > offset)
            .map(|e| {
                let s = e.offset.max(offset);
                let t = (e.offset + e.length).min(end);
                Extent {
                    offset: s,
                    length: t - s,
                    kind: e.kind,
                }
            })
            .collect())
    }

    fn describe(&self) -> String {
        format!("imageio {}", self.url)
    }
}
