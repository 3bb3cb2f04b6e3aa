//! Discovery documents: `/api`, `/apis`, group and resource lists, `/version`.
//! Only the legacy (unaggregated) form is served: kubectl and kube-rs fall
//! back to it when the aggregated form is not offered.

use axum::body::Body;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::json_response;
use crate::error::ApiError;
use crate::state::State;

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": concat!("v1.32.0-ferry.", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "",
        "goVersion": "",
        "compiler": "rustc",
        "platform": "linux/amd64"
    })
}

pub fn core_versions(_state: &State, _accept: &str) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}),
    )
}

fn group_json(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    let preferred = vs.first().cloned().unwrap_or(Value::Null);
    json!({"name": name, "versions": vs, "preferredVersion": preferred})
}

pub fn groups(state: &State, _accept: &str) -> Response<Body> {
    let reg = state.registry();
    let groups: Vec<Value> = reg
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
    )
}

pub fn group(state: &State, g: &str) -> Result<Response<Body>, ApiError> {
    let reg = state.registry();
    let (name, vs) = reg
        .groups()
        .iter()
        .find(|(name, _)| name == g)
        .ok_or_else(|| ApiError::no_route(&format!("/apis/{g}")))?;
    let mut v = group_json(name, vs);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Ok(json_response(StatusCode::OK, &v))
}

pub fn resource_list(state: &State, g: &str, v: &str) -> Result<Response<Body>, ApiError> {
    let reg = state.registry();
    if !reg.has_group_version(g, v) {
        let p = if g.is_empty() {
            format!("/api/{v}")
        } else {
            format!("/apis/{g}/{v}")
        };
        return Err(ApiError::no_route(&p));
    }
    let mut resources = Vec::new();
    for r in reg.resources(g, v) {
        let mut e = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs(),
        });
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        resources.push(e);
        if r.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if g.is_empty() {
        v.to_string()
    } else {
        format!("{g}/{v}")
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    ))
}
