//! VirtualMachine and DataVolume objects as ferry writes them validate
//! against KubeVirt's and CDI's OpenAPI documents (strict: unknown fields
//! are errors). Reads the Swagger facts kept in ferry-testutil's fixtures
//! (`fixtures/upstream/kubevirt/`).

use std::collections::BTreeMap;

use ferry_core::api::kubevirt::datavolume::{
    DataVolumeCheckpoint, SourceBlank, SourceHttp, SourceImageIo, SourcePvc, SourceRegistry,
    SourceUpload, SourceVddk,
};
use ferry_core::api::kubevirt::vm::{
    Bios, Bootloader, Cpu, DataVolumeVolumeSource, Devices, Disk, DiskBus, DiskTarget, DomainSpec,
    Efi, Empty, FeatureHyperv, FeatureSpinlocks, FeatureState, Features, Firmware, Input,
    Interface, LunTarget, Machine, Memory, MultusNetwork, Network, PodNetwork, PvcVolumeSource,
    RunStrategy, Tpm, VmiSpec, VmiTemplateSpec, Volume,
};
use ferry_core::api::kubevirt::{
    DataVolume, DataVolumeSource, DataVolumeSpec, StorageSpec, VirtualMachine, VirtualMachineSpec,
};
use ferry_core::openapi::Schemas;
use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, VolumeResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

/// KubeVirt's or CDI's Swagger facts, kept in ferry-testutil's fixtures.
fn swagger(file: &str) -> Value {
    ferry_testutil::upstream_schema(&format!("kubevirt/{file}"))
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some("migrated".to_owned()),
        labels: Some(BTreeMap::from([
            ("app".to_owned(), "forklift".to_owned()),
            ("plan".to_owned(), "8c1b2a".to_owned()),
            ("vmID".to_owned(), "vm-2041".to_owned()),
        ])),
        annotations: Some(BTreeMap::from([
            (
                "forklift.konveyor.io/disk-source".to_owned(),
                "[datastore1] web-01/web-01.vmdk".to_owned(),
            ),
            ("forklift.konveyor.io/disk-index".to_owned(), "0".to_owned()),
        ])),
        ..ObjectMeta::default()
    }
}

fn sample_vm(efi: bool) -> VirtualMachine {
    let bootloader = if efi {
        Bootloader {
            bios: None,
            efi: Some(Efi {
                secure_boot: Some(true),
                persistent: None,
            }),
        }
    } else {
        Bootloader {
            bios: Some(Bios::default()),
            efi: None,
        }
    };
    let spec = VirtualMachineSpec {
        run_strategy: Some(RunStrategy::Always),
        template: VmiTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(BTreeMap::from([(
                    "kubevirt.io/domain".to_owned(),
                    "web-01".to_owned(),
                )])),
                ..ObjectMeta::default()
            }),
            spec: VmiSpec {
                domain: DomainSpec {
                    cpu: Some(Cpu {
                        cores: Some(2),
                        sockets: Some(2),
                        threads: Some(1),
                        ..Cpu::default()
                    }),
                    memory: Some(Memory {
                        guest: Some(Quantity("4096Mi".to_owned())),
                    }),
                    firmware: Some(Firmware {
                        bootloader: Some(bootloader),
                        serial: Some("VMware-42 1a 2b 3c".to_owned()),
                        uuid: Some("421a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8".to_owned()),
                    }),
                    machine: Some(Machine {
                        type_: "q35".to_owned(),
                    }),
                    features: Some(Features {
                        acpi: Some(FeatureState::default()),
                        apic: Some(FeatureState {
                            enabled: Some(true),
                        }),
                        smm: efi.then_some(FeatureState {
                            enabled: Some(true),
                        }),
                        hyperv: Some(FeatureHyperv {
                            relaxed: Some(FeatureState::default()),
                            vapic: Some(FeatureState::default()),
                            spinlocks: Some(FeatureSpinlocks {
                                enabled: Some(true),
                                spinlocks: Some(8191),
                            }),
                        }),
                    }),
                    devices: Devices {
                        disks: vec![
                            Disk {
                                name: "vol-0".to_owned(),
                                disk: Some(DiskTarget {
                                    bus: Some(DiskBus::Virtio),
                                    readonly: None,
                                }),
                                boot_order: Some(1),
                                serial: Some("6000c29d".to_owned()),
                                ..Disk::default()
                            },
                            Disk {
                                name: "vol-1".to_owned(),
                                lun: Some(LunTarget {
                                    bus: Some(DiskBus::Scsi),
                                    readonly: None,
                                    reservation: Some(true),
                                }),
                                ..Disk::default()
                            },
                        ],
                        interfaces: vec![
                            Interface {
                                name: "net-0".to_owned(),
                                masquerade: Some(Empty {}),
                                mac_address: Some("00:50:56:8a:01:02".to_owned()),
                                model: Some("virtio".to_owned()),
                                ..Interface::default()
                            },
                            Interface {
                                name: "net-1".to_owned(),
                                bridge: Some(Empty {}),
                                mac_address: Some("00:50:56:8a:01:03".to_owned()),
                                model: Some("e1000e".to_owned()),
                                ..Interface::default()
                            },
                        ],
                        inputs: vec![Input {
                            name: "tablet".to_owned(),
                            type_: "tablet".to_owned(),
                            bus: Some("usb".to_owned()),
                        }],
                        tpm: efi.then_some(Tpm {
                            persistent: Some(true),
                        }),
                        ..Devices::default()
                    },
                    ..DomainSpec::default()
                },
                networks: vec![
                    Network {
                        name: "net-0".to_owned(),
                        pod: Some(PodNetwork::default()),
                        multus: None,
                    },
                    Network {
                        name: "net-1".to_owned(),
                        pod: None,
                        multus: Some(MultusNetwork {
                            network_name: "migrated/vlan-100".to_owned(),
                            default: None,
                        }),
                    },
                ],
                volumes: vec![
                    Volume {
                        name: "vol-0".to_owned(),
                        data_volume: Some(DataVolumeVolumeSource {
                            name: "plan-web-01-disk-0".to_owned(),
                        }),
                        persistent_volume_claim: None,
                    },
                    Volume {
                        name: "vol-1".to_owned(),
                        data_volume: None,
                        persistent_volume_claim: Some(PvcVolumeSource {
                            claim_name: "plan-web-01-disk-1".to_owned(),
                            read_only: None,
                        }),
                    },
                ],
                node_selector: BTreeMap::from([("zone".to_owned(), "a".to_owned())]),
                ..VmiSpec::default()
            },
        },
        ..VirtualMachineSpec::default()
    };
    let mut vm = VirtualMachine::new("web-01", spec);
    vm.metadata = meta("web-01");
    vm
}

fn storage() -> StorageSpec {
    StorageSpec {
        access_modes: vec!["ReadWriteOnce".to_owned()],
        volume_mode: Some("Block".to_owned()),
        storage_class_name: Some("ocs-storagecluster-ceph-rbd".to_owned()),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity("22Gi".to_owned()),
            )])),
            limits: None,
        }),
        ..StorageSpec::default()
    }
}

fn sample_dvs() -> Vec<DataVolume> {
    let sources = vec![
        DataVolumeSource {
            http: Some(SourceHttp {
                url: "https://export.example.test/disk.img.gz".to_owned(),
                secret_ref: Some("export-token".to_owned()),
                cert_config_map: Some("export-ca".to_owned()),
                ..SourceHttp::default()
            }),
            ..DataVolumeSource::default()
        },
        DataVolumeSource {
            blank: Some(SourceBlank {}),
            ..DataVolumeSource::default()
        },
        DataVolumeSource {
            registry: Some(SourceRegistry {
                url: Some("docker://quay.io/containerdisks/fedora:40".to_owned()),
                ..SourceRegistry::default()
            }),
            ..DataVolumeSource::default()
        },
        DataVolumeSource {
            upload: Some(SourceUpload {}),
            ..DataVolumeSource::default()
        },
        DataVolumeSource {
            imageio: Some(SourceImageIo {
                url: "https://engine.example.test/ovirt-engine/api".to_owned(),
                disk_id: "b1a2c3d4-0000-4000-8000-000000000001".to_owned(),
                secret_ref: Some("ovirt-creds".to_owned()),
                cert_config_map: Some("ovirt-ca".to_owned()),
                insecure_skip_verify: Some(false),
            }),
            ..DataVolumeSource::default()
        },
        DataVolumeSource {
            vddk: Some(SourceVddk {
                backing_file: Some("[datastore1] web-01/web-01.vmdk".to_owned()),
                uuid: Some("421a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8".to_owned()),
                url: Some("https://vcenter.example.test/sdk".to_owned()),
                secret_ref: Some("vddk-creds".to_owned()),
                thumbprint: Some("AA:BB:CC:DD".to_owned()),
                init_image_url: Some("registry.example.test/vddk:8.0".to_owned()),
                extra_args: Some("vddk-config".to_owned()),
                cert_config_map: None,
            }),
            ..DataVolumeSource::default()
        },
        DataVolumeSource {
            pvc: Some(SourcePvc {
                namespace: "src".to_owned(),
                name: "golden".to_owned(),
            }),
            ..DataVolumeSource::default()
        },
    ];
    let mut out = Vec::new();
    for (i, source) in sources.into_iter().enumerate() {
        let warm = source.vddk.is_some();
        let spec = DataVolumeSpec {
            source: Some(source),
            storage: (i % 2 == 0).then(storage),
            pvc: (i % 2 == 1).then(|| PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteMany".to_owned()]),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_owned(),
                        Quantity("10Gi".to_owned()),
                    )])),
                    limits: None,
                }),
                storage_class_name: Some("nfs".to_owned()),
                volume_mode: Some("Filesystem".to_owned()),
                ..PersistentVolumeClaimSpec::default()
            }),
            checkpoints: if warm {
                vec![
                    DataVolumeCheckpoint {
                        current: "snapshot-101".to_owned(),
                        previous: String::new(),
                    },
                    DataVolumeCheckpoint {
                        current: "snapshot-102".to_owned(),
                        previous: "52 de c0 d9 98 1b 4b 4a-8e 5a 2f 3c/12".to_owned(),
                    },
                ]
            } else {
                Vec::new()
            },
            final_checkpoint: warm.then_some(false),
            content_type: Some("kubevirt".to_owned()),
            ..DataVolumeSpec::default()
        };
        let mut dv = DataVolume::new(&format!("plan-web-01-disk-{i}"), spec);
        dv.metadata = meta(&format!("plan-web-01-disk-{i}"));
        out.push(dv);
    }
    out
}

fn assert_valid(schemas: &Schemas<'_>, def: &str, what: &str, v: &Value) {
    let errors = schemas.validate_definition(def, v).strict_errors();
    assert!(
        errors.is_empty(),
        "{what} fails {def}:\n{}\n{}",
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        serde_json::to_string_pretty(v).unwrap_or_default()
    );
}

#[test]
fn virtual_machines_validate_against_kubevirt_swagger() {
    let doc = swagger("kubevirt-swagger.json");
    let schemas = Schemas::swagger(&doc);
    for efi in [false, true] {
        let v = serde_json::to_value(sample_vm(efi)).expect("serialise VM");
        assert_eq!(v["apiVersion"], "kubevirt.io/v1");
        assert_eq!(v["kind"], "VirtualMachine");
        assert_valid(
            &schemas,
            "v1.VirtualMachine",
            &format!("VM (efi={efi})"),
            &v,
        );
    }
}

#[test]
fn the_validator_rejects_what_kubevirt_would() {
    let doc = swagger("kubevirt-swagger.json");
    let schemas = Schemas::swagger(&doc);
    let mut v = serde_json::to_value(sample_vm(false)).expect("serialise VM");
    v["spec"]["template"]["spec"]["domain"]["cpu"]["cores"] = Value::String("two".into());
    v["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0]["disk"]["busType"] =
        Value::String("virtio".into());
    if let Some(o) = v["spec"]["template"]["spec"]["networks"][0].as_object_mut() {
        o.remove("name");
    }
    let r = schemas.validate_definition("v1.VirtualMachine", &v);
    let paths: Vec<&str> = r.errors.iter().map(|e| e.path.as_str()).collect();
    assert!(
        paths.contains(&"spec.template.spec.domain.cpu.cores"),
        "{r:?}"
    );
    assert!(
        paths.contains(&"spec.template.spec.networks[0].name"),
        "{r:?}"
    );
    assert_eq!(
        r.unknown,
        ["spec.template.spec.domain.devices.disks[0].disk.busType"]
    );
}

#[test]
fn data_volumes_validate_against_cdi_swagger() {
    let doc = swagger("cdi-swagger.json");
    let schemas = Schemas::swagger(&doc);
    let dvs = sample_dvs();
    assert_eq!(dvs.len(), 7, "one DataVolume per source kind");
    for dv in dvs {
        let v = serde_json::to_value(&dv).expect("serialise DV");
        assert_eq!(v["apiVersion"], "cdi.kubevirt.io/v1beta1");
        assert_eq!(v["kind"], "DataVolume");
        let name = dv.metadata.name.clone().unwrap_or_default();
        assert_valid(&schemas, "v1beta1.DataVolume", &name, &v);
    }
}

#[test]
fn kubevirt_objects_round_trip() {
    let vm = sample_vm(true);
    let back: VirtualMachine =
        serde_json::from_value(serde_json::to_value(&vm).expect("ser")).expect("de");
    assert_eq!(back.spec, vm.spec);
    for dv in sample_dvs() {
        let back: DataVolume =
            serde_json::from_value(serde_json::to_value(&dv).expect("ser")).expect("de");
        assert_eq!(back.spec, dv.spec);
    }
}
