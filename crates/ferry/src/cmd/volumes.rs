//! The volumes of a migrated VM, read from the DataVolume manifests the
//! local destination wrote: for the summary of `ferry migrate -o json` and
//! for scripts that check the disks.
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

/// The annotation naming a local volume's image file (relative to the data
/// directory; older runs wrote it relative to their working directory or
/// absolute).
const ANN_IMAGE: &str = "ferry.konveyor.io/image-file";
/// The source disk a volume was copied from.
const ANN_SOURCE: &str = "forklift.konveyor.io/disk-source";

/// One volume of a migrated VM.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct VolumeRow {
    /// The DataVolume's name.
    pub name: String,
    /// The image file, absolute.
    pub image: PathBuf,
    /// The source disk.
    pub source: String,
}

/// Where an `image-file` annotation points, for a data directory that may
/// have moved since it was written.
pub fn resolve_image(data_dir: &Path, annotation: &str) -> PathBuf {
    let path = Path::new(annotation);
    if path.is_relative() {
        return data_dir.join(path);
    }
    // Absolute: written by an older run; if the data directory moved, the
    // part below `local/` still names the file.
    if path.exists() {
        return path.to_path_buf();
    }
    let text = annotation.replace('\\', "/");
    match text.rfind("/local/volumes/") {
        Some(i) => data_dir.join(&text[i + 1..]),
        None => path.to_path_buf(),
    }
}

/// The volumes described by the `datavolume-*.yaml` manifests in
/// `manifest_dir`, sorted by name; manifests that cannot be read are
/// reported as errors naming the file.
pub fn of_vm(data_dir: &Path, manifest_dir: &Path) -> Result<Vec<VolumeRow>, String> {
    let entries = match std::fs::read_dir(manifest_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list {}: {e}", manifest_dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name().to_string_lossy().to_string();
        if !file.starts_with("datavolume-") || !file.ends_with(".yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let dv: Value = serde_saphyr::from_str(&text)
            .map_err(|e| format!("{} is not valid YAML: {e}", path.display()))?;
        let ann = dv.pointer("/metadata/annotations");
        let get = |key: &str| ann.and_then(|a| a.get(key)).and_then(Value::as_str);
        let Some(image) = get(ANN_IMAGE) else {
            continue;
        };
        out.push(VolumeRow {
            name: dv
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            image: resolve_image(data_dir, image),
            source: get(ANN_SOURCE).unwrap_or_default().to_owned(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_moved_paths_resolve_in_the_data_dir() {
        let data = Path::new("/new/place/data");
        assert_eq!(
            resolve_image(data, "local/volumes/ns/a.img"),
            data.join("local/volumes/ns/a.img")
        );
        assert_eq!(
            resolve_image(data, "/old/place/data/local/volumes/ns/a.img"),
            data.join("local/volumes/ns/a.img")
        );
    }

    #[test]
    fn reads_long_paths_from_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("local/volumes/ns/{}.img", "d".repeat(120));
        let yaml = format!(
            "metadata:\n  name: dv-1\n  annotations:\n    {ANN_IMAGE}: {long}\n    {ANN_SOURCE}: >-\n      /a/very/long\n      source.vmdk\n"
        );
        std::fs::write(dir.path().join("datavolume-dv-1.yaml"), yaml).unwrap();
        std::fs::write(dir.path().join("virtualmachine.yaml"), "x: 1\n").unwrap();
        let rows = of_vm(Path::new("/data"), dir.path()).unwrap();
        assert_eq!(
            rows,
            vec![VolumeRow {
                name: "dv-1".into(),
                image: Path::new("/data").join(&long),
                source: "/a/very/long source.vmdk".into(),
            }]
        );
    }
}
