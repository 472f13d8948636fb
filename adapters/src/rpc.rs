//! JSON-RPC access to one chain: failover between several HTTP endpoints, rate-limit
//! backoff, a chain-id check on connect, and the mapping of alloy errors into
//! [`AdapterError`].
//!
//! The provider is alloy's [`FallbackLayer`] over one HTTP transport per URL, under a
//! [`RetryBackoffLayer`]. Every method is run in the fallback's *sequential* mode: the
//! endpoints are tried one after the other, best-ranked first, until one answers at the
//! transport level, so a dead URL costs one failed connection and is then ranked down,
//! and no request (not even `eth_getLogs` over a large range) is fanned out to every
//! node at once. A JSON-RPC error answer (e.g. "query returned more than 10000
//! results") is an answer: it is not retried on the next endpoint but returned to the
//! caller, which knows what to do with it (shrink the span).
//!
//! Below the failover, each endpoint's transport is wrapped by a chain-id guard
//! (`chain_guard`: an endpoint that was down at start-up, or that a load balancer
//! switched, is checked before it is used) and by a per-endpoint error counter
//! (`bridge_rpc_endpoint_errors_total`, see [`crate::rpc_metrics`]).
//!
//! Besides the failover provider, [`ChainRpc::endpoint`] gives a provider bound to one
//! URL, for callers that want a second opinion from a *different* node (the registry
//! source does, when a node's answer has a sequence gap).
//!
//! Only standard Ethereum JSON-RPC is used here (no `anvil_*`, `evm_*`).

use std::{collections::HashSet, fmt, num::NonZeroUsize, time::Duration};

use alloy::{
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::client::RpcClient,
    transports::{
        RpcError, TransportError, TransportErrorKind,
        http::{Http, reqwest},
        layers::{FallbackLayer, RateLimitRetryPolicy, RetryBackoffLayer, RetryPolicy},
    },
};
use evidence_schemas::ChainId;
use tracing::{debug, warn};

use crate::error::AdapterError;

/// Every JSON-RPC method this crate calls. They all run in the fallback's sequential
/// mode (see the module doc).
const METHODS: &[&str] = &[
    "eth_blockNumber",
    "eth_call",
    "eth_chainId",
    "eth_estimateGas",
    "eth_feeHistory",
    "eth_gasPrice",
    "eth_getBlockByHash",
    "eth_getBlockByNumber",
    "eth_getCode",
    "eth_getLogs",
    "eth_getTransactionByHash",
    "eth_getTransactionCount",
    "eth_getTransactionReceipt",
    "eth_maxPriorityFeePerGas",
    "eth_sendRawTransaction",
    "eth_sendRawTransactionSync",
    "eth_sendTransaction",
    "eth_sendTransactionSync",
    "net_version",
];

/// How to reach one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcConfig {
    /// The chain.
    pub chain: ChainId,
    /// HTTP(S) JSON-RPC URLs, in order of preference.
    pub urls: Vec<String>,
    /// The EIP-155 chain id every endpoint must report. `None` takes it from `chain`
    /// (`eip155:<id>`); a chain outside the `eip155` namespace must set it.
    pub expected_chain_id: Option<u64>,
    /// Timeout of one HTTP request, after which the next endpoint is tried.
    pub request_timeout: Duration,
    /// Retries of a rate-limited request (HTTP 429 and the like) before giving up.
    pub rate_limit_retries: u32,
    /// Base backoff of those retries, in milliseconds.
    pub initial_backoff_ms: u64,
    /// Compute units per second the provider allows (alloy's CU budget; large = off).
    pub compute_units_per_second: u64,
}

impl RpcConfig {
    /// A configuration with default timeouts and retries.
    pub fn new(chain: ChainId, urls: Vec<String>) -> Self {
        Self {
            chain,
            urls,
            expected_chain_id: None,
            request_timeout: Duration::from_secs(30),
            rate_limit_retries: 5,
            initial_backoff_ms: 500,
            compute_units_per_second: 10_000,
        }
    }

    /// Sets the expected EIP-155 chain id.
    pub fn with_expected_chain_id(mut self, id: u64) -> Self {
        self.expected_chain_id = Some(id);
        self
    }
}

/// A connected chain: the failover provider and one provider per endpoint.
#[derive(Clone)]
pub struct ChainRpc {
    chain: ChainId,
    chain_id: u64,
    provider: DynProvider,
    endpoints: Vec<DynProvider>,
    /// URLs with any userinfo and query removed (they may hold API keys).
    redacted_urls: Vec<String>,
}

impl fmt::Debug for ChainRpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainRpc")
            .field("chain", &self.chain)
            .field("chain_id", &self.chain_id)
            .field("endpoints", &self.redacted_urls)
            .finish_non_exhaustive()
    }
}

impl ChainRpc {
    /// Builds the providers and checks, on every endpoint that answers, that
    /// `eth_chainId` is the configured id.
    ///
    /// Fails with [`AdapterError::Config`] on an empty or unparsable URL list,
    /// [`AdapterError::WrongChain`] when any endpoint serves another chain, and
    /// [`AdapterError::Rpc`] when no endpoint answers at all. An endpoint that is down
    /// at start-up is only warned about, and is used unchecked once it comes back.
    pub async fn connect(config: &RpcConfig) -> Result<Self, AdapterError> {
        let chain = config.chain.clone();
        let expected = config
            .expected_chain_id
            .or_else(|| chain.eip155_id())
            .ok_or_else(|| {
                AdapterError::Config(format!(
                    "{chain}: not an eip155 chain id, so its EIP-155 chain id must be configured"
                ))
            })?;
        if config.urls.is_empty() {
            return Err(AdapterError::Config(format!(
                "{chain}: no RPC URL configured"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| AdapterError::Config(format!("{chain}: cannot build HTTP client: {e}")))?;
        let mut transports = Vec::with_capacity(config.urls.len());
        let mut redacted_urls = Vec::with_capacity(config.urls.len());
        for raw in &config.urls {
            let url: reqwest::Url = raw.parse().map_err(|e| {
                AdapterError::Config(format!("{chain}: bad RPC URL {:?}: {e}", redact(raw)))
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(AdapterError::Config(format!(
                    "{chain}: RPC URL {:?} is not http(s); only HTTP endpoints are supported",
                    redact(raw)
                )));
            }
            redacted_urls.push(redact(raw));
            transports.push(Http::with_client(http.clone(), url));
        }
        let is_local = transports.iter().all(|t| t.guess_local());

        // Each endpoint refuses to serve while it is of another chain (see
        // `chain_guard`) and counts its own failed attempts (below retries and failover).
        let counted: Vec<_> = transports
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let guarded = tower::Layer::layer(
                    &crate::chain_guard::ChainGuardLayer::new(chain.as_str(), expected),
                    t.clone(),
                );
                tower::Layer::layer(
                    &crate::rpc_metrics::RpcMetricsLayer::endpoint(chain.as_str(), i),
                    guarded,
                )
            })
            .collect();
        let endpoints: Vec<DynProvider> = counted
            .iter()
            .zip(&transports)
            .map(|(c, t)| {
                let client = RpcClient::new(
                    tower::Layer::layer(&retry_layer(config), c.clone()),
                    t.guess_local(),
                );
                ProviderBuilder::new()
                    .disable_recommended_fillers()
                    .connect_client(client)
                    .erased()
            })
            .collect();

        let count = NonZeroUsize::new(transports.len()).unwrap_or(NonZeroUsize::MIN);
        let fallback = FallbackLayer::default()
            .with_active_transport_count(count)
            .with_sequential_methods(
                METHODS
                    .iter()
                    .map(|m| (*m).to_owned())
                    .collect::<HashSet<_>>(),
            );
        let service = tower::ServiceBuilder::new()
            .layer(crate::rpc_metrics::RpcMetricsLayer::new(chain.as_str()))
            .layer(retry_layer(config))
            .layer(fallback)
            .service(counted);
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_client(RpcClient::new(service, is_local))
            .erased();

        let this = Self {
            chain,
            chain_id: expected,
            provider,
            endpoints,
            redacted_urls,
        };
        this.check_chain_ids().await?;
        Ok(this)
    }

    async fn check_chain_ids(&self) -> Result<(), AdapterError> {
        let mut answered = 0usize;
        let mut last_error = None;
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            match endpoint.get_chain_id().await {
                Ok(actual) if actual == self.chain_id => answered += 1,
                Ok(actual) => {
                    metrics::counter!("bridge_rpc_wrong_chain_total", "chain" => self.chain.to_string()).increment(1);
                    warn!(target: "adapters::rpc", chain = %self.chain, url = %self.redacted_urls[i], actual, expected = self.chain_id, "endpoint serves another chain");
                    return Err(AdapterError::WrongChain {
                        expected: self.chain.clone(),
                        actual,
                    });
                }
                Err(e) => {
                    warn!(target: "adapters::rpc", chain = %self.chain, url = %self.redacted_urls[i], error = %crate::redact::scrub(&e.to_string()), "endpoint unreachable at start-up; failing over");
                    last_error = Some(e);
                }
            }
        }
        if answered == 0 {
            let message = last_error.map_or_else(
                || "no endpoint".to_owned(),
                |e| crate::redact::scrub(&e.to_string()).into_owned(),
            );
            return Err(AdapterError::Rpc {
                chain: self.chain.clone(),
                message: format!(
                    "none of the {} RPC endpoints answered eth_chainId ({}): {message}",
                    self.endpoints.len(),
                    self.redacted_urls.join(", ")
                ),
            });
        }
        debug!(target: "adapters::rpc", chain = %self.chain, answered, of = self.endpoints.len(), "connected");
        Ok(())
    }

    /// Wraps an already built provider (tests, or a caller with its own transport
    /// stack). No chain-id check is made; `chain_id` is trusted.
    pub fn from_provider(chain: ChainId, chain_id: u64, provider: DynProvider) -> Self {
        Self {
            chain,
            chain_id,
            endpoints: vec![provider.clone()],
            provider,
            redacted_urls: vec!["<provided>".to_owned()],
        }
    }

    /// The chain.
    pub fn chain(&self) -> &ChainId {
        &self.chain
    }

    /// Its EIP-155 chain id (checked on connect).
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The failover provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// Number of endpoints.
    pub fn endpoint_count(&self) -> usize {
        self.endpoints.len()
    }

    /// The provider of endpoint `i % endpoint_count()` alone (no failover).
    pub fn endpoint(&self, i: usize) -> &DynProvider {
        &self.endpoints[i % self.endpoints.len()]
    }

    /// The endpoints' URLs, with credentials and query strings removed.
    pub fn redacted_urls(&self) -> &[String] {
        &self.redacted_urls
    }

    /// Maps an alloy error of a non-log call into an [`AdapterError`].
    pub fn error(&self, context: &str, err: TransportError) -> AdapterError {
        classify_error(&self.chain, context, &err, None)
    }

    /// Maps the error of a contract call (`eth_call` of `what`).
    pub fn contract_error(&self, what: &str, e: alloy::contract::Error) -> AdapterError {
        match e {
            alloy::contract::Error::TransportError(t) => self.error(what, t),
            other => AdapterError::Rpc {
                chain: self.chain.clone(),
                message: format!("{what}: {other}"),
            },
        }
    }

    /// Maps an alloy error of a log query over `from..=to`.
    pub fn log_error(&self, from: u64, to: u64, err: TransportError) -> AdapterError {
        classify_error(&self.chain, "eth_getLogs", &err, Some((from, to)))
    }

    /// The node's latest block, for [`EvidenceSource::fetch_head`](crate::EvidenceSource::fetch_head).
    pub async fn fetch_head_ref(&self) -> Result<crate::source::BlockRef, AdapterError> {
        self.fetch_block_ref(alloy::eips::BlockNumberOrTag::Latest)
            .await?
            .ok_or_else(|| AdapterError::Rpc {
                chain: self.chain.clone(),
                message: "the node returned no latest block".into(),
            })
    }

    /// The canonical block at `number`, for
    /// [`EvidenceSource::fetch_block`](crate::EvidenceSource::fetch_block); a block the
    /// node does not have is [`AdapterError::BlockNotFound`].
    pub async fn fetch_block_at(
        &self,
        number: u64,
    ) -> Result<crate::source::BlockRef, AdapterError> {
        self.fetch_block_ref(number.into())
            .await?
            .ok_or_else(|| AdapterError::BlockNotFound {
                chain: self.chain.clone(),
                number,
            })
    }

    /// The block `id` as a [`BlockRef`](crate::source::BlockRef), `None` when the node
    /// does not have it.
    pub async fn fetch_block_ref(
        &self,
        id: alloy::eips::BlockNumberOrTag,
    ) -> Result<Option<crate::source::BlockRef>, AdapterError> {
        let block = self
            .provider()
            .get_block_by_number(id)
            .await
            .map_err(|e| self.error("eth_getBlockByNumber", e))?;
        Ok(block.map(|b| crate::source::BlockRef {
            number: b.header.number,
            hash: b.header.hash,
            parent_hash: b.header.parent_hash,
            timestamp: b.header.timestamp,
        }))
    }
}

fn retry_layer(config: &RpcConfig) -> RetryBackoffLayer<NotRangeLimit> {
    RetryBackoffLayer::new_with_policy(
        config.rate_limit_retries,
        config.initial_backoff_ms,
        config.compute_units_per_second,
        NotRangeLimit,
    )
}

/// alloy's rate-limit policy, minus the answers that mean "your log query is too large":
/// some providers (Infura) use the rate-limit code -32005 for those, and retrying the
/// same query cannot help — the caller must shrink the span.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotRangeLimit;

impl RetryPolicy for NotRangeLimit {
    fn should_retry(&self, error: &TransportError) -> bool {
        if let Some(payload) = error.as_error_resp()
            && is_range_too_large(Some(payload.code), &payload.message)
        {
            return false;
        }
        RateLimitRetryPolicy::default().should_retry(error)
    }

    fn backoff_hint(&self, error: &TransportError) -> Option<Duration> {
        RateLimitRetryPolicy::default().backoff_hint(error)
    }
}

/// Whether a node's error answer to `eth_getLogs` means "ask for fewer blocks".
///
/// Matches the messages of the common providers and clients: geth/Erigon/Besu ("query
/// returned more than 10000 results", "exceed maximum block range"), Infura (-32005),
/// Alchemy ("Log response size exceeded", "block range"), QuickNode/Ankr ("limit
/// exceeded", "too many"), Nethermind ("too many logs"), and timeouts of large queries.
/// Rate limiting ("too many requests", "rate limit") is *not* matched.
pub fn is_range_too_large(code: Option<i64>, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    if m.contains("rate limit") || m.contains("too many requests") || m.contains("requests per") {
        return false;
    }
    const NEEDLES: &[&str] = &[
        "query returned more than",
        "too many",
        "range",
        "limit exceeded",
        "response size exceeded",
        "response size should not",
        "response is too big",
        "exceeds max results",
        "max results",
        "query timeout exceeded",
        "result window",
        "block limit",
    ];
    NEEDLES.iter().any(|n| m.contains(n)) || code == Some(-32005)
}

/// Maps an alloy error into an [`AdapterError`]. `range` is the block range of a log
/// query, which turns a provider-limit answer into [`AdapterError::RangeTooLarge`].
pub fn classify_error(
    chain: &ChainId,
    context: &str,
    err: &TransportError,
    range: Option<(u64, u64)>,
) -> AdapterError {
    if let (Some((from, to)), Some(payload)) = (range, err.as_error_resp())
        && is_range_too_large(Some(payload.code), &payload.message)
    {
        return AdapterError::RangeTooLarge {
            chain: chain.clone(),
            from,
            to,
            message: format!("{} (code {})", payload.message, payload.code),
        };
    }
    // Some proxies return the limit as an HTTP error with the JSON-RPC error in the body.
    if let (Some((from, to)), RpcError::Transport(TransportErrorKind::HttpError(http))) =
        (range, err)
        && is_range_too_large(None, &http.body)
    {
        return AdapterError::RangeTooLarge {
            chain: chain.clone(),
            from,
            to,
            message: crate::redact::scrub(&format!("HTTP {}: {}", http.status, http.body))
                .into_owned(),
        };
    }
    AdapterError::Rpc {
        chain: chain.clone(),
        // reqwest's transport errors embed the URL, key and all.
        message: crate::redact::scrub(&format!("{context}: {err}")).into_owned(),
    }
}

/// Whether an error is a JSON-RPC error answer (the node answered and refused), as
/// opposed to a transport failure (no answer).
pub fn is_error_answer(err: &TransportError) -> bool {
    err.as_error_resp().is_some()
}

/// A URL with its userinfo, key-like path segments and query values masked, safe to
/// log (see [`crate::redact`]).
pub fn redact(raw: &str) -> String {
    crate::redact::redact_url(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::rpc::json_rpc::ErrorPayload;

    fn resp(code: i64, message: &str) -> TransportError {
        RpcError::ErrorResp(ErrorPayload {
            code,
            message: message.to_owned().into(),
            data: None,
        })
    }

    #[test]
    fn range_limit_messages_are_recognised() {
        for (code, msg) in [
            (-32005, "query returned more than 10000 results"),
            (
                -32602,
                "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
            ),
            (-32000, "exceed maximum block range: 5000"),
            (-32000, "block range is too wide"),
            (-32000, "limit exceeded"),
            (-32000, "too many logs, max is 10000"),
            (-32000, "query timeout exceeded"),
            (-32005, "something provider specific"),
        ] {
            assert!(is_range_too_large(Some(code), msg), "{code} {msg}");
            let e = classify_error(
                &ChainId::eip155(1),
                "eth_getLogs",
                &resp(code, msg),
                Some((5, 9)),
            );
            assert!(
                matches!(e, AdapterError::RangeTooLarge { from: 5, to: 9, .. }),
                "{code} {msg}: {e}"
            );
        }
    }

    #[test]
    fn rate_limits_and_other_errors_are_rpc_errors() {
        for (code, msg) in [
            (429, "Too Many Requests"),
            (-32005, "daily request count exceeded, request rate limited"),
            (-32000, "execution reverted"),
            (-32601, "method not found"),
        ] {
            let e = classify_error(
                &ChainId::eip155(1),
                "eth_getLogs",
                &resp(code, msg),
                Some((5, 9)),
            );
            assert!(matches!(e, AdapterError::Rpc { .. }), "{code} {msg}: {e}");
        }
        // Outside a log query a "range" message is not a span problem.
        let e = classify_error(
            &ChainId::eip155(1),
            "eth_call",
            &resp(-32000, "out of range"),
            None,
        );
        assert!(matches!(e, AdapterError::Rpc { .. }));
    }

    #[test]
    fn retry_policy_does_not_retry_range_limits() {
        assert!(
            !NotRangeLimit.should_retry(&resp(-32005, "query returned more than 10000 results"))
        );
        assert!(NotRangeLimit.should_retry(&resp(-32005, "project rate limit exceeded")));
        assert!(NotRangeLimit.should_retry(&resp(429, "slow down")));
        assert!(!NotRangeLimit.should_retry(&resp(-32000, "execution reverted")));
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact("https://user:pw@eth.example.com/v3/abcdef?key=1"),
            "https://***@eth.example.com/v3/***?key=***"
        );
        assert_eq!(redact("http://127.0.0.1:8545"), "http://127.0.0.1:8545");
    }

    #[tokio::test]
    async fn connect_rejects_bad_config() {
        let e = ChainRpc::connect(&RpcConfig::new(ChainId::eip155(1), vec![]))
            .await
            .unwrap_err();
        assert!(matches!(e, AdapterError::Config(_)), "{e}");
        let e = ChainRpc::connect(&RpcConfig::new(ChainId::eip155(1), vec!["ws://x".into()]))
            .await
            .unwrap_err();
        assert!(matches!(e, AdapterError::Config(_)), "{e}");
        let e = ChainRpc::connect(&RpcConfig::new(
            ChainId::parse("cosmos:hub").unwrap(),
            vec!["http://x".into()],
        ))
        .await
        .unwrap_err();
        assert!(matches!(e, AdapterError::Config(_)), "{e}");
    }
}
