//! Lookup API load and proof generation cost, on loopback.
//!
//! ```text
//! cargo build --release -p evidence-bridge -p evidence-tests --bin bridge --bin api_load
//! target/release/api_load [--backend sqlite|postgres] [--records N] [--seconds S] [--rate R]
//!                         [--bridge target/release/bridge] [--no-proofs] [--keep DIR]
//!                         [--answer-cache-mib N (the served config's [api] answer_cache_mib; 0: off)]
//! ```
//!
//! `--keep DIR` keeps the filled store (SQLite: `DIR/store.sqlite`; PostgreSQL: the
//! database is not dropped) and writes `DIR/bridge.toml`, which `bridge serve --config
//! DIR/bridge.toml --listen ADDR` accepts, and `DIR/sample.json` = `{"destination":
//! "<CAIP-2 chain the records are mirrored on>", "record_ids": [1,000 random logged
//! record ids]}`, so anyone can start a server over a large store and measure it.
//! The destination's mirror is a real `AnchorMirror` on an anvil this run starts; with
//! `--keep` that anvil dumps its state to `DIR/anvil-state.json`, so after the run
//! `anvil --chain-id 31338 --port PORT --load-state DIR/anvil-state.json` (PORT as in
//! `DIR/bridge.toml`) brings the mirror back for bundle requests.
//!
//! 1. Fills a fresh store with N synthetic records (default 1,000,000) through the real
//!    engine (`Engine::tick_once`: index, checkpoint, attest, submit) over an in-memory
//!    source chain (1,000 anchors per block) and an in-memory destination mirror
//!    (a real `AnchorMirror` on anvil, 2-of-3 attestors): a checkpoint every 20,000 records, each signed
//!    and mirrored, then one block revoking 1,000 random anchors, checkpointed and
//!    mirrored too. Each mirrored checkpoint's acceptance is a round-trip receipt on the
//!    destination chain (also indexed, in-memory), checkpointed and mirrored back onto
//!    the source (a second `FakeMirror`), so a found lookup shows what users see: the
//!    mirror, its receipt and where the receipt is provable. So the store holds what
//!    `bridge run` would store: logged records with leaf indices, checkpoints,
//!    signatures, confirmed submissions, revokes, receipts.
//!    `--backend sqlite` (default): a SQLite file in a temporary directory;
//!    `--backend postgres`: a fresh database `eb_<pid>_…` on the server named by
//!    `EB_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
//!    vacuumed, analyzed and checkpointed after the fill (what autovacuum and the
//!    checkpointer would do next) and dropped at the end.
//! 2. Starts `bridge serve` (read-only) over it on a free loopback port.
//! 3. Drives `GET /api/v1/evidence/{digest}` at a fixed R requests/s (default 1,000) for
//!    S seconds (default 10) and reports p50/p99/max latency, then with 64 concurrent
//!    clients as fast as it answers and reports requests/s. Nine lookups in ten ask for
//!    a random stored digest (the answer must hold its record), one in ten for a random
//!    unknown digest (the answer must hold no record).
//!    Then bundles (`GET /api/v1/records/{id}/bundle?destination=eip155:31338`, which
//!    reads the mirror's attestor set from anvil): 200 req/s for S seconds (p50/p99/
//!    max), then closed-loop until 10,000 bundles were served, and the server's peak
//!    RSS after them.
//! 4. Unless `--no-proofs`: times 1,000 inclusion proofs of random leaves read from the
//!    filled store's tiles at its full size, and reports hashes (and bytes) per proof.
//!
//! It also prints how long `bridge serve` took from spawn to `/readyz` ok.
//!
//! The load generator runs on the same machine as the server and the database, so the
//! three share its cores. Targets (issue 6): p99 ≤ 10 ms at 1,000 req/s; ≥ 5,000 req/s.
//! Misses are reported.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use anyhow::{Context as _, bail};
use evidence_adapters::{
    evm_mirror::EvmMirrorClient,
    rpc::{ChainRpc, RpcConfig},
};
use evidence_relayer::{
    ChainRuntime, Engine, EngineSettings, RouteRuntime, Store,
    store::Route,
    test_db::{TestBackend, TestDb},
    testing::{DEFAULT_SUBMITTER, FakeChain, FakeEvent, FakeMirror},
};
use evidence_schemas::ChainId;
use evidence_tests::{Attestors, Devchain, MirrorSetup};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Records per checkpoint (and per engine round) while filling.
const PER_CHECKPOINT: u64 = 20_000;
/// Anchors per source block.
const PER_BLOCK: u64 = 1_000;
/// Anchors revoked after the fill.
const REVOKES: usize = 1_000;
/// One lookup in this many asks for an unknown digest.
const UNKNOWN_EVERY: u64 = 10;
/// The destination chain (an anvil with a real `AnchorMirror`).
const LEDGER: u64 = 31338;
/// Offered rate of the bundle phase's fixed-rate part (issue 12: p99 at 200 req/s).
const BUNDLE_RATE: u64 = 200;
/// Bundle requests in all before the peak RSS is read.
const BUNDLE_REQUESTS: usize = 10_000;

struct Args {
    records: u64,
    seconds: u64,
    rate: u64,
    backend: TestBackend,
    bridge: PathBuf,
    proofs: bool,
    keep: Option<PathBuf>,
    /// `[api] answer_cache_mib` of the served config (None: the default).
    answer_cache_mib: Option<usize>,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        records: 1_000_000,
        seconds: 10,
        rate: 1_000,
        backend: TestBackend::Sqlite,
        bridge: evidence_tests::workspace_root().join("target/release/bridge"),
        proofs: true,
        keep: None,
        answer_cache_mib: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--no-proofs" {
            out.proofs = false;
            continue;
        }
        let v = it.next().with_context(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--records" => out.records = v.parse().context("--records takes a number")?,
            "--seconds" => out.seconds = v.parse().context("--seconds takes a number")?,
            "--rate" => {
                out.rate = v
                    .parse()
                    .context("--rate takes a number of requests per second")?
            }
            "--bridge" => out.bridge = v.into(),
            "--keep" => out.keep = Some(v.into()),
            "--answer-cache-mib" => {
                out.answer_cache_mib = Some(v.parse().context("--answer-cache-mib takes a number")?)
            }
            "--backend" => {
                out.backend = match v.as_str() {
                    "sqlite" => TestBackend::Sqlite,
                    "postgres" => TestBackend::Postgres,
                    other => bail!("--backend is sqlite or postgres, not {other:?}"),
                }
            }
            other => bail!(
                "unknown argument {other}; use --backend sqlite|postgres, --records N, --seconds S, --rate R, \
                 --bridge PATH, --no-proofs, --keep DIR, --answer-cache-mib N"
            ),
        }
    }
    anyhow::ensure!(
        out.records > 0 && out.seconds > 0 && out.rate > 0,
        "--records, --seconds and --rate must be positive"
    );
    Ok(out)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn attestors() -> anyhow::Result<Vec<PrivateKeySigner>> {
    (1u8..=3)
        .map(|i| Ok(PrivateKeySigner::from_bytes(&B256::with_last_byte(i))?))
        .collect()
}

/// What the fill leaves behind: the anchored digests, 1,000 random logged record ids,
/// and the anvil holding the destination's real `AnchorMirror` (kept running for
/// `bridge serve`'s bundle requests).
struct Filled {
    digests: Vec<B256>,
    sample: Vec<B256>,
    anvil: Devchain,
    mirror: Address,
}

/// Fills the store at `url` with `n` anchors and [`REVOKES`] revokes through the
/// engine (see the module doc).
async fn fill(url: &str, n: u64, anvil_args: &[&str]) -> anyhow::Result<Filled> {
    let source = ChainId::eip155(31337);
    let ledger = ChainId::eip155(LEDGER);
    let chain = FakeChain::new(source.clone());
    let receipts = FakeChain::new(ledger.clone());
    let signers = attestors()?;
    // The destination: a real AnchorMirror on anvil, 2-of-3 attestors, so `bridge
    // serve` can read it for bundles.
    let anvil = Devchain::start_with_args(LEDGER, anvil_args).await?;
    let setup = MirrorSetup::deploy_with(
        &anvil,
        source.clone(),
        Attestors::from_signers(signers.clone()),
        2,
    )
    .await?;
    let rpc = ChainRpc::connect(
        &RpcConfig::new(ledger.clone(), vec![anvil.rpc_url.to_string()])
            .with_expected_chain_id(LEDGER),
    )
    .await?;
    let mirror = Arc::new(EvmMirrorClient::new(
        rpc,
        ledger.clone(),
        setup.domain.mirror,
        anvil.dev_signer(1)?,
    ));
    // The way back (receipts of the ledger onto court): an in-memory mirror.
    let back = FakeMirror::new(31337, Address::repeat_byte(0xbb));
    back.set_attestors(
        &ledger,
        signers.iter().map(PrivateKeySigner::address).collect(),
        2,
    );
    let store = Store::connect(url).await?;
    let runtime = |chain: &ChainId, name: &str, source: Arc<FakeChain>| ChainRuntime {
        chain: chain.clone(),
        name: name.into(),
        source,
        confirmations: 0,
        start_block: 1,
        batch_span: PER_CHECKPOINT / PER_BLOCK,
        fetch_span: Default::default(),
    };
    let engine = Engine::new(
        store.clone(),
        vec![
            runtime(&source, "court", chain.clone()),
            runtime(&ledger, "ledger", receipts.clone()),
        ],
        vec![
            RouteRuntime {
                source_chain: source.clone(),
                destination_chain: ledger.clone(),
                domain: setup.domain,
                mirror,
            },
            RouteRuntime {
                source_chain: ledger.clone(),
                destination_chain: source.clone(),
                domain: back.domain(),
                mirror: back.clone(),
            },
        ],
        signers,
        // A checkpoint at every round (each round adds PER_CHECKPOINT records).
        EngineSettings {
            checkpoint_interval: Duration::from_secs(3600),
            checkpoint_max_records: 1,
            ..EngineSettings::default()
        },
    )
    .await?;
    let route = Route::new(source.clone(), ledger.clone());
    let mut receipted = 0;
    let started = Instant::now();
    let mut digests = Vec::with_capacity(usize::try_from(n)?);
    let mut left = n;
    while left > 0 {
        let mut round = left.min(PER_CHECKPOINT);
        left -= round;
        while round > 0 {
            let k = round.min(PER_BLOCK);
            digests.extend(chain.mine_anchors(usize::try_from(k)?));
            round -= k;
        }
        engine.tick_once().await?;
        mine_receipt(&store, &route, &receipts, &mut receipted).await?;
    }
    let indexed = started.elapsed();
    // Revoke random anchors, in one block.
    let mut rng = StdRng::seed_from_u64(5);
    let records = chain.records(chain.head().number);
    let sample: Vec<B256> = (0..1_000)
        .map(|_| records[rng.random_range(0..records.len())].record_id())
        .collect();
    let revokes = (0..REVOKES)
        .map(|_| FakeEvent::Revoke {
            reference: records[rng.random_range(0..records.len())].record_id(),
            submitter: DEFAULT_SUBMITTER,
        })
        .collect();
    drop(records);
    chain.mine(revokes);
    // Until the whole log is mirrored and its last receipt mirrored back.
    let log_size = store.count_logged_records(&source).await? + REVOKES as u64;
    let mut rounds = 0;
    loop {
        engine.tick_once().await?;
        mine_receipt(&store, &route, &receipts, &mut receipted).await?;
        // Confirmed as the store sees it (what lookups read), not only accepted.
        let receipts_logged = store.count_logged_records(&ledger).await?;
        let back_confirmed = store
            .load_last_confirmed_submission(&Route::new(ledger.clone(), source.clone()))
            .await?
            .map(|s| s.size);
        if receipted == log_size
            && receipts_logged == receipts.records(u64::MAX).len() as u64
            && back_confirmed == Some(receipts_logged)
        {
            break;
        }
        rounds += 1;
        anyhow::ensure!(
            rounds < 50,
            "the fill did not mirror the whole log ({log_size} records; mirrored up to {receipted}) \
             and its receipts back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let view = store
        .lookup_digest(digests[0])
        .await?
        .into_iter()
        .next()
        .context("the first digest is stored")?;
    anyhow::ensure!(
        view.mirrored_on.iter().any(|m| m
            .receipt
            .as_ref()
            .is_some_and(|r| !r.provable_on.is_empty())),
        "a lookup shows no round-trip receipt provable back on court"
    );
    eprintln!(
        "filled {n} anchors + {REVOKES} revokes in {:.1} s ({:.1} s indexing the anchors); {} checkpoints \
         mirrored on a real AnchorMirror (anvil), {} round-trip receipts logged and mirrored back",
        started.elapsed().as_secs_f64(),
        indexed.as_secs_f64(),
        store.load_confirmed_submissions(&route, 0).await?.len(),
        store.count_logged_records(&ledger).await?,
    );
    if store.backend() == evidence_relayer::store::Backend::Postgres {
        // What autovacuum does shortly after a bulk load (planner statistics, visibility
        // map), done now so it does not run during the measurement.
        vacuum_analyze(url).await?;
    }
    store.close().await;
    Ok(Filled {
        digests,
        sample,
        mirror: setup.domain.mirror,
        anvil,
    })
}

/// The ledger's mirror accepting a checkpoint of court emits `CheckpointAccepted`: a
/// round-trip receipt, a record of the ledger chain, which the engine indexes,
/// checkpoints and mirrors back onto court (so lookups show receipts provable there).
/// Mines one for the newest confirmed checkpoint if it is newer than `receipted`.
async fn mine_receipt(
    store: &Store,
    route: &Route,
    receipts: &FakeChain,
    receipted: &mut u64,
) -> anyhow::Result<()> {
    let Some(sub) = store.load_last_confirmed_submission(route).await? else {
        return Ok(());
    };
    if sub.size <= *receipted {
        return Ok(());
    }
    let cp = store
        .load_checkpoint(&route.source, sub.size)
        .await?
        .context("a mirrored checkpoint is stored")?;
    receipts.mine(vec![FakeEvent::Receipt {
        source: route.source.clone(),
        size: sub.size,
        root: cp.root,
        source_block_hash: cp.source_block_hash,
    }]);
    *receipted = sub.size;
    Ok(())
}

async fn vacuum_analyze(url: &str) -> anyhow::Result<()> {
    use sqlx::{Connection as _, Executor as _};
    let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
    conn.execute("VACUUM ANALYZE").await?;
    conn.execute("CHECKPOINT").await?;
    conn.close().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    anyhow::ensure!(
        args.bridge.is_file(),
        "{} does not exist: build it (cargo build --release -p evidence-bridge) or pass --bridge",
        args.bridge.display()
    );
    let dir = tempfile::tempdir()?;
    let (db, url) = match (&args.keep, args.backend) {
        (Some(keep), TestBackend::Sqlite) => {
            std::fs::create_dir_all(keep)
                .with_context(|| format!("creating {}", keep.display()))?;
            let path = std::fs::canonicalize(keep)?.join("store.sqlite");
            anyhow::ensure!(
                !path.exists(),
                "{} exists: --keep needs a directory without a store",
                path.display()
            );
            (None, format!("sqlite://{}?mode=rwc", path.display()))
        }
        _ => {
            let db = TestDb::create(args.backend).await;
            let url = db.url.clone();
            (Some(db), url)
        }
    };
    // A kept store's anvil dumps its state every second, so the mirror can be served
    // again after this run: `anvil --chain-id 31338 --port PORT --load-state
    // DIR/anvil-state.json` with the port in DIR/bridge.toml.
    let state_file = args
        .keep
        .as_ref()
        .map(|k| k.join("anvil-state.json").display().to_string());
    let anvil_args: Vec<&str> = match &state_file {
        Some(f) => vec!["--dump-state", f, "--state-interval", "1"],
        None => Vec::new(),
    };
    let filled = fill(&url, args.records, &anvil_args).await?;
    let digests = Arc::new(filled.digests);
    let sample = Arc::new(filled.sample);
    let ledger_rpc = filled.anvil.rpc_url.to_string();
    let ledger_mirror = filled.mirror;

    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let config = dir.path().join("bridge.toml");
    // `bridge serve` opens the store read-only (SQLite: `mode=ro`).
    let store_url = url.replace("?mode=rwc", "");
    let cache = args
        .answer_cache_mib
        .map(|n| format!("answer_cache_mib = {n}\n"))
        .unwrap_or_default();
    let config_text = |listen: &str| {
        format!(
            "[store]\nurl = \"{store_url}\"\n\n[api]\nlisten = \"{listen}\"\n{cache}\n[[chains]]\nname = \"court\"\nchain_id = \"eip155:31337\"\nrpc = [\"http://127.0.0.1:9\"]\nregistry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nmirror = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\n\n[[chains]]\nname = \"ledger\"\nchain_id = \"eip155:31338\"\nrpc = [\"{ledger_rpc}\"]\nregistry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nmirror = \"{ledger_mirror:#x}\"\n",
        )
    };
    std::fs::write(&config, config_text(&format!("127.0.0.1:{port}")))?;
    if let Some(keep) = &args.keep {
        std::fs::write(keep.join("bridge.toml"), config_text("127.0.0.1:8080"))?;
        let ids: Vec<String> = sample.iter().map(|id| format!("{id:#x}")).collect();
        let json = serde_json::json!({ "destination": "eip155:31338", "record_ids": ids });
        std::fs::write(keep.join("sample.json"), serde_json::to_vec_pretty(&json)?)?;
        eprintln!(
            "kept the store: {} (bridge.toml, sample.json)",
            keep.display()
        );
    }
    let mut server = Command::new(&args.bridge)
        .args(["serve", "--config"])
        .arg(&config)
        .env("BRIDGE_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("starting bridge serve")?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let spawned = Instant::now();
    loop {
        let ready = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "bridge serve did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "bridge serve: start to /readyz ok in {:.0} ms",
        spawned.elapsed().as_secs_f64() * 1e3
    );
    let mut result = drive(&client, &base, &digests, args.seconds, args.rate).await;
    let peak_rss = || {
        std::fs::read_to_string(format!("/proc/{}/status", server.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into())
    };
    // Peak resident memory of `bridge serve` (Linux).
    println!("bridge serve peak RSS after the lookups: {}", peak_rss());
    if result.is_ok() {
        result = bundles(&client, &base, &sample, args.seconds).await;
        println!(
            "bridge serve peak RSS after the lookups and {BUNDLE_REQUESTS} bundle requests: {}",
            peak_rss()
        );
    }
    let _ = server.kill();
    let _ = server.wait();
    let result = match (result, args.proofs) {
        (Ok(()), true) => proofs(&url).await,
        (r, _) => r,
    };
    if args.keep.is_some() {
        // A kept PostgreSQL database is not dropped.
        std::mem::forget(db);
    } else {
        drop(db);
    }
    result
}

/// A lookup to make: a stored digest (its record must come back) or an unknown one.
#[derive(Clone, Copy)]
struct Ask {
    digest: B256,
    stored: bool,
}

fn pick(rng: &mut StdRng, digests: &[B256]) -> Ask {
    if rng.random_range(0..UNKNOWN_EVERY) == 0 {
        Ask {
            digest: B256::from(rng.random::<[u8; 32]>()),
            stored: false,
        }
    } else {
        Ask {
            digest: digests[rng.random_range(0..digests.len())],
            stored: true,
        }
    }
}

async fn lookup(client: &reqwest::Client, base: &str, ask: Ask) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let res = client
        .get(format!("{base}/api/v1/evidence/{}", ask.digest))
        .send()
        .await?;
    anyhow::ensure!(
        res.status().is_success(),
        "lookup answered {}",
        res.status()
    );
    let body = res.bytes().await?;
    let elapsed = started.elapsed();
    let found = body.windows(12).any(|w| w == b"\"record_id\":");
    anyhow::ensure!(
        found == ask.stored,
        "lookup of {} digest {} answered {}",
        if ask.stored { "stored" } else { "unknown" },
        ask.digest,
        String::from_utf8_lossy(&body)
    );
    Ok(elapsed)
}

/// Lookups at a fixed `rate` for `seconds`, each on its own task: the latencies, counted
/// from when each request was due (so a late load generator shows up as latency, not
/// as a lower offered rate), and the offered rate achieved.
async fn fixed_rate(
    client: &reqwest::Client,
    base: &str,
    digests: &[B256],
    seconds: u64,
    rate: u64,
    seed: u64,
) -> anyhow::Result<(Vec<Duration>, f64)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let total = seconds * rate;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = Vec::with_capacity(usize::try_from(total)?);
    let started = tokio::time::Instant::now();
    for i in 0..total {
        let due = started + period.mul_f64(i as f64);
        tokio::time::sleep_until(due).await;
        let ask = pick(&mut rng, digests);
        let (c, b) = (client.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let late = due.elapsed();
            lookup(&c, &b, ask).await.map(|t| t + late)
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await??);
    }
    let offered = total as f64 / started.elapsed().as_secs_f64();
    lat.sort_unstable();
    Ok((lat, offered))
}

async fn drive(
    client: &reqwest::Client,
    base: &str,
    digests: &Arc<Vec<B256>>,
    seconds: u64,
    rate: u64,
) -> anyhow::Result<()> {
    // Warm-up (not counted): connections opened, the database's pages cached.
    fixed_rate(client, base, digests, 2, rate, 1).await?;
    let (lat, offered) = fixed_rate(client, base, digests, seconds, rate, 7).await?;
    println!(
        "fixed rate: {} lookups at {offered:.0} req/s offered: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 <= 10 ms at 1,000 req/s)",
        lat.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );

    // Max rate: 64 clients in closed loops.
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for w in 0..64u64 {
        let (c, b, ds) = (client.clone(), base.to_owned(), digests.clone());
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(100 + w);
            let mut lat = Vec::new();
            while Instant::now() < until {
                lat.push(lookup(&c, &b, pick(&mut rng, &ds)).await?);
            }
            anyhow::Ok(lat)
        }));
    }
    let started = Instant::now();
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "max rate: {} lookups in {elapsed:.1} s = {:.0} req/s with 64 concurrent clients (p50 {:.2} ms, p99 {:.2} ms) (target >= 5,000)",
        lat.len(),
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
    );
    Ok(())
}

/// One `GET /api/v1/records/{id}/bundle?destination=eip155:31338`: the bundle must
/// come back (200, with its inclusion proof).
async fn bundle(client: &reqwest::Client, base: &str, id: B256) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let res = client
        .get(format!(
            "{base}/api/v1/records/{id}/bundle?destination=eip155:{LEDGER}"
        ))
        .send()
        .await?;
    let status = res.status();
    let body = res.bytes().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        status.is_success() && body.windows(18).any(|w| w == b"\"inclusion_proof\":"),
        "bundle of {id} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(elapsed)
}

/// Bundles of random sampled records: [`BUNDLE_RATE`] req/s for `seconds` (latency
/// from when each request was due), then 8 closed-loop clients until
/// [`BUNDLE_REQUESTS`] were made in all.
async fn bundles(
    client: &reqwest::Client,
    base: &str,
    sample: &Arc<Vec<B256>>,
    seconds: u64,
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(13);
    let total = seconds * BUNDLE_RATE;
    let period = Duration::from_secs_f64(1.0 / BUNDLE_RATE as f64);
    let mut tasks = Vec::new();
    let started = tokio::time::Instant::now();
    for i in 0..total {
        let due = started + period.mul_f64(i as f64);
        tokio::time::sleep_until(due).await;
        let id = sample[rng.random_range(0..sample.len())];
        let (c, b) = (client.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let late = due.elapsed();
            bundle(&c, &b, id).await.map(|t| t + late)
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await??);
    }
    let offered = total as f64 / started.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "bundles: {} at {offered:.0} req/s offered: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 <= 10 ms at 200 req/s)",
        lat.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    let left = BUNDLE_REQUESTS.saturating_sub(lat.len());
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..8usize {
        let (c, b, ids) = (client.clone(), base.to_owned(), sample.clone());
        let share = left / 8 + usize::from(w < left % 8);
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(200 + w as u64);
            for _ in 0..share {
                bundle(&c, &b, ids[rng.random_range(0..ids.len())]).await?;
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    println!(
        "bundles: {left} more with 8 concurrent clients in {:.1} s = {:.0} req/s",
        started.elapsed().as_secs_f64(),
        left as f64 / started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Inclusion proofs read from the filled store's tiles at its full size: time per
/// proof (one statement each) and hashes per proof (log2 n).
async fn proofs(url: &str) -> anyhow::Result<()> {
    let store = Store::connect_read_only(&url.replace("?mode=rwc", "")).await?;
    let chain = ChainId::eip155(31337);
    let n = store.tiled_size(&chain).await?;
    let mut rng = StdRng::seed_from_u64(11);
    let reps = 1_000u32;
    let started = Instant::now();
    let mut hashes = 0usize;
    for _ in 0..reps {
        let leaf = rng.random_range(0..n);
        hashes += store.load_inclusion_proof(&chain, leaf, n).await?.len();
    }
    let per = started.elapsed() / reps;
    println!(
        "stored proof at {n} leaves: {:.1} us per inclusion proof read from the tiles ({:.1} hashes = {:.0} bytes on average)",
        per.as_secs_f64() * 1e6,
        hashes as f64 / f64::from(reps),
        hashes as f64 * 32.0 / f64::from(reps),
    );
    store.close().await;
    Ok(())
}
