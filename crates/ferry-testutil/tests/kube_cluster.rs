//! The real control plane of `ferry_testutil::kube_cluster`: RBAC is on,
//! ferry's and KubeVirt's/CDI's CRDs are installed and the server validates
//! objects against their schemas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ferry_testutil::kube_cluster;

const VM_OK: &str = r#"
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: vm-ok
  namespace: default
spec:
  runStrategy: Halted
  template:
    spec:
      domain:
        cpu: {cores: 2}
        memory: {guest: 1Gi}
        devices:
          disks:
          - name: disk0
            disk: {bus: virtio}
          interfaces:
          - name: net0
            masquerade: {}
            macAddress: "02:00:00:00:00:01"
      networks:
      - name: net0
        pod: {}
      volumes:
      - name: disk0
        persistentVolumeClaim: {claimName: vm-ok-disk0}
"#;

#[test]
fn real_apiserver_validates_kubevirt_and_forklift_objects_with_rbac_on() {
    let Some(cluster) = kube_cluster() else {
        return;
    };
    // Arrange/Act: the installed CRDs are served.
    let resources = cluster.kubectl(&["api-resources", "-o", "name"]);
    for r in [
        "virtualmachines.kubevirt.io",
        "datavolumes.cdi.kubevirt.io",
        "storageprofiles.cdi.kubevirt.io",
        "plans.forklift.konveyor.io",
        "providers.forklift.konveyor.io",
        "forkliftcontrollers.forklift.konveyor.io",
    ] {
        assert!(
            resources.lines().any(|l| l == r),
            "{r} not served:\n{resources}"
        );
    }

    // A valid VirtualMachine is stored.
    cluster.apply(VM_OK);
    let strategy = cluster.kubectl(&[
        "get",
        "virtualmachines",
        "vm-ok",
        "-n",
        "default",
        "-o",
        "jsonpath={.spec.runStrategy}",
    ]);
    assert_eq!(strategy, "Halted");

    // The KubeVirt schema rejects a wrongly typed field and an unknown one,
    // naming them.
    let bad = VM_OK
        .replace("vm-ok", "vm-bad")
        .replace("cores: 2", "cores: two");
    let out = cluster.apply_output(&bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an invalid VM was accepted");
    assert!(err.contains("spec.template.spec.domain.cpu.cores"), "{err}");
    let out = cluster.apply_output(
        &VM_OK
            .replace("vm-ok", "vm-bad")
            .replace("domain:", "notADomain:"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a VM with an unknown field was accepted"
    );
    assert!(err.contains("spec.template.spec.notADomain"), "{err}");

    // The CDI schema rejects a DataVolume with a wrongly typed field.
    let out = cluster.apply_output(
        "apiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\nmetadata: {name: dv-bad, namespace: default}\nspec:\n  source: {blank: {}}\n  storage: {resources: {requests: {storage: 1Gi}}, accessModes: ReadWriteOnce}\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an invalid DataVolume was accepted");
    assert!(err.contains("accessModes"), "{err}");

    // ferry's CRDs validate Forklift enums.
    let out = cluster.apply_output(
        "apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\nmetadata: {name: p, namespace: default}\nspec: {type: notaprovider}\n",
    );
    assert!(
        !out.status.success(),
        "a Provider of an unknown type was accepted"
    );

    // RBAC: a ServiceAccount without bindings may not read VMs; after a
    // RoleBinding to a Role that allows `get`, it may.
    cluster.kubectl(&["create", "serviceaccount", "reader", "-n", "default"]);
    let token = cluster.service_account_token("default", "reader");
    let kubeconfig = cluster.kubeconfig_for("reader", &token);
    let as_reader = |args: &[&str]| cluster.kubectl_as(&kubeconfig, args);
    let out = as_reader(&["get", "virtualmachines", "vm-ok", "-n", "default"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("forbidden"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cluster.kubectl(&[
        "create",
        "role",
        "vm-reader",
        "-n",
        "default",
        "--verb=get",
        "--resource=virtualmachines.kubevirt.io",
    ]);
    cluster.kubectl(&[
        "create",
        "rolebinding",
        "vm-reader",
        "-n",
        "default",
        "--role=vm-reader",
        "--serviceaccount=default:reader",
    ]);
    let out = as_reader(&[
        "get",
        "virtualmachines",
        "vm-ok",
        "-n",
        "default",
        "-o",
        "name",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "virtualmachine.kubevirt.io/vm-ok"
    );
    let out = as_reader(&["delete", "virtualmachines", "vm-ok", "-n", "default"]);
    assert!(
        !out.status.success(),
        "delete was not granted but succeeded"
    );
}

/// kube-controller-manager runs: ownerReferences are garbage-collected,
/// namespaces are deleted, deleted PVCs go away.
#[test]
fn controller_manager_collects_garbage_and_deletes_namespaces() {
    let Some(cluster) = kube_cluster() else {
        return;
    };
    let wait = |what: &str, mut cond: Box<dyn FnMut() -> bool + '_>| {
        let start = std::time::Instant::now();
        while !cond() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(90),
                "never saw: {what}\n{}",
                cluster.logs()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    cluster.kubectl(&["create", "namespace", "gc"]);
    cluster.kubectl(&["create", "configmap", "owner", "-n", "gc"]);
    let uid = cluster.kubectl(&[
        "get",
        "configmap",
        "owner",
        "-n",
        "gc",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    cluster.apply(&format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dependent\n  namespace: gc\n  ownerReferences:\n  - {{apiVersion: v1, kind: ConfigMap, name: owner, uid: {uid}}}\n"
    ));
    cluster.apply("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: claim, namespace: gc}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n");
    cluster.kubectl(&["delete", "configmap", "owner", "-n", "gc"]);
    let exists = |kind: &str, name: &str, ns: &str| {
        cluster
            .kubectl_output(&["get", kind, name, "-n", ns, "-o", "name"])
            .status
            .success()
    };
    wait(
        "the dependent ConfigMap collected",
        Box::new(|| !exists("configmap", "dependent", "gc")),
    );
    cluster.kubectl(&["delete", "pvc", "claim", "-n", "gc", "--wait=false"]);
    wait(
        "the PVC deleted",
        Box::new(|| !exists("pvc", "claim", "gc")),
    );
    cluster.kubectl(&["delete", "namespace", "gc", "--wait=false"]);
    wait(
        "the namespace deleted",
        Box::new(|| {
            !cluster
                .kubectl_output(&["get", "namespace", "gc", "-o", "name"])
                .status
                .success()
        }),
    );
}
