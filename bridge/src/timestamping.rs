//! `[[timestamping]]`: the RFC 3161 Time-Stamping Authorities `bridge run` asks for a
//! token over every accepted checkpoint (see `docs/OPERATIONS.md`).
//!
//! ```toml
//! [[timestamping]]
//! name = "devnet-tsa"                       # stored with each token, shown in lookups
//! url = "http://127.0.0.1:8318/tsa"         # POST application/timestamp-query
//! root_cert = "/etc/bridge/tsa-root.pem"    # the TSA's root CA (or its own certificate), PEM
//! timeout_ms = 10000                        # optional, default 10 s
//! ```

use std::{collections::HashSet, path::PathBuf, time::Duration};

use evidence_relayer::stages::timestamp::TsaClient;
use evidence_schemas::timestamp::TsaRoots;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// One TSA.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimestampingSettings {
    /// The operator's name for the TSA: letters, digits, `-`, `_`, `.`; unique.
    pub(crate) name: String,
    /// The TSA's URL (`http://` or `https://`).
    pub(crate) url: String,
    /// PEM file with the certificate(s) the TSA's certificate must chain to: its root
    /// CA, or the TSA certificate itself. A path relative to the working directory.
    pub(crate) root_cert: PathBuf,
    /// Milliseconds before a request is given up (and retried later). Default 10 000.
    #[serde(default = "d_timeout")]
    pub(crate) timeout_ms: u64,
}

fn d_timeout() -> u64 {
    10_000
}

impl TimestampingSettings {
    /// The roots read from `root_cert`.
    pub(crate) fn load_roots(&self) -> Result<TsaRoots, ConfigError> {
        let text = std::fs::read_to_string(&self.root_cert).map_err(|e| {
            ConfigError::Invalid(format!(
                "timestamping {:?}: cannot read root_cert {}: {e}",
                self.name,
                self.root_cert.display()
            ))
        })?;
        TsaRoots::from_pem(&text).map_err(|e| {
            ConfigError::Invalid(format!(
                "timestamping {:?}: root_cert {} holds no usable certificate: {e}",
                self.name,
                self.root_cert.display()
            ))
        })
    }
}

/// Checks the list: names unique and plain, URLs http(s), timeouts positive, every
/// `root_cert` a readable PEM certificate.
pub(crate) fn validate(list: &[TimestampingSettings]) -> Result<(), ConfigError> {
    let mut names = HashSet::new();
    for t in list {
        let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
        if t.name.is_empty() || t.name.len() > 64 || !t.name.bytes().all(plain) {
            return Err(ConfigError::Invalid(format!(
                "timestamping name {:?}: use 1-64 letters, digits, '-', '_' or '.'",
                t.name
            )));
        }
        if !names.insert(t.name.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "timestamping name {:?} is used twice",
                t.name
            )));
        }
        if !(t.url.starts_with("http://") || t.url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "timestamping {:?}: url {:?} must start with http:// or https://",
                t.name, t.url
            )));
        }
        if t.timeout_ms == 0 {
            return Err(ConfigError::Invalid(format!(
                "timestamping {:?}: timeout_ms must be positive",
                t.name
            )));
        }
        t.load_roots()?;
    }
    Ok(())
}

/// One client per configured TSA.
pub(crate) fn clients(list: &[TimestampingSettings]) -> Result<Vec<TsaClient>, ConfigError> {
    list.iter()
        .map(|t| {
            TsaClient::new(
                t.name.clone(),
                t.url.clone(),
                t.load_roots()?,
                Duration::from_millis(t.timeout_ms),
            )
            .map_err(|e| ConfigError::Invalid(e.to_string()))
        })
        .collect()
}

/// Every configured TSA root, for verifying stored tokens and `bridge trust export`.
pub(crate) fn configured_roots(list: &[TimestampingSettings]) -> Result<TsaRoots, ConfigError> {
    let mut all = TsaRoots::default();
    for t in list {
        all.extend(t.load_roots()?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tsa(name: &str, url: &str, root_cert: PathBuf) -> TimestampingSettings {
        TimestampingSettings {
            name: name.into(),
            url: url.into(),
            root_cert,
            timeout_ms: 1000,
        }
    }

    #[test]
    fn entries_are_checked_and_root_certs_read() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("root.pem");
        let out = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "1",
            ])
            .args(["-subj", "/CN=Config Test Root", "-keyout"])
            .arg(dir.path().join("root.key"))
            .arg("-out")
            .arg(&pem)
            .output()
            .expect("openssl runs (bash deploy/scripts/install-tools.sh installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let good = tsa("a-tsa", "http://127.0.0.1:1/tsa", pem.clone());
        validate(std::slice::from_ref(&good)).unwrap();
        let roots =
            configured_roots(&[good.clone(), tsa("b", "https://b.example/tsr", pem.clone())])
                .unwrap();
        assert_eq!(
            roots.subjects(),
            ["CN=Config Test Root"],
            "the same root twice counts once"
        );
        assert_eq!(
            clients(std::slice::from_ref(&good)).unwrap()[0].name,
            "a-tsa"
        );

        let not_pem = dir.path().join("root.key.txt");
        std::fs::write(&not_pem, "hello").unwrap();
        let cases = [
            (vec![good.clone(), good.clone()], "used twice"),
            (
                vec![tsa("bad name", "http://x/tsa", pem.clone())],
                "use 1-64 letters",
            ),
            (
                vec![tsa("a", "ftp://x/tsa", pem.clone())],
                "must start with http",
            ),
            (
                vec![tsa("a", "http://x/tsa", dir.path().join("missing.pem"))],
                "cannot read root_cert",
            ),
            (
                vec![tsa("a", "http://x/tsa", not_pem)],
                "holds no usable certificate",
            ),
            (
                vec![TimestampingSettings {
                    timeout_ms: 0,
                    ..good.clone()
                }],
                "timeout_ms must be positive",
            ),
        ];
        for (list, why) in cases {
            let e = validate(&list).unwrap_err().to_string();
            assert!(e.contains(why), "{why}: {e}");
        }
    }
}
