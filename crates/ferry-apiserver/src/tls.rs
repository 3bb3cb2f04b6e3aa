//! The data directory's certificates: a self-signed CA kept across restarts
//! (so kubeconfigs stay valid) and a serving certificate signed by it.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::error::Error;
use crate::fsutil::{read_private, write_private};

/// The CA certificate (PEM) and the rustls server configuration.
pub struct Tls {
    /// CA certificate PEM (goes into the kubeconfig).
    pub ca_pem: String,
    /// Server config for the listener.
    pub config: Arc<rustls::ServerConfig>,
}

fn tls_err(what: impl std::fmt::Display) -> Error {
    Error::Tls {
        what: what.to_string(),
    }
}

fn ca_params() -> Result<CertificateParams, Error> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "ferry embedded API CA");
    dn.push(DnType::OrganizationName, "ferry");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2045, 1, 1);
    Ok(p)
}

/// Load (or create) the CA in `dir` and issue a serving certificate for `listen`.
pub fn setup(dir: &Path, listen: SocketAddr) -> Result<Tls, Error> {
    let key_path = dir.join("ca.key");
    let crt_path = dir.join("ca.crt");
    let (ca_key, ca_pem) = match (read_private(&key_path)?, read_private(&crt_path)?) {
        (Some(k), Some(c)) => (
            KeyPair::from_pem(&k)
                .map_err(|e| tls_err(format!("{} is not a valid key: {e}", key_path.display())))?,
            c,
        ),
        _ => {
            let key = KeyPair::generate().map_err(tls_err)?;
            let cert = ca_params()?.self_signed(&key).map_err(tls_err)?;
            write_private(&key_path, key.serialize_pem().as_bytes())?;
            write_private(&crt_path, cert.pem().as_bytes())?;
            (key, cert.pem())
        }
    };
    let issuer = Issuer::new(ca_params()?, ca_key);
    let mut sans = vec![
        SanType::DnsName("localhost".try_into().map_err(tls_err)?),
        SanType::IpAddress(IpAddr::from([127, 0, 0, 1])),
        SanType::IpAddress("::1".parse().map_err(tls_err)?),
    ];
    let ip = listen.ip();
    if !ip.is_loopback() && !ip.is_unspecified() {
        sans.push(SanType::IpAddress(ip));
    }
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    params.subject_alt_names = sans;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "ferry embedded API server");
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let leaf_key = KeyPair::generate().map_err(tls_err)?;
    let leaf = params.signed_by(&leaf_key, &issuer).map_err(tls_err)?;
    let ca_der = rustls_pemfile::certs(&mut ca_pem.as_bytes())
        .next()
        .ok_or_else(|| tls_err(format!("{} holds no certificate", crt_path.display())))?
        .map_err(tls_err)?;
    let chain = vec![leaf.der().clone(), ca_der];
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).map_err(tls_err)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem,
        config: Arc::new(config),
    })
}
