//! The chain-id guard of one RPC endpoint.
//!
//! [`ChainRpc::connect`](crate::ChainRpc::connect) checks every endpoint's `eth_chainId`,
//! but an endpoint that is down at start-up cannot be checked then, and a load balancer
//! may put another node behind the same URL after a reconnect. The guard wraps one
//! endpoint's transport: before its first request, and again after any transport error,
//! it asks that endpoint's `eth_chainId`; while the answer is another chain every
//! request fails with a transport error naming both ids (so failover moves on to the
//! other endpoints) and `bridge_rpc_wrong_chain_total{chain}` counts it. `eth_chainId`
//! itself passes through, for the caller's own check.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use alloy::{
    rpc::json_rpc::{Id, Request, RequestPacket, ResponsePacket, ResponsePayload},
    transports::{TransportError, TransportErrorKind, TransportFut},
};
use tracing::warn;

/// Wraps an endpoint's transport with [`ChainGuard`].
#[derive(Debug, Clone)]
pub(crate) struct ChainGuardLayer {
    chain: Arc<str>,
    expected: u64,
}

impl ChainGuardLayer {
    /// A guard that wants EIP-155 id `expected` for `chain` (metrics label).
    pub(crate) fn new(chain: &str, expected: u64) -> Self {
        Self {
            chain: chain.into(),
            expected,
        }
    }
}

impl<S> tower::Layer<S> for ChainGuardLayer {
    type Service = ChainGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ChainGuard {
            inner,
            chain: self.chain.clone(),
            expected: self.expected,
            checked: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// An endpoint's transport that refuses to serve while the endpoint is of another chain.
#[derive(Debug, Clone)]
pub(crate) struct ChainGuard<S> {
    inner: S,
    chain: Arc<str>,
    expected: u64,
    /// Shared by the clones (the failover's and the single-endpoint provider's).
    checked: Arc<AtomicBool>,
}

fn is_chain_id(req: &RequestPacket) -> bool {
    matches!(req, RequestPacket::Single(r) if r.method() == "eth_chainId")
}

/// The chain id in an `eth_chainId` answer, if it is one.
fn chain_id_of(resp: &ResponsePacket) -> Option<u64> {
    let ResponsePacket::Single(r) = resp else {
        return None;
    };
    let ResponsePayload::Success(raw) = &r.payload else {
        return None;
    };
    let text: String = serde_json::from_str(raw.get()).ok()?;
    u64::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}

impl<S> tower::Service<RequestPacket> for ChainGuard<S>
where
    S: tower::Service<
            RequestPacket,
            Response = ResponsePacket,
            Error = TransportError,
            Future = TransportFut<'static>,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: RequestPacket) -> Self::Future {
        if is_chain_id(&req) || self.checked.load(Ordering::Relaxed) {
            let checked = Arc::clone(&self.checked);
            let fut = self.inner.call(req);
            return Box::pin(async move {
                let result = fut.await;
                if matches!(&result, Err(e) if !e.is_error_resp()) {
                    // No answer: whoever answers next at this URL is checked again.
                    checked.store(false, Ordering::Relaxed);
                }
                result
            });
        }
        let mut inner = self.inner.clone();
        let (chain, expected, checked) =
            (self.chain.clone(), self.expected, Arc::clone(&self.checked));
        Box::pin(async move {
            let ask = Request::new("eth_chainId", Id::Number(0), ())
                .serialize()
                .map_err(TransportError::ser_err)?;
            let answer = tower::ServiceExt::ready(&mut inner)
                .await?
                .call(RequestPacket::Single(ask))
                .await?;
            match chain_id_of(&answer) {
                Some(actual) if actual == expected => {
                    checked.store(true, Ordering::Relaxed);
                    tower::ServiceExt::ready(&mut inner).await?.call(req).await
                }
                None => Err(TransportErrorKind::custom_str(&format!(
                    "the endpoint gave no valid eth_chainId answer, so it cannot be told to serve {chain}"
                ))),
                Some(actual) => {
                    metrics::counter!("bridge_rpc_wrong_chain_total", "chain" => chain.to_string())
                        .increment(1);
                    warn!(target: "adapters::rpc", chain = %chain, expected, actual, "an endpoint serves another chain; its answers are not used");
                    Err(TransportErrorKind::custom_str(&format!(
                        "this endpoint serves chain id {actual}, not {expected} ({chain}): its answers are refused; fix the RPC URL"
                    )))
                }
            }
        })
    }
}
