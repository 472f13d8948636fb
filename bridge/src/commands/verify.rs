//! `bridge verify FILE [--trust FILE] [--config FILE] [--offline]`: check a proof
//! bundle, naming the failed check.
//!
//! Offline: every check of [`ProofBundle::verify_offline`] (the file is read strictly:
//! at most 16 MiB, no JSON key twice). Those prove the bundle consistent with itself,
//! not that its signers are the mirror's attestors: anyone can sign a one-leaf log with
//! two keys of their own and list them as "the attestor set". So the signers must be
//! pinned, by a trust root (`--trust`, check `trust_root`, see
//! [`evidence_schemas::trust`]) or by the destination mirror itself (online).
//!
//! Online (with a config, not `--offline`), in this order: `mirror` (the destination
//! mirror's `verifyRecord`), `root` (`rootAt(size)` equals the checkpoint root),
//! `attestor_set` (the mirror's set at `read_at_block` is the bundle's), `mirror_tx` (the
//! destination transaction emitted `CheckpointAccepted` for this checkpoint, in
//! `mirror_block`, under the bundle's set version), `source` (the source chain's receipt
//! of `record.source.tx_hash`, log `log_index`, re-decoded by the record's adapter, gives
//! the same record id) and, for a revoked record, `source_revocation` (the same for the
//! revocation).
//!
//! An evidence certificate (a file starting `%PDF-`, see [`crate::certificate`]) is
//! verified through the one proof bundle attached to it, with the same checks, flags and
//! exit codes; a PDF with no bundle, several, or one that cannot be read is bad input.
//!
//! Timestamps: each RFC 3161 token of a v3 bundle is checked against the TSA roots of
//! the trust root and `--tsa-root FILE`, and its time printed ([`super::verify_tsa`]).
//!
//! Exit codes: 0 valid (signers pinned); 1 a check failed; 2 bad input (not a bundle, a
//! malformed one, an unreadable trust root); 3 the proof holds but the record is
//! REVOKED (the bundle carries a proven revocation); 4 the bundle is self-consistent but
//! its signer set is NOT pinned (offline without `--trust`): never reported as valid;
//! 5 COULD NOT CHECK: a chain needed by the online checks did not answer (unreachable
//! node, RPC errors), so the bundle is neither confirmed nor refuted — "could not ask",
//! never "false".

use evidence_adapters::MirrorReader;
use std::{io::Read as _, path::Path};

use evidence_schemas::{
    ChainId, ProofBundle,
    bundle::{BUNDLE_VERSION, OLDEST_BUNDLE_VERSION},
    strict_json::check_unique_keys,
    trust::TrustRoot,
};

use crate::{
    cli::VerifyArgs,
    config::{ChainSettings, Settings},
    context,
    exit::{CmdResult, Failure},
    output::print_json_redacted,
};

pub(crate) use super::verify_report::{Check, Report};
use super::verify_report::{outcome, print_report};

/// The largest bundle or trust-root file read (16 MiB): a real bundle is a few KiB, a
/// trust root of a thousand rotations well under a MiB.
pub(crate) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads at most [`MAX_FILE_BYTES`] (`/dev/zero` costs 16 MiB, not all memory); a larger
/// or unreadable file is bad input (exit 2).
pub(crate) fn read_capped_bytes(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("cannot read {what} {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("cannot read {what} {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Failure::usage(format!(
            "{what} {} is larger than {} MiB: no genuine {what} is; is it the right file?",
            path.display(),
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    Ok(bytes)
}

/// [`read_capped_bytes`] of UTF-8 text.
pub(crate) fn read_capped(path: &Path, what: &str) -> Result<String, Failure> {
    utf8(
        read_capped_bytes(path, what)?,
        &path.display().to_string(),
        what,
    )
}

fn utf8(bytes: Vec<u8>, shown: &str, what: &str) -> Result<String, Failure> {
    String::from_utf8(bytes).map_err(|e| {
        Failure::usage(format!(
            "{what} {shown} is not UTF-8 text (invalid byte at {}): not a JSON {what}",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Reads and parses a bundle strictly; a file that is not a bundle, or repeats a JSON
/// key, is bad input (exit 2). A file that starts with `%PDF-` is an evidence
/// certificate: its one attached bundle is read (see [`crate::certificate::embed`]);
/// the second value names the attachment then.
pub(crate) fn read_bundle(path: &Path) -> Result<(ProofBundle, Option<String>), Failure> {
    let bytes = read_capped_bytes(path, "bundle")?;
    if bytes.starts_with(b"%PDF-") {
        let inner = crate::certificate::embed::extract_bundle(&bytes)
            .map_err(|e| Failure::usage(format!("certificate {}: {e}", path.display())))?;
        let shown = format!(
            "{} (attached {})",
            path.display(),
            crate::certificate::BUNDLE_FILE
        );
        let text = utf8(inner, &shown, "bundle")?;
        return parse_bundle(&text, &shown).map(|b| (b, Some(shown)));
    }
    let text = utf8(bytes, &path.display().to_string(), "bundle")?;
    parse_bundle(&text, &path.display().to_string()).map(|b| (b, None))
}

/// Parses bundle text strictly (`shown` names it in messages).
fn parse_bundle(text: &str, shown: &str) -> Result<ProofBundle, Failure> {
    check_unique_keys(text).map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Failure::usage(format!(
            "{shown} is not valid JSON ({e}); is the file truncated?"
        ))
    })?;
    if let Some(v) = value.get("version").and_then(serde_json::Value::as_u64)
        && !(OLDEST_BUNDLE_VERSION..=BUNDLE_VERSION).contains(&v)
    {
        return Err(Failure::usage(format!(
            "{shown}: bundle version {v}, this build reads versions {OLDEST_BUNDLE_VERSION} to {BUNDLE_VERSION}"
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| Failure::usage(format!("{shown} is not a proof bundle: {e}")))
}

/// Reads a trust root strictly; an unusable file is bad input (exit 2).
pub(crate) fn read_trust_root(path: &Path) -> Result<TrustRoot, Failure> {
    let text = read_capped(path, "trust root")?;
    TrustRoot::parse(&text)
        .map_err(|e| Failure::usage(format!("trust root {}: {e}", path.display())))
}

pub(crate) async fn run(args: VerifyArgs) -> CmdResult {
    let (bundle, from_certificate) = read_bundle(&args.bundle)?;
    let trust = args
        .trust
        .as_deref()
        .map(|p| read_trust_root(p).map(|root| (root, p)))
        .transpose()?;
    let mut report = Report::offline(&bundle);
    if report.failed_check.is_none()
        && let Some((root, file)) = &trust
    {
        report.check_trust(&bundle, root, file);
    }
    if report.failed_check.is_none() {
        let config = if bundle.timestamps.is_empty() {
            None
        } else {
            args.config.as_deref()
        };
        let roots = super::verify_tsa::roots(
            trust.as_ref().map(|(r, _)| r),
            args.tsa_root.as_deref(),
            config,
        )?;
        super::verify_tsa::check_timestamps(&mut report, &bundle, &roots);
    }
    if report.failed_check.is_none()
        && !args.offline
        && let Some(config) = &args.config
    {
        let settings = Settings::load(config)?;
        report.online = true;
        for check in online_checks(&settings, &bundle).await? {
            report.checks.push(check);
        }
    }
    report.finish(&bundle);
    if args.json {
        print_json_redacted(&report)?;
    } else {
        if let Some(shown) = &from_certificate {
            println!("certificate: verifying the proof bundle it carries, {shown}");
        }
        print_report(&report, &bundle);
    }
    outcome(&report)
}

pub(crate) fn chain_of<'a>(
    settings: &'a Settings,
    chain: &ChainId,
    role: &str,
) -> Result<&'a ChainSettings, Failure> {
    settings.chains.iter().find(|c| &c.chain_id == chain).ok_or_else(|| {
        Failure::usage(format!(
            "the bundle's {role} chain {chain} is not a chain in this config (chains: {}); add it, or verify with --offline",
            settings.chain_names().join(", ")
        ))
    })
}

/// The checks that need the destination and source chains of `bundle`, in order.
pub(crate) async fn online_checks(
    settings: &Settings,
    bundle: &ProofBundle,
) -> Result<Vec<Check>, Failure> {
    let dest = chain_of(settings, &bundle.destination.chain, "destination")?;
    let src = chain_of(settings, &bundle.record.source.chain, "source")?;
    let conn = match reachable(dest, "mirror").await? {
        Ok(conn) => conn,
        Err(unchecked) => return Ok(vec![unchecked]),
    };
    let client = context::mirror_reader_on(&conn, dest);
    let client = client.as_ref();
    let mut checks = mirror_checks(dest, client, bundle).await?;
    if checks.iter().any(|c| !c.ok) {
        return Ok(checks);
    }
    // A question the chain cannot answer (a block that does not exist, say) fails the
    // check, with the node's answer, rather than aborting the report; a node that
    // cannot be asked leaves it unchecked.
    let unanswered = |check: &'static str, e: evidence_adapters::AdapterError| {
        Check::from_adapter_error(check, &dest.name, &e)
    };
    checks.push(
        attestor_set_check(client, bundle)
            .await
            .unwrap_or_else(|e| unanswered("attestor_set", e)),
    );
    checks.push(
        mirror_tx_check(client, bundle)
            .await
            .unwrap_or_else(|e| unanswered("mirror_tx", e)),
    );
    let src_conn = match reachable(src, "source").await? {
        Ok(conn) => conn,
        Err(unchecked) => {
            checks.push(unchecked);
            return Ok(checks);
        }
    };
    let mut records = vec![("source", &bundle.record)];
    if let Some(rev) = &bundle.revocation {
        records.push(("source_revocation", &rev.record));
    }
    for (check, record) in records {
        let outcome = match context::reread_record(&src_conn, src, record).await {
            Ok(outcome) => outcome,
            Err(e) => {
                checks.push(Check::from_adapter_error(check, &src.name, &e));
                continue;
            }
        };
        checks.push(Check {
            check,
            ok: outcome.is_ok(),
            unchecked: false,
            detail: match outcome {
                Ok(()) => format!(
                    "{} transaction {} (block {}, log {}) re-read by the `{}` adapter gives record {}",
                    src.name,
                    record.source.tx_hash,
                    record.source.block_number,
                    record.source.log_index,
                    record.source.adapter,
                    record.record_id()
                ),
                Err(reason) => format!("{}: {reason}", src.name),
            },
        });
    }
    Ok(checks)
}

/// Connects to `chain`'s nodes: a configuration problem (wrong chain id, bad URL) is
/// bad input, no node answering is the `check`'s "could not check".
async fn reachable(
    chain: &ChainSettings,
    check: &'static str,
) -> Result<Result<context::Connection, Check>, Failure> {
    match context::connect(chain).await {
        Ok(conn) => Ok(Ok(conn)),
        Err(f) if f.code == 2 => Err(f),
        Err(f) => Ok(Err(Check::could_not_check(check, f.message))),
    }
}

/// The attestor set the bundle names is the mirror's set at `read_at_block`.
async fn attestor_set_check(
    client: &dyn MirrorReader,
    bundle: &ProofBundle,
) -> Result<Check, evidence_adapters::AdapterError> {
    let d = &bundle.destination;
    let state = client
        .fetch_state_as_of(&bundle.checkpoint.source_chain, Some(d.read_at_block))
        .await?;
    let mut theirs = state.attestors.clone();
    theirs.sort();
    let mut ours = d.attestors.clone();
    ours.sort();
    let ok = theirs == ours
        && state.threshold == d.threshold
        && state.attestor_set_version == d.attestor_set_version;
    let mut differences = Vec::new();
    let only_bundle: Vec<String> = ours
        .iter()
        .filter(|a| !theirs.contains(a))
        .map(ToString::to_string)
        .collect();
    let only_mirror: Vec<String> = theirs
        .iter()
        .filter(|a| !ours.contains(a))
        .map(ToString::to_string)
        .collect();
    if !only_bundle.is_empty() {
        differences.push(format!(
            "in the bundle but not on the mirror: {}",
            only_bundle.join(", ")
        ));
    }
    if !only_mirror.is_empty() {
        differences.push(format!(
            "on the mirror but not in the bundle: {}",
            only_mirror.join(", ")
        ));
    }
    if state.threshold != d.threshold {
        differences.push(format!(
            "threshold {} on the mirror, {} in the bundle",
            state.threshold, d.threshold
        ));
    }
    if state.attestor_set_version != d.attestor_set_version {
        differences.push(format!(
            "version {} on the mirror, {} in the bundle",
            state.attestor_set_version, d.attestor_set_version
        ));
    }
    Ok(Check {
        check: "attestor_set",
        ok,
        unchecked: false,
        detail: format!(
            "mirror at block {}: set version {}, threshold {} of {}{}",
            d.read_at_block,
            state.attestor_set_version,
            state.threshold,
            state.attestors.len(),
            if ok {
                String::new()
            } else {
                format!("; differs from the bundle: {}", differences.join("; "))
            }
        ),
    })
}

/// `mirror_tx` was mined in `mirror_block` (which is also `read_at_block`: the set is
/// the one that accepted the checkpoint) and emitted `CheckpointAccepted` for exactly
/// this checkpoint, signed by the bundle's attestor set version.
async fn mirror_tx_check(
    client: &dyn MirrorReader,
    bundle: &ProofBundle,
) -> Result<Check, evidence_adapters::AdapterError> {
    let d = &bundle.destination;
    let Some(tx) = d.mirror_tx else {
        return Ok(Check {
            check: "mirror_tx",
            ok: d.mirror_block.is_none(),
            unchecked: false,
            detail: if d.mirror_block.is_none() {
                "the bundle names no mirror transaction (another relayer submitted the checkpoint); not checked".into()
            } else {
                "the bundle names a mirror block but no mirror transaction".into()
            },
        });
    };
    let cp = &bundle.checkpoint;
    let fail = |detail: String| {
        Ok(Check {
            check: "mirror_tx",
            ok: false,
            unchecked: false,
            detail,
        })
    };
    let Some((block, events)) = client.fetch_accepted_in_tx(tx).await? else {
        return fail(format!("transaction {tx} is not mined on {}", d.chain));
    };
    if Some(block) != d.mirror_block {
        return fail(format!(
            "transaction {tx} was mined in block {block}, the bundle says {:?}",
            d.mirror_block
        ));
    }
    if d.read_at_block != block {
        return fail(format!(
            "the attestor set must be read in the block that accepted the checkpoint ({block}); the bundle says it was read at block {}",
            d.read_at_block
        ));
    }
    let found = events
        .iter()
        .find(|e| e.source_key == cp.source_chain.key() && e.size == cp.size);
    match found {
        None => fail(format!(
            "transaction {tx} accepted no checkpoint of size {} of {}",
            cp.size, cp.source_chain
        )),
        Some(e)
            if e.root != cp.root
                || e.source_block_number != cp.source_block_number
                || e.source_block_hash != cp.source_block_hash =>
        {
            fail(format!(
                "transaction {tx} accepted size {} with root {} at source block {}, not the bundle's checkpoint",
                e.size, e.root, e.source_block_number
            ))
        }
        Some(e) if e.attestor_set_version != d.attestor_set_version => fail(format!(
            "transaction {tx} accepted the checkpoint under attestor set version {}, the bundle says {}",
            e.attestor_set_version, d.attestor_set_version
        )),
        Some(e) => Ok(Check {
            check: "mirror_tx",
            ok: true,
            unchecked: false,
            detail: format!(
                "transaction {tx} (block {block}) accepted size {} under attestor set version {}",
                e.size, e.attestor_set_version
            ),
        }),
    }
}

/// `mirror` (the destination mirror's `verifyRecord` accepts the proof) and `root`
/// (`rootAt(size)` is the checkpoint's root), asked through `client`.
pub(crate) async fn mirror_checks(
    dest: &ChainSettings,
    client: &dyn MirrorReader,
    bundle: &ProofBundle,
) -> Result<Vec<Check>, Failure> {
    let mut checks = Vec::new();
    if dest.mirror != bundle.destination.mirror {
        checks.push(Check {
            check: "mirror",
            ok: false,
            unchecked: false,
            detail: format!(
                "bundle names mirror {}, the config's mirror on {} is {}",
                bundle.destination.mirror, dest.name, dest.mirror
            ),
        });
        return Ok(checks);
    }
    let source = &bundle.checkpoint.source_chain;
    let size = bundle.checkpoint.size;
    let ok = match client
        .verify_record(
            source,
            size,
            bundle.record_id,
            bundle.leaf_index,
            &bundle.inclusion_proof,
        )
        .await
    {
        Ok(ok) => ok,
        Err(e) => {
            checks.push(Check::from_adapter_error("mirror", &dest.name, &e));
            return Ok(checks);
        }
    };
    checks.push(Check {
        check: "mirror",
        ok,
        unchecked: false,
        detail: if ok {
            format!("{} verifyRecord returned true at size {size}", dest.name)
        } else {
            format!(
                "{} verifyRecord returned false: the mirror has no matching root at size {size}",
                dest.name
            )
        },
    });
    let root = match client.fetch_root_at(source, size).await {
        Ok(root) => root,
        Err(e) => {
            checks.push(Check::from_adapter_error("root", &dest.name, &e));
            return Ok(checks);
        }
    };
    checks.push(Check {
        check: "root",
        ok: root == bundle.checkpoint.root,
        unchecked: false,
        detail: format!("mirror root at size {size}: {root}"),
    });
    Ok(checks)
}
