//! A fault-injecting HTTP JSON-RPC proxy for the fault tests: it sits in front of a
//! real node (anvil), forwards every request to it, and — when told to — answers the
//! way broken, overloaded or lying nodes answer.
//!
//! The HTTP side is a deliberately small HTTP/1.1 server on a raw [`TcpListener`]
//! (one request per connection, `Connection: close`), so a fault can act at the byte
//! level: send half a body, reset the connection, or say nothing at all. Forwarding
//! uses `reqwest`.
//!
//! Faults ([`Fault`]) apply to the requests whose method matches
//! ([`FaultProxy::set`] with a method filter) for a number of requests or until
//! cleared; the node's *view* ([`View`]) is separate and models what a node sees of
//! the chain: a head that stalls, a head that went backwards, or a node lagging
//! `k` blocks behind (it knows no block, log, receipt or state above its head, and
//! clamps log queries to its head as geth does). [`FaultProxy::injected`] counts the
//! faults actually served, so a test proves its fault fired.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// One way of answering badly.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// A JSON-RPC error answer (HTTP 200) with this code and message, e.g. -32005
    /// "limit exceeded".
    RpcError {
        /// JSON-RPC error code.
        code: i64,
        /// Its message.
        message: String,
    },
    /// An HTTP error status with a short text body (429, 503, ...).
    Http(u16),
    /// `eth_getLogs` answers lose the logs in the middle of the answer (every log but
    /// the first and the last of an answer with at least three).
    DropMiddleLogs,
    /// The node's answer, cut in half.
    Truncated,
    /// A body that is not JSON.
    Malformed,
    /// No answer for this long (longer than the client's timeout), then the answer.
    Delay(Duration),
    /// The connection is reset (RST) before any answer.
    Reset,
    /// `eth_chainId` and `net_version` report this chain id.
    ChainId(u64),
}

/// What the node behind the proxy claims to see of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The real node's view.
    Live,
    /// The head is frozen at this block.
    Frozen(u64),
    /// The node lags this many blocks behind the real head.
    Behind(u64),
}

#[derive(Debug)]
struct Rule {
    fault: Fault,
    /// Methods it applies to (empty: every method).
    methods: Vec<String>,
    /// Requests it still applies to (`None`: until cleared).
    remaining: Option<u64>,
}

#[derive(Debug)]
struct State {
    rule: Option<Rule>,
    view: View,
}

#[derive(Debug)]
struct Shared {
    upstream: String,
    http: reqwest::Client,
    state: Mutex<State>,
    injected: AtomicU64,
    requests: AtomicU64,
}

/// A running proxy; stopped when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// The proxy's URL (`http://127.0.0.1:PORT`).
    pub url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `upstream`.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start(upstream: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the fault proxy")?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            state: Mutex::new(State {
                rule: None,
                view: View::Live,
            }),
            injected: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        });
        let s = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = Arc::clone(&s);
                tokio::spawn(async move {
                    let _ = serve(&s, stream).await;
                });
            }
        });
        Ok(Self { url, shared, task })
    }

    /// Injects `fault` into the next `count` requests (`None`: until [`Self::clear`])
    /// whose method is one of `methods` (empty: every method).
    pub fn set(&self, fault: Fault, methods: &[&str], count: Option<u64>) {
        self.lock().rule = Some(Rule {
            fault,
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            remaining: count,
        });
    }

    /// Stops injecting faults (the view stays).
    pub fn clear(&self) {
        self.lock().rule = None;
    }

    /// Sets the node's view of the chain.
    pub fn set_view(&self, view: View) {
        self.lock().view = view;
    }

    /// Faults served so far (view changes not counted).
    pub fn injected(&self) -> u64 {
        self.shared.injected.load(Ordering::Relaxed)
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reads one HTTP/1.1 request (headers and a `Content-Length` body).
async fn read_request(stream: &mut TcpStream) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "connection closed before the request ended");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        anyhow::ensure!(buf.len() < 64 * 1024, "request headers too long");
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    anyhow::ensure!(length <= 16 * 1024 * 1024, "request body too large");
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "connection closed inside the body");
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf[header_end..header_end + length].to_vec())
}

async fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

/// The fault for a request of `method`, if one applies (and uses up one of its count).
fn take_fault(shared: &Shared, method: &str) -> (Option<Fault>, View) {
    let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    let view = st.view;
    let Some(rule) = st.rule.as_mut() else {
        return (None, view);
    };
    if !rule.methods.is_empty() && !rule.methods.iter().any(|m| m == method) {
        return (None, view);
    }
    let fault = rule.fault.clone();
    match &mut rule.remaining {
        Some(0) => {
            st.rule = None;
            return (None, view);
        }
        Some(n) => *n -= 1,
        None => {}
    }
    // A chain-id lie and dropped logs only count when they change an answer.
    if !matches!(fault, Fault::ChainId(_) | Fault::DropMiddleLogs) {
        shared.injected.fetch_add(1, Ordering::Relaxed);
    }
    (Some(fault), view)
}

async fn serve(shared: &Shared, mut stream: TcpStream) -> anyhow::Result<()> {
    let body = read_request(&mut stream).await?;
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = request["method"].as_str().unwrap_or("batch").to_owned();
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let (fault, view) = take_fault(shared, &method);
    match &fault {
        Some(Fault::RpcError { code, message }) => {
            let answer =
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
            return Ok(respond(&mut stream, 200, answer.to_string().as_bytes()).await?);
        }
        Some(Fault::Http(status)) => {
            return Ok(respond(
                &mut stream,
                *status,
                b"{\"error\":\"injected by the fault proxy\"}",
            )
            .await?);
        }
        Some(Fault::Malformed) => {
            return Ok(respond(
                &mut stream,
                200,
                b"{\"jsonrpc\":\"2.0\",\"id\":<html>bad gateway",
            )
            .await?);
        }
        Some(Fault::Reset) => {
            // Linger 0: closing sends RST at once (it does not block with a zero timeout).
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            drop(stream);
            return Ok(());
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(*d).await,
        _ => {}
    }
    let answer = match answer_in_view(shared, &request, &method, view).await? {
        Some(a) => a,
        None => forward(shared, &body).await?,
    };
    let mut answer = answer;
    match &fault {
        Some(Fault::ChainId(c)) if method == "eth_chainId" || method == "net_version" => {
            let value = if method == "eth_chainId" {
                json!(format!("{c:#x}"))
            } else {
                json!(c.to_string())
            };
            answer["result"] = value;
            shared.injected.fetch_add(1, Ordering::Relaxed);
        }
        Some(Fault::DropMiddleLogs) if method == "eth_getLogs" => {
            if let Some(logs) = answer["result"].as_array_mut()
                && logs.len() >= 3
            {
                let last = logs.len() - 1;
                logs.drain(1..last);
                shared.injected.fetch_add(1, Ordering::Relaxed);
            }
        }
        _ => {}
    }
    let bytes = serde_json::to_vec(&answer)?;
    if let Some(Fault::Truncated) = fault {
        return Ok(respond(&mut stream, 200, &bytes[..bytes.len() / 2]).await?);
    }
    Ok(respond(&mut stream, 200, &bytes).await?)
}

async fn forward(shared: &Shared, body: &[u8]) -> anyhow::Result<Value> {
    let resp = shared
        .http
        .post(&shared.upstream)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await?;
    Ok(resp.json().await?)
}

async fn upstream_call(shared: &Shared, method: &str, params: Value) -> anyhow::Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": method, "params": params});
    let answer = forward(shared, body.to_string().as_bytes()).await?;
    Ok(answer["result"].clone())
}

fn quantity(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}

/// The answer of a node whose head is `view` (not the real one), when it differs from
/// the real node's; `None` to forward as is.
async fn answer_in_view(
    shared: &Shared,
    request: &Value,
    method: &str,
    view: View,
) -> anyhow::Result<Option<Value>> {
    if view == View::Live {
        return Ok(None);
    }
    let real = quantity(&upstream_call(shared, "eth_blockNumber", json!([])).await?).unwrap_or(0);
    let head = match view {
        View::Live => real,
        View::Frozen(n) => n.min(real),
        View::Behind(k) => real.saturating_sub(k),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let ok = |result: Value| Some(json!({"jsonrpc": "2.0", "id": id.clone(), "result": result}));
    let unknown = || {
        Some(
            json!({"jsonrpc": "2.0", "id": id.clone(), "error": {"code": -32000, "message": "header not found"}}),
        )
    };
    let params = &request["params"];
    let tag_above = |tag: &Value| -> Option<bool> {
        match tag.as_str() {
            Some("latest" | "pending" | "safe" | "finalized") => None,
            Some(_) => quantity(tag).map(|n| n > head),
            None => tag.get("blockNumber").and_then(quantity).map(|n| n > head),
        }
    };
    match method {
        "eth_blockNumber" => Ok(ok(json!(format!("{head:#x}")))),
        "eth_getBlockByNumber" => {
            let tag = &params[0];
            match tag_above(tag) {
                Some(true) => Ok(ok(Value::Null)),
                Some(false) => Ok(None),
                None => Ok(ok(upstream_call(
                    shared,
                    method,
                    json!([format!("{head:#x}"), params[1]]),
                )
                .await?)),
            }
        }
        "eth_call" | "eth_getCode" | "eth_getBalance" | "eth_getTransactionCount" => {
            match tag_above(&params[params.as_array().map_or(0, |a| a.len().saturating_sub(1))]) {
                Some(true) => Ok(unknown()),
                _ => Ok(None),
            }
        }
        "eth_getBlockByHash" | "eth_getTransactionReceipt" | "eth_getTransactionByHash" => {
            let result = upstream_call(shared, method, params.clone()).await?;
            let n = result
                .get("number")
                .or_else(|| result.get("blockNumber"))
                .and_then(quantity);
            Ok(ok(if n.is_some_and(|n| n > head) {
                Value::Null
            } else {
                result
            }))
        }
        "eth_getLogs" => {
            // Clamped to the node's head, as geth clamps a range reaching past it.
            let result = upstream_call(shared, method, params.clone()).await?;
            let Some(logs) = result.as_array() else {
                return Ok(ok(result));
            };
            let kept: Vec<Value> = logs
                .iter()
                .filter(|l| {
                    l.get("blockNumber")
                        .and_then(quantity)
                        .is_some_and(|n| n <= head)
                })
                .cloned()
                .collect();
            Ok(ok(Value::Array(kept)))
        }
        _ => Ok(None),
    }
}
