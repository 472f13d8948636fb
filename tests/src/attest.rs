//! Attestor keys and signatures in the form `AnchorMirror` accepts: over checkpoints,
//! attestor-set updates (`rotateAttestors`) and cancellations of an owner proposal
//! (`cancelOwnerRotation`).
//!
//! A signature is secp256k1 over a typed message's EIP-712 hash for one destination
//! ([`MirrorDomain`]: chain id and mirror address), encoded as 65 bytes `r ‖ s ‖ v`
//! with `v` 27 or 28. The mirror wants signatures ordered by strictly increasing signer
//! address; [`sign_checkpoint`] and [`sign_hash_sorted`] sort, [`sign_one`] and
//! [`sign_hash`] do not (for adversarial tests). [`malleate`] turns a signature into its
//! high-`s` twin, which recovers the same key and which the mirror must refuse.

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    signers::{SignerSync, local::PrivateKeySigner},
};
use anyhow::{Context as _, ensure};
use evidence_schemas::{
    attestor_set::SetUpdate,
    checkpoint::{AttestorSignature, Checkpoint, MirrorDomain, recover_signer},
};

/// The order of the secp256k1 group, n.
pub const SECP256K1_N: U256 = U256::from_be_slice(&[
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);

/// One signature by `signer` over the 32-byte `hash`, as 65 bytes `r ‖ s ‖ v` (low `s`).
///
/// # Errors
/// When signing fails (it does not for a local key).
pub fn sign_hash(hash: &B256, signer: &PrivateKeySigner) -> anyhow::Result<Bytes> {
    let sig = signer
        .sign_hash_sync(hash)
        .with_context(|| format!("signing with {}", signer.address()))?;
    Ok(Bytes::from(sig.as_bytes().to_vec()))
}

/// Signatures of every signer in `signers` over `hash`, ordered by signer address (the
/// order the mirror requires).
///
/// # Errors
/// When signing fails.
pub fn sign_hash_sorted(hash: &B256, signers: &[PrivateKeySigner]) -> anyhow::Result<Vec<Bytes>> {
    let mut sorted: Vec<&PrivateKeySigner> = signers.iter().collect();
    sorted.sort_by_key(|s| s.address());
    sorted.into_iter().map(|s| sign_hash(hash, s)).collect()
}

/// Signatures of `signers` (sorted by address) over `update`'s `AttestorSetUpdate`
/// hash for `domain`, as `rotateAttestors` takes them.
///
/// # Errors
/// When signing fails.
pub fn sign_set_update(
    update: &SetUpdate,
    domain: &MirrorDomain,
    signers: &[PrivateKeySigner],
) -> anyhow::Result<Vec<Bytes>> {
    sign_hash_sorted(&update.signing_hash(domain), signers)
}

/// Signatures of `signers` (sorted by address) over the `OwnerRotationCancel` hash of
/// the owner proposal `proposal` for `domain`, as `cancelOwnerRotation` takes them.
///
/// # Errors
/// When signing fails.
pub fn sign_rotation_cancel(
    proposal: &SetUpdate,
    domain: &MirrorDomain,
    signers: &[PrivateKeySigner],
) -> anyhow::Result<Vec<Bytes>> {
    sign_hash_sorted(&proposal.cancel_signing_hash(domain), signers)
}

/// The high-`s` twin of a 65-byte low-`s` signature: `s' = n − s` with the recovery
/// parity flipped. It recovers the same key over the same hash (EIP-2 malleability), so
/// a verifier that took it would count one signer's approval under two encodings.
///
/// # Errors
/// When `sig` is not 65 bytes with `v` 27 or 28, or already has a high `s`.
pub fn malleate(sig: &Bytes) -> anyhow::Result<Bytes> {
    ensure!(
        sig.len() == 65,
        "expected a 65-byte signature, got {} bytes",
        sig.len()
    );
    let mut b = sig.to_vec();
    let s = U256::from_be_slice(&b[32..64]);
    ensure!(s <= SECP256K1_N >> 1, "signature already has a high s");
    b[32..64].copy_from_slice(&(SECP256K1_N - s).to_be_bytes::<32>());
    b[64] = match b[64] {
        27 => 28,
        28 => 27,
        v => anyhow::bail!("expected v 27 or 28, got {v}"),
    };
    Ok(Bytes::from(b))
}

/// The address a 65-byte low-`s` signature recovers to over `hash` — what the mirror's
/// `ecrecover` yields, e.g. the `NotAttestor` signer of a signature made for another
/// message.
///
/// # Errors
/// When the signature is malformed or high-`s`.
pub fn recover(hash: &B256, sig: &[u8]) -> anyhow::Result<Address> {
    recover_signer(hash, sig).map_err(|reason| anyhow::anyhow!("recovering a signature: {reason}"))
}

/// One signature by `signer` over `checkpoint` for `domain`, as 65 bytes `r ‖ s ‖ v`.
///
/// # Errors
/// When signing fails (it does not for a local key).
pub fn sign_one(
    checkpoint: &Checkpoint,
    domain: &MirrorDomain,
    signer: &PrivateKeySigner,
) -> anyhow::Result<Bytes> {
    sign_hash(&checkpoint.signing_hash(domain), signer)
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

    /// The first `count` keys (in address order).
    ///
    /// # Errors
    /// When `count` exceeds the set.
    pub fn first(&self, count: usize) -> anyhow::Result<&[PrivateKeySigner]> {
        self.signers
            .get(..count)
            .with_context(|| format!("asked for {count} signers from {} attestors", self.len()))
    }

    /// Signature bytes of the first `count` keys (in address order) over `update`'s
    /// `AttestorSetUpdate` hash, ready for `rotateAttestors`.
    ///
    /// # Errors
    /// When `count` exceeds the set, or signing fails.
    pub fn sign_update(
        &self,
        update: &SetUpdate,
        domain: &MirrorDomain,
        count: usize,
    ) -> anyhow::Result<Vec<Bytes>> {
        sign_set_update(update, domain, self.first(count)?)
    }

    /// Signature bytes of the first `count` keys (in address order) over the
    /// `OwnerRotationCancel` hash of `proposal`, ready for `cancelOwnerRotation`.
    ///
    /// # Errors
    /// When `count` exceeds the set, or signing fails.
    pub fn sign_cancel(
        &self,
        proposal: &SetUpdate,
        domain: &MirrorDomain,
        count: usize,
    ) -> anyhow::Result<Vec<Bytes>> {
        sign_rotation_cancel(proposal, domain, self.first(count)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malleated_signature_recovers_the_same_key_with_high_s() {
        let key = PrivateKeySigner::random();
        let hash = B256::repeat_byte(0x42);
        let sig = sign_hash(&hash, &key).unwrap();
        let twin = malleate(&sig).unwrap();
        assert_ne!(sig, twin);
        assert!(U256::from_be_slice(&twin[32..64]) > SECP256K1_N >> 1);
        // The strict recovery (ours and the mirror's) refuses the twin …
        assert!(recover(&hash, &twin).is_err());
        // … although plain ECDSA recovery yields the same signer.
        let raw = alloy::primitives::Signature::from_raw(&twin).unwrap();
        assert_eq!(
            raw.recover_address_from_prehash(&hash).unwrap(),
            key.address()
        );
        assert_eq!(recover(&hash, &sig).unwrap(), key.address());
        assert!(
            malleate(&twin).is_err(),
            "a high-s signature is not malleated again"
        );
    }

    #[test]
    fn sorted_signatures_follow_signer_order() {
        let keys: Vec<PrivateKeySigner> = (0..4).map(|_| PrivateKeySigner::random()).collect();
        let hash = B256::repeat_byte(7);
        let sigs = sign_hash_sorted(&hash, &keys).unwrap();
        let signers: Vec<Address> = sigs.iter().map(|s| recover(&hash, s).unwrap()).collect();
        let mut want: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
        want.sort();
        assert_eq!(signers, want);
    }
}
