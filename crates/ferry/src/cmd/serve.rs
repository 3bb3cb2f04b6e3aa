//! `ferry serve`: the embedded Kubernetes-compatible API server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;

/// Run the embedded API server (kubectl and ferry's controllers talk to it).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory (database, certificates, token, kubeconfig).
    /// Default: $XDG_DATA_HOME/ferry or ~/.local/share/ferry.
    #[arg(long, env = "FERRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on. Every request needs the bearer token from the
    /// kubeconfig, also on loopback.
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
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

/// Every definition `ferry serve` installs: Forklift's kinds plus the
/// KubeVirt/CDI kinds ferry writes.
pub fn definitions() -> Vec<serde_json::Value> {
    ferry_apiserver::definitions::all()
}

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
        let mut config = ferry_apiserver::Config::new(&data_dir);
        config.listen = args.listen;
        config.definitions = definitions();
        let handle = ferry_apiserver::Server::start(config)
            .await
            .with_context(|| format!("cannot start the API server in {}", data_dir.display()))?;
        if !handle.addr().ip().is_loopback() {
            eprintln!("warning: listening on {} beyond loopback; clients need the token in the kubeconfig", handle.addr());
        }
        eprintln!("ferry API server listening on {}", handle.url());
        println!("export KUBECONFIG={}", handle.kubeconfig_path().display());
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
        eprintln!("shutting down");
        handle.shutdown().await;
        Ok(())
    })
}
