//! The mirror traits for an `AnchorMirror` on an EVM chain, over standard JSON-RPC:
//! [`EvmMirrorReader`] reads (no key), [`EvmMirrorClient`] also submits.
//!
//! Transactions are built and signed here with a local key and returned as raw bytes;
//! nothing is sent until the relayer, having stored them, calls
//! [`MirrorSubmitter::send_raw`]. Fees are EIP-1559, from `eth_feeHistory` and
//! `eth_maxPriorityFeePerGas`; a replacement reuses the replaced transaction's nonce
//! and raises both fees by at least 12.5 % (the mempool replacement rule of geth and
//! most clients).

//!
//! The reading half is here; the submitting half, with the EVM payload of a
//! [`PreparedSubmission`](crate::mirror::PreparedSubmission) (raw transaction, nonce,
//! fees), is [`submit`].

use alloy::{
    eips::BlockId,
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::{json_rpc::ErrorPayload, types::Filter},
    sol_types::{SolEvent, decode_revert_reason},
};
use async_trait::async_trait;
use evidence_schemas::{ChainId, attestor_set::SetAuthorization};
use tracing::instrument;

use crate::{
    contracts::AnchorMirror,
    error::AdapterError,
    evm_source::span::{SpanControl, fetch_adaptive},
    mirror::{MirrorReader, MirrorState, PendingOwnerRotation},
    rpc::ChainRpc,
};

pub mod submit;

pub use submit::{EvmMirrorClient, EvmTxPayload};

/// The family-neutral event types, where they used to live.
pub use crate::mirror::{AcceptedCheckpoint, AttestorSetChange};

/// One `OwnerRotationProposed` event of a mirror: the owner wants to replace a source's
/// attestor set through the timelock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OwnerRotationProposal {
    /// keccak256 of the source chain's CAIP-2 id.
    pub source_key: B256,
    /// The version the set would become.
    pub version: u64,
    /// The proposed attestors.
    pub attestors: Vec<Address>,
    /// The proposed threshold.
    pub threshold: u8,
    /// Unix time from which the owner can execute it.
    pub executable_at: u64,
    /// Block of the proposal.
    pub block: u64,
    /// Transaction of the proposal.
    pub tx_hash: B256,
}

/// A reader of one `AnchorMirror`: its state, roots, attestor sets and events. Holds
/// no key; what read-only commands and verifiers use.
#[derive(Debug)]
pub struct EvmMirrorReader {
    rpc: ChainRpc,
    chain: ChainId,
    mirror: Address,
    start_block: u64,
    event_span: SpanControl,
}

impl EvmMirrorReader {
    /// A reader of the mirror at `mirror` on `chain`.
    pub fn new(rpc: ChainRpc, chain: ChainId, mirror: Address) -> Self {
        Self {
            rpc,
            chain,
            mirror,
            start_block: 0,
            event_span: SpanControl::new(100_000, 1_000_000, 1_000),
        }
    }

    /// First block to search for mirror events (the mirror's deployment block).
    pub fn with_start_block(mut self, block: u64) -> Self {
        self.start_block = block;
        self
    }

    /// The transaction that got checkpoint `size` of `source` accepted, and its block,
    /// from the mirror's `CheckpointAccepted` event (`None` if there is none).
    #[instrument(target = "adapters::mirror", skip(self), fields(chain = %self.chain))]
    pub async fn fetch_accepted_checkpoint_tx(
        &self,
        source: &ChainId,
        size: u64,
    ) -> Result<Option<(B256, u64)>, AdapterError> {
        let provider = self.rpc.provider();
        let head = provider
            .get_block_number()
            .await
            .map_err(|e| self.rpc.error("eth_blockNumber", e))?;
        let base = Filter::new()
            .address(self.mirror)
            .event_signature(AnchorMirror::CheckpointAccepted::SIGNATURE_HASH)
            .topic1(source.key())
            .topic2(B256::from(U256::from(size)));
        let logs = fetch_adaptive(&self.event_span, self.start_block, head, |a, b| {
            let filter = base.clone().from_block(a).to_block(b);
            async move {
                provider
                    .get_logs(&filter)
                    .await
                    .map_err(|e| self.rpc.log_error(a, b, e))
            }
        })
        .await?;
        Ok(logs
            .iter()
            .filter(|l| !l.removed)
            .find_map(|l| Some((l.transaction_hash?, l.block_number?))))
    }

    /// `OwnerRotationProposed` events of this mirror (any source) in blocks
    /// `from..=to`, oldest first.
    pub async fn fetch_owner_rotation_proposals(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<OwnerRotationProposal>, AdapterError> {
        if from > to {
            return Ok(Vec::new());
        }
        let provider = self.rpc.provider();
        let base = Filter::new()
            .address(self.mirror)
            .event_signature(AnchorMirror::OwnerRotationProposed::SIGNATURE_HASH);
        let logs = fetch_adaptive(&self.event_span, from, to, |a, b| {
            let filter = base.clone().from_block(a).to_block(b);
            async move {
                provider
                    .get_logs(&filter)
                    .await
                    .map_err(|e| self.rpc.log_error(a, b, e))
            }
        })
        .await?;
        let mut out = Vec::new();
        for l in logs.iter().filter(|l| !l.removed) {
            let ev = AnchorMirror::OwnerRotationProposed::decode_log(&l.inner).map_err(|e| {
                AdapterError::Rpc {
                    chain: self.chain.clone(),
                    message: format!("undecodable OwnerRotationProposed event: {e}"),
                }
            })?;
            out.push(OwnerRotationProposal {
                source_key: ev.sourceChain,
                version: ev.version,
                attestors: ev.attestors.clone(),
                threshold: ev.threshold,
                executable_at: ev.executableAt,
                block: l.block_number.unwrap_or_default(),
                tx_hash: l.transaction_hash.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    fn contract_error(&self, what: &str, e: alloy::contract::Error) -> AdapterError {
        match e {
            alloy::contract::Error::TransportError(t) => self.rpc.error(what, t),
            other => AdapterError::Rpc {
                chain: self.chain.clone(),
                message: format!("{what}: {other}"),
            },
        }
    }
}

/// A revert's reason: the mirror's custom error as `Name(field: value, …)`, a
/// `require` message, or the raw data.
pub fn decode_mirror_revert(payload: &ErrorPayload) -> Option<String> {
    if let Some(err) = payload.as_decoded_interface_error::<AnchorMirror::AnchorMirrorErrors>() {
        return Some(format_sol_error(&format!("{err:?}")));
    }
    let data = payload.as_revert_data()?;
    Some(decode_revert_reason(&data).unwrap_or_else(|| format!("revert data {data}")))
}

/// `Variant(Name { a: 1, b: 2 })` (the `Debug` of a `sol!` error enum) →
/// `Name(a: 1, b: 2)`; `Variant(Name)` → `Name()`.
pub(crate) fn format_sol_error(debug: &str) -> String {
    let inner = debug
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(debug);
    match inner.split_once(" { ") {
        Some((name, fields)) => format!("{name}({})", fields.strip_suffix(" }").unwrap_or(fields)),
        None => format!("{inner}()"),
    }
}

#[async_trait]
impl MirrorReader for EvmMirrorReader {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn mirror(&self) -> Address {
        self.mirror
    }

    async fn fetch_state(&self, source: &ChainId) -> Result<MirrorState, AdapterError> {
        self.fetch_state_as_of(source, None).await
    }

    /// The owner's pending proposal for `source` (`None` when nothing is pending).
    async fn fetch_pending_owner_rotation(
        &self,
        source: &ChainId,
    ) -> Result<Option<PendingOwnerRotation>, AdapterError> {
        let p = AnchorMirror::new(self.mirror, self.rpc.provider())
            .pendingOwnerRotation(source.key())
            .call()
            .await
            .map_err(|e| self.contract_error("pendingOwnerRotation", e))?;
        Ok((p.version != 0).then_some(PendingOwnerRotation {
            version: p.version,
            attestors: p.attestors,
            threshold: p.threshold,
            executable_at: p.executableAt,
        }))
    }

    /// The mirror's owner.
    async fn fetch_owner(&self) -> Result<Address, AdapterError> {
        AnchorMirror::new(self.mirror, self.rpc.provider())
            .owner()
            .call()
            .await
            .map_err(|e| self.contract_error("owner", e))
    }

    /// The owner-rotation timelock of this mirror, in seconds.
    async fn fetch_owner_rotation_delay(&self) -> Result<u64, AdapterError> {
        AnchorMirror::new(self.mirror, self.rpc.provider())
            .ownerRotationDelay()
            .call()
            .await
            .map_err(|e| self.contract_error("ownerRotationDelay", e))
    }

    /// The mirror's state for `source` at destination block `block` (latest when
    /// `None`): the attestor set in force then, e.g. when a checkpoint was accepted.
    #[instrument(target = "adapters::mirror", skip(self), fields(chain = %self.chain))]
    async fn fetch_state_as_of(
        &self,
        source: &ChainId,
        block: Option<u64>,
    ) -> Result<MirrorState, AdapterError> {
        let provider = self.rpc.provider();
        let block = match block {
            Some(b) => b,
            None => provider
                .get_block_number()
                .await
                .map_err(|e| self.rpc.error("eth_blockNumber", e))?,
        };
        let mirror = AnchorMirror::new(self.mirror, provider);
        let key = source.key();
        let at = BlockId::number(block);
        // Both reads are of the same block, so they are independent: one round trip.
        let (latest, set) = tokio::try_join!(
            async {
                mirror
                    .latestCheckpoint(key)
                    .block(at)
                    .call()
                    .await
                    .map_err(|e| self.contract_error("latestCheckpoint", e))
            },
            async {
                mirror
                    .attestorSet(key)
                    .block(at)
                    .call()
                    .await
                    .map_err(|e| self.contract_error("attestorSet", e))
            },
        )?;
        Ok(MirrorState {
            latest_size: latest.size,
            latest_root: latest.root,
            latest_source_block: latest.sourceBlockNumber,
            attestors: set.attestors,
            threshold: set.threshold,
            attestor_set_version: set.version,
            read_at_block: block,
        })
    }

    /// The `CheckpointAccepted` events this mirror emitted in transaction `tx`, with
    /// the block it was mined in (`None` when the transaction is unknown or not mined).
    async fn fetch_accepted_in_tx(
        &self,
        tx: B256,
    ) -> Result<Option<(u64, Vec<AcceptedCheckpoint>)>, AdapterError> {
        let Some(receipt) = self
            .rpc
            .provider()
            .get_transaction_receipt(tx)
            .await
            .map_err(|e| self.rpc.error("eth_getTransactionReceipt", e))?
        else {
            return Ok(None);
        };
        let Some(block) = receipt.block_number else {
            return Ok(None);
        };
        let events = receipt
            .logs()
            .iter()
            .filter(|l| l.address() == self.mirror)
            .filter_map(|l| AnchorMirror::CheckpointAccepted::decode_log_data(l.data()).ok())
            .map(|e| AcceptedCheckpoint {
                source_key: e.sourceChain,
                size: e.size,
                root: e.root,
                source_block_number: e.sourceBlockNumber,
                source_block_hash: e.sourceBlockHash,
                attestor_set_version: e.attestorSetVersion,
            })
            .collect();
        Ok(Some((block, events)))
    }

    async fn fetch_root_at(&self, source: &ChainId, size: u64) -> Result<B256, AdapterError> {
        AnchorMirror::new(self.mirror, self.rpc.provider())
            .rootAt(source.key(), size)
            .call()
            .await
            .map_err(|e| self.contract_error("rootAt", e))
    }

    async fn verify_record(
        &self,
        source: &ChainId,
        size: u64,
        record_id: B256,
        index: u64,
        proof: &[B256],
    ) -> Result<bool, AdapterError> {
        AnchorMirror::new(self.mirror, self.rpc.provider())
            .verifyRecord(source.key(), size, record_id, index, proof.to_vec())
            .call()
            .await
            .map_err(|e| self.contract_error("verifyRecord", e))
    }

    /// Every `AttestorSetChanged` event of `source` on this mirror, oldest first.
    async fn fetch_attestor_set_history(
        &self,
        source: &ChainId,
    ) -> Result<Vec<AttestorSetChange>, AdapterError> {
        let provider = self.rpc.provider();
        let head = provider
            .get_block_number()
            .await
            .map_err(|e| self.rpc.error("eth_blockNumber", e))?;
        let base = Filter::new()
            .address(self.mirror)
            .event_signature(AnchorMirror::AttestorSetChanged::SIGNATURE_HASH)
            .topic1(source.key());
        let logs = fetch_adaptive(&self.event_span, self.start_block, head, |a, b| {
            let filter = base.clone().from_block(a).to_block(b);
            async move {
                provider
                    .get_logs(&filter)
                    .await
                    .map_err(|e| self.rpc.log_error(a, b, e))
            }
        })
        .await?;
        let mut out = Vec::new();
        for l in logs.iter().filter(|l| !l.removed) {
            let ev = AnchorMirror::AttestorSetChanged::decode_log(&l.inner).map_err(|e| {
                AdapterError::Rpc {
                    chain: self.chain.clone(),
                    message: format!("undecodable AttestorSetChanged event: {e}"),
                }
            })?;
            let authorization =
                SetAuthorization::from_u8(ev.authorization).ok_or_else(|| AdapterError::Rpc {
                    chain: self.chain.clone(),
                    message: format!(
                        "AttestorSetChanged names an unknown authorization {}",
                        ev.authorization
                    ),
                })?;
            out.push(AttestorSetChange {
                version: ev.version,
                attestors: ev.attestors.clone(),
                threshold: ev.threshold,
                authorization,
                signatures: ev.signatures.clone(),
                block: l.block_number.unwrap_or_default(),
                tx_hash: l.transaction_hash.unwrap_or_default(),
            });
        }
        out.sort_by_key(|c| c.version);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use alloy::{primitives::Bytes, sol_types::SolInterface};

    use super::*;

    #[test]
    fn custom_errors_are_named() {
        let err = AnchorMirror::AnchorMirrorErrors::CheckpointAlreadyAccepted(
            AnchorMirror::CheckpointAlreadyAccepted {
                sourceChain: B256::repeat_byte(1),
                size: 3,
            },
        );
        let data = Bytes::from(err.abi_encode());
        let payload = ErrorPayload {
            code: 3,
            message: "execution reverted".into(),
            data: Some(serde_json::value::to_raw_value(&data).unwrap()),
        };
        let reason = decode_mirror_revert(&payload).unwrap();
        assert!(
            reason.starts_with("CheckpointAlreadyAccepted(sourceChain: 0x0101"),
            "{reason}"
        );
        assert!(reason.ends_with("size: 3)"), "{reason}");

        let err = AnchorMirror::AnchorMirrorErrors::ZeroRoot(AnchorMirror::ZeroRoot {});
        let payload = ErrorPayload {
            code: 3,
            message: "execution reverted".into(),
            data: Some(serde_json::value::to_raw_value(&Bytes::from(err.abi_encode())).unwrap()),
        };
        assert_eq!(decode_mirror_revert(&payload).unwrap(), "ZeroRoot()");
    }
}
