//! End-to-end latency of the real `bridge` binary: from anchoring a file on `alpha` to
//! `bridge proof --to beta` succeeding (the record is in a checkpoint mirrored on beta).
//!
//! ```text
//! cargo run --release -p evidence-tests --bin latency -- [--samples 20]
//! ```
//!
//! Runs `bridge devnet up` (2 chains, 1 s blocks, free ports) and `bridge run` with the
//! devnet's keys, then per sample: `bridge anchor --chain alpha --file F --json` (t_start
//! before it, t0 when it returns, i.e. the transaction is mined), and `bridge proof ID
//! --to beta` every 200 ms until it succeeds (t1 = when the successful call returns).
//! Reports p50/p95/max of t1 - t0 and of t1 - t_start.
//!
//! The binary is `$BRIDGE_BIN`, else the `bridge` of this binary's own profile (its sibling in `target/<profile>/`).
//! Child processes (devnet, relayer) get SIGTERM on exit, SIGKILL if they linger.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail, ensure};

const BLOCK_TIME: u64 = 1;
const POLL: Duration = Duration::from_millis(200);
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(180);

fn bridge_bin() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("BRIDGE_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        ensure!(p.is_file(), "BRIDGE_BIN={} does not exist", p.display());
        return Ok(p);
    }
    // The `bridge` built with this binary's own profile: `target/<profile>/latency` sits
    // next to `target/<profile>/bridge`.
    let exe = std::env::current_exe()?;
    let p = exe.with_file_name(format!("bridge{}", std::env::consts::EXE_SUFFIX));
    ensure!(
        p.is_file(),
        "no bridge binary at {}: build the workspace with the same profile (`cargo build --workspace --release`) or set BRIDGE_BIN",
        p.display()
    );
    Ok(p)
}

/// `n` consecutive free TCP ports (the devnet numbers its chains' ports consecutively).
fn free_ports(n: u16) -> anyhow::Result<u16> {
    for _ in 0..200 {
        let base = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(0);
        if base == 0 || base > 65_000 {
            continue;
        }
        if (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return Ok(base);
        }
    }
    bail!("no {n} consecutive free ports found")
}

/// A child process stopped on drop: SIGTERM, then SIGKILL after 10 s.
struct Guard {
    name: &'static str,
    child: Child,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop after SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Net {
    bin: PathBuf,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Net {
    fn config(&self) -> String {
        self.dir.join("bridge.toml").display().to_string()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("BRIDGE_LOG", "warn");
        cmd
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, values: &[f64]) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    println!(
        "{:<40} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
        name,
        percentile(&v, 50.0),
        percentile(&v, 95.0),
        v.last().copied().unwrap_or(f64::NAN),
        v.first().copied().unwrap_or(f64::NAN),
    );
}

fn main() -> anyhow::Result<()> {
    let mut samples = 20usize;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--samples" => {
                samples = it
                    .next()
                    .context("--samples needs a value")?
                    .parse()
                    .context("--samples takes a number")?;
            }
            "-h" | "--help" => {
                println!("latency [--samples N (20)]");
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    ensure!(samples > 0, "--samples must be at least 1");

    let bin = bridge_bin()?;
    let dir = tempfile::tempdir()?;
    let first_port = free_ports(2)?;
    let first_chain_id = 40_000 + u64::from(first_port);
    println!(
        "bridge {}; devnet in {}",
        bin.display(),
        dir.path().display()
    );
    let mut child = Command::new(&bin)
        .args(["devnet", "up", "--dir"])
        .arg(dir.path())
        .args(["--chains", "2", "--block-time", &BLOCK_TIME.to_string()])
        .args(["--first-port", &first_port.to_string()])
        .args(["--first-chain-id", &first_chain_id.to_string()])
        .arg("--anvil")
        .arg(evidence_tests::devchain::anvil_bin()?)
        .env("BRIDGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("spawning bridge devnet up")?;
    let stdout = child.stdout.take().context("devnet stdout")?;
    let _devnet = Guard {
        name: "bridge devnet up",
        child,
    };
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("running until interrupted") => break,
            Some(Ok(_)) => {}
            _ => bail!("devnet exited before it was ready"),
        }
        ensure!(Instant::now() < deadline, "devnet not ready after 90 s");
    }
    std::thread::spawn(move || for _ in lines {});
    let env = std::fs::read_to_string(dir.path().join("devnet.env"))?
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let net = Net {
        bin,
        dir: dir.path().to_path_buf(),
        env,
    };
    let config = net.config();
    // The settings that bound the latency.
    for line in std::fs::read_to_string(&config)?.lines() {
        let l = line.trim();
        if [
            "poll_interval",
            "checkpoint_",
            "confirmations",
            "max_block_span",
        ]
        .iter()
        .any(|k| l.starts_with(k))
        {
            println!("  config: {l}");
        }
    }

    let log = std::fs::File::create(dir.path().join("run.log"))?;
    let relayer = net
        .command(&["run", "--config", &config])
        .env("BRIDGE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("spawning bridge run")?;
    let _relayer = Guard {
        name: "bridge run",
        child: relayer,
    };

    println!(
        "\n{:>3} {:>9} {:>12} {:>12} {:>7}",
        "#", "anchor s", "t1-t0 s", "total s", "polls"
    );
    let mut anchor_s = Vec::new();
    let mut after_mined = Vec::new();
    let mut total = Vec::new();
    let mut proof_call_s = Vec::new();
    for i in 0..samples {
        let file = dir.path().join(format!("doc-{i}.txt"));
        std::fs::write(
            &file,
            format!("latency sample {i} {}", rand::random::<u64>()),
        )?;
        let t_start = Instant::now();
        let out = net
            .command(&[
                "anchor",
                "--config",
                &config,
                "--chain",
                "alpha",
                "--file",
                &file.display().to_string(),
                "--kind",
                "bench",
                "--json",
            ])
            .output()
            .context("bridge anchor")?;
        let t0 = Instant::now();
        ensure!(
            out.status.success(),
            "bridge anchor failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("bridge anchor printed no JSON")?;
        let record_id = v["record_id"]
            .as_str()
            .context("anchor JSON has no record_id")?
            .to_owned();
        let bundle = dir.path().join(format!("bundle-{i}.json"));
        let mut polls = 0u32;
        let t1 = loop {
            let t = Instant::now();
            let o = net
                .command(&[
                    "proof",
                    "--config",
                    &config,
                    &record_id,
                    "--to",
                    "beta",
                    "-o",
                    &bundle.display().to_string(),
                ])
                .output()
                .context("bridge proof")?;
            polls += 1;
            let now = Instant::now();
            proof_call_s.push((now - t).as_secs_f64());
            if o.status.success() {
                break now;
            }
            if now - t0 > SAMPLE_TIMEOUT {
                bail!(
                    "{record_id} not provable on beta after {SAMPLE_TIMEOUT:?}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            std::thread::sleep(POLL);
        };
        let a = (t0 - t_start).as_secs_f64();
        let l = (t1 - t0).as_secs_f64();
        let tt = (t1 - t_start).as_secs_f64();
        println!("{i:>3} {a:>9.2} {l:>12.2} {tt:>12.2} {polls:>7}");
        anchor_s.push(a);
        after_mined.push(l);
        total.push(tt);
    }

    println!(
        "\n{samples} samples, 2 chains, {BLOCK_TIME} s blocks, proof polled every {} ms",
        POLL.as_millis()
    );
    println!(
        "{:<40} {:>8} {:>8} {:>8} {:>8}",
        "seconds", "p50", "p95", "max", "min"
    );
    summary("anchor command (t0 - t_start)", &anchor_s);
    summary("mined -> provable on beta (t1 - t0)", &after_mined);
    summary("total (t1 - t_start)", &total);
    summary("one `bridge proof` call", &proof_call_s);
    // Keep the tempdir until the guards have stopped the processes writing into it.
    drop(_relayer);
    drop(_devnet);
    drop(dir);
    Ok(())
}
