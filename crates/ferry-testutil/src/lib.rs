//! Test helpers shared by ferry's crates (a dev-dependency only).
//!
//! Tests that need a real peer (qemu-img, qemu-nbd, nbdkit, kubectl, the
//! vSphere simulator, ...) call [`peer`] first. Locally a missing peer makes
//! the test print why and return early; with `FERRY_REQUIRE_PEERS=1` (as CI
//! sets) a missing peer fails the test instead.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod vcsim;
mod xfs;
pub use vcsim::{AttachedDisk, Vcsim, VcsimInfo, VcsimOptions, vcsim, vcsim_with};
pub use xfs::XfsMount;

/// True when missing peers must fail tests (`FERRY_REQUIRE_PEERS=1`).
pub fn peers_required() -> bool {
    std::env::var("FERRY_REQUIRE_PEERS").is_ok_and(|v| v == "1" || v == "true")
}

/// Find the program `name` on PATH. Returns `None` (after printing a skip
/// notice) when it is missing and peers are not required; panics when it is
/// missing and they are.
pub fn peer(name: &str) -> Option<PathBuf> {
    match which(name) {
        Some(p) => Some(p),
        None if peers_required() => panic!(
            "test peer `{name}` is not installed and FERRY_REQUIRE_PEERS=1 (run .ci/peers.sh)"
        ),
        None => {
            eprintln!(
                "skipping: test peer `{name}` is not installed (set FERRY_REQUIRE_PEERS=1 to fail instead)"
            );
            None
        }
    }
}

/// Search PATH for an executable named `name`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Run a command, panicking with its stderr if it fails. Returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = run_output(cmd);
    assert!(
        out.status.success(),
        "{:?} failed ({}): {}",
        cmd,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run a command and return its output whatever the exit status.
pub fn run_output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// `qemu-img` with arguments; panics on failure, returns stdout.
pub fn qemu_img(args: &[&str]) -> String {
    run(Command::new("qemu-img").args(args))
}

/// `qemu-img compare -q A B` (any formats, probed): true when identical.
pub fn images_identical(a: &Path, b: &Path) -> bool {
    let out = run_output(
        Command::new("qemu-img")
            .arg("compare")
            .arg("-q")
            .arg(a)
            .arg(b),
    );
    out.status.success()
}

/// Write `data` into `image` at `offset` with `qemu-io` (format given).
pub fn qemu_io_write(image: &Path, format: &str, pattern: u8, offset: u64, len: u64) {
    run(Command::new("qemu-io")
        .arg("-f")
        .arg(format)
        .arg("-c")
        .arg(format!("write -P {pattern} {offset} {len}"))
        .arg(image));
}

/// A fresh temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create temp dir")
}
