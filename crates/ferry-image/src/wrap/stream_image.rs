//! [`StreamImage`]: a raw image inside a compressed stream, behind the
//! [`Image`] trait. Reads in increasing order cost one decompression pass;
//! reads a little out of order are served from a window of recent output;
//! a read before the window restarts decompression from the start. Prefer
//! [`crate::wrap::open_source`] and read sequentially when you can.
use std::sync::{Arc, Mutex};

use super::stream::{SequentialSource, StreamLimits, StreamSource};
use crate::error::{Error, ErrorKind, Result};
use crate::image::{Extent, ExtentKind, Image, ImageInfo};
use crate::open::Wrapper;
use crate::storage::Storage;

/// Recent output kept for slightly out-of-order readers.
const WINDOW: usize = 32 << 20;
const CHUNK: usize = 1 << 20;

struct State {
    src: StreamSource,
    /// Output bytes `[start, src.position())`.
    window: Vec<u8>,
    start: u64,
}

/// A raw image inside a gzip, xz or zstd stream.
pub struct StreamImage {
    storage: Arc<dyn Storage>,
    wrapper: Wrapper,
    limits: StreamLimits,
    size: u64,
    state: Mutex<State>,
}

impl StreamImage {
    /// Open the stream; its size comes from the stream (xz) or from one
    /// counting pass (gzip, zstd), bounded by `limits`.
    pub fn open(
        wrapper: Wrapper,
        storage: Arc<dyn Storage>,
        limits: &StreamLimits,
    ) -> Result<Self> {
        let mut src = StreamSource::open(wrapper, storage.clone(), limits)?;
        let size = match src.size_hint() {
            Some(s) => s,
            None => {
                let mut buf = vec![0u8; CHUNK];
                while src.read_chunk(&mut buf)? > 0 {}
                let size = src.position();
                src = StreamSource::open(wrapper, storage.clone(), limits)?;
                size
            }
        };
        Ok(Self {
            storage,
            wrapper,
            limits: *limits,
            size,
            state: Mutex::new(State {
                src,
                window: Vec::new(),
                start: 0,
            }),
        })
    }
}

impl Image for StreamImage {
    fn info(&self) -> ImageInfo {
        ImageInfo {
            format: "raw".to_string(),
            subformat: Some(format!("{} stream", self.wrapper.name())),
            virtual_size: self.size,
            actual_size: Some(self.storage.size()),
            ..ImageInfo::default()
        }
    }

    fn virtual_size(&self) -> u64 {
        self.size
    }

    fn extents(&self, offset: u64, len: u64) -> Result<Vec<Extent>> {
        let end = offset.saturating_add(len).min(self.size);
        if offset >= end {
            return Ok(Vec::new());
        }
        Ok(vec![Extent {
            offset,
            length: end - offset,
            kind: ExtentKind::Data,
        }])
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= self.size);
        let Some(end) = end else {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "read of {} bytes at offset {offset} is past the end of the {} stream in {} ({} bytes)",
                    buf.len(),
                    self.wrapper.name(),
                    self.storage.describe(),
                    self.size
                ),
            ));
        };
        let mut st = self.state.lock().map_err(|_| {
            Error::new(
                ErrorKind::Io,
                "stream image lock was poisoned by a panic in another thread",
            )
        })?;
        if offset < st.start {
            st.src = StreamSource::open(self.wrapper, self.storage.clone(), &self.limits)?;
            st.window.clear();
            st.start = 0;
        }
        let mut chunk = vec![0u8; CHUNK];
        while st.src.position() < end {
            let n = st.src.read_chunk(&mut chunk)?;
            if n == 0 {
                return Err(Error::corrupt(format!(
                    "{} ended after {} bytes, before offset {end}",
                    st.src.describe(),
                    st.src.position()
                )));
            }
            st.window.extend_from_slice(&chunk[..n]);
            if st.window.len() > 2 * WINDOW {
                let cut = (st.window.len() - WINDOW).min(offset.saturating_sub(st.start) as usize);
                st.window.drain(..cut);
                st.start += cut as u64;
            }
        }
        let from = (offset - st.start) as usize;
        buf.copy_from_slice(&st.window[from..from + buf.len()]);
        Ok(())
    }

    fn granularity(&self) -> u64 {
        CHUNK as u64
    }
}
