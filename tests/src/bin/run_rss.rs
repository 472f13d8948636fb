//! Memory and speed of `bridge run` while it indexes a long history from a real node.
//!
//! ```text
//! cargo build --release -p evidence-bridge -p evidence-tests --bin bridge --bin run_rss
//! target/release/run_rss [--records N] [--per-block K] [--bridge target/release/bridge] [--keep DIR]
//!                         [--follow BLOCKS]
//! ```
//!
//! 1. Starts a two-chain devnet (`bridge devnet up`: anvil chains alpha and beta with
//!    our contracts, 1 s blocks) in a temporary folder (or `DIR` with `--keep`).
//! 2. Deploys `BulkAnchorer` (deploy/contracts/test/BulkAnchorer.sol) on alpha and
//!    anchors N digests (default 1,000,000) through alpha's real `EvidenceRegistry`,
//!    K per transaction and block (default 1,000; each block is mined with `evm_mine`,
//!    a dev-node method, benchmark only): a history of N genuine `Anchored` events.
//! 3. Starts `bridge run` on the devnet's `bridge.toml` (every stage: index, checkpoint,
//!    attest, submit to beta's mirror, receipts) and samples its resident memory
//!    (`/proc/PID/status`: VmRSS, and VmHWM, the kernel's peak) every 250 ms until
//!    `bridge status` shows alpha's log holding all N records, then reports the time,
//!    the rate and the memory at each quarter of the way.
//!
//! With `--follow BLOCKS`, `bridge run` starts before the history and indexes it while
//! it is mined: the miner waits whenever it is more than BLOCKS blocks ahead of
//! alpha's log, and alpha's anvil keeps the transactions (and so the logs) of only its
//! last `2 × BLOCKS + 200` blocks (`--transaction-block-keeper`, through a wrapper
//! script handed to `bridge devnet up --anvil`). anvil otherwise keeps every log in
//! memory — about 2 GB a million events — so this is how a 10 M history fits on one
//! machine. The bridge is unchanged: it reads the same standard JSON-RPC, only nearer
//! the head.
//!
//! Run it at two sizes (e.g. 1 M and 10 M, in the same mode): the issue's goal is a peak RSS ≤ 200 MB,
//! within 10 % between them (memory independent of the log's size). anvil's own memory
//! grows with the history (it keeps every log); it is printed too. No figure is asserted.

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder as _,
    primitives::{Address, B256, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    sol_types::SolCall as _,
};
use anyhow::{Context as _, bail, ensure};
use evidence_tests::{
    contracts::{BulkAnchorer, EvidenceRegistry},
    devchain::{anvil_bin, workspace_root},
};

struct Args {
    records: u64,
    per_block: u64,
    bridge: PathBuf,
    keep: Option<PathBuf>,
    follow: Option<u64>,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        records: 1_000_000,
        per_block: 1_000,
        bridge: workspace_root().join("target/release/bridge"),
        keep: None,
        follow: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--records" => out.records = value("--records")?.parse().context("--records")?,
            "--per-block" => {
                out.per_block = value("--per-block")?.parse().context("--per-block")?
            }
            "--bridge" => out.bridge = value("--bridge")?.into(),
            "--keep" => out.keep = Some(value("--keep")?.into()),
            "--follow" => {
                out.follow = Some(
                    value("--follow")?
                        .parse()
                        .context("--follow takes a number of blocks")?,
                )
            }
            "-h" | "--help" => {
                println!(
                    "run_rss [--records N (1000000)] [--per-block K (1000)] [--bridge PATH] [--keep DIR] [--follow BLOCKS]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    ensure!(out.records > 0, "--records must be at least 1");
    ensure!(
        (1..=4_000).contains(&out.per_block),
        "--per-block is 1 to 4000 (a block's gas limit holds about 4,000 anchors)"
    );
    ensure!(
        out.follow.is_none_or(|b| b >= 10),
        "--follow is at least 10 blocks (the bridge needs room to confirm and fetch)"
    );
    ensure!(
        out.bridge.is_file(),
        "no bridge binary at {} (build it, or pass --bridge)",
        out.bridge.display()
    );
    Ok(out)
}

/// A child process killed (with its process group's anvil children) on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        // SIGINT lets `bridge devnet up` stop its anvil nodes; then make sure.
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `(VmRSS, VmHWM)` of `pid` in kB.
fn rss_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The pid of the anvil listening on `port` (found by its command line).
fn anvil_pid(port: u16) -> Option<u32> {
    let want = port.to_string();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let parts: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
        let is_anvil = parts.first().is_some_and(|p| p.ends_with(b"anvil"));
        let on_port = parts
            .windows(2)
            .any(|w| (w[0] == b"--port" || w[0] == b"-p") && w[1] == want.as_bytes());
        (is_anvil && on_port).then_some(pid)
    })
}

/// The value of `key = "…"` (or `key = ["…"]`) in the `[[chains]]` table named `name`
/// of a `bridge.toml` the devnet wrote.
fn chain_key(toml: &str, name: &str, key: &str) -> anyhow::Result<String> {
    let table = toml
        .split("[[chains]]")
        .find(|t| t.lines().any(|l| l.trim() == format!("name = \"{name}\"")))
        .with_context(|| format!("no [[chains]] named {name} in the devnet's bridge.toml"))?;
    let line = table
        .lines()
        .find(|l| l.split('=').next().is_some_and(|k| k.trim() == key))
        .with_context(|| format!("chain {name} has no `{key}`"))?;
    let value = line.split_once('=').map_or("", |(_, v)| v);
    Ok(value
        .trim()
        .trim_matches(|c| c == '[' || c == ']' || c == '"')
        .to_owned())
}

/// Starts `bridge devnet up` in `dir` and waits until it is ready.
fn start_devnet(
    bridge: &Path,
    anvil: &Path,
    dir: &Path,
    first_port: u16,
) -> anyhow::Result<Killed> {
    let mut child = Command::new(bridge)
        .args(["devnet", "up", "--dir"])
        .arg(dir)
        .args(["--chains", "2", "--block-time", "1", "--first-port"])
        .arg(first_port.to_string())
        .args(["--first-chain-id", "41000", "--anvil"])
        .arg(anvil)
        .env("BRIDGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("spawning bridge devnet up")?;
    let stdout = child.stdout.take().context("devnet stdout")?;
    let child = Killed(child);
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("running until interrupted") => break,
            Some(Ok(_)) => {}
            _ => bail!("the devnet exited before it was ready"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Ok(child)
}

/// An executable script in `dir` that runs anvil keeping the transactions of only its
/// last `blocks` blocks in memory (`--follow`).
fn pruning_anvil(dir: &Path, blocks: u64) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let real = anvil_bin()?;
    let real = real.to_str().context("anvil's path is not UTF-8")?;
    ensure!(!real.contains('\''), "anvil's path {real:?} holds a quote");
    let script = dir.join("anvil-pruning");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nexec '{real}' --transaction-block-keeper {blocks} \"$@\"\n"),
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    Ok(script)
}

/// Starts `bridge run` on the devnet's config, its log in `dir/run.log`.
fn spawn_run(bridge: &Path, dir: &Path, config: &Path) -> anyhow::Result<Killed> {
    let env: Vec<(String, String)> = std::fs::read_to_string(dir.join("devnet.env"))?
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let log = std::fs::File::create(dir.join("run.log"))?;
    Ok(Killed(
        Command::new(bridge)
            .args(["run", "--config"])
            .arg(config)
            .envs(env)
            .env("BRIDGE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("spawning bridge run")?,
    ))
}

/// Alpha's evidence records in its log, from `bridge status --json` (log size less
/// the round-trip receipts).
fn evidence_logged(bridge: &Path, config: &Path) -> anyhow::Result<u64> {
    let out = Command::new(bridge)
        .args(["status", "--json", "--config"])
        .arg(config)
        .env("BRIDGE_LOG", "error")
        .output()
        .context("bridge status")?;
    ensure!(
        out.status.success(),
        "bridge status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let chain = status
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "alpha"))
        .context("no chain alpha in bridge status")?;
    let size = chain["log_size"].as_u64().context("log_size")?;
    let receipts = chain["receipts_logged"]
        .as_u64()
        .context("receipts_logged")?;
    Ok(size - receipts)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let tmp = tempfile::tempdir()?;
    let dir = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => tmp.path().to_path_buf(),
    };
    let first_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port().min(60_000)
    };
    let anvil = match args.follow {
        Some(blocks) => pruning_anvil(&dir, 2 * blocks + 200)?,
        None => anvil_bin()?,
    };
    let _devnet = start_devnet(&args.bridge, &anvil, &dir, first_port)?;
    let config = dir.join("bridge.toml");
    let toml = std::fs::read_to_string(&config)?;
    let rpc = chain_key(&toml, "alpha", "rpc")?;
    let registry: Address = chain_key(&toml, "alpha", "registry")?.parse()?;
    let alpha_port: u16 = rpc
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .context("alpha's rpc URL has no port")?;
    println!(
        "devnet in {}; alpha {rpc}, registry {registry}",
        dir.display()
    );

    // ------------------------------------------------------------------ history
    let provider = ProviderBuilder::new().connect_http(rpc.parse()?).erased();
    let accounts = provider.get_accounts().await?;
    let from = *accounts
        .get(5)
        .context("anvil has fewer than 6 dev accounts")?;
    let deployed = provider
        .send_transaction(
            TransactionRequest::default()
                .with_from(from)
                .with_deploy_code(BulkAnchorer::BYTECODE.clone()),
        )
        .await?;
    provider
        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await?;
    let bulk = deployed
        .get_receipt()
        .await?
        .contract_address
        .context("BulkAnchorer was not deployed")?;
    let seed = B256::repeat_byte(0x5e);
    let call = |first: u64, count: u64| {
        BulkAnchorer::anchorManyCall {
            registry,
            seed,
            first: U256::from(first),
            count: U256::from(count),
        }
        .abi_encode()
    };
    let request = |first: u64, count: u64| {
        TransactionRequest::default()
            .with_from(from)
            .with_to(bulk)
            .with_input(call(first, count))
    };
    let gas = provider
        .estimate_gas(request(0, args.per_block))
        .await
        .context("estimating a block of anchors")?;
    // With --follow, `bridge run` indexes while the history is mined.
    let mut run = None;
    if args.follow.is_some() {
        run = Some((spawn_run(&args.bridge, &dir, &config)?, Instant::now()));
    }
    let mut logged_seen = 0u64;
    let mut last_status = Instant::now();
    let mining = Instant::now();
    let mut done = 0u64;
    let mut next_report = 0u64;
    while done < args.records {
        if let (Some(blocks), Some((r, started))) = (args.follow, &run) {
            // Stay within `blocks` blocks of the bridge's log (the devnet's own
            // anchors are a few; ignored), polling its status at most every 500 ms;
            // once over, wait until half of that is left.
            let ahead = |logged: u64| done.saturating_sub(logged) / args.per_block;
            if ahead(logged_seen) > blocks || last_status.elapsed() > Duration::from_secs(5) {
                let mut over = false;
                loop {
                    ensure!(
                        rss_kb(r.0.id()).is_some(),
                        "bridge run exited; see {}",
                        dir.join("run.log").display()
                    );
                    let wait = Duration::from_millis(500).saturating_sub(last_status.elapsed());
                    tokio::time::sleep(wait).await;
                    last_status = Instant::now();
                    match evidence_logged(&args.bridge, &config) {
                        Ok(n) => logged_seen = n,
                        Err(_) if started.elapsed() < Duration::from_secs(30) => {}
                        Err(e) => return Err(e),
                    }
                    over |= ahead(logged_seen) > blocks;
                    if !over || ahead(logged_seen) <= blocks / 2 {
                        break;
                    }
                }
            }
        }
        let count = args.per_block.min(args.records - done);
        let pending = provider
            .send_transaction(request(done, count).with_gas_limit(gas + gas / 4))
            .await?;
        provider
            .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await?;
        let receipt = pending.get_receipt().await?;
        ensure!(receipt.status(), "anchorMany reverted at {done}");
        done += count;
        if done >= next_report {
            let bridge = run.as_ref().and_then(|(r, _)| rss_kb(r.0.id()));
            println!(
                "  anchored {done} in {:.1} s (anvil RSS {:.0} MB){}",
                mining.elapsed().as_secs_f64(),
                anvil_pid(alpha_port)
                    .and_then(rss_kb)
                    .map_or(0.0, |(r, _)| mb(r)),
                bridge.map_or(String::new(), |(r, h)| format!(
                    "; bridge run: {logged_seen} logged, RSS {:.1} MB, peak so far {:.1} MB",
                    mb(r),
                    mb(h)
                ))
            );
            next_report += (args.records / 10).max(1);
        }
    }
    let registry_view = EvidenceRegistry::new(registry, provider.clone());
    let total = registry_view.nextSeq().call().await? - 1;
    let mined = mining.elapsed();
    println!(
        "history: {total} Anchored events in {:.1} s = {:.0}/s ({} per block)",
        mined.as_secs_f64(),
        total as f64 / mined.as_secs_f64(),
        args.per_block
    );

    // ------------------------------------------------------------------ bridge run
    let (run, started) = match run {
        Some(r) => r,
        None => (spawn_run(&args.bridge, &dir, &config)?, Instant::now()),
    };
    let pid = run.0.id();
    let mut peak_sampled = 0u64;
    let mut last_poll = Instant::now() - Duration::from_secs(10);
    let mut quarter = 1u64;
    let logged = loop {
        if let Some((rss, _)) = rss_kb(pid) {
            peak_sampled = peak_sampled.max(rss);
        } else {
            bail!("bridge run exited; see {}", dir.join("run.log").display());
        }
        if last_poll.elapsed() >= Duration::from_secs(2) {
            last_poll = Instant::now();
            // `bridge run` creates and migrates the store as it starts; a status that
            // races it fails, so failures are retried during the first 30 s.
            let n = match evidence_logged(&args.bridge, &config) {
                Ok(n) => n,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    eprintln!("  (status not ready yet: {e:#})");
                    continue;
                }
                Err(e) => return Err(e),
            };
            while quarter <= 4 && n >= total * quarter / 4 {
                let (rss, hwm) = rss_kb(pid).unwrap_or_default();
                println!(
                    "  {:>3} %: {n} records logged after {:.1} s; RSS {:.1} MB, peak so far {:.1} MB",
                    quarter * 25,
                    started.elapsed().as_secs_f64(),
                    mb(rss),
                    mb(hwm)
                );
                quarter += 1;
            }
            if n >= total {
                break n;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let took = started.elapsed();
    let (rss, hwm) = rss_kb(pid).unwrap_or_default();
    let store = std::fs::metadata(dir.join("bridge.sqlite")).map_or(0, |m| m.len());
    println!(
        "bridge run{}: {logged} records indexed and logged in {:.1} s = {:.0} records/s (from spawn, status polled every 2 s)",
        args.follow.map_or(String::new(), |b| format!(
            " (following the miner, at most {b} blocks behind)"
        )),
        took.as_secs_f64(),
        logged as f64 / took.as_secs_f64()
    );
    println!(
        "bridge run peak RSS while indexing: {:.1} MB (VmHWM; sampled max {:.1} MB; now {:.1} MB); store {:.0} MB",
        mb(hwm),
        mb(peak_sampled),
        mb(rss),
        store as f64 / 1e6
    );
    if let Some((a, _)) = anvil_pid(alpha_port).and_then(rss_kb) {
        println!("alpha's anvil RSS: {:.0} MB", mb(a));
    }
    drop(run);
    Ok(())
}
