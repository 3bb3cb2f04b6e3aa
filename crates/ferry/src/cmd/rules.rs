//! User validation rules for `ferry serve` and `ferry migrate`, loaded the
//! way Forklift loads them: the `*.rego` keys of the
//! `forklift-validation-config` ConfigMap (Forklift mounts it into OPA's
//! policy folder) and `--rules DIR` folders, on top of the bundled policies.
//! Both are read again every few seconds; when a rule changed, the
//! inventory's validator is replaced and every provider runs a cycle, which
//! validates every VM again (the rules version moves with the rules).
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use ferry_inventory::{Inventory, SharedValidator};
use ferry_validation::{PolicySource, Validator, sources};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};

/// The ConfigMap that holds user rules (its `*.rego` keys).
pub const CONFIG_MAP: &str = "forklift-validation-config";

/// How often the ConfigMaps and folders are read again.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Where user rules come from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RulesArgs {
    /// A folder of user rules (`*.rego`, Rego v0 or v1) added to the
    /// bundled policies; read again when it changes. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Namespace of the `forklift-validation-config` ConfigMap with user
    /// rules. Default: that ConfigMap in every namespace.
    #[arg(long, env = "FERRY_RULES_NAMESPACE", value_name = "NAMESPACE")]
    pub rules_namespace: Option<String>,
}

/// The user rules of a running control plane.
pub struct Rules {
    args: RulesArgs,
    client: Client,
    validator: Arc<SharedValidator>,
    inventory: Inventory,
    /// Digest of the user rules in use, and the last error reported for a
    /// set that did not load (reported once, not on every poll).
    state: Mutex<(String, Option<String>)>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules").field("args", &self.args).finish()
    }
}

/// The policies for `user` rules: the bundled pack plus them.
fn build(user: Vec<PolicySource>) -> ferry_validation::Result<Validator> {
    let mut builder = Validator::builder();
    for src in user {
        builder = builder.source(src);
    }
    builder.build()
}

impl Rules {
    /// Read the user rules once and build the first validator. A folder or
    /// rule that cannot be loaded is an error naming it.
    /// A ConfigMap whose rules do not load is reported and left out (the
    /// poll keeps trying it), so that one broken rule does not stop ferry.
    pub async fn load(args: RulesArgs, client: Client) -> anyhow::Result<(Validator, String)> {
        let folders = read_folders(&args).await?;
        let maps = read_config_maps(&args, &client).await?;
        let with_maps: Vec<PolicySource> = folders.iter().cloned().chain(maps).collect();
        let d = sources::digest(&with_maps);
        match tokio::task::spawn_blocking(move || build(with_maps))
            .await
            .context("loading the validation policies stopped")?
        {
            Ok(v) => Ok((v, d)),
            Err(e) => {
                tracing::error!(
                    "the user rules of the {CONFIG_MAP} ConfigMaps are not used: {}",
                    e.full_message()
                );
                let d = sources::digest(&folders);
                let v = tokio::task::spawn_blocking(move || build(folders))
                    .await
                    .context("loading the validation policies stopped")?
                    .map_err(|e| anyhow::anyhow!(e.full_message()))
                    .context("cannot load the validation policies")?;
                Ok((v, d))
            }
        }
    }

    /// Watch the rules of `args` for `inventory`, whose validator is
    /// `validator` (built by [`Rules::load`] from rules with `digest`).
    pub fn new(
        args: RulesArgs,
        client: Client,
        validator: Arc<SharedValidator>,
        inventory: Inventory,
        digest: String,
    ) -> Self {
        Self {
            args,
            client,
            validator,
            inventory,
            state: Mutex::new((digest, None)),
        }
    }

    /// Read the rules again; when they changed, replace the validator and
    /// refresh every provider. Returns whether the rules changed. A rule set
    /// that does not load keeps the previous policies and is an error naming
    /// the rule.
    pub async fn reload(&self) -> anyhow::Result<bool> {
        let user = read(&self.args, &self.client).await?;
        let d = sources::digest(&user);
        if self.lock().0 == d {
            return Ok(false);
        }
        let built = tokio::task::spawn_blocking(move || build(user))
            .await
            .context("loading the validation policies stopped")?;
        match built {
            Ok(validator) => {
                let user_rules = validator.sources().iter().filter(|s| s.user).count();
                self.validator.replace(validator);
                *self.lock() = (d, None);
                tracing::info!(
                    user_rules,
                    "validation rules changed; validating every VM again"
                );
                self.inventory.refresh_all();
                Ok(true)
            }
            Err(e) => {
                let message = e.full_message();
                let mut state = self.lock();
                let first = state.1.as_deref() != Some(message.as_str());
                state.1 = Some(message.clone());
                drop(state);
                if first {
                    anyhow::bail!("the changed validation rules are not used: {message}");
                }
                Ok(false)
            }
        }
    }

    /// Reload every [`POLL_EVERY`] until the task is aborted.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(POLL_EVERY).await;
                if let Err(e) = self.reload().await {
                    tracing::error!("{e:#}");
                }
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (String, Option<String>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The user rules now: every folder, then every `forklift-validation-config`
/// ConfigMap (by namespace).
async fn read(args: &RulesArgs, client: &Client) -> anyhow::Result<Vec<PolicySource>> {
    let mut out = read_folders(args).await?;
    out.extend(read_config_maps(args, client).await?);
    Ok(out)
}

/// The rules of the `--rules` folders.
async fn read_folders(args: &RulesArgs) -> anyhow::Result<Vec<PolicySource>> {
    let mut out = Vec::new();
    for dir in &args.dirs {
        let dir = dir.clone();
        let found = tokio::task::spawn_blocking(move || sources::from_dir(&dir, true))
            .await
            .context("reading a rules folder stopped")?
            .map_err(|e| anyhow::anyhow!(e.full_message()))?;
        out.extend(found);
    }
    Ok(out)
}

/// The rules of the `forklift-validation-config` ConfigMaps, by namespace.
async fn read_config_maps(args: &RulesArgs, client: &Client) -> anyhow::Result<Vec<PolicySource>> {
    let mut out = Vec::new();
    let api: Api<ConfigMap> = match &args.rules_namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let list = api
        .list(&ListParams::default().fields(&format!("metadata.name={CONFIG_MAP}")))
        .await
        .with_context(|| format!("cannot list the {CONFIG_MAP} ConfigMaps"))?;
    let mut maps: Vec<ConfigMap> = list.items;
    maps.sort_by_key(|m| m.namespace().unwrap_or_default());
    for map in maps {
        let name = format!("{}/{}", map.namespace().unwrap_or_default(), map.name_any());
        let data: BTreeMap<String, String> = map.data.unwrap_or_default();
        out.extend(
            sources::from_config_map(&name, &data)
                .map_err(|e| anyhow::anyhow!(e.full_message()))?,
        );
    }
    Ok(out)
}
