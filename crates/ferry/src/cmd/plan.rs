//! `ferry plan describe NAME`: a plan's conditions, each VM's validation
//! concerns from the inventory, and the state of its latest migration, as
//! tables. Reads a running `ferry serve` (through the data directory's
//! kubeconfig, or `--kubeconfig`), or else the data directory's state
//! directly with an API server of its own that runs no controllers.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use ferry_core::api::Plan;
use ferry_core::api::condition::Conditions;
use ferry_inventory::client::{self, VmSummary};
use ferry_inventory::store::Store;
use kube::Api;

use super::table::Table;

/// `ferry plan ...`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: PlanCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PlanCommand {
    /// Show a plan's conditions, its VMs' concerns and migration state.
    Describe(DescribeArgs),
}

/// `ferry plan describe`
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// The Plan's name.
    name: String,
    /// The Plan's namespace.
    #[arg(short = 'n', long, default_value = "openshift-mtv")]
    namespace: String,
    /// Data directory (as given to `ferry serve` or `ferry migrate`).
    /// Default: $XDG_DATA_HOME/ferry or ~/.local/share/ferry.
    #[arg(long, env = "FERRY_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A kubeconfig of the API server to read (default: the data
    /// directory's, when its server is running).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
}

/// Run `ferry plan ...`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        PlanCommand::Describe(a) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(describe(a))
        }
    }
}

async fn describe(a: DescribeArgs) -> anyhow::Result<()> {
    let data_dir = super::datadir::resolve(a.data_dir.clone())?;
    let (client, own_server) = connect(&data_dir, a.kubeconfig.as_deref()).await?;
    let plan = Api::<Plan>::namespaced(client.clone(), &a.namespace)
        .get_opt(&a.name)
        .await
        .with_context(|| format!("cannot read Plan {}/{}", a.namespace, a.name))?;
    if let Some(api) = own_server {
        api.server.shutdown().await;
    }
    let plan = plan.with_context(|| {
        format!(
            "Plan {}/{} does not exist (data directory {})",
            a.namespace,
            a.name,
            data_dir.display()
        )
    })?;
    let concerns = inventory_vms(&data_dir, &plan);
    print!("{}", render(&plan, concerns.as_deref()));
    Ok(())
}

/// A client of the data directory's running server, of `kubeconfig`, or of
/// an API server started here on the data directory (returned to be shut
/// down).
async fn connect(
    data_dir: &Path,
    kubeconfig: Option<&Path>,
) -> anyhow::Result<(kube::Client, Option<super::embedded::Api>)> {
    let explicit = kubeconfig.is_some();
    let path = kubeconfig
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("api/kubeconfig"));
    if path.is_file() {
        match client_of(&path).await {
            Ok(c) => return Ok((c, None)),
            Err(e) if explicit => return Err(e),
            Err(_) => {} // No server running on this data directory.
        }
    }
    if !data_dir.join("api").is_dir() {
        anyhow::bail!(
            "{} holds no ferry state: pass the --data-dir that `ferry serve` or `ferry migrate` used",
            data_dir.display()
        );
    }
    // Nothing answers: start a server of our own, unless another process
    // holds the data directory (the lock names it).
    let api = super::embedded::start_api(
        data_dir,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        "ferry plan describe",
    )
    .await?;
    Ok((api.client.clone(), Some(api)))
}

async fn client_of(path: &Path) -> anyhow::Result<kube::Client> {
    let kc = kube::config::Kubeconfig::read_from(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    // Check that something listens before the client tries (and logs
    // connection errors of its own).
    let server = kc
        .clusters
        .first()
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .with_context(|| format!("{} names no server", path.display()))?;
    let authority = server
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(authority.as_str()),
    )
    .await
    .with_context(|| format!("{server} does not answer"))?
    .with_context(|| format!("nothing listens at {server}"))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .with_context(|| format!("cannot use {}", path.display()))?;
    let client = kube::Client::try_from(config)?;
    tokio::time::timeout(Duration::from_secs(3), client.apiserver_version())
        .await
        .context("the API server does not answer")??;
    Ok(client)
}

/// The source provider's VMs from the inventory database, when it exists.
fn inventory_vms(data_dir: &Path, plan: &Plan) -> Option<Vec<VmSummary>> {
    let db = data_dir
        .join("inventory")
        .join(ferry_inventory::DATABASE_FILE);
    let store = Store::open_existing(&db).ok()?;
    let src = &plan.spec.provider.source;
    let name = src.name.as_deref()?;
    let ns = src
        .namespace
        .clone()
        .or_else(|| kube::ResourceExt::namespace(plan))
        .unwrap_or_default();
    client::list_vms_in_store(&store, &format!("{ns}/{name}")).ok()
}

fn conditions_table(conditions: &Conditions) -> String {
    let mut t = Table::new(&["TYPE", "STATUS", "CATEGORY", "REASON", "MESSAGE"]);
    for c in conditions.iter() {
        let mut message = c.message.clone().unwrap_or_default();
        if !c.items.is_empty() {
            message.push_str(&format!(" [{}]", c.items.join(", ")));
        }
        t.row(vec![
            c.type_.clone(),
            c.status.clone(),
            c.category.as_str().to_owned(),
            c.reason.clone().unwrap_or_default(),
            message,
        ]);
    }
    t.render()
}

/// The whole description.
fn render(plan: &Plan, inventory: Option<&[VmSummary]>) -> String {
    let name = kube::ResourceExt::name_any(plan);
    let ns = kube::ResourceExt::namespace(plan).unwrap_or_default();
    let mut out = format!(
        "Plan {ns}/{name}: target namespace {}, type {}\n\nConditions:\n",
        plan.spec.target_namespace,
        serde_json::to_value(plan.spec.migration_type())
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    match plan.status.as_ref() {
        Some(s) if !s.conditions.is_empty() => out.push_str(&conditions_table(&s.conditions)),
        _ => out.push_str("  (none yet: the plan has not been reconciled)\n"),
    }
    let migration = plan.status.as_ref().and_then(|s| s.migration.as_ref());
    let mut t = Table::new(&["VM", "ID", "PHASE", "RESULT", "CONCERNS"]);
    for entry in &plan.spec.vms {
        let label = entry
            .name
            .clone()
            .or_else(|| entry.id.clone())
            .unwrap_or_default();
        let inv = inventory.and_then(|list| {
            list.iter().find(|v| {
                entry.id.as_deref() == Some(v.id.as_str())
                    || entry.name.as_deref() == Some(v.name.as_str())
            })
        });
        let state = migration.and_then(|m| {
            m.vms.iter().find(|v| {
                (entry.id.is_some() && v.vm.id == entry.id)
                    || (entry.name.is_some() && v.vm.name == entry.name)
            })
        });
        let concerns = match (inventory, inv) {
            (None, _) => "(inventory not available)".to_owned(),
            (Some(_), None) => "not in the inventory".to_owned(),
            (Some(_), Some(v)) if v.concerns.is_empty() => "none".to_owned(),
            (Some(_), Some(v)) => v
                .concerns
                .iter()
                .map(|c| format!("{}: {}", c.category, c.label))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let result = state.map_or(String::new(), |s| {
            ["Succeeded", "Failed", "Canceled"]
                .into_iter()
                .find(|t| s.conditions.has(t))
                .unwrap_or("Running")
                .to_owned()
        });
        t.row(vec![
            label,
            inv.map(|v| v.id.clone()).unwrap_or_default(),
            state.map(|s| s.phase.clone()).unwrap_or_default(),
            result,
            concerns,
        ]);
    }
    out.push_str("\nVMs:\n");
    out.push_str(&t.render());
    for s in migration.iter().flat_map(|m| m.vms.iter()) {
        if let Some(e) = &s.error {
            out.push_str(&format!(
                "\n{} failed in {}: {}\n",
                s.vm.name
                    .clone()
                    .or_else(|| s.vm.id.clone())
                    .unwrap_or_default(),
                e.phase,
                e.reasons.join("; ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_effective_migration_type() {
        let mut plan: Plan = serde_json::from_value(serde_json::json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
            "metadata": {"name": "p", "namespace": "n"},
            "spec": {"targetNamespace": "t", "warm": true,
                     "provider": {"source": {"name": "s"}, "destination": {"name": "host"}},
                     "map": {"network": {"name": "net"}, "storage": {"name": "st"}},
                     "vms": [{"id": "vm-1"}]}
        }))
        .expect("plan");
        assert!(
            render(&plan, None).contains("type warm\n"),
            "{}",
            render(&plan, None)
        );
        plan.spec.warm = None;
        assert!(render(&plan, None).contains("type cold\n"));
        plan.spec.type_ = Some(ferry_core::api::MigrationType::Conversion);
        assert!(render(&plan, None).contains("type conversion\n"));
    }
}
