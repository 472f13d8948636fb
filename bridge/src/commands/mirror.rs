//! `bridge mirror set-attestors` and `bridge mirror show`: installing a source chain's
//! FIRST attestor set on a destination's `AnchorMirror`, and inspecting its sets.
//!
//! Installing the first set is the owner's one direct power; later sets come from the
//! current set's signatures or the owner's timelock (`rotation.rs`). Everything that
//! can be checked before sending is checked first and is bad input (exit 2): unknown
//! chains, a source equal to the destination, a malformed, zero or repeated attestor
//! address, a threshold of 0 or larger than the set, a source that already has a set,
//! and a key that is not the mirror's owner. A revert the mirror still raises is
//! reported with its custom error.

use std::collections::HashSet;

use alloy::primitives::{Address, B256};
use evidence_adapters::{AdapterError, mirror::AttestorSetChange};
use serde::Serialize;

use crate::{
    cli::{MirrorShowArgs, SetAttestorsArgs},
    config::{ChainSettings, Settings},
    context,
    exit::{CmdResult, Failure},
    output::print_json,
    secrets,
};

#[derive(Debug, Serialize)]
struct LatestCheckpoint {
    size: u64,
    root: B256,
    source_block_number: u64,
}

#[derive(Debug, Serialize)]
struct MirrorView {
    chain: String,
    mirror: Address,
    source: String,
    source_chain: String,
    owner: Address,
    attestor_set_version: u64,
    attestors: Vec<Address>,
    threshold: u8,
    read_at_block: u64,
    owner_rotation_delay_secs: u64,
    pending_owner_rotation: Option<evidence_adapters::mirror::PendingOwnerRotation>,
    latest_checkpoint: Option<LatestCheckpoint>,
    history: Vec<AttestorSetChange>,
}

/// The destination and source chains named on the command line.
pub(super) fn pair<'a>(
    settings: &'a Settings,
    chain: &str,
    source: &str,
) -> Result<(&'a ChainSettings, &'a ChainSettings), Failure> {
    let dest = settings.chain(chain)?;
    let src = settings.chain(source)?;
    if dest.name == src.name {
        return Err(Failure::usage(format!(
            "--chain and --source are both {:?}: a mirror holds the attestor sets of OTHER chains",
            dest.name
        )));
    }
    Ok((dest, src))
}

/// Parses and checks the new set exactly as the contract would, so bad input is
/// refused before anything is sent.
pub(super) fn parse_set(raw: &[String], threshold: u64) -> Result<(Vec<Address>, u8), Failure> {
    let mut set = Vec::with_capacity(raw.len());
    let mut seen = HashSet::new();
    for a in raw {
        let addr: Address = a.trim().parse().map_err(|_| {
            Failure::usage(format!(
                "--attestor {a:?} is not a 20-byte hex address (0x followed by 40 hex digits)"
            ))
        })?;
        if addr.is_zero() {
            return Err(Failure::usage(
                "--attestor 0x000…0 (the zero address) cannot be an attestor",
            ));
        }
        if !seen.insert(addr) {
            return Err(Failure::usage(format!(
                "--attestor {addr} is given twice: each attestor counts once"
            )));
        }
        set.push(addr);
    }
    if set.len() > usize::from(u8::MAX) {
        return Err(Failure::usage(format!(
            "{} attestors given; a mirror takes at most 255",
            set.len()
        )));
    }
    if threshold == 0 || threshold > set.len() as u64 {
        return Err(Failure::usage(format!(
            "--threshold {threshold} is invalid for {} attestor(s): it must be between 1 and the number of attestors",
            set.len()
        )));
    }
    set.sort();
    Ok((set, u8::try_from(threshold).unwrap_or(u8::MAX)))
}

fn read_error(dest: &ChainSettings, e: AdapterError) -> Failure {
    Failure::failed(format!("reading the mirror on {}: {e}", dest.name))
}

pub(crate) async fn set_attestors(args: SetAttestorsArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let (dest, src) = pair(&settings, &args.chain, &args.source)?;
    let (set, threshold) = parse_set(&args.attestors, args.threshold)?;
    let owner_key = secrets::owner_key(&settings.keys, args.owner_key_env.as_deref())?;
    let reader = context::mirror_reader(dest).await?;
    let existing = reader
        .fetch_state(&src.chain_id)
        .await
        .map_err(|e| read_error(dest, e))?;
    if existing.attestor_set_version != 0 {
        return Err(Failure::usage(format!(
            "{} already has attestor set version {} on {}'s mirror: the owner installs only the first set. Change it with the current set's signatures (`bridge mirror sign-rotation` + `bridge mirror rotate`) or, if keys are lost, through the timelock (`bridge mirror propose-rotation`)",
            src.name, existing.attestor_set_version, dest.name
        )));
    }
    let owner = reader.fetch_owner().await.map_err(|e| {
        Failure::failed(format!(
            "reading the owner of the mirror {} on {}: {e}",
            dest.mirror, dest.name
        ))
    })?;
    if owner != owner_key.address() {
        return Err(Failure::usage(format!(
            "the key given ({}) is not the owner of the mirror {} on {} (owner: {owner}); pass the owner's key with --owner-key-env VAR or keys.owner_key_env",
            owner_key.address(),
            dest.mirror,
            dest.name
        )));
    }
    let admin = context::mirror_admin(dest, owner_key).await?;
    let tx = admin
        .set_attestors(&src.chain_id, &set, threshold)
        .await
        .map_err(|e| match e {
            AdapterError::Reverted { .. } => Failure::usage(format!(
                "the mirror on {} refused the new set: {e}",
                dest.name
            )),
            other => Failure::failed(format!("setAttestors on {}: {other}", dest.name)),
        })?;
    let state = reader
        .fetch_state(&src.chain_id)
        .await
        .map_err(|e| read_error(dest, e))?;
    drop(admin);
    if args.json {
        print_json(&serde_json::json!({
            "chain": dest.name,
            "mirror": dest.mirror,
            "source": src.name,
            "source_chain": src.chain_id,
            "tx_hash": tx,
            "attestor_set_version": state.attestor_set_version,
            "attestors": state.attestors,
            "threshold": state.threshold,
        }))?;
    } else {
        println!(
            "attestor set of {} on {}'s mirror is now version {}: threshold {} of {} (tx {tx})",
            src.name,
            dest.name,
            state.attestor_set_version,
            state.threshold,
            state.attestors.len()
        );
        for a in &state.attestors {
            println!("  {a}");
        }
        println!(
            "later changes need the threshold of this set (`bridge mirror sign-rotation` + `rotate`) or the owner's timelock"
        );
    }
    Ok(())
}

pub(crate) async fn show(args: MirrorShowArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let (dest, src) = pair(&settings, &args.chain, &args.source)?;
    let client = context::mirror_reader(dest).await?;
    let owner = client
        .fetch_owner()
        .await
        .map_err(|e| read_error(dest, e))?;
    let owner_rotation_delay_secs = client
        .fetch_owner_rotation_delay()
        .await
        .map_err(|e| read_error(dest, e))?;
    let pending_owner_rotation = client
        .fetch_pending_owner_rotation(&src.chain_id)
        .await
        .map_err(|e| read_error(dest, e))?;
    let state = client
        .fetch_state(&src.chain_id)
        .await
        .map_err(|e| read_error(dest, e))?;
    let history = client
        .fetch_attestor_set_history(&src.chain_id)
        .await
        .map_err(|e| read_error(dest, e))?;
    let view = MirrorView {
        chain: dest.name.clone(),
        mirror: dest.mirror,
        source: src.name.clone(),
        source_chain: src.chain_id.to_string(),
        owner,
        attestor_set_version: state.attestor_set_version,
        attestors: state.attestors.clone(),
        threshold: state.threshold,
        read_at_block: state.read_at_block,
        owner_rotation_delay_secs,
        pending_owner_rotation,
        latest_checkpoint: (state.latest_size > 0).then_some(LatestCheckpoint {
            size: state.latest_size,
            root: state.latest_root,
            source_block_number: state.latest_source_block,
        }),
        history,
    };
    if args.json {
        return print_json(&view);
    }
    println!(
        "mirror {} on {} ({}), owner {}",
        view.mirror, view.chain, dest.chain_id, view.owner
    );
    println!(
        "source {} ({}), read at block {}",
        view.source, view.source_chain, view.read_at_block
    );
    if view.attestor_set_version == 0 {
        println!(
            "  no attestor set: checkpoints of {} are not accepted (run `bridge mirror set-attestors`)",
            view.source
        );
    } else {
        println!(
            "  attestor set version {}: threshold {} of {}",
            view.attestor_set_version,
            view.threshold,
            view.attestors.len()
        );
        for a in &view.attestors {
            println!("    {a}");
        }
    }
    match &view.latest_checkpoint {
        Some(cp) => println!(
            "  latest checkpoint: size {}, root {}, source block {}",
            cp.size, cp.root, cp.source_block_number
        ),
        None => println!("  latest checkpoint: none yet"),
    }
    println!(
        "  owner-rotation timelock: {} s",
        view.owner_rotation_delay_secs
    );
    if let Some(p) = &view.pending_owner_rotation {
        println!(
            "  PENDING owner proposal: version {}, threshold {} of {}, executable from unix time {} (the current set's threshold can cancel it: `bridge mirror sign-rotation --cancel`)",
            p.version,
            p.threshold,
            p.attestors.len(),
            p.executable_at
        );
    }
    println!("  set history:");
    for c in &view.history {
        let how = c.authorization.describe(c.version);
        let sigs = if c.signatures.is_empty() {
            String::new()
        } else {
            format!(", {} signatures", c.signatures.len())
        };
        println!(
            "    v{} at block {} (tx {}): threshold {} of {} — {how}{sigs}",
            c.version,
            c.block,
            c.tx_hash,
            c.threshold,
            c.attestors.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_sets_are_refused_with_the_reason() {
        let a = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8".to_owned();
        let b = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc".to_owned();
        let msg = |r: Result<(Vec<Address>, u8), Failure>| r.unwrap_err().message;
        assert!(msg(parse_set(&[a.clone(), b.clone()], 0)).contains("--threshold 0"));
        assert!(msg(parse_set(&[a.clone(), b.clone()], 3)).contains("between 1 and the number"));
        assert!(msg(parse_set(&[a.clone(), a.clone()], 1)).contains("given twice"));
        assert!(msg(parse_set(&["0x12".into()], 1)).contains("not a 20-byte hex address"));
        assert!(msg(parse_set(&[format!("0x{}", "0".repeat(40))], 1)).contains("zero address"));
        let (set, t) = parse_set(&[a.clone(), b.clone()], 2).unwrap();
        assert_eq!(t, 2);
        assert!(set[0] < set[1], "sorted");
    }
}
