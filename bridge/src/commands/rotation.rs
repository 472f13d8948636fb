//! Attestor-set changes after the first set: `bridge mirror sign-rotation`, `rotate`,
//! `cancel-rotation` (authorized by the current set's threshold) and the owner's
//! timelock, `propose-rotation` and `execute-rotation`.
//!
//! A partner's operator approves a proposed set by signing it with the partner's own
//! attestor key (`sign-rotation`, which prints exactly what is signed and writes an
//! approval file); nothing signs automatically. Anyone collects approvals from at least
//! the current threshold of members and submits them (`rotate`), paying gas with any
//! key: the mirror checks the signatures, not the sender. Every approval is checked
//! before anything is sent — same destination, mirror, source, version, set and
//! threshold; the signature recovers to its claimed signer, a member of the current
//! set; no signer twice — and bad input is exit 2.

use std::path::{Path, PathBuf};

use alloy::{
    primitives::{Address, B256, Bytes},
    signers::{SignerSync, local::PrivateKeySigner},
};
use clap::Args;
use std::sync::Arc;

use evidence_adapters::{AdapterError, MirrorReader};
use evidence_schemas::{
    ChainId,
    attestor_set::SetUpdate,
    checkpoint::{MirrorDomain, recover_signer},
};
use serde::{Deserialize, Serialize};

use super::mirror::{pair, parse_set};
use crate::{
    config::{ChainSettings, Settings},
    context,
    exit::{CmdResult, Failure},
    output::print_json,
    secrets,
};

/// Largest approval file read (an approval is well under 1 KiB).
const MAX_APPROVAL_BYTES: u64 = 64 * 1024;

/// What an approval authorizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ApprovalKind {
    /// Install the next attestor set (`AttestorSetUpdate`).
    AttestorSetUpdate,
    /// Cancel the owner's pending proposal (`OwnerRotationCancel`).
    OwnerRotationCancel,
}

/// One member's signature over a set change: the file `sign-rotation` writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Approval {
    /// What is authorized.
    pub(crate) kind: ApprovalKind,
    /// CAIP-2 id of the destination chain.
    pub(crate) destination: ChainId,
    /// The destination's mirror.
    pub(crate) mirror: Address,
    /// CAIP-2 id of the source chain whose set changes.
    pub(crate) source_chain: ChainId,
    /// The version the set becomes.
    pub(crate) new_version: u64,
    /// The new set, sorted ascending (the signed order).
    pub(crate) attestors: Vec<Address>,
    /// The new threshold.
    pub(crate) threshold: u8,
    /// The EIP-712 digest signed.
    pub(crate) digest: B256,
    /// The signer (a member of the current set).
    pub(crate) signer: Address,
    /// 65-byte `r ‖ s ‖ v` signature of `digest`.
    pub(crate) signature: Bytes,
}

/// The set change named on the command line (or the pending proposal, to cancel).
#[derive(Debug, Args)]
pub(crate) struct ChangeArgs {
    /// The config file.
    #[arg(long, short)]
    pub(crate) config: PathBuf,
    /// The chain whose mirror changes (by name).
    #[arg(long)]
    pub(crate) chain: String,
    /// The source chain whose attestor set changes (by name).
    #[arg(long)]
    pub(crate) source: String,
    /// A member of the new set (repeat for each). Not for `--cancel`.
    #[arg(long = "attestor")]
    pub(crate) attestors: Vec<String>,
    /// The new threshold. Not for `--cancel`.
    #[arg(long)]
    pub(crate) threshold: Option<u64>,
    /// The version the set becomes (default: the mirror's current version + 1; give it
    /// to make sure you sign what you reviewed).
    #[arg(long)]
    pub(crate) version: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `bridge mirror sign-rotation`.
#[derive(Debug, Args)]
pub(crate) struct SignRotationArgs {
    #[command(flatten)]
    pub(crate) change: ChangeArgs,
    /// Sign the cancellation of the owner's pending proposal instead of a new set.
    #[arg(long)]
    pub(crate) cancel: bool,
    /// Environment variable holding this partner's attestor key (default:
    /// keys.attestor_keys_env, which must then hold exactly one key).
    #[arg(long)]
    pub(crate) key_env: Option<String>,
    /// Write the approval here (default: print it).
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
}

/// `bridge mirror rotate` and `bridge mirror cancel-rotation`.
#[derive(Debug, Args)]
pub(crate) struct SubmitArgs {
    #[command(flatten)]
    pub(crate) change: ChangeArgs,
    /// An approval file from `sign-rotation` (repeat; at least the current threshold).
    #[arg(long = "approval", required = true)]
    pub(crate) approvals: Vec<PathBuf>,
    /// Environment variable holding the key that pays gas (default: the relayer key;
    /// it needs no role on the mirror).
    #[arg(long)]
    pub(crate) payer_key_env: Option<String>,
}

/// `bridge mirror propose-rotation` and `execute-rotation` (owner only).
#[derive(Debug, Args)]
pub(crate) struct OwnerArgs {
    #[command(flatten)]
    pub(crate) change: ChangeArgs,
    /// Environment variable holding the mirror owner's key (default: keys.owner_key_env).
    #[arg(long)]
    pub(crate) owner_key_env: Option<String>,
}

/// The destination, source, reading client and EIP-712 domain of a change.
struct Target<'a> {
    dest: &'a ChainSettings,
    src: &'a ChainSettings,
    client: Arc<dyn MirrorReader>,
    domain: MirrorDomain,
}

async fn target<'a>(settings: &'a Settings, args: &ChangeArgs) -> Result<Target<'a>, Failure> {
    let (dest, src) = pair(settings, &args.chain, &args.source)?;
    let domain = context::mirror_domain(dest)?;
    let client = context::mirror_reader(dest).await?;
    Ok(Target {
        dest,
        src,
        client,
        domain,
    })
}

fn read_error(dest: &ChainSettings, e: AdapterError) -> Failure {
    Failure::failed(format!("reading the mirror on {}: {e}", dest.name))
}

/// The current set of the target's source: (members, threshold, version).
async fn current_set(t: &Target<'_>) -> Result<(Vec<Address>, u8, u64), Failure> {
    let state = t
        .client
        .fetch_state(&t.src.chain_id)
        .await
        .map_err(|e| read_error(t.dest, e))?;
    if state.attestor_set_version == 0 {
        return Err(Failure::usage(format!(
            "{}'s mirror has no attestor set for {} yet: the owner installs the first one with `bridge mirror set-attestors`",
            t.dest.name, t.src.name
        )));
    }
    Ok((state.attestors, state.threshold, state.attestor_set_version))
}

/// The update the command line names, for the mirror's next version.
fn update_from_args(
    args: &ChangeArgs,
    t: &Target<'_>,
    current_version: u64,
) -> Result<SetUpdate, Failure> {
    let threshold = args
        .threshold
        .ok_or_else(|| Failure::usage("--threshold is required: the threshold of the new set"))?;
    if args.attestors.is_empty() {
        return Err(Failure::usage(
            "--attestor is required: every member of the new set, one flag each",
        ));
    }
    let (attestors, threshold) = parse_set(&args.attestors, threshold)?;
    let next = current_version + 1;
    if let Some(v) = args.version
        && v != next
    {
        return Err(Failure::usage(format!(
            "--version {v}: the mirror's current set is version {current_version}, so the next is {next}; re-check the proposal"
        )));
    }
    Ok(SetUpdate {
        source_chain: t.src.chain_id.clone(),
        new_version: next,
        attestors,
        threshold,
    })
}

/// The owner's pending proposal, as a [`SetUpdate`].
async fn pending_update(t: &Target<'_>) -> Result<(SetUpdate, u64), Failure> {
    let pending = t
        .client
        .fetch_pending_owner_rotation(&t.src.chain_id)
        .await
        .map_err(|e| read_error(t.dest, e))?;
    let Some(evidence_adapters::mirror::PendingOwnerRotation {
        version,
        attestors,
        threshold,
        executable_at,
    }) = pending
    else {
        return Err(Failure::usage(format!(
            "no owner proposal is pending for {} on {}'s mirror: nothing to cancel or execute",
            t.src.name, t.dest.name
        )));
    };
    Ok((
        SetUpdate {
            source_chain: t.src.chain_id.clone(),
            new_version: version,
            attestors,
            threshold,
        },
        executable_at,
    ))
}

/// The one attestor key this partner signs with.
fn partner_key(settings: &Settings, flag: Option<&str>) -> Result<PrivateKeySigner, Failure> {
    let keys = match flag {
        Some(var) => secrets::keys_from_env(var)?,
        None => secrets::attestor_keys(&settings.keys)?,
    };
    match keys.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failure::usage(
            "no attestor key: pass --key-env VAR (the partner's own attestor key) or set keys.attestor_keys_env",
        )),
        many => Err(Failure::usage(format!(
            "{} attestor keys configured: pass --key-env VAR naming the ONE key that approves this change",
            many.len()
        ))),
    }
}

fn describe(update: &SetUpdate, t: &Target<'_>) -> String {
    let mut s = format!(
        "attestor set version {} of {} on {}'s mirror {} ({}): threshold {} of {}",
        update.new_version,
        t.src.name,
        t.dest.name,
        t.dest.mirror,
        t.dest.chain_id,
        update.threshold,
        update.attestors.len()
    );
    for a in &update.attestors {
        s.push_str(&format!("\n    {a}"));
    }
    s
}

/// `bridge mirror sign-rotation`.
pub(crate) async fn sign(args: SignRotationArgs) -> CmdResult {
    let settings = Settings::load(&args.change.config)?;
    let key = partner_key(&settings, args.key_env.as_deref())?;
    let t = target(&settings, &args.change).await?;
    let (members, _, version) = current_set(&t).await?;
    if !members.contains(&key.address()) {
        return Err(Failure::usage(format!(
            "the key given ({}) is not a member of the current attestor set (version {version}) of {} on {}: only current members can approve a change",
            key.address(),
            t.src.name,
            t.dest.name
        )));
    }
    let (kind, update, digest) = if args.cancel {
        if !args.change.attestors.is_empty() || args.change.threshold.is_some() {
            return Err(Failure::usage(
                "--cancel signs the cancellation of the pending owner proposal: give no --attestor or --threshold",
            ));
        }
        let (update, _) = pending_update(&t).await?;
        let digest = update.cancel_signing_hash(&t.domain);
        (ApprovalKind::OwnerRotationCancel, update, digest)
    } else {
        let update = update_from_args(&args.change, &t, version)?;
        let digest = update.signing_hash(&t.domain);
        (ApprovalKind::AttestorSetUpdate, update, digest)
    };
    let sig = key
        .sign_hash_sync(&digest)
        .map_err(|e| Failure::failed(format!("signing failed: {e}")))?;
    let approval = Approval {
        kind,
        destination: t.dest.chain_id.clone(),
        mirror: t.dest.mirror,
        source_chain: update.source_chain.clone(),
        new_version: update.new_version,
        attestors: update.attestors.clone(),
        threshold: update.threshold,
        digest,
        signer: key.address(),
        signature: Bytes::from(sig.as_bytes().to_vec()),
    };
    let text = serde_json::to_string_pretty(&approval)
        .map_err(|e| Failure::failed(format!("encoding the approval: {e}")))?;
    match &args.output {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?,
        None if args.change.json => println!("{text}"),
        None => {}
    }
    if !args.change.json {
        let what = if args.cancel {
            "CANCELLATION of the owner's proposed"
        } else {
            "NEW"
        };
        eprintln!(
            "{} approved by {}:\n  {what} {}",
            kind_word(kind),
            key.address(),
            describe(&update, &t)
        );
        eprintln!("  EIP-712 digest {digest}");
        if let Some(path) = &args.output {
            eprintln!(
                "approval written to {}; send it to whoever submits the change",
                path.display()
            );
        } else {
            println!("{text}");
        }
    }
    Ok(())
}

fn kind_word(kind: ApprovalKind) -> &'static str {
    match kind {
        ApprovalKind::AttestorSetUpdate => "attestor-set update",
        ApprovalKind::OwnerRotationCancel => "owner-proposal cancellation",
    }
}

/// Reads one approval file (bounded), strictly.
fn read_approval(path: &Path) -> Result<Approval, Failure> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("cannot read approval {}: {e}", path.display())))?;
    let mut text = String::new();
    file.take(MAX_APPROVAL_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Failure::usage(format!("cannot read approval {}: {e}", path.display())))?;
    if text.len() as u64 > MAX_APPROVAL_BYTES {
        return Err(Failure::usage(format!(
            "{} is larger than {MAX_APPROVAL_BYTES} bytes: not an approval",
            path.display()
        )));
    }
    serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!(
            "{} is not an approval written by `bridge mirror sign-rotation`: {e}",
            path.display()
        ))
    })
}

/// Checks every approval against `update` and the current set; returns the signatures
/// sorted by signer, at least `threshold` of them.
fn collect(
    paths: &[PathBuf],
    kind: ApprovalKind,
    update: &SetUpdate,
    t: &Target<'_>,
    digest: B256,
    members: &[Address],
    threshold: u8,
) -> Result<Vec<Bytes>, Failure> {
    let mut signed: Vec<(Address, Bytes)> = Vec::new();
    for path in paths {
        let a = read_approval(path)?;
        let name = path.display();
        let mismatch = |what: &str, theirs: String, ours: String| {
            Failure::usage(format!(
                "{name} approves another change: its {what} is {theirs}, this change's is {ours}"
            ))
        };
        if a.kind != kind {
            return Err(mismatch(
                "kind",
                kind_word(a.kind).into(),
                kind_word(kind).into(),
            ));
        }
        if a.destination != t.dest.chain_id || a.mirror != t.dest.mirror {
            return Err(mismatch(
                "mirror",
                format!("{} on {}", a.mirror, a.destination),
                format!("{} on {}", t.dest.mirror, t.dest.chain_id),
            ));
        }
        if a.source_chain != update.source_chain {
            return Err(mismatch(
                "source chain",
                a.source_chain.to_string(),
                update.source_chain.to_string(),
            ));
        }
        if a.new_version != update.new_version {
            return Err(mismatch(
                "version",
                a.new_version.to_string(),
                update.new_version.to_string(),
            ));
        }
        if a.attestors != update.attestors || a.threshold != update.threshold {
            return Err(mismatch(
                "set",
                format!("{} of {:?}", a.threshold, a.attestors),
                format!("{} of {:?}", update.threshold, update.attestors),
            ));
        }
        let recovered = recover_signer(&digest, &a.signature)
            .map_err(|e| Failure::usage(format!("{name}: the signature is malformed: {e}")))?;
        if recovered != a.signer {
            return Err(Failure::usage(format!(
                "{name}: the signature was made by {recovered}, not by the claimed signer {}",
                a.signer
            )));
        }
        if !members.contains(&recovered) {
            return Err(Failure::usage(format!(
                "{name}: {recovered} is not a member of the current attestor set"
            )));
        }
        if signed.iter().any(|(s, _)| *s == recovered) {
            return Err(Failure::usage(format!(
                "{name}: {recovered} approved twice; each member counts once"
            )));
        }
        signed.push((recovered, a.signature));
    }
    if signed.len() < usize::from(threshold) {
        return Err(Failure::usage(format!(
            "{} approval(s) given, the current set's threshold is {threshold}: collect more",
            signed.len()
        )));
    }
    signed.sort_by_key(|(s, _)| *s);
    Ok(signed.into_iter().map(|(_, sig)| sig).collect())
}

fn payer(settings: &Settings, flag: Option<&str>) -> Result<PrivateKeySigner, Failure> {
    Ok(match flag {
        Some(var) => secrets::single_key_from_env(var)?,
        None => secrets::relayer_key(&settings.keys)?,
    })
}

fn sent(what: &str, dest: &ChainSettings, e: AdapterError) -> Failure {
    match e {
        AdapterError::Reverted { .. } => Failure::usage(format!(
            "the mirror on {} refused the {what}: {e}",
            dest.name
        )),
        other => Failure::failed(format!("{what} on {}: {other}", dest.name)),
    }
}

fn report(json: bool, value: serde_json::Value, text: String) -> CmdResult {
    if json {
        print_json(&value)
    } else {
        println!("{text}");
        Ok(())
    }
}

/// `bridge mirror rotate`.
pub(crate) async fn rotate(args: SubmitArgs) -> CmdResult {
    let settings = Settings::load(&args.change.config)?;
    let t = target(&settings, &args.change).await?;
    let (members, threshold, version) = current_set(&t).await?;
    let update = update_from_args(&args.change, &t, version)?;
    let digest = update.signing_hash(&t.domain);
    let signatures = collect(
        &args.approvals,
        ApprovalKind::AttestorSetUpdate,
        &update,
        &t,
        digest,
        &members,
        threshold,
    )?;
    let key = payer(&settings, args.payer_key_env.as_deref())?;
    let n = signatures.len();
    let tx = context::mirror_admin(t.dest, key)
        .await?
        .rotate_attestors(&update, signatures)
        .await
        .map_err(|e| sent("rotation", t.dest, e))?;
    report(
        args.change.json,
        serde_json::json!({ "chain": t.dest.name, "mirror": t.dest.mirror, "source_chain": update.source_chain,
            "attestor_set_version": update.new_version, "attestors": update.attestors, "threshold": update.threshold,
            "signatures": n, "tx_hash": tx }),
        format!(
            "tx {tx}: installed {}\n  signed by {n} member(s) of version {version}; checkpoints signed by the previous set are rejected from now on",
            describe(&update, &t)
        ),
    )
}

/// `bridge mirror cancel-rotation`.
pub(crate) async fn cancel(args: SubmitArgs) -> CmdResult {
    let settings = Settings::load(&args.change.config)?;
    let t = target(&settings, &args.change).await?;
    let (members, threshold, _) = current_set(&t).await?;
    let (update, _) = pending_update(&t).await?;
    let digest = update.cancel_signing_hash(&t.domain);
    let signatures = collect(
        &args.approvals,
        ApprovalKind::OwnerRotationCancel,
        &update,
        &t,
        digest,
        &members,
        threshold,
    )?;
    let key = payer(&settings, args.payer_key_env.as_deref())?;
    let tx = context::mirror_admin(t.dest, key)
        .await?
        .cancel_owner_rotation(&t.src.chain_id, signatures)
        .await
        .map_err(|e| sent("cancellation", t.dest, e))?;
    report(
        args.change.json,
        serde_json::json!({ "chain": t.dest.name, "source_chain": update.source_chain, "cancelled_version": update.new_version, "tx_hash": tx }),
        format!(
            "tx {tx}: cancelled the owner's proposal of {}",
            describe(&update, &t)
        ),
    )
}

/// The owner's key, checked against the mirror's owner.
async fn owner(
    settings: &Settings,
    t: &Target<'_>,
    flag: Option<&str>,
) -> Result<PrivateKeySigner, Failure> {
    let key = secrets::owner_key(&settings.keys, flag)?;
    let owner = t
        .client
        .fetch_owner()
        .await
        .map_err(|e| read_error(t.dest, e))?;
    if owner != key.address() {
        return Err(Failure::usage(format!(
            "the key given ({}) is not the owner of the mirror {} on {} (owner: {owner})",
            key.address(),
            t.dest.mirror,
            t.dest.name
        )));
    }
    Ok(key)
}

/// `bridge mirror propose-rotation` (owner).
pub(crate) async fn propose(args: OwnerArgs) -> CmdResult {
    let settings = Settings::load(&args.change.config)?;
    let t = target(&settings, &args.change).await?;
    let (_, _, version) = current_set(&t).await?;
    let update = update_from_args(&args.change, &t, version)?;
    let key = owner(&settings, &t, args.owner_key_env.as_deref()).await?;
    let delay = t
        .client
        .fetch_owner_rotation_delay()
        .await
        .map_err(|e| read_error(t.dest, e))?;
    let tx = context::mirror_admin(t.dest, key)
        .await?
        .propose_owner_rotation(&update.source_chain, &update.attestors, update.threshold)
        .await
        .map_err(|e| sent("proposal", t.dest, e))?;
    report(
        args.change.json,
        serde_json::json!({ "chain": t.dest.name, "source_chain": update.source_chain, "proposed_version": update.new_version,
            "attestors": update.attestors, "threshold": update.threshold, "delay_secs": delay, "tx_hash": tx }),
        format!(
            "tx {tx}: proposed {}\nexecutable in {delay} s with `bridge mirror execute-rotation`; every partner is alerted and the current set's threshold can cancel it",
            describe(&update, &t)
        ),
    )
}

/// `bridge mirror execute-rotation` (owner).
pub(crate) async fn execute(args: OwnerArgs) -> CmdResult {
    let settings = Settings::load(&args.change.config)?;
    let t = target(&settings, &args.change).await?;
    let (update, executable_at) = pending_update(&t).await?;
    let key = owner(&settings, &t, args.owner_key_env.as_deref()).await?;
    let tx = context::mirror_admin(t.dest, key)
        .await?
        .execute_owner_rotation(&update.source_chain)
        .await
        .map_err(|e| match e {
            AdapterError::Reverted { .. } => Failure::usage(format!(
                "the mirror on {} refused to execute the proposal (executable from unix time {executable_at}): {e}",
                t.dest.name
            )),
            other => Failure::failed(format!("executeOwnerRotation on {}: {other}", t.dest.name)),
        })?;
    report(
        args.change.json,
        serde_json::json!({ "chain": t.dest.name, "source_chain": update.source_chain, "attestor_set_version": update.new_version, "tx_hash": tx }),
        format!(
            "tx {tx}: installed by the owner after the timelock: {}\n  offline verifiers trust it only if they pin it",
            describe(&update, &t)
        ),
    )
}
