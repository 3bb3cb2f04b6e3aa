//! Writes that change nothing store nothing: the object comes back with the
//! same resourceVersion, generation and managedFields, and watchers see no
//! event (Kubernetes' no-op update semantics). One test per write path.
#![allow(clippy::unwrap_used)]

mod common;

use futures_util::{StreamExt, TryStreamExt};
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

use common::{TestServer, widget_crd};

fn widgets(client: &Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"));
    Api::namespaced_with(client.clone(), "default", &ar)
}

fn widget(name: &str, size: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size, "color": "blue"}
    }))
    .unwrap()
}

/// What must not move on a no-op write.
fn identity(o: &DynamicObject) -> (Option<String>, Option<i64>, Value) {
    (
        o.metadata.resource_version.clone(),
        o.metadata.generation,
        serde_json::to_value(&o.metadata.managed_fields).unwrap(),
    )
}

/// Create `w` with a status, run `noop` (which must change nothing), check
/// the stored object did not move, then make one real change and check that
/// it is the first event a watch from before the no-op sees.
fn assert_noop<F, Fut>(name: &str, noop: F)
where
    F: FnOnce(Api<DynamicObject>, DynamicObject) -> Fut,
    Fut: std::future::Future<Output = DynamicObject>,
{
    let ts = TestServer::start(vec![widget_crd()]);
    ts.rt.block_on(async {
        let client = ts.handle().client().await.unwrap();
        let api = widgets(&client);
        api.create(&PostParams::default(), &widget(name, 3))
            .await
            .unwrap();
        let before = api
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"message": "fine", "observedGeneration": 1}})),
            )
            .await
            .unwrap();
        let rv = before.metadata.resource_version.clone().unwrap();
        let server_rv = ts.handle().resource_version();
        let mut events = api
            .watch(&WatchParams::default(), &rv)
            .await
            .unwrap()
            .boxed();

        let returned = noop(api.clone(), before.clone()).await;

        assert_eq!(identity(&returned), identity(&before), "the reply moved");
        let stored = api.get(name).await.unwrap();
        assert_eq!(
            identity(&stored),
            identity(&before),
            "the stored object moved"
        );
        assert_eq!(stored.data, before.data);
        assert_eq!(ts.handle().resource_version(), server_rv);

        // A real change: it must be the first event after the no-op.
        let changed = api
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"size": 4}})),
            )
            .await
            .unwrap();
        loop {
            match events.try_next().await.unwrap() {
                Some(WatchEvent::Bookmark(_)) => continue,
                Some(WatchEvent::Modified(o)) => {
                    assert_eq!(
                        o.metadata.resource_version,
                        changed.metadata.resource_version
                    );
                    break;
                }
                other => panic!("expected the real change first, got {other:?}"),
            }
        }
    });
}

#[test]
fn put_of_an_unchanged_object_is_a_noop() {
    assert_noop("put", |api, before| async move {
        api.replace("put", &PostParams::default(), &before)
            .await
            .unwrap()
    });
}

#[test]
fn merge_patch_to_current_values_is_a_noop() {
    assert_noop("merge", |api, _| async move {
        api.patch(
            "merge",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 3, "color": "blue"}})),
        )
        .await
        .unwrap()
    });
}

#[test]
fn json_patch_to_current_values_is_a_noop() {
    assert_noop("json", |api, _| async move {
        let body = json!([
            {"op": "test", "path": "/spec/size", "value": 3},
            {"op": "replace", "path": "/spec/size", "value": 3}
        ]);
        let req = http::Request::patch("/apis/example.com/v1/namespaces/default/widgets/json")
            .header("Content-Type", "application/json-patch+json")
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap();
        api.into_client()
            .request::<DynamicObject>(req)
            .await
            .unwrap()
    });
}

#[test]
fn repeated_server_side_apply_is_a_noop() {
    let config = json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "ssa"}, "spec": {"size": 3, "color": "blue"}
    });
    let ts = TestServer::start(vec![widget_crd()]);
    ts.rt.block_on(async {
        let client = ts.handle().client().await.unwrap();
        let api = widgets(&client);
        let pp = PatchParams::apply("tester");
        // The first apply creates the object and records ownership.
        let first = api.patch("ssa", &pp, &Patch::Apply(&config)).await.unwrap();
        let rv = first.metadata.resource_version.clone().unwrap();
        let mut events = api
            .watch(&WatchParams::default(), &rv)
            .await
            .unwrap()
            .boxed();
        let second = api.patch("ssa", &pp, &Patch::Apply(&config)).await.unwrap();
        assert_eq!(identity(&second), identity(&first));
        let forced = PatchParams::apply("tester").force();
        let third = api
            .patch("ssa", &forced, &Patch::Apply(&config))
            .await
            .unwrap();
        assert_eq!(identity(&third), identity(&first));
        assert_eq!(identity(&api.get("ssa").await.unwrap()), identity(&first));
        // A changed configuration is a real write, and the first event.
        let mut bigger = config.clone();
        bigger["spec"]["size"] = json!(5);
        let changed = api.patch("ssa", &pp, &Patch::Apply(&bigger)).await.unwrap();
        assert_ne!(
            changed.metadata.resource_version,
            first.metadata.resource_version
        );
        loop {
            match events.try_next().await.unwrap() {
                Some(WatchEvent::Bookmark(_)) => continue,
                Some(WatchEvent::Modified(o)) => {
                    assert_eq!(
                        o.metadata.resource_version,
                        changed.metadata.resource_version
                    );
                    break;
                }
                other => panic!("expected the real change first, got {other:?}"),
            }
        }
    });
}

#[test]
fn status_writes_of_the_same_status_are_noops() {
    assert_noop("status-merge", |api, _| async move {
        api.patch_status(
            "status-merge",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"message": "fine", "observedGeneration": 1}})),
        )
        .await
        .unwrap()
    });
    assert_noop("status-put", |api, before| async move {
        api.replace_status("status-put", &PostParams::default(), &before)
            .await
            .unwrap()
    });
}

#[test]
fn a_changed_status_still_moves_the_resource_version() {
    let ts = TestServer::start(vec![widget_crd()]);
    ts.rt.block_on(async {
        let client = ts.handle().client().await.unwrap();
        let api = widgets(&client);
        let created = api
            .create(&PostParams::default(), &widget("w", 1))
            .await
            .unwrap();
        let after = api
            .patch_status(
                "w",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"message": "new"}})),
            )
            .await
            .unwrap();
        assert_ne!(
            after.metadata.resource_version,
            created.metadata.resource_version
        );
        assert_eq!(after.metadata.generation, created.metadata.generation);
    });
}
