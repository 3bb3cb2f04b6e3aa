//! `ferry info IMAGE`: format, virtual and actual size, cluster size,
//! sub-format, backing chain and extent counts, as text or JSON.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use ferry_image::{Extent, ExtentKind, Format, Image, OpenOptions, open_image};
use serde::Serialize;

use super::gate_args::GateArgs;

/// How to open the image (shared by `info` and `map`).
#[derive(Debug, Clone, clap::Args)]
pub struct OpenArgs {
    /// The image (a file or block device).
    pub image: PathBuf,
    /// Image format (raw, qcow2, vmdk, vpc/vhd, vhdx, vdi, iso); probed when
    /// omitted. Probing trusts the file: name the format for untrusted
    /// images whose format you know.
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
    /// For a tar archive (an OVA): the member to open.
    #[arg(long)]
    pub member: Option<String>,
    #[command(flatten)]
    pub gate: GateArgs,
}

impl OpenArgs {
    /// Open the image as the arguments say.
    pub fn open(&self) -> anyhow::Result<Arc<dyn Image>> {
        let format = match &self.format {
            Some(f) => Some(f.parse::<Format>()?),
            None => None,
        };
        let opts = self.gate.apply(OpenOptions {
            format,
            tar_member: self.member.clone(),
            ..OpenOptions::default()
        });
        // ferry-image errors name the file (once) and the field concerned.
        Ok(open_image(&self.image, &opts)?)
    }
}

/// Output styles of `ferry info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InfoOutput {
    /// Lines of `key: value`.
    Text,
    /// One JSON object.
    Json,
}

/// Arguments of `ferry info`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub open: OpenArgs,
    /// Output style.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: InfoOutput,
}

/// Counts of extents by kind, and bytes of each.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ExtentSummary {
    /// Runs of each kind (adjacent runs of one kind merged).
    pub data_extents: u64,
    /// See `data_extents`.
    pub zero_extents: u64,
    /// See `data_extents`.
    pub hole_extents: u64,
    /// Bytes that hold data.
    pub data_bytes: u64,
    /// Bytes that read as zero and are allocated as zero.
    pub zero_bytes: u64,
    /// Bytes unallocated in the whole chain.
    pub hole_bytes: u64,
}

#[derive(Serialize)]
struct InfoJson<'a> {
    filename: String,
    #[serde(flatten)]
    info: &'a ferry_image::ImageInfo,
    extents: &'a ExtentSummary,
}

/// Guest bytes whose extents are asked for at once.
const WINDOW: u64 = 64 << 30;

/// Walk all extents of `img` in windows, merging across window edges.
pub fn for_each_extent(
    img: &dyn Image,
    mut f: impl FnMut(Extent) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let size = img.virtual_size();
    let mut pending: Option<Extent> = None;
    let mut pos = 0;
    while pos < size {
        let len = WINDOW.min(size - pos);
        for e in img
            .extents(pos, len)
            .with_context(|| format!("cannot map guest offset {pos}"))?
        {
            match &mut pending {
                Some(p) if p.kind == e.kind && p.offset + p.length == e.offset => {
                    p.length += e.length
                }
                _ => {
                    if let Some(p) = pending.replace(e) {
                        f(p)?;
                    }
                }
            }
        }
        pos += len;
    }
    if let Some(p) = pending {
        f(p)?;
    }
    Ok(())
}

/// Count the extents of `img`.
pub fn summarize(img: &dyn Image) -> anyhow::Result<ExtentSummary> {
    let mut s = ExtentSummary::default();
    for_each_extent(img, |e| {
        let (n, b) = match e.kind {
            ExtentKind::Data => (&mut s.data_extents, &mut s.data_bytes),
            ExtentKind::Zero => (&mut s.zero_extents, &mut s.zero_bytes),
            ExtentKind::Hole => (&mut s.hole_extents, &mut s.hole_bytes),
        };
        *n += 1;
        *b += e.length;
        Ok(())
    })?;
    Ok(s)
}

/// Bytes a regular file occupies on disk (allocated blocks).
fn allocated_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    meta.is_file().then(|| meta.blocks() * 512)
}

/// Print facts about the image.
pub fn run(args: Args) -> anyhow::Result<()> {
    let img = args.open.open()?;
    let mut info = img.info();
    if args.open.member.is_none()
        && let Some(a) = allocated_bytes(&args.open.image)
    {
        info.actual_size = Some(a);
    }
    let extents = summarize(img.as_ref())?;
    let filename = args.open.image.display().to_string();
    match args.output {
        InfoOutput::Json => {
            let doc = InfoJson {
                filename,
                info: &info,
                extents: &extents,
            };
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        InfoOutput::Text => {
            println!("image: {filename}");
            if let Some(m) = &args.open.member {
                println!("member: {m}");
            }
            println!("file format: {}", info.format);
            if let Some(s) = &info.subformat {
                println!("subformat: {s}");
            }
            println!(
                "virtual size: {} ({} bytes)",
                human(info.virtual_size),
                info.virtual_size
            );
            if let Some(a) = info.actual_size {
                println!("disk size: {} ({a} bytes)", human(a));
            }
            if let Some(c) = info.cluster_size {
                println!("cluster_size: {c}");
            }
            for (i, b) in info.backing_chain.iter().enumerate() {
                println!(
                    "backing file{}: {b}",
                    if i == 0 {
                        String::new()
                    } else {
                        format!(" {i}")
                    }
                );
            }
            for f in &info.extra_files {
                println!("extra file: {f}");
            }
            println!(
                "extents: {} data ({}), {} zero ({}), {} hole ({})",
                extents.data_extents,
                human(extents.data_bytes),
                extents.zero_extents,
                human(extents.zero_bytes),
                extents.hole_extents,
                human(extents.hole_bytes)
            );
        }
    }
    Ok(())
}

/// 1.5 GiB style sizes.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.3} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.500 KiB");
        assert_eq!(human(10 << 30), "10.000 GiB");
    }
}
