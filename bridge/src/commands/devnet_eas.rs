//! `bridge devnet attest-eas` / `revoke-eas`: make and revoke EAS attestations on a
//! chain with an `eas` source, for the quick start and the end-to-end tests.
//!
//! The attestation uses the first schema listed in the chain's `eas.schemas` (the
//! devnet registers `bytes32 documentHash, string note` and maps word 0 as a SHA-256
//! digest). The record printed is the one the bridge indexes: it comes from running the
//! chain's `eas` source adapter over the transaction's block, not from a second
//! implementation of the mapping.

use alloy::{
    primitives::{Address, B256},
    sol_types::SolValue,
};
use evidence_adapters::{
    EasSource, EvidenceSource,
    deploy_eas::{EasAttestation, eas_attest, eas_revoke},
};
use evidence_schemas::{DigestAlgorithm, EvidenceRecord, digest::parse_b256};
use serde::Serialize;

use crate::{
    cli::{AttestEasArgs, RevokeEasArgs},
    commands::anchor::resolve_digest,
    config::{ChainSettings, Settings},
    context,
    exit::{CmdResult, Failure},
    output::print_json,
    secrets,
};

/// What the helpers print.
#[derive(Debug, Serialize)]
struct EasOutcome {
    chain: String,
    uid: B256,
    schema: B256,
    tx_hash: B256,
    block_number: u64,
    record_id: B256,
    record: EvidenceRecord,
}

fn eas_of(chain: &ChainSettings) -> Result<(Address, B256), Failure> {
    let eas = chain.eas.as_ref().ok_or_else(|| {
        Failure::usage(format!(
            "chain {} has no `eas` source in the config; add `eas = {{ contract = \"0x…\", schemas = [...] }}` to it",
            chain.name
        ))
    })?;
    let schema = eas.schemas.first().ok_or_else(|| {
        Failure::usage(format!(
            "chain {}: the `eas` source lists no schema; add one (`schemas = [{{ uid = \"0x…\" }}]`) so the helper knows which schema to attest with",
            chain.name
        ))
    })?;
    Ok((eas.contract, schema.uid))
}

/// Runs the chain's `eas` source over `block` and returns the record of `tx_hash`.
async fn indexed_record(
    chain: &ChainSettings,
    rpc: &evidence_adapters::ChainRpc,
    block: u64,
    tx_hash: B256,
) -> Result<EvidenceRecord, Failure> {
    let eas = chain
        .eas
        .clone()
        .ok_or_else(|| Failure::usage("no eas source"))?;
    let source = EasSource::new(rpc.clone(), chain.chain_id.clone(), eas)
        .map_err(|e| Failure::usage(format!("chain {}: {e}", chain.name)))?;
    let batch = source
        .fetch_records(block, block, None)
        .await
        .map_err(|e| {
            Failure::failed(format!(
                "reading the attestation back on {}: {e}",
                chain.name
            ))
        })?;
    if let Some(q) = batch.quarantined.iter().find(|q| q.tx_hash == tx_hash) {
        return Err(Failure::failed(format!(
            "the bridge would quarantine this attestation: {}",
            q.reason
        )));
    }
    batch
        .records
        .into_iter()
        .map(|r| r.record)
        .find(|r| r.source.tx_hash == tx_hash)
        .ok_or_else(|| {
            Failure::failed(format!(
                "the eas source found no record for transaction {tx_hash}"
            ))
        })
}

fn print(out: &EasOutcome, json: bool, verb: &str) -> CmdResult {
    if json {
        print_json(out)?;
    } else {
        println!("{verb} on {} ({})", out.chain, out.record.source.chain);
        println!("  uid        {}", out.uid);
        println!("  tx         {} (block {})", out.tx_hash, out.block_number);
        println!(
            "  digest     {} {}",
            out.record.evidence.digest_alg, out.record.evidence.digest
        );
        println!("  record id  {}", out.record_id);
    }
    Ok(())
}

pub(crate) async fn attest(args: AttestEasArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let chain = settings.chain(&args.chain)?.clone();
    let (eas, schema) = eas_of(&chain)?;
    let digest = resolve_digest(
        args.file.as_deref(),
        args.digest.as_deref(),
        DigestAlgorithm::Sha256,
    )?;
    let key = secrets::anchor_key(&settings.keys)?;
    let rpc = context::connect_rpc(&chain).await?;
    let data = (digest, args.note.clone()).abi_encode_params();
    let receipt = eas_attest(&rpc, key, eas, &EasAttestation::new(schema, data))
        .await
        .map_err(|e| Failure::failed(format!("attesting on {}: {e}", chain.name)))?;
    let uid = *receipt
        .uids
        .first()
        .ok_or_else(|| Failure::failed("the attestation transaction emitted no Attested event"))?;
    let record = indexed_record(&chain, &rpc, receipt.block_number, receipt.tx_hash).await?;
    let out = EasOutcome {
        chain: chain.name.clone(),
        uid,
        schema,
        tx_hash: receipt.tx_hash,
        block_number: receipt.block_number,
        record_id: record.record_id(),
        record,
    };
    print(&out, args.json, "attested")
}

pub(crate) async fn revoke(args: RevokeEasArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let chain = settings.chain(&args.chain)?.clone();
    let (eas, schema) = eas_of(&chain)?;
    let uid = parse_b256("uid", &args.uid)?;
    let key = secrets::anchor_key(&settings.keys)?;
    let rpc = context::connect_rpc(&chain).await?;
    let receipt = eas_revoke(&rpc, key, eas, schema, uid)
        .await
        .map_err(|e| Failure::failed(format!("revoking on {}: {e}", chain.name)))?;
    let record = indexed_record(&chain, &rpc, receipt.block_number, receipt.tx_hash).await?;
    let out = EasOutcome {
        chain: chain.name.clone(),
        uid,
        schema,
        tx_hash: receipt.tx_hash,
        block_number: receipt.block_number,
        record_id: record.record_id(),
        record,
    };
    print(&out, args.json, "revoked")
}
