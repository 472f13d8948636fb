//! The serving side of the configuration: the HTTP API (`[api]`: listen address, body
//! size, time limits, connection cap, anchoring tokens), how this instance takes part in
//! attestation (`[attestation]`, including who may ask its attestor endpoint to sign
//! and how often), and the remote attestors a relaying instance asks (`[[attestors]]`).

use std::{net::IpAddr, str::FromStr, time::Duration};

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The HTTP API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApiSettings {
    /// Socket address to listen on, e.g. `127.0.0.1:8080`. Absent: `bridge run` serves
    /// no API, and `bridge serve` needs `--listen`.
    #[serde(default)]
    pub(crate) listen: Option<std::net::SocketAddr>,
    /// Hex SHA-256 hashes of the bearer tokens accepted by `POST /api/v1/anchor` (the
    /// tokens themselves never appear here: `printf %s "$TOKEN" | sha256sum`). Empty:
    /// anchoring over HTTP is off.
    #[serde(default)]
    pub(crate) anchor_tokens_sha256: Vec<String>,
    /// Largest request body accepted, in bytes.
    #[serde(default = "d_max_body")]
    pub(crate) max_body_bytes: usize,
    /// A request not answered within this many milliseconds gets 503 (with a JSON body).
    #[serde(default = "d_request_timeout")]
    pub(crate) request_timeout_ms: u64,
    /// A connection whose request headers are not complete this many milliseconds after
    /// it opened, or after the previous answer on it, is closed. This is also how long a
    /// keep-alive connection may sit idle between requests.
    #[serde(default = "d_header_timeout")]
    pub(crate) header_timeout_ms: u64,
    /// A request body that does not arrive within this many milliseconds of its headers
    /// gets 408 (JSON) and the connection is closed.
    #[serde(default = "d_body_timeout")]
    pub(crate) body_timeout_ms: u64,
    /// A connection on which no byte moves, either way, for this many milliseconds is
    /// closed (a client that stops reading an answer, a stalled upload).
    #[serde(default = "d_idle_timeout")]
    pub(crate) idle_timeout_ms: u64,
    /// Open connections served at once; beyond it new connections get 503 (JSON) and are
    /// closed. Keep it well under the process's file-descriptor limit.
    #[serde(default = "d_max_connections")]
    pub(crate) max_connections: usize,
    /// The node's public URL, where people reach its lookup page (e.g.
    /// `https://evidence.example.org`): the certificate's QR code opens
    /// `{public_url}/?digest=…`. Absent: `http://{listen}`.
    #[serde(default)]
    pub(crate) public_url: Option<String>,
    /// MiB of lookup answers kept per process while the store stands still (see
    /// docs/API.md); 0 turns the cache off. At most 4096.
    #[serde(default = "d_answer_cache_mib")]
    pub(crate) answer_cache_mib: usize,
}

fn d_max_body() -> usize {
    64 * 1024
}
fn d_request_timeout() -> u64 {
    30_000
}
fn d_header_timeout() -> u64 {
    10_000
}
fn d_body_timeout() -> u64 {
    10_000
}
fn d_idle_timeout() -> u64 {
    60_000
}
fn d_answer_cache_mib() -> usize {
    32
}
fn d_max_connections() -> usize {
    1024
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            listen: None,
            anchor_tokens_sha256: Vec::new(),
            max_body_bytes: d_max_body(),
            request_timeout_ms: d_request_timeout(),
            header_timeout_ms: d_header_timeout(),
            body_timeout_ms: d_body_timeout(),
            idle_timeout_ms: d_idle_timeout(),
            max_connections: d_max_connections(),
            public_url: None,
            answer_cache_mib: d_answer_cache_mib(),
        }
    }
}

impl ApiSettings {
    /// Where people reach this node's lookup page: `public_url`, else `http://{listen}`.
    pub(crate) fn lookup_base(&self) -> Option<String> {
        self.public_url
            .clone()
            .or_else(|| self.listen.map(|l| format!("http://{l}")))
            .map(|u| u.trim_end_matches('/').to_owned())
    }

    /// The accepted token hashes, decoded. Errors name the bad entry.
    pub(crate) fn token_hashes(&self) -> Result<Vec<[u8; 32]>, ConfigError> {
        token_hashes("api.anchor_tokens_sha256", &self.anchor_tokens_sha256)
    }

    /// The connection limits the server applies.
    pub(crate) fn limits(&self) -> ServerLimits {
        ServerLimits {
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            body_timeout: Duration::from_millis(self.body_timeout_ms),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            max_connections: self.max_connections,
        }
    }

    /// Every limit positive.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.token_hashes()?;
        if self.answer_cache_mib > 4096 {
            return Err(ConfigError::Invalid(format!(
                "api.answer_cache_mib is {} MiB; at most 4096 (0 turns the cache off)",
                self.answer_cache_mib
            )));
        }
        for (key, value) in [
            ("max_body_bytes", self.max_body_bytes as u64),
            ("request_timeout_ms", self.request_timeout_ms),
            ("header_timeout_ms", self.header_timeout_ms),
            ("body_timeout_ms", self.body_timeout_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
            ("max_connections", self.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!(
                    "api.{key} must be positive (remove it for the default)"
                )));
            }
        }
        Ok(())
    }
}

/// Time and connection limits of the HTTP server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerLimits {
    /// See [`ApiSettings::header_timeout_ms`].
    pub(crate) header_timeout: Duration,
    /// See [`ApiSettings::body_timeout_ms`].
    pub(crate) body_timeout: Duration,
    /// See [`ApiSettings::idle_timeout_ms`].
    pub(crate) idle_timeout: Duration,
    /// See [`ApiSettings::request_timeout_ms`].
    pub(crate) request_timeout: Duration,
    /// See [`ApiSettings::max_connections`].
    pub(crate) max_connections: usize,
}

/// Hex SHA-256 token hashes of the config key `key`, decoded.
fn token_hashes(key: &str, hashes: &[String]) -> Result<Vec<[u8; 32]>, ConfigError> {
    hashes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let text = h.trim().strip_prefix("0x").unwrap_or(h.trim());
            let mut out = [0u8; 32];
            hex::decode_to_slice(text, &mut out).map_err(|_| {
                ConfigError::Invalid(format!(
                    "{key}[{i}] is not 64 hex digits; put the SHA-256 of the token there \
                     (`printf %s \"$TOKEN\" | sha256sum`), never the token itself"
                ))
            })?;
            Ok(out)
        })
        .collect()
}

/// How this instance takes part in attestation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttestationSettings {
    /// `true`: index, checkpoint, serve signatures and watch the mirrors, never submit.
    /// Default: attest-only exactly when no relayer key is configured.
    #[serde(default)]
    pub(crate) attest_only: Option<bool>,
    /// Timeout of one signing request to a remote attestor, in milliseconds.
    #[serde(default = "d_attestor_timeout")]
    pub(crate) request_timeout_ms: u64,
    /// Hex SHA-256 hashes of the bearer tokens of the relayers this attestor serves
    /// (each relayer sends its token from `[[attestors]] token_env`). Empty: no token
    /// is asked for.
    #[serde(default)]
    pub(crate) relayer_tokens_sha256: Vec<String>,
    /// Addresses or CIDR blocks (`10.0.0.7`, `192.0.2.0/24`, `2001:db8::/32`) allowed
    /// to ask this attestor to sign. Empty: any address.
    #[serde(default)]
    pub(crate) relayer_allow: Vec<String>,
    /// Signing requests per second one client address may make, sustained.
    #[serde(default = "d_sign_rate")]
    pub(crate) sign_requests_per_sec: u32,
    /// Requests one client address may make in a burst above that rate.
    #[serde(default = "d_sign_burst")]
    pub(crate) sign_burst: u32,
    /// Signing requests checked at once (each reads the store and may ask the node);
    /// more wait their turn, bounded by `api.request_timeout_ms`.
    #[serde(default = "d_max_concurrent_signs")]
    pub(crate) max_concurrent_signs: usize,
}

fn d_attestor_timeout() -> u64 {
    5000
}
fn d_sign_rate() -> u32 {
    20
}
fn d_sign_burst() -> u32 {
    40
}
fn d_max_concurrent_signs() -> usize {
    4
}

impl Default for AttestationSettings {
    fn default() -> Self {
        Self {
            attest_only: None,
            request_timeout_ms: d_attestor_timeout(),
            relayer_tokens_sha256: Vec::new(),
            relayer_allow: Vec::new(),
            sign_requests_per_sec: d_sign_rate(),
            sign_burst: d_sign_burst(),
            max_concurrent_signs: d_max_concurrent_signs(),
        }
    }
}

/// Who may ask the attestor endpoint, and how often (the checked form of
/// [`AttestationSettings`]).
#[derive(Debug, Clone)]
pub(crate) struct SignPolicy {
    /// Accepted relayer token hashes (empty: none asked for).
    pub(crate) token_hashes: Vec<[u8; 32]>,
    /// Allowed client networks (empty: any).
    pub(crate) allow: Vec<ipnet::IpNet>,
    /// Sustained requests per second per client address.
    pub(crate) rate_per_sec: u32,
    /// Burst per client address.
    pub(crate) burst: u32,
    /// Signing requests checked at once.
    pub(crate) max_concurrent: usize,
}

impl AttestationSettings {
    /// The checked signing policy; errors name the bad key.
    pub(crate) fn sign_policy(&self) -> Result<SignPolicy, ConfigError> {
        let allow = self
            .relayer_allow
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let a = a.trim();
                ipnet::IpNet::from_str(a).or_else(|_| IpAddr::from_str(a).map(ipnet::IpNet::from)).map_err(|_| {
                    ConfigError::Invalid(format!(
                        "attestation.relayer_allow[{i}] = {a:?} is not an IP address or CIDR block (e.g. 192.0.2.7 or 192.0.2.0/24)"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        if self.sign_requests_per_sec == 0 || self.sign_burst == 0 || self.max_concurrent_signs == 0
        {
            return Err(ConfigError::Invalid(
                "attestation.sign_requests_per_sec, sign_burst and max_concurrent_signs must be positive".into(),
            ));
        }
        Ok(SignPolicy {
            token_hashes: token_hashes(
                "attestation.relayer_tokens_sha256",
                &self.relayer_tokens_sha256,
            )?,
            allow,
            rate_per_sec: self.sign_requests_per_sec,
            burst: self.sign_burst,
            max_concurrent: self.max_concurrent_signs,
        })
    }
}

/// One remote attestor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemoteAttestorSettings {
    /// Base URL of its API (`http://host:port`); the relayer POSTs to
    /// `{url}/api/v1/attestor/checkpoints/sign`.
    pub(crate) url: String,
    /// The attestor address it signs with.
    pub(crate) address: Address,
    /// Environment variable holding the bearer token this attestor gave us (its
    /// `attestation.relayer_tokens_sha256` lists the token's hash). Absent: none sent.
    #[serde(default)]
    pub(crate) token_env: Option<String>,
}

impl RemoteAttestorSettings {
    /// The token from `token_env`, if configured; a named but unset variable is an error.
    pub(crate) fn token(&self) -> Result<Option<String>, ConfigError> {
        let Some(name) = &self.token_env else {
            return Ok(None);
        };
        match std::env::var(name) {
            Ok(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_owned())),
            _ => Err(ConfigError::Invalid(format!(
                "attestor {}: token_env names {name}, which is not set (export the token the attestor's operator gave you)",
                evidence_adapters::redact::redact_url(&self.url)
            ))),
        }
    }
}
