use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use super::*;
use crate::model::{Concern, ProviderInfo, Ref, Resource, Snapshot};

const TOKEN: &str = "s3cret-token";

fn info(uid: &str, name: &str, ptype: &str) -> ProviderInfo {
    ProviderInfo {
        uid: uid.into(),
        namespace: "konveyor-forklift".into(),
        name: name.into(),
        provider_type: ptype.into(),
        url: "nfs://server/ova".into(),
        resource_version: "42".into(),
        object: json!({"kind": "Provider", "metadata": {"name": name}}),
    }
}

/// An OVA provider `ova-1` with two VMs (one validated with a concern),
/// a disk, a network and the dummy storage.
fn ova_store() -> Arc<Store> {
    let store = Store::open_in_memory().unwrap();
    store.upsert_provider(&info("ova-1", "ova", "ova")).unwrap();
    let disk =
        json!({"id": "d1", "name": "web-disk1.vmdk", "capacity": 10, "format": "streamOptimized"});
    let mut s = Snapshot::new();
    s.push(
        "vms",
        Resource::new(
            "vm-web",
            "web",
            "VM",
            json!({"id": "vm-web", "name": "web", "cpuCount": 2, "firmware": "efi",
                   "disks": [disk], "networks": [{"id": "n1", "name": "VM Network"}],
                   "ovaPath": "/srv/ova/web.ova"}),
        ),
    );
    s.push(
        "vms",
        Resource::new(
            "vm-db",
            "db",
            "VM",
            json!({"id": "vm-db", "name": "db", "cpuCount": 1}),
        ),
    );
    s.push("disks", Resource::new("d1", "web-disk1.vmdk", "Disk", disk));
    s.push(
        "networks",
        Resource::new(
            "n1",
            "VM Network",
            "Network",
            json!({"id": "n1", "name": "VM Network"}),
        ),
    );
    s.push(
        "storages",
        Resource::new(
            "ova-1",
            "Dummy storage for source provider ova",
            "Storage",
            json!({}),
        ),
    );
    store.apply_snapshot("ova-1", &s).unwrap();
    let concern = Concern {
        id: "ova.name.invalid".into(),
        category: "Warning".into(),
        label: "Invalid VM Name".into(),
        assessment: "rename it".into(),
    };
    store
        .set_validation("ova-1", "vms", "vm-web", 1, 5, &[concern])
        .unwrap();
    Arc::new(store)
}

/// A vSphere-shaped provider: datacenter → folder → VM, VM on a host in a cluster.
fn vsphere_store(store: &Store) {
    store
        .upsert_provider(&info("vs-1", "vcenter", "vsphere"))
        .unwrap();
    let mut s = Snapshot::new();
    s.push(
        "datacenters",
        Resource::new("dc1", "DC1", "Datacenter", json!({})),
    );
    s.push(
        "folders",
        Resource::new("f1", "vm", "Folder", json!({}))
            .with_parent(Ref {
                kind: "Datacenter".into(),
                id: "dc1".into(),
            })
            .with_path("/DC1/vm"),
    );
    s.push(
        "clusters",
        Resource::new("c1", "Cluster1", "Cluster", json!({"datacenter": "dc1"})).with_parent(Ref {
            kind: "Datacenter".into(),
            id: "dc1".into(),
        }),
    );
    s.push(
        "hosts",
        Resource::new("h1", "esx1", "Host", json!({"cluster": "c1"})).with_parent(Ref {
            kind: "Cluster".into(),
            id: "c1".into(),
        }),
    );
    for (id, name) in [("vm-1", "alpha"), ("vm-2", "beta")] {
        s.push(
            "vms",
            Resource::new(
                id,
                name,
                "VM",
                json!({"host": "h1", "powerState": "poweredOn", "isTemplate": false}),
            )
            .with_parent(Ref {
                kind: "Folder".into(),
                id: "f1".into(),
            })
            .with_path(format!("/DC1/vm/{name}")),
        );
    }
    store.apply_snapshot("vs-1", &s).unwrap();
}

fn app(store: Arc<Store>) -> Router {
    router(ApiState {
        store,
        auth: Auth::Bearer(Arc::new(StaticToken::new(TOKEN))),
    })
}

async fn call(app: &Router, uri: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, headers, body)
}

async fn get_ok(app: &Router, uri: &str) -> Value {
    let (status, headers, body) = call(app, uri, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {headers:?} {body}");
    body
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_json() {
    let app = app(ova_store());
    for token in [None, Some("wrong"), Some("")] {
        let (status, headers, body) = call(&app, "/providers/ova/ova-1/vms", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(headers.get("www-authenticate").unwrap(), "Bearer");
        assert!(
            body["error"].as_str().unwrap().contains("token")
                || body["error"].as_str().unwrap().contains("Bearer")
        );
    }
    // A token that shares a prefix with the real one is refused too.
    let (status, _, _) = call(&app, "/providers", Some("s3cret")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    get_ok(&app, "/providers").await;
}

#[tokio::test]
async fn disabled_auth_serves_without_a_token() {
    let app = router(ApiState {
        store: ova_store(),
        auth: Auth::Disabled,
    });
    let (status, _, body) = call(&app, "/providers/ova", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn providers_are_grouped_by_type_with_counts_at_detail_one() {
    let store = ova_store();
    vsphere_store(&store);
    let app = app(store);

    let all = get_ok(&app, "/providers").await;
    assert_eq!(all["ova"].as_array().unwrap().len(), 1);
    assert_eq!(all["vsphere"].as_array().unwrap().len(), 1);
    assert_eq!(all["ovirt"], json!([]));
    assert_eq!(
        keys(&all["ova"][0]),
        ["id", "name", "namespace", "selfLink", "uid", "version"]
    );
    assert_eq!(all["ova"][0]["selfLink"], "providers/ova/ova-1");
    assert_eq!(all["ova"][0]["version"], "42");

    let list = get_ok(&app, "/providers/ova?detail=1").await;
    let p = &list[0];
    assert_eq!(p["type"], "ova");
    assert_eq!(p["object"]["kind"], "Provider");
    assert_eq!(
        (
            p["vmCount"].as_i64(),
            p["diskCount"].as_i64(),
            p["networkCount"].as_i64(),
            p["storageCount"].as_i64()
        ),
        (Some(2), Some(1), Some(1), Some(1))
    );

    let one = get_ok(&app, "/providers/ova/ova-1").await;
    assert_eq!(one, *p, "a single provider is served at full detail");
    assert_eq!(get_ok(&app, "/providers/ova/ova-1/").await, one);
    assert_eq!(
        get_ok(&app, "/providers/ova/").await,
        get_ok(&app, "/providers/ova").await
    );
    let vs = get_ok(&app, "/providers/vsphere/vs-1").await;
    assert_eq!(
        (vs["hostCount"].as_i64(), vs["vmCount"].as_i64()),
        (Some(1), Some(2))
    );

    let none = get_ok(&app, "/providers/ova?namespace=other").await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn vm_json_shape_per_detail_level() {
    let app = app(ova_store());
    let d0 = get_ok(&app, "/providers/ova/ova-1/vms").await;
    let names: Vec<_> = d0
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["db", "web"]);
    let web = &d0[1];
    assert_eq!(keys(web), ["id", "name", "revision", "selfLink"]);
    assert_eq!(web["selfLink"], "providers/ova/ova-1/vms/vm-web");
    assert_eq!(web["revision"], 1);

    let d1 = get_ok(&app, "/providers/ova/ova-1/vms?detail=1").await;
    let web = &d1[1];
    assert_eq!(
        keys(web),
        [
            "concerns",
            "disks",
            "id",
            "name",
            "networks",
            "revision",
            "revisionValidated",
            "selfLink"
        ]
    );
    assert_eq!(web["revisionValidated"], 1);
    assert_eq!(web["concerns"][0]["id"], "ova.name.invalid");
    assert_eq!(web["concerns"][0]["category"], "Warning");
    assert_eq!(web["disks"][0]["id"], "d1");
    assert!(web.get("cpuCount").is_none());
    assert_eq!(d1[0]["concerns"], json!([]));
    assert_eq!(d1[0]["revisionValidated"], 0);

    for uri in [
        "/providers/ova/ova-1/vms?detail=all",
        "/providers/ova/ova-1/vms?detail=4",
    ] {
        let full = get_ok(&app, uri).await;
        let web = &full[1];
        assert_eq!(web["cpuCount"], 2);
        assert_eq!(web["firmware"], "efi");
        assert_eq!(web["ovaPath"], "/srv/ova/web.ova");
        assert_eq!(web["policyVersion"], 5);
        assert_eq!(web["selfLink"], "providers/ova/ova-1/vms/vm-web");
        assert_eq!(web["concerns"].as_array().unwrap().len(), 1);
    }

    let one = get_ok(&app, "/providers/ova/ova-1/vms/vm-web").await;
    assert_eq!(
        one,
        get_ok(&app, "/providers/ova/ova-1/vms?detail=all").await[1]
    );
}

#[tokio::test]
async fn other_collections_disks_networks_storages_workloads() {
    let app = app(ova_store());
    let disks = get_ok(&app, "/providers/ova/ova-1/disks").await;
    assert_eq!(keys(&disks[0]), ["id", "name", "revision", "selfLink"]);
    let disks = get_ok(&app, "/providers/ova/ova-1/disks?detail=1").await;
    assert_eq!(disks[0]["format"], "streamOptimized");
    assert!(disks[0].get("concerns").is_none());
    let disk = get_ok(&app, "/providers/ova/ova-1/disks/d1").await;
    assert_eq!(disk["capacity"], 10);
    assert_eq!(disk["selfLink"], "providers/ova/ova-1/disks/d1");

    let storages = get_ok(&app, "/providers/ova/ova-1/storages").await;
    assert_eq!(storages[0]["name"], "Dummy storage for source provider ova");
    assert_eq!(storages[0]["id"], "ova-1");
    let nets = get_ok(&app, "/providers/ova/ova-1/networks/").await;
    assert_eq!(nets[0]["name"], "VM Network");

    let w = get_ok(&app, "/providers/ova/ova-1/workloads/vm-web").await;
    assert_eq!(w["selfLink"], "providers/ova/ova-1/workloads/vm-web");
    assert_eq!(w["cpuCount"], 2);
    assert_eq!(w["concerns"][0]["id"], "ova.name.invalid");
    // Ids are opaque: slashes and escapes reach the store unchanged.
    let (status, headers, _) = call(&app, "/providers/ova/ova-1/vms/a%2F..%2Fb", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        headers.get(REASON_HEADER).unwrap(),
        "vms 'a/../b' not found in provider ova-1"
    );
    let ws = get_ok(&app, "/providers/ova/ova-1/workloads").await;
    assert_eq!(ws.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn not_found_carries_x_reason() {
    let app = app(ova_store());
    let cases = [
        ("/providers/nope", "unknown provider type 'nope'"),
        (
            "/providers/ova/missing-uid/vms",
            "no ova provider with uid 'missing-uid'",
        ),
        (
            "/providers/vsphere/ova-1",
            "no vsphere provider with uid 'ova-1'",
        ),
        (
            "/providers/ova/ova-1/hosts",
            "provider type 'ova' has no collection 'hosts'",
        ),
        (
            "/providers/ova/ova-1/tree/host",
            "provider type 'ova' has no tree 'host'",
        ),
        (
            "/providers/ova/ova-1/vms/vm-nope",
            "vms 'vm-nope' not found in provider ova-1",
        ),
    ];
    for (uri, reason) in cases {
        let (status, headers, body) = call(&app, uri, Some(TOKEN)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(headers.get(REASON_HEADER).unwrap(), reason, "{uri}");
        assert_eq!(body["error"], reason);
    }
}

#[tokio::test]
async fn bad_queries_and_watches_are_refused_with_a_reason() {
    let app = app(ova_store());
    let (status, headers, _) =
        call(&app, "/providers/ova/ova-1/vms?detail=lots", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        headers
            .get(REASON_HEADER)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("detail='lots'")
    );

    let req = Request::get("/providers/ova/ova-1/vms")
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("X-Watch", "snapshot")
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    assert!(
        resp.headers()
            .get(REASON_HEADER)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("watches")
    );
}

#[tokio::test]
async fn name_filter_and_paging() {
    let store = ova_store();
    vsphere_store(&store);
    let app = app(store);
    let web = get_ok(&app, "/providers/ova/ova-1/vms?name=web").await;
    assert_eq!(web.as_array().unwrap().len(), 1);
    assert_eq!(web[0]["id"], "vm-web");
    assert_eq!(
        get_ok(&app, "/providers/ova/ova-1/vms?name=nothing").await,
        json!([])
    );

    let by_path = get_ok(&app, "/providers/vsphere/vs-1/vms?name=/DC1/vm/beta").await;
    assert_eq!(by_path.as_array().unwrap().len(), 1);
    assert_eq!(by_path[0]["path"], "/DC1/vm/beta");
    assert_eq!(by_path[0]["parent"], json!({"kind": "Folder", "id": "f1"}));

    let page = get_ok(&app, "/providers/vsphere/vs-1/vms?limit=1&offset=1").await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["name"], "beta");
}

#[tokio::test]
async fn ova_tree_lists_vms_under_an_empty_root() {
    let app = app(ova_store());
    let tree = get_ok(&app, "/providers/ova/ova-1/tree/vm").await;
    assert_eq!(tree["kind"], "");
    assert_eq!(tree["object"], Value::Null);
    let children = tree["children"].as_array().unwrap();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0]["kind"], "VM");
    assert_eq!(children[0]["object"]["name"], "db");
    assert_eq!(children[0]["children"], Value::Null);
    let tree1 = get_ok(&app, "/providers/ova/ova-1/tree/vm?detail=1").await;
    assert!(tree1["children"][1]["object"]["concerns"].is_array());
}

#[tokio::test]
async fn vsphere_trees_and_workload_expansion_work_from_data_alone() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    vsphere_store(&store);
    let app = app(store);

    let tree = get_ok(&app, "/providers/vsphere/vs-1/tree/vm").await;
    let dcs = tree["children"].as_array().unwrap();
    assert_eq!(dcs.len(), 1);
    assert_eq!(dcs[0]["kind"], "Datacenter");
    let folder = &dcs[0]["children"][0];
    assert_eq!(folder["kind"], "Folder");
    assert_eq!(folder["object"]["path"], "/DC1/vm");
    let vms: Vec<_> = folder["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["object"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(vms, ["alpha", "beta"]);

    let tree = get_ok(&app, "/providers/vsphere/vs-1/tree/host?detail=1").await;
    let host = &tree["children"][0]["children"][0]["children"][0];
    assert_eq!(tree["children"][0]["kind"], "Datacenter");
    assert_eq!(host["kind"], "Host");
    assert_eq!(host["children"].as_array().unwrap().len(), 2);
    assert_eq!(host["children"][0]["object"]["powerState"], "poweredOn");

    let w = get_ok(&app, "/providers/vsphere/vs-1/workloads/vm-1").await;
    assert_eq!(w["host"]["id"], "h1");
    assert_eq!(w["host"]["cluster"]["id"], "c1");
    assert_eq!(w["host"]["cluster"]["datacenter"]["name"], "DC1");
}
