//! The `ferry` binary: one CLI for validation, disk conversion, the embedded
//! API server and migrations. Each subcommand lives in `cmd/<name>.rs` and
//! exposes `Args` plus `run(args) -> anyhow::Result<()>`.
#![forbid(unsafe_code)]

mod cmd;

use clap::{CommandFactory, Parser, Subcommand};

/// Migrate virtual machines into KubeVirt, speaking Forklift's API.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, propagate_version = true)]
struct Cli {
    /// Log filter (also RUST_LOG), e.g. `info`, `ferry=debug`.
    #[arg(long, global = true, env = "FERRY_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a shell completion script.
    Completions(cmd::completions::Args),
    /// Print the CustomResourceDefinitions of the forklift.konveyor.io kinds.
    Crds(cmd::crds::Args),
    /// Run the embedded Kubernetes-compatible API server.
    Serve(cmd::serve::Args),
    /// Run the controllers against a Kubernetes cluster (leader election,
    /// probes, metrics), or print its manifests.
    Operator(cmd::operator::Args),
    /// Copy one VM's disks onto its PVCs (run by the operator in a pod).
    Transfer(cmd::transfer::Args),
    /// Show an image's format, sizes, backing chain and extent counts.
    Info(cmd::info::Args),
    /// List an image's data, zero and hole extents.
    Map(cmd::map::Args),
    /// Convert a disk image (raw, qcow2, VMDK, VHD, VHDX, ISO) to raw, qcow2
    /// or streamOptimized VMDK, copying only data.
    Convert(cmd::convert::Args),
    /// Check Forklift manifests (Plan, Provider, maps, ...) offline.
    Validate(cmd::validate::Args),
    /// OVA appliances: scan a provider path, show VMs and their concerns.
    Ova(cmd::ova::Args),
    /// Run a migration to the end on the embedded default: apply the
    /// manifests, migrate, print a summary (non-zero exit on failure).
    Migrate(cmd::migrate::Args),
    /// Inventory: a provider's VMs and their validation concerns.
    Inventory(cmd::inventory::Args),
    /// Plans: conditions, concerns and migration state.
    Plan(cmd::plan::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Colour only on a terminal: logs redirected to a file stay plain text.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    quiet_on_closed_stdout();
    let result = match cli.command {
        Command::Completions(args) => cmd::completions::run(args, &mut Cli::command()),
        Command::Crds(args) => cmd::crds::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Operator(args) => cmd::operator::run(args),
        Command::Transfer(args) => cmd::transfer::run(args),
        Command::Convert(args) => cmd::convert::run(args),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Info(args) => cmd::info::run(args),
        Command::Inventory(args) => cmd::inventory::run(args),
        Command::Map(args) => cmd::map::run(args),
        Command::Ova(args) => cmd::ova::run(args),
        Command::Migrate(args) => cmd::migrate::run(args),
        Command::Plan(args) => cmd::plan::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of our output went away (`ferry map | head`): nothing
        // more to say, as with any Unix filter.
        Err(err) if closed_pipe(&err) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// True when `err` comes from writing to a pipe whose reader is gone.
fn closed_pipe(err: &anyhow::Error) -> bool {
    let broken = Some(std::io::ErrorKind::BrokenPipe);
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().map(|e| e.kind()) == broken
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == broken
    })
}

/// `print!` (and writers that `expect` success, like the completion
/// generator) panic when stdout is a closed pipe, since Rust ignores
/// SIGPIPE: end quietly then instead of reporting a panic; report other
/// panics as before.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("Broken pipe") || message.contains("BrokenPipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
