//! qcow2 writer conformance: random sparse writes from several threads,
//! then `qemu-img check` must be clean and `qemu-img compare` identical.
#![allow(clippy::unwrap_used)]
mod qcow2_common;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use ferry_image::formats::qcow2::{Qcow2Writer, Qcow2WriterOptions};
use ferry_image::{ExtentKind, OpenOptions, Storage, open_image};
use ferry_testutil::{images_identical, peer, run_output, tempdir};
use qcow2_common::ferry_read_all;

/// A file that reads back whatever was written (sizes are not cached), so
/// the writer's read-modify-write paths can be exercised.
struct GrowFile(File);

impl Storage for GrowFile {
    fn size(&self) -> u64 {
        self.0.metadata().unwrap().len()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> ferry_image::Result<()> {
        let n = self.0.read_at(buf, offset).unwrap();
        buf[n..].fill(0);
        Ok(())
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> ferry_image::Result<()> {
        self.0.write_all_at(buf, offset).unwrap();
        Ok(())
    }
    fn flush(&self) -> ferry_image::Result<()> {
        self.0.sync_data().unwrap();
        Ok(())
    }
}

/// A small deterministic generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

enum Op {
    Write(u64, Vec<u8>),
    Zero(u64, u64),
}

/// Random operations over `size` bytes: whole clusters and odd pieces,
/// compressible and random data, zero writes over earlier data.
fn ops(seed: u64, size: u64, cluster: u64, count: usize) -> Vec<Op> {
    let mut r = Rng(seed);
    let mut v = Vec::new();
    for _ in 0..count {
        let kind = r.below(10);
        let (off, len) = if r.below(2) == 0 {
            let c = r.below(size / cluster);
            (c * cluster, cluster * (1 + r.below(3)))
        } else {
            (r.below(size), 1 + r.below(3 * cluster))
        };
        let len = len.min(size - off);
        if len == 0 {
            continue;
        }
        if kind < 2 {
            v.push(Op::Zero(off, len));
        } else {
            let data: Vec<u8> = if kind < 6 {
                (0..len).map(|i| (i / 512) as u8 ^ (off as u8)).collect()
            } else {
                (0..len).map(|_| r.next() as u8).collect()
            };
            v.push(Op::Write(off, data));
        }
    }
    v
}

fn qemu_check_clean(path: &Path) {
    let out = run_output(Command::new("qemu-img").arg("check").arg(path));
    assert!(
        out.status.success(),
        "qemu-img check {} failed ({}): {}{}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_and_verify(dir: &Path, name: &str, opts: Qcow2WriterOptions, seed: u64, threads: usize) {
    let path = dir.join(name);
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    let writer = Arc::new(Qcow2Writer::create(Arc::new(GrowFile(file)), &opts).unwrap());
    let size = opts.virtual_size;
    let all = ops(seed, size, opts.cluster_size, 300);
    // The expected guest contents, applying the same operations in order.
    let mut expected = vec![0u8; size as usize];
    // Threads write disjoint, interleaved ranges: ops are grouped by
    // cluster-aligned 1 MiB stripes, each stripe owned by one thread.
    let stripe = |off: u64| ((off >> 20) as usize) % threads;
    let mut per_thread: Vec<Vec<&Op>> = (0..threads).map(|_| Vec::new()).collect();
    for op in &all {
        let (off, len) = match op {
            Op::Write(o, d) => (*o, d.len() as u64),
            Op::Zero(o, l) => (*o, *l),
        };
        // Keep each op inside one stripe so threads never overlap.
        if stripe(off) != stripe(off + len - 1) || (off >> 20) != ((off + len - 1) >> 20) {
            continue;
        }
        match op {
            Op::Write(o, d) => expected[*o as usize..*o as usize + d.len()].copy_from_slice(d),
            Op::Zero(o, l) => expected[*o as usize..(*o + *l) as usize].fill(0),
        }
        per_thread[stripe(off)].push(op);
    }
    std::thread::scope(|s| {
        for list in &per_thread {
            let w = writer.clone();
            s.spawn(move || {
                for op in list {
                    match op {
                        Op::Write(o, d) => w.write_at(d, *o).unwrap(),
                        Op::Zero(o, l) => w.write_zeroes(*o, *l).unwrap(),
                    }
                }
            });
        }
    });
    // Reads through the writer see what was written.
    let mut back = vec![0u8; size as usize];
    writer.read_at(&mut back, 0).unwrap();
    assert!(
        back == expected,
        "{name}: read-back through the writer differs"
    );
    writer.flush().unwrap();
    qemu_check_clean(&path);
    let raw = dir.join(format!("{name}.raw"));
    std::fs::write(&raw, &expected).unwrap();
    assert!(
        images_identical(&path, &raw),
        "{name}: qemu-img compare differs"
    );
    let img = open_image(&path, &OpenOptions::default()).unwrap();
    assert!(
        ferry_read_all(img.as_ref(), 1 << 20) == expected,
        "{name}: ferry read differs"
    );
    if opts.compress {
        let map = ferry_testutil::qemu_img(&["map", "--output=json", path.to_str().unwrap()]);
        assert!(
            map.contains("\"compressed\": true"),
            "{name}: no compressed clusters: {map}"
        );
    }
}

#[test]
fn qcow2_writer_random_sparse_writes_are_clean_and_identical() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let mut opts = Qcow2WriterOptions::new(24 << 20);
    write_and_verify(dir.path(), "plain.qcow2", opts, 1, 4);
    opts.cluster_size = 4096;
    opts.virtual_size = (8 << 20) + 1536;
    write_and_verify(dir.path(), "small-clusters.qcow2", opts, 2, 3);
}

#[test]
fn qcow2_writer_compressed_is_clean_and_identical() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let mut opts = Qcow2WriterOptions::new(16 << 20);
    opts.compress = true;
    write_and_verify(dir.path(), "comp.qcow2", opts, 3, 4);
    opts.cluster_size = 8192;
    opts.virtual_size = (6 << 20) + 512;
    write_and_verify(dir.path(), "comp-small.qcow2", opts, 4, 2);
}

#[test]
fn qcow2_writer_flush_twice_and_write_between_stays_clean() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let path = dir.path().join("twice.qcow2");
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    let w =
        Qcow2Writer::create(Arc::new(GrowFile(file)), &Qcow2WriterOptions::new(4 << 20)).unwrap();
    w.write_at(&[7u8; 70000], 1000).unwrap();
    w.flush().unwrap();
    qemu_check_clean(&path);
    w.write_at(&[9u8; 4096], 3 << 20).unwrap();
    w.write_zeroes(0, 65536).unwrap();
    w.flush().unwrap();
    qemu_check_clean(&path);
    let img = open_image(&path, &OpenOptions::default()).unwrap();
    let data = ferry_read_all(img.as_ref(), 1 << 20);
    assert!(data[..65536].iter().all(|&b| b == 0));
    assert!(data[65536..71000].iter().all(|&b| b == 7));
    assert!(data[3 << 20..(3 << 20) + 4096].iter().all(|&b| b == 9));
    let ext = w.extents(0, 4 << 20).unwrap();
    assert_eq!(ext[0].kind, ExtentKind::Hole);
    assert_eq!(ext[1].kind, ExtentKind::Data);
}

#[test]
fn qcow2_writer_rejects_bad_options() {
    let dir = tempdir();
    let path = dir.path().join("x.qcow2");
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    let target: Arc<dyn Storage> = Arc::new(GrowFile(file));
    let mut o = Qcow2WriterOptions::new(1 << 20);
    o.cluster_size = 3000;
    assert!(Qcow2Writer::create(target.clone(), &o).is_err());
    let o = Qcow2WriterOptions::new(1 << 62);
    let err = Qcow2Writer::create(target.clone(), &o).err().unwrap();
    assert_eq!(err.kind(), ferry_image::ErrorKind::Limit);
    let w = Qcow2Writer::create(target, &Qcow2WriterOptions::new(1 << 20)).unwrap();
    assert!(w.write_at(&[1], 1 << 20).is_err());
    w.flush().unwrap();
}
