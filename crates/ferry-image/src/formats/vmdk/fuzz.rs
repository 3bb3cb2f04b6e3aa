//! Fuzz entry points for the VMDK parsers, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/vmdk_*.rs`) and the corpus replay test, so CI runs
//! the same code on stable. Errors are expected; panics, hangs and huge
//! allocations are bugs.
use std::path::Path;
use std::sync::Arc;

use crate::gate::Gate;
use crate::image::{ExtentKind, Image};
use crate::open::OpenOptions;
use crate::wrap::BytesStorage;

use super::header::{
    COMPRESS_DEFLATE, FLAG_COMPRESSED, FLAG_MARKERS, FLAG_NL_DETECT, GD_AT_END, SparseHeader,
};
use super::stream::MARKER_FOOTER;

/// Map the whole image, then read its start, its end and a few data
/// extents.
pub(crate) fn exercise(img: &dyn Image) {
    let size = img.virtual_size();
    let _ = img.info();
    let extents = img.extents(0, size).unwrap_or_default();
    let mut buf = vec![0u8; 65536];
    let data = extents
        .iter()
        .filter(|e| e.kind == ExtentKind::Data)
        .take(8)
        .map(|e| e.offset);
    for offset in [0, size.saturating_sub(65536) / 2, size.saturating_sub(1000)]
        .into_iter()
        .chain(data)
    {
        let len = (size - offset.min(size)).min(65536) as usize;
        let _ = img.read_at(&mut buf[..len], offset);
    }
}

fn open_bytes(data: Vec<u8>) -> crate::Result<Arc<dyn Image>> {
    let opts = OpenOptions {
        gate: Gate::deny_all(),
        ..OpenOptions::default()
    };
    super::open(
        Arc::new(BytesStorage(data)),
        Path::new("/fuzz/input.vmdk"),
        &opts,
        0,
    )
}

/// The text descriptor parser alone.
pub fn fuzz_descriptor(data: &[u8]) {
    if let Ok(d) = super::descriptor::parse(data) {
        let _ = d.total_sectors();
    }
}

/// A whole file opened as a VMDK: sparse header, grain directory and
/// tables, embedded descriptor, COWD header, or a descriptor (every file it
/// names is refused by the gate).
pub fn fuzz_sparse(data: &[u8]) {
    if let Ok(img) = open_bytes(data.to_vec()) {
        exercise(img.as_ref());
    }
}

/// The streamOptimized marker walk and grain inflation: `data` follows a
/// fixed stream header (directory at the end) and precedes a footer that
/// names no directory and the end-of-stream marker, so the reader walks the
/// markers in `data`.
pub fn fuzz_stream(data: &[u8]) {
    let header = SparseHeader {
        version: 3,
        flags: FLAG_NL_DETECT | FLAG_COMPRESSED | FLAG_MARKERS,
        capacity: 2048 * 64,
        grain_sectors: 128,
        descriptor: (0, 0),
        gtes_per_gt: 512,
        rgd_offset: 0,
        gd_offset: GD_AT_END,
        gd_entries: 0,
        overhead: 1,
        compress_algorithm: COMPRESS_DEFLATE,
        cowd: false,
    };
    let mut file = header.to_kdmv_bytes().to_vec();
    file.extend_from_slice(data);
    file.resize(file.len().next_multiple_of(512), 0);
    let mut marker = [0u8; 512];
    marker[0..8].copy_from_slice(&1u64.to_le_bytes());
    marker[12..16].copy_from_slice(&MARKER_FOOTER.to_le_bytes());
    file.extend_from_slice(&marker);
    file.extend_from_slice(&header.to_kdmv_bytes());
    file.extend_from_slice(&[0u8; 512]);
    if let Ok(img) = open_bytes(file) {
        exercise(img.as_ref());
    }
}
