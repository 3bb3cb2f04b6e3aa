//! Load test for the embedded API server (not run by the test suite):
//! 5,000 objects created by concurrent writers while 3 watchers follow.
//! Reports write throughput and watch-event latency percentiles, and checks
//! that every watcher saw every object exactly once, in resourceVersion order.
//!
//! Run: `cargo run --release -p ferry-apiserver --example apiserver-load [-- OBJECTS WRITERS]`
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use kube::api::{Api, ApiResource, DynamicObject, PostParams, WatchEvent, WatchParams};
use kube::core::GroupVersionKind;
use serde_json::json;

const WATCHERS: usize = 3;

fn crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "loads.bench.ferry.dev"},
        "spec": {"group": "bench.ferry.dev", "scope": "Namespaced",
            "names": {"plural": "loads", "singular": "load", "kind": "Load"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "index": {"type": "integer"}, "vm": {"type": "string"},
                        "disks": {"type": "array", "items": {"type": "object", "properties": {
                            "id": {"type": "string"}, "capacity": {"type": "integer"}}}}}}}}}}]}
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let objects: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5000);
    let writers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let dir = tempfile::tempdir().unwrap();
    let mut config = ferry_apiserver::Config::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.definitions = vec![crd()];
    let server = ferry_apiserver::Server::start(config).await.unwrap();
    let client = server.client().await.unwrap();
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("bench.ferry.dev", "v1", "Load"));
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);

    // Send times, by object name (set just before each create request).
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let start_rv = server.resource_version().to_string();
    let mut watchers = Vec::new();
    for w in 0..WATCHERS {
        let api = api.clone();
        let start_rv = start_rv.clone();
        watchers.push(tokio::spawn(async move {
            let mut seen: Vec<(String, u64, Instant)> = Vec::with_capacity(objects);
            let mut stream = api
                .watch(&WatchParams::default().timeout(290), &start_rv)
                .await
                .unwrap()
                .boxed();
            while seen.len() < objects {
                match stream.try_next().await {
                    Ok(Some(WatchEvent::Added(o))) => {
                        let rv = o
                            .metadata
                            .resource_version
                            .as_deref()
                            .unwrap_or("0")
                            .parse()
                            .unwrap_or(0);
                        seen.push((o.metadata.name.unwrap_or_default(), rv, Instant::now()));
                    }
                    Ok(Some(WatchEvent::Bookmark(_))) => {}
                    Ok(Some(other)) => panic!("watcher {w}: unexpected event {other:?}"),
                    Ok(None) => panic!("watcher {w}: stream ended after {} events", seen.len()),
                    Err(e) => panic!("watcher {w}: {e}"),
                }
            }
            seen
        }));
    }
    // Give the watch requests a moment to be established before writing.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let t0 = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let api = api.clone();
        let next = next.clone();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= objects {
                    break;
                }
                let name = format!("load-{i:05}");
                let obj: DynamicObject = serde_json::from_value(json!({
                    "apiVersion": "bench.ferry.dev/v1", "kind": "Load",
                    "metadata": {"name": name, "labels": {"bench": "apiserver"}},
                    "spec": {"index": i, "vm": format!("vm-{i}"), "disks": [
                        {"id": format!("disk-{i}-0"), "capacity": 10_737_418_240u64},
                        {"id": format!("disk-{i}-1"), "capacity": 53_687_091_200u64}]}
                }))
                .unwrap();
                sent.lock().unwrap().insert(name, Instant::now());
                api.create(&PostParams::default(), &obj).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let write_time = t0.elapsed();

    let sent = sent.lock().unwrap().clone();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for (w, h) in watchers.into_iter().enumerate() {
        let seen = h.await.unwrap();
        let mut names: Vec<&str> = seen.iter().map(|(n, _, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let in_order = seen.windows(2).all(|p| p[0].1 < p[1].1);
        let lost = objects - names.len();
        let duplicated = seen.len() - names.len();
        println!(
            "watcher {w}: {} events, lost {lost}, duplicated {duplicated}, resourceVersions strictly increasing: {in_order}",
            seen.len()
        );
        if lost != 0 || duplicated != 0 || !in_order {
            failures += 1;
        }
        for (name, _, at) in &seen {
            if let Some(s) = sent.get(name) {
                latencies.push(at.saturating_duration_since(*s));
            }
        }
    }
    latencies.sort_unstable();
    println!(
        "writes: {objects} objects by {writers} writers in {:.2}s = {:.0} objects/s",
        write_time.as_secs_f64(),
        objects as f64 / write_time.as_secs_f64()
    );
    println!(
        "event latency (create request sent -> watcher received), {} samples: p50 {:.2}ms p90 {:.2}ms p99 {:.2}ms max {:.2}ms",
        latencies.len(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.90).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    server.shutdown().await;
    if failures > 0 {
        eprintln!("FAILED: {failures} watcher(s) lost, duplicated or reordered events");
        std::process::exit(1);
    }
    println!("OK: no event lost, none duplicated or out of order");
}
