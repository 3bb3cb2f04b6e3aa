//! `ferry convert SRC DST`: copy a disk image into a new raw, qcow2 or
//! streamOptimized VMDK image, moving only data. The target is written to
//! `DST.part` and renamed when complete (and verified, with `--verify`), so
//! a file named DST is never half-written. `--resume` keeps a journal
//! (`DST.part.journal`) and a rerun after a crash continues where it stopped.
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ferry_copy::{CopyOptions, CopyReport, Order, Progress, ResumeOptions, StreamVmdkTarget};
use ferry_image::formats::qcow2::{Qcow2Writer, Qcow2WriterOptions};
use ferry_image::formats::vmdk::StreamVmdkOptions;
use ferry_image::{FileStorage, Format, Image, OpenOptions, Storage};

use super::gate_args::{GateArgs, context_for, names_path};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Sparse raw file or block device.
    Raw,
    /// qcow2 v3.
    Qcow2,
    /// streamOptimized VMDK (the disk format inside OVAs).
    Vmdk,
}

impl OutputFormat {
    fn name(self) -> &'static str {
        match self {
            OutputFormat::Raw => "raw",
            OutputFormat::Qcow2 => "qcow2",
            OutputFormat::Vmdk => "vmdk",
        }
    }

    /// Granularity of the target's allocation: zero detection and writes
    /// use it so an image writer sees whole clusters.
    fn zero_block(self) -> u64 {
        match self {
            OutputFormat::Raw => 4096,
            OutputFormat::Qcow2 | OutputFormat::Vmdk => 64 * 1024,
        }
    }
}

/// How to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// A bar when standard error is a terminal, else nothing.
    Auto,
    /// Always a bar (on standard error).
    Bar,
    /// JSON lines on standard output, twice a second.
    Json,
    /// Nothing until the summary.
    None,
}

/// Arguments of `ferry convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The source image.
    pub src: PathBuf,
    /// The target: a new file, or an existing block device.
    pub dst: PathBuf,
    /// Source format (raw, qcow2, vmdk, vpc/vhd, vhdx, vdi, iso); probed when
    /// omitted. Probing trusts the file: name the format for untrusted
    /// images whose format you know.
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Output format.
    #[arg(short = 'O', long = "output-format", value_enum, default_value = "raw")]
    pub output_format: OutputFormat,
    /// Output options, comma separated: `compress` (qcow2).
    #[arg(short = 'o', long = "options", value_delimiter = ',')]
    pub options: Vec<String>,
    /// Worker threads (0: one per core).
    #[arg(short = 'W', long = "workers", default_value_t = 0)]
    pub workers: usize,
    /// Progress display.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressMode,
    /// Checksum the guest contents while copying, re-read the target and
    /// compare; fail (and keep DST.part) on a mismatch.
    #[arg(long)]
    pub verify: bool,
    /// Keep a resume journal; rerun the same command to continue a killed
    /// conversion.
    #[arg(long)]
    pub resume: bool,
    /// Do not make the target durable: skip the fsync of DST before its
    /// rename and of its directory after it (like qemu-img's default
    /// cache=unsafe). Writes take the same path either way, so this only
    /// saves the final flush. By default, when ferry convert exits 0, DST
    /// and its name survive a power cut; with --no-sync, after a power cut
    /// DST may be missing or incomplete.
    #[arg(long)]
    pub no_sync: bool,
    /// Test hook: stop with an error after this many copy items.
    #[arg(long, hide = true)]
    pub fail_after_items: Option<u64>,
}

/// Run the conversion.
pub fn run(args: Args) -> anyhow::Result<()> {
    let format = args
        .format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()?;
    let open_opts = args.gate.apply(OpenOptions {
        format,
        ..OpenOptions::default()
    });
    let source = ferry_image::open_image(&args.src, &open_opts).map_err(|e| {
        let what = context_for(&e, "cannot open the source image", &args.src);
        anyhow::Error::new(e).context(what)
    })?;
    let compress = parse_options(&args.options, args.output_format)?;
    let size = source.virtual_size();
    let target = Target::prepare(&args, source.as_ref(), compress)?;

    let progress = Arc::new(Progress::with_total(size));
    // A compressed stream (gzip/xz/zstd) decodes in order only.
    let stream_source = source
        .info()
        .subformat
        .is_some_and(|s| s.ends_with(" stream"));
    let copy_opts = CopyOptions {
        workers: args.workers,
        target_is_zero: target.is_zero,
        checksum: args.verify,
        zero_copy: args.output_format == OutputFormat::Raw,
        zero_block: args.output_format.zero_block(),
        resume: target.journal.clone().map(|journal| ResumeOptions {
            journal,
            source_identity: target.source_identity.clone(),
        }),
        progress: Some(progress.clone()),
        fail_after_items: args.fail_after_items,
        read_order: if stream_source {
            Order::Sequential
        } else {
            Order::Any
        },
        ..CopyOptions::default()
    };
    let reporter = Reporter::start(args.progress, progress.clone());
    let result = match &target.dest {
        Dest::Storage(storage) => ferry_copy::copy(source.as_ref(), storage.as_ref(), &copy_opts),
        Dest::Vmdk(vmdk) => ferry_copy::copy_ordered(source.as_ref(), vmdk.as_ref(), &copy_opts),
    };
    reporter.finish();
    let report = result.map_err(|e| {
        let hint = if target.journal.is_some() {
            "; rerun the same command with --resume to continue"
        } else {
            ""
        };
        let (src, dst) = (&args.src, &target.write_path);
        let msg = match (names_path(&e, src), names_path(&e, dst)) {
            (false, false) => format!(
                "converting {} to {} failed{hint}",
                src.display(),
                dst.display()
            ),
            (true, false) => format!("converting to {} failed{hint}", dst.display()),
            (false, true) => format!("converting {} failed{hint}", src.display()),
            (true, true) => format!("the conversion failed{hint}"),
        };
        anyhow::Error::new(e).context(msg)
    })?;
    let mut target = target;
    target.finish_writing()?;
    let verified = if args.verify {
        Some(target.verify(&report, args.workers)?)
    } else {
        None
    };
    target.commit()?;
    print_summary(&args, &report, size, verified.as_deref())?;
    Ok(())
}

fn parse_options(options: &[String], out: OutputFormat) -> anyhow::Result<bool> {
    let mut compress = false;
    for o in options.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        match o {
            "compress" | "compress=on" => compress = true,
            "compress=off" => compress = false,
            other => bail!("unknown output option {other:?}; supported: compress"),
        }
    }
    if compress && out != OutputFormat::Qcow2 {
        bail!(
            "the compress option applies to -O qcow2 only (streamOptimized VMDK is always compressed)"
        );
    }
    Ok(compress)
}

/// The writer behind a target.
enum Dest {
    /// Raw and qcow2: positional writes in any order.
    Storage(Box<dyn Storage>),
    /// streamOptimized VMDK: written in guest order, finished at the end.
    Vmdk(Box<StreamVmdkTarget>),
}

/// Where the conversion writes and what to do when it is done.
struct Target {
    dest: Dest,
    /// The file being written (DST.part, or DST for a block device).
    write_path: PathBuf,
    final_path: PathBuf,
    format: OutputFormat,
    is_zero: bool,
    journal: Option<PathBuf>,
    source_identity: String,
    /// fsync before the rename.
    durable: bool,
}

/// Every file target writes large aligned chunks with `O_DIRECT` and starts
/// writeback of the rest early, so the copy never queues gigabytes in the
/// page cache (on small machines that copy and the writeback behind it cost
/// more than the writes themselves). Only a durable target also flushes at
/// the end; `--no-sync` skips that flush and the directory sync, so it is
/// never slower than the default.
fn tune(storage: &FileStorage, durable: bool) {
    storage.set_durable(durable);
    storage.set_early_writeback(true);
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl Target {
    fn prepare(args: &Args, source: &dyn Image, compress: bool) -> anyhow::Result<Self> {
        let size = source.virtual_size();
        let is_device = std::fs::metadata(&args.dst).is_ok_and(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_block_device()
        });
        if args.output_format != OutputFormat::Raw {
            if args.resume {
                bail!(
                    "unsupported: --resume needs -O raw (an image format's metadata is only complete at the end)"
                );
            }
            if is_device {
                bail!(
                    "unsupported: -O {} cannot be written onto the block device {}; use -O raw",
                    args.output_format.name(),
                    args.dst.display()
                );
            }
            return Self::prepare_image(args, size, compress);
        }
        if is_device {
            if args.resume {
                bail!(
                    "unsupported: --resume needs a file target, and {} is a block device",
                    args.dst.display()
                );
            }
            let storage = FileStorage::open_rw(&args.dst)
                .with_context(|| format!("cannot open the target device {}", args.dst.display()))?;
            tune(&storage, !args.no_sync);
            if storage.size() < size {
                bail!(
                    "the target device {} holds {} bytes, less than the source's {size}",
                    args.dst.display(),
                    storage.size()
                );
            }
            return Ok(Self {
                dest: Dest::Storage(Box::new(storage)),
                write_path: args.dst.clone(),
                final_path: args.dst.clone(),
                format: args.output_format,
                is_zero: false,
                journal: None,
                source_identity: String::new(),
                durable: !args.no_sync,
            });
        }
        if args.resume && args.no_sync {
            bail!("--resume needs a synced target to trust its journal; drop --no-sync");
        }
        let part = with_suffix(&args.dst, ".part");
        let journal = with_suffix(&part, ".journal");
        let source_identity = if args.resume {
            let fmt = source.info().format;
            ferry_copy::source_identity(&args.src, &fmt)?
        } else {
            String::new()
        };
        let resuming = args.resume && journal.exists() && part.exists();
        let (storage, is_zero) = if resuming {
            let s = FileStorage::open_rw(&part)
                .with_context(|| format!("cannot reopen {} to resume", part.display()))?;
            if s.size() != size {
                bail!(
                    "{} holds {} bytes but the source has {size}; delete it and {} to start over",
                    part.display(),
                    s.size(),
                    journal.display()
                );
            }
            (s, false)
        } else {
            remove_if_exists(&journal)?;
            let s = FileStorage::create(&part, size)
                .with_context(|| format!("cannot create {}", part.display()))?;
            (s, true)
        };
        tune(&storage, !args.no_sync);
        Ok(Self {
            dest: Dest::Storage(Box::new(storage)),
            write_path: part,
            final_path: args.dst.clone(),
            format: args.output_format,
            is_zero,
            journal: args.resume.then_some(journal),
            source_identity,
            durable: !args.no_sync,
        })
    }

    /// A new qcow2 or VMDK image in DST.part.
    fn prepare_image(args: &Args, size: u64, compress: bool) -> anyhow::Result<Self> {
        let part = with_suffix(&args.dst, ".part");
        let dest = match args.output_format {
            OutputFormat::Qcow2 => {
                let file = FileStorage::create(&part, 0)
                    .with_context(|| format!("cannot create {}", part.display()))?;
                tune(&file, !args.no_sync);
                let file: Arc<dyn Storage> = Arc::new(file);
                let opts = Qcow2WriterOptions {
                    compress,
                    ..Qcow2WriterOptions::new(size)
                };
                Dest::Storage(Box::new(Qcow2Writer::create(file, &opts).with_context(
                    || format!("cannot start the qcow2 image {}", part.display()),
                )?))
            }
            _ => {
                let file_name = args
                    .dst
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "disk.vmdk".into());
                let opts = StreamVmdkOptions {
                    file_name,
                    ..StreamVmdkOptions::default()
                };
                Dest::Vmdk(Box::new(
                    StreamVmdkTarget::create(&part, size, &opts).with_context(|| {
                        format!("cannot start the streamOptimized VMDK {}", part.display())
                    })?,
                ))
            }
        };
        Ok(Self {
            dest,
            write_path: part,
            final_path: args.dst.clone(),
            format: args.output_format,
            is_zero: true,
            journal: None,
            source_identity: String::new(),
            durable: !args.no_sync,
        })
    }

    /// Complete the image (VMDK footer) before it is read back or renamed.
    fn finish_writing(&mut self) -> anyhow::Result<()> {
        let dest = std::mem::replace(&mut self.dest, Dest::Storage(Box::new(Closed)));
        if let Dest::Vmdk(v) = dest {
            v.finish(self.durable)
                .with_context(|| format!("cannot finish {}", self.write_path.display()))?;
        }
        Ok(())
    }

    /// Re-read the written target and compare its checksum with the one
    /// computed from the source. Returns the target's checksum.
    fn verify(&self, report: &CopyReport, workers: usize) -> anyhow::Result<String> {
        let Some(want) = &report.checksum else {
            bail!("the copy did not compute a checksum to verify against");
        };
        let fmt = match self.format {
            OutputFormat::Raw => Format::Raw,
            OutputFormat::Qcow2 => Format::Qcow2,
            OutputFormat::Vmdk => Format::Vmdk,
        };
        let opts = OpenOptions {
            format: Some(fmt),
            ..OpenOptions::default()
        };
        let written = ferry_image::open_image(&self.write_path, &opts)
            .with_context(|| format!("cannot reopen {} to verify it", self.write_path.display()))?;
        let got = ferry_copy::checksum_image(written.as_ref(), workers).with_context(|| {
            format!(
                "cannot read {} back to verify it",
                self.write_path.display()
            )
        })?;
        if &got != want {
            bail!(
                "verification failed: the source checksum is {want} but {} reads back as {got}; the target was kept for inspection",
                self.write_path.display()
            );
        }
        Ok(got)
    }

    /// Rename DST.part to DST and drop the journal. A durable target was
    /// fsynced before the rename, and its directory is fsynced after it, so
    /// once this returns DST survives a power cut with its full contents.
    fn commit(self) -> anyhow::Result<()> {
        drop(self.dest);
        if self.write_path != self.final_path {
            std::fs::rename(&self.write_path, &self.final_path).with_context(|| {
                format!(
                    "cannot rename {} to {}",
                    self.write_path.display(),
                    self.final_path.display()
                )
            })?;
            if self.durable {
                ferry_copy::sync_parent_dir(&self.final_path).with_context(|| {
                    format!(
                        "cannot sync the directory {} after renaming {} into it",
                        ferry_copy::parent_dir(&self.final_path).display(),
                        self.final_path.display()
                    )
                })?;
            }
        }
        if let Some(j) = &self.journal {
            remove_if_exists(j)?;
        }
        Ok(())
    }
}

/// Placeholder for a writer that has been finished.
struct Closed;

impl Storage for Closed {
    fn size(&self) -> u64 {
        0
    }

    fn read_at(&self, _buf: &mut [u8], offset: u64) -> ferry_image::Result<()> {
        Err(ferry_image::Error::new(
            ferry_image::ErrorKind::InvalidArgument,
            format!("read at {offset} from a finished target"),
        ))
    }
}

fn remove_if_exists(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// Shows progress from a thread while the copy runs.
struct Reporter {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Reporter {
    fn start(mode: ProgressMode, progress: Arc<Progress>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::None,
            m => m,
        };
        let handle = match mode {
            ProgressMode::Bar => {
                let stop = stop.clone();
                Some(std::thread::spawn(move || bar_loop(&progress, &stop)))
            }
            ProgressMode::Json => {
                let stop = stop.clone();
                Some(std::thread::spawn(move || json_loop(&progress, &stop)))
            }
            _ => None,
        };
        Self { stop, handle }
    }

    fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn bar_loop(progress: &Progress, stop: &AtomicBool) {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(progress.total()),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    while !stop.load(Ordering::Relaxed) {
        bar.set_length(progress.total());
        bar.set_position(progress.done());
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.set_position(progress.done());
    bar.finish_and_clear();
}

fn json_loop(progress: &Progress, stop: &AtomicBool) {
    let started = Instant::now();
    let mut last = Instant::now();
    let emit = || {
        let done = progress.done();
        let secs = started.elapsed().as_secs_f64().max(1e-6);
        let line = serde_json::json!({
            "bytes_done": done,
            "bytes_total": progress.total(),
            "rate": (done as f64 / secs).round(),
        });
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    emit();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if last.elapsed() >= Duration::from_millis(500) {
            emit();
            last = Instant::now();
        }
    }
    emit();
}

fn print_summary(
    args: &Args,
    report: &CopyReport,
    size: u64,
    verified: Option<&str>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.progress == ProgressMode::Json {
        let mut v = serde_json::to_value(report)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("done".into(), true.into());
            obj.insert("target".into(), args.dst.display().to_string().into());
            if let Some(t) = verified {
                obj.insert("target_checksum".into(), t.into());
                obj.insert("verified".into(), true.into());
            }
        }
        writeln!(out, "{v}")?;
        return Ok(());
    }
    let secs = report.duration.as_secs_f64();
    writeln!(
        out,
        "converted {} -> {} ({size} bytes) in {secs:.2}s using {}",
        args.src.display(),
        args.dst.display(),
        report.tier
    )?;
    writeln!(
        out,
        "  read {} bytes, wrote {}, cloned {}, skipped {} zero bytes{}",
        report.bytes_read,
        report.bytes_written,
        report.bytes_cloned,
        report.zero_bytes_skipped,
        if report.bytes_resumed > 0 {
            format!(", resumed past {} bytes", report.bytes_resumed)
        } else {
            String::new()
        }
    )?;
    if let Some(c) = &report.checksum {
        writeln!(out, "  source checksum {c}")?;
    }
    if let Some(t) = verified {
        writeln!(out, "  target checksum {t} (verified)")?;
    }
    Ok(())
}
