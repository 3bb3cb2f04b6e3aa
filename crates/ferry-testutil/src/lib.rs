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

mod kube;
mod ovirt;
mod vcsim;
mod xfs;
pub use kube::{KubeCluster, kube_cluster};
pub use ovirt::{
    OvirtSim, OvirtSimInfo, OvirtSimState, Scenario, SimDisk, SimNic, SimTransfer, SimVm,
    ovirt_script, ovirt_sim,
};
pub use vcsim::{AttachedDisk, Vcsim, VcsimInfo, VcsimOptions, vcsim, vcsim_with};
pub use xfs::XfsMount;

/// A file of the upstream schema facts kept as test fixtures
/// (`crates/ferry-testutil/fixtures/upstream/<rel>`, written by
/// `tools/upstream-schema-facts.py`; see the NOTICE there), e.g.
/// `forklift/forklift.konveyor.io_plans.json` or
/// `kubevirt/kubevirt-swagger.json`. Panics when the fixture is missing:
/// it is part of the repository.
pub fn upstream_schema(rel: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/upstream")
        .join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse fixture {}: {e}", path.display()))
}

/// Forklift's CRD of `kind` (e.g. `Plan`) from the upstream schema facts,
/// or `None` when Forklift has no CRD of that kind.
pub fn forklift_crd(kind: &str) -> Option<serde_json::Value> {
    let rel = format!(
        "forklift/forklift.konveyor.io_{}s.json",
        kind.to_lowercase()
    );
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/upstream")
        .join(&rel)
        .is_file()
        .then(|| upstream_schema(&rel))
}

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
