//! `ferry operator`: the controllers of `ferry serve` against a real
//! Kubernetes API server (in-cluster configuration, `KUBECONFIG` or
//! `--kubeconfig`).
//!
//! Several replicas may run: one holds the `coordination.k8s.io` Lease
//! (see [`lease`]) and runs the controllers, the others wait and take over
//! when its Lease expires. Every replica serves `/healthz`, `/readyz` and
//! `/metrics` (see [`http`], [`metrics`]). The leader also reconciles the
//! ForkliftController of its namespace ([`forklift_controller`]).
pub mod forklift_controller;
pub mod http;
pub mod lease;
pub mod manifests;
pub mod metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ferry_controller::{Context, Scope};
use ferry_inventory::{Inventory, InventoryOptions, SharedValidator};

use super::embedded::ControllerArgs;
use super::rules::{Rules, RulesArgs};

/// Run the controllers against a Kubernetes cluster.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kubeconfig of the cluster. Default: `KUBECONFIG`, then
    /// `~/.kube/config`, then the in-cluster ServiceAccount.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Namespace to watch (repeat or separate with commas). Default: all.
    #[arg(long = "namespace", value_delimiter = ',')]
    pub namespaces: Vec<String>,
    /// The operator's own namespace: its Lease, its ForkliftController and
    /// the `host` Provider live here.
    #[arg(long, env = "POD_NAMESPACE", default_value = "konveyor-forklift")]
    pub operator_namespace: String,
    /// This replica's name in the Lease. Default: the host name and PID.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Name of the leader-election Lease.
    #[arg(long, default_value = "ferry-operator")]
    pub lease_name: String,
    /// Seconds a Lease stays valid without renewal (a standby takes over
    /// after this).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub lease_duration: u64,
    /// Address of `/healthz`, `/readyz` and `/metrics` (plain HTTP).
    #[arg(long, default_value = "0.0.0.0:8081")]
    pub probe_listen: SocketAddr,
    /// Where the inventory is kept (an emptyDir in the pod is enough: it is
    /// collected again after a restart).
    #[arg(long, env = "FERRY_DATA_DIR", default_value = "/var/lib/ferry")]
    pub data_dir: PathBuf,
    /// Print the operator's manifests (Namespace, RBAC, Deployment, CRDs)
    /// for `--image` and `--operator-namespace`, and exit.
    #[arg(long)]
    pub print_manifests: bool,
    /// Container image of the operator (with `--print-manifests`).
    #[arg(long, default_value = "ferry:latest")]
    pub image: String,
    /// Container image of the transfer pods (`ferry transfer`): normally
    /// the operator's own image.
    #[arg(long, env = "FERRY_TRANSFER_IMAGE", default_value = "ferry:latest")]
    pub transfer_image: String,
    /// Controller settings (a ForkliftController overrides them).
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// User validation rules.
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// Run `ferry operator` until SIGTERM / Ctrl-C, or until the Lease is lost
/// (an error: the pod restarts and becomes a standby).
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.print_manifests {
        print!(
            "{}",
            manifests::render(&args.image, &args.operator_namespace)?
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(operate(args))
}

async fn client(kubeconfig: Option<&PathBuf>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("kubeconfig {} is not usable", path.display()))?
        }
        None => kube::Config::infer().await.context(
            "no cluster configuration: pass --kubeconfig, set KUBECONFIG or run in a pod",
        )?,
    };
    kube::Client::try_from(config).context("cannot build the Kubernetes client")
}

fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "ferry".to_owned());
    format!("{host}-{}", std::process::id())
}

async fn operate(args: Args) -> anyhow::Result<()> {
    let client = client(args.kubeconfig.as_ref()).await?;
    let identity = args.identity.clone().unwrap_or_else(default_identity);
    let duration = Duration::from_secs(args.lease_duration);
    let state = Arc::new(http::State::new(
        client.clone(),
        args.namespaces.clone(),
        duration,
    ));
    let listener = tokio::net::TcpListener::bind(args.probe_listen)
        .await
        .with_context(|| format!("cannot listen on {} for the probes", args.probe_listen))?;
    let probe_addr = listener.local_addr()?;
    let probes = tokio::spawn(http::serve(listener, state.clone()));
    eprintln!("ferry operator {identity}: probes and metrics on http://{probe_addr}");

    let mut elector = lease::Elector::new(
        client.clone(),
        &args.operator_namespace,
        &args.lease_name,
        &identity,
        duration,
    );
    let retry = duration / 3;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);

    // Standby until the Lease is ours.
    let mut last_holder = None;
    loop {
        match elector.try_acquire().await {
            Ok(None) => break,
            Ok(Some(holder)) => {
                state.api_ok();
                if last_holder.as_ref() != Some(&holder) {
                    eprintln!(
                        "standby: Lease {}/{} is held by {holder}",
                        args.operator_namespace, args.lease_name
                    );
                    last_holder = Some(holder);
                }
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "leader election"),
        }
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            r = &mut shutdown => { probes.abort(); return r; }
        }
    }
    state.api_ok();
    state.set_leader(true);
    eprintln!(
        "leading: Lease {}/{} acquired by {identity}",
        args.operator_namespace, args.lease_name
    );

    let controllers = start_controllers(&args, client.clone()).await?;
    let mut last_renew = tokio::time::Instant::now();
    let result = loop {
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            r = &mut shutdown => {
                controllers.abort();
                if let Err(e) = elector.release().await {
                    eprintln!("warning: {e:#}");
                }
                break r;
            }
        }
        // A renewal that hangs counts as failed after one retry period.
        let renewed = tokio::time::timeout(retry, elector.try_acquire())
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "the API server did not answer within {}s",
                    retry.as_secs()
                ))
            });
        match renewed {
            Ok(None) => {
                state.api_ok();
                last_renew = tokio::time::Instant::now();
            }
            Ok(Some(holder)) => {
                controllers.abort();
                break Err(anyhow::anyhow!(
                    "lost the leader Lease {}/{} to {holder}: stopping (a restart makes this replica a standby)",
                    args.operator_namespace,
                    args.lease_name
                ));
            }
            // Stop one retry period before the Lease can expire, so the
            // replica that takes it over never overlaps with this one.
            Err(e) if last_renew.elapsed() + retry >= duration => {
                controllers.abort();
                break Err(e.context(format!("could not renew the leader Lease for {}s: stopping so that no two replicas lead", duration.as_secs())));
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "renewing the leader Lease"),
        }
    };
    state.set_leader(false);
    probes.abort();
    result
}

/// Open the inventory and start every controller plus the
/// ForkliftController reconciler; returns the task running them.
async fn start_controllers(
    args: &Args,
    client: kube::Client,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            args.data_dir.display()
        )
    })?;
    let (validator, digest) = Rules::load(args.rules.clone(), client.clone()).await?;
    let validator = Arc::new(SharedValidator::new(validator));
    let inventory = Inventory::open(
        &args.data_dir.join("inventory"),
        Some(validator.clone()),
        InventoryOptions::default(),
    )
    .context("cannot open the inventory")?;
    let rules = Arc::new(Rules::new(
        args.rules.clone(),
        client.clone(),
        validator,
        inventory.clone(),
        digest,
    ));
    let base = args.controller.settings();
    let destination = Arc::new(ferry_destination::KubevirtDestination::new(
        ferry_destination::TransferPods {
            image: args.transfer_image.clone(),
        },
    ));
    let ctx = Context::new(client, inventory, destination, base.clone());
    let scope = if args.namespaces.is_empty() {
        Scope::All
    } else {
        Scope::Namespaces(args.namespaces.clone())
    };
    let ns = args.operator_namespace.clone();
    Ok(tokio::spawn(async move {
        let rules_poll = rules.spawn();
        tokio::join!(
            ferry_controller::run_in(ctx.clone(), &scope),
            forklift_controller::run(ctx.clone(), ns, base),
        );
        rules_poll.abort();
    }))
}

/// Resolves on SIGTERM (pod deletion) or Ctrl-C.
async fn shutdown_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch SIGTERM")?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r.context("cannot wait for Ctrl-C")?,
    }
    eprintln!("shutting down");
    Ok(())
}
