//! API semantics through kube-rs: errors as Kubernetes Status objects (409,
//! 410, 422, 401), pagination, streaming lists and watch resumption after a
//! restart.
#![allow(clippy::unwrap_used)]

mod common;

use futures_util::{StreamExt, TryStreamExt};
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::core::GroupVersionKind;
use kube::runtime::watcher;
use serde_json::json;

use common::{TestServer, widget_crd};

fn widgets(client: &Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"));
    Api::namespaced_with(client.clone(), "default", &ar)
}

fn widget(name: &str, size: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": name, "labels": {"n": name}},
        "spec": {"size": size}
    }))
    .unwrap()
}

fn status_of(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected a Status error, got {other:?}"),
    }
}

#[test]
fn errors_are_kubernetes_statuses() {
    let ts = TestServer::start(vec![widget_crd()]);
    ts.rt.block_on(async {
        let client = ts.handle().client().await.unwrap();
        let api = widgets(&client);
        let created = api
            .create(&PostParams::default(), &widget("a", 1))
            .await
            .unwrap();
        // 409: AlreadyExists, then a stale resourceVersion.
        let s = status_of(
            api.create(&PostParams::default(), &widget("a", 1))
                .await
                .unwrap_err(),
        );
        assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
        let mut first = created.clone();
        first.data["spec"]["size"] = json!(2);
        api.replace("a", &PostParams::default(), &first)
            .await
            .unwrap();
        let mut stale = created.clone();
        stale.data["spec"]["size"] = json!(3);
        let s = status_of(
            api.replace("a", &PostParams::default(), &stale)
                .await
                .unwrap_err(),
        );
        assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
        assert!(
            s.message.contains("the object has been modified"),
            "{}",
            s.message
        );
        // 422 naming the field.
        let mut bad = widget("b", -5);
        bad.data["spec"]["parts"] = json!([{"id": "x"}, {"count": 1}]);
        let s = status_of(api.create(&PostParams::default(), &bad).await.unwrap_err());
        assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
        let fields: Vec<String> = s
            .details
            .unwrap()
            .causes
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert!(
            fields.contains(&"spec.size".to_string())
                && fields.contains(&"spec.parts[1].id".to_string()),
            "{fields:?}"
        );
        // 404.
        let s = status_of(api.get("missing").await.unwrap_err());
        assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
        // 415: strategic merge on a custom resource.
        let s = status_of(
            api.patch(
                "a",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"size": 4}})),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(s.code, 415);
    });
    // 401 with a wrong token.
    let bad_kubeconfig = ts.dir.parent().unwrap().join("bad-kubeconfig");
    let text = std::fs::read_to_string(ts.kubeconfig()).unwrap();
    let token = ts.handle().token().to_string();
    std::fs::write(&bad_kubeconfig, text.replace(&token, "not-the-token")).unwrap();
    ts.rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&bad_kubeconfig).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        let client = Client::try_from(cfg).unwrap();
        let s = status_of(
            widgets(&client)
                .list(&ListParams::default())
                .await
                .unwrap_err(),
        );
        assert_eq!((s.code, s.reason.as_str()), (401, "Unauthorized"));
    });
}

#[test]
fn stale_watch_gets_410_and_pages_continue() {
    let mut config = common::config(
        &tempfile::tempdir().unwrap().keep(),
        "127.0.0.1:0".parse().unwrap(),
        vec![widget_crd()],
    );
    config.store.history = 10;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let h = ferry_apiserver::Server::start(config).await.unwrap();
        let client = h.client().await.unwrap();
        let api = widgets(&client);
        for i in 0..300 {
            api.create(&PostParams::default(), &widget(&format!("w{i:03}"), i))
                .await
                .unwrap();
        }
        // The history kept is 10 events: resuming from version 1 is too old.
        let mut stream = api
            .watch(&WatchParams::default(), "1")
            .await
            .unwrap()
            .boxed();
        match stream.try_next().await.unwrap() {
            Some(WatchEvent::Error(e)) => assert_eq!(e.code, 410, "{e:?}"),
            other => panic!("expected a 410 ERROR event, got {other:?}"),
        }
        // Pagination walks all 300 in pages of 70 without repeats.
        let mut names = Vec::new();
        let mut lp = ListParams::default().limit(70);
        loop {
            let page = api.list(&lp).await.unwrap();
            names.extend(page.items.iter().map(|o| o.metadata.name.clone().unwrap()));
            match page.metadata.continue_ {
                Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
                _ => break,
            }
        }
        assert_eq!(names.len(), 300);
        names.dedup();
        assert_eq!(names.len(), 300);
        // Selectors on lists.
        let l = api
            .list(&ListParams::default().labels("n in (w001,w002)"))
            .await
            .unwrap();
        assert_eq!(l.items.len(), 2);
        let l = api
            .list(&ListParams::default().fields("metadata.name=w007"))
            .await
            .unwrap();
        assert_eq!(l.items.len(), 1);
        h.shutdown().await;
    });
}

#[test]
fn watch_resumes_after_restart_without_loss() {
    let mut ts = TestServer::start(vec![widget_crd()]);
    let rv = ts.rt.block_on(async {
        let client = ts.handle().client().await.unwrap();
        let api = widgets(&client);
        for i in 0..5 {
            api.create(&PostParams::default(), &widget(&format!("a{i}"), i))
                .await
                .unwrap();
        }
        api.list(&ListParams::default())
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap()
    });
    ts.restart(vec![widget_crd()]);
    ts.rt.block_on(async {
        let client = ts.handle().client().await.unwrap();
        let api = widgets(&client);
        api.patch(
            "a1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 10}})),
        )
        .await
        .unwrap();
        api.create(&PostParams::default(), &widget("b0", 0))
            .await
            .unwrap();
        api.delete("a2", &Default::default()).await.unwrap();
        let mut stream = api
            .watch(&WatchParams::default(), &rv)
            .await
            .unwrap()
            .boxed();
        let mut got = Vec::new();
        while got.len() < 3 {
            match stream.try_next().await.unwrap() {
                Some(WatchEvent::Added(o)) => {
                    got.push(format!("ADDED {}", o.metadata.name.unwrap()))
                }
                Some(WatchEvent::Modified(o)) => {
                    got.push(format!("MODIFIED {}", o.metadata.name.unwrap()))
                }
                Some(WatchEvent::Deleted(o)) => {
                    got.push(format!("DELETED {}", o.metadata.name.unwrap()))
                }
                Some(WatchEvent::Bookmark(_)) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(got, ["MODIFIED a1", "ADDED b0", "DELETED a2"]);
    });
}

#[test]
fn streaming_list_watcher_sees_initial_state_then_changes() {
    let ts = TestServer::start(vec![widget_crd()]);
    ts.rt.block_on(async {
        let client = ts.handle().client().await.unwrap();
        let api = widgets(&client);
        for i in 0..3 {
            api.create(&PostParams::default(), &widget(&format!("s{i}"), i))
                .await
                .unwrap();
        }
        let mut w = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
        let mut initial = Vec::new();
        loop {
            match w.try_next().await.unwrap().unwrap() {
                watcher::Event::Init => {}
                watcher::Event::InitApply(o) => initial.push(o.metadata.name.unwrap()),
                watcher::Event::InitDone => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        initial.sort();
        assert_eq!(initial, ["s0", "s1", "s2"]);
        api.create(&PostParams::default(), &widget("s3", 3))
            .await
            .unwrap();
        match w.try_next().await.unwrap().unwrap() {
            watcher::Event::Apply(o) => assert_eq!(o.metadata.name.as_deref(), Some("s3")),
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn annotations_over_256_kib_are_invalid() {
    let ts = TestServer::start(vec![widget_crd()]);
    ts.rt.block_on(async {
        let client = ts.handle().client().await.unwrap();
        let api = widgets(&client);
        let limit = 256 * 1024;
        // Keys count too: "a" + value fills the limit exactly.
        let mut at_limit = widget("fits", 1);
        at_limit.metadata.annotations = Some(
            [("a".to_string(), "x".repeat(limit - 1))]
                .into_iter()
                .collect(),
        );
        api.create(&PostParams::default(), &at_limit).await.unwrap();
        let mut over = widget("big", 1);
        over.metadata.annotations = Some(
            [
                ("a".to_string(), "x".repeat(limit / 2)),
                ("b".to_string(), "y".repeat(limit / 2)),
            ]
            .into_iter()
            .collect(),
        );
        let s = status_of(api.create(&PostParams::default(), &over).await.unwrap_err());
        assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
        let causes = s.details.unwrap().causes;
        assert_eq!(causes[0].field, "metadata.annotations");
        assert!(
            causes[0].message.contains("262144"),
            "{}",
            causes[0].message
        );
        // An update that grows them past the limit is refused as well.
        let e = api
            .patch(
                "fits",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {"b": "z"}}})),
            )
            .await
            .unwrap_err();
        assert_eq!(status_of(e).code, 422);
    });
}

#[test]
fn a_watcher_that_falls_behind_catches_up_from_the_history() {
    let mut config = common::config(
        &tempfile::tempdir().unwrap().keep(),
        "127.0.0.1:0".parse().unwrap(),
        vec![widget_crd()],
    );
    // A live buffer of 16 events, and objects big enough (200 KiB) that the
    // socket cannot hold them all while the watcher reads nothing.
    config.store.watch_buffer = 16;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let h = ferry_apiserver::Server::start(config).await.unwrap();
        let client = h.client().await.unwrap();
        let api = widgets(&client);
        let start = api.list(&ListParams::default()).await.unwrap();
        let rv = start.metadata.resource_version.unwrap();
        let mut stream = api
            .watch(&WatchParams::default(), &rv)
            .await
            .unwrap()
            .boxed();
        let big = "x".repeat(200 * 1024);
        for i in 0..60 {
            let mut w = widget(&format!("w{i:02}"), i);
            w.metadata.annotations = Some([("big".to_string(), big.clone())].into());
            api.create(&PostParams::default(), &w).await.unwrap();
        }
        let mut got = Vec::new();
        while got.len() < 60 {
            match stream.try_next().await.unwrap() {
                Some(WatchEvent::Added(o)) => got.push(o.metadata.name.unwrap()),
                Some(WatchEvent::Bookmark(_)) => {}
                other => panic!("expected ADDED events only, got {other:?}"),
            }
        }
        let want: Vec<String> = (0..60).map(|i| format!("w{i:02}")).collect();
        assert_eq!(got, want, "every event, once, in order");
        h.shutdown().await;
    });
}
