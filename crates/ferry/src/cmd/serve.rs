//! `ferry serve`: the embedded default. Runs the Kubernetes-compatible API
//! server (kubectl works against it), ferry's controllers on it, and the
//! Forklift inventory REST API, until Ctrl-C.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use super::embedded::{ControllerArgs, Embedded};
use super::rules::RulesArgs;

/// Run the embedded API server, controllers and inventory API.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory (API objects, certificates, token, kubeconfig,
    /// inventory, volumes). Default: $XDG_DATA_HOME/ferry or
    /// ~/.local/share/ferry.
    #[arg(long, env = "FERRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address of the API server. Every request needs the bearer token from
    /// the kubeconfig, also on loopback.
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
    /// Address of the inventory REST API (`/providers/...`, same token).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub inventory_listen: SocketAddr,
    /// Controller settings.
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// User validation rules.
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// The default data directory.
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(x).join("ferry"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("HOME is not set: pass --data-dir")?;
    Ok(PathBuf::from(home).join(".local/share/ferry"))
}

/// Run `ferry serve` until Ctrl-C.
pub fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => default_data_dir()?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let settings = args.controller.settings();
        let embedded = Embedded::start(&data_dir, args.listen, settings, args.rules).await?;
        if !embedded.server.addr().ip().is_loopback() {
            eprintln!("warning: listening on {} beyond loopback; clients need the token in the kubeconfig", embedded.server.addr());
        }
        let state = ferry_inventory::web::ApiState {
            store: embedded.inventory.store().clone(),
            auth: ferry_inventory::web::Auth::Bearer(Arc::new(ferry_inventory::web::StaticToken::new(embedded.server.token()))),
        };
        let listener = tokio::net::TcpListener::bind(args.inventory_listen)
            .await
            .with_context(|| format!("cannot listen on {} for the inventory API", args.inventory_listen))?;
        let inventory_addr = listener.local_addr()?;
        let inventory = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, ferry_inventory::web::router(state)).await {
                tracing::error!(error = %e, "the inventory API stopped");
            }
        });
        eprintln!("ferry API server listening on {}", embedded.server.url());
        eprintln!("inventory API on http://{inventory_addr}/providers (bearer token from the kubeconfig)");
        println!("export KUBECONFIG={}", embedded.server.kubeconfig_path().display());
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
        eprintln!("shutting down");
        inventory.abort();
        embedded.shutdown().await;
        Ok(())
    })
}
