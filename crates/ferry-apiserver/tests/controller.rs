//! A kube-rs Controller with finalizer() and server-side-apply status
//! patches against the embedded server: creates, updates, deletes, a server
//! restart, and objects created while the controller was down.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use kube::{Client, CustomResource, CustomResourceExt, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Gadget",
    namespaced,
    status = "GadgetStatus"
)]
pub struct GadgetSpec {
    size: i64,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GadgetStatus {
    observed_generation: Option<i64>,
    message: Option<String>,
}

const FINALIZER: &str = "example.com/cleanup";

struct Ctx {
    client: Client,
    log: Arc<Mutex<Vec<String>>>,
}

#[derive(Debug, thiserror::Error)]
enum ReconcileError {
    #[error("Kubernetes request failed")]
    Kube(#[source] kube::Error),
    #[error("Finalizer failed")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<ReconcileError>>),
}

async fn reconcile(g: Arc<Gadget>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let api: Api<Gadget> = Api::namespaced(ctx.client.clone(), &g.namespace().unwrap());
    finalizer(&api, FINALIZER, g, |ev| async {
        match ev {
            Event::Apply(g) => {
                let status = json!({
                    "apiVersion": "example.com/v1",
                    "kind": "Gadget",
                    "status": {"observedGeneration": g.metadata.generation, "message": format!("size {}", g.spec.size)}
                });
                api.patch_status(&g.name_any(), &PatchParams::apply("gadget-controller").force(), &Patch::Apply(&status))
                    .await
                    .map_err(ReconcileError::Kube)?;
                ctx.log.lock().unwrap().push(format!("apply {} {}", g.name_any(), g.spec.size));
                Ok(Action::await_change())
            }
            Event::Cleanup(g) => {
                ctx.log.lock().unwrap().push(format!("cleanup {}", g.name_any()));
                Ok(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| ReconcileError::Finalizer(Box::new(e)))
}

fn error_policy(_g: Arc<Gadget>, _e: &ReconcileError, _ctx: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_millis(200))
}

fn spawn_controller(
    rt: &tokio::runtime::Runtime,
    client: Client,
    log: Arc<Mutex<Vec<String>>>,
) -> tokio::task::JoinHandle<()> {
    rt.spawn(async move {
        let api: Api<Gadget> = Api::all(client.clone());
        Controller::new(api, watcher::Config::default())
            .run(reconcile, error_policy, Arc::new(Ctx { client, log }))
            .for_each(|_| async {})
            .await;
    })
}

/// Poll until `f` holds (the controller works asynchronously); panics
/// with `what` after a generous deadline.
async fn until<F: Fn() -> bool>(what: &str, f: F) {
    for _ in 0..600 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("gave up waiting for: {what}");
}

async fn until_status(api: &Api<Gadget>, name: &str, message: &str) -> Gadget {
    for _ in 0..600 {
        if let Ok(g) = api.get(name).await
            && g.status.as_ref().and_then(|s| s.message.as_deref()) == Some(message)
        {
            return g;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never reached status {message:?}");
}

fn gadget(name: &str, size: i64) -> Gadget {
    Gadget::new(name, GadgetSpec { size })
}

#[test]
fn controller_with_finalizer_survives_restarts() {
    let crd = serde_json::to_value(Gadget::crd()).unwrap();
    let mut ts = common::TestServer::start(vec![crd.clone()]);
    let log = Arc::new(Mutex::new(Vec::new()));
    let has = |log: &Arc<Mutex<Vec<String>>>, s: &str| log.lock().unwrap().iter().any(|l| l == s);

    let client = ts.rt.block_on(ts.handle().client()).unwrap();
    let controller = spawn_controller(&ts.rt, client.clone(), log.clone());
    let api: Api<Gadget> = Api::namespaced(client.clone(), "default");

    // Create: finalizer added, status written by server-side apply.
    ts.rt.block_on(async {
        api.create(&PostParams::default(), &gadget("g1", 1))
            .await
            .unwrap();
        let g = until_status(&api, "g1", "size 1").await;
        assert!(g.finalizers().contains(&FINALIZER.to_string()));
        assert_eq!(g.status.unwrap().observed_generation, Some(1));
        let managers: Vec<String> = g
            .metadata
            .managed_fields
            .unwrap()
            .into_iter()
            .filter_map(|m| m.manager)
            .collect();
        assert!(
            managers.contains(&"gadget-controller".to_string()),
            "{managers:?}"
        );
    });
    // Update: generation bumps, status follows.
    ts.rt.block_on(async {
        api.patch(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}})),
        )
        .await
        .unwrap();
        let g = until_status(&api, "g1", "size 2").await;
        assert_eq!(g.metadata.generation, Some(2));
        assert_eq!(g.status.unwrap().observed_generation, Some(2));
    });
    // Server restart on the same data dir and port: the watch resumes.
    ts.restart(vec![crd.clone()]);
    ts.rt.block_on(async {
        api.create(&PostParams::default(), &gadget("g2", 5))
            .await
            .unwrap();
        until_status(&api, "g2", "size 5").await;
        api.patch(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 3}})),
        )
        .await
        .unwrap();
        until_status(&api, "g1", "size 3").await;
    });
    // Delete: cleanup runs, then the object goes.
    ts.rt.block_on(async {
        api.delete("g2", &DeleteParams::default()).await.unwrap();
        until("cleanup of g2", || has(&log, "cleanup g2")).await;
        for _ in 0..600 {
            if api.get_opt("g2").await.unwrap().is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            api.get_opt("g2").await.unwrap().is_none(),
            "g2 is gone once its finalizer is removed"
        );
    });
    // Controller down: objects created meanwhile are reconciled when it returns.
    controller.abort();
    let _ = ts.rt.block_on(controller);
    ts.rt.block_on(async {
        api.create(&PostParams::default(), &gadget("g3", 7))
            .await
            .unwrap();
        api.patch(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 4}})),
        )
        .await
        .unwrap();
    });
    assert!(!has(&log, "apply g3 7"));
    let _controller = spawn_controller(&ts.rt, client, log.clone());
    ts.rt.block_on(async {
        until_status(&api, "g3", "size 7").await;
        until_status(&api, "g1", "size 4").await;
    });
    assert!(has(&log, "apply g1 1") && has(&log, "apply g1 2") && has(&log, "apply g2 5"));
}
