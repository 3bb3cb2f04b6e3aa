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
use super::space;

/// Arguments of `ferry migrate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest files or folders (YAML, multi-document); `-` for stdin.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// Data directory: API objects, inventory, volumes and VM manifests.
    /// Default: $XDG_DATA_HOME/ferry or ~/.local/share/ferry.
    #[arg(long, env = "FERRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
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
    let data_dir = super::datadir::resolve(args.data_dir.clone())?;
    let embedded = Embedded::start(
        &data_dir,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        settings,
        args.rules.clone(),
        "ferry migrate",
    )
    .await
    .map_err(|e| with_space_advice(e, &data_dir))?;
    let data_dir = embedded.data_dir.clone();
    let result = drive(&embedded, &docs, &args).await;
    embedded.shutdown().await;
    result.map_err(|e| with_space_advice(e, &data_dir))
}

/// `err`, with what is full and what to free when a full disk caused it.
fn with_space_advice(err: anyhow::Error, data_dir: &std::path::Path) -> anyhow::Error {
    if space::is_no_space(&err) && !err.to_string().contains(FULL_MARK) {
        err.context(space::advice(data_dir))
    } else {
        err
    }
}

/// Part of [`space::advice`]: an error that carries it needs no more.
const FULL_MARK: &str = "is full (";

/// Rounds (of 0.5 s) without progress on a full filesystem before
/// `ferry migrate` stops: the controllers cannot record anything more.
const FULL_ROUNDS: u32 = 60;

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
    let data_dir = &embedded.data_dir;
    eprintln!("migrating with data directory {}", data_dir.display());
    let started = Instant::now();
    let mut last = String::new();
    let mut bars = super::bars::Bars::for_terminal();
    let mut blocked_rounds = 0;
    let mut full_rounds = 0;
    let mut progress = String::new();
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
        // A full filesystem stops everything (the databases cannot record
        // progress either): say what is full instead of waiting forever.
        let now = lines.join("\n");
        full_rounds = if now == progress && space::is_low(data_dir) {
            full_rounds + 1
        } else {
            0
        };
        progress = now;
        if full_rounds > FULL_ROUNDS {
            bail!("{}", space::advice(data_dir));
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
        summaries.push(super::progress::summary(&p, &m, data_dir));
    }
    super::progress::print_summary(&summaries, &args.output)?;
    let out_of_space = summaries
        .iter()
        .flatten()
        .any(|r| r.error.as_deref().is_some_and(space::mentions_no_space));
    if failed && (out_of_space || space::is_low(data_dir)) {
        bail!("the migration did not succeed: {}", space::advice(data_dir));
    }
    if failed {
        bail!(
            "the migration did not succeed; see the conditions above (ferry keeps its state in {}). Fix the cause and run the same command again: it retries the VMs that did not succeed",
            data_dir.display()
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

/// The Migrations to follow, one per Plan in the manifests (or named by a
/// Migration in them), as (namespace, migration, plan):
/// - a Migration that has not finished (new, or interrupted: it resumes);
/// - else, when a VM of the plan did not succeed (the latest Migration
///   failed or was canceled, or VMs were added), a new Migration of the
///   plan that migrates what is left (succeeded VMs stay), as Forklift
///   users do;
/// - else the latest Migration, reported as it is;
/// - a plan with no Migration at all gets `PLAN-migration`.
async fn ensure_migrations(
    client: &kube::Client,
    docs: &[(String, Value)],
) -> anyhow::Result<Vec<(String, String, String)>> {
    let kind = |d: &Value, k: &str| d.get("kind").and_then(Value::as_str) == Some(k);
    let text = |d: &Value, p: &str| d.pointer(p).and_then(Value::as_str).map(str::to_owned);
    // (namespace, plan) in manifest order, without duplicates.
    let mut plans: Vec<(String, String)> = Vec::new();
    for (_, d) in docs {
        let ns = text(d, "/metadata/namespace").unwrap_or_else(|| "default".to_owned());
        let plan = if kind(d, "Plan") {
            text(d, "/metadata/name")
        } else if kind(d, "Migration") {
            text(d, "/spec/plan/name")
        } else {
            None
        };
        if let Some(plan) = plan.filter(|p| !p.is_empty())
            && !plans.contains(&(ns.clone(), plan.clone()))
        {
            plans.push((ns, plan));
        }
    }
    if plans.is_empty() {
        bail!("the manifests hold no Plan or Migration: nothing to migrate");
    }
    let mut out = Vec::new();
    for (ns, plan) in plans {
        let name = follow_or_create(client, &ns, &plan).await?;
        out.push((ns, name, plan));
    }
    Ok(out)
}

/// The Migration of `ns/plan` to follow, created when there is none or
/// the latest did not succeed.
async fn follow_or_create(client: &kube::Client, ns: &str, plan: &str) -> anyhow::Result<String> {
    let api: Api<Migration> = Api::namespaced(client.clone(), ns);
    let all = api
        .list(&Default::default())
        .await
        .with_context(|| format!("listing the Migrations in {ns}"))?;
    let of_plan: Vec<&Migration> = all
        .items
        .iter()
        .filter(|m| {
            m.spec.plan.name.as_deref() == Some(plan)
                && m.spec.plan.namespace.as_deref().unwrap_or(ns) == ns
        })
        .collect();
    if let Some(running) = of_plan.iter().find(|m| !finished(m)) {
        return Ok(running.name_any());
    }
    let plan_obj = Api::<Plan>::namespaced(client.clone(), ns)
        .get_opt(plan)
        .await
        .with_context(|| format!("reading Plan {ns}/{plan}"))?;
    let history: Vec<String> = plan_obj
        .as_ref()
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.migration.as_ref())
        .map(|m| m.history.iter().map(|h| h.migration.uid.clone()).collect())
        .unwrap_or_default();
    // The latest: last in the plan's history, else the newest.
    let latest = of_plan.iter().max_by_key(|m| {
        let uid = m.uid().unwrap_or_default();
        (
            history.iter().rposition(|h| *h == uid),
            m.metadata.creation_timestamp.clone(),
        )
    });
    // Every VM of the plan succeeded (in this or an earlier Migration).
    let all_succeeded = plan_obj.as_ref().is_some_and(|p| {
        let vms = p.status.as_ref().and_then(|s| s.migration.as_ref());
        p.spec.vms.iter().all(|e| {
            vms.and_then(|m| m.find_vm(e))
                .is_some_and(|v| v.conditions.has(cnd::SUCCEEDED))
        })
    });
    let base = format!("{plan}-migration");
    let name = match latest {
        Some(m) if all_succeeded => return Ok(m.name_any()),
        None => base,
        Some(_) => (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|n| !all.items.iter().any(|m| m.name_any() == *n))
            .unwrap_or(base),
    };
    let retry = latest.map(|m| {
        let (mut done, mut left) = (0, 0);
        if let Some(p) = &plan_obj {
            let vms = p.status.as_ref().and_then(|s| s.migration.as_ref());
            for e in &p.spec.vms {
                match vms.and_then(|m| m.find_vm(e)) {
                    Some(v) if v.conditions.has(cnd::SUCCEEDED) => done += 1,
                    _ => left += 1,
                }
            }
        }
        (m.name_any(), done, left)
    });
    let m = Migration::new(
        &name,
        MigrationSpec {
            plan: ObjectReference {
                name: Some(plan.to_owned()),
                namespace: Some(ns.to_owned()),
                ..Default::default()
            },
            ..MigrationSpec::default()
        },
    );
    api.create(&PostParams::default(), &m)
        .await
        .with_context(|| format!("creating Migration {ns}/{name}"))?;
    match retry {
        None => eprintln!("Migration/{name} created for Plan/{plan}"),
        Some((previous, done, left)) => eprintln!(
            "Migration/{name} created for Plan/{plan} to migrate its {left} VM(s) that did not succeed in Migration/{previous}; {done} VM(s) that succeeded are kept"
        ),
    }
    Ok(name)
}

fn finished(m: &Migration) -> bool {
    m.status.as_ref().is_some_and(|s| {
        s.conditions
            .has_any(&[cnd::SUCCEEDED, cnd::FAILED, cnd::CANCELED])
    })
}
