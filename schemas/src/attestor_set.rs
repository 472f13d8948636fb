//! Attestor-set changes and their EIP-712 authorizations.
//!
//! A mirror's owner installs only the first attestor set of a source chain. Every later
//! set is authorized in one of two ways (the mirror's `AttestorSetChanged` event says
//! which, see [`SetAuthorization`]):
//!
//! - **signed by the previous set**: at least the previous set's threshold of its members
//!   sign an [`sol::AttestorSetUpdate`] (same EIP-712 domain as checkpoints: destination
//!   chain id + mirror address), and anyone submits it (`rotateAttestors`);
//! - **owner after timelock**: the owner proposes, waits the mirror's fixed delay, and
//!   executes; the current set's threshold can cancel by signing an
//!   [`sol::OwnerRotationCancel`] of the proposal.
//!
//! ```text
//! AttestorSetUpdate(bytes32 sourceChain,uint64 newVersion,address[] attestors,uint8 threshold)
//! OwnerRotationCancel(bytes32 sourceChain,uint64 newVersion,address[] attestors,uint8 threshold)
//!   sourceChain = keccak256(bytes(caip2 id)); attestors hashed as keccak256 of the
//!   concatenated 32-byte left-padded addresses, in the signed order
//! ```
//!
//! The rules of [`verify_update_signatures`] are the mirror's: at least the previous
//! threshold of signatures, each recovering (low-s) to a distinct member of the
//! previous set, in strictly increasing signer order.

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolStruct;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    chain::ChainId,
    checkpoint::{MirrorDomain, SignatureError, accept_signer, recover_signer},
};

/// The Solidity views of the typed messages.
pub mod sol {
    alloy_sol_types::sol! {
        /// The next attestor set, as the current set signs it.
        #[derive(Debug, PartialEq, Eq)]
        struct AttestorSetUpdate {
            bytes32 sourceChain;
            uint64 newVersion;
            address[] attestors;
            uint8 threshold;
        }

        /// The current set's cancellation of the owner's pending proposal.
        #[derive(Debug, PartialEq, Eq)]
        struct OwnerRotationCancel {
            bytes32 sourceChain;
            uint64 newVersion;
            address[] attestors;
            uint8 threshold;
        }
    }
}

/// How an attestor-set version was installed on a mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SetAuthorization {
    /// The first set of a source, installed by the mirror's owner (a trust anchor that
    /// a verifier must check out of band).
    FirstSet,
    /// Signed by at least the threshold of the previous version.
    SignedRotation,
    /// Proposed by the owner and executed after the mirror's timelock (trusted only
    /// when a verifier pins it explicitly).
    OwnerTimelock,
}

impl SetAuthorization {
    /// From the contract's `SetAuthorization` enum value.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::FirstSet),
            1 => Some(Self::SignedRotation),
            2 => Some(Self::OwnerTimelock),
            _ => None,
        }
    }

    /// Words for a person: "first set", "signed by version N", "owner after timelock".
    pub fn describe(self, version: u64) -> String {
        match self {
            Self::FirstSet => "first set (installed by the owner)".to_owned(),
            Self::SignedRotation => format!("signed by version {}", version.saturating_sub(1)),
            Self::OwnerTimelock => "owner after timelock".to_owned(),
        }
    }
}

/// A proposed attestor set for one source chain on one destination mirror.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetUpdate {
    /// The source chain whose attestors these are.
    pub source_chain: ChainId,
    /// The version it becomes (current + 1).
    pub new_version: u64,
    /// The members, in the order signed (the CLI sorts them ascending).
    pub attestors: Vec<Address>,
    /// Signatures a checkpoint needs under it.
    pub threshold: u8,
}

impl SetUpdate {
    /// The `AttestorSetUpdate` struct.
    pub fn to_sol(&self) -> sol::AttestorSetUpdate {
        sol::AttestorSetUpdate {
            sourceChain: self.source_chain.key(),
            newVersion: self.new_version,
            attestors: self.attestors.clone(),
            threshold: self.threshold,
        }
    }

    /// The EIP-712 hash the previous set signs to install this set.
    pub fn signing_hash(&self, domain: &MirrorDomain) -> B256 {
        self.to_sol().eip712_signing_hash(&domain.eip712())
    }

    /// The EIP-712 hash the current set signs to cancel an owner proposal of this set.
    pub fn cancel_signing_hash(&self, domain: &MirrorDomain) -> B256 {
        sol::OwnerRotationCancel {
            sourceChain: self.source_chain.key(),
            newVersion: self.new_version,
            attestors: self.attestors.clone(),
            threshold: self.threshold,
        }
        .eip712_signing_hash(&domain.eip712())
    }
}

/// Checks 65-byte signatures over `hash` the way the mirror does: at least `threshold`,
/// each recovering to a member of `members`, strictly increasing by signer. Returns the
/// signers.
pub fn verify_update_signatures(
    hash: &B256,
    signatures: &[Bytes],
    members: &[Address],
    threshold: u8,
) -> Result<Vec<Address>, SignatureError> {
    if threshold == 0 || signatures.len() < usize::from(threshold) {
        return Err(SignatureError::BelowThreshold {
            got: signatures.len(),
            threshold,
        });
    }
    let mut signers: Vec<Address> = Vec::with_capacity(signatures.len());
    for (index, sig) in signatures.iter().enumerate() {
        let signer = recover_signer(hash, sig)
            .map_err(|reason| SignatureError::Malformed { index, reason })?;
        accept_signer(&mut signers, signer, members)?;
    }
    Ok(signers)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloy_primitives::{U256, keccak256};
    use alloy_sol_types::SolValue;

    fn update() -> SetUpdate {
        SetUpdate {
            source_chain: ChainId::eip155(31337),
            new_version: 2,
            attestors: vec![Address::repeat_byte(1), Address::repeat_byte(2)],
            threshold: 2,
        }
    }

    #[test]
    fn signing_hash_matches_eip712_by_hand() {
        let domain = MirrorDomain {
            chain_id: 31338,
            mirror: Address::repeat_byte(0xaa),
        };
        let u = update();
        let type_hash = keccak256(
            "AttestorSetUpdate(bytes32 sourceChain,uint64 newVersion,address[] attestors,uint8 threshold)",
        );
        let mut packed = Vec::new();
        for a in &u.attestors {
            packed.extend_from_slice(&[0u8; 12]);
            packed.extend_from_slice(a.as_slice());
        }
        let struct_hash = keccak256(
            (
                type_hash,
                u.source_chain.key(),
                U256::from(u.new_version),
                keccak256(&packed),
                U256::from(u.threshold),
            )
                .abi_encode(),
        );
        let mut buf = vec![0x19, 0x01];
        buf.extend_from_slice(domain.eip712().separator().as_slice());
        buf.extend_from_slice(struct_hash.as_slice());
        assert_eq!(u.signing_hash(&domain), keccak256(buf));
        assert_ne!(
            u.signing_hash(&domain),
            u.cancel_signing_hash(&domain),
            "update and cancel are distinct messages"
        );
    }

    #[test]
    fn every_field_and_the_domain_change_the_hash() {
        let d = MirrorDomain {
            chain_id: 1,
            mirror: Address::repeat_byte(1),
        };
        let h = update().signing_hash(&d);
        let mut u = update();
        u.new_version = 3;
        assert_ne!(h, u.signing_hash(&d));
        let mut u = update();
        u.threshold = 1;
        assert_ne!(h, u.signing_hash(&d));
        let mut u = update();
        u.attestors.reverse();
        assert_ne!(h, u.signing_hash(&d));
        let mut u = update();
        u.source_chain = ChainId::eip155(5);
        assert_ne!(h, u.signing_hash(&d));
        assert_ne!(h, update().signing_hash(&MirrorDomain { chain_id: 2, ..d }));
        assert_ne!(
            h,
            update().signing_hash(&MirrorDomain {
                mirror: Address::repeat_byte(2),
                ..d
            })
        );
    }

    #[test]
    fn authorization_codes() {
        assert_eq!(
            SetAuthorization::from_u8(0),
            Some(SetAuthorization::FirstSet)
        );
        assert_eq!(
            SetAuthorization::from_u8(1),
            Some(SetAuthorization::SignedRotation)
        );
        assert_eq!(
            SetAuthorization::from_u8(2),
            Some(SetAuthorization::OwnerTimelock)
        );
        assert_eq!(SetAuthorization::from_u8(3), None);
        assert_eq!(
            SetAuthorization::SignedRotation.describe(3),
            "signed by version 2"
        );
    }
}
