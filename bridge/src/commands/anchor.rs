//! `bridge anchor`: anchor a file's or a digest's evidence on a chain's registry.

use alloy::primitives::B256;
use evidence_schemas::{DigestAlgorithm, Label, digest::parse_digest};
use serde::Serialize;

use crate::{
    cli::AnchorArgs,
    config::Settings,
    context,
    exit::{CmdResult, Failure},
    output::print_json,
    secrets,
};

#[derive(Debug, Serialize)]
struct Anchored {
    chain: String,
    digest_alg: DigestAlgorithm,
    digest: B256,
    kind: String,
    tx_hash: B256,
    block_number: u64,
    seq: u64,
    record_id: B256,
    record: evidence_schemas::EvidenceRecord,
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
    let registry = chain.registry.ok_or_else(|| {
        Failure::usage(format!(
            "chain {} has no `registry` configured: `bridge anchor` writes to our EvidenceRegistry; deploy one with `bridge deploy` and add its address to the chain's config",
            chain.name
        ))
    })?;
    let key = secrets::anchor_key(&settings.keys)?;
    let rpc = context::connect_rpc(&chain).await?;
    let receipt = evidence_adapters::deploy::anchor(&rpc, key, registry, alg, digest, &kind, B256::ZERO)
        .await
        .map_err(|e| Failure::failed(format!("anchoring on {}: {e}", chain.name)))?;
    let out = Anchored {
        chain: chain.name.clone(),
        digest_alg: alg,
        digest,
        kind: kind.to_string(),
        tx_hash: receipt.tx_hash,
        block_number: receipt.block_number,
        seq: receipt.seq,
        record_id: receipt.record.record_id(),
        record: receipt.record,
    };
    if args.json {
        print_json(&out)?;
    } else {
        println!("anchored on {} ({})", out.chain, chain.chain_id);
        println!("  digest     {} {}", out.digest_alg, out.digest);
        println!("  tx         {} (block {}, seq {})", out.tx_hash, out.block_number, out.seq);
        println!("  record id  {}", out.record_id);
    }
    Ok(())
}
