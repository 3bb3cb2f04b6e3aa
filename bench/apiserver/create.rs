//! Creates the objects of a JSON-lines file (one object per line, e.g. the
//! `plans.jsonl` of `make_plans.py`) on the server of `$KUBECONFIG` with
//! WRITERS concurrent requests over one kube-rs client, and reports
//! objects/s. A client that is not the bottleneck, to measure a server's
//! own create rate (kubectl is, on a small machine). Exits non-zero if any
//! create fails.
//!
//! Run: `cargo run --release -p ferry-apiserver --example apiserver-create -- FILE [WRITERS]`
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::core::GroupVersionKind;

fn api_for(client: &kube::Client, obj: &DynamicObject) -> Result<Api<DynamicObject>, String> {
    let types = obj
        .types
        .as_ref()
        .ok_or("an object has no apiVersion/kind")?;
    let (group, version) = types
        .api_version
        .split_once('/')
        .unwrap_or(("", types.api_version.as_str()));
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, &types.kind));
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");
    Ok(Api::namespaced_with(client.clone(), ns, &ar))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args
        .get(1)
        .ok_or("usage: apiserver-create FILE [WRITERS]")?;
    let writers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let objects: Vec<DynamicObject> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{file} line {}: {e}", i + 1)))
        .collect::<Result<_, _>>()?;
    let client = kube::Client::try_default().await?;
    let count = objects.len();
    let start = Instant::now();
    let failures: Vec<String> = futures_util::stream::iter(objects)
        .map(|obj| {
            let client = client.clone();
            async move {
                let api = api_for(&client, &obj)?;
                api.create(&PostParams::default(), &obj)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{}: {e}", obj.metadata.name.unwrap_or_default()))
            }
        })
        .buffer_unordered(writers)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "created: {} of {count} in {secs:.1} s = {:.0} objects/s ({writers} writers)",
        count - failures.len(),
        count as f64 / secs
    );
    if let Some(first) = failures.first() {
        eprintln!("{} creates failed; the first: {first}", failures.len());
        std::process::exit(1);
    }
    Ok(())
}
