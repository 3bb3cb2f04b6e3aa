//! Copy one disk from a vSphere datastore to a local raw file (used by
//! `bench/vsphere/run.sh`).
//!
//! ```text
//! FERRY_VSPHERE_PASSWORD=... datastore_copy URL USER CACERT_PEM DATACENTER "[ds] dir/disk.vmdk" OUT.raw CONNECTIONS
//! ```
//! Prints one JSON line: bytes read from the datastore, guest bytes, seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use ferry_copy::CopyOptions;
use ferry_image::{FileStorage, OpenOptions};
use ferry_vsphere::{
    Client, ClientOptions, DatastoreFile, DatastoreOptions, Secret, TlsOptions,
    open_datastore_image,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 8 {
        eprintln!(
            "usage: FERRY_VSPHERE_PASSWORD=.. {} URL USER CACERT DATACENTER DS_PATH OUT CONNECTIONS",
            args[0]
        );
        std::process::exit(2);
    }
    let password = std::env::var("FERRY_VSPHERE_PASSWORD").expect("FERRY_VSPHERE_PASSWORD");
    let mut o = ClientOptions::new(args[1].clone(), args[2].clone(), Secret::new(password));
    o.tls = TlsOptions {
        cacert_pem: Some(std::fs::read_to_string(&args[3]).expect("read cacert")),
        ..TlsOptions::default()
    };
    let connections: usize = args[7].parse().expect("connections");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(Client::connect(&o)).expect("connect");
    let file = DatastoreFile::parse(&args[4], &args[5]).expect("datastore path");
    let started = Instant::now();
    let ds = DatastoreOptions {
        connections,
        read_ahead: connections.max(2),
        ..DatastoreOptions::default()
    };
    let (img, stats) =
        open_datastore_image(&client, &file, &ds, &OpenOptions::default()).expect("open");
    let target = Arc::new(
        FileStorage::create(std::path::Path::new(&args[6]), img.virtual_size()).expect("create"),
    );
    let opts = CopyOptions {
        workers: connections.max(2),
        target_is_zero: true,
        zero_copy: false,
        ..CopyOptions::default()
    };
    let report = ferry_copy::copy(img.as_ref(), target.as_ref(), &opts).expect("copy");
    // No fdatasync: curl, the comparison, does not sync either.
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"guest_bytes\":{},\"bytes_fetched\":{},\"bytes_written\":{},\"seconds\":{secs:.3}}}",
        report.virtual_size,
        stats.bytes_fetched(),
        report.bytes_written
    );
    rt.block_on(client.logout()).ok();
}
