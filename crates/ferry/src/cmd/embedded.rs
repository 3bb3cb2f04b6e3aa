//! The embedded default in one process: the API server, the inventory (with
//! the bundled validation policies and the user rules of `--rules` folders
//! and the `forklift-validation-config` ConfigMap) and every controller, as
//! `ferry serve` and `ferry migrate` run them.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use ferry_controller::{Context, Settings};
use ferry_inventory::{Inventory, InventoryOptions, SharedValidator};

use super::rules::{Rules, RulesArgs};

/// Controller settings shared by `ferry serve` and `ferry migrate`.
#[derive(Debug, Clone, clap::Args)]
pub struct ControllerArgs {
    /// VMs migrated at once (`controller_max_vm_inflight`).
    #[arg(long, default_value_t = 20)]
    pub max_vm_inflight: usize,
    /// Copy worker threads per disk (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Skip the end-to-end checksum comparison of every disk.
    #[arg(long)]
    pub no_verify: bool,
    /// Bandwidth limit for all disk copies together, bytes per second with
    /// an optional K, M or G suffix (powers of 1024), e.g. `100M`.
    #[arg(long, value_parser = parse_rate)]
    pub max_rate: Option<u64>,
    /// Seconds between validations of a ready Plan against the inventory
    /// (a change of a Provider, map or Hook it names validates it at once).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub plan_recheck: u64,
}

impl ControllerArgs {
    /// The controller settings these arguments select.
    pub fn settings(&self) -> Settings {
        Settings {
            max_vm_inflight: self.max_vm_inflight,
            copy_workers: self.workers,
            verify: !self.no_verify,
            max_copy_rate: self.max_rate,
            plan_recheck: std::time::Duration::from_secs(self.plan_recheck),
            ..Settings::default()
        }
    }
}

/// `100M`, `1.5G`, `4096`, `100MiB/s` -> bytes per second.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix("ib"))
        .or_else(|| t.strip_suffix(['B', 'b']))
        .unwrap_or(t);
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, ' '),
    };
    let scale: f64 = match unit {
        ' ' => 1.0,
        'K' => 1024.0,
        'M' => 1024.0 * 1024.0,
        'G' => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("unknown unit '{other}' in '{text}': use K, M or G")),
    };
    let value: f64 = number.trim().parse().map_err(|_| {
        format!(
            "'{text}' is not a rate: write a number with an optional K, M or G suffix, e.g. 100M"
        )
    })?;
    let bytes = value * scale;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!(
            "'{text}' is not a usable rate: it must be at least 1 byte per second"
        ));
    }
    Ok(bytes as u64)
}

/// The embedded API server on `data_dir/api` and a client of it, with the
/// data directory's lock held.
pub struct Api {
    /// The server.
    pub server: ferry_apiserver::Handle,
    /// A client of it.
    pub client: kube::Client,
    /// The data directory's lock (released on drop).
    pub _lock: super::datadir::Lock,
}

/// Lock the data directory for `command` and start only the embedded API
/// server on `data_dir/api` (no controllers): for commands that read state.
pub async fn start_api(data_dir: &Path, listen: SocketAddr, command: &str) -> anyhow::Result<Api> {
    let lock = super::datadir::lock(data_dir, command)?;
    let mut config = ferry_apiserver::Config::new(data_dir.join("api"));
    config.listen = listen;
    config.definitions = definitions();
    let server = ferry_apiserver::Server::start(config)
        .await
        .with_context(|| format!("cannot start the API server in {}", data_dir.display()))?;
    let client = server
        .client()
        .await
        .context("cannot connect to the embedded API server")?;
    Ok(Api {
        server,
        client,
        _lock: lock,
    })
}

/// A running embedded control plane.
pub struct Embedded {
    /// The API server.
    pub server: ferry_apiserver::Handle,
    /// A client of it.
    pub client: kube::Client,
    /// The inventory (served on its REST API by `ferry serve`).
    pub inventory: Inventory,
    /// The user validation rules (read again every few seconds).
    pub rules: Arc<Rules>,
    /// The data directory (absolute).
    pub data_dir: PathBuf,
    controllers: tokio::task::JoinHandle<()>,
    rules_poll: tokio::task::JoinHandle<()>,
    _lock: super::datadir::Lock,
}

/// Every definition the embedded server installs: Forklift's kinds plus the
/// KubeVirt/CDI kinds ferry writes.
pub fn definitions() -> Vec<serde_json::Value> {
    let mut defs: Vec<serde_json::Value> = ferry_core::crds::all()
        .into_iter()
        .filter_map(|crd| serde_json::to_value(crd).ok())
        .collect();
    defs.extend(ferry_apiserver::definitions::kubevirt());
    defs
}

impl Embedded {
    /// Start everything with its state in `data_dir`, for `command`
    /// (named to a second process that finds the data directory locked).
    pub async fn start(
        data_dir: &Path,
        listen: SocketAddr,
        settings: Settings,
        rules: RulesArgs,
        command: &str,
    ) -> anyhow::Result<Self> {
        let data_dir = super::datadir::prepare(data_dir)?;
        let data_dir = data_dir.as_path();
        let Api {
            server,
            client,
            _lock: lock,
        } = start_api(data_dir, listen, command).await?;
        let (validator, digest) = Rules::load(rules.clone(), client.clone()).await?;
        let validator = Arc::new(SharedValidator::new(validator));
        let inventory = Inventory::open(
            &data_dir.join("inventory"),
            Some(validator.clone()),
            InventoryOptions::default(),
        )
        .context("cannot open the inventory")?;
        let rules = Arc::new(Rules::new(
            rules,
            client.clone(),
            validator,
            inventory.clone(),
            digest,
        ));
        let rules_poll = rules.clone().spawn();
        let destination = Arc::new(ferry_destination::LocalDestination::in_data_dir(data_dir));
        let ctx = Context::new(client.clone(), inventory.clone(), destination, settings);
        // The `host` Provider exists before any Plan that names it is read.
        super::host_provider::run_startup(&client).await;
        let host = super::host_provider::run(client.clone(), inventory.clone());
        let controllers = tokio::spawn(async move {
            tokio::join!(ferry_controller::run(ctx), host);
        });
        Ok(Self {
            server,
            client,
            inventory,
            rules,
            data_dir: data_dir.to_path_buf(),
            controllers,
            rules_poll,
            _lock: lock,
        })
    }

    /// Stop the controllers and the server.
    pub async fn shutdown(self) {
        self.rules_poll.abort();
        let _ = self.rules_poll.await;
        self.controllers.abort();
        let _ = self.controllers.await;
        self.server.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_rate;

    #[test]
    fn rates_parse_with_binary_units() {
        assert_eq!(parse_rate("4096"), Ok(4096));
        assert_eq!(parse_rate("8K"), Ok(8192));
        assert_eq!(parse_rate("100M"), Ok(100 << 20));
        assert_eq!(parse_rate("100MiB/s"), Ok(100 << 20));
        assert_eq!(parse_rate("1.5G"), Ok(3 << 29));
        assert_eq!(parse_rate("2mb"), Ok(2 << 20));
        for bad in ["", "fast", "10X", "0", "-5M", "nanM"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
