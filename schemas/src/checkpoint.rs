//! Checkpoints of a source chain's log, and their EIP-712 signatures.
//!
//! A checkpoint says "the log of chain S had `size` records with root `root` as of
//! source block (`source_block_number`, `source_block_hash`)". Attestors sign it as
//! EIP-712 typed data whose domain binds the **destination** chain id and mirror
//! address, so a signature made for one destination is worthless on another:
//!
//! ```text
//! EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
//!   name = "EvidenceBridge AnchorMirror", version = "1"
//! Checkpoint(bytes32 sourceChain,uint64 size,bytes32 root,uint64 sourceBlockNumber,bytes32 sourceBlockHash)
//!   sourceChain = keccak256(bytes(caip2 id))
//! ```
//!
//! The rules in [`verify_signatures`] are the mirror contract's rules: at least
//! `threshold` signatures, each from a member of the attestor set, signers in strictly
//! increasing address order (which also rules out duplicates).

use alloy_primitives::{Address, B256, Bytes, Signature};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::chain::ChainId;

/// EIP-712 domain name of the mirror contract.
pub const MIRROR_DOMAIN_NAME: &str = "EvidenceBridge AnchorMirror";
/// EIP-712 domain version of the mirror contract.
pub const MIRROR_DOMAIN_VERSION: &str = "1";

/// The Solidity view of a checkpoint, as signed and as passed to the mirror.
pub mod sol {
    alloy_sol_types::sol! {
        /// A checkpoint as the mirror contract and EIP-712 see it.
        #[derive(Debug, PartialEq, Eq)]
        struct Checkpoint {
            bytes32 sourceChain;
            uint64 size;
            bytes32 root;
            uint64 sourceBlockNumber;
            bytes32 sourceBlockHash;
        }
    }
}

/// A checkpoint of one source chain's log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Checkpoint {
    /// CAIP-2 id of the source chain whose log this is.
    pub source_chain: ChainId,
    /// Number of records in the log.
    pub size: u64,
    /// RFC 6962 root of the first `size` records.
    #[schemars(schema_with = "crate::json_schema::hex32")]
    pub root: B256,
    /// Source block up to which the log was built.
    pub source_block_number: u64,
    /// Hash of that block.
    #[schemars(schema_with = "crate::json_schema::hex32")]
    pub source_block_hash: B256,
}

/// Where a checkpoint is to be accepted: the destination chain and its mirror contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MirrorDomain {
    /// EIP-155 chain id of the destination chain.
    pub chain_id: u64,
    /// Address of the `AnchorMirror` on it.
    pub mirror: Address,
}

impl MirrorDomain {
    /// The EIP-712 domain.
    pub fn eip712(&self) -> Eip712Domain {
        eip712_domain! {
            name: MIRROR_DOMAIN_NAME,
            version: MIRROR_DOMAIN_VERSION,
            chain_id: self.chain_id,
            verifying_contract: self.mirror,
        }
    }
}

impl Checkpoint {
    /// The Solidity struct.
    pub fn to_sol(&self) -> sol::Checkpoint {
        sol::Checkpoint {
            sourceChain: self.source_chain.key(),
            size: self.size,
            root: self.root,
            sourceBlockNumber: self.source_block_number,
            sourceBlockHash: self.source_block_hash,
        }
    }

    /// The EIP-712 hash an attestor signs for this destination.
    pub fn signing_hash(&self, domain: &MirrorDomain) -> B256 {
        self.to_sol().eip712_signing_hash(&domain.eip712())
    }
}

/// One attestor's signature over a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct AttestorSignature {
    /// The attestor's address (as claimed; verification recovers it).
    #[schemars(schema_with = "crate::json_schema::address")]
    pub attestor: Address,
    /// 65-byte `r ‖ s ‖ v` secp256k1 signature of the EIP-712 hash.
    #[schemars(schema_with = "crate::json_schema::signature")]
    pub signature: Bytes,
}

/// A checkpoint with the signatures gathered for one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Signatures, sorted by attestor address ascending.
    pub signatures: Vec<AttestorSignature>,
}

/// Why a set of checkpoint signatures is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Fewer signatures than the threshold.
    #[error("{got} signatures, threshold is {threshold}")]
    BelowThreshold {
        /// Signatures given.
        got: usize,
        /// Signatures needed.
        threshold: u8,
    },
    /// A signature that is not 65 bytes or does not recover.
    #[error("signature #{index} is malformed: {reason}")]
    Malformed {
        /// Position in the list.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A signature that recovers to an address other than the one it claims.
    #[error("signature #{index} claims attestor {claimed} but was made by {recovered}")]
    WrongSigner {
        /// Position in the list.
        index: usize,
        /// Claimed attestor.
        claimed: Address,
        /// Recovered signer.
        recovered: Address,
    },
    /// A signer outside the attestor set.
    #[error("signer {signer} is not in the attestor set")]
    NotAttestor {
        /// The signer.
        signer: Address,
    },
    /// Signers not in strictly increasing order (or repeated).
    #[error("signers must be distinct and sorted by address: {previous} then {signer}")]
    NotSorted {
        /// The previous signer.
        previous: Address,
        /// The signer out of order.
        signer: Address,
    },
}

/// Recovers the signer of a 65-byte signature over `hash`.
pub fn recover_signer(hash: &B256, signature: &[u8]) -> Result<Address, String> {
    if signature.len() != 65 {
        return Err(format!("expected 65 bytes, got {}", signature.len()));
    }
    let sig = Signature::try_from(signature).map_err(|e| e.to_string())?;
    if sig.normalize_s().is_some() {
        return Err("high-s signature (not canonical, EIP-2)".into());
    }
    sig.recover_address_from_prehash(hash)
        .map_err(|e| e.to_string())
}

/// Checks signatures the way the mirror contract does, returning the signers.
pub fn verify_signatures(
    checkpoint: &Checkpoint,
    domain: &MirrorDomain,
    signatures: &[AttestorSignature],
    attestors: &[Address],
    threshold: u8,
) -> Result<Vec<Address>, SignatureError> {
    if threshold == 0 || signatures.len() < usize::from(threshold) {
        return Err(SignatureError::BelowThreshold {
            got: signatures.len(),
            threshold,
        });
    }
    let hash = checkpoint.signing_hash(domain);
    let mut signers = Vec::with_capacity(signatures.len());
    for (index, s) in signatures.iter().enumerate() {
        let recovered = recover_signer(&hash, &s.signature)
            .map_err(|reason| SignatureError::Malformed { index, reason })?;
        if recovered != s.attestor {
            return Err(SignatureError::WrongSigner {
                index,
                claimed: s.attestor,
                recovered,
            });
        }
        accept_signer(&mut signers, recovered, attestors)?;
    }
    Ok(signers)
}

/// The mirror's rule for each recovered signer: a member of the set, and after every
/// earlier signer in strictly increasing address order (so no signer counts twice).
pub(crate) fn accept_signer(
    signers: &mut Vec<Address>,
    signer: Address,
    members: &[Address],
) -> Result<(), SignatureError> {
    if !members.contains(&signer) {
        return Err(SignatureError::NotAttestor { signer });
    }
    if let Some(&previous) = signers.last()
        && signer <= previous
    {
        return Err(SignatureError::NotSorted { previous, signer });
    }
    signers.push(signer);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, keccak256};
    use alloy_sol_types::SolValue;

    fn cp() -> Checkpoint {
        Checkpoint {
            source_chain: ChainId::eip155(31337),
            size: 7,
            root: B256::repeat_byte(5),
            source_block_number: 99,
            source_block_hash: B256::repeat_byte(6),
        }
    }

    #[test]
    fn signing_hash_matches_eip712_by_hand() {
        let domain = MirrorDomain {
            chain_id: 31338,
            mirror: Address::repeat_byte(0xaa),
        };
        let type_hash = keccak256(
            "Checkpoint(bytes32 sourceChain,uint64 size,bytes32 root,uint64 sourceBlockNumber,bytes32 sourceBlockHash)",
        );
        let c = cp();
        let struct_hash = keccak256(
            (
                type_hash,
                c.source_chain.key(),
                U256::from(c.size),
                c.root,
                U256::from(c.source_block_number),
                c.source_block_hash,
            )
                .abi_encode(),
        );
        let domain_type = keccak256(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
        );
        let separator = keccak256(
            (
                domain_type,
                keccak256(MIRROR_DOMAIN_NAME),
                keccak256(MIRROR_DOMAIN_VERSION),
                U256::from(31338u64),
                domain.mirror,
            )
                .abi_encode(),
        );
        let mut buf = vec![0x19, 0x01];
        buf.extend_from_slice(separator.as_slice());
        buf.extend_from_slice(struct_hash.as_slice());
        assert_eq!(c.signing_hash(&domain), keccak256(buf));
    }

    #[test]
    fn another_destination_changes_the_hash() {
        let a = MirrorDomain {
            chain_id: 1,
            mirror: Address::repeat_byte(1),
        };
        let b = MirrorDomain {
            chain_id: 2,
            mirror: Address::repeat_byte(1),
        };
        let c = MirrorDomain {
            chain_id: 1,
            mirror: Address::repeat_byte(2),
        };
        let h = cp().signing_hash(&a);
        assert_ne!(h, cp().signing_hash(&b));
        assert_ne!(h, cp().signing_hash(&c));
    }

    #[test]
    fn malformed_signatures_are_errors_not_panics() {
        let h = B256::repeat_byte(1);
        assert!(recover_signer(&h, &[0u8; 64]).is_err());
        assert!(recover_signer(&h, &[0u8; 65]).is_err());
        let sigs = vec![AttestorSignature {
            attestor: Address::ZERO,
            signature: Bytes::from(vec![1u8; 65]),
        }];
        let domain = MirrorDomain {
            chain_id: 1,
            mirror: Address::ZERO,
        };
        assert!(verify_signatures(&cp(), &domain, &sigs, &[Address::ZERO], 1).is_err());
        assert!(matches!(
            verify_signatures(&cp(), &domain, &[], &[Address::ZERO], 1),
            Err(SignatureError::BelowThreshold {
                got: 0,
                threshold: 1
            })
        ));
    }
}
