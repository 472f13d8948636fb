//! The trust root: whose keys an offline verifier trusts.
//!
//! A proof bundle names the attestor set that signed its checkpoint, but a bundle
//! cannot vouch for its own signers: anyone can make a one-leaf log and sign it with two
//! fresh keys. A verifier therefore pins, per destination mirror and source chain, the
//! attestor sets it trusts, in a trust-root file (`bridge trust export`; JSON Schema
//! `schemas/json/trust-root.v1.schema.json`). The model is Sigstore's
//! `trusted_root.json` with TUF-style chaining: every set version is listed with how it
//! was installed; a `signed_rotation` carries the previous set's signatures, so the
//! chain from a pinned version to a later one can be checked with no node.
//!
//! An optional `tsa_roots` list names the RFC 3161 TSA root certificates whose
//! timestamps the verifier accepts ([`TrustRoot::tsa_roots`]).
//!
//! [`TrustRoot::parse`] reads a file strictly (no unknown field, no key twice, every set
//! well formed, versions consecutive); [`TrustRoot::check_bundle`] decides whether a
//! bundle's signers are trusted:
//!
//! 1. `trust_mirror` — the bundle's destination (chain, mirror) is in the file;
//! 2. `trust_source` — the record's source chain is listed for that mirror;
//! 3. `trust_version` — the bundle's `attestor_set_version` is listed;
//! 4. `trust_members` — with exactly the bundle's members (as a set) and threshold;
//! 5. `trust_chain` — and that version is trusted: pinned, or a `signed_rotation` whose
//!    signatures ([`verify_update_signatures`] over the `AttestorSetUpdate` of that
//!    version, in the listed member order, under the mirror's EIP-712 domain) verify
//!    against the previous version, itself trusted. A `first_set` or `owner_timelock`
//!    version is trusted only when pinned: the owner alone installed it.

use alloy_primitives::{Address, B256, Bytes};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{attestor_set::SetAuthorization, chain::ChainId};

mod check;

pub use check::{TrustError, TrustFileError, TrustedSigners};

/// The trust-root format version this build writes and reads.
pub const TRUST_ROOT_VERSION: u64 = 1;

/// The `media_type` of a trust-root file.
pub const TRUST_ROOT_MEDIA_TYPE: &str = "application/vnd.evidence-bridge.trust-root.v1+json";

/// Every destination mirror a verifier trusts, with the attestor-set history of each
/// source chain on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustRoot {
    /// Always [`TRUST_ROOT_MEDIA_TYPE`].
    #[schemars(extend("const" = TRUST_ROOT_MEDIA_TYPE))]
    pub media_type: String,
    /// Format version: 1.
    #[schemars(extend("const" = TRUST_ROOT_VERSION))]
    pub version: u64,
    /// When it was exported (RFC 3339, informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<String>,
    /// The mirrors.
    pub mirrors: Vec<TrustedMirror>,
    /// RFC 3161 TSA roots trusted for bundle timestamps (optional; absent in files
    /// from before timestamps, which stay valid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tsa_roots: Vec<TrustedTsa>,
}

/// One trusted Time-Stamping Authority root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedTsa {
    /// The operator's name for the TSA (informational).
    pub name: String,
    /// The root CA certificate (or the TSA's own certificate), PEM.
    pub certificate_pem: String,
}

impl TrustRoot {
    /// The TSA roots listed in `tsa_roots`, parsed.
    pub fn tsa_roots(
        &self,
    ) -> Result<crate::timestamp::TsaRoots, crate::timestamp::TimestampError> {
        let mut all = crate::timestamp::TsaRoots::default();
        for t in &self.tsa_roots {
            all.extend(crate::timestamp::TsaRoots::from_pem(&t.certificate_pem)?);
        }
        Ok(all)
    }
}

/// One destination mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedMirror {
    /// CAIP-2 id of the destination chain (an `eip155` chain).
    pub chain: ChainId,
    /// Address of the `AnchorMirror` on it.
    #[schemars(schema_with = "crate::json_schema::address")]
    pub mirror: Address,
    /// The mirror's owner-rotation timelock in seconds, when known (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_rotation_delay_secs: Option<u64>,
    /// Per source chain, its attestor sets on this mirror.
    pub sources: Vec<TrustedSource>,
}

/// The attestor-set history of one source chain on one mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedSource {
    /// CAIP-2 id of the source chain.
    pub source_chain: ChainId,
    /// The set versions, oldest first, consecutive.
    pub sets: Vec<TrustedSet>,
}

/// One attestor-set version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedSet {
    /// Set version on the mirror (1 = first set).
    #[schemars(range(min = 1))]
    pub version: u64,
    /// The members, in the order the mirror stores (and a rotation signed) them.
    #[schemars(schema_with = "crate::json_schema::address_list")]
    pub attestors: Vec<Address>,
    /// Signatures a checkpoint needs under this set (1..=members).
    #[schemars(range(min = 1, max = 255))]
    pub threshold: u8,
    /// Destination block in which the set took effect.
    pub effective_block: u64,
    /// Transaction that installed it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::json_schema::optional_hex32")]
    pub tx_hash: Option<B256>,
    /// How it was installed.
    pub authorization: SetAuthorization,
    /// For `signed_rotation`: the previous version's signatures over the
    /// `AttestorSetUpdate` (sorted by signer); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::json_schema::signature_list")]
    pub signatures: Vec<Bytes>,
    /// Whether the verifier trusts this version directly, without a signed chain from
    /// an earlier pinned version. `bridge trust export` pins first sets only; an
    /// owner-installed set must be pinned explicitly by whoever vouches for it.
    #[serde(default)]
    pub pinned: bool,
}
