//! OpenAPI documents built from the registry: v3 per group/version (what
//! `kubectl explain` and kubectl's field-validation check read) and v2.

use axum::body::Body;
use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::json_response;
use crate::error::ApiError;
use crate::registry::{Registry, Resource};
use crate::state::State;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// `forklift.konveyor.io` → `io.konveyor.forklift`; core → `io.k8s.api.core`.
fn group_prefix(group: &str) -> String {
    match group {
        "" => "io.k8s.api.core".into(),
        "coordination.k8s.io" => "io.k8s.api.coordination".into(),
        "events.k8s.io" => "io.k8s.api.events".into(),
        "apiextensions.k8s.io" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".into(),
        g => g.split('.').rev().collect::<Vec<_>>().join("."),
    }
}

fn schema_name(r: &Resource) -> String {
    format!("{}.{}.{}", group_prefix(&r.group), r.version, r.kind)
}

fn gvk(r: &Resource) -> Value {
    json!([{"group": r.group, "version": r.version, "kind": r.kind}])
}

fn object_meta_schema() -> Value {
    let s = |d: &str| json!({"type": "string", "description": d});
    let map = |d: &str| json!({"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": d});
    json!({
        "type": "object",
        "description": "Metadata every persisted object has: name, namespace, labels, annotations, versioning and ownership.",
        "properties": {
            "name": s("Name of the object, unique within its namespace and kind."),
            "generateName": s("Prefix the server completes with a random suffix when name is empty."),
            "namespace": s("Namespace of the object (empty for cluster-scoped kinds)."),
            "uid": s("Unique identifier set by the server."),
            "resourceVersion": s("Opaque version of the object, used for optimistic concurrency and watches."),
            "generation": {"type": "integer", "format": "int64", "description": "Sequence number of spec changes, set by the server."},
            "creationTimestamp": {"type": "string", "format": "date-time", "description": "When the object was created."},
            "deletionTimestamp": {"type": "string", "format": "date-time", "description": "When deletion was requested; the object goes once its finalizers are removed."},
            "deletionGracePeriodSeconds": {"type": "integer", "format": "int64", "description": "Seconds allowed for graceful deletion."},
            "labels": map("Labels for selecting objects."),
            "annotations": map("Unstructured key/value data for tools."),
            "finalizers": {"type": "array", "items": {"type": "string", "default": ""}, "description": "Finalizers that must be removed before the object is deleted.", "x-kubernetes-list-type": "set"},
            "ownerReferences": {"type": "array", "description": "Objects this object depends on.", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
            "managedFields": {"type": "array", "description": "Field ownership per manager, maintained by the server.", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
        }
    })
}

/// Rewrite `$ref`s to components for v2 (`#/definitions/`).
fn retarget_refs(v: &mut Value, to: &str) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(name) = r.rsplit('/').next()
            {
                *r = format!("{to}{name}");
            }
            for child in m.values_mut() {
                retarget_refs(child, to);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| retarget_refs(x, to)),
        _ => {}
    }
}

fn resource_schema(r: &Resource) -> Value {
    let mut s = match &r.schema {
        Some(s) => (**s).clone(),
        None => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "description": format!("{} ({} is built in; its fields are not validated by this server).", r.kind, r.api_version())}),
    };
    if let Some(o) = s.as_object_mut() {
        let props = o.entry("properties").or_insert_with(|| json!({}));
        if let Some(p) = props.as_object_mut() {
            p.insert("apiVersion".into(), json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}));
            p.insert("kind".into(), json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}));
            p.insert("metadata".into(), json!({"allOf": [{"$ref": format!("#/components/schemas/{OBJECT_META}")}], "description": "Standard object's metadata."}));
        }
        o.insert("x-kubernetes-group-version-kind".into(), gvk(r));
    }
    s
}

fn list_schema(r: &Resource) -> Value {
    json!({
        "type": "object",
        "description": format!("A list of {}.", r.kind),
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{}", schema_name(r))}}
        },
        "x-kubernetes-group-version-kind": [{"group": r.group, "version": r.version, "kind": r.list_kind}]
    })
}

fn param(name: &str, in_: &str, ty: &str) -> Value {
    json!({"name": name, "in": in_, "schema": {"type": ty}, "required": in_ == "path", "uniqueItems": true})
}

fn op(r: &Resource, action: &str, params: Vec<Value>, schema_ref: &str) -> Value {
    json!({
        "operationId": format!("{action}{}", r.kind),
        "description": format!("{action} {}", r.kind),
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": schema_ref}}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind}
    })
}

fn paths_for(r: &Resource, paths: &mut Map<String, Value>) {
    let base = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    let prefix = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("{base}/{}", r.plural)
    };
    let obj_ref = format!("#/components/schemas/{}", schema_name(r));
    let list_ref = format!("#/components/schemas/{}List", schema_name(r));
    let mut common = vec![param("name", "path", "string")];
    if r.namespaced {
        common.push(param("namespace", "path", "string"));
    }
    let write_params = |mut v: Vec<Value>| {
        v.push(param("dryRun", "query", "string"));
        v.push(param("fieldManager", "query", "string"));
        v.push(param("fieldValidation", "query", "string"));
        v
    };
    let mut patch_params = write_params(common.clone());
    patch_params.push(param("force", "query", "boolean"));
    paths.insert(
        format!("{prefix}/{{name}}"),
        json!({
            "get": op(r, "get", common.clone(), &obj_ref),
            "put": op(r, "put", write_params(common.clone()), &obj_ref),
            "patch": op(r, "patch", patch_params.clone(), &obj_ref),
            "delete": op(r, "delete", common.clone(), &obj_ref),
        }),
    );
    let ns_params: Vec<Value> = if r.namespaced {
        vec![param("namespace", "path", "string")]
    } else {
        vec![]
    };
    paths.insert(
        prefix.clone(),
        json!({
            "get": op(r, "list", ns_params.clone(), &list_ref),
            "post": op(r, "post", write_params(ns_params.clone()), &obj_ref),
            "delete": op(r, "deletecollection", ns_params, &list_ref),
        }),
    );
    if r.status_subresource {
        paths.insert(
            format!("{prefix}/{{name}}/status"),
            json!({
                "get": op(r, "get", common.clone(), &obj_ref),
                "put": op(r, "put", write_params(common.clone()), &obj_ref),
                "patch": op(r, "patch", patch_params, &obj_ref),
            }),
        );
    }
}

fn v3_doc(reg: &Registry, g: &str, v: &str) -> Option<Value> {
    let resources = reg.resources(g, v);
    if resources.is_empty() {
        return None;
    }
    let mut schemas = Map::new();
    let mut paths = Map::new();
    schemas.insert(OBJECT_META.into(), object_meta_schema());
    for r in &resources {
        schemas.insert(schema_name(r), resource_schema(r));
        schemas.insert(format!("{}List", schema_name(r)), list_schema(r));
        paths_for(r, &mut paths);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "ferry embedded API", "version": v},
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}

fn hash_of(v: &Value) -> String {
    // FNV-1a: enough to change the URL when the document changes (clients cache by URL).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016X}")
}

pub fn v3_index(state: &State) -> Response<Body> {
    let reg = state.registry();
    let mut paths = Map::new();
    for (g, versions) in reg.groups() {
        for v in versions {
            let key = if g.is_empty() {
                format!("api/{v}")
            } else {
                format!("apis/{g}/{v}")
            };
            if let Some(doc) = v3_doc(&reg, g, v) {
                paths.insert(key.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={}", hash_of(&doc))}));
            }
        }
    }
    json_response(StatusCode::OK, &json!({"paths": paths}))
}

pub fn v3_group(state: &State, g: &str, v: &str) -> Result<Response<Body>, ApiError> {
    let reg = state.registry();
    let doc =
        v3_doc(&reg, g, v).ok_or_else(|| ApiError::no_route(&format!("/openapi/v3/{g}/{v}")))?;
    Ok(json_response(StatusCode::OK, &doc))
}

/// Can a client with this `Accept` header read JSON? An empty header, any
/// JSON type and the wildcards can; a list of only protobuf types (what
/// kubectl asks `/openapi/v2` for) cannot.
pub fn accepts_json(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|range| {
            let media = range.split(';').next().unwrap_or_default().trim();
            let media = media.to_ascii_lowercase();
            matches!(media.as_str(), "*/*" | "application/*" | "application/json")
                || media.ends_with("+json")
        })
}

/// The protobuf media type of `/openapi/v2` (gnostic's `openapi_v2.Document`).
const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// `/openapi/v2`: JSON for clients that accept it. A client that accepts
/// only protobuf (kubectl) gets a protobuf Document with no definitions: it
/// parses, kubectl finds no v2 schema for a kind and goes on (validating
/// through `/openapi/v3`, and answering "no matches for kind" for kinds the
/// server does not serve) instead of failing on JSON it cannot parse.
pub fn v2(state: &State, accept: &str) -> Result<Response<Body>, ApiError> {
    if accepts_json(accept) {
        return Ok(v2_json(state));
    }
    if !accept.contains("protobuf") {
        return Err(ApiError::not_acceptable(format!(
            "/openapi/v2 is served as application/json or {V2_PROTOBUF}, not {accept}"
        )));
    }
    let mut r = Response::new(Body::from(v2_protobuf_stub()));
    // Answered with a dot for the `@` (Go's mime parser refuses the `@`).
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
        ),
    );
    Ok(r)
}

/// `Document { swagger: "2.0", info: Info { title, version } }` in protobuf
/// wire format (field 1 and 2 of each message, length-delimited strings).
fn v2_protobuf_stub() -> Vec<u8> {
    fn field(out: &mut Vec<u8>, number: u8, bytes: &[u8]) {
        out.push((number << 3) | 2);
        out.push(u8::try_from(bytes.len()).unwrap_or(0));
        out.extend_from_slice(bytes);
    }
    let mut info = Vec::new();
    field(&mut info, 1, b"ferry embedded API");
    field(&mut info, 2, b"v1");
    let mut doc = Vec::new();
    field(&mut doc, 1, b"2.0");
    field(&mut doc, 2, &info);
    doc
}

fn v2_json(state: &State) -> Response<Body> {
    let reg = state.registry();
    let mut defs = Map::new();
    let mut paths = Map::new();
    defs.insert(OBJECT_META.into(), object_meta_schema());
    for r in reg.all() {
        defs.insert(schema_name(r), resource_schema(r));
        defs.insert(format!("{}List", schema_name(r)), list_schema(r));
        paths_for(r, &mut paths);
    }
    let mut doc = json!({
        "swagger": "2.0",
        "info": {"title": "ferry embedded API", "version": "v1"},
        "paths": paths,
        "definitions": defs
    });
    retarget_refs(&mut doc, "#/definitions/");
    // v2 parameters carry `type` directly, not a `schema`.
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                if let Some(Value::Array(params)) = op.get_mut("parameters") {
                    for p in params.iter_mut().filter_map(Value::as_object_mut) {
                        if let Some(t) = p.remove("schema").and_then(|s| s.get("type").cloned()) {
                            p.insert("type".into(), t);
                        }
                    }
                }
                if let Some(resp) = op
                    .get_mut("responses")
                    .and_then(|r| r.get_mut("200"))
                    .and_then(Value::as_object_mut)
                    && let Some(schema) = resp.remove("content").and_then(|c| {
                        c.get("application/json")
                            .and_then(|j| j.get("schema"))
                            .cloned()
                    })
                {
                    resp.insert("schema".into(), schema);
                }
            }
        }
    }
    json_response(StatusCode::OK, &doc)
}

#[cfg(test)]
mod tests {
    use super::accepts_json;

    #[test]
    fn protobuf_stub_is_a_document_with_swagger_and_info() {
        let b = super::v2_protobuf_stub();
        assert_eq!(&b[..5], b"\x0a\x032.0");
        assert_eq!(b[5], 0x12);
        assert_eq!(usize::from(b[6]), b.len() - 7);
    }

    #[test]
    fn protobuf_only_accept_is_not_json() {
        assert!(!accepts_json(
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        ));
        assert!(!accepts_json("application/vnd.kubernetes.protobuf"));
        for ok in [
            "",
            "application/json",
            "application/json, */*",
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json;q=0.9",
            "*/*",
            "application/merge-patch+json",
        ] {
            assert!(accepts_json(ok), "{ok}");
        }
    }
}
