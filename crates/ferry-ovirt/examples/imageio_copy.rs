//! Copy the disk of one image transfer from ovirt-imageio to a local raw
//! file (used by `bench/ovirt/run.sh`).
//!
//! ```text
//! imageio_copy TRANSFER_URL CACERT_PEM OUT.raw CONNECTIONS
//! ```
//! Prints one JSON line: guest bytes, bytes read from imageio, GETs, seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use ferry_copy::CopyOptions;
use ferry_image::{FileStorage, Image, RawImage};
use ferry_ovirt::{ImageioOptions, ImageioStorage, TlsOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: {} TRANSFER_URL CACERT OUT CONNECTIONS", args[0]);
        std::process::exit(2);
    }
    let tls = TlsOptions {
        cacert_pem: Some(std::fs::read_to_string(&args[2]).expect("read cacert")),
        insecure_skip_verify: false,
    };
    let connections: usize = args[4].parse().expect("connections");
    let started = Instant::now();
    let storage = ImageioStorage::open(
        &args[1],
        &tls,
        ImageioOptions {
            connections,
            ..ImageioOptions::default()
        },
    )
    .expect("open");
    let stats = storage.stats();
    let img = RawImage::new(Arc::new(storage));
    let target = Arc::new(
        FileStorage::create(std::path::Path::new(&args[3]), img.virtual_size()).expect("create"),
    );
    let opts = CopyOptions {
        workers: connections.max(2),
        target_is_zero: true,
        zero_copy: false,
        ..CopyOptions::default()
    };
    let report = ferry_copy::copy(&img, target.as_ref(), &opts).expect("copy");
    // No fdatasync: curl and the imageio client, the comparisons, do not
    // sync either.
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"guest_bytes\":{},\"bytes_read\":{},\"requests\":{},\"bytes_written\":{},\"seconds\":{secs:.3}}}",
        report.virtual_size,
        stats.bytes_read.load(Ordering::Relaxed),
        stats.requests.load(Ordering::Relaxed),
        report.bytes_written
    );
}
