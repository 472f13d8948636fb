//! The EVM implementations of [`RegistryWriter`] and [`MirrorAdmin`]: our
//! `EvidenceRegistry` and `AnchorMirror` over standard JSON-RPC, each call a
//! transaction signed by a local key (the functions of [`crate::deploy`], which the
//! devnet and `bridge deploy` use directly).

use alloy::{
    primitives::{Address, B256, Bytes},
    signers::local::PrivateKeySigner,
};
use async_trait::async_trait;
use evidence_schemas::{ChainId, DigestAlgorithm, Label, attestor_set::SetUpdate};

use crate::{
    deploy,
    error::AdapterError,
    rpc::ChainRpc,
    writer::{AnchorReceipt, MirrorAdmin, RegistryWriter},
};

/// Writes to the `EvidenceRegistry` at `registry`, signing with `signer`.
#[derive(Debug, Clone)]
pub struct EvmRegistryWriter {
    rpc: ChainRpc,
    registry: Address,
    signer: PrivateKeySigner,
}

impl EvmRegistryWriter {
    /// A writer to `registry` over `rpc`, signing with `signer`.
    pub fn new(rpc: ChainRpc, registry: Address, signer: PrivateKeySigner) -> Self {
        Self {
            rpc,
            registry,
            signer,
        }
    }
}

#[async_trait]
impl RegistryWriter for EvmRegistryWriter {
    async fn anchor(
        &self,
        digest_alg: DigestAlgorithm,
        digest: B256,
        kind: &Label,
        metadata: B256,
    ) -> Result<AnchorReceipt, AdapterError> {
        let key = self.signer.clone();
        deploy::anchor(
            &self.rpc,
            key,
            self.registry,
            digest_alg,
            digest,
            kind,
            metadata,
        )
        .await
    }

    async fn revoke(
        &self,
        digest_alg: DigestAlgorithm,
        digest: B256,
        reference: B256,
        kind: &Label,
    ) -> Result<AnchorReceipt, AdapterError> {
        let key = self.signer.clone();
        deploy::revoke(
            &self.rpc,
            key,
            self.registry,
            digest_alg,
            digest,
            reference,
            kind,
        )
        .await
    }
}

/// Administers the attestor sets of the `AnchorMirror` at `mirror`, signing with
/// `signer`.
#[derive(Debug, Clone)]
pub struct EvmMirrorAdmin {
    rpc: ChainRpc,
    mirror: Address,
    signer: PrivateKeySigner,
}

impl EvmMirrorAdmin {
    /// An administrator of `mirror` over `rpc`, signing with `signer`.
    pub fn new(rpc: ChainRpc, mirror: Address, signer: PrivateKeySigner) -> Self {
        Self {
            rpc,
            mirror,
            signer,
        }
    }
}

#[async_trait]
impl MirrorAdmin for EvmMirrorAdmin {
    async fn set_attestors(
        &self,
        source: &ChainId,
        attestors: &[Address],
        threshold: u8,
    ) -> Result<B256, AdapterError> {
        let key = self.signer.clone();
        deploy::set_attestors(&self.rpc, key, self.mirror, source, attestors, threshold).await
    }

    async fn rotate_attestors(
        &self,
        update: &SetUpdate,
        signatures: Vec<Bytes>,
    ) -> Result<B256, AdapterError> {
        let key = self.signer.clone();
        deploy::rotate_attestors(&self.rpc, key, self.mirror, update, signatures).await
    }

    async fn propose_owner_rotation(
        &self,
        source: &ChainId,
        attestors: &[Address],
        threshold: u8,
    ) -> Result<B256, AdapterError> {
        let key = self.signer.clone();
        deploy::propose_owner_rotation(&self.rpc, key, self.mirror, source, attestors, threshold)
            .await
    }

    async fn execute_owner_rotation(&self, source: &ChainId) -> Result<B256, AdapterError> {
        let key = self.signer.clone();
        deploy::execute_owner_rotation(&self.rpc, key, self.mirror, source).await
    }

    async fn cancel_owner_rotation(
        &self,
        source: &ChainId,
        signatures: Vec<Bytes>,
    ) -> Result<B256, AdapterError> {
        let key = self.signer.clone();
        deploy::cancel_owner_rotation(&self.rpc, key, self.mirror, source, signatures).await
    }
}
