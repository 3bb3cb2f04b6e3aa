//! Decompressed streams (gzip, xz, zstd). They are not random-access: the
//! copy engine reads them in order through [`SequentialSource`]. Output is
//! bounded: past the size the stream declares, or past the caps in
//! [`StreamLimits`], reading fails with a Limit error (a decompression bomb).
use std::io::Read;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::open::Wrapper;
use crate::storage::Storage;

/// Bounds on decompressed streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Never produce more than this many bytes (set it to the target
    /// volume's size when known).
    pub max_output: u64,
    /// When the stream does not declare its size: never produce more than
    /// this many bytes per compressed byte. gzip cannot exceed about 1032,
    /// zstd about 32768 on all-zero data.
    pub max_ratio: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            max_output: 64 << 40,
            max_ratio: 100_000,
        }
    }
}

/// Guest bytes in order, for sources that cannot seek.
pub trait SequentialSource: Send {
    /// The total size, when known before reading to the end.
    fn size_hint(&self) -> Option<u64>;

    /// Fill `buf` with the next bytes; returns how many (0 at the end).
    fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize>;

    /// Bytes produced so far.
    fn position(&self) -> u64;

    /// A short name for messages.
    fn describe(&self) -> String;
}

/// `std::io::Read` over a storage from offset 0, in large reads.
struct StorageReader {
    storage: Arc<dyn Storage>,
    pos: u64,
}

impl Read for StorageReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.storage.size().saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.storage
            .read_at(&mut buf[..n], self.pos)
            .map_err(std::io::Error::other)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// A decompressing [`SequentialSource`], also a `std::io::Read`.
pub struct StreamSource {
    decoder: Box<dyn Read + Send>,
    wrapper: Wrapper,
    name: String,
    produced: u64,
    declared: Option<u64>,
    limit: u64,
}

/// Read buffer between the storage and the decoder.
const READ_BUF: usize = 1 << 20;

impl StreamSource {
    /// Decompress the `wrapper` stream stored in `storage`.
    pub fn open(
        wrapper: Wrapper,
        storage: Arc<dyn Storage>,
        limits: &StreamLimits,
    ) -> Result<Self> {
        let name = storage.describe();
        let declared = match wrapper {
            Wrapper::Xz => xz_declared_size(storage.as_ref()),
            _ => None,
        };
        if let Some(d) = declared.filter(|&d| d > limits.max_output) {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "{} stream in {name} declares {d} bytes, more than the limit of {} bytes",
                    wrapper.name(),
                    limits.max_output
                ),
            ));
        }
        let ratio_cap = storage.size().saturating_mul(limits.max_ratio).max(1 << 20);
        let limit = declared.unwrap_or(ratio_cap).min(limits.max_output);
        let input = std::io::BufReader::with_capacity(READ_BUF, StorageReader { storage, pos: 0 });
        let decoder: Box<dyn Read + Send> = match wrapper {
            Wrapper::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Wrapper::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(input)),
            Wrapper::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(input)
                    .map_err(|e| Error::io(format!("cannot start zstd decoding of {name}"), e))?,
            ),
            Wrapper::Tar => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{name} is a tar archive, not a compressed stream; open one of its members"
                    ),
                ));
            }
        };
        Ok(Self {
            decoder,
            wrapper,
            name,
            produced: 0,
            declared,
            limit,
        })
    }

    /// The size the stream declares (xz index), if any.
    pub fn declared_size(&self) -> Option<u64> {
        self.declared
    }
}

impl SequentialSource for StreamSource {
    fn size_hint(&self) -> Option<u64> {
        self.declared
    }

    fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize> {
        // Ask for at most one byte past the limit, to detect a bomb without
        // producing (much) more than allowed.
        let room = self.limit.saturating_sub(self.produced).saturating_add(1);
        let want = (buf.len() as u64).min(room) as usize;
        let n = loop {
            match self.decoder.read(&mut buf[..want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::corrupt(format!(
                        "{} stream in {} is damaged after {} bytes of output",
                        self.wrapper.name(),
                        self.name,
                        self.produced
                    ))
                    .with_source(e));
                }
            }
        };
        self.produced += n as u64;
        if self.produced > self.limit {
            let why = match self.declared {
                Some(d) if d == self.limit => format!("its declared size of {d} bytes"),
                _ => format!("the limit of {} bytes", self.limit),
            };
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "{} stream in {} decompresses to more than {why}; refusing a possible decompression bomb",
                    self.wrapper.name(),
                    self.name
                ),
            ));
        }
        if n == 0 && self.declared.is_some_and(|d| d != self.produced) {
            return Err(Error::corrupt(format!(
                "{} stream in {} ended after {} bytes but declares {}",
                self.wrapper.name(),
                self.name,
                self.produced,
                self.declared.unwrap_or(0)
            )));
        }
        Ok(n)
    }

    fn position(&self) -> u64 {
        self.produced
    }

    fn describe(&self) -> String {
        format!("{} stream in {}", self.wrapper.name(), self.name)
    }
}

impl Read for StreamSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read_chunk(buf).map_err(std::io::Error::other)
    }
}

fn varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..9 {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The uncompressed size from the xz index, when the file is exactly one
/// stream (header, blocks, index, footer); `None` otherwise.
pub fn xz_declared_size(storage: &dyn Storage) -> Option<u64> {
    let size = storage.size();
    if size < 24 {
        return None;
    }
    let mut footer = [0u8; 12];
    storage.read_at(&mut footer, size - 12).ok()?;
    if &footer[10..12] != b"YZ" {
        return None;
    }
    let backward = u64::from(u32::from_le_bytes([
        footer[4], footer[5], footer[6], footer[7],
    ]));
    let index_size = (backward + 1) * 4;
    if index_size > (16 << 20) || index_size + 24 > size {
        return None;
    }
    let mut index = vec![0u8; index_size as usize];
    storage.read_at(&mut index, size - 12 - index_size).ok()?;
    if index[0] != 0 {
        return None;
    }
    let mut at = 1;
    let records = varint(&index, &mut at)?;
    let (mut blocks, mut total) = (0u64, 0u64);
    for _ in 0..records {
        let unpadded = varint(&index, &mut at)?;
        let uncompressed = varint(&index, &mut at)?;
        blocks = blocks.checked_add(unpadded.div_ceil(4) * 4)?;
        total = total.checked_add(uncompressed)?;
    }
    (12 + blocks + index_size + 12 == size).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrap::slice::BytesStorage;

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn xz(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn drain(s: &mut StreamSource) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            let n = s.read_chunk(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn each_stream_decompresses_and_xz_declares_its_size() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 97) as u8).collect();
        for (w, bytes) in [
            (Wrapper::Gzip, gzip(&data)),
            (Wrapper::Xz, xz(&data)),
            (Wrapper::Zstd, zstd::bulk::compress(&data, 1).unwrap()),
        ] {
            let mut s =
                StreamSource::open(w, Arc::new(BytesStorage(bytes)), &StreamLimits::default())
                    .unwrap();
            assert_eq!(drain(&mut s).unwrap(), data, "{w:?}");
            if w == Wrapper::Xz {
                assert_eq!(s.size_hint(), Some(data.len() as u64));
            }
        }
    }

    #[test]
    fn bombs_hit_the_limit() {
        let zeros = vec![0u8; 8 << 20];
        let limits = StreamLimits {
            max_output: 1 << 20,
            ..StreamLimits::default()
        };
        for (w, bytes) in [
            (Wrapper::Gzip, gzip(&zeros)),
            (Wrapper::Zstd, zstd::bulk::compress(&zeros, 3).unwrap()),
        ] {
            let mut s = StreamSource::open(w, Arc::new(BytesStorage(bytes)), &limits).unwrap();
            let err = drain(&mut s).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Limit, "{w:?}: {err}");
            assert!(err.to_string().contains("decompression bomb"), "{err}");
        }
        // A ratio cap: 8 MiB from a few KiB of gzip is over 100x.
        let limits = StreamLimits {
            max_output: u64::MAX,
            max_ratio: 100,
        };
        let bytes = gzip(&zeros);
        let mut padded = bytes.clone();
        padded.truncate(bytes.len());
        let mut s =
            StreamSource::open(Wrapper::Gzip, Arc::new(BytesStorage(padded)), &limits).unwrap();
        let n = bytes.len() as u64;
        let err = drain(&mut s).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
        assert!(s.position() <= (n * 100).max(1 << 20) + 1);
    }

    #[test]
    fn damaged_stream_is_corrupt() {
        let mut bytes = gzip(&vec![7u8; 100_000]);
        let mid = bytes.len() / 2;
        bytes[mid..].fill(0xff);
        let mut s = StreamSource::open(
            Wrapper::Gzip,
            Arc::new(BytesStorage(bytes)),
            &StreamLimits::default(),
        )
        .unwrap();
        assert_eq!(drain(&mut s).unwrap_err().kind(), ErrorKind::Corrupt);
    }
}
