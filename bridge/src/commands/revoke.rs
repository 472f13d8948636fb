//! `bridge revoke --chain NAME --record-id HEX`: revoke one of your own anchor records
//! on a chain's `EvidenceRegistry`.
//!
//! The registry's `revoke(digestAlg, digest, ref, kind)` restates the anchor's digest
//! and kind, so the anchor record is read from the store (`bridge run` indexed it), and
//! everything a verifier will compare is checked before a transaction is sent: the
//! record is a `registry` anchor of this chain's configured registry, not revoked yet,
//! and submitted by the key that signs (keys.anchor_key_env): only the submitter can
//! revoke, and a revocation by anyone else is rejected by every verifier.

use alloy::primitives::B256;
use evidence_schemas::{Action, digest::parse_b256};
use serde::Serialize;

use crate::{
    cli::RevokeArgs,
    config::Settings,
    context,
    exit::{CmdResult, Failure},
    output::print_json,
    secrets,
};

/// A mined revocation.
#[derive(Debug, Serialize)]
struct Revoked {
    /// Chain name.
    chain: String,
    /// The revoked anchor record.
    revoked: B256,
    /// Revoking transaction.
    tx_hash: B256,
    /// Its block.
    block_number: u64,
    /// The registry's sequence number of the revocation.
    seq: u64,
    /// Record id of the revoke record.
    record_id: B256,
    /// The revoke record (EvidenceRecord v1).
    record: evidence_schemas::EvidenceRecord,
}

pub(crate) async fn run(args: RevokeArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let chain = settings.chain(&args.chain)?.clone();
    let record_id = parse_b256("record id", &args.record_id)?;
    let registry = chain.registry.ok_or_else(|| {
        Failure::usage(format!(
            "chain {} has no `registry` configured: only records of our EvidenceRegistry can be revoked with `bridge revoke`",
            chain.name
        ))
    })?;
    let key = secrets::anchor_key(&settings.keys)?;
    let store = context::open_store(&settings).await?;
    let view = store
        .load_record(record_id)
        .await
        .map_err(|e| Failure::failed(format!("reading the store: {e}")))?
        .ok_or_else(|| {
            Failure::usage(format!(
                "record {record_id} is not in this config's store: check the id (`bridge lookup`), or wait until `bridge run` has indexed it"
            ))
        })?;
    let record = &view.record;
    let usage = |m: String| Err(Failure::usage(m));
    if record.source.chain != chain.chain_id {
        return usage(format!(
            "record {record_id} is of {}, not of chain {} ({})",
            record.source.chain, chain.name, chain.chain_id
        ));
    }
    if record.action != Action::Anchor {
        return usage(format!(
            "record {record_id} is itself a revocation; only an anchor record can be revoked"
        ));
    }
    if record.source.adapter.as_str() != evidence_adapters::registry::REGISTRY_ADAPTER
        || record.source.contract != registry
    {
        return usage(format!(
            "record {record_id} was made by the `{}` adapter at {}, not by {}'s registry {registry}: revoke it where it was made",
            record.source.adapter, record.source.contract, chain.name
        ));
    }
    if record.evidence.submitter != key.address() {
        return usage(format!(
            "record {record_id} was submitted by {}, the key in keys.anchor_key_env is {}: only the submitter can revoke (the registry would accept the call, and every verifier would reject the revocation)",
            record.evidence.submitter,
            key.address()
        ));
    }
    if let Some(by) = view.revoked_by {
        return usage(format!(
            "record {record_id} is already revoked by record {by}"
        ));
    }
    let e = &record.evidence;
    let receipt = context::registry_writer(&chain, key)
        .await?
        .revoke(e.digest_alg, e.digest, record_id, &e.kind)
        .await
        .map_err(|err| Failure::failed(format!("revoking on {}: {err}", chain.name)))?;
    let out = Revoked {
        chain: chain.name.clone(),
        revoked: record_id,
        tx_hash: receipt.tx_hash,
        block_number: receipt.block_number,
        seq: receipt.seq,
        record_id: receipt.record.record_id(),
        record: receipt.record,
    };
    if args.json {
        print_json(&out)?;
    } else {
        println!(
            "revoked record {record_id} on {} ({})",
            out.chain, chain.chain_id
        );
        println!(
            "  tx         {} (block {}, seq {})",
            out.tx_hash, out.block_number, out.seq
        );
        println!("  revocation {}", out.record_id);
    }
    Ok(())
}
