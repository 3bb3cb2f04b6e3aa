//! `ferry inventory vms --provider NAME`: the VMs of a provider with their
//! validation concerns, read from the inventory REST API (`--url`) or
//! straight from the inventory database of a data directory.
use std::path::PathBuf;

use anyhow::Context;
use ferry_inventory::client::{self, VmSummary};
use ferry_inventory::store::Store;

/// `ferry inventory ...`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: InventoryCommand,
}

#[derive(Debug, clap::Subcommand)]
enum InventoryCommand {
    /// List a provider's VMs and their validation concerns.
    Vms(VmsArgs),
}

/// Output styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One line per concern.
    Table,
    /// The VMs as JSON.
    Json,
}

/// `ferry inventory vms`
#[derive(Debug, clap::Args)]
pub struct VmsArgs {
    /// The Provider: `NAME` or `NAMESPACE/NAME`.
    #[arg(long)]
    provider: String,
    /// Inventory REST API base URL (e.g. https://127.0.0.1:8443, as `ferry
    /// serve` prints it). Without it the inventory database of the data
    /// directory is read.
    #[arg(long, env = "FERRY_INVENTORY_URL")]
    url: Option<String>,
    /// CA certificate (PEM) of an https `--url`. Default: the data
    /// directory's `api/ca.crt` (the CA of `ferry serve`).
    #[arg(long, env = "FERRY_INVENTORY_CA")]
    ca_file: Option<PathBuf>,
    /// Bearer token for `--url`.
    #[arg(long, env = "FERRY_INVENTORY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Data directory whose `inventory/inventory.db` is read when no `--url` is given.
    /// Default: $XDG_DATA_HOME/ferry or ~/.local/share/ferry.
    #[arg(long, env = "FERRY_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Output style.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    output: Output,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        InventoryCommand::Vms(a) => vms(a),
    }
}

fn vms(a: VmsArgs) -> anyhow::Result<()> {
    let list: Vec<VmSummary> = match &a.url {
        Some(url) => {
            let ca = if url.starts_with("https://") {
                let path = match a.ca_file.clone() {
                    Some(p) => p,
                    None => super::datadir::resolve(a.data_dir.clone())?.join("api/ca.crt"),
                };
                Some(std::fs::read_to_string(&path).with_context(|| {
                    format!(
                        "cannot read the inventory's CA certificate {} (pass --ca-file or the --data-dir of `ferry serve`)",
                        path.display()
                    )
                })?)
            } else {
                None
            };
            client::list_vms_blocking(url, a.token.as_deref(), ca.as_deref(), &a.provider)
                .with_context(|| format!("cannot list the VMs of provider {}", a.provider))?
        }
        None => {
            let dir = super::datadir::resolve(a.data_dir)?;
            let db = dir.join("inventory").join(ferry_inventory::DATABASE_FILE);
            let store = Store::open_existing(&db)?;
            client::list_vms_in_store(&store, &a.provider)
                .with_context(|| format!("cannot list the VMs of provider {}", a.provider))?
        }
    };
    match a.output {
        Output::Table => print!("{}", client::vms_table(&list)),
        Output::Json => println!("{}", serde_json::to_string_pretty(&list)?),
    }
    Ok(())
}
