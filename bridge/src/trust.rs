//! The node's trust root: every configured mirror's attestor-set history, read from the
//! chains (`bridge trust export`, `GET /api/v1/trust-root`).
//!
//! For each chain's `AnchorMirror` and each OTHER configured chain as source, every
//! `AttestorSetChanged` event since the chain's `start_block` becomes one
//! [`TrustedSet`]: members, threshold, the block it took effect, how it was authorized,
//! and for a signed rotation the previous set's signatures. First sets are pinned (they
//! are the trust anchor an exporter vouches for); owner-timelock sets are pinned only
//! when asked (`--pin-owner-sets`), because a verifier must decide to trust them
//! explicitly. Each history is checked against the mirror's current `attestorSet`, so
//! a node that drops an event is caught.

use evidence_schemas::{
    attestor_set::SetAuthorization,
    trust::{
        TRUST_ROOT_MEDIA_TYPE, TRUST_ROOT_VERSION, TrustRoot, TrustedMirror, TrustedSet,
        TrustedSource,
    },
};

use crate::{config::Settings, context, exit::Failure};

/// What to pin besides first sets.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExportOptions {
    /// Also pin sets the owner installed through the timelock.
    pub(crate) pin_owner_sets: bool,
}

/// Reads the trust root of every mirror in `settings` from its chain.
pub(crate) async fn trust_root(settings: &Settings) -> Result<TrustRoot, Failure> {
    export(settings, ExportOptions::default()).await
}

/// [`trust_root`] with options.
pub(crate) async fn export(
    settings: &Settings,
    options: ExportOptions,
) -> Result<TrustRoot, Failure> {
    let mut mirrors = Vec::new();
    for dest in &settings.chains {
        let client = context::mirror_reader(dest).await?;
        let read = |what: &str, e: evidence_adapters::AdapterError| {
            Failure::failed(format!(
                "reading {what} of the mirror {} on {}: {e}",
                dest.mirror, dest.name
            ))
        };
        let delay = client
            .fetch_owner_rotation_delay()
            .await
            .map_err(|e| read("the owner-rotation delay", e))?;
        let mut sources = Vec::new();
        for src in settings.chains.iter().filter(|c| c.name != dest.name) {
            let history = client
                .fetch_attestor_set_history(&src.chain_id)
                .await
                .map_err(|e| read(&format!("the attestor sets of {}", src.name), e))?;
            let current = client
                .fetch_state(&src.chain_id)
                .await
                .map_err(|e| read("the attestor set", e))?;
            let last = history.last().map_or(0, |c| c.version);
            if last != current.attestor_set_version {
                return Err(Failure::failed(format!(
                    "the mirror on {} holds attestor set version {} for {}, but its events end at version {last}: is start_block of {} after the mirror's deployment, or is the node missing logs?",
                    dest.name, current.attestor_set_version, src.name, dest.name
                )));
            }
            if history.is_empty() {
                continue;
            }
            let sets = history
                .into_iter()
                .map(|c| TrustedSet {
                    version: c.version,
                    pinned: match c.authorization {
                        SetAuthorization::FirstSet => true,
                        SetAuthorization::OwnerTimelock => options.pin_owner_sets,
                        SetAuthorization::SignedRotation => false,
                    },
                    attestors: c.attestors,
                    threshold: c.threshold,
                    effective_block: c.block,
                    tx_hash: Some(c.tx_hash),
                    authorization: c.authorization,
                    signatures: c.signatures,
                })
                .collect();
            sources.push(TrustedSource {
                source_chain: src.chain_id.clone(),
                sets,
            });
        }
        mirrors.push(TrustedMirror {
            chain: dest.chain_id.clone(),
            mirror: dest.mirror,
            owner_rotation_delay_secs: Some(delay),
            sources,
        });
    }
    Ok(TrustRoot {
        media_type: TRUST_ROOT_MEDIA_TYPE.to_owned(),
        version: TRUST_ROOT_VERSION,
        exported_at: Some(now_rfc3339()),
        mirrors,
        tsa_roots: settings
            .timestamping
            .iter()
            .map(|t| {
                std::fs::read_to_string(&t.root_cert)
                    .map(|pem| evidence_schemas::trust::TrustedTsa {
                        name: t.name.clone(),
                        certificate_pem: pem,
                    })
                    .map_err(|e| {
                        Failure::usage(format!(
                            "timestamping {:?}: cannot read {}: {e}",
                            t.name,
                            t.root_cert.display()
                        ))
                    })
            })
            .collect::<Result<_, _>>()?,
    })
}

/// The current UTC time, RFC 3339, whole seconds.
fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now().as_second();
    jiff::Timestamp::from_second(now).map_or_else(|_| String::new(), |t| t.to_string())
}
