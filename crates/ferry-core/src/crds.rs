//! The CustomResourceDefinitions of every forklift.konveyor.io kind ferry
//! serves, generated from the typed models (`ferry crds` prints them; the
//! files in `deploy/crds/` are checked against them in CI).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use kube::CustomResourceExt;

use crate::api;

/// Every CRD, in [`api::KINDS`] order.
pub fn all() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![
        api::Provider::crd(),
        api::Host::crd(),
        api::NetworkMap::crd(),
        api::StorageMap::crd(),
        api::Hook::crd(),
        api::Plan::crd(),
        api::Migration::crd(),
        api::ForkliftController::crd(),
        api::Conversion::crd(),
        api::OvirtVolumePopulator::crd(),
        api::OpenstackVolumePopulator::crd(),
        api::VSphereXcopyVolumePopulator::crd(),
        api::OVAProviderServer::crd(),
        api::HyperVProviderServer::crd(),
    ];
    for crd in &mut crds {
        accept_missing_spec(crd);
        declare_root_fields(crd);
        crd.spec.names.list_kind = Some(format!("{}List", crd.spec.names.kind));
        if api::WITHOUT_STATUS_SUBRESOURCE.contains(&crd.spec.names.kind.as_str()) {
            for version in &mut crd.spec.versions {
                version.subresources = None;
            }
        }
        for_each_schema(crd, drop_nullable);
    }
    crds
}

fn for_each_schema(crd: &mut CustomResourceDefinition, f: fn(&mut JSONSchemaProps)) {
    for version in &mut crd.spec.versions {
        if let Some(root) = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            f(root);
        }
    }
}

/// Declare `apiVersion`, `kind` and `metadata` at the root, as Forklift's
/// (controller-gen's) CRDs do.
fn declare_root_fields(crd: &mut CustomResourceDefinition) {
    for_each_schema(crd, |root| {
        let props = root.properties.get_or_insert_with(Default::default);
        for (name, type_) in [
            ("apiVersion", "string"),
            ("kind", "string"),
            ("metadata", "object"),
        ] {
            props
                .entry(name.to_owned())
                .or_insert_with(|| JSONSchemaProps {
                    type_: Some(type_.to_owned()),
                    ..JSONSchemaProps::default()
                });
        }
    });
}

/// kube-derive marks every `Option` `nullable: true` (and lists `null` among
/// an optional enum's values); Forklift's CRDs mark nothing nullable (the
/// API server drops a null it cannot store).
fn drop_nullable(s: &mut JSONSchemaProps) {
    s.nullable = None;
    // schemars lists `null` among the values of an optional enum.
    if let Some(values) = s.enum_.as_mut() {
        values.retain(|v| !v.0.is_null());
    }
    for child in s.properties.iter_mut().flat_map(|p| p.values_mut()) {
        drop_nullable(child);
    }
    if let Some(JSONSchemaPropsOrArray::Schema(items)) = s.items.as_mut() {
        drop_nullable(items);
    }
    if let Some(JSONSchemaPropsOrArray::Schemas(items)) = s.items.as_mut() {
        items.iter_mut().for_each(drop_nullable);
    }
    if let Some(JSONSchemaPropsOrBool::Schema(a)) = s.additional_properties.as_mut() {
        drop_nullable(a);
    }
    for list in [&mut s.all_of, &mut s.any_of, &mut s.one_of] {
        list.iter_mut().flatten().for_each(drop_nullable);
    }
}

/// kube-derive marks `spec` required at the root; Forklift's CRDs do not, so
/// an object without `spec` (e.g. a bare ForkliftController) is accepted by
/// the API server and reported by `ferry validate` instead.
fn accept_missing_spec(crd: &mut CustomResourceDefinition) {
    for version in &mut crd.spec.versions {
        let root = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut());
        if let Some(root) = root
            && let Some(req) = root.required.as_mut()
        {
            req.retain(|r| r != "spec");
            if req.is_empty() {
                root.required = None;
            }
        }
    }
}

/// The CRD of `kind` (e.g. `Plan`), if ferry serves it.
pub fn for_kind(kind: &str) -> Option<CustomResourceDefinition> {
    all().into_iter().find(|c| c.spec.names.kind == kind)
}

/// The file name Forklift uses for a CRD: `<group>_<plural>.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}
