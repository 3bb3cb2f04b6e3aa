//! `ferry migrate -f MANIFESTS`: the one-shot migration. Starts the embedded
//! control plane in-process, applies the manifests (server-side apply, so a
//! second run with the same files is a no-op), creates a Migration for each
//! Plan that has none, follows progress per VM and disk, prints a summary
//! and exits non-zero when a VM failed. Running it again with the same data
//! directory resumes an interrupted migration.
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ferry_core::api::condition::Conditions;
use ferry_core::api::condition::types as cnd;
use ferry_core::api::{Migration, MigrationSpec, NetworkMap, Plan, Provider, StorageMap};
use k8s_openapi::api::core::v1::{Namespace, ObjectReference};
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery;
use serde_json::Value;

use super::embedded::{ControllerArgs, Embedded};
use super::rules::RulesArgs;

/// Arguments of `ferry migrate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest files or folders (YAML, multi-document); `-` for stdin.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// Data directory: API objects, inventory, volumes and VM manifests.
    #[arg(long, env = "FERRY_DATA_DIR", default_value = "ferry-data")]
    pub data_dir: PathBuf,
    /// Controller settings.
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// User validation rules (a `forklift-validation-config` ConfigMap among
    /// the manifests counts too).
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Give up after this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    pub timeout: u64,
    /// Output of the summary: table or json.
    #[arg(short = 'o', long, default_value = "table")]
    pub output: String,
}

/// Run `ferry migrate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: Args) -> anyhow::Result<()> {
    let docs = super::manifests::read_all(&args.files)?;
    if docs.is_empty() {
        bail!("no manifests found in {:?}", args.files);
    }
    let settings = args.controller.settings();
    let embedded = Embedded::start(
        &args.data_dir,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        settings,
        args.rules.clone(),
    )
    .await?;
    let result = drive(&embedded, &docs, &args).await;
    embedded.shutdown().await;
    result
}

async fn drive(embedded: &Embedded, docs: &[(String, Value)], args: &Args) -> anyhow::Result<()> {
    let client = embedded.client.clone();
    for ns in super::host_provider::namespaces_in(docs) {
        super::host_provider::ensure(&client, &ns).await?;
    }
    apply_all(&client, docs).await?;
    // Rules from a ConfigMap among the manifests apply before any plan runs.
    embedded
        .rules
        .reload()
        .await
        .context("cannot load the user validation rules")?;
    let migrations = ensure_migrations(&client, docs).await?;
    eprintln!("migrating with data directory {}", args.data_dir.display());
    let started = Instant::now();
    let mut last = String::new();
    let mut bars = super::bars::Bars::for_terminal();
    let mut blocked_rounds = 0;
    loop {
        let mut all_done = true;
        let mut lines = Vec::new();
        let mut blockers = Vec::new();
        for (ns, name, plan) in &migrations {
            let m = Api::<Migration>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .with_context(|| format!("reading Migration {ns}/{name}"))?;
            let p = Api::<Plan>::namespaced(client.clone(), ns)
                .get(plan)
                .await
                .with_context(|| format!("reading Plan {ns}/{plan}"))?;
            let finished = m.status.as_ref().is_some_and(|s| {
                s.conditions
                    .has_any(&[cnd::SUCCEEDED, cnd::FAILED, cnd::CANCELED])
            });
            all_done &= finished;
            if let Some(b) = bars.as_mut() {
                b.update(&p);
            }
            lines.extend(super::progress::lines(&p, &m));
            // Blockers matter only before the run starts; a running
            // migration reports its own failures per VM.
            let started = m.status.as_ref().is_some_and(|s| s.started.is_some());
            if !finished && !started {
                blockers.extend(plan_blockers(&client, &p).await?);
            }
        }
        if let Some(b) = &bars {
            // The bars show the VMs; print only what blocks the migration.
            let text: Vec<&String> = lines.iter().filter(|l| !l.starts_with("  vm ")).collect();
            let joined = text
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if joined != last && !joined.is_empty() {
                b.println(&joined);
            }
            last = joined;
        } else {
            let text = lines.join("\n");
            if text != last {
                eprintln!("{text}");
                last = text;
            }
        }
        if all_done {
            break;
        }
        // A plan that cannot become ready (a critical concern, a VM that is
        // not in the inventory) fails the command instead of waiting.
        blocked_rounds = if blockers.is_empty() {
            0
        } else {
            blocked_rounds + 1
        };
        if blocked_rounds > 10 {
            bail!("the plan cannot run:\n  {}", blockers.join("\n  "));
        }
        if args.timeout > 0 && started.elapsed() > Duration::from_secs(args.timeout) {
            bail!(
                "the migration did not finish within {} s; run the same command again to resume it",
                args.timeout
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if let Some(b) = &bars {
        b.clear();
    }
    let mut failed = false;
    let mut summaries = Vec::new();
    for (ns, name, plan) in &migrations {
        let p = Api::<Plan>::namespaced(client.clone(), ns)
            .get(plan)
            .await?;
        let m = Api::<Migration>::namespaced(client.clone(), ns)
            .get(name)
            .await?;
        failed |= !m
            .status
            .as_ref()
            .is_some_and(|s| s.conditions.has(cnd::SUCCEEDED));
        summaries.push(super::progress::summary(&p, &m, &args.data_dir));
    }
    super::progress::print_summary(&summaries, &args.output)?;
    if failed {
        bail!(
            "the migration did not succeed; see the conditions above (ferry keeps its state in {})",
            args.data_dir.display()
        );
    }
    Ok(())
}

/// The plan's critical conditions that will not clear by waiting, with the
/// critical conditions of the maps and providers it names. Empty while any
/// of its providers is still loading or still waiting for packages being
/// copied (the `LoadInventory` condition): the inventory has not settled.
async fn plan_blockers(client: &kube::Client, plan: &Plan) -> anyhow::Result<Vec<String>> {
    let Some(status) = plan.status.as_ref() else {
        return Ok(Vec::new());
    };
    let ns = plan.namespace().unwrap_or_default();
    let mut out = Vec::new();
    let spec = &plan.spec;
    for r in [&spec.provider.source, &spec.provider.destination] {
        let Some(name) = r.name.as_deref() else {
            continue;
        };
        let pns = r.namespace.clone().unwrap_or_else(|| ns.clone());
        let Some(p) = Api::<Provider>::namespaced(client.clone(), &pns)
            .get_opt(name)
            .await?
        else {
            continue;
        };
        let Some(st) = p.status.as_ref() else {
            return Ok(Vec::new());
        };
        let settled = st.phase.as_deref().is_some_and(|ph| ph != "Staging")
            && !st.conditions.has(LOAD_INVENTORY);
        if !settled {
            return Ok(Vec::new());
        }
        out.extend(critical("Provider", name, &st.conditions));
    }
    for (kind, r) in [
        ("NetworkMap", &spec.map.network),
        ("StorageMap", &spec.map.storage),
    ] {
        let Some(name) = r.name.as_deref() else {
            continue;
        };
        let mns = r.namespace.clone().unwrap_or_else(|| ns.clone());
        let conditions = if kind == "NetworkMap" {
            Api::<NetworkMap>::namespaced(client.clone(), &mns)
                .get_opt(name)
                .await?
                .and_then(|m| m.status.map(|s| s.conditions))
        } else {
            Api::<StorageMap>::namespaced(client.clone(), &mns)
                .get_opt(name)
                .await?
                .and_then(|m| m.status.map(|s| s.conditions))
        };
        if let Some(c) = conditions {
            out.extend(critical(kind, name, &c));
        }
    }
    out.extend(
        critical("Plan", &plan.name_any(), &status.conditions)
            .into_iter()
            // Explained by the map and provider lines above.
            .filter(|line| !line.contains("NotReady: ")),
    );
    Ok(out)
}

const LOAD_INVENTORY: &str = "LoadInventory";

fn critical(kind: &str, name: &str, conditions: &Conditions) -> Vec<String> {
    conditions
        .iter()
        .filter(|c| c.is_true() && c.category.as_str() == "Critical")
        .map(|c| {
            format!(
                "{kind}/{name} {}: {} {}",
                c.type_,
                c.message.clone().unwrap_or_default(),
                c.items.join(", ")
            )
        })
        .collect()
}

/// Server-side apply every document, creating namespaces first.
pub async fn apply_all(client: &kube::Client, docs: &[(String, Value)]) -> anyhow::Result<()> {
    let mut namespaces = BTreeSet::new();
    for (_, d) in docs {
        if let Some(ns) = d.pointer("/metadata/namespace").and_then(Value::as_str) {
            namespaces.insert(ns.to_owned());
        }
        if let Some(ns) = d.pointer("/spec/targetNamespace").and_then(Value::as_str) {
            namespaces.insert(ns.to_owned());
        }
    }
    let ns_api: Api<Namespace> = Api::all(client.clone());
    for ns in namespaces {
        if ns_api.get_opt(&ns).await?.is_none() {
            let obj: Namespace =
                serde_json::from_value(serde_json::json!({"metadata": {"name": ns}}))?;
            ns_api
                .create(&PostParams::default(), &obj)
                .await
                .with_context(|| format!("creating namespace {ns}"))?;
        }
    }
    for (origin, d) in docs {
        let api_version = d
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or_default();
        let name = d
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            bail!("{origin}: a manifest needs apiVersion, kind and metadata.name");
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = discovery::pinned_kind(client, &gvk)
            .await
            .with_context(|| format!("{origin}: the server does not serve {api_version} {kind}"))?;
        let api: Api<DynamicObject> = if caps.scope == discovery::Scope::Namespaced {
            let ns = d
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        api.patch(
            name,
            &PatchParams::apply("ferry-migrate").force(),
            &Patch::Apply(d),
        )
        .await
        .with_context(|| format!("{origin}: cannot apply {kind}/{name}"))?;
        eprintln!("{kind}/{name} applied");
    }
    Ok(())
}

/// The Migrations to follow: those in the manifests, plus one per Plan that
/// has none. Returns (namespace, migration, plan).
async fn ensure_migrations(
    client: &kube::Client,
    docs: &[(String, Value)],
) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    let mut planned = BTreeSet::new();
    for (_, d) in docs
        .iter()
        .filter(|(_, d)| d.get("kind").and_then(Value::as_str) == Some("Migration"))
    {
        let ns = d
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_owned();
        let name = d
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let plan = d
            .pointer("/spec/plan/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        planned.insert((ns.clone(), plan.clone()));
        out.push((ns, name, plan));
    }
    for (_, d) in docs
        .iter()
        .filter(|(_, d)| d.get("kind").and_then(Value::as_str) == Some("Plan"))
    {
        let ns = d
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_owned();
        let plan = d
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if planned.contains(&(ns.clone(), plan.clone())) {
            continue;
        }
        let name = format!("{plan}-migration");
        let api: Api<Migration> = Api::namespaced(client.clone(), &ns);
        if api.get_opt(&name).await?.is_none() {
            let m = Migration::new(
                &name,
                MigrationSpec {
                    plan: ObjectReference {
                        name: Some(plan.clone()),
                        namespace: Some(ns.clone()),
                        ..Default::default()
                    },
                    ..MigrationSpec::default()
                },
            );
            api.create(&PostParams::default(), &m)
                .await
                .with_context(|| format!("creating Migration {ns}/{name}"))?;
            eprintln!("Migration/{name} created for Plan/{plan}");
        }
        out.push((ns, name, plan));
    }
    if out.is_empty() {
        bail!("the manifests hold no Plan or Migration: nothing to migrate");
    }
    // Existing migrations that already finished are reported as they are.
    for (ns, name, _) in &out {
        let m = Api::<Migration>::namespaced(client.clone(), ns)
            .get(name)
            .await?;
        let _ = m.name_any();
    }
    Ok(out)
}
