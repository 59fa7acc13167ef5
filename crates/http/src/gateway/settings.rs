//! `[gateway]`: the upload gateway in front of an index that has no Trusted Publishing.

use serde::{Deserialize, Serialize, Serializer};

/// PyPI's default file size limit.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// `[gateway]`. `Serialize` (for the configuration reference) redacts the password.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// Serve `POST <path>` on the HTTP listener.
    pub enabled: bool,
    /// The index's upload URL (`http://127.0.0.1:8081/` for pypiserver).
    pub upstream: String,
    /// The index account trustmint uploads as.
    pub upstream_username: String,
    /// Its password (secret; prefer `upstream_password_file`).
    #[serde(serialize_with = "redacted")]
    pub upstream_password: String,
    /// A file holding the password (a mounted secret); wins over `upstream_password`.
    pub upstream_password_file: String,
    /// The upload path clients publish to.
    pub path: String,
    /// Largest accepted upload body in bytes.
    pub max_upload_bytes: u64,
    /// Time allowed for forwarding one upload and reading the index's answer.
    pub timeout_secs: u64,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            enabled: false,
            upstream: String::new(),
            upstream_username: String::new(),
            upstream_password: String::new(),
            upstream_password_file: String::new(),
            path: "/legacy/".to_owned(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            timeout_secs: 300,
        }
    }
}

impl std::fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("enabled", &self.enabled)
            .field("upstream", &self.upstream)
            .field("upstream_username", &self.upstream_username)
            .field("upstream_password", &"<redacted>")
            .field("upstream_password_file", &self.upstream_password_file)
            .field("path", &self.path)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

fn redacted<S: Serializer>(secret: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(if secret.is_empty() { "" } else { "<redacted>" })
}

/// The checked gateway configuration: the upstream parsed, the password read.
#[derive(Clone)]
pub struct GatewayConfig {
    /// The index's upload URL.
    pub upstream: url::Url,
    /// The index account.
    pub username: String,
    /// Its password (never logged).
    pub password: String,
    /// The upload path.
    pub path: String,
    /// Largest accepted upload body.
    pub max_upload_bytes: u64,
    /// Forwarding time limit.
    pub timeout: std::time::Duration,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("upstream", &self.upstream.as_str())
            .field("username", &self.username)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl GatewaySettings {
    /// Checks the section and reads the password file; `None` when disabled. Every
    /// message names its key.
    pub fn load(&self) -> Result<Option<GatewayConfig>, String> {
        if !self.enabled {
            return Ok(None);
        }
        let upstream = url::Url::parse(&self.upstream).map_err(|error| {
            format!(
                "gateway.upstream: '{}' is not a URL ({error})",
                self.upstream
            )
        })?;
        if !matches!(upstream.scheme(), "http" | "https") {
            return Err("gateway.upstream: must be an http:// or https:// URL".to_owned());
        }
        if !upstream.username().is_empty() || upstream.password().is_some() {
            return Err(
                "gateway.upstream: put the credentials in upstream_username and upstream_password(_file), not in the URL"
                    .to_owned(),
            );
        }
        if !self.path.starts_with('/') {
            return Err(format!("gateway.path: '{}' must start with '/'", self.path));
        }
        if self.path.starts_with("/_/")
            || ["/metrics", "/healthz", "/readyz"].contains(&self.path.as_str())
        {
            return Err(format!(
                "gateway.path: '{}' is one of trustmint's own routes",
                self.path
            ));
        }
        if self.max_upload_bytes == 0 {
            return Err("gateway.max_upload_bytes: must be at least 1".to_owned());
        }
        if self.timeout_secs == 0 {
            return Err("gateway.timeout_secs: must be at least 1".to_owned());
        }
        let password = if self.upstream_password_file.is_empty() {
            self.upstream_password.clone()
        } else {
            std::fs::read_to_string(&self.upstream_password_file)
                .map_err(|error| {
                    format!(
                        "gateway.upstream_password_file: cannot read '{}': {error}",
                        self.upstream_password_file
                    )
                })?
                .trim_end_matches(['\r', '\n'])
                .to_owned()
        };
        if self.upstream_username.is_empty() != password.is_empty() {
            return Err(
                "gateway.upstream_username: set both the username and the password (or neither, for an index that takes anonymous uploads)"
                    .to_owned(),
            );
        }
        Ok(Some(GatewayConfig {
            upstream,
            username: self.upstream_username.clone(),
            password,
            path: self.path.clone(),
            max_upload_bytes: self.max_upload_bytes,
            timeout: std::time::Duration::from_secs(self.timeout_secs),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled() -> GatewaySettings {
        GatewaySettings {
            enabled: true,
            upstream: "http://127.0.0.1:8081/".to_owned(),
            upstream_username: "trustmint".to_owned(),
            upstream_password: "hunter2".to_owned(),
            ..GatewaySettings::default()
        }
    }

    #[test]
    fn bad_sections_name_their_key() {
        type Change = fn(&mut GatewaySettings);
        let cases: [(Change, &str); 6] = [
            (
                |s| s.upstream = "not a url".into(),
                "gateway.upstream: 'not a url' is not a URL (relative URL without a base)",
            ),
            (
                |s| s.upstream = "ftp://x/".into(),
                "gateway.upstream: must be an http:// or https:// URL",
            ),
            (
                |s| s.upstream = "http://u:p@x/".into(),
                "gateway.upstream: put the credentials in upstream_username and upstream_password(_file), not in the URL",
            ),
            (
                |s| s.path = "legacy/".into(),
                "gateway.path: 'legacy/' must start with '/'",
            ),
            (
                |s| s.path = "/_/oidc/mint-token".into(),
                "gateway.path: '/_/oidc/mint-token' is one of trustmint's own routes",
            ),
            (
                |s| s.upstream_password = String::new(),
                "gateway.upstream_username: set both the username and the password (or neither, for an index that takes anonymous uploads)",
            ),
        ];
        for (change, expected) in cases {
            let mut settings = enabled();
            change(&mut settings);
            assert_eq!(settings.load().unwrap_err(), expected);
        }
        assert!(GatewaySettings::default().load().unwrap().is_none());
    }

    #[test]
    fn the_password_file_wins_and_is_never_shown() {
        let dir = std::env::temp_dir().join(format!("tm-gw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("password");
        std::fs::write(&file, "from-file\n").unwrap();
        let mut settings = enabled();
        settings.upstream_password_file = file.display().to_string();
        let config = settings.load().unwrap().unwrap();
        assert_eq!(config.password, "from-file");
        assert!(!format!("{config:?}{settings:?}").contains("hunter2"));
        assert!(!format!("{config:?}").contains("from-file"));
        assert_eq!(
            serde_json::to_value(&settings).unwrap()["upstream_password"],
            "<redacted>"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
