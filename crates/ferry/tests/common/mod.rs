//! Helpers shared by the end-to-end tests: build the sample OVAs, write a
//! migration manifest for them, run ferry.
#![allow(clippy::unwrap_used, dead_code)]

pub mod cluster;
pub mod pod_runner;

use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_testutil::{images_identical, peer, run_output};

use serde_json::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Build the sample and write a migration manifest for it; returns the work dir.
pub fn sample(plan_vms: &str) -> Option<tempfile::TempDir> {
    for tool in ["qemu-img", "qemu-io", "sha256sum", "tar"] {
        peer(tool)?;
    }
    let work = ferry_testutil::tempdir();
    let out = run_output(
        Command::new("bash")
            .arg(repo().join("examples/ova/build.sh"))
            .arg(work.path().join("sample")),
    );
    assert!(
        out.status.success(),
        "build.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let template = std::fs::read_to_string(repo().join("examples/ova/migration.yaml.in")).unwrap();
    let appliances = work.path().join("sample/appliances");
    let mut text = template.replace("@APPLIANCES@", &appliances.display().to_string());
    if !plan_vms.is_empty() {
        let start = text.find("  vms:\n").unwrap();
        let end = text[start..].find("---").unwrap() + start;
        text.replace_range(start..end, plan_vms);
    }
    std::fs::write(work.path().join("migration.yaml"), text).unwrap();
    Some(work)
}

pub fn ferry(work: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.arg("migrate")
        .arg("-f")
        .arg(work.join("migration.yaml"))
        .arg("--data-dir")
        .arg(work.join("data"))
        .args(extra);
    run_output(&mut cmd)
}

/// Run the ferry binary with `args`.
pub fn run_ferry(args: &[&str]) -> std::process::Output {
    run_output(Command::new(env!("CARGO_BIN_EXE_ferry")).args(args))
}

pub fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn manifests(work: &Path, vm: &str) -> PathBuf {
    work.join("data/local/manifests/demo-vms").join(vm)
}

/// `qemu-img compare` every disk of a migrated VM (found through its
/// DataVolume manifests) with the raw reference the sample kept; returns
/// how many disks were compared.
pub fn compare_disks(work: &Path, vm: &str) -> usize {
    let mut compared = 0;
    for entry in std::fs::read_dir(manifests(work, vm)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("datavolume-") {
            continue;
        }
        let dv = yaml(&path);
        let ann = &dv["metadata"]["annotations"];
        let relative = ann["ferry.konveyor.io/image-file"].as_str().unwrap();
        assert!(
            Path::new(relative).is_relative(),
            "{relative} is not relative to the data directory"
        );
        let image = work.join("data").join(relative);
        let source = ann["forklift.konveyor.io/disk-source"].as_str().unwrap();
        let disk = Path::new(source)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let reference = work.join("sample/reference").join(format!("{disk}.raw"));
        assert!(
            images_identical(&reference, &image),
            "{} differs from {}",
            image.display(),
            reference.display()
        );
        compared += 1;
    }
    compared
}

/// The volume files of the target namespace: `(file name, is ready)`.
pub fn volumes(work: &Path) -> Vec<(String, bool)> {
    let dir = work.join("data/local/volumes/demo-vms");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
        .iter()
        .filter(|n| n.ends_with(".img"))
        .map(|n| (n.clone(), names.contains(&format!("{n}.ready"))))
        .collect()
}

/// Poll `cond` every 100 ms until it holds; panic with `what` after
/// `limit` (a deadline for a state to appear, not a speed check).
pub fn wait_for(what: &str, limit: std::time::Duration, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "never saw: {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Kills the child on drop so a failed assertion leaves nothing running.
pub struct Guard(Option<std::process::Child>);

impl Guard {
    /// Guard `child`.
    pub fn new(child: std::process::Child) -> Self {
        Self(Some(child))
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.0.as_ref().map_or(0, std::process::Child::id)
    }

    /// True once the child has exited (it is then collected by
    /// [`Guard::wait_with_output`]).
    pub fn exited(&mut self) -> bool {
        self.0
            .as_mut()
            .is_none_or(|c| c.try_wait().unwrap().is_some())
    }

    /// Wait for the child to end by itself and collect its output.
    pub fn wait_with_output(mut self) -> std::process::Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Start `ferry [pre...] serve` on free loopback ports with `data_dir` and
/// `extra` arguments, its stderr to `log`; returns the guard and the
/// kubeconfig it printed.
pub fn start_serve(pre: &[&str], data_dir: &Path, extra: &[&str], log: &Path) -> (Guard, PathBuf) {
    use std::io::{BufRead, BufReader};
    let mut server = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(pre)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--inventory-listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let guard = Guard::new(server);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let kubeconfig = line
        .trim()
        .strip_prefix("export KUBECONFIG=")
        .unwrap_or_else(|| panic!("ferry serve printed {line:?}"))
        .to_owned();
    (guard, PathBuf::from(kubeconfig))
}

/// Run kubectl against `kubeconfig` (with `stdin` piped in); its stdout.
pub fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        let mut input = input;
        input.write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The condition of type `t` with status True in `obj.status.conditions`.
pub fn condition<'a>(obj: &'a Value, t: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == t && c["status"] == "True")
}
