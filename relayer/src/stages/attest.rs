//! The attest stage: every attestor key this instance holds signs every new
//! checkpoint of a chain, once per destination (the EIP-712 domain binds the
//! destination chain and mirror). An attestor signs only checkpoints this instance
//! computed from its own log, and re-checks the root against that log before signing.
//!
//! A relaying instance with remote attestors configured also gathers their signatures
//! over HTTP ([`gather_once`]) until each destination mirror's threshold is met,
//! checking every signature before storing it.

use alloy::signers::{SignerSync, local::PrivateKeySigner};
use async_trait::async_trait;
use evidence_schemas::{
    ChainId,
    checkpoint::{AttestorSignature, recover_signer},
};
use tracing::{debug, instrument, warn};

use super::{Stage, StageContext};
use crate::{
    RelayerError, Result,
    alarms::raise_alarm,
    attestors::{RemoteAnswer, RemoteAttestor, RemoteAttestors, SignRequest, request_with},
    log::Logs,
    runtime::RouteRuntime,
    store::{Alarm, AlarmKind, Store},
};

/// The attest stage of one source chain: its own keys sign ([`attest_once`]), then
/// remote attestors are asked when configured ([`gather_once`]). Nothing to unwind:
/// signatures are over checkpoints of the append-only log.
#[derive(Debug, Clone, Copy)]
pub struct AttestStage<'a> {
    /// The chain.
    pub chain: &'a ChainId,
    /// The engine's routes (those from `chain` are served).
    pub routes: &'a [RouteRuntime],
    /// This instance's attestor keys.
    pub attestors: &'a [PrivateKeySigner],
    /// Remote attestors to gather signatures from.
    pub remote: Option<&'a RemoteAttestors>,
}

#[async_trait]
impl Stage for AttestStage<'_> {
    /// Signatures made and gathered.
    type Outcome = usize;

    fn name(&self) -> &'static str {
        "attest"
    }

    async fn execute(&mut self, ctx: StageContext<'_>) -> Result<usize> {
        let mut made =
            attest_once(ctx.store, ctx.logs, self.chain, self.routes, self.attestors).await?;
        if let Some(remote) = self.remote {
            made += gather_once(ctx.store, self.chain, self.routes, remote).await?;
        }
        Ok(made)
    }
}

/// Checkpoints signed per call at most, per attestor and destination.
const MAX_PER_CALL: u64 = 100;

/// Signs the chain's unsigned checkpoints for every route from it; returns the number
/// of signatures made.
#[instrument(target = "relayer::attest", skip_all, fields(chain = %chain))]
pub async fn attest_once(
    store: &Store,
    logs: &Logs,
    chain: &ChainId,
    routes: &[RouteRuntime],
    attestors: &[PrivateKeySigner],
) -> Result<usize> {
    let mut made = 0;
    for route in routes.iter().filter(|r| r.source_chain == *chain) {
        for signer in attestors {
            let attestor = signer.address();
            let last = store
                .load_last_signed_size(
                    chain,
                    &route.destination_chain,
                    &route.domain.mirror,
                    &attestor,
                )
                .await?;
            let mut checkpoints = store
                .load_checkpoints_after(chain, last, MAX_PER_CALL)
                .await?;
            checkpoints.reverse();
            for checkpoint in checkpoints {
                let ours = logs.root_at(chain, checkpoint.size).await?;
                if ours != checkpoint.root {
                    return Err(RelayerError::corrupt(format!(
                        "{chain}: stored checkpoint of size {} has root {}, but the log computes {ours}; refusing to sign",
                        checkpoint.size, checkpoint.root
                    )));
                }
                let signature = signer
                    .sign_hash_sync(&checkpoint.signing_hash(&route.domain))
                    .map_err(|e| RelayerError::Signing {
                        attestor,
                        message: e.to_string(),
                    })?;
                let signature = AttestorSignature {
                    attestor,
                    signature: signature.as_bytes().to_vec().into(),
                };
                store
                    .insert_signatures(
                        chain,
                        checkpoint.size,
                        &route.destination_chain,
                        &route.domain.mirror,
                        &[signature],
                    )
                    .await?;
                debug!(target: "relayer::attest", size = checkpoint.size, %attestor,
                    destination = %route.destination_chain, "checkpoint signed");
                made += 1;
            }
        }
    }
    Ok(made)
}

/// Checkpoints per route and call for which remote signatures are gathered at most
/// (newest first; an older one is tried only when an attestor is behind).
const GATHER_DEPTH: u64 = 3;

/// Gathers signatures from remote attestors for the chain's newest checkpoints not
/// yet on each destination, until the mirror's current threshold is met.
///
/// Requests go out concurrently (each bounded by the client's timeout); an attestor
/// that is down, slow, or behind is asked again on a later call (a failing one after
/// a back-off). Every signature is checked before it is stored: it must recover to
/// the attestor it came from, which must be the address configured for that URL and
/// a member of the mirror's current set. A bad one is not stored and raises an alarm
/// naming the attestor. Returns the number of signatures stored.
#[instrument(target = "relayer::attest", skip_all, fields(chain = %chain))]
pub async fn gather_once(
    store: &Store,
    chain: &ChainId,
    routes: &[RouteRuntime],
    remote: &RemoteAttestors,
) -> Result<usize> {
    let mut stored = 0;
    for route in routes.iter().filter(|r| r.source_chain == *chain) {
        let state = route.mirror.fetch_state(chain).await?;
        if state.threshold == 0 || state.attestors.is_empty() {
            debug!(target: "relayer::attest", destination = %route.destination_chain,
                "the mirror has no attestor set for this chain yet");
            continue;
        }
        let checkpoints = store
            .load_checkpoints_after(chain, state.latest_size, GATHER_DEPTH)
            .await?;
        for checkpoint in checkpoints {
            let have = store
                .load_signatures(
                    chain,
                    checkpoint.size,
                    &route.destination_chain,
                    &route.domain.mirror,
                )
                .await?;
            let valid = have
                .iter()
                .filter(|s| state.attestors.contains(&s.attestor))
                .count();
            if valid >= usize::from(state.threshold) {
                break;
            }
            let ask: Vec<RemoteAttestor> = remote
                .attestors()
                .iter()
                .filter(|a| state.attestors.contains(&a.address))
                .filter(|a| !have.iter().any(|s| s.attestor == a.address))
                .filter(|a| remote.ready(&a.address))
                .cloned()
                .collect();
            if ask.is_empty() {
                break;
            }
            let request = SignRequest {
                checkpoint: checkpoint.clone(),
                destination_chain: route.destination_chain.clone(),
                mirror: route.domain.mirror,
                attestor: None,
            };
            let mut tasks = tokio::task::JoinSet::new();
            for a in ask {
                let (client, request) = (remote.client(), request.clone());
                tasks.spawn(async move {
                    let answer = request_with(&client, &a, &request).await;
                    (a, answer)
                });
            }
            let hash = checkpoint.signing_hash(&route.domain);
            let mut good = Vec::new();
            let mut someone_behind = false;
            while let Some(joined) = tasks.join_next().await {
                let Ok((a, answer)) = joined else { continue };
                let peer = format!(
                    "{} ({})",
                    evidence_adapters::redact::redact_url(&a.url),
                    a.address
                );
                let alarm = |kind, their_root, message: String| Alarm {
                    kind,
                    source_chain: chain.clone(),
                    destination: Some(route.destination_chain.clone()),
                    size: checkpoint.size,
                    peer: Some(peer.clone()),
                    our_root: Some(checkpoint.root),
                    their_root,
                    message,
                };
                match answer {
                    RemoteAnswer::Signed(sig) => {
                        let problem = match recover_signer(&hash, &sig.signature) {
                            Err(e) => Some(format!("signature does not recover: {e}")),
                            Ok(r) if r != a.address || sig.attestor != a.address => Some(format!(
                                "signature claims {} and recovers to {r}, but this URL is configured as attestor {}",
                                sig.attestor, a.address
                            )),
                            Ok(r) if !state.attestors.contains(&r) => Some(format!(
                                "signer {r} is not in the mirror's current attestor set"
                            )),
                            Ok(_) => None,
                        };
                        match problem {
                            None => {
                                remote.note(a.address, false);
                                good.push(sig);
                            }
                            Some(p) => {
                                remote.note(a.address, true);
                                raise_alarm(store, &alarm(AlarmKind::BadSignature, None, format!(
                                    "rejected a signature from attestor {peer} over checkpoint {} of size {} for {}: {p}",
                                    checkpoint.root, checkpoint.size, route.destination_chain
                                )))
                                .await?;
                            }
                        }
                    }
                    RemoteAnswer::Behind { log_size } => {
                        remote.note(a.address, false);
                        someone_behind = true;
                        debug!(target: "relayer::attest", attestor = %peer, size = checkpoint.size, ?log_size,
                            "attestor is behind; will ask again");
                    }
                    RemoteAnswer::Disagrees { root, message } => {
                        remote.note(a.address, true);
                        raise_alarm(store, &alarm(AlarmKind::AttestorDisagrees, root, format!(
                            "attestor {peer} refused checkpoint {} of size {}: its own log disagrees: {message}",
                            checkpoint.root, checkpoint.size
                        )))
                        .await?;
                    }
                    RemoteAnswer::Failed(e) => {
                        remote.note(a.address, true);
                        warn!(target: "relayer::attest", attestor = %peer, size = checkpoint.size, error = %e,
                            "attestor did not sign; will ask again later");
                    }
                }
            }
            if !good.is_empty() {
                store
                    .insert_signatures(
                        chain,
                        checkpoint.size,
                        &route.destination_chain,
                        &route.domain.mirror,
                        &good,
                    )
                    .await?;
                stored += good.len();
                debug!(target: "relayer::attest", size = checkpoint.size, got = good.len(),
                    destination = %route.destination_chain, "remote signatures stored");
                if valid + good.len() >= usize::from(state.threshold) {
                    break;
                }
            }
            if !someone_behind {
                break;
            }
        }
    }
    Ok(stored)
}
