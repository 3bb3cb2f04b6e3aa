//! `ferry transfer`: the data mover of cluster mode, run by the operator as
//! one pod per VM. Copies the VM's disks (the spec in `FERRY_TRANSFER_SPEC`)
//! onto the PVCs mounted under `--volumes`, keeping each copy's resume
//! journal on its PVC, and reports per-disk progress in annotations of its
//! own Pod (`POD_NAME`/`POD_NAMESPACE`), which the operator reads into the
//! Plan. See `ferry_controller::migration::pod_transfer` for the protocol.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use ferry_controller::migration::pod_transfer::{
    self, ERROR_ANNOTATION, PROGRESS_ANNOTATION, SPEC_ENV, TransferSpec,
};
use ferry_controller::providers::ova::session::Session;
use ferry_destination::MountedVolumes;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};

/// Copy one VM's disks onto its PVCs (inside a transfer pod).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the PVCs are mounted (one folder per PVC name).
    #[arg(long, default_value = ferry_destination::kubevirt::MOUNT_ROOT)]
    pub volumes: PathBuf,
}

/// Run the transfer; an error when any disk failed.
pub fn run(args: Args) -> anyhow::Result<()> {
    let text = std::env::var(SPEC_ENV).with_context(|| {
        format!("{SPEC_ENV} is not set: `ferry transfer` runs in the transfer pods that `ferry operator` creates")
    })?;
    let spec: TransferSpec = serde_json::from_str(&text)
        .with_context(|| format!("{SPEC_ENV} is not a transfer spec"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(transfer(args, spec))
}

/// This pod, when it runs in one (`POD_NAME`, `POD_NAMESPACE`).
async fn own_pod() -> anyhow::Result<Option<(Api<Pod>, String)>> {
    let (Ok(name), Ok(ns)) = (std::env::var("POD_NAME"), std::env::var("POD_NAMESPACE")) else {
        return Ok(None);
    };
    let config = kube::Config::infer()
        .await
        .context("cannot reach the API server to report progress (no in-cluster configuration)")?;
    let client = kube::Client::try_from(config).context("cannot build the Kubernetes client")?;
    Ok(Some((Api::namespaced(client, &ns), name)))
}

async fn report(
    pod: &Option<(Api<Pod>, String)>,
    live: &pod_transfer::Live,
    error: Option<&str>,
) -> anyhow::Result<()> {
    let progress = serde_json::to_string(&live.report())?;
    let Some((api, name)) = pod else {
        eprintln!("{progress}");
        return Ok(());
    };
    let mut annotations = serde_json::json!({ PROGRESS_ANNOTATION: progress });
    if let Some(e) = error {
        annotations[ERROR_ANNOTATION] = serde_json::Value::from(e);
    }
    let patch = serde_json::json!({"metadata": {"annotations": annotations}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .with_context(|| format!("cannot report progress on pod {name}"))?;
    Ok(())
}

async fn transfer(args: Args, spec: TransferSpec) -> anyhow::Result<()> {
    let pod = own_pod().await?;
    let live = pod_transfer::live(&spec);
    let dest = MountedVolumes::new(&args.volumes);
    let copy = {
        let (spec, live) = (spec.clone(), live.clone());
        tokio::task::spawn_blocking(move || pod_transfer::run(&spec, &dest, &Session, &live))
    };
    tokio::pin!(copy);
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let errors = loop {
        tokio::select! {
            r = &mut copy => break r.context("the copy task stopped unexpectedly")?,
            _ = tick.tick() => {
                if let Err(e) = report(&pod, &live, None).await {
                    eprintln!("warning: {e:#}");
                }
            }
        }
    };
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    report(&pod, &live, error.as_deref()).await?;
    match error {
        None => Ok(()),
        Some(e) => Err(anyhow::anyhow!(e)),
    }
}
