use super::*;

fn pvc_data() -> TemplateData {
    TemplateData::new()
        .with_str("VmName", "Web_Server01")
        .with_str("TargetVmName", "web-server01")
        .with_str("PlanName", "migrate-web-tier-to-ocp")
        .with_int("DiskIndex", 2)
        .with_int("RootDiskIndex", 0)
        .with("Shared", Value::Bool(true))
        .with_str("VmId", "vm-1042")
        .with_str("FileName", "[ds1] web/Web_Server01_1.vmdk")
        .with_str("NetworkType", "Pod")
        .with_str("NetworkName", "")
        .with_int("NetworkIndex", 1)
}

fn render(src: &str) -> Result<String, TemplateError> {
    Template::parse(TemplateKind::PvcName, src)?.render(&pvc_data())
}

#[test]
fn renders_the_documented_examples() {
    let cases = [
        (
            DEFAULT_PVC_NAME_TEMPLATE,
            "migrate-web-tie-web-server01-disk-2",
        ),
        ("{{.VmName}}-disk-{{.DiskIndex}}", "Web_Server01-disk-2"),
        (
            "{{if eq .DiskIndex .RootDiskIndex}}root{{else}}data{{end}}-{{.DiskIndex}}",
            "data-2",
        ),
        (
            "{{trunc 15 .TargetVmName}}-{{if eq .DiskIndex .RootDiskIndex}}root{{else}}data-{{.DiskIndex}}{{end}}",
            "web-server01-data-2",
        ),
        (
            "{{if .Shared}}shared-{{end}}{{trunc 30 .VmName | lower}}-{{.DiskIndex}}",
            "shared-web_server01-2",
        ),
        ("{{.VmName | lower | trunc 5}}", "web_s"),
        (
            "{{if eq .NetworkType \"Pod\"}}pod-net{{else}}{{.NetworkName}}-{{.NetworkIndex}}{{end}}",
            "pod-net",
        ),
        ("{{ lower \"TEXT\" }}", "text"),
        (
            "{{\"I Am Henry VIII\" | replace \" \" \"-\"}}",
            "I-Am-Henry-VIII",
        ),
        ("{{ add 1 2 3 }}", "6"),
        ("{{ ceil 3.25 }}", "4"),
        ("{{ round 3.75159 2 }}", "3.75"),
        (
            "{{ printf \"%s-%02d\" .TargetVmName .DiskIndex }}",
            "web-server01-02",
        ),
        (
            "{{ mustRegexReplaceAll \"_\" .VmName \"-\" | lower }}",
            "web-server01",
        ),
        ("{{ (add1 .DiskIndex) }}", "3"),
        ("{{/* a comment */}}x", "x"),
        ("a  {{- .DiskIndex -}}  b", "a2b"),
        (
            "{{if and .Shared (gt .DiskIndex 1)}}y{{else if .Shared}}s{{else}}n{{end}}",
            "y",
        ),
        (
            "{{if or false 0 \"\"}}t{{else if not .Shared}}u{{else}}v{{end}}",
            "v",
        ),
        ("{{`raw\\n`}}", "raw\\n"),
        ("{{ len .VmName }}", "12"),
        ("{{ -3 }} {{ 0x1F }} {{ 1.5e3 }}", "-3 31 1500"),
        ("{{ print 1 2 }}", "1 2"),
    ];
    for (src, want) in cases {
        assert_eq!(render(src).unwrap(), want, "template {src}");
    }
}

#[test]
fn parse_errors_have_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("{{.VmName}-disk-{{.DiskIndex}}", 10, "unexpected '}'"),
        ("disk-{{.DiskIndex", 6, "unclosed action"),
        ("{{if .Shared}}x", 1, "no matching"),
        ("{{end}}", 1, "unexpected \"{{end}}\""),
        ("x{{ foo .VmName }}", 5, "function \"foo\" is not defined"),
        ("{{ $x := 1 }}", 4, "variables"),
        ("{{range .X}}{{end}}", 1, "\"range\" action"),
        ("{{ \"abc }}", 4, "unterminated string"),
        ("{{ (lower .VmName }}", 4, "unclosed \"(\""),
        ("{{ .VmName | .PlanName }}", 14, "non-function"),
        ("{{}}", 1, "missing value"),
        ("{{ 1.2.3 }}", 4, "bad number"),
    ];
    for (src, column, needle) in cases {
        let err = Template::parse(TemplateKind::PvcName, src).unwrap_err();
        assert_eq!(
            err.position.map(|p| p.column),
            Some(*column),
            "{src}: {err}"
        );
        assert!(err.to_string().contains(needle), "{src}: {err}");
    }
}

#[test]
fn exec_errors() {
    let err = render("{{.UndefinedVar}}").unwrap_err();
    assert!(matches!(
        err.kind,
        TemplateErrorKind::UnknownVariable { .. }
    ));
    assert!(
        err.to_string().contains(".UndefinedVar does not exist"),
        "{err}"
    );
    assert!(err.to_string().contains(".PlanName"), "{err}");
    assert_eq!(err.position.map(|p| p.column), Some(3));
    assert!(
        render("{{ lower .DiskIndex }}")
            .unwrap_err()
            .to_string()
            .contains("must be a string")
    );
    assert!(
        render("{{ eq .DiskIndex \"2\" }}")
            .unwrap_err()
            .to_string()
            .contains("incompatible")
    );
    assert!(render("{{ div 1 0 }}").is_err());
    assert!(
        render("{{ .VmName.Foo }}")
            .unwrap_err()
            .to_string()
            .contains("no field Foo")
    );
    assert!(render("{{ . }}").is_err());
}

#[test]
fn limits() {
    let long = "x".repeat(MAX_SOURCE_LEN + 1);
    assert!(matches!(
        Template::parse(TemplateKind::PvcName, &long)
            .unwrap_err()
            .kind,
        TemplateErrorKind::TooLong(_)
    ));
    let deep = format!("{}{}", "{{if true}}".repeat(40), "{{end}}".repeat(40));
    assert!(matches!(
        Template::parse(TemplateKind::PvcName, &deep)
            .unwrap_err()
            .kind,
        TemplateErrorKind::TooDeep
    ));
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(40), ")".repeat(40));
    assert!(matches!(
        Template::parse(TemplateKind::PvcName, &parens)
            .unwrap_err()
            .kind,
        TemplateErrorKind::TooDeep
    ));
    assert!(render("{{ repeat 100000 \"ab\" }}").is_err());
}

#[test]
fn checks_like_forklift() {
    let vs = Some(ProviderKind::Vsphere);
    let inputs = SampleInputs::default();
    let valid = [
        "{{.VmName}}-disk-{{.DiskIndex}}",
        "{{.PlanName}}-{{.VmName}}-disk-{{.DiskIndex}}",
        "{{if eq .DiskIndex .RootDiskIndex}}root{{else}}data{{end}}-{{.DiskIndex}}",
        DEFAULT_PVC_NAME_TEMPLATE,
    ];
    for t in valid {
        let c = check_template(TemplateKind::PvcName, t, vs, &inputs).unwrap();
        assert!(naming::is_dns1123_label(&c.sample_output), "{t}");
    }
    let invalid = [
        "disk@{{.DiskIndex}}",
        "{{.UndefinedVar}}",
        "{{if false}}disk{{end}}",
        "disk!{{.DiskIndex}}",
        "disk {{.DiskIndex}}",
        "_{{.VmName}}",
        "very-very-very-very-very-very-very-very-very-very-long-prefix-{{.VmName}}",
        "{{.VmName}}/{{.DiskIndex}}",
        "{{.VmName}-disk-{{.DiskIndex}",
        "-{{.VmName}}",
        "{{.VmName}}-",
        "DISK-{{.VmName}}",
    ];
    for t in invalid {
        assert!(
            check_template(TemplateKind::PvcName, t, vs, &inputs).is_err(),
            "{t} should be rejected"
        );
    }
    let err = check_template(
        TemplateKind::PvcName,
        "{{if false}}disk{{end}}",
        vs,
        &inputs,
    )
    .unwrap_err();
    assert_eq!(err.kind, TemplateErrorKind::EmptyOutput);
    let err = check_template(TemplateKind::PvcName, "DISK-{{.VmName}}", vs, &inputs).unwrap_err();
    assert!(err.to_string().contains("\"DISK-test-vm\""), "{err}");
}

#[test]
fn provider_specific_variables() {
    let inputs = SampleInputs::default();
    let ocp = Some(ProviderKind::Openshift);
    let vs = Some(ProviderKind::Vsphere);
    assert!(check_template(TemplateKind::PvcName, "{{.SourcePVCName}}", ocp, &inputs).is_ok());
    assert!(check_template(TemplateKind::PvcName, "{{.SourcePVCName}}", vs, &inputs).is_err());
    assert!(check_template(TemplateKind::PvcName, "d-{{.RootDiskIndex}}", ocp, &inputs).is_err());
    assert!(
        check_template(
            TemplateKind::PvcName,
            "{{lower .DiskId}}",
            Some(ProviderKind::Ovirt),
            &inputs
        )
        .is_ok()
    );
    assert!(
        check_template(
            TemplateKind::PvcName,
            "{{.VolumeID}}",
            Some(ProviderKind::Ec2),
            &inputs
        )
        .is_ok()
    );
    // Unknown provider: every variable is allowed.
    assert!(
        check_template(
            TemplateKind::PvcName,
            "{{.SourcePVCName}}-{{.RootDiskIndex}}",
            None,
            &inputs
        )
        .is_ok()
    );
    assert!(
        check_template(
            TemplateKind::VolumeName,
            "{{.PVCName}}-{{.VolumeIndex}}",
            vs,
            &inputs
        )
        .is_ok()
    );
    assert!(check_template(TemplateKind::VolumeName, "{{.DiskIndex}}", vs, &inputs).is_err());
    assert!(check_template(
        TemplateKind::NetworkName,
        "{{if eq .NetworkType \"Multus\"}}{{trunc 10 .NetworkNamespace}}-{{trunc 15 .NetworkName}}{{else}}pod{{end}}",
        vs,
        &inputs
    )
    .is_ok());
}

#[test]
fn long_output_is_a_warning() {
    let inputs = SampleInputs {
        plan_name: Some("a-rather-long-plan-name-for-the-finance-team"),
        ..SampleInputs::default()
    };
    let c = check_template(
        TemplateKind::PvcName,
        "{{.PlanName}}-{{.DiskIndex}}",
        Some(ProviderKind::Vsphere),
        &inputs,
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 1, "{c:?}");
    let c = check_template(
        TemplateKind::PvcName,
        DEFAULT_PVC_NAME_TEMPLATE,
        Some(ProviderKind::Vsphere),
        &inputs,
    )
    .unwrap();
    assert!(c.warnings.is_empty(), "{c:?}");
    assert_eq!(c.sample_output, "a-rather-long-p-test-vm-disk-0");
}

#[test]
fn sample_uses_the_sanitised_target_name() {
    let inputs = SampleInputs {
        vm_name: Some("Web Server_01"),
        ..SampleInputs::default()
    };
    let c = check_template(
        TemplateKind::PvcName,
        "{{.TargetVmName}}",
        Some(ProviderKind::Vsphere),
        &inputs,
    )
    .unwrap();
    assert_eq!(c.sample_output, "web-server-01");
}

#[test]
fn lookup_order() {
    let all = TemplateSources {
        vm: Some("vm-{{.DiskIndex}}"),
        plan: Some("plan-{{.DiskIndex}}"),
        controller: Some("ctl-{{.DiskIndex}}"),
        controller_ocp: Some("ocp-{{.SourcePVCName}}"),
    };
    let vs = Some(ProviderKind::Vsphere);
    let ocp = Some(ProviderKind::Openshift);
    assert_eq!(
        resolve_template(TemplateKind::PvcName, all, vs),
        ("vm-{{.DiskIndex}}", TemplateOrigin::Vm)
    );
    let no_vm = TemplateSources {
        vm: Some(""),
        ..all
    };
    assert_eq!(
        resolve_template(TemplateKind::PvcName, no_vm, vs).1,
        TemplateOrigin::Plan
    );
    let ctl = TemplateSources {
        vm: None,
        plan: None,
        ..all
    };
    assert_eq!(
        resolve_template(TemplateKind::PvcName, ctl, vs),
        ("ctl-{{.DiskIndex}}", TemplateOrigin::Controller)
    );
    assert_eq!(
        resolve_template(TemplateKind::PvcName, ctl, ocp),
        ("ocp-{{.SourcePVCName}}", TemplateOrigin::Controller)
    );
    assert_eq!(
        resolve_template(TemplateKind::VolumeName, ctl, vs),
        (DEFAULT_VOLUME_NAME_TEMPLATE, TemplateOrigin::Default)
    );
    let none = TemplateSources::default();
    assert_eq!(
        resolve_template(TemplateKind::PvcName, none, vs).0,
        DEFAULT_PVC_NAME_TEMPLATE
    );
    assert_eq!(
        resolve_template(TemplateKind::PvcName, none, ocp).0,
        DEFAULT_OCP_PVC_NAME_TEMPLATE
    );
    assert_eq!(
        resolve_template(TemplateKind::NetworkName, none, vs).0,
        DEFAULT_NETWORK_NAME_TEMPLATE
    );
}

#[test]
fn defaults_render() {
    let d = TemplateData::new().with_int("VolumeIndex", 3);
    let t = Template::parse(TemplateKind::VolumeName, DEFAULT_VOLUME_NAME_TEMPLATE).unwrap();
    assert_eq!(t.render_name(&d).unwrap(), "vol-3");
    let d = TemplateData::new().with_int("NetworkIndex", 0);
    let t = Template::parse(TemplateKind::NetworkName, DEFAULT_NETWORK_NAME_TEMPLATE).unwrap();
    assert_eq!(t.render_name(&d).unwrap(), "net-0");
    let d = TemplateData::new().with_str("SourcePVCName", "rootdisk-pvc");
    let t = Template::parse(TemplateKind::PvcName, DEFAULT_OCP_PVC_NAME_TEMPLATE).unwrap();
    assert_eq!(t.render_name(&d).unwrap(), "rootdisk-pvc");
}

#[test]
fn random_input_never_panics() {
    // A deterministic generator over the characters templates care about.
    let alphabet: Vec<char> =
        "{{}}()|.-+ \"`$:=/*abcdefPlanVmNameDiskIndex0123456789ifelseendtruncloweréü\t\n"
            .chars()
            .collect();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let data = pvc_data();
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = usize::try_from(state % 40).unwrap();
        let mut s = String::new();
        let mut x = state;
        for _ in 0..len {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            s.push(alphabet[usize::try_from(x >> 33).unwrap() % alphabet.len()]);
        }
        if let Ok(t) = Template::parse(TemplateKind::PvcName, &s) {
            let _ = t.render(&data);
            let _ = t.render_name(&data);
        }
    }
    // Structured near-misses too.
    for s in [
        "{{",
        "}}",
        "{{-",
        "{{- }}",
        "{{/*",
        "{{/* */",
        "{{ ( }}",
        "{{ ) }}",
        "{{ | }}",
        "{{ .X | }}",
        "{{if}}",
        "{{else}}",
        "{{if 1}}{{else}}{{else}}{{end}}",
        "{{ \"\\",
        "{{ `",
        "{{ 1e999 }}",
        "{{ -}}",
        "{{ . }}",
        "{{ .. }}",
        "{{ trunc }}",
        "{{ substr 2 1 \"é\" }}",
        "{{ printf }}",
    ] {
        if let Ok(t) = Template::parse(TemplateKind::PvcName, s) {
            let _ = t.render(&data);
        }
    }
}
