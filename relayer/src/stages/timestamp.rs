//! Timestamp stage: an RFC 3161 token for every accepted checkpoint, per destination.
//!
//! For each route and each configured TSA, the newest accepted checkpoints (mirror
//! submission `confirmed` or `observed`) without a token from that TSA are sent, one
//! request each, to the TSA: `POST` with `Content-Type: application/timestamp-query`,
//! a `TimeStampReq` with the SHA-256 imprint of the checkpoint's EIP-712 signing hash
//! for that destination, a fresh random 64-bit nonce and `certReq` true. The reply is
//! checked ([`evidence_schemas::timestamp::verify_response`]: status, imprint, nonce,
//! signature, certificate chain to the TSA's configured roots, validity at genTime)
//! before the token is stored. A failure — TSA down, HTTP error, a reply that does not
//! check — stores nothing but a failure record with a retry time (exponential backoff,
//! 5 s doubling up to 10 min), is logged (`relayer::timestamp`) and counted
//! (`bridge_timestamp_failures_total{tsa,check}`).
//!
//! The stage runs in its own task ([`crate::Engine`]), never in the submission path:
//! a TSA that is slow or down delays only tokens, never relaying.

use std::time::Duration;

use alloy::primitives::FixedBytes;
use async_trait::async_trait;
use evidence_schemas::timestamp::{TsaRoots, build_request, imprint_of, verify_response};
use tracing::{info, instrument, warn};

use super::{Stage, StageContext};
use crate::{
    RelayerError, Result,
    runtime::RouteRuntime,
    store::{NewTimestamp, Store, now_ms},
};

/// Longest reply accepted from a TSA (a token with a few certificates is ~2–8 KiB).
const MAX_REPLY_BYTES: usize = 256 * 1024;
/// Requests per TSA and route per step.
const BATCH: u64 = 8;
/// First retry delay; doubles per failed attempt.
const RETRY_BASE: Duration = Duration::from_secs(5);
/// Longest retry delay.
const RETRY_MAX: Duration = Duration::from_secs(600);

/// One configured Time-Stamping Authority.
#[derive(Debug, Clone)]
pub struct TsaClient {
    /// The operator's name (config), stored with each token.
    pub name: String,
    /// Where to `POST` requests.
    pub url: String,
    /// Roots the TSA's certificate must chain to.
    pub roots: TsaRoots,
    http: reqwest::Client,
}

impl TsaClient {
    /// A client for the TSA at `url`, whose requests time out after `timeout`.
    pub fn new(name: String, url: String, roots: TsaRoots, timeout: Duration) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| {
                RelayerError::Config(format!("TSA {name}: cannot build an HTTP client: {e}"))
            })?;
        Ok(Self {
            name,
            url,
            roots,
            http,
        })
    }

    /// Asks the TSA for a token over `signing_hash` and checks the reply; the checked
    /// token, or why there is none.
    pub async fn fetch_token(
        &self,
        signing_hash: &alloy::primitives::B256,
    ) -> std::result::Result<NewTimestamp, TsaFailure> {
        let imprint = imprint_of(signing_hash);
        let mut nonce = FixedBytes::<8>::random();
        // A positive INTEGER in minimal DER: top bit clear, first byte nonzero.
        nonce[0] = (nonce[0] & 0x7f) | 0x40;
        let request = build_request(&imprint, nonce.as_slice())
            .map_err(|e| TsaFailure::new("request", e.to_string()))?;
        let reply = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .header(reqwest::header::ACCEPT, "application/timestamp-reply")
            .body(request)
            .send()
            .await
            .map_err(|e| {
                TsaFailure::new("http", format!("cannot reach the TSA at {}: {e}", self.url))
            })?;
        let status = reply.status();
        if !status.is_success() {
            return Err(TsaFailure::new(
                "http",
                format!("the TSA at {} answered HTTP {status}", self.url),
            ));
        }
        if reply
            .content_length()
            .is_some_and(|n| n > MAX_REPLY_BYTES as u64)
        {
            return Err(TsaFailure::new(
                "http",
                format!("the TSA's reply is larger than {MAX_REPLY_BYTES} bytes"),
            ));
        }
        let body = read_limited(reply).await?;
        let (token, verified) = verify_response(&body, &imprint, nonce.as_slice(), &self.roots)
            .map_err(|e| TsaFailure::new(e.check(), e.to_string()))?;
        Ok(NewTimestamp {
            tsa: self.name.clone(),
            signing_hash: *signing_hash,
            token,
            gen_time: verified.gen_time,
            tsa_subject: verified.tsa_subject,
        })
    }
}

async fn read_limited(mut reply: reqwest::Response) -> std::result::Result<Vec<u8>, TsaFailure> {
    let mut body = Vec::new();
    while let Some(chunk) = reply
        .chunk()
        .await
        .map_err(|e| TsaFailure::new("http", format!("reading the TSA's reply failed: {e}")))?
    {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(TsaFailure::new(
                "http",
                format!("the TSA's reply is larger than {MAX_REPLY_BYTES} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Why a TSA gave no acceptable token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaFailure {
    /// `http`, `request`, or the failed check of the reply (`status`, `imprint`, …).
    pub check: &'static str,
    /// What went wrong.
    pub message: String,
}

impl TsaFailure {
    fn new(check: &'static str, message: String) -> Self {
        Self { check, message }
    }
}

/// What one timestamp step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimestampOutcome {
    /// Tokens stored.
    pub stored: usize,
    /// Requests that failed (retried later).
    pub failed: usize,
}

/// The timestamp stage of one route. Nothing to unwind: tokens are over accepted
/// checkpoints.
#[derive(Debug, Clone, Copy)]
pub struct TimestampStage<'a> {
    /// The route.
    pub rt: &'a RouteRuntime,
    /// The configured TSAs.
    pub tsas: &'a [TsaClient],
}

#[async_trait]
impl Stage for TimestampStage<'_> {
    type Outcome = TimestampOutcome;

    fn name(&self) -> &'static str {
        "timestamp"
    }

    async fn execute(&mut self, ctx: StageContext<'_>) -> Result<TimestampOutcome> {
        timestamp_once(ctx.store, self.rt, self.tsas).await
    }
}

/// One step for one route: up to a few requests per TSA, tokens stored when they check.
#[instrument(target = "relayer::timestamp", skip_all, fields(route = %route.route()))]
pub async fn timestamp_once(
    store: &Store,
    route: &RouteRuntime,
    tsas: &[TsaClient],
) -> Result<TimestampOutcome> {
    let key = route.route();
    let mut outcome = TimestampOutcome::default();
    for tsa in tsas {
        for size in store
            .load_untimestamped_sizes(&key, &tsa.name, now_ms(), BATCH)
            .await?
        {
            let checkpoint = store
                .load_checkpoint(&key.source, size)
                .await?
                .ok_or_else(|| {
                    RelayerError::corrupt(format!(
                        "accepted submission {key} size {size} has no checkpoint row"
                    ))
                })?;
            let signing_hash = checkpoint.signing_hash(&route.domain);
            match tsa.fetch_token(&signing_hash).await {
                Ok(token) => {
                    store.insert_timestamp(&key, size, &token).await?;
                    metrics::counter!("bridge_timestamps_total", "tsa" => tsa.name.clone())
                        .increment(1);
                    info!(target: "relayer::timestamp", route = %key, size, tsa = %tsa.name,
                        gen_time = token.gen_time, "checkpoint timestamped");
                    outcome.stored += 1;
                }
                Err(failure) => {
                    let attempts = store.load_timestamp_attempts(&key, size, &tsa.name).await?;
                    let delay = RETRY_BASE
                        .saturating_mul(1u32 << attempts.min(16))
                        .min(RETRY_MAX);
                    let retry_at = now_ms()
                        .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                    store
                        .save_timestamp_failure(&key, size, &tsa.name, &failure.message, retry_at)
                        .await?;
                    metrics::counter!("bridge_timestamp_failures_total", "tsa" => tsa.name.clone(), "check" => failure.check)
                        .increment(1);
                    warn!(target: "relayer::timestamp", route = %key, size, tsa = %tsa.name, check = failure.check,
                        error = %failure.message, retry_in = ?delay, "timestamp request failed; nothing stored, will retry");
                    outcome.failed += 1;
                    // The TSA is likely down or misbehaving: leave the rest for later.
                    break;
                }
            }
        }
    }
    Ok(outcome)
}
