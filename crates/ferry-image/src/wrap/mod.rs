//! Wrappers around image bytes: compressed streams (gzip, xz, zstd) read
//! sequentially, and tar archives (an OVA) whose members are read in place.
//!
//! [`open_source`] is the copy engine's entry point: it returns either a
//! random-access [`Image`] or a [`SequentialSource`] of raw guest bytes.
//! [`crate::open_image`] also accepts streams (as a [`StreamImage`]).
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::image::Image;
use crate::open::{OpenOptions, Probed, Wrapper, open_format, probe_any};
use crate::storage::{FileStorage, Storage};

pub mod slice;
pub mod stream;
pub mod stream_image;
pub mod tar;

pub use slice::{BytesStorage, SliceStorage};
pub use stream::{SequentialSource, StreamLimits, StreamSource};
pub use stream_image::StreamImage;
pub use tar::{TarIndex, TarMember};

/// An opened source: random access, or a stream read in order.
pub enum Source {
    /// A random-access image.
    Image(Arc<dyn Image>),
    /// Raw guest bytes from a decompressed stream.
    Stream(Box<dyn SequentialSource>),
}

/// Open `path` for copying: images as [`Source::Image`], compressed raw
/// streams as [`Source::Stream`] (tar members are looked up by
/// [`OpenOptions::tar_member`]).
pub fn open_source(path: &Path, opts: &OpenOptions) -> Result<Source> {
    let storage: Arc<dyn Storage> = Arc::new(FileStorage::open(path)?);
    source_from(storage, path, opts)
}

fn source_from(storage: Arc<dyn Storage>, path: &Path, opts: &OpenOptions) -> Result<Source> {
    if let Some(f) = opts.format {
        return Ok(Source::Image(open_format(f, storage, path, opts, 0)?));
    }
    match probe_any(storage.as_ref()).map_err(|e| e.within(path.display()))? {
        Probed::Image(f) => Ok(Source::Image(open_format(f, storage, path, opts, 0)?)),
        Probed::Wrapper(Wrapper::Tar) => source_from(tar_member(storage, path, opts)?, path, opts),
        Probed::Wrapper(w) => {
            check_raw_inside(w, &storage, opts)?;
            Ok(Source::Stream(Box::new(StreamSource::open(
                w,
                storage,
                &opts.stream_limits,
            )?)))
        }
    }
}

/// Open the image inside a wrapper (called by the factory).
pub(crate) fn open_wrapped(
    wrapper: Wrapper,
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<Arc<dyn Image>> {
    match wrapper {
        Wrapper::Tar => {
            crate::open::open_storage(tar_member(storage, path, opts)?, path, opts, depth)
        }
        w => {
            check_raw_inside(w, &storage, opts)?;
            Ok(Arc::new(StreamImage::open(
                w,
                storage,
                &opts.stream_limits,
            )?))
        }
    }
}

/// The member [`OpenOptions::tar_member`] of the archive in `storage`, as a
/// window read in place.
fn tar_member(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
) -> Result<Arc<dyn Storage>> {
    let index = TarIndex::read(storage.as_ref()).map_err(|e| e.within(path.display()))?;
    let files: Vec<&str> = index
        .members
        .iter()
        .filter(|m| m.kind == tar::MemberKind::File)
        .map(|m| m.name.as_str())
        .collect();
    let Some(name) = &opts.tar_member else {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} is a tar archive; choose a member to open (members: {})",
                path.display(),
                files.join(", ")
            ),
        ));
    };
    let member = index.find(name).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} has no member {name:?} (members: {})",
                path.display(),
                files.join(", ")
            ),
        )
    })?;
    Ok(Arc::new(SliceStorage::new(
        storage,
        member.offset,
        member.size,
        format!("member {:?}", member.name),
    )?))
}

/// Only raw images are read from inside compressed streams: other formats
/// need random access.
fn check_raw_inside(w: Wrapper, storage: &Arc<dyn Storage>, opts: &OpenOptions) -> Result<()> {
    let mut src = StreamSource::open(w, storage.clone(), &opts.stream_limits)?;
    let mut head = vec![0u8; 64 << 10];
    let mut got = 0;
    while got < head.len() {
        let n = src.read_chunk(&mut head[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    head.truncate(got);
    let inner = head.len().min(4096);
    match probe_any(&BytesStorage(head[..inner].to_vec()))? {
        Probed::Image(crate::formats::Format::Raw | crate::formats::Format::Iso) => Ok(()),
        Probed::Image(f) => Err(Error::unsupported(format!(
            "the {} stream in {} holds a {f} image, which needs random access; decompress it to a file first",
            w.name(),
            storage.describe()
        ))),
        Probed::Wrapper(inner) => Err(Error::unsupported(format!(
            "the {} stream in {} holds a {} stream; decompress it to a file first",
            w.name(),
            storage.describe(),
            inner.name()
        ))),
    }
}
