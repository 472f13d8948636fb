//! RPC metrics: a tower layer around a chain's JSON-RPC transport that records, through
//! the `metrics` facade, every request (`bridge_rpc_requests_total`), every failed one
//! (`bridge_rpc_errors_total`: transport errors and JSON-RPC error answers) and its
//! latency including retries and failover (`bridge_rpc_latency_seconds`), labelled by
//! `chain` (CAIP-2 id) and `method`. Without an installed recorder these are no-ops.
//!
//! Those count what the caller saw, after retries and failover, so a node that fails
//! and is then retried or failed over leaves no trace in them. [`RpcMetricsLayer::endpoint`]
//! wraps one endpoint's transport, below the retries and the failover, and counts every
//! attempt that endpoint failed (`bridge_rpc_endpoint_errors_total`, labelled `chain`,
//! `endpoint` — the URL's index in the configuration, never the URL, which may hold a
//! key — and `method`): rate limits, 5xx answers, resets, timeouts and unparsable
//! bodies of one node show there even when another node answered instead.

use std::{
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use alloy::{
    rpc::json_rpc::{RequestPacket, ResponsePacket},
    transports::{TransportError, TransportFut},
};

/// Wraps a transport with [`RpcMetrics`].
#[derive(Debug, Clone)]
pub struct RpcMetricsLayer {
    chain: Arc<str>,
    endpoint: Option<Arc<str>>,
}

impl RpcMetricsLayer {
    /// Metrics labelled with `chain`.
    pub fn new(chain: &str) -> Self {
        Self {
            chain: chain.into(),
            endpoint: None,
        }
    }

    /// Per-attempt error counts of endpoint number `index` of `chain`.
    pub fn endpoint(chain: &str, index: usize) -> Self {
        Self {
            chain: chain.into(),
            endpoint: Some(index.to_string().into()),
        }
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            chain: self.chain.clone(),
            endpoint: self.endpoint.clone(),
        }
    }
}

/// A transport that records request counts, errors and latency.
#[derive(Debug, Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    chain: Arc<str>,
    endpoint: Option<Arc<str>>,
}

fn method_of(req: &RequestPacket) -> String {
    match req {
        RequestPacket::Single(r) => r.method().to_owned(),
        RequestPacket::Batch(_) => "batch".to_owned(),
    }
}

impl<S> tower::Service<RequestPacket> for RpcMetrics<S>
where
    S: tower::Service<
            RequestPacket,
            Response = ResponsePacket,
            Error = TransportError,
            Future = TransportFut<'static>,
        > + Send
        + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: RequestPacket) -> Self::Future {
        let method = method_of(&req);
        let chain = self.chain.to_string();
        let started = Instant::now();
        let fut = self.inner.call(req);
        let endpoint = self.endpoint.clone();
        Box::pin(async move {
            let result = fut.await;
            let failed = match &result {
                Err(_) => true,
                Ok(ResponsePacket::Single(r)) => r.is_error(),
                Ok(ResponsePacket::Batch(rs)) => rs.iter().any(|r| r.is_error()),
            };
            if let Some(endpoint) = endpoint {
                if failed {
                    metrics::counter!("bridge_rpc_endpoint_errors_total", "chain" => chain, "endpoint" => endpoint.to_string(), "method" => method)
                        .increment(1);
                }
                return result;
            }
            metrics::histogram!("bridge_rpc_latency_seconds", "chain" => chain.clone(), "method" => method.clone())
                .record(started.elapsed().as_secs_f64());
            metrics::counter!("bridge_rpc_requests_total", "chain" => chain.clone(), "method" => method.clone()).increment(1);
            if failed {
                metrics::counter!("bridge_rpc_errors_total", "chain" => chain, "method" => method)
                    .increment(1);
            }
            result
        })
    }
}
