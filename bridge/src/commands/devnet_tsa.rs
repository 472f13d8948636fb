//! The devnet's Time-Stamping Authority: OpenSSL's RFC 3161 implementation
//! (`openssl ts -reply`, Debian's `openssl`) behind a loopback HTTP endpoint.
//!
//! At devnet start a CA (`CN=Evidence Bridge devnet TSA root`) and a TSA certificate
//! it issues (`CN=Evidence Bridge devnet TSA`, EC P-256, extendedKeyUsage critical
//! timeStamping) are made with `openssl` in `DIR/tsa/` (kept across restarts of the
//! same directory, so earlier tokens still chain to the same root). `POST /tsa` with a
//! DER `TimeStampReq` (`Content-Type: application/timestamp-query`) answers OpenSSL's
//! DER `TimeStampResp` (`application/timestamp-reply`). Devnet only: the key sits in
//! a plain file, and requests are answered one at a time.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use tokio::{process::Command, sync::Mutex};
use tokio_util::sync::CancellationToken;

use crate::exit::Failure;

/// The devnet TSA's name in `[[timestamping]]`.
pub(crate) const DEVNET_TSA_NAME: &str = "devnet-tsa";

/// A running devnet TSA.
pub(crate) struct DevnetTsa {
    /// `http://127.0.0.1:PORT/tsa`.
    pub(crate) url: String,
    /// The root CA certificate (PEM) the TSA certificate chains to.
    pub(crate) root_cert: PathBuf,
    shutdown: CancellationToken,
}

impl Drop for DevnetTsa {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

const TSA_CONFIG: &str = "\
[ tsa ]
default_tsa = devnet
[ devnet ]
dir = .
serial = tsaserial
crypto_device = builtin
signer_cert = tsa.crt
certs = ca.crt
signer_key = tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.15.1
other_policies = 1.3.6.1.4.1.99999.15.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
";

const TSA_EXTENSIONS: &str = "\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// Runs `openssl ARGS` in `dir`.
async fn openssl(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| {
            format!("cannot run `openssl` ({e}): install it (`bash deploy/scripts/install-tools.sh`, or Debian's `apt-get install openssl`)")
        })?;
    if !out.status.success() {
        return Err(format!(
            "openssl {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// Makes the CA and TSA certificate in `dir` unless they exist.
async fn make_certificates(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    write("openssl-tsa.cnf", TSA_CONFIG)?;
    if ["ca.crt", "tsa.crt", "tsa.key"]
        .iter()
        .all(|f| dir.join(f).is_file())
    {
        return Ok(());
    }
    write("tsa-ext.cnf", TSA_EXTENSIONS)?;
    write("tsaserial", "01\n")?;
    let ec = [
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
    ];
    openssl(dir, &[&ec[..], &["ca.key"]].concat()).await?;
    openssl(dir, &[&ec[..], &["tsa.key"]].concat()).await?;
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "3650",
            "-subj",
            "/O=Evidence Bridge devnet/CN=Evidence Bridge devnet TSA root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    )
    .await?;
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "tsa.key",
            "-out",
            "tsa.csr",
            "-subj",
            "/O=Evidence Bridge devnet/CN=Evidence Bridge devnet TSA",
        ],
    )
    .await?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "4096",
            "-days",
            "825",
            "-sha256",
            "-extfile",
            "tsa-ext.cnf",
            "-out",
            "tsa.crt",
        ],
    )
    .await?;
    Ok(())
}

struct TsaState {
    dir: PathBuf,
    /// One `openssl ts -reply` at a time: it rewrites the serial file.
    lock: Mutex<u64>,
}

/// Starts the devnet TSA for the devnet in `devnet_dir`.
pub(crate) async fn start(devnet_dir: &Path) -> Result<DevnetTsa, Failure> {
    let dir = devnet_dir.join("tsa");
    make_certificates(&dir)
        .await
        .map_err(|e| Failure::failed(format!("devnet TSA: {e}")))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Failure::failed(format!("devnet TSA: cannot listen on loopback: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::failed(format!("devnet TSA: {e}")))?;
    let state = Arc::new(TsaState {
        dir: dir.clone(),
        lock: Mutex::new(0),
    });
    let app = Router::new()
        .route("/tsa", post(answer))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(state);
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(target: "devnet::tsa", error = %e, "devnet TSA stopped");
        }
    });
    tracing::info!(target: "devnet::tsa", %addr, "devnet TSA listening");
    Ok(DevnetTsa {
        url: format!("http://{addr}/tsa"),
        root_cert: dir.join("ca.crt"),
        shutdown,
    })
}

async fn answer(State(state): State<Arc<TsaState>>, headers: HeaderMap, body: Bytes) -> Response {
    let query_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if query_type != Some("application/timestamp-query") {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send Content-Type: application/timestamp-query\n",
        )
            .into_response();
    }
    let mut n = state.lock.lock().await;
    *n += 1;
    let query = state.dir.join(format!("request-{n}.tsq"));
    if let Err(e) = tokio::fs::write(&query, &body).await {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot store the request: {e}\n"),
        )
            .into_response();
    }
    let query_arg = query.to_string_lossy().into_owned();
    let reply = openssl(
        &state.dir,
        &[
            "ts",
            "-reply",
            "-config",
            "openssl-tsa.cnf",
            "-queryfile",
            &query_arg,
        ],
    )
    .await;
    let _ = tokio::fs::remove_file(&query).await;
    match reply {
        // OpenSSL answers a request it cannot parse with a "rejection" TimeStampResp.
        Ok(der) => ([(header::CONTENT_TYPE, "application/timestamp-reply")], der).into_response(),
        Err(e) => {
            tracing::warn!(target: "devnet::tsa", error = %e, "openssl ts -reply failed");
            (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response()
        }
    }
}

/// The `[[timestamping]]` entry of the devnet's configs.
pub(crate) fn config_entry(tsa: &DevnetTsa) -> String {
    format!(
        "[[timestamping]]\nname = \"{DEVNET_TSA_NAME}\"\nurl = \"{}\"\nroot_cert = \"{}\"\ntimeout_ms = 5000\n\n",
        tsa.url,
        tsa.root_cert.display()
    )
}
