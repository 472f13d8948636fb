//! Independent attestors over HTTP.
//!
//! Two sides of one protocol (`POST {base}/api/v1/attestor/checkpoints/sign`):
//!
//! - **Attestor side** ([`AttestorService`]): a partner's instance, holding one
//!   attestor key, signs a proposed checkpoint only when its *own* log — built from its
//!   own node — has the same root at that size, the same number of records up to the
//!   checkpoint's source block, and the same hash for that block. A log that is not
//!   there yet answers "behind" (the caller retries later); a disagreement is answered
//!   with this attestor's own root and raises an alarm (ERROR log, stored alarm row,
//!   `bridge_alarms_total` metric).
//! - **Relaying side** ([`RemoteAttestors`]): the client that asks the configured
//!   attestors for signatures, concurrently and with a per-request timeout. The attest
//!   stage checks every returned signature before it is stored or used.
//!
//! [`watch_mirrors_once`] is the attestor's other duty: it compares what destination
//! mirrors accepted for its source chains with its own log.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, Bytes},
    signers::{SignerSync, local::PrivateKeySigner},
};
use evidence_adapters::EvidenceSource;
use evidence_schemas::{
    ChainId, Checkpoint,
    checkpoint::{AttestorSignature, MirrorDomain},
};
use serde::{Deserialize, Serialize};
use tracing::{error, info, warn};

use crate::{
    RelayerError, Result,
    engine::RouteRuntime,
    log::Logs,
    store::{Alarm, AlarmKind, Store},
};

/// Path of the signing endpoint, relative to an attestor's base URL.
pub const SIGN_PATH: &str = "/api/v1/attestor/checkpoints/sign";

/// Name of the counter of alarms raised, labelled by `kind`.
pub const ALARMS_METRIC: &str = "bridge_alarms_total";

/// Body of a signing request: the proposed checkpoint and where it is to be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The proposed checkpoint (source chain, size, root, source block number + hash).
    pub checkpoint: Checkpoint,
    /// CAIP-2 id of the destination chain (its EIP-155 id is the EIP-712 `chainId`).
    pub destination_chain: ChainId,
    /// The destination's `AnchorMirror` (the EIP-712 `verifyingContract`).
    pub mirror: Address,
    /// Which of the instance's attestor keys should sign; may be omitted when the
    /// instance holds exactly one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestor: Option<Address>,
}

/// Body of a successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignResponse {
    /// The attestor that signed.
    pub attestor: Address,
    /// 65-byte EIP-712 signature.
    pub signature: Bytes,
}

/// Body of a refusal: `error` is a machine-readable code (`behind`, `mismatch`,
/// `halted`, `bad_request`, `not_served`, `internal`), `message` says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignError {
    /// Error code.
    pub error: String,
    /// Explanation.
    pub message: String,
    /// The attestor's log size for the source chain, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_size: Option<u64>,
    /// The attestor's own root at the proposed size (on `mismatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<B256>,
}

/// What the attestor decided about a proposed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignDecision {
    /// It matches our log: the signature.
    Signed(AttestorSignature),
    /// Our log has not reached the checkpoint yet; ask again later.
    Behind {
        /// Our log size.
        log_size: u64,
    },
    /// Our log disagrees (an alarm was raised).
    Mismatch {
        /// Our log size.
        log_size: u64,
        /// Our root at the proposed size, when our log has that size.
        root: Option<B256>,
        /// What differs.
        reason: String,
    },
    /// The source chain is halted by a deep reorg; nothing is signed until an operator acts.
    Halted(String),
    /// The request cannot be served (unknown chain or destination, no such key, size 0).
    Refused {
        /// Whether the request itself is malformed (else: not served here).
        bad_request: bool,
        /// Explanation.
        message: String,
    },
}

/// Stores an alarm, counts it in [`ALARMS_METRIC`] and logs it at ERROR the first
/// time the finding is seen and then at its 2nd, 4th, 8th, … sighting (with the count),
/// so a peer repeating the same finding cannot flood the log.
pub async fn raise_alarm(store: &Store, alarm: &Alarm) -> Result<()> {
    metrics::counter!(ALARMS_METRIC, "kind" => alarm.kind.as_str()).increment(1);
    let seen = store.raise_alarm(alarm).await?;
    if seen.is_power_of_two() {
        error!(target: "relayer::alarm", kind = alarm.kind.as_str(), source = %alarm.source_chain,
            destination = ?alarm.destination.as_ref().map(ChainId::as_str), size = alarm.size,
            peer = ?alarm.peer, our_root = ?alarm.our_root, their_root = ?alarm.their_root, seen,
            "ALARM: {}", alarm.message);
    } else {
        tracing::debug!(target: "relayer::alarm", kind = alarm.kind.as_str(), size = alarm.size, peer = ?alarm.peer, seen,
            "alarm seen again");
    }
    Ok(())
}

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

/// One remote attestor a relaying instance asks for signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteAttestor {
    /// Base URL of its API, e.g. `https://attestor.partner-a.example:8443`.
    pub url: String,
    /// The attestor address it signs with (a signature from any other key is rejected).
    pub address: Address,
    /// The bearer token the attestor gave this relayer, sent with every request.
    pub token: Option<String>,
}

impl std::fmt::Debug for RemoteAttestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteAttestor")
            .field("url", &evidence_adapters::redact::redact_url(&self.url))
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// What a remote attestor answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteAnswer {
    /// A signature (not yet checked).
    Signed(AttestorSignature),
    /// Its log is behind; retry later.
    Behind {
        /// Its log size, when it said.
        log_size: Option<u64>,
    },
    /// Its own log disagrees with the checkpoint.
    Disagrees {
        /// Its root at that size, when it said.
        root: Option<B256>,
        /// Its explanation.
        message: String,
    },
    /// Unreachable, timed out, refused or answered nonsense.
    Failed(String),
}

#[derive(Debug, Default, Clone, Copy)]
struct Backoff {
    failures: u32,
    until: Option<Instant>,
}

/// The client side: the configured remote attestors.
#[derive(Debug)]
pub struct RemoteAttestors {
    client: reqwest::Client,
    attestors: Vec<RemoteAttestor>,
    backoff: Mutex<HashMap<Address, Backoff>>,
    max_backoff: Duration,
}

impl RemoteAttestors {
    /// A client for `attestors`, each request bounded by `timeout`.
    pub fn new(attestors: Vec<RemoteAttestor>, timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| {
                RelayerError::Config(format!("cannot build the attestor HTTP client: {e}"))
            })?;
        Ok(Self {
            client,
            attestors,
            backoff: Mutex::new(HashMap::new()),
            max_backoff: Duration::from_secs(10),
        })
    }

    /// The configured attestors.
    pub fn attestors(&self) -> &[RemoteAttestor] {
        &self.attestors
    }

    /// Whether `a` is not in a back-off period after failures.
    pub(crate) fn ready(&self, a: &Address) -> bool {
        let map = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        map.get(a)
            .and_then(|b| b.until)
            .is_none_or(|until| Instant::now() >= until)
    }

    pub(crate) fn note(&self, a: Address, failed: bool) {
        let mut map = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(a).or_default();
        if failed {
            entry.failures = entry.failures.saturating_add(1);
            let delay = Duration::from_millis(500)
                .saturating_mul(1u32 << (entry.failures - 1).min(8))
                .min(self.max_backoff);
            entry.until = Some(Instant::now() + delay);
        } else {
            *entry = Backoff::default();
        }
    }

    /// Asks one attestor to sign.
    pub async fn request(&self, attestor: &RemoteAttestor, req: &SignRequest) -> RemoteAnswer {
        request_with(&self.client, attestor, req).await
    }

    pub(crate) fn client(&self) -> reqwest::Client {
        self.client.clone()
    }
}

/// Asks one attestor to sign, with the given client. A failure's message shows URLs
/// redacted (reqwest's errors quote the URL, which may hold a key).
pub(crate) async fn request_with(
    client: &reqwest::Client,
    attestor: &RemoteAttestor,
    req: &SignRequest,
) -> RemoteAnswer {
    match ask(client, attestor, req).await {
        RemoteAnswer::Failed(m) => {
            RemoteAnswer::Failed(evidence_adapters::redact::scrub(&m).into_owned())
        }
        answer => answer,
    }
}

async fn ask(
    client: &reqwest::Client,
    attestor: &RemoteAttestor,
    req: &SignRequest,
) -> RemoteAnswer {
    let url = format!("{}{SIGN_PATH}", attestor.url.trim_end_matches('/'));
    let mut post = client.post(&url).json(req);
    if let Some(token) = &attestor.token {
        post = post.bearer_auth(token);
    }
    // Messages name the attestor by its redacted URL.
    let url = evidence_adapters::redact::redact_url(&url);
    let response = match post.send().await {
        Ok(r) => r,
        Err(e) => return RemoteAnswer::Failed(format!("POST {url}: {e}")),
    };
    let status = response.status();
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return RemoteAnswer::Failed(format!("POST {url}: reading the answer: {e}")),
    };
    if status.is_success() {
        return match serde_json::from_slice::<SignResponse>(&body) {
            Ok(s) => RemoteAnswer::Signed(AttestorSignature {
                attestor: s.attestor,
                signature: s.signature,
            }),
            Err(e) => RemoteAnswer::Failed(format!("POST {url}: answer is not a signature: {e}")),
        };
    }
    match serde_json::from_slice::<SignError>(&body) {
        Ok(e) if e.error == "behind" => RemoteAnswer::Behind {
            log_size: e.log_size,
        },
        Ok(e) if e.error == "mismatch" => RemoteAnswer::Disagrees {
            root: e.root,
            message: e.message,
        },
        Ok(e) => RemoteAnswer::Failed(format!("POST {url}: {status}: {}: {}", e.error, e.message)),
        Err(_) => RemoteAnswer::Failed(format!(
            "POST {url}: {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        )),
    }
}

/// Raises [`AlarmKind::OwnerRotationProposed`] (once per proposal) when `route`'s
/// mirror has a pending owner proposal for `chain`'s attestor set.
async fn watch_owner_rotation(store: &Store, chain: &ChainId, route: &RouteRuntime) -> Result<()> {
    let pending = match route.mirror.fetch_pending_owner_rotation(chain).await {
        Ok(p) => p,
        Err(e) => {
            warn!(target: "relayer::attestor", destination = %route.destination_chain, error = %e,
                "cannot read the mirror's pending owner rotation; will try again");
            return Ok(());
        }
    };
    let Some(p) = pending else { return Ok(()) };
    let alarm = Alarm {
        kind: AlarmKind::OwnerRotationProposed,
        source_chain: chain.clone(),
        destination: Some(route.destination_chain.clone()),
        size: p.version,
        peer: Some(format!("mirror {}", route.domain.mirror)),
        our_root: None,
        their_root: None,
        message: format!(
            "the owner of the mirror {} on {} proposed attestor set version {} for {chain} (threshold {} of {}: {}), executable from unix time {}; if the partners did not agree to it, sign its cancellation (`bridge mirror sign-rotation --cancel`) and submit it (`bridge mirror cancel-rotation`)",
            route.domain.mirror,
            route.destination_chain,
            p.version,
            p.threshold,
            p.attestors.len(),
            p.attestors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            p.executable_at
        ),
    };
    if !store.has_alarm(&alarm).await? {
        raise_alarm(store, &alarm).await?;
    }
    Ok(())
}

/// Compares what every destination mirror accepted for `chain` with our own log;
/// raises a [`AlarmKind::MirrorDiverged`] alarm on a difference. Returns the number
/// of mirrors whose latest checkpoint was compared.
pub async fn watch_mirrors_once(
    store: &Store,
    logs: &Logs,
    chain: &ChainId,
    routes: &[RouteRuntime],
) -> Result<usize> {
    let mut compared = 0;
    for route in routes.iter().filter(|r| r.source_chain == *chain) {
        watch_owner_rotation(store, chain, route).await?;
        let state = match route.mirror.fetch_state(chain).await {
            Ok(s) => s,
            Err(e) => {
                warn!(target: "relayer::attestor", destination = %route.destination_chain, error = %e,
                    "cannot read the mirror; will try again");
                continue;
            }
        };
        if state.latest_size == 0 || state.latest_size > logs.size(chain).await? {
            continue;
        }
        let ours = logs.root_at(chain, state.latest_size).await?;
        compared += 1;
        if ours != state.latest_root {
            raise_alarm(
                store,
                &Alarm {
                    kind: AlarmKind::MirrorDiverged,
                    source_chain: chain.clone(),
                    destination: Some(route.destination_chain.clone()),
                    size: state.latest_size,
                    peer: Some(format!("mirror {}", route.domain.mirror)),
                    our_root: Some(ours),
                    their_root: Some(state.latest_root),
                    message: format!(
                        "the mirror on {} accepted root {} at size {} for {chain}, but this attestor's own log has {ours}: someone signed a false checkpoint or a node is wrong",
                        route.destination_chain, state.latest_root, state.latest_size
                    ),
                },
            )
            .await?;
        }
    }
    Ok(compared)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A one-shot HTTP server on loopback: returns its base URL and the request it got.
    async fn one_answer(body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers and the JSON body (small) arrive in a few reads.
            while !String::from_utf8_lossy(&request).contains("\"mirror\"") {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (url, handle)
    }

    fn request() -> SignRequest {
        SignRequest {
            checkpoint: Checkpoint {
                source_chain: ChainId::eip155(1),
                size: 1,
                root: B256::repeat_byte(1),
                source_block_number: 1,
                source_block_hash: B256::repeat_byte(2),
            },
            destination_chain: ChainId::eip155(2),
            mirror: Address::repeat_byte(3),
            attestor: None,
        }
    }

    #[tokio::test]
    async fn the_relayer_sends_its_token_and_never_prints_it_or_the_url_key() {
        let signed =
            r#"{"attestor":"0x0000000000000000000000000000000000000001","signature":"0x00"}"#;
        let (url, server) = one_answer(signed).await;
        let attestor = RemoteAttestor {
            url: url.clone(),
            address: Address::with_last_byte(1),
            token: Some("relayer-a-token".into()),
        };
        let client = reqwest::Client::new();
        let answer = request_with(&client, &attestor, &request()).await;
        assert!(matches!(answer, RemoteAnswer::Signed(_)), "{answer:?}");
        let seen = server.await.unwrap().to_ascii_lowercase();
        assert!(
            seen.contains("authorization: bearer relayer-a-token"),
            "{seen}"
        );
        assert!(
            !format!("{attestor:?}").contains("relayer-a-token"),
            "{attestor:?}"
        );

        // A failure message names the attestor by its redacted URL.
        let keyed = RemoteAttestor {
            url: "http://u:s3cret@127.0.0.1:9/KEY123".into(),
            address: Address::ZERO,
            token: None,
        };
        let RemoteAnswer::Failed(message) = request_with(&client, &keyed, &request()).await else {
            panic!("port 9 answered")
        };
        assert!(
            !message.contains("s3cret") && !message.contains("KEY123"),
            "{message}"
        );
    }
}
