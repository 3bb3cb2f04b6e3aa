//! `ferry operator --print-manifests`: the operator's manifests from
//! `deploy/operator/` (the same files `kubectl apply -k deploy/` uses) and
//! the CRDs, for a given image and namespace.
use anyhow::Context as _;
use serde_json::Value;

/// The operator manifests in apply order (the CRDs go after the Namespace).
const FILES: &[(&str, &str)] = &[
    (
        "namespace.yaml",
        include_str!("../../../../../deploy/operator/namespace.yaml"),
    ),
    (
        "serviceaccount.yaml",
        include_str!("../../../../../deploy/operator/serviceaccount.yaml"),
    ),
    (
        "clusterrole.yaml",
        include_str!("../../../../../deploy/operator/clusterrole.yaml"),
    ),
    (
        "clusterrolebinding.yaml",
        include_str!("../../../../../deploy/operator/clusterrolebinding.yaml"),
    ),
    (
        "role.yaml",
        include_str!("../../../../../deploy/operator/role.yaml"),
    ),
    (
        "rolebinding.yaml",
        include_str!("../../../../../deploy/operator/rolebinding.yaml"),
    ),
    (
        "deployment.yaml",
        include_str!("../../../../../deploy/operator/deployment.yaml"),
    ),
];

/// Kinds whose objects live in the operator's namespace.
const NAMESPACED: &[&str] = &["ServiceAccount", "Role", "RoleBinding", "Deployment"];

/// Point `obj` at `image` and `namespace`.
fn customise(obj: &mut Value, image: &str, namespace: &str) {
    let kind = obj["kind"].as_str().unwrap_or_default().to_owned();
    if kind == "Namespace" {
        obj["metadata"]["name"] = Value::from(namespace);
    }
    if NAMESPACED.contains(&kind.as_str()) {
        obj["metadata"]["namespace"] = Value::from(namespace);
    }
    if let Some(subjects) = obj.get_mut("subjects").and_then(Value::as_array_mut) {
        for s in subjects {
            if s["kind"] == "ServiceAccount" {
                s["namespace"] = Value::from(namespace);
            }
        }
    }
    if let Some(containers) = obj
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Value::as_array_mut)
    {
        for c in containers {
            c["image"] = Value::from(image);
            if let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) {
                for e in env {
                    if e["name"] == "FERRY_TRANSFER_IMAGE" {
                        e["value"] = Value::from(image);
                    }
                }
            }
        }
    }
}

/// The manifests as one multi-document YAML stream.
pub fn render(image: &str, namespace: &str) -> anyhow::Result<String> {
    if image.trim().is_empty() {
        anyhow::bail!(
            "--image is empty: name the operator's container image, e.g. <your-registry>/ferry:0.1"
        );
    }
    let mut docs = Vec::new();
    for (i, (file, text)) in FILES.iter().enumerate() {
        let mut obj: Value = serde_saphyr::from_str(text)
            .with_context(|| format!("deploy/operator/{file} is not valid YAML"))?;
        customise(&mut obj, image, namespace);
        docs.push(obj);
        if i == 0 {
            for crd in ferry_core::crds::all() {
                docs.push(serde_json::to_value(crd).context("cannot serialise a CRD")?);
            }
        }
    }
    let mut out = String::new();
    for doc in &docs {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(doc).context("cannot serialise a manifest")?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_use_the_given_image_and_namespace() {
        let text = render("images.test/ferry:1.2", "mtv-test").expect("render");
        let docs: Vec<Value> = text
            .split("\n---\n")
            .map(|d| serde_saphyr::from_str::<Value>(d.trim_start_matches("---\n")).expect("yaml"))
            .collect();
        let kinds: Vec<&str> = docs
            .iter()
            .map(|d| d["kind"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(kinds[0], "Namespace");
        assert_eq!(docs[0]["metadata"]["name"], "mtv-test");
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == "CustomResourceDefinition")
                .count(),
            ferry_core::crds::all().len()
        );
        for kind in [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment",
        ] {
            assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
        }
        for d in &docs {
            let kind = d["kind"].as_str().unwrap_or("");
            if NAMESPACED.contains(&kind) {
                assert_eq!(d["metadata"]["namespace"], "mtv-test", "{kind}");
            }
            if let Some(subjects) = d["subjects"].as_array() {
                assert!(subjects.iter().all(|s| s["namespace"] == "mtv-test"), "{d}");
            }
        }
        let deploy = docs
            .iter()
            .find(|d| d["kind"] == "Deployment")
            .expect("deployment");
        assert_eq!(
            deploy["spec"]["template"]["spec"]["containers"][0]["image"],
            "images.test/ferry:1.2"
        );
        assert!(render(" ", "x").is_err());
    }

    /// `kubectl apply -k deploy/` must install every CRD `ferry crds` makes.
    #[test]
    fn kustomization_lists_every_crd() {
        let text = include_str!("../../../../../deploy/kustomization.yaml");
        for crd in ferry_core::crds::all() {
            let file = format!("crds/{}", ferry_core::crds::file_name(&crd));
            assert!(
                text.contains(&file),
                "deploy/kustomization.yaml does not list {file}"
            );
        }
    }
}
