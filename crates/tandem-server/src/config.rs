//! Server settings. Precedence: command-line flags, then `TANDEM_…` environment variables (both
//! arrive through clap as [`Overrides`]), then the TOML file, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// The URL people reach the server at; `https://…` turns on Secure cookies and HSTS.
    pub public_url: String,
    pub key_file: PathBuf,
    pub session_idle: Duration,
    pub lockout_after_failures: u32,
    pub lockout_for: Duration,
    /// Largest request body in general, and for file uploads.
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub request_timeout: Duration,
    /// Most queries in one batch request (yente allows 100 per /match call).
    pub max_batch: usize,
}

impl ServerConfig {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".to_string(),
            key_file: PathBuf::from("tandem.key"),
            session_idle: Duration::from_secs(30 * 60),
            lockout_after_failures: 6,
            lockout_for: Duration::from_secs(30 * 60),
            max_body_bytes: 1 << 20,
            max_upload_bytes: 64 << 20,
            request_timeout: Duration::from_secs(30),
            max_batch: 100,
        }
    }
}

/// What flags or the environment set (clap merges those two).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub bind: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub key_file: Option<PathBuf>,
}

/// The TOML file's shape; every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<SocketAddr>,
    public_url: Option<String>,
    key_file: Option<PathBuf>,
    session_idle_minutes: Option<u64>,
    lockout_after_failures: Option<u32>,
    lockout_minutes: Option<u64>,
    max_body_bytes: Option<usize>,
    max_upload_bytes: Option<usize>,
    request_timeout_seconds: Option<u64>,
    max_batch: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

impl ServerConfig {
    /// Builds the settings from an optional TOML file and the overrides.
    pub fn resolve(file: Option<&Path>, overrides: Overrides) -> Result<ServerConfig, ConfigError> {
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|err| ConfigError::File {
                    path: path.display().to_string(),
                    message: err.to_string(),
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|err| ConfigError::File {
                    path: path.display().to_string(),
                    message: err.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        let defaults = ServerConfig::default();
        let bind = overrides.bind.or(from_file.bind).unwrap_or(defaults.bind);
        let public_url = overrides
            .public_url
            .or(from_file.public_url)
            .unwrap_or_else(|| format!("http://{bind}"));
        Ok(ServerConfig {
            bind,
            public_url: public_url.trim_end_matches('/').to_string(),
            key_file: overrides
                .key_file
                .or(from_file.key_file)
                .unwrap_or(defaults.key_file),
            session_idle: from_file
                .session_idle_minutes
                .map(|m| Duration::from_secs(m * 60))
                .unwrap_or(defaults.session_idle),
            lockout_after_failures: from_file
                .lockout_after_failures
                .unwrap_or(defaults.lockout_after_failures),
            lockout_for: from_file
                .lockout_minutes
                .map(|m| Duration::from_secs(m * 60))
                .unwrap_or(defaults.lockout_for),
            max_body_bytes: from_file.max_body_bytes.unwrap_or(defaults.max_body_bytes),
            max_upload_bytes: from_file
                .max_upload_bytes
                .unwrap_or(defaults.max_upload_bytes),
            request_timeout: from_file
                .request_timeout_seconds
                .map(Duration::from_secs)
                .unwrap_or(defaults.request_timeout),
            max_batch: from_file.max_batch.unwrap_or(defaults.max_batch),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tandem.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\nsession_idle_minutes = 10\nkey_file = \"/etc/tandem.key\"\n",
        )
        .unwrap();
        let config = ServerConfig::resolve(
            Some(&path),
            Overrides {
                key_file: Some(PathBuf::from("flag.key")),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(config.bind.port(), 9000);
        assert_eq!(config.key_file, PathBuf::from("flag.key"));
        assert_eq!(config.session_idle, Duration::from_secs(600));
        assert_eq!(config.lockout_after_failures, 6);
        assert!(!config.secure_cookies());
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tandem.toml");
        std::fs::write(&path, "bnid = \"x\"\n").unwrap();
        let err = ServerConfig::resolve(Some(&path), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("bnid"), "{err}");
    }
}
