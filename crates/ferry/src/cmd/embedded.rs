//! The embedded default in one process: the API server, the inventory (with
//! the bundled validation policies) and every controller, as `ferry serve`
//! and `ferry migrate` run them.
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use ferry_controller::{Context, Settings};
use ferry_inventory::{Inventory, InventoryOptions};

/// A running embedded control plane.
pub struct Embedded {
    /// The API server.
    pub server: ferry_apiserver::Handle,
    /// A client of it.
    pub client: kube::Client,
    /// The inventory (served on its REST API by `ferry serve`).
    pub inventory: Inventory,
    controllers: tokio::task::JoinHandle<()>,
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
    /// Start everything with its state in `data_dir`.
    pub async fn start(
        data_dir: &Path,
        listen: SocketAddr,
        settings: Settings,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
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
        let validator = ferry_validation::Validator::bundled()
            .context("cannot load the bundled validation policies")?;
        let inventory = Inventory::open(
            &data_dir.join("inventory"),
            Some(Arc::new(validator)),
            InventoryOptions::default(),
        )
        .context("cannot open the inventory")?;
        let destination = Arc::new(ferry_destination::LocalDestination::new(
            data_dir.join("local"),
        ));
        let ctx = Context::new(client.clone(), inventory.clone(), destination, settings);
        let controllers = tokio::spawn(ferry_controller::run(ctx.clone()));
        Ok(Self {
            server,
            client,
            inventory,
            controllers,
        })
    }

    /// Stop the controllers and the server.
    pub async fn shutdown(self) {
        self.controllers.abort();
        let _ = self.controllers.await;
        self.server.shutdown().await;
    }
}
