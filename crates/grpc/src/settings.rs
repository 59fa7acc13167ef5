//! The `[grpc]` config section and what it resolves to.

use serde::{Deserialize, Serialize, Serializer};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// `[grpc]`: authentication and TLS of the index-facing API.
/// `Serialize` (for the generated configuration reference) redacts `auth_token`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcSettings {
    /// Bearer token every call must carry; empty = no authentication (loopback only!).
    #[serde(serialize_with = "redacted")]
    pub auth_token: String,
    /// File holding the bearer token (wins over `auth_token`); surrounding whitespace
    /// is ignored.
    pub auth_token_file: String,
    /// PEM certificate chain for TLS; empty = plaintext.
    pub tls_cert_file: String,
    /// PEM private key for TLS.
    pub tls_key_file: String,
    /// PEM CA bundle: when set, clients must present a certificate it signed (mTLS).
    pub tls_client_ca_file: String,
}

impl std::fmt::Debug for GrpcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = if self.auth_token.is_empty() {
            ""
        } else {
            "<redacted>"
        };
        f.debug_struct("GrpcSettings")
            .field("auth_token", &redacted)
            .field("auth_token_file", &self.auth_token_file)
            .field("tls_cert_file", &self.tls_cert_file)
            .field("tls_key_file", &self.tls_key_file)
            .field("tls_client_ca_file", &self.tls_client_ca_file)
            .finish()
    }
}

/// Serializes a secret as `<redacted>` (empty stays empty, so defaults read true).
fn redacted<S: Serializer>(secret: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(if secret.is_empty() { "" } else { "<redacted>" })
}

/// The listener's security, loaded from the files the settings name.
#[derive(Clone, Default)]
pub struct GrpcSecurity {
    /// The bearer token calls must carry.
    pub auth_token: Option<String>,
    /// TLS (and mTLS) for the listener.
    pub tls: Option<ServerTlsConfig>,
}

impl std::fmt::Debug for GrpcSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcSecurity")
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

fn read(key: &str, path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("{key}: cannot read '{path}': {error}"))
}

impl GrpcSettings {
    /// Reads the token and TLS files. Errors name the key.
    pub fn load(&self) -> Result<GrpcSecurity, String> {
        let auth_token = if !self.auth_token_file.is_empty() {
            let token = read("grpc.auth_token_file", &self.auth_token_file)?
                .trim()
                .to_owned();
            if token.is_empty() {
                return Err(format!(
                    "grpc.auth_token_file: '{}' is empty",
                    self.auth_token_file
                ));
            }
            Some(token)
        } else if !self.auth_token.is_empty() {
            Some(self.auth_token.clone())
        } else {
            None
        };
        if self.tls_cert_file.is_empty() != self.tls_key_file.is_empty() {
            return Err("grpc.tls_cert_file/grpc.tls_key_file: set both or neither".to_owned());
        }
        let tls = if self.tls_cert_file.is_empty() {
            if !self.tls_client_ca_file.is_empty() {
                return Err(
                    "grpc.tls_client_ca_file: mTLS needs grpc.tls_cert_file and grpc.tls_key_file"
                        .to_owned(),
                );
            }
            None
        } else {
            let identity = Identity::from_pem(
                read("grpc.tls_cert_file", &self.tls_cert_file)?,
                read("grpc.tls_key_file", &self.tls_key_file)?,
            );
            let mut tls = ServerTlsConfig::new().identity(identity);
            if !self.tls_client_ca_file.is_empty() {
                tls = tls.client_ca_root(Certificate::from_pem(read(
                    "grpc.tls_client_ca_file",
                    &self.tls_client_ca_file,
                )?));
            }
            Some(tls)
        };
        Ok(GrpcSecurity { auth_token, tls })
    }
}
