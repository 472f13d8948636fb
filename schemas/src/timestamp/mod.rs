//! RFC 3161 trusted timestamps over checkpoints.
//!
//! The relayer asks a Time-Stamping Authority (TSA) to timestamp each accepted
//! checkpoint's **EIP-712 signing hash for one destination**
//! ([`Checkpoint::signing_hash`](crate::Checkpoint::signing_hash)): the 32 bytes an
//! attestor signs. The TSA's token binds that hash to the TSA's time (`genTime`); the
//! message imprint is `SHA-256(signing hash)` — the 32 hash bytes are the "document"
//! that is timestamped, exactly as `openssl ts -query -data FILE` would with a file
//! holding those 32 bytes.
//!
//! This module is pure (no I/O): [`build_request`] encodes a `TimeStampReq`,
//! [`verify_response`] checks a TSA's reply to it, and [`verify_token`] checks a stored
//! `TimeStampToken` offline. The checks, each named in [`TimestampError::check`]:
//!
//! 1. `status` — the reply's PKIStatus is granted (or granted with modifications);
//! 2. `token` — the token is CMS SignedData whose content is a TSTInfo;
//! 3. `imprint` — the TSTInfo's message imprint is SHA-256 of the expected bytes;
//! 4. `nonce` — (replies only) the TSTInfo repeats the request's nonce;
//! 5. `signature` — the signed attributes carry content-type TSTInfo and the
//!    message digest of the TSTInfo, and the signer's key signed them;
//! 6. `usage` — the signing certificate's extendedKeyUsage is critical and names
//!    only timeStamping;
//! 7. `chain` — the signing certificate chains, by signatures, to a configured root
//!    (which may be the TSA certificate itself);
//! 8. `validity` — every certificate of that chain is valid at `genTime`.
//!
//! All DER/CMS/X.509 parsing is RustCrypto's (`der`, `cms`, `x509-cert`,
//! `x509-tsp`); the signatures are ECDSA P-256 or RSA PKCS#1 v1.5 with SHA-2.

mod chain;
mod crypto;
mod token;

use alloy_primitives::B256;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

pub use token::{build_request, verify_response, verify_token};

/// A stored timestamp: which TSA, its token, and the time the token states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Timestamp {
    /// The operator's name for the TSA (from `[[timestamping]]`); informative only —
    /// verifiers trust the token's certificate chain, not this name.
    pub tsa: String,
    /// The RFC 3161 `TimeStampToken` (CMS ContentInfo), DER, base64 (standard alphabet,
    /// padded).
    #[serde(with = "base64_der")]
    #[schemars(with = "String")]
    pub token: Vec<u8>,
    /// The token's `genTime`, as the relayer read it (verifiers recompute it).
    #[serde(with = "crate::serde_time")]
    #[schemars(schema_with = "crate::json_schema::rfc3339")]
    pub gen_time: u64,
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTime {
    /// `genTime`, unix seconds (whole seconds).
    pub gen_time: u64,
    /// The TSA certificate's subject, RFC 4514 text (e.g. `CN=Devnet TSA,O=…`).
    pub tsa_subject: String,
    /// The TSA's policy OID.
    pub policy: String,
    /// The token's serial number, hex.
    pub serial: String,
}

/// The TSA root certificates a verifier trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsaRoots {
    roots: Vec<Certificate>,
}

impl TsaRoots {
    /// Roots from PEM text holding one or more `CERTIFICATE` blocks.
    pub fn from_pem(pem: &str) -> Result<Self, TimestampError> {
        let roots = Certificate::load_pem_chain(pem.as_bytes())
            .map_err(|e| TimestampError::Malformed(format!("bad PEM certificate(s): {e}")))?;
        if roots.is_empty() {
            return Err(TimestampError::Malformed(
                "no CERTIFICATE block in the PEM text".into(),
            ));
        }
        Ok(Self { roots })
    }

    /// Adds every root of `other`.
    pub fn extend(&mut self, other: TsaRoots) {
        for r in other.roots {
            if !self.roots.contains(&r) {
                self.roots.push(r);
            }
        }
    }

    /// No root at all.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// How many roots.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// The roots' subjects, RFC 4514 text.
    pub fn subjects(&self) -> Vec<String> {
        self.roots
            .iter()
            .map(|c| c.tbs_certificate.subject.to_string())
            .collect()
    }

    pub(crate) fn certificates(&self) -> &[Certificate] {
        &self.roots
    }
}

/// The imprint a checkpoint's token covers: SHA-256 of the 32-byte EIP-712 signing hash.
pub fn imprint_of(signing_hash: &B256) -> B256 {
    use sha2::Digest as _;
    B256::from_slice(&sha2::Sha256::digest(signing_hash.as_slice()))
}

/// Why a timestamp reply or token is not acceptable, by check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Not DER, not a TimeStampResp/TimeStampToken, or a PEM file without certificates.
    #[error("timestamp check `token` failed: malformed: {0}")]
    Malformed(String),
    /// The TSA refused the request.
    #[error("timestamp check `status` failed: {0}")]
    Status(String),
    /// The token is for other bytes.
    #[error("timestamp check `imprint` failed: {0}")]
    Imprint(String),
    /// The token does not repeat our nonce.
    #[error("timestamp check `nonce` failed: {0}")]
    Nonce(String),
    /// The CMS signature does not verify.
    #[error("timestamp check `signature` failed: {0}")]
    Signature(String),
    /// The signing certificate is not a timestamping certificate.
    #[error("timestamp check `usage` failed: {0}")]
    Usage(String),
    /// The signing certificate does not chain to a trusted root.
    #[error("timestamp check `chain` failed: {0}")]
    Chain(String),
    /// A certificate of the chain is not valid at the token's time.
    #[error("timestamp check `validity` failed: {0}")]
    Validity(String),
    /// A bundle's `gen_time` is not the time its token states.
    #[error("timestamp check `gen_time` failed: {0}")]
    GenTime(String),
}

impl TimestampError {
    /// The failed check's name.
    pub fn check(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "token",
            Self::Status(_) => "status",
            Self::Imprint(_) => "imprint",
            Self::Nonce(_) => "nonce",
            Self::Signature(_) => "signature",
            Self::Usage(_) => "usage",
            Self::Chain(_) => "chain",
            Self::Validity(_) => "validity",
            Self::GenTime(_) => "gen_time",
        }
    }

    /// The input could not be read at all (a usage error, not a failed verification).
    pub fn is_malformed(&self) -> bool {
        matches!(self, Self::Malformed(_))
    }
}

mod base64_der {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("token is not base64: {e}")))
    }
}
