//! `bridge proof RECORD_ID --to CHAIN -o FILE`: write a self-contained proof bundle.

use alloy::primitives::B256;
use evidence_relayer::RelayerError;
use evidence_relayer::store::Store;
use evidence_schemas::{ProofBundle, digest::parse_b256};

use crate::{
    cli::ProofArgs,
    config::{ChainSettings, Settings},
    context,
    exit::{CmdResult, Failure},
    output::print_json,
};

pub(crate) async fn run(args: ProofArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let record_id = parse_b256("record id", &args.record_id)?;
    let dest = settings.chain(&args.to)?.clone();
    let store = context::open_store(&settings).await?;
    let bundle = build_bundle(&store, record_id, &dest).await?;
    let text = bundle_text(&bundle)?;
    std::fs::write(&args.output, text)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", args.output.display())))?;
    if args.json {
        print_json(&serde_json::json!({
            "record_id": record_id,
            "destination": dest.name,
            "checkpoint_size": bundle.checkpoint.size,
            "leaf_index": bundle.leaf_index,
            "revoked": bundle.is_revoked(),
            "output": args.output,
        }))?;
    } else {
        println!(
            "wrote {}: record {record_id} (leaf {}) in checkpoint size {} mirrored on {}",
            args.output.display(),
            bundle.leaf_index,
            bundle.checkpoint.size,
            dest.name
        );
        if let Some(rev) = &bundle.revocation {
            println!(
                "the record is REVOKED: the bundle carries revocation {} (leaf {})",
                rev.record_id, rev.leaf_index
            );
        }
    }
    Ok(())
}

/// The proof bundle of `record_id` on `dest`, from the newest checkpoint mirrored there,
/// built from the store and checked offline (`bridge proof` and `bridge certificate`).
pub(crate) async fn build_bundle(
    store: &Store,
    record_id: B256,
    dest: &ChainSettings,
) -> Result<ProofBundle, Failure> {
    let mirror = context::mirror_reader(dest).await?;
    let not_found = |e: RelayerError| match e {
        RelayerError::NotFound(m) => Failure::failed(m),
        other => Failure::failed(format!("building the bundle: {other}")),
    };
    let target = store
        .proof_target(record_id, &dest.chain_id)
        .await
        .map_err(not_found)?;
    // The attestor set that accepted the checkpoint: read at the block it was accepted
    // in (after a rotation the current set did not sign older checkpoints).
    let state = mirror
        .fetch_state_as_of(
            &target.view.record.source.chain,
            target.submission.mined_block,
        )
        .await
        .map_err(|e| Failure::failed(format!("reading the mirror on {}: {e}", dest.name)))?;
    let bundle = store
        .build_bundle_of(target, &dest.chain_id, &state, dest.mirror)
        .await
        .map_err(not_found)?;
    bundle.verify_offline().map_err(|e| {
        Failure::failed(format!(
            "the bundle built from the store does not verify ({e}); this is a bug"
        ))
    })?;
    Ok(bundle)
}

/// A bundle as `bridge proof` writes it: pretty JSON and a newline.
pub(crate) fn bundle_text(bundle: &ProofBundle) -> Result<String, Failure> {
    crate::certificate::bundle_json(bundle).map_err(Failure::failed)
}
