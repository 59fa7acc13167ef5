//! The `[grpc]` config section and what it resolves to.

use serde::{Deserialize, Serialize, Serializer};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use crate::AcceptedTokens;

/// `[grpc]`: authentication and TLS of the index-facing API.
/// `Serialize` (for the generated configuration reference) redacts `auth_token` and
/// `auth_tokens`.
///
/// The accepted bearer tokens are the lines of `auth_token_file` when it is set;
/// otherwise `auth_token` together with `auth_tokens`. Several at once let the index's
/// token be rotated without a restart (see [`GrpcSettings::load_auth_tokens`]).
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcSettings {
    /// Bearer token every call must carry; empty = no authentication (loopback only!).
    #[serde(serialize_with = "redacted")]
    pub auth_token: String,
    /// More bearer tokens, each accepted like `auth_token` (rotation: list old and new).
    #[serde(serialize_with = "redacted_list")]
    pub auth_tokens: Vec<String>,
    /// File holding the bearer tokens, one per line (wins over `auth_token` and
    /// `auth_tokens`); surrounding whitespace and blank lines are ignored.
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
            .field("auth_tokens", &self.auth_tokens.len())
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

/// Serializes every secret of a list as `<redacted>`.
fn redacted_list<S: Serializer>(secrets: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(secrets.iter().map(|_| "<redacted>"))
}

/// The listener's security, loaded from the files the settings name.
#[derive(Clone, Default)]
pub struct GrpcSecurity {
    /// The bearer tokens calls must carry one of (none = no authentication). A handle:
    /// keep a clone to replace them while the server runs (config reload).
    pub auth_tokens: AcceptedTokens,
    /// TLS (and mTLS) for the listener.
    pub tls: Option<ServerTlsConfig>,
}

impl std::fmt::Debug for GrpcSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcSecurity")
            .field("auth_tokens", &self.auth_tokens.len())
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

fn read(key: &str, path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("{key}: cannot read '{path}': {error}"))
}

impl GrpcSettings {
    /// The bearer tokens calls may carry, checked: the non-blank lines of
    /// `auth_token_file` (each trimmed) when it is set, otherwise `auth_token` and
    /// `auth_tokens`; duplicates kept once. Empty = no authentication. Errors name the
    /// key: an unreadable or empty file, an empty `auth_tokens` entry.
    pub fn load_auth_tokens(&self) -> Result<Vec<String>, String> {
        let mut tokens: Vec<String> = Vec::new();
        if !self.auth_token_file.is_empty() {
            let text = read("grpc.auth_token_file", &self.auth_token_file)?;
            tokens.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(str::to_owned),
            );
            if tokens.is_empty() {
                return Err(format!(
                    "grpc.auth_token_file: '{}' is empty",
                    self.auth_token_file
                ));
            }
        } else {
            if !self.auth_token.is_empty() {
                tokens.push(self.auth_token.clone());
            }
            for (index, token) in self.auth_tokens.iter().enumerate() {
                if token.trim().is_empty() {
                    return Err(format!("grpc.auth_tokens[{index}]: must not be empty"));
                }
                tokens.push(token.clone());
            }
        }
        let mut unique: Vec<String> = Vec::with_capacity(tokens.len());
        for token in tokens {
            if !unique.contains(&token) {
                unique.push(token);
            }
        }
        Ok(unique)
    }

    /// Reads the token and TLS files. Errors name the key.
    pub fn load(&self) -> Result<GrpcSecurity, String> {
        let auth_tokens = AcceptedTokens::new(self.load_auth_tokens()?);
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
        Ok(GrpcSecurity { auth_tokens, tls })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(auth_token: &str, auth_tokens: &[&str], auth_token_file: &str) -> GrpcSettings {
        GrpcSettings {
            auth_token: auth_token.to_owned(),
            auth_tokens: auth_tokens.iter().map(|t| (*t).to_owned()).collect(),
            auth_token_file: auth_token_file.to_owned(),
            ..GrpcSettings::default()
        }
    }

    #[test]
    fn inline_tokens_are_auth_token_and_auth_tokens_together() {
        // (auth_token, auth_tokens, accepted)
        let rows: [(&str, &[&str], &[&str]); 5] = [
            ("", &[], &[]),
            ("a", &[], &["a"]),
            ("", &["a", "b"], &["a", "b"]),
            ("a", &["b", "c"], &["a", "b", "c"]),
            ("a", &["a", "b", "b"], &["a", "b"]),
        ];
        for (auth_token, auth_tokens, accepted) in rows {
            let loaded = settings(auth_token, auth_tokens, "")
                .load_auth_tokens()
                .expect("valid");
            assert_eq!(loaded, accepted, "{auth_token:?} {auth_tokens:?}");
        }
        assert_eq!(
            settings("a", &["b", " "], "").load_auth_tokens(),
            Err("grpc.auth_tokens[1]: must not be empty".to_owned())
        );
    }

    #[test]
    fn the_token_file_holds_one_token_per_line_and_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            path.display().to_string()
        };
        // (file content, accepted)
        let rows: [(&str, &[&str]); 4] = [
            ("only-token", &["only-token"]),
            ("  padded-token \n", &["padded-token"]),
            ("old-token\nnew-token\n", &["old-token", "new-token"]),
            ("\n first \r\n\n\tsecond\t\nfirst\n", &["first", "second"]),
        ];
        for (index, (text, accepted)) in rows.into_iter().enumerate() {
            let path = file(&format!("token-{index}"), text);
            let loaded = settings("ignored-inline", &["ignored-too"], &path)
                .load_auth_tokens()
                .expect("valid");
            assert_eq!(loaded, accepted, "{text:?}");
        }

        let blank = file("blank", " \n\n\t\n");
        assert_eq!(
            settings("", &[], &blank).load_auth_tokens(),
            Err(format!("grpc.auth_token_file: '{blank}' is empty"))
        );
        let missing = dir.path().join("missing").display().to_string();
        let error = settings("", &[], &missing)
            .load_auth_tokens()
            .expect_err("missing file");
        assert!(
            error.starts_with(&format!("grpc.auth_token_file: cannot read '{missing}': ")),
            "{error}"
        );
    }

    #[test]
    fn load_accepts_every_token_and_serializing_redacts_them() {
        let security = settings("token-a", &["token-b"], "").load().expect("loads");
        assert_eq!(security.auth_tokens.len(), 2);
        assert!(security.auth_tokens.accepts(b"token-a"));
        assert!(security.auth_tokens.accepts(b"token-b"));
        assert!(!security.auth_tokens.accepts(b"token-c"));

        let grpc = settings("token-a", &["token-b", "token-c"], "");
        let json = serde_json::to_value(&grpc).expect("serializes");
        assert_eq!(json["auth_token"], "<redacted>");
        assert_eq!(
            json["auth_tokens"],
            serde_json::json!(["<redacted>", "<redacted>"])
        );
        let debug = format!("{grpc:?} {security:?}");
        for secret in ["token-a", "token-b", "token-c"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
