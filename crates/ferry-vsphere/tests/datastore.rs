//! Disks read straight from the simulator's datastore: VMDKs made by
//! qemu-img (monolithicSparse, descriptor + flat extent), uploaded over
//! `/folder`, opened through `DatastoreStorage`, copied with ferry-copy and
//! compared with qemu-img.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use ferry_copy::CopyOptions;
use ferry_image::{FileStorage, OpenOptions, Storage};
use ferry_testutil::{Vcsim, images_identical, peer, qemu_img, qemu_io_write, tempdir, vcsim};
use ferry_vsphere::{
    Client, ClientOptions, DatastoreFile, DatastoreOptions, DatastoreStorage, ErrorKind, Secret,
    TlsOptions, open_datastore_image,
};

fn connect(sim: &Vcsim) -> (tokio::runtime::Runtime, Client) {
    connect_to(sim, &sim.info.url)
}

fn connect_to(sim: &Vcsim, url: &str) -> (tokio::runtime::Runtime, Client) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut o = ClientOptions::new(
        url.to_string(),
        sim.info.username.clone(),
        Secret::new(sim.info.password.clone()),
    );
    o.tls = TlsOptions {
        cacert_pem: Some(sim.info.cert_pem.clone()),
        ..TlsOptions::default()
    };
    let client = rt.block_on(Client::connect(&o)).unwrap();
    (rt, client)
}

fn file(sim: &Vcsim, path: &str) -> DatastoreFile {
    DatastoreFile::parse(
        &sim.info.datacenter,
        &format!("[{}] {path}", sim.info.datastore),
    )
    .unwrap()
}

/// Small chunks so that several GETs, the cache and read-ahead all run.
fn small_chunks(connections: usize) -> DatastoreOptions {
    DatastoreOptions {
        connections,
        chunk_size: 256 << 10,
        read_ahead: 3,
        ..DatastoreOptions::default()
    }
}

fn copy_and_compare(
    client: &Client,
    sim: &Vcsim,
    ds_path: &str,
    source: &Path,
    connections: usize,
) {
    let (img, stats) = open_datastore_image(
        client,
        &file(sim, ds_path),
        &small_chunks(connections),
        &OpenOptions::default(),
    )
    .unwrap();
    let dir = tempdir();
    let out = dir.path().join("out.raw");
    let target = FileStorage::create(&out, img.virtual_size()).unwrap();
    let opts = CopyOptions {
        workers: 3,
        chunk_size: 1 << 20,
        target_is_zero: true,
        zero_copy: false,
        ..CopyOptions::default()
    };
    ferry_copy::copy(img.as_ref(), &target, &opts).unwrap();
    target.flush().unwrap();
    // Everything fetched was needed at most once, plus read-ahead past the
    // data (a few chunks per reader).
    let on_ds: u64 = std::fs::read_dir(source.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(source.file_stem().unwrap().to_str().unwrap())
        })
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(stats.bytes_fetched() > 0);
    assert!(
        stats.bytes_fetched() <= on_ds + (8 << 20),
        "fetched {} bytes for {on_ds} bytes of files",
        stats.bytes_fetched()
    );
    assert!(
        images_identical(source, &out),
        "{ds_path} copied through the datastore differs from {}",
        source.display()
    );
}

fn make_disks(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let sparse = dir.join("sparse.vmdk");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-o",
        "subformat=monolithicSparse",
        sparse.to_str().unwrap(),
        "12M",
    ]);
    qemu_io_write(&sparse, "vmdk", 0x11, 0, 300 << 10);
    qemu_io_write(&sparse, "vmdk", 0x22, 5 << 20, 1 << 20);
    qemu_io_write(&sparse, "vmdk", 0x33, (12 << 20) - 4096, 4096);
    let flat = dir.join("flat.vmdk");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-o",
        "subformat=monolithicFlat",
        flat.to_str().unwrap(),
        "6M",
    ]);
    qemu_io_write(&flat, "vmdk", 0x44, 64 << 10, 1 << 20);
    qemu_io_write(&flat, "vmdk", 0x55, 4 << 20, 123 << 10);
    (sparse, flat)
}

#[test]
fn sparse_and_flat_vmdks_copy_identically_from_the_datastore() {
    if peer("qemu-img").is_none() {
        return;
    }
    let Some(sim) = vcsim() else { return };
    let dir = tempdir();
    let (sparse, flat) = make_disks(dir.path());
    sim.upload(&sparse, "vm1/sparse.vmdk");
    sim.upload(&flat, "vm1/flat.vmdk");
    sim.upload(&dir.path().join("flat-flat.vmdk"), "vm1/flat-flat.vmdk");
    let (_rt, client) = connect(&sim);
    for connections in [1, 4] {
        copy_and_compare(&client, &sim, "vm1/sparse.vmdk", &sparse, connections);
        copy_and_compare(&client, &sim, "vm1/flat.vmdk", &flat, connections);
    }
}

#[test]
fn raw_reads_match_the_file_at_any_offset() {
    let Some(sim) = vcsim() else { return };
    let dir = tempdir();
    let local = dir.path().join("blob.bin");
    let data: Vec<u8> = (0..1_300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&local, &data).unwrap();
    sim.upload(&local, "misc/blob.bin");
    let (_rt, client) = connect(&sim);
    let s =
        DatastoreStorage::open(&client, &file(&sim, "misc/blob.bin"), &small_chunks(2)).unwrap();
    assert_eq!(s.size(), data.len() as u64);
    let s = Arc::new(s);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let s = s.clone();
            let data = data.clone();
            std::thread::spawn(move || {
                for i in 0..40u64 {
                    let off = (i * 31_337 + t * 77_777) % (data.len() as u64 - 70_000);
                    let len = ((i * 7919 + t) % 69_999 + 1) as usize;
                    let mut buf = vec![0u8; len];
                    s.read_at(&mut buf, off).unwrap();
                    assert_eq!(
                        &buf[..],
                        &data[off as usize..off as usize + len],
                        "at {off}+{len}"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut tail = vec![0u8; 10];
    let e = s.read_at(&mut tail, data.len() as u64 - 5).unwrap_err();
    assert_eq!(e.kind(), ferry_image::ErrorKind::OutOfBounds);
}

#[test]
fn missing_file_is_not_found_and_names_the_path() {
    let Some(sim) = vcsim() else { return };
    let (_rt, client) = connect(&sim);
    let e = DatastoreStorage::open(
        &client,
        &file(&sim, "nowhere/disk.vmdk"),
        &DatastoreOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("nowhere/disk.vmdk"), "{e}");
    assert!(!e.to_string().contains(&sim.info.password));
}

#[test]
fn descriptor_naming_a_file_outside_its_folder_is_refused() {
    let Some(sim) = vcsim() else { return };
    let dir = tempdir();
    let desc = dir.path().join("evil.vmdk");
    std::fs::write(
        &desc,
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\nRW 2048 FLAT \"../other/secret-flat.vmdk\" 0\n\nddb.virtualHWVersion = \"4\"\n",
    )
    .unwrap();
    sim.upload(&desc, "vm2/evil.vmdk");
    let (_rt, client) = connect(&sim);
    let e = open_datastore_image(
        &client,
        &file(&sim, "vm2/evil.vmdk"),
        &DatastoreOptions::default(),
        &OpenOptions::default(),
    )
    .err()
    .expect("refused");
    assert_eq!(e.kind(), ferry_image::ErrorKind::Refused, "{e}");
}

/// A TCP proxy in front of the simulator that can cut every open connection
/// and refuse the next few.
struct FlakyProxy {
    port: u16,
    refuse: Arc<std::sync::atomic::AtomicUsize>,
    open: Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl FlakyProxy {
    fn start(upstream: String) -> FlakyProxy {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let refuse = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let open = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (r, o) = (refuse.clone(), open.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(down) = conn else { return };
                if r.load(Ordering::SeqCst) > 0 {
                    r.fetch_sub(1, Ordering::SeqCst);
                    drop(down);
                    continue;
                }
                let Ok(up) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                o.lock().unwrap().push(down.try_clone().unwrap());
                for (mut a, mut b) in [
                    (down.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up, down),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut a, &mut b);
                        let _ = b.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        FlakyProxy { port, refuse, open }
    }

    /// Cut the open connections and refuse the next `n`.
    fn fail(&self, n: usize) {
        self.refuse.store(n, std::sync::atomic::Ordering::SeqCst);
        for c in self.open.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

#[test]
fn transient_connection_failures_are_retried() {
    let Some(sim) = vcsim() else { return };
    let dir = tempdir();
    let local = dir.path().join("blob.bin");
    let data: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&local, &data).unwrap();
    sim.upload(&local, "flaky/blob.bin");
    let proxy = FlakyProxy::start(sim.info.host.clone());
    let (_rt, client) = connect_to(&sim, &format!("https://127.0.0.1:{}/sdk", proxy.port));
    let opts = DatastoreOptions {
        connections: 1,
        read_ahead: 0,
        retries: 3,
        retry_delay: std::time::Duration::from_millis(10),
        ..small_chunks(1)
    };
    let s = DatastoreStorage::open(&client, &file(&sim, "flaky/blob.bin"), &opts).unwrap();
    proxy.fail(2);
    let mut buf = vec![0u8; 300_000];
    s.read_at(&mut buf, 100_000).unwrap();
    assert_eq!(&buf[..], &data[100_000..400_000]);

    // Without retries the same failure is an error that names the file.
    let no_retry = DatastoreOptions { retries: 0, ..opts };
    let s = DatastoreStorage::open(&client, &file(&sim, "flaky/blob.bin"), &no_retry).unwrap();
    proxy.fail(2);
    let e = s.read_at(&mut buf, 0).unwrap_err();
    assert!(e.to_string().contains("flaky/blob.bin"), "{e}");
}

#[test]
fn expired_session_on_folder_is_renewed_once() {
    let opts = ferry_testutil::VcsimOptions {
        folder_auth: true,
        ..ferry_testutil::VcsimOptions::default()
    };
    let Some(sim) = ferry_testutil::vcsim_with(&opts) else {
        return;
    };
    let dir = tempdir();
    let local = dir.path().join("blob.bin");
    let data: Vec<u8> = (0..500_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&local, &data).unwrap();
    sim.upload(&local, "auth/blob.bin");
    let (rt, client) = connect(&sim);
    let s =
        DatastoreStorage::open(&client, &file(&sim, "auth/blob.bin"), &small_chunks(1)).unwrap();
    // The session ends (as when vCenter expires it): the next read gets
    // HTTP 401, logs in again and succeeds.
    rt.block_on(client.logout()).unwrap();
    let generation = client.session_generation();
    let mut buf = vec![0u8; 200_000];
    s.read_at(&mut buf, 250_000).unwrap();
    assert_eq!(&buf[..], &data[250_000..450_000]);
    assert_eq!(client.session_generation(), generation + 1);
}

/// As the controller uses it: the client lives in an async runtime, the
/// copy runs on `spawn_blocking` threads.
#[tokio::test(flavor = "multi_thread")]
async fn reads_work_from_spawn_blocking_threads() {
    let Some(sim) = vcsim() else { return };
    let dir = tempdir();
    let local = dir.path().join("blob.bin");
    let data: Vec<u8> = (0..400_000u32).map(|i| (i % 239) as u8).collect();
    std::fs::write(&local, &data).unwrap();
    sim.upload(&local, "blocking/blob.bin");
    let mut o = ClientOptions::new(
        sim.info.url.clone(),
        sim.info.username.clone(),
        Secret::new(sim.info.password.clone()),
    );
    o.tls = TlsOptions {
        cacert_pem: Some(sim.info.cert_pem.clone()),
        ..TlsOptions::default()
    };
    let client = Client::connect(&o).await.unwrap();
    let f = file(&sim, "blocking/blob.bin");
    let expected = data.clone();
    let s = tokio::task::spawn_blocking(move || {
        let s = DatastoreStorage::open(&client, &f, &small_chunks(2)).unwrap();
        let mut buf = vec![0u8; 300_000];
        s.read_at(&mut buf, 50_000).unwrap();
        assert_eq!(&buf[..], &expected[50_000..350_000]);
        s
    })
    .await
    .unwrap();
    // Dropping the storage inside the async runtime is fine too.
    assert_eq!(s.size(), data.len() as u64);
    drop(s);
}
