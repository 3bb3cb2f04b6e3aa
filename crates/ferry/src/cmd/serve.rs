//! `ferry serve`: the embedded default. Runs the Kubernetes-compatible API
//! server (kubectl works against it), ferry's controllers on it, and the
//! Forklift inventory REST API, until Ctrl-C.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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

/// Run `ferry serve` until Ctrl-C.
pub fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = super::datadir::resolve(args.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let settings = args.controller.settings();
        let embedded =
            Embedded::start(&data_dir, args.listen, settings, args.rules, "ferry serve").await?;
        if !embedded.server.addr().ip().is_loopback() {
            eprintln!("warning: the API server listens on {} beyond loopback; clients need the token in the kubeconfig", embedded.server.addr());
        }
        let state = ferry_inventory::web::ApiState {
            store: embedded.inventory.store().clone(),
            auth: ferry_inventory::web::Auth::Bearer(Arc::new(ferry_inventory::web::StaticToken::new(embedded.server.token()))),
        };
        let listener = tokio::net::TcpListener::bind(args.inventory_listen)
            .await
            .with_context(|| format!("cannot listen on {} for the inventory API", args.inventory_listen))?;
        let inventory_addr = listener.local_addr()?;
        let tls = inventory_tls(&embedded.data_dir.join("api"), inventory_addr)?;
        let inventory = tokio::spawn(ferry_inventory::web::serve_tls(
            listener,
            tls,
            ferry_inventory::web::router(state),
        ));
        if !inventory_addr.ip().is_loopback() {
            eprintln!("warning: the inventory API listens on {inventory_addr} beyond loopback; clients need the token in the kubeconfig and the CA {}", embedded.data_dir.join("api/ca.crt").display());
        }
        eprintln!("ferry API server listening on {}", embedded.server.url());
        eprintln!(
            "inventory API on https://{}/providers (CA {}, bearer token from the kubeconfig)",
            client_address(inventory_addr),
            embedded.data_dir.join("api/ca.crt").display()
        );
        println!("export KUBECONFIG={}", embedded.server.kubeconfig_path().display());
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
        eprintln!("shutting down");
        inventory.abort();
        embedded.shutdown().await;
        Ok(())
    })
}

/// The inventory API's TLS: a certificate for `listen` signed by the API
/// server's CA in `api_dir` (so one CA file serves both), HTTP/1.1 only.
fn inventory_tls(api_dir: &Path, listen: SocketAddr) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let tls = ferry_apiserver::tls::setup(api_dir, listen)
        .context("cannot make the inventory API's certificate")?;
    let mut config = (*tls.config).clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Where a client on this machine reaches `addr` (loopback for a wildcard).
fn client_address(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() || addr.ip().is_loopback() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    }
}
