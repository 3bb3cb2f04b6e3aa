//! Engine tests over real files: sparse raw to raw, ordered modes, checksum,
//! the resume journal after an injected failure.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use ferry_copy::{
    CopyOptions, ErrorKind, Order, Progress, ResumeOptions, Tier, checksum_image, copy,
};
use ferry_image::{FileStorage, RawImage, Storage};

const M: u64 = 1 << 20;

/// A sparse raw source: patterned data, explicit zeros (allocated), holes,
/// and an odd size.
fn make_source(path: &Path) -> u64 {
    let size = 37 * M + 4096 + 512;
    let s = FileStorage::create(path, size).unwrap();
    let pattern: Vec<u8> = (0..3 * M).map(|i| (i * 7 % 251) as u8 + 1).collect();
    s.write_at(&pattern, M).unwrap();
    s.write_at(&vec![0u8; 2 * M as usize], 8 * M).unwrap();
    s.write_at(&pattern[..(M as usize + 333)], 20 * M + 100)
        .unwrap();
    s.write_at(&pattern[..4096 + 512], 37 * M).unwrap();
    s.flush().unwrap();
    size
}

fn read_all(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn allocated(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().blocks() * 512
}

fn no_zero_copy() -> CopyOptions {
    CopyOptions {
        zero_copy: false,
        target_is_zero: true,
        ..CopyOptions::default()
    }
}

#[test]
fn sparse_raw_copy_is_identical_and_sparse() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("s.raw"), dir.path().join("d.raw"));
    let size = make_source(&src);
    let image = RawImage::open(&src).unwrap();
    let target = FileStorage::create(&dst, size).unwrap();
    let progress = Arc::new(Progress::default());
    let opts = CopyOptions {
        workers: 3,
        checksum: true,
        progress: Some(progress.clone()),
        ..no_zero_copy()
    };
    let report = copy(&image, &target, &opts).unwrap();
    assert_eq!(read_all(&src), read_all(&dst));
    assert_eq!(report.tier, Tier::ReadWrite);
    assert_eq!(progress.done(), size);
    assert_eq!(progress.total(), size);
    // The 2 MiB of explicit zeros were read but not written.
    assert!(
        report.bytes_read >= report.bytes_written + 2 * M,
        "{report:?}"
    );
    assert_eq!(report.bytes_written + report.zero_bytes_skipped, size);
    assert!(
        allocated(&dst) <= allocated(&src) - 2 * M,
        "target is not sparse"
    );
    let target_image = RawImage::open(&dst).unwrap();
    assert_eq!(
        report.checksum.as_deref(),
        Some(checksum_image(&target_image, 2).unwrap().as_str())
    );
}

#[test]
fn checksum_changes_with_one_byte() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("s.raw");
    make_source(&src);
    let before = checksum_image(&RawImage::open(&src).unwrap(), 2).unwrap();
    FileStorage::open_rw(&src)
        .unwrap()
        .write_at(&[0xEE], 30 * M)
        .unwrap();
    let after = checksum_image(&RawImage::open(&src).unwrap(), 2).unwrap();
    assert_ne!(before, after);
}

/// A storage that checks writes arrive in increasing offsets.
struct InOrder {
    inner: FileStorage,
    last_end: std::sync::Mutex<u64>,
}

impl Storage for InOrder {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> ferry_image::Result<()> {
        self.inner.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> ferry_image::Result<()> {
        let mut last = self.last_end.lock().unwrap();
        assert!(
            offset >= *last,
            "write at {offset} after one ending at {last}"
        );
        *last = offset + buf.len() as u64;
        self.inner.write_at(buf, offset)
    }
}

#[test]
fn sequential_order_writes_in_guest_order() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("s.raw"), dir.path().join("d.raw"));
    let size = make_source(&src);
    let image = RawImage::open(&src).unwrap();
    let target = InOrder {
        inner: FileStorage::create(&dst, size).unwrap(),
        last_end: std::sync::Mutex::new(0),
    };
    let opts = CopyOptions {
        workers: 4,
        chunk_size: 256 << 10,
        read_order: Order::Sequential,
        write_order: Order::Sequential,
        ..no_zero_copy()
    };
    copy(&image, &target, &opts).unwrap();
    assert_eq!(read_all(&src), read_all(&dst));
}

#[test]
fn a_smaller_target_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("s.raw"), dir.path().join("d.raw"));
    let size = make_source(&src);
    let target = FileStorage::create(&dst, size - 1).unwrap();
    let err = copy(&RawImage::open(&src).unwrap(), &target, &no_zero_copy()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn resume_after_a_failure_ends_identical_with_the_same_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("s.raw"), dir.path().join("d.raw"));
    let size = make_source(&src);
    let journal = dir.path().join("d.raw.journal");
    let resume = ResumeOptions {
        journal: journal.clone(),
        source_identity: ferry_copy::source_identity(&src, "raw").unwrap(),
    };
    let image = RawImage::open(&src).unwrap();
    let fresh = checksum_image(&image, 2).unwrap();

    // First run: stop after 3 items; the journal must name what was done.
    let target = FileStorage::create(&dst, size).unwrap();
    let opts = CopyOptions {
        workers: 2,
        chunk_size: M,
        checksum: true,
        resume: Some(resume.clone()),
        fail_after_items: Some(3),
        ..no_zero_copy()
    };
    let err = copy(&image, &target, &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    drop(target);
    let state = ferry_copy::load_journal(&journal).unwrap().unwrap();
    assert!(!state.done.is_empty(), "{state:?}");

    // Scribble on a chunk the journal does not list as done: resume must
    // rewrite it.
    let target = FileStorage::open_rw(&dst).unwrap();
    target.write_at(&[0x55; 4096], 36 * M).unwrap();
    let opts = CopyOptions {
        fail_after_items: None,
        target_is_zero: false,
        ..opts
    };
    let report = copy(&image, &target, &opts).unwrap();
    assert!(report.bytes_resumed > 0, "{report:?}");
    assert_eq!(read_all(&src), read_all(&dst));
    assert_eq!(report.checksum.as_deref(), Some(fresh.as_str()));
    if ferry_testutil::peer("qemu-img").is_some() {
        assert!(ferry_testutil::images_identical(&src, &dst));
    }
}

#[test]
fn a_journal_for_another_source_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("s.raw"), dir.path().join("d.raw"));
    let size = make_source(&src);
    let journal = dir.path().join("d.raw.journal");
    let image = RawImage::open(&src).unwrap();
    let target = FileStorage::create(&dst, size).unwrap();
    let opts = CopyOptions {
        resume: Some(ResumeOptions {
            journal: journal.clone(),
            source_identity: "one".into(),
        }),
        fail_after_items: Some(1),
        ..no_zero_copy()
    };
    copy(&image, &target, &opts).unwrap_err();
    let opts = CopyOptions {
        resume: Some(ResumeOptions {
            journal,
            source_identity: "two".into(),
        }),
        fail_after_items: None,
        ..opts
    };
    let err = copy(&image, &target, &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::JournalMismatch);
    assert!(err.to_string().contains("different source"), "{err}");
}

#[test]
fn zero_copy_tier_copies_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("s.raw"), dir.path().join("d.raw"));
    let size = make_source(&src);
    let target = FileStorage::create(&dst, size).unwrap();
    let opts = CopyOptions {
        zero_copy: true,
        ..no_zero_copy()
    };
    let report = copy(&RawImage::open(&src).unwrap(), &target, &opts).unwrap();
    assert_ne!(report.tier, Tier::ReadWrite, "{report:?}");
    assert_eq!(read_all(&src), read_all(&dst));
}

#[test]
fn target_not_known_zero_gets_its_old_bytes_zeroed() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("s.raw"), dir.path().join("d.raw"));
    let size = make_source(&src);
    std::fs::write(&dst, vec![0xAAu8; size as usize]).unwrap();
    let target = FileStorage::open_rw(&dst).unwrap();
    let opts = CopyOptions {
        target_is_zero: false,
        ..no_zero_copy()
    };
    copy(&RawImage::open(&src).unwrap(), &target, &opts).unwrap();
    assert_eq!(read_all(&src), read_all(&dst));
}

/// A storage whose writes at or past `fail_at` fail.
struct FailingTarget {
    inner: FileStorage,
    fail_at: u64,
}

impl Storage for FailingTarget {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> ferry_image::Result<()> {
        self.inner.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> ferry_image::Result<()> {
        if offset + buf.len() as u64 > self.fail_at {
            return Err(ferry_image::Error::io(
                "injected write failure",
                std::io::Error::other("disk full"),
            ));
        }
        self.inner.write_at(buf, offset)
    }
}

#[test]
fn a_failing_write_fails_the_copy_and_is_not_counted_done() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("s.raw"), dir.path().join("d.raw"));
    let size = make_source(&src);
    let image = RawImage::open(&src).unwrap();
    for workers in [1, 3] {
        let target = FailingTarget {
            inner: FileStorage::create(&dst, size).unwrap(),
            fail_at: 21 * M,
        };
        let progress = Arc::new(Progress::default());
        let opts = CopyOptions {
            workers,
            chunk_size: 256 << 10,
            progress: Some(progress.clone()),
            ..no_zero_copy()
        };
        let err = copy(&image, &target, &opts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Write, "{err}");
        // The chunk holding the data at 20 MiB + 100 never counted as done.
        assert!(progress.done() < size, "{} of {size}", progress.done());
    }
}
