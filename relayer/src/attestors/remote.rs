//! The relaying side: asks the configured remote attestors for signatures (each
//! request bounded by a timeout, a failing attestor backed off).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use alloy::primitives::{Address, B256};
use evidence_schemas::checkpoint::AttestorSignature;

use super::{SIGN_PATH, SignError, SignRequest, SignResponse};
use crate::{RelayerError, Result};

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use evidence_schemas::{ChainId, Checkpoint};
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
