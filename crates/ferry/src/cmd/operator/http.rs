//! The operator's probe and metrics endpoints (plain HTTP; nothing secret
//! is served):
//! - `/healthz`: 200 while the process runs.
//! - `/readyz`: 200 once this replica reached the API server within the
//!   last lease duration (leader or standby), else 503.
//! - `/metrics`: Prometheus text (see [`super::metrics`]); the Forklift
//!   metrics only on the leader, so that summing over replicas does not
//!   count twice.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State as Extract;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use ferry_core::api::{Migration, Plan, Provider};
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

use super::metrics::{Counters, Snapshot};

/// What the endpoints read.
pub struct State {
    client: kube::Client,
    namespaces: Vec<String>,
    duration: Duration,
    leader: AtomicBool,
    api_ok_at: Mutex<Option<Instant>>,
    counters: tokio::sync::Mutex<Counters>,
}

impl State {
    /// State for a replica watching `namespaces` (empty: all).
    pub fn new(client: kube::Client, namespaces: Vec<String>, duration: Duration) -> Self {
        Self {
            client,
            namespaces,
            duration,
            leader: AtomicBool::new(false),
            api_ok_at: Mutex::new(None),
            counters: tokio::sync::Mutex::new(Counters::default()),
        }
    }

    /// Record a successful call to the API server.
    pub fn api_ok(&self) {
        if let Ok(mut at) = self.api_ok_at.lock() {
            *at = Some(Instant::now());
        }
    }

    /// Record whether this replica leads.
    pub fn set_leader(&self, leader: bool) {
        self.leader.store(leader, Ordering::SeqCst);
    }

    fn ready(&self) -> bool {
        self.api_ok_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < self.duration)
    }

    async fn list<K>(&self) -> kube::Result<Vec<K>>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        let apis: Vec<Api<K>> = if self.namespaces.is_empty() {
            vec![Api::all(self.client.clone())]
        } else {
            self.namespaces
                .iter()
                .map(|ns| Api::namespaced(self.client.clone(), ns))
                .collect()
        };
        let mut all = Vec::new();
        for api in apis {
            all.extend(api.list(&ListParams::default()).await?.items);
        }
        Ok(all)
    }

    async fn snapshot(&self) -> kube::Result<Snapshot> {
        let leader = self.leader.load(Ordering::SeqCst);
        if !leader {
            return Ok(Snapshot::default());
        }
        Ok(Snapshot {
            plans: self.list::<Plan>().await?,
            migrations: self.list::<Migration>().await?,
            // Providers anywhere: a Plan may name one in another namespace.
            providers: Api::<Provider>::all(self.client.clone())
                .list(&ListParams::default())
                .await?
                .items,
            leader,
        })
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(Extract(state): Extract<Arc<State>>) -> impl IntoResponse {
    if state.ready() {
        (StatusCode::OK, "ok")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the API server was not reached recently",
        )
    }
}

async fn metrics(Extract(state): Extract<Arc<State>>) -> axum::response::Response {
    let snap = match state.snapshot().await {
        Ok(s) => s,
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot read Plans, Migrations and Providers: {e}"),
            )
                .into_response();
        }
    };
    let text = state
        .counters
        .lock()
        .await
        .render(&snap, &ferry_controller::context::now());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Serve the endpoints on `listener` until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<State>) {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state);
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("error: the probe server stopped: {e}");
    }
}
