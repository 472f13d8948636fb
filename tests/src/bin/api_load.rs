//! Lookup API load and proof generation cost, on loopback.
//!
//! ```text
//! cargo build --release -p evidence-bridge -p evidence-tests --bin bridge --bin api_load
//! target/release/api_load [--records N] [--bridge target/release/bridge] [--seconds S]
//! ```
//!
//! 1. Fills a fresh SQLite store with N synthetic records (default 1,000,000) through
//!    the real engine's index stage (in-memory source chain, 1,000 anchors per block,
//!    the store's confirmed-batch insert path).
//! 2. Starts `bridge serve` (read-only) over it on a free loopback port.
//! 3. Drives `GET /api/v1/evidence/{digest}` for random stored digests at a fixed
//!    1,000 requests/s for S seconds (default 10) and reports p50/p99/max latency, then
//!    with 64 concurrent clients as fast as it answers and reports requests/s.
//! 4. Times inclusion-proof generation from the RFC 6962 log at 1 M and 10 M leaves
//!    (tree built once, proofs for 1,000 random leaves), and `build_proof_bundle`-style
//!    cost from the store is discussed in docs/BENCHMARKS.md.
//!
//! Targets (issue 6): p99 ≤ 10 ms at 1,000 req/s; ≥ 5,000 req/s. Misses are reported.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use evidence_relayer::{ChainRuntime, Engine, EngineSettings, Store, testing::FakeChain};
use evidence_schemas::{ChainId, log::MerkleLog};
use rand::{Rng, SeedableRng, rngs::StdRng};

struct Args {
    records: u64,
    seconds: u64,
    bridge: PathBuf,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args { records: 1_000_000, seconds: 10, bridge: evidence_tests::workspace_root().join("target/release/bridge") };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().with_context(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--records" => out.records = v.parse().context("--records takes a number")?,
            "--seconds" => out.seconds = v.parse().context("--seconds takes a number")?,
            "--bridge" => out.bridge = v.into(),
            other => bail!("unknown argument {other}; use --records N, --seconds S, --bridge PATH"),
        }
    }
    Ok(out)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn fill(url: &str, n: u64) -> anyhow::Result<Vec<alloy::primitives::B256>> {
    let chain_id = ChainId::eip155(31337);
    let chain = FakeChain::new(chain_id.clone());
    let mut digests = Vec::with_capacity(n as usize);
    let per_block = 1_000u64;
    let mut left = n;
    while left > 0 {
        let k = left.min(per_block);
        digests.extend(chain.mine_anchors(k as usize));
        left -= k;
    }
    let store = Store::connect(url).await?;
    let engine = Engine::new(
        store.clone(),
        vec![ChainRuntime { chain: chain_id.clone(), name: "court".into(), source: chain.clone(), confirmations: 0, start_block: 1, batch_span: 20 }],
        Vec::new(),
        Vec::new(),
        EngineSettings { checkpoint_max_records: u64::MAX, checkpoint_interval: Duration::from_secs(3600), ..EngineSettings::default() },
    )
    .await?;
    let started = Instant::now();
    while store.count_logged_records(&chain_id).await? < n {
        engine.tick_index(&chain_id).await?;
    }
    eprintln!("filled {n} records in {:.1} s", started.elapsed().as_secs_f64());
    store.close().await;
    Ok(digests)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    anyhow::ensure!(args.bridge.is_file(), "{} does not exist: build it (cargo build --release -p evidence-bridge) or pass --bridge", args.bridge.display());
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bridge.sqlite");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let digests = Arc::new(fill(&url, args.records).await?);

    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let config = dir.path().join("bridge.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n\n[api]\nlisten = \"127.0.0.1:{port}\"\n\n[[chains]]\nname = \"court\"\nchain_id = \"eip155:31337\"\nrpc = [\"http://127.0.0.1:9\"]\nregistry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nmirror = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\n",
            db.display()
        ),
    )?;
    let mut server = Command::new(&args.bridge)
        .args(["serve", "--config"])
        .arg(&config)
        .env("BRIDGE_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("starting bridge serve")?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        anyhow::ensure!(Instant::now() < deadline, "bridge serve did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = drive(&client, &base, &digests, args.seconds).await;
    let _ = server.kill();
    let _ = server.wait();
    result?;
    proofs();
    Ok(())
}

async fn lookup(client: &reqwest::Client, base: &str, digest: alloy::primitives::B256) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let res = client.get(format!("{base}/api/v1/evidence/{digest}")).send().await?;
    anyhow::ensure!(res.status().is_success(), "lookup answered {}", res.status());
    let body = res.bytes().await?;
    anyhow::ensure!(body.len() > 100, "lookup found nothing for a stored digest");
    Ok(started.elapsed())
}

async fn drive(client: &reqwest::Client, base: &str, digests: &Arc<Vec<alloy::primitives::B256>>, seconds: u64) -> anyhow::Result<()> {
    // Fixed rate: one request every millisecond, each on its own task.
    let mut rng = StdRng::seed_from_u64(7);
    let total = seconds * 1_000;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total as usize);
    let started = Instant::now();
    for _ in 0..total {
        tick.tick().await;
        let d = digests[rng.random_range(0..digests.len())];
        let (c, b) = (client.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move { lookup(&c, &b, d).await }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await??);
    }
    let offered = total as f64 / started.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "fixed rate: {total} lookups at {offered:.0} req/s offered: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 <= 10 ms)",
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
            let mut rng = StdRng::seed_from_u64(w);
            let mut n = 0u64;
            while Instant::now() < until {
                lookup(&c, &b, ds[rng.random_range(0..ds.len())]).await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let started = Instant::now();
    let mut done = 0;
    for w in workers {
        done += w.await??;
    }
    println!(
        "max rate: {done} lookups in {:.1} s = {:.0} req/s with 64 concurrent clients (target >= 5,000)",
        started.elapsed().as_secs_f64(),
        done as f64 / started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn proofs() {
    let mut rng = StdRng::seed_from_u64(11);
    for n in [1_000_000u64, 10_000_000] {
        let ids: Vec<_> = (0..n).map(|i| alloy::primitives::keccak256(i.to_be_bytes())).collect();
        let built = Instant::now();
        let log = MerkleLog::from_record_ids(&ids);
        let build = built.elapsed();
        drop(ids);
        let reps = 1_000;
        let started = Instant::now();
        let mut hashes = 0usize;
        for _ in 0..reps {
            let leaf = rng.random_range(0..n);
            hashes += log.inclusion_proof(leaf, n).map(|p| p.len()).unwrap_or(0);
        }
        let per = started.elapsed() / reps;
        println!(
            "proof at {n} leaves: {:.1} us per inclusion proof ({:.1} hashes on average; tree build {:.1} s, once)",
            per.as_secs_f64() * 1e6,
            hashes as f64 / f64::from(reps),
            build.as_secs_f64()
        );
    }
}
