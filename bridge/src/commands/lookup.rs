//! `bridge lookup`: every record of a digest on every chain, with its state.

use evidence_relayer::query::{RecordState, RecordView};
use evidence_schemas::DigestAlgorithm;

use crate::{
    cli::LookupArgs,
    commands::anchor::resolve_digest,
    config::Settings,
    context,
    exit::{CmdResult, Failure},
    output::print_json,
};

fn name_of(settings: &Settings, chain: &evidence_schemas::ChainId) -> String {
    settings.chains.iter().find(|c| &c.chain_id == chain).map_or_else(|| chain.to_string(), |c| c.name.clone())
}

pub(crate) async fn run(args: LookupArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let alg: DigestAlgorithm = args.alg.parse()?;
    let digest = resolve_digest(args.file.as_deref(), args.digest.as_deref(), alg)?;
    let store = context::open_store(&settings).await?;
    let views: Vec<RecordView> =
        store.lookup_digest(digest).await.map_err(|e| Failure::failed(format!("lookup failed: {e}")))?;
    let mut chains: Vec<&str> = views.iter().map(|v| v.chain_name.as_str()).collect();
    chains.sort_unstable();
    chains.dedup();
    let anchored_on: Vec<&str> = {
        let mut c: Vec<&str> = views
            .iter()
            .filter(|v| v.record.action == evidence_schemas::Action::Anchor)
            .map(|v| v.chain_name.as_str())
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    };
    let linked = anchored_on.len() > 1;
    if args.json {
        print_json(&serde_json::json!({
            "digest": digest,
            "chains": chains,
            "anchored_on": anchored_on,
            "linked": linked,
            "records": views,
        }))?;
    } else if views.is_empty() {
        println!("digest {digest}: not found on any indexed chain");
    } else {
        println!("digest {digest}: {} record(s) on {}", views.len(), chains.join(", "));
        if linked {
            println!(
                "note: anchored independently on {} chains ({}): these are separate records, linked only by the digest",
                anchored_on.len(),
                anchored_on.join(", ")
            );
        }
        for v in &views {
            let r = &v.record;
            println!(
                "- {} on {} ({}), block {}, {} by {} at {}",
                match r.action {
                    evidence_schemas::Action::Anchor => "anchored",
                    evidence_schemas::Action::Revoke => "revocation",
                },
                v.chain_name,
                r.source.chain,
                r.source.block_number,
                r.evidence.kind,
                r.evidence.submitter,
                r.block_time_rfc3339()
            );
            println!("    record id  {}", v.record_id);
            println!(
                "    state      {}",
                match v.state {
                    RecordState::PendingConfirmation => "pending confirmation".to_string(),
                    RecordState::InLog { leaf_index } => format!("in log (leaf {leaf_index}), not yet checkpointed"),
                    RecordState::Checkpointed { leaf_index, checkpoint_size } =>
                        format!("checkpointed (leaf {leaf_index}, checkpoint size {checkpoint_size})"),
                }
            );
            if v.mirrored_on.is_empty() {
                println!("    provable   nowhere yet");
            }
            for m in &v.mirrored_on {
                let dest = name_of(&settings, &m.destination_chain);
                println!(
                    "    provable   on {dest} (checkpoint size {}{}{})",
                    m.checkpoint_size,
                    m.checkpoint_root.map(|r| format!(", root {r}")).unwrap_or_default(),
                    m.tx_hash.map(|t| format!(", mirror tx {t}")).unwrap_or_default()
                );
                if let Some(rc) = &m.receipt {
                    let back: Vec<String> = rc
                        .provable_on
                        .iter()
                        .map(|b| format!("{} at size {}", name_of(&settings, &b.destination_chain), b.checkpoint_size))
                        .collect();
                    println!(
                        "    receipt    checkpoint accepted on {dest}{}, receipt recorded on {dest} (record {}){}",
                        m.tx_hash.map(|t| format!(" (tx {t})")).unwrap_or_default(),
                        rc.record_id,
                        if back.is_empty() { ", not yet provable elsewhere".to_owned() } else { format!(" and provable on {}", back.join(", ")) }
                    );
                }
            }
            if let Some(rev) = v.revoked_by {
                println!(
                    "    REVOKED    by record {rev}{}",
                    if v.mirrored_on.is_empty() { String::new() } else { " (on every chain above: a bundle of this record carries the revocation)".to_owned() }
                );
            }
            if v.invalid_ref {
                println!("    note       revokes a record that is not an anchor of the same submitter; ignored");
            }
        }
    }
    if views.is_empty() { Err(Failure::failed("not found")) } else { Ok(()) }
}
