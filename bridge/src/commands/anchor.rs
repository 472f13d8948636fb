//! `bridge anchor`: anchor a file's or a digest's evidence on a chain's registry.

use alloy::{primitives::B256, signers::local::PrivateKeySigner};
use evidence_schemas::{DigestAlgorithm, Label, digest::parse_digest};
use serde::Serialize;

use crate::{
    cli::AnchorArgs,
    config::{ChainSettings, Settings},
    context,
    exit::{CmdResult, Failure},
    output::print_json,
    secrets,
};

/// A mined anchor.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Anchored {
    /// Chain name.
    pub(crate) chain: String,
    /// Digest algorithm.
    #[schema(value_type = String)]
    pub(crate) digest_alg: DigestAlgorithm,
    /// The digest (0x-hex).
    #[schema(value_type = String)]
    pub(crate) digest: B256,
    /// The label.
    pub(crate) kind: String,
    /// Anchoring transaction.
    #[schema(value_type = String)]
    pub(crate) tx_hash: B256,
    /// Its block.
    pub(crate) block_number: u64,
    /// The registry's sequence number of the record.
    pub(crate) seq: u64,
    /// Record id (0x-hex).
    #[schema(value_type = String)]
    pub(crate) record_id: B256,
    /// The record (EvidenceRecord v1).
    #[schema(value_type = Object)]
    pub(crate) record: evidence_schemas::EvidenceRecord,
}

/// Sends `anchor(digest)` to `chain`'s registry from `key` and waits for the record.
pub(crate) async fn submit_anchor(
    chain: &ChainSettings,
    key: PrivateKeySigner,
    alg: DigestAlgorithm,
    digest: B256,
    kind: &Label,
    metadata: B256,
) -> Result<Anchored, Failure> {
    if chain.registry.is_none() {
        return Err(Failure::usage(format!(
            "chain {} has no `registry` configured: anchoring writes to our EvidenceRegistry; deploy one with `bridge deploy` and add its address to the chain's config",
            chain.name
        )));
    }
    let receipt = context::registry_writer(chain, key)
        .await?
        .anchor(alg, digest, kind, metadata)
        .await
        .map_err(|e| Failure::failed(format!("anchoring on {}: {e}", chain.name)))?;
    Ok(Anchored {
        chain: chain.name.clone(),
        digest_alg: alg,
        digest,
        kind: kind.to_string(),
        tx_hash: receipt.tx_hash,
        block_number: receipt.block_number,
        seq: receipt.seq,
        record_id: receipt.record.record_id(),
        record: receipt.record,
    })
}

/// The digest to look up or anchor: from `--file` (streamed) or given as hex.
pub(crate) fn resolve_digest(
    file: Option<&std::path::Path>,
    digest: Option<&str>,
    alg: DigestAlgorithm,
) -> Result<B256, Failure> {
    match (file, digest) {
        (Some(path), _) => alg
            .digest_file(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display()))),
        (None, Some(hex)) => Ok(parse_digest("digest", hex)?),
        (None, None) => Err(Failure::usage("give a digest or --file PATH")),
    }
}

pub(crate) async fn run(args: AnchorArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let chain = settings.chain(&args.chain)?.clone();
    let alg: DigestAlgorithm = args.alg.parse()?;
    let digest = resolve_digest(args.file.as_deref(), args.digest.as_deref(), alg)?;
    let kind = Label::parse("kind", &args.kind)?;
    let key = secrets::anchor_key(&settings.keys)?;
    let out = submit_anchor(&chain, key, alg, digest, &kind, B256::ZERO).await?;
    if args.json {
        print_json(&out)?;
    } else {
        println!("anchored on {} ({})", out.chain, chain.chain_id);
        println!("  digest     {} {}", out.digest_alg, out.digest);
        println!(
            "  tx         {} (block {}, seq {})",
            out.tx_hash, out.block_number, out.seq
        );
        println!("  record id  {}", out.record_id);
    }
    Ok(())
}
