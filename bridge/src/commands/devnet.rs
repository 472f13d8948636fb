//! `bridge devnet up`: local anvil chains with the contracts deployed and a complete
//! `bridge.toml`, for the quick start and for trying things out.
//!
//! The devnet uses anvil's well-known development keys: account 0 deploys and relays,
//! accounts 1–3 are the devnet attestor set (threshold 2), account 4 anchors evidence,
//! account 8 owns the mirrors (a separate key from the relayer, as in production; its
//! owner-rotation timelock is [`DEVNET_ROTATION_DELAY`] seconds instead of 7 days).
//! They are written to `DIR/devnet.env`, never into a config file. Besides the
//! all-in-one `bridge.toml`, the devnet writes the configs of three independent
//! attest-only partners and of a relaying instance that asks them for signatures (see
//! [`write_files`]).
//!
//! Every chain gets our `EvidenceRegistry` and `AnchorMirror`. The first chain (alpha)
//! also gets the Ethereum Attestation Service (SchemaRegistry + EAS, the real
//! contracts) with the schema [`EAS_SCHEMA`] registered, read by an `eas` source that
//! maps word 0 of the data as a SHA-256 digest (`bridge devnet attest-eas` makes such
//! attestations). The second chain (beta)
//! also gets a `HashStore` — a stand-in for a third-party evidence contract — read by a
//! `[[chains.mapped]]` source, so the devnet shows records of a contract the bridge has
//! no code for.
//!
//! A Time-Stamping Authority (OpenSSL's `ts`, [`super::devnet_tsa`]) runs on a
//! loopback port; `bridge.toml` and `relayer.toml` name it in `[[timestamping]]`.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
};
use evidence_adapters::{
    deploy, deploy_eas,
    mapped::contracts::HashStore,
    rpc::{ChainRpc, RpcConfig},
};
use evidence_schemas::ChainId;

use crate::{
    cli::DevnetUpArgs,
    exit::{CmdResult, Failure},
};

/// Devnet attestor threshold.
const THRESHOLD: u8 = 2;
/// The devnet mirrors' owner-rotation timelock, in seconds (production: ≥ 7 days).
pub(crate) const DEVNET_ROTATION_DELAY: u64 = 10;
/// anvil dev key index of the devnet mirrors' owner.
const OWNER_KEY_INDEX: usize = 8;
const NAMES: [&str; 8] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
];

/// One running devnet chain.
struct DevChain {
    name: &'static str,
    chain_id: u64,
    anvil: AnvilInstance,
    rpc: ChainRpc,
    deployed: deploy::Deployed,
    /// The `HashStore` read by a mapped source, and its deployment block.
    hashstore: Option<(Address, u64)>,
    /// EAS and the devnet schema's UID.
    eas: Option<(deploy_eas::DeployedEas, B256)>,
}

/// The schema the devnet registers on alpha's EAS.
pub(crate) const EAS_SCHEMA: &str = "bytes32 documentHash, string note";

/// Deploys EAS from `signer` and registers [`EAS_SCHEMA`] (revocable).
async fn deploy_devnet_eas(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
) -> Result<(deploy_eas::DeployedEas, B256), Failure> {
    let deployed = deploy_eas::deploy_eas(rpc, signer.clone())
        .await
        .map_err(|e| Failure::failed(format!("deploying EAS: {e}")))?;
    let uid = deploy_eas::register_schema(rpc, signer, deployed.schema_registry, EAS_SCHEMA, true)
        .await
        .map_err(|e| Failure::failed(format!("registering the devnet EAS schema: {e}")))?;
    Ok((deployed, uid))
}

/// The devnet's mapped source for `HashStore` (see `MappedSourceOptions`).
pub(crate) const HASHSTORE_EVENT: &str =
    "Stored(bytes32 indexed hash, address indexed owner, uint256 time, string kind)";

/// Deploys a `HashStore` from `signer`; returns its address and deployment block.
async fn deploy_hashstore(
    rpc: &ChainRpc,
    signer: PrivateKeySigner,
) -> Result<(Address, u64), Failure> {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_provider(rpc.provider().clone());
    let receipt = HashStore::deploy_builder(provider)
        .send()
        .await
        .map_err(|e| Failure::failed(format!("deploying HashStore: {e}")))?
        .get_receipt()
        .await
        .map_err(|e| {
            Failure::failed(format!("deploying HashStore: waiting for the receipt: {e}"))
        })?;
    let address = receipt.contract_address.ok_or_else(|| {
        Failure::failed("deploying HashStore: the receipt has no contract address")
    })?;
    Ok((address, receipt.block_number.unwrap_or_default()))
}

/// Finds the anvil binary: the flag / `ANVIL_BIN`, then the project's
/// `deploy/node_modules` (searched from the current directory upwards), then `PATH`.
pub(crate) fn find_anvil(explicit: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(Failure::usage(format!(
                "anvil binary {} does not exist",
                p.display()
            )))
        };
    }
    let rel = "deploy/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";
    if let Ok(mut dir) = std::env::current_dir() {
        loop {
            let candidate = dir.join(rel);
            if candidate.is_file() {
                return Ok(candidate);
            }
            if !dir.pop() {
                break;
            }
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("anvil");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(Failure::usage(
        "anvil not found: run `bash deploy/scripts/install-tools.sh` from the repository, or pass --anvil / set ANVIL_BIN",
    ))
}

pub(crate) async fn up(args: DevnetUpArgs) -> CmdResult {
    let anvil_bin = find_anvil(args.anvil.as_deref())?;
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", args.dir.display())))?;
    let dir = std::fs::canonicalize(&args.dir)
        .map_err(|e| Failure::usage(format!("cannot resolve {}: {e}", args.dir.display())))?;

    let mut chains = Vec::new();
    for (i, name) in NAMES
        .iter()
        .copied()
        .enumerate()
        .take(usize::from(args.chains))
    {
        let chain_id = args.first_chain_id + i as u64;
        let port = args.first_port + i as u16;
        let anvil = Anvil::at(&anvil_bin)
            .chain_id(chain_id)
            .port(port)
            .block_time(args.block_time)
            .try_spawn()
            .map_err(|e| Failure::failed(format!("cannot start anvil for chain {chain_id} on port {port}: {e} (is the port in use?)")))?;
        let deployer = dev_key(&anvil, 0)?;
        let rpc = devnet_rpc(&anvil, chain_id).await?;
        let owner = dev_key(&anvil, OWNER_KEY_INDEX)?;
        let deployed = deploy::deploy_contracts(
            &rpc,
            deployer.clone(),
            owner.address(),
            DEVNET_ROTATION_DELAY,
        )
        .await
        .map_err(|e| Failure::failed(format!("deploying to chain {chain_id}: {e}")))?;
        // The third-party contracts (EAS, HashStore) are another platform's: they are
        // deployed from a key of their own (anvil dev key #9), not the bridge operator's,
        // whose nonce then counts only the bridge's own transactions.
        let third_party = dev_key(&anvil, 9)?;
        let hashstore = if i == 1 {
            Some(deploy_hashstore(&rpc, third_party.clone()).await?)
        } else {
            None
        };
        let eas = if i == 0 {
            Some(deploy_devnet_eas(&rpc, third_party).await?)
        } else {
            None
        };
        tracing::info!(chain_id, port, registry = %deployed.registry, mirror = %deployed.mirror, "devnet chain up");
        chains.push(DevChain {
            name,
            chain_id,
            anvil,
            rpc,
            deployed,
            hashstore,
            eas,
        });
    }

    let attestors: Vec<PrivateKeySigner> = (1..=3)
        .map(|i| dev_key(&chains[0].anvil, i))
        .collect::<Result<_, _>>()?;
    let mut attestor_addresses: Vec<Address> =
        attestors.iter().map(PrivateKeySigner::address).collect();
    attestor_addresses.sort();
    for dest in &chains {
        let owner = dev_key(&dest.anvil, OWNER_KEY_INDEX)?;
        for src in chains.iter().filter(|c| c.chain_id != dest.chain_id) {
            deploy::set_attestors(
                &dest.rpc,
                owner.clone(),
                dest.deployed.mirror,
                &ChainId::eip155(src.chain_id),
                &attestor_addresses,
                THRESHOLD,
            )
            .await
            .map_err(|e| Failure::failed(format!("setting attestors on {}: {e}", dest.name)))?;
        }
    }

    let tsa = super::devnet_tsa::start(&dir).await?;
    write_files(
        &dir,
        &chains,
        &attestors,
        &super::devnet_tsa::config_entry(&tsa),
    )?;
    println!(
        "devnet up: {} chains, attestor threshold {THRESHOLD} of {}",
        chains.len(),
        attestors.len()
    );
    for c in &chains {
        println!(
            "  {:<8} eip155:{:<6} {}  registry {}  mirror {}",
            c.name,
            c.chain_id,
            c.anvil.endpoint(),
            c.deployed.registry,
            c.deployed.mirror
        );
        if let Some((eas, uid)) = &c.eas {
            println!("  {:<8} EAS {} (schema {uid}: {EAS_SCHEMA})", "", eas.eas);
        }
        if let Some((hs, _)) = c.hashstore {
            println!("  {:<8} HashStore {hs} (mapped source \"hashstore\")", "");
        }
    }
    println!(
        "config:  {} (one instance holding all three attestor keys)",
        dir.join("bridge.toml").display()
    );
    println!(
        "         {} + partner-1.toml, partner-2.toml, partner-3.toml (three attest-only partners, threshold 2)",
        dir.join("relayer.toml").display()
    );
    println!(
        "TSA:     {} (OpenSSL ts; root {})",
        tsa.url,
        tsa.root_cert.display()
    );
    println!(
        "secrets: {} (load with `set -a; . {0}; set +a`)",
        dir.join("devnet.env").display()
    );
    println!("running until interrupted (Ctrl-C)");
    wait_for_shutdown().await;
    println!("stopping devnet chains");
    drop(chains);
    drop(tsa);
    Ok(())
}

async fn devnet_rpc(anvil: &AnvilInstance, chain_id: u64) -> Result<ChainRpc, Failure> {
    ChainRpc::connect(&RpcConfig::new(
        ChainId::eip155(chain_id),
        vec![anvil.endpoint()],
    ))
    .await
    .map_err(|e| {
        Failure::failed(format!(
            "cannot connect to the devnet chain {chain_id}: {e}"
        ))
    })
}

fn dev_key(anvil: &AnvilInstance, index: usize) -> Result<PrivateKeySigner, Failure> {
    anvil
        .keys()
        .get(index)
        .map(|k| PrivateKeySigner::from(k.clone()))
        .ok_or_else(|| Failure::failed(format!("anvil did not report dev key #{index}")))
}

/// The devnet's files:
///
/// - `bridge.toml`: one instance that relays and holds all three attestor keys (the
///   simplest way to try things out; the tests use it);
/// - `partner-N.toml` (N = 1..3): attest-only instances, one per partner, each with ONE
///   attestor key (`BRIDGE_PARTNER_N_ATTESTOR_KEY`), its own store and its signing API
///   on a free loopback port — the partners of a real deployment;
/// - `relayer.toml`: a relaying instance with no attestor key that gathers signatures
///   from the three partners (threshold 2) and serves the API and lookup page;
/// - `devnet.env`: the keys (anvil's public development keys).
fn write_files(
    dir: &Path,
    chains: &[DevChain],
    attestors: &[PrivateKeySigner],
    tsa: &str,
) -> Result<(), Failure> {
    let mut sources = String::new();
    for c in chains {
        sources.push_str(&format!(
            "[[chains]]\nname = \"{}\"\nchain_id = \"eip155:{}\"\nrpc = [\"{}\"]\nconfirmations = 2\nstart_block = {}\nregistry = \"{}\"\nmirror = \"{}\"\n\n",
            c.name,
            c.chain_id,
            c.anvil.endpoint(),
            c.deployed.registry_block,
            c.deployed.registry,
            c.deployed.mirror,
        ));
        if let Some((eas, uid)) = &c.eas {
            sources.push_str(&format!(
                "eas = {{ contract = \"{}\", start_block = {}, schemas = [{{ uid = \"{uid}\", kind = \"eas-document\", digest = {{ from = \"word\", index = 0, alg = \"sha256\" }} }}] }}\n\n",
                eas.eas, eas.eas_block
            ));
        }
        if let Some((hs, _)) = c.hashstore {
            sources.push_str(&format!(
                "[[chains.mapped]]\nname = \"hashstore\"\ncontract = \"{hs}\"\nevent = \"{HASHSTORE_EVENT}\"\ndigest = \"hash\"\ndigest_alg = \"sha256\"\nsubmitter = \"owner\"\nkind_field = \"kind\"\n\n"
            ));
        }
    }
    for a in chains {
        for b in chains.iter().filter(|b| b.chain_id != a.chain_id) {
            sources.push_str(&format!(
                "[[routes]]\nfrom = \"{}\"\nto = \"{}\"\n\n",
                a.name, b.name
            ));
        }
    }
    let config = |store: &str, keys: &str, tail: &str| {
        format!(
            "# Written by `bridge devnet up`. Keys are not here: load devnet.env into the environment.\n\n\
             [store]\nurl = \"sqlite://{}?mode=rwc\"\n\n\
             [engine]\npoll_interval_ms = 500\ncheckpoint_interval_secs = 2\ncheckpoint_max_records = 500\ntx_timeout_secs = 20\n\n\
             [keys]\n{keys}\n{sources}{tail}",
            dir.join(store).display()
        )
    };
    let relayer = dev_key(&chains[0].anvil, 0)?;
    let anchor = dev_key(&chains[0].anvil, 4)?;
    let owner = dev_key(&chains[0].anvil, OWNER_KEY_INDEX)?;
    let hex_key = |k: &PrivateKeySigner| format!("0x{}", hex::encode(k.to_bytes()));
    let keys: Vec<String> = attestors.iter().map(hex_key).collect();
    let mut env = format!(
        "# anvil's public development keys; never use them on a real chain\nBRIDGE_RELAYER_KEY={}\nBRIDGE_ATTESTOR_KEYS={}\nBRIDGE_ANCHOR_KEY={}\nBRIDGE_OWNER_KEY={}\n",
        hex_key(&relayer),
        keys.join(","),
        hex_key(&anchor),
        hex_key(&owner),
    );
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text)
            .map_err(|e| Failure::failed(format!("cannot write {}: {e}", dir.join(name).display())))
    };
    write(
        "bridge.toml",
        &config(
            "bridge.sqlite",
            "relayer_key_env = \"BRIDGE_RELAYER_KEY\"\nattestor_keys_env = \"BRIDGE_ATTESTOR_KEYS\"\nanchor_key_env = \"BRIDGE_ANCHOR_KEY\"\nowner_key_env = \"BRIDGE_OWNER_KEY\"\n",
            tsa,
        ),
    )?;
    let mut remote = String::new();
    for (i, key) in attestors.iter().enumerate() {
        let n = i + 1;
        let port = free_port()?;
        env.push_str(&format!(
            "BRIDGE_PARTNER_{n}_ATTESTOR_KEY={}\n",
            hex_key(key)
        ));
        write(
            &format!("partner-{n}.toml"),
            &config(
                &format!("partner-{n}.sqlite"),
                &format!("attestor_keys_env = \"BRIDGE_PARTNER_{n}_ATTESTOR_KEY\"\n"),
                &format!("[api]\nlisten = \"127.0.0.1:{port}\"\n"),
            ),
        )?;
        remote.push_str(&format!(
            "[[attestors]]\nurl = \"http://127.0.0.1:{port}\"\naddress = \"{}\"\n\n",
            key.address()
        ));
    }
    write(
        "relayer.toml",
        &config(
            "relayer.sqlite",
            "relayer_key_env = \"BRIDGE_RELAYER_KEY\"\nanchor_key_env = \"BRIDGE_ANCHOR_KEY\"\n",
            &format!(
                "{tsa}[api]\nlisten = \"127.0.0.1:{}\"\n\n{remote}",
                free_port()?
            ),
        ),
    )?;
    write("devnet.env", &env)
}

/// A loopback port free right now (for the devnet's API listeners).
fn free_port() -> Result<u16, Failure> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure::failed(format!("cannot find a free loopback port: {e}")))
}

/// Waits for Ctrl-C or SIGTERM.
pub(crate) async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    // Give child processes a moment to notice before the caller drops them.
    tokio::time::sleep(Duration::from_millis(10)).await;
}
