//! TLS for the HTTP listener: a rustls server configuration from PEM files.
//!
//! uv speaks only HTTPS to the `/_/oidc/*` endpoints it derives from the upload URL, so
//! serving the gateway to uv needs TLS on this listener (or a TLS-terminating proxy in
//! front). ALPN offers `h2` and `http/1.1` (actix-web adds both).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the TLS files cannot be used. The message names the configuration key.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct TlsError {
    /// `server.tls_cert_file` or `server.tls_key_file`.
    pub key: &'static str,
    /// What is wrong (never key material).
    pub message: String,
}

/// Loads the certificate chain (leaf first) and the private key (PKCS#8, PKCS#1 or
/// SEC1) and builds a server configuration on the ring provider (the one tonic uses, so
/// one crypto backend is compiled).
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<ServerConfig, TlsError> {
    let cert_error = |message: String| TlsError {
        key: "server.tls_cert_file",
        message,
    };
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|error| cert_error(format!("cannot read '{}': {error}", cert_file.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            cert_error(format!(
                "'{}' is not a PEM certificate chain: {error}",
                cert_file.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(cert_error(format!(
            "'{}' holds no PEM certificate",
            cert_file.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|error| TlsError {
        key: "server.tls_key_file",
        message: format!(
            "'{}' is not a readable PEM private key: {error}",
            key_file.display()
        ),
    })?;
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| cert_error(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| TlsError {
            key: "server.tls_key_file",
            message: format!("does not match the certificate: {error}"),
        })
}
