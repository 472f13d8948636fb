//! Deploying and administering the contracts, and anchoring from the command line.
//!
//! Used by `bridge deploy`, `bridge anchor` and the devnet. Each function sends a
//! transaction signed by a local key, waits for its receipt and fails with
//! [`AdapterError::Reverted`] naming the contract's custom error when it reverts.

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionReceipt,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use evidence_schemas::{ChainId, DigestAlgorithm, Label};
use tracing::info;

use crate::{
    contracts::{AnchorMirror, EvidenceRegistry},
    error::AdapterError,
    evm_mirror::format_sol_error,
    registry::decode_registry_log,
    rpc::ChainRpc,
};

/// Addresses and deployment blocks of a freshly deployed pair of contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deployed {
    /// The `EvidenceRegistry`.
    pub registry: Address,
    /// The `AnchorMirror`.
    pub mirror: Address,
    /// Block of the registry's deployment (the source's first block to index).
    pub registry_block: u64,
    /// Block of the mirror's deployment.
    pub mirror_block: u64,
}

pub use crate::writer::AnchorReceipt;

pub(crate) fn wallet_provider(rpc: &ChainRpc, signer: PrivateKeySigner) -> impl Provider + Clone {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_provider(rpc.provider().clone())
}

/// Maps a contract call error, naming either contract's custom error on a revert.
fn send_error(chain: &ChainId, what: &str, e: alloy::contract::Error) -> AdapterError {
    if let Some(err) = e.as_decoded_interface_error::<EvidenceRegistry::EvidenceRegistryErrors>() {
        return AdapterError::Reverted {
            chain: chain.clone(),
            reason: format!("{what}: {}", format_sol_error(&format!("{err:?}"))),
        };
    }
    if let Some(err) = e.as_decoded_interface_error::<AnchorMirror::AnchorMirrorErrors>() {
        return AdapterError::Reverted {
            chain: chain.clone(),
            reason: format!("{what}: {}", format_sol_error(&format!("{err:?}"))),
        };
    }
    if let Some(data) = e.as_revert_data() {
        let reason = alloy::sol_types::decode_revert_reason(&data)
            .unwrap_or_else(|| format!("revert data {data}"));
        return AdapterError::Reverted {
            chain: chain.clone(),
            reason: format!("{what}: {reason}"),
        };
    }
    AdapterError::Rpc {
        chain: chain.clone(),
        message: crate::redact::scrub(&format!("{what}: {e}")).into_owned(),
    }
}

pub(crate) fn pending_error(
    chain: &ChainId,
    what: &str,
    e: alloy::providers::PendingTransactionError,
) -> AdapterError {
    AdapterError::Rpc {
        chain: chain.clone(),
        message: crate::redact::scrub(&format!("{what}: waiting for the receipt: {e}"))
            .into_owned(),
    }
}

pub(crate) fn require_success(
    chain: &ChainId,
    what: &str,
    r: &TransactionReceipt,
) -> Result<(), AdapterError> {
    if r.status() {
        Ok(())
    } else {
        Err(AdapterError::Reverted {
            chain: chain.clone(),
            reason: format!(
                "{what}: transaction {} reverted when mined",
                r.transaction_hash
            ),
        })
    }
}

/// Deploys an `EvidenceRegistry` and an `AnchorMirror` owned by `owner`, whose
/// owner-driven attestor-set changes wait `owner_rotation_delay` seconds, from
/// `signer`'s account.
pub async fn deploy_contracts(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    owner: Address,
    owner_rotation_delay: u64,
) -> Result<Deployed, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let receipt = EvidenceRegistry::deploy_builder(&provider)
        .send()
        .await
        .map_err(|e| send_error(chain, "deploy EvidenceRegistry", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "deploy EvidenceRegistry", e))?;
    require_success(chain, "deploy EvidenceRegistry", &receipt)?;
    let registry = receipt.contract_address.ok_or_else(|| AdapterError::Rpc {
        chain: chain.clone(),
        message: "the EvidenceRegistry deployment receipt has no contract address".into(),
    })?;
    let registry_block = receipt.block_number.unwrap_or_default();

    let receipt = AnchorMirror::deploy_builder(&provider, owner, owner_rotation_delay)
        .send()
        .await
        .map_err(|e| send_error(chain, "deploy AnchorMirror", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "deploy AnchorMirror", e))?;
    require_success(chain, "deploy AnchorMirror", &receipt)?;
    let mirror = receipt.contract_address.ok_or_else(|| AdapterError::Rpc {
        chain: chain.clone(),
        message: "the AnchorMirror deployment receipt has no contract address".into(),
    })?;
    let deployed = Deployed {
        registry,
        mirror,
        registry_block,
        mirror_block: receipt.block_number.unwrap_or_default(),
    };
    info!(target: "adapters::deploy", chain = %chain, ?deployed, "contracts deployed");
    Ok(deployed)
}

/// Installs the FIRST attestor set of `source` on the mirror (sorted ascending first);
/// the signer must be the mirror's owner, and the source must have no set yet (later
/// sets: [`rotate_attestors`] or the owner's timelock). Returns the transaction hash.
pub async fn set_attestors(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    mirror: Address,
    source: &ChainId,
    attestors: &[Address],
    threshold: u8,
) -> Result<B256, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let mut sorted = attestors.to_vec();
    sorted.sort();
    let receipt = AnchorMirror::new(mirror, &provider)
        .setAttestors(source.key(), sorted, threshold)
        .send()
        .await
        .map_err(|e| send_error(chain, "setAttestors", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "setAttestors", e))?;
    require_success(chain, "setAttestors", &receipt)?;
    info!(target: "adapters::deploy", chain = %chain, %source, threshold, attestors = attestors.len(), "attestor set replaced");
    Ok(receipt.transaction_hash)
}

/// Sends `call` (an `AnchorMirror` transaction built on `provider`), waits for its
/// receipt and requires success; `what` names it in errors.
async fn send_mirror_call<C>(chain: &ChainId, what: &str, call: C) -> Result<B256, AdapterError>
where
    C: std::future::IntoFuture<
            Output = Result<
                alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
                alloy::contract::Error,
            >,
        >,
{
    let receipt = call
        .await
        .map_err(|e| send_error(chain, what, e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, what, e))?;
    require_success(chain, what, &receipt)?;
    Ok(receipt.transaction_hash)
}

/// Installs a set signed by the threshold of the current one (`rotateAttestors`).
/// `signer` only pays gas: it needs no role on the mirror. `signatures` must be sorted
/// by signer address. Returns the transaction hash.
pub async fn rotate_attestors(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    mirror: Address,
    update: &evidence_schemas::attestor_set::SetUpdate,
    signatures: Vec<alloy::primitives::Bytes>,
) -> Result<B256, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let m = AnchorMirror::new(mirror, &provider);
    let call = m.rotateAttestors(
        update.source_chain.key(),
        update.new_version,
        update.attestors.clone(),
        update.threshold,
        signatures,
    );
    let tx = send_mirror_call(chain, "rotateAttestors", call.send()).await?;
    info!(target: "adapters::deploy", chain = %chain, source = %update.source_chain, version = update.new_version, "attestor set rotated (signed by the previous set)");
    Ok(tx)
}

/// The owner proposes a new set through the timelock (`proposeOwnerRotation`).
pub async fn propose_owner_rotation(
    rpc: &ChainRpc,
    owner: PrivateKeySigner,
    mirror: Address,
    source: &ChainId,
    attestors: &[Address],
    threshold: u8,
) -> Result<B256, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, owner);
    let m = AnchorMirror::new(mirror, &provider);
    let call = m.proposeOwnerRotation(source.key(), attestors.to_vec(), threshold);
    let tx = send_mirror_call(chain, "proposeOwnerRotation", call.send()).await?;
    info!(target: "adapters::deploy", chain = %chain, %source, "owner rotation proposed");
    Ok(tx)
}

/// The owner executes its pending proposal after the timelock (`executeOwnerRotation`).
pub async fn execute_owner_rotation(
    rpc: &ChainRpc,
    owner: PrivateKeySigner,
    mirror: Address,
    source: &ChainId,
) -> Result<B256, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, owner);
    let m = AnchorMirror::new(mirror, &provider);
    let call = m.executeOwnerRotation(source.key());
    send_mirror_call(chain, "executeOwnerRotation", call.send()).await
}

/// Cancels the pending owner proposal: with the current set's signatures (sorted by
/// signer), or by the owner with none (`cancelOwnerRotation`).
pub async fn cancel_owner_rotation(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    mirror: Address,
    source: &ChainId,
    signatures: Vec<alloy::primitives::Bytes>,
) -> Result<B256, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let m = AnchorMirror::new(mirror, &provider);
    let call = m.cancelOwnerRotation(source.key(), signatures);
    send_mirror_call(chain, "cancelOwnerRotation", call.send()).await
}

/// Anchors `digest` on the registry and returns the mined record.
pub async fn anchor(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    registry: Address,
    digest_alg: DigestAlgorithm,
    digest: B256,
    kind: &Label,
    metadata: B256,
) -> Result<AnchorReceipt, AdapterError> {
    let provider = wallet_provider(rpc, signer);
    let contract = EvidenceRegistry::new(registry, &provider);
    let call = contract.anchor(
        digest_alg.code(),
        digest,
        kind.as_str().to_owned(),
        metadata,
    );
    let receipt = call
        .send()
        .await
        .map_err(|e| send_error(rpc.chain(), "anchor", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(rpc.chain(), "anchor", e))?;
    record_of(
        rpc,
        registry,
        &receipt,
        EvidenceRegistry::Anchored::SIGNATURE_HASH,
        "anchor",
    )
    .await
}

/// Revokes the anchor record `reference` of `digest` and returns the mined record.
pub async fn revoke(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    registry: Address,
    digest_alg: DigestAlgorithm,
    digest: B256,
    reference: B256,
    kind: &Label,
) -> Result<AnchorReceipt, AdapterError> {
    let provider = wallet_provider(rpc, signer);
    let contract = EvidenceRegistry::new(registry, &provider);
    let call = contract.revoke(
        digest_alg.code(),
        digest,
        reference,
        kind.as_str().to_owned(),
    );
    let receipt = call
        .send()
        .await
        .map_err(|e| send_error(rpc.chain(), "revoke", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(rpc.chain(), "revoke", e))?;
    record_of(
        rpc,
        registry,
        &receipt,
        EvidenceRegistry::Revoked::SIGNATURE_HASH,
        "revoke",
    )
    .await
}

/// The record of the registry event in `receipt`, decoded by the source adapter's own
/// function (with the block timestamp from the block header).
async fn record_of(
    rpc: &ChainRpc,
    registry: Address,
    receipt: &TransactionReceipt,
    signature: B256,
    what: &str,
) -> Result<AnchorReceipt, AdapterError> {
    let chain = rpc.chain();
    require_success(chain, what, receipt)?;
    let log = receipt
        .logs()
        .iter()
        .find(|l| l.address() == registry && l.topic0() == Some(&signature))
        .ok_or_else(|| AdapterError::Rpc {
            chain: chain.clone(),
            message: format!(
                "{what}: receipt of {} has no registry event",
                receipt.transaction_hash
            ),
        })?;
    let block_hash = log.block_hash.or(receipt.block_hash).unwrap_or_default();
    let timestamp = match log.block_timestamp {
        Some(ts) => ts,
        None => {
            rpc.provider()
                .get_block_by_hash(block_hash)
                .await
                .map_err(|e| rpc.error("eth_getBlockByHash", e))?
                .ok_or_else(|| AdapterError::Rpc {
                    chain: chain.clone(),
                    message: format!(
                        "{what}: block {block_hash} of the receipt is unknown (reorged out?)"
                    ),
                })?
                .header
                .timestamp
        }
    };
    let event = decode_registry_log(chain, log, timestamp).map_err(|f| AdapterError::Rpc {
        chain: chain.clone(),
        message: format!(
            "{what}: the mined event does not make a valid record: {}",
            f.quarantined.reason
        ),
    })?;
    Ok(AnchorReceipt {
        tx_hash: receipt.transaction_hash,
        block_number: event.record.source.block_number,
        log_index: event.record.source.log_index,
        seq: event.seq,
        record: event.record,
    })
}
