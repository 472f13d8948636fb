//! A deployed `AnchorMirror` with one source chain and its attestors, ready for
//! checkpoints and attestor-set rotations: the set-up every mirror test, the gas bench
//! and relayer tests share.

use alloy::{
    primitives::{Address, B256, Bytes},
    providers::DynProvider,
    rpc::types::TransactionReceipt,
};
use anyhow::Context as _;
use evidence_schemas::{
    ChainId,
    attestor_set::SetUpdate,
    checkpoint::{Checkpoint, MirrorDomain},
    log::MerkleLog,
};

use crate::{
    Attestors, Devchain,
    contracts::AnchorMirror::{self, AnchorMirrorInstance},
    devchain::send_tx,
};

/// A mirror owned by dev account 0, with `attestors` (threshold `threshold`) installed
/// as the first set (version 1) of `source`.
#[derive(Debug, Clone)]
pub struct MirrorSetup {
    /// The mirror, called from dev account 0 (the owner).
    pub mirror: AnchorMirrorInstance<DynProvider>,
    /// Its EIP-712 domain (the dev chain's id and the mirror's address).
    pub domain: MirrorDomain,
    /// The source chain whose checkpoints it takes.
    pub source: ChainId,
    /// The source's first attestors (version 1; rotations do not change this field).
    pub attestors: Attestors,
    /// Signatures a checkpoint needs under version 1.
    pub threshold: u8,
}

impl MirrorSetup {
    /// Deploys a mirror on `chain` and sets `n` fresh random attestors with
    /// `threshold` for `source`.
    ///
    /// # Errors
    /// When deployment or `setAttestors` fails.
    pub async fn deploy(
        chain: &Devchain,
        source: ChainId,
        n: usize,
        threshold: u8,
    ) -> anyhow::Result<Self> {
        Self::deploy_with(chain, source, Attestors::random(n), threshold).await
    }

    /// Deploys a mirror on `chain` and sets the given `attestors` with `threshold` for
    /// `source` (e.g. the same keys on two chains).
    ///
    /// # Errors
    /// When deployment or `setAttestors` fails.
    pub async fn deploy_with(
        chain: &Devchain,
        source: ChainId,
        attestors: Attestors,
        threshold: u8,
    ) -> anyhow::Result<Self> {
        let mirror = chain.deploy_mirror(chain.address()).await?;
        let domain = MirrorDomain {
            chain_id: chain.chain_id,
            mirror: *mirror.address(),
        };
        send_tx(&mirror.setAttestors(source.key(), attestors.addresses(), threshold))
            .await
            .context("setAttestors")?;
        Ok(Self {
            mirror,
            domain,
            source,
            attestors,
            threshold,
        })
    }

    /// The checkpoint of `log`'s first `size` records, with a source block derived
    /// from the size (tests do not need a real one).
    ///
    /// # Errors
    /// When `size` is 0 or beyond the log.
    pub fn checkpoint(&self, log: &MerkleLog, size: u64) -> anyhow::Result<Checkpoint> {
        Ok(Checkpoint {
            source_chain: self.source.clone(),
            size,
            root: log.root_at(size)?,
            source_block_number: 1_000 + size,
            source_block_hash: B256::from(alloy::primitives::U256::from(size)),
        })
    }

    /// Threshold-many signatures (the lowest addresses first) over `cp` for this
    /// mirror.
    ///
    /// # Errors
    /// When signing fails.
    pub fn sign(&self, cp: &Checkpoint) -> anyhow::Result<Vec<Bytes>> {
        self.attestors
            .sign(cp, &self.domain, usize::from(self.threshold))
    }

    /// Sends `submitCheckpoint(cp, proof, signatures)` and waits for the receipt.
    ///
    /// # Errors
    /// The contract error (decode it with [`crate::decode_revert`]) when it reverts.
    pub async fn submit(
        &self,
        cp: &Checkpoint,
        proof: Vec<B256>,
        signatures: Vec<Bytes>,
    ) -> Result<TransactionReceipt, alloy::contract::Error> {
        send_tx(&self.mirror.submitCheckpoint(
            AnchorMirror::Checkpoint::from(cp),
            proof,
            signatures,
        ))
        .await
    }

    /// Signs and submits the checkpoint of `log` at `size`, with the consistency proof
    /// from `previous` (none for the first checkpoint).
    ///
    /// # Errors
    /// When the proof cannot be built, signing fails, or the mirror rejects it.
    pub async fn submit_log(
        &self,
        log: &MerkleLog,
        previous: Option<u64>,
        size: u64,
    ) -> anyhow::Result<TransactionReceipt> {
        let cp = self.checkpoint(log, size)?;
        let proof = match previous {
            Some(old) => log.consistency_proof(old, size)?,
            None => Vec::new(),
        };
        let sigs = self.sign(&cp)?;
        self.submit(&cp, proof, sigs)
            .await
            .with_context(|| format!("submitCheckpoint of size {size}"))
    }

    /// The attestor-set update of this mirror's source to `attestors` with `threshold`
    /// as version `new_version`.
    pub fn update(&self, new_version: u64, attestors: Vec<Address>, threshold: u8) -> SetUpdate {
        SetUpdate {
            source_chain: self.source.clone(),
            new_version,
            attestors,
            threshold,
        }
    }

    /// Sends `rotateAttestors` for `update` with `signatures` and waits for the receipt.
    ///
    /// # Errors
    /// The contract error (decode it with [`crate::decode_revert`]) when it reverts.
    pub async fn rotate(
        &self,
        update: &SetUpdate,
        signatures: Vec<Bytes>,
    ) -> Result<TransactionReceipt, alloy::contract::Error> {
        send_tx(&self.mirror.rotateAttestors(
            update.source_chain.key(),
            update.new_version,
            update.attestors.clone(),
            update.threshold,
            signatures,
        ))
        .await
    }
}
