//! Deploying the Ethereum Attestation Service (SchemaRegistry + EAS) and using it:
//! registering schemas, attesting (single and multi), revoking.
//!
//! Used by the tests and the devnet to run the `eas` source against the real,
//! unmodified EAS contracts (bytecode of the pinned npm package, see
//! `deploy/artifacts/eas/`). Each function sends a transaction signed by a local key,
//! waits for its receipt and fails with [`AdapterError::Reverted`] naming EAS's custom
//! error when it reverts.

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    rpc::types::TransactionReceipt,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use evidence_schemas::ChainId;
use tracing::info;

use crate::{
    contracts::eas::{EAS, SchemaRegistry},
    deploy::{pending_error, require_success, wallet_provider},
    error::AdapterError,
    evm_mirror::format_sol_error,
    rpc::ChainRpc,
};

/// Addresses of a freshly deployed EAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeployedEas {
    /// The `SchemaRegistry`.
    pub schema_registry: Address,
    /// The `EAS` contract (the `eas` source's `contract`).
    pub eas: Address,
    /// Block of the EAS deployment (the `eas` source's `start_block`).
    pub eas_block: u64,
}

/// One new attestation to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EasAttestation {
    /// Schema UID.
    pub schema: B256,
    /// Recipient (may be zero).
    pub recipient: Address,
    /// Expiration time (0: none).
    pub expiration_time: u64,
    /// Whether it can be revoked.
    pub revocable: bool,
    /// UID of an attestation it refers to (zero: none).
    pub ref_uid: B256,
    /// ABI-encoded data in the schema's layout.
    pub data: Bytes,
}

impl EasAttestation {
    /// A revocable attestation of `data` under `schema`, no recipient, no expiry.
    pub fn new(schema: B256, data: impl Into<Bytes>) -> Self {
        Self {
            schema,
            recipient: Address::ZERO,
            expiration_time: 0,
            revocable: true,
            ref_uid: B256::ZERO,
            data: data.into(),
        }
    }

    fn request_data(&self) -> EAS::AttestationRequestData {
        EAS::AttestationRequestData {
            recipient: self.recipient,
            expirationTime: self.expiration_time,
            revocable: self.revocable,
            refUID: self.ref_uid,
            data: self.data.clone(),
            value: U256::ZERO,
        }
    }
}

/// A mined EAS transaction and the attestation UIDs it attested or revoked, in event
/// order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EasReceipt {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Block number.
    pub block_number: u64,
    /// UIDs of the `Attested` (or `Revoked`) events of the transaction.
    pub uids: Vec<B256>,
}

fn eas_error(chain: &ChainId, what: &str, e: alloy::contract::Error) -> AdapterError {
    if let Some(err) = e.as_decoded_interface_error::<EAS::EASErrors>() {
        return AdapterError::Reverted {
            chain: chain.clone(),
            reason: format!("{what}: {}", format_sol_error(&format!("{err:?}"))),
        };
    }
    if let Some(err) = e.as_decoded_interface_error::<SchemaRegistry::SchemaRegistryErrors>() {
        return AdapterError::Reverted {
            chain: chain.clone(),
            reason: format!("{what}: {}", format_sol_error(&format!("{err:?}"))),
        };
    }
    AdapterError::Rpc {
        chain: chain.clone(),
        message: crate::redact::scrub(&format!("{what}: {e}")).into_owned(),
    }
}

fn created(chain: &ChainId, what: &str, r: &TransactionReceipt) -> Result<Address, AdapterError> {
    require_success(chain, what, r)?;
    r.contract_address.ok_or_else(|| AdapterError::Rpc {
        chain: chain.clone(),
        message: format!("{what}: the receipt has no contract address"),
    })
}

/// Deploys a `SchemaRegistry` and an `EAS` using it, from `signer`'s account.
pub async fn deploy_eas(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
) -> Result<DeployedEas, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let receipt = SchemaRegistry::deploy_builder(&provider)
        .send()
        .await
        .map_err(|e| eas_error(chain, "deploy SchemaRegistry", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "deploy SchemaRegistry", e))?;
    let schema_registry = created(chain, "deploy SchemaRegistry", &receipt)?;
    let receipt = EAS::deploy_builder(&provider, schema_registry)
        .send()
        .await
        .map_err(|e| eas_error(chain, "deploy EAS", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "deploy EAS", e))?;
    let eas = created(chain, "deploy EAS", &receipt)?;
    let deployed = DeployedEas {
        schema_registry,
        eas,
        eas_block: receipt.block_number.unwrap_or_default(),
    };
    info!(target: "adapters::deploy", chain = %chain, ?deployed, "EAS deployed");
    Ok(deployed)
}

/// Registers `schema` (e.g. `"bytes32 docHash,string note"`) without a resolver and
/// returns its UID.
pub async fn register_schema(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    schema_registry: Address,
    schema: &str,
    revocable: bool,
) -> Result<B256, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let receipt = SchemaRegistry::new(schema_registry, &provider)
        .register(schema.to_owned(), Address::ZERO, revocable)
        .send()
        .await
        .map_err(|e| eas_error(chain, "register schema", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "register schema", e))?;
    require_success(chain, "register schema", &receipt)?;
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| SchemaRegistry::Registered::decode_log_data(l.data()).ok())
        .map(|ev| ev.uid)
        .ok_or_else(|| AdapterError::Rpc {
            chain: chain.clone(),
            message: "register schema: the receipt has no Registered event".into(),
        })
}

fn uids_of<E: SolEvent>(
    receipt: &TransactionReceipt,
    eas: Address,
    uid: fn(&E) -> B256,
) -> Vec<B256> {
    receipt
        .inner
        .logs()
        .iter()
        .filter(|l| l.address() == eas)
        .filter_map(|l| E::decode_log_data(l.data()).ok())
        .map(|ev| uid(&ev))
        .collect()
}

fn eas_receipt<E: SolEvent>(
    chain: &ChainId,
    what: &str,
    receipt: &TransactionReceipt,
    eas: Address,
    uid: fn(&E) -> B256,
) -> Result<EasReceipt, AdapterError> {
    require_success(chain, what, receipt)?;
    Ok(EasReceipt {
        tx_hash: receipt.transaction_hash,
        block_number: receipt.block_number.unwrap_or_default(),
        uids: uids_of(receipt, eas, uid),
    })
}

/// Makes one attestation.
pub async fn eas_attest(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    eas: Address,
    attestation: &EasAttestation,
) -> Result<EasReceipt, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let request = EAS::AttestationRequest {
        schema: attestation.schema,
        data: attestation.request_data(),
    };
    let receipt = EAS::new(eas, &provider)
        .attest(request)
        .send()
        .await
        .map_err(|e| eas_error(chain, "attest", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "attest", e))?;
    eas_receipt::<EAS::Attested>(chain, "attest", &receipt, eas, |e| e.uid)
}

/// Makes several attestations in one `multiAttest` transaction (consecutive
/// attestations of one schema are grouped into one request).
pub async fn eas_multi_attest(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    eas: Address,
    attestations: &[EasAttestation],
) -> Result<EasReceipt, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let mut requests: Vec<EAS::MultiAttestationRequest> = Vec::new();
    for a in attestations {
        match requests.last_mut() {
            Some(r) if r.schema == a.schema => r.data.push(a.request_data()),
            _ => requests.push(EAS::MultiAttestationRequest {
                schema: a.schema,
                data: vec![a.request_data()],
            }),
        }
    }
    let receipt = EAS::new(eas, &provider)
        .multiAttest(requests)
        .send()
        .await
        .map_err(|e| eas_error(chain, "multiAttest", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "multiAttest", e))?;
    eas_receipt::<EAS::Attested>(chain, "multiAttest", &receipt, eas, |e| e.uid)
}

/// Revokes attestation `uid` of `schema`; the signer must be its attester.
pub async fn eas_revoke(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
    eas: Address,
    schema: B256,
    uid: B256,
) -> Result<EasReceipt, AdapterError> {
    let chain = rpc.chain();
    let provider = wallet_provider(rpc, signer);
    let request = EAS::RevocationRequest {
        schema,
        data: EAS::RevocationRequestData {
            uid,
            value: U256::ZERO,
        },
    };
    let receipt = EAS::new(eas, &provider)
        .revoke(request)
        .send()
        .await
        .map_err(|e| eas_error(chain, "revoke", e))?
        .get_receipt()
        .await
        .map_err(|e| pending_error(chain, "revoke", e))?;
    eas_receipt::<EAS::Revoked>(chain, "revoke", &receipt, eas, |e| e.uid)
}
