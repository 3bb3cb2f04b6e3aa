//! Hostile-input replay (a corpus-replay stand-in until the cargo-fuzz
//! workspace has an OVF target): thousands of deterministic mutations of the
//! fixtures and of a real OVA go through every parser entry point. Each must
//! return Ok or a clean error, never panic, and never index a refused name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use ferry_ovf::href;
use ferry_ovf::location::Location;
use ferry_ovf::ovf::{self, ParseOptions, VmContext};
use ferry_ovf::package::{Package, PackageOptions, manifest};

const FIXTURES: &[&str] = &[
    include_str!("fixtures/vmware-ovftool.ovf"),
    include_str!("fixtures/virtualbox.ovf"),
    include_str!("fixtures/minimal.ovf"),
    include_str!("fixtures/hostile-hrefs.ovf"),
    include_str!("fixtures/multi-system.ovf"),
];

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"/>",
    b"</Item>",
    b"<Item>",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"\"",
    b"'",
    b"ovf:/disk/",
    b"../",
    b"<!DOCTYPE x [<!ENTITY a \"b\">]>",
    b"<![CDATA[",
    b"]]>",
    b"\xff\xfe",
    b"99999999999999999999",
    b"-1",
    b"byte * 2^99",
    b"<VirtualSystem>",
    b"xmlns:a=\"\"",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 => {
                let i = rng.below(v.len() + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(i..i, t.iter().copied());
            }
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                let n = rng.below(64).min(v.len() - i);
                v.drain(i..i + n);
            }
            3 => {
                let cut = rng.below(v.len() + 1);
                v.truncate(cut);
            }
            _ if !v.is_empty() => {
                let i = rng.below(v.len());
                let n = rng.below(256).min(v.len() - i);
                let chunk = v[i..i + n].to_vec();
                let j = rng.below(v.len() + 1);
                v.splice(j..j, chunk);
            }
            _ => {}
        }
    }
    v
}

fn exercise_ovf(bytes: &[u8]) {
    if let Ok(env) = ovf::parse(bytes, "mutant.ovf", &ParseOptions::default()) {
        let vms = ovf::to_vms(&env, &VmContext::default());
        serde_json::to_string(&vms).expect("the model always serialises");
        for f in &env.files {
            if let Ok(p) = &f.path {
                assert!(!p.split('/').any(|c| c == ".."), "{p}");
                assert!(!p.starts_with('/'), "{p}");
            }
        }
    }
}

#[test]
fn mutated_descriptors_never_panic() {
    let mut rng = Rng(0x005e_ed0f_f344_u64);
    for fixture in FIXTURES {
        exercise_ovf(fixture.as_bytes());
        for _ in 0..400 {
            exercise_ovf(&mutate(&mut rng, fixture.as_bytes()));
        }
    }
}

#[test]
fn pathological_documents() {
    let deep = format!(
        "<Envelope>{}<VirtualSystem/>{}</Envelope>",
        "<VirtualSystemCollection>".repeat(5000),
        "</VirtualSystemCollection>".repeat(5000)
    );
    exercise_ovf(deep.as_bytes());
    let nested_items = format!(
        "<Envelope><VirtualSystem>{}</VirtualSystem></Envelope>",
        "<a>".repeat(200_000)
    );
    exercise_ovf(nested_items.as_bytes());
    let closed = format!(
        "<Envelope><VirtualSystem><Name>n</Name>{}{}</VirtualSystem></Envelope>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    exercise_ovf(closed.as_bytes());
    let wide = format!(
        "<Envelope><VirtualSystem><VirtualHardwareSection>{}</VirtualHardwareSection></VirtualSystem></Envelope>",
        "<Item><ResourceType>17</ResourceType><HostResource>ovf:/disk/x</HostResource></Item>"
            .repeat(20_000)
    );
    let err = ovf::parse(wide.as_bytes(), "wide.ovf", &ParseOptions::default()).unwrap_err();
    assert!(err.to_string().contains("wide.ovf"));
    let long_attr = format!(
        "<Envelope><VirtualSystem id=\"{}\"/></Envelope>",
        "x".repeat(4 << 20)
    );
    exercise_ovf(long_attr.as_bytes());
}

fn ova_bytes() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let disk: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let mf = format!(
        "SHA256(rhel9-web-disk1.vmdk)= {}\n",
        manifest::digest_hex(manifest::Algorithm::Sha256, &mut &disk[..]).unwrap()
    );
    for (name, data) in [
        ("rhel9-web.ovf", FIXTURES[0].as_bytes()),
        ("rhel9-web.mf", mf.as_bytes()),
        ("rhel9-web-disk1.vmdk", &disk[..]),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn mutated_archives_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mutant.ova");
    let base = ova_bytes();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for round in 0..300 {
        let mut bytes = base.clone();
        // Aim most mutations at headers (first 512 bytes of each member).
        for _ in 0..=rng.below(6) {
            let header = [0usize, 512 * (1 + FIXTURES[0].len().div_ceil(512))][rng.below(2)];
            let i = (header + rng.below(512)).min(bytes.len() - 1);
            bytes[i] = rng.next() as u8;
        }
        if round % 5 == 0 {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
        }
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(pkg) = Package::open(&path, &PackageOptions::default()) {
            for m in pkg.members() {
                href::check(&m.name).expect("only safe names are indexed");
            }
            let report = pkg.verify_manifest();
            if let Ok(env) = pkg.envelope(&ParseOptions::default()) {
                let vms = pkg.vms(&env, "mutant.ova", Some(&report));
                serde_json::to_string(&vms).unwrap();
            }
        }
    }
}

#[test]
fn random_text_through_small_parsers() {
    let mut rng = Rng(42);
    let seeds = [
        "SHA256(disk1.vmdk)= 00ff",
        "nfs://server/export/path",
        "server:/export",
        "../a/b",
        "byte * 2^30",
    ];
    for seed in seeds {
        for _ in 0..500 {
            let m = mutate(&mut rng, seed.as_bytes());
            let s = String::from_utf8_lossy(&m);
            let _ = manifest::parse(&s);
            let _ = Location::parse(&s);
            if let Ok(p) = href::check(&s) {
                assert!(
                    !p.split('/').any(|c| c == ".." || c.is_empty()),
                    "{s:?} -> {p:?}"
                );
                assert!(!Path::new(&p).is_absolute());
            }
            let _ = ovf::units::byte_multiplier(&s);
        }
    }
}
