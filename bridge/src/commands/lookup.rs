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
    settings
        .chains
        .iter()
        .find(|c| &c.chain_id == chain)
        .map_or_else(|| chain.to_string(), |c| c.name.clone())
}

pub(crate) async fn run(args: LookupArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let alg: DigestAlgorithm = args.alg.parse()?;
    let digest = resolve_digest(args.file.as_deref(), args.digest.as_deref(), alg)?;
    let store = context::open_store(&settings).await?;
    let views: Vec<RecordView> = store
        .lookup_digest(digest)
        .await
        .map_err(|e| Failure::failed(format!("lookup failed: {e}")))?;
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
    // The revoke record of each revoked record, to say on which chains the revocation
    // itself is provable.
    let mut revocations = std::collections::BTreeMap::new();
    for v in &views {
        if let Some(rev) = v.revoked_by {
            let view = store
                .load_record(rev)
                .await
                .map_err(|e| Failure::failed(format!("lookup failed: {e}")))?;
            if let Some(view) = view {
                revocations.insert(rev, view);
            }
        }
    }
    if args.json {
        let records: Vec<serde_json::Value> = views
            .iter()
            .map(|v| {
                let mut json = serde_json::to_value(v).unwrap_or_default();
                if let (Some(rev), Some(obj)) = (v.revoked_by, json.as_object_mut()) {
                    let revocation = revocations.get(&rev);
                    obj.insert("revoked".into(), serde_json::Value::Bool(true));
                    obj.insert(
                        "revocation_provable_on".into(),
                        serde_json::json!(
                            revocation
                                .map(|r| r
                                    .mirrored_on
                                    .iter()
                                    .map(|m| m.destination_chain.clone())
                                    .collect::<Vec<_>>())
                                .unwrap_or_default()
                        ),
                    );
                    obj.insert(
                        "revocation".into(),
                        serde_json::to_value(revocation).unwrap_or_default(),
                    );
                } else if let Some(obj) = json.as_object_mut() {
                    obj.insert("revoked".into(), serde_json::Value::Bool(false));
                }
                json
            })
            .collect();
        print_json(&serde_json::json!({
            "digest": digest,
            "chains": chains,
            "anchored_on": anchored_on,
            "linked": linked,
            "records": records,
        }))?;
    } else if views.is_empty() {
        println!("digest {digest}: not found on any indexed chain");
    } else {
        println!(
            "digest {digest}: {} record(s) on {}",
            views.len(),
            chains.join(", ")
        );
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
                    RecordState::InLog { leaf_index } =>
                        format!("in log (leaf {leaf_index}), not yet checkpointed"),
                    RecordState::Checkpointed {
                        leaf_index,
                        checkpoint_size,
                    } => format!(
                        "checkpointed (leaf {leaf_index}, checkpoint size {checkpoint_size})"
                    ),
                }
            );
            if v.mirrored_on.is_empty() {
                println!("    provable   nowhere yet");
            }
            let revocation = v.revoked_by.and_then(|rev| revocations.get(&rev));
            for m in &v.mirrored_on {
                let dest = name_of(&settings, &m.destination_chain);
                let revoked_there = match (v.revoked_by, revocation) {
                    (None, _) => String::new(),
                    (Some(_), Some(r))
                        if r.mirrored_on
                            .iter()
                            .any(|x| x.destination_chain == m.destination_chain) =>
                    {
                        " — REVOKED (the revocation is provable there too)".to_string()
                    }
                    (Some(_), _) => {
                        " — REVOKED on the source chain (revocation not yet provable there)"
                            .to_string()
                    }
                };
                println!(
                    "    provable   on {dest} (checkpoint size {}{}{}){revoked_there}",
                    m.checkpoint_size,
                    m.checkpoint_root
                        .map(|r| format!(", root {r}"))
                        .unwrap_or_default(),
                    m.tx_hash
                        .map(|t| format!(", mirror tx {t}"))
                        .unwrap_or_default()
                );
                for t in &m.timestamps {
                    let time = jiff::Timestamp::from_second(
                        i64::try_from(t.timestamp.gen_time).unwrap_or(i64::MAX),
                    )
                    .map_or_else(|_| t.timestamp.gen_time.to_string(), |x| x.to_string());
                    println!(
                        "    timestamp  RFC 3161 time {time} from {} ({}), over that checkpoint's EIP-712 hash for {dest}",
                        t.timestamp.tsa, t.tsa_subject
                    );
                }
                if let Some(rc) = &m.receipt {
                    let back: Vec<String> = rc
                        .provable_on
                        .iter()
                        .map(|b| {
                            format!(
                                "{} at size {}",
                                name_of(&settings, &b.destination_chain),
                                b.checkpoint_size
                            )
                        })
                        .collect();
                    println!(
                        "    receipt    checkpoint accepted on {dest}{}, receipt recorded on {dest} (record {}){}",
                        m.tx_hash.map(|t| format!(" (tx {t})")).unwrap_or_default(),
                        rc.record_id,
                        if back.is_empty() {
                            ", not yet provable elsewhere".to_owned()
                        } else {
                            format!(" and provable on {}", back.join(", "))
                        }
                    );
                }
            }
            if let Some(rev) = v.revoked_by {
                println!("    REVOKED    by record {rev}");
                if let Some(r) = revocation {
                    let on: Vec<String> = r
                        .mirrored_on
                        .iter()
                        .map(|m| name_of(&settings, &m.destination_chain))
                        .collect();
                    println!(
                        "    revocation {} block {}, provable on {}",
                        r.chain_name,
                        r.record.source.block_number,
                        if on.is_empty() {
                            "no other chain yet".to_string()
                        } else {
                            on.join(", ")
                        }
                    );
                }
            }
            if v.invalid_ref {
                println!(
                    "    note       revokes a record that is not an anchor of the same submitter; ignored"
                );
            }
        }
    }
    if views.is_empty() {
        Err(Failure::failed("not found"))
    } else {
        Ok(())
    }
}
