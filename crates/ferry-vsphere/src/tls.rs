//! TLS for vCenter/ESXi: trust a given CA (`cacert`), the system roots, or
//! nothing (`insecure_skip_verify`), and optionally pin the server
//! certificate's SHA-1 thumbprint (Forklift's Secret key `thumbprint`).
//!
//! Rules, in order: the observed leaf thumbprint is always recorded; if a
//! thumbprint is pinned, the certificate is accepted exactly when it matches
//! (as govmomi does for known thumbprints, a match replaces chain
//! validation); otherwise `insecure_skip_verify` accepts anything, and else
//! the chain must verify against `cacert` (when given) or the system roots.
use std::sync::{Arc, Mutex};

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use sha1::{Digest, Sha1};

use crate::error::{Error, ErrorKind, Result};

/// How to trust the server.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM bundle of CA (or self-signed server) certificates to trust
    /// instead of the system roots (Forklift's Secret key `cacert`).
    pub cacert_pem: Option<String>,
    /// Accept any certificate (Forklift's `insecureSkipVerify`). A pinned
    /// thumbprint is still enforced.
    pub insecure_skip_verify: bool,
    /// SHA-1 thumbprint to pin, colon-separated hex (`AA:BB:...`, 20 bytes);
    /// case and separators are ignored.
    pub thumbprint: Option<String>,
}

/// SHA-1 of a DER certificate as upper-case colon hex.
pub fn thumbprint_of(der: &[u8]) -> String {
    let sum = Sha1::digest(der);
    sum.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parse a thumbprint in colon (or plain) hex into 20 bytes.
pub fn parse_thumbprint(s: &str) -> Result<[u8; 20]> {
    let hex: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect();
    let bad = || {
        Error::invalid(format!(
            "thumbprint {s:?} is not a SHA-1 fingerprint: want 20 bytes of hex like AB:CD:..."
        ))
    };
    if hex.len() != 40 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 20];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// What the handshakes saw; shared by every connection of a client.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// Thumbprint of the last leaf certificate seen.
    pub thumbprint: Mutex<Option<String>>,
    /// Set when the last handshake failed on the pin: (expected, observed).
    pub mismatch: Mutex<Option<(String, String)>>,
}

impl Observed {
    pub(crate) fn thumbprint(&self) -> Option<String> {
        self.thumbprint.lock().ok().and_then(|g| g.clone())
    }
}

#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    pin: Option<([u8; 20], String)>,
    observed: Arc<Observed>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let seen = thumbprint_of(end_entity);
        if let Ok(mut g) = self.observed.thumbprint.lock() {
            *g = Some(seen.clone());
        }
        if let Some((pin, shown)) = &self.pin {
            let sum = Sha1::digest(end_entity.as_ref());
            if sum.as_slice() == pin.as_slice() {
                return Ok(ServerCertVerified::assertion());
            }
            if let Ok(mut g) = self.observed.mismatch.lock() {
                *g = Some((shown.clone(), seen.clone()));
            }
            return Err(rustls::Error::General(format!(
                "certificate thumbprint mismatch: expected {shown}, observed {seen}"
            )));
        }
        match &self.chain {
            None => Ok(ServerCertVerified::assertion()),
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Build the rustls client configuration for `opts`.
pub(crate) fn client_config(
    opts: &TlsOptions,
) -> Result<(Arc<rustls::ClientConfig>, Arc<Observed>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pin = match &opts.thumbprint {
        Some(t) if !t.trim().is_empty() => {
            let bytes = parse_thumbprint(t)?;
            Some((bytes, thumbprint_of_bytes(&bytes)))
        }
        _ => None,
    };
    let chain = if opts.insecure_skip_verify || pin.is_some() {
        None
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match &opts.cacert_pem {
            Some(pem) => {
                let mut n = 0;
                for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
                    let cert = cert.map_err(|e| {
                        Error::invalid(format!("cacert is not a PEM certificate bundle: {e}"))
                    })?;
                    roots.add(cert).map_err(|e| {
                        Error::invalid(format!("cacert holds a certificate rustls cannot use: {e}"))
                    })?;
                    n += 1;
                }
                if n == 0 {
                    return Err(Error::invalid(
                        "cacert holds no PEM certificate (want -----BEGIN CERTIFICATE-----)",
                    ));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for cert in found.certs {
                    let _ = roots.add(cert);
                }
                if roots.is_empty() {
                    return Err(Error::new(
                        ErrorKind::TlsUntrusted,
                        "no system root certificates found: give cacert or a thumbprint",
                    ));
                }
            }
        }
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| {
                    Error::invalid(format!("cannot build the certificate verifier: {e}"))
                })?,
        )
    };
    let observed = Arc::new(Observed::default());
    let verifier = Arc::new(Verifier {
        chain,
        pin,
        observed: observed.clone(),
        provider: provider.clone(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Tls, format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((Arc::new(config), observed))
}

fn thumbprint_of_bytes(b: &[u8; 20]) -> String {
    b.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Classify a failed TLS handshake.
pub(crate) fn handshake_error(host: &str, err: std::io::Error, observed: &Observed) -> Error {
    let seen = observed.thumbprint();
    if let Some((expected, got)) = observed.mismatch.lock().ok().and_then(|mut g| g.take()) {
        return Error::new(
            ErrorKind::ThumbprintMismatch,
            format!(
                "the certificate of {host} does not match the pinned thumbprint: expected {expected}, observed {got}"
            ),
        )
        .with_thumbprint(Some(got));
    }
    let rustls_err = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .cloned();
    match rustls_err {
        Some(rustls::Error::InvalidCertificate(c)) => Error::new(
            ErrorKind::TlsUntrusted,
            format!(
                "the certificate of {host} is not trusted ({c:?}): give its CA as cacert, pin its thumbprint{}, or set insecure_skip_verify",
                seen.as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
        )
        .with_thumbprint(seen),
        Some(other) => Error::new(
            ErrorKind::Tls,
            format!("TLS handshake with {host} failed: {other}"),
        )
        .with_thumbprint(seen),
        None => Error::new(
            ErrorKind::Connect,
            format!("TLS handshake with {host} failed"),
        )
        .with_source(err)
        .with_thumbprint(seen),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn thumbprints_parse_and_print() {
        let t = "0a:1B:2c:3D:4e:5F:60:71:82:93:a4:B5:c6:D7:e8:F9:0A:1b:2C:3d";
        let b = parse_thumbprint(t).unwrap();
        assert_eq!(thumbprint_of_bytes(&b), t.to_uppercase());
        assert!(parse_thumbprint("AB:CD").is_err());
        assert!(parse_thumbprint(&"ZZ:".repeat(20)[..59]).is_err());
        // SHA-1 of the empty string.
        assert_eq!(
            thumbprint_of(b""),
            "DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09"
        );
    }

    #[test]
    fn bad_cacert_is_an_invalid_argument() {
        let opts = TlsOptions {
            cacert_pem: Some("not a pem".into()),
            ..TlsOptions::default()
        };
        assert_eq!(
            client_config(&opts).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}
