//! The zero-copy tier on a real reflink filesystem: an XFS image made with
//! `mkfs.xfs -m reflink=1` and loop-mounted (needs root and xfsprogs). Where
//! that is impossible the test says why and returns, unless
//! FERRY_REQUIRE_PEERS=1, where it fails.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs::File;
use std::path::Path;

use ferry_copy::{CopyOptions, Tier, copy};
use ferry_image::{Extent, FileStorage, Image, ImageInfo, RawImage, Storage};
use ferry_testutil::XfsMount;

fn make_source(path: &Path, size: u64) {
    let s = FileStorage::create(path, size).unwrap();
    let data: Vec<u8> = (0..(4u64 << 20)).map(|i| (i % 253) as u8 + 1).collect();
    s.write_at(&data, 1 << 20).unwrap();
    s.write_at(&data[..65536], size - 65536).unwrap();
    s.flush().unwrap();
}

/// A flat image whose guest bytes start `offset` bytes into a host file,
/// like a VMDK flat extent.
struct OffsetFlat {
    storage: FileStorage,
    offset: u64,
    size: u64,
}

impl Image for OffsetFlat {
    fn info(&self) -> ImageInfo {
        ImageInfo::default()
    }
    fn virtual_size(&self) -> u64 {
        self.size
    }
    fn extents(&self, offset: u64, len: u64) -> ferry_image::Result<Vec<Extent>> {
        Ok(self
            .storage
            .extents(self.offset + offset, len)?
            .into_iter()
            .map(|e| Extent {
                offset: e.offset - self.offset,
                ..e
            })
            .collect())
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> ferry_image::Result<()> {
        self.storage.read_at(buf, self.offset + offset)
    }
    fn flat_file(&self) -> Option<(&File, u64)> {
        Some((self.storage.file(), self.offset))
    }
}

#[test]
fn raw_and_offset_flat_sources_are_cloned_on_xfs() {
    let Some(fs) = XfsMount::new() else { return };
    let size = 64u64 << 20;
    let src = fs.mnt.join("src.raw");
    make_source(&src, size);

    // Whole-file clone (FICLONE).
    let dst = fs.mnt.join("dst.raw");
    let target = FileStorage::create(&dst, size).unwrap();
    let report = copy(
        &RawImage::open(&src).unwrap(),
        &target,
        &CopyOptions {
            target_is_zero: true,
            checksum: true,
            ..CopyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.tier, Tier::Reflink, "{report:?}");
    assert_eq!(report.bytes_cloned, size);
    assert_eq!(report.bytes_written, 0);
    assert!(report.checksum.is_some());
    assert_eq!(std::fs::read(&src).unwrap(), std::fs::read(&dst).unwrap());

    // Range clone from 1 MiB into the file (FICLONERANGE), as for a flat
    // VMDK extent at an offset.
    let flat = OffsetFlat {
        storage: FileStorage::open(&src).unwrap(),
        offset: 1 << 20,
        size: size - (1 << 20),
    };
    let dst2 = fs.mnt.join("dst2.raw");
    let target = FileStorage::create(&dst2, flat.size).unwrap();
    let report = copy(&flat, &target, &CopyOptions::default()).unwrap();
    assert_eq!(report.tier, Tier::Reflink, "{report:?}");
    assert_eq!(
        &std::fs::read(&src).unwrap()[1 << 20..],
        &std::fs::read(&dst2).unwrap()[..]
    );
}
