//! The probe and the one open factory. [`open_image`] opens a file, detects
//! its format by magic (or takes [`OpenOptions::format`]) and hands the bytes
//! to that format's `open`. Files named inside an image (backing files,
//! extents) are opened through [`open_named`], which asks the [`Gate`].
//!
//! Probing trusts nothing in the file beyond its magic numbers, but a probed
//! format is only a guess: when the format is known (from a manifest, an OVF
//! or the user), pass it explicitly.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::foreign;
use crate::formats::{self, Format};
use crate::gate::Gate;
use crate::image::Image;
use crate::storage::{FileStorage, Storage};

/// How to open an image. Build with `OpenOptions::default()` and set fields.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The format, or `None` to probe.
    pub format: Option<Format>,
    /// Policy for files named inside the image (backing files, extents).
    pub gate: Gate,
    /// Allow a qcow2 external data file (refused by default: the header
    /// names an arbitrary host file, CVE-2024-32498). It still passes the gate.
    pub allow_data_file: bool,
    /// Limits on decompressed streams (gzip, xz, zstd wrappers).
    pub stream_limits: crate::wrap::StreamLimits,
    /// For a tar archive (an OVA): the member to open.
    pub tar_member: Option<String>,
    /// Files already open above this one in the chain, for loop detection.
    /// [`open_named`] maintains it; callers leave it empty.
    pub chain: Vec<PathBuf>,
}

/// A wrapper around the image bytes, detected by magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    /// gzip stream (`1f 8b`).
    Gzip,
    /// xz stream (`fd 37 7a 58 5a 00`).
    Xz,
    /// zstd frame (`28 b5 2f fd`).
    Zstd,
    /// POSIX/GNU tar archive (`ustar` at offset 257).
    Tar,
}

impl Wrapper {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Wrapper::Gzip => "gzip",
            Wrapper::Xz => "xz",
            Wrapper::Zstd => "zstd",
            Wrapper::Tar => "tar",
        }
    }
}

/// What [`probe_any`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probed {
    /// A disk image format.
    Image(Format),
    /// A wrapper (compressed stream or archive) to look inside.
    Wrapper(Wrapper),
}

const VHD_COOKIE: &[u8] = b"conectix";

/// Detect the format of `storage` by magic numbers. A file with the magic of
/// a format ferry does not read (QED, Parallels, ...) is an
/// [`ErrorKind::Unsupported`] error, never raw; a file with no known magic
/// is raw. Wrappers (gzip, xz, zstd, tar) are not reported here; see
/// [`probe_any`].
pub fn probe(storage: &dyn Storage) -> Result<Format> {
    match probe_any(storage)? {
        Probed::Image(f) => Ok(f),
        Probed::Wrapper(_) => Ok(Format::Raw),
    }
}

/// Detect an image format or a wrapper by magic numbers (see [`probe`]).
pub fn probe_any(storage: &dyn Storage) -> Result<Probed> {
    let size = storage.size();
    let mut head = vec![0u8; size.min(4096) as usize];
    storage.read_at(&mut head, 0)?;
    let mut tail = vec![0u8; size.min(512) as usize];
    let tail_at = size - tail.len() as u64;
    storage.read_at(&mut tail, tail_at)?;
    if head.get(0x40..0x44) == Some(&formats::vdi::header::SIGNATURE.to_le_bytes()) {
        return Ok(Probed::Image(Format::Vdi));
    }
    if let Some(f) = foreign::detect(&head, &tail) {
        return Err(f.unsupported());
    }
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"QFI\xfb") {
        return Ok(Probed::Image(Format::Qcow2));
    }
    if formats::vmdk::probe(&head) {
        return Ok(Probed::Image(Format::Vmdk));
    }
    if starts(b"vhdxfile") {
        return Ok(Probed::Image(Format::Vhdx));
    }
    if starts(VHD_COOKIE) || (tail.len() == 512 && tail.starts_with(VHD_COOKIE)) {
        return Ok(Probed::Image(Format::Vpc));
    }
    if starts(&[0x1f, 0x8b]) {
        return Ok(Probed::Wrapper(Wrapper::Gzip));
    }
    if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Ok(Probed::Wrapper(Wrapper::Xz));
    }
    if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok(Probed::Wrapper(Wrapper::Zstd));
    }
    if head.len() >= 263 && &head[257..262] == b"ustar" {
        return Ok(Probed::Wrapper(Wrapper::Tar));
    }
    if size >= 0x8006 {
        let mut cd = [0u8; 5];
        storage.read_at(&mut cd, 0x8001)?;
        if &cd == b"CD001" {
            return Ok(Probed::Image(Format::Iso));
        }
    }
    Ok(Probed::Image(Format::Raw))
}

/// Open the image at `path` (a file or block device) for reading.
///
/// Every error names `path` exactly once.
pub fn open_image(path: &Path, opts: &OpenOptions) -> Result<Arc<dyn Image>> {
    let storage: Arc<dyn Storage> = Arc::new(FileStorage::open(path)?);
    open_storage(storage, path, opts, 0).map_err(|e| e.within(path.display()))
}

/// Open an image whose bytes are `storage`. `path` is where those bytes live
/// (files the image names are resolved beside it); `depth` is the position
/// in a backing/extent chain (0 for the image the user named).
pub fn open_storage(
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<Arc<dyn Image>> {
    let format = match opts.format {
        Some(f) => f,
        None => match probe_any(storage.as_ref()).map_err(|e| e.within(path.display()))? {
            Probed::Image(f) => f,
            Probed::Wrapper(w) => return crate::wrap::open_wrapped(w, storage, path, opts, depth),
        },
    };
    open_format(format, storage, path, opts, depth)
}

/// Dispatch to the format's `open`.
pub(crate) fn open_format(
    format: Format,
    storage: Arc<dyn Storage>,
    path: &Path,
    opts: &OpenOptions,
    depth: u32,
) -> Result<Arc<dyn Image>> {
    match format {
        Format::Raw => Ok(Arc::new(formats::raw::RawImage::new(storage))),
        Format::Iso => Ok(Arc::new(formats::raw::RawImage::named(storage, "iso"))),
        Format::Qcow2 => formats::qcow2::open(storage, path, opts, depth),
        Format::Vmdk => formats::vmdk::open(storage, path, opts, depth),
        Format::Vpc => formats::vhd::open(storage, path, opts, depth),
        Format::Vhdx => formats::vhdx::open(storage, path, opts, depth),
        Format::Vdi => formats::vdi::open(storage, path, opts, depth),
    }
}

/// Open a file named inside the image at `parent` (a backing file, an
/// extent): the gate decides whether it may be opened, chains deeper than the
/// gate's limit and loops are refused. `depth` is the new file's depth.
pub fn open_named(
    parent: &Path,
    name: &str,
    format: Option<Format>,
    opts: &OpenOptions,
    depth: u32,
) -> Result<Arc<dyn Image>> {
    let (resolved, storage) = opts.gate.open(parent, name, depth)?;
    let parent_canon = parent
        .canonicalize()
        .unwrap_or_else(|_| parent.to_path_buf());
    if resolved == parent_canon || opts.chain.contains(&resolved) {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{} names {name:?}{}, which is already open above it: the backing chain loops",
                parent.display(),
                crate::gate::also_as(name, &resolved)
            ),
        ));
    }
    let mut sub = opts.clone();
    sub.format = format;
    sub.tar_member = None;
    sub.chain.push(parent_canon);
    open_storage(storage, &resolved, &sub, depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mem(Vec<u8>);
    impl Storage for Mem {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }
        fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
            let start = offset as usize;
            buf.copy_from_slice(&self.0[start..start + buf.len()]);
            Ok(())
        }
    }

    fn probe_bytes(mut head: Vec<u8>, size: usize) -> Probed {
        head.resize(size, 0);
        probe_any(&Mem(head)).unwrap()
    }

    #[test]
    fn probe_detects_each_magic() {
        assert_eq!(
            probe_bytes(b"QFI\xfb".to_vec(), 1024),
            Probed::Image(Format::Qcow2)
        );
        assert_eq!(
            probe_bytes(b"KDMV".to_vec(), 1024),
            Probed::Image(Format::Vmdk)
        );
        assert_eq!(
            probe_bytes(b"# Disk DescriptorFile\nversion=1\n".to_vec(), 100),
            Probed::Image(Format::Vmdk)
        );
        assert_eq!(
            probe_bytes(b"vhdxfile".to_vec(), 1024),
            Probed::Image(Format::Vhdx)
        );
        assert_eq!(
            probe_bytes(vec![0x1f, 0x8b, 8], 100),
            Probed::Wrapper(Wrapper::Gzip)
        );
        assert_eq!(
            probe_bytes(vec![0xfd, b'7', b'z', b'X', b'Z', 0], 100),
            Probed::Wrapper(Wrapper::Xz)
        );
        assert_eq!(
            probe_bytes(vec![0x28, 0xb5, 0x2f, 0xfd], 100),
            Probed::Wrapper(Wrapper::Zstd)
        );
        assert_eq!(probe_bytes(Vec::new(), 0), Probed::Image(Format::Raw));
        assert_eq!(probe_bytes(vec![1, 2, 3], 3), Probed::Image(Format::Raw));
    }

    #[test]
    fn probe_finds_vhd_footer_at_end_and_iso_volume_descriptor() {
        let mut fixed = vec![0u8; 4096];
        fixed[4096 - 512..4096 - 504].copy_from_slice(b"conectix");
        assert_eq!(probe_any(&Mem(fixed)).unwrap(), Probed::Image(Format::Vpc));
        let mut iso = vec![0u8; 0x9000];
        iso[0x8001..0x8006].copy_from_slice(b"CD001");
        assert_eq!(probe_any(&Mem(iso)).unwrap(), Probed::Image(Format::Iso));
        let mut tar = vec![0u8; 1024];
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(probe_any(&Mem(tar)).unwrap(), Probed::Wrapper(Wrapper::Tar));
    }
}
