//! Attestor keys and checkpoint signatures in the form `AnchorMirror` accepts.
//!
//! A signature is secp256k1 over the checkpoint's EIP-712 hash for one destination
//! ([`MirrorDomain`]: chain id and mirror address), encoded as 65 bytes `r ‖ s ‖ v`
//! with `v` 27 or 28. The mirror wants signatures ordered by strictly increasing signer
//! address; [`sign_checkpoint`] sorts, [`sign_one`] does not (for adversarial tests).

use alloy::{
    primitives::{Address, Bytes},
    signers::{SignerSync, local::PrivateKeySigner},
};
use anyhow::Context as _;
use evidence_schemas::checkpoint::{AttestorSignature, Checkpoint, MirrorDomain};

/// One signature by `signer` over `checkpoint` for `domain`, as 65 bytes `r ‖ s ‖ v`.
///
/// # Errors
/// When signing fails (it does not for a local key).
pub fn sign_one(
    checkpoint: &Checkpoint,
    domain: &MirrorDomain,
    signer: &PrivateKeySigner,
) -> anyhow::Result<Bytes> {
    let hash = checkpoint.signing_hash(domain);
    let sig = signer
        .sign_hash_sync(&hash)
        .with_context(|| format!("signing with {}", signer.address()))?;
    Ok(Bytes::from(sig.as_bytes().to_vec()))
}

/// Signatures of every signer in `signers` over `checkpoint` for `domain`, ordered by
/// signer address (the order the mirror requires), with the signer of each.
///
/// # Errors
/// When signing fails.
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    domain: &MirrorDomain,
    signers: &[PrivateKeySigner],
) -> anyhow::Result<Vec<AttestorSignature>> {
    let mut sorted: Vec<&PrivateKeySigner> = signers.iter().collect();
    sorted.sort_by_key(|s| s.address());
    sorted
        .into_iter()
        .map(|s| {
            Ok(AttestorSignature {
                attestor: s.address(),
                signature: sign_one(checkpoint, domain, s)?,
            })
        })
        .collect()
}

/// Just the signature bytes of [`AttestorSignature`]s, as `submitCheckpoint` takes them.
pub fn signature_bytes(signatures: &[AttestorSignature]) -> Vec<Bytes> {
    signatures.iter().map(|s| s.signature.clone()).collect()
}

/// A set of attestor keys, kept sorted by address.
#[derive(Debug, Clone)]
pub struct Attestors {
    signers: Vec<PrivateKeySigner>,
}

impl Attestors {
    /// `n` fresh random keys.
    pub fn random(n: usize) -> Self {
        Self::from_signers((0..n).map(|_| PrivateKeySigner::random()).collect())
    }

    /// The given keys, sorted by address.
    pub fn from_signers(mut signers: Vec<PrivateKeySigner>) -> Self {
        signers.sort_by_key(PrivateKeySigner::address);
        Self { signers }
    }

    /// The keys, in increasing address order.
    pub fn signers(&self) -> &[PrivateKeySigner] {
        &self.signers
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.signers.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.signers.is_empty()
    }

    /// The addresses, in increasing order (as `setAttestors` may take them).
    pub fn addresses(&self) -> Vec<Address> {
        self.signers.iter().map(PrivateKeySigner::address).collect()
    }

    /// Signature bytes of the first `count` keys (in address order) over `checkpoint`,
    /// ready for `submitCheckpoint`.
    ///
    /// # Errors
    /// When `count` exceeds the set, or signing fails.
    pub fn sign(
        &self,
        checkpoint: &Checkpoint,
        domain: &MirrorDomain,
        count: usize,
    ) -> anyhow::Result<Vec<Bytes>> {
        let signers = self.signers.get(..count).with_context(|| {
            format!("asked for {count} signatures from {} attestors", self.len())
        })?;
        Ok(signature_bytes(&sign_checkpoint(
            checkpoint, domain, signers,
        )?))
    }
}
