//! The attestor side: checks proposed checkpoints against this instance's own log and
//! signs only those that match it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use alloy::{
    primitives::{Address, B256},
    signers::{SignerSync, local::PrivateKeySigner},
};
use evidence_adapters::EvidenceSource;
use evidence_schemas::{
    ChainId,
    checkpoint::{AttestorSignature, MirrorDomain},
};
use tracing::info;

use super::{SignDecision, SignRequest};
use crate::{
    RelayerError, Result,
    alarms::raise_alarm,
    log::Logs,
    runtime::RouteRuntime,
    store::{Alarm, AlarmKind, Store},
};

/// The attestor side: checks proposed checkpoints against this instance's own log.
#[derive(Clone)]
pub struct AttestorService {
    store: Store,
    logs: Logs,
    sources: HashMap<ChainId, Arc<dyn EvidenceSource>>,
    domains: Vec<(ChainId, ChainId, MirrorDomain)>,
    signers: Vec<PrivateKeySigner>,
    /// Signatures already given, by (EIP-712 signing hash, attestor): a checkpoint that
    /// matched our append-only log matches it for good, so asking again costs a lookup
    /// (bounded: cleared when full).
    signed: Arc<Mutex<HashMap<(B256, Address), AttestorSignature>>>,
}

/// Entries of [`AttestorService`]'s signature cache before it is cleared.
const SIGNED_CACHE_MAX: usize = 4096;

impl std::fmt::Debug for AttestorService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttestorService")
            .field(
                "attestors",
                &self
                    .signers
                    .iter()
                    .map(PrivateKeySigner::address)
                    .collect::<Vec<_>>(),
            )
            .field("routes", &self.domains.len())
            .finish_non_exhaustive()
    }
}

impl AttestorService {
    /// An attestor over the engine's store and logs, answering for the given source
    /// chains and routes with `signers`.
    pub fn new(
        store: Store,
        logs: Logs,
        sources: HashMap<ChainId, Arc<dyn EvidenceSource>>,
        routes: &[RouteRuntime],
        signers: Vec<PrivateKeySigner>,
    ) -> Self {
        let domains = routes
            .iter()
            .map(|r| {
                (
                    r.source_chain.clone(),
                    r.destination_chain.clone(),
                    r.domain,
                )
            })
            .collect();
        Self {
            store,
            logs,
            sources,
            domains,
            signers,
            signed: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The attestor addresses this service signs with.
    pub fn attestors(&self) -> Vec<Address> {
        self.signers.iter().map(PrivateKeySigner::address).collect()
    }

    fn refuse(bad_request: bool, message: String) -> Result<SignDecision> {
        Ok(SignDecision::Refused {
            bad_request,
            message,
        })
    }

    /// Decides about a proposed checkpoint; signs only if it matches our own log.
    pub async fn sign(&self, req: &SignRequest) -> Result<SignDecision> {
        self.sign_for(req, None).await
    }

    /// [`AttestorService::sign`] for `requester` (e.g. `client 192.0.2.7`), named in the
    /// alarm a mismatching proposal raises: one alarm per requester and checkpoint.
    pub async fn sign_for(
        &self,
        req: &SignRequest,
        requester: Option<&str>,
    ) -> Result<SignDecision> {
        let cp = &req.checkpoint;
        let chain = &cp.source_chain;
        let signer = match (req.attestor, self.signers.as_slice()) {
            (_, []) => {
                return Self::refuse(
                    false,
                    "this instance holds no attestor key (set keys.attestor_keys_env)".into(),
                );
            }
            (None, [one]) => one,
            (None, many) => {
                return Self::refuse(
                    true,
                    format!(
                        "this instance holds {} attestor keys; name one in `attestor` ({})",
                        many.len(),
                        self.attestors()
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            (Some(a), all) => match all.iter().find(|s| s.address() == a) {
                Some(s) => s,
                None => {
                    return Self::refuse(
                        false,
                        format!("this instance holds no key of attestor {a}"),
                    );
                }
            },
        };
        let Some(source) = self.sources.get(chain) else {
            return Self::refuse(
                false,
                format!("source chain {chain} is not indexed by this attestor"),
            );
        };
        let Some(domain) = self
            .domains
            .iter()
            .find(|(s, d, dom)| {
                s == chain && *d == req.destination_chain && dom.mirror == req.mirror
            })
            .map(|(_, _, dom)| *dom)
        else {
            return Self::refuse(
                false,
                format!(
                    "this attestor does not serve the route {chain} -> {} with mirror {} (check both configs' chains and mirror addresses)",
                    req.destination_chain, req.mirror
                ),
            );
        };
        if cp.size == 0 {
            return Self::refuse(true, "checkpoint size must be at least 1".into());
        }
        let Some(cursor) = self.store.load_cursor(chain).await? else {
            return Ok(SignDecision::Behind { log_size: 0 });
        };
        if let Some(reason) = cursor.halted_reason {
            return Ok(SignDecision::Halted(reason));
        }
        let signing_hash = cp.signing_hash(&domain);
        let cache_key = (signing_hash, signer.address());
        if let Some(known) = self
            .signed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cache_key)
        {
            metrics::counter!("bridge_attestor_signatures_cached_total").increment(1);
            return Ok(SignDecision::Signed(known.clone()));
        }
        let log_size = self.logs.size(chain).await?;
        let confirmed = cursor.confirmed_block.map_or(0, |(n, _)| n);
        if log_size < cp.size || confirmed < cp.source_block_number {
            return Ok(SignDecision::Behind { log_size });
        }
        let ours = self.logs.root_at(chain, cp.size).await?;
        let mut reason = None;
        if ours != cp.root {
            reason = Some(format!(
                "root at size {} is {} in this attestor's log, the proposal says {}",
                cp.size, ours, cp.root
            ));
        } else {
            let upto = self
                .store
                .count_logged_records_upto(chain, cp.source_block_number)
                .await?;
            if upto != cp.size {
                reason = Some(format!(
                    "this attestor's log holds {upto} records up to block {}, the proposal says {}",
                    cp.source_block_number, cp.size
                ));
            } else {
                let hash = match self
                    .store
                    .load_block_hash(chain, cp.source_block_number)
                    .await?
                {
                    Some(h) => h,
                    None => source.fetch_block(cp.source_block_number).await?.hash,
                };
                if hash != cp.source_block_hash {
                    reason = Some(format!(
                        "block {} has hash {hash} on this attestor's node, the proposal says {}",
                        cp.source_block_number, cp.source_block_hash
                    ));
                }
            }
        }
        if let Some(reason) = reason {
            raise_alarm(
                &self.store,
                &Alarm {
                    kind: AlarmKind::RootMismatch,
                    source_chain: chain.clone(),
                    destination: Some(req.destination_chain.clone()),
                    size: cp.size,
                    peer: requester.map(str::to_owned),
                    our_root: Some(ours),
                    their_root: Some(cp.root),
                    message: format!("refused to sign a proposed checkpoint: {reason}"),
                },
            )
            .await?;
            return Ok(SignDecision::Mismatch {
                log_size,
                root: Some(ours),
                reason,
            });
        }
        let attestor = signer.address();
        let signature =
            signer
                .sign_hash_sync(&signing_hash)
                .map_err(|e| RelayerError::Signing {
                    attestor,
                    message: e.to_string(),
                })?;
        metrics::counter!("bridge_attestor_signatures_total").increment(1);
        info!(target: "relayer::attestor", source = %chain, size = cp.size, destination = %req.destination_chain,
            %attestor, "signed a proposed checkpoint that matches our log");
        let signed = AttestorSignature {
            attestor,
            signature: signature.as_bytes().to_vec().into(),
        };
        let mut cache = self.signed.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= SIGNED_CACHE_MAX {
            cache.clear();
        }
        cache.insert(cache_key, signed.clone());
        Ok(SignDecision::Signed(signed))
    }
}
