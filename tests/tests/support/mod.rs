//! Driving the real `bridge` binary against a real devnet (`bridge devnet up`), for the
//! end-to-end tests. The binary is the `bridge` of the test's own profile
//! (`target/<profile>/bridge`, next to the test binary's `deps/` folder: built by
//! `cargo test --workspace [--release]`, because `bridge/tests/cli.rs` needs it;
//! `BRIDGE_BIN` overrides it).
#![allow(dead_code, unreachable_pub)]

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::Value;

/// The `bridge` binary under test.
pub fn bridge_bin() -> PathBuf {
    let path = std::env::var_os("BRIDGE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(profile_bridge_bin);
    assert!(
        path.is_file(),
        "the bridge binary {} does not exist: run the workspace tests (`cargo test --workspace` builds it) or `cargo build -p evidence-bridge`, or set BRIDGE_BIN",
        path.display()
    );
    path
}

/// `target/<profile>/bridge` of the profile this test binary was built with: the test
/// runs as `target/<profile>/deps/<test>-<hash>`, so a `--release` run tests the release
/// binary, never a stale debug one.
fn profile_bridge_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary runs from target/<profile>/deps");
    profile_dir.join(format!("bridge{}", std::env::consts::EXE_SUFFIX))
}

/// Evidence records in `name`'s log: its log size without the round-trip receipts
/// (the mirror's acceptances of other chains' checkpoints, logged too).
pub fn evidence_size(status: &Value, name: &str) -> u64 {
    let chain = status
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no chain {name} in {status}"));
    chain["log_size"].as_u64().expect("log_size")
        - chain["receipts_logged"].as_u64().expect("receipts_logged")
}

/// Two consecutive free TCP ports (the devnet numbers its chains' ports consecutively).
pub fn free_port_pair(n: u16) -> u16 {
    for _ in 0..200 {
        let base = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(0);
        if base == 0 || base > 65000 {
            continue;
        }
        if (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no {n} consecutive free ports found");
}

/// A running devnet (its anvil chains) and the files it wrote.
pub struct Devnet {
    pub dir: tempfile::TempDir,
    pub child: Child,
    pub first_port: u16,
    pub env: Vec<(String, String)>,
}

impl Devnet {
    /// Starts `bridge devnet up` with `chains` chains and waits until it is ready.
    pub fn start(chains: u8, block_time: u64) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let first_port = free_port_pair(chains.into());
        let first_chain_id = 40_000 + u64::from(first_port);
        let mut child = Command::new(bridge_bin())
            .args(["devnet", "up", "--dir"])
            .arg(dir.path())
            .args([
                "--chains",
                &chains.to_string(),
                "--block-time",
                &block_time.to_string(),
            ])
            .args([
                "--first-port",
                &first_port.to_string(),
                "--first-chain-id",
                &first_chain_id.to_string(),
            ])
            .arg("--anvil")
            .arg(evidence_tests::devchain::anvil_bin()?)
            .env("BRIDGE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("spawning bridge devnet up")?;
        let stdout = child.stdout.take().context("devnet stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("running until interrupted") => break,
                Some(Ok(_)) => {}
                _ => bail!("devnet exited before it was ready"),
            }
            if Instant::now() > deadline {
                bail!("devnet not ready after 90 s");
            }
        }
        // Keep draining stdout so the devnet never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let env = std::fs::read_to_string(dir.path().join("devnet.env"))?
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains('='))
            .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        Ok(Self {
            dir,
            child,
            first_port,
            env,
        })
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("bridge.toml")
    }

    pub fn rpc(&self, chain_index: u16) -> String {
        format!("http://localhost:{}", self.first_port + chain_index)
    }

    /// Rewrites a value in the generated config (e.g. more confirmations).
    pub fn edit_config(&self, from: &str, to: &str) -> anyhow::Result<()> {
        let path = self.config();
        let text = std::fs::read_to_string(&path)?;
        anyhow::ensure!(text.contains(from), "config has no {from:?}");
        std::fs::write(&path, text.replace(from, to))?;
        Ok(())
    }

    /// A `bridge` command with the devnet's keys in its environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bridge_bin());
        cmd.args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("BRIDGE_LOG", "warn");
        cmd
    }

    /// Runs a `bridge` command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("bridge runs")
    }

    /// Runs a command that must succeed and prints JSON; returns it.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "bridge {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "bridge {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Starts `bridge run` with the devnet config; its log goes to `DIR/run-N.log`.
    /// The process is killed when the returned guard drops, even if the test panics.
    pub fn start_relayer(&self, n: usize) -> Relayer {
        self.start_relayer_with(n, &[])
    }

    /// [`Devnet::start_relayer`] with extra environment, e.g. `BRIDGE__STORE__URL` or
    /// `BRIDGE__CLUSTER__INSTANCE_ID`.
    pub fn start_relayer_with(&self, n: usize, env: &[(&str, &str)]) -> Relayer {
        let log =
            std::fs::File::create(self.dir.path().join(format!("run-{n}.log"))).expect("log file");
        let config = self.config();
        self.command(&["run", "--config", config.to_str().expect("utf-8 path")])
            .envs(env.iter().copied())
            .env("BRIDGE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map(Relayer)
            .expect("bridge run starts")
    }

    /// Anchors `text` as a file on `chain`; returns the record id.
    pub fn anchor_text(&self, chain: &str, text: &str) -> String {
        let file = self
            .dir
            .path()
            .join(format!("doc-{}.txt", rand::random::<u64>()));
        std::fs::write(&file, text).expect("write doc");
        let config = self.config();
        let v = self.json(&[
            "anchor",
            "--config",
            config.to_str().expect("utf-8"),
            "--chain",
            chain,
            "--file",
            file.to_str().expect("utf-8"),
            "--kind",
            "iou",
            "--json",
        ]);
        v["record_id"].as_str().expect("record_id").to_owned()
    }

    /// Waits until `bridge proof` can build a bundle of `record_id` on `to`; returns its path.
    pub fn wait_provable(
        &self,
        record_id: &str,
        to: &str,
        timeout: Duration,
    ) -> anyhow::Result<PathBuf> {
        let out = self
            .dir
            .path()
            .join(format!("{}-{to}.bundle.json", &record_id[..18]));
        let config = self.config();
        let deadline = Instant::now() + timeout;
        loop {
            let o = self.run(&[
                "proof",
                "--config",
                config.to_str().expect("utf-8"),
                record_id,
                "--to",
                to,
                "-o",
                out.to_str().expect("utf-8"),
            ]);
            if o.status.success() {
                return Ok(out);
            }
            if Instant::now() > deadline {
                bail!(
                    "{record_id} not provable on {to} after {timeout:?}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// `bridge verify BUNDLE --config` (online).
    pub fn verify(&self, bundle: &Path) -> Output {
        let config = self.config();
        self.run(&[
            "verify",
            bundle.to_str().expect("utf-8"),
            "--config",
            config.to_str().expect("utf-8"),
            "--json",
        ])
    }

    /// `bridge status --json`.
    pub fn status(&self) -> Value {
        let config = self.config();
        self.json(&[
            "status",
            "--config",
            config.to_str().expect("utf-8"),
            "--json",
        ])
    }

    /// Waits until relaying is quiet: every destination of every chain confirmed up to
    /// the chain's newest checkpoint and nothing changed over two checkpoint intervals
    /// (round-trip receipts stop bouncing once only echoes are left).
    pub fn wait_quiet(&self, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        // Per chain: log size, newest checkpoint size, each destination's confirmed size.
        type Shape = Vec<(u64, Option<u64>, Vec<Option<u64>>)>;
        let mut previous: Option<Shape> = None;
        loop {
            let status = self.status();
            let chains = status.as_array().cloned().unwrap_or_default();
            let settled = chains.iter().all(|c| {
                let newest = c["last_checkpoint"]["size"].as_u64();
                c["pending_records"] == 0
                    && c["destinations"].as_array().is_some_and(|ds| {
                        ds.iter()
                            .all(|d| d["last_confirmed_size"].as_u64() == newest)
                    })
            });
            // What relaying changes (heads and timestamps move on regardless).
            let shape: Vec<_> = chains
                .iter()
                .map(|c| {
                    let dests = c["destinations"]
                        .as_array()
                        .map(|ds| {
                            ds.iter()
                                .map(|d| d["last_confirmed_size"].as_u64())
                                .collect()
                        })
                        .unwrap_or_default();
                    (
                        c["log_size"].as_u64().unwrap_or_default(),
                        c["last_checkpoint"]["size"].as_u64(),
                        dests,
                    )
                })
                .collect();
            if settled && previous.as_ref() == Some(&shape) {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!(
                    "relaying did not settle within {timeout:?}: {status}\n{}",
                    self.log_tails(40)
                );
            }
            previous = settled.then_some(shape);
            std::thread::sleep(Duration::from_secs(5));
        }
    }

    /// Waits until the relayer has indexed `blocks` blocks past the head in `since` (a
    /// status taken earlier) of each chain named in `chains` (all when empty), so every stage has had its chance to act on
    /// what `since` showed: what a negative assertion ("nothing was mirrored", "no new
    /// checkpoint") waits for, instead of a fixed sleep. A relayer that stopped working
    /// times out here rather than passing. Returns the status that showed it.
    pub fn wait_processed_past(
        &self,
        since: &Value,
        chains: &[&str],
        blocks: u64,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let wanted = |c: &Value| chains.is_empty() || chains.iter().any(|n| c["name"] == *n);
        let targets: Vec<(Value, u64)> = since
            .as_array()
            .map(|cs| {
                cs.iter()
                    .filter(|c| wanted(c))
                    .map(|c| {
                        (
                            c["name"].clone(),
                            c["head"].as_u64().unwrap_or_default() + blocks,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if targets.is_empty() {
            bail!("no chain named {chains:?} in {since}");
        }
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status();
            let done = targets.iter().all(|(name, target)| {
                status
                    .as_array()
                    .and_then(|cs| cs.iter().find(|c| &c["name"] == name))
                    .is_some_and(|c| c["cursor"].as_u64().unwrap_or_default() > *target)
            });
            if done {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!(
                    "the relayer did not index {blocks} blocks past {targets:?} within {timeout:?}: {status}\n{}",
                    self.log_tails(40)
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The last `n` lines of every `bridge run` log in the devnet folder (for failure
    /// messages).
    pub fn log_tails(&self, n: usize) -> String {
        let mut out = String::new();
        let mut logs: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "log"))
                    .collect()
            })
            .unwrap_or_default();
        logs.sort();
        for path in logs {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("--- {} (last {n} lines)\n", path.display()));
            for line in &lines[lines.len().saturating_sub(n)..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// The store URL the devnet config uses.
    pub fn store_url(&self) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            self.dir.path().join("bridge.sqlite").display()
        )
    }

    /// Points the config (every later `bridge` command) at another store.
    pub fn use_store(&self, url: &str) -> anyhow::Result<()> {
        self.edit_config(
            &format!("url = \"{}\"", self.store_url()),
            &format!("url = \"{url}\""),
        )
    }

    /// The mirror address of chain `index` in the devnet config.
    pub fn mirror(&self, index: usize) -> alloy::primitives::Address {
        let config = std::fs::read_to_string(self.config()).expect("config");
        config
            .lines()
            .filter(|l| l.starts_with("mirror"))
            .nth(index)
            .and_then(|l| l.split('"').nth(1))
            .and_then(|a| a.parse().ok())
            .expect("mirror address in the devnet config")
    }

    /// The pid of the anvil serving chain `index`.
    pub fn anvil_pid(&self, index: u16) -> anyhow::Result<u32> {
        let port = (self.first_port + index).to_string();
        for entry in std::fs::read_dir("/proc")? {
            let entry = entry?;
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if args.first().is_some_and(|a| a.ends_with("anvil"))
                && args
                    .windows(2)
                    .any(|w| (w[0] == "--port" || w[0] == "-p") && w[1] == port)
            {
                return Ok(pid);
            }
        }
        bail!("no anvil process on port {port}")
    }
}

/// A running `bridge run`, killed on drop.
pub struct Relayer(pub Child);

impl std::ops::Deref for Relayer {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Relayer {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Relayer {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        // SIGTERM lets the devnet stop its anvil children.
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

/// Sends a signal (`TERM`, `KILL`, `STOP`, `CONT`) to a process; `kill(1)` keeps
/// `unsafe` out of the test crate.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
}

/// A raw JSON-RPC call (used for anvil's dev methods, in the reorg test only).
pub async fn rpc(url: &str, method: &'static str, params: Value) -> anyhow::Result<Value> {
    use alloy::providers::{Provider, ProviderBuilder};
    let provider = ProviderBuilder::new().connect(url).await?;
    Ok(provider
        .raw_request::<_, Value>(method.into(), params)
        .await?)
}

/// One attest-only partner instance of the attestor tests.
pub struct AttestorInstance {
    /// Its config file.
    pub config: PathBuf,
    /// Its API base URL.
    pub url: String,
    /// The attestor address it signs with.
    pub address: alloy::primitives::Address,
    /// Env var name → its one attestor key.
    pub key_env: (String, String),
}

impl Devnet {
    /// The devnet's attestor keys (anvil accounts 1–3), in `devnet.env` order.
    pub fn attestor_keys(&self) -> Vec<String> {
        self.env
            .iter()
            .find(|(k, _)| k == "BRIDGE_ATTESTOR_KEYS")
            .map(|(_, v)| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Attest-only partner `i` (0-based) as `bridge devnet up` wrote it: `partner-{i+1}.toml`
    /// (the devnet's chains, its own store, only attestor key `i`, no relayer key, its
    /// API on a loopback port) and its key from `devnet.env`.
    pub fn attestor_instance(&self, i: usize) -> anyhow::Result<AttestorInstance> {
        let n = i + 1;
        let config = self.dir.path().join(format!("partner-{n}.toml"));
        let text = std::fs::read_to_string(&config)
            .with_context(|| format!("devnet wrote no {}", config.display()))?;
        anyhow::ensure!(
            !text.contains("relayer_key_env"),
            "a partner config holds a relayer key"
        );
        let listen = text
            .lines()
            .find_map(|l| l.strip_prefix("listen = \"")?.strip_suffix('"'))
            .with_context(|| format!("{} has no [api] listen", config.display()))?;
        let env_name = format!("BRIDGE_PARTNER_{n}_ATTESTOR_KEY");
        let key = self
            .env
            .iter()
            .find(|(k, _)| *k == env_name)
            .map(|(_, v)| v.clone())
            .with_context(|| format!("devnet.env has no {env_name}"))?;
        let address = key
            .parse::<alloy::signers::local::PrivateKeySigner>()?
            .address();
        Ok(AttestorInstance {
            config,
            url: format!("http://{listen}"),
            address,
            key_env: (env_name, key),
        })
    }

    /// Starts `bridge run` for a partner instance; its log goes to `DIR/attestor-N.log`
    /// (appended, so a restart keeps the earlier log).
    pub fn start_attestor(&self, i: usize, a: &AttestorInstance) -> Relayer {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("attestor-{i}.log")))
            .expect("log file");
        self.command(&["run", "--config", a.config.to_str().expect("utf-8 path")])
            .env_remove("BRIDGE_ATTESTOR_KEYS")
            .env_remove("BRIDGE_RELAYER_KEY")
            .env(&a.key_env.0, &a.key_env.1)
            .env("BRIDGE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map(Relayer)
            .expect("bridge run starts")
    }

    /// Makes the devnet's `relayer.toml` the config of every later command: a relaying
    /// instance with no attestor key that gathers signatures from the three partners of
    /// `partner-N.toml` (its own store, and the API on a loopback port).
    pub fn use_partner_relayer(&self) -> anyhow::Result<()> {
        std::fs::copy(self.dir.path().join("relayer.toml"), self.config())?;
        Ok(())
    }

    /// Turns the devnet config into a relaying instance that holds no attestor key and
    /// gathers signatures from `attestors` (URL, address) instead.
    pub fn use_remote_attestors(
        &self,
        attestors: &[(String, alloy::primitives::Address)],
    ) -> anyhow::Result<()> {
        self.edit_config("attestor_keys_env = \"BRIDGE_ATTESTOR_KEYS\"\n", "")?;
        let mut text = std::fs::read_to_string(self.config())?;
        text.push_str("\n[attestation]\nrequest_timeout_ms = 2000\n");
        for (url, address) in attestors {
            text.push_str(&format!(
                "\n[[attestors]]\nurl = \"{url}\"\naddress = \"{address}\"\n"
            ));
        }
        std::fs::write(self.config(), text)?;
        Ok(())
    }

    /// `bridge status --json` of another config (e.g. a partner instance).
    pub fn status_of(&self, config: &Path) -> Value {
        self.json(&[
            "status",
            "--config",
            config.to_str().expect("utf-8"),
            "--json",
        ])
    }
}
