//! The SOAP client against the govmomi vSphere simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ferry_testutil::{Vcsim, vcsim};
use ferry_vsphere::{
    Client, ClientOptions, ErrorKind, FilterSpec, MoRef, PowerState, Secret, SnapshotOptions,
    TlsOptions, UpdateKind,
};

fn options(sim: &Vcsim) -> ClientOptions {
    let mut o = ClientOptions::new(
        sim.info.url.clone(),
        sim.info.username.clone(),
        Secret::new(sim.info.password.clone()),
    );
    o.tls = TlsOptions {
        cacert_pem: Some(sim.info.cert_pem.clone()),
        ..TlsOptions::default()
    };
    o.connect_timeout = Duration::from_secs(5);
    o
}

fn assert_no_secret(sim: &Vcsim, e: &ferry_vsphere::Error) {
    let mut text = format!("{e} {e:?}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text.push_str(&format!(" {s} {s:?}"));
        src = s.source();
    }
    assert!(
        !text.contains(&sim.info.password),
        "the password leaks in: {text}"
    );
    assert!(
        !text.contains("vmware_soap_session"),
        "a cookie leaks in: {text}"
    );
}

async fn vms(client: &Client) -> Vec<(MoRef, String)> {
    let mut out: Vec<(MoRef, String)> = client
        .retrieve_all(&[("VirtualMachine", &["name"])])
        .await
        .unwrap()
        .into_iter()
        .map(|o| {
            let name = o.text("name").unwrap().to_string();
            (o.obj, name)
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn login_with_cacert_reads_service_content_and_thumbprint() {
    let Some(sim) = vcsim() else { return };
    let client = Client::connect(&options(&sim)).await.unwrap();
    let sc = client.service_content();
    assert_eq!(sc.api_type, "VirtualCenter");
    assert_eq!(sc.root_folder.kind, "Folder");
    assert_eq!(
        client.thumbprint().as_deref(),
        Some(sim.info.thumbprint.as_str())
    );
    assert!(!client.current_time().await.unwrap().is_empty());
    client.keep_alive().await.unwrap();
    let dbg = format!("{client:?} {:?}", options(&sim));
    assert!(!dbg.contains(&sim.info.password), "{dbg}");
    assert_eq!(client.session_generation(), 1);
    client.logout().await.unwrap();
    // A call after the session ended logs in again once, by itself.
    assert!(!vms(&client).await.is_empty());
    assert_eq!(client.session_generation(), 2);
    client.logout().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_invalid_login_without_the_password() {
    let Some(sim) = vcsim() else { return };
    let mut o = options(&sim);
    let wrong = format!("{}-wrong", sim.info.password);
    o.password = Secret::new(wrong.clone());
    let e = Client::connect(&o).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidLogin, "{e}");
    assert_eq!(e.fault(), Some("InvalidLogin"));
    assert!(!e.to_string().contains(&wrong), "{e}");
    assert_no_secret(&sim, &e);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_thumbprint_is_a_mismatch_showing_both() {
    let Some(sim) = vcsim() else { return };
    let mut o = options(&sim);
    let wrong = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33";
    o.tls = TlsOptions {
        thumbprint: Some(wrong.to_string()),
        ..TlsOptions::default()
    };
    let e = Client::connect(&o).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ThumbprintMismatch, "{e}");
    let msg = e.to_string();
    assert!(msg.contains(wrong), "{msg}");
    assert!(msg.contains(&sim.info.thumbprint), "{msg}");
    assert_eq!(e.observed_thumbprint(), Some(sim.info.thumbprint.as_str()));
    assert_no_secret(&sim, &e);

    // The right thumbprint alone (no CA) is enough, in any case.
    o.tls.thumbprint = Some(sim.info.thumbprint.to_lowercase());
    Client::connect(&o).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn self_signed_without_cacert_is_untrusted_unless_insecure() {
    let Some(sim) = vcsim() else { return };
    let mut o = options(&sim);
    o.tls = TlsOptions::default();
    match Client::connect(&o).await {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::TlsUntrusted, "{e}");
            assert_eq!(e.observed_thumbprint(), Some(sim.info.thumbprint.as_str()));
            assert_no_secret(&sim, &e);
        }
        Ok(_) => panic!("a self-signed certificate was trusted without cacert"),
    }
    o.tls.insecure_skip_verify = true;
    let c = Client::connect(&o).await.unwrap();
    assert_eq!(
        c.thumbprint().as_deref(),
        Some(sim.info.thumbprint.as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_port_is_a_connection_error() {
    let Some(sim) = vcsim() else { return };
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = options(&sim);
    o.url = format!("https://127.0.0.1:{port}/sdk");
    let e = Client::connect(&o).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert_no_secret(&sim, &e);
}

#[tokio::test(flavor = "multi_thread")]
async fn retrieve_all_vms_with_config_and_power_state() {
    let Some(sim) = vcsim() else { return };
    let client = Client::connect(&options(&sim)).await.unwrap();
    let objs = client
        .retrieve_all(&[("VirtualMachine", &["name", "config", "runtime.powerState"])])
        .await
        .unwrap();
    let expected = sim.vms();
    assert_eq!(objs.len(), expected.len());
    for o in &objs {
        assert_eq!(o.obj.kind, "VirtualMachine");
        let name = o.text("name").unwrap();
        assert!(
            expected
                .iter()
                .any(|(id, n)| id == &o.obj.value && n == name),
            "{} {name} not in {expected:?}",
            o.obj
        );
        let config = o.get("config").unwrap();
        assert_eq!(config.value_type(), Some("VirtualMachineConfigInfo"));
        assert!(!config.text_of("uuid").unwrap().is_empty());
        assert!(config.path("hardware/numCPU").is_some());
        assert!(PowerState::parse(o.text("runtime.powerState").unwrap()).is_some());
    }
    let dc = client.datacenter_path(&objs[0].obj).await.unwrap();
    assert_eq!(dc, sim.info.datacenter);
    let e = client
        .datacenter_path(&MoRef::new("VirtualMachine", "vm-0"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_for_updates_sees_rename_and_power_on_by_another_client() {
    let Some(sim) = vcsim() else { return };
    let watcher = Client::connect(&options(&sim)).await.unwrap();
    let actor = Client::connect(&options(&sim)).await.unwrap();
    let (vm, _) = vms(&actor).await.remove(0);
    if actor.power_state(&vm).await.unwrap() == PowerState::PoweredOn {
        let t = actor.power_off(&vm).await.unwrap();
        actor.wait_task(&t, |_| {}).await.unwrap();
    }
    let root = watcher.service_content().root_folder.clone();
    let view = watcher
        .create_container_view(&root, &["VirtualMachine"], true)
        .await
        .unwrap();
    let filter = watcher
        .create_filter(
            &FilterSpec::container_view(
                &view,
                &[("VirtualMachine", &["name", "runtime.powerState"])],
            ),
            false,
        )
        .await
        .unwrap();
    let initial = watcher
        .wait_for_updates("", Some(Duration::from_secs(5)), None)
        .await
        .unwrap()
        .expect("the first call returns the full set");
    let entered: usize = initial
        .filters
        .iter()
        .flat_map(|f| &f.objects)
        .filter(|o| o.kind == UpdateKind::Enter)
        .count();
    assert_eq!(entered, sim.vms().len());
    let mut version = initial.version;

    let t = actor.rename(&vm, "renamed-by-test").await.unwrap();
    actor.wait_task(&t, |_| {}).await.unwrap();
    let t = actor.power_on(&vm).await.unwrap();
    actor.wait_task(&t, |_| {}).await.unwrap();

    let mut name = None;
    let mut power = None;
    for _ in 0..10 {
        let Some(set) = watcher
            .wait_for_updates(&version, Some(Duration::from_secs(5)), None)
            .await
            .unwrap()
        else {
            continue;
        };
        version = set.version.clone();
        for o in set.filters.iter().flat_map(|f| &f.objects) {
            if o.obj != vm {
                continue;
            }
            assert_eq!(o.kind, UpdateKind::Modify);
            for c in &o.changes {
                match c.name.as_str() {
                    "name" => name = c.value.as_ref().map(|v| v.text.clone()),
                    "runtime.powerState" => power = c.value.as_ref().map(|v| v.text.clone()),
                    _ => {}
                }
            }
        }
        if name.is_some() && power.as_deref() == Some("poweredOn") {
            break;
        }
    }
    assert_eq!(name.as_deref(), Some("renamed-by-test"));
    assert_eq!(power.as_deref(), Some("poweredOn"));
    watcher.destroy_filter(&filter).await.unwrap();
    watcher.destroy_view(&view).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn power_and_snapshot_tasks() {
    let Some(sim) = vcsim() else { return };
    let client = Client::connect(&options(&sim)).await.unwrap();
    let (vm, _) = vms(&client).await.remove(1);
    if client.power_state(&vm).await.unwrap() != PowerState::PoweredOn {
        let t = client.power_on(&vm).await.unwrap();
        client.wait_task(&t, |_| {}).await.unwrap();
    }
    let t = client.power_off(&vm).await.unwrap();
    client.wait_task(&t, |_| {}).await.unwrap();
    assert_eq!(
        client.power_state(&vm).await.unwrap(),
        PowerState::PoweredOff
    );
    // Powering off again is an error task with a named fault.
    let t = client.power_off(&vm).await.unwrap();
    let e = client.wait_task(&t, |_| {}).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Task, "{e}");
    assert_eq!(e.fault(), Some("InvalidPowerState"), "{e}");
    let t = client.power_on(&vm).await.unwrap();
    client.wait_task(&t, |_| {}).await.unwrap();
    assert_eq!(
        client.power_state(&vm).await.unwrap(),
        PowerState::PoweredOn
    );

    let t = client
        .create_snapshot(
            &vm,
            &SnapshotOptions {
                name: "forklift-migration-precopy".into(),
                description: "ferry test".into(),
                memory: false,
                quiesce: true,
            },
        )
        .await
        .unwrap();
    let snap = client
        .wait_task(&t, |_| {})
        .await
        .unwrap()
        .expect("a snapshot");
    let snap = MoRef::from_node(&snap);
    assert_eq!(snap.kind, "VirtualMachineSnapshot");
    let props = client
        .retrieve_properties(&FilterSpec::objects(
            std::slice::from_ref(&vm),
            &["snapshot"],
        ))
        .await
        .unwrap();
    let current = props[0]
        .get("snapshot")
        .unwrap()
        .child("currentSnapshot")
        .unwrap();
    assert_eq!(MoRef::from_node(current), snap);
    let t = client.remove_snapshot(&snap, false, true).await.unwrap();
    client.wait_task(&t, |_| {}).await.unwrap();
    let props = client
        .retrieve_properties(&FilterSpec::objects(
            std::slice::from_ref(&vm),
            &["snapshot"],
        ))
        .await
        .unwrap();
    assert!(
        props[0].get("snapshot").is_none(),
        "{:?}",
        props[0].get("snapshot")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_on_a_deleted_vm_are_managed_object_not_found() {
    let Some(sim) = vcsim() else { return };
    let client = Client::connect(&options(&sim)).await.unwrap();
    let (vm, _) = vms(&client).await.remove(0);
    if client.power_state(&vm).await.unwrap() == PowerState::PoweredOn {
        let t = client.power_off(&vm).await.unwrap();
        client.wait_task(&t, |_| {}).await.unwrap();
    }
    let t = client.destroy(&vm).await.unwrap();
    client.wait_task(&t, |_| {}).await.unwrap();
    let e = match client.power_on(&vm).await {
        Err(e) => e,
        Ok(t) => client.wait_task(&t, |_| {}).await.unwrap_err(),
    };
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.fault(), Some("ManagedObjectNotFound"), "{e}");
    assert!(e.to_string().contains("PowerOnVM_Task"), "{e}");
    assert_no_secret(&sim, &e);
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_vm_shuts_the_guest_down_or_powers_off() {
    use ferry_vsphere::{StopOptions, StopOutcome};
    let Some(sim) = vcsim() else { return };
    let client = Client::connect(&options(&sim)).await.unwrap();
    let (vm, _) = vms(&client).await.remove(0);
    let on = |client: Client, vm: MoRef| async move {
        if client.power_state(&vm).await.unwrap() != PowerState::PoweredOn {
            let t = client.power_on(&vm).await.unwrap();
            client.wait_task(&t, |_| {}).await.unwrap();
        }
    };
    let graceful = StopOptions {
        guest_shutdown_timeout: Some(Duration::from_secs(30)),
    };
    on(client.clone(), vm.clone()).await;
    assert_eq!(
        client.stop_vm(&vm, &graceful).await.unwrap(),
        StopOutcome::GuestShutdown
    );
    assert_eq!(
        client.power_state(&vm).await.unwrap(),
        PowerState::PoweredOff
    );
    assert_eq!(
        client.stop_vm(&vm, &graceful).await.unwrap(),
        StopOutcome::AlreadyOff
    );
    on(client.clone(), vm.clone()).await;
    let hard = StopOptions {
        guest_shutdown_timeout: None,
    };
    assert_eq!(
        client.stop_vm(&vm, &hard).await.unwrap(),
        StopOutcome::PoweredOff
    );
    assert_eq!(
        client.power_state(&vm).await.unwrap(),
        PowerState::PoweredOff
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retrieval_continues_over_pages() {
    let Some(sim) = vcsim() else { return };
    let mut o = options(&sim);
    o.page_size = 1;
    let paged = Client::connect(&o).await.unwrap();
    let whole = Client::connect(&options(&sim)).await.unwrap();
    let props: &[(&str, &[&str])] = &[("VirtualMachine", &["name"]), ("HostSystem", &["name"])];
    let mut a: Vec<String> = paged
        .retrieve_all(props)
        .await
        .unwrap()
        .into_iter()
        .map(|o| format!("{} {}", o.obj, o.text("name").unwrap()))
        .collect();
    let mut b: Vec<String> = whole
        .retrieve_all(props)
        .await
        .unwrap()
        .into_iter()
        .map(|o| format!("{} {}", o.obj, o.text("name").unwrap()))
        .collect();
    a.sort();
    b.sort();
    assert!(a.len() > 4, "{a:?}");
    assert_eq!(a, b);
}

#[tokio::test(flavor = "multi_thread")]
async fn reconfig_attaches_an_uploaded_disk() {
    use ferry_vsphere::DiskAttach;
    if ferry_testutil::peer("qemu-img").is_none() {
        return;
    }
    let Some(sim) = vcsim() else { return };
    let dir = ferry_testutil::tempdir();
    let disk = dir.path().join("extra.vmdk");
    ferry_testutil::qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-o",
        "subformat=monolithicFlat",
        disk.to_str().unwrap(),
        "2M",
    ]);
    sim.upload(&disk, "extra/extra.vmdk");
    sim.upload(&dir.path().join("extra-flat.vmdk"), "extra/extra-flat.vmdk");
    let client = Client::connect(&options(&sim)).await.unwrap();
    let (vm, _) = vms(&client).await.remove(0);
    let before = client.disks(&vm).await.unwrap();
    let first = before.first().expect("the simulator's VMs have a disk");
    let unit = before
        .iter()
        .filter(|d| d.controller_key == first.controller_key)
        .filter_map(|d| d.unit_number)
        .max()
        .unwrap_or(0)
        + 1;
    let file_name = format!("[{}] extra/extra.vmdk", sim.info.datastore);
    let t = client
        .attach_disks(
            &vm,
            &[DiskAttach {
                file_name: file_name.clone(),
                datastore: None,
                capacity_bytes: 2 << 20,
                controller_key: first.controller_key,
                unit_number: unit,
                disk_mode: String::new(),
            }],
        )
        .await
        .unwrap();
    client.wait_task(&t, |_| {}).await.unwrap();
    let after = client.disks(&vm).await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    let added = after.iter().find(|d| d.file_name == file_name).unwrap();
    assert_eq!(added.capacity_bytes, 2 << 20);
    assert_eq!(added.controller_key, first.controller_key);
    assert_eq!(added.unit_number, Some(unit));

    // A disk whose file is missing is refused with a named fault.
    let t = client
        .attach_disks(
            &vm,
            &[DiskAttach {
                file_name: format!("[{}] extra/missing.vmdk", sim.info.datastore),
                datastore: None,
                capacity_bytes: 2 << 20,
                controller_key: first.controller_key,
                unit_number: unit + 1,
                disk_mode: String::new(),
            }],
        )
        .await
        .unwrap();
    let e = client.wait_task(&t, |_| {}).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Task, "{e}");
    assert_eq!(e.fault(), Some("FileNotFound"), "{e}");
}
