//! The submitting half of the EVM mirror client: builds, signs and broadcasts
//! `submitCheckpoint` transactions with one local key.
//!
//! What the relayer stores of a submission is opaque to it
//! ([`PreparedSubmission`]): here its payload is an [`EvmTxPayload`] — the EIP-2718
//! signed transaction with its nonce and fees, in a small versioned encoding only this
//! module reads. Replacing a stuck transaction (same nonce, both fees raised by at
//! least 12.5 %) and telling a dropped one (its nonce used by another mined
//! transaction) happen here, from that payload.

use alloy::{
    consensus::TxEnvelope,
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256, Bytes},
    providers::Provider,
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use async_trait::async_trait;
use evidence_schemas::{ChainId, checkpoint::SignedCheckpoint};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, instrument, warn};

use super::{EvmMirrorReader, decode_mirror_revert};
use crate::{
    contracts::AnchorMirror,
    error::AdapterError,
    mirror::{
        AcceptedCheckpoint, AttestorSetChange, MirrorReader, MirrorState, MirrorSubmitter,
        PendingOwnerRotation, PreparedSubmission, TxOutcome,
    },
    rpc::ChainRpc,
};

/// Gas limit margin over the estimate, in percent.
const GAS_MARGIN_PERCENT: u64 = 20;

/// The EVM payload of a [`PreparedSubmission`]: the signed transaction and what a
/// replacement or a drop check needs. Encoded as versioned JSON (`"v": 1`; fees as
/// decimal strings, since u128 wei does not fit every JSON reader's numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmTxPayload {
    /// EIP-2718 encoded signed transaction.
    pub raw: Bytes,
    /// Sender nonce.
    pub nonce: u64,
    /// Max fee per gas (wei).
    pub max_fee_per_gas: u128,
    /// Max priority fee per gas (wei).
    pub max_priority_fee_per_gas: u128,
}

/// The stored form of [`EvmTxPayload`], version 1.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadV1 {
    v: u8,
    raw: Bytes,
    nonce: u64,
    max_fee_per_gas: String,
    max_priority_fee_per_gas: String,
}

impl EvmTxPayload {
    /// The encoding version written.
    pub const VERSION: u8 = 1;

    /// The payload bytes.
    pub fn encode(&self) -> Bytes {
        let wire = PayloadV1 {
            v: Self::VERSION,
            raw: self.raw.clone(),
            nonce: self.nonce,
            max_fee_per_gas: self.max_fee_per_gas.to_string(),
            max_priority_fee_per_gas: self.max_priority_fee_per_gas.to_string(),
        };
        // A struct of strings, numbers and bytes always serializes.
        Bytes::from(serde_json::to_vec(&wire).unwrap_or_default())
    }

    /// Reads payload bytes written by [`EvmTxPayload::encode`].
    pub fn decode(chain: &ChainId, payload: &[u8]) -> Result<Self, AdapterError> {
        let bad = |what: String| {
            AdapterError::Config(format!(
                "{chain}: a stored submission is not an EVM transaction payload ({what}): was it prepared for another chain family?"
            ))
        };
        let wire: PayloadV1 = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
        if wire.v != Self::VERSION {
            return Err(bad(format!("version {}", wire.v)));
        }
        let fee = |name: &str, v: &str| {
            v.parse::<u128>()
                .map_err(|e| bad(format!("{name} {v:?}: {e}")))
        };
        Ok(Self {
            max_fee_per_gas: fee("max_fee_per_gas", &wire.max_fee_per_gas)?,
            max_priority_fee_per_gas: fee(
                "max_priority_fee_per_gas",
                &wire.max_priority_fee_per_gas,
            )?,
            raw: wire.raw,
            nonce: wire.nonce,
        })
    }

    /// The submission of transaction `hash` carrying this payload.
    pub fn into_submission(self, hash: B256) -> PreparedSubmission {
        PreparedSubmission {
            id: hash,
            summary: self.summary(),
            payload: self.encode(),
        }
    }

    /// One line for logs: nonce and fees.
    pub fn summary(&self) -> String {
        format!(
            "nonce {}, max fee {} wei, tip {} wei",
            self.nonce, self.max_fee_per_gas, self.max_priority_fee_per_gas
        )
    }
}

/// A client of one `AnchorMirror` that also submits, signing with one local key: an
/// [`EvmMirrorReader`] (reachable through `Deref`) plus the sender. Built without a
/// sender ([`EvmMirrorClient::without_sender`]) for an attest-only instance, it refuses
/// every submission instead of inventing a key.
#[derive(Debug)]
pub struct EvmMirrorClient {
    reader: EvmMirrorReader,
    signer: Option<PrivateKeySigner>,
}

impl EvmMirrorClient {
    /// A client of the mirror at `mirror`, sending from `signer`'s address.
    pub fn new(rpc: ChainRpc, chain: ChainId, mirror: Address, signer: PrivateKeySigner) -> Self {
        Self {
            reader: EvmMirrorReader::new(rpc, chain, mirror),
            signer: Some(signer),
        }
    }

    /// A client that reads and never sends (an attest-only instance's routes): every
    /// submission step fails with a configuration error.
    pub fn without_sender(rpc: ChainRpc, chain: ChainId, mirror: Address) -> Self {
        Self {
            reader: EvmMirrorReader::new(rpc, chain, mirror),
            signer: None,
        }
    }

    fn signer(&self) -> Result<&PrivateKeySigner, AdapterError> {
        self.signer.as_ref().ok_or_else(|| {
            AdapterError::Config(format!(
                "{}: this instance holds no relayer key (attest-only) and never submits to the mirror {}",
                self.chain, self.mirror
            ))
        })
    }

    /// First block to search for mirror events (the mirror's deployment block).
    pub fn with_start_block(mut self, block: u64) -> Self {
        self.reader.start_block = block;
        self
    }

    /// The sending account (`None` without a sender).
    pub fn sender(&self) -> Option<Address> {
        self.signer.as_ref().map(PrivateKeySigner::address)
    }

    /// The reading half.
    pub fn reader(&self) -> &EvmMirrorReader {
        &self.reader
    }

    /// The sender's confirmed (latest-block) nonce.
    pub async fn fetch_confirmed_nonce(&self) -> Result<u64, AdapterError> {
        self.rpc
            .provider()
            .get_transaction_count(self.signer()?.address())
            .latest()
            .await
            .map_err(|e| self.rpc.error("eth_getTransactionCount", e))
    }

    async fn fees(&self, replace: Option<&EvmTxPayload>) -> Result<(u128, u128), AdapterError> {
        let provider = self.rpc.provider();
        let est = provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| self.rpc.error("eth_feeHistory", e))?;
        let node_tip = match provider.get_max_priority_fee_per_gas().await {
            Ok(tip) => tip,
            Err(e) => {
                debug!(target: "adapters::mirror", chain = %self.chain, error = %e, "eth_maxPriorityFeePerGas unavailable; using the fee history");
                0
            }
        };
        let (mut max_fee, mut tip) =
            bump_for_tip(est.max_fee_per_gas, est.max_priority_fee_per_gas, node_tip);
        if let Some(old) = replace {
            tip = tip.max(replacement_bump(old.max_priority_fee_per_gas));
            max_fee = max_fee.max(replacement_bump(old.max_fee_per_gas));
        }
        Ok((max_fee.max(tip), tip))
    }
}

impl std::ops::Deref for EvmMirrorClient {
    type Target = EvmMirrorReader;

    fn deref(&self) -> &EvmMirrorReader {
        &self.reader
    }
}

/// Raises a fee estimate to a larger tip, keeping the base-fee headroom.
fn bump_for_tip(max_fee: u128, tip: u128, node_tip: u128) -> (u128, u128) {
    if node_tip > tip {
        (max_fee - tip.min(max_fee) + node_tip, node_tip)
    } else {
        (max_fee, tip)
    }
}

/// At least +12.5 %, rounded up, and at least +1 wei.
pub fn replacement_bump(fee: u128) -> u128 {
    fee.saturating_add(fee.div_ceil(8))
        .max(fee.saturating_add(1))
}

fn lower(e: &impl std::fmt::Display) -> String {
    e.to_string().to_ascii_lowercase()
}

/// The reading half, delegated.
#[async_trait]
impl MirrorReader for EvmMirrorClient {
    fn chain(&self) -> &ChainId {
        self.reader.chain()
    }

    fn mirror(&self) -> Address {
        self.reader.mirror()
    }

    async fn fetch_state(&self, source: &ChainId) -> Result<MirrorState, AdapterError> {
        self.reader.fetch_state(source).await
    }

    async fn fetch_state_as_of(
        &self,
        source: &ChainId,
        block: Option<u64>,
    ) -> Result<MirrorState, AdapterError> {
        self.reader.fetch_state_as_of(source, block).await
    }

    async fn fetch_pending_owner_rotation(
        &self,
        source: &ChainId,
    ) -> Result<Option<PendingOwnerRotation>, AdapterError> {
        self.reader.fetch_pending_owner_rotation(source).await
    }

    async fn fetch_root_at(&self, source: &ChainId, size: u64) -> Result<B256, AdapterError> {
        self.reader.fetch_root_at(source, size).await
    }

    async fn verify_record(
        &self,
        source: &ChainId,
        size: u64,
        record_id: B256,
        index: u64,
        proof: &[B256],
    ) -> Result<bool, AdapterError> {
        self.reader
            .verify_record(source, size, record_id, index, proof)
            .await
    }

    async fn fetch_owner(&self) -> Result<Address, AdapterError> {
        self.reader.fetch_owner().await
    }

    async fn fetch_owner_rotation_delay(&self) -> Result<u64, AdapterError> {
        self.reader.fetch_owner_rotation_delay().await
    }

    async fn fetch_attestor_set_history(
        &self,
        source: &ChainId,
    ) -> Result<Vec<AttestorSetChange>, AdapterError> {
        self.reader.fetch_attestor_set_history(source).await
    }

    async fn fetch_accepted_in_tx(
        &self,
        id: B256,
    ) -> Result<Option<(u64, Vec<AcceptedCheckpoint>)>, AdapterError> {
        self.reader.fetch_accepted_in_tx(id).await
    }
}

#[async_trait]
impl MirrorSubmitter for EvmMirrorClient {
    #[instrument(target = "adapters::mirror", skip_all, fields(chain = %self.chain, size = checkpoint.checkpoint.size, replace = ?replace.map(|r| r.id)))]
    async fn prepare_submission(
        &self,
        checkpoint: &SignedCheckpoint,
        consistency_proof: &[B256],
        replace: Option<&PreparedSubmission>,
    ) -> Result<PreparedSubmission, AdapterError> {
        let replace = replace
            .map(|r| EvmTxPayload::decode(&self.chain, &r.payload))
            .transpose()?;
        let replace = replace.as_ref();
        let provider = self.rpc.provider();
        let from = self.signer()?.address();
        let input = AnchorMirror::submitCheckpointCall {
            cp: (&checkpoint.checkpoint).into(),
            consistencyProof: consistency_proof.to_vec(),
            signatures: checkpoint
                .signatures
                .iter()
                .map(|s| s.signature.clone())
                .collect(),
        }
        .abi_encode();
        let request = TransactionRequest::default()
            .with_from(from)
            .with_to(self.mirror)
            .with_input(input);

        let estimate = provider.estimate_gas(request.clone()).await.map_err(|e| {
            match e.as_error_resp().and_then(decode_mirror_revert) {
                Some(reason) => AdapterError::Reverted {
                    chain: self.chain.clone(),
                    reason,
                },
                None => self.rpc.error("eth_estimateGas", e),
            }
        })?;
        let gas = estimate.saturating_add(estimate * GAS_MARGIN_PERCENT / 100);

        let nonce = match replace {
            Some(old) => old.nonce,
            None => provider
                .get_transaction_count(from)
                .pending()
                .await
                .map_err(|e| self.rpc.error("eth_getTransactionCount", e))?,
        };
        let (max_fee, tip) = self.fees(replace).await?;

        let request = request
            .with_nonce(nonce)
            .with_chain_id(self.rpc.chain_id())
            .with_gas_limit(gas)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(tip);
        let wallet = EthereumWallet::from(self.signer()?.clone());
        let envelope: TxEnvelope = request.build(&wallet).await.map_err(|e| {
            AdapterError::Config(format!(
                "{}: cannot sign the submitCheckpoint transaction: {e}",
                self.chain
            ))
        })?;
        let hash = *envelope.tx_hash();
        let prepared = EvmTxPayload {
            raw: Bytes::from(envelope.encoded_2718()),
            nonce,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip,
        }
        .into_submission(hash);
        info!(target: "adapters::mirror", chain = %self.chain, %hash, nonce, gas, max_fee, tip, "prepared checkpoint submission");
        Ok(prepared)
    }

    #[instrument(target = "adapters::mirror", skip_all, fields(chain = %self.chain, hash = %submission.id))]
    async fn send_raw(&self, submission: &PreparedSubmission) -> Result<(), AdapterError> {
        let tx = EvmTxPayload::decode(&self.chain, &submission.payload)?;
        let hash = submission.id;
        let err = match self.rpc.provider().send_raw_transaction(&tx.raw).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let msg = lower(&err);
        if msg.contains("already known")
            || msg.contains("known transaction")
            || msg.contains("already imported")
            || msg.contains("alreadyknown")
        {
            debug!(target: "adapters::mirror", chain = %self.chain, "node already has this transaction");
            return Ok(());
        }
        if msg.contains("nonce too low")
            || msg.contains("oldnonce")
            || msg.contains("nonce is too low")
        {
            // Either this very transaction was mined (resending it is a no-op), or
            // another one with the same nonce was.
            if self.fetch_receipt(hash).await?.is_some() {
                debug!(target: "adapters::mirror", chain = %self.chain, "transaction already mined");
                return Ok(());
            }
            warn!(target: "adapters::mirror", chain = %self.chain, "nonce used by another transaction");
            return Err(AdapterError::NonceUsed {
                chain: self.chain.clone(),
                hash,
                nonce: tx.nonce,
            });
        }
        if msg.contains("underpriced") {
            return Err(AdapterError::Rpc {
                chain: self.chain.clone(),
                message: crate::redact::scrub(&format!(
                    "eth_sendRawTransaction of {hash} (nonce {}): {err}; a pending transaction with this nonce pays more — prepare a replacement from it",
                    tx.nonce
                ))
                .into_owned(),
            });
        }
        Err(self.rpc.error(
            &format!("eth_sendRawTransaction of {hash} (nonce {})", tx.nonce),
            err,
        ))
    }

    async fn fetch_receipt(&self, hash: B256) -> Result<Option<TxOutcome>, AdapterError> {
        let receipt = self
            .rpc
            .provider()
            .get_transaction_receipt(hash)
            .await
            .map_err(|e| self.rpc.error("eth_getTransactionReceipt", e))?;
        Ok(receipt.and_then(|r| {
            Some(TxOutcome {
                success: r.status(),
                block_number: r.block_number?,
                gas_used: r.gas_used,
            })
        }))
    }

    async fn fetch_unmineable(
        &self,
        submission: &PreparedSubmission,
    ) -> Result<Option<String>, AdapterError> {
        let tx = EvmTxPayload::decode(&self.chain, &submission.payload)?;
        let confirmed = self.fetch_confirmed_nonce().await?;
        Ok((confirmed > tx.nonce).then(|| format!("nonce {} is used", tx.nonce)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_bumps_are_at_least_an_eighth() {
        assert_eq!(replacement_bump(0), 1);
        assert_eq!(replacement_bump(8), 9);
        assert_eq!(replacement_bump(9), 11);
        assert_eq!(replacement_bump(1_000_000_000), 1_125_000_000);
        for fee in [1u128, 7, 100, 3_000_000_001] {
            assert!(replacement_bump(fee) * 8 >= fee * 9);
        }
    }

    #[test]
    fn larger_node_tip_keeps_headroom() {
        assert_eq!(bump_for_tip(100, 10, 30), (120, 30));
        assert_eq!(bump_for_tip(100, 10, 5), (100, 10));
    }

    #[test]
    fn payloads_round_trip_and_foreign_ones_are_refused() {
        let chain = ChainId::eip155(1);
        let p = EvmTxPayload {
            raw: Bytes::from(vec![2, 0xf8, 1]),
            nonce: 7,
            max_fee_per_gas: u128::MAX,
            max_priority_fee_per_gas: 1_500_000_000,
        };
        let encoded = p.encode();
        assert_eq!(EvmTxPayload::decode(&chain, &encoded).unwrap(), p);
        let sub = p.clone().into_submission(B256::repeat_byte(9));
        assert_eq!(sub.id, B256::repeat_byte(9));
        assert!(sub.summary.contains("nonce 7"), "{}", sub.summary);
        for bad in [
            &b"not json"[..],
            br#"{"v":2,"raw":"0x","nonce":1,"max_fee_per_gas":"1","max_priority_fee_per_gas":"1"}"#,
            br#"{"v":1,"raw":"0x","nonce":1,"max_fee_per_gas":"-1","max_priority_fee_per_gas":"1"}"#,
        ] {
            let err = EvmTxPayload::decode(&chain, bad).unwrap_err();
            assert!(err.is_fatal(), "{err}");
        }
    }
}
