//! TLS for the engine and imageio: trust the CA from the Provider's Secret
//! (`cacert`), the system roots, or nothing (`insecureSkipVerify`).
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::{Error, ErrorKind, Result};

/// How to trust the engine (and the imageio daemons it sends us to).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM bundle of CA certificates to trust instead of the system roots
    /// (Forklift's Secret key `cacert`: the engine CA).
    pub cacert_pem: Option<String>,
    /// Accept any certificate (Forklift's `insecureSkipVerify`).
    pub insecure_skip_verify: bool,
}

/// Accepts every certificate; signatures are still checked.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The rustls client configuration for `opts`.
pub(crate) fn client_config(opts: &TlsOptions) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Tls, format!("TLS setup failed: {e}")))?;
    if opts.insecure_skip_verify {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    match &opts.cacert_pem {
        Some(pem) => {
            for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
                let cert = cert.map_err(|e| {
                    Error::invalid(format!("cacert is not a PEM certificate bundle: {e}"))
                })?;
                roots.add(cert).map_err(|e| {
                    Error::invalid(format!("cacert holds a certificate rustls cannot use: {e}"))
                })?;
            }
            if roots.is_empty() {
                return Err(Error::invalid(
                    "cacert holds no PEM certificate (want -----BEGIN CERTIFICATE-----)",
                ));
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(Error::new(
                    ErrorKind::TlsUntrusted,
                    "no system root certificates found: give the engine CA as cacert",
                ));
            }
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cacert_without_certificates_is_refused() {
        for pem in ["", "not a pem"] {
            let opts = TlsOptions {
                cacert_pem: Some(pem.into()),
                insecure_skip_verify: false,
            };
            let err = client_config(&opts).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(err.to_string().contains("cacert"), "{err}");
        }
    }
}
